"""Worked examples of the pricing engine: precedence step by step, rejections, formulas,
tiers, policies, rounding stages, quotes and the write-time checks.

Every example asserts the exact result and what the explanation says about it.
"""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from b2bcore.errors import ConflictError, NotFoundError, ValidationError
from b2bcore.ids import PriceListId, ProductId, Sku
from b2bcore.money import Money, RoundingMode, RoundingPolicy, RoundingStage
from b2bcore.pricing import (
    BaseKind,
    Candidate,
    Formula,
    NoPriceError,
    PriceContext,
    PriceExplanation,
    PriceIndex,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceQuote,
    PriceRule,
    PriceRuleConflictError,
    PriceScope,
    PriceTier,
    QuantityRule,
    QuantityRuleError,
    RoundingStep,
    RuleTarget,
    check_price_lists,
    check_quantity,
    resolve_price,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
NEXT_YEAR = datetime(2027, 1, 1, tzinfo=UTC)

EXACT = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.TOTAL)
"""Leaves the unit price and line exact, so formula results can be read unrounded."""


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _context(**changes: Any) -> PriceContext:
    fields: dict[str, Any] = {
        "company_id": "acme",
        "currency": "EUR",
        "at": MAY,
        "business_unit_ids": {"bu-north", "bu-root"},  # the unit and its ancestors
        "customer_groups": {"gold"},
        "channel": "web",
        "country": "DE",
    }
    fields.update(changes)
    return PriceContext(**fields)


CTX = _context()

PUMP = PriceItem(
    sku=Sku("P-100-S"),
    product_id=ProductId("P-100"),
    category_path=["tools", "pumps", "small-pumps"],
    list_price=_eur("200.00"),
    cost=_eur("120.00"),
)


def _plist(list_id: str, *rules: PriceRule, **changes: Any) -> PriceList:
    fields: dict[str, Any] = {
        "id": list_id,
        "name": list_id.title(),
        "currency": "EUR",
        "valid_from": JAN,
        "rules": list(rules),
    }
    fields.update(changes)
    return PriceList(**fields)


def _fixed(
    rule_id: str, amount: str, target: RuleTarget | None = None, **changes: Any
) -> PriceRule:
    return PriceRule(
        id=rule_id,
        target=target or RuleTarget.all(),
        price=Money(amount, changes.pop("currency", "EUR")),
        **changes,
    )


def _formula(rule_id: str, formula: Formula, **changes: Any) -> PriceRule:
    target = changes.pop("target", RuleTarget.all())
    return PriceRule(id=rule_id, target=target, formula=formula, **changes)


def _resolve(lists: list[PriceList], quantity: int | str = 1, **kwargs: Any) -> PriceQuote:
    item = kwargs.pop("item", PUMP)
    context = kwargs.pop("context", CTX)
    return resolve_price(context, item, quantity, lists=lists, **kwargs)


def _by_ref(explanation: object) -> dict[str, Candidate]:
    assert isinstance(explanation, PriceExplanation)
    return {f"{c.price_list_id}/{c.rule_id}": c for c in explanation.candidates}


def _reasons(quote_or_explanation: object) -> dict[str, str]:
    """``{"list/rule": "won" | reason}`` for every candidate of a quote or explanation."""
    explanation = (
        quote_or_explanation.explanation
        if isinstance(quote_or_explanation, PriceQuote)
        else quote_or_explanation
    )
    assert isinstance(explanation, PriceExplanation)
    return {
        ref: ("won" if c.status == "won" else c.reason) for ref, c in _by_ref(explanation).items()
    }


def _steps(quote: PriceQuote) -> list[tuple[str, Decimal]]:
    winner = quote.explanation.winner
    assert winner is not None
    return [(s.name, s.value) for s in winner.steps]


# -- the simplest case, end to end ------------------------------------------------------


def test_a_fixed_price_quote_and_its_explanation() -> None:
    quote = _resolve([_plist("list", _fixed("all", "19.99"))], 3)
    assert quote.unit_price == _eur("19.99")
    assert quote.line_total == _eur("59.97")
    assert (quote.sku, quote.quantity, quote.currency) == ("P-100-S", Decimal(3), "EUR")
    assert (quote.price_list_id, quote.rule_id, quote.tier_min_quantity) == ("list", "all", None)
    assert quote.policy is PricePolicy.MOST_SPECIFIC
    assert quote.context == CTX
    assert quote.explanation.text() == (
        "P-100-S x 3 for acme in EUR: 19.99 EUR from list/all\n"
        "  won  list/all (all, everyone): 19.99 EUR\n"
        "       fixed price 19.99"
    )


def test_default_rounding_is_half_up_at_the_unit() -> None:
    quote = _resolve([_plist("list", _fixed("all", "0.125"))], 4)
    assert quote.rounding == RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.UNIT)
    assert quote.unit_price == _eur("0.13")
    assert quote.line_total == _eur("0.52")


# -- precedence, one step at a time -----------------------------------------------------


def test_buyer_specificity_company_bu_group_channel_country_unscoped() -> None:
    lists = [
        _plist("open", _fixed("r", "6")),
        _plist("country", _fixed("r", "5"), scope=PriceScope(countries={"DE"})),
        _plist("channel", _fixed("r", "4"), scope=PriceScope(channels={"web"})),
        _plist("group", _fixed("r", "3"), scope=PriceScope(customer_groups={"gold"})),
        _plist("unit", _fixed("r", "2"), scope=PriceScope(business_units={"bu-root"})),
        _plist("company", _fixed("r", "1"), scope=PriceScope(companies={"acme"})),
    ]
    # Remove the winner one by one: the next in the declared order takes over.
    expected = ["company", "unit", "group", "channel", "country", "open"]
    for i, winner in enumerate(expected):
        remaining = [pl for pl in lists if pl.id in expected[i:]]
        quote = _resolve(remaining)
        assert quote.price_list_id == winner
        assert quote.unit_price == _eur(str(expected.index(winner) + 1) + ".00")
        reasons = _reasons(quote)
        assert reasons.pop(f"{winner}/r") == "won"
        assert set(reasons.values()) <= {"lost on buyer specificity"}
        assert len(reasons) == len(expected) - i - 1


def test_buyer_specificity_explanation_text() -> None:
    quote = _resolve(
        [
            _plist("open", _fixed("r", "6")),
            _plist("unit", _fixed("r", "2"), scope=PriceScope(business_units={"bu-root"})),
            _plist("company", _fixed("r", "1"), scope=PriceScope(companies={"acme"})),
        ]
    )
    assert quote.explanation.text() == (
        "P-100-S x 1 for acme in EUR: 1 EUR from company/r\n"
        "  won  company/r (all, companies=['acme']): 1 EUR\n"
        "       fixed price 1\n"
        "  lost unit/r (all, business_units=['bu-root']): lost on buyer specificity\n"
        "  lost open/r (all, everyone): lost on buyer specificity"
    )


def test_business_unit_scope_matches_through_the_ancestors_in_the_context() -> None:
    root_list = _plist("root", _fixed("r", "7"), scope=PriceScope(business_units={"bu-root"}))
    child = _context(business_unit_ids={"bu-north", "bu-root"})
    assert _resolve([root_list], context=child).unit_price == _eur("7.00")
    # A context that names only the child unit does not reach the parent's list.
    alone = _context(business_unit_ids={"bu-north"})
    with pytest.raises(NoPriceError) as exc:
        _resolve([root_list], context=alone)
    assert _reasons(exc.value.explanation) == {"root/r": "list is for business units ['bu-root']"}


def test_target_specificity_sku_product_category_all() -> None:
    rules = [
        _fixed("all", "9"),
        _fixed("cat", "8", RuleTarget.category("tools")),
        _fixed("product", "7", RuleTarget.product("P-100")),
        _fixed("sku", "6", RuleTarget.sku("P-100-S")),
        _fixed("other-sku", "1", RuleTarget.sku("P-100-M")),
    ]
    quote = _resolve([_plist("list", *rules)])
    assert (quote.rule_id, quote.unit_price) == ("sku", _eur("6.00"))
    assert _reasons(quote) == {
        "list/sku": "won",
        "list/product": "lost on target specificity",
        "list/cat": "lost on target specificity",
        "list/all": "lost on target specificity",
    }  # the other SKU's rule is not even a candidate
    assert [c.rule_id for c in quote.explanation.candidates] == ["sku", "product", "cat", "all"]
    assert _resolve([_plist("list", *rules[:3])]).rule_id == "product"
    assert _resolve([_plist("list", *rules[:2])]).rule_id == "cat"


