"""Collections and repositories of every context, written once for all adapters.

Each repository implements a context's port (``b2bcore.<context>.ports``) on top
of :class:`~b2bcore.storage._documents.DocumentRepository`.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
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
from b2bcore.approvals.model import (
    ApprovalFlow,
    ApprovalPolicy,
    Budget,
    Delegation,
    FlowStatus,
    SubjectRef,
)
from b2bcore.assets.model import Asset, AssetStatus, normalize_serial
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.catalog.model import (
    COMPANY_ASSORTMENT,
    Assortment,
    Category,
    Product,
    ProductRelation,
    RelationRule,
    RelationType,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from b2bcore.claims.model import Claim, ClaimMessage, ClaimStatus, ClaimTally, Visibility
from b2bcore.clock import require_aware, to_utc
from b2bcore.documents.model import Document, DocumentKind, DocumentLink
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from b2bcore.events import Aggregate, DomainEvent, OutboxRecord, OutboxStatus
from b2bcore.ids import (
    AgentId,
    AssetId,
    AssistedSessionId,
    BookingId,
    BudgetId,
    BusinessUnitId,
    CartId,
    CategoryId,
    ClaimId,
    ClaimTypeId,
    CompanyId,
    DelegationId,
    DocumentId,
    FlowId,
    InvoiceId,
    LocationId,
    OrderId,
    PriceListId,
    QuoteId,
    RelationRuleId,
    ReservationId,
    ResourceId,
    RoleId,
    ServiceTypeId,
    ShipmentId,
    ShoppingListId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.money import is_currency
from b2bcore.orders.model import (
    Cart,
    CartStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Quote,
    QuoteStatus,
    Shipment,
    ShoppingList,
)
from b2bcore.orders.ports import Audience
from b2bcore.paging import DEFAULT_LIMIT, Page, check_limit, decode_cursor, encode_cursor
from b2bcore.pricing.model import BaseKind, PriceList, PriceRule, TargetKind
from b2bcore.pricing.resolve import PriceIndex
from b2bcore.scheduling.errors import SlotTakenError
from b2bcore.scheduling.model import AppointmentStatus, Booking, Busy, Resource, ServiceType
from b2bcore.serialization import event_to_record
from b2bcore.storage._documents import (
    Collection,
    Column,
    DocumentRepository,
    Filter,
    Query,
    StoredRow,
    TenantDocuments,
    UnitOfWorkLike,
    row_value,
    sortable_datetime,
)

__all__ = [
    "ALL_COLLECTIONS",
    "PLATFORM",
    "AgentDocuments",
    "ApprovalFlowDocuments",
    "ApprovalPolicyDocuments",
    "AssetDocuments",
    "AssistedSessionDocuments",
    "AssortmentDocuments",
    "AuditDocuments",
    "BookingDocuments",
    "BudgetDocuments",
    "BusinessUnitDocuments",
    "CartDocuments",
    "CategoryDocuments",
    "ClaimDocuments",
    "ClaimMessageDocuments",
    "ClaimTallyDocuments",
    "CompanyDocuments",
    "DelegationDocuments",
    "FileDocuments",
    "IdempotencyDocuments",
    "IdempotencyRecord",
    "InvoiceDocuments",
    "OrderDocuments",
    "OutboxDocuments",
    "PriceListDocuments",
    "PriceRuleRow",
    "ProductDocuments",
    "ProductRelationDocuments",
    "RelationRuleDocuments",
    "ReservationDocuments",
    "ResourceDocuments",
    "RoleDocuments",
    "SalesQuoteDocuments",
    "ServiceTypeDocuments",
    "ShipmentDocuments",
    "ShoppingListDocuments",
    "SlotClaim",
    "StockLevelDocuments",
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


def _enum_filter(
    column: str, kind: type[enum.Enum], value: object, label: str, path: str
) -> Filter:
    """``column == value`` for a value of the enum ``kind`` (or its text);
    anything else is a ValidationError saying it is not ``label``."""
    try:
        return Filter(column, "eq", kind(value).value)
    except ValueError:
        raise ValidationError(f"{value!r} is not {label}", path=path, value=value) from None


class BusinessUnitDocuments(TenantDocuments[BusinessUnitId, BusinessUnit]):
    """:class:`~b2bcore.accounts.ports.BusinessUnitRepository` on documents."""

    collection = BUSINESS_UNITS

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


class UserDocuments(TenantDocuments[UserId, CompanyUser]):
    """:class:`~b2bcore.accounts.ports.UserRepository` on documents."""

    collection = USERS

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


class RoleDocuments(TenantDocuments[RoleId, Role]):
    """:class:`~b2bcore.accounts.ports.RoleRepository` on documents."""

    collection = ROLES

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


class AssistedSessionDocuments(TenantDocuments[AssistedSessionId, AssistedSession]):
    """:class:`~b2bcore.accounts.ports.AssistedSessionRepository` on documents."""

    collection = ASSISTED_SESSIONS

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


# --- pricing ---------------------------------------------------------------------------

#: Queries that read every matching row at once (a list's rules, all list headers).
_UNBOUNDED = 2**62
#: Separates list id and rule id in a rule row's key; ids never contain it
#: (:func:`b2bcore.ids.check_id`), so "a/b"+"c" and "a"+"b/c" cannot collide.
_RULE_KEY_SEP = "#"


@attrs.frozen
class PriceRuleRow:
    """One stored price rule: its list, its place in the list's order, the rule."""

    list_id: str
    position: int
    rule: PriceRule


PRICE_LISTS: Collection[PriceList] = Collection(
    name="price_lists",
    kind="price list",
    model=PriceList,
    key=_id,
    tenant=lambda _p: PLATFORM,
    columns=(Column("currency", "TEXT", lambda p: p.currency),),
)
PRICE_RULES: Collection[PriceRuleRow] = Collection(
    name="price_rules",
    kind="price rule",
    model=PriceRuleRow,
    key=lambda r: f"{r.list_id}{_RULE_KEY_SEP}{r.rule.id}",
    tenant=lambda _r: PLATFORM,
    columns=(
        Column("list_id", "TEXT", lambda r: r.list_id),
        Column("position", "INTEGER", lambda r: r.position),
        Column("target_kind", "TEXT", lambda r: r.rule.target.kind.value),
        Column("target_value", "TEXT", lambda r: r.rule.target.value),
    ),
    order=("list_id", "position"),
)
_RULE_ORDER = ("list_id", "position", "id")


class _PriceRuleRows(DocumentRepository[PriceRuleRow]):
    """The rule rows behind :class:`PriceListDocuments` (not a port of its own)."""

    collection = PRICE_RULES

    def select(self, filters: tuple[Filter, ...]) -> list[StoredRow]:
        return self._session.select(
            self.collection,
            Query(
                company_id=PLATFORM,
                filters=filters,
                order=_RULE_ORDER,
                descending=False,
                after=None,
                limit=_UNBOUNDED,
            ),
        )

    def of_list(self, list_id: str) -> list[StoredRow]:
        return self.select((Filter("list_id", "eq", list_id),))

    def rule(self, row: StoredRow) -> PriceRule:
        return self._from_row(row).rule

    def write(self, price_list: PriceList) -> None:
        """Make the stored rules of ``price_list`` its rules, in its order.

        Rows already equal are left alone, changed ones replaced, missing ones
        inserted, and rows of rules the list no longer has deleted.
        """
        old = {row.id: row for row in self.of_list(price_list.id)}
        for position, rule in enumerate(price_list.rules):
            row = self._to_row(PriceRuleRow(price_list.id, position, rule), 1)
            before = old.pop(row.id, None)
            if before is None:
                self._session.insert(self.collection, row)
            elif (before.doc, dict(before.columns)) != (row.doc, dict(row.columns)):
                newer = attrs.evolve(row, version=before.version + 1)
                self._session.replace(self.collection, newer, before.version)
        for key in old:
            self._session.delete(self.collection, PLATFORM, key)


def _check_currency(currency: object) -> str | None:
    if currency is None:
        return None
    if not isinstance(currency, str) or not is_currency(currency):
        raise ValidationError(
            f"{currency!r} is not an ISO 4217 currency", path="currency", value=currency
        )
    return currency


