"""Properties of BusinessCalendar over random calendars, zones and instants around
daylight saving switches: adding then measuring gives the duration back, adding is
monotone and never lands in closed time, and is_open agrees with the openings."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from b2bcore.calendar import BusinessCalendar
from b2bcore.serialization import dumps, loads
from b2bcore.testing.strategies import aware_datetimes, business_calendars

instants = aware_datetimes(
    min_value=datetime(2025, 6, 1, tzinfo=UTC), max_value=datetime(2027, 6, 1, tzinfo=UTC)
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=80)),
    st.integers(0, 40).map(lambda n: timedelta(minutes=15 * n)),
)
TICK = timedelta(microseconds=1)


@given(business_calendars(), instants, durations)
def test_adding_then_measuring_gives_back_the_duration(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = cal.add_business_time(start, duration)
    assert due >= start
    assert due.tzinfo is UTC
    assert cal.business_time_between(start, due) == duration


@given(business_calendars(), instants, durations)
def test_never_lands_in_closed_time(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = cal.add_business_time(start, duration)
    if duration:
        # The open time accumulated right up to ``due``: it is open just before.
        assert cal.is_open(due - TICK)
    else:
        assert cal.is_open(due)
        assert due == cal.next_opening(start)


@given(business_calendars(), instants, instants, durations, durations)
def test_adding_is_monotone_in_start_and_duration(
    cal: BusinessCalendar, a: datetime, b: datetime, d1: timedelta, d2: timedelta
) -> None:
    (a, b), (d1, d2) = sorted([a, b]), sorted([d1, d2])
    assert cal.add_business_time(a, d1) <= cal.add_business_time(b, d1)
    assert cal.add_business_time(a, d1) <= cal.add_business_time(a, d2)


@given(business_calendars(), instants, durations, durations.filter(bool))
def test_adding_in_two_steps_is_adding_the_sum(
    cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    assert cal.add_business_time(cal.add_business_time(start, d1), d2) == cal.add_business_time(
        start, d1 + d2
    )


@given(business_calendars(), instants, instants, instants)
def test_measuring_is_additive_and_antisymmetric(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    between = cal.business_time_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, b) == -between(b, a)
    lo, hi = sorted([a, b])
    assert timedelta(0) <= between(lo, hi) <= hi - lo


@given(business_calendars(), instants)
def test_is_open_agrees_with_the_openings_of_the_local_day(
    cal: BusinessCalendar, at: datetime
) -> None:
    day = cal.to_local(at).date()
    openings = cal.openings(day)
    assert cal.is_open(at) == any(a <= at < b for a, b in openings)
    for a, b in openings:
        assert a < b
        assert cal.is_open(a)
        assert cal.is_open(b - TICK)
        assert cal.to_local(a).date() == day
        assert cal.to_local(b - TICK).date() == day
    for (_, end), (start, _) in itertools.pairwise(openings):
        assert end < start  # disjoint, ordered, touching ones merged


@given(business_calendars(), instants)
def test_next_opening_is_open_and_nothing_before_it_is(cal: BusinessCalendar, at: datetime) -> None:
    nxt = cal.next_opening(at)
    assert nxt >= at
    assert cal.is_open(nxt)
    assert cal.business_time_between(at, nxt) == timedelta(0)


@given(business_calendars())
def test_calendars_round_trip_through_json(cal: BusinessCalendar) -> None:
    back = loads(dumps(cal), BusinessCalendar)
    assert back == cal
    assert back.describe() == cal.describe()


@given(st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]), instants)
def test_an_always_open_calendar_measures_elapsed_time(zone: str, at: datetime) -> None:
    cal = BusinessCalendar.always_open(zone)
    day = cal.to_local(at).date()
    (opening,) = cal.openings(day)
    assert cal.to_local(opening[0]).time().isoformat() == "00:00:00"
    later = at.astimezone(UTC) + timedelta(hours=30)  # elapsed, not wall-clock, hours
    assert cal.business_time_between(at, later) == timedelta(hours=30)
    assert cal.add_business_time(at, timedelta(hours=30)) == later
