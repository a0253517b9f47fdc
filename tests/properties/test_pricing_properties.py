"""Hypothesis properties of the pricing engine, on b2bcore's shipped strategies.

* the indexed resolver equals a brute-force oracle written here straight from the
  declared precedence (issue 4), winner and exact unit price, and raises
  NoPriceError exactly when the oracle finds nothing;
* the result does not depend on the order of the lists or of the rules in a list;
* with monotone tiers the unit price never rises with quantity;
* prices are never negative, and the quote is in the context's currency;
* every pricing model survives a JSON round trip;
* ``check_price_lists`` rejects exactly the sets with two rules that share
  currency, scope, target, window and priority;
* ``check_quantity`` accepts exactly the valid quantities and names the nearest
  valid ones otherwise;
* nothing depends on the thread's decimal context.
"""

from __future__ import annotations

import decimal
import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from b2bcore.errors import ConflictError
from b2bcore.ids import CompanyId, PriceListId, Sku
from b2bcore.money import Money, RoundingMode, RoundingPolicy, RoundingStage, minor_units
from b2bcore.pricing import (
    BaseKind,
    CartLineInput,
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
    PriceScope,
    QuantityRule,
    QuantityRuleError,
    RoundingStep,
    RuleTarget,
    TargetKind,
    check_price_lists,
    check_quantity,
    resolve_price,
)
from b2bcore.serialization import dumps, loads
from b2bcore.testing.strategies import (
    carts,
    formulas,
    price_contexts,
    price_items,
    price_lists,
    price_rules,
    price_scopes,
    price_tiers,
    quantity_rules,
    rule_targets,
)

# --- small pools, so that lists, items and buyers meet -------------------------------

SKUS = ("S1", "S2", "S3")
PRODUCTS = ("P1", "P2")
CATEGORIES = ("c1", "c2", "c3")
LIST_IDS = ("L0", "L1", "L2", "L3")
RULE_IDS = ("r1", "r2", "r3", "r4")
CURRENCIES = ("EUR", "JPY")
#: Mostly EUR, so that lists, items and buyers often share a currency.
WEIGHTED_CURRENCIES = ("EUR", "EUR", "EUR", "JPY")

_BERLIN = ZoneInfo("Europe/Berlin")
#: A coarse grid of instants, so windows start together, end where a context
#: stands (half-open edges) and the "later valid_from" step ties; two of them are
#: the same instant written in different zones.
GRID = (
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 4, 1, 2, tzinfo=_BERLIN),  # == 2026-04-01 00:00 UTC
    datetime(2026, 4, 1, tzinfo=UTC),
    datetime(2026, 7, 1, tzinfo=UTC),
    datetime(2026, 10, 1, 12, tzinfo=_BERLIN),
)
instants = st.sampled_from(GRID)

#: A buyer with every dimension set (April): each scope drawn from its ids matches.
BUYER = PriceContext(
    company_id=CompanyId("acme"),
    currency="EUR",
    at=GRID[2],
    business_unit_ids={"hq"},
    customer_groups={"dealers"},
    channel="web",
    country="DE",
)


def list_sets(
    *,
    derived: bool = True,
    monotone: bool = False,
    min_quantity_one: bool = False,
    currency: st.SearchStrategy[str] | None = None,
    scoped_to_buyer: bool = False,
) -> st.SearchStrategy[list[PriceList]]:
    """One to four lists with distinct ids over the small pools; with
    ``scoped_to_buyer`` every scope is one that :data:`BUYER` falls in, and
    targets come from even smaller pools."""
    pools: dict[str, tuple[str, ...]] = {
        "skus": SKUS,
        "products": PRODUCTS,
        "categories": CATEGORIES,
    }
    if scoped_to_buyer:
        # Few ids in play: equal buyer specificity, targets and starts are common,
        # so the later precedence steps get to decide.
        pools = {
            "companies": (BUYER.company_id,),
            "business_units": (),
            "customer_groups": (),
            "channels": (BUYER.channel or "web",),
            "countries": (),
            "skus": (),  # the mixed test covers SKU rules; here categories compete
            "products": PRODUCTS[:1],
            "categories": CATEGORIES[:2],
        }
    by_id = {
        list_id: price_lists(
            currency=st.sampled_from(WEIGHTED_CURRENCIES) if currency is None else currency,
            ids=st.just(list_id),
            base_lists=LIST_IDS if derived else (),
            rule_ids=st.sampled_from(RULE_IDS),
            datetimes=instants,
            min_quantities=st.just(Decimal(1)) if min_quantity_one else None,
            monotone_tiers=monotone,
            min_rules=1,
            max_rules=len(RULE_IDS),
            **pools,
        )
        for list_id in LIST_IDS
    }
    ids = st.lists(st.sampled_from(LIST_IDS), min_size=1, max_size=len(LIST_IDS), unique=True)
    return ids.flatmap(lambda chosen: st.tuples(*(by_id[i] for i in chosen)).map(list))


