"""Hypothesis properties of b2bcore.money: exact arithmetic, rounding, allocation."""

from __future__ import annotations

import decimal
import functools
import operator
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from b2bcore.money import Money, RoundingMode, RoundingPolicy, allocate, minor_units

# Local strategies (a shared b2bcore.testing.strategies module is on its way).

CURRENCIES = ("JPY", "VND", "EUR", "USD", "KWD", "BHD", "CHF")
HALF_MODES = (RoundingMode.HALF_UP, RoundingMode.HALF_EVEN, RoundingMode.HALF_DOWN)
DIRECTED_MODES = (RoundingMode.UP, RoundingMode.DOWN, RoundingMode.CEILING, RoundingMode.FLOOR)

#: Exact reference arithmetic for the checks: wide, and traps anything inexact.
_REF = decimal.Context(
    prec=200, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow]
)

currencies = st.sampled_from(CURRENCIES)
units = st.integers(min_value=-(10**12), max_value=10**12)


def _scaled(n: int, digits: int) -> Decimal:
    """``n * 10**-digits``, exactly."""
    return _REF.scaleb(Decimal(n), -digits)


@st.composite
def amounts(draw: st.DrawFn, currency: str, *, rounded: bool = False) -> Money:
    """Money in ``currency``; unless ``rounded``, with up to 3 decimals beyond minor units."""
    extra = 0 if rounded else draw(st.integers(min_value=0, max_value=3))
    return Money(_scaled(draw(units), minor_units(currency) + extra), currency)


@st.composite
def same_currency(draw: st.DrawFn, n: int, *, rounded: bool = False) -> list[Money]:
    """``n`` amounts sharing one currency."""
    currency = draw(currencies)
    return [draw(amounts(currency, rounded=rounded)) for _ in range(n)]


@st.composite
def money_lists(draw: st.DrawFn) -> list[Money]:
    currency = draw(currencies)
    return draw(st.lists(amounts(currency), min_size=1, max_size=12))


monies = currencies.flatmap(amounts)
factors = st.builds(
    _scaled, st.integers(min_value=-10_000, max_value=10_000), st.integers(min_value=0, max_value=4)
)
policies = st.builds(RoundingPolicy, st.sampled_from(list(RoundingMode)))

int_weights = st.integers(min_value=0, max_value=1_000).map(Decimal)
decimal_weights = st.builds(
    _scaled, st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=3)
)
weight_lists = st.lists(st.one_of(int_weights, decimal_weights), min_size=1, max_size=8).filter(
    lambda ws: any(not w.is_zero() for w in ws)
)


def _unit(digits: int) -> Decimal:
    return _REF.scaleb(Decimal(1), -digits)


def _ref_sub(a: Decimal, b: Decimal) -> Decimal:
    return _REF.subtract(a, b)


# -- addition ---------------------------------------------------------------------------


@given(same_currency(2))
def test_addition_is_commutative(pair: list[Money]) -> None:
    a, b = pair
    assert a + b == b + a
    assert repr(a + b) == repr(b + a)
    assert (a + b).amount == _REF.add(a.amount, b.amount)
    assert (a + b).currency == a.currency


@given(same_currency(3))
def test_addition_is_associative(triple: list[Money]) -> None:
    a, b, c = triple
    assert (a + b) + c == a + (b + c)
    assert ((a + b) + c).amount == _REF.add(_REF.add(a.amount, b.amount), c.amount)


@given(monies)
def test_adding_the_negation_gives_zero(a: Money) -> None:
    assert (a + (-a)).is_zero()
    assert a + (-a) == Money.zero(a.currency)
    assert (a - a).is_zero()
    negated = -a
    assert -negated == a
    assert abs(a) == (a if not a.is_negative() else -a)


@given(same_currency(2))
def test_subtraction_is_adding_the_negation(pair: list[Money]) -> None:
    a, b = pair
    assert a - b == a + (-b)
    assert (a - b).amount == _ref_sub(a.amount, b.amount)


@given(money_lists())
def test_sum_is_a_left_fold(items: list[Money]) -> None:
    zero = Money.zero(items[0].currency)
    folded = functools.reduce(operator.add, items, zero)
    assert sum(items) == folded
    assert sum(items, zero) == folded
    assert folded.amount == functools.reduce(_REF.add, (m.amount for m in items), Decimal(0))


# -- multiplication and rounding --------------------------------------------------------


def _is_tie(value: Decimal, digits: int) -> bool:
    """Whether ``value`` lies exactly halfway between two multiples of 10**-digits."""
    scaled = _REF.scaleb(value, digits)
    frac = _ref_sub(scaled, scaled.to_integral_value(rounding=decimal.ROUND_FLOOR))
    return frac == Decimal("0.5")


