"""Properties of orders: totals to the cent, shipped and invoiced never above ordered,
reorder never changes the original, view scopes exactly as authorize decides, and
bad input through the portal: a B2BCoreError and nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import event, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import (
    Access,
    Actor,
    BusinessUnit,
    CompanyUser,
    Resource,
    Role,
    RoleGrant,
    ViewScope,
    authorize,
    predefined_roles,
)
from b2bcore.accounts.model import Permission
from b2bcore.catalog import (
    Assortment,
    CatalogContext,
    Category,
    InMemoryCatalog,
    Product,
    Selection,
)
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError, InvalidTransitionError
from b2bcore.ids import BusinessUnitId, CompanyId, PriceListId, RoleId, Sku, UserId
from b2bcore.money import Money
from b2bcore.orders import (
    Order,
    OrderStatus,
    QuantityExceededError,
    ReorderChange,
    audience_for,
    reorder,
)
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceContext, PriceList, PriceRule, QuantityRule, RuleTarget
from b2bcore.serialization import structure, unstructure
from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.strategies import DEFAULT_CATALOG_SKUS, orders, shipment_sequences

AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
D = Decimal
ZERO = Money("0", "EUR")


@given(orders())
def test_an_order_total_is_the_sum_of_its_lines_to_the_cent(order: Order) -> None:
    assert order.total == sum((line.net for line in order.lines), ZERO)
    assert order.total.is_rounded()
    assert (
        order.subtotal - order.discount_total + sum((line.rounding for line in order.lines), ZERO)
        == order.total
    )
    assert structure(unstructure(order), Order) == order


def _confirmed(order: Order) -> Order:
    return attrs.evolve(order, status=OrderStatus.CONFIRMED)


@given(orders().flatmap(lambda o: st.tuples(st.just(o), shipment_sequences(o))))
def test_shipped_never_exceeds_ordered(pair: tuple[Order, list[dict[str, Decimal]]]) -> None:
    order, steps = pair
    order = _confirmed(order)
    for step in steps:
        before = order.lines
        fits = all(q <= order.line_for(sku).left_to_ship for sku, q in step.items())
        try:
            order.ship(step, at=AT, by="op")
        except QuantityExceededError:
            assert not fits
            assert order.lines == before  # a refused shipment changes nothing
        except InvalidTransitionError:
            assert order.status is OrderStatus.SHIPPED  # nothing left to ship
        else:
            assert fits
        for line in order.lines:
            assert D(0) <= line.shipped_quantity <= line.quantity
        assert (
            order.status is OrderStatus.SHIPPED
        ) == order.fully_shipped or not order.shipped_anything


@given(orders().flatmap(lambda o: st.tuples(st.just(o), shipment_sequences(o))))
def test_invoiced_never_exceeds_ordered_and_adds_up_to_the_line(
    pair: tuple[Order, list[dict[str, Decimal]]],
) -> None:
    order, steps = pair
    billed: dict[str, Money] = {}
    for step in steps:
        before = order.lines
        try:
            invoiced = order.invoice(step)
        except QuantityExceededError:
            assert order.lines == before
            continue
        for part in invoiced:
            billed[part.sku] = billed.get(part.sku, ZERO) + part.amount
            assert not part.amount.is_negative()
            assert part.amount.is_rounded()
    for line in order.lines:
        assert line.invoiced_quantity <= line.quantity
        assert (line.invoiced_amount or ZERO) == billed.get(line.sku, ZERO)
        assert (line.invoiced_amount or ZERO) <= line.net
        if line.invoiced_quantity == line.quantity:
            assert line.invoiced_amount == line.net


@st.composite
def catalog_changes(draw: st.DrawFn, order: Order) -> InMemoryCatalog:
    """The order's SKUs as the catalog has them later: some discontinued (with or
    without a successor), some with a quantity rule, some without a list price."""
    products = [
        Product(
            sku="NEW-1", name="Successor", category_id="spares", list_price=Money("5.00", "EUR")
        )
    ]
    for line in order.lines:
        fate = draw(
            st.sampled_from(["same", "discontinued", "successor", "rule", "unpriced", "gone"])
        )
        if fate == "gone":
            continue
        price = None if fate == "unpriced" else draw(st.sampled_from(["1.00", "18.40", "99.90"]))
        products.append(
            Product(
                sku=line.sku,
                name="Part",
                category_id="spares",
                list_price=None if price is None else Money(price, "EUR"),
                lifecycle="discontinued" if fate in ("discontinued", "successor") else "active",
                successor_sku="NEW-1" if fate == "successor" else None,
                quantity_rule=QuantityRule(sku=Sku(line.sku), minimum=2, increment=3)
                if fate == "rule"
                else None,
            )
        )
    return InMemoryCatalog(categories=[Category(id="spares", name="Spares")], products=products)


@given(
    orders().flatmap(lambda o: st.tuples(st.just(o), catalog_changes(o))),
    st.sets(st.sampled_from(DEFAULT_CATALOG_SKUS), max_size=3),
)
def test_reorder_never_changes_the_original_and_reports_every_line(
    pair: tuple[Order, InMemoryCatalog], excluded: set[str]
) -> None:
    order, catalog = pair
    before = unstructure(order)
    lists = [
        PriceList(
            id=PriceListId("list"),
            name="List",
            currency="EUR",
            valid_from=AT - timedelta(days=1),
            rules=[
                PriceRule(
                    id="all", target=RuleTarget.all(), formula=Formula(), min_quantity=D("0.1")
                )
            ],
        )
    ]
    context = CatalogContext(
        price_context=PriceContext(company_id=CompanyId("acme"), currency="EUR", at=AT),
        assortments=[Assortment(company_id="acme", exclude=Selection(skus=excluded))]
        if excluded
        else [],
    )
    result = reorder(order, catalog=catalog, context=context, lists=lists)
    assert unstructure(order) == before
    assert [r.line_no for r in result.report] == [line.line_no for line in order.lines]
    carried = {r.sku for r in result.report if r.sku is not None}
    assert {line.sku for line in result.lines} == carried
    assert len({line.sku for line in result.lines}) == len(result.lines)
    for r in result.report:
        event(r.outcome.value)
        if r.sku is None:
            assert r.changes == (ReorderChange.UNAVAILABLE,)
            continue
        assert r.sku not in excluded
        product = catalog.product(r.sku)
        assert product is not None
        assert product.active
        assert (ReorderChange.REPLACED in r.changes) == (r.sku != r.original_sku)
        assert (ReorderChange.PRICE_CHANGED in r.changes) == (r.new_unit_price != r.old_unit_price)


# --- who sees what --------------------------------------------------------------------------

_UNITS = ("hq", "plant", "line", "office")
_PARENTS = {"hq": None, "plant": "hq", "line": "plant", "office": "hq"}


def _access(grants: list[RoleGrant], units: list[str]) -> Access:
    roles: dict[str, Role] = {r.id: r for r in predefined_roles("acme")}
    for scope in ViewScope:
        custom = attrs.evolve(roles["viewer"], id=RoleId(f"view-{scope.value}"))
        custom.with_permission(Permission.ORDERS_VIEW, scope=scope)
        roles[custom.id] = custom
    user = CompanyUser(
        id=UserId("ben"),
        company_id=CompanyId("acme"),
        email="ben@acme.example",
        name="Ben",
        business_unit_ids=tuple(BusinessUnitId(u) for u in units),
        grants=grants,
    )
    tree = tuple(
        BusinessUnit(
            id=BusinessUnitId(u),
            company_id=CompanyId("acme"),
            name=u,
            parent_id=None if p is None else BusinessUnitId(p),
        )
        for u, p in _PARENTS.items()
    )
    return Access(user=user, roles=roles, units=tree)


@st.composite
def grants(draw: st.DrawFn) -> RoleGrant:
    start = draw(st.sampled_from([AT - timedelta(days=1)] * 3 + [AT + timedelta(days=1)]))
    end = draw(st.sampled_from([None, None, AT, AT + timedelta(days=2)]))
    return RoleGrant(
        role_id=RoleId(
            draw(
                st.sampled_from(
                    [
                        "buyer",
                        "viewer",
                        "approver",
                        "company_admin",
                        "view-own",
                        "view-business_unit",
                        "view-company",
                    ]
                )
            )
        ),
        valid_from=start,
        valid_until=end if end is None or end > start else None,
        business_unit_id=draw(st.none() | st.sampled_from(_UNITS).map(BusinessUnitId)),
    )


@given(
    st.lists(grants(), min_size=1, max_size=3),
    st.lists(st.sampled_from(_UNITS), min_size=1, max_size=2, unique=True),
)
def test_the_audience_is_exactly_what_authorize_lets_one_view(
    user_grants: list[RoleGrant], units: list[str]
) -> None:
    access = _access(user_grants, units)
    ben = Actor.user("acme", "ben")
    _decision, audience = audience_for(ben, Permission.ORDERS_VIEW, access=access, at=AT)
    for unit in (*_UNITS, None):
        for requester in ("ben", "clara"):
            record = Resource(
                "order",
                "o-1",
                CompanyId("acme"),
                owner_id=requester,
                business_unit_id=None if unit is None else BusinessUnitId(unit),
            )
            allowed = authorize(
                ben, Permission.ORDERS_VIEW, access=access, resource=record, at=AT
            ).allowed
            assert audience.admits(business_unit_id=unit, requester_id=requester) == allowed, (
                unit,
                requester,
                audience,
            )
    if not audience.groups:
        event("sees nothing")
    elif audience.everything:
        event("sees everything")


# --- bad input through the portal ----------------------------------------------------------

junk: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=8),
    st.none(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True),
    st.lists(st.sampled_from(["SEAL-7", "", 1]), max_size=2),
    st.dictionaries(st.sampled_from(["SEAL-7", "PUMP-1", " "]), st.integers(-1, 9), max_size=2),
)


def field(*good: object) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes junk."""
    plausible = st.sampled_from(good)
    return st.integers(0, 4).flatmap(lambda n: junk if n == 0 else plausible)