def test_deeper_category_beats_shallower() -> None:
    quote = _resolve(
        [
            _plist(
                "list",
                _fixed("tools", "3", RuleTarget.category("tools")),
                _fixed("small", "1", RuleTarget.category("small-pumps")),
                _fixed("pumps", "2", RuleTarget.category("pumps")),
            )
        ]
    )
    assert quote.rule_id == "small"
    assert _reasons(quote) == {
        "list/small": "won",
        "list/pumps": "lost on category depth",
        "list/tools": "lost on category depth",
    }


def test_buyer_specificity_comes_before_target_specificity() -> None:
    quote = _resolve(
        [
            _plist("open", _fixed("sku", "5", RuleTarget.sku("P-100-S"))),
            _plist("acme", _fixed("all", "9"), scope=PriceScope(companies={"acme"})),
        ]
    )
    assert (quote.price_list_id, quote.rule_id) == ("acme", "all")
    assert _reasons(quote)["open/sku"] == "lost on buyer specificity"


def test_higher_priority_wins() -> None:
    quote = _resolve(
        [
            _plist("a", _fixed("r", "1")),
            _plist("b", _fixed("r", "2"), priority=10),
            _plist("c", _fixed("r", "3"), priority=-1),
        ]
    )
    assert quote.price_list_id == "b"
    assert _reasons(quote) == {
        "b/r": "won",
        "a/r": "lost on priority",
        "c/r": "lost on priority",
    }


def test_later_valid_from_wins_counting_the_rules_own_start() -> None:
    quote = _resolve(
        [
            _plist("a", _fixed("r", "1")),
            _plist("b", _fixed("r", "2"), valid_from=MAR),
        ]
    )
    assert quote.price_list_id == "b"
    assert _reasons(quote) == {"b/r": "won", "a/r": "lost on valid_from"}
    # A rule starting in April inside a January list starts later than list b.
    april = datetime(2026, 4, 1, tzinfo=UTC)
    quote = _resolve(
        [
            _plist("a", _fixed("r", "1", valid_from=april)),
            _plist("b", _fixed("r", "2"), valid_from=MAR),
        ]
    )
    assert quote.price_list_id == "a"
    assert _reasons(quote) == {"a/r": "won", "b/r": "lost on valid_from"}


def test_then_list_id_then_rule_id() -> None:
    quote = _resolve([_plist("b", _fixed("r", "2")), _plist("a", _fixed("z", "1"))])
    assert (quote.price_list_id, quote.rule_id) == ("a", "z")
    assert _reasons(quote) == {"a/z": "won", "b/r": "lost on list id"}
    quote = _resolve([_plist("a", _fixed("s", "2"), _fixed("r", "1"))])
    assert quote.rule_id == "r"
    assert _reasons(quote) == {"a/r": "won", "a/s": "lost on rule id"}


def test_each_loser_names_the_first_step_where_it_differs_from_the_winner() -> None:
    acme, pump = PriceScope(companies={"acme"}), RuleTarget.sku("P-100-S")
    last_year = JAN - timedelta(days=365)
    quote = _resolve(
        [
            _plist(
                "acme",
                _fixed("sku", "1", pump),
                _fixed("pumps", "2", RuleTarget.category("pumps")),
                scope=acme,
            ),
            _plist("acme-b", _fixed("sku", "3", pump), scope=acme),
            _plist("promo", _fixed("sku", "4", pump), scope=acme, priority=-1),
            _plist("late", _fixed("sku", "5", pump), scope=acme, valid_from=last_year),
            _plist("open", _fixed("sku", "6", pump)),
        ]
    )
    assert _reasons(quote) == {
        "acme/sku": "won",
        "acme-b/sku": "lost on list id",
        "late/sku": "lost on valid_from",
        "promo/sku": "lost on priority",
        "acme/pumps": "lost on target specificity",
        "open/sku": "lost on buyer specificity",
    }
    # Losers are listed in precedence order, right after the winner.
    assert [f"{c.price_list_id}/{c.rule_id}" for c in quote.explanation.candidates] == [
        "acme/sku",
        "acme-b/sku",
        "late/sku",
        "promo/sku",
        "acme/pumps",
        "open/sku",
    ]


def test_the_result_does_not_depend_on_the_order_of_lists_or_rules() -> None:
    lists = [
        _plist("b", _fixed("r", "2"), _fixed("q", "3")),
        _plist("a", _fixed("z", "1"), _fixed("y", "4", RuleTarget.category("tools"))),
        _plist("c", _fixed("r", "5"), scope=PriceScope(countries={"DE"})),
    ]
    reordered = [attrs.evolve(pl, rules=tuple(reversed(pl.rules))) for pl in reversed(lists)]
    first, second = _resolve(lists), _resolve(reordered)
    assert first == second
    assert first.explanation.text() == second.explanation.text()


def test_a_price_index_gives_the_same_answer_as_a_list_of_lists() -> None:
    lists = [_plist("a", _fixed("r", "1")), _plist("b", _fixed("r", "2"), priority=1)]
    index = PriceIndex(lists)
    assert _resolve(lists) == _resolve(_untyped(index))
    assert index.lists == {"a": lists[0], "b": lists[1]}
    assert [rule.id for _, rule in index.entries_for(PUMP)] == ["r", "r"]
    with pytest.raises(ValidationError, match="'a' is given twice"):
        PriceIndex([lists[0], lists[0]])


# -- rejections -------------------------------------------------------------------------


def test_every_rejection_reason_and_the_no_price_error() -> None:
    lists = [
        _plist("usd", _fixed("r", "1", currency="USD"), currency="USD"),
        _plist("future", _fixed("r", "2"), valid_from=NEXT_YEAR),
        _plist("expired", _fixed("r", "3"), valid_until=MAR),
        _plist("globex", _fixed("r", "4"), scope=PriceScope(companies={"globex"})),
        _plist(
            "rules",
            _fixed("old", "5", valid_until=MAR),
            _fixed("bulk", "6", RuleTarget.sku("P-100-S"), min_quantity=10),
            _formula("from-cost", Formula(base=BaseKind.COST)),
        ),
    ]
    bare = attrs.evolve(PUMP, cost=None)
    with pytest.raises(NoPriceError) as exc:
        _resolve(lists, 2, item=bare)
    error = exc.value
    assert isinstance(error, NotFoundError)
    assert error.code == "pricing.no_price"
    assert error.sku == "P-100-S"
    explanation = error.explanation
    assert isinstance(explanation, PriceExplanation)
    assert explanation.winner is None
    assert _reasons(explanation) == {
        "usd/r": "list is in USD",
        "future/r": "list is not valid at this time",
        "expired/r": "list is not valid at this time",
        "globex/r": "list is for companies ['globex'], not 'acme'",
        "rules/old": "rule is not valid at this time",
        "rules/bulk": "needs at least 10",
        "rules/from-cost": "the item has no cost",
    }
    assert all(c.status == "rejected" for c in explanation.candidates)
    assert str(error) == (
        "no applicable price for P-100-S: every candidate was rejected (list is for "
        "companies ['globex'], not 'acme'; list is in USD; list is not valid at this time; "
        "needs at least 10; rule is not valid at this time; the item has no cost)"
    )
    assert explanation.text() == (
        "P-100-S x 2 for acme in EUR: every candidate was rejected (list is for companies "
        "['globex'], not 'acme'; list is in USD; list is not valid at this time; needs at "
        "least 10; rule is not valid at this time; the item has no cost)\n"
        "  rejected expired/r (all, everyone): list is not valid at this time\n"
        "  rejected future/r (all, everyone): list is not valid at this time\n"
        "  rejected globex/r (all, companies=['globex']): "
        "list is for companies ['globex'], not 'acme'\n"
        "  rejected rules/bulk (sku P-100-S, everyone): needs at least 10\n"
        "  rejected rules/from-cost (all, everyone): the item has no cost\n"
        "  rejected rules/old (all, everyone): rule is not valid at this time\n"
        "  rejected usd/r (all, everyone): list is in USD"
    )


