"""Collections and repositories of every context, written once for all adapters.

Each repository implements a context's port (``b2bcore.<context>.ports``) on top
of :class:`~b2bcore.storage._documents.DocumentRepository`.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from b2bcore.clock import require_aware, to_utc
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
    AssistedSessionId,
    BusinessUnitId,
    CategoryId,
    CompanyId,
    LocationId,
    PriceListId,
    RelationRuleId,
    ReservationId,
    RoleId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.money import is_currency
from b2bcore.paging import DEFAULT_LIMIT, Page
from b2bcore.pricing.model import BaseKind, PriceList, PriceRule, TargetKind
from b2bcore.pricing.resolve import PriceIndex
from b2bcore.serialization import event_to_record
from b2bcore.storage._documents import (
    Collection,
    Column,
    DocumentRepository,
    Filter,
    Query,
    StoredRow,
    UnitOfWorkLike,
    sortable_datetime,
)

__all__ = [
    "ALL_COLLECTIONS",
    "PLATFORM",
    "AgentDocuments",
    "AssistedSessionDocuments",
    "AssortmentDocuments",
    "AuditDocuments",
    "BusinessUnitDocuments",
    "CategoryDocuments",
    "CompanyDocuments",
    "IdempotencyDocuments",
    "IdempotencyRecord",
    "OutboxDocuments",
    "PriceListDocuments",
    "PriceRuleRow",
    "ProductDocuments",
    "ProductRelationDocuments",
    "RelationRuleDocuments",
    "ReservationDocuments",
    "RoleDocuments",
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
        code = check_id(sku, path="sku")
        levels: list[StockLevel] = _all_rows(self, PLATFORM, (Filter("sku", "eq", code),))
        return sorted(levels, key=lambda lv: lv.location)


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


class ReservationDocuments(DocumentRepository[Reservation]):
    """:class:`~b2bcore.catalog.ports.ReservationRepository` on documents (per company)."""

    collection = RESERVATIONS

    def get(self, reservation_id: ReservationId, /, *, company_id: CompanyId) -> Reservation:
        return self._get(reservation_id, company_id)

    def add(self, reservation: Reservation, /) -> None:
        self._add(reservation)

    def update(self, reservation: Reservation, /) -> None:
        self._update(reservation)

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
            try:
                filters.append(Filter("status", "eq", ReservationStatus(status).value))
            except ValueError:
                raise ValidationError(
                    f"{status!r} is not a reservation status", path="status", value=status
                ) from None
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
    PRICE_LISTS,
    PRICE_RULES,
    CATEGORIES,
    PRODUCTS,
    ASSORTMENTS,
    PRODUCT_RELATIONS,
    RELATION_RULES,
    STOCK_LEVELS,
    RESERVATIONS,
    OUTBOX,
    AUDIT,
    IDEMPOTENCY,
)
