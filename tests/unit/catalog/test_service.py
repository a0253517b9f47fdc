"""The catalog through the portal, on MemoryStore and SQLite: the seller keeps the
catalog (checked writes, audited), buyers see only their assortment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.audit import PLATFORM_AUDIT, Outcome
from b2bcore.catalog import (
    Assortment,
    AttributeMatch,
    Category,
    CycleError,
    Incoming,
    InsufficientStockError,
    NotOrderableError,
    Product,
    ProductRelation,
    RelationRule,
    ReservationStatus,
    Selection,
    StockStatus,
)
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import CompanyId, PriceListId, Sku
from b2bcore.money import Money
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import (
    Formula,
    PriceList,
    PriceRule,
    PriceScope,
    QuantityRule,
    QuantityRuleError,
    RuleTarget,
)
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
D = Decimal
OP = "op-olga"
BEN = Actor.user("acme", "ben")  # buyer in acme's unit "line" (below "plant", below "hq")
ANA = Actor.user("acme", "admin-acme")  # acme's company admin
GIA = Actor.user("globex", "admin-globex")


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "catalog.sqlite", synchronous="NORMAL")
    )
    yield s
    s.close()


def _catalog(portal: Portal) -> None:
    cat = portal.catalog
    for c in (
        Category(id="machines", name="Machines"),
        Category(id="pumps", name="Pumps", parent_id="machines"),
        Category(id="spares", name="Spare parts"),
        Category(id="seals", name="Seals", parent_id="spares"),
        Category(id="accessories", name="Accessories"),
    ):
        cat.save_category(operator_id=OP, category=c)
    for p in (
        Product(
            sku="PX-200",
            name="Pump PX-200",
            category_id="pumps",
            attributes={"model": "PX-200"},
            list_price=eur("1250.00"),
        ),
        Product(
            sku="SEAL-7",
            name="Shaft seal",
            category_id="seals",
            attributes={"fits_model": "PX-200"},
            list_price=eur("18.40"),
            quantity_rule=QuantityRule(sku=Sku("SEAL-7"), minimum=2, increment=2),
        ),
        Product(sku="SEAL-8", name="Seal kit", category_id="seals", list_price=eur("40.00")),
        Product(sku="HOSE-1", name="Hose", category_id="accessories", list_price=eur("45.00")),
    ):
        cat.save_product(operator_id=OP, product=p)
    cat.save_product(
        operator_id=OP,
        product=Product(
            sku="SEAL-6",
            name="Old seal",
            category_id="seals",
            lifecycle="discontinued",
            successor_sku="SEAL-7",
        ),
    )
    cat.save_relation(
        operator_id=OP,
        relation=ProductRelation(source_sku="PX-200", target_sku="HOSE-1", type="accessory"),
    )
    cat.save_relation_rule(
        operator_id=OP,
        rule=RelationRule(
            id="spares-by-model",
            type="spare_part",
            target_category="spares",
            source_category="machines",
            match=[AttributeMatch(source="model", target="fits_model")],
        ),
    )
    cat.set_stock(operator_id=OP, sku="SEAL-7", location="leipzig", on_hand=6)
    cat.set_stock(
        operator_id=OP,
        sku="SEAL-7",
        location="berlin",
        on_hand=2,
        incoming=[Incoming(20, NOW + timedelta(days=5))],
    )
    portal.pricing.publish_price_list(
        operator_id=OP,
        price_list=PriceList(
            id=PriceListId("list"),
            name="List prices",
            currency="EUR",
            valid_from=YEAR,
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
    )
    portal.pricing.publish_price_list(
        operator_id=OP,
        price_list=PriceList(
            id=PriceListId("globex-spares"),
            name="Globex spare parts contract",
            currency="EUR",
            valid_from=YEAR,
            scope=PriceScope(companies={"globex"}),
            rules=[
                PriceRule(
                    id="spares", target=RuleTarget.category("spares"), formula=Formula(percent=-20)
                )
            ],
        ),
    )


@pytest.fixture
def portal(store: Store) -> Portal:
    p = Portal(store, clock=FixedClock(NOW))
    for cid, country in (("acme", "DE"), ("globex", "AT")):
        p.accounts.create_company(
            Actor.operator_for(cid, OP),
            name=cid.upper(),
            country=country,
            admin_email=f"admin@{cid}.example",
            admin_user_id=f"admin-{cid}",
        )
    p.accounts.add_business_unit(ANA, name="Plant", unit_id="plant", parent_id="hq")
    p.accounts.add_business_unit(ANA, name="Line", unit_id="line", parent_id="plant")
    p.accounts.add_business_unit(ANA, name="Office", unit_id="office", parent_id="hq")
    p.accounts.invite_user(
        ANA,
        user_id="ben",
        email="ben@acme.example",
        name="Ben",
        business_unit_ids=["line"],
        roles=["buyer"],
    )
    p.accounts.invite_user(
        ANA,
        user_id="vic",
        email="vic@acme.example",
        name="Vic",
        business_unit_ids=["office"],
        roles=["viewer"],
    )
    _catalog(p)
    return p


def _platform_trail(portal: Portal) -> list[str]:
    return [
        e.action
        for e in iterate(
            lambda c: portal.accounts.platform_audit_trail(operator_id=OP, limit=200, cursor=c)
        )
    ]


def _skus(portal: Portal, actor: Actor, **kw: object) -> list[str]:
    return [
        p.sku
        for p in iterate(
            lambda c: portal.catalog.list_products(actor, limit=2, cursor=c, **kw)  # type: ignore[arg-type]
        )
    ]


# --- the seller's catalog ----------------------------------------------------------------


def test_saves_are_audited_in_the_platform_trail_with_events(portal: Portal) -> None:
    trail = _platform_trail(portal)
    assert trail.count("catalog.category.save") == 5
    assert trail.count("catalog.product.save") == 5
    assert "catalog.relation.save" in trail
    assert "catalog.relation_rule.save" in trail
    assert trail.count("catalog.stock.set") == 2
    with portal.store.unit_of_work() as uow:
        events = [
            r.event_type
            for r in iterate(
                lambda c: uow.outbox.list(company_id=PLATFORM_AUDIT, limit=200, cursor=c)
            )
        ]
    assert events.count("catalog.product_saved") == 5
    assert events.count("catalog.stock_level_set") == 2


def test_category_tree_parents_first_and_cycles_refused(portal: Portal) -> None:
    tree = [c.id for c in portal.catalog.category_tree()]
    assert tree == ["accessories", "machines", "pumps", "spares", "seals"]
    machines = next(c for c in portal.catalog.category_tree() if c.id == "machines")
    moved = attrs.evolve(machines, parent_id="pumps")
    before = _platform_trail(portal)
    with pytest.raises(CycleError) as e:
        portal.catalog.save_category(operator_id=OP, category=moved)
    assert e.value.cycle == ("machines", "pumps", "machines")
    with pytest.raises(NotFoundError, match="parent category 'ghost' does not exist"):
        portal.catalog.save_category(
            operator_id=OP, category=Category(id="x", name="X", parent_id="ghost")
        )
    assert _platform_trail(portal) == before
    assert [c.id for c in portal.catalog.category_tree()] == tree


def test_new_versus_stale_versus_duplicate(portal: Portal) -> None:
    seal = portal.catalog.product("SEAL-8")
    assert seal.version == 1
    seal.name = "Seal kit, 2 pieces"
    portal.catalog.save_product(operator_id=OP, product=seal)
    assert (portal.catalog.product("SEAL-8").name, seal.version) == ("Seal kit, 2 pieces", 2)
    stale = attrs.evolve(seal, name="Older edit", version=1)
    with pytest.raises(ConcurrencyError):
        portal.catalog.save_product(operator_id=OP, product=stale)
    assert stale.version == 1
    assert stale.pull_events() == []
    again = Product(sku="SEAL-8", name="Seal kit")
    with pytest.raises(DuplicateError, match="already exists"):
        portal.catalog.save_product(operator_id=OP, product=again)
    assert again.version == 0
    never = Product(sku="NEW-1", name="New", version=3)
    with pytest.raises(ConcurrencyError):
        portal.catalog.save_product(operator_id=OP, product=never)
    with pytest.raises(ValidationError):
        portal.catalog.save_product(operator_id=OP, product="SEAL-8")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        portal.catalog.save_product(operator_id="", product=Product(sku="NEW-2", name="N"))


def test_product_references_are_checked_in_the_same_unit(portal: Portal) -> None:
    cat = portal.catalog
    with pytest.raises(NotFoundError, match="category 'ghost'"):
        cat.save_product(operator_id=OP, product=Product(sku="N", name="N", category_id="ghost"))
    with pytest.raises(NotFoundError, match="parent product 'GHOST'"):
        cat.save_product(operator_id=OP, product=Product(sku="N", name="N", parent_sku="GHOST"))
    cat.save_product(
        operator_id=OP, product=Product(sku="PX-200-EX", name="Ex", parent_sku="PX-200")
    )
    with pytest.raises(ValidationError, match="variants are one level deep"):
        cat.save_product(operator_id=OP, product=Product(sku="N", name="N", parent_sku="PX-200-EX"))
    pump = cat.product("PX-200")
    pump.parent_sku = "SEAL-8"  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="has variants itself"):
        cat.save_product(operator_id=OP, product=pump)
    with pytest.raises(NotFoundError, match="successor product 'GHOST'"):
        cat.save_product(
            operator_id=OP,
            product=Product(sku="N", name="N", lifecycle="discontinued", successor_sku="GHOST"),
        )
    with pytest.raises(NotFoundError):
        cat.product("N")


def test_successor_and_replacement_loops_are_refused(portal: Portal) -> None:
    cat = portal.catalog
    seal7 = cat.product("SEAL-7")
    seal7.discontinue(successor_sku="SEAL-6")  # SEAL-6 -> SEAL-7 already
    with pytest.raises(CycleError) as e:
        cat.save_product(operator_id=OP, product=seal7)
    assert e.value.cycle == ("SEAL-7", "SEAL-6", "SEAL-7")
    assert cat.product("SEAL-7").active
    cat.save_relation(
        operator_id=OP,
        relation=ProductRelation(source_sku="SEAL-7", target_sku="SEAL-8", type="replacement"),
    )
    with pytest.raises(CycleError):
        cat.save_relation(
            operator_id=OP,
            relation=ProductRelation(source_sku="SEAL-8", target_sku="SEAL-6", type="replacement"),
        )
    seal8 = cat.product("SEAL-8")
    seal8.discontinue(successor_sku="SEAL-6")
    with pytest.raises(CycleError):
        cat.save_product(operator_id=OP, product=seal8)
    # Changing a successor replaces the old link: SEAL-6 -> SEAL-8 is no loop.
    seal6 = cat.product("SEAL-6")
    seal6.successor_sku = "SEAL-8"  # type: ignore[assignment]
    cat.save_product(operator_id=OP, product=seal6)
    assert cat.product("SEAL-6").successor_sku == "SEAL-8"


def test_relations_need_both_products_and_can_be_removed(portal: Portal) -> None:
    cat = portal.catalog
    with pytest.raises(NotFoundError, match="target product 'GHOST'"):
        cat.save_relation(
            operator_id=OP,
            relation=ProductRelation(source_sku="PX-200", target_sku="GHOST", type="accessory"),
        )
    removed = cat.remove_relation(
        operator_id=OP, source_sku="PX-200", relation_type="accessory", target_sku="HOSE-1"
    )
    assert removed.target_sku == "HOSE-1"
    with pytest.raises(NotFoundError):
        cat.remove_relation(
            operator_id=OP, source_sku="PX-200", relation_type="accessory", target_sku="HOSE-1"
        )
    with pytest.raises(ValidationError):
        cat.remove_relation(
            operator_id=OP, source_sku="PX-200", relation_type="friend", target_sku="HOSE-1"
        )
    assert "catalog.relation.remove" in _platform_trail(portal)


def test_relation_rules_need_their_categories(portal: Portal) -> None:
    with pytest.raises(NotFoundError, match="source category 'ghost'"):
        portal.catalog.save_relation_rule(
            operator_id=OP,
            rule=RelationRule(
                id="r", type="accessory", target_category="spares", source_category="ghost"
            ),
        )
    with pytest.raises(NotFoundError, match="target category 'ghost'"):
        portal.catalog.save_relation_rule(
            operator_id=OP, rule=RelationRule(id="r", type="accessory", target_category="ghost")
        )


def test_set_stock_keeps_what_is_reserved(portal: Portal) -> None:
    portal.catalog.reserve(BEN, sku="SEAL-7", quantity=4, reference="order-1", location="leipzig")
    level = portal.catalog.set_stock(operator_id=OP, sku="SEAL-7", location="leipzig", on_hand=10)
    assert (level.on_hand, level.reserved, level.available) == (D(10), D(4), D(6))
    with pytest.raises(NotFoundError):
        portal.catalog.set_stock(operator_id=OP, sku="GHOST", location="leipzig", on_hand=1)
    with pytest.raises(ValidationError):
        portal.catalog.set_stock(operator_id=OP, sku="SEAL-7", location="leipzig", on_hand=-1)
    assert [lv.location for lv in portal.catalog.stock_levels("SEAL-7")] == ["berlin", "leipzig"]


# --- assortments ---------------------------------------------------------------------------


def test_company_assortment_is_the_operators_unit_assortments_the_admins(portal: Portal) -> None:
    company = Assortment(company_id="acme", include=Selection(categories={"spares"}))
    with pytest.raises(PermissionDeniedError) as e:
        portal.catalog.save_assortment(ANA, company)
    assert e.value.decision_code == "operator_required"
    assert company.version == 0
    portal.catalog.save_assortment(Actor.operator_for("acme", OP), company)
    assert company.version == 1
    plant = Assortment(
        company_id="acme", business_unit_id="plant", exclude=Selection(skus={"SEAL-8"})
    )
    portal.catalog.save_assortment(ANA, plant)
    with pytest.raises(PermissionDeniedError):
        portal.catalog.save_assortment(BEN, Assortment(company_id="acme", business_unit_id="line"))
    with pytest.raises(NotFoundError):
        portal.catalog.save_assortment(ANA, Assortment(company_id="acme", business_unit_id="ghost"))
    with pytest.raises(ValidationError):
        portal.catalog.save_assortment(
            ANA, Assortment(company_id="globex", business_unit_id="plant")
        )
    with pytest.raises(DuplicateError):
        portal.catalog.save_assortment(ANA, Assortment(company_id="acme", business_unit_id="plant"))
    assert [a.key for a in portal.catalog.assortments(BEN)] == ["@company", "plant"]
    assert portal.catalog.assortments(GIA) == []
    outcomes = [
        (e.action, e.outcome)
        for e in iterate(lambda c: portal.accounts.audit_trail(ANA, cursor=c))
        if e.action == "assortment.save"
    ]
    assert outcomes.count(("assortment.save", Outcome.ALLOWED)) == 2
    assert ("assortment.save", Outcome.DENIED) in outcomes
    assert ("assortment.save", Outcome.FAILED) in outcomes
    removed = portal.catalog.remove_assortment(ANA, business_unit_id="plant")
    assert removed.key == "plant"
    with pytest.raises(PermissionDeniedError):
        portal.catalog.remove_assortment(ANA)
    with pytest.raises(NotFoundError):
        portal.catalog.remove_assortment(ANA, business_unit_id="plant")


def test_listing_shows_only_the_assortment_a_page_at_a_time(portal: Portal) -> None:
    assert _skus(portal, BEN) == ["HOSE-1", "PX-200", "SEAL-7", "SEAL-8"]
    assert _skus(portal, BEN, active_only=False) == [
        "HOSE-1",
        "PX-200",
        "SEAL-6",
        "SEAL-7",
        "SEAL-8",
    ]
    assert _skus(portal, BEN, category_id="spares") == ["SEAL-7", "SEAL-8"]
    portal.catalog.save_assortment(
        Actor.operator_for("acme", OP),
        Assortment(company_id="acme", include=Selection(categories={"spares", "accessories"})),
    )
    portal.catalog.save_assortment(
        ANA,
        Assortment(company_id="acme", business_unit_id="plant", exclude=Selection(skus={"SEAL-8"})),
    )
    assert _skus(portal, BEN) == ["HOSE-1", "SEAL-7"]  # line is below plant
    assert _skus(portal, ANA) == ["HOSE-1", "SEAL-7", "SEAL-8"]  # the admin sits in hq
    assert _skus(portal, ANA, business_unit_id="plant") == ["HOSE-1", "SEAL-7"]
    assert _skus(portal, GIA) == ["HOSE-1", "PX-200", "SEAL-7", "SEAL-8"]  # no assortment
    with pytest.raises(NotFoundError):
        portal.catalog.get_product(BEN, "SEAL-8")
    with pytest.raises(NotFoundError):
        portal.catalog.get_product(BEN, "PX-200")
    assert portal.catalog.get_product(BEN, "SEAL-7").sku == "SEAL-7"
    assert portal.catalog.get_product(GIA, "PX-200").sku == "PX-200"


def test_listing_bad_input(portal: Portal) -> None:
    first = portal.catalog.list_products(BEN, limit=1)
    assert first.next_cursor is not None
    with pytest.raises(ValidationError):
        portal.catalog.list_products(BEN, limit=1, category_id="spares", cursor=first.next_cursor)
    with pytest.raises(ValidationError):
        portal.catalog.list_products(BEN, limit=0)
    with pytest.raises(ValidationError):
        portal.catalog.list_products(BEN, cursor="garbage")
    with pytest.raises(ValidationError):
        portal.catalog.list_products(BEN, active_only="yes")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        portal.catalog.list_products(BEN, category_id="ghost")
    with pytest.raises(ValidationError):
        portal.catalog.list_products(BEN, business_unit_id="office")  # not Ben's unit
    with pytest.raises(NotFoundError):
        portal.catalog.list_products(BEN, business_unit_id="ghost")
    with pytest.raises(PermissionDeniedError):
        portal.catalog.list_products(Actor.user("acme", "stranger"))


# --- buying ----------------------------------------------------------------------------------


def test_related_products_with_the_buyers_prices_and_reasons(portal: Portal) -> None:
    acme = portal.catalog.related_products(BEN, "PX-200", currency="EUR")
    globex = portal.catalog.related_products(GIA, "PX-200", currency="EUR")
    assert [(r.sku, r.quote.unit_price) for r in acme] == [
        ("HOSE-1", eur("45.00")),
        ("SEAL-7", eur("18.40")),
    ]
    assert [(r.sku, r.quote.unit_price) for r in globex] == [
        ("HOSE-1", eur("45.00")),
        ("SEAL-7", eur("14.72")),
    ]
    assert acme[1].reason.startswith("spare part of PX-200 by rule spares-by-model")
    assert "globex" not in acme[1].quote.explanation.text()
    portal.catalog.save_assortment(
        Actor.operator_for("acme", OP),
        Assortment(company_id="acme", exclude=Selection(categories={"accessories"})),
    )
    assert [r.sku for r in portal.catalog.related_products(BEN, "PX-200", currency="EUR")] == [
        "SEAL-7"
    ]
    with pytest.raises(ValidationError):
        portal.catalog.related_products(BEN, "PX-200", currency="EURO")
    with pytest.raises(NotFoundError):
        portal.catalog.related_products(BEN, "GHOST", currency="EUR")


def test_availability_for_the_buyer(portal: Portal) -> None:
    now = portal.catalog.availability(BEN, "SEAL-7", 8)
    assert (now.status, now.available) == (StockStatus.IN_STOCK, D(8))
    assert portal.catalog.availability(BEN, "SEAL-7", 8, low_threshold=8).status is StockStatus.LOW
    later = portal.catalog.availability(BEN, "SEAL-7", 9)
    assert (later.status, later.expected_at) == (StockStatus.BACKORDER, NOW + timedelta(days=5))
    assert portal.catalog.availability(BEN, "HOSE-1", 1).status is StockStatus.UNAVAILABLE
    portal.catalog.save_assortment(
        Actor.operator_for("acme", OP),
        Assortment(company_id="acme", exclude=Selection(skus={"SEAL-7"})),
    )
    with pytest.raises(NotFoundError):
        portal.catalog.availability(BEN, "SEAL-7", 1)


def test_reserve_and_release(portal: Portal) -> None:
    made = portal.catalog.reserve(BEN, sku="SEAL-7", quantity=8, reference="order-1")
    assert [(r.location, r.quantity) for r in made] == [("berlin", D(2)), ("leipzig", D(6))]
    assert portal.catalog.availability(BEN, "SEAL-7", 1).available == 0
    with pytest.raises(InsufficientStockError) as e:
        portal.catalog.reserve(BEN, sku="SEAL-7", quantity=2, reference="order-2")
    assert (e.value.requested, e.value.available) == (D(2), D(0))
    released = portal.catalog.release(BEN, reference="order-1")
    assert {r.status for r in released} == {ReservationStatus.RELEASED}
    assert portal.catalog.release(BEN, reference="order-1") == []
    with pytest.raises(NotFoundError):
        portal.catalog.release(BEN, reference="order-9")
    assert portal.catalog.availability(BEN, "SEAL-7", 1).available == 8
    with portal.store.unit_of_work() as uow:
        events = [
            r.event_type
            for r in iterate(lambda c: uow.outbox.list(company_id=CompanyId("acme"), cursor=c))
        ]
    assert events.count("catalog.stock_reserved") == 2
    assert events.count("catalog.stock_released") == 2


def test_reserve_refuses_what_the_buyer_may_not_order(portal: Portal) -> None:
    with pytest.raises(NotOrderableError) as e:
        portal.catalog.reserve(BEN, sku="SEAL-6", quantity=2, reference="order-1")
    assert (e.value.reason_code, e.value.successor_sku) == ("discontinued", "SEAL-7")
    with pytest.raises(QuantityRuleError):
        portal.catalog.reserve(BEN, sku="SEAL-7", quantity=3, reference="order-1")
    with pytest.raises(PermissionDeniedError):
        portal.catalog.reserve(Actor.user("acme", "vic"), sku="SEAL-7", quantity=2, reference="o")
    portal.catalog.save_assortment(
        Actor.operator_for("acme", OP),
        Assortment(company_id="acme", include=Selection(categories={"accessories"})),
    )
    with pytest.raises(NotOrderableError) as e:
        portal.catalog.check_orderable(BEN, "SEAL-7")
    assert e.value.reason_code == "outside_assortment"
    with pytest.raises(NotOrderableError):
        portal.catalog.reserve(BEN, sku="SEAL-7", quantity=2, reference="order-1")
    assert portal.catalog.check_orderable(BEN, "HOSE-1").sku == "HOSE-1"
    assert all(lv.reserved == 0 for lv in portal.catalog.stock_levels("SEAL-7"))


def test_an_agent_in_an_assisted_session_browses_for_the_customer(portal: Portal) -> None:
    portal.accounts.register_agent(
        operator_id=OP, agent_id="agent-sam", name="Sam", email="sam@seller.example"
    )
    session = portal.accounts.start_assisted_session(
        agent_id="agent-sam",
        company_id="acme",
        customer_user_id="ben",
        reason="phone order",
        permissions=[Permission.ORDERS_BUY],
        duration=timedelta(minutes=30),
    )
    sam = Actor.assisted(session)
    assert _skus(portal, sam) == _skus(portal, BEN)
    made = portal.catalog.reserve(sam, sku="SEAL-7", quantity=Decimal(2), reference="phone-1")
    assert made[0].quantity == 2


def test_a_buyer_whose_grant_is_limited_to_a_unit_reserves_in_that_unit(portal: Portal) -> None:
    portal.accounts.invite_user(
        ANA, user_id="dora", email="dora@acme.example", name="Dora", business_unit_ids=["line"]
    )
    portal.accounts.grant_role(ANA, user_id="dora", role_id="buyer", business_unit_id="plant")
    dora = Actor.user("acme", "dora")
    made = portal.catalog.reserve(dora, sku="SEAL-7", quantity=2, reference="dora-1")
    assert [r.quantity for r in made] == [D(2)]
    portal.accounts.grant_role(ANA, user_id="vic", role_id="buyer", business_unit_id="plant")
    with pytest.raises(PermissionDeniedError) as e:  # Vic sits in the office, not the plant
        portal.catalog.reserve(Actor.user("acme", "vic"), sku="SEAL-7", quantity=2, reference="v")
    assert e.value.decision_code == "wrong_business_unit"