def test_rejections_are_listed_with_the_winner() -> None:
    quote = _resolve(
        [
            _plist("open", _fixed("r", "6")),
            _plist("globex", _fixed("r", "1"), scope=PriceScope(companies={"globex"})),
        ]
    )
    assert quote.explanation.text().splitlines()[1:] == [
        "  won  open/r (all, everyone): 6 EUR",
        "       fixed price 6",
        (
            "  rejected globex/r (all, companies=['globex']): "
            "list is for companies ['globex'], not 'acme'"
        ),
    ]


def test_windows_are_half_open_at_resolve_time() -> None:
    lists = [_plist("winter", _fixed("r", "1"), valid_until=MAR)]
    just_before = _context(at=MAR - timedelta(microseconds=1))
    assert _resolve(lists, context=just_before).unit_price == _eur("1.00")
    with pytest.raises(NoPriceError):
        _resolve(lists, context=_context(at=MAR))
    with pytest.raises(NoPriceError):
        _resolve(lists, context=_context(at=JAN - timedelta(microseconds=1)))
    assert _resolve(lists, context=_context(at=JAN)).unit_price == _eur("1.00")


def test_min_quantity_is_a_threshold() -> None:
    lists = [
        _plist(
            "list",
            _fixed("each", "10"),
            _fixed("bulk", "8", RuleTarget.sku("P-100-S"), min_quantity=10),
        )
    ]
    for below in (9, "9.5", "9.999"):
        quote = _resolve(lists, below)
        assert quote.rule_id == "each"
        assert _reasons(quote)["list/bulk"] == "needs at least 10"
    quote = _resolve(lists, 10)
    assert (quote.rule_id, quote.line_total) == ("bulk", _eur("80.00"))
    assert _reasons(quote)["list/each"] == "lost on target specificity"


def test_no_rule_at_all() -> None:
    with pytest.raises(NoPriceError) as exc:
        _resolve([_plist("list", _fixed("r", "1", RuleTarget.sku("OTHER")))])
    assert _reasons(exc.value.explanation) == {}
    assert str(exc.value) == (
        "no applicable price for P-100-S: no price list has a rule for this item"
    )


def test_a_formula_base_in_another_currency_is_rejected() -> None:
    item = attrs.evolve(PUMP, list_price=Money("210.00", "USD"))
    with pytest.raises(NoPriceError) as exc:
        _resolve([_plist("list", _formula("r", Formula()))], item=item)
    assert _reasons(exc.value.explanation) == {
        "list/r": "the list price is in USD, the list in EUR"
    }


# -- formulas ---------------------------------------------------------------------------


def test_formula_on_the_list_price_with_percent() -> None:
    quote = _resolve([_plist("list", _formula("r", Formula(percent="-12.5")))], 3)
    assert quote.unit_price == _eur("175.00")
    assert quote.line_total == _eur("525.00")
    assert _steps(quote) == [("list price", Decimal("200.00")), ("percent", Decimal(175))]
    assert quote.explanation.text().splitlines()[2] == (
        "       list price 200.00 -> percent -12.5 = 175.00000"
    )


def test_formula_on_cost_with_markup_rounding_and_surcharge() -> None:
    item = attrs.evolve(PUMP, cost=_eur("33.33"))
    formula = Formula(
        base=BaseKind.COST,
        percent=25,
        rounding=RoundingStep(multiple="0.05"),
        surcharge=_eur("1.50"),
    )
    quote = _resolve([_plist("list", _formula("r", formula))], item=item, rounding=EXACT)
    assert _steps(quote) == [
        ("cost", Decimal("33.33")),
        ("percent", Decimal("41.6625")),
        ("rounding", Decimal("41.65")),
        ("surcharge", Decimal("43.15")),
    ]
    assert quote.unit_price == _eur("43.15")
    assert quote.explanation.text().splitlines()[2] == (
        "       cost 33.33 -> percent 25 = 41.6625 -> rounding to multiple 0.05 = 41.65 "
        "-> surcharge +1.50 = 43.15"
    )


def test_formula_on_another_lists_result() -> None:
    base = _plist("public", _formula("r", Formula(percent=-10)))
    on_public = Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("public"), percent=-5)
    derived = _plist("acme", _formula("r", on_public), scope=PriceScope(companies={"acme"}))
    quote = _resolve([base, derived])
    assert (quote.price_list_id, quote.unit_price) == ("acme", _eur("171.00"))
    assert _steps(quote) == [("list public", Decimal(180)), ("percent", Decimal(171))]
    assert _reasons(quote) == {"acme/r": "won", "public/r": "lost on buyer specificity"}


def test_a_base_list_is_resolved_by_its_own_precedence_but_not_its_scope() -> None:
    base = _plist(
        "public",
        _fixed("all", "100"),
        _fixed("pump", "150", RuleTarget.sku("P-100-S")),
        scope=PriceScope(companies={"someone-else"}),
    )
    on_public = Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("public"), percent=10)
    derived = _plist("acme", _formula("r", on_public))
    quote = _resolve([base, derived])
    # public's own scope excludes acme, but as a base it is read for the derived list.
    assert quote.unit_price == _eur("165.00")
    assert _steps(quote)[0] == ("list public", Decimal(150))


def test_missing_base_price_is_a_rejection() -> None:
    on_list = Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("public"))
    with pytest.raises(NoPriceError) as exc:
        _resolve(
            [
                _plist("acme", _formula("r", on_list)),
                _plist("other", _formula("list", Formula())),
                _plist("also", _formula("cost", Formula(base=BaseKind.COST))),
            ],
            item=PriceItem(sku=Sku("P-100-S")),
        )
    assert _reasons(exc.value.explanation) == {
        "acme/r": "base price list 'public' is not available",
        "other/list": "the item has no list price",
        "also/cost": "the item has no cost",
    }


def test_base_list_without_a_price_says_why() -> None:
    base = _plist(
        "public", _fixed("valves", "1", RuleTarget.category("valves")), _formula("all", Formula())
    )
    derived = _plist(
        "acme",
        _formula("r", Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("public"))),
    )
    with pytest.raises(NoPriceError) as exc:
        _resolve([base, derived], item=attrs.evolve(PUMP, list_price=None))
    assert _reasons(exc.value.explanation)["acme/r"] == (
        "base price list 'public' has no price for P-100-S (public/all: the item has no list price)"
    )


def test_a_derivation_cycle_is_rejected_at_resolve_time_and_named() -> None:
    a = _plist(
        "a", _formula("ra", Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("b")))
    )
    b = _plist(
        "b", _formula("rb", Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("a")))
    )
    with pytest.raises(NoPriceError) as exc:
        _resolve([a, b])
    assert _reasons(exc.value.explanation) == {
        "a/ra": "base price list 'b' has no price for P-100-S "
        "(b/rb: price lists derive from each other in a cycle via 'a')",
        "b/rb": "base price list 'a' has no price for P-100-S "
        "(a/ra: price lists derive from each other in a cycle via 'b')",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.02", "10.00"),
        ("10.025", "10.05"),  # a tie goes up with HALF_UP
        ("10.03", "10.05"),
        ("10.074", "10.05"),
        ("10.075", "10.10"),
    ],
)
def test_rounding_to_a_multiple_of_five_cents(value: str, expected: str) -> None:
    item = attrs.evolve(PUMP, list_price=_eur(value))
    formula = Formula(rounding=RoundingStep(multiple="0.05"))
    quote = _resolve([_plist("list", _formula("r", formula))], item=item, rounding=EXACT)
    assert quote.unit_price == _eur(expected)
    assert _steps(quote)[-1] == ("rounding", Decimal(expected))


