"""Slot search and its explanation: pure functions, no I/O, no clock.

:func:`find_slots` lists the bookable start times of a service type in a window;
:func:`explain_unavailable` says why one start time is not bookable (or that it
is). Both judge a start ``t`` by the same rules:

* **notice and horizon**: ``now + min_notice <= t < now + horizon``;
* **grid**: ``t`` is a slot of the lead resource (the first requirement): on a
  local date ``d`` of the resource, with working ranges ``[s, e)``, the slots are
  the wall times ``s, s + interval, ...`` before ``e``; other resources (a bay)
  need no grid;
* **hours**: every instant of ``[t, t + duration)`` lies in the resource's working
  time (see the daylight saving rule below); buffers may lie outside it;
* **free**: ``[t - buffer_before, t + duration + buffer_after)`` overlaps no other
  appointment's time with its buffers on that resource, except, for a service
  type with ``capacity`` > 1, appointments of the same service type while seats
  are left; held appointments count until their hold lapses;
* **limits**: fewer appointments than the resource's ``daily_limit`` start on
  the slot's local date, and fewer than ``weekly_limit`` in its ISO week, both in
  the resource's zone;
* **skills**: the resource is active, of the requirement's group, with its skills.

A slot needs one free resource for every requirement of the service type.

Daylight saving policy. Working hours are wall-clock times; a working range of a
date covers exactly the instants whose local time falls on that date inside the
range. So:

* a wall time that does not exist (clocks jump forward over it) is neither worked
  nor offered: a grid time inside the gap has no slot, and a range that starts or
  ends inside the gap opens or closes at the jump;
* a wall time that occurs twice (clocks fall back) is worked twice, and a grid
  time inside the repeated stretch gives two slots, one per UTC offset, in time
  order;
* no slot is ever offered twice; slot ends are ``start + duration`` of elapsed
  time, so a slot across a switch shows a local end that differs from the
  start's by more or less than the duration.

>>> from datetime import datetime, timezone
>>> from b2bcore.scheduling import Availability, Resource, ServiceType, find_slots
>>> tech = Resource(id="tech-1", name="Ana", timezone="Europe/Berlin",
...                 availability=Availability.weekly("MO-FR", [("08:00", "10:00")]))
>>> check = ServiceType(id="check", name="Check", duration_minutes=30)
>>> now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
>>> window = (datetime(2026, 3, 2, tzinfo=timezone.utc), datetime(2026, 3, 3, tzinfo=timezone.utc))
>>> [s.local_start.strftime("%H:%M") for s in find_slots(check, window, [tech], [], now,
...                                                       "Europe/Berlin")]
['08:00', '08:30', '09:00', '09:30']
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final

import attrs

from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import ResourceId, ServiceTypeId
from b2bcore.scheduling._zones import instants_of, wall_preimage, zone
from b2bcore.scheduling.model import (
    Booking,
    Busy,
    Resource,
    ResourceRequirement,
    ServiceType,
    on_grid,
)

__all__ = [
    "MAX_WINDOW_DAYS",
    "ResourceFinding",
    "Slot",
    "SlotExplanation",
    "UnavailableReason",
    "explain_unavailable",
    "find_slots",
]

#: The longest window :func:`find_slots` searches at once.
MAX_WINDOW_DAYS: Final = 366
_DAY: Final = 86_400


class UnavailableReason(enum.Enum):
    """Why a start time is not bookable (on a resource, or at all)."""

    OUTSIDE_HOURS = "outside_hours"
    OFF_GRID = "off_grid"
    BUFFER = "buffer"
    NOTICE = "notice"
    HORIZON = "horizon"
    LIMIT = "limit"
    BOOKED = "booked"
    MISSING_SKILL = "missing_skill"
    NO_RESOURCE = "no_resource"
    INACTIVE = "inactive"


R = UnavailableReason


@attrs.frozen
class Slot:
    """A bookable start time.

    ``start``/``end`` are UTC; ``local_start``/``local_end`` the same instants in the
    time zone asked for (for display). ``choices`` has, per requirement of the
    service type (the lead resource first), the resources free for it;
    :attr:`resources` all of them. ``seats_left`` is what the freest lead resource
    has left (1 for a service type without seats).
    """

    service_type_id: ServiceTypeId
    start: datetime
    end: datetime
    local_start: datetime
    local_end: datetime
    choices: tuple[tuple[ResourceId, ...], ...]
    seats_left: int = 1

    @property
    def resources(self) -> tuple[ResourceId, ...]:
        """Every resource free for this slot, requirement by requirement."""
        return tuple(dict.fromkeys(r for group in self.choices for r in group))


@attrs.frozen
class ResourceFinding:
    """How one resource judged a start time: no ``reasons`` means it is free."""

    resource_id: ResourceId
    group: str
    reasons: tuple[UnavailableReason, ...]
    detail: str

    @property
    def free(self) -> bool:
        """Whether the resource could take the appointment."""
        return not self.reasons


@attrs.frozen
class SlotExplanation:
    """Whether a start time is bookable and, if not, why.

    ``reasons`` are the reasons that decide (notice or horizon, or those of the
    resources of a requirement that none could meet); ``findings`` judge every
    resource of every required group; ``notes`` say the decisive reasons in words.
    """

    service_type_id: ServiceTypeId
    start: datetime
    end: datetime
    bookable: bool
    reasons: tuple[UnavailableReason, ...]
    findings: tuple[ResourceFinding, ...]
    notes: tuple[str, ...]

    def free(self, group: str) -> tuple[ResourceId, ...]:
        """The free resources of ``group``."""
        return tuple(f.resource_id for f in self.findings if f.group == group and f.free)

    def text(self) -> str:
        """A multi-line explanation a person can read."""
        head = "bookable" if self.bookable else "not bookable"
        lines = [f"{head}: {self.start.isoformat()} - {self.end.isoformat()}"]
        lines += [f"  {n}" for n in self.notes]
        for f in self.findings:
            mark = "+" if f.free else "-"
            lines.append(f"  {mark} {f.group} {f.resource_id}: {f.detail}")
        return "\n".join(lines)


# --- input checks ----------------------------------------------------------------------


def _service_type(value: object) -> ServiceType:
    if not isinstance(value, ServiceType):
        raise ValidationError("must be a ServiceType", path="service_type", value=value)
    return value


def _resources(value: object) -> list[Resource]:
    if isinstance(value, (str, bytes, Resource)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of Resource", path="resources", value=value)
    out: dict[str, Resource] = {}
    for i, r in enumerate(value):
        if not isinstance(r, Resource):
            raise ValidationError("must be a Resource", path=f"resources[{i}]", value=r)
        if r.id in out:
            raise ValidationError(
                f"resource {r.id!r} is listed twice", path=f"resources[{i}]", value=r.id
            )
        out[r.id] = r
    return sorted(out.values(), key=lambda r: r.id)


def _busy(value: object) -> list[Busy]:
    if isinstance(value, (str, bytes, Booking, Busy)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of Booking or Busy", path="bookings", value=value)
    out: list[Busy] = []
    for i, b in enumerate(value):
        if isinstance(b, Booking):
            if b.occupies:
                out.extend(b.busy())
        elif isinstance(b, Busy):
            out.append(b)
        else:
            raise ValidationError("must be a Booking or Busy", path=f"bookings[{i}]", value=b)
    return out


def _window(value: object) -> tuple[datetime, datetime]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValidationError(
            "must be a pair (start, end) of aware datetimes", path="window", value=value
        )
    start = to_utc(value[0], path="window[0]")
    end = to_utc(value[1], path="window[1]")
    if end <= start:
        raise ValidationError("the window must end after it starts", path="window", value=value)
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise ValidationError(
            f"search at most {MAX_WINDOW_DAYS} days at once", path="window", value=value
        )
    return start, end


def _display_zone(value: object) -> tzinfo:
    if isinstance(value, str):
        try:
            return zone(value)
        except ValidationError as e:
            raise ValidationError(e.reason, path="tz", value=value) from None
    if isinstance(value, tzinfo):
        return value
    raise ValidationError("must be an IANA time zone name or a tzinfo", path="tz", value=value)


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _ts_up(value: datetime) -> int:
    """Seconds since the epoch, rounded up (for bounds compared with whole seconds)."""
    return math.ceil(value.timestamp())


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- the plan: everything both functions judge a start time by ---------------------------


@attrs.frozen
class _Entry:
    occ_start: int
    occ_end: int
    start: int
    end: int
    service_type_id: str
    booking_id: str


class _BusyIndex:
    def __init__(self, items: list[Busy], zone_name: str) -> None:
        entries = sorted(
            (
                _Entry(
                    _ts(b.occupied_start),
                    _ts(b.occupied_end),
                    _ts(b.start),
                    _ts(b.end),
                    b.service_type_id,
                    b.booking_id,
                )
                for b in items
            ),
            key=lambda e: (e.occ_start, e.occ_end),
        )
        self.entries = entries
        self.starts = [e.occ_start for e in entries]
        self.longest = max((e.occ_end - e.occ_start for e in entries), default=0)
        z = zone(zone_name)
        self.per_day: dict[date, int] = {}
        self.per_week: dict[tuple[int, int], int] = {}
        for b in items:
            local = b.start.astimezone(z).date()
            self.per_day[local] = self.per_day.get(local, 0) + 1
            week = local.isocalendar()[:2]
            self.per_week[week] = self.per_week.get(week, 0) + 1

    def overlapping(self, lo: int, hi: int) -> list[_Entry]:
        first = bisect_left(self.starts, lo - self.longest)
        last = bisect_left(self.starts, hi)
        return [e for e in self.entries[first:last] if e.occ_end > lo]


class _Plan:
    """Availability, grids and busy times of some resources around ``[lo, hi)``."""

    def __init__(
        self,
        st: ServiceType,
        resources: list[Resource],
        busy: list[Busy],
        now: datetime,
        *,
        lo: int,
        hi: int,
    ) -> None:
        self.st = st
        self.now = now
        self.dur = st.duration_minutes * 60
        self.before = st.buffer_before_minutes * 60
        self.after = st.buffer_after_minutes * 60
        self.interval = st.interval_minutes
        self.lo, self.hi = lo, hi
        self.resources = resources
        by_resource: dict[str, list[Busy]] = {}
        wanted = {r.id for r in resources}
        for b in busy:
            if b.resource_id in wanted and b.counts_at(now):
                by_resource.setdefault(b.resource_id, []).append(b)
        self.busy = {r.id: _BusyIndex(by_resource.get(r.id, []), r.timezone) for r in resources}
        self._hours: dict[str, dict[date, tuple[tuple[int, int], ...]]] = {}
        self._avail: dict[str, tuple[list[int], list[int]]] = {}

    # -- working time ---------------------------------------------------------------------
    def _dates(self, r: Resource) -> tuple[date, date]:
        z = zone(r.timezone)
        first = _dt(self.lo).astimezone(z).date() - timedelta(days=1)
        last = _dt(self.hi + self.dur).astimezone(z).date() + timedelta(days=1)
        return first, last

    def hours(self, r: Resource) -> dict[date, tuple[tuple[int, int], ...]]:
        found = self._hours.get(r.id)
        if found is None:
            first, last = self._dates(r)
            found = self._hours[r.id] = r.availability.hours_between(first, last)
        return found

    def _available(self, r: Resource) -> tuple[list[int], list[int]]:
        found = self._avail.get(r.id)
        if found is None:
            pieces: list[tuple[int, int]] = []
            for day, ranges in sorted(self.hours(r).items()):
                for s, e in ranges:
                    pieces.extend(wall_preimage(r.timezone, day, s, e))
            pieces.sort()
            starts: list[int] = []
            ends: list[int] = []
            for a, b in pieces:
                if ends and a <= ends[-1]:
                    ends[-1] = max(ends[-1], b)
                else:
                    starts.append(a)
                    ends.append(b)
            found = self._avail[r.id] = (starts, ends)
        return found

    def in_hours(self, r: Resource, t: int) -> bool:
        starts, ends = self._available(r)
        i = bisect_right(starts, t) - 1
        return i >= 0 and ends[i] >= t + self.dur

    def grid(self, r: Resource) -> list[tuple[int, date]]:
        """The lead resource's slot starts in ``[lo, hi)`` with their local dates."""
        out: list[tuple[int, date]] = []
        step = self.interval
        for day, ranges in sorted(self.hours(r).items()):
            for s, e in ranges:
                for minute in range(s, e, step):
                    out.extend(
                        (t, day)
                        for t in instants_of(r.timezone, day, minute)
                        if self.lo <= t < self.hi
                    )
        out.sort()
        return out

    def on_grid(self, r: Resource, t: int) -> bool:
        local = _dt(t).astimezone(zone(r.timezone))
        if local.second or local.microsecond:
            return False
        minute = local.hour * 60 + local.minute
        for s, e in self.hours(r).get(local.date(), ()):
            if s <= minute < e and (minute - s) % self.interval == 0:
                return True
        return False

    # -- other appointments -------------------------------------------------------------
    def conflict(self, r: Resource, t: int) -> tuple[UnavailableReason | None, int, str]:
        """(BOOKED/BUFFER or None, seats left, detail) for ``r`` at ``t``."""
        capacity = self.st.capacity
        lo, hi = t - self.before, t + self.dur + self.after
        found = self.busy[r.id].overlapping(lo, hi)
        if not found:
            return None, capacity, ""
        meets = [e for e in found if e.start < t + self.dur and t < e.end]
        first = (meets or found)[0]
        # Other companies' appointments are shown by their time only, never their id.
        what = f"the appointment {_dt(first.start):%Y-%m-%d %H:%M}-{_dt(first.end):%H:%M}Z"
        if capacity == 1 or any(e.service_type_id != self.st.id for e in found):
            if meets:
                return R.BOOKED, 0, f"booked: {what}"
            return R.BUFFER, 0, f"the buffers of this and {what} would overlap"
        points = sorted(
            [(max(e.occ_start, lo), 1) for e in found] + [(min(e.occ_end, hi), -1) for e in found],
            key=lambda p: (p[0], p[1]),
        )
        level = peak = 0
        for _at, step in points:
            level += step
            peak = max(peak, level)
        left = capacity - peak
        if left <= 0:
            return R.BOOKED, 0, f"all {capacity} seats are taken"
        return None, left, ""

    def within_limits(self, r: Resource, t: int, day: date | None = None) -> str:
        """ "" when ``r`` may take one more appointment starting at ``t``, else why not."""
        if r.daily_limit is None and r.weekly_limit is None:
            return ""
        if day is None:
            day = _dt(t).astimezone(zone(r.timezone)).date()
        index = self.busy[r.id]
        if r.daily_limit is not None and index.per_day.get(day, 0) >= r.daily_limit:
            return f"daily limit of {r.daily_limit} reached on {day.isoformat()}"
        week = day.isocalendar()[:2]
        if r.weekly_limit is not None and index.per_week.get(week, 0) >= r.weekly_limit:
            return f"weekly limit of {r.weekly_limit} reached in week {week[1]} of {week[0]}"
        return ""

    def free(self, r: Resource, t: int, day: date | None = None) -> int:
        """Seats left on ``r`` for a start at ``t`` (0: not free), grid not checked."""
        if not self.in_hours(r, t) or self.within_limits(r, t, day):
            return 0
        reason, left, _detail = self.conflict(r, t)
        return 0 if reason is not None else left


