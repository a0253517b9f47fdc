"""Hypothesis strategies for b2bcore's values and models.

Use them to property-test your own code on top of b2bcore: pricing rules, storage
adapters, serializers, reports. Every strategy produces *valid* objects only (ones
the constructors accept); build invalid inputs yourself when you test rejection.

This module needs `Hypothesis <https://hypothesis.readthedocs.io>`_, which is a
test dependency of b2bcore, not a runtime one (``pip install hypothesis`` or
``pip install b2bcore[test]``).

>>> from hypothesis import given, strategies as st
>>> from b2bcore.money import Money
>>> from b2bcore.testing.strategies import money
>>> @given(st.lists(money("EUR", min_amount=0, max_amount=1000), min_size=1))
... def test_sum_stays_in_currency(amounts: list[Money]) -> None:
...     assert sum(amounts).currency == "EUR"
>>> test_sum_stays_in_currency()

Trees of business units and the users in them combine the same way::

    @given(business_unit_trees(max_size=5).flatmap(
        lambda units: company_users(units[0].company_id, [u.id for u in units])))
    def test_user_belongs_to_tree(user: CompanyUser) -> None: ...

Draw several users with distinct ids and e-mails with
``st.lists(company_users(...), unique_by=(lambda u: u.id, lambda u: u.email))``.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "b2bcore.testing.strategies needs Hypothesis: pip install hypothesis "
        "(or pip install 'b2bcore[test]')"
    ) from exc

from babel.numbers import list_currencies

from b2bcore.accounts.model import BusinessUnit, Company, CompanyUser, UserStatus
from b2bcore.clock import require_aware
from b2bcore.errors import ValidationError
from b2bcore.ids import BusinessUnitId, CompanyId, UserId, check_id
from b2bcore.l10n import get_zone
from b2bcore.money import Money, is_currency, minor_units, to_decimal

__all__ = [
    "DEFAULT_CURRENCIES",
    "DEFAULT_MAX_DATETIME",
    "DEFAULT_MIN_DATETIME",
    "DEFAULT_TIMEZONES",
    "UNROUNDED_EXTRA_PLACES",
    "aware_datetimes",
    "business_unit_trees",
    "companies",
    "company_users",
    "currencies",
    "decimals_for",
    "emails",
    "identifiers",
    "money",
]

#: The default sample of :func:`currencies`: 0, 2 and 3 minor units, big and small.
DEFAULT_CURRENCIES: Final[tuple[str, ...]] = ("EUR", "USD", "JPY", "VND", "CHF", "KWD", "BHD")

#: The default zones of :func:`aware_datetimes`: UTC, DST north and south (Lord Howe
#: shifts by 30 minutes), no DST, and half/quarter-hour and extreme offsets.
DEFAULT_TIMEZONES: Final[tuple[str, ...]] = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Ho_Chi_Minh",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)

#: Default bounds of :func:`aware_datetimes` (instants, inclusive).
DEFAULT_MIN_DATETIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_MAX_DATETIME: Final = datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)

#: How many decimals beyond the minor units ``money(rounded=False)`` may have.
UNROUNDED_EXTRA_PLACES: Final = 4

#: Private exact arithmetic: never the thread's global decimal context.
_CTX: Final = decimal.Context(
    prec=200,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.Inexact],
)

_ID_FIRST: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_REST: Final = _ID_FIRST + "._:@/-"
_EMAIL_ATOM: Final = "abcdefghijklmnopqrstuvwxyz0123456789_%+-"
_DOMAIN_LABEL: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_TLD: Final = "abcdefghijklmnopqrstuvwxyz"
_COUNTRIES: Final = ("DE", "US", "VN", "AT", "CH", "FR", "GB", "JP", "KW", "BH", "AU", "BR")


# -- money -------------------------------------------------------------------------------


def currencies(*, codes: Iterable[str] | Literal["all"] | None = None) -> st.SearchStrategy[str]:
    """ISO 4217 codes that :mod:`b2bcore.money` accepts.

    ``codes=None`` samples :data:`DEFAULT_CURRENCIES` (JPY and VND have no minor
    units, EUR, USD and CHF two, KWD and BHD three); ``codes="all"`` samples every
    code CLDR knows (historic ones included); any other iterable samples exactly
    those codes, which must all be valid. Shrinks towards the first code (EUR).

    Raises :class:`~b2bcore.errors.ValidationError` for an unknown or empty list.
    """
    if codes is None:
        chosen: tuple[str, ...] = DEFAULT_CURRENCIES
    elif codes == "all":
        chosen = tuple(sorted(list_currencies()))
    else:
        if isinstance(codes, str):
            raise ValidationError(
                "codes must be a list of currency codes or 'all'", path="codes", value=codes
            )
        chosen = tuple(codes)
        if not chosen:
            raise ValidationError("give at least one currency code", path="codes", value=codes)
        for i, code in enumerate(chosen):
            if not is_currency(code):
                raise ValidationError(
                    f"{code!r} is not an ISO 4217 currency code", path=f"codes[{i}]", value=code
                )
    return st.sampled_from(chosen)


def _bound(value: object, places: int, name: str, *, ceiling: bool) -> int:
    """``value * 10**places`` rounded inwards to a whole number."""
    try:
        d = to_decimal(value, path=name)
    except TypeError as e:
        raise ValidationError(str(e).removeprefix(f"{name}: "), path=name, value=value) from None
    rounding = decimal.ROUND_CEILING if ceiling else decimal.ROUND_FLOOR
    return int(d.scaleb(places, context=_CTX).to_integral_value(rounding=rounding, context=_CTX))


@st.composite
def _scaled_decimals(draw: st.DrawFn, low: int, high: int, places: int) -> Decimal:
    units = draw(st.integers(min_value=low, max_value=high))
    # Vary the exponent where that keeps the value: Decimal("5") as well as "5.00".
    trim = draw(st.integers(min_value=0, max_value=places))
    dropped = 0
    while dropped < trim and units % 10 ** (dropped + 1) == 0:
        dropped += 1
    return Decimal(units // 10**dropped).scaleb(dropped - places, context=_CTX)


def decimals_for(
    currency: str,
    *,
    min_value: Decimal | int | str,
    max_value: Decimal | int | str,
    places: int | None = None,
) -> st.SearchStrategy[Decimal]:
    """Finite Decimals from ``min_value`` to ``max_value`` with at most ``places`` decimals.

    ``places`` defaults to the minor units of ``currency`` (0 for JPY, 2 for EUR, 3
    for KWD); pass more for unit prices or rates. Values keep varied exponents
    (``Decimal("5")`` and ``Decimal("5.00")`` both occur) but never more decimals
    than ``places``. Bounds are inclusive and rounded inwards to ``places``; floats
    are refused, as everywhere in b2bcore.

    Raises :class:`~b2bcore.errors.ValidationError` for an unknown currency,
    negative ``places`` or a range holding no such value.
    """
    digits = minor_units(currency) if places is None else places
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValidationError("places must be a whole number >= 0", path="places", value=places)
    low = _bound(min_value, digits, "min_value", ceiling=True)
    high = _bound(max_value, digits, "max_value", ceiling=False)
    if low > high:
        raise ValidationError(
            f"no value with at most {digits} decimals lies between {min_value} and {max_value}",
            path="max_value",
            value=max_value,
        )
    return _scaled_decimals(low, high, digits)


def money(
    currency: str | st.SearchStrategy[str] | None = None,
    *,
    min_amount: Decimal | int | str = Decimal(-1_000_000_000),
    max_amount: Decimal | int | str = Decimal(1_000_000_000),
    rounded: bool = True,
) -> st.SearchStrategy[Money]:
    """:class:`~b2bcore.money.Money` amounts from ``min_amount`` to ``max_amount``.

    ``currency`` is a code, a strategy of codes, or ``None`` for :func:`currencies`.
    With ``rounded=True`` amounts have at most the currency's minor units (what an
    invoice line holds); with ``rounded=False`` up to
    :data:`UNROUNDED_EXTRA_PLACES` more (what unit prices and intermediate results
    hold). The default range is plus or minus one billion; pass ``min_amount=0``
    for prices. Bounds are validated at once; a range that holds no amount for a
    drawn currency (``min_amount="0.1", max_amount="0.9"`` in JPY) raises
    :class:`~b2bcore.errors.ValidationError` when that currency is drawn.
    """
    if currency is None:
        codes: st.SearchStrategy[str] = currencies()
    elif isinstance(currency, str):
        if not is_currency(currency):
            raise ValidationError(
                f"{currency!r} is not an ISO 4217 currency code", path="currency", value=currency
            )
        codes = st.just(currency)
    else:
        codes = currency
    # Validate the bounds eagerly (an empty range for some currency fails when drawn).
    _bound(min_amount, 0, "min_amount", ceiling=True)
    _bound(max_amount, 0, "max_amount", ceiling=False)

    def amounts(code: str) -> st.SearchStrategy[Money]:
        places = minor_units(code) + (0 if rounded else UNROUNDED_EXTRA_PLACES)
        return decimals_for(code, min_value=min_amount, max_value=max_amount, places=places).map(
            lambda amount: Money(amount, code)
        )

    return codes.flatmap(amounts)


# -- time --------------------------------------------------------------------------------


def _local_datetimes(zone: tzinfo, low: datetime, high: datetime) -> st.SearchStrategy[datetime]:
    low_local = low.astimezone(zone).replace(tzinfo=None)
    high_local = high.astimezone(zone).replace(tzinfo=None)
    return st.datetimes(
        min_value=low_local,
        max_value=high_local,
        timezones=st.just(zone),
        allow_imaginary=False,
    ).filter(lambda d: low <= d <= high)


def aware_datetimes(
    *,
    min_value: datetime = DEFAULT_MIN_DATETIME,
    max_value: datetime = DEFAULT_MAX_DATETIME,
    timezones: Sequence[str] = DEFAULT_TIMEZONES,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes between two instants, in several IANA zones.

    Each value carries one of ``timezones`` (a :class:`zoneinfo.ZoneInfo`), so
    DST gaps and folds, half-hour DST (Lord Howe) and offsets from -11 to +14
    hours all turn up; wall times that do not exist are never produced. Bounds are
    aware instants (inclusive), 1970 to 2099 by default. Shrinks towards UTC.

    Raises :class:`~b2bcore.errors.ValidationError` for naive or reversed bounds
    and unknown zone names.
    """
    low = require_aware(min_value, path="min_value")
    high = require_aware(max_value, path="max_value")
    if low > high:
        raise ValidationError("min_value is after max_value", path="min_value", value=min_value)
    if isinstance(timezones, str) or not timezones:
        raise ValidationError(
            "timezones must be a non-empty list of IANA zone names",
            path="timezones",
            value=timezones,
        )
    zones: list[tzinfo] = []
    for i, name in enumerate(timezones):
        try:
            zones.append(get_zone(name))
        except ValidationError as e:
            raise ValidationError(e.reason, path=f"timezones[{i}]", value=name) from None
    return st.sampled_from(zones).flatmap(lambda zone: _local_datetimes(zone, low, high))