def test_rounding_to_a_multiple_follows_the_mode() -> None:
    item = attrs.evolve(PUMP, list_price=_eur("10.01"))
    for mode, expected in [
        (RoundingMode.HALF_UP, "10.00"),
        (RoundingMode.UP, "10.05"),
        (RoundingMode.CEILING, "10.05"),
        (RoundingMode.DOWN, "10.00"),
    ]:
        formula = Formula(rounding=RoundingStep(multiple="0.05", mode=mode))
        quote = _resolve([_plist("list", _formula("r", formula))], item=item, rounding=EXACT)
        assert quote.unit_price == _eur(expected), mode


@pytest.mark.parametrize(
    ("value", "nearest", "half_down", "up", "down"),
    [
        # value     HALF_UP/EVEN  HALF_DOWN  UP/CEILING  DOWN/FLOOR
        ("12.30", "11.99", "11.99", "12.99", "11.99"),
        ("12.49", "12.99", "11.99", "12.99", "11.99"),  # exactly halfway between endings
        ("12.50", "12.99", "12.99", "12.99", "11.99"),
        ("12.99", "12.99", "12.99", "12.99", "12.99"),  # already on the ending
        ("13.00", "12.99", "12.99", "13.99", "12.99"),
        ("0.40", "0.99", "0.99", "0.99", "0.99"),  # nothing ends in .99 below: go up
    ],
)
def test_rounding_to_an_ending_in_each_mode(
    value: str, nearest: str, half_down: str, up: str, down: str
) -> None:
    item = attrs.evolve(PUMP, list_price=_eur(value))
    expected = {
        RoundingMode.HALF_UP: nearest,
        RoundingMode.HALF_EVEN: nearest,
        RoundingMode.HALF_DOWN: half_down,
        RoundingMode.UP: up,
        RoundingMode.CEILING: up,
        RoundingMode.DOWN: down,
        RoundingMode.FLOOR: down,
    }
    for mode, result in expected.items():
        formula = Formula(rounding=RoundingStep(ending="0.99", mode=mode))
        lists = [_plist("list", _formula("r", formula))]
        quote = _resolve(lists, item=item, rounding=EXACT)
        assert quote.unit_price == _eur(result), (value, mode)


def test_rounding_to_an_ending_is_explained() -> None:
    formula = Formula(percent=-5, rounding=RoundingStep(ending="0.99"))
    quote = _resolve([_plist("list", _formula("r", formula))])
    assert quote.unit_price == _eur("189.99")
    assert quote.explanation.text().splitlines()[2] == (
        "       list price 200.00 -> percent -5 = 190.0000 -> rounding to ending 0.99 = 189.99"
    )


def test_min_margin_lifts_the_price() -> None:
    formula = Formula(base=BaseKind.COST, percent=-50, min_margin=10)
    quote = _resolve([_plist("list", _formula("r", formula))], rounding=EXACT)
    assert quote.unit_price == _eur("132.00")
    assert _steps(quote) == [
        ("cost", Decimal(120)),
        ("percent", Decimal(60)),
        ("min margin", Decimal(132)),
    ]
    assert "min margin 10% = 132.00" in quote.explanation.text()


def test_max_margin_caps_the_price_after_rounding_and_surcharge() -> None:
    formula = Formula(
        base=BaseKind.COST,
        percent=100,
        rounding=RoundingStep(ending="0.99"),
        surcharge=_eur("5"),
        max_margin=30,
    )
    quote = _resolve([_plist("list", _formula("r", formula))], rounding=EXACT)
    assert _steps(quote) == [
        ("cost", Decimal(120)),
        ("percent", Decimal(240)),
        ("rounding", Decimal("239.99")),
        ("surcharge", Decimal("244.99")),
        ("max margin", Decimal(156)),
    ]
    assert quote.unit_price == _eur("156.00")  # the clamp is applied last: no .99 ending


def test_margins_within_bounds_leave_the_price_alone() -> None:
    formula = Formula(base=BaseKind.COST, percent=20, min_margin=10, max_margin=30)
    quote = _resolve([_plist("list", _formula("r", formula))])
    assert quote.unit_price == _eur("144.00")
    assert [name for name, _ in _steps(quote)] == ["cost", "percent"]


@pytest.mark.parametrize("surcharge", ["-180.01", "-250"])
def test_a_negative_surcharge_never_makes_a_negative_price(surcharge: str) -> None:
    formula = Formula(percent=-10, surcharge=_eur(surcharge))
    quote = _resolve([_plist("list", _formula("r", formula))], rounding=EXACT)
    assert quote.unit_price == _eur("0")
    assert _steps(quote)[-1] == ("never negative", Decimal(0))


def test_the_never_negative_step_is_explained() -> None:
    formula = Formula(percent=-10, surcharge=_eur("-250"))
    quote = _resolve([_plist("list", _formula("r", formula))])
    assert quote.unit_price == _eur("0.00")
    assert quote.line_total == _eur("0.00")
    assert _steps(quote)[-2:] == [("surcharge", Decimal(-70)), ("never negative", Decimal(0))]
    assert "surcharge -250 = -70.000 -> never negative 0" in quote.explanation.text()


def test_formulas_ignore_the_global_decimal_context() -> None:
    lists = [_plist("list", _formula("r", Formula(percent="-33.333")))]
    expected = _resolve(lists, 7, rounding=EXACT)
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[decimal.Inexact] = True
        assert _resolve(lists, 7, rounding=EXACT) == expected
    assert expected.unit_price == _eur("133.33400")


# -- tiers ------------------------------------------------------------------------------

TIERED = _plist(
    "list",
    PriceRule(
        id="r",
        target=RuleTarget.sku("P-100-S"),
        price=_eur("10.00"),
        tiers=[
            PriceTier(min_quantity=10, price=_eur("9.00")),
            PriceTier(min_quantity=50, formula=Formula(base=BaseKind.COST, percent=-95)),
        ],
    ),
)


@pytest.mark.parametrize(
    ("quantity", "unit", "tier"),
    [
        (1, "10.00", None),
        (9, "10.00", None),
        (10, "9.00", Decimal(10)),
        (49, "9.00", Decimal(10)),
        (50, "6.00", Decimal(50)),
        (1000, "6.00", Decimal(50)),
    ],
)
def test_the_tier_with_the_highest_min_quantity_not_above_the_quantity(
    quantity: int, unit: str, tier: Decimal | None
) -> None:
    quote = _resolve([TIERED], quantity)
    assert quote.unit_price == _eur(unit)
    assert quote.tier_min_quantity == tier
    assert quote.line_total == _eur(unit) * quantity


def test_tier_steps_are_explained() -> None:
    assert _steps(_resolve([TIERED], 10)) == [
        ("tier from", Decimal(10)),
        ("fixed price", Decimal(9)),
    ]
    quote = _resolve([TIERED], 50)
    assert quote.explanation.text().splitlines()[2] == (
        "       tier from 50 -> cost 120.00 -> percent -95 = 6.0000"
    )


def test_tier_quantity_overrides_the_line_quantity_for_tier_selection() -> None:
    quote = _resolve([TIERED], 2, tier_quantity=60)
    assert (quote.unit_price, quote.line_total) == (_eur("6.00"), _eur("12.00"))
    assert quote.tier_min_quantity == Decimal(50)
    assert quote.quantity == Decimal(2)
    quote = _resolve([TIERED], 20, tier_quantity=1)
    assert quote.unit_price == _eur("10.00")
    with pytest.raises(ValidationError, match="tier_quantity must be positive"):
        _resolve([TIERED], 2, tier_quantity=0)


def test_fractional_quantities_select_tiers() -> None:
    lists = [
        _plist(
            "list",
            _fixed("r", "4.00", tiers=[PriceTier(min_quantity="2.5", price=_eur("3.00"))]),
        )
    ]
    assert _resolve(lists, "2.4").unit_price == _eur("4.00")
    quote = _resolve(lists, "2.5")
    assert (quote.unit_price, quote.line_total) == (_eur("3.00"), _eur("7.50"))


# -- PricePolicy.LOWEST -----------------------------------------------------------------


