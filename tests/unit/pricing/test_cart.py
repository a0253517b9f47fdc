"""Worked examples of cart pricing: aggregated tiers, cart discounts and their stacking
modes, thresholds, category restrictions, the cap at zero, exact allocation and the
rounding stages.

Every example asserts exact amounts, down to each line's share of each discount.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from b2bcore.errors import B2BCoreError, ValidationError
from b2bcore.ids import CategoryId, CompanyId, PriceListId, ProductId, Sku
from b2bcore.money import Money, RoundingMode, RoundingPolicy, RoundingStage
from b2bcore.pricing import (
    CartDiscount,
    CartLineInput,
    CartPrice,
    DiscountKind,
    DiscountSet,
    Formula,
    NoPriceError,
    PriceContext,
    PriceIndex,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceRule,
    PriceScope,
    PriceTier,
    QuantityRule,
    QuantityRuleError,
    RuleTarget,
    StackingMode,
    TierBasis,
    price_cart,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
CTX = PriceContext(company_id=CompanyId("acme"), currency="EUR", at=MAY)

UNIT = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.UNIT)
LINE = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.LINE)
TOTAL = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.TOTAL)

#: Everything at its list price.
CATALOG = PriceList(
    id=PriceListId("list"),
    name="List prices",
    currency="EUR",
    valid_from=JAN,
    rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
)


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _item(
    sku: str, price: str = "10.00", *, category: tuple[str, ...] = ("parts",), product: str = ""
) -> PriceItem:
    return PriceItem(
        sku=Sku(sku),
        product_id=ProductId(product) if product else None,
        category_path=tuple(CategoryId(c) for c in category),
        list_price=_eur(price),
    )


def _line(item: PriceItem, quantity: int | str = 1) -> CartLineInput:
    return CartLineInput(item, quantity)


def _percent(discount_id: str, percent: str, **conditions: Any) -> CartDiscount:
    return CartDiscount(id=discount_id, name=discount_id, percent=Decimal(percent), **conditions)


def _fixed(discount_id: str, amount: str, **conditions: Any) -> CartDiscount:
    return CartDiscount(id=discount_id, name=discount_id, amount=_eur(amount), **conditions)


def _price(
    lines: list[CartLineInput], *sets: DiscountSet, rounding: RoundingPolicy = UNIT
) -> CartPrice:
    return price_cart(CTX, lines, lists=[CATALOG], discounts=list(sets), rounding=rounding)


def _nets(cart: CartPrice) -> list[str]:
    return [str(line.net.amount) for line in cart.lines]


def _check_sums(cart: CartPrice) -> None:
    """The invariants every cart keeps, to the last minor unit."""
    zero = Money.zero(cart.currency)
    assert sum((line.net for line in cart.lines), zero) == cart.total
    assert sum((line.gross for line in cart.lines), zero) == cart.subtotal
    assert sum((line.discount for line in cart.lines), zero) == cart.discount_total
    assert sum((line.rounding for line in cart.lines), zero) == cart.rounding
    assert cart.total == cart.subtotal - cart.discount_total + cart.rounding
    for applied in cart.discounts:
        shares = [line.discount_for(applied.discount_id) for line in cart.lines]
        assert sum(shares, zero) == applied.amount
    assert not cart.total.is_negative()
    assert all(not line.net.is_negative() for line in cart.lines)
    assert cart.total.is_rounded()


# --- allocation ------------------------------------------------------------------------


def test_fixed_discount_is_split_cent_exact_by_line_totals() -> None:
    lines = [_line(_item("A", "33.33")), _line(_item("B", "33.33")), _line(_item("C", "33.34"))]
    cart = _price(lines, DiscountSet("promo", [_fixed("ten", "10.00")]))
    assert [str(line.discount.amount) for line in cart.lines] == ["3.33", "3.33", "3.34"]
    assert _nets(cart) == ["30.00", "30.00", "30.00"]
    assert cart.subtotal == _eur("100.00")
    assert cart.discount_total == _eur("10.00")
    assert cart.total == _eur("90.00")
    [applied] = cart.discounts
    assert (applied.discount_id, applied.set_id, applied.amount) == ("ten", "promo", _eur("10"))
    assert applied.base == _eur("100.00")
    assert not applied.capped
    assert applied.reason == "fixed 10.00 EUR on 100.00 EUR"
    _check_sums(cart)


def test_equal_lines_share_the_odd_cent_in_sku_order_whatever_the_line_order() -> None:
    a, b, c = _item("A"), _item("B"), _item("C")
    promo = DiscountSet("promo", [_fixed("ten", "10.00")])
    forward = _price([_line(a), _line(b), _line(c)], promo)
    backward = _price([_line(c), _line(b), _line(a)], promo)
    assert {line.sku: line.discount.amount for line in forward.lines} == {
        "A": Decimal("3.34"),
        "B": Decimal("3.33"),
        "C": Decimal("3.33"),
    }
    assert {line.sku: line.net for line in backward.lines} == {
        line.sku: line.net for line in forward.lines
    }
    assert [line.sku for line in backward.lines] == ["C", "B", "A"]  # input order kept
    assert [line.index for line in backward.lines] == [0, 1, 2]


def test_percent_discount_is_rounded_once_then_allocated_by_largest_remainder() -> None:
    lines = [_line(_item("A", "100.00")), _line(_item("B", "23.45"))]
    cart = _price(lines, DiscountSet("promo", [_percent("ten", "10")]))
    # 10 % of 123.45 = 12.345 -> 12.35 (half up); 12.35 x 100/123.45 = 10.004...,
    # 12.35 x 23.45/123.45 = 2.345...: the floors 10.00 + 2.34 leave a cent, which
    # goes to the larger remainder (B's).
    assert cart.discount_total == _eur("12.35")
    assert [str(line.discount.amount) for line in cart.lines] == ["10.00", "2.35"]
    assert _nets(cart) == ["90.00", "21.10"]
    assert cart.total == _eur("111.10")
    assert cart.discounts[0].reason == "10% of 123.45 EUR"
    _check_sums(cart)


def test_rounding_mode_of_the_policy_rounds_percent_discounts() -> None:
    lines = [_line(_item("A", "123.45"))]
    down = RoundingPolicy(RoundingMode.DOWN, RoundingStage.UNIT)
    cart = _price(lines, DiscountSet("promo", [_percent("ten", "10")]), rounding=down)
    assert cart.discount_total == _eur("12.34")


def test_zero_priced_lines_get_no_share() -> None:
    free = PriceItem(sku=Sku("FREE"), list_price=_eur("0"), category_path=[CategoryId("parts")])
    lines = [_line(_item("A", "20.00")), _line(free)]
    cart = _price(lines, DiscountSet("promo", [_fixed("five", "5.00")]))
    assert [line.discount for line in cart.lines] == [_eur("5.00"), _eur("0")]
    assert cart.lines[1].discounts == ()
    assert cart.total == _eur("15.00")


def test_jpy_has_no_minor_units() -> None:
    ctx = PriceContext(company_id=CompanyId("acme"), currency="JPY", at=MAY)
    yen = PriceList(
        id=PriceListId("yen"),
        name="Yen",
        currency="JPY",
        valid_from=JAN,
        rules=[PriceRule(id="all", target=RuleTarget.all(), price=Money("1000", "JPY"))],
    )
    lines = [_line(PriceItem(sku=Sku(s))) for s in ("A", "B", "C")]
    promo = DiscountSet("promo", [CartDiscount(id="d", name="d", amount=Money("100", "JPY"))])
    cart = price_cart(ctx, lines, lists=[yen], discounts=[promo])
    assert [str(line.net) for line in cart.lines] == ["966 JPY", "967 JPY", "967 JPY"]
    assert cart.total == Money("2900", "JPY")


# --- stacking modes --------------------------------------------------------------------

TWO_HUNDRED = [_line(_item("A", "120.00")), _line(_item("B", "80.00"))]


def test_stack_applies_in_order_each_on_the_remainder() -> None:
    ten_then_five = DiscountSet("promo", [_percent("ten", "10"), _fixed("five", "5.00")])
    cart = _price(TWO_HUNDRED, ten_then_five)
    assert [(d.discount_id, d.amount, d.base) for d in cart.discounts] == [
        ("ten", _eur("20.00"), _eur("200.00")),
        ("five", _eur("5.00"), _eur("180.00")),
    ]
    assert cart.total == _eur("175.00")
    assert [str(line.discount.amount) for line in cart.lines] == ["15.00", "10.00"]
    _check_sums(cart)

    five_then_ten = DiscountSet("promo", [_fixed("five", "5.00"), _percent("ten", "10")])
    cart = _price(TWO_HUNDRED, five_then_ten)
    assert [(d.discount_id, d.amount) for d in cart.discounts] == [
        ("five", _eur("5.00")),
        ("ten", _eur("19.50")),
    ]
    assert cart.total == _eur("175.50")
    _check_sums(cart)


def test_sets_apply_in_turn_on_what_the_earlier_sets_left() -> None:
    cart = _price(
        TWO_HUNDRED,
        DiscountSet("first", [_percent("ten", "10")]),
        DiscountSet("second", [_percent("half", "50")]),
    )
    assert [d.amount for d in cart.discounts] == [_eur("20.00"), _eur("90.00")]
    assert cart.total == _eur("90.00")


def test_best_takes_only_the_discount_worth_most() -> None:
    best = DiscountSet(
        "deals",
        [_percent("ten", "10"), _fixed("twenty-five", "25.00"), _percent("fifteen", "15")],
        StackingMode.BEST,
    )
    cart = _price(TWO_HUNDRED, best)
    assert [(d.discount_id, d.amount) for d in cart.discounts] == [("fifteen", _eur("30.00"))]
    assert cart.total == _eur("170.00")
    reasons = {s.discount_id: s.reason for s in cart.skipped}
    assert reasons == {
        "ten": "the set takes only its best discount: fifteen gives 30.00 EUR, this one 20.00 EUR",
        "twenty-five": (
            "the set takes only its best discount: fifteen gives 30.00 EUR, this one 25.00 EUR"
        ),
    }
    _check_sums(cart)


def test_best_breaks_ties_by_discount_id_not_by_order() -> None:
    one = [_fixed("b-twenty", "20.00"), _percent("a-ten", "10")]  # both 20.00
    for discounts in (one, one[::-1]):
        cart = _price(TWO_HUNDRED, DiscountSet("deals", discounts, StackingMode.BEST))
        assert [d.discount_id for d in cart.discounts] == ["a-ten"]


def test_best_ignores_discounts_whose_conditions_fail() -> None:
    deals = DiscountSet(
        "deals",
        [_percent("big", "50", min_amount=_eur("1000")), _fixed("small", "5.00")],
        StackingMode.BEST,
    )
    cart = _price(TWO_HUNDRED, deals)
    assert [d.discount_id for d in cart.discounts] == ["small"]
    assert [(s.discount_id, s.reason) for s in cart.skipped] == [
        ("big", "the amount 200.00 EUR is below the threshold 1000 EUR")
    ]


def test_exclusive_set_wins_when_it_gives_more_and_then_alone() -> None:
    cart = _price(
        TWO_HUNDRED,
        DiscountSet("regular", [_percent("ten", "10"), _fixed("two", "2.00")]),
        DiscountSet("vip", [_percent("fifteen", "15")], StackingMode.EXCLUSIVE),
    )
    assert [(d.discount_id, d.set_id, d.amount) for d in cart.discounts] == [
        ("fifteen", "vip", _eur("30.00"))
    ]
    assert cart.total == _eur("170.00")
    reason = "exclusive set vip applies instead (30.00 EUR beats 22.00 EUR from the other sets)"
    assert {s.discount_id: s.reason for s in cart.skipped} == {"ten": reason, "two": reason}
    _check_sums(cart)


def test_exclusive_set_does_not_apply_when_it_gives_less_or_the_same() -> None:
    for percent, worth in (("5", "10.00"), ("11", "22.00")):
        cart = _price(
            TWO_HUNDRED,
            DiscountSet("regular", [_percent("ten", "10"), _fixed("two", "2.00")]),
            DiscountSet("vip", [_percent("vip", percent)], StackingMode.EXCLUSIVE),
        )
        assert [d.discount_id for d in cart.discounts] == ["ten", "two"]
        assert cart.total == _eur("178.00")
        assert [(s.discount_id, s.reason) for s in cart.skipped] == [
            (
                "vip",
                (
                    f"exclusive set vip would give {worth} EUR, not more than 22.00 EUR from "
                    "the other sets"
                ),
            )
        ]


def test_the_best_of_several_exclusive_sets_wins() -> None:
    cart = _price(
        TWO_HUNDRED,
        DiscountSet("a", [_fixed("thirty", "30.00")], StackingMode.EXCLUSIVE),
        DiscountSet("b", [_percent("twenty", "20")], StackingMode.EXCLUSIVE),
    )
    assert [d.discount_id for d in cart.discounts] == ["twenty"]
    assert cart.total == _eur("160.00")
    assert [(s.discount_id, s.reason) for s in cart.skipped] == [
        ("thirty", "exclusive set b is worth more (40.00 EUR against 30.00 EUR)")
    ]


def test_an_exclusive_set_whose_conditions_fail_does_not_exclude_anything() -> None:
    cart = _price(
        TWO_HUNDRED,
        DiscountSet("regular", [_percent("ten", "10")]),
        DiscountSet("vip", [_percent("vip", "50", min_quantity=10)], StackingMode.EXCLUSIVE),
    )
    assert [d.discount_id for d in cart.discounts] == ["ten"]
    assert [(s.discount_id, s.reason) for s in cart.skipped] == [
        ("vip", "the quantity 2 is below the threshold 10")
    ]


# --- thresholds and categories ---------------------------------------------------------


def test_amount_threshold_is_met_at_exactly_the_threshold() -> None:
    met = _price(TWO_HUNDRED, DiscountSet("p", [_percent("ten", "10", min_amount=_eur("200"))]))
    assert met.discount_total == _eur("20.00")
    assert met.discounts[0].reason == "10% of 200.00 EUR; amount 200.00 EUR reaches 200 EUR"
    missed = _price(
        TWO_HUNDRED, DiscountSet("p", [_percent("ten", "10", min_amount=_eur("200.01"))])
    )
    assert missed.discounts == ()
    assert missed.total == _eur("200.00")
    assert [s.reason for s in missed.skipped] == [
        "the amount 200.00 EUR is below the threshold 200.01 EUR"
    ]


def test_quantity_threshold_counts_every_unit() -> None:
    lines = [_line(_item("A", "1.00"), 6), _line(_item("B", "1.00"), 4)]
    met = _price(lines, DiscountSet("p", [_fixed("one", "1.00", min_quantity=10)]))
    assert met.total == _eur("9.00")
    missed = _price(lines, DiscountSet("p", [_fixed("one", "1.00", min_quantity=11)]))
    assert missed.total == _eur("10.00")
    assert [s.reason for s in missed.skipped] == ["the quantity 10 is below the threshold 11"]


def test_thresholds_look_at_the_amount_before_cart_discounts() -> None:
    promo = DiscountSet(
        "promo", [_percent("half", "50"), _fixed("bonus", "10.00", min_amount=_eur("150"))]
    )
    cart = _price(TWO_HUNDRED, promo)
    assert [d.amount for d in cart.discounts] == [_eur("100.00"), _eur("10.00")]


PUMP = _item("PUMP", "150.00", category=("fluid", "pumps"))
VALVE = _item("VALVE", "30.00", category=("fluid", "valves"))
SEAL = _item("SEAL", "20.00", category=("fluid", "pumps", "seals"))


def test_category_discount_goes_only_to_lines_in_that_category_or_below() -> None:
    cart = _price(
        [_line(PUMP), _line(VALVE), _line(SEAL)],
        DiscountSet("p", [_percent("pumps", "10", category=CategoryId("pumps"))]),
    )
    assert {line.sku: str(line.discount.amount) for line in cart.lines} == {
        "PUMP": "15.00",
        "VALVE": "0",
        "SEAL": "2.00",
    }
    assert cart.discounts[0].base == _eur("170.00")
    assert cart.discounts[0].reason == "10% of 170.00 EUR (lines in category pumps only)"
    assert cart.total == _eur("183.00")
    _check_sums(cart)


def test_only_lines_in_the_category_count_toward_its_threshold() -> None:
    valves = DiscountSet(
        "p", [_fixed("valves", "5.00", category=CategoryId("valves"), min_amount=_eur("50"))]
    )
    cart = _price([_line(PUMP), _line(VALVE)], valves)  # the cart is 180.00, valves 30.00
    assert cart.discounts == ()
    assert [s.reason for s in cart.skipped] == [
        "the amount in category valves 30.00 EUR is below the threshold 50 EUR"
    ]
    cart = _price([_line(PUMP), _line(VALVE, 2)], valves)
    assert cart.discounts[0].reason == (
        "fixed 5.00 EUR on 60.00 EUR (lines in category valves only); "
        "amount in category valves 60.00 EUR reaches 50 EUR"
    )


def test_a_category_without_lines_is_skipped_with_the_reason() -> None:
    cart = _price(
        [_line(VALVE)], DiscountSet("p", [_percent("x", "10", category=CategoryId("pumps"))])
    )
    assert [s.reason for s in cart.skipped] == ["no line is in category pumps"]


# --- never below zero ------------------------------------------------------------------


def test_fixed_discount_above_the_cart_is_capped_at_zero_and_says_so() -> None:
    promo = DiscountSet("promo", [_fixed("huge", "500.00"), _fixed("more", "1.00")])
    cart = _price(TWO_HUNDRED, promo)
    [applied] = cart.discounts
    assert applied.amount == _eur("200.00")
    assert applied.capped
    assert applied.reason == (
        "fixed 500.00 EUR on 200.00 EUR, capped at the eligible 200.00 EUR: "
        "the total never goes below zero"
    )
    assert cart.total == _eur("0.00")
    assert _nets(cart) == ["0.00", "0.00"]
    assert [(s.discount_id, s.reason) for s in cart.skipped] == [
        ("more", "nothing is left to discount on the eligible lines")
    ]
    _check_sums(cart)


def test_a_hundred_percent_leaves_zero() -> None:
    cart = _price(TWO_HUNDRED, DiscountSet("p", [_percent("all", "100")]))
    assert cart.total == _eur("0.00")
    assert not cart.discounts[0].capped


def test_a_capped_category_discount_leaves_other_lines_alone() -> None:
    cart = _price(
        [_line(PUMP), _line(VALVE)],
        DiscountSet("p", [_fixed("v", "100.00", category=CategoryId("valves"))]),
    )
    assert {line.sku: line.net for line in cart.lines} == {
        "PUMP": _eur("150.00"),
        "VALVE": _eur("0.00"),
    }


# --- tiers aggregated across the cart --------------------------------------------------


def _tiered(basis: TierBasis, target: RuleTarget) -> PriceList:
    return PriceList(
        id=PriceListId("acme"),
        name="ACME",
        currency="EUR",
        valid_from=JAN,
        scope=PriceScope(companies={"acme"}),
        rules=[
            PriceRule(
                id="tiered",
                target=target,
                price=_eur("10.00"),
                tier_basis=basis,
                tiers=[PriceTier(min_quantity=10, price=_eur("8.00"))],
            )
        ],
    )


def _units(cart: CartPrice) -> list[str]:
    return [str(line.quote.unit_price.amount) for line in cart.lines]


def test_sku_basis_sums_the_same_sku_over_lines() -> None:
    lists = [CATALOG, _tiered(TierBasis.SKU, RuleTarget.sku("BOLT"))]
    bolt = _item("BOLT", category=("fasteners",))
    cart = price_cart(CTX, [_line(bolt, 6), _line(bolt, 4)], lists=lists)
    assert _units(cart) == ["8.00", "8.00"]
    assert [line.tier_quantity for line in cart.lines] == [10, 10]
    assert cart.lines[0].tier_scope == "sku BOLT"
    assert cart.lines[0].quote.tier_min_quantity == 10
    assert cart.total == _eur("80.00")
    alone = price_cart(CTX, [_line(bolt, 6)], lists=lists)
    assert _units(alone) == ["10.00"]


def test_product_basis_sums_the_variants_of_a_product() -> None:
    lists = [CATALOG, _tiered(TierBasis.PRODUCT, RuleTarget.product("shirt"))]
    small = _item("SHIRT-S", product="shirt")
    large = _item("SHIRT-L", product="shirt")
    other = _item("CAP", product="cap")
    cart = price_cart(CTX, [_line(small, 5), _line(large, 5), _line(other, 5)], lists=lists)
    assert _units(cart) == ["8.00", "8.00", "10.00"]
    assert [line.tier_scope for line in cart.lines[:2]] == ["product shirt", "product shirt"]
    sku_basis = [CATALOG, _tiered(TierBasis.SKU, RuleTarget.product("shirt"))]
    cart = price_cart(CTX, [_line(small, 5), _line(large, 5)], lists=sku_basis)
    assert _units(cart) == ["10.00", "10.00"]


def test_category_basis_mixes_and_matches_within_the_target_category() -> None:
    lists = [CATALOG, _tiered(TierBasis.CATEGORY, RuleTarget.category("pumps"))]
    pump = _item("PUMP", category=("fluid", "pumps"))
    seal = _item("SEAL", category=("fluid", "pumps", "seals"))
    valve = _item("VALVE", category=("fluid", "valves"))
    cart = price_cart(CTX, [_line(pump, 4), _line(seal, 6), _line(valve, 20)], lists=lists)
    assert _units(cart) == ["8.00", "8.00", "10.00"]  # the valves do not count
    assert [line.tier_scope for line in cart.lines[:2]] == ["category pumps"] * 2
    assert cart.lines[2].tier_quantity is None  # the catalog rule has no tiers
    cart = price_cart(CTX, [_line(pump, 4), _line(seal, 5)], lists=lists)
    assert _units(cart) == ["10.00", "10.00"]


def test_category_basis_of_a_non_category_rule_uses_the_leaf_category() -> None:
    lists = [CATALOG, _tiered(TierBasis.CATEGORY, RuleTarget.sku("PUMP"))]
    pump = _item("PUMP", category=("fluid", "pumps"))
    other_pump = _item("PUMP-2", category=("fluid", "pumps"))
    cart = price_cart(CTX, [_line(pump, 4), _line(other_pump, 6)], lists=lists)
    assert _units(cart) == ["8.00", "10.00"]
    assert cart.lines[0].tier_scope == "category pumps"
    assert cart.lines[0].tier_quantity == 10


def test_lowest_policy_compares_each_candidate_at_its_own_basis() -> None:
    # The public list tiers by SKU, the contract mixes and matches the category. With
    # 30 + 30 units in the category the contract's tier (7.00 from 50) beats the
    # public tier (8.00 from 20): each rule is priced at the quantity of its basis.
    public = PriceList(
        id=PriceListId("public"),
        name="Public",
        currency="EUR",
        valid_from=JAN,
        rules=[
            PriceRule(
                id="sku-tiers",
                target=RuleTarget.all(),
                price=_eur("10.00"),
                tiers=[PriceTier(min_quantity=20, price=_eur("8.00"))],
            )
        ],
    )
    contract = PriceList(
        id=PriceListId("contract"),
        name="Contract",
        currency="EUR",
        valid_from=JAN,
        scope=PriceScope(companies={"acme"}),
        rules=[
            PriceRule(
                id="mix",
                target=RuleTarget.category("seals"),
                price=_eur("9.00"),
                tier_basis=TierBasis.CATEGORY,
                tiers=[PriceTier(min_quantity=50, price=_eur("7.00"))],
            )
        ],
    )
    x, y = _item("X", category=("seals",)), _item("Y", category=("seals",))
    cart = price_cart(
        CTX, [_line(x, 30), _line(y, 30)], lists=[public, contract], policy=PricePolicy.LOWEST
    )
    assert [(line.quote.price_list_id, line.quote.unit_price) for line in cart.lines] == [
        ("contract", _eur("7.00")),
        ("contract", _eur("7.00")),
    ]
    lost = cart.lines[0].quote.explanation.candidates[1]
    assert (lost.rule_id, lost.unit_price) == ("sku-tiers", _eur("8.00"))
    assert cart.total == _eur("420.00")


def test_price_index_is_accepted_and_gives_the_same_result() -> None:
    lists = [CATALOG, _tiered(TierBasis.SKU, RuleTarget.sku("BOLT"))]
    bolt = _item("BOLT")
    lines = [_line(bolt, 6), _line(bolt, 4)]
    assert price_cart(CTX, lines, lists=PriceIndex(lists)) == price_cart(CTX, lines, lists=lists)


# --- rounding stages -------------------------------------------------------------------

THIRDS = PriceList(
    id=PriceListId("thirds"),
    name="Thirds",
    currency="EUR",
    valid_from=JAN,
    rules=[PriceRule(id="all", target=RuleTarget.all(), price=_eur("0.335"))],
)
THREE = [_line(PriceItem(sku=Sku(s))) for s in ("A", "B", "C")]


def test_unit_and_line_stages_round_each_line() -> None:
    for rounding in (UNIT, LINE):
        cart = price_cart(CTX, THREE, lists=[THIRDS], rounding=rounding)
        assert _nets(cart) == ["0.34", "0.34", "0.34"]
        assert cart.total == _eur("1.02")
        assert cart.rounding.is_zero()


def test_total_stage_rounds_the_document_once_and_lines_still_sum() -> None:
    cart = price_cart(CTX, THREE, lists=[THIRDS], rounding=TOTAL)
    assert [line.gross for line in cart.lines] == [_eur("0.335")] * 3  # exact
    assert cart.subtotal == _eur("1.005")
    assert cart.total == _eur("1.01")  # 1.005 rounded once, half up
    assert _nets(cart) == ["0.34", "0.34", "0.33"]
    assert [str(line.rounding.amount) for line in cart.lines] == ["0.005", "0.005", "-0.005"]
    assert cart.rounding == _eur("0.005")
    _check_sums(cart)
    assert "rounding 0.005 EUR (the total is rounded once)" in cart.explanation_text()


def test_total_stage_with_a_discount_keeps_lines_exact_until_the_end() -> None:
    promo = DiscountSet("promo", [_percent("ten", "10")])
    cart = price_cart(CTX, THREE, lists=[THIRDS], discounts=[promo], rounding=TOTAL)
    # 10 % of 1.005 = 0.1005 -> 0.10; 1.005 - 0.10 = 0.905 -> 0.91
    assert cart.discount_total == _eur("0.10")
    assert [str(line.discount.amount) for line in cart.lines] == ["0.034", "0.033", "0.033"]
    assert cart.total == _eur("0.91")
    # exact nets 0.301, 0.302, 0.302; 0.91 split by them: 0.30 each and one cent left,
    # which goes to the first of the two equal largest remainders
    assert _nets(cart) == ["0.30", "0.31", "0.30"]
    _check_sums(cart)


def test_total_stage_cap_takes_the_exact_remainder() -> None:
    promo = DiscountSet("promo", [_fixed("all", "5.00")])
    cart = price_cart(CTX, THREE, lists=[THIRDS], discounts=[promo], rounding=TOTAL)
    assert cart.discounts[0].amount == _eur("1.005")
    assert cart.discounts[0].capped
    assert cart.total == _eur("0.00")
    assert _nets(cart) == ["0.00", "0.00", "0.00"]
    _check_sums(cart)


# --- explanation -----------------------------------------------------------------------


def test_explanation_text_tells_the_whole_story() -> None:
    lists = [CATALOG, _tiered(TierBasis.SKU, RuleTarget.sku("BOLT"))]
    bolt = _item("BOLT", "1.00")
    promo = DiscountSet(
        "promo", [_fixed("five", "5.00"), _percent("big", "20", min_amount=_eur("500"))]
    )
    cart = price_cart(
        CTX, [_line(bolt, 6), _line(bolt, 4), _line(PUMP)], lists=lists, discounts=[promo]
    )
    assert cart.explanation_text() == "\n".join(
        [
            "Cart for acme in EUR: 3 lines, rounding half_up at the unit stage",
            (
                "  line 1: BOLT x 6 = 48.00 EUR (acme/tiered, tier from 10 by sku BOLT = 10)"
                " - 1.04 EUR [five] = 46.96 EUR"
            ),
            (
                "  line 2: BOLT x 4 = 32.00 EUR (acme/tiered, tier from 10 by sku BOLT = 10)"
                " - 0.70 EUR [five] = 31.30 EUR"
            ),
            "  line 3: PUMP x 1 = 150.00 EUR (list/all) - 3.26 EUR [five] = 146.74 EUR",
            "subtotal 230.00 EUR",
            "  applied five (set promo): -5.00 EUR: fixed 5.00 EUR on 230.00 EUR",
            "  skipped big (set promo): the amount 230.00 EUR is below the threshold 500 EUR",
            "total 225.00 EUR",
        ]
    )
    _check_sums(cart)


# --- edge cases and bad input ----------------------------------------------------------


def test_an_empty_cart_costs_nothing() -> None:
    cart = _price([], DiscountSet("promo", [_fixed("five", "5.00")]))
    assert cart.lines == ()
    assert cart.total == _eur("0")
    assert cart.currency == "EUR"
    assert [s.reason for s in cart.skipped] == ["the cart is empty"]


def test_quantities_may_be_decimal_but_not_float_nor_negative() -> None:
    cart = _price([CartLineInput(_item("CABLE", "2.50"), "1.5")])
    assert cart.total == _eur("3.75")
    for bad in (-1, 0, "0", "abc", "NaN"):
        with pytest.raises(ValidationError) as caught:
            CartLineInput(_item("A"), _untyped(bad))
        assert caught.value.path == "quantity"
    with pytest.raises(ValidationError, match="floats are never quantities"):
        CartLineInput(_item("A"), _untyped(1.5))
    with pytest.raises(ValidationError, match="must be a PriceItem"):
        CartLineInput(_untyped("A"), 1)


def test_quantity_rules_are_checked_per_line() -> None:
    rules = [QuantityRule(sku=Sku("BOLT"), minimum=10, increment=5)]
    bolt = _item("BOLT")
    cart = price_cart(CTX, [_line(bolt, 15)], lists=[CATALOG], quantity_rules=rules)
    assert cart.total == _eur("150.00")
    with pytest.raises(QuantityRuleError) as caught:
        price_cart(CTX, [_line(bolt, 17)], lists=[CATALOG], quantity_rules=rules)
    assert (caught.value.lower, caught.value.higher) == (Decimal(15), Decimal(20))
    by_sku = {Sku("BOLT"): rules[0]}
    with pytest.raises(QuantityRuleError):
        price_cart(CTX, [_line(bolt, 5)], lists=[CATALOG], quantity_rules=by_sku)


def test_a_line_without_a_price_raises_no_price_with_the_explanation() -> None:
    with pytest.raises(NoPriceError) as caught:
        price_cart(CTX, [_line(_item("A"))], lists=[])
    assert caught.value.sku == "A"


def test_a_discount_in_another_currency_is_named() -> None:
    usd = CartDiscount(id="usd-off", name="USD", amount=Money("5.00", "USD"))
    with pytest.raises(ValidationError, match="discount 'usd-off' is in USD") as caught:
        _price(TWO_HUNDRED, DiscountSet("p", [usd]))
    assert caught.value.path == "discounts[0].discounts[0].amount"
    usd_threshold = _percent("t", "5", min_amount=Money("5", "USD"))
    with pytest.raises(ValidationError, match="discount 't' is in USD"):
        _price(TWO_HUNDRED, DiscountSet("p", [usd_threshold]))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of percent or amount"),
        ({"percent": 5, "amount": Money("1", "EUR")}, "exactly one of percent or amount"),
        ({"percent": 0}, "above 0 and at most 100"),
        ({"percent": "100.01"}, "above 0 and at most 100"),
        ({"percent": 1.5}, "floats are never quantities"),
        ({"amount": Money("0", "EUR")}, "must be positive"),
        ({"amount": Money("-1", "EUR")}, "must be positive"),
        ({"amount": "5"}, "must be Money"),
        ({"percent": 5, "min_amount": Money("-1", "EUR")}, "must not be negative"),
        ({"percent": 5, "min_quantity": -1}, "must not be negative"),
        ({"amount": Money("1", "EUR"), "min_amount": Money("1", "USD")}, "different currencies"),
        ({"percent": 5, "category": "not valid!"}, "not a valid identifier"),
    ],
)
def test_bad_discounts_are_rejected(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CartDiscount(id="d", name="D", **fields)


def test_bad_carts_are_rejected_with_a_path() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lines": "AB"}, "lines"),
        ({"lines": [_item("A")]}, "lines[0]"),
        ({"discounts": [_fixed("x", "1")]}, "discounts[0]"),
        ({"discounts": DiscountSet("p", [])}, "discounts"),
        (
            {"discounts": [DiscountSet("p", [_fixed("x", "1")]), DiscountSet("p", [])]},
            "discounts[1].id",
        ),
        (
            {
                "discounts": [
                    DiscountSet("p", [_fixed("x", "1")]),
                    DiscountSet("q", [_fixed("x", "2")]),
                ]
            },
            "discounts[1].discounts[0].id",
        ),
        ({"discounts": [DiscountSet("p", [_fixed("x", "1.005")])]}, "discounts[0].discounts[0]"),
        ({"lists": "list"}, "lists"),
        ({"policy": "lowest"}, "policy"),
        ({"rounding": "unit"}, "rounding"),
        ({"quantity_rules": [_item("A")]}, "quantity_rules[0]"),
        ({"context": "acme"}, "context"),
    ]
    for changes, path in cases:
        kwargs: dict[str, Any] = {
            "context": CTX,
            "lines": TWO_HUNDRED,
            "lists": [CATALOG],
            **changes,
        }
        context, lines = kwargs.pop("context"), kwargs.pop("lines")
        with pytest.raises(ValidationError) as caught:
            price_cart(context, lines, **kwargs)
        assert caught.value.path.startswith(path), (changes, caught.value.path)


def test_discount_sets_reject_repeated_ids_and_bad_members() -> None:
    with pytest.raises(ValidationError, match="used twice"):
        DiscountSet("p", [_fixed("x", "1"), _fixed("x", "2")])
    with pytest.raises(ValidationError, match="must be a CartDiscount"):
        DiscountSet("p", _untyped(["x"]))
    with pytest.raises(ValidationError, match="StackingMode"):
        DiscountSet("p", [], _untyped("best"))


def test_every_failure_is_a_b2bcore_error() -> None:
    with pytest.raises(B2BCoreError):
        price_cart(CTX, [_line(_item("A"))], lists=[], discounts=[])


def test_discount_kind_and_description() -> None:
    d = _percent("p", "12.5", min_amount=_eur("100"), min_quantity=3, category=CategoryId("c"))
    assert d.kind is DiscountKind.PERCENT
    assert d.describe() == "12.5% off from 100 EUR from 3 units in category c"
    assert _fixed("f", "5.00").kind is DiscountKind.FIXED
    assert _fixed("f", "5.00").describe() == "5.00 EUR off"
