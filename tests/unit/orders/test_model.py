"""The orders model: carts, orders and their lifecycle, shipments, invoices, quotes and
shopping lists — validation, transitions, exact amounts, serialization."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.errors import ConflictError, InvalidTransitionError, ValidationError
from b2bcore.ids import CategoryId, CompanyId, PriceListId, Sku
from b2bcore.money import Money
from b2bcore.orders import (
    ORDER_TRANSITIONS,
    QUOTE_TRANSITIONS,
    Cart,
    CartStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderPlaced,
    OrderStatus,
    OrderStatusChanged,
    PaymentTerms,
    Quote,
    QuoteLine,
    QuoteStatus,
    Shipment,
    ShipmentLine,
    ShoppingList,
    TrackingEvent,
    TrackingStatus,
    can_transition,
)
from b2bcore.orders.errors import QuantityExceededError, QuoteExpiredError
from b2bcore.pricing import (
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PriceQuote,
    PriceRule,
    RuleTarget,
    resolve_price,
)
from b2bcore.serialization import structure, unstructure
from b2bcore.testing.strategies import orders, shipment_sequences, shopping_carts

AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
D = Decimal


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def cart(**changes: Any) -> Cart:
    base = Cart(id="c-1", company_id="acme", owner_id="u-ben", currency="EUR", created_at=AT)
    return attrs.evolve(base, **changes)


def quote_of(sku: str, quantity: int, price: str) -> PriceQuote:
    lists = [
        PriceList(
            id=PriceListId("list"),
            name="List",
            currency="EUR",
            valid_from=AT - timedelta(days=1),
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        )
    ]
    item = PriceItem(sku=sku, category_path=[CategoryId("spares")], list_price=eur(price))
    return resolve_price(
        PriceContext(company_id=CompanyId("acme"), currency="EUR", at=AT),
        item,
        quantity,
        lists=lists,
    )


@given(orders())
def test_an_order_round_trips_through_json(order: Order) -> None:
    again = structure(unstructure(order), Order)
    assert again == order
    assert [line.price.explanation.text() for line in again.lines] == [
        line.price.explanation.text() for line in order.lines
    ]


@given(orders())
def test_the_total_is_the_sum_of_the_lines_to_the_cent(order: Order) -> None:
    assert order.total == sum((line.net for line in order.lines), Money.zero("EUR"))
    assert all(line.net.is_rounded() for line in order.lines)
    wrong = order.total + Money("0.01", "EUR")
    with pytest.raises(ValidationError, match="not the sum of the lines") as e:
        attrs.evolve(order, total=wrong)
    assert e.value.path == "total"


def test_an_order_refuses_broken_lines() -> None:
    order = next_order()
    first = order.lines[0]
    with pytest.raises(ValidationError, match="numbered"):
        attrs.evolve(order, lines=(attrs.evolve(first, line_no=2),))
    with pytest.raises(ValidationError, match="on two lines"):
        attrs.evolve(order, lines=(first, attrs.evolve(first, line_no=2)), total=first.net * 2)
    with pytest.raises(ValidationError, match="at least one line"):
        attrs.evolve(order, lines=())
    with pytest.raises(ValidationError, match="net"):
        attrs.evolve(first, net=first.net + eur("1.00"))
    with pytest.raises(ValidationError, match="exceeds the ordered"):
        attrs.evolve(first, shipped_quantity=first.quantity + 1)
    with pytest.raises(ValidationError, match="pinned price is for"):
        attrs.evolve(first, sku=Sku("OTHER"))
    with pytest.raises(ValidationError, match="USD"):
        attrs.evolve(first, discount=Money("0", "USD"))


def next_order() -> Order:
    quote = quote_of("SEAL-7", 4, "18.40")
    line = OrderLine(
        line_no=1,
        sku="SEAL-7",
        quantity=4,
        price=quote,
        unit_price=eur("18.40"),
        gross=eur("73.60"),
        discount=eur("0.00"),
        rounding=eur("0.00"),
        net=eur("73.60"),
        name="Seal",
    )
    pump = attrs.evolve(
        line,
        line_no=2,
        sku=Sku("PUMP-1"),
        quantity=D(3),
        price=quote_of("PUMP-1", 3, "100.00"),
        unit_price=eur("100.00"),
        gross=eur("300.00"),
        net=eur("300.00"),
    )
    return Order(
        id="o-1",
        company_id="acme",
        requester_id="u-ben",
        placed_by="u-ben",
        currency="EUR",
        lines=(line, pump),
        total=eur("373.60"),
        created_at=AT,
        status=OrderStatus.PLACED,
    )


# --- the lifecycle ---------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), list(itertools.product(OrderStatus, OrderStatus)))
def test_transitions_follow_the_table_and_name_both_states(
    old: OrderStatus, new: OrderStatus
) -> None:
    order = attrs.evolve(next_order(), status=old)
    allowed = new in ORDER_TRANSITIONS[old]
    assert can_transition(old, new) is allowed
    if allowed:
        order.transition(new, at=AT, by="u-x", reason="why")
        assert order.status is new
        assert order.history[-1].from_status == old.value
        (event,) = order.pull_events()
        assert isinstance(event, OrderStatusChanged)
        assert (event.from_status, event.to_status, event.reason) == (old.value, new.value, "why")
    else:
        with pytest.raises(InvalidTransitionError) as e:
            order.transition(new, at=AT, by="u-x")
        assert (e.value.from_state, e.value.to_state) == (old.value, new.value)
        assert old.value in str(e.value)
        assert new.value in str(e.value)
        assert order.status is old
        assert order.pull_events() == []


def test_cancelling_is_possible_only_before_shipping() -> None:
    cancellable = {s for s in OrderStatus if can_transition(s, OrderStatus.CANCELLED)}
    assert cancellable == {OrderStatus.PENDING_APPROVAL, OrderStatus.PLACED, OrderStatus.CONFIRMED}


def test_start_records_the_first_state_once() -> None:
    order = next_order()
    order.start(at=AT, by="u-ben")
    (event,) = order.pull_events()
    assert isinstance(event, OrderPlaced)
    assert (event.status, event.total) == ("placed", eur("373.60"))
    assert order.placed_at == AT
    with pytest.raises(ConflictError):
        order.start(at=AT, by="u-ben")
    waiting = attrs.evolve(next_order(), status=OrderStatus.PENDING_APPROVAL)
    waiting.start(at=AT, by="u-ben")
    assert waiting.locked
    assert waiting.placed_at is None


def test_shipping_partially_then_fully() -> None:
    order = attrs.evolve(next_order(), status=OrderStatus.CONFIRMED)
    assert order.ship({"PUMP-1": D(1)}, at=AT, by="op") is OrderStatus.PARTIALLY_SHIPPED
    assert order.ship({"PUMP-1": 1}, at=AT, by="op") is OrderStatus.PARTIALLY_SHIPPED
    with pytest.raises(QuantityExceededError) as e:
        order.ship({"PUMP-1": D(2), "SEAL-7": D(4)}, at=AT, by="op")
    assert (e.value.sku, e.value.allowed, e.value.requested) == ("PUMP-1", D(1), D(2))
    assert order.lines[0].shipped_quantity == 0  # nothing of the refused step kept
    assert order.ship({"PUMP-1": "1", "SEAL-7": D(4)}, at=AT, by="op") is OrderStatus.SHIPPED
    assert order.fully_shipped
    with pytest.raises(InvalidTransitionError):
        order.ship({"PUMP-1": 1}, at=AT, by="op")
    with pytest.raises(ValidationError, match="has no line for 'NOPE'"):
        attrs.evolve(next_order(), status=OrderStatus.CONFIRMED).ship({"NOPE": 1}, at=AT, by="op")
    with pytest.raises(InvalidTransitionError):  # placed, not confirmed
        next_order().ship({"PUMP-1": 1}, at=AT, by="op")


@given(orders().flatmap(lambda o: st.tuples(st.just(o), shipment_sequences(o, excess=False))))
def test_invoicing_in_parts_adds_up_to_each_line_exactly(
    pair: tuple[Order, list[dict[str, Decimal]]],
) -> None:
    order, steps = pair
    invoiced: list[InvoiceLine] = []
    for step in steps:
        invoiced += order.invoice(step)
    rest: dict[str, Decimal | int | str] = {
        line.sku: line.left_to_invoice for line in order.lines if line.left_to_invoice
    }
    if rest:
        invoiced += order.invoice(rest)
    for line in order.lines:
        parts = [il.amount for il in invoiced if il.sku == line.sku]
        assert sum(parts, Money.zero("EUR")) == line.net
        assert all(p.is_rounded() and not p.is_negative() for p in parts)
        assert line.invoiced_quantity == line.quantity
    with pytest.raises(QuantityExceededError):
        order.invoice({order.lines[0].sku: D("0.1")})


def test_a_locked_or_cancelled_order_is_never_invoiced() -> None:
    for status in (OrderStatus.PENDING_APPROVAL, OrderStatus.CANCELLED):
        with pytest.raises(ConflictError, match="nothing of it can be invoiced"):
            attrs.evolve(next_order(), status=status).invoice({"PUMP-1": 1})


# --- carts ------------------------------------------------------------------------------


def test_a_cart_adds_up_one_sku_and_closes_when_ordered() -> None:
    c = cart()
    c.add("SEAL-7", 2)
    c.add("PUMP-1", "1.5")
    c.add("SEAL-7", 4)
    assert [(line.sku, line.quantity) for line in c.lines] == [
        ("SEAL-7", D(6)),
        ("PUMP-1", D("1.5")),
    ]
    c.set_quantity("SEAL-7", 8)
    c.remove("PUMP-1")
    assert [(line.sku, line.quantity) for line in c.lines] == [("SEAL-7", D(8))]
    with pytest.raises(ValidationError, match="no line for X"):
        c.remove("X")
    for bad in (0, -1, 1.5, "abc", None, D("1e12"), D("0.0000001")):
        with pytest.raises(ValidationError):
            c.add("SEAL-7", bad)  # type: ignore[arg-type]
    c.mark_ordered("o-9")
    assert (c.status, c.order_id) == (CartStatus.ORDERED, "o-9")
    with pytest.raises(ConflictError, match="already ordered"):
        c.add("SEAL-7", 1)


@given(shopping_carts())
def test_carts_round_trip(c: Cart) -> None:
    assert structure(unstructure(c), Cart) == c


def test_cart_fields_are_validated() -> None:
    with pytest.raises(ValidationError, match="currency"):
        cart(currency="EURO")
    with pytest.raises(ValidationError, match="naive"):
        cart(created_at=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationError):
        cart(owner_id=" u ")


# --- shipments ---------------------------------------------------------------------------


def test_a_shipment_keeps_its_timeline_in_order_and_ignores_repeats() -> None:
    shipment = Shipment(
        id="s-1",
        company_id="acme",
        order_id="o-1",
        carrier="DHL",
        tracking_number="JD1",
        shipped_at=AT,
        lines=[ShipmentLine(line_no=1, sku="SEAL-7", quantity=2)],
    )
    assert shipment.status is TrackingStatus.SHIPPED
    assert shipment.delivered_at is None
    late = TrackingEvent(at=AT + timedelta(days=2), status=TrackingStatus.DELIVERED)
    early = TrackingEvent(
        at=AT + timedelta(days=1), status=TrackingStatus.IN_TRANSIT, location="Hub"
    )
    assert shipment.track(late)
    assert shipment.track(early)
    assert not shipment.track(late)
    assert [e.status for e in structure(unstructure(shipment), Shipment).events] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.DELIVERED,
    ]
    assert shipment.delivered_at == late.at
    assert len(shipment.pull_events()) == 2
    with pytest.raises(ValidationError):
        attrs.evolve(shipment, carrier=" ")
    with pytest.raises(ValidationError):
        attrs.evolve(shipment, lines=())


# --- invoices ----------------------------------------------------------------------------


def invoice(**changes: Any) -> Invoice:
    base = Invoice(
        id="i-1",
        company_id="acme",
        order_id="o-1",
        currency="EUR",
        issued_at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC),
        terms=PaymentTerms(30),
        lines=[InvoiceLine(line_no=1, sku="SEAL-7", quantity=4, amount=eur("100.00"))],
        total=eur("100.00"),
        requester_id="u-ben",
    )
    return attrs.evolve(base, **changes)


def test_due_date_is_issue_date_plus_terms_and_overdue_is_computed() -> None:
    inv = invoice()
    assert (inv.issue_date, inv.due_date) == (date(2026, 11, 20), date(2026, 12, 20))
    assert inv.status_at(datetime(2026, 12, 20, 23, 59, tzinfo=UTC)) is InvoiceStatus.OPEN
    assert inv.status_at(datetime(2026, 12, 21, tzinfo=UTC)) is InvoiceStatus.OVERDUE
    assert invoice(terms=PaymentTerms(0)).due_date == date(2026, 11, 20)
    for bad in (-1, 3651, True, "30"):
        with pytest.raises(ValidationError):
            PaymentTerms(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="overdue is computed"):
        invoice(status=InvoiceStatus.OVERDUE)


def test_payments_and_credit_notes_settle_the_balance() -> None:
    inv = invoice()
    inv.record_payment(eur("60.00"), at=AT, reference="bank")
    assert (inv.balance, inv.status) == (eur("40.00"), InvoiceStatus.OPEN)
    with pytest.raises(ValidationError, match="more than the open balance"):
        inv.record_payment(eur("40.01"), at=AT)
    inv.credit(eur("10.00"), reason="scratched", at=AT, credit_id="cn-1", reference="claim-7")
    assert inv.balance == eur("30.00")
    inv.record_payment(eur("30.00"), at=AT)
    assert (inv.balance, inv.status) == (eur("0.00"), InvoiceStatus.PAID)
    assert inv.status_at(AT + timedelta(days=400)) is InvoiceStatus.PAID
    inv.credit(eur("20.00"), reason="goodwill", at=AT, credit_id="cn-2")
    assert inv.balance == eur("-20.00")  # owed to the buyer
    with pytest.raises(ValidationError, match="not credited yet"):
        inv.credit(eur("70.01"), reason="too much", at=AT, credit_id="cn-3")
    with pytest.raises(ConflictError):
        inv.credit(eur("1.00"), reason="again", at=AT, credit_id="cn-1")
    full = invoice()
    full.credit(eur("100.00"), reason="returned", at=AT, credit_id="cn")
    assert full.status is InvoiceStatus.CREDITED
    for bad in (eur("0.00"), eur("1.001"), Money("1.00", "USD")):
        with pytest.raises(ValidationError):
            invoice().record_payment(bad, at=AT)
    with pytest.raises(ValidationError):
        invoice().credit(eur("1.00"), reason=" ", at=AT, credit_id="x")


def test_an_invoice_total_is_its_lines() -> None:
    with pytest.raises(ValidationError, match="sum of the lines"):
        invoice(total=eur("99.99"))


# --- quotes ------------------------------------------------------------------------------


def test_a_quote_moves_along_its_table_and_expires() -> None:
    q = Quote(
        id="q-1",
        company_id="acme",
        requester_id="u-ben",
        currency="EUR",
        created_at=AT,
        lines=[QuoteLine(sku="PUMP-1", quantity=2)],
    )
    assert q.total == Money.zero("EUR")
    for old, new in itertools.product(QuoteStatus, QuoteStatus):
        probe = attrs.evolve(q, status=old)
        if new in QUOTE_TRANSITIONS[old]:
            probe.transition(new, at=AT, by="x")
            assert probe.status is new
        else:
            with pytest.raises(InvalidTransitionError):
                probe.transition(new, at=AT, by="x")
    proposed = attrs.evolve(q, status=QuoteStatus.PROPOSED, valid_until=AT + timedelta(days=7))
    assert proposed.status_at(AT + timedelta(days=6)) is QuoteStatus.PROPOSED
    assert proposed.status_at(AT + timedelta(days=7)) is QuoteStatus.EXPIRED
    with pytest.raises(ConflictError, match="only a draft"):
        proposed.replace_lines((QuoteLine(sku="X", quantity=1),))
    err = QuoteExpiredError("q-1", "2026-05-11T09:00:00+00:00")
    assert (err.code, err.from_state, err.to_state) == (
        "orders.quote_expired",
        "expired",
        "accepted",
    )
    assert "request a new quote" in str(err)


def test_an_override_needs_a_reason() -> None:
    engine = quote_of("PUMP-1", 2, "100.00")
    same = QuoteLine(sku="PUMP-1", quantity=2, list_price=engine, unit_price=eur("100.00"))
    assert not same.is_override
    assert same.amount == eur("200.00")
    with pytest.raises(ValidationError, match="give the reason") as e:
        QuoteLine(sku="PUMP-1", quantity=2, list_price=engine, unit_price=eur("90.00"))
    assert e.value.path == "reason"
    cheaper = QuoteLine(
        sku="PUMP-1", quantity=2, list_price=engine, unit_price=eur("90.00"), reason="volume"
    )
    assert cheaper.is_override
    assert cheaper.amount == eur("180.00")
    with pytest.raises(ValidationError):
        QuoteLine(sku="PUMP-1", quantity=2, unit_price=eur("90.005"), reason="x")


# --- shopping lists ----------------------------------------------------------------------


def test_a_list_belongs_to_a_user_or_a_unit() -> None:
    mine = ShoppingList(
        id="l-1",
        company_id="acme",
        name="Weekly",
        created_by="u-ben",
        updated_at=AT,
        owner_id="u-ben",
    )
    mine.put("SEAL-7", 4, note="hall 3")
    mine.put("SEAL-7", 6)
    mine.put("PUMP-1", 1)
    assert [(line.sku, line.quantity, line.note) for line in mine.lines] == [
        ("SEAL-7", D(6), ""),
        ("PUMP-1", D(1), ""),
    ]
    mine.remove("PUMP-1")
    with pytest.raises(ValidationError):
        mine.remove("PUMP-1")
    with pytest.raises(ValidationError, match="exactly one"):
        ShoppingList(
            id="l-2",
            company_id="acme",
            name="Both",
            created_by="u-ben",
            updated_at=AT,
            owner_id="u-ben",
            business_unit_id="hq",
        )
    with pytest.raises(ValidationError, match="exactly one"):
        ShoppingList(id="l-3", company_id="acme", name="None", created_by="u-ben", updated_at=AT)
    assert structure(unstructure(mine), ShoppingList) == mine