def test_lowest_takes_the_cheapest_applicable_price() -> None:
    lists = [
        _plist("acme", _fixed("r", "9"), scope=PriceScope(companies={"acme"})),
        _plist("promo", _fixed("r", "7")),
        _plist("de", _fixed("r", "8"), scope=PriceScope(countries={"DE"})),
        _plist("elsewhere", _fixed("r", "1"), scope=PriceScope(countries={"FR"})),
    ]
    assert _resolve(lists).price_list_id == "acme"
    quote = _resolve(lists, policy=PricePolicy.LOWEST)
    assert (quote.price_list_id, quote.unit_price, quote.policy) == (
        "promo",
        _eur("7.00"),
        PricePolicy.LOWEST,
    )
    assert _reasons(quote) == {
        "promo/r": "won",
        "de/r": "higher price (8.00 > 7.00)",
        "acme/r": "higher price (9.00 > 7.00)",
        "elsewhere/r": "list is for countries ['FR'], not 'DE'",
    }
    assert quote.explanation.policy is PricePolicy.LOWEST


def test_lowest_breaks_ties_by_the_most_specific_order() -> None:
    lists = [
        _plist("a-open", _fixed("r", "5")),  # first by id, but the least specific
        _plist("acme", _fixed("r", "5.00"), scope=PriceScope(companies={"acme"})),
        _plist(
            "de",
            _fixed("sku", "5.0", RuleTarget.sku("P-100-S")),
            scope=PriceScope(countries={"DE"}),
        ),
        _plist("dear", _fixed("r", "6"), scope=PriceScope(companies={"acme"}), priority=9),
    ]
    quote = _resolve(lists, policy=PricePolicy.LOWEST)
    assert quote.price_list_id == "acme"
    assert _reasons(quote) == {
        "acme/r": "won",
        "de/sku": "lost on buyer specificity",
        "a-open/r": "lost on buyer specificity",
        "dear/r": "higher price (6.00 > 5.00)",
    }
    assert [c.price_list_id for c in quote.explanation.candidates] == [
        "acme",
        "de",
        "a-open",
        "dear",
    ]


def test_lowest_compares_formula_results() -> None:
    lists = [
        _plist("cost-plus", _formula("r", Formula(base=BaseKind.COST, percent=40))),
        _plist("list-minus", _formula("r", Formula(percent=-20))),
    ]
    quote = _resolve(lists, policy=PricePolicy.LOWEST)
    assert (quote.price_list_id, quote.unit_price) == ("list-minus", _eur("160.00"))
    # Candidates compare (and the reason shows) exact, unrounded formula results.
    assert _reasons(quote)["cost-plus/r"] == "higher price (168.00 > 160.00)"
    lost = _by_ref(quote.explanation)["cost-plus/r"]
    assert lost.unit_price == _eur("168.00")
    assert [s.name for s in lost.steps] == ["cost", "percent"]


# -- rounding stages and minor units ----------------------------------------------------

THIRD = [_plist("list", _fixed("r", "0.3333"))]


@pytest.mark.parametrize(
    ("stage", "unit", "line"),
    [
        (RoundingStage.UNIT, "0.33", "0.99"),  # round the unit, then multiply
        (RoundingStage.LINE, "0.3333", "1.00"),  # multiply exactly, round the line
        (RoundingStage.TOTAL, "0.3333", "0.9999"),  # exact: the document rounds
    ],
)
def test_rounding_stages_on_an_awkward_unit_price(
    stage: RoundingStage, unit: str, line: str
) -> None:
    quote = _resolve(THIRD, 3, rounding=RoundingPolicy(RoundingMode.HALF_UP, stage))
    assert str(quote.unit_price.amount) == unit
    assert str(quote.line_total.amount) == line
    assert quote.rounding.stage is stage


def test_rounding_mode_applies_at_the_stage() -> None:
    lists = [_plist("list", _fixed("r", "0.125"))]
    quote = _resolve(lists, 1, rounding=RoundingPolicy(RoundingMode.HALF_EVEN, RoundingStage.UNIT))
    assert quote.unit_price == _eur("0.12")
    quote = _resolve(lists, 1, rounding=RoundingPolicy(RoundingMode.UP, RoundingStage.UNIT))
    assert quote.unit_price == _eur("0.13")


@pytest.mark.parametrize(
    ("currency", "amount", "stage", "unit", "line"),
    [
        ("JPY", "1234.5", RoundingStage.UNIT, "1235", "3705"),
        ("JPY", "1234.5", RoundingStage.LINE, "1234.5", "3704"),
        ("JPY", "1234.5", RoundingStage.TOTAL, "1234.5", "3703.5"),
        ("KWD", "1.23456", RoundingStage.UNIT, "1.235", "3.705"),
        ("KWD", "1.23456", RoundingStage.LINE, "1.23456", "3.704"),
        ("KWD", "1.23456", RoundingStage.TOTAL, "1.23456", "3.70368"),
    ],
)
def test_minor_units_of_jpy_and_kwd(
    currency: str, amount: str, stage: RoundingStage, unit: str, line: str
) -> None:
    lists = [_plist("list", _fixed("r", amount, currency=currency), currency=currency)]
    quote = _resolve(
        lists,
        3,
        context=_context(currency=currency),
        rounding=RoundingPolicy(RoundingMode.HALF_UP, stage),
    )
    assert quote.currency == currency
    assert str(quote.unit_price.amount) == unit
    assert str(quote.line_total.amount) == line


def test_a_jpy_formula_rounds_to_whole_yen() -> None:
    item = attrs.evolve(PUMP, list_price=Money("1999", "JPY"), cost=None)
    lists = [_plist("list", _formula("r", Formula(percent=-15)), currency="JPY")]
    quote = _resolve(lists, 2, item=item, context=_context(currency="JPY"))
    assert quote.unit_price == Money("1699", "JPY")  # 1699.15
    assert quote.line_total == Money("3398", "JPY")


# -- quotes: pinning and re-validating --------------------------------------------------


def test_revalidate_returns_none_when_nothing_changed() -> None:
    lists = [_plist("list", _fixed("r", "10"))]
    quote = _resolve(lists, 2)
    assert quote.revalidate(PUMP, lists=lists) is None
    assert quote.revalidate(PUMP, lists=[_plist("list", _fixed("r", "10.00"))]) is None


def test_revalidate_returns_a_new_quote_when_a_list_changed() -> None:
    lists = [_plist("list", _fixed("r", "10"))]
    quote = _resolve(lists, 2)
    changed = [_plist("list", _fixed("r", "11"))]
    fresh = quote.revalidate(PUMP, lists=changed)
    assert fresh is not None
    assert (fresh.unit_price, fresh.line_total) == (_eur("11.00"), _eur("22.00"))
    assert fresh.quantity == quote.quantity
    assert fresh.context == quote.context
    # A different winner at the same price is a change too.
    moved = [_plist("other", _fixed("r", "10"))]
    fresh = quote.revalidate(PUMP, lists=moved)
    assert fresh is not None
    assert (fresh.price_list_id, fresh.unit_price) == ("other", quote.unit_price)


def test_revalidate_at_a_later_time() -> None:
    june = datetime(2026, 6, 1, tzinfo=UTC)
    lists = [
        _plist("list", _fixed("r", "10")),
        _plist("summer", _fixed("r", "9"), valid_from=june),
    ]
    quote = _resolve(lists)
    assert quote.revalidate(PUMP, lists=lists) is None  # at the quote's own time
    later = quote.revalidate(PUMP, lists=lists, at=june)
    assert later is not None
    assert (later.price_list_id, later.unit_price, later.context.at) == (
        "summer",
        _eur("9.00"),
        june,
    )


def test_revalidate_keeps_policy_and_rounding() -> None:
    lists = [_plist("a", _fixed("r", "0.3333")), _plist("b", _fixed("r", "0.30"), priority=-1)]
    policy = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.LINE)
    quote = _resolve(lists, 3, policy=PricePolicy.LOWEST, rounding=policy)
    assert (quote.price_list_id, quote.line_total) == ("b", _eur("0.90"))
    assert quote.revalidate(PUMP, lists=lists) is None
    fresh = quote.revalidate(PUMP, lists=lists[:1])
    assert fresh is not None
    assert (fresh.policy, fresh.rounding, fresh.line_total) == (
        PricePolicy.LOWEST,
        policy,
        _eur("1.00"),
    )


