"""Collections and repositories of every context, written once for all adapters.

Each repository implements a context's port (``b2bcore.<context>.ports``) on top
of :class:`~b2bcore.storage._documents.DocumentRepository`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from b2bcore.accounts.model import (
    Agent,
    AssistedSession,
    BusinessUnit,
    Company,
    CompanyUser,
    Role,
    UserStatus,
)
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.clock import require_aware
from b2bcore.errors import ConflictError, DuplicateError, ValidationError
from b2bcore.events import DomainEvent, OutboxRecord, OutboxStatus
from b2bcore.ids import AgentId, AssistedSessionId, BusinessUnitId, CompanyId, RoleId, UserId
from b2bcore.paging import DEFAULT_LIMIT, Page
from b2bcore.serialization import event_to_record
from b2bcore.storage._documents import (
    Collection,
    Column,
    DocumentRepository,
    Filter,
    sortable_datetime,
)

__all__ = [
    "ALL_COLLECTIONS",
    "PLATFORM",
    "AgentDocuments",
    "AssistedSessionDocuments",
    "AuditDocuments",
    "BusinessUnitDocuments",
    "CompanyDocuments",
    "IdempotencyDocuments",
    "IdempotencyRecord",
    "OutboxDocuments",
    "RoleDocuments",
    "UserDocuments",
]


def _id(obj: Any) -> str:
    return str(obj.id)


def _company(obj: Any) -> str:
    return str(obj.company_id)


# --- accounts --------------------------------------------------------------------------

COMPANIES: Collection[Company] = Collection(
    name="companies", kind="company", model=Company, key=_id, tenant=_id
)
BUSINESS_UNITS: Collection[BusinessUnit] = Collection(
    name="business_units",
    kind="business unit",
    model=BusinessUnit,
    key=_id,
    tenant=_company,
    columns=(Column("parent_id", "TEXT", lambda u: u.parent_id),),
)
USERS: Collection[CompanyUser] = Collection(
    name="users",
    kind="user",
    model=CompanyUser,
    key=_id,
    tenant=_company,
    columns=(
        Column("email", "TEXT", lambda u: u.email),
        Column("bu_ids", "TEXT", lambda u: "|" + "|".join(u.business_unit_ids) + "|"),
        Column("status", "TEXT", lambda u: u.status.value),
        Column(
            "role_ids",
            "TEXT",
            lambda u: "|" + "|".join(sorted({g.role_id for g in u.grants})) + "|",
        ),
    ),
    unique=(("email",),),
)


class CompanyDocuments(DocumentRepository[Company]):
    """:class:`~b2bcore.accounts.ports.CompanyRepository` on documents."""

    collection = COMPANIES

    def get(self, company_id: CompanyId, /) -> Company:
        return self._get(company_id, company_id)

    def add(self, company: Company, /) -> None:
        self._add(company)

    def update(self, company: Company, /) -> None:
        self._update(company)

    def list(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Company]:
        return self._page(company_id=None, limit=limit, cursor=cursor)


class BusinessUnitDocuments(DocumentRepository[BusinessUnit]):
    """:class:`~b2bcore.accounts.ports.BusinessUnitRepository` on documents."""

    collection = BUSINESS_UNITS

    def get(self, unit_id: BusinessUnitId, /, *, company_id: CompanyId) -> BusinessUnit:
        return self._get(unit_id, company_id)

    def add(self, unit: BusinessUnit, /) -> None:
        self._add(unit)

    def update(self, unit: BusinessUnit, /) -> None:
        self._update(unit)

    def list(
        self,
        *,
        company_id: CompanyId,
        parent_id: BusinessUnitId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[BusinessUnit]:
        filters = [] if parent_id is None else [Filter("parent_id", "eq", parent_id)]
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


class UserDocuments(DocumentRepository[CompanyUser]):
    """:class:`~b2bcore.accounts.ports.UserRepository` on documents."""

    collection = USERS

    def get(self, user_id: UserId, /, *, company_id: CompanyId) -> CompanyUser:
        return self._get(user_id, company_id)

    def add(self, user: CompanyUser, /) -> None:
        self._add(user)

    def update(self, user: CompanyUser, /) -> None:
        self._update(user)

    def find_by_email(self, email: str, /, *, company_id: CompanyId) -> CompanyUser | None:
        if not isinstance(email, str):
            raise ValidationError("e-mail must be a string", path="email", value=email)
        page = self._page(
            company_id=company_id,
            filters=[Filter("email", "eq", email.strip().lower())],
            limit=1,
            cursor=None,
        )
        return page.items[0] if page.items else None

    def list(
        self,
        *,
        company_id: CompanyId,
        business_unit_id: BusinessUnitId | None = None,
        status: UserStatus | None = None,
        role_id: RoleId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[CompanyUser]:
        filters = []
        if business_unit_id is not None:
            filters.append(Filter("bu_ids", "contains", f"|{business_unit_id}|"))
        if status is not None:
            filters.append(Filter("status", "eq", UserStatus(status).value))
        if role_id is not None:
            filters.append(Filter("role_ids", "contains", f"|{role_id}|"))
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


ROLES: Collection[Role] = Collection(
    name="roles", kind="role", model=Role, key=_id, tenant=_company
)


class RoleDocuments(DocumentRepository[Role]):
    """:class:`~b2bcore.accounts.ports.RoleRepository` on documents."""

    collection = ROLES

    def get(self, role_id: RoleId, /, *, company_id: CompanyId) -> Role:
        return self._get(role_id, company_id)

    def add(self, role: Role, /) -> None:
        self._add(role)

    def update(self, role: Role, /) -> None:
        self._update(role)

    def list(
        self, *, company_id: CompanyId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Role]:
        return self._page(company_id=company_id, limit=limit, cursor=cursor)


#: Tenant key of platform-wide aggregates (agents belong to the seller, not a buyer).
PLATFORM = ""

AGENTS: Collection[Agent] = Collection(
    name="agents", kind="agent", model=Agent, key=_id, tenant=lambda _a: PLATFORM
)


class AgentDocuments(DocumentRepository[Agent]):
    """:class:`~b2bcore.accounts.ports.AgentRepository` on documents."""

    collection = AGENTS

    def get(self, agent_id: AgentId, /) -> Agent:
        return self._get(agent_id, PLATFORM)

    def add(self, agent: Agent, /) -> None:
        self._add(agent)

    def update(self, agent: Agent, /) -> None:
        self._update(agent)

    def list(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Agent]:
        return self._page(company_id=PLATFORM, limit=limit, cursor=cursor)


ASSISTED_SESSIONS: Collection[AssistedSession] = Collection(
    name="assisted_sessions",
    kind="assisted session",
    model=AssistedSession,
    key=_id,
    tenant=_company,
    columns=(
        Column("agent_id", "TEXT", lambda s: s.agent_id),
        Column("customer_user_id", "TEXT", lambda s: s.customer_user_id),
    ),
)


class AssistedSessionDocuments(DocumentRepository[AssistedSession]):
    """:class:`~b2bcore.accounts.ports.AssistedSessionRepository` on documents."""

    collection = ASSISTED_SESSIONS

    def get(self, session_id: AssistedSessionId, /, *, company_id: CompanyId) -> AssistedSession:
        return self._get(session_id, company_id)

    def add(self, session: AssistedSession, /) -> None:
        self._add(session)

    def update(self, session: AssistedSession, /) -> None:
        self._update(session)

    def list(
        self,
        *,
        company_id: CompanyId,
        agent_id: AgentId | None = None,
        customer_user_id: UserId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AssistedSession]:
        filters = []
        if agent_id is not None:
            filters.append(Filter("agent_id", "eq", agent_id))
        if customer_user_id is not None:
            filters.append(Filter("customer_user_id", "eq", customer_user_id))
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


# --- outbox, audit, idempotency -------------------------------------------------------

OUTBOX: Collection[OutboxRecord] = Collection(
    name="outbox",
    kind="outbox record",
    model=OutboxRecord,
    key=_id,
    tenant=_company,
    columns=(Column("status", "TEXT", lambda r: r.status.value),),
)


class OutboxDocuments(DocumentRepository[OutboxRecord]):
    """:class:`~b2bcore.storage.ports.Outbox` on documents."""

    collection = OUTBOX

    def add(self, event: DomainEvent, /) -> OutboxRecord:
        if not isinstance(event, DomainEvent):
            raise TypeError(f"expected a DomainEvent, got {type(event).__name__}")
        record = event_to_record(event)
        self._add(record)
        return record

    def pending(self, *, limit: int = DEFAULT_LIMIT) -> list[OutboxRecord]:
        page = self._page(
            company_id=None,
            filters=[Filter("status", "eq", OutboxStatus.PENDING.value)],
            limit=limit,
            cursor=None,
        )
        return list(page.items)

    def mark_delivered(self, record: OutboxRecord, /, *, at: datetime) -> None:
        record.status = OutboxStatus.DELIVERED
        record.delivered_at = require_aware(at, path="at")
        record.attempts += 1
        self._update(record)

    def mark_failed(self, record: OutboxRecord, /, *, error: str, dead: bool = False) -> None:
        record.attempts += 1
        record.last_error = error[:2000]
        if dead:
            record.status = OutboxStatus.DEAD
        self._update(record)

    def list(
        self,
        *,
        company_id: CompanyId,
        status: OutboxStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[OutboxRecord]:
        filters = [] if status is None else [Filter("status", "eq", OutboxStatus(status).value)]
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


AUDIT: Collection[AuditEntry] = Collection(
    name="audit",
    kind="audit entry",
    model=AuditEntry,
    key=_id,
    tenant=_company,
    columns=(
        Column("at", "TEXT", lambda e: sortable_datetime(e.at)),
        Column("acted_by", "TEXT", lambda e: e.acted_by),
        Column("action", "TEXT", lambda e: e.action),
        Column("outcome", "TEXT", lambda e: e.outcome.value),
    ),
    order=("at",),
)


class AuditDocuments(DocumentRepository[AuditEntry]):
    """:class:`~b2bcore.storage.ports.AuditLog` on documents."""

    collection = AUDIT

    def append(self, entry: AuditEntry, /) -> None:
        self._add(entry)

    def list(
        self,
        *,
        company_id: CompanyId,
        acted_by: str | None = None,
        action: str | None = None,
        outcome: Outcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        filters = []
        if acted_by is not None:
            filters.append(Filter("acted_by", "eq", acted_by))
        if action is not None:
            filters.append(Filter("action", "eq", action))
        if outcome is not None:
            filters.append(Filter("outcome", "eq", Outcome(outcome).value))
        if since is not None:
            filters.append(
                Filter("at", "ge", sortable_datetime(require_aware(since, path="since")))
            )
        if until is not None:
            filters.append(
                Filter("at", "lt", sortable_datetime(require_aware(until, path="until")))
            )
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


@attrs.frozen
class IdempotencyRecord:
    """A remembered result of an idempotent request."""

    key: str
    company_id: str
    fingerprint: str
    result: str
    created_at: datetime


IDEMPOTENCY: Collection[IdempotencyRecord] = Collection(
    name="idempotency",
    kind="idempotency key",
    model=IdempotencyRecord,
    key=lambda r: r.key,
    tenant=_company,
)


class IdempotencyDocuments(DocumentRepository[IdempotencyRecord]):
    """:class:`~b2bcore.storage.ports.IdempotencyStore` on documents."""

    collection = IDEMPOTENCY

    @staticmethod
    def _check_key(key: object) -> str:
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise ValidationError(
                "idempotency key must be a string of 1-255 characters", path="key", value=key
            )
        return key

    def recall(self, key: str, /, *, company_id: CompanyId, fingerprint: str) -> str | None:
        row = self._session.fetch(self.collection, company_id, self._check_key(key))
        if row is None:
            return None
        record = self._from_row(row)
        if record.fingerprint != fingerprint:
            raise ConflictError(
                f"idempotency key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        return record.result

    def remember(
        self, key: str, /, *, company_id: CompanyId, fingerprint: str, result: str, at: datetime
    ) -> None:
        record = IdempotencyRecord(
            key=self._check_key(key),
            company_id=company_id,
            fingerprint=fingerprint,
            result=result,
            created_at=require_aware(at, path="at"),
        )
        try:
            self._add(record)
        except DuplicateError as e:
            raise DuplicateError("idempotency key", key) from e


ALL_COLLECTIONS: tuple[Collection[Any], ...] = (
    COMPANIES,
    BUSINESS_UNITS,
    USERS,
    ROLES,
    AGENTS,
    ASSISTED_SESSIONS,
    OUTBOX,
    AUDIT,
    IDEMPOTENCY,
)
