"""The catalog model: validation, attributes, assortments, relations, stock, JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from b2bcore.catalog import (
    COMPANY_ASSORTMENT,
    Assortment,
    AttributeMatch,
    Category,
    Incoming,
    InsufficientStockError,
    Lifecycle,
    Product,
    ProductRelation,
    RelationRule,
    RelationType,
    Reservation,
    ReservationStatus,
    Selection,
    StockLevel,
    attribute_key,
)
from b2bcore.errors import ValidationError
from b2bcore.ids import Sku
from b2bcore.money import Money
from b2bcore.pricing import QuantityRule
from b2bcore.serialization import dumps, loads

AT = datetime(2026, 5, 4, 9, tzinfo=UTC)


def _product(**kw: Any) -> Product:
    fields: dict[str, Any] = {"sku": "P-1", "name": "Pump"}
    fields.update(kw)
    return Product(**fields)


# --- categories ------------------------------------------------------------------------


def test_category_cannot_be_its_own_parent_even_on_assignment() -> None:
    with pytest.raises(ValidationError, match="cannot refer to itself") as e:
        Category(id="pumps", name="Pumps", parent_id="pumps")
    assert e.value.path == "parent_id"
    pumps = Category(id="pumps", name="Pumps")
    with pytest.raises(ValidationError):
        pumps.parent_id = "pumps"  # type: ignore[assignment]


@pytest.mark.parametrize(("bad_id", "bad_name"), [("", ""), (" x", "   "), (None, None), (7, 7)])
def test_category_id_and_name_are_checked(bad_id: object, bad_name: object) -> None:
    with pytest.raises(ValidationError):
        Category(id=bad_id, name="Pumps")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Category(id="pumps", name=bad_name)  # type: ignore[arg-type]


# --- products --------------------------------------------------------------------------


def test_product_id_is_the_parent_for_a_variant_and_itself_otherwise() -> None:
    assert _product().product_id == "P-1"
    assert _product(sku="P-1-XL", parent_sku="P-1").product_id == "P-1"
    assert _product().id == "P-1"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"parent_sku": "P-1"}, "parent_sku"),
        ({"lifecycle": "discontinued", "successor_sku": "P-1"}, "successor_sku"),
        ({"successor_sku": "P-2"}, "successor_sku"),
        ({"lifecycle": "retired"}, "lifecycle"),
        ({"list_price": Money("-1", "EUR")}, "list_price"),
        ({"cost": "12.00"}, "cost"),
        ({"list_price": Money("1", "EUR"), "cost": Money("1", "USD")}, "cost"),
        ({"quantity_rule": QuantityRule(sku=Sku("OTHER"))}, "quantity_rule"),
        ({"quantity_rule": "min 2"}, "quantity_rule"),
        ({"category_id": "not an id"}, "category_id"),
    ],
)
def test_product_rules_across_fields(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as e:
        _product(**fields)
    assert e.value.path == path


def test_discontinue_and_reactivate() -> None:
    p = _product()
    p.discontinue(successor_sku="P-2")
    assert (p.lifecycle, p.successor_sku, p.active) == (Lifecycle.DISCONTINUED, "P-2", False)
    with pytest.raises(ValidationError):
        p.discontinue(successor_sku="P-1")
    with pytest.raises(ValidationError):
        p.discontinue(successor_sku="bad id!")
    p.reactivate()
    assert (p.lifecycle, p.successor_sku) == (Lifecycle.ACTIVE, None)


def test_attributes_keep_their_kinds_sorted_by_name() -> None:
    p = _product(attributes={"z": "text", "a": Decimal("1.50"), "n": 3, "flag": True})
    assert list(p.attributes) == ["a", "flag", "n", "z"]
    assert p.attributes["a"] == Decimal("1.50")


@pytest.mark.parametrize(
    "attributes",
    [
        {"weight": 1.5},
        {"weight": Decimal("NaN")},
        {"": "x"},
        {"1st": "x"},
        {"has space": "x"},
        {7: "x"},
        {"x": None},
        {"x": ["a"]},
        {"x": "y" * 501},
        {"x": 10**18},
        ["x"],
        "x=1",
        {f"a{i}": i for i in range(101)},
    ],
)
def test_bad_attributes_are_refused(attributes: object) -> None:
    with pytest.raises(ValidationError) as e:
        _product(attributes=attributes)
    assert e.value.path.startswith("attributes")


def test_attribute_key_keeps_kinds_apart_and_numbers_by_value() -> None:
    assert attribute_key(True) != attribute_key(1)
    assert attribute_key(Decimal("2.0")) == attribute_key(2)
    assert attribute_key(Decimal("0.00")) == attribute_key(0)
    assert attribute_key("2") != attribute_key(2)


def test_product_round_trips_through_json_with_every_attribute_kind() -> None:
    p = _product(
        category_id="pumps",
        attributes={"d": Decimal("42.50"), "i": -3, "b": False, "s": "PX-200"},
        parent_sku="P",
        lifecycle=Lifecycle.DISCONTINUED,
        successor_sku="P-2",
        list_price=Money("1250.00", "EUR"),
        cost=Money("640.00", "EUR"),
        quantity_rule=QuantityRule(sku=Sku("P-1"), minimum=2, increment=2),
    )
    text = dumps(p)
    assert '"d":{"decimal":"42.50"}' in text
    back = loads(text, Product)
    assert back == p
    assert type(back.attributes["i"]) is int
    assert type(back.attributes["b"]) is bool
    stored = back.attributes["d"]
    assert isinstance(stored, Decimal)
    assert stored.as_tuple() == Decimal("42.50").as_tuple()


@pytest.mark.parametrize(
    "attributes",
    ['{"x": 1.5}', '{"x": {"decimal": "abc"}}', '{"x": {"decimal": 1}}', '{"x": {"dec": "1"}}'],
)
def test_bad_stored_attributes_name_their_path(attributes: str) -> None:
    with pytest.raises(ValidationError) as e:
        loads('{"sku": "P", "name": "P", "attributes": ' + attributes + "}", Product)
    assert e.value.path.startswith("$.attributes")


# --- assortments -----------------------------------------------------------------------


def test_selection_matches_by_sku_product_or_category() -> None:
    variant = _product(sku="P-1-XL", parent_sku="P-1")
    assert Selection(skus={"P-1-XL"}).match(variant) == "sku P-1-XL"
    assert Selection(products={"P-1"}).match(variant) == "product P-1"
    assert Selection(categories={"spares"}).match(variant, category_path=["spares", "x"]) == (
        "category spares"
    )
    assert Selection(categories={"spares"}).match(variant, category_path=["x"]) is None
    assert Selection().empty
    assert not Selection(skus={"a"}).empty


def test_exclude_wins_and_an_empty_include_means_everything() -> None:
    p = _product(category_id="pumps")
    both = Assortment(
        company_id="acme",
        include=Selection(categories={"pumps"}),
        exclude=Selection(skus={"P-1"}),
    )
    assert both.refusal(p, category_path=["pumps"]) == (
        "excluded by sku P-1 (company assortment of acme)"
    )
    assert Assortment(company_id="acme").refusal(p) is None
    only_other = Assortment(
        company_id="acme", business_unit_id="plant", include=Selection(skus={"X"})
    )
    assert only_other.refusal(p) == "not included (assortment of unit plant (acme))"
    assert only_other.key == "plant"
    assert both.key == COMPANY_ASSORTMENT


@pytest.mark.parametrize(
    "fields",
    [
        {"company_id": ""},
        {"company_id": "acme", "business_unit_id": "@company"},
        {"company_id": "acme", "include": {"skus": ["a"]}},
        {"company_id": "acme", "exclude": "skus=abc"},
    ],
)
def test_bad_assortments_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Assortment(**fields)


def test_assortment_round_trips() -> None:
    a = Assortment(
        company_id="acme",
        business_unit_id="plant",
        include=Selection(categories={"spares", "pumps"}, products={"P"}),
        exclude=Selection(skus={"X-1"}),
        version=3,
    )
    assert loads(dumps(a), Assortment) == a


# --- relations -------------------------------------------------------------------------


def test_relation_key_other_and_labels() -> None:
    r = ProductRelation(source_sku="A", target_sku="B", type="alternative", bidirectional=True)
    assert r.type is RelationType.ALTERNATIVE
    assert r.key == "A#alternative#B"
    assert (r.other("A"), r.other("B"), r.other("C")) == ("B", "A", None)
    one_way = ProductRelation(source_sku="A", target_sku="B", type=RelationType.SPARE_PART)
    assert one_way.other("B") is None
    assert RelationType.SPARE_PART.label == "spare part"
    assert RelationType.CROSS_SELL.label == "cross-sell"
    assert RelationType.ACCESSORY.label == "accessory"


@pytest.mark.parametrize(
    "fields",
    [
        {"source_sku": "A", "target_sku": "A", "type": "accessory"},
        {"source_sku": "A", "target_sku": "B", "type": "replacement", "bidirectional": True},
        {"source_sku": "A", "target_sku": "B", "type": "friend"},
        {"source_sku": "A", "target_sku": "B", "type": "accessory", "rank": -1},
        {"source_sku": "A", "target_sku": "B", "type": "accessory", "rank": True},
        {"source_sku": "A", "target_sku": "B", "type": "accessory", "bidirectional": 1},
        {"source_sku": "A", "target_sku": "B", "type": "accessory", "note": "x" * 501},
    ],
)
def test_bad_relations_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProductRelation(**fields)


def test_relation_rule_matches_attributes_and_describes_itself() -> None:
    rule = RelationRule(
        id="seals",
        type="spare_part",
        target_category="seals",
        source_category="pumps",
        match=[AttributeMatch(source="model", target="fits_model")],
    )
    pump = _product(attributes={"model": "PX-200"})
    fits = _product(sku="S", attributes={"fits_model": "PX-200"})
    other = _product(sku="T", attributes={"fits_model": "PX-100"})
    bare = _product(sku="U")
    assert rule.matches(pump, fits)
    assert not rule.matches(pump, other)
    assert not rule.matches(pump, bare)
    assert not rule.matches(bare, fits)
    assert rule.describe() == "rule seals: from category pumps, category seals, fits_model = model"
    described = RelationRule(id="r", type="accessory", target_category="c", description="cables")
    assert described.describe() == "rule r: cables"
    assert loads(dumps(rule), RelationRule) == rule


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "replacement"},
        {"type": "nope"},
        {"match": [("model", "fits")]},
        {"match": "model"},
        {"target_category": None},
    ],
)
def test_bad_relation_rules_are_refused(fields: dict[str, Any]) -> None:
    base: dict[str, Any] = {"id": "r", "type": "accessory", "target_category": "c"}
    base.update(fields)
    with pytest.raises(ValidationError):
        RelationRule(**base)


def test_attribute_match_names_are_checked() -> None:
    with pytest.raises(ValidationError):
        AttributeMatch(source="", target="x")


# --- stock -----------------------------------------------------------------------------


def test_stock_level_available_take_and_give_back() -> None:
    level = StockLevel(sku="P-1", location="leipzig", on_hand="10.5", reserved=2)
    assert level.available == Decimal("8.5")
    level.take(Decimal("8.5"))
    assert (level.reserved, level.available) == (Decimal("10.5"), Decimal(0))
    with pytest.raises(InsufficientStockError) as e:
        level.take(1)
    assert (e.value.sku, e.value.requested, e.value.available, e.value.location) == (
        "P-1",
        Decimal(1),
        Decimal(0),
        "leipzig",
    )
    level.give_back(20)
    assert level.reserved == 0
    level.on_hand = Decimal(1)
    level.reserved = Decimal(3)
    assert level.available == 0
    assert level.key == "P-1#leipzig"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"on_hand": -1}, "on_hand"),
        ({"on_hand": 1.5}, "on_hand"),
        ({"on_hand": None}, "on_hand"),
        ({"reserved": "-0.1"}, "reserved"),
        ({"on_hand": Decimal(10) ** 12}, "on_hand"),
        ({"on_hand": "0.0000001"}, "on_hand"),
        ({"incoming": [(5, AT)]}, "incoming[0]"),
        ({"incoming": "5"}, "incoming"),
    ],
)
def test_bad_stock_levels_are_refused(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as e:
        StockLevel(sku="P-1", location="leipzig", **fields)
    assert e.value.path == path


def test_quantities_with_trailing_zeros_beyond_six_places_are_normalised() -> None:
    assert StockLevel(sku="P", location="L", on_hand="1.50000000").on_hand == Decimal("1.5")


def test_incoming_is_kept_in_expected_order_and_aware() -> None:
    later = Incoming(5, AT + timedelta(days=3))
    sooner = Incoming(2, datetime(2026, 5, 4, 12, tzinfo=timezone(timedelta(hours=2))))
    level = StockLevel(sku="P", location="L", incoming=[later, sooner])
    assert level.incoming == (sooner, later)
    assert sooner.expected_at.tzinfo is UTC
    with pytest.raises(ValidationError) as e:
        Incoming(1, datetime(2026, 5, 4))  # noqa: DTZ001 - naive on purpose
    assert e.value.path == "incoming.expected_at"
    with pytest.raises(ValidationError):
        Incoming(0, AT)
    assert loads(dumps(level), StockLevel) == level


def test_reservation_validates_and_round_trips() -> None:
    r = Reservation(
        id="r-1",
        company_id="acme",
        sku="P",
        location="L",
        quantity="2.5",
        reference="order-1",
        created_at=AT,
    )
    assert r.status is ReservationStatus.ACTIVE
    assert loads(dumps(r), Reservation) == r
    with pytest.raises(ValidationError):
        Reservation(
            id="r-1",
            company_id="acme",
            sku="P",
            location="L",
            quantity=0,
            reference="order-1",
            created_at=AT,
        )
    with pytest.raises(ValidationError):
        Reservation(
            id="r-1",
            company_id="acme",
            sku="P",
            location="L",
            quantity=1,
            reference="order-1",
            created_at=AT,
            status="lost",
        )