def _derives_from(price_list: PriceList) -> set[str]:
    found: set[str] = set()
    if price_list.base_list_id is not None:
        found.add(price_list.base_list_id)
    for rule in price_list.rules:
        for formula in (rule.formula, *(tier.formula for tier in rule.tiers)):
            if formula is not None and formula.base is BaseKind.PRICE_LIST:
                base = formula.base_list_id or price_list.base_list_id
                if base is not None:
                    found.add(base)
    return found


def _target_key(target: object) -> tuple[TargetKind, str | None]:
    if (
        isinstance(target, (str, bytes))
        or not isinstance(target, (tuple, list))
        or len(target) != 2
    ):
        raise ValidationError(
            "a target is a pair (TargetKind, value), e.g. (TargetKind.SKU, 'P-100')",
            path="targets",
            value=target,
        )
    kind, value = target
    try:
        kind = TargetKind(kind)
    except (ValueError, TypeError) as e:
        raise ValidationError(f"{kind!r} is not a target kind", path="targets", value=target) from e
    if (kind is TargetKind.ALL) != (value is None) or not (value is None or isinstance(value, str)):
        raise ValidationError(
            "an 'all' target has the value None, every other kind an id string",
            path="targets",
            value=target,
        )
    return kind, value


class PriceListDocuments(DocumentRepository[PriceList]):
    """:class:`~b2bcore.pricing.ports.PriceListRepository` on documents.

    The list's header (everything but its rules) is one document in
    ``price_lists``; each rule is its own row in ``price_rules``, keyed
    ``<list id>#<rule id>`` and indexed by list (in list order) and by target, so
    lookups by target read only the rules of that target.
    """

    collection = PRICE_LISTS

    def __init__(self, uow: UnitOfWorkLike) -> None:
        super().__init__(uow)
        self._rules = _PriceRuleRows(uow)

    # -- rows -------------------------------------------------------------------------
    def _header(self, row: StoredRow) -> PriceList:
        return super()._from_row(row)

    def _from_row(self, row: StoredRow) -> PriceList:
        price_list = self._header(row)
        price_list.rules = tuple(self._rules.rule(r) for r in self._rules.of_list(price_list.id))
        return price_list

    @staticmethod
    def _check(price_list: object) -> PriceList:
        if not isinstance(price_list, PriceList):
            raise ValidationError(
                f"expected a PriceList, got {type(price_list).__name__}",
                path="price_list",
                value=price_list,
            )
        return price_list

    # -- the port ---------------------------------------------------------------------
    def get(self, list_id: PriceListId, /) -> PriceList:
        return self._get(list_id, PLATFORM)

    def add(self, price_list: PriceList, /) -> None:
        price_list = self._check(price_list)
        header = attrs.evolve(price_list, rules=())
        self._session.insert(self.collection, self._to_row(header, 1))
        self._rules.write(price_list)
        self._after_write(price_list, 1)

    def update(self, price_list: PriceList, /) -> None:
        price_list = self._check(price_list)
        current = price_list.version
        if isinstance(current, bool) or not isinstance(current, int) or current < 1:
            raise ValidationError(
                f"price list {price_list.id!r} was never stored (version {current!r}); "
                "use add() for new price lists",
                path="version",
                value=current,
            )
        header = attrs.evolve(price_list, rules=())
        # The header first: a stale version fails before any rule row is touched.
        self._session.replace(self.collection, self._to_row(header, current + 1), current)
        self._rules.write(price_list)
        self._after_write(price_list, current + 1)

    def rules_for(
        self,
        targets: Iterable[tuple[TargetKind, str | None]],
        /,
        *,
        list_ids: Iterable[PriceListId] | None = None,
    ) -> list[tuple[PriceListId, PriceRule]]:
        if isinstance(targets, (str, bytes)) or not isinstance(targets, Iterable):
            raise ValidationError("targets must be a list of pairs", path="targets")
        keys = sorted({_target_key(t) for t in targets}, key=lambda k: (k[0].value, k[1] or ""))
        extra: tuple[Filter, ...] = ()
        if list_ids is not None:
            if isinstance(list_ids, (str, bytes)) or not isinstance(list_ids, Iterable):
                raise ValidationError("list_ids must be a list of ids", path="list_ids")
            wanted = tuple(sorted(set(list_ids)))
            if not wanted:
                return []
            extra = (Filter("list_id", "in", wanted),)
        rows: list[StoredRow] = []
        for kind, value in keys:
            rows.extend(
                self._rules.select(
                    (
                        Filter("target_kind", "eq", kind.value),
                        Filter("target_value", "eq", value),
                        *extra,
                    )
                )
            )
        rows.sort(key=lambda r: (str(r.columns["list_id"]), int(r.columns["position"] or 0), r.id))
        return [(PriceListId(str(r.columns["list_id"])), self._rules.rule(r)) for r in rows]

    def load_index(self, *, currency: str | None = None, at: datetime | None = None) -> PriceIndex:
        currency = _check_currency(currency)
        instant = None if at is None else to_utc(at, path="at")
        rows = self._session.select(
            self.collection,
            Query(
                company_id=PLATFORM,
                filters=(),
                order=("id",),
                descending=False,
                after=None,
                limit=_UNBOUNDED,
            ),
        )
        headers: dict[str, PriceList] = {h.id: h for h in map(self._header, rows)}
        todo: list[str] = [
            h.id
            for h in headers.values()
            if (currency is None or h.currency == currency)
            and (instant is None or h.active_at(instant))
        ]
        kept: dict[str, PriceList] = {}
        while todo:
            list_id = todo.pop()
            if list_id in kept or list_id not in headers:
                continue
            price_list = headers[list_id]
            price_list.rules = tuple(
                self._rules.rule(r) for r in self._rules.of_list(price_list.id)
            )
            kept[list_id] = price_list
            todo.extend(_derives_from(price_list))
        return PriceIndex(kept[k] for k in sorted(kept))

    def list(
        self,
        *,
        currency: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[PriceList]:
        filters = [] if _check_currency(currency) is None else [Filter("currency", "eq", currency)]
        return self._page(company_id=PLATFORM, filters=filters, limit=limit, cursor=cursor)


# --- catalog ---------------------------------------------------------------------------

CATEGORIES: Collection[Category] = Collection(
    name="categories",
    kind="category",
    model=Category,
    key=_id,
    tenant=lambda _c: PLATFORM,
    columns=(Column("parent_id", "TEXT", lambda c: c.parent_id),),
)


def _all_rows(repo: DocumentRepository[Any], company_id: str, filters: tuple[Filter, ...]) -> Any:
    rows = repo._session.select(
        repo.collection,
        Query(
            company_id=company_id,
            filters=filters,
            order=("id",),
            descending=False,
            after=None,
            limit=_UNBOUNDED,
        ),
    )
    return [repo._from_row(r) for r in rows]


def _optional_id(value: object, path: str) -> str | None:
    return None if value is None else check_id(value, path=path)


class CategoryDocuments(DocumentRepository[Category]):
    """:class:`~b2bcore.catalog.ports.CategoryRepository` on documents (platform-wide)."""

    collection = CATEGORIES

    def get(self, category_id: CategoryId, /) -> Category:
        return self._get(category_id, PLATFORM)

    def add(self, category: Category, /) -> None:
        self._add(category)

    def update(self, category: Category, /) -> None:
        self._update(category)

    def list(
        self,
        *,
        parent_id: CategoryId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Category]:
        parent = _optional_id(parent_id, "parent_id")
        filters = [] if parent is None else [Filter("parent_id", "eq", parent)]
        return self._page(company_id=PLATFORM, filters=filters, limit=limit, cursor=cursor)


PRODUCTS: Collection[Product] = Collection(
    name="products",
    kind="product",
    model=Product,
    key=lambda p: p.sku,
    tenant=lambda _p: PLATFORM,
    columns=(
        Column("sku", "TEXT", lambda p: p.sku),
        Column("category_id", "TEXT", lambda p: p.category_id),
        Column("parent_sku", "TEXT", lambda p: p.parent_sku),
        Column("lifecycle", "TEXT", lambda p: p.lifecycle.value),
    ),
)


class ProductDocuments(DocumentRepository[Product]):
    """:class:`~b2bcore.catalog.ports.ProductRepository` on documents (platform-wide)."""

    collection = PRODUCTS

    def get(self, sku: Sku, /) -> Product:
        return self._get(sku, PLATFORM)

    def add(self, product: Product, /) -> None:
        self._add(product)

    def update(self, product: Product, /) -> None:
        self._update(product)

    def list(
        self,
        *,
        category_ids: Iterable[CategoryId] | None = None,
        parent_sku: Sku | None = None,
        after_sku: Sku | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Product]:
        filters = []
        if category_ids is not None:
            if isinstance(category_ids, (str, bytes)) or not isinstance(category_ids, Iterable):
                raise ValidationError(
                    "must be a list of category ids", path="category_ids", value=category_ids
                )
            wanted = tuple(sorted({check_id(c, path="category_ids") for c in category_ids}))
            filters.append(Filter("category_id", "in", wanted))
        parent = _optional_id(parent_sku, "parent_sku")
        if parent is not None:
            filters.append(Filter("parent_sku", "eq", parent))
        after = _optional_id(after_sku, "after_sku")
        if after is not None:
            filters.append(Filter("sku", "gt", after))
        return self._page(company_id=PLATFORM, filters=filters, limit=limit, cursor=cursor)


ASSORTMENTS: Collection[Assortment] = Collection(
    name="assortments",
    kind="assortment",
    model=Assortment,
    key=lambda a: a.key,
    tenant=_company,
    columns=(Column("level", "INTEGER", lambda a: 0 if a.business_unit_id is None else 1),),
    order=("level",),
)


def _remove_as_read(repo: DocumentRepository[Any], obj: Any, company_id: str) -> None:
    """Delete ``obj``'s row if it still has the version ``obj`` was read at."""
    c = repo.collection
    key = c.key(obj)
    row = repo._session.fetch(c, company_id, key)
    if row is None:
        raise NotFoundError(c.kind, key)
    if row.version != obj.version:
        raise ConcurrencyError(
            c.kind, key, expected_version=obj.version, actual_version=row.version
        )
    repo._session.delete(c, company_id, key)
    if isinstance(obj, Aggregate):
        for event in obj.pull_events():
            repo._uow.outbox.add(event)


class AssortmentDocuments(DocumentRepository[Assortment]):
    """:class:`~b2bcore.catalog.ports.AssortmentRepository` on documents (per company)."""

    collection = ASSORTMENTS

    def get(
        self, *, company_id: CompanyId, business_unit_id: BusinessUnitId | None = None
    ) -> Assortment:
        unit = _optional_id(business_unit_id, "business_unit_id")
        return self._get(COMPANY_ASSORTMENT if unit is None else unit, company_id)

    def add(self, assortment: Assortment, /) -> None:
        self._add(assortment)

    def update(self, assortment: Assortment, /) -> None:
        self._update(assortment)

    def remove(self, assortment: Assortment, /) -> None:
        _remove_as_read(self, assortment, assortment.company_id)

    def list(
        self, *, company_id: CompanyId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Assortment]:
        return self._page(company_id=company_id, limit=limit, cursor=cursor)


PRODUCT_RELATIONS: Collection[ProductRelation] = Collection(
    name="product_relations",
    kind="product relation",
    model=ProductRelation,
    key=lambda r: r.key,
    tenant=lambda _r: PLATFORM,
    columns=(
        Column("source_sku", "TEXT", lambda r: r.source_sku),
        Column("target_sku", "TEXT", lambda r: r.target_sku),
        Column("relation_type", "TEXT", lambda r: r.type.value),
        Column("bidirectional", "INTEGER", lambda r: int(r.bidirectional)),
    ),
)


def _relation_type(value: object) -> RelationType:
    try:
        return RelationType(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a relation type", path="relation_type", value=value
        ) from None


class ProductRelationDocuments(DocumentRepository[ProductRelation]):
    """:class:`~b2bcore.catalog.ports.ProductRelationRepository` on documents."""

    collection = PRODUCT_RELATIONS

    def get(
        self, source_sku: Sku, relation_type: RelationType, target_sku: Sku, /
    ) -> ProductRelation:
        kind = _relation_type(relation_type)
        source = check_id(source_sku, path="source_sku")
        target = check_id(target_sku, path="target_sku")
        return self._get(f"{source}#{kind.value}#{target}", PLATFORM)

    def add(self, relation: ProductRelation, /) -> None:
        self._add(relation)

    def update(self, relation: ProductRelation, /) -> None:
        self._update(relation)

    def remove(self, relation: ProductRelation, /) -> None:
        _remove_as_read(self, relation, PLATFORM)

    def from_sku(
        self, sku: Sku, /, *, relation_type: RelationType | None = None
    ) -> list[ProductRelation]:
        code = check_id(sku, path="sku")
        extra: tuple[Filter, ...] = ()
        if relation_type is not None:
            extra = (Filter("relation_type", "eq", _relation_type(relation_type).value),)
        found: list[ProductRelation] = _all_rows(
            self, PLATFORM, (Filter("source_sku", "eq", code), *extra)
        )
        found += _all_rows(
            self,
            PLATFORM,
            (Filter("target_sku", "eq", code), Filter("bidirectional", "eq", 1), *extra),
        )
        return sorted(found, key=lambda r: (r.rank, r.key))

    def list(
        self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ProductRelation]:
        return self._page(company_id=PLATFORM, limit=limit, cursor=cursor)


RELATION_RULES: Collection[RelationRule] = Collection(
    name="relation_rules",
    kind="relation rule",
    model=RelationRule,
    key=_id,
    tenant=lambda _r: PLATFORM,
)


class RelationRuleDocuments(DocumentRepository[RelationRule]):
    """:class:`~b2bcore.catalog.ports.RelationRuleRepository` on documents."""

    collection = RELATION_RULES

    def get(self, rule_id: RelationRuleId, /) -> RelationRule:
        return self._get(rule_id, PLATFORM)

    def add(self, rule: RelationRule, /) -> None:
        self._add(rule)

    def update(self, rule: RelationRule, /) -> None:
        self._update(rule)

    def list(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[RelationRule]:
        return self._page(company_id=PLATFORM, limit=limit, cursor=cursor)


STOCK_LEVELS: Collection[StockLevel] = Collection(
    name="stock_levels",
    kind="stock level",
    model=StockLevel,
    key=lambda s: s.key,
    tenant=lambda _s: PLATFORM,
    columns=(
        Column("sku", "TEXT", lambda s: s.sku),
        Column("location", "TEXT", lambda s: s.location),
    ),
)


class StockLevelDocuments(DocumentRepository[StockLevel]):
    """:class:`~b2bcore.catalog.ports.StockLevelRepository` on documents. A level's
    key is ``sku#location``, so for one SKU the key order is the location order."""

    collection = STOCK_LEVELS

    def get(self, sku: Sku, location: LocationId, /) -> StockLevel:
        code = check_id(sku, path="sku")
        where = check_id(location, path="location")
        return self._get(f"{code}#{where}", PLATFORM)

    def add(self, level: StockLevel, /) -> None:
        self._add(level)

    def update(self, level: StockLevel, /) -> None:
        self._update(level)

    def for_sku(self, sku: Sku, /) -> list[StockLevel]:
        code = Sku(check_id(sku, path="sku"))
        return self.for_skus([code])[code]

    def for_skus(self, skus: Sequence[Sku], /) -> dict[Sku, list[StockLevel]]:
        """:meth:`for_sku` of several SKUs in one read (not a port method: callers
        use it when a repository has it, see ``OrdersService``)."""
        codes = [Sku(check_id(sku, path="skus")) for sku in skus]
        found: dict[Sku, list[StockLevel]] = {code: [] for code in codes}
        if codes:
            levels: list[StockLevel] = _all_rows(
                self, PLATFORM, (Filter("sku", "in", tuple(dict.fromkeys(codes))),)
            )
            for level in sorted(levels, key=lambda lv: lv.location):
                found[level.sku].append(level)
        return found


RESERVATIONS: Collection[Reservation] = Collection(
    name="reservations",
    kind="reservation",
    model=Reservation,
    key=_id,
    tenant=_company,
    columns=(
        Column("sku", "TEXT", lambda r: r.sku),
        Column("reference", "TEXT", lambda r: r.reference),
        Column("status", "TEXT", lambda r: r.status.value),
    ),
)


class ReservationDocuments(TenantDocuments[ReservationId, Reservation]):
    """:class:`~b2bcore.catalog.ports.ReservationRepository` on documents (per company)."""

    collection = RESERVATIONS

    def list(
        self,
        *,
        company_id: CompanyId,
        reference: str | None = None,
        sku: Sku | None = None,
        status: ReservationStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Reservation]:
        filters = []
        ref = _optional_id(reference, "reference")
        if ref is not None:
            filters.append(Filter("reference", "eq", ref))
        code = _optional_id(sku, "sku")
        if code is not None:
            filters.append(Filter("sku", "eq", code))
        if status is not None:
            filters.append(
                _enum_filter("status", ReservationStatus, status, "a reservation status", "status")
            )
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


# --- orders ----------------------------------------------------------------------------


def _bar_list(values: Iterable[str]) -> str:
    """``|a|b|``: a column that a ``contains`` filter on ``|a|`` matches exactly."""
    return "|" + "|".join(values) + "|"


def _search_text(*parts: str | None) -> str:
    return " ".join(p for p in parts if p).lower()


CARTS: Collection[Cart] = Collection(
    name="carts",
    kind="cart",
    model=Cart,
    key=_id,
    tenant=_company,
    columns=(
        Column("owner_id", "TEXT", lambda c: c.owner_id),
        Column("status", "TEXT", lambda c: c.status.value),
    ),
)
ORDERS: Collection[Order] = Collection(
    name="orders",
    kind="order",
    model=Order,
    key=_id,
    tenant=_company,
    columns=(
        Column("created_at", "TEXT", lambda o: sortable_datetime(o.created_at)),
        Column("status", "TEXT", lambda o: o.status.value),
        Column("requester_id", "TEXT", lambda o: o.requester_id),
        Column("business_unit_id", "TEXT", lambda o: o.business_unit_id),
        Column("skus", "TEXT", lambda o: _bar_list(line.sku for line in o.lines)),
        Column("search", "TEXT", lambda o: _search_text(o.id, o.reference, o.po_number)),
    ),
    order=("created_at",),
)
SHIPMENTS: Collection[Shipment] = Collection(
    name="shipments",
    kind="shipment",
    model=Shipment,
    key=_id,
    tenant=_company,
    columns=(Column("order_id", "TEXT", lambda s: s.order_id),),
)
INVOICES: Collection[Invoice] = Collection(
    name="invoices",
    kind="invoice",
    model=Invoice,
    key=_id,
    tenant=_company,
    columns=(
        Column("issued_at", "TEXT", lambda i: sortable_datetime(i.issued_at)),
        Column("order_id", "TEXT", lambda i: i.order_id),
        Column("status", "TEXT", lambda i: i.status.value),
        Column("due_date", "TEXT", lambda i: i.due_date.isoformat()),
        Column("requester_id", "TEXT", lambda i: i.requester_id),
        Column("business_unit_id", "TEXT", lambda i: i.business_unit_id),
    ),
    order=("issued_at",),
)
SALES_QUOTES: Collection[Quote] = Collection(
    name="sales_quotes",
    kind="quote",
    model=Quote,
    key=_id,
    tenant=_company,
    columns=(
        Column("created_at", "TEXT", lambda q: sortable_datetime(q.created_at)),
        Column("status", "TEXT", lambda q: q.status.value),
        Column("requester_id", "TEXT", lambda q: q.requester_id),
        Column("business_unit_id", "TEXT", lambda q: q.business_unit_id),
    ),
    order=("created_at",),
)
SHOPPING_LISTS: Collection[ShoppingList] = Collection(
    name="shopping_lists",
    kind="shopping list",
    model=ShoppingList,
    key=_id,
    tenant=_company,
    columns=(
        Column("name", "TEXT", lambda s: s.name.casefold()),
        Column("owner_id", "TEXT", lambda s: s.owner_id),
        Column("business_unit_id", "TEXT", lambda s: s.business_unit_id),
    ),
    order=("name",),
)


def _audience_filters(audience: Audience | None) -> list[tuple[Filter, ...]] | None:
    """One filter set per audience group (None: no restriction)."""
    if audience is None:
        return None
    if not isinstance(audience, Audience):
        raise ValidationError("must be an Audience or None", path="audience", value=audience)
    if audience.everything:
        return None
    out: list[tuple[Filter, ...]] = []
    for group in audience.groups:
        fs: list[Filter] = []
        if group.units is not None:
            if not group.units:
                continue
            fs.append(Filter("business_unit_id", "in", tuple(sorted(group.units))))
        if group.requester_id is not None:
            fs.append(Filter("requester_id", "eq", group.requester_id))
        out.append(tuple(fs))
    return out


def _union_page(
    repo: DocumentRepository[Any],
    *,
    company_id: str,
    filters: list[Filter],
    audience: Audience | None,
    limit: int,
    cursor: str | None,
    descending: bool,
) -> Page[Any]:
    """A keyset page of the rows matching ``filters`` and at least one audience group:
    each group is one query from the cursor on, merged in order and deduplicated."""
    groups = _audience_filters(audience)
    if groups is None:
        return repo._page(
            company_id=company_id,
            filters=filters,
            limit=limit,
            cursor=cursor,
            descending=descending,
        )
    c = repo.collection
    check_limit(limit)
    order = (*c.order, "id")
    describe = repr((c.name, company_id, tuple(filters), tuple(groups), order, descending))
    after: tuple[Any, ...] | None = None
    if cursor is not None:
        position = decode_cursor(describe, cursor)
        if len(position) != len(order):
            raise ValidationError("cursor does not match this query", path="cursor")
        after = tuple(position)
    found: dict[str, StoredRow] = {}
    for group in groups:
        query = Query(
            company_id=company_id,
            filters=(*filters, *group),
            order=order,
            descending=descending,
            after=after,
            limit=limit + 1,
        )
        for row in repo._session.select(c, query):
            found[row.id] = row
    rows = sorted(found.values(), key=_query_key(order), reverse=descending)[: limit + 1]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        next_cursor = encode_cursor(describe, [row_value(rows[-1], o) for o in order])
    return Page(items=tuple(repo._from_row(r) for r in rows), next_cursor=next_cursor)


def _query_key(order: tuple[str, ...]) -> Any:
    """The sort key of a row in ``order`` (for merging several queries' rows)."""
    return lambda row: tuple(row_value(row, column) for column in order)


def _optional_user_id(value: object, path: str) -> str | None:
    return None if value is None else check_id(value, path=path)


class CartDocuments(TenantDocuments[CartId, Cart]):
    """:class:`~b2bcore.orders.ports.CartRepository` on documents (per company)."""

    collection = CARTS

    def list(
        self,
        *,
        company_id: CompanyId,
        owner_id: UserId | None = None,
        status: CartStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Cart]:
        filters = []
        owner = _optional_user_id(owner_id, "owner_id")
        if owner is not None:
            filters.append(Filter("owner_id", "eq", owner))
        if status is not None:
            filters.append(Filter("status", "eq", CartStatus(status).value))
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


def _order_statuses(statuses: object) -> tuple[str, ...] | None:
    if statuses is None:
        return None
    if isinstance(statuses, (str, bytes, OrderStatus)) or not isinstance(statuses, Iterable):
        raise ValidationError("must be a list of OrderStatus", path="statuses", value=statuses)
    out: set[str] = set()
    for i, s in enumerate(statuses):
        try:
            out.add(OrderStatus(s).value)
        except ValueError:
            raise ValidationError(
                f"{s!r} is not an order status", path=f"statuses[{i}]", value=s
            ) from None
    return tuple(sorted(out))


class OrderDocuments(TenantDocuments[OrderId, Order]):
    """:class:`~b2bcore.orders.ports.OrderRepository` on documents (per company).

    The ``skus`` column lists the order's SKUs as ``|A|B|`` and ``search`` holds the
    id, reference and PO number in lower case, so both are ``contains`` filters.
    """

    collection = ORDERS

    def list(
        self,
        *,
        company_id: CompanyId,
        statuses: Iterable[OrderStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sku: Sku | None = None,
        business_unit_id: BusinessUnitId | None = None,
        requester_id: UserId | None = None,
        text: str | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Order]:
        filters: list[Filter] = []
        wanted = _order_statuses(statuses)
        if wanted is not None:
            filters.append(Filter("status", "in", wanted))
        if since is not None:
            at = sortable_datetime(require_aware(since, path="since"))
            filters.append(Filter("created_at", "ge", at))
        if until is not None:
            at = sortable_datetime(require_aware(until, path="until"))
            filters.append(Filter("created_at", "lt", at))
        if sku is not None:
            filters.append(Filter("skus", "contains", f"|{check_id(sku, path='sku')}|"))
        unit = _optional_id(business_unit_id, "business_unit_id")
        if unit is not None:
            filters.append(Filter("business_unit_id", "eq", unit))
        requester = _optional_user_id(requester_id, "requester_id")
        if requester is not None:
            filters.append(Filter("requester_id", "eq", requester))
        if text is not None:
            if not isinstance(text, str) or not text.strip() or len(text) > 100:
                raise ValidationError(
                    "search text must be a non-blank string of at most 100 characters",
                    path="text",
                    value=text,
                )
            filters.append(Filter("search", "contains", text.strip().lower()))
        return _union_page(
            self,
            company_id=company_id,
            filters=filters,
            audience=audience,
            limit=limit,
            cursor=cursor,
            descending=True,
        )


class ShipmentDocuments(TenantDocuments[ShipmentId, Shipment]):
    """:class:`~b2bcore.orders.ports.ShipmentRepository` on documents (per company)."""

    collection = SHIPMENTS

    def for_order(self, order_id: OrderId, /, *, company_id: CompanyId) -> list[Shipment]:
        order = check_id(order_id, path="order_id")
        found: list[Shipment] = _all_rows(self, company_id, (Filter("order_id", "eq", order),))
        return sorted(found, key=lambda s: (s.shipped_at, s.id))


class InvoiceDocuments(TenantDocuments[InvoiceId, Invoice]):
    """:class:`~b2bcore.orders.ports.InvoiceRepository` on documents (per company)."""

    collection = INVOICES

    def list(
        self,
        *,
        company_id: CompanyId,
        order_id: OrderId | None = None,
        status: InvoiceStatus | None = None,
        due_before: datetime | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        filters: list[Filter] = []
        order = _optional_id(order_id, "order_id")
        if order is not None:
            filters.append(Filter("order_id", "eq", order))
        if status is not None:
            filters.append(
                _enum_filter("status", InvoiceStatus, status, "an invoice status", "status")
            )
        if due_before is not None:
            day = to_utc(due_before, path="due_before").date().isoformat()
            filters.append(Filter("due_date", "lt", day))
        return _union_page(
            self,
            company_id=company_id,
            filters=filters,
            audience=audience,
            limit=limit,
            cursor=cursor,
            descending=False,
        )


class SalesQuoteDocuments(TenantDocuments[QuoteId, Quote]):
    """:class:`~b2bcore.orders.ports.SalesQuoteRepository` on documents (per company)."""

    collection = SALES_QUOTES

    def list(
        self,
        *,
        company_id: CompanyId,
        status: QuoteStatus | None = None,
        requester_id: UserId | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Quote]:
        filters: list[Filter] = []
        if status is not None:
            filters.append(_enum_filter("status", QuoteStatus, status, "a quote status", "status"))
        requester = _optional_user_id(requester_id, "requester_id")
        if requester is not None:
            filters.append(Filter("requester_id", "eq", requester))
        return _union_page(
            self,
            company_id=company_id,
            filters=filters,
            audience=audience,
            limit=limit,
            cursor=cursor,
            descending=True,
        )


class ShoppingListDocuments(TenantDocuments[ShoppingListId, ShoppingList]):
    """:class:`~b2bcore.orders.ports.ShoppingListRepository` on documents (per company)."""

    collection = SHOPPING_LISTS

    def remove(self, shopping_list: ShoppingList, /) -> None:
        _remove_as_read(self, shopping_list, shopping_list.company_id)

    def list(
        self,
        *,
        company_id: CompanyId,
        owner_id: UserId | None = None,
        business_unit_ids: Iterable[BusinessUnitId] | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ShoppingList]:
        filters: list[Filter] = []
        owner = _optional_user_id(owner_id, "owner_id")
        if owner is not None:
            filters.append(Filter("owner_id", "eq", owner))
        if business_unit_ids is not None:
            if isinstance(business_unit_ids, (str, bytes)) or not isinstance(
                business_unit_ids, Iterable
            ):
                raise ValidationError(
                    "must be a list of business unit ids",
                    path="business_unit_ids",
                    value=business_unit_ids,
                )
            units = tuple(
                sorted({check_id(u, path="business_unit_ids") for u in business_unit_ids})
            )
            filters.append(Filter("business_unit_id", "in", units))
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


# --- approvals -------------------------------------------------------------------------

#: The key of a company's one approval policy.
_POLICY_KEY = "policy"

APPROVAL_POLICIES: Collection[ApprovalPolicy] = Collection(
    name="approval_policies",
    kind="approval policy",
    model=ApprovalPolicy,
    key=lambda _p: _POLICY_KEY,
    tenant=_company,
)


def _active_subject(flow: ApprovalFlow) -> str:
    # Unique per company: the subject while pending, the flow's own id once final.
    return str(flow.subject.ref) if flow.is_pending else f"~{flow.id}"


def _due_at(flow: ApprovalFlow) -> str | None:
    due = flow.next_due()
    return None if due is None else sortable_datetime(due)


APPROVAL_FLOWS: Collection[ApprovalFlow] = Collection(
    name="approval_flows",
    kind="approval flow",
    model=ApprovalFlow,
    key=_id,
    tenant=_company,
    columns=(
        Column("status", "TEXT", lambda f: f.status.value),
        Column("subject", "TEXT", lambda f: str(f.subject.ref)),
        Column("active_subject", "TEXT", _active_subject),
        Column("requester_id", "TEXT", lambda f: f.subject.requester_id),
        Column("due_at", "TEXT", _due_at),
    ),
    unique=(("active_subject",),),
)


class ApprovalPolicyDocuments(DocumentRepository[ApprovalPolicy]):
    """:class:`~b2bcore.approvals.ports.ApprovalPolicyRepository` on documents."""

    collection = APPROVAL_POLICIES

    def get(self, *, company_id: CompanyId) -> ApprovalPolicy:
        try:
            return self._get(_POLICY_KEY, company_id)
        except NotFoundError:
            raise NotFoundError(
                "approval policy", company_id, f"company {company_id!r} has no approval policy"
            ) from None

    def add(self, policy: ApprovalPolicy, /) -> None:
        try:
            self._add(policy)
        except DuplicateError:
            raise DuplicateError(
                "approval policy",
                policy.company_id,
                f"company {policy.company_id!r} has an approval policy; update it",
            ) from None

    def update(self, policy: ApprovalPolicy, /) -> None:
        self._update(policy)


def _subject_ref(value: object) -> str:
    if not isinstance(value, SubjectRef):
        raise ValidationError("must be a SubjectRef", path="subject", value=value)
    return str(value)


class ApprovalFlowDocuments(TenantDocuments[FlowId, ApprovalFlow]):
    """:class:`~b2bcore.approvals.ports.ApprovalFlowRepository` on documents."""

    collection = APPROVAL_FLOWS

    def pending_for(self, subject: SubjectRef, /, *, company_id: CompanyId) -> ApprovalFlow | None:
        page = self._page(
            company_id=company_id,
            filters=[Filter("active_subject", "eq", _subject_ref(subject))],
            limit=1,
            cursor=None,
        )
        return page.items[0] if page.items else None

    def list(
        self,
        *,
        company_id: CompanyId,
        status: FlowStatus | None = None,
        requester_id: UserId | None = None,
        subject: SubjectRef | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ApprovalFlow]:
        filters = []
        if status is not None:
            filters.append(_enum_filter("status", FlowStatus, status, "a flow status", "status"))
        who = _optional_id(requester_id, "requester_id")
        if who is not None:
            filters.append(Filter("requester_id", "eq", who))
        if subject is not None:
            filters.append(Filter("subject", "eq", _subject_ref(subject)))
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)

    def due(
        self, *, company_id: CompanyId, until: datetime, limit: int = DEFAULT_LIMIT
    ) -> builtins.list[ApprovalFlow]:
        check_limit(limit)
        flows: builtins.list[ApprovalFlow] = _all_rows(
            self,
            company_id,
            (
                Filter("status", "eq", FlowStatus.PENDING.value),
                Filter("due_at", "le", sortable_datetime(require_aware(until, path="until"))),
            ),
        )
        flows.sort(key=lambda f: (f.next_due(), f.id))
        return flows[:limit]


BUDGETS: Collection[Budget] = Collection(
    name="budgets",
    kind="budget",
    model=Budget,
    key=_id,
    tenant=_company,
    columns=(Column("scope_key", "TEXT", lambda b: b.scope_key),),
    unique=(("scope_key",),),
)


class BudgetDocuments(TenantDocuments[BudgetId, Budget]):
    """:class:`~b2bcore.approvals.ports.BudgetRepository` on documents."""

    collection = BUDGETS

    def list(
        self, *, company_id: CompanyId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Budget]:
        return self._page(company_id=company_id, limit=limit, cursor=cursor)


DELEGATIONS: Collection[Delegation] = Collection(
    name="delegations",
    kind="delegation",
    model=Delegation,
    key=_id,
    tenant=_company,
    columns=(
        Column("delegator_id", "TEXT", lambda d: d.delegator_id),
        Column("delegate_id", "TEXT", lambda d: d.delegate_id),
    ),
)


class DelegationDocuments(TenantDocuments[DelegationId, Delegation]):
    """:class:`~b2bcore.approvals.ports.DelegationRepository` on documents."""

    collection = DELEGATIONS

    def list(
        self,
        *,
        company_id: CompanyId,
        delegator_id: UserId | None = None,
        delegate_id: UserId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Delegation]:
        filters = []
        delegator = _optional_id(delegator_id, "delegator_id")
        if delegator is not None:
            filters.append(Filter("delegator_id", "eq", delegator))
        delegate = _optional_id(delegate_id, "delegate_id")
        if delegate is not None:
            filters.append(Filter("delegate_id", "eq", delegate))
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


# --- scheduling --------------------------------------------------------------------------

SERVICE_TYPES: Collection[ServiceType] = Collection(
    name="service_types",
    kind="service type",
    model=ServiceType,
    key=_id,
    tenant=lambda _s: PLATFORM,
    columns=(Column("active", "INTEGER", lambda s: int(s.active)),),
)
RESOURCES: Collection[Resource] = Collection(
    name="resources",
    kind="resource",
    model=Resource,
    key=_id,
    tenant=lambda _r: PLATFORM,
    columns=(
        Column("resource_group", "TEXT", lambda r: r.group),
        Column("active", "INTEGER", lambda r: int(r.active)),
    ),
)
BOOKINGS: Collection[Booking] = Collection(
    name="bookings",
    kind="appointment",
    model=Booking,
    key=_id,
    tenant=_company,
    columns=(
        Column("start_at", "TEXT", lambda b: sortable_datetime(b.start)),
        Column("status", "TEXT", lambda b: b.status.value),
        Column("requester_id", "TEXT", lambda b: b.requester_id),
        Column("business_unit_id", "TEXT", lambda b: b.business_unit_id),
        Column("service_type_id", "TEXT", lambda b: b.service_type_id),
        Column("asset_id", "TEXT", lambda b: b.asset_id),
        Column("claim_id", "TEXT", lambda b: b.claim_id),
    ),
    order=("start_at",),
)


@attrs.frozen
class SlotClaim:
    """One resource's 5-minute granule (and seat) taken by one booking: the row whose
    key ``resource#granule#seat`` makes double booking impossible in every store."""

    resource_id: str
    granule: datetime
    seat: int
    head: bool
    busy: Busy


def _claim_key(resource_id: str, granule: datetime, seat: int) -> str:
    return f"{resource_id}#{sortable_datetime(granule)}#{seat:03d}"


SLOT_CLAIMS: Collection[SlotClaim] = Collection(
    name="slot_claims",
    kind="slot",
    model=SlotClaim,
    key=lambda c: _claim_key(c.resource_id, c.granule, c.seat),
    tenant=lambda _c: PLATFORM,
    columns=(
        Column("resource_id", "TEXT", lambda c: c.resource_id),
        Column("granule", "TEXT", lambda c: sortable_datetime(c.granule)),
        Column("booking", "TEXT", lambda c: f"{c.busy.company_id}#{c.busy.booking_id}"),
        Column("service_type_id", "TEXT", lambda c: c.busy.service_type_id),
        Column("head", "INTEGER", lambda c: int(c.head)),
    ),
)
#: The longest an appointment with its buffers can last (a day and two 12-hour buffers).
_LONGEST_OCCUPATION = timedelta(days=2)


def _optional_flag(value: object, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ValidationError("must be True, False or None", path=path, value=value)
    return int(value)


class ServiceTypeDocuments(DocumentRepository[ServiceType]):
    """:class:`~b2bcore.scheduling.ports.ServiceTypeRepository` on documents."""

    collection = SERVICE_TYPES

    def get(self, service_type_id: ServiceTypeId, /) -> ServiceType:
        return self._get(service_type_id, PLATFORM)

    def add(self, service_type: ServiceType, /) -> None:
        self._add(service_type)

    def update(self, service_type: ServiceType, /) -> None:
        self._update(service_type)

    def list(
        self, *, active: bool | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ServiceType]:
        flag = _optional_flag(active, "active")
        filters = [] if flag is None else [Filter("active", "eq", flag)]
        return self._page(company_id=PLATFORM, filters=filters, limit=limit, cursor=cursor)


class ResourceDocuments(DocumentRepository[Resource]):
    """:class:`~b2bcore.scheduling.ports.ResourceRepository` on documents."""

    collection = RESOURCES

    def get(self, resource_id: ResourceId, /) -> Resource:
        return self._get(resource_id, PLATFORM)

    def add(self, resource: Resource, /) -> None:
        self._add(resource)

    def update(self, resource: Resource, /) -> None:
        self._update(resource)

    def list(
        self,
        *,
        group: str | None = None,
        active: bool | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Resource]:
        filters = []
        if group is not None:
            if not isinstance(group, str):
                raise ValidationError("must be a group name", path="group", value=group)
            filters.append(Filter("resource_group", "eq", group))
        flag = _optional_flag(active, "active")
        if flag is not None:
            filters.append(Filter("active", "eq", flag))
        return self._page(company_id=PLATFORM, filters=filters, limit=limit, cursor=cursor)


class _SlotClaims(DocumentRepository[SlotClaim]):
    """The granule rows behind :class:`BookingDocuments` (not a port of its own)."""

    collection = SLOT_CLAIMS

    def _select(self, filters: tuple[Filter, ...]) -> list[StoredRow]:
        return self._session.select(
            self.collection,
            Query(
                company_id=PLATFORM,
                filters=filters,
                order=("id",),
                descending=False,
                after=None,
                limit=_UNBOUNDED,
            ),
        )

    def of_booking(self, booking: Booking) -> list[StoredRow]:
        return self._select((Filter("booking", "eq", f"{booking.company_id}#{booking.id}"),))

    def release(self, booking: Booking) -> None:
        for row in self.of_booking(booking):
            self._session.delete(self.collection, PLATFORM, row.id)

    def claim(self, booking: Booking) -> None:
        """Take every granule of ``booking`` on each of its resources, seat by seat."""
        granules = booking.granules()
        stamp = {g: sortable_datetime(g) for g in granules}
        busy = {b.resource_id: b for b in booking.busy()}
        for resource_id in booking.resource_ids:
            taken: dict[str, dict[int, StoredRow]] = {}
            for row in self._select(
                (
                    Filter("resource_id", "eq", resource_id),
                    Filter("granule", "ge", stamp[granules[0]]),
                    Filter("granule", "le", stamp[granules[-1]]),
                )
            ):
                number = int(row.id.rsplit("#", 1)[1])
                taken.setdefault(str(row.columns["granule"]), {})[number] = row
            for i, granule in enumerate(granules):
                held = taken.get(stamp[granule], {})
                if booking.capacity == 1 and held:
                    raise SlotTakenError(resource_id, granule, booking_id=booking.id)
                if any(
                    r.columns["service_type_id"] != booking.service_type_id for r in held.values()
                ):
                    raise SlotTakenError(resource_id, granule, booking_id=booking.id)
                seat = next((s for s in range(booking.capacity) if s not in held), None)
                if seat is None:
                    raise SlotTakenError(resource_id, granule, booking_id=booking.id)
                if seat > 0:
                    # Seat 0 is held: rewrite it so that a release racing this conflicts.
                    anchor = held[0]
                    self._session.replace(
                        self.collection,
                        attrs.evolve(anchor, version=anchor.version + 1),
                        anchor.version,
                    )
                claim = SlotClaim(resource_id, granule, seat, i == 0, busy[resource_id])
                self._session.insert(self.collection, self._to_row(claim, 1))

    def refresh(self, booking: Booking) -> None:
        """Rewrite the rows of ``booking`` in place (same granules and seats)."""
        busy: dict[str, Busy] = {b.resource_id: b for b in booking.busy()}
        for row in self.of_booking(booking):
            old = self._from_row(row)
            new = attrs.evolve(old, busy=busy[old.resource_id])
            self._session.replace(self.collection, self._to_row(new, row.version + 1), row.version)

    def busy(self, resource_ids: tuple[str, ...], start: datetime, end: datetime) -> list[Busy]:
        rows = self._select(
            (
                Filter("head", "eq", 1),
                Filter("resource_id", "in", resource_ids),
                Filter("granule", "gt", sortable_datetime(start - _LONGEST_OCCUPATION)),
                Filter("granule", "lt", sortable_datetime(end)),
            )
        )
        found = [self._from_row(r).busy for r in rows]
        kept = [b for b in found if b.occupied_end > start and b.occupied_start < end]
        return sorted(kept, key=lambda b: (b.resource_id, b.occupied_start, b.booking_id))


def _claimed_cells(booking: Booking) -> set[tuple[str, datetime]]:
    if not booking.occupies:
        return set()
    return {(r, g) for r in booking.resource_ids for g in booking.granules()}


def _statuses(statuses: object) -> tuple[str, ...] | None:
    if statuses is None:
        return None
    if isinstance(statuses, (str, bytes, AppointmentStatus)) or not isinstance(statuses, Iterable):
        raise ValidationError(
            "must be a list of AppointmentStatus", path="statuses", value=statuses
        )
    out: set[str] = set()
    for i, s in enumerate(statuses):
        try:
            out.add(AppointmentStatus(s).value)
        except ValueError:
            raise ValidationError(
                f"{s!r} is not an appointment status", path=f"statuses[{i}]", value=s
            ) from None
    return tuple(sorted(out))


class BookingDocuments(DocumentRepository[Booking]):
    """:class:`~b2bcore.scheduling.ports.BookingRepository` on documents (per company),
    with its claims on time in ``slot_claims`` (platform-wide, one row per resource,
    granule and seat, keyed by them: the store's primary key refuses a second
    claim on a cell)."""

    collection = BOOKINGS

    def __init__(self, uow: UnitOfWorkLike) -> None:
        super().__init__(uow)
        self._claims = _SlotClaims(uow)

    @staticmethod
    def _check(booking: object) -> Booking:
        if not isinstance(booking, Booking):
            raise ValidationError(
                f"expected a Booking, got {type(booking).__name__}", path="booking", value=booking
            )
        return booking

    def get(self, booking_id: BookingId, /, *, company_id: CompanyId) -> Booking:
        return self._get(booking_id, company_id)

    def add(self, booking: Booking, /) -> None:
        booking = self._check(booking)
        if booking.occupies:
            self._claims.claim(booking)
        self._add(booking)

    def update(self, booking: Booking, /) -> None:
        booking = self._check(booking)
        row = self._session.fetch(self.collection, booking.company_id, booking.id)
        if row is not None and row.version == booking.version:
            before = self._from_row(row)
            if _claimed_cells(before) != _claimed_cells(booking):
                self._claims.release(before)
                if booking.occupies:
                    self._claims.claim(booking)
            elif booking.occupies and before.busy() != booking.busy():
                self._claims.refresh(booking)
        self._update(booking)

    def list(
        self,
        *,
        company_id: CompanyId,
        requester_id: UserId | None = None,
        business_unit_ids: Iterable[BusinessUnitId] | None = None,
        statuses: Iterable[AppointmentStatus] | None = None,
        service_type_id: ServiceTypeId | None = None,
        asset_id: AssetId | None = None,
        claim_id: ClaimId | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Booking]:
        filters: list[Filter] = []
        for column, value in (
            ("requester_id", requester_id),
            ("service_type_id", service_type_id),
            ("asset_id", asset_id),
            ("claim_id", claim_id),
        ):
            checked = _optional_id(value, column)
            if checked is not None:
                filters.append(Filter(column, "eq", checked))
        if business_unit_ids is not None:
            if isinstance(business_unit_ids, (str, bytes)) or not isinstance(
                business_unit_ids, Iterable
            ):
                raise ValidationError(
                    "must be a list of business unit ids",
                    path="business_unit_ids",
                    value=business_unit_ids,
                )
            units = tuple(
                sorted({check_id(u, path="business_unit_ids") for u in business_unit_ids})
            )
            filters.append(Filter("business_unit_id", "in", units))
        wanted = _statuses(statuses)
        if wanted is not None:
            filters.append(Filter("status", "in", wanted))
        if since is not None:
            filters.append(
                Filter("start_at", "ge", sortable_datetime(require_aware(since, path="since")))
            )
        if until is not None:
            filters.append(
                Filter("start_at", "lt", sortable_datetime(require_aware(until, path="until")))
            )
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)

    def busy(
        self, resource_ids: Iterable[ResourceId], /, *, start: datetime, end: datetime
    ) -> builtins.list[Busy]:
        if isinstance(resource_ids, (str, bytes)) or not isinstance(resource_ids, Iterable):
            raise ValidationError(
                "must be a list of resource ids", path="resource_ids", value=resource_ids
            )
        ids = tuple(sorted({check_id(r, path="resource_ids") for r in resource_ids}))
        lo, hi = to_utc(start, path="start"), to_utc(end, path="end")
        if not ids or hi <= lo:
            return []
        return self._claims.busy(ids, lo, hi)


# --- assets, claims, documents ------------------------------------------------------------

ASSETS: Collection[Asset] = Collection(
    name="assets",
    kind="asset",
    model=Asset,
    key=_id,
    tenant=_company,
    columns=(
        Column("serial_key", "TEXT", lambda a: a.serial_key),
        Column("sku", "TEXT", lambda a: a.sku),
        Column("status", "TEXT", lambda a: a.status.value),
        Column("business_unit_id", "TEXT", lambda a: a.business_unit_id),
        Column("requester_id", "TEXT", lambda a: a.registered_by),
        Column("order_id", "TEXT", lambda a: a.order_id),
    ),
    unique=(("serial_key",),),
)
CLAIMS: Collection[Claim] = Collection(
    name="claims",
    kind="claim",
    model=Claim,
    key=_id,
    tenant=_company,
    columns=(
        Column("created_at", "TEXT", lambda c: sortable_datetime(c.created_at)),
        Column("status", "TEXT", lambda c: c.status.value),
        Column("type_id", "TEXT", lambda c: c.type_id),
        Column("requester_id", "TEXT", lambda c: c.requester_id),
        Column("business_unit_id", "TEXT", lambda c: c.business_unit_id),
        Column("asset_ids", "TEXT", lambda c: _bar_list(c.asset_ids)),
        Column("order_ids", "TEXT", lambda c: _bar_list(c.order_ids)),
        Column("priority", "TEXT", lambda c: c.priority.value),
    ),
    order=("created_at",),
)
CLAIM_MESSAGES: Collection[ClaimMessage] = Collection(
    name="claim_messages",
    kind="claim message",
    model=ClaimMessage,
    key=_id,
    tenant=_company,
    columns=(
        Column("claim_id", "TEXT", lambda m: m.claim_id),
        Column("at", "TEXT", lambda m: sortable_datetime(m.at)),
        Column("visibility", "TEXT", lambda m: m.visibility.value),
    ),
    order=("at",),
)
CLAIM_TALLIES: Collection[ClaimTally] = Collection(
    name="claim_tallies",
    kind="claim tally",
    model=ClaimTally,
    key=lambda t: str(t.order_id),
    tenant=_company,
)
DOCUMENTS: Collection[Document] = Collection(
    name="documents",
    kind="document",
    model=Document,
    key=_id,
    tenant=lambda d: d.company_id or PLATFORM,
    columns=(
        Column("created_at", "TEXT", lambda d: sortable_datetime(d.created_at)),
        Column("kind", "TEXT", lambda d: d.kind.value),
        Column("links", "TEXT", lambda d: _bar_list(link.key for link in d.links)),
    ),
    order=("created_at",),
)


class AssetDocuments(TenantDocuments[AssetId, Asset]):
    """:class:`~b2bcore.assets.ports.AssetRepository` on documents (per company); the
    serial number is unique per company through the case-folded ``serial_key``."""

    collection = ASSETS

    def find_by_serial(self, serial_number: str, /, *, company_id: CompanyId) -> Asset | None:
        key = normalize_serial(serial_number).casefold()
        page = self._page(
            company_id=company_id,
            filters=[Filter("serial_key", "eq", key)],
            limit=1,
            cursor=None,
        )
        return page.items[0] if page.items else None

    def list(
        self,
        *,
        company_id: CompanyId,
        status: AssetStatus | None = None,
        sku: Sku | None = None,
        order_id: OrderId | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Asset]:
        filters: list[Filter] = []
        if status is not None:
            filters.append(_enum_filter("status", AssetStatus, status, "an asset status", "status"))
        equal: tuple[tuple[str, str | None], ...] = (("sku", sku), ("order_id", order_id))
        for column, value in equal:
            checked = _optional_id(value, column)
            if checked is not None:
                filters.append(Filter(column, "eq", checked))
        return _union_page(
            self,
            company_id=company_id,
            filters=filters,
            audience=audience,
            limit=limit,
            cursor=cursor,
            descending=False,
        )


def _claim_statuses(statuses: object) -> tuple[str, ...] | None:
    if statuses is None:
        return None
    if isinstance(statuses, (str, bytes, ClaimStatus)) or not isinstance(statuses, Iterable):
        raise ValidationError("must be a list of ClaimStatus", path="statuses", value=statuses)
    out: set[str] = set()
    for i, s in enumerate(statuses):
        try:
            out.add(ClaimStatus(s).value)
        except ValueError:
            raise ValidationError(
                f"{s!r} is not a claim status", path=f"statuses[{i}]", value=s
            ) from None
    return tuple(sorted(out))


class ClaimDocuments(TenantDocuments[ClaimId, Claim]):
    """:class:`~b2bcore.claims.ports.ClaimRepository` on documents (per company); the
    ``asset_ids`` and ``order_ids`` columns list a claim's assets and orders as
    ``|a|b|`` (``contains`` filters)."""

    collection = CLAIMS

    def list(
        self,
        *,
        company_id: CompanyId,
        statuses: Iterable[ClaimStatus] | None = None,
        type_id: ClaimTypeId | None = None,
        asset_id: AssetId | None = None,
        order_id: OrderId | None = None,
        requester_id: UserId | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Claim]:
        filters: list[Filter] = []
        wanted = _claim_statuses(statuses)
        if wanted is not None:
            filters.append(Filter("status", "in", wanted))
        equal: tuple[tuple[str, str | None], ...] = (
            ("type_id", type_id),
            ("requester_id", requester_id),
        )
        for column, value in equal:
            checked = _optional_id(value, column)
            if checked is not None:
                filters.append(Filter(column, "eq", checked))
        listed: tuple[tuple[str, str | None], ...] = (
            ("asset_ids", asset_id),
            ("order_ids", order_id),
        )
        for column, value in listed:
            checked = _optional_id(value, column[:-1])
            if checked is not None:
                filters.append(Filter(column, "contains", f"|{checked}|"))
        return _union_page(
            self,
            company_id=company_id,
            filters=filters,
            audience=audience,
            limit=limit,
            cursor=cursor,
            descending=True,
        )


class ClaimMessageDocuments(DocumentRepository[ClaimMessage]):
    """:class:`~b2bcore.claims.ports.ClaimMessageRepository` on documents."""

    collection = CLAIM_MESSAGES

    def add(self, message: ClaimMessage, /) -> None:
        self._add(message)

    def list(
        self,
        claim_id: ClaimId,
        /,
        *,
        company_id: CompanyId,
        visibility: Visibility | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ClaimMessage]:
        filters = [Filter("claim_id", "eq", check_id(claim_id, path="claim_id"))]
        if visibility is not None:
            filters.append(
                _enum_filter("visibility", Visibility, visibility, "a visibility", "visibility")
            )
        return self._page(company_id=company_id, filters=filters, limit=limit, cursor=cursor)


class ClaimTallyDocuments(TenantDocuments[OrderId, ClaimTally]):
    """:class:`~b2bcore.claims.ports.ClaimTallyRepository` on documents (one per order)."""

    collection = CLAIM_TALLIES


class FileDocuments(DocumentRepository[Document]):
    """:class:`~b2bcore.documents.ports.DocumentRepository` on documents: per company,
    and the seller's platform-wide ones under the platform tenant. ``links`` lists
    the link keys as ``|product:X|asset:Y|`` (a ``contains`` filter)."""

    collection = DOCUMENTS

    def get(self, document_id: DocumentId, /, *, company_id: CompanyId | None) -> Document:
        return self._get(document_id, PLATFORM if company_id is None else company_id)

    def add(self, document: Document, /) -> None:
        self._add(document)

    def update(self, document: Document, /) -> None:
        self._update(document)

    def list(
        self,
        *,
        company_id: CompanyId | None,
        link: DocumentLink | None = None,
        kind: DocumentKind | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Document]:
        filters: list[Filter] = []
        if link is not None:
            if not isinstance(link, DocumentLink):
                raise ValidationError("must be a DocumentLink", path="link", value=link)
            filters.append(Filter("links", "contains", f"|{link.key}|"))
        if kind is not None:
            filters.append(_enum_filter("kind", DocumentKind, kind, "a document kind", "kind"))
        return self._page(
            company_id=PLATFORM if company_id is None else company_id,
            filters=filters,
            limit=limit,
            cursor=cursor,
            descending=True,
        )


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
    deferred = True

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
    deferred = True

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
    PRICE_LISTS,
    PRICE_RULES,
    CATEGORIES,
    PRODUCTS,
    ASSORTMENTS,
    PRODUCT_RELATIONS,
    RELATION_RULES,
    STOCK_LEVELS,
    RESERVATIONS,
    CARTS,
    ORDERS,
    SHIPMENTS,
    INVOICES,
    SALES_QUOTES,
    SHOPPING_LISTS,
    APPROVAL_POLICIES,
    APPROVAL_FLOWS,
    BUDGETS,
    DELEGATIONS,
    SERVICE_TYPES,
    RESOURCES,
    BOOKINGS,
    SLOT_CLAIMS,
    ASSETS,
    CLAIMS,
    CLAIM_MESSAGES,
    CLAIM_TALLIES,
    DOCUMENTS,
    OUTBOX,
    AUDIT,
    IDEMPOTENCY,
)