#: Buyers price from April on, so most lists have started (some end right then).
contexts = price_contexts(currencies=WEIGHTED_CURRENCIES, datetimes=st.sampled_from(GRID[1:]))
items = price_items(
    skus=SKUS,
    products=PRODUCTS,
    categories=CATEGORIES,
    currency=st.sampled_from(WEIGHTED_CURRENCIES),
)
quantities = st.integers(min_value=1, max_value=60).map(Decimal) | st.sampled_from(
    [Decimal("0.5"), Decimal("2.5"), Decimal("7.25")]
)
#: At least 1, the default minimum quantity of a rule.
whole_quantities = st.integers(min_value=1, max_value=60).map(Decimal) | st.sampled_from(
    [Decimal("2.5"), Decimal("7.25")]
)
policies = st.sampled_from(PricePolicy)


# --- the brute-force oracle -----------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@attrs.frozen
class Found:
    """An applicable (list, rule) with its exact unit price and precedence key."""

    list_id: str
    rule_id: str
    value: Fraction
    key: tuple[Any, ...]


def in_scope(scope: PriceScope, ctx: PriceContext) -> bool:
    """Every non-empty dimension of the scope matches the buyer."""
    return (
        (not scope.companies or ctx.company_id in scope.companies)
        and (not scope.business_units or bool(scope.business_units & ctx.business_unit_ids))
        and (not scope.customer_groups or bool(scope.customer_groups & ctx.customer_groups))
        and (not scope.channels or ctx.channel in scope.channels)
        and (not scope.countries or ctx.country in scope.countries)
    )


def buyer_specificity(scope: PriceScope) -> tuple[bool, ...]:
    """Which dimensions are set, company first: compared as tuples, the most specific
    set dimension decides, then the next ones."""
    return (
        bool(scope.companies),
        bool(scope.business_units),
        bool(scope.customer_groups),
        bool(scope.channels),
        bool(scope.countries),
    )


def target_match(target: RuleTarget, item: PriceItem) -> tuple[int, int] | None:
    """(rank SKU 3 > product 2 > category 1 > all 0, category depth) or None."""
    if target.kind is TargetKind.SKU:
        return (3, 0) if target.value == item.sku else None
    if target.kind is TargetKind.PRODUCT:
        return (2, 0) if item.product_id is not None and target.value == item.product_id else None
    if target.kind is TargetKind.CATEGORY:
        path: list[str] = list(item.category_path)
        return (1, path.index(target.value) + 1) if target.value in path else None
    return (0, 0)


def effective_start(pl: PriceList, rule: PriceRule) -> datetime:
    return pl.valid_from if rule.valid_from is None else max(pl.valid_from, rule.valid_from)


def precedence(pl: PriceList, rule: PriceRule, match: tuple[int, int]) -> tuple[Any, ...]:
    """Smaller is better: buyer, target, depth, priority, later start, list id, rule id."""
    start = (effective_start(pl, rule) - _EPOCH) // _MICROSECOND
    return (
        tuple(not dim for dim in buyer_specificity(pl.scope)),
        -match[0],
        -match[1],
        -pl.priority,
        -start,
        pl.id,
        rule.id,
    )


