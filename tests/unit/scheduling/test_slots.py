"""Slot search and explanations by example: daylight saving switches, buffers,
notice, horizon, limits, seats, skills and second resources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from b2bcore.errors import ValidationError
from b2bcore.scheduling import (
    Availability,
    Booking,
    DateOverride,
    Resource,
    ResourceRequirement,
    ServiceType,
    Slot,
    UnavailableReason,
    explain_unavailable,
    find_slots,
)

R = UnavailableReason
WEEK = Availability.weekly("MO-FR", [("08:00", "12:00"), ("13:00", "17:00")])
MON = datetime(2026, 3, 2, tzinfo=UTC)  # Berlin is UTC+1 until March 29
EARLY = MON - timedelta(days=7)


def tech(rid: str = "t1", **kw: object) -> Resource:
    args: dict[str, object] = {
        "id": rid,
        "name": rid,
        "timezone": "Europe/Berlin",
        "availability": WEEK,
        "skills": {"hvac"},
        **kw,
    }
    return Resource(**args)  # type: ignore[arg-type]


def local(slots: list[Slot]) -> list[str]:
    return [s.local_start.strftime("%H:%M") for s in slots]


def berlin(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


def hold(service: ServiceType, start: datetime, rid: str = "t1", company: str = "acme") -> Booking:
    b = Booking.hold(
        booking_id=f"b-{rid}-{start:%d%H%M}", company_id=company, service_type=service,
        resource_ids=[rid], start=start, requester_id="u", at=EARLY, by="u",
    )  # fmt: skip
    b.move(b.status.CONFIRMED, at=EARLY, by="u")
    return b


def day_window(day: int = 2) -> tuple[datetime, datetime]:
    return (datetime(2026, 3, day, tzinfo=UTC), datetime(2026, 3, day + 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("zone", "day", "hours", "duration", "expected"),
    [
        # 02:00-03:00 does not exist: no slot in it; 01:00 runs into 03:00 CEST
        ("Europe/Berlin", date(2026, 3, 29), ("00:00", "04:00"), 60,
         ["00:00+0100-01:00+0100", "01:00+0100-03:00+0200", "03:00+0200-04:00+0200"]),
        # 02:00-03:00 happens twice: two 02:00 slots, one per offset
        ("Europe/Berlin", date(2026, 10, 25), ("01:00", "04:00"), 60,
         ["01:00+0200-02:00+0200", "02:00+0200-02:00+0100", "02:00+0100-03:00+0100",
          "03:00+0100-04:00+0100"]),
        # Lord Howe skips 02:00-02:30
        ("Australia/Lord_Howe", date(2026, 10, 4), ("01:00", "04:00"), 30,
         ["01:00+1030-01:30+1030", "01:30+1030-02:30+1100", "02:30+1100-03:00+1100",
          "03:00+1100-03:30+1100", "03:30+1100-04:00+1100"]),
        # ... and repeats 01:30-02:00
        ("Australia/Lord_Howe", date(2026, 4, 5), ("01:00", "03:00"), 30,
         ["01:00+1100-01:30+1100", "01:30+1100-01:30+1030", "01:30+1030-02:00+1030",
          "02:00+1030-02:30+1030", "02:30+1030-03:00+1030"]),
    ],
)  # fmt: skip
def test_daylight_saving_switches(
    zone: str, day: date, hours: tuple[str, str], duration: int, expected: list[str]
) -> None:
    r = Resource(
        id="r", name="r", timezone=zone, availability=Availability.weekly("MO-SU", [hours])
    )
    service = ServiceType(id="s", name="s", duration_minutes=duration)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=15)
    now = start - timedelta(days=1)
    slots = find_slots(service, (start, start + timedelta(hours=40)), [r], [], now, zone)
    shown = [
        f"{s.local_start:%H:%M%z}-{s.local_end:%H:%M%z}"
        for s in slots
        if s.local_start.date() == day
    ]
    assert shown == expected


def test_grid_hours_and_display_zone() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=45, interval_minutes=30)
    slots = find_slots(service, day_window(), [tech()], [], EARLY, "Europe/Berlin")
    morning = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00"]
    afternoon = ["13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00"]
    assert local(slots) == morning + afternoon
    tokyo = find_slots(service, day_window(), [tech()], [], EARLY, "Asia/Tokyo")
    assert tokyo[0].local_start.strftime("%H:%M %Z") == "16:00 JST"
    assert tokyo[0].start == slots[0].start


def test_buffers_keep_appointments_apart() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=60, interval_minutes=30,
                          buffer_before_minutes=30, buffer_after_minutes=30)  # fmt: skip
    booked = hold(service, berlin(10))
    slots = find_slots(service, day_window(), [tech()], [booked], EARLY, "Europe/Berlin")
    # 10:00-11:00 with buffers 09:30-11:30; a new one needs its own buffers clear too
    assert local(slots)[:4] == ["08:00", "13:00", "13:30", "14:00"]
    assert explain_unavailable(service, berlin(9), [tech()], [booked], EARLY).reasons == (R.BUFFER,)
    assert explain_unavailable(service, berlin(10, 30), [tech()], [booked], EARLY).reasons == (
        R.BOOKED,
    )


def test_notice_horizon_and_window() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=60, min_notice_minutes=90,
                          horizon_days=1)  # fmt: skip
    now = berlin(8, 15)
    slots = find_slots(service, (MON, MON + timedelta(days=3)), [tech()], [], now, "Europe/Berlin")
    assert [f"{s.local_start:%d %H:%M}" for s in slots][:2] == ["02 10:00", "02 11:00"]
    assert slots[-1].start < now + timedelta(days=1)
    why = explain_unavailable(service, berlin(9), [tech()], [], now)
    assert why.reasons == (R.NOTICE,)
    assert "earliest start" in why.notes[0]
    assert explain_unavailable(service, berlin(10, day=3), [tech()], [], now).reasons == (
        R.HORIZON,
    )
    inside = find_slots(service, (berlin(13), berlin(15)), [tech()], [], now, "Europe/Berlin")
    assert local(inside) == ["13:00", "14:00"]


def test_daily_and_weekly_limits_count_in_the_resources_zone() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=60)
    r = tech(daily_limit=2, weekly_limit=3)
    made = [hold(service, berlin(8)), hold(service, berlin(9))]
    assert find_slots(service, day_window(), [r], made, EARLY) == []
    why = explain_unavailable(service, berlin(14), [r], made, EARLY)
    assert why.reasons == (R.LIMIT,)
    assert "daily limit of 2" in why.findings[0].detail
    third = hold(service, berlin(8, day=3))
    assert (
        local(find_slots(service, day_window(3), [r], made, EARLY, "Europe/Berlin"))[0] == "08:00"
    )
    assert find_slots(service, day_window(4), [r], [*made, third], EARLY) == []
    why = explain_unavailable(service, berlin(8, day=4), [r], [*made, third], EARLY)
    assert "weekly limit of 3" in why.text()


def test_seats_and_other_service_types() -> None:
    group = ServiceType(id="training", name="Training", duration_minutes=60, capacity=2)
    other = ServiceType(id="repair", name="Repair", duration_minutes=60)
    one = [hold(group, berlin(9))]
    slot = next(s for s in find_slots(group, day_window(), [tech()], one, EARLY)
                if s.start == berlin(9))  # fmt: skip
    assert slot.seats_left == 1
    two = [*one, hold(group, berlin(9))]
    assert berlin(9) not in {s.start for s in find_slots(group, day_window(), [tech()], two, EARLY)}
    assert explain_unavailable(group, berlin(9), [tech()], two, EARLY).reasons == (R.BOOKED,)
    assert explain_unavailable(other, berlin(9), [tech()], one, EARLY).reasons == (R.BOOKED,)
    assert explain_unavailable(
        group, berlin(9), [tech()], [hold(other, berlin(9))], EARLY
    ).reasons == (R.BOOKED,)


def test_skills_groups_and_a_second_resource() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=60, required_skills={"gas"},
                          also_requires=[ResourceRequirement("bay")])  # fmt: skip
    gas = tech("t-gas", skills={"gas"})
    bay = Resource(id="bay-1", name="Bay", group="bay", timezone="Europe/Berlin",
                   availability=Availability.weekly("MO-FR", [("10:00", "12:00")]))  # fmt: skip
    assert find_slots(service, day_window(), [tech()], [], EARLY) == []
    slots = find_slots(service, day_window(), [tech(), gas, bay], [], EARLY, "Europe/Berlin")
    assert local(slots) == ["10:00", "11:00"]
    assert slots[0].choices == (("t-gas",), ("bay-1",))
    assert slots[0].resources == ("t-gas", "bay-1")
    why = explain_unavailable(service, berlin(9), [tech(), gas, bay], [], EARLY)
    assert why.reasons == (R.OUTSIDE_HOURS,)
    assert [(f.resource_id, f.free) for f in why.findings] == [
        ("t-gas", True), ("t1", False), ("bay-1", False),
    ]  # fmt: skip
    assert why.findings[1].reasons == (R.MISSING_SKILL,)
    assert explain_unavailable(service, berlin(10), [gas], [], EARLY).reasons == (R.NO_RESOURCE,)
    off = tech("t-off", skills={"gas"}, active=False)
    assert R.INACTIVE in explain_unavailable(service, berlin(10), [off, bay], [], EARLY).reasons


def test_overrides_and_lapsed_holds() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=60)
    r = tech(availability=Availability.weekly(
        "MO-FR", [("08:00", "10:00")], overrides=[DateOverride(date(2026, 3, 2))]))  # fmt: skip
    assert find_slots(service, day_window(), [r], [], EARLY) == []
    assert local(find_slots(service, day_window(3), [r], [], EARLY, "Europe/Berlin")) == [
        "08:00", "09:00",
    ]  # fmt: skip
    held = Booking.hold(booking_id="h", company_id="x", service_type=service, resource_ids=["t1"],
                        start=berlin(8), requester_id="u", at=EARLY, by="u")  # fmt: skip
    assert berlin(8) not in {s.start for s in find_slots(service, day_window(), [tech()], [held],
                                                         EARLY)}  # fmt: skip
    lapsed = EARLY + timedelta(hours=1)
    assert berlin(8) in {
        s.start for s in find_slots(service, day_window(), [tech()], [held], lapsed)
    }


def test_off_grid_and_bad_input() -> None:
    service = ServiceType(id="s", name="S", duration_minutes=60)
    assert explain_unavailable(service, berlin(8, 30), [tech()], [], EARLY).reasons == (R.OFF_GRID,)
    why = explain_unavailable(service, berlin(8, 2), [tech()], [], EARLY)
    assert R.OFF_GRID in why.reasons
    assert not why.bookable
    bad: list[tuple[dict[str, object], str]] = [
        ({"service_type": "s"}, "service_type"),
        ({"window": (MON,)}, "window"),
        ({"window": (MON, MON)}, "window"),
        ({"window": (MON, MON + timedelta(days=400))}, "window"),
        ({"window": (datetime(2026, 3, 2), MON)}, "window[0]"),  # noqa: DTZ001
        ({"resources": tech()}, "resources"),
        ({"resources": [tech(), tech()]}, "resources[1]"),
        ({"bookings": ["b"]}, "bookings[0]"),
        ({"now": "now"}, "now"),
        ({"tz": "Nowhere/Land"}, "tz"),
    ]
    good: dict[str, object] = {
        "service_type": service, "window": day_window(), "resources": [tech()], "bookings": [],
        "now": EARLY, "tz": "UTC",
    }  # fmt: skip
    for change, path in bad:
        with pytest.raises(ValidationError) as info:
            find_slots(**{**good, **change})  # type: ignore[arg-type]
        assert info.value.path == path, change