def test_revalidate_raises_when_no_price_is_left() -> None:
    quote = _resolve([_plist("list", _fixed("r", "10"))])
    with pytest.raises(NoPriceError):
        quote.revalidate(PUMP, lists=[])


# -- quantity rules ---------------------------------------------------------------------

BOLTS = QuantityRule(sku=Sku("BOLT"), minimum=10, maximum=100, increment=5)


@pytest.mark.parametrize("quantity", [10, 15, "20", Decimal(100)])
def test_check_quantity_accepts_allowed_quantities(quantity: int | str | Decimal) -> None:
    assert check_quantity(BOLTS, quantity) == Decimal(quantity)


@pytest.mark.parametrize(
    ("quantity", "lower", "higher", "message"),
    [
        (3, None, Decimal(10), "3 of BOLT is below the minimum of 10; nearest valid: 10"),
        (
            17,
            Decimal(15),
            Decimal(20),
            "17 of BOLT is not 10 plus a multiple of 5; nearest valid: 15 or 20",
        ),
        (101, Decimal(100), None, "101 of BOLT is above the maximum of 100; nearest valid: 100"),
        (
            "12.5",
            Decimal(10),
            Decimal(15),
            "12.5 of BOLT is not 10 plus a multiple of 5; nearest valid: 10 or 15",
        ),
    ],
)
def test_check_quantity_names_the_nearest_valid_quantities(
    quantity: int | str, lower: Decimal | None, higher: Decimal | None, message: str
) -> None:
    with pytest.raises(QuantityRuleError) as exc:
        check_quantity(BOLTS, quantity)
    error = exc.value
    assert isinstance(error, ValidationError)
    assert error.code == "pricing.quantity_rule"
    assert (error.lower, error.higher) == (lower, higher)
    assert (error.sku, error.quantity, error.path) == ("BOLT", Decimal(quantity), "quantity")
    assert str(error) == f"quantity: {message}"


def test_check_quantity_off_grid_near_the_maximum_has_no_higher_option() -> None:
    rule = QuantityRule(sku=Sku("BOLT"), minimum=10, maximum=98, increment=5)
    with pytest.raises(QuantityRuleError) as exc:
        check_quantity(rule, 97)
    assert (exc.value.lower, exc.value.higher) == (Decimal(95), None)
    with pytest.raises(QuantityRuleError) as exc:
        check_quantity(rule, 99)
    assert (exc.value.lower, exc.value.higher) == (Decimal(95), None)


def test_check_quantity_with_fractional_increments() -> None:
    rule = QuantityRule(sku=Sku("CABLE"), minimum="0.5", increment="0.25")
    assert check_quantity(rule, "1.75") == Decimal("1.75")
    with pytest.raises(QuantityRuleError) as exc:
        check_quantity(rule, "1.8")
    assert (exc.value.lower, exc.value.higher) == (Decimal("1.75"), Decimal("2.00"))


def test_check_quantity_ignores_the_global_decimal_context() -> None:
    rule = QuantityRule(sku=Sku("BOLT"), minimum=1, increment=2)
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[decimal.Inexact] = True
        with pytest.raises(QuantityRuleError, match="nearest valid: 12345 or 12347"):
            check_quantity(rule, 12346)
        assert check_quantity(rule, 12345) == 12345


def test_check_quantity_without_a_rule_only_wants_a_positive_number() -> None:
    assert check_quantity(None, "2.5") == Decimal("2.5")
    for bad in (0, "-1"):
        with pytest.raises(ValidationError, match="quantity must be positive"):
            check_quantity(None, bad)
    with pytest.raises(ValidationError, match="not a decimal number"):
        check_quantity(None, "two")
    with pytest.raises(ValidationError, match="must be a QuantityRule") as exc:
        check_quantity(_untyped("BOLT"), 1)
    assert exc.value.path == "quantity_rule"


def test_resolve_price_checks_the_quantity_rule() -> None:
    rule = QuantityRule(sku=Sku("P-100-S"), minimum=2, increment=2)
    lists = [_plist("list", _fixed("r", "10"))]
    assert _resolve(lists, 4, quantity_rule=rule).line_total == _eur("40.00")
    with pytest.raises(QuantityRuleError, match="nearest valid: 2 or 4"):
        _resolve(lists, 3, quantity_rule=rule)
    with pytest.raises(ValidationError, match="the quantity rule is for BOLT, not P-100-S"):
        _resolve(lists, 10, quantity_rule=BOLTS)


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"context": "acme"}, "context"),
        ({"item": "P-100-S"}, "item"),
        ({"policy": "lowest"}, "policy"),
        ({"rounding": RoundingMode.HALF_UP}, "rounding"),
        ({"lists": "list"}, "lists"),
        ({"lists": {"a": 1}}, "lists"),
        ({"lists": ["not a list"]}, "lists"),
    ],
)
def test_resolve_price_rejects_bad_arguments(kwargs: dict[str, Any], path: str) -> None:
    arguments: dict[str, Any] = {
        "context": CTX,
        "item": PUMP,
        "quantity": 1,
        "lists": [_plist("list", _fixed("r", "1"))],
    }
    arguments.update(kwargs)
    with pytest.raises(ValidationError) as exc:
        resolve_price(
            arguments.pop("context"), arguments.pop("item"), arguments.pop("quantity"), **arguments
        )
    assert exc.value.path == path


# -- write-time checks ------------------------------------------------------------------


def test_check_price_lists_accepts_a_well_formed_set() -> None:
    base = _plist("public", _formula("all", Formula()))
    check_price_lists(
        [
            base,
            _plist("acme", _fixed("r", "1"), scope=PriceScope(companies={"acme"})),
            _plist("other-priority", _fixed("r", "1"), priority=1),
            _plist("other-window", _fixed("r", "1"), valid_from=MAR),
            _plist("other-currency", _fixed("r", "1", currency="USD"), currency="USD"),
            _plist(
                "derived",
                _formula(
                    "d", Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("public"))
                ),
                _fixed("sku", "1", RuleTarget.sku("P-100-S")),
                base_list_id=PriceListId("public"),
                scope=PriceScope(companies={"globex"}),
            ),
        ]
    )


def test_check_price_lists_names_both_conflicting_rules() -> None:
    with pytest.raises(ConflictError) as exc:
        check_price_lists(
            [_plist("b", _fixed("r", "2")), _plist("a", _fixed("x", "1", valid_from=JAN))]
        )
    assert str(exc.value) == (
        "rules a/x and b/r have the same scope, target, window and priority: the winner "
        "would be arbitrary; change one's priority or window"
    )
    assert isinstance(exc.value, PriceRuleConflictError)
    assert (exc.value.first, exc.value.second) == (("a", "x"), ("b", "r"))
    assert exc.value.code == "pricing.rule_conflict"
    with pytest.raises(ConflictError, match="rules a/r and a/s have the same"):
        check_price_lists([_plist("a", _fixed("r", "1"), _fixed("s", "2"))])


def test_check_price_lists_rejects_a_derivation_cycle() -> None:
    def on(list_id: str) -> Formula:
        return Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId(list_id))

    with pytest.raises(ValidationError) as exc:
        check_price_lists(
            [
                _plist("a", base_list_id=PriceListId("b")),
                _plist("b", _formula("r", on("c"))),
                _plist(
                    "c",
                    _fixed(
                        "t",
                        "1",
                        RuleTarget.sku("P-100-S"),
                        tiers=[PriceTier(min_quantity=5, formula=on("a"))],
                    ),
                ),
            ]
        )
    assert str(exc.value) == (
        "base_list_id: price lists derive from each other in a cycle: a -> b -> c -> a"
    )
    assert exc.value.path == "base_list_id"
    assert exc.value.value == ["a", "b", "c", "a"]
    with pytest.raises(ValidationError, match="in a cycle: a -> a"):
        check_price_lists([_plist("a", _formula("r", on("a")))])