def round_to_integer(x: Fraction, mode: RoundingMode) -> int:
    """Round ``x`` to an integer the way :mod:`decimal` does for ``mode``."""
    low, high = math.floor(x), math.ceil(x)
    if low == high:
        return low
    toward_zero, away = (low, high) if x > 0 else (high, low)
    directed = {
        RoundingMode.DOWN: toward_zero,
        RoundingMode.UP: away,
        RoundingMode.FLOOR: low,
        RoundingMode.CEILING: high,
    }
    if mode in directed:
        return directed[mode]
    half = Fraction(1, 2)
    if x - low != half:
        return low if x - low < half else high
    if mode is RoundingMode.HALF_UP:
        return away
    if mode is RoundingMode.HALF_DOWN:
        return toward_zero
    return low if low % 2 == 0 else high


def round_step(value: Fraction, step: RoundingStep) -> Fraction:
    """To a multiple (decimal semantics), or to an ending (see :func:`round_to_ending`)."""
    if step.multiple is not None:
        m = Fraction(step.multiple)
        return round_to_integer(value / m, step.mode) * m
    assert step.ending is not None
    return round_to_ending(value, Fraction(step.ending), step.mode)


def round_to_ending(value: Fraction, ending: Fraction, mode: RoundingMode) -> Fraction:
    """The number with that ending below or above ``value`` (an ending below 1 repeats
    every 1, 9.99 every 10, 95 every 100): down/floor the one below, up/ceiling the
    one above, half modes the nearest (ties: up above, down below, even the one
    with an even number of periods); never below zero when ``value`` is not."""
    period = 1
    while ending >= period:
        period *= 10
    periods = math.floor((value - ending) / period)
    lower = periods * period + ending
    upper = lower if lower == value else lower + period
    if lower < 0 <= value:
        return upper  # a price is never rounded into a negative one (0.40 -> -0.01)
    below, above = value - lower, upper - value
    if below != above:
        nearest = lower if below < above else upper
    elif mode is RoundingMode.HALF_EVEN:
        nearest = lower if periods % 2 == 0 else upper
    else:
        nearest = lower if mode is RoundingMode.HALF_DOWN else upper
    directed = {
        RoundingMode.DOWN: lower,
        RoundingMode.FLOOR: lower,
        RoundingMode.UP: upper,
        RoundingMode.CEILING: upper,
    }
    return directed.get(mode, nearest)


def apply_formula(formula: Formula, base: Fraction, digits: int) -> Fraction:
    """base -> percent -> rounding -> surcharge -> margin clamp -> never negative."""
    value = base * (1 + Fraction(formula.percent) / 100)
    if formula.rounding is not None:
        value = round_step(value, formula.rounding)
    if formula.surcharge is not None:
        value += Fraction(formula.surcharge.amount)
    scale = 10**digits  # margin bounds are rounded inwards to minor units
    if formula.min_margin is not None:
        least = base * (1 + Fraction(formula.min_margin) / 100)
        value = max(value, Fraction(math.ceil(least * scale), scale))
    if formula.max_margin is not None:
        most = base * (1 + Fraction(formula.max_margin) / 100)
        value = min(value, Fraction(math.floor(most * scale), scale))
    return max(value, Fraction(0))