def _eligible(req: ResourceRequirement, resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if r.active and req.admits(r)]


def _bounds(st: ServiceType, now: datetime) -> tuple[datetime, datetime]:
    """The earliest start notice allows and the first start beyond the horizon."""
    return (
        now + timedelta(minutes=st.min_notice_minutes),
        now + timedelta(days=st.horizon_days),
    )


def find_slots(  # noqa: PLR0917 - the signature the scheduling issue names
    service_type: ServiceType,
    window: Sequence[datetime],
    resources: Iterable[Resource],
    bookings: Iterable[Booking | Busy],
    now: datetime,
    tz: str | tzinfo = "UTC",
) -> list[Slot]:
    """The bookable slots of ``service_type`` starting in ``window`` (``(start,
    end)``, end exclusive), in time order, each at most once.

    ``resources`` are the candidates (those of other groups are ignored);
    ``bookings`` are the appointments already made on them, of every company
    (:class:`~b2bcore.scheduling.model.Booking` or
    :class:`~b2bcore.scheduling.model.Busy`; cancelled ones and lapsed holds are
    ignored). ``now`` decides notice, horizon and which holds still count; ``tz``
    is the zone of the slots' local times. See the module documentation for the
    rules. Bad input raises :class:`~b2bcore.errors.ValidationError`.
    """
    st = _service_type(service_type)
    start, end = _window(window)
    candidates = _resources(resources)
    busy = _busy(bookings)
    now = to_utc(now, path="now")
    display = _display_zone(tz)
    earliest, beyond = _bounds(st, now)
    lo, hi = _ts_up(max(start, earliest)), _ts_up(min(end, beyond))
    if not st.active or lo >= hi:
        return []
    eligible = [_eligible(req, candidates) for req in st.requirements]
    if any(not group for group in eligible):
        return []
    plan = _Plan(st, [r for group in eligible for r in group], busy, now, lo=lo, hi=hi)
    lead: dict[int, list[tuple[str, int]]] = {}
    for r in eligible[0]:
        for t, day in plan.grid(r):
            if t % 300:
                continue  # an offset off the 5-minute grid (historical local mean time)
            seats = plan.free(r, t, day)
            if seats:
                lead.setdefault(t, []).append((r.id, seats))
    duration = st.duration_minutes * 60
    slots: list[Slot] = []
    for t in sorted(lead):
        choices = [tuple(ResourceId(rid) for rid, _seats in lead[t])]
        for group in eligible[1:]:
            free = tuple(r.id for r in group if plan.free(r, t))
            if not free:
                break
            choices.append(free)
        else:
            begin, finish = _dt(t), _dt(t + duration)
            slots.append(
                Slot(
                    service_type_id=st.id,
                    start=begin,
                    end=finish,
                    local_start=begin.astimezone(display),
                    local_end=finish.astimezone(display),
                    choices=tuple(choices),
                    seats_left=max(seats for _rid, seats in lead[t]),
                )
            )
    return slots


