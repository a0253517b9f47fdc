"""Scheduling models: validation with paths, availability rules, the appointment
lifecycle and its events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from b2bcore.errors import InvalidTransitionError, ValidationError
from b2bcore.scheduling import (
    AppointmentHeld,
    AppointmentRescheduled,
    AppointmentStatus,
    AppointmentStatusChanged,
    Availability,
    AvailabilityRule,
    Booking,
    DateOverride,
    HolidayCalendar,
    Resource,
    ResourceRequirement,
    ServiceType,
    TimeRange,
)
from b2bcore.serialization import structure, unstructure

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
S = AppointmentStatus
CHECK = ServiceType(id="check", name="Check", duration_minutes=60, buffer_before_minutes=15)


def hold(start: datetime = datetime(2026, 3, 2, 9, tzinfo=UTC)) -> Booking:
    return Booking.hold(
        booking_id="bk-1",
        company_id="acme",
        service_type=CHECK,
        resource_ids=["tech-1"],
        start=start,
        requester_id="u-1",
        at=AT,
        by="u-1",
    )


@pytest.mark.parametrize(
    ("start", "end", "path"),
    [
        ("08:00", "08:00", "end"),
        ("9:00", "10:00", "start"),
        ("08:03", "10:00", "start"),
        ("08:00", "24:30", "end"),
        ("25:00", "26:00", "start"),
        (480, "10:00", "start"),
    ],
)
def test_time_ranges_are_checked(start: object, end: object, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        TimeRange(start, end)
    assert info.value.path == path


def test_time_ranges_accept_times_and_midnight_as_the_end() -> None:
    assert TimeRange(time(8), "00:00").end == "24:00"
    assert TimeRange("22:00", "24:00").end_minute == 1440


def test_rules_pick_days_and_rotate() -> None:
    rota = AvailabilityRule.weekly("MO,TU", [("06:00", "14:00")], every_weeks=2,
                                   anchor=date(2026, 3, 4))  # fmt: skip
    assert rota.anchor == date(2026, 3, 2)  # the Monday of the anchor's week
    assert rota.days(date(2026, 3, 1), date(2026, 3, 22)) == [
        date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 16), date(2026, 3, 17),
    ]  # fmt: skip
    monthly = AvailabilityRule("FREQ=MONTHLY;BYDAY=1SA;UNTIL=20260630", [("09:00", "12:00")])
    assert monthly.days(date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 3), date(2026, 2, 7), date(2026, 3, 7), date(2026, 4, 4),
        date(2026, 5, 2), date(2026, 6, 6),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["FREQ=HOURLY", "FREQ=WEEKLY;BYHOUR=9", "DTSTART=20260101;FREQ=DAILY", "nonsense", "", 7],
)
def test_bad_rules_are_refused(text: object) -> None:
    with pytest.raises(ValidationError) as info:
        AvailabilityRule(text, [("08:00", "09:00")])
    assert info.value.path == "rrule"


def test_overrides_and_holidays() -> None:
    hours = Availability.weekly(
        "MO-FR",
        [("08:00", "12:00")],
        holidays=[HolidayCalendar("DE-BE", {date(2026, 5, 1), date(2026, 5, 14)})],
        overrides=[
            DateOverride(date(2026, 5, 14), [("10:00", "12:00")]),  # works on a holiday
            DateOverride(date(2026, 5, 4), [("13:00", "15:00")], extra=True),
            DateOverride(date(2026, 5, 5)),  # a day off
            DateOverride(date(2026, 5, 6), [("11:00", "14:00")], extra=True),  # merged
        ],
    )
    got = hours.hours_between(date(2026, 5, 1), date(2026, 5, 6))
    assert got == {
        date(2026, 5, 1): (),
        date(2026, 5, 2): (),
        date(2026, 5, 3): (),
        date(2026, 5, 4): ((480, 720), (780, 900)),
        date(2026, 5, 5): (),
        date(2026, 5, 6): ((480, 840),),
    }
    assert hours.hours_on(date(2026, 5, 14)) == ((600, 720),)
    with pytest.raises(ValidationError):
        Availability.weekly("MO-XX", [("08:00", "12:00")])


def test_service_type_validation_names_the_field() -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"duration_minutes": 7}, "duration_minutes"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"buffer_after_minutes": -5}, "buffer_after_minutes"),
        ({"interval_minutes": True}, "interval_minutes"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"capacity": 0}, "capacity"),
        ({"required_skills": "gas"}, "skills"),
        ({"also_requires": [ResourceRequirement("technician")]}, "also_requires"),
        ({"needs_confirmation": "yes"}, "needs_confirmation"),
    ]
    for change, path in cases:
        kw: dict[str, object] = {"id": "s", "name": "S", "duration_minutes": 30, **change}
        with pytest.raises(ValidationError) as info:
            ServiceType(**kw)  # type: ignore[arg-type]
        assert info.value.path == path, change
    assert ServiceType(id="s", name="S", duration_minutes=45).interval_minutes == 45


def test_resource_validation() -> None:
    with pytest.raises(ValidationError) as info:
        Resource(id="r", name="R", timezone="Mars/Olympus")
    assert info.value.path == "timezone"
    with pytest.raises(ValidationError):
        Resource(id="r", name="R", daily_limit=0)
    with pytest.raises(ValidationError):
        Resource(id="r", name="R", availability="always")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Resource(id="r", name="R", group="")


def test_hold_copies_the_service_type_and_records_an_event() -> None:
    b = hold()
    assert (b.status, b.end, b.held_until) == (S.HELD, b.start + timedelta(hours=1),
                                                AT + timedelta(minutes=15))  # fmt: skip
    assert b.occupied_start == b.start - timedelta(minutes=15)
    assert len(b.granules()) == 15
    assert [type(e) for e in b.pull_events()] == [AppointmentHeld]
    assert b.busy()[0].counts_at(AT)
    assert not b.busy()[0].counts_at(AT + timedelta(minutes=15))


def test_lifecycle_follows_the_transitions() -> None:
    b = hold()
    b.pull_events()
    b.move(S.CONFIRMED, at=AT, by="u-1")
    assert b.held_until is None
    b.move(S.EN_ROUTE, at=AT, by="tech")
    b.move(S.IN_PROGRESS, at=AT, by="tech")
    with pytest.raises(InvalidTransitionError) as info:
        b.move(S.CANCELLED, at=AT, by="u-1")
    assert (info.value.from_state, info.value.to_state) == ("in_progress", "cancelled")
    b.move(S.COMPLETED, at=AT, by="tech")
    assert [h.status for h in b.history] == [S.HELD, S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS,
                                             S.COMPLETED]  # fmt: skip
    assert {type(e) for e in b.pull_events()} == {AppointmentStatusChanged}
    with pytest.raises(ValidationError):
        b.move("completed", at=AT, by="x")  # type: ignore[arg-type]


def test_reschedule_keeps_the_duration_and_counts_the_sequence() -> None:
    b = hold()
    b.move(S.CONFIRMED, at=AT, by="u-1")
    b.pull_events()
    later = datetime(2026, 3, 3, 14, tzinfo=UTC)
    b.reschedule(start=later, resource_ids=["tech-2"], at=AT, by="u-1", needs_confirmation=True)
    assert (b.start, b.end, b.resource_ids, b.sequence) == (
        later, later + timedelta(hours=1), ("tech-2",), 1,
    )  # fmt: skip
    assert b.status is S.BOOKED  # the provider must confirm the new time
    assert [type(e) for e in b.pull_events()] == [AppointmentRescheduled]
    with pytest.raises(ValidationError):
        b.reschedule(start=later + timedelta(minutes=2), resource_ids=["tech-2"], at=AT, by="u",
                     needs_confirmation=False)  # fmt: skip
    b.move(S.CANCELLED, at=AT, by="u-1")
    assert b.sequence == 2
    with pytest.raises(InvalidTransitionError):
        b.reschedule(start=later, resource_ids=["tech-2"], at=AT, by="u", needs_confirmation=False)


def test_booking_validation() -> None:
    with pytest.raises(ValidationError) as info:
        hold(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    assert info.value.path == "start"
    with pytest.raises(ValidationError):
        hold(datetime(2026, 3, 2, 9))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValidationError):
        Booking.hold(
            booking_id="b",
            company_id="acme",
            service_type=CHECK,
            resource_ids=["t", "t"],
            start=AT,
            requester_id="u",
            at=AT,
            by="u",
        )


def test_models_round_trip_through_json() -> None:
    b = hold()
    b.move(S.CONFIRMED, at=AT, by="u-1")
    assert structure(unstructure(b), Booking) == b
    saturdays = Availability.weekly(
        "SA", [("09:00", "13:00")], every_weeks=2, holidays=[HolidayCalendar("x", {AT.date()})]
    )
    tech = Resource(
        id="t", name="T", skills={"gas", "hvac"}, timezone="Asia/Kolkata", availability=saturdays
    )
    assert structure(unstructure(tech), Resource) == tech
    gas = ServiceType(id="g", name="G", duration_minutes=90, also_requires=[
        ResourceRequirement("bay", {"lift"})])  # fmt: skip
    assert structure(unstructure(gas), ServiceType) == gas