@attrs.frozen
class Oracle:
    """Every (list, rule) checked one by one; no index, no shortcuts."""

    lists: Sequence[PriceList]
    ctx: PriceContext
    item: PriceItem
    quantity: Decimal

    def applicable(self, *, only: str | None, visiting: frozenset[str]) -> list[Found]:
        """Filter by currency, list window, scope, rule window, min quantity, target.

        A derived price names its base list explicitly, so the base list's scope is
        not checked (its currency, windows and minimum quantities are).
        """
        at = self.ctx.at
        found: list[Found] = []
        for pl in self.lists:
            if only is not None and pl.id != only:
                continue
            if pl.currency != self.ctx.currency:
                continue
            if not (pl.valid_from <= at and (pl.valid_until is None or at < pl.valid_until)):
                continue
            if only is None and not in_scope(pl.scope, self.ctx):
                continue
            for rule in pl.rules:
                if rule.valid_from is not None and at < rule.valid_from:
                    continue
                if rule.valid_until is not None and at >= rule.valid_until:
                    continue
                if self.quantity < rule.min_quantity:
                    continue
                match = target_match(rule.target, self.item)
                if match is None:
                    continue
                value = self.price(pl, rule, visiting)
                if value is not None:
                    found.append(Found(pl.id, rule.id, value, precedence(pl, rule, match)))
        return found

    def price(self, pl: PriceList, rule: PriceRule, visiting: frozenset[str]) -> Fraction | None:
        """The rule's exact unit price (tier: highest min quantity <= quantity)."""
        reached = [t for t in rule.tiers if t.min_quantity <= self.quantity]
        tier = max(reached, key=lambda t: t.min_quantity) if reached else None
        price = rule.price if tier is None else tier.price
        formula = rule.formula if tier is None else tier.formula
        if price is not None:
            return Fraction(price.amount)
        assert formula is not None
        base = self.base(pl, formula, visiting)
        digits = minor_units(pl.currency)
        return None if base is None else apply_formula(formula, base, digits)

    def base(self, pl: PriceList, formula: Formula, visiting: frozenset[str]) -> Fraction | None:
        money: Money | None
        if formula.base is BaseKind.LIST_PRICE:
            money = self.item.list_price
        elif formula.base is BaseKind.COST:
            money = self.item.cost
        else:
            list_id = formula.base_list_id or pl.base_list_id
            if list_id is None or list_id in visiting:
                return None
            if list_id not in {other.id for other in self.lists}:
                return None
            inner = self.applicable(only=list_id, visiting=visiting | {pl.id})
            if not inner:
                return None
            return min(inner, key=lambda f: f.key).value
        if money is None or money.currency != pl.currency:
            return None
        return Fraction(money.amount)

    def winner(self, policy: PricePolicy) -> Found | None:
        """MOST_SPECIFIC: the smallest key; LOWEST: the lowest price, then the key."""
        found = self.applicable(only=None, visiting=frozenset())
        if not found:
            return None
        if policy is PricePolicy.LOWEST:  # what the buyer pays: the rounded unit price
            digits = minor_units(self.ctx.currency)
            return min(found, key=lambda f: (half_up(f.value, digits), f.key))
        return min(found, key=lambda f: f.key)


def half_up(value: Fraction, digits: int) -> Fraction:
    scale = 10**digits
    return Fraction(round_to_integer(value * scale, RoundingMode.HALF_UP), scale)


def outcome(
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    lists: Sequence[PriceList] | PriceIndex,
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
) -> tuple[PriceQuote | None, object]:
    """The quote (None on NoPriceError) and the explanation either way."""
    given_lists = lists if isinstance(lists, PriceIndex) else list(lists)
    try:
        quote = resolve_price(ctx, item, quantity, lists=given_lists, policy=policy)
    except NoPriceError as e:
        return None, e.explanation
    return quote, quote.explanation


def quote_or_none(
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    lists: Sequence[PriceList],
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
) -> PriceQuote | None:
    return outcome(ctx, item, quantity, lists, policy)[0]


# --- (a) the resolver equals the oracle ----------------------------------------------


def assert_engine_equals_oracle(
    lists: list[PriceList],
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    policy: PricePolicy,
) -> None:
    """Same winner, same exact and rounded unit price, NoPriceError iff no winner."""
    oracle = Oracle(lists, ctx, item, quantity)
    # Steer the search towards sets where several rules apply and where precedence
    # is decided late (equal buyer and target specificity, then priority, ...).
    found = sorted(oracle.applicable(only=None, visiting=frozenset()), key=lambda f: f.key)
    target(float(len(found)), label="applicable rules")
    if len(found) > 1:
        first, second = found[0].key, found[1].key
        deciding = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
        target(float(deciding), label="deciding precedence step")
    expected = oracle.winner(policy)
    quote, explanation = outcome(ctx, item, quantity, lists, policy)
    assert isinstance(explanation, PriceExplanation)
    if quote is None:
        assert expected is None, f"oracle found {expected}; engine: {explanation.text()}"
        assert explanation.winner is None
        return
    assert expected is not None, f"engine found a price the oracle did not: {quote}"
    assert (quote.price_list_id, quote.rule_id) == (expected.list_id, expected.rule_id), (
        quote.explanation.text()
    )
    winner = quote.explanation.winner
    assert winner is not None
    assert winner.unit_price is not None
    assert Fraction(winner.unit_price.amount) == expected.value
    digits = minor_units(ctx.currency)
    unit = half_up(expected.value, digits)
    assert Fraction(quote.unit_price.amount) == unit
    assert Fraction(quote.line_total.amount) == half_up(unit * Fraction(quantity), digits)


