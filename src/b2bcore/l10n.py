"""Locale-aware formatting, always with an explicit locale.

Thin wrappers over babel that never read the process locale: every function takes
``locale=`` as a required keyword argument. Tested for ``en_US``, ``de_DE`` and
``vi_VN``.

>>> from datetime import datetime, timezone
>>> from b2bcore.l10n import format_datetime, format_money
>>> from b2bcore.money import Money
>>> format_money(Money("1234.5", "EUR"), locale="de_DE")
'1.234,50\\xa0€'
>>> format_money(Money("1234.5", "USD"), locale="en_US")
'$1,234.50'
>>> at = datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)
>>> format_datetime(at, locale="de_DE", tz="Europe/Berlin", width="short")
'29.03.26, 01:30'
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import babel
import babel.dates
import babel.numbers

from b2bcore.clock import require_aware
from b2bcore.errors import ValidationError
from b2bcore.money import Money

__all__ = [
    "SUPPORTED_LOCALES",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_money",
    "get_locale",
    "get_zone",
]

#: Locales the test suite proves; any CLDR locale babel knows is accepted.
SUPPORTED_LOCALES = ("de_DE", "en_US", "vi_VN")

Width = Literal["short", "medium", "long", "full"]


@functools.lru_cache(maxsize=64)
def get_locale(locale: str) -> babel.Locale:
    """Parse a locale identifier (``de_DE`` or ``de-DE``); ValidationError if unknown."""
    if not isinstance(locale, str) or not locale:
        raise ValidationError("locale must be a non-empty string such as 'en_US'", path="locale")
    try:
        return babel.Locale.parse(locale.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        raise ValidationError(
            f"{locale!r} is not a locale CLDR knows (try 'en_US', 'de_DE' or 'vi_VN')",
            path="locale",
            value=locale,
        ) from None


@functools.lru_cache(maxsize=256)
def get_zone(tz: str) -> ZoneInfo:
    """The IANA zone named ``tz``; ValidationError if there is no such zone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(
            f"{tz!r} is not an IANA time zone (e.g. 'Europe/Berlin')", path="tz", value=tz
        ) from None


def format_money(money: Money, *, locale: str, with_currency: bool = True) -> str:
    """Format ``money`` with the locale's symbols, grouping and the currency's decimals.

    The amount is shown with exactly the currency's minor units (CLDR), rounding
    half-even for display only; round it yourself first if a policy matters.
    """
    loc = get_locale(locale)
    if with_currency:
        return str(babel.numbers.format_currency(money.amount, money.currency, locale=loc))
    digits = money.minor_units
    pattern_digits = "0" * digits
    pattern = "#,##0" + (f".{pattern_digits}" if digits else "")
    return str(babel.numbers.format_decimal(money.amount, format=pattern, locale=loc))


def format_decimal(value: Decimal | int, *, locale: str) -> str:
    """Format a number (quantities, percentages as numbers) for ``locale``."""
    if isinstance(value, float):
        raise TypeError("format_decimal takes Decimal or int, not float")
    return str(babel.numbers.format_decimal(value, locale=get_locale(locale)))


def format_datetime(
    value: datetime, *, locale: str, tz: str = "UTC", width: Width | str = "medium"
) -> str:
    """Format an aware datetime in time zone ``tz`` for ``locale``."""
    aware = require_aware(value, path="value")
    return str(
        babel.dates.format_datetime(
            aware, format=width, tzinfo=get_zone(tz), locale=get_locale(locale)
        )
    )


def format_date(value: date, *, locale: str, width: Width | str = "medium") -> str:
    """Format a calendar date for ``locale``."""
    if isinstance(value, datetime):
        raise ValidationError(
            "format_date takes a date; use format_datetime for a datetime", path="value"
        )
    return str(babel.dates.format_date(value, format=width, locale=get_locale(locale)))
