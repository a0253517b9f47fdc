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
(exactly one wins, nothing lost when losers retry).

Every test uses its own fresh company ids (and price list ids), so a store may also
be shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
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
from b2bcore.audit import AuditEntry, Outcome
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
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from b2bcore.events import DomainEvent, OutboxStatus
from b2bcore.ids import (
    AgentId,
    AssistedSessionId,
    BusinessUnitId,
    CategoryId,
    CompanyId,
    LocationId,
    PriceListId,
    ProductId,
    RelationRuleId,
    ReservationId,
    RoleId,
    Sku,
    UserId,
    new_id,
)
from b2bcore.money import Money, RoundingMode
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
from b2bcore.storage.dispatch import dispatch
from b2bcore.storage.ports import Store

__all__ = ["StoreContract"]

T = TypeVar("T")
AT = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


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