@settings(max_examples=300)
@given(list_sets(), contexts, items, quantities, policies)
def test_resolver_equals_brute_force_oracle(
    lists: list[PriceList],
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    policy: PricePolicy,
) -> None:
    assert_engine_equals_oracle(lists, ctx, item, quantity, policy)


#: SKU S1 of product P1 (or of none) two categories deep, with list price and cost, so
#: that SKU, product and both category rules can all match it.
deep_items = st.builds(
    attrs.evolve,
    price_items(skus=SKUS[:1], products=PRODUCTS[:1], currency="EUR", allow_missing=False),
    category_path=st.permutations(CATEGORIES[:2]).map(tuple),
)


@settings(max_examples=300)
@given(
    list_sets(currency=st.just("EUR"), scoped_to_buyer=True),
    st.sampled_from(GRID[1:]).map(lambda at: attrs.evolve(BUYER, at=at)),
    deep_items,
    quantities,
    policies,
)
def test_resolver_equals_oracle_when_every_scope_fits_the_buyer(
    lists: list[PriceList],
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    policy: PricePolicy,
) -> None:
    # Most rules apply here, so the precedence steps decide far more often.
    assert_engine_equals_oracle(lists, ctx, item, quantity, policy)


#: List prices and percentages on a coarse grid, so rounding ties come up often.
coarse_prices = st.integers(min_value=0, max_value=4000).map(
    lambda n: Money(Decimal(n).scaleb(-2), "EUR")
)
coarse_formulas = st.builds(
    Formula,
    percent=st.sampled_from([Decimal(p) for p in ("0", "-10", "-12.5", "-50", "10", "25")]),
    rounding=st.none()
    | st.builds(
        RoundingStep,
        multiple=st.sampled_from([Decimal(m) for m in ("0.05", "0.1", "0.5", "1", "5")]),
        mode=st.sampled_from(RoundingMode),
    )
    | st.builds(
        RoundingStep,
        ending=st.sampled_from([Decimal(e) for e in ("0.99", "0.95", "0.5", "0")]),
        mode=st.sampled_from(RoundingMode),
    ),
    surcharge=st.none() | st.integers(-500, 500).map(lambda n: Money(Decimal(n).scaleb(-2), "EUR")),
    min_margin=st.none() | st.sampled_from([Decimal(m) for m in ("-20", "0", "5")]),
    max_margin=st.none() | st.sampled_from([Decimal(m) for m in ("5", "10", "30")]),
)


@given(coarse_formulas, coarse_prices)
def test_formulas_equal_the_oracle_step_by_step(formula: Formula, list_price: Money) -> None:
    pl = PriceList(
        id=PriceListId("list"),
        name="List",
        currency="EUR",
        valid_from=GRID[0],
        rules=[PriceRule(id="all", target=RuleTarget.all(), formula=formula)],
    )
    item = PriceItem(sku=Sku("S1"), list_price=list_price)
    quote = resolve_price(attrs.evolve(BUYER, at=GRID[3]), item, 1, lists=[pl])
    winner = quote.explanation.winner
    assert winner is not None
    assert winner.unit_price is not None
    assert Fraction(winner.unit_price.amount) == apply_formula(
        formula, Fraction(list_price.amount), minor_units(list_price.currency)
    )


# --- (b) order does not matter --------------------------------------------------------


@given(list_sets(), contexts, items, quantities, st.data())
def test_result_is_invariant_under_shuffling_lists_and_rules(
    lists: list[PriceList],
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    data: st.DataObject,
) -> None:
    policy = data.draw(policies)
    shuffled = [
        attrs.evolve(pl, rules=data.draw(st.permutations(pl.rules)))
        for pl in data.draw(st.permutations(lists))
    ]
    first, first_explanation = outcome(ctx, item, quantity, lists, policy)
    second, second_explanation = outcome(ctx, item, quantity, shuffled, policy)
    assert second == first
    assert second_explanation == first_explanation


