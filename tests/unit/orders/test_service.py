"""Orders through the portal, on MemoryStore and SQLite: carts checked line by line,
checkout in one unit of work (idempotent, limits, stock, approvals), the lifecycle,
shipments and tracking, invoices, quotes, shopping lists, reorder and who sees what."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.audit import Outcome
from b2bcore.catalog import Product, ReservationStatus
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    B2BCoreError,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import CompanyId, PriceListId, Sku
from b2bcore.money import Money
from b2bcore.orders import (
    ApprovalCompletion,
    ApprovalResult,
    CartStatus,
    InvoiceStatus,
    NotOrderableCartError,
    Order,
    OrderPlaced,
    OrderStatus,
    PaymentTerms,
    QuantityExceededError,
    QuoteExpiredError,
    QuoteStatus,
    ReorderChange,
    TrackingStatus,
)
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import PriceList, PriceRule, PriceScope, RuleTarget
from b2bcore.serialization import event_from_record
from b2bcore.storage.ports import Store

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
OP = Actor.operator_for("acme", "op-olga")

ANA = Actor.user("acme", "ana")
BEN = Actor.user("acme", "ben")
CLARA = Actor.user("acme", "clara")
DORA = Actor.user("acme", "dora")
FINN = Actor.user("acme", "finn")
GIA = Actor.user("globex", "gia")
D = Decimal


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def cart_with(portal: Portal, actor: Actor, *lines: tuple[str, int]) -> str:
    cart = portal.orders.create_cart(actor, currency="EUR")
    for sku, quantity in lines:
        portal.orders.add_to_cart(actor, cart.id, sku, quantity)
    return cart.id


def place(portal: Portal, actor: Actor, *lines: tuple[str, int], **options: Any) -> Order:
    return portal.orders.checkout(actor, cart_with(portal, actor, *lines), **options)


def reserved(store: Store, sku: str) -> Decimal:
    with store.unit_of_work() as uow:
        return sum((lv.reserved for lv in uow.stock_levels.for_sku(Sku(sku))), Decimal(0))


def trail(portal: Portal, action: str) -> list[Outcome]:
    entries = iterate(lambda c: portal.accounts.audit_trail(ANA, action=action, cursor=c))
    return [e.outcome for e in entries]


# --- carts -------------------------------------------------------------------------------


def test_each_cart_line_is_checked_with_a_clear_error(portal: Portal) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 2))
    cases = {
        "NOPE": ("unknown_product", None),
        "VALVE-2": ("outside_assortment", None),
        "SEAL-6": ("discontinued", "SEAL-7"),
        "NOPRICE": ("no_price", None),
    }
    for sku, (code, successor) in cases.items():
        with pytest.raises(NotOrderableCartError) as e:
            portal.orders.add_to_cart(BEN, cart, sku, 2)
        (problem,) = e.value.problems
        assert (problem.index, problem.sku, problem.code, problem.successor_sku) == (
            1,
            sku,
            code,
            successor,
        )
    with pytest.raises(NotOrderableCartError) as e:
        portal.orders.add_to_cart(BEN, cart, "SEAL-7", 1)  # 2 + 1 = 3, steps of 2
    (problem,) = e.value.problems
    assert (problem.code, problem.lower, problem.higher) == ("quantity_rule", D(2), D(4))
    assert "nearest valid: 2 or 4" in str(e.value)
    assert [(line.sku, line.quantity) for line in portal.orders.get_cart(BEN, cart).lines] == [
        ("SEAL-7", D(2))
    ]
    assert trail(portal, "cart.add").count(Outcome.FAILED) == 5


def test_carts_are_private_to_their_owner(portal: Portal) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 2))
    for other in (CLARA, ANA):
        with pytest.raises(NotFoundError):
            portal.orders.get_cart(other, cart)
        with pytest.raises(NotFoundError):
            portal.orders.add_to_cart(other, cart, "SEAL-7", 2)
    with pytest.raises(NotFoundError):
        portal.orders.get_cart(GIA, cart)
    assert [c.id for c in portal.orders.carts(BEN)] == [cart]
    assert portal.orders.carts(CLARA).items == ()
    with pytest.raises(PermissionDeniedError):
        portal.orders.create_cart(DORA, currency="EUR")  # a viewer does not buy
    with pytest.raises(ValidationError):
        portal.orders.create_cart(BEN, currency="EURO")
    with pytest.raises(ValidationError, match="not one of the user's units"):
        portal.orders.create_cart(BEN, currency="EUR", business_unit_id="office")


def test_review_prices_the_cart_and_reports_stock_per_line(portal: Portal) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 6), ("HOSE-3", 1))
    review = portal.orders.review_cart(BEN, cart)
    assert not review.ok
    assert review.total is None
    assert [(p.sku, p.code) for p in review.problems] == [
        ("PUMP-1", "insufficient_stock"),
        ("HOSE-3", "insufficient_stock"),
    ]
    assert "5 available" in review.problems[0].message or "5 now" in review.problems[0].message
    portal.orders.set_cart_quantity(BEN, cart, "PUMP-1", 2)
    portal.orders.remove_from_cart(BEN, cart, "HOSE-3")
    review = portal.orders.review_cart(BEN, cart)
    assert review.ok
    assert review.total == eur("2323.60")  # 4 x 18.40 + 2 x 1125.00 (contract -10%)
    assert review.cost_center == "CC-4711"  # the nearest unit up the tree that has one
    pump = review.lines[1]
    assert pump.amount == eur("2250.00")
    assert pump.categories == ("spares", "pumps")
    assert pump.priced is not None
    assert "globex" not in pump.priced.quote.explanation.text()
    seal = review.lines[0].priced
    assert seal is not None
    assert "globex" not in seal.quote.explanation.text()  # another buyer's deal stays hidden


# --- checkout ------------------------------------------------------------------------------


def test_checkout_places_reserves_and_closes_the_cart(portal: Portal, store: Store) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 2))
    order = portal.orders.checkout(BEN, cart, reference="Hall 3", po_number="PO-77")
    assert order.status is OrderStatus.PLACED
    assert (order.requester_id, order.placed_by, order.business_unit_id) == ("ben", "ben", "line")
    assert (order.cost_center, order.cart_id, order.po_number) == ("CC-4711", cart, "PO-77")
    assert order.total == eur("2323.60") == sum((li.net for li in order.lines), eur("0"))
    pump = order.lines[1]
    assert (pump.sku, pump.unit_price, pump.price.price_list_id) == (
        "PUMP-1",
        eur("1125.00"),
        "acme-2026",
    )
    assert "lost" in pump.price.explanation.text()  # the explanation is pinned with the price
    assert "globex" not in order.lines[0].price.explanation.text()
    assert portal.orders.get_cart(BEN, cart).status is CartStatus.ORDERED
    assert (reserved(store, "SEAL-7"), reserved(store, "PUMP-1")) == (D(4), D(2))
    assert portal.orders.get_order(BEN, order.id) == order
    with store.unit_of_work() as uow:
        events = [
            event_from_record(r) for r in uow.outbox.list(company_id=CompanyId("acme"), limit=1000)
        ]
    placed = [e for e in events if isinstance(e, OrderPlaced)]
    assert [(e.order_id, e.total) for e in placed] == [(order.id, order.total)]
    assert trail(portal, "order.place") == [Outcome.ALLOWED]
    with pytest.raises(ConflictError, match="already ordered"):
        portal.orders.checkout(BEN, cart)
    with pytest.raises(ConflictError):
        portal.orders.add_to_cart(BEN, cart, "SEAL-7", 2)


def test_a_failed_checkout_keeps_nothing(portal: Portal, store: Store) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 2))
    portal.catalog.set_stock(operator_id="op-olga", sku="PUMP-1", location="leipzig", on_hand=1)
    with pytest.raises(NotOrderableCartError) as e:
        portal.orders.checkout(BEN, cart)
    assert [(p.index, p.code) for p in e.value.problems] == [(1, "insufficient_stock")]
    assert portal.orders.get_cart(BEN, cart).status is CartStatus.OPEN
    assert reserved(store, "SEAL-7") == 0
    assert portal.orders.order_history(ANA).items == ()
    assert trail(portal, "order.place") == [Outcome.FAILED]
    empty = portal.orders.create_cart(BEN, currency="EUR")
    with pytest.raises(ValidationError, match="empty"):
        portal.orders.checkout(BEN, empty.id)


def test_the_buy_limit_is_checked_against_the_total(portal: Portal, store: Store) -> None:
    small = place(portal, FINN, ("SEAL-7", 4))
    assert small.total == eur("73.60")
    cart = cart_with(portal, FINN, ("SEAL-7", 6))
    with pytest.raises(PermissionDeniedError) as e:
        portal.orders.checkout(FINN, cart)  # 110.40 EUR > 100.00 EUR
    assert (e.value.decision_code, e.value.permission) == ("over_limit", "orders.buy")
    assert trail(portal, "order.place") == [Outcome.ALLOWED, Outcome.DENIED]
    assert reserved(store, "SEAL-7") == 4
    assert portal.orders.get_cart(FINN, cart).status is CartStatus.OPEN


def test_an_idempotency_key_returns_the_same_order(portal: Portal, store: Store) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 4))
    first = portal.orders.checkout(BEN, cart, idempotency_key="k-1", po_number="PO-1")
    again = portal.orders.checkout(BEN, cart, idempotency_key="k-1", po_number="PO-1")
    assert again == first
    assert reserved(store, "SEAL-7") == 4
    with pytest.raises(ConflictError, match="different request"):
        portal.orders.checkout(BEN, cart, idempotency_key="k-1", po_number="PO-2")
    assert len(portal.orders.order_history(ANA)) == 1


def test_concurrent_checkouts_with_one_key_make_one_order(portal: Portal, store: Store) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 1))
    barrier = threading.Barrier(4)
    results: list[Order | BaseException | None] = [None] * 4

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = portal.orders.checkout(BEN, cart, idempotency_key="same")
        except Exception as e:  # collected and asserted below
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, Order) for r in results), results
    assert len({r.id for r in results if isinstance(r, Order)}) == 1
    assert len(portal.orders.order_history(ANA)) == 1
    assert (reserved(store, "SEAL-7"), reserved(store, "PUMP-1")) == (D(4), D(1))


def test_an_agent_orders_for_the_customer(portal: Portal) -> None:
    portal.accounts.register_agent(
        operator_id="op-olga", agent_id="sam", name="Sam", email="sam@seller.example"
    )
    session = portal.accounts.start_assisted_session(
        agent_id="sam",
        company_id="acme",
        customer_user_id="ben",
        reason="phone order",
        permissions=[Permission.ORDERS_BUY, Permission.ORDERS_VIEW],
    )
    sam = Actor.assisted(session)
    order = place(portal, sam, ("SEAL-7", 2))
    assert (order.requester_id, order.placed_by, order.assisted_session_id) == (
        "ben",
        "sam",
        session.id,
    )
    assert portal.orders.get_order(BEN, order.id) == order
    (entry,) = iterate(lambda c: portal.accounts.audit_trail(ANA, action="order.place", cursor=c))
    assert (entry.acted_by, entry.on_behalf_of, entry.by_agent) == ("sam", "ben", True)


# --- approvals ------------------------------------------------------------------------------


class ThresholdGate:
    """Orders over ``limit`` need approval; records what it was asked."""

    def __init__(self, limit: Money) -> None:
        self.limit = limit
        self.submitted: list[str] = []

    def requires_approval(self, uow: Any, order: Order, /) -> bool:
        return order.total > self.limit

    def submit(self, uow: Any, actor: Actor, order: Order, /) -> str | None:
        self.submitted.append(order.id)
        return f"flow-{order.id}"


def test_an_order_over_the_policy_waits_locked_for_approval(portal: Portal, store: Store) -> None:
    gate = ThresholdGate(eur("500.00"))
    portal.orders.approval_gate = gate
    small = place(portal, BEN, ("SEAL-7", 4))
    big = place(portal, BEN, ("PUMP-1", 1))
    assert (small.status, big.status) == (OrderStatus.PLACED, OrderStatus.PENDING_APPROVAL)
    assert (gate.submitted, big.approval_flow_id) == ([big.id], f"flow-{big.id}")
    assert reserved(store, "PUMP-1") == 1  # held while it waits
    with pytest.raises(InvalidTransitionError) as e:
        portal.orders.confirm_order(OP, big.id)
    assert (e.value.from_state, e.value.to_state) == ("pending_approval", "confirmed")
    with pytest.raises(ConflictError):
        portal.orders.issue_invoice(OP, big.id)

    approved = ApprovalCompletion(
        company_id="acme",
        order_id=big.id,
        result=ApprovalResult.APPROVED,
        decided_by="ana",
        at=NOW,
        flow_id=f"flow-{big.id}",
        reason="within budget",
    )
    assert portal.orders.complete_approval(approved).status is OrderStatus.PLACED
    again = portal.orders.complete_approval(approved)  # at-least-once delivery: no change
    assert (again.status, again.version) == (OrderStatus.PLACED, 2)
    assert again.history[-1].reason == "within budget"
    with pytest.raises(ConflictError, match="not the approval flow"):
        portal.orders.complete_approval(
            ApprovalCompletion(
                company_id="acme",
                order_id=big.id,
                result=ApprovalResult.REJECTED,
                decided_by="ana",
                at=NOW,
                flow_id="flow-other",
            )
        )

    other = place(portal, BEN, ("PUMP-1", 2))
    rejected = portal.orders.complete_approval(
        ApprovalCompletion(
            company_id="acme",
            order_id=other.id,
            result=ApprovalResult.REJECTED,
            decided_by="ana",
            at=NOW,
        )
    )
    assert rejected.status is OrderStatus.CANCELLED
    assert reserved(store, "PUMP-1") == 1  # the rejected order's stock came back
    assert trail(portal, "order.approval").count(Outcome.ALLOWED) == 3


# --- the lifecycle ---------------------------------------------------------------------------


def test_ship_partially_track_deliver_and_close(
    portal: Portal, store: Store, clock: FixedClock
) -> None:
    order = place(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 2))
    with pytest.raises(PermissionDeniedError) as denied:
        portal.orders.confirm_order(BEN, order.id)
    assert denied.value.decision_code == "seller_only"
    portal.orders.confirm_order(OP, order.id, note="in stock")
    first = portal.orders.ship(
        OP, order.id, quantities={"PUMP-1": 1}, carrier="DHL", tracking_number="JD1"
    )
    assert portal.orders.get_order(BEN, order.id).status is OrderStatus.PARTIALLY_SHIPPED
    with pytest.raises(QuantityExceededError) as e:
        portal.orders.ship(
            OP, order.id, quantities={"PUMP-1": 2}, carrier="DHL", tracking_number="JD2"
        )
    assert (e.value.allowed, e.value.requested) == (D(1), D(2))
    with pytest.raises(InvalidTransitionError):
        portal.orders.cancel_order(BEN, order.id)  # something shipped already
    assert reserved(store, "PUMP-1") == 2
    clock.advance(timedelta(hours=3))
    second = portal.orders.ship(
        OP, order.id, quantities={"PUMP-1": 1, "SEAL-7": "4"}, carrier="UPS", tracking_number="1Z"
    )
    assert portal.orders.get_order(BEN, order.id).status is OrderStatus.SHIPPED
    assert (reserved(store, "PUMP-1"), reserved(store, "SEAL-7")) == (D(0), D(0))  # released
    portal.orders.record_tracking(OP, first.id, status=TrackingStatus.IN_TRANSIT, location="Hub")
    portal.orders.record_tracking(OP, first.id, status=TrackingStatus.DELIVERED)
    assert portal.orders.get_order(BEN, order.id).status is OrderStatus.SHIPPED
    clock.advance(timedelta(hours=3))
    portal.orders.record_tracking(OP, second.id, status=TrackingStatus.DELIVERED)
    portal.orders.record_tracking(OP, second.id, status=TrackingStatus.DELIVERED)  # repeated
    tracking = portal.orders.track_order(BEN, order.id)
    assert tracking.status is OrderStatus.DELIVERED
    assert [(t.sku, t.shipped, t.outstanding) for t in tracking.lines] == [
        ("SEAL-7", D(4), D(0)),
        ("PUMP-1", D(2), D(0)),
    ]
    assert [s.id for s in tracking.shipments] == [first.id, second.id]
    texts = [text for _at, text in tracking.timeline]
    assert texts[0] == "order placed"
    assert texts[-2:] == [f"shipment {second.id} delivered", "order delivered"]
    assert texts.index(f"shipment {first.id} in transit at Hub") < texts.index("order shipped")
    closed = portal.orders.close_order(OP, order.id)
    assert [h.to_status for h in closed.history] == [
        "placed",
        "confirmed",
        "partially_shipped",
        "shipped",
        "delivered",
        "closed",
    ]
    actions = {
        e.action: e.outcome
        for e in iterate(lambda c: portal.accounts.audit_trail(ANA, cursor=c))
        if e.action.startswith(("order.", "shipment."))
    }
    assert actions["order.close"] is Outcome.ALLOWED
    assert actions["shipment.track"] is Outcome.ALLOWED


def test_cancelling_releases_the_stock(portal: Portal, store: Store) -> None:
    order = place(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 2))
    with pytest.raises(PermissionDeniedError):
        portal.orders.cancel_order(DORA, order.id)  # a viewer may not
    with pytest.raises(PermissionDeniedError):
        portal.orders.cancel_order(CLARA, order.id)  # a buyer who cannot see it may not
    cancelled = portal.orders.cancel_order(BEN, order.id, reason="wrong pump")
    assert (cancelled.status, cancelled.history[-1].reason) == (OrderStatus.CANCELLED, "wrong pump")
    assert (reserved(store, "SEAL-7"), reserved(store, "PUMP-1")) == (D(0), D(0))
    with store.unit_of_work() as uow:
        held = uow.reservations.list(company_id=CompanyId("acme"), reference=order.id)
    assert {r.status for r in held} == {ReservationStatus.RELEASED}
    with pytest.raises(InvalidTransitionError):
        portal.orders.cancel_order(OP, order.id)


# --- history and who sees what -------------------------------------------------------------


def test_history_follows_each_view_scope_with_filters_and_pages(
    portal: Portal, clock: FixedClock
) -> None:
    mine = []
    for actor, sku in ((BEN, "SEAL-7"), (CLARA, "SEAL-7"), (BEN, "PUMP-1"), (FINN, "SEAL-7")):
        clock.advance(timedelta(minutes=1))
        mine.append(place(portal, actor, (sku, 2), po_number=f"PO-{actor.acted_by}"))
    ben1, clara1, ben2, finn1 = mine

    def ids(actor: Actor, **filters: Any) -> list[str]:
        return [
            o.id
            for o in iterate(
                lambda c: portal.orders.order_history(actor, limit=1, cursor=c, **filters)
            )
        ]

    assert ids(ANA) == [finn1.id, ben2.id, clara1.id, ben1.id]  # company scope, newest first
    assert ids(BEN) == [finn1.id, ben2.id, ben1.id]  # own unit "line" and below
    assert ids(CLARA) == [clara1.id]  # office
    assert ids(DORA) == []  # own orders only, and she has none
    assert ids(OP) == ids(ANA)  # the seller sees every order of the company
    assert ids(BEN, sku="PUMP-1") == [ben2.id]
    assert ids(ANA, requester_id="ben") == [ben2.id, ben1.id]
    assert ids(ANA, text="po-CLARA") == [clara1.id]
    assert ids(ANA, business_unit_id="office") == [clara1.id]
    assert ids(ANA, since=NOW + timedelta(minutes=2), until=NOW + timedelta(minutes=4)) == [
        ben2.id,
        clara1.id,
    ]
    portal.orders.cancel_order(BEN, ben1.id)
    assert ids(BEN, statuses=[OrderStatus.CANCELLED]) == [ben1.id]
    with pytest.raises(PermissionDeniedError) as e:
        portal.orders.get_order(CLARA, ben1.id)
    assert e.value.decision_code == "outside_view_scope"
    with pytest.raises(NotFoundError):
        portal.orders.get_order(GIA, ben1.id)
    assert portal.orders.order_history(GIA).items == ()
    page = portal.orders.order_history(ANA, limit=2)
    with pytest.raises(ValidationError):
        portal.orders.order_history(ANA, limit=2, cursor=page.next_cursor, sku="SEAL-7")


# --- invoices ----------------------------------------------------------------------------


def test_invoices_from_shipments_and_orders_with_terms_payments_and_credits(
    portal: Portal, clock: FixedClock
) -> None:
    order = place(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 2))
    portal.orders.confirm_order(OP, order.id)
    shipment = portal.orders.ship(
        OP, order.id, quantities={"PUMP-1": 1}, carrier="DHL", tracking_number="JD1"
    )
    first = portal.orders.issue_invoice(OP, order.id, shipment_id=shipment.id)
    assert (first.total, first.terms, first.due_date.isoformat()) == (
        eur("1125.00"),
        PaymentTerms(30),
        "2026-07-01",
    )
    with pytest.raises(ConflictError, match="invoiced already"):
        portal.orders.issue_invoice(OP, order.id, shipment_id=shipment.id)
    rest = portal.orders.issue_invoice(OP, order.id, terms=PaymentTerms(10))
    assert rest.total == order.total - first.total
    with pytest.raises(ConflictError, match="invoiced completely"):
        portal.orders.issue_invoice(OP, order.id)
    with pytest.raises(QuantityExceededError):
        portal.orders.issue_invoice(OP, order.id, quantities={"SEAL-7": 1})
    with pytest.raises(PermissionDeniedError):
        portal.orders.issue_invoice(BEN, order.id)

    portal.orders.record_payment(OP, first.id, eur("1000.00"), reference="bank 42")
    portal.orders.issue_credit_note(
        OP, first.id, eur("25.00"), reason="scratched", reference="claim-1"
    )
    balances = portal.orders.outstanding_balance(BEN)
    assert [(b.currency, b.outstanding, b.overdue, b.open_invoices) for b in balances] == [
        ("EUR", eur("100.00") + rest.total, eur("0.00"), 2)
    ]
    clock.advance(timedelta(days=15))  # the 10-day invoice is overdue now
    assert [i.id for i in portal.orders.invoices(BEN, status=InvoiceStatus.OVERDUE)] == [rest.id]
    assert portal.orders.get_invoice(BEN, rest.id).status_at(clock.now()) is InvoiceStatus.OVERDUE
    (balance,) = portal.orders.outstanding_balance(ANA)
    assert balance.overdue == rest.total
    portal.orders.record_payment(OP, first.id, eur("100.00"))
    assert portal.orders.get_invoice(ANA, first.id).status is InvoiceStatus.PAID
    assert [i.id for i in portal.orders.invoices(BEN, order_id=order.id)] == [first.id, rest.id]
    assert portal.orders.invoices(CLARA).items == ()
    assert portal.orders.invoices(DORA).items == ()
    with pytest.raises(ValidationError, match="more than the open balance"):
        portal.orders.record_payment(OP, first.id, eur("0.01"))


# --- quotes -----------------------------------------------------------------------------------


def test_quote_request_proposal_with_overrides_and_acceptance(
    portal: Portal, store: Store, clock: FixedClock
) -> None:
    with pytest.raises(NotOrderableCartError):
        portal.orders.request_quote(BEN, currency="EUR", lines=[("VALVE-2", 1)])
    quote = portal.orders.request_quote(
        BEN, currency="EUR", lines={"PUMP-1": 2, "SEAL-7": 10}, message="project Halle 3"
    )
    assert quote.status is QuoteStatus.REQUESTED
    with pytest.raises(PermissionDeniedError):
        portal.orders.propose_quote(BEN, quote.id, valid_until=NOW + timedelta(days=7))
    with pytest.raises(ValidationError, match="give the reason"):
        portal.orders.propose_quote(
            OP, quote.id, valid_until=NOW + timedelta(days=7), prices={"PUMP-1": eur("1000.00")}
        )
    proposed = portal.orders.propose_quote(
        OP,
        quote.id,
        valid_until=NOW + timedelta(days=7),
        prices={"PUMP-1": eur("1000.00")},
        reasons={"PUMP-1": "project price"},
    )
    assert proposed.status is QuoteStatus.PROPOSED
    assert proposed.total == eur("2184.00")  # 2 x 1000.00 + 10 x 18.40
    (entry,) = iterate(
        lambda c: portal.accounts.audit_trail(
            ANA, action="quote.propose", outcome=Outcome.ALLOWED, cursor=c
        )
    )
    assert "PUMP-1 1000.00 EUR (list 1125.00 EUR): project price" in entry.detail
    order = portal.orders.accept_quote(BEN, quote.id, idempotency_key="acc-1")
    assert order.total == eur("2184.00")
    pump = order.lines[0]
    assert pump.override is not None
    assert (pump.unit_price, pump.override.reason, pump.price.unit_price) == (
        eur("1000.00"),
        "project price",
        eur("1125.00"),
    )
    assert order.lines[1].override is not None  # the quoted price holds even if lists change
    assert portal.orders.accept_quote(BEN, quote.id, idempotency_key="acc-1") == order
    accepted = portal.orders.get_quote(BEN, quote.id)
    assert (accepted.status, accepted.order_id) == (QuoteStatus.ACCEPTED, order.id)
    assert reserved(store, "PUMP-1") == 2
    with pytest.raises(InvalidTransitionError):
        portal.orders.accept_quote(BEN, quote.id)

    late = portal.orders.request_quote(BEN, currency="EUR", lines=[("SEAL-7", 2)])
    portal.orders.propose_quote(OP, late.id, valid_until=NOW + timedelta(days=1))
    clock.advance(timedelta(days=2))
    with pytest.raises(QuoteExpiredError):
        portal.orders.accept_quote(BEN, late.id)
    assert [q.id for q in portal.orders.expire_quotes(OP)] == [late.id]
    assert portal.orders.get_quote(ANA, late.id).status is QuoteStatus.EXPIRED
    draft = portal.orders.request_quote(BEN, currency="EUR", lines=[("SEAL-7", 2)], submit=False)
    with pytest.raises(InvalidTransitionError):
        portal.orders.decline_quote(OP, draft.id)  # the seller never saw a draft
    portal.orders.submit_quote(BEN, draft.id)
    declined = portal.orders.decline_quote(OP, draft.id, reason="not sold separately")
    assert declined.status is QuoteStatus.DECLINED
    assert [q.id for q in portal.orders.quotes(CLARA)] == []
    assert [q.id for q in portal.orders.quotes(BEN, status=QuoteStatus.DECLINED)] == [draft.id]


# --- reorder and shopping lists -------------------------------------------------------------


def test_reorder_reports_every_line_and_never_changes_the_original(portal: Portal) -> None:
    portal.catalog.set_stock(operator_id="op-olga", sku="HOSE-3", location="leipzig", on_hand=9)
    order = place(portal, BEN, ("SEAL-7", 4), ("PUMP-1", 1), ("HOSE-3", 1))
    before = portal.orders.get_order(BEN, order.id)
    # Since then: SEAL-7 got a contract price, HOSE-3 left the assortment, and the
    # pump has a successor with a quantity rule.
    portal.pricing.publish_price_list(
        operator_id="op-olga",
        price_list=PriceList(
            id=PriceListId("acme-seals"),
            name="ACME seals",
            currency="EUR",
            valid_from=YEAR,
            scope=PriceScope(companies={"acme"}),
            rules=[PriceRule(id="seal", target=RuleTarget.sku("SEAL-7"), price=eur("17.50"))],
        ),
    )
    from b2bcore.catalog import Assortment, Selection

    stored = portal.catalog.assortments(OP)[0]
    portal.catalog.save_assortment(
        OP,
        Assortment(
            company_id="acme",
            exclude=Selection(skus={"VALVE-2", "HOSE-3"}),
            version=stored.version,
        ),
    )
    portal.catalog.save_product(
        operator_id="op-olga",
        product=Product(
            sku="PUMP-2",
            name="Pump unit II",
            category_id="pumps",
            list_price=eur("1300.00"),
            quantity_rule=__import__("b2bcore.pricing", fromlist=["QuantityRule"]).QuantityRule(
                sku=Sku("PUMP-2"), minimum=2
            ),
        ),
    )
    old_pump = portal.catalog.product("PUMP-1")
    old_pump.lifecycle = __import__(
        "b2bcore.catalog", fromlist=["Lifecycle"]
    ).Lifecycle.DISCONTINUED
    old_pump.successor_sku = Sku("PUMP-2")
    portal.catalog.save_product(operator_id="op-olga", product=old_pump)

    filled = portal.orders.reorder(BEN, order.id)
    report = {r.original_sku: r for r in filled.report}
    seal, pump, gone = report["SEAL-7"], report["PUMP-1"], report["HOSE-3"]
    assert seal.outcome is ReorderChange.PRICE_CHANGED
    assert (seal.old_unit_price, seal.new_unit_price) == (eur("18.40"), eur("17.50"))
    assert set(pump.changes) == {
        ReorderChange.REPLACED,
        ReorderChange.QUANTITY_ADJUSTED,
        ReorderChange.PRICE_CHANGED,
    }
    assert (pump.sku, pump.quantity, pump.new_unit_price) == ("PUMP-2", D(2), eur("1170.00"))
    assert gone.outcome is ReorderChange.UNAVAILABLE
    assert "outside your assortment" in gone.reason
    assert [(line.sku, line.quantity) for line in filled.cart.lines] == [
        ("SEAL-7", D(4)),
        ("PUMP-2", D(2)),
    ]
    assert filled.cart.source == f"reorder of {order.id}"
    assert portal.orders.get_order(BEN, order.id) == before  # the original never changes
    assert filled.priced is not None
    assert filled.priced.total == eur("2410.00")  # 4 x 17.50 + 2 x 1170.00 (-10% on 1300)
    review = portal.orders.review_cart(BEN, filled.cart.id)  # stock is checked at checkout
    assert [(p.sku, p.code) for p in review.problems] == [("PUMP-2", "insufficient_stock")]
    with pytest.raises(PermissionDeniedError):
        portal.orders.reorder(CLARA, order.id)


def test_shopping_lists_per_user_and_unit_into_a_cart(portal: Portal) -> None:
    own = portal.orders.create_shopping_list(BEN, name="My seals", lines=[("SEAL-6", 3)])
    plant = portal.orders.create_shopping_list(BEN, name="Plant basics", business_unit_id="plant")
    portal.orders.put_on_list(FINN, plant.id, "PUMP-1", 1, note="spare")  # shared in the unit
    company = portal.orders.create_shopping_list(CLARA, name="All sites", business_unit_id="hq")
    with pytest.raises(ValidationError, match="not one of your units"):
        portal.orders.create_shopping_list(CLARA, name="x", business_unit_id="plant")
    assert [sl.name for sl in portal.orders.shopping_lists(BEN)] == [
        "All sites",
        "My seals",
        "Plant basics",
    ]
    assert [sl.name for sl in portal.orders.shopping_lists(CLARA)] == ["All sites"]
    assert [line.note for line in portal.orders.shopping_lists(FINN)[1].lines] == ["spare"]
    with pytest.raises(NotFoundError):
        portal.orders.put_on_list(CLARA, own.id, "SEAL-7", 2)
    with pytest.raises(NotFoundError):
        portal.orders.put_on_list(CLARA, plant.id, "SEAL-7", 2)
    assert company.business_unit_id == "hq"
    filled = portal.orders.list_to_cart(BEN, own.id, currency="EUR")
    (line,) = filled.report
    assert set(line.changes) == {ReorderChange.REPLACED, ReorderChange.QUANTITY_ADJUSTED}
    assert (line.sku, line.quantity, line.old_unit_price) == ("SEAL-7", D(4), None)
    assert [(c.sku, c.quantity) for c in filled.cart.lines] == [("SEAL-7", D(4))]
    portal.orders.remove_from_list(BEN, own.id, "SEAL-6")
    portal.orders.delete_shopping_list(BEN, own.id)
    assert [sl.name for sl in portal.orders.shopping_lists(BEN)] == ["All sites", "Plant basics"]
    with pytest.raises(PermissionDeniedError):
        portal.orders.create_shopping_list(DORA, name="Viewer's")


def test_bad_arguments_are_validation_errors(portal: Portal) -> None:
    cart = cart_with(portal, BEN, ("SEAL-7", 2))
    bad_calls: list[Callable[[], object]] = [
        lambda: portal.orders.add_to_cart(BEN, cart, "SEAL-7", 1.5),  # type: ignore[arg-type]
        lambda: portal.orders.add_to_cart(BEN, " x", "SEAL-7", 2),
        lambda: portal.orders.checkout(BEN, cart, idempotency_key=""),
        lambda: portal.orders.checkout(BEN, cart, po_number="x" * 51),
        lambda: portal.orders.checkout("ben", cart),  # type: ignore[arg-type]
        lambda: portal.orders.ship(OP, "o", quantities={}, carrier="DHL", tracking_number="1"),
        lambda: portal.orders.order_history(BEN, limit=0),
        lambda: portal.orders.order_history(BEN, since=datetime(2026, 1, 1)),  # noqa: DTZ001
        lambda: portal.orders.invoices(BEN, status="open"),  # type: ignore[arg-type]
        lambda: portal.orders.request_quote(BEN, currency="EUR", lines="SEAL-7"),  # type: ignore[arg-type]
    ]
    for call in bad_calls:
        with pytest.raises(ValidationError):
            call()
    with pytest.raises(B2BCoreError):
        portal.orders.complete_approval("approved")  # type: ignore[arg-type]
