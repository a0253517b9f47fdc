"""The storage contract suite: run it against any store to prove it behaves.

Ships inside the package (the eventsourcing way) so that third-party adapters run
exactly the checks b2bcore's own adapters run. In your test module::

    import pytest
    from collections.abc import Iterator
    from b2bcore.testing.contracts import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self) -> Iterator[MyStore]:
            s = MyStore(...)          # a fresh, empty store
            yield s
            s.close()

Needs pytest and hypothesis. The suite checks behaviour only, through the ports:
``get``/``add``/``update`` semantics (NotFoundError, DuplicateError, versions and
ConcurrencyError), unique values per company, tenant scoping, atomic commit across
repositories, rollback (explicit, implicit, on exception), keyset pagination (stable
order, cursors that survive inserts, bad cursors rejected), filters, the outbox
(written with the change, delivered at least once, failures retried then dead), the
audit log, idempotency keys, and threads racing to update one aggregate or to claim
one key (exactly one wins, nothing lost). For price lists: exact round trips of
rules, atomic replacement of a list's rules, lookups of rules by target, and the
compiled index pricing exactly like one built from the lists in memory. For the
catalog: exact round trips of every catalog aggregate, product queries (by category,
parent, after a SKU), relations that hold from a SKU both ways, assortments and
reservations scoped per company, and threads reserving the last units of stock
(exactly one wins, nothing lost when losers retry). For orders: exact round trips of
carts, orders (with their pinned, explained price quotes), shipments, invoices, sales
quotes and shopping lists; tenant scoping; the order history newest first with every
filter and a stable cursor; view-scope audiences (the union of their groups, across
pages of any size); and threads placing with one idempotency key (one order) or
updating one order (exactly one wins). For scheduling: round trips of service
types, resources and bookings, tenant scoping, a booking's claim on its time (taken
across companies, moved by a reschedule, released by a cancel or a rollback, seats
shared up to capacity by one service type only), and threads booking one slot or
overlapping slots (exactly one wins, the others get a ConflictError). For approvals:
exact round trips of policies, flows, budgets and delegations; one policy per
company; one pending flow per subject (also when two submits race); due flows
earliest first; and threads deciding one flow (two approvers: each decision counted
once; several last approvals: the flow completes, and commits its budget, exactly
once). For claims, assets and documents: exact round trips of assets, claims (their
type, lines, evidence, history and resolutions), messages, tallies and documents
(the seller's platform-wide ones too); serial numbers unique per company
(case-insensitively); tenant scoping; claims newest first with every filter and
audience; a claim's messages oldest first; documents by link and kind; and threads
claiming the last delivered units of one order line (never more than delivered).

Every test uses its own fresh company ids (and price list ids), so a store may also
be shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2bcore.accounts.model import (
    Agent,
    AssistedSession,
    BusinessUnit,
    Company,
    CompanyCreated,
    CompanyUser,
    Permission,
    RoleGrant,
    UserInvited,
    UserStatus,
    predefined_roles,
)
from b2bcore.approvals.model import (
    ApprovalFlow,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Budget,
    BudgetPeriod,
    Delegation,
    Escalation,
    FlowStatus,
    Requirement,
    Subject,
    SubjectLine,
    SubjectRef,
    Verdict,
)
from b2bcore.approvals.rules import Directory, advance, decide, evaluate
from b2bcore.assets.model import Asset, Warranty
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.calendar import BusinessCalendar
from b2bcore.catalog.errors import InsufficientStockError
from b2bcore.catalog.inventory import reserve_stock
from b2bcore.catalog.model import (
    Assortment,
    AttributeMatch,
    Category,
    Incoming,
    Lifecycle,
    Product,
    ProductRelation,
    RelationRule,
    RelationType,
    Reservation,
    ReservationStatus,
    Selection,
    StockLevel,
)
from b2bcore.claims.errors import OverClaimError
from b2bcore.claims.model import (
    Attachment,
    Claim,
    ClaimLine,
    ClaimMessage,
    ClaimStatus,
    ClaimTally,
    Party,
    Priority,
    Resolution,
    ResolutionKind,
    ResolutionLine,
    Visibility,
    WarrantyBasis,
    WarrantyDecision,
    standard_claim_types,
)
from b2bcore.claims.rules import check_held, delivered_quantities
from b2bcore.documents.model import (
    AccessScope,
    Document,
    DocumentKind,
    DocumentLink,
    DocumentVersion,
)
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from b2bcore.events import DomainEvent, OutboxStatus
from b2bcore.ids import (
    AgentId,
    AssetId,
    AssistedSessionId,
    BusinessUnitId,
    CartId,
    CategoryId,
    ClaimTypeId,
    CompanyId,
    InvoiceId,
    LocationId,
    OrderId,
    PriceListId,
    ProductId,
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
    new_id,
)
from b2bcore.money import Money, RoundingMode
from b2bcore.orders.model import (
    Cart,
    CartLine,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentTerms,
    PriceOverride,
    Quote,
    QuoteLine,
    QuoteStatus,
    Shipment,
    ShipmentLine,
    ShoppingList,
    ShoppingListLine,
    StatusChange,
    TrackingEvent,
    TrackingStatus,
)
from b2bcore.orders.ports import Audience, AudienceGroup
from b2bcore.paging import Page, iterate
from b2bcore.pricing.errors import NoPriceError
from b2bcore.pricing.model import (
    BaseKind,
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceRule,
    PriceScope,
    PriceTier,
    QuantityRule,
    RoundingStep,
    RuleTarget,
    TargetKind,
    TierBasis,
)
from b2bcore.pricing.resolve import PriceIndex, PriceQuote, resolve_price
from b2bcore.scheduling.model import (
    AppointmentStatus,
    Availability,
    Booking,
    Resource,
    ServiceType,
)
from b2bcore.storage.dispatch import dispatch
from b2bcore.storage.ports import Store

__all__ = ["StoreContract"]

T = TypeVar("T")
AT = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
SLOT = datetime(2026, 3, 30, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def _company(name: str = "ACME") -> Company:
    return Company(id=CompanyId(f"co-{new_id()}"), name=name, country="DE")


def _unit(company: Company, unit_id: str, parent: str | None = None) -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=company.id,
        name=f"Unit {unit_id}",
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


def _user(company: Company, user_id: str, email: str, *units: str) -> CompanyUser:
    return CompanyUser(
        id=UserId(user_id),
        company_id=company.id,
        email=email,
        name=f"User {user_id}",
        business_unit_ids=tuple(BusinessUnitId(u) for u in (units or ("hq",))),
    )


def _all(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    return list(iterate(fetch))


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _price_list(
    list_id: str,
    rules: list[PriceRule],
    *,
    currency: str = "EUR",
    scope: PriceScope | None = None,
    valid_from: datetime = AT - timedelta(days=30),
    valid_until: datetime | None = None,
    priority: int = 0,
    base_list_id: str | None = None,
) -> PriceList:
    return PriceList(
        id=PriceListId(list_id),
        name=f"List {list_id}",
        currency=currency,
        valid_from=valid_from,
        valid_until=valid_until,
        scope=scope or PriceScope(),
        priority=priority,
        base_list_id=None if base_list_id is None else PriceListId(base_list_id),
        rules=rules,
    )


def _rich_rules(tag: str) -> list[PriceRule]:
    """Rules using every feature: each target kind, formulas, tiers, windows."""
    cet = timezone(timedelta(hours=1))
    return [
        PriceRule(id="fixed", target=RuleTarget.sku(f"S-{tag}"), price=_eur("1.10")),
        PriceRule(
            id="formula",
            target=RuleTarget.product(f"P-{tag}"),
            formula=Formula(
                base=BaseKind.COST,
                percent=Decimal("12.500"),
                rounding=RoundingStep(multiple=Decimal("0.05"), mode=RoundingMode.HALF_EVEN),
                surcharge=_eur("0.30"),
                min_margin=Decimal("5.0"),
                max_margin=Decimal("80"),
            ),
            min_quantity=Decimal("2.5"),
        ),
        PriceRule(
            id="tiers",
            target=RuleTarget.category(f"C-{tag}"),
            formula=Formula(percent=Decimal("-3.333")),
            tiers=[
                PriceTier(min_quantity=10, price=_eur("0.0100")),
                PriceTier(
                    min_quantity=Decimal("100.5"),
                    formula=Formula(rounding=RoundingStep(ending=Decimal("0.99"))),
                ),
            ],
            tier_basis=TierBasis.CATEGORY,
            valid_from=datetime(2026, 1, 1, 9, 30, tzinfo=cet),
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        ),
        PriceRule(
            id="derived",
            target=RuleTarget.all(),
            formula=Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId(f"base-{tag}")),
        ),
    ]


def _rule_ids(pairs: list[tuple[PriceListId, PriceRule]]) -> list[tuple[str, str]]:
    return [(list_id, rule.id) for list_id, rule in pairs]


def _same_quote(a: PriceQuote | NoPriceError, b: PriceQuote | NoPriceError) -> bool:
    if isinstance(a, NoPriceError) or isinstance(b, NoPriceError):
        return (
            isinstance(a, NoPriceError)
            and isinstance(b, NoPriceError)
            and a.explanation.text() == b.explanation.text()
        )
    return (a.unit_price, a.line_total, a.price_list_id, a.rule_id, a.tier_min_quantity) == (
        b.unit_price,
        b.line_total,
        b.price_list_id,
        b.rule_id,
        b.tier_min_quantity,
    ) and a.explanation.text() == b.explanation.text()


def _quote(
    index: PriceIndex, context: PriceContext, item: PriceItem, quantity: int, policy: PricePolicy
) -> PriceQuote | NoPriceError:
    try:
        return resolve_price(context, item, quantity, lists=index, policy=policy)
    except NoPriceError as e:
        return e


_ORDER_LIST = PriceList(
    id=PriceListId("contract-orders"),
    name="Orders contract list",
    currency="EUR",
    valid_from=AT - timedelta(days=30),
    rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula(percent=Decimal(-10)))],
)


def _order_line(line_no: int, sku: str, quantity: int, price: str) -> OrderLine:
    item = PriceItem(sku=Sku(sku), category_path=[CategoryId("spares")], list_price=_eur(price))
    context = PriceContext(company_id=CompanyId("acme"), currency="EUR", at=AT)
    quote = resolve_price(context, item, quantity, lists=[_ORDER_LIST])
    quote = attrs.evolve(quote, explanation=quote.explanation.for_buyer())
    zero = _eur("0.00")
    return OrderLine(
        line_no=line_no,
        sku=Sku(sku),
        quantity=Decimal(quantity),
        price=quote,
        unit_price=quote.unit_price,
        gross=quote.line_total,
        discount=zero,
        rounding=zero,
        net=quote.line_total,
        name=f"Part {sku}",
        categories=(CategoryId("spares"),),
    )


def _order(
    company: Company,
    order_id: str,
    *,
    skus: tuple[str, ...] = ("SEAL-7",),
    created_at: datetime = AT,
    status: OrderStatus = OrderStatus.PLACED,
    unit: str | None = "hq",
    requester: str = "u-ben",
    reference: str = "",
    po_number: str = "",
) -> Order:
    lines = tuple(_order_line(i + 1, sku, 2 + i, "18.40") for i, sku in enumerate(skus))
    return Order(
        id=OrderId(order_id),
        company_id=company.id,
        requester_id=UserId(requester),
        placed_by=requester,
        currency="EUR",
        lines=lines,
        total=sum((line.net for line in lines), _eur("0.00")),
        created_at=created_at,
        status=status,
        history=(StatusChange(to_status=status.value, at=created_at, by=requester),),
        business_unit_id=None if unit is None else BusinessUnitId(unit),
        reference=reference,
        po_number=po_number,
    )


class StoreContract:
    """Subclass with a ``store`` fixture yielding a fresh store; pytest does the rest."""

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def seed(store: Store, company: Company | None = None) -> Company:
        """Store a company with a root unit ``hq``; return the company."""
        company = company or _company()
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.business_units.add(_unit(company, "hq"))
            uow.commit()
        return company

    # -- get / add / update ------------------------------------------------------------
    def test_add_then_get_round_trips_the_aggregate(self, store: Store) -> None:
        company = _company("Müller & Söhne — Ersatzteile 株式会社")
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            assert company.version == 1
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.companies.get(company.id)
        assert loaded == company
        assert loaded.version == 1
        assert loaded is not company

    def test_get_of_unknown_id_raises_not_found(self, store: Store) -> None:
        with store.unit_of_work() as uow, pytest.raises(NotFoundError) as info:
            uow.companies.get(CompanyId("no-such-company"))
        assert info.value.key == "no-such-company"

    def test_add_of_existing_id_raises_duplicate(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.companies.add(Company(id=company.id, name="Other"))
        with store.unit_of_work() as uow:
            assert uow.companies.get(company.id).name == company.name

    def test_add_twice_in_one_unit_raises_duplicate(self, store: Store) -> None:
        company = _company()
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            with pytest.raises(DuplicateError):
                uow.companies.add(Company(id=company.id, name="Twin"))

    def test_update_increments_version_and_persists(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            loaded = uow.companies.get(company.id)
            loaded.rename("ACME Industrial")
            uow.companies.update(loaded)
            assert loaded.version == 2
            uow.commit()
        with store.unit_of_work() as uow:
            again = uow.companies.get(company.id)
        assert (again.name, again.version) == ("ACME Industrial", 2)

    @staticmethod
    def stale_copy(store: Store, company: Company, *, new_name: str) -> Company:
        """Read ``company``, then let another unit rename it: return the stale read."""
        with store.unit_of_work() as uow:
            stale = uow.companies.get(company.id)
        with store.unit_of_work() as uow:
            fresh = uow.companies.get(company.id)
            fresh.rename(new_name)
            uow.companies.update(fresh)
            uow.commit()
        return stale

    def test_update_with_stale_version_raises_concurrency(self, store: Store) -> None:
        company = self.seed(store)
        first = self.stale_copy(store, company, new_name="Second writer")
        first.rename("First writer")
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError) as info:
            uow.companies.update(first)
            uow.commit()
        assert info.value.expected_version == 1
        with store.unit_of_work() as uow:
            assert uow.companies.get(company.id).name == "Second writer"

    def test_update_of_never_stored_aggregate_is_rejected(self, store: Store) -> None:
        with store.unit_of_work() as uow, pytest.raises(ValidationError):
            uow.companies.update(_company())

    def test_update_of_missing_aggregate_raises_not_found(self, store: Store) -> None:
        ghost = _company()
        ghost.version = 1
        with store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.companies.update(ghost)

    def test_two_updates_in_one_unit_of_work(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            loaded = uow.companies.get(company.id)
            loaded.rename("Once")
            uow.companies.update(loaded)
            loaded.rename("Twice")
            uow.companies.update(loaded)
            assert uow.companies.get(company.id).name == "Twice"
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.companies.get(company.id).version == 3

    # -- uniqueness and tenant scoping -------------------------------------------------
    def test_email_is_unique_within_a_company(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            uow.users.add(_user(company, "u1", "ana@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.users.add(_user(company, "u2", "ana@acme.example"))
        with store.unit_of_work() as uow:
            users = uow.users.list(company_id=company.id)
        assert [u.id for u in users] == ["u1"]

    def test_email_may_repeat_across_companies(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        with store.unit_of_work() as uow:
            uow.users.add(_user(a, "u1", "shared@example.com"))
            uow.users.add(_user(b, "u1", "shared@example.com"))
            uow.commit()
        with store.unit_of_work() as uow:
            found_a = uow.users.find_by_email("SHARED@example.com", company_id=a.id)
            found_b = uow.users.find_by_email("shared@example.com", company_id=b.id)
        assert found_a is not None
        assert found_b is not None
        assert (found_a.company_id, found_b.company_id) == (a.id, b.id)

    def test_changing_email_to_a_taken_one_raises_duplicate(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            uow.users.add(_user(company, "u1", "one@acme.example"))
            uow.users.add(_user(company, "u2", "two@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            u2 = uow.users.get(UserId("u2"), company_id=company.id)
            u2.email = "one@acme.example"
            with pytest.raises(DuplicateError):
                uow.users.update(u2)
                uow.commit()

    def test_a_freed_email_can_be_taken_in_the_same_unit(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            uow.users.add(_user(company, "u1", "desk@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            u1 = uow.users.get(UserId("u1"), company_id=company.id)
            u1.email = "old-desk@acme.example"
            uow.users.update(u1)
            uow.users.add(_user(company, "u2", "desk@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            found = uow.users.find_by_email("desk@acme.example", company_id=company.id)
        assert found is not None
        assert found.id == "u2"

    def test_equal_ids_in_two_companies_never_collide_or_leak(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        with store.unit_of_work() as uow:
            uow.business_units.add(_unit(a, "plant", "hq"))
            uow.users.add(_user(a, "u-a", "only-in-a@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.business_units.get(BusinessUnitId("plant"), company_id=b.id)
            with pytest.raises(NotFoundError):
                uow.users.get(UserId("u-a"), company_id=b.id)
            assert uow.users.find_by_email("only-in-a@acme.example", company_id=b.id) is None
            assert list(uow.users.list(company_id=b.id)) == []
            units_b = uow.business_units.list(company_id=b.id)
            units_a = uow.business_units.list(company_id=a.id)
        assert {u.id for u in units_b} == {"hq"}
        assert {u.id for u in units_a} == {"hq", "plant"}
        assert all(u.company_id == b.id for u in units_b)

    def test_update_cannot_reach_into_another_company(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        with store.unit_of_work() as uow:
            hq_a = uow.business_units.get(BusinessUnitId("hq"), company_id=a.id)
        forged = BusinessUnit(
            id=hq_a.id, company_id=b.id, name="Hijacked", version=hq_a.version + 5
        )
        with store.unit_of_work() as uow, pytest.raises((NotFoundError, ConcurrencyError)):
            uow.business_units.update(forged)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.business_units.get(hq_a.id, company_id=a.id).name == hq_a.name

    # -- transactions ------------------------------------------------------------------
    def test_leaving_without_commit_discards_everything(self, store: Store) -> None:
        company = _company()
        with store.unit_of_work() as uow:
            uow.companies.add(company)
        with store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.companies.get(company.id)

    def test_exception_rolls_back_and_propagates(self, store: Store) -> None:
        company = _company()

        class BoomError(Exception):
            pass

        with pytest.raises(BoomError), store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.business_units.add(_unit(company, "hq"))
            raise BoomError
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.companies.get(company.id)
            assert len(uow.business_units.list(company_id=company.id)) == 0

    def test_explicit_rollback_discards_and_the_unit_stays_usable(self, store: Store) -> None:
        first, second = _company(), _company()
        with store.unit_of_work() as uow:
            uow.companies.add(first)
            uow.rollback()
            uow.companies.add(second)
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.companies.get(first.id)
            assert uow.companies.get(second.id).id == second.id

    def test_reads_see_own_uncommitted_writes(self, store: Store) -> None:
        company = _company()
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.business_units.add(_unit(company, "hq"))
            assert uow.companies.get(company.id).name == company.name
            assert [u.id for u in uow.business_units.list(company_id=company.id)] == ["hq"]
            uow.commit()

    def test_commit_is_atomic_across_repositories(self, store: Store) -> None:
        company = self.seed(store)
        stale = self.stale_copy(store, company, new_name="Moved on")
        newcomer = _company()
        stale.rename("Stale write")
        with pytest.raises(ConcurrencyError), store.unit_of_work() as uow:
            uow.companies.add(newcomer)
            uow.users.add(_user(company, "u-new", "new@acme.example"))
            uow.audit.append(self._entry(company, "company.rename"))
            uow.companies.update(stale)
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.companies.get(newcomer.id)
            assert len(uow.users.list(company_id=company.id)) == 0
            assert len(uow.audit.list(company_id=company.id)) == 0
            assert uow.companies.get(company.id).name == "Moved on"

    def test_unit_of_work_used_outside_with_block_is_refused(self, store: Store) -> None:
        uow = store.unit_of_work()
        with pytest.raises(StorageError):
            uow.commit()

    # -- pagination and filters --------------------------------------------------------
    def test_pagination_returns_everything_once_in_stable_order(self, store: Store) -> None:
        company = self.seed(store)
        ids = [f"u{n:03d}" for n in (7, 3, 11, 1, 5, 9, 2, 8, 4, 10, 6, 12, 0)]
        with store.unit_of_work() as uow:
            for uid in ids:
                uow.users.add(_user(company, uid, f"{uid}@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            pages = []
            cursor: str | None = None
            while True:
                page = uow.users.list(company_id=company.id, limit=5, cursor=cursor)
                pages.append([u.id for u in page])
                if not page.has_more:
                    break
                cursor = page.next_cursor
        assert [len(p) for p in pages] == [5, 5, 3]
        assert [uid for p in pages for uid in p] == sorted(ids)

    def test_cursor_survives_inserts_before_and_after_it(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            for uid in ("b", "d", "f", "h"):
                uow.users.add(_user(company, uid, f"{uid}@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            first = uow.users.list(company_id=company.id, limit=2)
        assert [u.id for u in first] == ["b", "d"]
        with store.unit_of_work() as uow:
            uow.users.add(_user(company, "a", "a@acme.example"))
            uow.users.add(_user(company, "e", "e@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            rest = uow.users.list(company_id=company.id, limit=10, cursor=first.next_cursor)
        assert [u.id for u in rest] == ["e", "f", "h"]

    def test_bad_cursors_and_limits_are_rejected(self, store: Store) -> None:
        company = self.seed(store)
        other = self.seed(store)
        with store.unit_of_work() as uow:
            for uid in ("a", "b", "c"):
                uow.users.add(_user(company, uid, f"{uid}@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            page = uow.users.list(company_id=company.id, limit=1)
            assert page.next_cursor is not None
            with pytest.raises(ValidationError):
                uow.users.list(company_id=company.id, cursor="not-a-cursor!")
            with pytest.raises(ValidationError):
                uow.users.list(company_id=other.id, cursor=page.next_cursor)
            with pytest.raises(ValidationError):
                uow.business_units.list(company_id=company.id, cursor=page.next_cursor)
            for bad in (0, -1, 1001):
                with pytest.raises(ValidationError):
                    uow.users.list(company_id=company.id, limit=bad)

    def test_filters_select_the_right_rows(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            uow.business_units.add(_unit(company, "plant", "hq"))
            uow.business_units.add(_unit(company, "line-1", "plant"))
            uow.business_units.add(_unit(company, "line-2", "plant"))
            uow.users.add(_user(company, "u1", "u1@acme.example", "plant"))
            uow.users.add(_user(company, "u2", "u2@acme.example", "line-1", "plant"))
            active = _user(company, "u3", "u3@acme.example", "line-1")
            active.status = UserStatus.ACTIVE
            uow.users.add(active)
            uow.commit()
        with store.unit_of_work() as uow:
            children = uow.business_units.list(
                company_id=company.id, parent_id=BusinessUnitId("plant")
            )
            in_line_1 = uow.users.list(
                company_id=company.id, business_unit_id=BusinessUnitId("line-1")
            )
            in_line = uow.users.list(company_id=company.id, business_unit_id=BusinessUnitId("line"))
            actives = uow.users.list(company_id=company.id, status=UserStatus.ACTIVE)
        assert [u.id for u in children] == ["line-1", "line-2"]
        assert [u.id for u in in_line_1] == ["u2", "u3"]
        assert list(in_line) == []
        assert [u.id for u in actives] == ["u3"]

    @settings(
        max_examples=15,
        deadline=None,
        # Each example works in its own new company, so sharing the store is safe; and
        # this base-class method is run by one subclass per adapter on purpose.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        ids=st.sets(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), max_size=25),
        limit=st.integers(min_value=1, max_value=7),
    )
    def test_any_page_size_yields_every_item_once_in_order(
        self, store: Store, ids: set[str], limit: int
    ) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            for uid in ids:
                uow.users.add(_user(company, uid, f"{uid}@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            seen = _all(
                lambda cursor: uow.users.list(company_id=company.id, limit=limit, cursor=cursor)
            )
        assert [u.id for u in seen] == sorted(ids)

    # -- roles, grants, agents, assisted sessions --------------------------------------
    def test_roles_round_trip_and_are_scoped_per_company(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        roles_a = predefined_roles(a.id)
        custom = roles_a[0].copy(role_id="buyer-5k", name="Buyer up to 5k")
        custom.with_permission(Permission.ORDERS_BUY, limit=Money("5000.00", "EUR"))
        with store.unit_of_work() as uow:
            for role in [*roles_a, custom]:
                uow.roles.add(role)
            uow.roles.add(predefined_roles(b.id)[0])
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.roles.get(RoleId("buyer-5k"), company_id=a.id)
            with pytest.raises(NotFoundError):
                uow.roles.get(RoleId("buyer-5k"), company_id=b.id)
            ids_a = [r.id for r in uow.roles.list(company_id=a.id)]
            ids_b = [r.id for r in uow.roles.list(company_id=b.id)]
            with pytest.raises(DuplicateError):
                uow.roles.add(predefined_roles(a.id)[0])
        assert loaded == custom
        entry = loaded.entry(Permission.ORDERS_BUY)
        assert entry is not None
        assert entry.limit == Money("5000.00", "EUR")
        assert ids_a == sorted(["buyer", "approver", "company_admin", "viewer", "buyer-5k"])
        assert ids_b == ["buyer"]

    def test_users_with_grants_round_trip_and_filter_by_role(self, store: Store) -> None:
        company = self.seed(store)
        grant = RoleGrant(
            role_id=RoleId("approver"),
            valid_from=AT,
            valid_until=AT + timedelta(days=30),
            business_unit_id=BusinessUnitId("hq"),
            granted_by="u-admin",
        )
        approver = _user(company, "u-appr", "appr@acme.example")
        approver.grants = (grant,)
        buyer = _user(company, "u-buy", "buy@acme.example")
        buyer.grants = (RoleGrant(role_id=RoleId("buyer"), valid_from=AT),)
        with store.unit_of_work() as uow:
            uow.users.add(approver)
            uow.users.add(buyer)
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.users.get(UserId("u-appr"), company_id=company.id)
            approvers = uow.users.list(company_id=company.id, role_id=RoleId("approver"))
            nobody = uow.users.list(company_id=company.id, role_id=RoleId("appr"))
        assert loaded.grants == (grant,)
        assert [u.id for u in approvers] == ["u-appr"]
        assert list(nobody) == []

    def test_agents_are_platform_wide(self, store: Store) -> None:
        agent_id = AgentId(f"agent-{new_id()}")
        with store.unit_of_work() as uow:
            uow.agents.add(Agent(id=agent_id, name="Sam", email="sam@seller.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            agent = uow.agents.get(agent_id)
            agent.active = False
            uow.agents.update(agent)
            with pytest.raises(DuplicateError):
                uow.agents.add(Agent(id=agent_id, name="Twin", email="twin@seller.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.agents.get(agent_id).active is False
            assert agent_id in {a.id for a in _all(lambda c: uow.agents.list(cursor=c))}

    def test_assisted_sessions_round_trip_filter_and_scope(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        session = AssistedSession(
            id=AssistedSessionId(f"as-{new_id()}"),
            company_id=a.id,
            agent_id=AgentId("agent-7"),
            customer_user_id=UserId("u-1"),
            reason="phone order",
            permissions=frozenset({Permission.ORDERS_BUY, Permission.ORDERS_VIEW}),
            started_at=AT,
            expires_at=AT + timedelta(hours=1),
        )
        with store.unit_of_work() as uow:
            uow.assisted_sessions.add(session)
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.assisted_sessions.get(session.id, company_id=a.id)
            loaded.end(at=AT + timedelta(minutes=5), by="agent-7")
            uow.assisted_sessions.update(loaded)
            uow.commit()
        with store.unit_of_work() as uow:
            again = uow.assisted_sessions.get(session.id, company_id=a.id)
            with pytest.raises(NotFoundError):
                uow.assisted_sessions.get(session.id, company_id=b.id)
            by_agent = uow.assisted_sessions.list(company_id=a.id, agent_id=AgentId("agent-7"))
            by_other = uow.assisted_sessions.list(company_id=a.id, agent_id=AgentId("agent-8"))
            by_customer = uow.assisted_sessions.list(
                company_id=a.id, customer_user_id=UserId("u-1")
            )
            in_b = uow.assisted_sessions.list(company_id=b.id)
        assert again.permissions == session.permissions
        assert again.state_at(AT + timedelta(minutes=6)) == "ended"
        assert [s.id for s in by_agent] == [session.id] == [s.id for s in by_customer]
        assert list(by_other) == list(in_b) == []

    # -- price lists -------------------------------------------------------------------
    def test_price_list_round_trips_exactly(self, store: Store) -> None:
        tag = new_id()
        price_list = _price_list(
            f"pl-{tag}",
            _rich_rules(tag),
            scope=PriceScope(
                companies={"co-1", "co-2"},
                business_units={"bu-1"},
                customer_groups={"gold", "silver"},
                channels={"web"},
                countries={"DE", "AT"},
            ),
            valid_from=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
            valid_until=datetime(2026, 12, 31, tzinfo=UTC),
            priority=-7,
            base_list_id=f"base-{tag}",
        )
        empty = _price_list(f"pl-empty-{tag}", [])
        with store.unit_of_work() as uow:
            uow.price_lists.add(price_list)
            uow.price_lists.add(empty)
            assert price_list.version == 1
            assert uow.price_lists.get(price_list.id) == price_list
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.price_lists.get(price_list.id)
            loaded_empty = uow.price_lists.get(empty.id)
            with pytest.raises(NotFoundError):
                uow.price_lists.get(PriceListId(f"pl-missing-{tag}"))
            with pytest.raises(DuplicateError):
                uow.price_lists.add(_price_list(f"pl-{tag}", []))
        assert loaded == price_list
        assert loaded is not price_list
        assert loaded.version == 1
        assert loaded_empty == empty
        assert loaded_empty.rules == ()
        assert [r.id for r in loaded.rules] == ["fixed", "formula", "tiers", "derived"]
        # Decimals keep their exact digits, not just their value.
        fixed, formula, tiers, _ = loaded.rules
        assert fixed.price is not None
        assert str(fixed.price.amount) == "1.10"
        assert formula.formula is not None
        assert str(formula.formula.percent) == "12.500"
        assert str(formula.min_quantity) == "2.5"
        assert str(tiers.tiers[0].min_quantity) == "10"
        assert tiers.tiers[0].price is not None
        assert str(tiers.tiers[0].price.amount) == "0.0100"
        assert str(tiers.tiers[1].min_quantity) == "100.5"
        assert loaded.scope.countries == frozenset({"DE", "AT"})
        assert loaded.valid_from == datetime(2026, 1, 1, 5, tzinfo=UTC)

    def test_price_list_update_replaces_the_rules(self, store: Store) -> None:
        tag = new_id()
        first = PriceRule(id="r1", target=RuleTarget.sku(f"A-{tag}"), price=_eur("1.00"))
        second = PriceRule(id="r2", target=RuleTarget.sku(f"B-{tag}"), price=_eur("2.00"))
        third = PriceRule(id="r3", target=RuleTarget.category(f"C-{tag}"), price=_eur("3.00"))
        with store.unit_of_work() as uow:
            uow.price_lists.add(_price_list(f"pl-{tag}", [first, second, third]))
            uow.commit()
        changed = PriceRule(id="r2", target=RuleTarget.sku(f"B2-{tag}"), price=_eur("2.50"))
        fourth = PriceRule(id="r4", target=RuleTarget.sku(f"D-{tag}"), price=_eur("4.00"))
        with store.unit_of_work() as uow:
            price_list = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            price_list.rules = (fourth, third, changed)
            price_list.name = "Renamed"
            uow.price_lists.update(price_list)
            assert price_list.version == 2
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            gone = uow.price_lists.rules_for(
                [(TargetKind.SKU, f"A-{tag}"), (TargetKind.SKU, f"B-{tag}")]
            )
            moved = uow.price_lists.rules_for([(TargetKind.SKU, f"B2-{tag}")])
        assert (loaded.name, loaded.version) == ("Renamed", 2)
        assert loaded.rules == (fourth, third, changed)
        assert gone == []
        assert moved == [(f"pl-{tag}", changed)]

    def test_price_list_rollback_keeps_the_old_rules(self, store: Store) -> None:
        tag = new_id()
        old = [
            PriceRule(id=f"r{i}", target=RuleTarget.sku(f"S{i}-{tag}"), price=_eur("1.00"))
            for i in range(5)
        ]
        with store.unit_of_work() as uow:
            uow.price_lists.add(_price_list(f"pl-{tag}", old))
            uow.commit()

        class BoomError(Exception):
            pass

        new = [PriceRule(id="other", target=RuleTarget.sku(f"S1-{tag}"), price=_eur("9.00"))]
        with pytest.raises(BoomError), store.unit_of_work() as uow:
            price_list = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            price_list.rules = tuple(new)
            uow.price_lists.update(price_list)
            assert uow.price_lists.get(price_list.id).rules == tuple(new)
            raise BoomError
        with store.unit_of_work() as uow:
            price_list = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            price_list.rules = tuple(new)
            uow.price_lists.update(price_list)
            uow.rollback()
            after_rollback = uow.price_lists.get(price_list.id)
            found = uow.price_lists.rules_for([(TargetKind.SKU, f"S1-{tag}")])
        assert after_rollback.rules == tuple(old)
        assert after_rollback.version == 1
        assert _rule_ids(found) == [(f"pl-{tag}", "r1")]

    def test_price_list_stale_update_raises_concurrency(self, store: Store) -> None:
        tag = new_id()
        rule = PriceRule(id="r", target=RuleTarget.sku(f"S-{tag}"), price=_eur("1.00"))
        with store.unit_of_work() as uow:
            uow.price_lists.add(_price_list(f"pl-{tag}", [rule]))
            uow.commit()
        with store.unit_of_work() as uow:
            stale = uow.price_lists.get(PriceListId(f"pl-{tag}"))
        winner = PriceRule(id="w", target=RuleTarget.sku(f"W-{tag}"), price=_eur("2.00"))
        with store.unit_of_work() as uow:
            fresh = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            fresh.rules = (winner,)
            uow.price_lists.update(fresh)
            uow.commit()
        stale.rules = (PriceRule(id="l", target=RuleTarget.sku(f"L-{tag}"), price=_eur("3.00")),)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError) as info:
            uow.price_lists.update(stale)
            uow.commit()
        assert info.value.expected_version == 1
        with store.unit_of_work() as uow:
            stored = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            loser = uow.price_lists.rules_for([(TargetKind.SKU, f"L-{tag}")])
            with pytest.raises(ValidationError):
                uow.price_lists.update(_price_list(f"pl-new-{tag}", []))
            ghost = _price_list(f"pl-ghost-{tag}", [])
            ghost.version = 1
            with pytest.raises(NotFoundError):
                uow.price_lists.update(ghost)
        assert (stored.rules, stored.version) == ((winner,), 2)
        assert loser == []

    def test_price_list_changed_repeatedly_in_one_unit(self, store: Store) -> None:
        tag = new_id()

        def rule(rule_id: str, amount: str) -> PriceRule:
            return PriceRule(
                id=rule_id, target=RuleTarget.sku(f"{rule_id}-{tag}"), price=_eur(amount)
            )

        with store.unit_of_work() as uow:
            price_list = _price_list(f"pl-{tag}", [rule("a", "1"), rule("b", "2")])
            uow.price_lists.add(price_list)
            price_list.rules = (rule("b", "2.5"), rule("c", "3"))  # a removed before commit
            uow.price_lists.update(price_list)
            uow.commit()
        with store.unit_of_work() as uow:
            price_list = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            price_list.rules = (rule("c", "3"),)  # b removed ...
            uow.price_lists.update(price_list)
            price_list.rules = (rule("b", "4"), rule("c", "3"), rule("a", "5"))  # ... and back
            uow.price_lists.update(price_list)
            assert uow.price_lists.get(price_list.id).rules == price_list.rules
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.price_lists.get(PriceListId(f"pl-{tag}"))
            found = uow.price_lists.rules_for(
                [(TargetKind.SKU, f"{r}-{tag}") for r in ("a", "b", "c")]
            )
        assert loaded.version == 4  # add + update, then two updates
        assert loaded.rules == (rule("b", "4"), rule("c", "3"), rule("a", "5"))
        assert [(r.id, str(r.price.amount if r.price else "")) for _, r in found] == [
            ("b", "4"),
            ("c", "3"),
            ("a", "5"),
        ]

    def test_rules_for_finds_only_the_given_targets(self, store: Store) -> None:
        tag = new_id()
        a_id, b_id = f"pl-a-{tag}", f"pl-b-{tag}"
        list_a = _price_list(
            a_id,
            [
                PriceRule(id="other-sku", target=RuleTarget.sku(f"X-{tag}"), price=_eur("1")),
                PriceRule(id="sku", target=RuleTarget.sku(f"S-{tag}"), price=_eur("2")),
                PriceRule(id="cat", target=RuleTarget.category(f"C-{tag}"), price=_eur("3")),
                PriceRule(id="all", target=RuleTarget.all(), price=_eur("4")),
                PriceRule(id="prod", target=RuleTarget.product(f"S-{tag}"), price=_eur("5")),
            ],
        )
        list_b = _price_list(
            b_id,
            [
                PriceRule(id="cat", target=RuleTarget.category(f"C-{tag}"), price=_eur("6")),
                PriceRule(id="sku", target=RuleTarget.sku(f"S-{tag}"), price=_eur("7")),
                PriceRule(id="sub", target=RuleTarget.category(f"C-{tag}-sub"), price=_eur("8")),
            ],
        )
        with store.unit_of_work() as uow:
            uow.price_lists.add(list_b)
            uow.price_lists.add(list_a)
            uow.commit()
        mine = [PriceListId(a_id), PriceListId(b_id)]
        with store.unit_of_work() as uow:
            sku = uow.price_lists.rules_for([(TargetKind.SKU, f"S-{tag}")])
            several = uow.price_lists.rules_for(
                [
                    (TargetKind.CATEGORY, f"C-{tag}"),
                    (TargetKind.SKU, f"S-{tag}"),
                    (TargetKind.ALL, None),
                    (TargetKind.SKU, f"S-{tag}"),
                ],
                list_ids=mine,
            )
            only_b = uow.price_lists.rules_for(
                [(TargetKind.SKU, f"S-{tag}"), (TargetKind.CATEGORY, f"C-{tag}")],
                list_ids=[PriceListId(b_id)],
            )
            by_value = uow.price_lists.rules_for([("product", f"S-{tag}")])  # type: ignore[list-item]
            nothing = uow.price_lists.rules_for([(TargetKind.SKU, f"nope-{tag}")])
            no_lists = uow.price_lists.rules_for([(TargetKind.SKU, f"S-{tag}")], list_ids=[])
            for bad in (
                [(TargetKind.ALL, "x")],
                [(TargetKind.SKU, None)],
                [("colour", "red")],
                ["sku"],
                "sku",
            ):
                with pytest.raises(ValidationError):
                    uow.price_lists.rules_for(bad)  # type: ignore[arg-type]
        assert _rule_ids(sku) == [(a_id, "sku"), (b_id, "sku")]
        assert sku[0][1] == list_a.rules[1]
        assert _rule_ids(several) == [
            (a_id, "sku"),
            (a_id, "cat"),
            (a_id, "all"),
            (b_id, "cat"),
            (b_id, "sku"),
        ]
        assert _rule_ids(only_b) == [(b_id, "cat"), (b_id, "sku")]
        assert _rule_ids(by_value) == [(a_id, "prod")]
        assert nothing == no_lists == []

    def test_price_lists_page_by_id_and_filter_by_currency(self, store: Store) -> None:
        tag = new_id()
        ids = [f"pl-{tag}-{n}" for n in (4, 1, 6, 0, 3, 5, 2)]
        currency = {i: ("CHF" if n % 2 else "EUR") for n, i in enumerate(ids)}
        with store.unit_of_work() as uow:
            for list_id in ids:
                rules = [
                    PriceRule(
                        id="r", target=RuleTarget.all(), price=Money("1.00", currency[list_id])
                    )
                ]
                uow.price_lists.add(_price_list(list_id, rules, currency=currency[list_id]))
            uow.commit()
        with store.unit_of_work() as uow:
            pages = []
            cursor: str | None = None
            while True:
                page = uow.price_lists.list(limit=3, cursor=cursor)
                pages.append(list(page))
                if not page.has_more:
                    break
                cursor = page.next_cursor
            swiss = _all(lambda c: uow.price_lists.list(currency="CHF", limit=2, cursor=c))
            with pytest.raises(ValidationError):
                uow.price_lists.list(currency="Swiss francs")
            with pytest.raises(ValidationError):
                uow.price_lists.list(limit=0)
        every = [pl for page in pages for pl in page]
        assert all(len(page) <= 3 for page in pages)
        assert [pl.id for pl in every] == sorted({pl.id for pl in every})
        assert [pl.id for pl in every if pl.id.startswith(f"pl-{tag}-")] == sorted(ids)
        assert all(len(pl.rules) == 1 for pl in every if pl.id.startswith(f"pl-{tag}-"))
        assert all(pl.currency == "CHF" for pl in swiss)
        assert [pl.id for pl in swiss if pl.id.startswith(f"pl-{tag}-")] == sorted(
            i for i in ids if currency[i] == "CHF"
        )

    def test_load_index_prices_like_the_lists_in_memory(self, store: Store) -> None:
        tag = new_id()
        company, other = CompanyId(f"co-{tag}"), CompanyId(f"co-other-{tag}")
        base = _price_list(
            f"base-{tag}",
            [
                PriceRule(id="list", target=RuleTarget.all(), formula=Formula()),
                PriceRule(id="pump", target=RuleTarget.sku(f"PUMP-{tag}"), price=_eur("150.00")),
            ],
        )
        contract = _price_list(
            f"contract-{tag}",
            [
                PriceRule(
                    id="pumps",
                    target=RuleTarget.category(f"pumps-{tag}"),
                    formula=Formula(
                        base=BaseKind.PRICE_LIST,
                        base_list_id=PriceListId(f"base-{tag}"),
                        percent=Decimal("-10"),
                        rounding=RoundingStep(ending=Decimal("0.99")),
                    ),
                    tiers=[PriceTier(min_quantity=10, price=_eur("99.00"))],
                ),
                PriceRule(
                    id="seal",
                    target=RuleTarget.sku(f"SEAL-{tag}"),
                    price=_eur("4.20"),
                    min_quantity=5,
                ),
            ],
            scope=PriceScope(companies={company}),
            base_list_id=f"base-{tag}",
        )
        promo = _price_list(
            f"promo-{tag}",
            [PriceRule(id="all", target=RuleTarget.all(), formula=Formula(percent=-20))],
            valid_until=AT - timedelta(days=1),
            priority=5,
        )
        dollars = _price_list(
            f"usd-{tag}",
            [PriceRule(id="all", target=RuleTarget.all(), price=Money("80.00", "USD"))],
            currency="USD",
        )
        # A list outside load_index's filter is still loaded when a kept list derives
        # from it, so that derived prices are explained as with every list loaded.
        retired = _price_list(
            f"retired-{tag}",
            [PriceRule(id="all", target=RuleTarget.all(), formula=Formula(percent=10))],
            valid_until=AT - timedelta(days=2),
        )
        derived = _price_list(
            f"derived-{tag}",
            [
                PriceRule(
                    id="seals",
                    target=RuleTarget.category(f"seals-{tag}"),
                    formula=Formula(base=BaseKind.PRICE_LIST, base_list_id=retired.id),
                )
            ],
            scope=PriceScope(companies={company}),
        )
        lists = [base, contract, promo, dollars, retired, derived]
        with store.unit_of_work() as uow:
            for pl in reversed(lists):
                uow.price_lists.add(pl)
            uow.commit()
        with store.unit_of_work() as uow:
            stored = _all(lambda c: uow.price_lists.list(limit=100, cursor=c))
            loaded = uow.price_lists.load_index()
            eur_now = uow.price_lists.load_index(currency="EUR", at=AT)
            with pytest.raises(ValidationError):
                uow.price_lists.load_index(at=datetime(2026, 1, 1))  # noqa: DTZ001 - on purpose
            with pytest.raises(ValidationError):
                uow.price_lists.load_index(currency="eur")
        assert [pl for pl in stored if pl.id.endswith(tag)] == sorted(lists, key=lambda p: p.id)
        in_memory = PriceIndex(stored)
        assert set(loaded.lists) == set(in_memory.lists)
        mine = {pl.id for pl in lists}
        assert {k for k in eur_now.lists if k in mine} == {
            base.id,
            contract.id,
            derived.id,
            retired.id,
        }
        items = [
            PriceItem(
                sku=Sku(f"PUMP-{tag}"),
                product_id=ProductId(f"P-{tag}"),
                category_path=[f"fluids-{tag}", f"pumps-{tag}"],
                list_price=_eur("200.00"),
                cost=_eur("120.00"),
            ),
            PriceItem(
                sku=Sku(f"SEAL-{tag}"), category_path=[f"seals-{tag}"], list_price=_eur("5.00")
            ),
            PriceItem(sku=Sku(f"BARE-{tag}")),
        ]
        contexts = [
            PriceContext(company_id=company, currency="EUR", at=AT),
            PriceContext(company_id=other, currency="EUR", at=AT),
            PriceContext(company_id=company, currency="EUR", at=AT - timedelta(days=3)),
            PriceContext(company_id=company, currency="USD", at=AT),
        ]
        compared = 0
        for context in contexts:
            for item in items:
                for quantity in (1, 5, 12):
                    for policy in PricePolicy:
                        want = _quote(in_memory, context, item, quantity, policy)
                        got = _quote(loaded, context, item, quantity, policy)
                        assert _same_quote(got, want), (context, item.sku, quantity, policy)
                        if context.currency == "EUR" and context.at == AT:
                            now = _quote(eur_now, context, item, quantity, policy)
                            assert isinstance(now, NoPriceError) == isinstance(want, NoPriceError)
                            if isinstance(now, PriceQuote) and isinstance(want, PriceQuote):
                                assert (now.unit_price, now.rule_id) == (
                                    want.unit_price,
                                    want.rule_id,
                                )
                        compared += 1
        assert compared == 72
        won = _quote(loaded, contexts[0], items[0], 1, PricePolicy.MOST_SPECIFIC)
        assert isinstance(won, PriceQuote)
        assert (won.price_list_id, won.rule_id, won.unit_price) == (
            contract.id,
            "pumps",
            _eur("134.99"),
        )

    def test_threads_updating_one_price_list_exactly_one_wins(self, store: Store) -> None:
        tag = new_id()
        list_id = PriceListId(f"pl-{tag}")
        start = [
            PriceRule(id=f"r{i}", target=RuleTarget.sku(f"S{i}-{tag}"), price=_eur("1"))
            for i in range(6)
        ]
        with store.unit_of_work() as uow:
            uow.price_lists.add(_price_list(list_id, start))
            uow.commit()
        with store.unit_of_work() as uow:
            read = uow.price_lists.get(list_id)

        def rules_of(i: int) -> tuple[PriceRule, ...]:
            return tuple(
                PriceRule(id=f"w{i}-{n}", target=RuleTarget.sku(f"S{n}-{tag}"), price=_eur(f"{i}"))
                for n in range(i % 3, 6)
            )

        def work(i: int) -> None:
            mine = attrs.evolve(read, rules=rules_of(i))
            with store.unit_of_work() as uow:
                uow.price_lists.update(mine)
                uow.commit()

        outcomes = self._race(6, work)
        winners = [i for i, o in enumerate(outcomes) if o is None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            final = uow.price_lists.get(list_id)
            found = uow.price_lists.rules_for([(TargetKind.SKU, f"S{n}-{tag}") for n in range(6)])
        assert (final.rules, final.version) == (rules_of(winners[0]), 2)
        assert [r for _, r in found] == list(rules_of(winners[0]))

    # -- catalog -----------------------------------------------------------------------
    @staticmethod
    def _catalog_objects(tag: str, company: Company) -> dict[str, Any]:
        """One of each catalog aggregate, using every field, with ``tag``-ed ids."""
        cet = timezone(timedelta(hours=1))
        return {
            "root": Category(id=CategoryId(f"C-{tag}"), name="Ersatzteile — Dichtungen"),
            "child": Category(
                id=CategoryId(f"C-{tag}-seals"), name="Seals", parent_id=CategoryId(f"C-{tag}")
            ),
            "product": Product(
                sku=Sku(f"S-{tag}-V"),
                name="Shaft seal, Viton",
                category_id=CategoryId(f"C-{tag}-seals"),
                attributes={
                    "diameter_mm": Decimal("42.50"),
                    "pieces": 2,
                    "food_safe": True,
                    "fits_model": "PX-200",
                },
                parent_sku=Sku(f"S-{tag}"),
                lifecycle=Lifecycle.DISCONTINUED,
                successor_sku=Sku(f"S-{tag}-W"),
                list_price=_eur("18.40"),
                cost=_eur("7.1234"),
                quantity_rule=QuantityRule(
                    sku=Sku(f"S-{tag}-V"), minimum=Decimal("2"), maximum=Decimal(20), increment=2
                ),
            ),
            "relation": ProductRelation(
                source_sku=Sku(f"S-{tag}"),
                target_sku=Sku(f"S-{tag}-V"),
                type=RelationType.ALTERNATIVE,
                rank=7,
                bidirectional=True,
                note="same seal, other material",
            ),
            "rule": RelationRule(
                id=RelationRuleId(f"R-{tag}"),
                type=RelationType.SPARE_PART,
                target_category=CategoryId(f"C-{tag}-seals"),
                source_category=CategoryId(f"C-{tag}"),
                match=(AttributeMatch(source="model", target="fits_model"),),
                rank=3,
                description="seals that fit the machine",
            ),
            "stock": StockLevel(
                sku=Sku(f"S-{tag}"),
                location=LocationId("leipzig"),
                on_hand=Decimal("12.5"),
                reserved=Decimal(2),
                incoming=(
                    Incoming(Decimal(40), datetime(2026, 4, 1, 8, tzinfo=cet)),
                    Incoming(Decimal("0.25"), AT),
                ),
            ),
            "assortment": Assortment(
                company_id=company.id,
                business_unit_id=BusinessUnitId("hq"),
                include=Selection(categories={f"C-{tag}"}, products={f"S-{tag}"}),
                exclude=Selection(skus={f"S-{tag}-V"}),
            ),
            "reservation": Reservation(
                id=ReservationId(f"res-{tag}"),
                company_id=company.id,
                sku=Sku(f"S-{tag}"),
                location=LocationId("leipzig"),
                quantity=Decimal("1.5"),
                reference=f"order-{tag}",
                created_at=AT,
            ),
        }

    def test_catalog_aggregates_round_trip_exactly(self, store: Store) -> None:
        company = self.seed(store)
        tag = new_id()
        made = self._catalog_objects(tag, company)
        with store.unit_of_work() as uow:
            uow.categories.add(made["root"])
            uow.categories.add(made["child"])
            uow.products.add(made["product"])
            uow.product_relations.add(made["relation"])
            uow.relation_rules.add(made["rule"])
            uow.stock_levels.add(made["stock"])
            uow.assortments.add(made["assortment"])
            uow.reservations.add(made["reservation"])
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = {
                "root": uow.categories.get(made["root"].id),
                "child": uow.categories.get(made["child"].id),
                "product": uow.products.get(made["product"].sku),
                "relation": uow.product_relations.get(
                    Sku(f"S-{tag}"), RelationType.ALTERNATIVE, Sku(f"S-{tag}-V")
                ),
                "rule": uow.relation_rules.get(made["rule"].id),
                "stock": uow.stock_levels.get(Sku(f"S-{tag}"), LocationId("leipzig")),
                "assortment": uow.assortments.get(
                    company_id=company.id, business_unit_id=BusinessUnitId("hq")
                ),
                "reservation": uow.reservations.get(made["reservation"].id, company_id=company.id),
            }
        for name, obj in made.items():
            assert loaded[name] == obj, name
            assert loaded[name].version == 1, name
        product = loaded["product"]
        assert isinstance(product, Product)
        attributes = product.attributes
        assert [type(attributes[k]) for k in ("diameter_mm", "pieces", "food_safe")] == [
            Decimal,
            int,
            bool,
        ]

    def test_catalog_get_add_update_semantics(self, store: Store) -> None:
        tag = new_id()
        product = Product(sku=Sku(f"S-{tag}"), name="Seal")
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.products.get(product.sku)
            with pytest.raises(NotFoundError):
                uow.stock_levels.get(product.sku, LocationId("leipzig"))
            with pytest.raises(NotFoundError):
                uow.product_relations.get(product.sku, RelationType.ACCESSORY, Sku("X"))
            uow.products.add(product)
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.products.add(Product(sku=product.sku, name="Again"))
            uow.commit()
        with store.unit_of_work() as uow:
            first = uow.products.get(product.sku)
            first.name = "Seal, renamed"
            uow.products.update(first)
            uow.commit()
        assert first.version == 2
        stale = attrs.evolve(first, name="stale", version=1)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            uow.products.update(stale)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.products.get(product.sku).name == "Seal, renamed"

    def test_products_by_category_parent_and_after_a_sku(self, store: Store) -> None:
        tag = new_id()
        pumps, seals = CategoryId(f"pumps-{tag}"), CategoryId(f"seals-{tag}")
        skus = [f"{tag}-{n:02d}" for n in range(7)]
        with store.unit_of_work() as uow:
            for n, sku in enumerate(skus):
                uow.products.add(
                    Product(
                        sku=Sku(sku),
                        name=f"P {n}",
                        category_id=pumps if n % 2 == 0 else seals,
                        parent_sku=None if n < 3 else Sku(skus[1]),
                    )
                )
            uow.commit()
        with store.unit_of_work() as uow:
            in_pumps = _all(lambda c: uow.products.list(category_ids=[pumps], limit=2, cursor=c))
            both = _all(lambda c: uow.products.list(category_ids=[seals, pumps], limit=3, cursor=c))
            variants = uow.products.list(parent_sku=Sku(skus[1]))
            after = uow.products.list(category_ids=[pumps, seals], after_sku=Sku(skus[4]))
            nothing = uow.products.list(category_ids=[])
            with pytest.raises(ValidationError):
                uow.products.list(category_ids="pumps")  # type: ignore[arg-type]
        assert [p.sku for p in in_pumps] == skus[0::2]
        assert [p.sku for p in both] == skus
        assert [p.sku for p in variants] == skus[3:]
        assert [p.sku for p in after] == skus[5:]
        assert list(nothing) == []

    def test_relations_hold_from_a_sku_both_ways_by_rank(self, store: Store) -> None:
        tag = new_id()
        a, b, c, d = (Sku(f"{x}-{tag}") for x in "ABCD")
        with store.unit_of_work() as uow:
            uow.product_relations.add(
                ProductRelation(source_sku=a, target_sku=b, type=RelationType.ACCESSORY, rank=5)
            )
            uow.product_relations.add(
                ProductRelation(source_sku=a, target_sku=c, type=RelationType.SPARE_PART, rank=1)
            )
            uow.product_relations.add(
                ProductRelation(
                    source_sku=d, target_sku=a, type=RelationType.ALTERNATIVE, bidirectional=True
                )
            )
            uow.product_relations.add(
                ProductRelation(source_sku=b, target_sku=a, type=RelationType.ACCESSORY)
            )
            uow.commit()
        with store.unit_of_work() as uow:
            from_a = uow.product_relations.from_sku(a)
            spare = uow.product_relations.from_sku(a, relation_type=RelationType.SPARE_PART)
            from_b = uow.product_relations.from_sku(b)
        assert [(r.source_sku, r.target_sku) for r in from_a] == [(a, c), (a, b), (d, a)]
        assert [r.target_sku for r in spare] == [c]
        assert [(r.source_sku, r.target_sku) for r in from_b] == [(b, a)]
        with store.unit_of_work() as uow:
            relation = uow.product_relations.get(a, RelationType.ACCESSORY, b)
            uow.product_relations.remove(relation)
            uow.commit()
        with store.unit_of_work() as uow:
            assert [r.target_sku for r in uow.product_relations.from_sku(a)] == [c, a]
            with pytest.raises(NotFoundError):
                uow.product_relations.remove(relation)
            moved = uow.product_relations.get(a, RelationType.SPARE_PART, c)
            moved.rank = 9
            uow.product_relations.update(moved)
            uow.commit()
        stale = attrs.evolve(moved, version=1)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            uow.product_relations.remove(stale)
            uow.commit()

    def test_assortments_are_per_company_and_removable(self, store: Store) -> None:
        acme, globex = self.seed(store), self.seed(store, _company("Globex"))
        hq = BusinessUnitId("hq")
        with store.unit_of_work() as uow:
            uow.assortments.add(Assortment(company_id=acme.id, business_unit_id=hq))
            uow.assortments.add(Assortment(company_id=acme.id, include=Selection(skus={"X"})))
            uow.assortments.add(
                Assortment(company_id=globex.id, business_unit_id=hq, exclude=Selection(skus={"Y"}))
            )
            uow.commit()
        with store.unit_of_work() as uow:
            mine = uow.assortments.list(company_id=acme.id)
            theirs = uow.assortments.get(company_id=globex.id, business_unit_id=hq)
            with pytest.raises(NotFoundError):
                uow.assortments.get(company_id=globex.id)
            with pytest.raises(DuplicateError):
                uow.assortments.add(Assortment(company_id=acme.id))
        assert [(a.company_id, a.business_unit_id) for a in mine] == [
            (acme.id, None),
            (acme.id, hq),
        ]
        assert theirs.exclude.skus == {"Y"}
        with store.unit_of_work() as uow:
            uow.assortments.remove(mine.items[1])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [a.key for a in uow.assortments.list(company_id=acme.id)] == ["@company"]
            assert len(uow.assortments.list(company_id=globex.id)) == 1

    def test_stock_levels_of_a_sku_by_location(self, store: Store) -> None:
        tag = new_id()
        sku, other = Sku(f"S-{tag}"), Sku(f"S-{tag}-2")
        with store.unit_of_work() as uow:
            for where in ("leipzig", "berlin", "berlin-2"):
                uow.stock_levels.add(StockLevel(sku=sku, location=LocationId(where), on_hand=1))
            uow.stock_levels.add(StockLevel(sku=other, location=LocationId("aachen")))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [lv.location for lv in uow.stock_levels.for_sku(sku)] == [
                "berlin",
                "berlin-2",
                "leipzig",
            ]
            assert [lv.location for lv in uow.stock_levels.for_sku(other)] == ["aachen"]
            assert uow.stock_levels.for_sku(Sku(f"S-{tag}-none")) == []

    def test_reservations_are_per_company_and_filter(self, store: Store) -> None:
        acme, globex = self.seed(store), self.seed(store, _company("Globex"))
        tag = new_id()

        def reservation(company: Company, n: int, reference: str, sku: str) -> Reservation:
            return Reservation(
                id=ReservationId(f"r{n}"),
                company_id=company.id,
                sku=Sku(f"{sku}-{tag}"),
                location=LocationId("leipzig"),
                quantity=n + 1,
                reference=reference,
                created_at=AT,
            )

        with store.unit_of_work() as uow:
            uow.reservations.add(reservation(acme, 1, "o-1", "A"))
            uow.reservations.add(reservation(acme, 2, "o-1", "B"))
            uow.reservations.add(reservation(acme, 3, "o-2", "A"))
            uow.reservations.add(reservation(globex, 1, "o-1", "A"))
            uow.commit()
        with store.unit_of_work() as uow:
            released = uow.reservations.get(ReservationId("r3"), company_id=acme.id)
            released.status = ReservationStatus.RELEASED
            released.released_at = AT
            uow.reservations.update(released)
            uow.commit()
        with store.unit_of_work() as uow:

            def ids(**kw: Any) -> list[str]:
                return [r.id for r in uow.reservations.list(company_id=acme.id, **kw)]

            assert ids() == ["r1", "r2", "r3"]
            assert ids(reference="o-1") == ["r1", "r2"]
            assert ids(sku=Sku(f"A-{tag}")) == ["r1", "r3"]
            assert ids(status=ReservationStatus.ACTIVE) == ["r1", "r2"]
            assert ids(status=ReservationStatus.RELEASED, reference="o-2") == ["r3"]
            assert uow.reservations.get(ReservationId("r1"), company_id=globex.id).quantity == 2
            assert len(uow.reservations.list(company_id=globex.id)) == 1
            with pytest.raises(NotFoundError):
                uow.reservations.get(ReservationId("r2"), company_id=globex.id)

    def test_threads_reserving_the_last_stock_exactly_one_wins(self, store: Store) -> None:
        company = self.seed(store)
        sku = Sku(f"S-{new_id()}")
        with store.unit_of_work() as uow:
            uow.stock_levels.add(StockLevel(sku=sku, location=LocationId("leipzig"), on_hand=1))
            uow.commit()

        def work(i: int) -> None:
            with store.unit_of_work() as uow:
                reserve_stock(
                    uow, company_id=company.id, sku=sku, quantity=1, reference=f"o-{i}", at=AT
                )
                uow.commit()

        outcomes = self._race(6, work)
        winners = [i for i, o in enumerate(outcomes) if o is None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            (level,) = uow.stock_levels.for_sku(sku)
            held = _all(lambda c: uow.reservations.list(company_id=company.id, sku=sku, cursor=c))
        assert (level.on_hand, level.reserved, level.version) == (Decimal(1), Decimal(1), 2)
        assert [r.reference for r in held] == [f"o-{winners[0]}"]

    def test_threads_retrying_reservations_lose_nothing(self, store: Store) -> None:
        company = self.seed(store)
        sku = Sku(f"S-{new_id()}")
        with store.unit_of_work() as uow:
            uow.stock_levels.add(StockLevel(sku=sku, location=LocationId("a"), on_hand=5))
            uow.stock_levels.add(StockLevel(sku=sku, location=LocationId("b"), on_hand=7))
            uow.commit()

        def work(i: int) -> None:
            for n in range(3):
                while True:
                    try:
                        with store.unit_of_work() as uow:
                            reserve_stock(
                                uow,
                                company_id=company.id,
                                sku=sku,
                                quantity=1,
                                reference=f"o-{i}-{n}",
                                at=AT,
                            )
                            uow.commit()
                        break
                    except ConcurrencyError:
                        continue

        outcomes = self._race(4, work)
        assert outcomes == [None] * 4
        with store.unit_of_work() as uow:
            levels = uow.stock_levels.for_sku(sku)
            held = _all(lambda c: uow.reservations.list(company_id=company.id, sku=sku, cursor=c))
            with pytest.raises(InsufficientStockError):
                reserve_stock(
                    uow, company_id=company.id, sku=sku, quantity=1, reference="late", at=AT
                )
        assert [(lv.location, lv.reserved) for lv in levels] == [
            ("a", Decimal(5)),
            ("b", Decimal(7)),
        ]
        assert sorted(r.reference for r in held) == sorted(
            f"o-{i}-{n}" for i in range(4) for n in range(3)
        )
        assert sum(r.quantity for r in held) == 12

    # -- orders ------------------------------------------------------------------------
    @staticmethod
    def _order_objects(tag: str, company: Company) -> dict[str, Any]:
        """One of each orders aggregate, using every field, with ``tag``-ed ids."""
        cet = timezone(timedelta(hours=1))
        order = _order(
            company,
            f"O-{tag}",
            skus=("SEAL-7", "PUMP-1"),
            status=OrderStatus.PARTIALLY_SHIPPED,
            reference="Wartung Halle 3 — Ölpumpe",
            po_number="PO-4711",
        )
        first, second = order.lines
        override = PriceOverride(
            unit_price=_eur("15.00"),
            reason="loyal customer",
            quote_id=QuoteId("q-1"),
            proposed_by="agent-sam",
        )
        order = attrs.evolve(
            order,
            lines=(
                attrs.evolve(
                    first,
                    shipped_quantity=Decimal("1.5"),
                    invoiced_quantity=1,
                    invoiced_amount=_eur("10.00"),
                ),
                attrs.evolve(
                    second,
                    override=override,
                    unit_price=_eur("15.00"),
                    gross=_eur("45.00"),
                    net=_eur("45.00"),
                ),
            ),
            total=first.net + _eur("45.00"),
            cost_center="CC-4711",
            cart_id=CartId(f"cart-{tag}"),
            quote_id=QuoteId("q-1"),
            reorder_of=OrderId("o-old"),
            approval_flow_id="flow-1",
            idempotency_key="key-1",
            assisted_session_id="as-1",
            history=(
                StatusChange(to_status="pending_approval", at=AT, by="u-ben"),
                StatusChange(
                    from_status="pending_approval",
                    to_status="placed",
                    at=datetime(2026, 3, 29, 9, tzinfo=cet),
                    by="u-clara",
                    reason="approved",
                ),
            ),
        )
        quote_line = QuoteLine(
            sku=Sku("PUMP-1"),
            quantity=Decimal(3),
            name="Pump",
            categories=(CategoryId("root"), CategoryId("spares")),
            list_price=first.price,
            unit_price=_eur("15.00"),
            reason="volume",
        )
        return {
            "cart": Cart(
                id=CartId(f"cart-{tag}"),
                company_id=company.id,
                owner_id=UserId("u-ben"),
                currency="EUR",
                created_at=AT,
                business_unit_id=BusinessUnitId("hq"),
                name="Wöchentlich",
                lines=(CartLine(sku=Sku("SEAL-7"), quantity=Decimal("2.5")),),
                source="reorder of o-old",
            ),
            "order": order,
            "shipment": Shipment(
                id=ShipmentId(f"S-{tag}"),
                company_id=company.id,
                order_id=order.id,
                carrier="DHL",
                tracking_number="JD0001",
                shipped_at=AT,
                lines=(ShipmentLine(line_no=1, sku=Sku("SEAL-7"), quantity=Decimal("1.5")),),
                events=(
                    TrackingEvent(
                        at=datetime(2026, 3, 30, 8, tzinfo=cet),
                        status=TrackingStatus.IN_TRANSIT,
                        location="Leipzig",
                    ),
                    TrackingEvent(
                        at=datetime(2026, 3, 31, 8, tzinfo=cet),
                        status=TrackingStatus.DELIVERED,
                        description="front desk",
                    ),
                ),
                invoice_id=InvoiceId(f"I-{tag}"),
            ),
            "invoice": Invoice(
                id=InvoiceId(f"I-{tag}"),
                company_id=company.id,
                order_id=order.id,
                currency="EUR",
                issued_at=AT,
                terms=PaymentTerms(45),
                lines=(
                    InvoiceLine(
                        line_no=1, sku=Sku("SEAL-7"), quantity=Decimal(1), amount=_eur("10.00")
                    ),
                ),
                total=_eur("10.00"),
                requester_id=UserId("u-ben"),
                business_unit_id=BusinessUnitId("hq"),
                shipment_id=ShipmentId(f"S-{tag}"),
                payments=(Payment(amount=_eur("4.00"), at=AT, reference="bank 1"),),
                credit_notes=(
                    CreditNote(
                        id="cn-1",
                        amount=_eur("1.00"),
                        reason="scratched",
                        issued_at=AT,
                        reference="claim-9",
                    ),
                ),
            ),
            "quote": Quote(
                id=QuoteId(f"Q-{tag}"),
                company_id=company.id,
                requester_id=UserId("u-ben"),
                currency="EUR",
                created_at=AT,
                lines=(quote_line,),
                business_unit_id=BusinessUnitId("hq"),
                cost_center="CC-1",
                message="Bitte!",
                status=QuoteStatus.PROPOSED,
                history=(StatusChange(to_status="draft", at=AT, by="u-ben"),),
                proposed_by="agent-sam",
                valid_until=AT + timedelta(days=7),
            ),
            "list": ShoppingList(
                id=ShoppingListId(f"L-{tag}"),
                company_id=company.id,
                name="Monatlich",
                created_by=UserId("u-ben"),
                updated_at=AT,
                business_unit_id=BusinessUnitId("hq"),
                lines=(ShoppingListLine(sku=Sku("SEAL-7"), quantity=Decimal(4), note="Halle 3"),),
            ),
        }

    def test_order_aggregates_round_trip_exactly(self, store: Store) -> None:
        company = self.seed(store)
        made = self._order_objects(new_id(), company)
        with store.unit_of_work() as uow:
            uow.carts.add(made["cart"])
            uow.orders.add(made["order"])
            uow.shipments.add(made["shipment"])
            uow.invoices.add(made["invoice"])
            uow.sales_quotes.add(made["quote"])
            uow.shopping_lists.add(made["list"])
            uow.commit()
        cid = company.id
        with store.unit_of_work() as uow:
            loaded = {
                "cart": uow.carts.get(made["cart"].id, company_id=cid),
                "order": uow.orders.get(made["order"].id, company_id=cid),
                "shipment": uow.shipments.get(made["shipment"].id, company_id=cid),
                "invoice": uow.invoices.get(made["invoice"].id, company_id=cid),
                "quote": uow.sales_quotes.get(made["quote"].id, company_id=cid),
                "list": uow.shopping_lists.get(made["list"].id, company_id=cid),
            }
        for name, obj in made.items():
            assert loaded[name] == obj, name
            assert loaded[name].version == 1, name
        order = loaded["order"]
        assert isinstance(order, Order)
        pinned = order.lines[0].price
        original = made["order"].lines[0].price
        assert pinned.explanation.text() == original.explanation.text()
        assert pinned.context == original.context

    def test_orders_get_add_update_semantics_and_tenants(self, store: Store) -> None:
        acme, globex = self.seed(store), self.seed(store)
        tag = new_id()
        order = _order(acme, f"O-{tag}")
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.orders.get(order.id, company_id=acme.id)
            uow.orders.add(order)
            uow.orders.add(_order(globex, f"O-{tag}", requester="u-gia"))  # same id, other tenant
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.orders.add(_order(acme, f"O-{tag}"))
            uow.commit()
        with store.unit_of_work() as uow:
            read = uow.orders.get(order.id, company_id=acme.id)
            read.transition(OrderStatus.CONFIRMED, at=AT, by="op-olga")
            uow.orders.update(read)
            uow.commit()
        assert read.version == 2
        stale = attrs.evolve(read, status=OrderStatus.CANCELLED, version=1)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            uow.orders.update(stale)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.orders.get(order.id, company_id=acme.id).status is OrderStatus.CONFIRMED
            theirs = uow.orders.get(order.id, company_id=globex.id)
            assert (theirs.requester_id, theirs.status) == ("u-gia", OrderStatus.PLACED)
            assert [o.id for o in uow.orders.list(company_id=globex.id)] == [order.id]
            with pytest.raises(NotFoundError):
                uow.carts.get(CartId(f"cart-{tag}"), company_id=acme.id)

    def _seed_history(self, store: Store, company: Company, tag: str) -> list[Order]:
        """Twelve orders an hour apart: statuses, units, requesters and SKUs vary."""
        units = ("hq", "plant", "line", None)
        statuses = (OrderStatus.PLACED, OrderStatus.SHIPPED, OrderStatus.CANCELLED)
        orders = [
            _order(
                company,
                f"{tag}-{i:02d}",
                skus=("SEAL-7",) if i % 2 else ("SEAL-7", f"PUMP-{i % 3}"),
                created_at=AT + timedelta(hours=i),
                status=statuses[i % 3],
                unit=units[i % 4],
                requester=("u-ben", "u-clara")[i % 2],
                reference=f"Ref {i}",
                po_number=f"PO-{1000 + i}",
            )
            for i in range(12)
        ]
        with store.unit_of_work() as uow:
            for order in orders:
                uow.orders.add(order)
            uow.commit()
        return orders

    def test_order_history_newest_first_with_filters(self, store: Store) -> None:
        company = self.seed(store)
        tag = new_id()
        orders = self._seed_history(store, company, tag)
        newest_first = [o.id for o in reversed(orders)]

        def ids(**filters: Any) -> list[str]:
            with store.unit_of_work() as uow:
                return [
                    o.id
                    for o in _all(
                        lambda c: uow.orders.list(
                            company_id=company.id, limit=5, cursor=c, **filters
                        )
                    )
                ]

        def expect(keep: Callable[[Order], bool]) -> list[str]:
            return [o.id for o in reversed(orders) if keep(o)]

        assert ids() == newest_first
        assert ids(statuses=[OrderStatus.SHIPPED, OrderStatus.CANCELLED]) == expect(
            lambda o: o.status in (OrderStatus.SHIPPED, OrderStatus.CANCELLED)
        )
        assert ids(since=AT + timedelta(hours=3), until=AT + timedelta(hours=7)) == expect(
            lambda o: AT + timedelta(hours=3) <= o.created_at < AT + timedelta(hours=7)
        )
        assert ids(sku=Sku("PUMP-1")) == expect(lambda o: any(li.sku == "PUMP-1" for li in o.lines))
        assert ids(sku=Sku("PUMP")) == []  # a whole SKU, never a part of one
        assert ids(business_unit_id=BusinessUnitId("plant")) == expect(
            lambda o: o.business_unit_id == "plant"
        )
        assert ids(requester_id=UserId("u-clara")) == expect(lambda o: o.requester_id == "u-clara")
        assert ids(text="po-1007") == [f"{tag}-07"]
        assert ids(text="REF 1") == expect(lambda o: o.reference.startswith("Ref 1"))
        assert ids(
            text=tag.lower(), statuses=[OrderStatus.PLACED], requester_id=UserId("u-ben")
        ) == (expect(lambda o: o.status is OrderStatus.PLACED and o.requester_id == "u-ben"))
        with store.unit_of_work() as uow:
            first = uow.orders.list(company_id=company.id, limit=4)
            # an order newer than the whole page and one older: the cursor does not shift
            uow.orders.add(_order(company, f"{tag}-new", created_at=AT + timedelta(days=2)))
            uow.orders.add(_order(company, f"{tag}-old", created_at=AT - timedelta(days=2)))
            uow.commit()
        with store.unit_of_work() as uow:
            second = uow.orders.list(company_id=company.id, limit=4, cursor=first.next_cursor)
            with pytest.raises(ValidationError):
                uow.orders.list(
                    company_id=company.id, statuses=[OrderStatus.PLACED], cursor=first.next_cursor
                )
            with pytest.raises(ValidationError):
                uow.orders.list(company_id=company.id, statuses=["lost"])  # type: ignore[list-item]
        assert [o.id for o in first] + [o.id for o in second] == newest_first[:8]

    @settings(
        max_examples=15,
        deadline=None,
        # Each example works in its own new company (see the page-size property above).
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        groups=st.lists(
            st.tuples(
                st.none()
                | st.frozensets(st.sampled_from(["hq", "plant", "line", "x"]), max_size=3),
                st.none() | st.sampled_from(["u-ben", "u-clara", "u-nobody"]),
            ),
            max_size=3,
        ),
        limit=st.integers(1, 5),
    )
    def test_order_history_audience_is_the_union_of_its_groups(
        self,
        store: Store,
        groups: list[tuple[frozenset[str] | None, str | None]],
        limit: int,
    ) -> None:
        company = self.seed(store)
        orders = self._seed_history(store, company, new_id())
        audience = Audience(
            tuple(
                AudienceGroup(
                    units=None if units is None else frozenset(BusinessUnitId(u) for u in units),
                    requester_id=None if who is None else UserId(who),
                )
                for units, who in groups
            )
        )
        with store.unit_of_work() as uow:
            seen = _all(
                lambda c: uow.orders.list(
                    company_id=company.id, audience=audience, limit=limit, cursor=c
                )
            )
        expected = [
            o.id
            for o in reversed(orders)
            if audience.admits(business_unit_id=o.business_unit_id, requester_id=o.requester_id)
        ]
        assert [o.id for o in seen] == expected

    def test_shipments_invoices_quotes_and_lists_queries(self, store: Store) -> None:
        acme, globex = self.seed(store), self.seed(store)
        tag = new_id()
        made = self._order_objects(tag, acme)
        order = made["order"]
        later = attrs.evolve(
            made["shipment"], id=ShipmentId(f"S2-{tag}"), shipped_at=AT + timedelta(hours=1)
        )
        other_order = attrs.evolve(
            made["shipment"], id=ShipmentId(f"S3-{tag}"), order_id=OrderId("other")
        )
        paid = attrs.evolve(
            made["invoice"],
            id=InvoiceId(f"I2-{tag}"),
            issued_at=AT + timedelta(days=40),
            status=InvoiceStatus.PAID,
            business_unit_id=BusinessUnitId("plant"),
        )
        requested = attrs.evolve(
            made["quote"],
            id=QuoteId(f"Q2-{tag}"),
            status=QuoteStatus.REQUESTED,
            created_at=AT + timedelta(hours=1),
            requester_id=UserId("u-clara"),
        )
        own = attrs.evolve(
            made["list"],
            id=ShoppingListId(f"L2-{tag}"),
            name="alpha",
            owner_id=UserId("u-ben"),
            business_unit_id=None,
        )
        with store.unit_of_work() as uow:
            for s in (later, made["shipment"], other_order):
                uow.shipments.add(s)
            uow.invoices.add(made["invoice"])
            uow.invoices.add(paid)
            uow.sales_quotes.add(made["quote"])
            uow.sales_quotes.add(requested)
            uow.shopping_lists.add(made["list"])
            uow.shopping_lists.add(own)
            uow.carts.add(made["cart"])
            uow.carts.add(
                attrs.evolve(made["cart"], id=CartId(f"c2-{tag}"), owner_id=UserId("u-x"))
            )
            uow.commit()
        cid = acme.id
        with store.unit_of_work() as uow:
            assert [s.id for s in uow.shipments.for_order(order.id, company_id=cid)] == [
                made["shipment"].id,
                later.id,
            ]
            assert uow.shipments.for_order(order.id, company_id=globex.id) == []
            assert [i.id for i in uow.invoices.list(company_id=cid)] == [
                made["invoice"].id,
                paid.id,
            ]
            assert [i.id for i in uow.invoices.list(company_id=cid, status=InvoiceStatus.OPEN)] == [
                made["invoice"].id
            ]
            due = made["invoice"].due_date  # AT + 45 days
            before = datetime(due.year, due.month, due.day, tzinfo=UTC)
            assert [i.id for i in uow.invoices.list(company_id=cid, due_before=before)] == []
            after = before + timedelta(days=1)
            assert [i.id for i in uow.invoices.list(company_id=cid, due_before=after)] == [
                made["invoice"].id
            ]
            plant = Audience.of([["plant"]])
            assert [i.id for i in uow.invoices.list(company_id=cid, audience=plant)] == [paid.id]
            assert [i.id for i in uow.invoices.list(company_id=cid, order_id=OrderId("nope"))] == []
            assert [q.id for q in uow.sales_quotes.list(company_id=cid)] == [
                requested.id,
                made["quote"].id,
            ]
            assert [
                q.id for q in uow.sales_quotes.list(company_id=cid, status=QuoteStatus.PROPOSED)
            ] == [made["quote"].id]
            assert [
                q.id for q in uow.sales_quotes.list(company_id=cid, requester_id=UserId("u-clara"))
            ] == [requested.id]
            assert [sl.id for sl in uow.shopping_lists.list(company_id=cid)] == [
                own.id,
                made["list"].id,
            ]
            assert [
                sl.id for sl in uow.shopping_lists.list(company_id=cid, owner_id=UserId("u-ben"))
            ] == [own.id]
            assert [
                sl.id
                for sl in uow.shopping_lists.list(
                    company_id=cid, business_unit_ids=[BusinessUnitId("hq")]
                )
            ] == [made["list"].id]
            assert [c.id for c in uow.carts.list(company_id=cid, owner_id=UserId("u-ben"))] == [
                made["cart"].id
            ]
            assert uow.sales_quotes.list(company_id=globex.id).items == ()
            uow.shopping_lists.remove(uow.shopping_lists.get(own.id, company_id=cid))
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.shopping_lists.get(own.id, company_id=cid)

    def test_threads_placing_with_one_idempotency_key_make_one_order(self, store: Store) -> None:
        company = self.seed(store)
        results: list[str | None] = [None] * 6

        def work(i: int) -> None:
            with store.unit_of_work() as uow:
                known = uow.idempotency.recall("checkout-1", company_id=company.id, fingerprint="f")
                if known is not None:
                    results[i] = known
                    return
                order = _order(company, f"o-{i}-{new_id()}")
                uow.orders.add(order)
                uow.idempotency.remember(
                    "checkout-1", company_id=company.id, fingerprint="f", result=order.id, at=AT
                )
                uow.commit()
                results[i] = order.id

        outcomes = self._race(6, work)
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            stored = _all(lambda c: uow.orders.list(company_id=company.id, cursor=c))
            key = uow.idempotency.recall("checkout-1", company_id=company.id, fingerprint="f")
        assert [o.id for o in stored] == [key]
        assert {r for r, o in zip(results, outcomes, strict=True) if o is None} == {key}

    def test_threads_updating_one_order_exactly_one_wins(self, store: Store) -> None:
        company = self.seed(store)
        order = _order(company, f"O-{new_id()}")
        with store.unit_of_work() as uow:
            uow.orders.add(order)
            uow.commit()
        moves = [OrderStatus.CONFIRMED, OrderStatus.CANCELLED] * 3

        def work(i: int) -> None:
            with store.unit_of_work() as uow:
                mine = uow.orders.get(order.id, company_id=company.id)
                if mine.version != 1:
                    raise ConcurrencyError("order", mine.id, expected_version=1)
                mine.transition(moves[i], at=AT, by=f"writer-{i}")
                uow.orders.update(mine)
                uow.commit()

        outcomes = self._race(6, work)
        winners = [i for i, o in enumerate(outcomes) if o is None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, ConcurrencyError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            final = uow.orders.get(order.id, company_id=company.id)
        assert (final.status, final.version) == (moves[winners[0]], 2)
        assert final.history[-1].by == f"writer-{winners[0]}"

    # -- approvals -----------------------------------------------------------------------
    @staticmethod
    def _approval_world(company: Company) -> Directory:
        roles = predefined_roles(company.id)
        users = [
            CompanyUser(
                id=UserId(uid),
                company_id=company.id,
                email=f"{uid}@acme.example",
                name=uid,
                business_unit_ids=(BusinessUnitId("hq"),),
                status=UserStatus.ACTIVE,
                grants=(RoleGrant(role_id=RoleId(rid), valid_from=AT - timedelta(days=1)),),
            )
            for uid, rid in (
                ("ben", "buyer"),
                ("a1", "approver"),
                ("a2", "approver"),
                ("a3", "approver"),
                ("a4", "approver"),
            )
        ]
        return Directory.of(company.id, users=users, roles=roles, units=[_unit(company, "hq")])

    @staticmethod
    def _approval_policy(company: Company, approvers: Requirement) -> ApprovalPolicy:
        return ApprovalPolicy(
            company_id=company.id,
            calendar=BusinessCalendar.uniform("Europe/Berlin", [("08:00", "17:00")]),
            rules=[
                ApprovalRule(
                    id="big",
                    name="Big orders",
                    condition='total > 1000 EUR and category in ("pumps")',
                    tiers=[
                        ApprovalTier(
                            name="Approvers",
                            approvers=approvers,
                            timeout=timedelta(hours=8),
                            escalate_to=Escalation.to_parent_unit(),
                        )
                    ],
                )
            ],
        )

    @staticmethod
    def _approval_subject(company: Company, subject_id: str = "c-1") -> Subject:
        return Subject(
            ref=SubjectRef("cart", subject_id),
            company_id=company.id,
            requester_id="ben",
            total=_eur("7657.30"),
            lines=[SubjectLine(sku="PUMP-200", amount=_eur("7657.30"), categories=["pumps"])],
            business_unit_id="hq",
            cost_center="CC-4711",
        )

    def _pending_flow(
        self, store: Store, company: Company, approvers: Requirement, subject_id: str = "c-1"
    ) -> tuple[ApprovalFlow, Directory]:
        directory = self._approval_world(company)
        flow = evaluate(
            self._approval_policy(company, approvers),
            self._approval_subject(company, subject_id),
            at=AT,
            directory=directory,
            flow_id=f"f-{subject_id}",
        )
        with store.unit_of_work() as uow:
            uow.approval_flows.add(flow)
            uow.commit()
        return flow, directory

    def test_approval_aggregates_round_trip_exactly(self, store: Store) -> None:
        company = self.seed(store)
        policy = self._approval_policy(
            company, Requirement.at_least(2, Requirement.role("approver"), Requirement.user("a1"))
        )
        directory = self._approval_world(company)
        flow = evaluate(
            policy, self._approval_subject(company), at=AT, directory=directory, flow_id="f-1"
        )
        decide(flow, directory, acted_by="a1", verdict=Verdict.APPROVED, at=AT, comment="Grüße")
        advance(flow, now=AT + timedelta(days=2), directory=directory)
        budget = Budget(
            id="b-1",
            company_id=company.id,
            amount=_eur("20000"),
            period=BudgetPeriod.QUARTER,
            business_unit_id="hq",
            timezone="Europe/Berlin",
        )
        budget.commit(_eur("12.34"), at=AT, flow_id="f-0")
        delegation = Delegation(
            id="d-1",
            company_id=company.id,
            delegator_id="a1",
            delegate_id="a2",
            valid_from=AT,
            valid_until=AT + timedelta(days=3),
            reason="vacation",
        )
        with store.unit_of_work() as uow:
            uow.approval_policies.add(policy)
            uow.approval_flows.add(flow)
            uow.budgets.add(budget)
            uow.delegations.add(delegation)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.approval_policies.get(company_id=company.id) == policy
            assert uow.approval_flows.get(flow.id, company_id=company.id) == flow
            assert uow.budgets.get(budget.id, company_id=company.id) == budget
            assert uow.delegations.get(delegation.id, company_id=company.id) == delegation
        other = self.seed(store)
        with store.unit_of_work() as uow:
            for fetch in (
                lambda: uow.approval_policies.get(company_id=other.id),
                lambda: uow.approval_flows.get(flow.id, company_id=other.id),
                lambda: uow.budgets.get(budget.id, company_id=other.id),
                lambda: uow.delegations.get(delegation.id, company_id=other.id),
            ):
                with pytest.raises(NotFoundError):
                    fetch()

    def test_one_approval_policy_per_company_with_versions(self, store: Store) -> None:
        company = self.seed(store)
        policy = self._approval_policy(company, Requirement.role("approver"))
        with store.unit_of_work() as uow:
            uow.approval_policies.add(policy)
            uow.commit()
        with pytest.raises(DuplicateError), store.unit_of_work() as uow:
            uow.approval_policies.add(self._approval_policy(company, Requirement.role("x")))
            uow.commit()
        with store.unit_of_work() as uow:
            read = uow.approval_policies.get(company_id=company.id)
            read.rules = ()
            uow.approval_policies.update(read)
            uow.commit()
        with pytest.raises(ConcurrencyError), store.unit_of_work() as uow:
            uow.approval_policies.update(policy)
            uow.commit()
        with store.unit_of_work() as uow:
            stored = uow.approval_policies.get(company_id=company.id)
        assert (stored.rules, stored.version) == ((), 2)

    def test_one_pending_flow_per_subject(self, store: Store) -> None:
        company = self.seed(store)
        flow, directory = self._pending_flow(store, company, Requirement.role("approver"))
        twin = attrs.evolve(flow, id="f-twin", version=0)
        with pytest.raises(DuplicateError), store.unit_of_work() as uow:
            uow.approval_flows.add(twin)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.approval_flows.pending_for(flow.subject.ref, company_id=company.id) == flow
            read = uow.approval_flows.get(flow.id, company_id=company.id)
            decide(read, directory, acted_by="a1", verdict=Verdict.REJECTED, at=AT, comment="no")
            uow.approval_flows.update(read)
            uow.approval_flows.add(twin)  # the first is final now: a new one may wait
            uow.commit()
        other = self.seed(store)
        elsewhere, _ = self._pending_flow(store, other, Requirement.role("approver"))
        with store.unit_of_work() as uow:
            assert uow.approval_flows.pending_for(flow.subject.ref, company_id=company.id) == twin
            statuses = [
                (f.id, f.status)
                for f in _all(
                    lambda c: uow.approval_flows.list(
                        company_id=company.id, subject=flow.subject.ref, cursor=c
                    )
                )
            ]
            assert statuses == [("f-c-1", FlowStatus.REJECTED), ("f-twin", FlowStatus.PENDING)]
            pending = uow.approval_flows.list(company_id=company.id, status=FlowStatus.PENDING)
            assert [f.id for f in pending] == ["f-twin"]
            assert (
                uow.approval_flows.list(company_id=company.id, requester_id=UserId("a1")).items
                == ()
            )
            assert [
                f.id
                for f in uow.approval_flows.list(company_id=other.id, requester_id=UserId("ben"))
            ] == [elsewhere.id]

    def test_due_flows_come_earliest_first(self, store: Store) -> None:
        company = self.seed(store)
        late, _ = self._pending_flow(store, company, Requirement.role("approver"), "late")
        early = evaluate(
            self._approval_policy(company, Requirement.role("approver")),
            self._approval_subject(company, "early"),
            at=AT - timedelta(days=3),  # a Thursday: due that afternoon, before AT
            directory=self._approval_world(company),
            flow_id="f-early",
        )
        untimed = evaluate(
            ApprovalPolicy(
                company_id=company.id,
                rules=[
                    ApprovalRule(
                        id="r",
                        name="R",
                        condition="true",
                        tiers=[ApprovalTier(name="T", approvers=Requirement.role("approver"))],
                    )
                ],
            ),
            self._approval_subject(company, "untimed"),
            at=AT,
            flow_id="f-untimed",
        )
        with store.unit_of_work() as uow:
            uow.approval_flows.add(early)
            uow.approval_flows.add(untimed)
            uow.commit()
        far = AT + timedelta(days=30)
        with store.unit_of_work() as uow:
            assert [f.id for f in uow.approval_flows.due(company_id=company.id, until=far)] == [
                "f-early",
                "f-late",
            ]
            assert [f.id for f in uow.approval_flows.due(company_id=company.id, until=AT)] == [
                "f-early"
            ]
            assert uow.approval_flows.due(company_id=company.id, until=far, limit=1)[0] == early
            assert late.next_due() is not None
            assert uow.approval_flows.due(company_id=company.id, until=AT - timedelta(days=9)) == []

    def test_budgets_and_delegations_per_company(self, store: Store) -> None:
        company = self.seed(store)

        def budget(bid: str, cost_center: str) -> Budget:
            return Budget(
                id=bid,
                company_id=company.id,
                amount=_eur("100"),
                period=BudgetPeriod.MONTH,
                cost_center=cost_center,
            )

        with store.unit_of_work() as uow:
            uow.budgets.add(budget("b-1", "CC-1"))
            uow.budgets.add(budget("b-2", "CC-2"))
            uow.commit()
        with pytest.raises(DuplicateError), store.unit_of_work() as uow:
            uow.budgets.add(budget("b-3", "CC-1"))  # the same scope and period
            uow.commit()
        with store.unit_of_work() as uow:
            assert [b.id for b in uow.budgets.list(company_id=company.id)] == ["b-1", "b-2"]
            for i, (a, b) in enumerate([("a1", "a2"), ("a1", "a3"), ("a2", "a1")]):
                uow.delegations.add(
                    Delegation(
                        id=f"d-{i}",
                        company_id=company.id,
                        delegator_id=a,
                        delegate_id=b,
                        valid_from=AT + timedelta(days=10 * i),
                        valid_until=AT + timedelta(days=10 * i + 5),
                    )
                )
            uow.commit()
        with store.unit_of_work() as uow:
            by_a1 = uow.delegations.list(company_id=company.id, delegator_id=UserId("a1"))
            to_a1 = uow.delegations.list(company_id=company.id, delegate_id=UserId("a1"))
            assert ([d.id for d in by_a1], [d.id for d in to_a1]) == (["d-0", "d-1"], ["d-2"])
        other = self.seed(store)
        with store.unit_of_work() as uow:
            assert uow.budgets.list(company_id=other.id).items == ()
            assert uow.delegations.list(company_id=other.id).items == ()

    def test_threads_two_approvers_deciding_one_flow_each_count_once(self, store: Store) -> None:
        company = self.seed(store)
        both = Requirement.all_of(Requirement.user("a1"), Requirement.user("a2"))
        flow, directory = self._pending_flow(store, company, both)

        def work(i: int) -> None:
            while True:
                try:
                    with store.unit_of_work() as uow:
                        read = uow.approval_flows.get(flow.id, company_id=company.id)
                        decide(
                            read, directory, acted_by=f"a{i + 1}", verdict=Verdict.APPROVED, at=AT
                        )
                        uow.approval_flows.update(read)
                        uow.commit()
                except ConcurrencyError:
                    continue
                return

        assert self._race(2, work) == [None, None]
        with store.unit_of_work() as uow:
            final = uow.approval_flows.get(flow.id, company_id=company.id)
            records = _all(lambda c: uow.outbox.list(company_id=company.id, cursor=c))
        assert sorted(d.acted_by for d in final.decisions()) == ["a1", "a2"]
        assert (final.status, final.version) == (FlowStatus.APPROVED, 3)
        decided = [r for r in records if r.event_type == "approvals.decided"]
        assert sorted(r.payload["acted_by"] for r in decided) == ["a1", "a2"]

    def test_threads_last_approvals_complete_the_flow_once(self, store: Store) -> None:
        company = self.seed(store)
        flow, directory = self._pending_flow(store, company, Requirement.role("approver"))
        budget = Budget(
            id="b-hq",
            company_id=company.id,
            amount=_eur("100000"),
            period=BudgetPeriod.YEAR,
            business_unit_id="hq",
        )
        with store.unit_of_work() as uow:
            uow.budgets.add(budget)
            uow.commit()
        world = attrs.evolve(directory, budgets=(budget,))

        def work(i: int) -> None:
            while True:  # losers retry and find the flow decided
                try:
                    with store.unit_of_work() as uow:
                        read = uow.approval_flows.get(flow.id, company_id=company.id)
                        mine = uow.budgets.get(budget.id, company_id=company.id)
                        decide(
                            read,
                            attrs.evolve(world, budgets=(mine,)),
                            acted_by=f"a{i + 1}",
                            verdict=Verdict.APPROVED,
                            at=AT,
                        )
                        mine.commit(read.subject.total, at=AT, flow_id=read.id)
                        uow.approval_flows.update(read)
                        uow.budgets.update(mine)
                        uow.commit()
                except ConcurrencyError:
                    continue
                return

        outcomes = self._race(4, work)
        assert sum(o is None for o in outcomes) == 1, outcomes
        assert all(isinstance(o, InvalidTransitionError) for o in outcomes if o is not None)
        with store.unit_of_work() as uow:
            final = uow.approval_flows.get(flow.id, company_id=company.id)
            spent = uow.budgets.get(budget.id, company_id=company.id).committed(AT)
            records = _all(lambda c: uow.outbox.list(company_id=company.id, cursor=c))
        assert final.status is FlowStatus.APPROVED
        assert len(final.decisions()) == 1
        assert spent == _eur("7657.30")
        kinds = [r.event_type for r in records]
        assert kinds.count("approvals.flow_completed") == 1
        assert kinds.count("approvals.flow_approved") == 1

    def test_threads_submitting_one_subject_exactly_one_waits(self, store: Store) -> None:
        company = self.seed(store)
        directory = self._approval_world(company)
        policy = self._approval_policy(company, Requirement.role("approver"))

        def work(i: int) -> None:
            flow = evaluate(
                policy,
                self._approval_subject(company),
                at=AT,
                directory=directory,
                flow_id=f"f-{i}",
            )
            with store.unit_of_work() as uow:
                uow.approval_flows.add(flow)
                uow.commit()

        outcomes = self._race(5, work)
        assert sum(o is None for o in outcomes) == 1, outcomes
        assert all(isinstance(o, DuplicateError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            assert len(uow.approval_flows.list(company_id=company.id)) == 1

    # -- scheduling --------------------------------------------------------------------
    @staticmethod
    def _slot_setup(store: Store, *, capacity: int = 1) -> tuple[ServiceType, Resource]:
        tag = new_id()
        service = ServiceType(
            id=ServiceTypeId(f"svc-{tag}"),
            name="Boiler check",
            duration_minutes=60,
            buffer_after_minutes=15,
            capacity=capacity,
        )
        tech = Resource(
            id=ResourceId(f"tech-{tag}"),
            name="Ana",
            skills={"gas"},
            timezone="Europe/Berlin",
            availability=Availability.weekly("MO-FR", [("08:00", "17:00")]),
        )
        with store.unit_of_work() as uow:
            uow.service_types.add(service)
            uow.resources.add(tech)
            uow.commit()
        return service, tech

    @staticmethod
    def _booking(
        company: Company,
        service: ServiceType,
        resource: Resource,
        start: datetime,
        booking_id: str | None = None,
    ) -> Booking:
        return Booking.hold(
            booking_id=booking_id or new_id(),
            company_id=company.id,
            service_type=service,
            resource_ids=[resource.id],
            start=start,
            requester_id="u-1",
            at=AT,
            by="u-1",
            asset_id="pump-7",
        )

    def test_scheduling_aggregates_round_trip_and_are_scoped(self, store: Store) -> None:
        service, tech = self._slot_setup(store)
        acme, globex = self.seed(store), self.seed(store)
        booking = self._booking(acme, service, tech, SLOT)
        booking.notes = "Zugang über den Hof; Schlüssel bei Frau Müller"
        with store.unit_of_work() as uow:
            uow.bookings.add(booking)
            uow.commit()
        assert booking.version == 1
        with store.unit_of_work() as uow:
            assert uow.service_types.get(service.id) == service
            assert uow.resources.get(tech.id) == tech
            assert uow.bookings.get(booking.id, company_id=acme.id) == booking
            with pytest.raises(NotFoundError):
                uow.bookings.get(booking.id, company_id=globex.id)
            assert uow.bookings.list(company_id=globex.id).items == ()
            assert [
                b.id for b in uow.bookings.list(company_id=acme.id, asset_id=AssetId("pump-7"))
            ] == [booking.id]
            assert not uow.bookings.list(
                company_id=acme.id, statuses=[AppointmentStatus.CANCELLED]
            ).items
            assert [r.id for r in _all(lambda c: uow.resources.list(cursor=c))].count(tech.id) == 1
            with pytest.raises(DuplicateError):
                uow.service_types.add(attrs.evolve(service, version=0))
        with store.unit_of_work() as uow:
            stale = uow.bookings.get(booking.id, company_id=acme.id)
        booking.move(AppointmentStatus.CONFIRMED, at=AT, by="u-1")
        with store.unit_of_work() as uow:
            uow.bookings.update(booking)
            uow.commit()
        stale.move(AppointmentStatus.CANCELLED, at=AT, by="u-1")
        with pytest.raises(ConcurrencyError), store.unit_of_work() as uow:
            uow.bookings.update(stale)
            uow.commit()

    def test_a_booking_claims_its_time_and_releases_it(self, store: Store) -> None:
        service, tech = self._slot_setup(store)
        acme, globex = self.seed(store), self.seed(store)
        first = self._booking(acme, service, tech, SLOT)
        with store.unit_of_work() as uow:
            uow.bookings.add(first)
            uow.commit()
        # 10:10 overlaps the 15-minute buffer after 09:00-10:00, in another company too
        with pytest.raises(ConflictError), store.unit_of_work() as uow:
            uow.bookings.add(self._booking(globex, service, tech, SLOT + timedelta(minutes=70)))
            uow.commit()
        with store.unit_of_work() as uow:
            busy = uow.bookings.busy([tech.id], start=SLOT, end=SLOT + timedelta(hours=1))
        assert [(b.booking_id, b.company_id, b.held_until) for b in busy] == [
            (first.id, acme.id, first.held_until)
        ]
        first.move(AppointmentStatus.CONFIRMED, at=AT, by="u-1")
        with store.unit_of_work() as uow:
            uow.bookings.update(first)
            uow.commit()
            busy = uow.bookings.busy([tech.id], start=SLOT, end=SLOT + timedelta(hours=1))
        assert [b.held_until for b in busy] == [None]
        first.reschedule(
            start=SLOT + timedelta(minutes=30), resource_ids=[tech.id], at=AT, by="u-1",
            needs_confirmation=False,
        )  # fmt: skip
        with store.unit_of_work() as uow:
            uow.bookings.update(first)  # overlapping its own old time
            uow.commit()
        with store.unit_of_work() as uow:
            uow.bookings.add(self._booking(globex, service, tech, SLOT - timedelta(minutes=60)))
            uow.commit()
        first.move(AppointmentStatus.CANCELLED, at=AT, by="u-1")
        with store.unit_of_work() as uow:
            uow.bookings.update(first)
            uow.commit()
        with store.unit_of_work() as uow:
            uow.bookings.add(self._booking(globex, service, tech, SLOT + timedelta(minutes=15)))
            uow.commit()
            busy = uow.bookings.busy([tech.id], start=SLOT - timedelta(days=1), end=SLOT + DAY)
        assert [b.start for b in busy] == [
            SLOT - timedelta(minutes=60),
            SLOT + timedelta(minutes=15),
        ]

    def test_a_rolled_back_booking_claims_nothing(self, store: Store) -> None:
        service, tech = self._slot_setup(store)
        acme = self.seed(store)
        with store.unit_of_work() as uow:
            uow.bookings.add(self._booking(acme, service, tech, SLOT))
        with store.unit_of_work() as uow:
            uow.bookings.add(self._booking(acme, service, tech, SLOT))
            uow.commit()

    def test_seats_are_shared_up_to_capacity_by_one_service_type(self, store: Store) -> None:
        service, tech = self._slot_setup(store, capacity=2)
        acme = self.seed(store)
        for shift in (0, 30):
            with store.unit_of_work() as uow:
                uow.bookings.add(
                    self._booking(acme, service, tech, SLOT + timedelta(minutes=shift))
                )
                uow.commit()
        with pytest.raises(ConflictError), store.unit_of_work() as uow:
            uow.bookings.add(self._booking(acme, service, tech, SLOT + timedelta(minutes=45)))
            uow.commit()
        other = attrs.evolve(service, id=ServiceTypeId(f"{service.id}-x"), capacity=2, version=0)
        with pytest.raises(ConflictError), store.unit_of_work() as uow:
            uow.bookings.add(self._booking(acme, other, tech, SLOT + timedelta(minutes=90)))
            uow.commit()

    def _race_for(self, store: Store, starts: list[datetime]) -> list[BaseException | None]:
        service, tech = self._slot_setup(store)
        companies = [self.seed(store) for _ in starts]

        def work(i: int) -> None:
            with store.unit_of_work() as uow:
                uow.bookings.add(self._booking(companies[i], service, tech, starts[i]))
                uow.commit()

        outcomes = self._race(len(starts), work)
        with store.unit_of_work() as uow:
            busy = uow.bookings.busy([tech.id], start=SLOT - DAY, end=SLOT + DAY)
        assert len(busy) == sum(o is None for o in outcomes), (busy, outcomes)
        return outcomes

    def test_threads_booking_one_slot_exactly_one_wins(self, store: Store) -> None:
        outcomes = self._race_for(store, [SLOT] * 6)
        assert sum(o is None for o in outcomes) == 1, outcomes
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes

    def test_threads_booking_overlapping_slots_one_wins(self, store: Store) -> None:
        outcomes = self._race_for(store, [SLOT, SLOT + timedelta(minutes=30)] * 2)
        assert sum(o is None for o in outcomes) == 1, outcomes
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes

    # -- claims, assets, documents ------------------------------------------------------
    @staticmethod
    def _claim(company: Company, claim_id: str, order_id: str, quantity: int = 2) -> Claim:
        """A submitted missing-items claim of ``quantity`` of line 1 of ``order_id``."""
        kinds = {t.id: t for t in standard_claim_types()}
        claim = Claim.open(
            claim_id=claim_id,
            company_id=company.id,
            claim_type=kinds[ClaimTypeId("missing_items")],
            requester_id="u-ben",
            by="u-ben",
            at=AT,
            title="Two seals missing",
            description="The parcel held 4 seals, not 6.",
            business_unit_id="hq",
        )
        claim.add_line(
            ClaimLine(
                line_no=1,
                sku="SEAL-7",
                quantity=Decimal(quantity),
                order_id=order_id,
                order_line_no=1,
            )
        )
        claim.transition(ClaimStatus.SUBMITTED, party=Party.CUSTOMER, by="u-ben", at=AT)
        return claim

    @staticmethod
    def _claims_objects(tag: str, company: Company) -> dict[str, Any]:
        """One of each claims, assets and documents aggregate, using every field."""
        cet = timezone(timedelta(hours=1))
        asset = Asset.register(
            asset_id=f"A-{tag}",
            company_id=company.id,
            serial_number="PX9-0042/Ä",
            sku="PX-9",
            registered_by="u-ben",
            at=datetime(2026, 3, 1, 9, tzinfo=cet),
            name="Pumpe Halle 3",
            business_unit_id="hq",
            site="Leipzig",
            installed_on=date(2026, 2, 27),
            warranty=Warranty(until=date(2028, 2, 27), terms="2 Jahre"),
            order_id=f"O-{tag}",
        )
        asset.verify(at=AT, by="staff-sam")
        kinds = {t.id: t for t in standard_claim_types()}
        claim = Claim.open(
            claim_id=f"C-{tag}",
            company_id=company.id,
            claim_type=kinds[ClaimTypeId("warranty")],
            requester_id="u-ben",
            by="agent-sam",
            at=AT,
            title="Pumpe rattert",
            description="Seit Montag laut.",
            priority=Priority.HIGH,
            business_unit_id="hq",
        )
        claim.add_line(
            ClaimLine(
                line_no=1,
                sku="PX-9",
                quantity=Decimal("1.5"),
                asset_id=asset.id,
                serial_number=asset.serial_number,
                order_id=f"O-{tag}",
                order_line_no=1,
                reason="noise",
            )
        )
        claim.attach(
            Attachment(
                document_id=f"D-{tag}",
                name="Riss.jpg",
                media_type="image/jpeg",
                added_at=AT,
                added_by="u-ben",
            )
        )
        claim.record_warranty(
            1,
            WarrantyDecision(
                covered=True,
                basis=WarrantyBasis.ASSET_WARRANTY,
                reason="until 2028-02-27",
                until=date(2028, 2, 27),
            ),
        )
        claim.transition(ClaimStatus.SUBMITTED, party=Party.CUSTOMER, by="u-ben", at=AT)
        claim.transition(ClaimStatus.IN_REVIEW, party=Party.AGENT, by="sam", at=AT + DAY)
        claim.decide(1, accepted="1.5", rejected=0, by="sam", at=AT + DAY)
        claim.transition(ClaimStatus.APPROVED, party=Party.AGENT, by="sam", at=AT + DAY)
        claim.add_resolution(
            Resolution(
                id="r-1",
                kind=ResolutionKind.REPAIR,
                at=AT + DAY,
                by="sam",
                lines=[ResolutionLine(1, Decimal("1.5"))],
                booking_id="b-1",
            )
        )
        tally = ClaimTally(order_id=f"O-{tag}", company_id=company.id)
        tally.hold(claim.id, {1: Decimal("1.5")})
        tally.credit(claim.id, 1, _eur("10.00"), "cn-1")
        version = DocumentVersion(
            number=1,
            sha256="ab" * 32,
            size=2048,
            media_type="image/jpeg",
            filename="Riss.jpg",
            uploaded_at=AT,
            uploaded_by="u-ben",
        )
        document = Document(
            id=f"D-{tag}",
            company_id=company.id,
            title="Riss im Gehäuse",
            kind=DocumentKind.PHOTO,
            access=AccessScope.business_unit("hq"),
            versions=[version],
            created_at=AT,
            created_by="u-ben",
            links=[DocumentLink.claim(claim.id), DocumentLink.asset(asset.id)],
            business_unit_id="hq",
        )
        manual = Document(
            id=f"M-{tag}",
            company_id=None,
            title="PX-9 Handbuch",
            kind=DocumentKind.MANUAL,
            access=AccessScope.buyers_of("PX-9"),
            versions=[attrs.evolve(version, media_type="application/pdf", filename="px9.pdf")],
            created_at=AT,
            created_by="staff-sam",
            links=[DocumentLink.product("PX-9")],
        )
        message = ClaimMessage.post(
            message_id=f"m-{tag}",
            claim=claim,
            at=AT + DAY,
            author="sam",
            party=Party.AGENT,
            body="Wir kommen.",
            visibility=Visibility.INTERNAL,
            attachments=claim.attachments,
        )
        return {
            "asset": asset,
            "claim": claim,
            "tally": tally,
            "document": document,
            "manual": manual,
            "message": message,
        }

    def test_claims_assets_documents_round_trip_exactly(self, store: Store) -> None:
        company = self.seed(store)
        made = self._claims_objects(new_id(), company)
        with store.unit_of_work() as uow:
            uow.assets.add(made["asset"])
            uow.claims.add(made["claim"])
            uow.claim_tallies.add(made["tally"])
            uow.documents.add(made["document"])
            uow.documents.add(made["manual"])
            uow.claim_messages.add(made["message"])
            uow.commit()
        cid, claim = company.id, made["claim"]
        with store.unit_of_work() as uow:
            loaded: dict[str, Any] = {
                "asset": uow.assets.get(made["asset"].id, company_id=cid),
                "claim": uow.claims.get(claim.id, company_id=cid),
                "tally": uow.claim_tallies.get(made["tally"].order_id, company_id=cid),
                "document": uow.documents.get(made["document"].id, company_id=cid),
                "manual": uow.documents.get(made["manual"].id, company_id=None),
                "message": uow.claim_messages.list(claim.id, company_id=cid).items[0],
            }
        for name, obj in made.items():
            assert loaded[name] == obj, name
            assert loaded[name].version == 1, name
        assert loaded["claim"].claim_type == claim.claim_type
        assert loaded["tally"].held(1) == Decimal("1.5")

    def test_asset_serials_are_unique_per_company(self, store: Store) -> None:
        acme, globex = self.seed(store), self.seed(store)

        def asset(company: Company, serial: str) -> Asset:
            return Asset.register(
                asset_id=f"a-{new_id()}",
                company_id=company.id,
                serial_number=serial,
                sku="PX-9",
                registered_by="u",
                at=AT,
            )

        first = asset(acme, "SN-1")
        with store.unit_of_work() as uow:
            uow.assets.add(first)
            uow.assets.add(asset(globex, "sn-1"))
            uow.commit()
        with pytest.raises(DuplicateError), store.unit_of_work() as uow:
            uow.assets.add(asset(acme, "sn-1"))
            uow.commit()
        other = asset(acme, "SN-2")
        with store.unit_of_work() as uow:
            uow.assets.add(other)
            uow.commit()
        other.serial_number = "Sn-1"
        with pytest.raises(DuplicateError), store.unit_of_work() as uow:
            uow.assets.update(other)
            uow.commit()
        with store.unit_of_work() as uow:
            found = uow.assets.find_by_serial(" sn-1 ", company_id=acme.id)
            assert found is not None
            assert found.id == first.id
            assert uow.assets.find_by_serial("SN-3", company_id=acme.id) is None
            assert [a.id for a in uow.assets.list(company_id=acme.id)] == [first.id, other.id]

    def test_claims_assets_documents_are_scoped_per_company(self, store: Store) -> None:
        acme, globex = self.seed(store), self.seed(store)
        tag = new_id()
        mine, theirs = self._claims_objects(tag, acme), self._claims_objects(tag, globex)
        with store.unit_of_work() as uow:
            for made in (mine, theirs):
                uow.assets.add(made["asset"])
                uow.claims.add(made["claim"])
                uow.claim_tallies.add(made["tally"])
                uow.documents.add(made["document"])
                uow.claim_messages.add(made["message"])
            uow.documents.add(mine["manual"])
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.claims.get(mine["claim"].id, company_id=acme.id).company_id == acme.id
            assert uow.claims.get(mine["claim"].id, company_id=globex.id).company_id == globex.id
            assert len(uow.claims.list(company_id=acme.id).items) == 1
            assert len(uow.claim_messages.list(mine["claim"].id, company_id=acme.id).items) == 1
            assert [d.id for d in uow.documents.list(company_id=acme.id)] == [mine["document"].id]
            assert [d.id for d in uow.documents.list(company_id=None)] == [mine["manual"].id]
            with pytest.raises(NotFoundError):
                uow.documents.get(mine["manual"].id, company_id=acme.id)
            with pytest.raises(NotFoundError):
                uow.documents.get(mine["document"].id, company_id=None)
            with pytest.raises(NotFoundError):
                uow.claim_tallies.get(OrderId("nope"), company_id=acme.id)
        stale = mine["claim"]
        with store.unit_of_work() as uow:
            fresh = uow.claims.get(stale.id, company_id=acme.id)
            fresh.set_priority(Priority.URGENT, by="sam", at=AT)
            uow.claims.update(fresh)
            uow.commit()
        stale.set_priority(Priority.LOW, by="sam", at=AT)
        with pytest.raises(ConcurrencyError), store.unit_of_work() as uow:
            uow.claims.update(stale)
            uow.commit()

    def test_claims_newest_first_with_filters_and_audiences(self, store: Store) -> None:
        company = self.seed(store)
        claims = []
        for i in range(5):
            claim = self._claim(company, f"c-{i}-{new_id()}", f"o-{i % 2}", quantity=1)
            claim.created_at = AT + timedelta(hours=i)
            if i == 3:
                claim.requester_id = UserId("u-clara")
                claim.business_unit_id = BusinessUnitId("line")
            claims.append(claim)
        claims[4].transition(ClaimStatus.CANCELLED, party=Party.CUSTOMER, by="u-ben", at=AT)
        with store.unit_of_work() as uow:
            for claim in claims:
                uow.claims.add(claim)
            uow.commit()
        cid = company.id
        with store.unit_of_work() as uow:

            def ids(**kw: Any) -> list[str]:
                return [
                    c.id
                    for c in _all(
                        lambda c: uow.claims.list(company_id=cid, limit=2, cursor=c, **kw)
                    )
                ]

            newest_first = [c.id for c in reversed(claims)]
            assert ids() == newest_first
            assert ids(statuses=[ClaimStatus.CANCELLED]) == [claims[4].id]
            assert ids(order_id=OrderId("o-1")) == [claims[3].id, claims[1].id]
            assert ids(requester_id=UserId("u-clara")) == [claims[3].id]
            assert ids(type_id=ClaimTypeId("warranty")) == []
            assert ids(asset_id=AssetId("nope")) == []
            line_only = Audience.of([{"line"}])
            assert ids(audience=line_only) == [claims[3].id]
            bens = Audience.of([], requester_id="u-ben")
            assert ids(audience=bens) == [c for c in newest_first if c != claims[3].id]
            with pytest.raises(ValidationError):
                uow.claims.list(company_id=cid, statuses=["lost"])  # type: ignore[list-item]

    def test_claim_messages_oldest_first_by_visibility(self, store: Store) -> None:
        company = self.seed(store)
        claim = self._claim(company, f"c-{new_id()}", "o-1")
        with store.unit_of_work() as uow:
            uow.claims.add(claim)
            for i in range(5):
                uow.claim_messages.add(
                    ClaimMessage.post(
                        message_id=f"m-{i}",
                        claim=claim,
                        at=AT + timedelta(minutes=10 - i),
                        author="sam",
                        party=Party.AGENT,
                        body=f"#{i}",
                        visibility=Visibility.INTERNAL if i % 2 else Visibility.PUBLIC,
                    )
                )
            uow.commit()
        with store.unit_of_work() as uow:
            every = _all(
                lambda c: uow.claim_messages.list(
                    claim.id, company_id=company.id, limit=2, cursor=c
                )
            )
            public = uow.claim_messages.list(
                claim.id, company_id=company.id, visibility=Visibility.PUBLIC
            )
            events = uow.outbox.list(company_id=company.id, limit=100).items
        assert [m.body for m in every] == ["#4", "#3", "#2", "#1", "#0"]
        assert [m.body for m in public] == ["#4", "#2", "#0"]
        assert sum(e.event_type == "claims.claim_message_posted" for e in events) == 5

    def test_documents_by_link_and_kind_newest_first(self, store: Store) -> None:
        company = self.seed(store)
        version = DocumentVersion(
            number=1,
            sha256="cd" * 32,
            size=1,
            media_type="image/png",
            filename="p.png",
            uploaded_at=AT,
            uploaded_by="u",
        )
        docs = [
            Document(
                id=f"d-{i}-{new_id()}",
                company_id=company.id,
                title=f"Doc {i}",
                kind=DocumentKind.PHOTO if i % 2 else DocumentKind.CERTIFICATE,
                access=AccessScope.company(),
                versions=[version],
                created_at=AT + timedelta(hours=i),
                created_by="u",
                links=[DocumentLink.claim("c-1")] if i < 3 else [DocumentLink.asset("c-1")],
            )
            for i in range(5)
        ]
        with store.unit_of_work() as uow:
            for doc in docs:
                uow.documents.add(doc)
            uow.commit()
        with store.unit_of_work() as uow:

            def ids(**kw: Any) -> list[str]:
                return [
                    d.id
                    for d in _all(
                        lambda c: uow.documents.list(company_id=company.id, limit=2, cursor=c, **kw)
                    )
                ]

            assert ids() == [d.id for d in reversed(docs)]
            assert ids(link=DocumentLink.claim("c-1")) == [docs[2].id, docs[1].id, docs[0].id]
            assert ids(kind=DocumentKind.PHOTO) == [docs[3].id, docs[1].id]
            assert ids(link=DocumentLink.claim("c"), kind=DocumentKind.PHOTO) == []

    def test_threads_claiming_the_last_delivered_units_never_exceed_them(
        self, store: Store
    ) -> None:
        company = self.seed(store)
        order = _order(company, f"O-{new_id()}", skus=("SEAL-7",))  # line 1: 2 ordered
        order = attrs.evolve(
            order,
            lines=(attrs.evolve(order.lines[0], quantity=Decimal(6), shipped_quantity=6),),
        )
        shipment = Shipment(
            id=ShipmentId(f"S-{new_id()}"),
            company_id=company.id,
            order_id=order.id,
            carrier="DHL",
            tracking_number="1",
            shipped_at=AT,
            lines=(ShipmentLine(line_no=1, sku=Sku("SEAL-7"), quantity=Decimal(5)),),
            events=(TrackingEvent(at=AT, status=TrackingStatus.DELIVERED),),
        )
        with store.unit_of_work() as uow:
            uow.orders.add(attrs.evolve(order, total=order.lines[0].net))
            uow.shipments.add(shipment)
            uow.commit()

        def work(i: int) -> None:
            for _ in range(10):  # retry a lost race, as the claims service does
                try:
                    with store.unit_of_work() as uow:
                        stored = uow.orders.get(order.id, company_id=company.id)
                        try:
                            tally = uow.claim_tallies.get(order.id, company_id=company.id)
                            new = False
                        except NotFoundError:
                            tally, new = ClaimTally(order_id=order.id, company_id=company.id), True
                        claim = self._claim(company, f"c-{i}-{new_id()}", order.id)
                        shipped = uow.shipments.for_order(order.id, company_id=company.id)
                        delivered = delivered_quantities(stored, shipped)
                        tally.hold(claim.id, check_held(claim, stored, delivered, tally))
                        uow.claims.add(claim)
                        (uow.claim_tallies.add if new else uow.claim_tallies.update)(tally)
                        uow.commit()
                        return
                except (ConcurrencyError, DuplicateError):
                    continue
            raise AssertionError("no progress after 10 attempts")

        outcomes = self._race(5, work)
        assert all(isinstance(o, OverClaimError) for o in outcomes if o is not None), outcomes
        assert sum(o is None for o in outcomes) == 2  # 2 + 2 of 5 delivered; a third is over
        with store.unit_of_work() as uow:
            tally = uow.claim_tallies.get(order.id, company_id=company.id)
            claims = _all(lambda c: uow.claims.list(company_id=company.id, cursor=c))
        assert tally.held(1) == Decimal(4) == sum(c.lines[0].held for c in claims)

    # -- outbox ------------------------------------------------------------------------
    @staticmethod
    def _created(company: Company) -> CompanyCreated:
        return CompanyCreated(company_id=company.id, occurred_at=AT, name=company.name)

    def _mine(self, store: Store, company: Company) -> list[Any]:
        with store.unit_of_work() as uow:
            return _all(
                lambda cursor: uow.outbox.list(company_id=company.id, limit=100, cursor=cursor)
            )

    def test_recorded_events_are_written_with_the_change(self, store: Store) -> None:
        company = _company()
        company.record(self._created(company))
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.commit()
        records = self._mine(store, company)
        assert [r.event_type for r in records] == ["accounts.company_created"]
        assert records[0].status is OutboxStatus.PENDING
        assert company.pull_events() == []

    def test_events_of_a_rolled_back_unit_are_not_written(self, store: Store) -> None:
        company = _company()
        company.record(self._created(company))
        with store.unit_of_work() as uow:
            uow.companies.add(company)
        assert self._mine(store, company) == []

    def test_dispatch_delivers_at_least_once_and_marks_delivered(self, store: Store) -> None:
        company = _company()
        company.record(self._created(company))
        user = _user(company, "u1", "u1@acme.example")
        user.record(
            UserInvited(company_id=company.id, occurred_at=AT, user_id=user.id, email=user.email)
        )
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.business_units.add(_unit(company, "hq"))
            uow.users.add(user)
            uow.commit()
        got: list[DomainEvent] = []
        everything: list[DomainEvent] = []
        dispatch(store, {CompanyCreated: [got.append], DomainEvent: [everything.append]})
        mine = [e for e in got if e.company_id == company.id]
        assert [type(e) for e in mine] == [CompanyCreated]
        assert isinstance(mine[0], CompanyCreated)
        assert mine[0].name == company.name
        assert {type(e) for e in everything if e.company_id == company.id} == {
            CompanyCreated,
            UserInvited,
        }
        assert all(r.status is OutboxStatus.DELIVERED for r in self._mine(store, company))
        again: list[DomainEvent] = []
        dispatch(store, {DomainEvent: [again.append]})
        assert [e for e in again if e.company_id == company.id] == []

    def test_failed_delivery_is_retried_then_marked_dead(self, store: Store) -> None:
        company = _company()
        company.record(self._created(company))
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.commit()
        calls: list[str] = []

        def flaky(event: DomainEvent) -> None:
            if event.company_id == company.id:
                calls.append(event.event_id)
                raise RuntimeError("mail server down")

        for _ in range(3):
            dispatch(store, {CompanyCreated: [flaky]}, max_attempts=3)
        (record,) = self._mine(store, company)
        assert record.status is OutboxStatus.DEAD
        assert record.attempts == 3
        assert "mail server down" in record.last_error
        assert len(calls) == 3
        assert len(set(calls)) == 1  # the same event, delivered again
        dispatch(store, {CompanyCreated: [flaky]}, max_attempts=3)
        assert len(calls) == 3

    # -- audit -------------------------------------------------------------------------
    @staticmethod
    def _entry(
        company: Company,
        action: str,
        *,
        at: datetime = AT,
        acted_by: str = "u1",
        outcome: Outcome = Outcome.ALLOWED,
    ) -> AuditEntry:
        return AuditEntry(
            company_id=company.id,
            at=at,
            acted_by=acted_by,
            on_behalf_of=acted_by,
            action=action,
            target=f"company:{company.id}",
            outcome=outcome,
        )

    def test_audit_log_is_per_company_in_time_order_with_filters(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        with store.unit_of_work() as uow:
            uow.audit.append(self._entry(a, "user.invite", at=AT + timedelta(minutes=2)))
            uow.audit.append(self._entry(a, "order.place", at=AT, acted_by="agent-1"))
            uow.audit.append(
                self._entry(a, "order.place", at=AT + timedelta(hours=1), outcome=Outcome.DENIED)
            )
            uow.audit.append(self._entry(b, "order.place", at=AT))
            uow.commit()
        with store.unit_of_work() as uow:
            all_a = list(uow.audit.list(company_id=a.id))
            by_agent = list(uow.audit.list(company_id=a.id, acted_by="agent-1"))
            placed = list(uow.audit.list(company_id=a.id, action="order.place"))
            denied = list(uow.audit.list(company_id=a.id, outcome=Outcome.DENIED))
            window = list(
                uow.audit.list(
                    company_id=a.id, since=AT + timedelta(minutes=1), until=AT + timedelta(hours=1)
                )
            )
        assert [e.at for e in all_a] == sorted(e.at for e in all_a)
        assert [e.action for e in all_a] == ["order.place", "user.invite", "order.place"]
        assert all(e.company_id == a.id for e in all_a)
        assert [e.acted_by for e in by_agent] == ["agent-1"]
        assert len(placed) == 2
        assert [e.outcome for e in denied] == [Outcome.DENIED]
        assert [e.action for e in window] == ["user.invite"]

    # -- outbox and audit rows inside their unit of work ---------------------------------
    # A store may hold these append-only rows back until the commit: the unit of work
    # must still read its own, and an undone unit must leave none behind.
    def _outbox_ids(self, uow: Any, company: Company) -> tuple[list[str], list[str]]:
        """(the company's outbox ids, its ids among the pending records), in order."""
        listed = [r.id for r in uow.outbox.list(company_id=company.id, limit=1000)]
        pending = [r.id for r in uow.outbox.pending(limit=1000) if r.company_id == company.id]
        return listed, pending

    def test_outbox_and_audit_rows_are_read_back_in_their_unit(self, store: Store) -> None:
        company = self.seed(store)
        first = self._entry(company, "company.rename")
        later = self._entry(company, "user.invite", at=AT + timedelta(minutes=1))
        with store.unit_of_work() as uow:
            record = uow.outbox.add(self._created(company))
            uow.audit.append(first)
            (pending,) = (r for r in uow.outbox.pending(limit=1000) if r.id == record.id)
            assert (pending.event_type, pending.company_id, pending.status) == (
                "accounts.company_created",
                company.id,
                OutboxStatus.PENDING,
            )
            assert self._outbox_ids(uow, company) == ([record.id], [record.id])
            assert list(uow.audit.list(company_id=company.id)) == [first]
            uow.audit.append(later)  # after a read, too
            second = uow.outbox.add(self._created(company))
            assert list(uow.audit.list(company_id=company.id)) == [first, later]
            assert self._outbox_ids(uow, company) == ([record.id, second.id],) * 2
            uow.commit()
        with store.unit_of_work() as uow:
            assert list(uow.audit.list(company_id=company.id)) == [first, later]
            assert self._outbox_ids(uow, company) == ([record.id, second.id],) * 2

    def test_outbox_and_audit_rows_of_an_undone_unit_are_not_written(self, store: Store) -> None:
        company = self.seed(store)
        for read_back in (False, True):  # rows still held back, or read (so written) already
            with store.unit_of_work() as uow:  # left without commit
                uow.outbox.add(self._created(company))
                uow.audit.append(self._entry(company, "company.rename"))
                if read_back:
                    assert len(uow.audit.list(company_id=company.id).items) == 1
                    assert len(self._outbox_ids(uow, company)[0]) == 1
            with store.unit_of_work() as uow:  # rolled back, then used for another change
                uow.outbox.add(self._created(company))
                uow.audit.append(self._entry(company, "company.rename"))
                if read_back:
                    assert len(uow.audit.list(company_id=company.id).items) == 1
                    assert len(self._outbox_ids(uow, company)[1]) == 1
                uow.rollback()
                assert uow.audit.list(company_id=company.id).items == ()
                assert self._outbox_ids(uow, company) == ([], [])
                uow.business_units.add(_unit(company, f"after-{read_back}".lower(), "hq"))
                uow.commit()
        with store.unit_of_work() as uow:
            assert uow.audit.list(company_id=company.id).items == ()
            assert self._outbox_ids(uow, company) == ([], [])
            units = _all(
                lambda c: uow.business_units.list(company_id=company.id, limit=100, cursor=c)
            )
            assert sorted(u.id for u in units) == ["after-false", "after-true", "hq"]

    # -- idempotency -------------------------------------------------------------------
    def test_idempotency_key_returns_the_first_result(self, store: Store) -> None:
        a, b = self.seed(store), self.seed(store)
        with store.unit_of_work() as uow:
            assert uow.idempotency.recall("k-1", company_id=a.id, fingerprint="f") is None
            uow.idempotency.remember("k-1", company_id=a.id, fingerprint="f", result="o-1", at=AT)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.idempotency.recall("k-1", company_id=a.id, fingerprint="f") == "o-1"
            assert uow.idempotency.recall("k-1", company_id=b.id, fingerprint="f") is None
            with pytest.raises(ConflictError):
                uow.idempotency.recall("k-1", company_id=a.id, fingerprint="other request")
            with pytest.raises(DuplicateError):
                uow.idempotency.remember(
                    "k-1", company_id=a.id, fingerprint="f", result="o-2", at=AT
                )

    # -- concurrency -------------------------------------------------------------------
    def _race(self, workers: int, work: Callable[[int], None]) -> list[BaseException | None]:
        barrier = threading.Barrier(workers)
        outcomes: list[BaseException | None] = [None] * workers

        def run(i: int) -> None:
            barrier.wait()
            try:
                work(i)
            except Exception as e:  # noqa: BLE001 - collected and asserted by the caller
                outcomes[i] = e

        threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a worker hung"
        return outcomes

    def test_threads_updating_one_version_exactly_one_wins(self, store: Store) -> None:
        company = self.seed(store)
        with store.unit_of_work() as uow:
            read = uow.companies.get(company.id)

        def work(i: int) -> None:
            mine = Company(id=read.id, name=f"writer {i}", country=read.country, version=1)
            with store.unit_of_work() as uow:
                uow.companies.update(mine)
                uow.commit()

        outcomes = self._race(8, work)
        winners = [i for i, o in enumerate(outcomes) if o is None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            final = uow.companies.get(company.id)
        assert (final.name, final.version) == (f"writer {winners[0]}", 2)

    def test_threads_retrying_on_conflict_lose_no_update(self, store: Store) -> None:
        company = self.seed(store)
        per_thread = 5

        def work(i: int) -> None:
            for n in range(per_thread):
                while True:
                    try:
                        with store.unit_of_work() as uow:
                            unit = uow.business_units.get(
                                BusinessUnitId("hq"), company_id=company.id
                            )
                            unit.cost_center = f"{unit.cost_center or ''}[{i}.{n}]"
                            uow.business_units.update(unit)
                            uow.commit()
                        break
                    except ConflictError:
                        continue

        outcomes = self._race(4, work)
        assert outcomes == [None] * 4
        with store.unit_of_work() as uow:
            unit = uow.business_units.get(BusinessUnitId("hq"), company_id=company.id)
        marks = (unit.cost_center or "").strip("[]").split("][")
        assert sorted(marks) == sorted(f"{i}.{n}" for i in range(4) for n in range(per_thread))
        assert unit.version == 1 + 4 * per_thread

    def test_threads_claiming_one_idempotency_key_exactly_one_wins(self, store: Store) -> None:
        company = self.seed(store)

        def work(i: int) -> None:
            with store.unit_of_work() as uow:
                if uow.idempotency.recall("pay-1", company_id=company.id, fingerprint="f"):
                    raise DuplicateError("idempotency key", "pay-1")
                uow.idempotency.remember(
                    "pay-1", company_id=company.id, fingerprint="f", result=f"r{i}", at=AT
                )
                uow.commit()

        outcomes = self._race(6, work)
        winners = [i for i, o in enumerate(outcomes) if o is None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, ConflictError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            result = uow.idempotency.recall("pay-1", company_id=company.id, fingerprint="f")
        assert result == f"r{winners[0]}"

    def test_threads_adding_one_unique_email_exactly_one_wins(self, store: Store) -> None:
        company = self.seed(store)

        def work(i: int) -> None:
            with store.unit_of_work() as uow:
                uow.users.add(_user(company, f"u{i}", "race@acme.example"))
                uow.commit()

        outcomes = self._race(6, work)
        assert sum(o is None for o in outcomes) == 1, outcomes
        assert all(isinstance(o, DuplicateError) for o in outcomes if o is not None), outcomes
        with store.unit_of_work() as uow:
            assert len(uow.users.list(company_id=company.id)) == 1