@given(list_sets(), st.lists(st.tuples(contexts, items, quantities), min_size=1, max_size=6))
def test_a_reused_index_answers_like_fresh_lists(
    lists: list[PriceList], lookups: list[tuple[PriceContext, PriceItem, Decimal]]
) -> None:
    # An index is built once and reused for every line: whatever it remembers
    # between lookups (per context, per list, per SKU: a SKU's first, second and
    # later lines take different paths) must not change an answer.
    index = PriceIndex(lists)
    for policy in PricePolicy:
        for ctx, item, quantity in [*lookups, *reversed(lookups), *lookups]:
            assert outcome(ctx, item, quantity, index, policy) == outcome(
                ctx, item, quantity, lists, policy
            )


@given(
    list_sets(),
    st.lists(
        st.tuples(contexts, items, st.integers(min_value=1, max_value=60)), min_size=1, max_size=4
    ),
    st.sampled_from(RoundingStage),
)
def test_a_whole_quantity_given_as_int_prices_like_its_decimal(
    lists: list[PriceList],
    lookups: list[tuple[PriceContext, PriceItem, int]],
    stage: RoundingStage,
) -> None:
    # An int quantity takes shortcuts (a fixed price in minor units times a whole
    # number is rounded already): the amounts must keep the very same digits.
    index = PriceIndex(lists)
    rounding = RoundingPolicy(RoundingMode.HALF_UP, stage)
    for ctx, item, quantity in [*lookups, *lookups, *lookups]:
        quotes: list[tuple[PriceQuote, str, str] | None] = []
        for given_quantity, given_lists in ((quantity, index), (Decimal(quantity), lists)):
            try:
                quote = resolve_price(
                    ctx, item, given_quantity, lists=given_lists, rounding=rounding
                )
            except NoPriceError:
                quotes.append(None)
            else:
                quotes.append((quote, str(quote.unit_price.amount), str(quote.line_total.amount)))
        assert quotes[0] == quotes[1]


# --- (c) monotone tiers: the unit price never rises with quantity ----------------------


@given(
    list_sets(derived=False, monotone=True, min_quantity_one=True),
    contexts,
    items,
    st.lists(whole_quantities, min_size=2, max_size=4),
)
def test_unit_price_never_rises_with_quantity_most_specific(
    lists: list[PriceList], ctx: PriceContext, item: PriceItem, qs: list[Decimal]
) -> None:
    quotes = [quote_or_none(ctx, item, q, lists) for q in sorted(qs)]
    if quotes[0] is None:
        assert all(q is None for q in quotes)
        return
    prices = [q.unit_price for q in quotes if q is not None]
    assert len(prices) == len(quotes), "a rule without minimum quantity applies at any quantity"
    assert all(b <= a for a, b in itertools.pairwise(prices))


@given(
    list_sets(derived=False, monotone=True),
    contexts,
    items,
    st.lists(quantities, min_size=2, max_size=4),
)
def test_lowest_unit_price_never_rises_with_quantity(
    lists: list[PriceList], ctx: PriceContext, item: PriceItem, qs: list[Decimal]
) -> None:
    # Under LOWEST, a larger quantity only adds candidates (minimum quantities) and
    # moves each to a cheaper tier, so even varying minimum quantities keep it monotone.
    previous: Money | None = None
    for q in sorted(qs):
        quote = quote_or_none(ctx, item, q, lists, PricePolicy.LOWEST)
        if previous is not None:
            assert quote is not None
            assert quote.unit_price <= previous
        if quote is not None:
            previous = quote.unit_price


# --- (d) never negative, (e) currency preserved ----------------------------------------


@given(list_sets(), contexts, items, quantities, policies)
def test_prices_are_never_negative_and_in_the_context_currency(
    lists: list[PriceList],
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    policy: PricePolicy,
) -> None:
    quote = quote_or_none(ctx, item, quantity, lists, policy)
    if quote is None:
        return
    assert not quote.unit_price.is_negative()
    assert not quote.line_total.is_negative()
    for candidate in quote.explanation.candidates:
        assert candidate.unit_price is None or not candidate.unit_price.is_negative()
    assert quote.currency == ctx.currency
    assert quote.unit_price.currency == quote.line_total.currency == ctx.currency
    assert quote.explanation.currency == ctx.currency
    (winning_list,) = [pl for pl in lists if pl.id == quote.price_list_id]
    assert winning_list.currency == ctx.currency