def test_check_price_lists_rejects_a_missing_base_list() -> None:
    with pytest.raises(ValidationError) as exc:
        check_price_lists([_plist("acme", base_list_id=PriceListId("public"))])
    assert str(exc.value) == (
        "base_list_id: price list 'acme' derives from 'public', which does not exist"
    )
    assert exc.value.value == "public"


def test_check_price_lists_rejects_things_that_are_not_price_lists() -> None:
    with pytest.raises(ValidationError) as exc:
        check_price_lists([_plist("a"), _untyped("b")])
    assert exc.value.path == "lists[1]"
    with pytest.raises(ValidationError, match="iterable of PriceList"):
        check_price_lists(_untyped("ab"))


# -- rounding to endings: ties, long endings ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "half_up", "half_even", "half_down"),
    [
        ("11.49", "11.99", "10.99", "10.99"),  # tie; 10.99 has 10 whole periods: even
        ("12.49", "12.99", "12.99", "11.99"),  # tie; 12.99 has 12 whole periods: even
        ("12.48", "11.99", "11.99", "11.99"),  # no tie: every half mode goes nearest
    ],
)
def test_a_tie_between_endings_in_each_half_mode(
    value: str, half_up: str, half_even: str, half_down: str
) -> None:
    item = attrs.evolve(PUMP, list_price=_eur(value))
    for mode, expected in [
        (RoundingMode.HALF_UP, half_up),
        (RoundingMode.HALF_EVEN, half_even),
        (RoundingMode.HALF_DOWN, half_down),
    ]:
        formula = Formula(rounding=RoundingStep(ending="0.99", mode=mode))
        quote = _resolve([_plist("list", _formula("r", formula))], item=item, rounding=EXACT)
        assert quote.unit_price == _eur(expected), (value, mode)


@pytest.mark.parametrize(
    ("ending", "value", "mode", "expected"),
    [
        ("9.99", "23.50", RoundingMode.HALF_UP, "19.99"),
        ("9.99", "26.00", RoundingMode.HALF_UP, "29.99"),
        ("9.99", "20.00", RoundingMode.UP, "29.99"),
        ("9.99", "29.98", RoundingMode.DOWN, "19.99"),
        ("9.99", "5.00", RoundingMode.HALF_UP, "9.99"),  # nothing below: go up
        ("95", "140", RoundingMode.HALF_UP, "95"),
        ("95", "160", RoundingMode.HALF_UP, "195"),
        ("990", "1500", RoundingMode.FLOOR, "990"),
    ],
)
def test_an_ending_of_one_or_more_repeats_every_power_of_ten(
    ending: str, value: str, mode: RoundingMode, expected: str
) -> None:
    step = RoundingStep(ending=ending, mode=mode)
    assert step.period == 10 ** len(ending.split(".", maxsplit=1)[0])
    item = attrs.evolve(PUMP, list_price=_eur(value))
    formula = Formula(rounding=step)
    quote = _resolve([_plist("list", _formula("r", formula))], item=item, rounding=EXACT)
    assert quote.unit_price == _eur(expected)


# -- margin bounds hold to the cent -------------------------------------------------------


def test_a_min_margin_is_rounded_up_to_the_cent_so_it_holds_after_rounding() -> None:
    item = attrs.evolve(PUMP, cost=_eur("10.00"))
    formula = Formula(base=BaseKind.COST, percent=-50, min_margin="12.345")  # 11.2345
    for mode in RoundingMode:
        quote = _resolve(
            [_plist("list", _formula("r", formula))],
            item=item,
            rounding=RoundingPolicy(mode, RoundingStage.UNIT),
        )
        assert quote.unit_price == _eur("11.24"), mode
    assert _steps(quote)[-1] == ("min margin", Decimal("11.24"))


def test_a_max_margin_is_rounded_down_to_the_cent_so_it_holds_after_rounding() -> None:
    item = attrs.evolve(PUMP, cost=_eur("10.00"))
    formula = Formula(base=BaseKind.COST, percent=100, max_margin="12.345")  # 11.2345
    for mode in RoundingMode:
        quote = _resolve(
            [_plist("list", _formula("r", formula))],
            item=item,
            rounding=RoundingPolicy(mode, RoundingStage.UNIT),
        )
        assert quote.unit_price == _eur("11.23"), mode


def test_margin_bounds_round_to_the_currency_minor_units() -> None:
    yen = PriceItem(sku=Sku("P-100-S"), cost=Money("1000", "JPY"))
    ctx = _context(currency="JPY")
    formula = Formula(base=BaseKind.COST, percent=-50, min_margin="0.05")  # 1000.5
    quote = resolve_price(
        ctx, yen, 1, lists=[_plist("yen", _formula("r", formula), currency="JPY")]
    )
    assert quote.unit_price == Money("1001", "JPY")


# -- LOWEST compares what the buyer pays -------------------------------------------------


def test_lowest_compares_rounded_unit_prices_and_ties_go_to_the_most_specific() -> None:
    lists = [
        _plist("open", _fixed("r", "5.001")),  # cheaper unrounded, the same cent
        _plist("acme", _fixed("r", "5.004"), scope=PriceScope(companies={"acme"})),
    ]
    quote = _resolve(lists, policy=PricePolicy.LOWEST)
    assert (quote.price_list_id, quote.unit_price) == ("acme", _eur("5.00"))
    assert _reasons(quote)["open/r"] == "lost on buyer specificity"
    # Unrounded unit prices (stage LINE) compare exactly.
    exact = _resolve(
        lists,
        policy=PricePolicy.LOWEST,
        rounding=RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.LINE),
    )
    assert exact.price_list_id == "open"
    assert _reasons(exact)["acme/r"] == "higher price (5.004 > 5.001)"


# -- precedence details ------------------------------------------------------------------


def test_more_scope_dimensions_beat_fewer_under_the_same_top_dimension() -> None:
    lists = [
        _plist("acme", _fixed("r", "9"), scope=PriceScope(companies={"acme"})),
        _plist("acme-de", _fixed("r", "8"), scope=PriceScope(companies={"acme"}, countries={"DE"})),
        _plist(
            "unit-everything",
            _fixed("r", "7"),
            scope=PriceScope(
                business_units={"bu-north"},
                customer_groups={"gold"},
                channels={"web"},
                countries={"DE"},
            ),
        ),
    ]
    quote = _resolve(lists)
    assert quote.price_list_id == "acme-de"
    assert _reasons(quote) == {
        "acme-de/r": "won",
        "acme/r": "lost on buyer specificity",
        "unit-everything/r": "lost on buyer specificity",
    }


def test_a_later_start_wins_even_a_microsecond_later_in_any_year() -> None:
    far = datetime(9000, 1, 1, tzinfo=UTC)  # float timestamps cannot tell these apart
    lists = [
        _plist("first", _fixed("r", "9"), valid_from=far),
        _plist("later", _fixed("r", "8"), valid_from=far + timedelta(microseconds=1)),
    ]
    quote = _resolve(lists, context=_context(at=far + timedelta(days=1)))
    assert quote.price_list_id == "later"
    assert _reasons(quote)["first/r"] == "lost on valid_from"


def test_min_quantity_filters_but_does_not_rank() -> None:
    # A rule with a minimum quantity is not preferred for having one (a tier is the
    # way to say "cheaper from 10"): the usual precedence decides among the rules
    # that reach their minimum, and equal rules are refused at publication.
    lists = [
        _plist("bulk", _fixed("r", "8", min_quantity=10), priority=1),
        _plist("any", _fixed("r", "9")),
    ]
    assert _resolve(lists, 5).price_list_id == "any"
    assert _resolve(lists, 10).price_list_id == "bulk"
    cheaper_but_lower = [_plist("bulk", _fixed("r", "8", min_quantity=10)), lists[1]]
    assert _resolve(cheaper_but_lower, 10).price_list_id == "any"  # lost on list id
    with pytest.raises(PriceRuleConflictError):
        check_price_lists([_plist("l", _fixed("r", "8", min_quantity=10), _fixed("s", "9"))])


# -- tier quantity: kept on the quote, passed to base lists ---------------------------------


