"""Example-based tests of b2bcore.clock: clocks and the aware-datetime rules."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from b2bcore.clock import Clock, FixedClock, SystemClock, require_aware, to_utc
from b2bcore.errors import ValidationError

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


# -- FixedClock --------------------------------------------------------------------------


def test_fixed_clock_returns_the_instant_it_was_given() -> None:
    clock = FixedClock(START)
    assert clock.now() == START
    assert clock.now() == START  # it does not move by itself
    assert clock.now().tzinfo is UTC


def test_fixed_clock_normalises_to_utc() -> None:
    clock = FixedClock(datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN))  # CEST, +02:00
    assert clock.now() == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_fixed_clock_advance_moves_and_returns_new_time() -> None:
    clock = FixedClock(START)
    assert clock.advance(timedelta(hours=2)) == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert clock.now() == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert clock.advance(timedelta(minutes=-45)) == datetime(2026, 3, 29, 1, 45, tzinfo=UTC)


def test_fixed_clock_advance_is_exact_across_a_dst_change() -> None:
    # 00:30 UTC is 01:30 CET; two real hours later Berlin shows 04:30 CEST.
    clock = FixedClock(START)
    clock.advance(timedelta(hours=2))
    assert clock.now().astimezone(BERLIN).hour == 4


def test_fixed_clock_set_jumps_and_returns_utc() -> None:
    clock = FixedClock(START)
    new = clock.set(datetime(2027, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))))
    assert new == datetime(2027, 1, 1, 17, tzinfo=UTC)
    assert new.tzinfo is UTC
    assert clock.now() == new


def test_fixed_clock_rejects_naive_start() -> None:
    with pytest.raises(ValidationError) as info:
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point
    assert info.value.path == "at"
    assert "naive" in info.value.reason


def test_fixed_clock_set_rejects_naive_and_keeps_old_time() -> None:
    clock = FixedClock(START)
    with pytest.raises(ValidationError) as info:
        clock.set(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point
    assert info.value.path == "at"
    assert clock.now() == START


def test_fixed_clock_advance_is_thread_safe() -> None:
    clock = FixedClock(START)

    def work() -> None:
        for _ in range(1_000):
            clock.advance(timedelta(seconds=1))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == START + timedelta(seconds=8_000)


def test_clocks_satisfy_the_protocol() -> None:
    assert isinstance(FixedClock(START), Clock)
    assert isinstance(SystemClock(), Clock)
    assert not isinstance(object(), Clock)


def test_fixed_clock_repr_shows_the_instant() -> None:
    assert repr(FixedClock(START)) == "FixedClock(2026-03-29T00:30:00+00:00)"


# -- SystemClock -------------------------------------------------------------------------


def test_system_clock_returns_aware_utc_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after
    assert repr(SystemClock()) == "SystemClock()"


# -- require_aware / to_utc --------------------------------------------------------------


def test_require_aware_returns_the_same_object() -> None:
    value = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)
    assert require_aware(value) is value


def test_require_aware_rejects_naive_with_path_and_value() -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the naive value is the point
    with pytest.raises(ValidationError) as info:
        require_aware(naive, path="valid_from")
    assert info.value.path == "valid_from"
    assert info.value.value is naive
    assert str(info.value).startswith("valid_from: naive datetime")


@pytest.mark.parametrize("value", [date(2026, 1, 1), "2026-01-01T00:00:00+00:00", 0, None])
def test_require_aware_rejects_non_datetimes(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        require_aware(value)
    assert info.value.path == "datetime"
    assert "expected a timezone-aware datetime" in info.value.reason


def test_to_utc_converts_offsets_and_zones() -> None:
    assert to_utc(datetime(2026, 7, 1, 14, tzinfo=BERLIN)) == datetime(2026, 7, 1, 12, tzinfo=UTC)
    converted = to_utc(datetime(2026, 1, 1, 7, tzinfo=timezone(timedelta(hours=7))))
    assert converted.tzinfo is UTC
    assert (converted.hour, converted.day) == (0, 1)


def test_to_utc_respects_fold_in_an_ambiguous_hour() -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # CEST, +02:00
    second = first.replace(fold=1)  # CET, +01:00
    assert to_utc(first) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert to_utc(second) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_to_utc_rejects_naive_with_path() -> None:
    with pytest.raises(ValidationError) as info:
        to_utc(datetime(2026, 1, 1), path="occurred_at")  # noqa: DTZ001 - the point
    assert info.value.path == "occurred_at"
