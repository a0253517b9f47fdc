"""Example-based tests of the pricing model: every class validates its input and says
where the bad value sits (``ValidationError.path``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from b2bcore.errors import B2BCoreError, ValidationError
from b2bcore.ids import CompanyId, PriceListId, ProductId, Sku
from b2bcore.money import Money, RoundingMode
from b2bcore.pricing import (
    BaseKind,
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PriceRule,
    PriceScope,
    PriceTier,
    QuantityRule,
    RoundingStep,
    RuleTarget,
    TargetKind,
    TierBasis,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _context(**changes: Any) -> PriceContext:
    fields: dict[str, Any] = {"company_id": "acme", "currency": "EUR", "at": MAY}
    fields.update(changes)
    return PriceContext(**fields)


def _rule(rule_id: str = "r", **changes: Any) -> PriceRule:
    fields: dict[str, Any] = {"id": rule_id, "target": RuleTarget.all(), "price": _eur("10")}
    fields.update(changes)
    return PriceRule(**fields)


def _list(**changes: Any) -> PriceList:
    fields: dict[str, Any] = {
        "id": "acme-contract",
        "name": "ACME contract",
        "currency": "EUR",
        "valid_from": JAN,
    }
    fields.update(changes)
    return PriceList(**fields)


# -- PriceScope -------------------------------------------------------------------------


def test_empty_scope_is_for_everyone() -> None:
    scope = PriceScope()
    assert scope.specificity == 0
    assert scope.describe() == "everyone"
    assert scope.mismatch(_context()) is None


@pytest.mark.parametrize(
    ("scope", "rank"),
    [
        (PriceScope(companies={"acme"}), 16),
        (PriceScope(business_units={"bu-1"}), 8),
        (PriceScope(customer_groups={"gold"}), 4),
        (PriceScope(channels={"web"}), 2),
        (PriceScope(countries={"DE"}), 1),
        (PriceScope(), 0),
    ],
)
def test_scope_specificity_per_dimension(scope: PriceScope, rank: int) -> None:
    assert scope.specificity == rank


def test_scope_specificity_ranks_the_most_specific_dimension_first() -> None:
    # company alone beats everything below it, however many dimensions those have
    everything_but_company = PriceScope(
        business_units={"bu"}, customer_groups={"gold"}, channels={"web"}, countries={"DE"}
    )
    assert PriceScope(companies={"acme"}).specificity > everything_but_company.specificity
    assert PriceScope(channels={"web"}).specificity > PriceScope(countries={"DE"}).specificity


def test_scope_specificity_then_counts_the_next_dimensions() -> None:
    company = PriceScope(companies={"acme"}).specificity
    company_in_de = PriceScope(countries={"DE"}, companies={"acme"}).specificity
    company_on_web = PriceScope(channels={"web"}, companies={"acme"}).specificity
    assert company < company_in_de < company_on_web
    assert PriceScope(customer_groups={"gold"}, business_units={"bu"}).specificity == 12


def test_scope_accepts_lists_tuples_sets_and_none() -> None:
    scope = PriceScope(
        companies=["acme", "acme"],
        business_units=("bu-1",),
        customer_groups=frozenset({"gold"}),
        channels={"web"},
        countries=_untyped(None),
    )
    assert scope.companies == frozenset({"acme"})
    assert scope.business_units == frozenset({"bu-1"})
    assert scope.countries == frozenset()


def test_scope_describe_names_every_non_empty_dimension_sorted() -> None:
    scope = PriceScope(companies={"b", "a"}, countries={"DE"})
    assert scope.describe() == "companies=['a', 'b'] countries=['DE']"


@pytest.mark.parametrize(
    ("scope", "context", "message"),
    [
        (
            PriceScope(companies={"globex", "initech"}),
            _context(),
            "for companies ['globex', 'initech'], not 'acme'",
        ),
        (
            PriceScope(business_units={"bu-south"}),
            _context(business_unit_ids={"bu-north"}),
            "for business units ['bu-south']",
        ),
        (
            PriceScope(customer_groups={"gold"}),
            _context(customer_groups={"silver"}),
            "for customer groups ['gold']",
        ),
        (PriceScope(channels={"web"}), _context(channel="edi"), "for channels ['web'], not 'edi'"),
        (PriceScope(channels={"web"}), _context(), "for channels ['web'], not None"),
        (
            PriceScope(countries={"DE", "AT"}),
            _context(country="FR"),
            "for countries ['AT', 'DE'], not 'FR'",
        ),
    ],
)
def test_scope_mismatch_says_why(scope: PriceScope, context: PriceContext, message: str) -> None:
    assert scope.mismatch(context) == message


def test_scope_mismatch_reports_the_first_failing_dimension() -> None:
    scope = PriceScope(companies={"globex"}, countries={"FR"})
    assert scope.mismatch(_context(country="DE")) == "for companies ['globex'], not 'acme'"


def test_scope_matches_when_every_non_empty_dimension_matches() -> None:
    scope = PriceScope(
        companies={"acme"},
        business_units={"bu-root"},
        customer_groups={"gold", "platinum"},
        channels={"web"},
        countries={"DE"},
    )
    context = _context(
        business_unit_ids={"bu-north", "bu-root"},
        customer_groups={"gold"},
        channel="web",
        country="DE",
    )
    assert scope.mismatch(context) is None
    assert scope.mismatch(attrs.evolve(context, country="AT")) is not None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("companies", "acme", "must be a set of ids"),
        ("business_units", b"bu", "must be a set of ids"),
        ("customer_groups", {"gold": 1}, "must be a set of ids"),
        ("channels", [""], "ids must be non-empty strings"),
        ("countries", [276], "ids must be non-empty strings"),
    ],
)
def test_scope_rejects_bad_dimensions(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        PriceScope(**{field: value})
    assert exc.value.path == f"scope.{field}"


# -- PriceContext -----------------------------------------------------------------------


def test_context_converts_at_to_utc_and_defaults_to_no_unit_group_channel_country() -> None:
    cest = timezone(timedelta(hours=2))
    context = _context(at=datetime(2026, 5, 4, 11, 30, tzinfo=cest))
    assert context.at == MAY
    assert context.at.tzinfo is UTC
    assert context.business_unit_ids == frozenset()
    assert context.customer_groups == frozenset()
    assert (context.channel, context.country) == (None, None)


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"company_id": " acme"}, "company_id", "not a valid identifier"),
        ({"company_id": None}, "company_id", "not a valid identifier"),
        ({"currency": "eur"}, "currency", "'eur' is not an ISO 4217 currency"),
        ({"currency": "EURO"}, "currency", "not an ISO 4217 currency"),
        ({"currency": 978}, "currency", "not an ISO 4217 currency"),
        ({"at": datetime(2026, 5, 4)}, "at", "naive datetime"),  # noqa: DTZ001
        ({"at": "2026-05-04T09:30:00Z"}, "at", "timezone-aware datetime"),
        ({"at": None}, "at", "timezone-aware datetime"),
        ({"business_unit_ids": "bu-1"}, "business_unit_ids", "must be a set of ids"),
        ({"customer_groups": ["gold", ""]}, "customer_groups", "non-empty strings"),
        ({"channel": 5}, "channel", "non-empty string or None"),
        ({"country": ""}, "country", "non-empty string or None"),
    ],
)
def test_context_rejects_bad_input(changes: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        _context(**changes)
    assert exc.value.path == path


# -- PriceItem --------------------------------------------------------------------------


def test_item_keeps_its_fields() -> None:
    item = PriceItem(
        sku=Sku("P-100-S"),
        product_id=ProductId("P-100"),
        category_path=["tools", "pumps"],
        list_price=_eur("200.00"),
        cost=_eur("120.00"),
    )
    assert item.category_path == ("tools", "pumps")
    assert (item.list_price, item.cost) == (_eur("200.00"), _eur("120.00"))
    assert PriceItem(sku=Sku("X")).category_path == ()


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"sku": ""}, "sku", "not a valid identifier"),
        ({"product_id": "has space"}, "product_id", "not a valid identifier"),
        ({"category_path": "pumps"}, "category_path", "list of category ids, root first"),
        ({"category_path": None}, "category_path", "list of category ids"),
        ({"category_path": ["tools", 7]}, "category_path[1]", "not a valid identifier"),
        ({"category_path": [""]}, "category_path[0]", "not a valid identifier"),
        ({"category_path": ["tools", "pumps", "tools"]}, "category_path", "appears twice"),
        ({"list_price": Decimal("200")}, "list_price", "must be Money or None"),
        ({"cost": "120.00"}, "cost", "must be Money or None"),
    ],
)
def test_item_rejects_bad_input(changes: dict[str, Any], path: str, message: str) -> None:
    fields: dict[str, Any] = {"sku": "P-100-S"}
    fields.update(changes)
    with pytest.raises(ValidationError, match=message) as exc:
        PriceItem(**fields)
    assert exc.value.path == path


# -- RuleTarget -------------------------------------------------------------------------


def test_target_constructors_and_describe() -> None:
    assert RuleTarget.sku("P-100-S") == RuleTarget(TargetKind.SKU, "P-100-S")
    assert RuleTarget.product("P-100").kind is TargetKind.PRODUCT
    assert RuleTarget.category("pumps").kind is TargetKind.CATEGORY
    assert RuleTarget.all() == RuleTarget(TargetKind.ALL)
    assert RuleTarget.sku("P-100-S").describe() == "sku P-100-S"
    assert RuleTarget.product("P-100").describe() == "product P-100"
    assert RuleTarget.category("pumps").describe() == "category pumps"
    assert RuleTarget.all().describe() == "all"


ITEM = PriceItem(
    sku=Sku("P-100-S"), product_id=ProductId("P-100"), category_path=["tools", "pumps", "small"]
)


@pytest.mark.parametrize(
    ("target", "depth"),
    [
        (RuleTarget.sku("P-100-S"), 0),
        (RuleTarget.sku("P-100-M"), None),
        (RuleTarget.product("P-100"), 0),
        (RuleTarget.product("P-200"), None),
        (RuleTarget.category("tools"), 1),
        (RuleTarget.category("pumps"), 2),
        (RuleTarget.category("small"), 3),
        (RuleTarget.category("valves"), None),
        (RuleTarget.all(), 0),
    ],
)
def test_match_depth(target: RuleTarget, depth: int | None) -> None:
    assert target.match_depth(ITEM) == depth


def test_product_target_never_matches_an_item_without_product() -> None:
    assert RuleTarget.product("P-100").match_depth(PriceItem(sku=Sku("P-100"))) is None


def test_category_target_does_not_match_an_item_without_categories() -> None:
    assert RuleTarget.category("tools").match_depth(PriceItem(sku=Sku("X"))) is None


@pytest.mark.parametrize(
    ("kind", "value", "path", "message"),
    [
        (TargetKind.ALL, "x", "target.value", "an 'all' target takes no value"),
        (TargetKind.SKU, None, "target.value", "a sku target needs a sku id"),
        (TargetKind.PRODUCT, "", "target.value", "a product target needs a product id"),
        (TargetKind.CATEGORY, 5, "target.value", "a category target needs a category id"),
        ("sku", "x", "kind", "must be a TargetKind"),
    ],
)
def test_target_rejects_bad_input(kind: object, value: object, path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        RuleTarget(_untyped(kind), _untyped(value))
    assert exc.value.path == path


# -- RoundingStep -----------------------------------------------------------------------


def test_rounding_step_takes_a_multiple_or_an_ending() -> None:
    step = RoundingStep(multiple="0.05")
    assert (step.multiple, step.ending, step.mode) == (Decimal("0.05"), None, RoundingMode.HALF_UP)
    step = RoundingStep(ending=Decimal("0.99"), mode=RoundingMode.UP)
    assert (step.multiple, step.ending, step.mode) == (None, Decimal("0.99"), RoundingMode.UP)
    assert RoundingStep(ending=0).ending == 0


@pytest.mark.parametrize(
    ("kwargs", "path", "message"),
    [
        ({}, "rounding", "give exactly one of multiple or ending"),
        ({"multiple": "0.05", "ending": "0.99"}, "rounding", "exactly one"),
        ({"multiple": 0}, "rounding.multiple", "multiple must be positive"),
        ({"multiple": "-0.05"}, "rounding.multiple", "multiple must be positive"),
        ({"multiple": "five cents"}, "multiple", "not a decimal number"),
        ({"ending": "1E+12"}, "rounding.ending", "from 0 to below 10"),
        ({"ending": "0.0000001"}, "rounding.ending", "at most 6 decimals"),
        ({"ending": "-0.01"}, "rounding.ending", "from 0 to below 10"),
        ({"ending": "NaN"}, "ending", "not a finite number"),
        ({"multiple": "0.05", "mode": "half_up"}, "mode", "must be a RoundingMode"),
    ],
)
def test_rounding_step_rejects_bad_input(kwargs: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        RoundingStep(**kwargs)
    assert exc.value.path == path


def test_rounding_step_refuses_floats_like_money_does() -> None:
    with pytest.raises(TypeError, match="floats are not accepted"):
        RoundingStep(multiple=_untyped(0.05))


# -- Formula ----------------------------------------------------------------------------


def test_formula_defaults_to_the_plain_list_price() -> None:
    f = Formula()
    assert (f.base, f.base_list_id, f.percent) == (BaseKind.LIST_PRICE, None, Decimal(0))
    assert (f.rounding, f.surcharge, f.min_margin, f.max_margin) == (None, None, None, None)


def test_formula_converts_numbers() -> None:
    f = Formula(
        base=BaseKind.COST,
        percent="25",
        min_margin=10,
        max_margin=Decimal("40"),
        surcharge=_eur("1.50"),
        rounding=RoundingStep(multiple="0.05"),
    )
    assert (f.percent, f.min_margin, f.max_margin) == (Decimal(25), Decimal(10), Decimal(40))


def test_formula_on_another_list_needs_its_id_on_the_formula_or_the_list() -> None:
    f = Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("list-prices"), percent=-5)
    assert f.base_list_id == "list-prices"
    inherits = Formula(base=BaseKind.PRICE_LIST, percent=-5)  # falls back to the list's
    rule = PriceRule(id="r", target=RuleTarget.all(), formula=inherits)
    derived = PriceList(
        id=PriceListId("derived"),
        name="Derived",
        currency="EUR",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        base_list_id=PriceListId("list-prices"),
        rules=[rule],
    )
    assert derived.rules[0].formula == inherits
    with pytest.raises(ValidationError, match="needs base_list_id") as exc:
        PriceList(
            id=PriceListId("orphan"),
            name="Orphan",
            currency="EUR",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            rules=[rule],
        )
    assert exc.value.path == "rules[0].formula.base_list_id"
    with pytest.raises(ValidationError, match="only goes with base price_list") as exc:
        Formula(base=BaseKind.COST, base_list_id=PriceListId("list-prices"))
    assert exc.value.path == "base_list_id"


def test_formula_percent_must_leave_a_price() -> None:
    assert Formula(percent="-99.99").percent == Decimal("-99.99")
    assert Formula(percent=500).percent == 500  # a markup has no upper bound
    for bad in (-100, "-100.00", "-150"):
        with pytest.raises(ValidationError, match="100% or more leaves no price") as exc:
            Formula(percent=bad)
        assert exc.value.path == "percent"


def test_formula_margins_in_order() -> None:
    assert Formula(min_margin=10, max_margin=10).min_margin == 10
    with pytest.raises(ValidationError, match="min_margin must not exceed max_margin") as exc:
        Formula(min_margin=30, max_margin=20)
    assert exc.value.path == "min_margin"


@pytest.mark.parametrize(
    ("kwargs", "path", "message"),
    [
        ({"surcharge": Decimal("1.50")}, "surcharge", "surcharge must be Money"),
        ({"rounding": Decimal("0.05")}, "rounding", "must be a RoundingStep or None"),
        ({"base": "cost"}, "base", "must be a BaseKind"),
        ({"base": BaseKind.PRICE_LIST, "base_list_id": "bad id"}, "base_list_id", "identifier"),
        ({"percent": "ten"}, "percent", "not a decimal number"),
        ({"min_margin": "Infinity"}, "min_margin", "not a finite number"),
        ({"max_margin": "x"}, "max_margin", "not a decimal number"),
    ],
)
def test_formula_rejects_bad_input(kwargs: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        Formula(**kwargs)
    assert exc.value.path == path


# -- PriceTier --------------------------------------------------------------------------


def test_tier_takes_a_price_or_a_formula() -> None:
    assert PriceTier(min_quantity=10, price=_eur("9")).min_quantity == Decimal(10)
    assert PriceTier(min_quantity="2.5", formula=Formula(percent=-5)).min_quantity == Decimal("2.5")


@pytest.mark.parametrize(
    ("kwargs", "path", "message"),
    [
        ({"min_quantity": 10}, "price", "give exactly one of price or formula"),
        (
            {"min_quantity": 10, "price": _eur("9"), "formula": Formula()},
            "price",
            "exactly one of price or formula",
        ),
        ({"min_quantity": 0, "price": _eur("9")}, "min_quantity", "must be positive"),
        ({"min_quantity": "-1", "price": _eur("9")}, "min_quantity", "must be positive"),
        ({"min_quantity": 10, "price": Decimal("9")}, "price", "price must be Money"),
        ({"min_quantity": 10, "price": _eur("-0.01")}, "price", "must not be negative"),
        ({"min_quantity": 10, "formula": "percent -5"}, "formula", "must be a Formula"),
    ],
)
def test_tier_rejects_bad_input(kwargs: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        PriceTier(**kwargs)
    assert exc.value.path == path


# -- PriceRule --------------------------------------------------------------------------


def test_rule_defaults() -> None:
    rule = _rule()
    assert rule.tiers == ()
    assert rule.tier_basis is TierBasis.SKU
    assert (rule.valid_from, rule.valid_until) == (None, None)
    assert rule.min_quantity == Decimal(1)
    assert rule.active_at(MAY)
    assert rule.price == _eur("10")


def test_rule_free_price_is_allowed() -> None:
    assert _rule(price=_eur("0")).price == _eur("0")


def test_rule_takes_exactly_one_of_price_or_formula() -> None:
    assert _rule(price=None, formula=Formula(percent=-10)).formula is not None
    with pytest.raises(ValidationError, match="exactly one of price or formula") as exc:
        _rule(price=None)
    assert exc.value.path == "price"
    with pytest.raises(ValidationError, match="exactly one of price or formula"):
        _rule(formula=Formula())
    with pytest.raises(ValidationError, match="must be a Formula") as exc:
        _rule(price=None, formula=_untyped({"percent": -10}))
    assert exc.value.path == "formula"


def test_rule_tiers_strictly_increasing_names_the_failing_tier() -> None:
    tiers = [
        PriceTier(min_quantity=10, price=_eur("9")),
        PriceTier(min_quantity=50, price=_eur("8")),
        PriceTier(min_quantity=50, price=_eur("7")),
    ]
    with pytest.raises(ValidationError, match="strictly increasing min_quantity") as exc:
        _rule(tiers=tiers)
    assert exc.value.path == "tiers[2].min_quantity"
    assert exc.value.value == Decimal(50)
    with pytest.raises(ValidationError, match="strictly increasing") as exc:
        _rule(tiers=[tiers[1], tiers[0]])
    assert exc.value.path == "tiers[1].min_quantity"


def test_rule_tiers_accept_a_list_and_become_a_tuple() -> None:
    tiers = [PriceTier(min_quantity=10, price=_eur("9"))]
    assert _rule(tiers=tiers).tiers == tuple(tiers)


@pytest.mark.parametrize(
    ("tiers", "path", "message"),
    [
        (None, "tiers", "must be a list of PriceTier"),
        ({PriceTier(min_quantity=10, price=_eur("9"))}, "tiers", "must be a list of PriceTier"),
        ([PriceTier(min_quantity=10, price=_eur("9")), (20, "8")], "tiers[1]", "a PriceTier"),
    ],
)
def test_rule_rejects_bad_tiers(tiers: object, path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        _rule(tiers=tiers)
    assert exc.value.path == path


def test_rule_tier_for_picks_the_highest_min_quantity_not_above_the_quantity() -> None:
    t10 = PriceTier(min_quantity=10, price=_eur("9"))
    t50 = PriceTier(min_quantity=50, price=_eur("8"))
    rule = _rule(tiers=[t10, t50])
    assert rule.tier_for(Decimal(1)) is None
    assert rule.tier_for(Decimal("9.99")) is None
    assert rule.tier_for(Decimal(10)) is t10
    assert rule.tier_for(Decimal(49)) is t10
    assert rule.tier_for(Decimal(50)) is t50
    assert rule.tier_for(Decimal(10_000)) is t50


def test_rule_window_is_half_open() -> None:
    rule = _rule(valid_from=JAN, valid_until=MAR)
    assert not rule.active_at(JAN - timedelta(microseconds=1))
    assert rule.active_at(JAN)
    assert rule.active_at(MAR - timedelta(microseconds=1))
    assert not rule.active_at(MAR)
    open_start = _rule(valid_until=MAR)
    assert open_start.active_at(datetime(1999, 1, 1, tzinfo=UTC))
    assert not open_start.active_at(MAR)
    open_end = _rule(valid_from=MAR)
    assert not open_end.active_at(JAN)
    assert open_end.active_at(datetime(2099, 1, 1, tzinfo=UTC))


def test_rule_window_is_stored_in_utc() -> None:
    cet = timezone(timedelta(hours=1))
    rule = _rule(valid_from=datetime(2026, 1, 1, 1, 0, tzinfo=cet))
    assert rule.valid_from == JAN
    assert rule.valid_from is not None
    assert rule.valid_from.tzinfo is UTC


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"valid_from": MAR, "valid_until": MAR}, "valid_until", "after valid_from"),
        ({"valid_from": MAR, "valid_until": JAN}, "valid_until", "half-open"),
        ({"valid_from": datetime(2026, 1, 1)}, "valid_from", "naive datetime"),  # noqa: DTZ001
        ({"valid_until": "2026-03-01"}, "valid_until", "timezone-aware"),
        ({"min_quantity": 0}, "min_quantity", "min_quantity must be positive"),
        ({"min_quantity": "-5"}, "min_quantity", "min_quantity must be positive"),
        ({"min_quantity": "lots"}, "min_quantity", "not a decimal number"),
        ({"target": "all"}, "target", "must be a RuleTarget"),
        ({"target": None}, "target", "must be a RuleTarget"),
        ({"tier_basis": "product"}, "tier_basis", "must be a TierBasis"),
        ({"id": ""}, "id", "not a valid identifier"),
        ({"price": _eur("-1")}, "price", "must not be negative"),
        ({"price": "10.00"}, "price", "price must be Money"),
    ],
)
def test_rule_rejects_bad_input(changes: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        _rule(**changes)
    assert exc.value.path == path


# -- PriceList --------------------------------------------------------------------------


def test_list_defaults_and_window() -> None:
    price_list = _list(valid_until=MAR, rules=[_rule()])
    assert price_list.scope == PriceScope()
    assert (price_list.priority, price_list.base_list_id) == (0, None)
    assert price_list.rules == (_rule(),)
    assert price_list.version == 0
    assert not price_list.active_at(JAN - timedelta(seconds=1))
    assert price_list.active_at(JAN)
    assert not price_list.active_at(MAR)
    assert _list().active_at(datetime(2099, 1, 1, tzinfo=UTC))


def test_list_scope_none_means_everyone() -> None:
    assert _list(scope=None).scope == PriceScope()


def test_list_rejects_a_rule_id_used_twice() -> None:
    with pytest.raises(ValidationError, match="rule id 'r' is used twice") as exc:
        _list(rules=[_rule("r"), _rule("s"), _rule("r")])
    assert exc.value.path == "rules[2].id"


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"currency": "eur"}, "currency", "not an ISO 4217 currency"),
        ({"currency": None}, "currency", "not an ISO 4217 currency"),
        ({"valid_from": None}, "valid_from", "timezone-aware datetime"),
        ({"valid_from": datetime(2026, 1, 1)}, "valid_from", "naive"),  # noqa: DTZ001
        ({"valid_until": JAN}, "valid_until", "valid_until must be after valid_from"),
        ({"valid_until": JAN - timedelta(days=1)}, "valid_until", "half-open"),
        ({"priority": "1"}, "priority", "priority must be an int"),
        ({"priority": True}, "priority", "priority must be an int"),
        ({"priority": Decimal(1)}, "priority", "priority must be an int"),
        ({"base_list_id": "acme-contract"}, "base_list_id", "cannot derive from itself"),
        ({"base_list_id": ""}, "base_list_id", "not a valid identifier"),
        ({"scope": {"companies": ["acme"]}}, "scope", "must be a PriceScope"),
        ({"rules": "r"}, "rules", "must be a list of PriceRule"),
        ({"rules": [_rule(), "r"]}, "rules[1]", "must be a PriceRule"),
        ({"name": "  "}, "name", "non-blank"),
        ({"id": "acme contract"}, "id", "not a valid identifier"),
    ],
)
def test_list_rejects_bad_input(changes: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        _list(**changes)
    assert exc.value.path == path


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        (_rule(price=Money("10", "USD")), "rules[1].price"),
        (
            _rule(price=None, formula=Formula(surcharge=Money("2", "USD"))),
            "rules[1].formula.surcharge",
        ),
        (
            _rule(
                tiers=[
                    PriceTier(min_quantity=10, price=_eur("9")),
                    PriceTier(min_quantity=20, price=Money("8", "USD")),
                ]
            ),
            "rules[1].tiers[1].price",
        ),
        (
            _rule(
                tiers=[
                    PriceTier(min_quantity=10, formula=Formula(surcharge=Money("1", "USD"))),
                ]
            ),
            "rules[1].tiers[0].formula.surcharge",
        ),
    ],
)
def test_list_rejects_money_in_another_currency_naming_the_rule(rule: PriceRule, path: str) -> None:
    with pytest.raises(ValidationError, match="is in USD, the list in EUR") as exc:
        _list(rules=[_rule("ok"), rule])
    assert exc.value.path == path
    assert exc.value.value is not None


def test_list_window_compares_instants_not_wall_clocks() -> None:
    cet = timezone(timedelta(hours=1))
    # 00:30 CET on 1 January is 23:30 UTC on 31 December: before valid_from.
    with pytest.raises(ValidationError, match="valid_until must be after valid_from"):
        _list(valid_until=datetime(2026, 1, 1, 0, 30, tzinfo=cet))


# -- QuantityRule -----------------------------------------------------------------------


def test_quantity_rule_defaults_and_conversion() -> None:
    rule = QuantityRule(sku=Sku("BOLT"))
    assert (rule.minimum, rule.maximum, rule.increment) == (Decimal(1), None, Decimal(1))
    rule = QuantityRule(sku=Sku("CABLE"), minimum="0.5", maximum="100", increment="0.5")
    assert (rule.minimum, rule.maximum, rule.increment) == (
        Decimal("0.5"),
        Decimal(100),
        Decimal("0.5"),
    )
    assert QuantityRule(sku=Sku("ONE"), minimum=5, maximum=5).maximum == 5


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"minimum": 0}, "minimum", "minimum must be positive"),
        ({"minimum": "-1"}, "minimum", "minimum must be positive"),
        ({"increment": 0}, "increment", "increment must be positive"),
        ({"increment": "-5"}, "increment", "increment must be positive"),
        ({"minimum": 10, "maximum": 5}, "maximum", "maximum must be at least minimum"),
        ({"maximum": "many"}, "maximum", "not a decimal number"),
        ({"sku": ""}, "sku", "not a valid identifier"),
    ],
)
def test_quantity_rule_rejects_bad_input(changes: dict[str, Any], path: str, message: str) -> None:
    fields: dict[str, Any] = {"sku": "BOLT"}
    fields.update(changes)
    with pytest.raises(ValidationError, match=message) as exc:
        QuantityRule(**fields)
    assert exc.value.path == path


# -- every model error is a b2bcore error ------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: PriceScope(companies=_untyped(42)),
        lambda: PriceContext(
            company_id=CompanyId("acme"), currency="EUR", at=_untyped(1_700_000_000)
        ),
        lambda: PriceItem(sku=Sku("X"), category_path=_untyped({"tools"})),
        lambda: RuleTarget(TargetKind.SKU, _untyped(["X"])),
        lambda: Formula(rounding=_untyped("0.05")),
        lambda: PriceTier(min_quantity=1, price=_untyped(9)),
        lambda: _rule(target=RuleTarget),
        lambda: _list(rules=_untyped(iter(()))),
        lambda: QuantityRule(sku=_untyped(7)),
    ],
)
def test_plausible_bad_input_raises_a_b2bcore_error(build: Any) -> None:
    with pytest.raises(B2BCoreError):
        build()


@pytest.mark.parametrize("field", ["list_price", "cost"])
def test_price_item_refuses_negative_prices(field: str) -> None:
    with pytest.raises(ValidationError, match="must not be negative") as exc:
        PriceItem(sku=Sku("S"), **{field: Money("-0.01", "EUR")})  # type: ignore[arg-type]
    assert exc.value.path == field
