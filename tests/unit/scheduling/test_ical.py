"""iCalendar export, read back with the independent ``icalendar`` parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.errors import ValidationError
from b2bcore.scheduling import AppointmentStatus, Booking, ServiceType, to_ical

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
SERVICE = ServiceType(id="check", name="Heizung prüfen; Kessel, Brenner", duration_minutes=90)


def booking(start: datetime, *, notes: str = "") -> Booking:
    return Booking.hold(
        booking_id="bk-7",
        company_id="acme",
        service_type=SERVICE,
        resource_ids=["tech-ana", "bay-1"],
        start=start,
        requester_id="u-1",
        at=AT,
        by="u-1",
        asset_id="pump-7",
        notes=notes,
    )


def event(text: str) -> Any:
    cal = icalendar.Calendar.from_ical(text)
    (found,) = [c for c in cal.walk() if c.name == "VEVENT"]
    return found


def test_utc_export_parses_with_uid_stamp_times_and_status() -> None:
    b = booking(datetime(2026, 3, 2, 9, tzinfo=UTC), notes="Gate code 1234,\nring twice")
    text = to_ical(b)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    e = event(text)
    assert str(e["UID"]) == "acme-bk-7@b2bcore"
    assert e.decoded("DTSTAMP") == AT
    assert e.decoded("DTSTART") == b.start
    assert e.decoded("DTEND") == b.end
    assert str(e["SUMMARY"]) == SERVICE.name
    assert str(e["STATUS"]) == "TENTATIVE"
    assert "Gate code 1234,\nring twice" in str(e["DESCRIPTION"])
    b.move(AppointmentStatus.CONFIRMED, at=AT + timedelta(minutes=5), by="u-1")
    assert event(to_ical(b)).decoded("DTSTAMP") == AT + timedelta(minutes=5)
    b.move(AppointmentStatus.CANCELLED, at=AT + timedelta(minutes=9), by="u-1")
    cancelled = event(to_ical(b, stamp=AT + timedelta(hours=1), uid_domain="portal.example"))
    assert (str(cancelled["STATUS"]), cancelled["SEQUENCE"]) == ("CANCELLED", 1)
    assert str(cancelled["UID"]) == "acme-bk-7@portal.example"


@pytest.mark.parametrize(
    ("zone", "start", "local"),
    [
        ("Europe/Berlin", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "20260329T013000"),
        ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, tzinfo=UTC), "20261004T013000"),
        ("America/St_Johns", datetime(2026, 6, 1, 12, tzinfo=UTC), "20260601T093000"),
    ],
)
def test_local_times_with_a_vtimezone(zone: str, start: datetime, local: str) -> None:
    text = to_ical(booking(start), tz=zone)
    assert f"DTSTART;TZID={zone}:{local}" in text
    cal = icalendar.Calendar.from_ical(text)
    assert [c["TZID"] for c in cal.walk("VTIMEZONE")] == [zone]
    e = event(text)
    assert e.decoded("DTSTART") == start  # the parser resolves the TZID to the same instant
    assert e.decoded("DTEND") == start + timedelta(minutes=90)


def test_the_second_of_a_repeated_hour_is_written_in_utc() -> None:
    second = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)  # 02:15 CET, after 02:15 CEST
    text = to_ical(booking(second), tz="Europe/Berlin")
    assert "DTSTART:20261025T011500Z" in text
    assert event(text).decoded("DTSTART") == second


@given(st.text(max_size=300))
def test_any_notes_survive_escaping_and_folding(notes: str) -> None:
    cleaned = notes.replace("\r", "")
    text = to_ical(booking(datetime(2026, 3, 2, 9, tzinfo=UTC), notes=cleaned))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert str(event(text)["DESCRIPTION"]).endswith(cleaned) or not cleaned


def test_bad_input() -> None:
    with pytest.raises(ValidationError):
        to_ical("bk-7")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        to_ical(booking(datetime(2026, 3, 2, 9, tzinfo=UTC)), tz="Mars/Base")
    with pytest.raises(ValidationError):
        to_ical(booking(datetime(2026, 3, 2, 9, tzinfo=UTC)), stamp=datetime(2026, 1, 1))  # noqa: DTZ001
