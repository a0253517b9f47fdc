"""Money: a Decimal amount in one ISO 4217 currency, with explicit rounding.

>>> from decimal import Decimal
>>> from b2bcore.money import Money, RoundingMode, RoundingPolicy, allocate
>>> price = Money("19.99", "EUR")
>>> price * 3
Money('59.97', 'EUR')
>>> sum([Money("0.10", "EUR"), Money("0.20", "EUR")])
Money('0.30', 'EUR')
>>> (price * Decimal("0.15")).round(RoundingPolicy(RoundingMode.HALF_UP))
Money('3.00', 'EUR')
>>> allocate(Money("100.00", "EUR"), [1, 1, 1])
[Money('33.34', 'EUR'), Money('33.33', 'EUR'), Money('33.33', 'EUR')]
>>> Money(1, "EUR") + Money(1, "USD")
Traceback (most recent call last):
...
b2bcore.errors.CurrencyMismatchError: cannot add EUR with USD: convert one of them explicitly first

Rules of the house:

* A float is never money: ``Money(0.1, "EUR")`` raises :class:`TypeError`.
* Arithmetic is exact. It never consults (or changes) the thread's global decimal
  context; an operation whose exact result needs more than 60 significant digits
  raises :class:`~b2bcore.errors.ValidationError` instead of rounding silently.
* Rounding happens only when asked, through a :class:`RoundingPolicy` that names
  the mode (and, for the pricing engine, the stage at which it applies).
* Minor units (how many decimals a currency has) come from babel's CLDR data:
  JPY and VND 0, EUR 2, KWD and BHD 3.
"""

from __future__ import annotations

import decimal
import enum
import functools
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
from babel.numbers import get_currency_precision, list_currencies

from b2bcore.errors import CurrencyMismatchError, ValidationError

__all__ = [
    "CALCULATION_CONTEXT",
    "Money",
    "RoundingMode",
    "RoundingPolicy",
    "RoundingStage",
    "allocate",
    "is_currency",
    "minor_units",
    "to_decimal",
    "to_quantity",
]

#: The private arithmetic context: wide, exact (Inexact traps), never the global one.
_CTX: Final = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero, decimal.Inexact],
)

_CURRENCIES: Final[frozenset[str]] = frozenset(list_currencies())


def is_currency(code: object) -> bool:
    """Whether ``code`` is an ISO 4217 code that CLDR knows (upper case, three letters).

    >>> is_currency("EUR"), is_currency("eur"), is_currency("EURO")
    (True, False, False)
    """
    return isinstance(code, str) and code in _CURRENCIES


@functools.cache
def minor_units(currency: str) -> int:
    """Number of decimals of ``currency`` according to CLDR.

    >>> minor_units("EUR"), minor_units("JPY"), minor_units("KWD")
    (2, 0, 3)
    """
    _check_currency(currency)
    return int(get_currency_precision(currency))


def _check_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise TypeError(f"currency must be an ISO 4217 code as str, not {type(currency).__name__}")
    if currency not in _CURRENCIES:
        hint = ""
        if currency.upper() in _CURRENCIES:
            hint = f" (did you mean {currency.upper()!r}?)"
        raise ValidationError(
            f"{currency!r} is not an ISO 4217 currency code{hint}",
            path="currency",
            value=currency,
        )
    return currency


