"""The pure catalog rules: category paths, assortments, orderability, successors,
related products and availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from b2bcore.catalog import (
    Assortment,
    AttributeMatch,
    CatalogContext,
    Category,
    CycleError,
    Incoming,
    InMemoryCatalog,
    NotOrderableError,
    Product,
    ProductRelation,
    RelatedProduct,
    RelationOrigin,
    RelationRule,
    RelationType,
    Selection,
    StockLevel,
    StockStatus,
    applicable_assortments,
    assortment_refusal,
    availability,
    category_path,
    check_category_tree,
    check_orderable,
    check_successors,
    first_orderable,
    in_assortment,
    price_item,
    related_products,
    subtree,
    successor_chain,
)
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import CompanyId, PriceListId, Sku
from b2bcore.money import Money
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
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
D = Decimal


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


CATEGORIES = [
    Category(id="machines", name="Machines"),
    Category(id="pumps", name="Pumps", parent_id="machines"),
    Category(id="spares", name="Spare parts"),
    Category(id="seals", name="Seals", parent_id="spares"),
    Category(id="o-rings", name="O-rings", parent_id="seals"),
    Category(id="filters", name="Filters", parent_id="spares"),
    Category(id="accessories", name="Accessories"),
]


def _products() -> list[Product]:
    return [
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
        ),
        Product(
            sku="ORING-3",
            name="O-ring",
            category_id="o-rings",
            attributes={"fits_model": "PX-200"},
            list_price=eur("2.10"),
            quantity_rule=QuantityRule(sku=Sku("ORING-3"), minimum=10, increment=10),
        ),
        Product(
            sku="SEAL-6",
            name="Old shaft seal",
            category_id="seals",
            attributes={"fits_model": "PX-200"},
            lifecycle="discontinued",
            successor_sku="SEAL-7",
            list_price=eur("17.00"),
        ),
        Product(
            sku="SEAL-5",
            name="Older shaft seal",
            category_id="seals",
            lifecycle="discontinued",
            successor_sku="SEAL-6",
        ),
        Product(
            sku="FILTER-1",
            name="Filter",
            category_id="filters",
            attributes={"fits_model": "PX-100"},
            list_price=eur("30.00"),
        ),
        Product(
            sku="FILTER-2",
            name="Filter without price",
            category_id="filters",
            attributes={"fits_model": "PX-200"},
        ),
        Product(sku="HOSE-1", name="Hose", category_id="accessories", list_price=eur("45.00")),
        Product(sku="HOSE-2", name="Long hose", category_id="accessories", list_price=eur("60.00")),
        Product(
            sku="PX-300",
            name="Pump PX-300",
            category_id="pumps",
            attributes={"model": "PX-300"},
            list_price=eur("1900.00"),
        ),
    ]


RELATIONS = [
    ProductRelation(source_sku="PX-200", target_sku="HOSE-2", type="accessory", rank=20),
    ProductRelation(
        source_sku="PX-200", target_sku="HOSE-1", type="accessory", rank=10, note="standard"
    ),
    ProductRelation(source_sku="PX-200", target_sku="SEAL-5", type="spare_part", rank=5),
    ProductRelation(source_sku="PX-200", target_sku="PX-300", type="up_sell"),
    ProductRelation(
        source_sku="PX-300", target_sku="PX-200", type="alternative", bidirectional=True
    ),
]
RULES = [
    RelationRule(
        id="spares-by-model",
        type="spare_part",
        source_category="machines",
        target_category="spares",
        match=[AttributeMatch(source="model", target="fits_model")],
        rank=50,
    ),
]


@pytest.fixture
def catalog() -> InMemoryCatalog:
    return InMemoryCatalog(
        categories=CATEGORIES, products=_products(), relations=RELATIONS, rules=RULES
    )


LIST_PRICES = PriceList(
    id=PriceListId("list"),
    name="List prices",
    currency="EUR",
    valid_from=YEAR,
    rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
)
ACME_SPARES = PriceList(
    id=PriceListId("acme"),
    name="ACME spares",
    currency="EUR",
    valid_from=YEAR,
    scope=PriceScope(companies={"acme"}),
    rules=[
        PriceRule(id="spares", target=RuleTarget.category("spares"), formula=Formula(percent=-10))
    ],
)


def _context(*assortments: Assortment, company: str = "acme") -> CatalogContext:
    return CatalogContext(
        price_context=PriceContext(company_id=CompanyId(company), currency="EUR", at=AT),
        assortments=assortments,
    )


def _related(
    catalog: InMemoryCatalog, sku: str, context: CatalogContext, **kw: Any
) -> list[RelatedProduct]:
    return related_products(sku, context, catalog=catalog, lists=[LIST_PRICES, ACME_SPARES], **kw)


# --- categories ------------------------------------------------------------------------


def test_category_path_runs_root_first(catalog: InMemoryCatalog) -> None:
    assert category_path("o-rings", catalog) == ("spares", "seals", "o-rings")
    assert category_path(None, catalog) == ()
    with pytest.raises(NotFoundError):
        category_path("nowhere", catalog)


def test_subtree_includes_the_category_and_everything_below(catalog: InMemoryCatalog) -> None:
    assert subtree("spares", catalog) == {"spares", "seals", "o-rings", "filters"}
    assert subtree("o-rings", catalog) == {"o-rings"}
    with pytest.raises(NotFoundError):
        subtree("nowhere", catalog)


def test_check_category_tree_names_the_loop_and_missing_parents() -> None:
    check_category_tree(CATEGORIES)
    loop = [
        Category(id="a", name="A", parent_id="c"),
        Category(id="b", name="B", parent_id="a"),
        Category(id="c", name="C", parent_id="b"),
    ]
    with pytest.raises(CycleError) as e:
        check_category_tree(loop)
    assert e.value.cycle == ("a", "c", "b", "a")
    assert "categories would form a cycle: a -> c -> b -> a" in str(e.value)
    with pytest.raises(NotFoundError):
        check_category_tree([Category(id="a", name="A", parent_id="ghost")])
    with pytest.raises(ValidationError):
        check_category_tree(["a"])  # type: ignore[list-item]


def test_category_path_refuses_a_stored_loop() -> None:
    looped = InMemoryCatalog(
        categories=[
            Category(id="a", name="A", parent_id="b"),
            Category(id="b", name="B", parent_id="a"),
        ]
    )
    with pytest.raises(CycleError):
        category_path("a", looped)


def test_price_item_carries_path_product_and_prices(catalog: InMemoryCatalog) -> None:
    variant = Product(
        sku="SEAL-7-V",
        name="Seal, Viton",
        category_id="seals",
        parent_sku="SEAL-7",
        list_price=eur("21.00"),
        cost=eur("9.00"),
    )
    item = price_item(variant, catalog)
    assert (item.sku, item.product_id, item.category_path) == (
        "SEAL-7-V",
        "SEAL-7",
        ("spares", "seals"),
    )
    assert (item.list_price, item.cost) == (eur("21.00"), eur("9.00"))
    with pytest.raises(ValidationError):
        price_item("SEAL-7", catalog)  # type: ignore[arg-type]


# --- assortments -----------------------------------------------------------------------


def test_applicable_assortments_are_the_company_and_the_unit_chain() -> None:
    company = Assortment(company_id="acme")
    plant = Assortment(company_id="acme", business_unit_id="plant")
    line = Assortment(company_id="acme", business_unit_id="line")
    other_unit = Assortment(company_id="acme", business_unit_id="office")
    other_company = Assortment(company_id="globex")
    found = applicable_assortments(
        [line, other_company, other_unit, plant, company],
        company_id="acme",
        business_unit_ids=["line", "plant", "hq"],
    )
    assert found == (company, line, plant)
    assert applicable_assortments([plant, company], company_id="acme") == (company,)


def test_each_level_narrows_and_exclude_wins_everywhere(catalog: InMemoryCatalog) -> None:
    seal = catalog.product("SEAL-7")
    assert seal is not None
    path = category_path(seal.category_id, catalog)
    company = Assortment(company_id="acme", include=Selection(categories={"spares"}))
    unit_includes_seal = Assortment(
        company_id="acme", business_unit_id="plant", include=Selection(skus={"SEAL-7"})
    )
    unit_excludes_seals = Assortment(
        company_id="acme", business_unit_id="line", exclude=Selection(categories={"seals"})
    )
    assert in_assortment(seal, [], category_path=path)
    assert in_assortment(seal, [company, unit_includes_seal], category_path=path)
    assert assortment_refusal(seal, [company, unit_excludes_seals], category_path=path) == (
        "excluded by category seals (assortment of unit line (acme))"
    )
    # A unit cannot widen what the company keeps out.
    narrow_company = Assortment(company_id="acme", include=Selection(skus={"HOSE-1"}))
    assert not in_assortment(seal, [narrow_company, unit_includes_seal], category_path=path)
    # Include and exclude of the same SKU: exclude wins.
    both = Assortment(
        company_id="acme",
        include=Selection(skus={"SEAL-7"}),
        exclude=Selection(products={"SEAL-7"}),
    )
    assert assortment_refusal(seal, [both], category_path=path) == (
        "excluded by product SEAL-7 (company assortment of acme)"
    )


def test_check_orderable_explains_assortment_and_discontinuation(catalog: InMemoryCatalog) -> None:
    spares_only = [Assortment(company_id="acme", include=Selection(categories={"spares"}))]
    seal = catalog.product("SEAL-7")
    pump = catalog.product("PX-200")
    old = catalog.product("SEAL-5")
    filter_without_successor = Product(sku="F-9", name="F", lifecycle="discontinued")
    assert seal is not None
    assert pump is not None
    assert old is not None
    assert check_orderable(seal, spares_only, catalog=catalog) is seal
    with pytest.raises(NotOrderableError) as e:
        check_orderable(pump, spares_only, catalog=catalog)
    assert (e.value.sku, e.value.reason_code, e.value.successor_sku) == (
        "PX-200",
        "outside_assortment",
        None,
    )
    assert "not included (company assortment of acme)" in str(e.value)
    with pytest.raises(NotOrderableError) as e:
        check_orderable(old, spares_only, catalog=catalog)
    assert (e.value.reason_code, e.value.successor_sku) == ("discontinued", "SEAL-7")
    assert str(e.value) == "SEAL-5 cannot be ordered: SEAL-5 is discontinued; order SEAL-7 instead"
    with pytest.raises(NotOrderableError) as e:
        check_orderable(filter_without_successor, [], catalog=catalog)
    assert e.value.successor_sku is None
    # The successor is outside the assortment: none is suggested.
    no_seal7 = [Assortment(company_id="acme", exclude=Selection(skus={"SEAL-7"}))]
    with pytest.raises(NotOrderableError) as e:
        check_orderable(old, no_seal7, catalog=catalog)
    assert e.value.successor_sku is None
    with pytest.raises(ValidationError):
        check_orderable("SEAL-7", [], catalog=catalog)  # type: ignore[arg-type]


# --- successors ------------------------------------------------------------------------


def test_successor_chain_and_first_orderable(catalog: InMemoryCatalog) -> None:
    assert [p.sku for p in successor_chain("SEAL-5", catalog)] == ["SEAL-5", "SEAL-6", "SEAL-7"]
    assert [p.sku for p in successor_chain("SEAL-7", catalog)] == ["SEAL-7"]
    first = first_orderable("SEAL-5", catalog)
    assert first is not None
    assert first.sku == "SEAL-7"
    assert first_orderable("SEAL-5", catalog, admits=lambda p: p.sku != "SEAL-7") is None
    with pytest.raises(NotFoundError):
        successor_chain("GHOST", catalog)
    with pytest.raises(NotFoundError):
        first_orderable("GHOST", catalog)


def test_a_missing_successor_ends_the_chain_and_a_loop_is_named() -> None:
    dangling = InMemoryCatalog(
        products=[Product(sku="A", name="A", lifecycle="discontinued", successor_sku="B")]
    )
    with pytest.raises(NotFoundError):
        successor_chain("A", dangling)
    assert first_orderable("A", dangling) is None
    looped = InMemoryCatalog(
        products=[
            Product(sku="A", name="A", lifecycle="discontinued", successor_sku="B"),
            Product(sku="B", name="B", lifecycle="discontinued", successor_sku="A"),
        ]
    )
    with pytest.raises(CycleError) as e:
        successor_chain("A", looped)
    assert e.value.cycle == ("A", "B", "A")


def test_check_successors_finds_loops_through_any_branch() -> None:
    graph = {"A": ["B", "C"], "B": ["D"], "C": ["D"], "D": []}
    check_successors("A", lambda s: graph.get(s, []))
    graph["D"] = ["C"]  # a loop below A is a loop too
    with pytest.raises(CycleError) as e:
        check_successors("A", lambda s: graph.get(s, []))
    assert e.value.cycle == ("D", "C", "D")
    graph["D"] = ["A"]
    with pytest.raises(CycleError) as e:
        check_successors("A", lambda s: graph.get(s, []))
    assert e.value.cycle == ("A", "B", "D", "A")
    assert e.value.path == "successor_sku"


# --- related products ------------------------------------------------------------------


def test_related_products_ranked_with_reasons_and_prices(catalog: InMemoryCatalog) -> None:
    found = _related(catalog, "PX-200", _context())
    assert [(r.sku, r.type.value, r.origin.value) for r in found] == [
        ("HOSE-1", "accessory", "relation"),
        ("HOSE-2", "accessory", "relation"),
        ("SEAL-7", "spare_part", "relation"),  # SEAL-5 -> SEAL-6 -> SEAL-7
        ("ORING-3", "spare_part", "rule"),
        ("PX-300", "up_sell", "relation"),
    ]
    hose, _hose2, seal, oring, _px300 = found
    assert hose.reason == "accessory of PX-200 (catalog relation: standard)"
    assert hose.quote.unit_price == eur("45.00")
    assert seal.replaces == "SEAL-5"
    assert seal.reason == (
        "spare part of PX-200 (catalog relation); SEAL-5 is discontinued, SEAL-7 replaces it"
    )
    assert seal.quote.unit_price == eur("16.56")  # ACME: spares -10 %
    assert oring.reason == (
        "spare part of PX-200 by rule spares-by-model: from category machines, "
        "category spares, fits_model = model (fits_model = PX-200)"
    )
    assert oring.quote.quantity == 10  # priced at the quantity rule's minimum


def test_related_products_leave_out_what_has_no_price_or_other_models(
    catalog: InMemoryCatalog,
) -> None:
    skus = {r.sku for r in _related(catalog, "PX-200", _context())}
    assert "FILTER-2" not in skus  # fits, but has no price
    assert "FILTER-1" not in skus  # has a price, fits another model
    assert "SEAL-6" not in skus
    assert "SEAL-5" not in skus


def test_related_products_only_inside_the_assortment(catalog: InMemoryCatalog) -> None:
    no_hoses = Assortment(company_id="acme", exclude=Selection(categories={"accessories"}))
    found = _related(catalog, "PX-200", _context(no_hoses))
    assert [r.sku for r in found] == ["SEAL-7", "ORING-3", "PX-300"]
    # SEAL-7 excluded: the discontinued SEAL-5 has no orderable successor left.
    no_seal = Assortment(company_id="acme", exclude=Selection(skus={"SEAL-7"}))
    assert "SEAL-7" not in {r.sku for r in _related(catalog, "PX-200", _context(no_seal))}
    # The source itself may lie outside (an installed machine).
    spares_only = Assortment(company_id="acme", include=Selection(categories={"spares"}))
    assert [r.sku for r in _related(catalog, "PX-200", _context(spares_only))] == [
        "SEAL-7",
        "ORING-3",
    ]


def test_related_products_by_type_order_limit_and_both_ways(catalog: InMemoryCatalog) -> None:
    spares_first = _related(
        catalog, "PX-200", _context(), types=[RelationType.SPARE_PART, "accessory"], limit=3
    )
    assert [r.sku for r in spares_first] == ["SEAL-7", "ORING-3", "HOSE-1"]
    alternatives = _related(catalog, "PX-200", _context(), types=["alternative"])
    assert [(r.sku, r.reason) for r in alternatives] == [
        ("PX-300", "alternative of PX-200 (catalog relation from PX-300, both ways)")
    ]
    from_other_side = _related(catalog, "PX-300", _context(), types=["alternative"])
    assert [r.sku for r in from_other_side] == ["PX-200"]


def test_a_discontinued_source_shows_its_successor(catalog: InMemoryCatalog) -> None:
    found = _related(catalog, "SEAL-6", _context(), types=["replacement"])
    assert [(r.sku, r.origin, r.reason) for r in found] == [
        ("SEAL-7", RelationOrigin.SUCCESSOR, "successor of SEAL-6, which is discontinued")
    ]


def test_each_sku_appears_once_at_its_best_place(catalog: InMemoryCatalog) -> None:
    doubled = InMemoryCatalog(
        categories=CATEGORIES,
        products=_products(),
        relations=[
            *RELATIONS,
            ProductRelation(source_sku="PX-200", target_sku="ORING-3", type="spare_part", rank=1),
        ],
        rules=RULES,
    )
    found = _related(doubled, "PX-200", _context(), types=["spare_part"])
    assert [(r.sku, r.origin) for r in found] == [
        ("ORING-3", RelationOrigin.RELATION),
        ("SEAL-7", RelationOrigin.RELATION),
    ]


def test_related_products_bad_input(catalog: InMemoryCatalog) -> None:
    with pytest.raises(NotFoundError):
        _related(catalog, "GHOST", _context())
    with pytest.raises(ValidationError):
        _related(catalog, "bad sku!", _context())
    for types in (["friend"], [], "accessory", RelationType.ACCESSORY):
        with pytest.raises(ValidationError):
            _related(catalog, "PX-200", _context(), types=types)
    for limit in (0, 1001, True, "5"):
        with pytest.raises(ValidationError):
            _related(catalog, "PX-200", _context(), limit=limit)
    with pytest.raises(ValidationError):
        related_products("PX-200", "acme", catalog=catalog, lists=[])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        related_products("PX-200", _context(), catalog=catalog, lists=["list"])  # type: ignore[list-item]


def test_catalog_context_refuses_other_companies_assortments() -> None:
    with pytest.raises(ValidationError):
        _context(Assortment(company_id="globex"))
    with pytest.raises(ValidationError):
        CatalogContext(price_context="acme")  # type: ignore[arg-type]


def test_in_memory_catalog_checks_its_input() -> None:
    with pytest.raises(ValidationError):
        InMemoryCatalog(products=["PX-200"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        InMemoryCatalog(categories="machines")  # type: ignore[arg-type]


# --- availability ----------------------------------------------------------------------


def _levels(*levels: dict[str, Any]) -> list[StockLevel]:
    return [StockLevel(sku="P", **lv) for lv in levels]


def test_in_stock_low_backorder_unavailable() -> None:
    levels = _levels(
        {"location": "a", "on_hand": 8, "reserved": 2},
        {
            "location": "b",
            "on_hand": 1,
            "incoming": [Incoming(10, AT + timedelta(days=9)), Incoming(4, AT + timedelta(days=2))],
        },
    )
    now = availability(levels, "P", 1, AT)
    assert (now.status, now.available, now.promisable) == (StockStatus.IN_STOCK, D(7), D(21))
    assert [(x.location, x.available) for x in now.locations] == [("a", D(6)), ("b", D(1))]
    assert availability(levels, "P", 7, AT, low_threshold=7).status is StockStatus.LOW
    soon = availability(levels, "P", 11, AT)
    assert (soon.status, soon.expected_at) == (StockStatus.BACKORDER, AT + timedelta(days=2))
    later = availability(levels, "P", 12, AT)
    assert (later.status, later.expected_at) == (StockStatus.BACKORDER, AT + timedelta(days=9))
    never = availability(levels, "P", 22, AT)
    assert (never.status, never.expected_at) == (StockStatus.UNAVAILABLE, None)
    assert availability([], "P", 1, AT).status is StockStatus.UNAVAILABLE
    assert now.describe() == "in stock (7 available)"
    assert soon.describe() == "backorder: 7 now, 11 by 2026-05-06"
    assert never.describe() == "unavailable (7 now, 21 with incoming goods)"
    assert (
        availability(levels, "P", 1, AT, low_threshold=10).describe() == "low stock (7 available)"
    )


def test_overdue_incoming_counts_from_now_and_covers_a_shortfall_first() -> None:
    levels = _levels(
        {
            "location": "a",
            "on_hand": 2,
            "reserved": 5,  # three more reserved than on hand
            "incoming": [Incoming(4, AT - timedelta(days=1)), Incoming(10, AT + timedelta(days=3))],
        }
    )
    first = availability(levels, "P", 1, AT)
    assert (first.status, first.available, first.expected_at) == (StockStatus.BACKORDER, D(0), AT)
    assert first.promisable == 11  # 2 - 5 + 4 + 10
    assert availability(levels, "P", 2, AT).expected_at == AT + timedelta(days=3)


@pytest.mark.parametrize(
    ("args", "kw"),
    [
        (("P", 0, AT), {}),
        (("P", -1, AT), {}),
        (("P", 1.5, AT), {}),
        (("P", None, AT), {}),
        (("P", 1, datetime(2026, 5, 4)), {}),  # noqa: DTZ001 - naive on purpose
        (("P", 1, AT), {"low_threshold": -1}),
        (("bad sku!", 1, AT), {}),
        (("Q", 1, AT), {}),
    ],
)
def test_availability_bad_input(args: tuple[Any, ...], kw: dict[str, Any]) -> None:
    levels = _levels({"location": "a", "on_hand": 3})
    with pytest.raises(ValidationError):
        availability(levels, *args, **kw)


def test_rules_apply_only_to_sources_in_their_source_category(catalog: InMemoryCatalog) -> None:
    tool = Product(
        sku="TOOL-1",
        name="Seal puller for PX-200",
        category_id="accessories",
        attributes={"model": "PX-200"},
    )
    with_tool = InMemoryCatalog(
        categories=CATEGORIES, products=[*_products(), tool], relations=RELATIONS, rules=RULES
    )
    assert _related(with_tool, "TOOL-1", _context()) == []
    anywhere = attrs.evolve(RULES[0], source_category=None)
    any_source = InMemoryCatalog(
        categories=CATEGORIES, products=[*_products(), tool], rules=[anywhere]
    )
    assert [r.sku for r in _related(any_source, "TOOL-1", _context())] == ["ORING-3", "SEAL-7"]
