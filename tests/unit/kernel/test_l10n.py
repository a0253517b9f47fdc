"""Example-based tests of b2bcore.l10n: money, numbers, dates for en_US, de_DE, vi_VN.

babel (CLDR) separates amount and symbol with a NO-BREAK SPACE (U+00A0) in de_DE
and vi_VN, and puts a NARROW NO-BREAK SPACE (U+202F) before AM/PM in en_US; the
expected strings spell those out so a plain space would fail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from b2bcore.errors import ValidationError
from b2bcore.l10n import (
    SUPPORTED_LOCALES,
    format_date,
    format_datetime,
    format_decimal,
    format_money,
    get_locale,
    get_zone,
)
from b2bcore.money import Money

NBSP = "\xa0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money("1234.5", "EUR"), "en_US", "€1,234.50"),
        (Money("1234.5", "EUR"), "de_DE", f"1.234,50{NBSP}€"),
        (Money("1234.5", "EUR"), "vi_VN", f"1.234,50{NBSP}€"),
        (Money("1234.5", "USD"), "en_US", "$1,234.50"),
        (Money("1234.5", "USD"), "de_DE", f"1.234,50{NBSP}$"),
        (Money("1234.5", "USD"), "vi_VN", f"1.234,50{NBSP}US$"),
        (Money("1234567", "VND"), "en_US", "₫1,234,567"),
        (Money("1234567", "VND"), "de_DE", f"1.234.567{NBSP}₫"),
        (Money("1234567", "VND"), "vi_VN", f"1.234.567{NBSP}₫"),
        (Money("1234567", "JPY"), "en_US", "¥1,234,567"),
        (Money("1234567", "JPY"), "de_DE", f"1.234.567{NBSP}¥"),
        (Money("1234567", "JPY"), "vi_VN", f"1.234.567{NBSP}¥"),
        (Money("-1234.5", "EUR"), "en_US", "-€1,234.50"),
        (Money("-1234.5", "EUR"), "de_DE", f"-1.234,50{NBSP}€"),
        (Money("0", "EUR"), "de_DE", f"0,00{NBSP}€"),
    ],
)
def test_format_money_exact_strings(money: Money, locale: str, expected: str) -> None:
    assert format_money(money, locale=locale) == expected


def test_format_money_shows_exactly_the_minor_units() -> None:
    assert format_money(Money("5", "EUR"), locale="en_US") == "€5.00"
    assert format_money(Money("5", "KWD"), locale="en_US") == "KWD5.000"
    assert format_money(Money("5.00", "JPY"), locale="en_US") == "¥5"


def test_format_money_rounds_half_even_for_display_only() -> None:
    assert format_money(Money("0.125", "EUR"), locale="en_US") == "€0.12"
    assert format_money(Money("0.135", "EUR"), locale="en_US") == "€0.14"
    assert format_money(Money("1234.5", "JPY"), locale="en_US") == "¥1,234"
    assert format_money(Money("1235.5", "JPY"), locale="de_DE") == f"1.236{NBSP}¥"


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money("1234.5", "EUR"), "en_US", "1,234.50"),
        (Money("1234.5", "EUR"), "de_DE", "1.234,50"),
        (Money("1234567", "VND"), "vi_VN", "1.234.567"),
        (Money("1234567", "JPY"), "en_US", "1,234,567"),
        (Money("-7.5", "KWD"), "de_DE", "-7,500"),
    ],
)
def test_format_money_without_currency(money: Money, locale: str, expected: str) -> None:
    assert format_money(money, locale=locale, with_currency=False) == expected


def test_locale_accepts_a_dash() -> None:
    assert format_money(Money("1", "EUR"), locale="de-DE") == f"1,00{NBSP}€"


@pytest.mark.parametrize(
    ("locale", "expected"), [("en_US", "1,234,567.5"), ("de_DE", "1.234.567,5")]
)
def test_format_decimal(locale: str, expected: str) -> None:
    assert format_decimal(Decimal("1234567.5"), locale=locale) == expected


def test_format_decimal_refuses_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        format_decimal(1.5, locale="en_US")  # type: ignore[arg-type]


# -- dates and times --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "locale", "expected"),
    [
        # Spring forward in Berlin: 02:00 CET becomes 03:00 CEST on 2026-03-29.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "de_DE", "29.03.26, 01:30"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "de_DE", "29.03.26, 03:30"),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "en_US", f"3/29/26, 1:30{NNBSP}AM"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "en_US", f"3/29/26, 3:30{NNBSP}AM"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "vi_VN", "03:30 29/3/26"),
        # Fall back: 02:30 happens twice on 2026-10-25.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "de_DE", "25.10.26, 02:30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "de_DE", "25.10.26, 02:30"),
    ],
)
def test_format_datetime_converts_across_dst(utc: datetime, locale: str, expected: str) -> None:
    assert format_datetime(utc, locale=locale, tz="Europe/Berlin", width="short") == expected


def test_format_datetime_full_width_names_the_berlin_offset() -> None:
    before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    after = before + timedelta(hours=1)
    assert format_datetime(before, locale="de_DE", tz="Europe/Berlin", width="full") == (
        "Sonntag, 29. März 2026, 01:30:00 Mitteleuropäische Normalzeit"
    )
    assert format_datetime(after, locale="de_DE", tz="Europe/Berlin", width="full") == (
        "Sonntag, 29. März 2026, 03:30:00 Mitteleuropäische Sommerzeit"
    )


def test_format_datetime_depends_on_the_instant_not_the_input_offset() -> None:
    utc = datetime(2026, 7, 1, 10, tzinfo=UTC)
    same_instant = utc.astimezone(timezone(timedelta(hours=-5)))
    kwargs = {"locale": "de_DE", "tz": "Asia/Ho_Chi_Minh", "width": "short"}
    assert format_datetime(utc, **kwargs) == format_datetime(same_instant, **kwargs)
    assert format_datetime(utc, **kwargs) == "01.07.26, 17:00"


def test_format_datetime_defaults_to_utc() -> None:
    at = datetime(2026, 7, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(at, locale="de_DE", width="short") == "01.07.26, 10:00"


def test_format_date_per_locale() -> None:
    day = date(2026, 3, 29)
    assert format_date(day, locale="de_DE") == "29.03.2026"
    assert format_date(day, locale="en_US") == "Mar 29, 2026"
    assert format_date(day, locale="vi_VN") == "29 thg 3, 2026"


def test_format_date_refuses_a_datetime() -> None:
    with pytest.raises(ValidationError) as info:
        format_date(datetime(2026, 3, 29, tzinfo=UTC), locale="de_DE")
    assert info.value.path == "value"
    assert "format_datetime" in info.value.reason


def test_format_datetime_rejects_naive() -> None:
    with pytest.raises(ValidationError) as info:
        format_datetime(datetime(2026, 1, 1), locale="de_DE")  # noqa: DTZ001 - the point
    assert info.value.path == "value"
    assert "naive" in info.value.reason


# -- locales and zones ------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["xx_YY", "klingon", "en_ZZZ"])
def test_unknown_locale_is_a_validation_error(locale: str) -> None:
    with pytest.raises(ValidationError) as info:
        format_money(Money("1", "EUR"), locale=locale)
    assert info.value.path == "locale"
    assert info.value.value == locale


def test_empty_locale_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        get_locale("")
    assert info.value.path == "locale"


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "Europe/berlin_", "", "../etc/passwd"])
def test_unknown_zone_is_a_validation_error(tz: str) -> None:
    with pytest.raises(ValidationError) as info:
        format_datetime(datetime(2026, 1, 1, tzinfo=UTC), locale="en_US", tz=tz)
    assert info.value.path == "tz"
    assert info.value.value == tz


def test_supported_locales_all_parse() -> None:
    assert SUPPORTED_LOCALES == ("de_DE", "en_US", "vi_VN")
    for name in SUPPORTED_LOCALES:
        assert str(get_locale(name)) == name


def test_get_zone_returns_the_named_zone() -> None:
    assert get_zone("Europe/Berlin").key == "Europe/Berlin"