skus = field("SEAL-7", "PUMP-1", "SEAL-6", "VALVE-2", "NOPE")
quantities = field(1, 2, 4, "2", D("0.5"), 40)
commands = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.one_of(
                st.fixed_dictionaries({"sku": skus, "quantity": quantities}),
                st.sampled_from(
                    [{"sku": "SEAL-7", "quantity": 2}, {"sku": "PUMP-1", "quantity": 1}]
                ),
            ),
        ),
        st.tuples(
            st.just("checkout"),
            st.fixed_dictionaries(
                {"idempotency_key": field(None, "k-1", "k-2"), "po_number": field("", "PO-1")}
            ),
        ),
        st.tuples(st.just("confirm"), st.fixed_dictionaries({"note": field("", "ok")})),
        st.tuples(
            st.just("ship"),
            st.fixed_dictionaries(
                {
                    "quantities": field({"SEAL-7": 2}, {"PUMP-1": 1}, {"SEAL-7": 99}, {}),
                    "carrier": field("DHL", ""),
                    "tracking_number": field("JD1"),
                }
            ),
        ),
        st.tuples(
            st.just("invoice"),
            st.fixed_dictionaries({"quantities": field(None, {"SEAL-7": 2}, {"PUMP-1": 5})}),
        ),
        st.tuples(st.just("cancel"), st.fixed_dictionaries({"reason": field("", "changed mind")})),
        st.tuples(
            st.just("quote"),
            st.fixed_dictionaries({"lines": field([("PUMP-1", 1)], {"SEAL-7": 2}, [])}),
        ),
        st.tuples(
            st.just("pay"),
            st.fixed_dictionaries(
                {"amount": field(Money("10.00", "EUR"), Money("0.00", "EUR"), Money("1", "USD"))}
            ),
        ),
    ),
    max_size=10,
)


