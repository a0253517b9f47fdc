"""Scheduling model: service types, resources and their availability, bookings.

A :class:`ServiceType` says what an appointment takes (duration, buffers, the slot
grid, notice, horizon, which resources with which skills, seats, the cancellation
cutoff, whether the provider confirms). A :class:`Resource` (a technician, a bay)
has skills, a time zone and an :class:`Availability` built from RFC 5545 recurrence
rules (weekly hours, n-week rotations), date overrides and holiday calendars. A
:class:`Booking` is one appointment of a buyer company, from a hold with a time to
live to completion, with its status history.

All durations are whole minutes on a 5-minute grid (:data:`GRANULE_MINUTES`), so
every appointment, with its buffers, covers whole 5-minute granules: that is what
the stores use to refuse double bookings (see :mod:`b2bcore.scheduling.ports`).

>>> from datetime import date
>>> from b2bcore.scheduling import Availability, Resource, ServiceType
>>> hours = Availability.weekly("MO,TU,WE,TH,FR", [("08:00", "12:00"), ("13:00", "17:00")])
>>> tech = Resource(id="tech-ana", name="Ana", skills={"hvac"}, timezone="Europe/Berlin",
...                 availability=hours)
>>> tech.availability.hours_on(date(2026, 3, 2))  # a Monday: minutes after midnight
((480, 720), (780, 1020))
>>> service = ServiceType(id="hvac-check", name="HVAC check", duration_minutes=60,
...                       buffer_after_minutes=15, required_skills={"hvac"})
>>> service.interval_minutes, service.requirements[0].admits(tech)
(60, True)
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import attrs
from dateutil.rrule import rrule, rrulestr

from b2bcore._validate import enum_member, text
from b2bcore.clock import require_aware, to_utc
from b2bcore.errors import InvalidTransitionError, ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    AssetId,
    BookingId,
    BusinessUnitId,
    ClaimId,
    CompanyId,
    ResourceId,
    ServiceTypeId,
    UserId,
    check_id,
)
from b2bcore.scheduling._zones import zone

__all__ = [
    "ACTIVE_STATUSES",
    "AppointmentHeld",
    "AppointmentRescheduled",
    "AppointmentStatus",
    "AppointmentStatusChanged",
    "Availability",
    "AvailabilityRule",
    "Booking",
    "Busy",
    "DateOverride",
    "GRANULE_MINUTES",
    "HolidayCalendar",
    "Resource",
    "ResourceRequirement",
    "ResourceSaved",
    "ServiceType",
    "ServiceTypeSaved",
    "StatusChange",
    "TRANSITIONS",
    "TimeRange",
    "on_grid",
]

#: Every duration, buffer, interval and appointment boundary is a multiple of this.
GRANULE_MINUTES: Final = 5
_GRANULE: Final = timedelta(minutes=GRANULE_MINUTES)
_DAY_MINUTES: Final = 24 * 60
_CLOCK_RE: Final = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)\Z")
_SKILL_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/+-]{0,49}\Z")
_ALLOWED_FREQ: Final = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_FORBIDDEN_PARTS: Final = ("DTSTART", "BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS")
#: The anchor of weekly rules when none is given: a Monday.
_DEFAULT_ANCHOR: Final = date(2024, 1, 1)


# --- small validators ----------------------------------------------------------------


def _whole(value: object, path: str, *, low: int, high: int, step: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("must be a whole number of minutes", path=path, value=value)
    if not low <= value <= high:
        raise ValidationError(f"must be from {low} to {high}", path=path, value=value)
    if value % step:
        raise ValidationError(f"must be a multiple of {step} minutes", path=path, value=value)
    return value


def _minutes(*, low: int, high: int, step: int = GRANULE_MINUTES) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        _whole(value, attribute.name, low=low, high=high, step=step)

    return check


def _optional_count(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(
            "must be None (no limit) or a whole number >= 1", path=attribute.name, value=value
        )


def _flag(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError("must be True or False", path=attribute.name, value=value)


def _skills(value: object) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a set of skill names", path="skills", value=value)
    out = set()
    for item in value:
        if not isinstance(item, str) or not _SKILL_RE.match(item):
            raise ValidationError(
                f"{item!r} is not a skill name (1-50 letters, digits, spaces and ._:/+-)",
                path="skills",
                value=item,
            )
        out.add(item)
    return frozenset(out)


def _group(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _SKILL_RE.match(value):
        raise ValidationError(
            f"{value!r} is not a resource group name (e.g. 'technician', 'bay')",
            path=attribute.name,
            value=value,
        )


def _timezone(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError("must be an IANA time zone name", path=attribute.name, value=value)
    try:
        zone(value)
    except ValidationError as e:
        raise ValidationError(e.reason, path=attribute.name, value=value) from None


def _clock(value: object, path: str) -> str:
    """A wall-clock time as ``HH:MM`` (``24:00`` allowed as an end) on the 5-minute grid."""
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValidationError(
                "a wall-clock time has whole minutes and no time zone", path=path, value=value
            )
        value = value.strftime("%H:%M")
    if not isinstance(value, str):
        raise ValidationError("must be a time such as '08:30'", path=path, value=value)
    m = _CLOCK_RE.match(value)
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValidationError(f"{value!r} is not a time such as '08:30'", path=path, value=value)
    if int(m.group(2)) % GRANULE_MINUTES:
        raise ValidationError(
            f"{value!r} is not on the {GRANULE_MINUTES}-minute grid", path=path, value=value
        )
    return value


def _start_clock(value: object) -> str:
    return _clock(value, "start")


def _end_clock(value: object) -> str:
    text_value = _clock(value, "end")
    return "24:00" if text_value == "00:00" else text_value


def _minute_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _service_type_id(value: str) -> ServiceTypeId:
    return ServiceTypeId(check_id(value, path="id"))


def _resource_id(value: str) -> ResourceId:
    return ResourceId(check_id(value, path="id"))


def _booking_id(value: str) -> BookingId:
    return BookingId(check_id(value, path="id"))


def _booking_company(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _booking_service_type(value: str) -> ServiceTypeId:
    return ServiceTypeId(check_id(value, path="service_type_id"))


def _requester(value: str) -> UserId:
    return UserId(check_id(value, path="requester_id"))


def _optional_unit(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _optional_asset(value: str | None) -> AssetId | None:
    return None if value is None else AssetId(check_id(value, path="asset_id"))


def _optional_claim(value: str | None) -> ClaimId | None:
    return None if value is None else ClaimId(check_id(value, path="claim_id"))


# --- availability ----------------------------------------------------------------------


@attrs.frozen
class TimeRange:
    """Wall-clock hours ``[start, end)`` of one day, e.g. ``TimeRange("08:00", "12:00")``.

    ``end`` may be ``"24:00"`` (``"00:00"`` means the same: midnight at the end of
    the day). Times sit on the 5-minute grid.
    """

    start: str = attrs.field(converter=_start_clock)
    end: str = attrs.field(converter=_end_clock)

    def __attrs_post_init__(self) -> None:
        if self.start_minute >= self.end_minute:
            raise ValidationError(
                f"the range must end after it starts ({self.start}-{self.end}); split a "
                "night shift into two ranges on two days",
                path="end",
                value=self.end,
            )

    @property
    def start_minute(self) -> int:
        """Minutes after midnight of ``start``."""
        return _minute_of(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after midnight of ``end`` (1440 for ``24:00``)."""
        return _minute_of(self.end)