# --- nothing depends on the thread's decimal context ----------------------------------


@given(list_sets(), contexts, items, quantities, policies)
def test_pricing_ignores_the_threads_decimal_context(
    lists: list[PriceList],
    ctx: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    policy: PricePolicy,
) -> None:
    expected = quote_or_none(ctx, item, quantity, lists, policy)
    with decimal.localcontext(prec=3, rounding=decimal.ROUND_DOWN):
        got = quote_or_none(ctx, item, quantity, lists, policy)
    assert got == expected
    if got is not None and expected is not None:
        assert got.explanation == expected.explanation


# --- (f) serialization round trip -----------------------------------------------------


ROUND_TRIPS: list[tuple[str, st.SearchStrategy[Any], type[Any]]] = [
    ("PriceList", price_lists(base_lists=("base",)), PriceList),
    ("PriceRule", price_rules(base_lists=("base",)), PriceRule),
    ("PriceContext", price_contexts(currencies=CURRENCIES), PriceContext),
    ("PriceItem", price_items(currency=None), PriceItem),
    ("PriceScope", price_scopes(), PriceScope),
    ("RuleTarget", rule_targets(), RuleTarget),
    ("Formula", formulas(base_lists=("base",)), Formula),
    ("QuantityRule", quantity_rules(), QuantityRule),
]


@pytest.mark.parametrize(
    ("strategy", "cls"), [(s, c) for _, s, c in ROUND_TRIPS], ids=[n for n, _, _ in ROUND_TRIPS]
)
@given(data=st.data())
def test_pricing_models_round_trip_through_json(
    strategy: st.SearchStrategy[Any], cls: type[Any], data: st.DataObject
) -> None:
    value = data.draw(strategy)
    text = dumps(value)
    back = loads(text, cls)
    assert back == value
    assert dumps(back) == text


@given(price_tiers("KWD"))
def test_price_tiers_round_trip_and_increase(tiers: list[Any]) -> None:
    quantities_ = [t.min_quantity for t in tiers]
    assert quantities_ == sorted(set(quantities_))
    for tier in tiers:
        assert loads(dumps(tier), type(tier)) == tier


# --- (g) write-time conflict check ----------------------------------------------------


def clash_key(pl: PriceList, rule: PriceRule) -> tuple[Any, ...]:
    """What makes two rules ambiguous: currency, scope, target, the window in which
    the rule actually applies (list window ∩ rule window) and priority."""
    ends = [e for e in (pl.valid_until, rule.valid_until) if e is not None]
    return (
        pl.currency,
        pl.scope,
        rule.target,
        effective_start(pl, rule),
        min(ends) if ends else None,
        pl.priority,
    )


@given(list_sets(derived=False))
def test_check_price_lists_rejects_exactly_the_clashes(lists: list[PriceList]) -> None:
    keys = [clash_key(pl, rule) for pl in lists for rule in pl.rules]
    clashes = len(keys) != len(set(keys))
    if clashes:
        with pytest.raises(ConflictError):
            check_price_lists(lists)
    else:
        check_price_lists(lists)