@given(monies, factors)
def test_half_even_and_half_up_differ_only_on_ties(a: Money, k: Decimal) -> None:
    exact = a * k
    assert exact.amount == _REF.multiply(a.amount, k)
    d = exact.minor_units
    half_even = exact.round(RoundingPolicy(RoundingMode.HALF_EVEN))
    half_up = exact.round(RoundingPolicy(RoundingMode.HALF_UP))
    if half_even != half_up:
        assert _is_tie(exact.amount, d)
    if _is_tie(exact.amount, d):
        # HALF_UP goes away from zero, HALF_EVEN to the even neighbour.
        assert abs(half_up) > abs(exact)
        last_digit = int(_REF.scaleb(half_even.amount, d)) % 2
        assert last_digit == 0
    else:
        assert half_even == half_up


@given(currencies, units)
def test_half_modes_on_exact_ties(currency: str, n: int) -> None:
    # The value halfway between the multiples n and n+1 (n<0: n and n-1) of one minor unit.
    d = minor_units(currency)
    sign = -1 if n < 0 else 1
    tie = Money(_scaled(sign * (abs(n) * 10 + 5), d + 1), currency)
    toward_zero, away = Money(_scaled(n, d), currency), Money(_scaled(n + sign, d), currency)
    half_even = tie.round(RoundingPolicy(RoundingMode.HALF_EVEN))
    assert tie.round(RoundingPolicy(RoundingMode.HALF_UP)) == away
    assert tie.round(RoundingPolicy(RoundingMode.HALF_DOWN)) == toward_zero
    assert half_even == (toward_zero if n % 2 == 0 else away)
    assert (half_even != away) == (n % 2 == 0)


@given(monies, policies)
def test_rounding_is_idempotent_and_lands_on_minor_units(m: Money, policy: RoundingPolicy) -> None:
    r = m.round(policy)
    assert r.currency == m.currency
    assert r.is_rounded()
    assert r.amount.as_tuple().exponent == -m.minor_units
    again = r.round(policy)
    assert again == r
    assert repr(again) == repr(r)
    if m.is_rounded():
        assert r == m


@given(monies, st.sampled_from(HALF_MODES))
def test_half_modes_round_to_the_nearest(m: Money, mode: RoundingMode) -> None:
    r = m.round(RoundingPolicy(mode))
    error = abs(_ref_sub(r.amount, m.amount))
    half = _REF.multiply(_unit(m.minor_units), Decimal("0.5"))
    assert error <= half
    if error == half:
        assert _is_tie(m.amount, m.minor_units)


@given(monies, st.sampled_from(DIRECTED_MODES))
def test_directed_modes_move_less_than_one_unit_the_right_way(m: Money, mode: RoundingMode) -> None:
    r = m.round(RoundingPolicy(mode))
    x, y = m.amount, r.amount
    assert abs(_ref_sub(y, x)) < _unit(m.minor_units)
    if mode is RoundingMode.CEILING:
        assert y >= x
    elif mode is RoundingMode.FLOOR:
        assert y <= x
    elif mode is RoundingMode.UP:
        assert abs(y) >= abs(x)
        assert y.is_zero() or (y < 0) == (x < 0)
    else:  # DOWN: towards zero
        assert abs(y) <= abs(x)
        assert y.is_zero() or (y < 0) == (x < 0)


# -- allocation -------------------------------------------------------------------------


@st.composite
def allocations(draw: st.DrawFn) -> tuple[Money, list[Decimal]]:
    currency = draw(currencies)
    return draw(amounts(currency, rounded=True)), draw(weight_lists)


@given(allocations())
def test_allocate_parts_sum_exactly_and_match_the_weights(
    case: tuple[Money, list[Decimal]],
) -> None:
    amount, weights = case
    parts = allocate(amount, weights)
    assert len(parts) == len(weights)
    assert all(p.currency == amount.currency for p in parts)
    assert all(p.is_rounded() for p in parts)
    assert sum(parts, Money.zero(amount.currency)) == amount


@given(allocations())
def test_allocate_parts_stay_within_one_unit_of_the_exact_share(
    case: tuple[Money, list[Decimal]],
) -> None:
    amount, weights = case
    parts = allocate(amount, weights)
    total = sum(Fraction(w) for w in weights)
    unit = Fraction(1, 10**amount.minor_units)
    for part, w in zip(parts, weights, strict=True):
        share = Fraction(amount.amount) * Fraction(w) / total
        assert abs(Fraction(part.amount) - share) < unit
        if w.is_zero():
            assert part.is_zero()


@given(allocations())
def test_allocate_keeps_the_sign_of_the_amount(case: tuple[Money, list[Decimal]]) -> None:
    amount, weights = case
    parts = allocate(amount, weights)
    if not amount.is_negative():
        assert all(not p.is_negative() for p in parts)
    else:
        assert all(p.amount <= 0 for p in parts)
    assert allocate(-amount, weights) == [-p for p in parts]


@given(allocations())
def test_allocate_is_deterministic(case: tuple[Money, list[Decimal]]) -> None:
    amount, weights = case
    first = allocate(amount, weights)
    second = allocate(amount, list(weights))
    assert first == second
    assert [repr(p) for p in first] == [repr(p) for p in second]