def _hours_text(r: Resource, plan: _Plan, t: int) -> str:
    day = _dt(t).astimezone(zone(r.timezone)).date()
    ranges = plan.hours(r).get(day, ())
    shown = ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in ranges)
    return f"{day.isoformat()}: {shown or 'no working hours'} ({r.timezone})"


def explain_unavailable(
    service_type: ServiceType,
    start: datetime,
    resources: Iterable[Resource],
    bookings: Iterable[Booking | Busy],
    now: datetime,
) -> SlotExplanation:
    """Why ``service_type`` cannot be booked at ``start`` (or that it can).

    Judges by exactly the rules of :func:`find_slots`: a start is bookable here if
    and only if :func:`find_slots` offers it (for a window containing it), with the
    same free resources.

    >>> from datetime import datetime, timezone
    >>> from b2bcore.scheduling import Availability, Resource, ServiceType
    >>> tech = Resource(id="tech-1", name="Ana", skills={"hvac"},
    ...                 availability=Availability.weekly("MO-FR", [("08:00", "16:00")]))
    >>> gas = ServiceType(id="gas", name="Gas boiler", duration_minutes=60,
    ...                   required_skills={"gas"}, min_notice_minutes=24 * 60)
    >>> now = datetime(2026, 3, 2, 7, tzinfo=timezone.utc)
    >>> why = explain_unavailable(gas, datetime(2026, 3, 2, 9, tzinfo=timezone.utc), [tech], [],
    ...                           now)
    >>> why.bookable, [r.value for r in why.reasons]
    (False, ['notice', 'missing_skill'])
    """
    st = _service_type(service_type)
    begin = to_utc(start, path="start")
    candidates = _resources(resources)
    busy = _busy(bookings)
    now = to_utc(now, path="now")
    t = _ts(begin)
    duration = st.duration_minutes * 60
    end = _dt(t + duration)
    earliest, beyond = _bounds(st, now)
    reasons: list[UnavailableReason] = []
    notes: list[str] = []
    if not st.active:
        reasons.append(R.INACTIVE)
        notes.append(f"service type {st.id!r} is not offered at the moment")
    if begin < earliest:
        reasons.append(R.NOTICE)
        notes.append(
            f"needs {st.min_notice_minutes} minutes' notice: the earliest start is "
            f"{earliest.isoformat()}"
        )
    if begin >= beyond:
        reasons.append(R.HORIZON)
        notes.append(f"books at most {st.horizon_days} days ahead (before {beyond.isoformat()})")
    if not on_grid(begin):
        reasons.append(R.OFF_GRID)
        notes.append("appointments start on whole 5-minute marks")
    groups = [r for r in candidates if any(r.group == q.group for q in st.requirements)]
    plan = _Plan(st, groups, busy, now, lo=t, hi=t + 1)
    findings: list[ResourceFinding] = []
    for index, req in enumerate(st.requirements):
        mine = [r for r in groups if r.group == req.group]
        judged = [_judge(plan, req, r, t, lead=index == 0) for r in mine]
        findings.extend(judged)
        if not mine:
            reasons.append(R.NO_RESOURCE)
            notes.append(f"no resource of group {req.group!r} was given")
        elif not any(f.free for f in judged):
            found = {reason for f in judged for reason in f.reasons}
            reasons.extend(r for r in R if r in found)
            notes.append(
                f"no {req.group} is free: "
                + "; ".join(f"{f.resource_id}: {f.detail}" for f in judged)
            )
    unique = tuple(dict.fromkeys(reasons))
    return SlotExplanation(
        service_type_id=st.id,
        start=begin,
        end=end,
        bookable=not unique,
        reasons=unique,
        findings=tuple(findings),
        notes=tuple(notes),
    )


def _judge(
    plan: _Plan, req: ResourceRequirement, r: Resource, t: int, *, lead: bool
) -> ResourceFinding:
    reasons: list[UnavailableReason] = []
    details: list[str] = []
    if not r.active:
        reasons.append(R.INACTIVE)
        details.append("inactive")
    missing = req.skills - r.skills
    if missing:
        reasons.append(R.MISSING_SKILL)
        details.append("lacks " + ", ".join(sorted(missing)))
    if not plan.in_hours(r, t):
        reasons.append(R.OUTSIDE_HOURS)
        details.append("outside working hours " + _hours_text(r, plan, t))
    elif lead and not plan.on_grid(r, t):
        reasons.append(R.OFF_GRID)
        details.append(f"not on the {plan.interval}-minute slot grid of " + _hours_text(r, plan, t))
    conflict, _left, detail = plan.conflict(r, t)
    if conflict is not None:
        reasons.append(conflict)
        details.append(detail)
    limit = plan.within_limits(r, t)
    if limit:
        reasons.append(R.LIMIT)
        details.append(limit)
    return ResourceFinding(
        resource_id=r.id,
        group=req.group,
        reasons=tuple(reasons),
        detail="; ".join(details) if details else "free",
    )
