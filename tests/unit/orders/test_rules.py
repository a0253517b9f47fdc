"""Pure rules of the orders context: line review, pricing into order lines, reorder,
audiences and tracking — on an in-memory catalog, no store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from b2bcore.accounts import (
    Access,
    Actor,
    BusinessUnit,
    CompanyUser,
    Role,
    RoleGrant,
    ViewScope,
    predefined_roles,
)
from b2bcore.accounts.model import Permission
from b2bcore.catalog import (
    Assortment,
    CatalogContext,
    Category,
    Incoming,
    InMemoryCatalog,
    Product,
    Selection,
    StockLevel,
)
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import BusinessUnitId, CompanyId, PriceListId, QuoteId, RoleId, Sku, UserId
from b2bcore.money import Money
from b2bcore.orders import (
    Order,
    OrderLine,
    OrderStatus,
    PriceOverride,
    ReorderChange,
    Shipment,
    ShipmentLine,
    audience_for,
    build_order_lines,
    price_lines,
    reorder,
    review_lines,
    track,
)
from b2bcore.pricing import (
    Formula,
    PriceContext,
    PriceList,
    PriceRule,
    PriceScope,
    QuantityRule,
    RuleTarget,
)

AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
D = Decimal


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


CATALOG = InMemoryCatalog(
    categories=[Category(id="spares", name="Spares")],
    products=[
        Product(
            sku="SEAL-7",
            name="Seal",
            category_id="spares",
            list_price=eur("18.40"),
            quantity_rule=QuantityRule(sku=Sku("SEAL-7"), minimum=2, increment=2),
        ),
        Product(
            sku="SEAL-6",
            name="Old seal",
            category_id="spares",
            lifecycle="discontinued",
            successor_sku="SEAL-7",
        ),
        Product(sku="GONE", name="Old and alone", category_id="spares", lifecycle="discontinued"),
        Product(sku="PUMP-1", name="Pump", category_id="spares", list_price=eur("1250.00")),
        Product(sku="VALVE-2", name="Valve", category_id="spares", list_price=eur("40.00")),
        Product(sku="NOPRICE", name="Unpriced", category_id="spares"),
    ],
)
LISTS = [
    PriceList(
        id=PriceListId("list"),
        name="List",
        currency="EUR",
        valid_from=AT - timedelta(days=30),
        rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
    ),
    PriceList(
        id=PriceListId("globex"),
        name="Globex deal",
        currency="EUR",
        valid_from=AT - timedelta(days=30),
        scope=PriceScope(companies={"globex"}),
        rules=[PriceRule(id="seal", target=RuleTarget.sku("SEAL-7"), price=eur("1.00"))],
    ),
]
CONTEXT = CatalogContext(
    price_context=PriceContext(company_id=CompanyId("acme"), currency="EUR", at=AT),
    assortments=[Assortment(company_id="acme", exclude=Selection(skus={"VALVE-2"}))],
)


def stock(levels: dict[str, int]) -> Callable[[str], list[StockLevel]]:
    def read(sku: str) -> list[StockLevel]:
        if sku not in levels:
            return []
        return [
            StockLevel(
                sku=sku,
                location="leipzig",
                on_hand=levels[sku],
                incoming=[Incoming(quantity=50, expected_at=AT + timedelta(days=9))],
            )
        ]

    return read


def test_review_names_the_first_problem_of_every_line() -> None:
    reviewed = review_lines(
        [
            ("SEAL-7", 4),
            ("SEAL-7", 3),
            ("SEAL-6", 2),
            ("VALVE-2", 1),
            ("NOPRICE", 1),
            ("NOPE", 1),
            ("PUMP-1", 8),
        ],
        catalog=CATALOG,
        context=CONTEXT,
        lists=LISTS,
        stock=stock({"SEAL-7": 100, "PUMP-1": 5}),
    )
    assert [(r.index, r.sku, r.problem.code if r.problem else None) for r in reviewed] == [
        (0, "SEAL-7", None),
        (1, "SEAL-7", "quantity_rule"),
        (2, "SEAL-6", "discontinued"),
        (3, "VALVE-2", "outside_assortment"),
        (4, "NOPRICE", "no_price"),
        (5, "NOPE", "unknown_product"),
        (6, "PUMP-1", "insufficient_stock"),
    ]
    quantity, successor, outside, no_price = (reviewed[i].problem for i in (1, 2, 3, 4))
    assert quantity is not None
    assert (quantity.lower, quantity.higher) == (D(2), D(4))
    assert successor is not None
    assert successor.successor_sku == "SEAL-7"
    assert outside is not None
    assert "excluded by sku VALVE-2" in outside.message
    assert no_price is not None
    assert "globex" not in no_price.message
    pump = reviewed[6]
    assert pump.availability is not None
    assert pump.problem is not None
    assert "backorder" in pump.problem.message
    assert reviewed[0].ok
    assert reviewed[0].availability is not None
    assert reviewed[0].categories == ("spares",)
    # No lists: prices are not checked (a quote may be asked for an unpriced SKU).
    (unpriced,) = review_lines([("NOPRICE", 1)], catalog=CATALOG, context=CONTEXT, lists=None)
    assert unpriced.ok
    with pytest.raises(ValidationError):
        review_lines("SEAL-7", catalog=CATALOG, context=CONTEXT, lists=LISTS)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        review_lines([("SEAL-7", 1.5)], catalog=CATALOG, context=CONTEXT, lists=LISTS)  # type: ignore[arg-type]


def test_order_lines_pin_the_buyer_explanation_and_overrides_skip_discounts() -> None:
    reviewed = review_lines(
        [("SEAL-7", 4), ("PUMP-1", 1)], catalog=CATALOG, context=CONTEXT, lists=LISTS
    )
    priced = price_lines(reviewed, context=CONTEXT, lists=LISTS)
    full = priced.lines[0].quote.explanation.text()
    assert "globex" in full  # the engine's own explanation knows every list
    override = PriceOverride(
        unit_price=eur("999.99"), reason="deal", quote_id=QuoteId("q"), proposed_by="sam"
    )
    lines = build_order_lines(reviewed, priced, overrides={"PUMP-1": override})
    seal, pump = lines
    assert "globex" not in seal.price.explanation.text()
    assert (seal.unit_price, seal.net, seal.category_id, seal.name) == (
        eur("18.40"),
        eur("73.60"),
        "spares",
        "Seal",
    )
    assert (pump.unit_price, pump.gross, pump.net, pump.override) == (
        eur("999.99"),
        eur("999.99"),
        eur("999.99"),
        override,
    )
    assert pump.price.unit_price == eur("1250.00")  # the engine's price stays pinned beside it
    bad = review_lines([("NOPE", 1)], catalog=CATALOG, context=CONTEXT, lists=LISTS)
    with pytest.raises(ValidationError, match="review it first"):
        price_lines(bad, context=CONTEXT, lists=LISTS)


def order_of(*lines: tuple[str, int]) -> Order:
    reviewed = review_lines(list(lines), catalog=CATALOG, context=CONTEXT, lists=LISTS)
    priced = price_lines(reviewed, context=CONTEXT, lists=LISTS)
    order_lines = build_order_lines(reviewed, priced)
    return Order(
        id="o-1",
        company_id="acme",
        requester_id="ben",
        placed_by="ben",
        currency="EUR",
        lines=order_lines,
        total=priced.total,
        created_at=AT,
        status=OrderStatus.PLACED,
    )


def relabel(line: OrderLine, sku: str, line_no: int) -> OrderLine:
    """The same line as if it had been for ``sku`` (its pinned quote too)."""
    return attrs.evolve(
        line, sku=Sku(sku), line_no=line_no, price=attrs.evolve(line.price, sku=sku)
    )


def test_reorder_reports_each_line() -> None:
    past = order_of(("SEAL-7", 2), ("PUMP-1", 1))
    # Pretend the past order had lines that are no longer what they were.
    seal_line, pump_line = past.lines
    odd = attrs.evolve(seal_line, quantity=D(3), gross=eur("55.20"), net=eur("55.20"))
    gone = relabel(pump_line, "GONE", 3)
    old = attrs.evolve(past, lines=(odd, pump_line, gone), total=odd.net + pump_line.net + gone.net)
    cheaper = [
        *LISTS,
        PriceList(
            id=PriceListId("acme"),
            name="ACME",
            currency="EUR",
            valid_from=AT - timedelta(days=1),
            scope=PriceScope(companies={"acme"}),
            rules=[PriceRule(id="pump", target=RuleTarget.sku("PUMP-1"), price=eur("1100.00"))],
        ),
    ]
    result = reorder(old, catalog=CATALOG, context=CONTEXT, lists=cheaper)
    seal, pump, lost = result.report
    assert seal.outcome is ReorderChange.QUANTITY_ADJUSTED
    assert (seal.quantity, seal.new_unit_price) == (D(4), eur("18.40"))
    assert "3 of SEAL-7 is not 2 plus a multiple of 2" in seal.reason
    assert pump.outcome is ReorderChange.PRICE_CHANGED
    assert "price changed 1250.00 EUR -> 1100.00 EUR" in pump.describe()
    assert lost.outcome is ReorderChange.UNAVAILABLE
    assert "discontinued" in lost.reason
    assert [(line.sku, line.quantity) for line in result.lines] == [
        ("SEAL-7", D(4)),
        ("PUMP-1", D(1)),
    ]
    assert result.unavailable == (lost,)
    assert result.priced is not None
    assert result.priced.total == eur("1173.60")
    with pytest.raises(ValidationError):
        reorder("o-1", catalog=CATALOG, context=CONTEXT, lists=LISTS)  # type: ignore[arg-type]


def test_two_originals_that_become_one_sku_share_a_line() -> None:
    past = order_of(("SEAL-7", 2), ("PUMP-1", 1))
    old_seal = attrs.evolve(relabel(past.lines[1], "SEAL-6", 2), quantity=D(1))
    merged = attrs.evolve(past, lines=(past.lines[0], old_seal))
    result = reorder(merged, catalog=CATALOG, context=CONTEXT, lists=LISTS)
    first, second = result.report
    assert first.outcome is ReorderChange.UNCHANGED
    assert set(second.changes) >= {ReorderChange.REPLACED, ReorderChange.QUANTITY_ADJUSTED}
    assert second.sku == "SEAL-7"
    assert [(line.sku, line.quantity) for line in result.lines] == [("SEAL-7", D(4))]


# --- audiences --------------------------------------------------------------------------


def unit(unit_id: str, parent: str | None = None) -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=CompanyId("acme"),
        name=unit_id.title(),
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


UNITS = (unit("hq"), unit("plant", "hq"), unit("line", "plant"), unit("office", "hq"))


def access_for(*grants: RoleGrant, units: tuple[str, ...] = ("line",)) -> Access:
    roles: dict[str, Role] = {r.id: r for r in predefined_roles("acme")}
    scoped = attrs.evolve(roles["viewer"], id=RoleId("company-viewer"))
    scoped.with_permission(Permission.ORDERS_VIEW, scope=ViewScope.COMPANY)
    roles["company-viewer"] = scoped
    user = CompanyUser(
        id=UserId("ben"),
        company_id=CompanyId("acme"),
        email="ben@acme.example",
        name="Ben",
        business_unit_ids=tuple(BusinessUnitId(u) for u in units),
        grants=grants,
    )
    return Access(user=user, roles=roles, units=UNITS)


def grant(role: str, unit: str | None = None) -> RoleGrant:
    return RoleGrant(
        role_id=RoleId(role),
        valid_from=AT - timedelta(days=1),
        business_unit_id=None if unit is None else BusinessUnitId(unit),
    )


def seen(access: Access) -> set[tuple[str | None, str]]:
    _decision, audience = audience_for(
        Actor.user("acme", "ben"), Permission.ORDERS_VIEW, access=access, at=AT
    )
    records = [(u, r) for u in ("hq", "plant", "line", "office", None) for r in ("ben", "clara")]
    return {(u, r) for u, r in records if audience.admits(business_unit_id=u, requester_id=r)}


def test_audiences_follow_view_scopes_and_grant_units() -> None:
    everyone = {(u, r) for u in ("hq", "plant", "line", "office", None) for r in ("ben", "clara")}
    own = {(u, "ben") for u in ("hq", "plant", "line", "office", None)}
    assert seen(access_for(grant("company-viewer"))) == everyone
    assert seen(access_for(grant("viewer"))) == own
    assert seen(access_for(grant("buyer"))) == own | {("line", "clara")}
    assert seen(access_for(grant("buyer"), units=("plant",))) == own | {
        ("plant", "clara"),
        ("line", "clara"),
    }
    assert seen(access_for(grant("buyer", "office"))) == {("office", "ben"), ("office", "clara")}
    assert seen(access_for(grant("viewer", "office"))) == {("office", "ben")}
    assert seen(access_for(grant("company-viewer", "plant"))) == {
        (u, r) for u in ("plant", "line") for r in ("ben", "clara")
    }
    assert seen(access_for()) == set()
    expired = attrs.evolve(grant("company-viewer"), valid_until=AT)
    assert seen(access_for(expired)) == set()
    with pytest.raises(ValidationError):
        audience_for(Actor.user("acme", "ben"), Permission.ORDERS_BUY, access=access_for(), at=AT)


def test_tracking_refuses_another_orders_shipment() -> None:
    order = order_of(("SEAL-7", 2))
    shipment = Shipment(
        id="s-1",
        company_id="acme",
        order_id="o-2",
        carrier="DHL",
        tracking_number="1",
        shipped_at=AT,
        lines=[ShipmentLine(line_no=1, sku="SEAL-7", quantity=2)],
    )
    with pytest.raises(NotFoundError):
        track(order, [shipment])
    view = track(order, [attrs.evolve(shipment, order_id="o-1")])
    assert [(t.sku, t.ordered, t.outstanding) for t in view.lines] == [("SEAL-7", D(2), D(2))]
    assert view.history == order.history
    assert UserId("ben") == order.requester_id