def _ranges(value: object, path: str = "hours") -> tuple[TimeRange, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(
            "must be a list of TimeRange or (start, end) pairs", path=path, value=value
        )
    out = []
    for i, item in enumerate(value):
        if isinstance(item, TimeRange):
            out.append(item)
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            try:
                out.append(TimeRange(item[0], item[1]))
            except ValidationError as e:
                raise ValidationError(e.reason, path=f"{path}[{i}].{e.path}", value=item) from None
        else:
            raise ValidationError(
                "must be a TimeRange or a (start, end) pair", path=f"{path}[{i}]", value=item
            )
    return tuple(out)


def _merge(pairs: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(pairs):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


@functools.lru_cache(maxsize=1024)
def _parsed_rule(rule_text: str, anchor: date) -> rrule:
    # Naive on purpose: the rule picks wall-clock dates, not instants (and a naive
    # DTSTART lets UNTIL be a plain date).
    start = datetime(anchor.year, anchor.month, anchor.day)  # noqa: DTZ001
    parsed = rrulestr(rule_text, dtstart=start)
    assert isinstance(parsed, rrule)
    return parsed


def _rrule_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            "must be an RFC 5545 RRULE such as 'FREQ=WEEKLY;BYDAY=MO,TU'", path="rrule", value=value
        )
    cleaned = value.strip().removeprefix("RRULE:").upper()
    parts = {}
    for part in cleaned.split(";"):
        key, _sep, val = part.partition("=")
        parts[key] = val
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise ValidationError(
            f"FREQ must be one of {', '.join(_ALLOWED_FREQ)} (the rule picks days; the hours "
            "say when)",
            path="rrule",
            value=value,
        )
    for forbidden in _FORBIDDEN_PARTS:
        if forbidden in parts:
            raise ValidationError(
                f"{forbidden} is not allowed in an availability rule (the anchor date and "
                "the hours say where it starts and when)",
                path="rrule",
                value=value,
            )
    try:
        _parsed_rule(cleaned, _DEFAULT_ANCHOR)
    except (ValueError, TypeError) as e:
        raise ValidationError(f"not a valid RRULE: {e}", path="rrule", value=value) from None
    return cleaned


def _anchor(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a date", path="anchor", value=value)
    return value


_WEEKDAY_CODES: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@attrs.frozen
class AvailabilityRule:
    """Working hours on the days an RFC 5545 recurrence rule picks.

    ``rrule`` is the rule's text without ``DTSTART`` (``"FREQ=WEEKLY;BYDAY=MO,TU"``;
    ``INTERVAL=2`` makes a two-week rotation, ``UNTIL``/``COUNT`` end it);
    ``anchor`` is the date the recurrence starts from (the first week of a
    rotation). ``hours`` are the wall-clock ranges on each picked day, in the
    resource's time zone.

    >>> rotation = AvailabilityRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", [("09:00", "13:00")],
    ...                             anchor=date(2026, 3, 7))
    >>> [d.isoformat() for d in rotation.days(date(2026, 3, 1), date(2026, 3, 31))]
    ['2026-03-07', '2026-03-21']
    """

    rrule: str = attrs.field(converter=_rrule_text)
    hours: tuple[TimeRange, ...] = attrs.field(converter=_ranges)
    anchor: date = attrs.field(default=_DEFAULT_ANCHOR, converter=_anchor)

    def __attrs_post_init__(self) -> None:
        if not self.hours:
            raise ValidationError("a rule needs at least one range of hours", path="hours")

    @classmethod
    def weekly(
        cls,
        days: str | Sequence[str],
        hours: Sequence[TimeRange | tuple[str, str]],
        *,
        every_weeks: int = 1,
        anchor: date | None = None,
    ) -> AvailabilityRule:
        """Hours on some weekdays (``"MO,WE"`` or ``["MO", "WE"]``), every week or every
        ``every_weeks`` weeks counted from the week of ``anchor``."""
        names = days.split(",") if isinstance(days, str) else list(days)
        codes = [str(n).strip().upper()[:2] for n in names]
        if not codes or any(c not in _WEEKDAY_CODES for c in codes):
            raise ValidationError(
                "days must be weekday codes such as 'MO,TU,WE'", path="days", value=days
            )
        _whole(every_weeks, "every_weeks", low=1, high=52)
        rule = f"FREQ=WEEKLY;INTERVAL={every_weeks};BYDAY={','.join(dict.fromkeys(codes))}"
        start = anchor if anchor is not None else _DEFAULT_ANCHOR
        # Weekly rotations count weeks from the Monday of the anchor's week.
        monday = start - timedelta(days=start.weekday()) if isinstance(start, date) else start
        return cls(rule, list(hours), anchor=monday)

    def days(self, first: date, last: date) -> list[date]:
        """The days from ``first`` to ``last`` (inclusive) this rule picks."""
        parsed = _parsed_rule(self.rrule, self.anchor)
        lo = datetime(first.year, first.month, first.day)  # noqa: DTZ001 - wall dates
        hi = datetime(last.year, last.month, last.day)  # noqa: DTZ001 - wall dates
        return [d.date() for d in parsed.between(lo, hi, inc=True)]


def _override_day(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a date", path="day", value=value)
    return value


def _override_ranges(value: object) -> tuple[TimeRange, ...]:
    return _ranges(value, "hours")


@attrs.frozen
class DateOverride:
    """A change for one date: ``hours`` replace that day's regular hours (no hours:
    a day off), or are added to them when ``extra`` is true. An override also makes
    a holiday a working day."""

    day: date = attrs.field(converter=_override_day)
    hours: tuple[TimeRange, ...] = attrs.field(default=(), converter=_override_ranges)
    extra: bool = attrs.field(default=False, validator=_flag)


def _days(value: object) -> frozenset[date]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a set of dates", path="days", value=value)
    for item in value:
        if isinstance(item, datetime) or not isinstance(item, date):
            raise ValidationError("must be a date", path="days", value=item)
    return frozenset(value)


@attrs.frozen
class HolidayCalendar:
    """Named days off (public holidays of a region, a company's closing days)."""

    name: str = attrs.field(validator=text(max_length=80))
    days: frozenset[date] = attrs.field(factory=frozenset, converter=_days)


def _rules(value: object) -> tuple[AvailabilityRule, ...]:
    return _typed_tuple(value, AvailabilityRule, "rules")


def _overrides(value: object) -> tuple[DateOverride, ...]:
    return _typed_tuple(value, DateOverride, "overrides")


def _holidays(value: object) -> tuple[HolidayCalendar, ...]:
    return _typed_tuple(value, HolidayCalendar, "holidays")


def _typed_tuple(value: object, kind: type[Any], path: str) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(f"must be a list of {kind.__name__}", path=path, value=value)
    for i, item in enumerate(value):
        if not isinstance(item, kind):
            raise ValidationError(f"must be a {kind.__name__}", path=f"{path}[{i}]", value=item)
    return tuple(value)


@attrs.frozen
class Availability:
    """When a resource works, in wall-clock time of its zone: recurring ``rules``,
    then ``holidays`` (days off), then per-date ``overrides`` (which win over both).

    >>> a = Availability.weekly("MO-FR", [("08:00", "16:00")],
    ...     holidays=[HolidayCalendar("Berlin", {date(2026, 5, 1)})],
    ...     overrides=[DateOverride(date(2026, 5, 2), [("09:00", "12:00")])])
    >>> a.hours_on(date(2026, 5, 1)), a.hours_on(date(2026, 5, 2)), a.hours_on(date(2026, 5, 4))
    ((), ((540, 720),), ((480, 960),))
    """

    rules: tuple[AvailabilityRule, ...] = attrs.field(default=(), converter=_rules)
    overrides: tuple[DateOverride, ...] = attrs.field(default=(), converter=_overrides)
    holidays: tuple[HolidayCalendar, ...] = attrs.field(default=(), converter=_holidays)

    @classmethod
    def weekly(
        cls,
        days: str | Sequence[str],
        hours: Sequence[TimeRange | tuple[str, str]],
        *,
        every_weeks: int = 1,
        anchor: date | None = None,
        overrides: Sequence[DateOverride] = (),
        holidays: Sequence[HolidayCalendar] = (),
    ) -> Availability:
        """One weekly rule: ``Availability.weekly("MO,TU,WE,TH,FR", [("08:00", "17:00")])``;
        ``"MO-FR"`` is accepted for a run of days."""
        return cls(
            rules=[
                AvailabilityRule.weekly(
                    _expand_days(days), hours, every_weeks=every_weeks, anchor=anchor
                )
            ],
            overrides=list(overrides),
            holidays=list(holidays),
        )

    @property
    def holiday_days(self) -> frozenset[date]:
        """Every day off of every holiday calendar."""
        return frozenset().union(*(h.days for h in self.holidays))

    def hours_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """The merged working ranges of ``day`` as minutes after midnight."""
        return self.hours_between(day, day)[day]

    def hours_between(self, first: date, last: date) -> dict[date, tuple[tuple[int, int], ...]]:
        """:meth:`hours_on` for every day from ``first`` to ``last`` (inclusive)."""
        return _hours_between(self, first, last)


@functools.lru_cache(maxsize=4096)
def _hours_between(
    availability: Availability, first: date, last: date
) -> dict[date, tuple[tuple[int, int], ...]]:
    base: dict[date, list[tuple[int, int]]] = {}
    for rule in availability.rules:
        ranges = [(r.start_minute, r.end_minute) for r in rule.hours]
        for d in rule.days(first, last):
            base.setdefault(d, []).extend(ranges)
    holidays = availability.holiday_days
    replaced: dict[date, list[tuple[int, int]]] = {}
    extra: dict[date, list[tuple[int, int]]] = {}
    for o in availability.overrides:
        if first <= o.day <= last:
            target = extra if o.extra else replaced
            target.setdefault(o.day, []).extend((r.start_minute, r.end_minute) for r in o.hours)
    out: dict[date, tuple[tuple[int, int], ...]] = {}
    day = first
    while day <= last:
        if day in replaced:
            ranges = list(replaced[day])
        elif day in holidays and day not in extra:
            ranges = []
        else:
            ranges = list(base.get(day, ()))
        ranges.extend(extra.get(day, ()))
        out[day] = _merge(ranges)
        day += timedelta(days=1)
    return out


def _expand_days(days: str | Sequence[str]) -> list[str]:
    names = days.split(",") if isinstance(days, str) else list(days)
    out: list[str] = []
    for name in names:
        code = str(name).strip().upper()
        if "-" in code:
            a, _sep, b = code.partition("-")
            if a[:2] in _WEEKDAY_CODES and b[:2] in _WEEKDAY_CODES:
                i, j = _WEEKDAY_CODES.index(a[:2]), _WEEKDAY_CODES.index(b[:2])
                if i <= j:
                    out.extend(_WEEKDAY_CODES[i : j + 1])
                    continue
            raise ValidationError(
                f"{name!r} is not a run of weekdays such as 'MO-FR'", path="days", value=days
            )
        out.append(code)
    return out


# --- service types and resources -------------------------------------------------------


@attrs.frozen
class ResourceRequirement:
    """One resource an appointment needs: of ``group``, with at least ``skills``."""

    group: str = attrs.field(validator=_group)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=_skills)

    def admits(self, resource: Resource) -> bool:
        """Whether ``resource`` is of the group and has the skills (active or not)."""
        return resource.group == self.group and self.skills <= resource.skills


def _requirements(value: object) -> tuple[ResourceRequirement, ...]:
    return _typed_tuple(value, ResourceRequirement, "also_requires")


@attrs.define
class ServiceType(Aggregate):
    """A kind of appointment the seller offers.

    * ``duration_minutes``; ``buffer_before_minutes`` / ``buffer_after_minutes``
      keep the resource free around it (travel, cleaning): buffers of two
      appointments never overlap each other nor an appointment;
    * ``interval_minutes``: the slot grid, from the start of each working range
      (default: the duration);
    * ``min_notice_minutes``: how early before its start a slot can be booked;
      ``horizon_days``: how far ahead;
    * the resources: one of ``resource_group`` with ``required_skills``, plus one of
      each ``also_requires`` (a bay besides the technician);
    * ``capacity``: seats per resource (a training for 8); appointments of other
      service types never share a resource with it;
    * ``cutoff_minutes``: buyers cannot cancel or reschedule later than this before
      the start; ``needs_confirmation``: the provider confirms each booking;
      ``hold_minutes``: how long a hold lasts before it lapses.
    """

    id: ServiceTypeId = attrs.field(converter=_service_type_id)
    name: str = attrs.field(validator=text(max_length=120))
    duration_minutes: int = attrs.field(validator=_minutes(low=5, high=_DAY_MINUTES))
    buffer_before_minutes: int = attrs.field(default=0, validator=_minutes(low=0, high=720))
    buffer_after_minutes: int = attrs.field(default=0, validator=_minutes(low=0, high=720))
    interval_minutes: int = attrs.field(default=0, validator=_minutes(low=0, high=_DAY_MINUTES))
    min_notice_minutes: int = attrs.field(
        default=0, validator=_minutes(low=0, high=365 * _DAY_MINUTES, step=1)
    )
    horizon_days: int = attrs.field(default=60)
    resource_group: str = attrs.field(default="technician", validator=_group)
    required_skills: frozenset[str] = attrs.field(factory=frozenset, converter=_skills)
    also_requires: tuple[ResourceRequirement, ...] = attrs.field(
        default=(), converter=_requirements
    )
    capacity: int = attrs.field(default=1)
    cutoff_minutes: int = attrs.field(
        default=0, validator=_minutes(low=0, high=365 * _DAY_MINUTES, step=1)
    )
    needs_confirmation: bool = attrs.field(default=False, validator=_flag)
    hold_minutes: int = attrs.field(
        default=15, validator=_minutes(low=1, high=_DAY_MINUTES, step=1)
    )
    active: bool = attrs.field(default=True, validator=_flag)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if self.interval_minutes == 0:
            self.interval_minutes = self.duration_minutes
        _whole(self.horizon_days, "horizon_days", low=1, high=730)
        _whole(self.capacity, "capacity", low=1, high=500)
        groups = [r.group for r in self.requirements]
        if len(set(groups)) != len(groups):
            raise ValidationError(
                f"each resource group may be required once (got {groups})",
                path="also_requires",
                value=groups,
            )
        if not isinstance(self.description, str) or len(self.description) > 2000:
            raise ValidationError("must be a string of at most 2000 characters", path="description")

    @property
    def requirements(self) -> tuple[ResourceRequirement, ...]:
        """Every resource an appointment needs, the lead one (whose slot grid counts) first."""
        return (ResourceRequirement(self.resource_group, self.required_skills), *self.also_requires)

    @property
    def occupied_minutes(self) -> int:
        """Buffers and duration together."""
        return self.buffer_before_minutes + self.duration_minutes + self.buffer_after_minutes


@attrs.define
class Resource(Aggregate):
    """A technician, a bay, a van: what an appointment occupies.

    ``timezone`` is the IANA zone of its wall-clock hours, in which daily and
    weekly limits (``daily_limit``, ``weekly_limit``: appointments per local day,
    per ISO week Monday to Sunday) are counted too. An inactive resource is offered
    for nothing.
    """

    id: ResourceId = attrs.field(converter=_resource_id)
    name: str = attrs.field(validator=text(max_length=120))
    group: str = attrs.field(default="technician", validator=_group)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=_skills)
    timezone: str = attrs.field(default="UTC", validator=_timezone)
    availability: Availability = attrs.field(factory=Availability)
    daily_limit: int | None = attrs.field(default=None, validator=_optional_count)
    weekly_limit: int | None = attrs.field(default=None, validator=_optional_count)
    active: bool = attrs.field(default=True, validator=_flag)

    @availability.validator
    def _check_availability(self, _attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Availability):
            raise ValidationError("must be an Availability", path="availability", value=value)


# --- bookings ----------------------------------------------------------------------------


class AppointmentStatus(enum.Enum):
    """Where an appointment stands.

    ``held`` (a hold that lapses), ``booked`` (the buyer confirmed; the provider
    still has to), ``confirmed``, ``en_route``, ``in_progress``, ``completed``,
    ``no_show``, ``cancelled``.
    """

    HELD = "held"
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    EN_ROUTE = "en_route"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


S = AppointmentStatus

#: The moves each status allows.
TRANSITIONS: Final[dict[AppointmentStatus, frozenset[AppointmentStatus]]] = {
    S.HELD: frozenset({S.BOOKED, S.CONFIRMED, S.CANCELLED}),
    S.BOOKED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.EN_ROUTE, S.IN_PROGRESS, S.NO_SHOW, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.IN_PROGRESS, S.NO_SHOW, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.NO_SHOW: frozenset(),
    S.CANCELLED: frozenset(),
}

#: Statuses in which an appointment still occupies its resources' time
#: (everything but ``cancelled``: completed and missed ones keep their past time).
ACTIVE_STATUSES: Final = frozenset(s for s in AppointmentStatus if s is not S.CANCELLED)


def _utc_start(value: datetime) -> datetime:
    return to_utc(value, path="start")


def _utc_end(value: datetime) -> datetime:
    return to_utc(value, path="end")


def _utc_at(value: datetime) -> datetime:
    return to_utc(value, path="at")


def _utc_created(value: datetime) -> datetime:
    return to_utc(value, path="created_at")


def _optional_utc_held(value: object) -> datetime | None:
    return None if value is None else to_utc(value, path="held_until")


@attrs.frozen
class StatusChange:
    """One step of an appointment's history: the new status, when, by whom, why."""

    status: AppointmentStatus = attrs.field(validator=enum_member(AppointmentStatus))
    at: datetime = attrs.field(converter=_utc_at)
    by: str
    note: str = ""


def _resource_ids(value: object) -> tuple[ResourceId, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of resource ids", path="resource_ids", value=value)
    ids = tuple(ResourceId(check_id(v, path=f"resource_ids[{i}]")) for i, v in enumerate(value))
    if not ids or len(set(ids)) != len(ids):
        raise ValidationError(
            "an appointment needs one or more distinct resources", path="resource_ids", value=value
        )
    return ids


def _history(value: object) -> tuple[StatusChange, ...]:
    return _typed_tuple(value, StatusChange, "history")


def on_grid(value: datetime) -> bool:
    """Whether an instant sits on the 5-minute grid (whole minutes, UTC-aligned)."""
    return value.second == 0 and value.microsecond == 0 and value.minute % GRANULE_MINUTES == 0


@attrs.frozen
class Busy:
    """The time one appointment takes of one resource (what slot search needs to
    know of other companies' bookings: no names, no notes)."""

    booking_id: BookingId
    company_id: CompanyId
    resource_id: ResourceId
    service_type_id: ServiceTypeId
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime
    capacity: int = 1
    held_until: datetime | None = None

    def counts_at(self, at: datetime) -> bool:
        """Whether it still takes its time at ``at`` (a lapsed hold does not)."""
        return self.held_until is None or self.held_until > at


@attrs.define
class Booking(Aggregate):
    """One service appointment of a buyer company.

    ``start``/``end`` bound the appointment (UTC, on the 5-minute grid); the buffers
    and ``capacity`` are copied from the service type when it is held so that what
    it occupies never changes behind its back. ``resource_ids`` has one resource per
    requirement of the service type, in its order. ``held_until`` is set while the
    status is ``held``. ``history`` lists every status change; ``sequence`` counts
    changes of time or cancellation (the iCalendar SEQUENCE).
    """

    id: BookingId = attrs.field(converter=_booking_id)
    company_id: CompanyId = attrs.field(converter=_booking_company)
    service_type_id: ServiceTypeId = attrs.field(converter=_booking_service_type)
    resource_ids: tuple[ResourceId, ...] = attrs.field(converter=_resource_ids)
    start: datetime = attrs.field(converter=_utc_start)
    end: datetime = attrs.field(converter=_utc_end)
    requester_id: UserId = attrs.field(converter=_requester)
    created_at: datetime = attrs.field(converter=_utc_created)
    title: str = attrs.field(validator=text(max_length=200))
    buffer_before_minutes: int = attrs.field(default=0, validator=_minutes(low=0, high=720))
    buffer_after_minutes: int = attrs.field(default=0, validator=_minutes(low=0, high=720))
    capacity: int = attrs.field(default=1)
    status: AppointmentStatus = attrs.field(
        default=S.HELD, validator=enum_member(AppointmentStatus)
    )
    held_until: datetime | None = attrs.field(default=None, converter=_optional_utc_held)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_optional_unit)
    asset_id: AssetId | None = attrs.field(default=None, converter=_optional_asset)
    claim_id: ClaimId | None = attrs.field(default=None, converter=_optional_claim)
    notes: str = ""
    timezone: str = attrs.field(default="UTC", validator=_timezone)
    history: tuple[StatusChange, ...] = attrs.field(default=(), converter=_history)
    sequence: int = 0

    def __attrs_post_init__(self) -> None:
        self._check_times(self.start, self.end)
        _whole(self.capacity, "capacity", low=1, high=500)
        if (self.status is S.HELD) != (self.held_until is not None):
            raise ValidationError(
                "held_until is set exactly while the appointment is held",
                path="held_until",
                value=self.held_until,
            )
        if not isinstance(self.notes, str) or len(self.notes) > 2000:
            raise ValidationError("must be a string of at most 2000 characters", path="notes")

    @staticmethod
    def _check_times(start: datetime, end: datetime) -> None:
        for value, path in ((start, "start"), (end, "end")):
            if not on_grid(value):
                raise ValidationError(
                    f"must be on the {GRANULE_MINUTES}-minute grid (whole minutes, a multiple "
                    f"of {GRANULE_MINUTES})",
                    path=path,
                    value=value,
                )
        if end <= start:
            raise ValidationError("an appointment must end after it starts", path="end", value=end)
        if end - start > timedelta(days=1):
            raise ValidationError("an appointment lasts at most one day", path="end", value=end)

    # -- derived ----------------------------------------------------------------------
    @property
    def occupied_start(self) -> datetime:
        """The start with the buffer before it."""
        return self.start - timedelta(minutes=self.buffer_before_minutes)

    @property
    def occupied_end(self) -> datetime:
        """The end with the buffer after it."""
        return self.end + timedelta(minutes=self.buffer_after_minutes)

    @property
    def occupies(self) -> bool:
        """Whether it takes its resources' time (not cancelled)."""
        return self.status in ACTIVE_STATUSES

    @property
    def updated_at(self) -> datetime:
        """When it last changed (its last history entry, else its creation)."""
        return self.history[-1].at if self.history else self.created_at

    def granules(self) -> list[datetime]:
        """The 5-minute granules its time with buffers covers, in order."""
        out = []
        t = self.occupied_start
        while t < self.occupied_end:
            out.append(t)
            t += _GRANULE
        return out

    def busy(self) -> tuple[Busy, ...]:
        """What it occupies, one :class:`Busy` per resource."""
        return tuple(
            Busy(
                booking_id=self.id,
                company_id=self.company_id,
                resource_id=r,
                service_type_id=self.service_type_id,
                start=self.start,
                end=self.end,
                occupied_start=self.occupied_start,
                occupied_end=self.occupied_end,
                capacity=self.capacity,
                held_until=self.held_until,
            )
            for r in self.resource_ids
        )

    def lapsed(self, at: datetime) -> bool:
        """Whether it is a hold whose time ran out at ``at``."""
        return self.held_until is not None and self.held_until <= require_aware(at, path="at")

    # -- changes ----------------------------------------------------------------------
    @classmethod
    def hold(
        cls,
        *,
        booking_id: str,
        company_id: str,
        service_type: ServiceType,
        resource_ids: Sequence[str],
        start: datetime,
        requester_id: str,
        at: datetime,
        by: str,
        business_unit_id: str | None = None,
        asset_id: str | None = None,
        claim_id: str | None = None,
        notes: str = "",
        timezone: str = "UTC",
    ) -> Booking:
        """A new hold of ``service_type`` at ``start`` that lapses after the service
        type's ``hold_minutes`` (records :class:`AppointmentHeld`)."""
        at = to_utc(at, path="at")
        begin = to_utc(start, path="start")
        booking = cls(
            id=BookingId(booking_id),
            company_id=CompanyId(company_id),
            service_type_id=service_type.id,
            resource_ids=tuple(ResourceId(r) for r in resource_ids),
            start=begin,
            end=begin + timedelta(minutes=service_type.duration_minutes),
            requester_id=UserId(requester_id),
            created_at=at,
            title=service_type.name,
            buffer_before_minutes=service_type.buffer_before_minutes,
            buffer_after_minutes=service_type.buffer_after_minutes,
            capacity=service_type.capacity,
            status=S.HELD,
            held_until=at + timedelta(minutes=service_type.hold_minutes),
            business_unit_id=None if business_unit_id is None else BusinessUnitId(business_unit_id),
            asset_id=None if asset_id is None else AssetId(asset_id),
            claim_id=None if claim_id is None else ClaimId(claim_id),
            notes=notes,
            timezone=timezone,
            history=(StatusChange(S.HELD, at, by),),
        )
        booking.record(
            AppointmentHeld(
                company_id=booking.company_id,
                occurred_at=at,
                booking_id=booking.id,
                service_type_id=booking.service_type_id,
                resource_ids=booking.resource_ids,
                start=booking.start,
                end=booking.end,
                held_until=at + timedelta(minutes=service_type.hold_minutes),
            )
        )
        return booking

    def move(self, to: AppointmentStatus, *, at: datetime, by: str, note: str = "") -> None:
        """Change the status along :data:`TRANSITIONS` (InvalidTransitionError
        otherwise); records :class:`AppointmentStatusChanged`."""
        if not isinstance(to, AppointmentStatus):
            raise ValidationError("must be an AppointmentStatus", path="status", value=to)
        at = to_utc(at, path="at")
        if to not in TRANSITIONS[self.status]:
            raise InvalidTransitionError("appointment", self.id, self.status.value, to.value)
        before = self.status
        self.status = to
        self.held_until = None
        if to is S.CANCELLED:
            self.sequence += 1
        self.history = (*self.history, StatusChange(to, at, by, note[:500]))
        self.record(
            AppointmentStatusChanged(
                company_id=self.company_id,
                occurred_at=at,
                booking_id=self.id,
                from_status=before.value,
                to_status=to.value,
                by=by,
                note=note[:500],
            )
        )

    def reschedule(
        self,
        *,
        start: datetime,
        resource_ids: Sequence[str],
        at: datetime,
        by: str,
        needs_confirmation: bool,
    ) -> None:
        """Move the appointment to ``start`` (same duration) on ``resource_ids``.

        Held, booked and confirmed appointments can move; a confirmed one goes back
        to ``booked`` when its service type needs the provider's confirmation.
        """
        at = to_utc(at, path="at")
        begin = to_utc(start, path="start")
        if self.status not in (S.HELD, S.BOOKED, S.CONFIRMED):
            raise InvalidTransitionError("appointment", self.id, self.status.value, "rescheduled")
        end = begin + (self.end - self.start)
        self._check_times(begin, end)
        ids = _resource_ids(list(resource_ids))
        old = self.start
        self.start, self.end, self.resource_ids = begin, end, ids
        self.sequence += 1
        if self.status is S.CONFIRMED and needs_confirmation:
            self.status = S.BOOKED
            self.history = (*self.history, StatusChange(S.BOOKED, at, by, "rescheduled"))
        self.record(
            AppointmentRescheduled(
                company_id=self.company_id,
                occurred_at=at,
                booking_id=self.id,
                old_start=old,
                start=begin,
                end=end,
                resource_ids=ids,
                status=self.status.value,
            )
        )


# --- events ------------------------------------------------------------------------------


@register_event
@attrs.frozen(kw_only=True)
class ServiceTypeSaved(DomainEvent):
    """A service type was created or changed (platform-wide)."""

    event_type = "scheduling.service_type_saved"
    service_type_id: ServiceTypeId
    active: bool


@register_event
@attrs.frozen(kw_only=True)
class ResourceSaved(DomainEvent):
    """A resource was created or changed (platform-wide)."""

    event_type = "scheduling.resource_saved"
    resource_id: ResourceId
    active: bool


@register_event
@attrs.frozen(kw_only=True)
class AppointmentHeld(DomainEvent):
    """A slot was held for a buyer until ``held_until``."""

    event_type = "scheduling.appointment_held"
    booking_id: BookingId
    service_type_id: ServiceTypeId
    resource_ids: tuple[ResourceId, ...]
    start: datetime
    end: datetime
    held_until: datetime


@register_event
@attrs.frozen(kw_only=True)
class AppointmentStatusChanged(DomainEvent):
    """An appointment moved from one status to another."""

    event_type = "scheduling.appointment_status_changed"
    booking_id: BookingId
    from_status: str
    to_status: str
    by: str
    note: str = ""


@register_event
@attrs.frozen(kw_only=True)
class AppointmentRescheduled(DomainEvent):
    """An appointment got a new time (and possibly other resources)."""

    event_type = "scheduling.appointment_rescheduled"
    booking_id: BookingId
    old_start: datetime
    start: datetime
    end: datetime
    resource_ids: tuple[ResourceId, ...]
    status: str