def to_decimal(value: object, *, path: str = "amount") -> Decimal:
    """Turn an ``int``, ``str`` or ``Decimal`` into a finite Decimal; refuse floats.

    >>> to_decimal("1.50")
    Decimal('1.50')
    >>> to_decimal(0.1)
    Traceback (most recent call last):
    ...
    TypeError: amount: floats are not accepted for money or quantities (use Decimal('0.1') or '0.1')
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"{path}: a bool is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationError(
                f"{value!r} is not a decimal number", path=path, value=value
            ) from None
    elif isinstance(value, float):
        raise TypeError(
            f"{path}: floats are not accepted for money or quantities "
            f"(use Decimal('{value!r}') or '{value!r}')"
        )
    else:
        raise TypeError(f"{path}: expected Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ValidationError(f"{value!r} is not a finite number", path=path, value=value)
    return result


def to_quantity(value: object, *, path: str = "quantity") -> Decimal:
    """Like :func:`to_decimal` for quantities at the public API: a wrong type (a float,
    None, ...) is a :class:`~b2bcore.errors.ValidationError`, not a TypeError.

    >>> to_quantity("2.5")
    Decimal('2.5')
    >>> to_quantity(1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    b2bcore.errors.ValidationError: quantity: must be a number (Decimal, int or decimal str), ...
    """
    try:
        return to_decimal(value, path=path)
    except TypeError:
        kind = type(value).__name__
        hint = " (floats are never quantities: use Decimal or str)" if kind == "float" else ""
        raise ValidationError(
            f"must be a number (Decimal, int or decimal str), not {kind}{hint}",
            path=path,
            value=value,
        ) from None


class RoundingMode(enum.Enum):
    """How to round; the values are the :mod:`decimal` rounding constants."""

    HALF_UP = decimal.ROUND_HALF_UP
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    HALF_DOWN = decimal.ROUND_HALF_DOWN
    DOWN = decimal.ROUND_DOWN
    UP = decimal.ROUND_UP
    CEILING = decimal.ROUND_CEILING
    FLOOR = decimal.ROUND_FLOOR


class RoundingStage(enum.Enum):
    """Where in a calculation rounding applies (used by the pricing engine).

    * ``UNIT`` — round each unit price, then multiply by the quantity.
    * ``LINE`` — multiply exactly, round each line total.
    * ``TOTAL`` — keep lines exact, round only the document total.
    """

    UNIT = "unit"
    LINE = "line"
    TOTAL = "total"


@attrs.frozen
class RoundingPolicy:
    """An explicit rounding decision: a mode and the stage it applies at.

    >>> policy = RoundingPolicy(RoundingMode.HALF_EVEN, RoundingStage.LINE)
    >>> policy.round(Money("2.345", "EUR"))
    Money('2.34', 'EUR')
    >>> policy.round(Money("2.345", "EUR"), digits=1)
    Money('2.3', 'EUR')
    """

    mode: RoundingMode = attrs.field(
        default=RoundingMode.HALF_UP, validator=attrs.validators.instance_of(RoundingMode)
    )
    stage: RoundingStage = attrs.field(
        default=RoundingStage.LINE, validator=attrs.validators.instance_of(RoundingStage)
    )

    def round(self, money: Money, *, digits: int | None = None) -> Money:
        """Round ``money`` to ``digits`` decimals (default: the currency's minor units)."""
        return money.round(self, digits=digits)

    def round_decimal(self, value: Decimal, digits: int) -> Decimal:
        """Round a bare Decimal to ``digits`` decimals with this policy's mode."""
        quantum = _QUANTA.get(digits) or Decimal(1).scaleb(-digits)
        return value.quantize(quantum, rounding=self.mode.value, context=_CTX_ROUND)


_CTX_ROUND: Final = decimal.Context(
    prec=60, Emax=999_999, Emin=-999_999, traps=[decimal.InvalidOperation, decimal.Overflow]
)

#: The decimal context for computations on amounts (formulas, percentages): 60
#: significant digits, half-even, never the thread's global context. Use it with
#: ``decimal.localcontext(CALCULATION_CONTEXT)``; results still get rounded only
#: through a :class:`RoundingPolicy`.
CALCULATION_CONTEXT: Final = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)


_QUANTA: Final = {d: Decimal(1).scaleb(-d) for d in range(-6, 13)}


def _amount_converter(value: Decimal | int | str) -> Decimal:
    return to_decimal(value)


def _currency_validator(_instance: object, _attribute: object, value: str) -> None:
    _check_currency(value)


def _exact(op: str, fn: Any, a: Decimal, b: Decimal) -> Decimal:
    try:
        result: Decimal = fn(a, b)
    except decimal.Inexact:
        raise ValidationError(
            f"cannot {op} exactly within 60 significant digits", path="amount", value=(a, b)
        ) from None
    return result


@functools.total_ordering
@attrs.frozen(order=False, repr=False)
class Money:
    """An exact amount of one currency.

    ``amount`` accepts ``Decimal``, ``int`` or a decimal ``str``; ``currency`` an
    ISO 4217 code known to CLDR. Amounts keep every digit they are given; call
    :meth:`round` (or a :class:`RoundingPolicy`) to bring them to minor units.
    """

    amount: Decimal = attrs.field(converter=_amount_converter)
    currency: str = attrs.field(validator=_currency_validator)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """``Money(0, currency)``, handy as the start value of ``sum``."""
        return cls(Decimal(0), currency)

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    # -- arithmetic -------------------------------------------------------------------
    def _other_amount(self, other: Money, op: str) -> Decimal:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, op)
        return other.amount

    def __add__(self, other: Money) -> Money:
        if other.__class__ is not Money and not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, "add")
        try:
            return _money(_ctx_add(self.amount, other.amount), self.currency)
        except decimal.Inexact:
            raise ValidationError(
                "sum has more than 60 significant digits", path="amount", value=other
            ) from None

    def __radd__(self, other: object) -> Money:
        # Lets the built-in sum() start from 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        amount = self._other_amount(other, "subtract")
        return _money(_exact("subtract", _CTX.subtract, self.amount, amount), self.currency)

    def __neg__(self) -> Money:
        return _money(self.amount.copy_negate(), self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return _money(self.amount.copy_abs(), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, Decimal):
            if not factor.is_finite():
                raise ValidationError("factor must be finite", path="factor", value=factor)
            f = factor
        elif isinstance(factor, int) and not isinstance(factor, bool):
            f = Decimal(factor)
        elif isinstance(factor, float):
            raise TypeError("cannot multiply Money by a float; use a Decimal")
        else:
            return NotImplemented
        return _money(_exact("multiply", _CTX.multiply, self.amount, f), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.amount < self._other_amount(other, "compare")

    def is_zero(self) -> bool:
        """Whether the amount is zero."""
        return self.amount.is_zero()

    def is_negative(self) -> bool:
        """Whether the amount is below zero."""
        return self.amount < 0

    # -- rounding ---------------------------------------------------------------------
    @property
    def minor_units(self) -> int:
        """The currency's number of decimals according to CLDR."""
        return minor_units(self.currency)

    def round(self, policy: RoundingPolicy, *, digits: int | None = None) -> Money:
        """Round to ``digits`` decimals (default: minor units) with the policy's mode.

        >>> Money("0.125", "EUR").round(RoundingPolicy(RoundingMode.HALF_EVEN))
        Money('0.12', 'EUR')
        >>> Money("1234.5", "JPY").round(RoundingPolicy(RoundingMode.HALF_UP))
        Money('1235', 'JPY')
        """
        if not isinstance(policy, RoundingPolicy):
            raise TypeError("round() needs a RoundingPolicy: rounding is always explicit")
        d = self.minor_units if digits is None else digits
        return _money(policy.round_decimal(self.amount, d), self.currency)

    def is_rounded(self, digits: int | None = None) -> bool:
        """Whether the amount has no more decimals than the currency (or ``digits``) allows."""
        d = self.minor_units if digits is None else digits
        return self.amount == self.amount.quantize(Decimal(1).scaleb(-d), context=_CTX_ROUND)


def _weight(value: object, index: int) -> Decimal:
    w = to_decimal(value, path=f"weights[{index}]")
    if w < 0:
        raise ValidationError("weights must not be negative", path=f"weights[{index}]", value=value)
    return w


# Trusted fast construction for results of operations on valid Money: writes the
# slots directly (about twice as fast as object.__setattr__ on a frozen class).
_new = object.__new__
_set_amount = Money.__dict__["amount"].__set__
_set_currency = Money.__dict__["currency"].__set__
_ctx_add = _CTX.add


def _money(amount: Decimal, currency: str) -> Money:
    result: Money = _new(Money)
    _set_amount(result, amount)
    _set_currency(result, currency)
    return result


def allocate(
    amount: Money, weights: Sequence[Decimal | int], *, digits: int | None = None
) -> list[Money]:
    """Split ``amount`` in proportion to ``weights`` so the parts sum exactly.

    Works in minor units (or ``digits`` decimals) with the largest-remainder method:
    each part gets the floor of its exact share, then the units left over go one by
    one to the parts with the largest remainders (earlier parts first on ties). For
    a non-negative amount no part is negative; a negative amount is split like its
    absolute value and negated.

    >>> allocate(Money("10", "JPY"), [1, 2])
    [Money('3', 'JPY'), Money('7', 'JPY')]
    >>> allocate(Money("-0.05", "EUR"), [1, 1])
    [Money('-0.03', 'EUR'), Money('-0.02', 'EUR')]

    Raises :class:`~b2bcore.errors.ValidationError` when there are no weights, all
    are zero, one is negative, or ``amount`` has more decimals than it is split in
    (round it first, with an explicit policy).
    """
    if not isinstance(amount, Money):
        raise TypeError("allocate() splits a Money amount")
    if isinstance(weights, (str, bytes)) or len(weights) == 0:
        raise ValidationError("give at least one weight", path="weights", value=weights)
    int_weights: list[int]
    if all(type(w) is int and w >= 0 for w in weights):
        int_weights = [int(w) for w in weights]  # the common case: exact already
    else:
        ws = [_weight(w, i) for i, w in enumerate(weights)]
        # Exact integer arithmetic: share_i = units * w_i / W, as a fraction.
        num_den = [w.as_integer_ratio() for w in ws]
        common = math.lcm(*(den for _, den in num_den))
        int_weights = [num * (common // den) for num, den in num_den]
    total = sum(int_weights)
    if total == 0:
        raise ValidationError("weights must not all be zero", path="weights", value=weights)
    d = amount.minor_units if digits is None else digits
    scaled = amount.amount.scaleb(d, context=_CTX_ROUND)
    if scaled != scaled.to_integral_value(context=_CTX_ROUND):
        raise ValidationError(
            f"{amount} has more than {d} decimals; "
            "round it with a RoundingPolicy before allocating",
            path="amount",
            value=amount,
        )
    units = int(scaled)
    sign = -1 if units < 0 else 1
    units = abs(units)
    floors: list[int] = []
    remainders: list[tuple[int, int]] = []
    for i, w in enumerate(int_weights):
        q, r = divmod(units * w, total)
        floors.append(q)
        remainders.append((-r, i))
    left = units - sum(floors)
    for _, i in sorted(remainders)[:left]:
        floors[i] += 1
    currency = amount.currency
    # Decimal((sign, digits, exponent)) builds each part exactly, no context involved.
    return [
        _money(Decimal((sign < 0 and f != 0, tuple(map(int, str(f))), -d)), currency)
        for f in floors
    ]