# -- identifiers and accounts ----------------------------------------------------------


def identifiers(*, max_length: int = 40) -> st.SearchStrategy[str]:
    """Caller-supplied ids that :func:`b2bcore.ids.check_id` accepts.

    A letter or digit, then up to ``max_length - 1`` of letters, digits and
    ``. _ : @ / -`` (``max_length`` from 1 to 128). Wrap the result in the typed id
    you need, e.g. ``identifiers().map(CompanyId)``.
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise ValidationError("max_length must be a whole number", path="max_length")
    if not 1 <= max_length <= 128:
        raise ValidationError(
            "max_length must be from 1 to 128", path="max_length", value=max_length
        )
    return st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(_ID_FIRST),
        st.text(alphabet=_ID_REST, max_size=max_length - 1),
    )


def emails() -> st.SearchStrategy[str]:
    """Plausible e-mail addresses, already normalised (lower case, no spaces).

    ``local.part@sub.domain.tld`` from ASCII letters, digits and ``_ % + -``; what
    :class:`~b2bcore.accounts.CompanyUser` stores is exactly what was drawn.
    """
    atom = st.text(alphabet=_EMAIL_ATOM, min_size=1, max_size=12)
    label = st.text(alphabet=_DOMAIN_LABEL, min_size=1, max_size=12)
    local = st.lists(atom, min_size=1, max_size=3).map(".".join)
    domain = st.lists(label, min_size=1, max_size=3).map(".".join)
    tld = st.text(alphabet=_TLD, min_size=2, max_size=6)
    return st.builds(lambda lp, dom, top: f"{lp}@{dom}.{top}", local, domain, tld)


def _names(max_size: int = 40) -> st.SearchStrategy[str]:
    """Display names: non-blank text without control characters or surrogates."""
    return st.text(
        alphabet=st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")),
        min_size=1,
        max_size=max_size,
    ).filter(lambda s: bool(s.strip()))


def companies() -> st.SearchStrategy[Company]:
    """New (version 0) :class:`~b2bcore.accounts.Company` objects."""
    return st.builds(
        Company,
        id=identifiers().map(CompanyId),
        name=_names(),
        country=st.none() | st.sampled_from(_COUNTRIES),
    )


def _company_id(company_id: str | None) -> st.SearchStrategy[CompanyId]:
    if company_id is None:
        return identifiers().map(CompanyId)
    return st.just(CompanyId(check_id(company_id, path="company_id")))


@st.composite
def _trees(
    draw: st.DrawFn, company: st.SearchStrategy[CompanyId], min_size: int, max_size: int
) -> list[BusinessUnit]:
    company_id = draw(company)
    ids = draw(st.lists(identifiers(), min_size=min_size, max_size=max_size, unique=True))
    units: list[BusinessUnit] = []
    for index, unit_id in enumerate(ids):
        parent = draw(st.none() | st.integers(min_value=0, max_value=index - 1)) if index else None
        units.append(
            BusinessUnit(
                id=BusinessUnitId(unit_id),
                company_id=company_id,
                name=draw(_names()),
                parent_id=None if parent is None else units[parent].id,
                cost_center=draw(st.none() | st.integers(100, 999_999).map(lambda n: f"CC-{n}")),
            )
        )
    return units


def business_unit_trees(
    company_id: str | None = None, *, min_size: int = 1, max_size: int = 8
) -> st.SearchStrategy[list[BusinessUnit]]:
    """Lists of :class:`~b2bcore.accounts.BusinessUnit` forming a valid forest.

    All units belong to ``company_id`` (drawn when ``None``), ids are distinct, and
    every parent comes earlier in the list than its children, so the first unit is
    always a root and the list passes
    :func:`b2bcore.accounts.rules.check_tree`. Shrinks towards flat forests.
    """
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 0:
        raise ValidationError("min_size must be a whole number >= 0", path="min_size")
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < min_size:
        raise ValidationError(
            "max_size must be a whole number >= min_size", path="max_size", value=max_size
        )
    return _trees(_company_id(company_id), min_size, max_size)


def company_users(
    company_id: str, business_unit_ids: Sequence[str]
) -> st.SearchStrategy[CompanyUser]:
    """:class:`~b2bcore.accounts.CompanyUser` objects of one company.

    Each user belongs to a non-empty subset of ``business_unit_ids`` (distinct,
    order as drawn), has an address from :func:`emails` and any
    :class:`~b2bcore.accounts.UserStatus`. Ids and e-mails are varied but not
    unique across draws; use ``st.lists(..., unique_by=(lambda u: u.id, lambda u:
    u.email))`` when you need several distinct users.
    """
    company = CompanyId(check_id(company_id, path="company_id"))
    if isinstance(business_unit_ids, str) or not business_unit_ids:
        raise ValidationError(
            "give at least one business unit id",
            path="business_unit_ids",
            value=business_unit_ids,
        )
    units = tuple(
        BusinessUnitId(check_id(unit_id, path=f"business_unit_ids[{i}]"))
        for i, unit_id in enumerate(business_unit_ids)
    )
    return st.builds(
        CompanyUser,
        id=identifiers().map(UserId),
        company_id=st.just(company),
        email=emails(),
        name=_names(),
        business_unit_ids=st.lists(
            st.sampled_from(units), min_size=1, max_size=len(units), unique=True
        ).map(tuple),
        status=st.sampled_from(UserStatus),
    )
