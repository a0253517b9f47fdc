"""Example-based tests of b2bcore.money: construction, arithmetic, rounding, allocation."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

import attrs
import pytest

from b2bcore.errors import CurrencyMismatchError, ValidationError
from b2bcore.money import Money, RoundingMode, RoundingPolicy, allocate, minor_units


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _amounts(parts: list[Money]) -> list[str]:
    """The exact decimal strings of the parts (so '5.00' and '5' are told apart)."""
    return [str(p.amount) for p in parts]


# -- construction -----------------------------------------------------------------------


def test_construct_from_decimal_keeps_every_digit() -> None:
    m = Money(Decimal("1.50"), "EUR")
    assert m.amount == Decimal("1.50")
    assert str(m.amount) == "1.50"
    assert m.currency == "EUR"
    assert repr(m) == "Money('1.50', 'EUR')"
    assert str(m) == "1.50 EUR"


def test_construct_from_int() -> None:
    m = Money(5, "JPY")
    assert isinstance(m.amount, Decimal)
    assert m.amount == Decimal(5)
    assert str(m.amount) == "5"


def test_construct_from_str_strips_whitespace_and_keeps_extra_decimals() -> None:
    m = Money(" 1.005 ", "EUR")
    assert m.amount == Decimal("1.005")
    assert str(m.amount) == "1.005"


def test_bad_decimal_string_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"'abc' is not a decimal number") as exc:
        Money("abc", "EUR")
    assert exc.value.path == "amount"
    assert exc.value.value == "abc"


def test_money_is_frozen() -> None:
    m = _eur("1.00")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        m.amount = Decimal(2)  # type: ignore[misc]


def test_equality_is_by_value_and_currency() -> None:
    assert _eur("1.0") == _eur("1.00")
    assert hash(_eur("1.0")) == hash(_eur("1.00"))
    assert Money(1, "EUR") != Money(1, "USD")
    assert _eur("1.00") != _eur("1.01")


def test_zero() -> None:
    z = Money.zero("KWD")
    assert z.amount == 0
    assert z.currency == "KWD"
    assert z.is_zero()
    assert not _eur("0.01").is_zero()


# -- rejected input ---------------------------------------------------------------------


def test_float_amount_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"amount: floats are not accepted .*Decimal\('0\.1'\)"):
        Money(_untyped(0.1), "EUR")


def test_float_factor_is_a_type_error() -> None:
    m = _eur("2.00")
    with pytest.raises(TypeError, match="cannot multiply Money by a float"):
        m * _untyped(0.5)
    with pytest.raises(TypeError, match="cannot multiply Money by a float"):
        _untyped(0.5) * m


def test_float_weight_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"weights\[1\]: floats are not accepted"):
        allocate(_eur("1.00"), [1, _untyped(0.5)])


@pytest.mark.parametrize("flag", [True, False])
def test_bool_amount_is_rejected(flag: bool) -> None:
    with pytest.raises(TypeError, match="a bool is not a number"):
        Money(_untyped(flag), "EUR")


def test_bool_factor_and_weight_are_rejected() -> None:
    with pytest.raises(TypeError):
        _eur("1.00") * _untyped(True)
    with pytest.raises(TypeError, match="bool"):
        allocate(_eur("1.00"), [_untyped(True), 1])


def test_other_amount_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="expected Decimal, int or str, not list"):
        Money(_untyped([1]), "EUR")


@pytest.mark.parametrize(
    "amount", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), "NaN"]
)
def test_non_finite_amounts_are_validation_errors(amount: Decimal | str) -> None:
    with pytest.raises(ValidationError, match="is not a finite number") as exc:
        Money(amount, "EUR")
    assert exc.value.path == "amount"


@pytest.mark.parametrize("factor", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_factor_is_a_validation_error(factor: Decimal) -> None:
    with pytest.raises(ValidationError, match="factor must be finite"):
        _eur("1.00") * factor


def test_lowercase_currency_suggests_the_upper_case_code() -> None:
    with pytest.raises(ValidationError, match=r"did you mean 'EUR'\?") as exc:
        Money(1, "eur")
    assert exc.value.path == "currency"
    assert exc.value.value == "eur"
    assert exc.value.code == "validation"


def test_unknown_currency_is_a_validation_error_without_a_hint() -> None:
    with pytest.raises(ValidationError, match=r"'XYZ' is not an ISO 4217 currency code") as exc:
        Money(1, "XYZ")
    assert "did you mean" not in str(exc.value)
    assert exc.value.value == "XYZ"


@pytest.mark.parametrize("code", [978, None, b"EUR"])
def test_non_str_currency_is_a_type_error(code: object) -> None:
    with pytest.raises(TypeError, match="currency must be an ISO 4217 code as str"):
        Money(1, _untyped(code))


# -- currency mismatch ------------------------------------------------------------------


def test_adding_across_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError, match="cannot add EUR with USD") as exc:
        Money(1, "EUR") + Money(1, "USD")
    assert (exc.value.left, exc.value.right) == ("EUR", "USD")
    assert exc.value.code == "money.currency_mismatch"
    assert isinstance(exc.value, TypeError)


def test_subtracting_across_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError, match="cannot subtract JPY with EUR") as exc:
        Money(1, "JPY") - Money(1, "EUR")
    assert (exc.value.left, exc.value.right) == ("JPY", "EUR")


@pytest.mark.parametrize(
    "compare",
    [
        pytest.param(lambda a, b: a < b, id="lt"),
        pytest.param(lambda a, b: a > b, id="gt"),
        pytest.param(lambda a, b: a <= b, id="le"),
        pytest.param(lambda a, b: a >= b, id="ge"),
    ],
)
def test_comparing_across_currencies_raises_currency_mismatch(compare: Any) -> None:
    with pytest.raises(CurrencyMismatchError, match="cannot compare KWD with USD") as exc:
        compare(Money(1, "KWD"), Money(2, "USD"))
    assert (exc.value.left, exc.value.right) == ("KWD", "USD")
    assert exc.value.operation == "compare"


def test_sum_across_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError):
        sum([Money(1, "EUR"), Money(1, "USD")], Money.zero("EUR"))


# -- arithmetic -------------------------------------------------------------------------


def test_add_and_subtract_are_exact() -> None:
    assert _eur("0.10") + _eur("0.20") == _eur("0.30")
    assert str((_eur("0.1") + _eur("0.005")).amount) == "0.105"
    assert _eur("1.00") - _eur("2.50") == _eur("-1.50")


def test_add_non_money_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _eur("1.00") + _untyped(1)
    with pytest.raises(TypeError):
        _eur("1.00") + _untyped(Decimal(1))
    with pytest.raises(TypeError):
        _untyped(1) + _eur("1.00")


def test_sum_of_a_list() -> None:
    total = sum([_eur("0.10"), _eur("0.20"), _eur("0.30")])
    assert total == _eur("0.60")
    assert isinstance(total, Money)
    assert total.currency == "EUR"


def test_sum_of_an_empty_list_with_a_zero_start() -> None:
    total = sum([], Money.zero("EUR"))
    assert total == Money.zero("EUR")
    assert total.currency == "EUR"
    assert sum([_eur("1.25"), _eur("2.50")], Money.zero("EUR")) == _eur("3.75")


def test_multiply_by_decimal_is_exact() -> None:
    product = _eur("19.99") * Decimal("0.15")
    assert product.amount == Decimal("2.9985")
    assert product.currency == "EUR"


def test_multiply_by_int_on_either_side() -> None:
    assert _eur("19.99") * 3 == _eur("59.97")
    assert 3 * _eur("19.99") == _eur("59.97")
    assert Decimal("0.5") * _eur("3.00") == _eur("1.50")
    assert _eur("19.99") * 0 == Money.zero("EUR")
    assert _eur("2.00") * -2 == _eur("-4.00")


def test_multiply_money_by_money_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _eur("1.00") * _untyped(_eur("2.00"))


def test_negation_and_abs() -> None:
    assert -_eur("1.50") == _eur("-1.50")
    assert -_eur("-1.50") == _eur("1.50")
    assert abs(_eur("-1.50")) == _eur("1.50")
    assert abs(_eur("1.50")) == _eur("1.50")
    assert +_eur("1.50") == _eur("1.50")
    assert _eur("-0.01").is_negative()
    assert not _eur("0").is_negative()
    assert not _eur("0.01").is_negative()


def test_comparisons_within_a_currency() -> None:
    a, b = _eur("1.00"), _eur("1.01")
    assert a < b
    assert a <= b
    assert b > a
    assert b >= a
    assert not b < a
    assert not a > b
    assert a <= _eur("1.0")
    assert a >= _eur("1.000")
    assert sorted([b, _eur("-3"), a]) == [_eur("-3"), a, b]
    assert max([a, b]) is b


def test_comparison_with_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = _eur("1.00") < _untyped(2)


# -- minor units ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("VND", 0), ("EUR", 2), ("USD", 2), ("CHF", 2), ("KWD", 3), ("BHD", 3)],
)
def test_minor_units(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits
    assert Money(1, currency).minor_units == digits


def test_minor_units_of_a_bad_code() -> None:
    with pytest.raises(ValidationError, match="did you mean 'JPY'"):
        minor_units("jpy")


# -- rounding ---------------------------------------------------------------------------

# Expected results for +2.345, -2.345, +2.355, -2.355 (EUR, two decimals).
_HALFWAY: dict[RoundingMode, tuple[str, str, str, str]] = {
    RoundingMode.HALF_UP: ("2.35", "-2.35", "2.36", "-2.36"),
    RoundingMode.HALF_EVEN: ("2.34", "-2.34", "2.36", "-2.36"),
    RoundingMode.HALF_DOWN: ("2.34", "-2.34", "2.35", "-2.35"),
    RoundingMode.DOWN: ("2.34", "-2.34", "2.35", "-2.35"),
    RoundingMode.UP: ("2.35", "-2.35", "2.36", "-2.36"),
    RoundingMode.CEILING: ("2.35", "-2.34", "2.36", "-2.35"),
    RoundingMode.FLOOR: ("2.34", "-2.35", "2.35", "-2.36"),
}


@pytest.mark.parametrize("mode", list(RoundingMode), ids=lambda m: m.name)
def test_rounding_modes_on_halfway_values(mode: RoundingMode) -> None:
    policy = RoundingPolicy(mode)
    got = tuple(str(_eur(v).round(policy).amount) for v in ("2.345", "-2.345", "2.355", "-2.355"))
    assert got == _HALFWAY[mode]


# Expected results for +2.341 and -2.341: only the directed modes move off the nearest.
_OFF_HALF: dict[RoundingMode, tuple[str, str]] = {
    RoundingMode.HALF_UP: ("2.34", "-2.34"),
    RoundingMode.HALF_EVEN: ("2.34", "-2.34"),
    RoundingMode.HALF_DOWN: ("2.34", "-2.34"),
    RoundingMode.DOWN: ("2.34", "-2.34"),
    RoundingMode.UP: ("2.35", "-2.35"),
    RoundingMode.CEILING: ("2.35", "-2.34"),
    RoundingMode.FLOOR: ("2.34", "-2.35"),
}


@pytest.mark.parametrize("mode", list(RoundingMode), ids=lambda m: m.name)
def test_rounding_modes_off_halfway(mode: RoundingMode) -> None:
    policy = RoundingPolicy(mode)
    got = (str(_eur("2.341").round(policy).amount), str(_eur("-2.341").round(policy).amount))
    assert got == _OFF_HALF[mode]


def test_rounding_follows_the_currency_minor_units() -> None:
    half_up = RoundingPolicy(RoundingMode.HALF_UP)
    half_even = RoundingPolicy(RoundingMode.HALF_EVEN)
    assert str(Money("1234.5", "JPY").round(half_up).amount) == "1235"
    assert str(Money("1234.5", "JPY").round(half_even).amount) == "1234"
    assert str(Money("1.2345", "KWD").round(half_up).amount) == "1.235"
    assert str(Money("1.2345", "KWD").round(half_even).amount) == "1.234"
    # Rounding pads to the minor units, too.
    assert str(Money("7", "BHD").round(half_up).amount) == "7.000"
    assert str(Money("7", "EUR").round(half_up).amount) == "7.00"


def test_rounding_to_explicit_digits_and_via_the_policy() -> None:
    policy = RoundingPolicy(RoundingMode.HALF_EVEN)
    assert policy.round(_eur("2.345")) == _eur("2.34")
    assert str(policy.round(_eur("2.345"), digits=1).amount) == "2.3"
    assert str(_eur("2.35").round(policy, digits=1).amount) == "2.4"
    assert str(policy.round_decimal(Decimal("0.125"), 2)) == "0.12"


def test_is_rounded() -> None:
    assert _eur("1.20").is_rounded()
    assert _eur("1.2").is_rounded()
    assert not _eur("1.205").is_rounded()
    assert Money("1.205", "KWD").is_rounded()
    assert not Money("1.5", "JPY").is_rounded()
    assert _eur("1.205").is_rounded(digits=3)


@pytest.mark.parametrize("policy", [None, RoundingMode.HALF_UP, "HALF_UP", 2])
def test_round_without_a_rounding_policy_is_a_type_error(policy: object) -> None:
    with pytest.raises(TypeError, match="round\\(\\) needs a RoundingPolicy"):
        _eur("1.005").round(_untyped(policy))


def test_rounding_policy_validates_its_fields() -> None:
    with pytest.raises(TypeError):
        RoundingPolicy(_untyped("HALF_UP"))
    assert RoundingPolicy().mode is RoundingMode.HALF_UP


# -- independence from the global decimal context -----------------------------------


def test_arithmetic_ignores_the_global_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = decimal.ROUND_DOWN
        ctx.traps[decimal.Inexact] = True  # any use of this context for rounding would raise
        assert (_eur("123.45") + _eur("0.006")).amount == Decimal("123.456")
        assert (_eur("123.45") - _eur("0.006")).amount == Decimal("123.444")
        assert (_eur("123.45") * Decimal("1.5")).amount == Decimal("185.175")
        assert (3 * _eur("123.45")).amount == Decimal("370.35")
        assert (-_eur("123.45")).amount == Decimal("-123.45")
        assert abs(_eur("-123.45")).amount == Decimal("123.45")
        assert sum([_eur("123.45"), _eur("876.55"), _eur("0.01")]) == _eur("1000.01")
        half_up = RoundingPolicy(RoundingMode.HALF_UP)
        assert str(_eur("1234.565").round(half_up).amount) == "1234.57"
        assert _amounts(allocate(_eur("1000.00"), [1, 1, 1])) == ["333.34", "333.33", "333.33"]
        assert _amounts(allocate(_eur("1000.00"), [Decimal("0.3333333"), Decimal("0.1")])) == [
            "769.23",
            "230.77",
        ]
        # ... and leaves the caller's context as it was.
        assert decimal.getcontext().prec == 3
        assert decimal.getcontext().rounding == decimal.ROUND_DOWN


def test_more_than_60_significant_digits_is_a_validation_error() -> None:
    big = Money(Decimal("1E+60"), "EUR")
    with pytest.raises(ValidationError, match="more than 60 significant digits"):
        big + _eur("0.01")
    with pytest.raises(ValidationError, match="cannot subtract exactly within 60 significant"):
        big - _eur("0.01")
    with pytest.raises(ValidationError, match="cannot multiply exactly within 60 significant"):
        Money("1.234567890123456789012345678901", "EUR") * Decimal(
            "1.234567890123456789012345678901"
        )


def test_exactly_60_significant_digits_is_fine() -> None:
    total = Money(Decimal("1E+59"), "EUR") + Money(1, "EUR")
    assert total.amount == Decimal(10**59 + 1)
    assert len(total.amount.as_tuple().digits) == 60


# -- allocate ---------------------------------------------------------------------------


def test_allocate_three_ways_gives_the_extra_cent_to_the_first_part() -> None:
    parts = allocate(_eur("100.00"), [1, 1, 1])
    assert _amounts(parts) == ["33.34", "33.33", "33.33"]
    assert all(p.currency == "EUR" for p in parts)
    assert sum(parts) == _eur("100.00")


def test_allocate_ties_go_to_earlier_parts() -> None:
    assert _amounts(allocate(_eur("0.02"), [1, 1, 1])) == ["0.01", "0.01", "0.00"]


def test_allocate_largest_remainder_wins() -> None:
    # Shares 3.333.., 6.666..: the second has the larger remainder.
    assert _amounts(allocate(Money(10, "JPY"), [1, 2])) == ["3", "7"]
    assert _amounts(allocate(_eur("1.00"), [1, 2])) == ["0.33", "0.67"]


def test_allocate_jpy() -> None:
    parts = allocate(Money(100, "JPY"), [1, 1, 1])
    assert _amounts(parts) == ["34", "33", "33"]
    assert all(p.currency == "JPY" for p in parts)


def test_allocate_kwd() -> None:
    assert _amounts(allocate(Money("1.000", "KWD"), [1, 1, 1])) == ["0.334", "0.333", "0.333"]
    assert _amounts(allocate(Money("10", "KWD"), [3, 1])) == ["7.500", "2.500"]


def test_allocate_negative_amounts() -> None:
    assert _amounts(allocate(_eur("-100.00"), [1, 1, 1])) == ["-33.34", "-33.33", "-33.33"]
    assert _amounts(allocate(_eur("-0.05"), [1, 1])) == ["-0.03", "-0.02"]


def test_allocate_zero_weights_get_zero() -> None:
    assert _amounts(allocate(_eur("10.00"), [0, 1, 0, 1])) == ["0.00", "5.00", "0.00", "5.00"]
    assert _amounts(allocate(_eur("0.01"), [1, 0, 1])) == ["0.01", "0.00", "0.00"]
    assert _amounts(allocate(_eur("0.05"), [0, 1, 0])) == ["0.00", "0.05", "0.00"]


def test_allocate_decimal_weights() -> None:
    weights = [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]
    assert _amounts(allocate(_eur("10.00"), weights)) == ["5.00", "2.50", "2.50"]
    assert _amounts(allocate(_eur("10.00"), [Decimal("0.5"), 1])) == ["3.33", "6.67"]
    assert _amounts(allocate(_eur("1.00"), [Decimal("0.1"), Decimal("0.2")])) == ["0.33", "0.67"]


def test_allocate_single_weight_and_zero_amount() -> None:
    assert _amounts(allocate(_eur("12.34"), [7])) == ["12.34"]
    assert _amounts(allocate(_eur("0.00"), [1, 2])) == ["0.00", "0.00"]


def test_allocate_to_explicit_digits() -> None:
    assert _amounts(allocate(_eur("1"), [1, 1, 1], digits=3)) == ["0.334", "0.333", "0.333"]
    tens = allocate(Money(100, "JPY"), [1, 1, 1], digits=-1)
    assert [p.amount for p in tens] == [Decimal(40), Decimal(30), Decimal(30)]


def test_allocate_without_weights_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="give at least one weight"):
        allocate(_eur("1.00"), [])
    with pytest.raises(ValidationError, match="give at least one weight"):
        allocate(_eur("1.00"), _untyped("11"))


def test_allocate_with_all_zero_weights_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="weights must not all be zero"):
        allocate(_eur("1.00"), [0, Decimal("0.00"), 0])


def test_allocate_with_a_negative_weight_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"weights\[1\]: weights must not be negative") as exc:
        allocate(_eur("1.00"), [1, -1, 3])
    assert exc.value.path == "weights[1]"
    assert exc.value.value == -1


def test_allocate_an_unrounded_amount_is_a_validation_error() -> None:
    with pytest.raises(
        ValidationError, match="more than 2 decimals; round it with a RoundingPolicy"
    ) as exc:
        allocate(_eur("100.005"), [1, 1])
    assert exc.value.value == _eur("100.005")
    with pytest.raises(ValidationError, match="RoundingPolicy"):
        allocate(Money("1.5", "JPY"), [1, 1])


def test_allocate_needs_money() -> None:
    with pytest.raises(TypeError, match="splits a Money amount"):
        allocate(_untyped(Decimal("1.00")), [1, 1])
