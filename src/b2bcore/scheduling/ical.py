"""iCalendar (RFC 5545) export of appointments.

:func:`to_ical` writes one ``VCALENDAR`` with one ``VEVENT``: a stable ``UID``
(the same for every version of the appointment, so calendars update it in place),
``DTSTAMP``, the times in UTC or, with ``tz``, as local times with a ``TZID`` and a
``VTIMEZONE`` that lists the zone's offsets and switches around the appointment,
``STATUS`` (``TENTATIVE`` while held or awaiting confirmation, ``CONFIRMED``,
``CANCELLED``) and ``SEQUENCE`` (raised by every reschedule and by cancelling).
Lines end with CRLF and are folded at 75 octets; text is escaped.

A local time that occurs twice (clocks falling back) means its first occurrence in
iCalendar; an appointment at the second occurrence is therefore written in UTC.

>>> from datetime import datetime, timezone
>>> from b2bcore.scheduling import Booking, ServiceType, to_ical
>>> at = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
>>> check = ServiceType(id="check", name="Heating check", duration_minutes=60)
>>> b = Booking.hold(booking_id="bk-1", company_id="acme", service_type=check,
...                  resource_ids=["tech-1"], start=datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
...                  requester_id="u-1", at=at, by="u-1")
>>> print(to_ical(b).replace("\\r\\n", "\\n"))  # doctest: +ELLIPSIS
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//b2bcore//scheduling//EN
CALSCALE:GREGORIAN
METHOD:PUBLISH
BEGIN:VEVENT
UID:acme-bk-1@b2bcore
DTSTAMP:20260301T120000Z
DTSTART:20260302T090000Z
DTEND:20260302T100000Z
SUMMARY:Heating check
STATUS:TENTATIVE
SEQUENCE:0
...
END:VEVENT
END:VCALENDAR
<BLANKLINE>
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final

from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.scheduling._zones import transitions, zone
from b2bcore.scheduling.model import AppointmentStatus, Booking

__all__ = ["to_ical"]

_STATUS: Final = {
    AppointmentStatus.HELD: "TENTATIVE",
    AppointmentStatus.BOOKED: "TENTATIVE",
    AppointmentStatus.CONFIRMED: "CONFIRMED",
    AppointmentStatus.EN_ROUTE: "CONFIRMED",
    AppointmentStatus.IN_PROGRESS: "CONFIRMED",
    AppointmentStatus.COMPLETED: "CONFIRMED",
    AppointmentStatus.NO_SHOW: "CONFIRMED",
    AppointmentStatus.CANCELLED: "CANCELLED",
}


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Split a content line into 75-octet pieces (never inside a UTF-8 character)."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _vtimezone(name: str, first: date, last: date) -> list[str]:
    z = zone(name)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    offset = start.astimezone(z).utcoffset() or timedelta(0)
    dst = start.astimezone(z).dst() or timedelta(0)
    initial = int(offset.total_seconds())
    kind = "DAYLIGHT" if dst else "STANDARD"
    lines += [
        f"BEGIN:{kind}",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{_offset_text(initial)}",
        f"TZOFFSETTO:{_offset_text(initial)}",
        f"TZNAME:{start.astimezone(z).tzname()}",
        f"END:{kind}",
    ]
    for at, before, after in transitions(name, first, last):
        moment = datetime.fromtimestamp(at, UTC)
        local = moment.astimezone(z)
        kind = "DAYLIGHT" if local.dst() else "STANDARD"
        wall_before = (moment + timedelta(seconds=before)).replace(tzinfo=None)
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{wall_before:%Y%m%dT%H%M%S}",
            f"TZOFFSETFROM:{_offset_text(before)}",
            f"TZOFFSETTO:{_offset_text(after)}",
            f"TZNAME:{local.tzname()}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def _local_or_utc(name: str, prop: str, value: datetime) -> str:
    """``PROP;TZID=zone:local`` when that local time names ``value`` unambiguously
    (or as its first occurrence), else ``PROP:utc``."""
    z = zone(name)
    local = value.astimezone(z)
    naive = local.replace(tzinfo=None)
    if naive.replace(tzinfo=z, fold=0).astimezone(UTC) != value.astimezone(UTC):
        return f"{prop}:{_utc_text(value)}"
    return f"{prop};TZID={name}:{naive:%Y%m%dT%H%M%S}"


def to_ical(
    booking: Booking,
    *,
    stamp: datetime | None = None,
    tz: str | None = None,
    uid_domain: str = "b2bcore",
) -> str:
    """The appointment as an RFC 5545 calendar (text with CRLF line ends).

    ``stamp`` is the ``DTSTAMP`` (default: when the booking last changed, so the
    output depends on the booking only); ``tz`` an IANA zone for local times
    (default: UTC times); ``uid_domain`` the right-hand side of the ``UID``.
    """
    if not isinstance(booking, Booking):
        raise ValidationError("must be a Booking", path="booking", value=booking)
    stamped = booking.updated_at if stamp is None else to_utc(stamp, path="stamp")
    if not isinstance(uid_domain, str) or not uid_domain or any(c in uid_domain for c in "\r\n@"):
        raise ValidationError("must be a domain name", path="uid_domain", value=uid_domain)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//b2bcore//scheduling//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if tz is not None:
        try:
            zone(tz)
        except ValidationError as e:
            raise ValidationError(e.reason, path="tz", value=tz) from None
        first = (booking.start - timedelta(days=1)).date()
        last = (booking.end + timedelta(days=1)).date()
        lines += _vtimezone(tz, date(first.year, 1, 1), date(last.year, 12, 31))
        start_line = _local_or_utc(tz, "DTSTART", booking.start)
        end_line = _local_or_utc(tz, "DTEND", booking.end)
    else:
        start_line = f"DTSTART:{_utc_text(booking.start)}"
        end_line = f"DTEND:{_utc_text(booking.end)}"
    details = [f"Status: {booking.status.value}", f"Resources: {', '.join(booking.resource_ids)}"]
    if booking.asset_id is not None:
        details.append(f"Asset: {booking.asset_id}")
    if booking.claim_id is not None:
        details.append(f"Claim: {booking.claim_id}")
    if booking.notes:
        details.append(booking.notes)
    lines += [
        "BEGIN:VEVENT",
        f"UID:{_escape(booking.company_id)}-{_escape(booking.id)}@{uid_domain}",
        f"DTSTAMP:{_utc_text(stamped)}",
        start_line,
        end_line,
        f"SUMMARY:{_escape(booking.title)}",
        f"STATUS:{_STATUS[booking.status]}",
        f"SEQUENCE:{booking.sequence}",
        f"DESCRIPTION:{_escape(chr(10).join(details))}",
        f"X-B2BCORE-STATUS:{booking.status.value}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)