def _tiered(rule_id: str) -> PriceRule:
    return PriceRule(
        id=rule_id,
        target=RuleTarget.all(),
        price=_eur("10.00"),
        tiers=[PriceTier(min_quantity=100, price=_eur("7.00"))],
    )


def test_the_quote_keeps_its_tier_quantity_and_revalidates_with_it() -> None:
    lists = [_plist("list", _tiered("r"))]
    quote = _resolve(lists, 10, tier_quantity=100)
    assert (quote.unit_price, quote.tier_quantity, quote.tier_min_quantity) == (
        _eur("7.00"),
        Decimal(100),
        Decimal(100),
    )
    assert quote.revalidate(PUMP, lists=lists) is None
    alone = quote.revalidate(PUMP, lists=lists, tier_quantity=10)
    assert alone is not None
    assert (alone.unit_price, alone.tier_quantity) == (_eur("10.00"), Decimal(10))
    assert _resolve(lists, 10).tier_quantity == Decimal(10)


def test_a_base_list_chooses_its_tier_by_the_same_tier_quantity() -> None:
    lists = [
        _plist("public", _tiered("r")),
        _plist(
            "acme",
            _formula(
                "d",
                Formula(base=BaseKind.PRICE_LIST, base_list_id=PriceListId("public"), percent=-10),
            ),
            scope=PriceScope(companies={"acme"}),
        ),
    ]
    quote = _resolve(lists, 10, tier_quantity=100)
    assert (quote.price_list_id, quote.unit_price) == ("acme", _eur("6.30"))
    assert _resolve(lists, 10).unit_price == _eur("9.00")


# -- a reused index: what it remembers per SKU and context ---------------------------------


def _amounts(quote: PriceQuote) -> tuple[str, str]:
    """The unit price and line total as text: equal Decimals may differ in exponent."""
    return str(quote.unit_price.amount), str(quote.line_total.amount)


@pytest.mark.parametrize(
    ("price", "quantity", "stage", "expected"),
    [
        ("12.30", 3, RoundingStage.UNIT, ("12.30", "36.90")),  # in minor units already
        ("12.3", 3, RoundingStage.UNIT, ("12.30", "36.90")),  # rounded to minor units
        ("12", 3, RoundingStage.UNIT, ("12.00", "36.00")),
        ("12.345", 3, RoundingStage.UNIT, ("12.35", "37.05")),
        ("12.30", "1.5", RoundingStage.UNIT, ("12.30", "18.45")),  # a quantity with decimals
        ("12.35", "2.5", RoundingStage.UNIT, ("12.35", "30.88")),
        ("12.30", 3, RoundingStage.LINE, ("12.30", "36.90")),
        ("12.345", 3, RoundingStage.LINE, ("12.345", "37.04")),
        ("12.3", 3, RoundingStage.TOTAL, ("12.3", "36.9")),
        ("12.345", 3, RoundingStage.TOTAL, ("12.345", "37.035")),
        ("12.30", 3000, RoundingStage.UNIT, ("12.30", "36900.00")),  # a large whole quantity
    ],
)
def test_a_fixed_price_keeps_its_digits_whatever_the_index_remembers(
    price: str, quantity: int | str, stage: RoundingStage, expected: tuple[str, str]
) -> None:
    lists = [_plist("list", _fixed("r", price))]
    rounding = RoundingPolicy(RoundingMode.HALF_UP, stage)
    index = PriceIndex(lists)
    # The first line of a SKU, the second (the index makes its plan) and a later one.
    quotes = [_resolve(_untyped(index), quantity, rounding=rounding) for _ in range(3)]
    assert {_amounts(q) for q in quotes} == {expected}
    assert _amounts(_resolve(lists, quantity, rounding=rounding)) == expected


def test_percentages_equal_in_value_keep_their_own_digits() -> None:
    # 1 + (-10.00)/100 is 0.90, 1 + (-10)/100 is 0.9: the exact results differ in exponent.
    for percent, expected in (("-10.00", "180.0000"), ("-10", "180.000"), ("-10.00", "180.0000")):
        lists = [_plist("list", _formula("r", Formula(percent=Decimal(percent))))]
        quote = _resolve(lists, 1, rounding=EXACT)
        assert str(quote.unit_price.amount) == expected


def test_an_index_tells_items_of_one_sku_apart_by_product_and_categories() -> None:
    # A SKU moved to another product or category (a newer catalogue) is priced by its
    # rules there, though the index remembers the SKU's rules from before.
    lists = [
        _plist(
            "list",
            _fixed("pumps", "10.00", RuleTarget.category("pumps")),
            _fixed("valves", "20.00", RuleTarget.category("valves")),
            _fixed("p-100", "30.00", RuleTarget.product("P-100")),
        )
    ]
    index = PriceIndex(lists)
    moved = attrs.evolve(PUMP, product_id=None, category_path=["tools", "valves"])
    unknown = attrs.evolve(PUMP, product_id=None, category_path=["tools"])
    for item, rule in [(PUMP, "p-100"), (moved, "valves"), (unknown, None)] * 3:
        try:
            quote = resolve_price(CTX, item, 1, lists=index)
        except NoPriceError:
            assert rule is None
        else:
            assert quote.rule_id == rule
            assert quote == resolve_price(CTX, item, 1, lists=lists)


def test_an_index_with_more_lists_than_a_byte_counts_answers_the_same() -> None:
    # Up to 255 lists, a plan keeps its entries' list positions as bytes; beyond, it
    # reads every entry. Both find the same winner.
    companies = [f"co-{i}" for i in range(300)]
    lists = [
        _plist(
            f"for-{company}",
            _fixed("r", f"{100 + i}.00"),
            scope=PriceScope(companies={company}),
        )
        for i, company in enumerate(companies)
    ]
    lists.append(_plist("public", _fixed("r", "999.00")))
    few = PriceIndex([*lists[:200], lists[-1]])
    many = PriceIndex(lists)
    for company in ["co-0", "co-150", "co-299", "co-299", "nobody", "co-0"] * 2:
        context = _context(company_id=company)
        expected = resolve_price(context, PUMP, 1, lists=lists)
        assert resolve_price(context, PUMP, 1, lists=many) == expected
        if company in {"co-0", "co-150", "nobody"}:
            assert resolve_price(context, PUMP, 1, lists=few) == expected


def test_an_index_remembers_a_bounded_number_of_skus(monkeypatch: pytest.MonkeyPatch) -> None:
    from b2bcore.pricing import resolve

    monkeypatch.setattr(resolve, "_PLAN_CACHE_SIZE", 4)
    lists = [_plist("list", _fixed("all", "1.00")), _plist("b", _fixed("r", "2.00"), priority=1)]
    index = PriceIndex(lists)
    items = [attrs.evolve(PUMP, sku=Sku(f"S-{i}")) for i in range(10)]
    for item in items * 3:
        assert resolve_price(CTX, item, 1, lists=index) == resolve_price(CTX, item, 1, lists=lists)
        assert len(index._plans) <= 4


def _explanation(*candidates: Candidate) -> PriceExplanation:
    return PriceExplanation(
        sku="SKU-1",
        quantity=Decimal(2),
        company_id="acme",
        currency="EUR",
        policy=PricePolicy.MOST_SPECIFIC,
        candidates=candidates,
    )


def test_for_buyer_hides_other_buyers_lists_and_is_itself_when_there_is_nothing_to_hide() -> None:
    won = Candidate(
        price_list_id="list",
        rule_id="all",
        target="everything",
        scope="everyone",
        status="won",
        reason="",
        unit_price=Money("9.90", "EUR"),
    )
    theirs = Candidate(
        price_list_id="beta-contract",
        rule_id="r1",
        target="SKU-1",
        scope="company beta",
        status="rejected",
        reason="list is for company beta",
    )
    late = attrs.evolve(theirs, price_list_id="spring", reason="not valid yet")
    plain = _explanation(won, late)
    assert plain.for_buyer() is plain  # immutable: nothing to copy
    mixed = _explanation(won, theirs, late)
    shown = mixed.for_buyer()
    assert shown.candidates == (won, late)
    assert mixed.candidates == (won, theirs, late)  # the seller's view is untouched
