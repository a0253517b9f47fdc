"""Hypothesis properties of cart pricing: the lines add up to the total to the last
minor unit, nothing goes below zero, the currency is kept, and the result depends
neither on the order of the lines nor on the order of the discounts in a BEST set.

The strategies are local: random catalogs (list prices with up to three extra
decimals, so the TOTAL stage has exact lines to round), tiered rules on every tier
basis, carts over a small SKU pool (so SKUs, products and categories repeat), and
discount sets of every stacking mode with random thresholds and categories.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.ids import CategoryId, CompanyId, PriceListId, ProductId, Sku
from b2bcore.money import Money, RoundingMode, RoundingPolicy, RoundingStage, minor_units
from b2bcore.pricing import (
    CartDiscount,
    CartLineInput,
    CartPrice,
    DiscountSet,
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceRule,
    PriceTier,
    RuleTarget,
    StackingMode,
    TierBasis,
    price_cart,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 4, tzinfo=UTC)
CURRENCIES = ("EUR", "JPY", "KWD")

#: The SKU pool: (sku, product, category path). Products and categories repeat.
POOL = (
    ("A1", "A", ("fluid", "pumps")),
    ("A2", "A", ("fluid", "pumps")),
    ("B1", "B", ("fluid", "pumps", "seals")),
    ("C1", "C", ("fluid", "valves")),
    ("D1", None, ("tools",)),
    ("E1", None, ()),
)
CATEGORIES = ("fluid", "pumps", "seals", "valves", "tools", "nowhere")

_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact])


def _scaled(n: int, digits: int) -> Decimal:
    return _EXACT.scaleb(Decimal(n), -digits)


@st.composite
def amounts(draw: st.DrawFn, currency: str, *, low: int, high: int, extra: int = 0) -> Money:
    """Money between ``low`` and ``high`` whole units, with up to ``extra`` decimals more
    than the currency has."""
    digits = minor_units(currency) + draw(st.integers(min_value=0, max_value=extra))
    n = draw(st.integers(min_value=low * 10**digits, max_value=high * 10**digits))
    return Money(_scaled(n, digits), currency)


@st.composite
def catalogs(draw: st.DrawFn, currency: str) -> tuple[list[PriceItem], list[PriceList]]:
    """Items for the pool and price lists: list price for all, plus random tiered rules."""
    items = [
        PriceItem(
            sku=Sku(sku),
            product_id=None if product is None else ProductId(product),
            category_path=[CategoryId(c) for c in path],
            list_price=draw(amounts(currency, low=0, high=300, extra=3)),
        )
        for sku, product, path in POOL
    ]
    base = PriceList(
        id=PriceListId("list"),
        name="List",
        currency=currency,
        valid_from=JAN,
        rules=[
            PriceRule(
                id="all",
                target=RuleTarget.all(),
                formula=Formula(percent=draw(st.sampled_from(["0", "-12.345", "7.5"]))),
            )
        ],
    )
    targets = st.one_of(
        st.sampled_from([s for s, _, _ in POOL]).map(RuleTarget.sku),
        st.sampled_from(["A", "B", "C"]).map(RuleTarget.product),
        st.sampled_from(CATEGORIES[:5]).map(RuleTarget.category),
    )
    rules = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        mins = sorted(set(draw(st.lists(st.integers(1, 40), min_size=1, max_size=3))))
        rules.append(
            PriceRule(
                id=f"r{i}",
                target=draw(targets),
                price=draw(amounts(currency, low=0, high=300, extra=2)),
                tier_basis=draw(st.sampled_from(list(TierBasis))),
                tiers=[
                    PriceTier(
                        min_quantity=m, price=draw(amounts(currency, low=0, high=300, extra=2))
                    )
                    for m in mins
                ],
            )
        )
    tiered = PriceList(
        id=PriceListId("tiers"),
        name="Tiers",
        currency=currency,
        valid_from=JAN,
        priority=1,
        rules=rules,
    )
    return items, [base, tiered]


quantities = st.one_of(
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=10, max_value=300).map(lambda n: _scaled(n, 1)),
)


@st.composite
def discount_sets(draw: st.DrawFn, currency: str) -> list[DiscountSet]:
    """Up to three sets of up to three discounts each, every mode, unique ids."""
    sets = []
    counter = 0
    for s in range(draw(st.integers(min_value=0, max_value=3))):
        discounts = []
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            counter += 1
            if draw(st.booleans()):
                kind: dict[str, object] = {
                    "percent": _scaled(draw(st.integers(min_value=1, max_value=10_000)), 2)
                }
            else:
                kind = {"amount": draw(amounts(currency, low=0, high=400))}
                if kind["amount"] == Money.zero(currency):
                    kind = {"percent": Decimal(5)}
            discounts.append(
                CartDiscount(
                    id=f"d{counter}",
                    name=f"Discount {counter}",
                    min_amount=draw(st.none() | amounts(currency, low=0, high=800)),
                    min_quantity=draw(st.none() | st.integers(min_value=0, max_value=40)),
                    category=draw(st.none() | st.sampled_from(CATEGORIES).map(CategoryId)),
                    **kind,  # type: ignore[arg-type]
                )
            )
        sets.append(DiscountSet(f"s{s}", discounts, draw(st.sampled_from(list(StackingMode)))))
    return sets


roundings = st.builds(
    RoundingPolicy, st.sampled_from(list(RoundingMode)), st.sampled_from(list(RoundingStage))
)


@attrs.frozen
class Scenario:
    """One random cart with everything needed to price it."""

    context: PriceContext
    lines: list[CartLineInput]
    lists: list[PriceList]
    sets: list[DiscountSet]
    rounding: RoundingPolicy
    policy: PricePolicy

    def price(
        self,
        lines: Sequence[CartLineInput] | None = None,
        sets: Sequence[DiscountSet] | None = None,
    ) -> CartPrice:
        return price_cart(
            self.context,
            self.lines if lines is None else lines,
            lists=self.lists,
            discounts=self.sets if sets is None else sets,
            policy=self.policy,
            rounding=self.rounding,
        )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    currency = draw(st.sampled_from(CURRENCIES))
    items, lists = draw(catalogs(currency))
    lines = draw(
        st.lists(
            st.builds(CartLineInput, st.sampled_from(items), quantities), min_size=0, max_size=8
        )
    )
    return Scenario(
        context=PriceContext(company_id=CompanyId("acme"), currency=currency, at=MAY),
        lines=lines,
        lists=lists,
        sets=draw(discount_sets(currency)),
        rounding=draw(roundings),
        policy=draw(st.sampled_from(list(PricePolicy))),
    )


def _by_sku(cart: CartPrice) -> dict[str, tuple[Money, Money]]:
    """Per SKU: the summed gross and net."""
    out: dict[str, tuple[Money, Money]] = {}
    for line in cart.lines:
        gross, net = out.get(line.sku, (Money.zero(cart.currency), Money.zero(cart.currency)))
        out[line.sku] = (gross + line.gross, net + line.net)
    return out


@given(scenarios())
def test_the_lines_add_up_to_the_total_exactly(scenario: Scenario) -> None:
    cart = scenario.price()
    currency = scenario.context.currency
    zero = Money.zero(currency)
    assert sum((line.net for line in cart.lines), zero) == cart.total
    assert sum((line.gross for line in cart.lines), zero) == cart.subtotal
    assert sum((line.discount for line in cart.lines), zero) == cart.discount_total
    assert cart.total == cart.subtotal - cart.discount_total + cart.rounding
    for applied in cart.discounts:
        assert applied.amount.amount > 0
        assert applied.amount <= applied.base
        shares = [line.discount_for(applied.discount_id) for line in cart.lines]
        assert sum(shares, zero) == applied.amount
    if scenario.rounding.stage is not RoundingStage.TOTAL:
        assert cart.rounding.is_zero()


@given(scenarios())
def test_nothing_goes_below_zero_and_the_currency_is_kept(scenario: Scenario) -> None:
    cart = scenario.price()
    currency = scenario.context.currency
    assert cart.currency == currency
    assert not cart.total.is_negative()
    assert cart.total.is_rounded()
    money = [cart.total, cart.subtotal, cart.discount_total, cart.rounding]
    for line in cart.lines:
        assert not line.net.is_negative()
        assert line.net.is_rounded()
        assert line.net <= line.gross + line.rounding
        money += [line.gross, line.net, line.rounding, line.quote.unit_price]
        money += [d.amount for d in line.discounts]
    money += [d.amount for d in cart.discounts] + [d.base for d in cart.discounts]
    assert {m.currency for m in money} == {currency}


@given(scenarios(), st.data())
def test_the_order_of_the_lines_does_not_matter(scenario: Scenario, data: st.DataObject) -> None:
    cart = scenario.price()
    shuffled = data.draw(st.permutations(scenario.lines))
    again = scenario.price(lines=shuffled)
    assert again.total == cart.total
    assert again.discounts == cart.discounts
    assert _by_sku(again) == _by_sku(cart)


@given(scenarios(), st.data())
def test_the_order_inside_a_best_set_does_not_matter(
    scenario: Scenario, data: st.DataObject
) -> None:
    cart = scenario.price()
    sets = [
        attrs.evolve(s, discounts=data.draw(st.permutations(s.discounts)))
        if s.mode is StackingMode.BEST
        else s
        for s in scenario.sets
    ]
    again = scenario.price(sets=sets)
    assert again.total == cart.total
    assert again.discounts == cart.discounts
    assert _by_sku(again) == _by_sku(cart)


@given(scenarios())
def test_without_discounts_unit_and_line_stages_charge_the_quotes(scenario: Scenario) -> None:
    if scenario.rounding.stage is RoundingStage.TOTAL:
        scenario = attrs.evolve(
            scenario, rounding=RoundingPolicy(scenario.rounding.mode, RoundingStage.LINE)
        )
    cart = scenario.price(sets=[])
    assert [line.net for line in cart.lines] == [line.quote.line_total for line in cart.lines]
    assert cart.total == cart.subtotal
