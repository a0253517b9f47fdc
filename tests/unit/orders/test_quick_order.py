"""Quick order (``OrdersService.place_order``) through the portal, on MemoryStore and
SQLite: one unit of work that checks, prices, authorizes, reserves and places like
create_cart + add_to_cart + checkout together — and keeps nothing when it fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.audit import Outcome
from b2bcore.errors import (
    B2BCoreError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import CompanyId, PriceListId, Sku
from b2bcore.money import Money
from b2bcore.orders import NotOrderableCartError, Order, OrderPlaced, OrderStatus
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import PriceList, PriceRule, PriceScope, RuleTarget
from b2bcore.serialization import event_from_record
from b2bcore.storage.ports import Store

ANA = Actor.user("acme", "ana")
BEN = Actor.user("acme", "ben")
CLARA = Actor.user("acme", "clara")
FINN = Actor.user("acme", "finn")
D = Decimal
YEAR = datetime(2026, 1, 1, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def reserved(store: Store, sku: str) -> Decimal:
    with store.unit_of_work() as uow:
        return sum((lv.reserved for lv in uow.stock_levels.for_sku(Sku(sku))), Decimal(0))


def trail(portal: Portal, action: str) -> list[Outcome]:
    entries = iterate(lambda c: portal.accounts.audit_trail(ANA, action=action, cursor=c))
    return [e.outcome for e in entries]


def orders_of(portal: Portal) -> list[Order]:
    return list(iterate(lambda c: portal.orders.order_history(ANA, cursor=c)))


def placed_events(store: Store) -> list[OrderPlaced]:
    with store.unit_of_work() as uow:
        records = uow.outbox.list(company_id=CompanyId("acme"), limit=1000).items
    return [e for e in map(event_from_record, records) if isinstance(e, OrderPlaced)]


def test_a_quick_order_is_checked_priced_and_placed_like_a_checkout(
    portal: Portal, store: Store
) -> None:
    quick = portal.orders.place_order(
        BEN,
        [("SEAL-7", 4), ("PUMP-1", 2)],
        currency="EUR",
        reference="Hall 3",
        po_number="PO-77",
    )
    assert quick.status is OrderStatus.PLACED
    assert (quick.requester_id, quick.placed_by, quick.business_unit_id) == ("ben", "ben", "line")
    assert (quick.cost_center, quick.cart_id, quick.po_number) == ("CC-4711", None, "PO-77")
    assert quick.total == eur("2323.60") == sum((li.net for li in quick.lines), eur("0"))
    assert [(li.sku, li.quantity, li.unit_price) for li in quick.lines] == [
        ("SEAL-7", D(4), eur("18.40")),
        ("PUMP-1", D(2), eur("1125.00")),  # ACME's contract price, pinned with its explanation
    ]
    assert quick.lines[1].price.price_list_id == "acme-2026"
    assert "globex" not in quick.lines[0].price.explanation.text()
    assert (reserved(store, "SEAL-7"), reserved(store, "PUMP-1")) == (D(4), D(2))
    assert portal.orders.carts(BEN).items == ()  # no cart was stored
    assert [(e.order_id, e.total) for e in placed_events(store)] == [(quick.id, quick.total)]
    assert trail(portal, "order.place") == [Outcome.ALLOWED]

    # The same lines through a cart cost exactly the same.
    cart = portal.orders.create_cart(CLARA, currency="EUR")
    for sku, quantity in (("SEAL-7", 4), ("PUMP-1", 2)):
        portal.orders.add_to_cart(CLARA, cart.id, sku, quantity)
    checked_out = portal.orders.checkout(CLARA, cart.id)
    assert [(li.sku, li.quantity, li.unit_price, li.net) for li in checked_out.lines] == [
        (li.sku, li.quantity, li.unit_price, li.net) for li in quick.lines
    ]
    assert checked_out.total == quick.total


def test_lines_may_be_a_mapping_and_a_sku_twice_is_one_line(portal: Portal) -> None:
    twice = portal.orders.place_order(BEN, [("SEAL-7", 2), ("SEAL-7", 4)], currency="EUR")
    assert [(li.sku, li.quantity) for li in twice.lines] == [("SEAL-7", D(6))]
    mapped = portal.orders.place_order(BEN, {"PUMP-1": "1", "SEAL-7": 2}, currency="EUR")
    assert [(li.sku, li.quantity) for li in mapped.lines] == [("PUMP-1", D(1)), ("SEAL-7", D(2))]
    office = portal.orders.place_order(
        CLARA, [("PUMP-1", 1)], currency="EUR", business_unit_id="office"
    )
    assert office.business_unit_id == "office"


def test_a_bad_quick_order_names_each_bad_line_and_keeps_nothing(
    portal: Portal, store: Store
) -> None:
    with pytest.raises(NotOrderableCartError) as e:
        portal.orders.place_order(
            BEN,
            [("SEAL-7", 4), ("NOPE", 1), ("VALVE-2", 1), ("SEAL-6", 2), ("SEAL-7", 1)],
            currency="EUR",
        )
    assert str(e.value).startswith("the quick order cannot be ordered: ")
    assert e.value.cart_id == ""
    found = {(p.sku, p.code, p.successor_sku) for p in e.value.problems}
    assert found == {
        ("NOPE", "unknown_product", None),
        ("VALVE-2", "outside_assortment", None),
        ("SEAL-6", "discontinued", "SEAL-7"),
        ("SEAL-7", "quantity_rule", None),  # 4 + 1 = 5: steps of 2
    }
    with pytest.raises(NotOrderableCartError) as e:
        portal.orders.place_order(BEN, [("SEAL-7", 4), ("PUMP-1", 6)], currency="EUR")
    assert [(p.sku, p.code) for p in e.value.problems] == [("PUMP-1", "insufficient_stock")]
    assert (reserved(store, "SEAL-7"), reserved(store, "PUMP-1")) == (D(0), D(0))
    assert orders_of(portal) == []
    assert placed_events(store) == []
    assert trail(portal, "order.place") == [Outcome.FAILED, Outcome.FAILED]


def test_the_buy_limit_and_idempotency_keys_hold(portal: Portal, store: Store) -> None:
    with pytest.raises(PermissionDeniedError) as e:
        portal.orders.place_order(FINN, [("SEAL-7", 6)], currency="EUR")  # 110.40 > 100.00
    assert (e.value.decision_code, e.value.permission) == ("over_limit", "orders.buy")
    assert reserved(store, "SEAL-7") == 0

    first = portal.orders.place_order(BEN, [("SEAL-7", 4)], currency="EUR", idempotency_key="k-1")
    again = portal.orders.place_order(BEN, [("SEAL-7", 4)], currency="EUR", idempotency_key="k-1")
    assert again == first
    assert reserved(store, "SEAL-7") == 4
    with pytest.raises(ConflictError, match="different request"):
        portal.orders.place_order(BEN, [("SEAL-7", 6)], currency="EUR", idempotency_key="k-1")
    assert [o.id for o in orders_of(portal)] == [first.id]
    assert trail(portal, "order.place") == [
        Outcome.DENIED,
        Outcome.ALLOWED,
        Outcome.ALLOWED,
        Outcome.FAILED,
    ]


class _ThresholdGate:
    def __init__(self, limit: Money) -> None:
        self.limit = limit

    def requires_approval(self, uow: Any, order: Order, /) -> bool:
        return order.total > self.limit

    def submit(self, uow: Any, actor: Actor, order: Order, /) -> str | None:
        return f"flow-{order.id}"


def test_a_quick_order_over_the_policy_waits_for_approval(portal: Portal, store: Store) -> None:
    portal.orders.approval_gate = _ThresholdGate(eur("500.00"))
    small = portal.orders.place_order(BEN, [("SEAL-7", 4)], currency="EUR")
    big = portal.orders.place_order(BEN, [("PUMP-1", 1)], currency="EUR")
    assert (small.status, big.status) == (OrderStatus.PLACED, OrderStatus.PENDING_APPROVAL)
    assert big.approval_flow_id == f"flow-{big.id}"
    assert reserved(store, "PUMP-1") == 1


def test_bad_arguments_are_validation_errors(portal: Portal, store: Store) -> None:
    place = portal.orders.place_order
    bad_calls: list[Callable[[], object]] = [
        lambda: place(BEN, [], currency="EUR"),
        lambda: place(BEN, "SEAL-7", currency="EUR"),  # type: ignore[arg-type]
        lambda: place(BEN, [("SEAL-7",)], currency="EUR"),  # type: ignore[list-item]
        lambda: place(BEN, [("SEAL-7", 0)], currency="EUR"),
        lambda: place(BEN, [("SEAL-7", -2)], currency="EUR"),
        lambda: place(BEN, [("SEAL-7", 1.5)], currency="EUR"),  # type: ignore[list-item]
        lambda: place(BEN, [(" bad", 2)], currency="EUR"),
        lambda: place(BEN, [("SEAL-7", 2)], currency="XXX1"),
        lambda: place(BEN, [("SEAL-7", 2)], currency="EUR", idempotency_key=""),
        lambda: place(BEN, [("SEAL-7", 2)], currency="EUR", po_number="x" * 51),
        lambda: place("ben", [("SEAL-7", 2)], currency="EUR"),  # type: ignore[arg-type]
    ]
    for call in bad_calls:
        with pytest.raises(ValidationError):
            call()
    with pytest.raises(NotFoundError):
        place(BEN, [("SEAL-7", 2)], currency="EUR", business_unit_id="nowhere")
    with pytest.raises(ValidationError, match="not one of the user's units"):
        place(BEN, [("SEAL-7", 2)], currency="EUR", business_unit_id="office")
    assert reserved(store, "SEAL-7") == 0
    assert orders_of(portal) == []


SKUS = st.sampled_from(["SEAL-7", "PUMP-1", "HOSE-3", "VALVE-2", "SEAL-6", "NOPRICE", "NOPE", " "])
QUANTITIES = st.one_of(
    st.integers(min_value=-3, max_value=12),
    st.decimals(min_value=-2, max_value=12, places=2, allow_nan=False),
    st.sampled_from(["2", "abc", "1e3", None]),
)


ORDERABLE = st.one_of(
    st.tuples(st.just("SEAL-7"), st.sampled_from([2, 4, 6, "8", D("2.00")])),
    st.tuples(st.just("PUMP-1"), st.integers(min_value=1, max_value=2)),
)
LINES = st.lists(st.one_of(ORDERABLE, ORDERABLE, st.tuples(SKUS, QUANTITIES)), max_size=4)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(lines=LINES)
def test_any_quick_order_is_placed_whole_or_leaves_the_store_as_it_was(
    portal: Portal, store: Store, lines: list[tuple[str, object]]
) -> None:
    def state() -> tuple[list[str], dict[str, Decimal], int]:
        stock = {sku: reserved(store, sku) for sku in ("SEAL-7", "PUMP-1", "NOPRICE")}
        return [o.id for o in orders_of(portal)], stock, len(placed_events(store))

    before = state()
    try:
        order = portal.orders.place_order(BEN, lines, currency="EUR")  # type: ignore[arg-type]
    except B2BCoreError as e:
        event(f"refused: {type(e).__name__}")
        assert state() == before
        return
    event("placed")
    assert order.total == sum((li.net for li in order.lines), eur("0"))
    ids, stock, events = state()
    assert ids == [order.id, *before[0]]  # newest first
    assert events == before[2] + 1
    for line in order.lines:
        if line.sku in stock:
            assert stock[line.sku] == before[1][line.sku] + line.quantity


def test_commands_price_with_lists_published_since_and_cache_them_again(portal: Portal) -> None:
    portal.orders.place_order(BEN, [("SEAL-7", 2)], currency="EUR")
    assert portal.pricing.cached_index("EUR") is not None
    portal.pricing.publish_price_list(
        operator_id="op-olga",
        price_list=PriceList(
            id=PriceListId("acme-seals"),
            name="ACME seals",
            currency="EUR",
            valid_from=YEAR,
            scope=PriceScope(companies={"acme"}),
            rules=[PriceRule(id="seal", target=RuleTarget.sku("SEAL-7"), price=eur("17.90"))],
        ),
    )
    assert portal.pricing.cached_index("EUR") is None  # the publication dropped it
    cart = portal.orders.create_cart(BEN, currency="EUR")
    portal.orders.add_to_cart(BEN, cart.id, "SEAL-7", 2)  # priced inside its unit of work
    assert portal.pricing.cached_index("EUR") is not None  # ... and cached afterwards
    order = portal.orders.checkout(BEN, cart.id)
    assert (order.lines[0].unit_price, order.lines[0].price.price_list_id) == (
        eur("17.90"),
        "acme-seals",
    )
    quick = portal.orders.place_order(BEN, [("SEAL-7", 2)], currency="EUR")
    assert quick.lines[0].unit_price == eur("17.90")
