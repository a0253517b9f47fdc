"""A small world for the orders tests: ACME with a unit tree, buyers, a viewer and an
admin; Globex next door; a catalog with stock; price lists with a contract.

Units: hq → plant (cost center CC-4711) → line; hq → office.
Users: ana (company admin, hq), ben (buyer, line), clara (buyer, office),
dora (viewer: own orders only, line), finn (buyer up to 100 EUR, line);
gia (Globex admin).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.catalog import Assortment, Category, Product, Selection
from b2bcore.clock import FixedClock
from b2bcore.ids import PriceListId, Sku
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceList, PriceRule, PriceScope, QuantityRule, RuleTarget
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
OP = Actor.operator_for("acme", "op-olga")


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "orders.sqlite", synchronous="NORMAL")
    )
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def build_world(portal: Portal) -> None:
    """Companies, users, catalog, stock and prices (see the module docstring)."""
    accounts = portal.accounts
    accounts.create_company(
        OP,
        name="ACME",
        country="DE",
        admin_email="ana@acme.example",
        admin_name="Ana",
        admin_user_id="ana",
    )
    ana = Actor.user("acme", "ana")
    accounts.add_business_unit(
        ana, name="Plant", unit_id="plant", parent_id="hq", cost_center="CC-4711"
    )
    accounts.add_business_unit(ana, name="Line", unit_id="line", parent_id="plant")
    accounts.add_business_unit(ana, name="Office", unit_id="office", parent_id="hq")
    accounts.create_role(ana, name="Small buyer", role_id="small", copy_of="buyer")
    accounts.set_role_permission(
        ana, role_id="small", permission=Permission.ORDERS_BUY, limit=eur("100.00")
    )
    for uid, unit, role in (
        ("ben", "line", "buyer"),
        ("clara", "office", "buyer"),
        ("dora", "line", "viewer"),
        ("finn", "line", "small"),
    ):
        accounts.invite_user(
            ana,
            user_id=uid,
            name=uid.title(),
            email=f"{uid}@acme.example",
            business_unit_ids=[unit],
            roles=[role],
        )
    accounts.create_company(
        Actor.operator_for("globex", "op-olga"),
        name="Globex",
        country="AT",
        admin_email="gia@globex.example",
        admin_name="Gia",
        admin_user_id="gia",
    )
    cat = portal.catalog
    for category in (
        Category(id="spares", name="Spares"),
        Category(id="seals", name="Seals", parent_id="spares"),
        Category(id="pumps", name="Pumps", parent_id="spares"),
    ):
        cat.save_category(operator_id="op-olga", category=category)
    for product in (
        Product(
            sku="SEAL-7",
            name="Shaft seal",
            category_id="seals",
            list_price=eur("18.40"),
            quantity_rule=QuantityRule(sku=Sku("SEAL-7"), minimum=2, increment=2),
        ),
        Product(sku="PUMP-1", name="Pump unit", category_id="pumps", list_price=eur("1250.00")),
        Product(sku="VALVE-2", name="Valve", category_id="spares", list_price=eur("40.00")),
        Product(sku="HOSE-3", name="Hose", category_id="spares", list_price=eur("9.90")),
        Product(sku="NOPRICE", name="Unpriced", category_id="spares"),
    ):
        cat.save_product(operator_id="op-olga", product=product)
    cat.save_product(
        operator_id="op-olga",
        product=Product(
            sku="SEAL-6",
            name="Old seal",
            category_id="seals",
            lifecycle="discontinued",
            successor_sku="SEAL-7",
        ),
    )
    for sku, on_hand in (("SEAL-7", 100), ("PUMP-1", 5), ("VALVE-2", 10), ("NOPRICE", 3)):
        cat.set_stock(operator_id="op-olga", sku=sku, location="leipzig", on_hand=on_hand)
    cat.save_assortment(OP, Assortment(company_id="acme", exclude=Selection(skus={"VALVE-2"})))
    for price_list in (
        PriceList(
            id=PriceListId("list"),
            name="List prices",
            currency="EUR",
            valid_from=YEAR,
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
        PriceList(
            id=PriceListId("acme-2026"),
            name="ACME contract",
            currency="EUR",
            valid_from=YEAR,
            scope=PriceScope(companies={"acme"}),
            rules=[
                PriceRule(
                    id="pumps",
                    target=RuleTarget.category("pumps"),
                    formula=Formula(percent=Decimal(-10)),
                )
            ],
        ),
        PriceList(
            id=PriceListId("globex-secret"),
            name="Globex secret deal",
            currency="EUR",
            valid_from=YEAR,
            scope=PriceScope(companies={"globex"}),
            rules=[PriceRule(id="seals", target=RuleTarget.sku("SEAL-7"), price=eur("1.00"))],
        ),
    ):
        portal.pricing.publish_price_list(operator_id="op-olga", price_list=price_list)


@pytest.fixture
def portal(store: Store, clock: FixedClock) -> Portal:
    p = Portal(store, clock=clock)
    build_world(p)
    return p
