"""BusinessCalendar: working hours in a zone, holidays, daylight saving switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from b2bcore.calendar import (
    BusinessCalendar,
    WorkingHours,
    duration_from_text,
    duration_to_text,
)
from b2bcore.errors import ValidationError
from b2bcore.serialization import dumps, loads

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def berlin(*parts: int) -> datetime:
    """Berlin wall-clock time from (year, month, day[, hour, minute, second, us])."""
    year, month, day, hour, minute, second, us = (*parts, 0, 0, 0, 0)[:7]
    return datetime(year, month, day, hour, minute, second, us, tzinfo=BERLIN)


def new_york(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=NEW_YORK)


@pytest.fixture
def office() -> BusinessCalendar:
    """Mon-Fri 08:00-12:00 and 13:00-17:00 in Berlin; Christmas off."""
    return BusinessCalendar.uniform(
        "Europe/Berlin",
        [("08:00", "12:00"), ("13:00", "17:00")],
        holidays=[date(2026, 12, 24), date(2026, 12, 25)],
    )


# -- construction -------------------------------------------------------------------------


def test_working_hours_accept_names_strings_and_midnight() -> None:
    w = WorkingHours("Tue", "22:00", "24:00")
    assert (w.weekday, w.start, w.end) == (1, time(22), time(0))
    assert w.span == (timedelta(hours=22), timedelta(hours=24))
    assert w.describe() == "22:00-24:00"
    assert WorkingHours(6, time(0), time(0)).span == (timedelta(0), timedelta(hours=24))
    assert WorkingHours("friday", "08:00:30", "09:00").describe() == "08:00:30-09:00"


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("funday", "08:00", "09:00"), "weekday"),
        ((7, "08:00", "09:00"), "weekday"),
        ((True, "08:00", "09:00"), "weekday"),
        ((0, "8 am", "09:00"), "start"),
        ((0, "08:00", "25:00"), "end"),
        ((0, "24:00", "09:00"), "start"),
        ((0, "09:00", "08:00"), "end"),
        ((0, "09:00", "09:00"), "end"),
        ((0, 9, "10:00"), "start"),
        ((0, time(8, tzinfo=UTC), "10:00"), "start"),
    ],
)
def test_bad_working_hours_are_refused_naming_the_field(
    args: tuple[object, ...], path: str
) -> None:
    with pytest.raises(ValidationError) as e:
        WorkingHours(*args)
    assert e.value.path == path


def test_calendar_refuses_overlaps_empty_hours_bad_zones_and_bad_holidays() -> None:
    with pytest.raises(ValidationError, match="overlap on monday"):
        BusinessCalendar(
            timezone="UTC",
            hours=[WorkingHours(0, "08:00", "12:00"), WorkingHours(0, "11:00", "13:00")],
        )
    with pytest.raises(ValidationError, match="at least one working window"):
        BusinessCalendar(timezone="UTC", hours=[])
    with pytest.raises(ValidationError) as e:
        BusinessCalendar.uniform("Mars/Olympus", [("08:00", "12:00")])
    assert e.value.path == "timezone"
    with pytest.raises(ValidationError) as e:
        BusinessCalendar.uniform("UTC", [("08:00", "12:00")], holidays=["christmas"])
    assert e.value.path == "holidays[0]"
    with pytest.raises(ValidationError) as e:
        BusinessCalendar.uniform(
            "UTC", [("08:00", "12:00")], holidays=[datetime(2026, 1, 1, tzinfo=UTC)]
        )
    assert e.value.path == "holidays[0]"
    with pytest.raises(ValidationError):
        BusinessCalendar.uniform("UTC", "08:00-12:00")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        BusinessCalendar.uniform("UTC", [("08:00",)])  # type: ignore[list-item]


def test_touching_windows_are_allowed_and_merge_into_one_opening() -> None:
    cal = BusinessCalendar(
        timezone="UTC",
        hours=[WorkingHours(0, "12:00", "17:00"), WorkingHours(0, "08:00", "12:00")],
    )
    assert [w.describe() for w in cal.windows(0)] == ["08:00-12:00", "12:00-17:00"]
    monday = date(2026, 11, 30)
    assert cal.openings(monday) == (
        (datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 17, tzinfo=UTC)),
    )


def test_describe(office: BusinessCalendar) -> None:
    assert office.describe() == "Mon-Fri 08:00-12:00, 13:00-17:00 (Europe/Berlin); 2 holidays"
    weekend = BusinessCalendar(
        timezone="UTC",
        hours=[WorkingHours("mon", "09:00", "10:00"), WorkingHours("sat", "10:00", "12:00")],
    )
    assert weekend.describe() == "Mon 09:00-10:00; Sat 10:00-12:00 (UTC)"


# -- reading ------------------------------------------------------------------------------


def test_is_open_by_wall_clock_half_open_windows(office: BusinessCalendar) -> None:
    assert office.is_open(berlin(2026, 11, 27, 8))
    assert office.is_open(berlin(2026, 11, 27, 11, 59, 59, 999999))
    assert not office.is_open(berlin(2026, 11, 27, 12))  # lunch
    assert office.is_open(berlin(2026, 11, 27, 13))
    assert not office.is_open(berlin(2026, 11, 27, 17))
    assert not office.is_open(berlin(2026, 11, 28, 10))  # Saturday
    assert not office.is_open(berlin(2026, 12, 24, 10))  # holiday
    # The same instant given in another zone is judged in Berlin time.
    assert office.is_open(datetime(2026, 11, 27, 7, tzinfo=UTC))  # 08:00 Berlin
    assert not office.is_open(datetime(2026, 11, 27, 7, tzinfo=UTC) - timedelta(microseconds=1))


def test_naive_datetimes_and_bad_durations_are_refused(office: BusinessCalendar) -> None:
    with pytest.raises(ValidationError) as e:
        office.is_open(datetime(2026, 11, 27, 9))  # noqa: DTZ001 - the point of the test
    assert e.value.path == "at"
    with pytest.raises(ValidationError) as e:
        office.add_business_time(datetime(2026, 11, 27, 9), H)  # noqa: DTZ001
    assert e.value.path == "start"
    with pytest.raises(ValidationError) as e:
        office.add_business_time(berlin(2026, 11, 27, 9), -H)
    assert e.value.path == "duration"
    with pytest.raises(ValidationError):
        office.add_business_time(berlin(2026, 11, 27, 9), 3600)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        office.business_time_between(berlin(2026, 11, 27, 9), "tomorrow")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        office.openings(datetime(2026, 11, 27, tzinfo=UTC))


def test_next_opening(office: BusinessCalendar) -> None:
    local = office.to_local
    assert office.next_opening(berlin(2026, 11, 27, 9)) == berlin(2026, 11, 27, 9)
    assert local(office.next_opening(berlin(2026, 11, 27, 12, 30))) == berlin(2026, 11, 27, 13)
    assert local(office.next_opening(berlin(2026, 11, 27, 17))) == berlin(2026, 11, 30, 8)
    # Wednesday evening before Christmas: Thursday and Friday are holidays.
    assert local(office.next_opening(berlin(2026, 12, 23, 18))) == berlin(2026, 12, 28, 8)
    assert office.next_opening(berlin(2026, 11, 27, 9)).tzinfo is UTC


def test_add_business_time_spans_lunch_nights_weekends_and_holidays(
    office: BusinessCalendar,
) -> None:
    local = office.to_local
    friday_4pm = berlin(2026, 11, 27, 16)
    assert local(office.add_business_time(friday_4pm, H)) == berlin(2026, 11, 27, 17)
    assert local(office.add_business_time(friday_4pm, 3 * H)) == berlin(2026, 11, 30, 10)
    assert local(office.add_business_time(berlin(2026, 11, 30, 11), 2 * H)) == berlin(
        2026, 11, 30, 14
    )
    # From closed time the clock starts at the next opening; zero is that opening.
    assert local(office.add_business_time(berlin(2026, 11, 28, 3), 0 * H)) == berlin(
        2026, 11, 30, 8
    )
    assert local(office.add_business_time(berlin(2026, 12, 23, 16), 2 * H)) == berlin(
        2026, 12, 28, 9
    )
    # A whole working week is 40 business hours.
    monday = berlin(2026, 11, 30, 8)
    assert local(office.add_business_time(monday, 40 * H)) == berlin(2026, 12, 4, 17)
    assert office.business_time_between(monday, berlin(2026, 12, 7, 8)) == 40 * H


def test_business_time_between_is_antisymmetric(office: BusinessCalendar) -> None:
    a, b = berlin(2026, 11, 27, 10), berlin(2026, 11, 30, 9)
    assert office.business_time_between(a, b) == 7 * H  # 2+4 on Friday, 1 on Monday
    assert office.business_time_between(b, a) == -7 * H
    assert office.business_time_between(a, a) == timedelta(0)


# -- daylight saving ----------------------------------------------------------------------


def test_berlin_spring_forward_day_has_23_hours_and_a_skipped_hour() -> None:
    always = BusinessCalendar.always_open("Europe/Berlin")
    day = date(2026, 3, 29)
    assert always.business_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * H
    (opening,) = always.openings(day)
    assert opening[1] - opening[0] == 23 * H
    # A window 01:00-04:00 is open 01:00-02:00 CET, then 03:00-04:00 CEST: 2 hours.
    night = BusinessCalendar.uniform("Europe/Berlin", [("01:00", "04:00")], weekdays=["sun"])
    assert night.openings(day) == (
        (datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC)),
    )
    # A window inside the skipped hour never opens that day; one starting in it
    # opens when the clocks jump.
    gap = BusinessCalendar.uniform("Europe/Berlin", [("02:15", "02:45")], weekdays=["sun"])
    assert gap.openings(day) == ()
    assert gap.openings(date(2026, 4, 5)) != ()
    late = BusinessCalendar.uniform("Europe/Berlin", [("02:30", "05:00")], weekdays=["sun"])
    assert late.openings(day) == (
        (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 3, tzinfo=UTC)),
    )
    assert late.to_local(late.next_opening(berlin(2026, 3, 29, 1))).hour == 3


def test_berlin_fall_back_day_has_25_hours_and_a_repeated_hour() -> None:
    always = BusinessCalendar.always_open("Europe/Berlin")
    assert always.business_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * H
    # 02:15-02:45 happens twice on 25 October: once in CEST, once in CET.
    twice = BusinessCalendar.uniform("Europe/Berlin", [("02:15", "02:45")], weekdays=["sun"])
    assert twice.openings(date(2026, 10, 25)) == (
        (datetime(2026, 10, 25, 0, 15, tzinfo=UTC), datetime(2026, 10, 25, 0, 45, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 15, tzinfo=UTC), datetime(2026, 10, 25, 1, 45, tzinfo=UTC)),
    )
    assert twice.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # second 02:30
    assert not twice.is_open(datetime(2026, 10, 25, 1, tzinfo=UTC))  # second 02:00
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert twice.add_business_time(start, 30 * timedelta(minutes=1)) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )


def test_office_hours_across_berlin_switches_keep_their_wall_clock() -> None:
    office = BusinessCalendar.uniform("Europe/Berlin", [("09:00", "17:00")])
    friday = berlin(2026, 3, 27, 13)
    due = office.add_business_time(friday, 8 * H)
    assert office.to_local(due) == berlin(2026, 3, 30, 13)  # Monday, now in CEST
    assert due == datetime(2026, 3, 30, 11, tzinfo=UTC)
    assert due - friday.astimezone(UTC) == 71 * H  # 72 hours by the wall clock, 71 elapsed
    assert office.business_time_between(friday, due) == 8 * H


def test_new_york_switches() -> None:
    always = BusinessCalendar.always_open("America/New_York")
    assert always.business_time_between(new_york(2026, 3, 8), new_york(2026, 3, 9)) == 23 * H
    assert always.business_time_between(new_york(2026, 11, 1), new_york(2026, 11, 2)) == 25 * H
    night = BusinessCalendar.uniform("America/New_York", [("00:00", "03:00")], weekdays=["sun"])
    # 1 November: 00:00-01:00 EDT, 01:00-02:00 twice (EDT, then EST), 02:00-03:00 EST.
    (opening,) = night.openings(date(2026, 11, 1))
    assert opening == (datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC))
    # 8 March: the clocks jump from 02:00 to 03:00, so 00:00-03:00 lasts 2 hours.
    (opening,) = night.openings(date(2026, 3, 8))
    assert opening[1] - opening[0] == 2 * H
    office = BusinessCalendar.uniform("America/New_York", [("09:00", "17:00")])
    due = office.add_business_time(new_york(2026, 10, 30, 16), 2 * H)
    assert office.to_local(due) == new_york(2026, 11, 2, 10)
    assert due == datetime(2026, 11, 2, 15, tzinfo=UTC)


def test_fixed_offset_and_half_hour_zones() -> None:
    kathmandu = BusinessCalendar.uniform("Asia/Kathmandu", [("10:00", "18:00")])
    monday = date(2026, 11, 30)
    assert kathmandu.openings(monday) == (
        (datetime(2026, 11, 30, 4, 15, tzinfo=UTC), datetime(2026, 11, 30, 12, 15, tzinfo=UTC)),
    )
    plus_two = datetime(2026, 11, 30, 6, 15, tzinfo=timezone(timedelta(hours=2)))
    assert kathmandu.is_open(plus_two)  # 04:15 UTC = 10:00 Kathmandu


# -- serialization and durations ----------------------------------------------------------


def test_calendar_round_trips_through_json(office: BusinessCalendar) -> None:
    text = dumps(office)
    assert '"timezone":"Europe/Berlin"' in text
    assert '"holidays":["2026-12-24","2026-12-25"]' in text
    back = loads(text, BusinessCalendar)
    assert back == office
    assert hash(back) == hash(office)
    always = BusinessCalendar.always_open("America/New_York")
    assert loads(dumps(always), BusinessCalendar) == always


def test_bad_calendar_json_names_the_field() -> None:
    with pytest.raises(ValidationError) as e:
        loads(
            '{"timezone":"UTC","hours":[{"weekday":0,"start":"09:00","end":"08:00"}],'
            '"holidays":[]}',
            BusinessCalendar,
        )
    assert e.value.path.startswith("$.hours")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0"),
        (timedelta(hours=8), "28800"),
        (timedelta(microseconds=1), "0.000001"),
        (timedelta(seconds=-1, microseconds=500_000), "-0.5"),
        (timedelta(days=3, microseconds=120), "259200.00012"),
    ],
)
def test_durations_as_seconds_text(value: timedelta, text: str) -> None:
    assert duration_to_text(value) == text
    assert duration_from_text(text) == value
    assert loads(dumps(value), timedelta) == value


@pytest.mark.parametrize("bad", ["", "soon", "1e999999", "NaN", "Infinity", 1.5, None, True])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        duration_from_text(bad)


def test_far_instants_fail_cleanly() -> None:
    always = BusinessCalendar.always_open()
    with pytest.raises(ValidationError):
        always.add_business_time(datetime(9999, 12, 31, 12, tzinfo=UTC), timedelta(days=2))
    with pytest.raises(ValidationError):
        always.openings(date(1, 1, 1))