def test_check_price_lists_names_both_rules_of_an_explicit_clash() -> None:
    jan = datetime(2026, 1, 1, tzinfo=UTC)
    scope = PriceScope(companies={"acme"})
    one = PriceList(
        id=PriceListId("contract-a"),
        name="A",
        currency="EUR",
        valid_from=jan,
        scope=scope,
        priority=1,
        rules=[PriceRule(id="pumps", target=RuleTarget.category("pumps"), price=Money(9, "EUR"))],
    )
    # Same scope, target, window and priority in another list: the winner would be
    # decided by list id alone.
    two = PriceList(
        id=PriceListId("contract-b"),
        name="B",
        currency="EUR",
        valid_from=datetime(2026, 1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")),  # == jan
        scope=PriceScope(companies={"acme"}),
        priority=1,
        rules=[
            PriceRule(id="all-pumps", target=RuleTarget.category("pumps"), price=Money(8, "EUR"))
        ],
    )
    check_price_lists([one])
    check_price_lists([two])
    with pytest.raises(ConflictError) as caught:
        check_price_lists([two, one])
    assert "contract-a/pumps" in str(caught.value)
    assert "contract-b/all-pumps" in str(caught.value)
    # A different priority, window or currency removes the ambiguity.
    check_price_lists([one, attrs.evolve(two, priority=2)])
    check_price_lists([one, attrs.evolve(two, valid_until=datetime(2027, 1, 1, tzinfo=UTC))])


# --- (h) quantity rules ---------------------------------------------------------------


def is_valid_quantity(rule: QuantityRule, q: Fraction) -> bool:
    steps = (q - Fraction(rule.minimum)) / Fraction(rule.increment)
    return (
        q >= Fraction(rule.minimum)
        and steps.denominator == 1
        and (rule.maximum is None or q <= Fraction(rule.maximum))
    )


def valid_quantities_up_to(rule: QuantityRule, limit: Fraction) -> list[Fraction]:
    low, step = Fraction(rule.minimum), Fraction(rule.increment)
    top = limit if rule.maximum is None else min(limit, Fraction(rule.maximum))
    count = math.floor((top - low) / step) + 1 if top >= low else 0
    return [low + k * step for k in range(count)]


@given(quantity_rules(), st.integers(min_value=0, max_value=30))
def test_every_valid_quantity_passes(rule: QuantityRule, k: int) -> None:
    q = rule.minimum + k * rule.increment
    if rule.maximum is not None and q > rule.maximum:
        return
    assert check_quantity(rule, q) == q


positive_quantities = st.integers(min_value=1, max_value=40_000).map(
    lambda n: Decimal(n).scaleb(-2)
) | st.integers(min_value=1, max_value=10**6).map(lambda n: Decimal(n) + Decimal("0.5"))


@given(quantity_rules(), positive_quantities)
def test_invalid_quantities_name_the_nearest_valid_ones(rule: QuantityRule, q: Decimal) -> None:
    fq = Fraction(q)
    if is_valid_quantity(rule, fq):
        assert check_quantity(rule, q) == q
        return
    with pytest.raises(QuantityRuleError) as caught:
        check_quantity(rule, q)
    err = caught.value
    assert err.sku == rule.sku
    assert err.quantity == q
    assert err.lower is not None or err.higher is not None
    valid = valid_quantities_up_to(rule, max(fq, Fraction(rule.minimum)) + Fraction(rule.increment))
    below = [v for v in valid if v < fq]
    above = [v for v in valid if v > fq]
    assert err.lower == (max(below) if below else None)
    assert err.higher == (min(above) if above else None)
    for named in (err.lower, err.higher):
        if named is not None:
            assert is_valid_quantity(rule, Fraction(named))
            assert check_quantity(rule, named) == named


@given(quantity_rules(), positive_quantities)
def test_check_quantity_ignores_the_threads_decimal_context(rule: QuantityRule, q: Decimal) -> None:
    valid = is_valid_quantity(rule, Fraction(q))
    with decimal.localcontext(prec=3, rounding=decimal.ROUND_DOWN):
        try:
            check_quantity(rule, q)
        except QuantityRuleError:
            accepted = False
        else:
            accepted = True
    assert accepted == valid


# --- the shipped strategies keep their promises ----------------------------------------


@given(list_sets())
def test_generated_lists_are_valid_with_distinct_rule_ids(lists: list[PriceList]) -> None:
    for pl in lists:
        assert len({r.id for r in pl.rules}) == len(pl.rules)
        assert pl.base_list_id != pl.id
        assert all(t.min_quantity > 0 for r in pl.rules for t in r.tiers)
        assert attrs.evolve(pl) == pl  # revalidates: passes PriceList validation


@given(price_items(currency="KWD"))
def test_generated_items_have_root_first_paths_in_the_currency(item: PriceItem) -> None:
    assert len(set(item.category_path)) == len(item.category_path)
    for money in (item.list_price, item.cost):
        assert money is None or (money.currency == "KWD" and not money.is_negative())


@given(carts(price_items(currency="JPY")))
def test_generated_carts_have_one_line_per_sku(lines: list[CartLineInput]) -> None:
    assert lines
    skus = [line.item.sku for line in lines]
    assert len(set(skus)) == len(skus)
    assert all(line.quantity > 0 for line in lines)
    assert all(
        line.item.list_price is None or line.item.list_price.currency == "JPY" for line in lines
    )
