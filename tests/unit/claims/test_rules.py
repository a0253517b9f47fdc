"""The claims rules: delivered quantities, holding, warranty, credits, replacement
orders and SLA clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from b2bcore.assets import Asset, Warranty
from b2bcore.calendar import BusinessCalendar
from b2bcore.catalog import Product
from b2bcore.claims import (
    Attachment,
    Claim,
    ClaimLine,
    ClaimStatus,
    ClaimTally,
    ClaimType,
    CreditExceedsInvoicedError,
    OverClaimError,
    Party,
    Priority,
    WarrantyBasis,
    check_held,
    clock_intervals,
    credit_for,
    decide_warranty,
    delivered_quantities,
    delivery_dates,
    replacement_order,
    sla_status,
    standard_claim_types,
    warranty_months,
)
from b2bcore.errors import ValidationError
from b2bcore.ids import CategoryId, CompanyId, PriceListId, Sku
from b2bcore.money import Money
from b2bcore.orders import Order, OrderLine, OrderStatus, Shipment, ShipmentLine, TrackingEvent
from b2bcore.orders import TrackingStatus as T
from b2bcore.pricing import Formula, PriceContext, PriceItem, PriceList, PriceRule, RuleTarget
from b2bcore.pricing.resolve import resolve_price

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
TYPES: dict[str, ClaimType] = {t.id: t for t in standard_claim_types()}
CAL = BusinessCalendar.uniform("UTC", [("08:00", "17:00")])
LIST = PriceList(id=PriceListId("l"), name="L", currency="EUR", valid_from=AT - timedelta(days=30),
                 rules=[PriceRule(id="all", target=RuleTarget.all(),
                                  formula=Formula())])  # fmt: skip


def _line(line_no: int, sku: str, quantity: int, price: str, **kw: object) -> OrderLine:
    item = PriceItem(sku=Sku(sku), category_path=[CategoryId("c")], list_price=Money(price, "EUR"))
    quote = resolve_price(PriceContext(company_id=CompanyId("acme"), currency="EUR", at=AT), item,
                          quantity, lists=[LIST])  # fmt: skip
    zero = Money("0.00", "EUR")
    return OrderLine(line_no=line_no, sku=sku, quantity=Decimal(quantity), price=quote,
                     unit_price=quote.unit_price, gross=quote.line_total, discount=zero,
                     rounding=zero, net=quote.line_total, **kw)  # type: ignore[arg-type]  # fmt: skip


def _order(**line_kw: object) -> Order:
    lines = (_line(1, "PUMP-1", 2, "100.00", **line_kw), _line(2, "SEAL-7", 10, "18.40"))
    return Order(id="o-1", company_id="acme", requester_id="ben", placed_by="ben", currency="EUR",
                 lines=lines, total=sum((x.net for x in lines), Money("0", "EUR")), created_at=AT,
                 status=OrderStatus.SHIPPED, business_unit_id="line")  # fmt: skip


def _shipment(sid: str, lines: dict[int, int], delivered: datetime | None) -> Shipment:
    events = [] if delivered is None else [TrackingEvent(at=delivered, status=T.DELIVERED)]
    skus = {1: "PUMP-1", 2: "SEAL-7"}
    return Shipment(id=sid, company_id="acme", order_id="o-1", carrier="DHL",
                    tracking_number=sid, shipped_at=AT - timedelta(days=5), events=events,
                    lines=[ShipmentLine(line_no=n, sku=skus[n], quantity=Decimal(q))
                           for n, q in lines.items()])  # fmt: skip


SHIPMENTS = [
    _shipment("S1", {1: 2, 2: 6}, AT - timedelta(days=3)),
    _shipment("S2", {2: 3}, AT - timedelta(days=1)),
    _shipment("S3", {2: 1}, None),
]


def _claim(
    cid: str, quantity: int, *, line_no: int = 2, status: ClaimStatus = ClaimStatus.SUBMITTED
) -> Claim:
    claim = Claim.open(claim_id=cid, company_id="acme", claim_type=TYPES["missing_items"],
                       requester_id="ben", by="ben", at=AT, title="t", description="d")  # fmt: skip
    claim.add_line(ClaimLine(line_no=1, sku="SEAL-7", quantity=Decimal(quantity), order_id="o-1",
                             order_line_no=line_no))  # fmt: skip
    if status is not ClaimStatus.DRAFT:
        claim.transition(ClaimStatus.SUBMITTED, party=Party.CUSTOMER, by="ben", at=AT)
    return claim


# -- quantities ----------------------------------------------------------------------------


def test_delivered_counts_only_reported_deliveries() -> None:
    assert delivered_quantities(_order(), SHIPMENTS) == {1: Decimal(2), 2: Decimal(9)}
    assert delivery_dates(_order(), SHIPMENTS) == {
        1: AT - timedelta(days=3), 2: AT - timedelta(days=1),
    }  # fmt: skip
    other = attrs.evolve(SHIPMENTS[0], order_id="o-2")
    assert delivered_quantities(_order(), [other]) == {1: Decimal(0), 2: Decimal(0)}


def test_holding_is_checked_against_delivered_minus_others() -> None:
    order, delivered = _order(), delivered_quantities(_order(), SHIPMENTS)
    tally = ClaimTally(order_id="o-1", company_id="acme")
    tally.hold("c-1", {2: Decimal(5)})
    assert check_held(_claim("c-2", 4), order, delivered, tally) == {2: Decimal(4)}
    with pytest.raises(OverClaimError) as raised:
        check_held(_claim("c-2", 5), order, delivered, tally)
    assert (raised.value.requested, raised.value.available) == (Decimal(5), Decimal(4))
    # a draft holds nothing; shrinking is always allowed
    assert check_held(_claim("c-2", 50, status=ClaimStatus.DRAFT), order, delivered, tally) == {}
    tally.hold("c-2", {2: Decimal(6)})
    assert check_held(_claim("c-2", 6), order, delivered, tally) == {2: Decimal(6)}


def test_holding_names_an_existing_order_line() -> None:
    tally = ClaimTally(order_id="o-1", company_id="acme")
    with pytest.raises(ValidationError, match="lines 1 to 2"):
        check_held(_claim("c-1", 1, line_no=3), _order(), {}, tally)
    with pytest.raises(ValidationError, match="another order"):
        check_held(_claim("c-1", 1), _order(), {}, ClaimTally(order_id="o-9", company_id="acme"))


# -- warranty --------------------------------------------------------------------------------


def _asset(warranty: Warranty | None) -> Asset:
    return Asset.register(asset_id="a-1", company_id="acme", serial_number="SN-1", sku="PX-9",
                          registered_by="ben", at=AT, warranty=warranty)  # fmt: skip


def test_the_assets_own_warranty_comes_first() -> None:
    decision = decide_warranty(at=AT, asset=_asset(Warranty(until=date(2026, 6, 1), terms="1y")),
                               delivered_at=AT - timedelta(days=900),
                               warranty_months=1)  # fmt: skip
    assert (decision.covered, decision.basis) == (True, WarrantyBasis.ASSET_WARRANTY)
    assert "(1y)" in decision.reason
    late = decide_warranty(
        at=AT + timedelta(days=1), asset=_asset(Warranty(until=date(2026, 6, 1)))
    )
    assert not late.covered
    assert "expired before 2026-06-02" in late.reason


def test_otherwise_the_delivery_date_plus_the_products_period() -> None:
    jan31 = datetime(2026, 1, 31, 15, tzinfo=UTC)
    decision = decide_warranty(at=AT, delivered_at=jan31, warranty_months=1)
    assert (decision.covered, decision.until) == (False, date(2026, 2, 28))
    assert decision.basis is WarrantyBasis.DELIVERY
    edge = decide_warranty(at=datetime(2026, 2, 28, 23, tzinfo=UTC), delivered_at=jan31,
                           warranty_months=1)  # fmt: skip
    assert edge.covered


def test_unknown_warranty_says_what_is_missing() -> None:
    decision = decide_warranty(at=AT, asset=_asset(None))
    assert (decision.covered, decision.basis) == (False, WarrantyBasis.UNKNOWN)
    assert decision.reason == (
        "warranty unknown: asset SN-1 has no recorded warranty; no delivery date is known; "
        "the product has no warranty period"
    )


@pytest.mark.parametrize(
    ("attributes", "months"),
    [({"warranty_months": 24}, 24), ({"warranty_months": Decimal(6)}, 6), ({}, None),
     ({"warranty_months": True}, None), ({"warranty_months": "24"}, None),
     ({"warranty_months": Decimal("1.5")}, None)],
)  # fmt: skip
def test_warranty_months_come_from_the_catalog(
    attributes: dict[str, object], months: int | None
) -> None:
    product = Product(sku="PUMP-1", name="Pump", attributes=attributes)
    assert warranty_months(product) == months
    assert warranty_months(None) is None


# -- credits and replacements ----------------------------------------------------------------


def test_credits_never_exceed_what_was_invoiced() -> None:
    line = _order(invoiced_quantity=2, invoiced_amount=Money("200.00", "EUR")).lines[0]
    tally = ClaimTally(order_id="o-1", company_id="acme")
    assert credit_for(line, Decimal(1), tally) == Money("100.00", "EUR")
    assert credit_for(line, Decimal(1), tally, amount=Money("40.00", "EUR")) == Money(
        "40.00", "EUR"
    )
    tally.credit("c-1", 1, Money("150.00", "EUR"), "cn-1")
    assert credit_for(line, Decimal(1), tally) == Money("50.00", "EUR")
    with pytest.raises(CreditExceedsInvoicedError) as raised:
        credit_for(line, Decimal(1), tally, amount=Money("50.01", "EUR"))
    assert raised.value.available == Money("50.00", "EUR")
    with pytest.raises(ValidationError):
        credit_for(line, Decimal(1), tally, amount=Money("1.001", "EUR"))
    with pytest.raises(CreditExceedsInvoicedError):
        credit_for(_order().lines[0], Decimal(1), tally)  # nothing invoiced


def test_a_replacement_order_is_free_and_refers_to_the_claim() -> None:
    claim = _claim("c-1", 3)
    order = replacement_order(claim, _order(), {1: Decimal(3)}, order_id="o-r", at=AT, by="sam")
    assert order.total == Money.zero("EUR")
    assert [(x.line_no, x.sku, x.quantity, x.net) for x in order.lines] == [
        (1, "SEAL-7", Decimal(3), Money.zero("EUR")),
    ]  # fmt: skip
    assert order.lines[0].discount == order.lines[0].gross == Money("55.20", "EUR")
    assert (order.status, order.requester_id, order.placed_by) == (OrderStatus.PLACED, "ben", "sam")
    assert "c-1" in order.reference
    assert [e.event_type for e in order.pull_events()] == ["orders.order_placed"]
    with pytest.raises(ValidationError, match="not about order"):
        replacement_order(claim, attrs.evolve(_order(), id="o-9"), {1: Decimal(1)},
                          order_id="o-r", at=AT, by="sam")  # fmt: skip


# -- SLA ----------------------------------------------------------------------------------------


def _sla_claim(priority: Priority = Priority.HIGH) -> Claim:
    claim = Claim.open(claim_id="c-1", company_id="acme", claim_type=TYPES["transport_damage"],
                       requester_id="ben", by="ben", at=AT, title="t", description="d",
                       priority=priority)  # fmt: skip
    claim.add_line(ClaimLine(line_no=1, sku="SEAL-7", quantity=Decimal(1), order_id="o-1",
                             order_line_no=2))  # fmt: skip
    claim.attach(Attachment(document_id="d", name="p.png", media_type="image/png", added_at=AT,
                            added_by="ben"))  # fmt: skip
    claim.transition(ClaimStatus.SUBMITTED, party=Party.CUSTOMER, by="ben", at=AT)
    return claim


def _move(claim: Claim, to: ClaimStatus, at: datetime, party: Party = Party.AGENT) -> None:
    claim.transition(to, party=party, by="x", at=at)


def test_a_fresh_claim_is_due_in_business_hours() -> None:
    claim = _sla_claim()  # high: 4 h first response, 24 h resolution
    status = sla_status(claim, CAL, AT + timedelta(hours=1))
    assert status.first_response is not None
    assert status.resolution is not None
    assert status.first_response.due == AT + timedelta(hours=4)
    # 24 business hours from Mon 09:00: Mon 8 h, Tue 9 h, Wed 7 h -> Wed 15:00
    assert status.resolution.due == datetime(2026, 6, 3, 15, tzinfo=UTC)
    assert status.eta == status.resolution.due
    assert status.describe() == "expected resolution by 2026-06-03T15:00:00+00:00"
    assert not status.breached


def test_the_clock_pauses_while_information_is_requested() -> None:
    claim = _sla_claim()
    _move(claim, ClaimStatus.IN_REVIEW, AT + timedelta(hours=1))
    _move(claim, ClaimStatus.INFO_REQUESTED, AT + timedelta(hours=2))
    paused = [sla_status(claim, CAL, AT + timedelta(hours=h)) for h in (3, 30, 200)]
    assert {s.resolution.elapsed for s in paused if s.resolution} == {timedelta(hours=2)}
    assert all(s.paused and s.eta is None and s.resolution and s.resolution.due is None
               for s in paused)  # fmt: skip
    assert paused[0].describe() == "waiting for your information; the service clock is paused"
    _move(claim, ClaimStatus.IN_REVIEW, datetime(2026, 6, 8, 9, tzinfo=UTC), Party.CUSTOMER)
    later = sla_status(claim, CAL, datetime(2026, 6, 8, 10, tzinfo=UTC))
    assert later.resolution is not None
    assert later.resolution.elapsed == timedelta(hours=3)
    assert clock_intervals(claim, datetime(2026, 6, 8, 10, tzinfo=UTC)) == (
        (AT, AT + timedelta(hours=2)),
        (datetime(2026, 6, 8, 9, tzinfo=UTC), datetime(2026, 6, 8, 10, tzinfo=UTC)),
    )


def test_first_response_is_met_by_the_agents_first_move() -> None:
    claim = _sla_claim()
    _move(claim, ClaimStatus.IN_REVIEW, AT + timedelta(hours=6))
    status = sla_status(claim, CAL, AT + timedelta(hours=7))
    fr = status.first_response
    assert fr is not None
    assert (fr.met_at, fr.elapsed, fr.breached, fr.running) == (
        AT + timedelta(hours=6), timedelta(hours=6), True, False,
    )  # fmt: skip
    assert fr.due == AT + timedelta(hours=4)
    assert status.breached


def test_breached_resolution_has_no_eta_and_says_so() -> None:
    claim = _sla_claim(Priority.URGENT)  # 16 business hours
    status = sla_status(claim, CAL, datetime(2026, 6, 3, 12, tzinfo=UTC))
    assert status.resolution is not None
    assert status.resolution.breached
    assert status.resolution.due == datetime(2026, 6, 2, 16, tzinfo=UTC)
    assert status.eta is None
    assert status.describe() == "overdue; we are on it"


def test_resolved_claims_stop_the_clock_and_show_when() -> None:
    claim = _sla_claim()
    _move(claim, ClaimStatus.IN_REVIEW, AT + timedelta(hours=1))
    _move(claim, ClaimStatus.REJECTED, AT + timedelta(hours=2))
    status = sla_status(claim, CAL, AT + timedelta(days=10))
    assert status.resolution is not None
    assert (status.resolution.elapsed, status.resolution.met_at) == (
        timedelta(hours=2), AT + timedelta(hours=2),
    )  # fmt: skip
    assert status.eta is None
    assert status.describe() == "no resolution expected (rejected)"


def test_drafts_and_untargeted_priorities_have_no_clocks() -> None:
    draft = Claim.open(claim_id="c-1", company_id="acme", claim_type=TYPES["return"],
                       requester_id="ben", by="ben", at=AT, title="t")  # fmt: skip
    status = sla_status(draft, CAL, AT)
    assert (status.first_response, status.resolution, status.eta) == (None, None, None)
    bare = attrs.evolve(_sla_claim(), claim_type=attrs.evolve(TYPES["transport_damage"], sla=()))
    assert sla_status(bare, CAL, AT).describe() == "no target set"
    with pytest.raises(ValidationError):
        sla_status(draft, "24/7", AT)  # type: ignore[arg-type]