def _world() -> tuple[Portal, Actor]:
    portal = Portal(MemoryStore(), clock=FixedClock(AT))
    op = Actor.operator_for("acme", "op")
    portal.accounts.create_company(
        op, name="ACME", admin_email="a@acme.example", admin_user_id="ana"
    )
    ana = Actor.user("acme", "ana")
    portal.accounts.invite_user(
        ana,
        user_id="ben",
        name="Ben",
        email="ben@acme.example",
        business_unit_ids=["hq"],
        roles=["buyer"],
    )
    cat = portal.catalog
    cat.save_category(operator_id="op", category=Category(id="spares", name="Spares"))
    for product in (
        Product(
            sku="SEAL-7",
            name="Seal",
            category_id="spares",
            list_price=Money("18.40", "EUR"),
            quantity_rule=QuantityRule(sku=Sku("SEAL-7"), minimum=2, increment=2),
        ),
        Product(
            sku="PUMP-1", name="Pump", category_id="spares", list_price=Money("1250.00", "EUR")
        ),
        Product(
            sku="VALVE-2", name="Valve", category_id="spares", list_price=Money("40.00", "EUR")
        ),
        Product(
            sku="SEAL-6",
            name="Old",
            category_id="spares",
            lifecycle="discontinued",
            successor_sku="SEAL-7",
        ),
    ):
        cat.save_product(operator_id="op", product=product)
    cat.set_stock(operator_id="op", sku="SEAL-7", location="leipzig", on_hand=10)
    cat.set_stock(operator_id="op", sku="PUMP-1", location="leipzig", on_hand=2)
    cat.save_assortment(op, Assortment(company_id="acme", exclude=Selection(skus={"VALVE-2"})))
    portal.pricing.publish_price_list(
        operator_id="op",
        price_list=PriceList(
            id=PriceListId("list"),
            name="List",
            currency="EUR",
            valid_from=AT - timedelta(days=1),
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
    )
    return portal, Actor.user("acme", "ben")


def _snapshot(portal: Portal) -> dict[str, list[tuple[str, int]]]:
    acme = CompanyId("acme")
    with portal.store.unit_of_work() as uow:
        return {
            "carts": [
                (c.id, c.version)
                for c in iterate(lambda c: uow.carts.list(company_id=acme, cursor=c))
            ],
            "orders": [
                (o.id, o.version)
                for o in iterate(lambda c: uow.orders.list(company_id=acme, cursor=c))
            ],
            "invoices": [
                (i.id, i.version)
                for i in iterate(lambda c: uow.invoices.list(company_id=acme, cursor=c))
            ],
            "quotes": [
                (q.id, q.version)
                for q in iterate(lambda c: uow.sales_quotes.list(company_id=acme, cursor=c))
            ],
            "reservations": [
                (r.id, r.version)
                for r in iterate(lambda c: uow.reservations.list(company_id=acme, cursor=c))
            ],
            "stock": [
                (lv.key, lv.version)
                for sku in ("SEAL-7", "PUMP-1")
                for lv in uow.stock_levels.for_sku(Sku(sku))
            ],
            "outbox": [(r.id, r.version) for r in uow.outbox.list(company_id=acme, limit=1000)],
        }


def _outcomes(portal: Portal) -> list[str]:
    with portal.store.unit_of_work() as uow:
        return [e.outcome.value for e in uow.audit.list(company_id=CompanyId("acme"), limit=1000)]


def _command(
    portal: Portal,
    name: str,
    kwargs: dict[str, Any],
    *,
    last: str,
    placed: list[Order],
    invoices: list[str],
) -> Any:
    """The call that runs command ``name`` of the script."""
    orders_, op = portal.orders, Actor.operator_for("acme", "op")
    ben = Actor.user("acme", "ben")
    cart = orders_.carts(ben).items[0].id if orders_.carts(ben).items else "no-cart"

    def add() -> object:
        return orders_.add_to_cart(ben, cart, kwargs["sku"], kwargs["quantity"])

    def checkout() -> object:
        order = orders_.checkout(ben, cart, **kwargs)
        placed.append(order)
        return order

    def invoice() -> object:
        made = orders_.issue_invoice(op, last, **kwargs)
        invoices.append(made.id)
        return made

    calls = {
        "add": add,
        "checkout": checkout,
        "confirm": lambda: orders_.confirm_order(op, last, **kwargs),
        "ship": lambda: orders_.ship(op, last, **kwargs),
        "invoice": invoice,
        "cancel": lambda: orders_.cancel_order(ben, last, **kwargs),
        "quote": lambda: orders_.request_quote(ben, currency="EUR", **kwargs),
        "pay": lambda: orders_.record_payment(
            op, invoices[-1] if invoices else "no-invoice", kwargs["amount"]
        ),
    }
    return calls[name]


@settings(max_examples=60)
@given(script=commands)
def test_any_input_either_succeeds_or_fails_cleanly(
    script: list[tuple[str, dict[str, Any]]],
) -> None:
    portal, ben = _world()
    op = Actor.operator_for("acme", "op")
    placed: list[Order] = []
    invoices: list[str] = []
    for name, kwargs in script:
        last = placed[-1].id if placed else "no-order"
        if not portal.orders.carts(ben).items:  # at the start and after a checkout
            fresh = portal.orders.create_cart(ben, currency="EUR")
            portal.orders.add_to_cart(ben, fresh.id, "SEAL-7", 2)
        run = _command(portal, name, kwargs, last=last, placed=placed, invoices=invoices)
        before = _snapshot(portal)
        audited = len(_outcomes(portal))
        try:
            run()
        except B2BCoreError as e:
            event(f"{name}: {e.code}")
            assert _snapshot(portal) == before, f"{name} failed but changed the store"
            assert _outcomes(portal)[audited:] in ([], ["failed"], ["denied"])
        else:
            event(f"{name}: ok")
            assert _outcomes(portal)[audited:] == ["allowed"]
        for order in iterate(lambda c: portal.orders.order_history(op, cursor=c)):
            assert order.total == sum((line.net for line in order.lines), ZERO)
            for line in order.lines:
                assert line.shipped_quantity <= line.quantity
                assert line.invoiced_quantity <= line.quantity
