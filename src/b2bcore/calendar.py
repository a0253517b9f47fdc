"""Business time: working hours in a time zone, and holidays.

A :class:`BusinessCalendar` is the one clock of business hours in b2bcore, shared
by approval escalation, claim SLAs and scheduling. It says when a business is open
(per weekday, possibly split: 08:00-12:00 and 13:00-17:00), in which IANA time
zone those wall-clock hours are meant, and which dates are holidays. It answers
"is it open now?", "when does it open next?", "when are 8 business hours up?" and
"how much business time passed between two instants?".

>>> from datetime import date, datetime, timedelta, timezone
>>> from b2bcore.calendar import BusinessCalendar
>>> berlin = BusinessCalendar.uniform(
...     "Europe/Berlin", [("08:00", "12:00"), ("13:00", "17:00")],
...     holidays=[date(2026, 12, 24), date(2026, 12, 25)])
>>> friday = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)  # 16:00 in Berlin
>>> due = berlin.add_business_time(friday, timedelta(hours=3))
>>> berlin.to_local(due).isoformat()  # one hour on Friday, two on Monday morning
'2026-11-30T10:00:00+01:00'
>>> berlin.business_time_between(friday, due)
datetime.timedelta(seconds=10800)
>>> berlin.is_open(friday), berlin.is_open(due)
(True, True)
>>> berlin.to_local(berlin.next_opening(datetime(2026, 12, 23, 17, tzinfo=timezone.utc)))
datetime.datetime(2026, 12, 28, 8, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/Berlin'))

Rules of the calendar:

* Only aware datetimes are accepted (a naive one is a
  :class:`~b2bcore.errors.ValidationError`); results are aware datetimes in UTC
  (:meth:`BusinessCalendar.to_local` shows them in the calendar's zone). Do
  arithmetic on instants in UTC: Python subtracts two datetimes of the same
  ``ZoneInfo`` by wall clock, not by elapsed time.
* The calendar is open at every instant whose local wall-clock time lies inside a
  working window of a working day that is not a holiday. Across daylight saving
  switches this is exact: an hour the clocks skip is never open, an hour the clocks
  repeat is open twice when it lies inside a window, and a window that starts or
  ends inside the skipped hour opens or closes when the clocks jump.
* Windows are half-open ``[start, end)``; an ``end`` of ``00:00`` (or ``"24:00"``)
  means midnight at the end of the day.
* :meth:`~BusinessCalendar.add_business_time` returns the instant at which the
  open time after ``start`` reaches ``duration``: an open instant or the exact
  closing instant of a window, never an instant inside closed time. Adding zero
  gives :meth:`~BusinessCalendar.next_opening`. Measuring back with
  :meth:`~BusinessCalendar.business_time_between` gives the duration again, to the
  microsecond.

Durations (``timedelta``) serialize through :mod:`b2bcore.serialization` as a
string of seconds (``"28800"``, ``"0.5"``) once this module is imported; the
calendar itself round-trips as JSON like every model.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs

from b2bcore.clock import require_aware
from b2bcore.errors import ValidationError
from b2bcore.l10n import get_zone
from b2bcore.serialization import converter

__all__ = [
    "BusinessCalendar",
    "WEEKDAYS",
    "WorkingHours",
    "duration_from_text",
    "duration_to_text",
]

#: Weekday names as :meth:`datetime.date.weekday` numbers them (Monday is 0).
WEEKDAYS: Final[tuple[str, ...]] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

_MIDNIGHT: Final = time(0)
_ONE_DAY: Final = timedelta(days=1)
_ZERO: Final = timedelta(0)
# UTC instants whose local date is d lie within this margin around d's UTC day
# (offsets range from -12 to +14 hours today; local mean times reached +-16).
_MARGIN: Final = timedelta(hours=27)
_SAMPLE: Final = timedelta(hours=3)
# How many days next_opening / add_business_time look ahead without any opening
# before giving up (plus one day per holiday).
_LOOKAHEAD_DAYS: Final = 400
# Longest duration timedelta holds (999999999 days), in seconds; and a private
# decimal context (never the thread's global one).
_MAX_SECONDS: Final = 86_399_999_999_999
_EXACT: Final = Context(prec=60, traps=[Inexact, InvalidOperation, Overflow])


# -- durations ----------------------------------------------------------------------------


def duration_to_text(value: timedelta) -> str:
    """A duration as a string of seconds, exact to the microsecond.

    >>> duration_to_text(timedelta(hours=8)), duration_to_text(timedelta(milliseconds=-1500))
    ('28800', '-1.5')
    """
    micros = value // timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    if fraction == 0:
        return f"{sign}{seconds}"
    return f"{sign}{seconds}.{fraction:06d}".rstrip("0")


def duration_from_text(value: object, *, path: str = "duration") -> timedelta:
    """Parse :func:`duration_to_text`'s form (an int is taken as seconds too).

    >>> duration_from_text("5400")
    datetime.timedelta(seconds=5400)
    >>> duration_from_text("1.0000001")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    b2bcore.errors.ValidationError: duration: '1.0000001' is finer than a microsecond...
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(
            "a duration is a string of seconds such as '28800' or '0.5'", path=path, value=value
        )
    try:
        seconds = Decimal(value)
    except InvalidOperation:
        raise ValidationError(
            f"{value!r} is not a number of seconds", path=path, value=value
        ) from None
    if not seconds.is_finite():
        raise ValidationError(f"{value!r} is not a number of seconds", path=path, value=value)
    if abs(seconds) > _MAX_SECONDS:
        raise ValidationError(f"{value!r} is too long a duration", path=path, value=value)
    micros = seconds.scaleb(6, _EXACT)
    if micros != micros.to_integral_value():
        raise ValidationError(
            f"{value!r} is finer than a microsecond; durations are exact to microseconds",
            path=path,
            value=value,
        )
    return timedelta(microseconds=int(micros))


def _structure_timedelta(value: object, _: type) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a string of seconds, got {type(value).__name__}")
    return duration_from_text(value, path="")


converter.register_unstructure_hook(timedelta, duration_to_text)
converter.register_structure_hook(timedelta, _structure_timedelta)


# -- working hours ------------------------------------------------------------------------


def _weekday(value: object) -> int:
    if isinstance(value, str):
        name = value.strip().lower()
        for number, full in enumerate(WEEKDAYS):
            if name in (full, full[:3]):
                return number
        raise ValidationError(
            f"{value!r} is not a weekday (monday ... sunday, or mon ... sun)",
            path="weekday",
            value=value,
        )
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValidationError(
            "a weekday is 0 (Monday) to 6 (Sunday) or a name such as 'mon'",
            path="weekday",
            value=value,
        )
    return value


def _clock_time(value: object, path: str, *, end: bool) -> time:
    if isinstance(value, str):
        text = value.strip()
        if end and text in ("24:00", "24:00:00"):
            return _MIDNIGHT
        try:
            value = time.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                f"{value!r} is not a wall-clock time such as '08:00'", path=path, value=value
            ) from None
    if not isinstance(value, time):
        raise ValidationError("must be a time such as '08:00'", path=path, value=value)
    if value.tzinfo is not None:
        raise ValidationError(
            "working hours are wall-clock times of the calendar's zone; give them without "
            "a time zone",
            path=path,
            value=value,
        )
    return value.replace(fold=0)


def _start(value: object) -> time:
    return _clock_time(value, "start", end=False)


def _end(value: object) -> time:
    return _clock_time(value, "end", end=True)


def _seconds(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


@attrs.frozen(order=False)
class WorkingHours:
    """One working window ``[start, end)`` on one weekday (0 = Monday), in wall-clock
    time of the calendar's zone. ``end`` ``00:00`` (or ``"24:00"``) means midnight.

    >>> WorkingHours("mon", "08:00", "12:00")
    WorkingHours(weekday=0, start=datetime.time(8, 0), end=datetime.time(12, 0))
    """

    weekday: int = attrs.field(converter=_weekday)
    start: time = attrs.field(converter=_start)
    end: time = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end != _MIDNIGHT and self.end <= self.start:
            raise ValidationError(
                f"a working window must end after it starts ({self.start.isoformat()} - "
                f"{self.end.isoformat()}); use '24:00' for midnight",
                path="end",
                value=self.end,
            )

    @property
    def span(self) -> tuple[timedelta, timedelta]:
        """Start and end as offsets from local midnight (the end may be 24 hours)."""
        end = _ONE_DAY if self.end == _MIDNIGHT else _seconds(self.end)
        return _seconds(self.start), end

    def describe(self) -> str:
        """``08:00-12:00`` (``24:00`` for midnight)."""

        def show(t: time) -> str:
            return t.isoformat(timespec="minutes" if not (t.second or t.microsecond) else "auto")

        end = "24:00" if self.end == _MIDNIGHT else show(self.end)
        return f"{show(self.start)}-{end}"


def _hours(value: object) -> tuple[WorkingHours, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of WorkingHours", path="hours", value=value)
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, WorkingHours):
            raise ValidationError("must be a WorkingHours", path=f"hours[{i}]", value=item)
    if not items:
        raise ValidationError(
            "a business calendar needs at least one working window", path="hours", value=value
        )
    ordered = sorted(items, key=lambda w: (w.weekday, w.span))
    for before, after in itertools.pairwise(ordered):
        if before.weekday == after.weekday and after.span[0] < before.span[1]:
            day = WEEKDAYS[before.weekday]
            raise ValidationError(
                f"working windows {before.describe()} and {after.describe()} overlap on {day}",
                path="hours",
                value=(before, after),
            )
    return tuple(ordered)


def _holidays(value: object) -> frozenset[date]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of dates", path="holidays", value=value)
    out: set[date] = set()
    for i, item in enumerate(value):
        day = item
        if isinstance(item, str):
            try:
                day = date.fromisoformat(item)
            except ValueError:
                day = None
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValidationError(
                "a holiday is a date such as date(2026, 12, 25) or '2026-12-25'",
                path=f"holidays[{i}]",
                value=item,
            )
        out.add(day)
    return frozenset(out)


def _timezone(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError(
            "must be an IANA time zone name such as 'Europe/Berlin'",
            path=attribute.name,
            value=value,
        )
    try:
        get_zone(value)
    except ValidationError as e:
        raise ValidationError(e.reason, path=attribute.name, value=value) from None


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return get_zone(name)


Interval = tuple[datetime, datetime]


@attrs.frozen(cache_hash=True)
class BusinessCalendar:
    """Working hours in an IANA time zone, plus holidays (dates in that zone).

    Build one from :class:`WorkingHours`, or with :meth:`uniform` (the same windows
    on several weekdays) or :meth:`always_open`. Immutable and hashable; computed
    days are cached.
    """

    timezone: str = attrs.field(validator=_timezone)
    hours: tuple[WorkingHours, ...] = attrs.field(converter=_hours)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_holidays)

    @classmethod
    def uniform(
        cls,
        timezone: str,
        windows: Sequence[tuple[time | str, time | str]],
        *,
        weekdays: Iterable[int | str] = (0, 1, 2, 3, 4),
        holidays: Iterable[date | str] = (),
    ) -> BusinessCalendar:
        """The same windows on each of ``weekdays`` (Monday to Friday by default).

        >>> BusinessCalendar.uniform("UTC", [("09:00", "17:00")]).describe()
        'Mon-Fri 09:00-17:00 (UTC)'
        """
        if isinstance(windows, (str, bytes)) or not isinstance(windows, Sequence):
            raise ValidationError(
                "windows must be a list of (start, end) pairs", path="windows", value=windows
            )
        if isinstance(weekdays, (str, bytes)):
            raise ValidationError("weekdays must be a list", path="weekdays", value=weekdays)
        hours = []
        for day in weekdays:
            for i, window in enumerate(windows):
                if isinstance(window, (str, bytes)) or not isinstance(window, Sequence):
                    raise ValidationError(
                        "a window is a (start, end) pair", path=f"windows[{i}]", value=window
                    )
                if len(window) != 2:
                    raise ValidationError(
                        "a window is a (start, end) pair", path=f"windows[{i}]", value=window
                    )
                hours.append(WorkingHours(day, window[0], window[1]))
        return cls(timezone=timezone, hours=hours, holidays=holidays)

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """Open around the clock, every day: business time is elapsed time.

        >>> BusinessCalendar.always_open().describe()
        'Mon-Sun 00:00-24:00 (UTC)'
        """
        return cls(
            timezone=timezone, hours=[WorkingHours(d, _MIDNIGHT, _MIDNIGHT) for d in range(7)]
        )

    # -- reading ------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return _zone(self.timezone)

    def to_local(self, at: datetime) -> datetime:
        """``at`` as wall-clock time of the calendar's zone."""
        return require_aware(at, path="at").astimezone(self.zone)

    def windows(self, weekday: int) -> tuple[WorkingHours, ...]:
        """The working windows of ``weekday`` (0 = Monday), in order."""
        return tuple(w for w in self.hours if w.weekday == _weekday(weekday))

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a holiday."""
        return day in self.holidays

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` has working windows and is not a holiday."""
        return day not in self.holidays and bool(_by_weekday(self)[day.weekday()])

    def is_open(self, at: datetime) -> bool:
        """Whether the business is open at instant ``at``."""
        local = self.to_local(at)
        day = local.date()
        if day in self.holidays:
            return False
        wall = _seconds(local.time())
        return any(start <= wall < end for start, end in _by_weekday(self)[day.weekday()])

    def openings(self, day: date) -> tuple[Interval, ...]:
        """The open intervals ``[start, end)`` of local date ``day``, as UTC instants
        (none on holidays; exact across daylight saving switches)."""
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValidationError("must be a date", path="day", value=day)
        return _intervals(self, day)

    def next_opening(self, at: datetime) -> datetime:
        """The first instant at or after ``at`` at which the business is open (``at``
        itself when open), in UTC."""
        start = _utc(at, "at")
        for a, _b in self._open_from(start):
            return a
        raise AssertionError("unreachable: _open_from never ends")  # pragma: no cover

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of open time has passed after ``start``
        (UTC). Zero gives :meth:`next_opening`; a negative duration is refused."""
        begin = _utc(start, "start")
        remaining = _duration(duration)
        for a, b in self._open_from(begin):
            span = b - a
            if remaining <= span:
                return a + remaining
            remaining -= span
        raise AssertionError("unreachable: _open_from never ends")  # pragma: no cover

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The open time in ``[a, b)``; negative when ``b`` is before ``a``."""
        lo, hi = _utc(a, "a"), _utc(b, "b")
        if hi < lo:
            return -self.business_time_between(hi, lo)
        total = _ZERO
        day = lo.astimezone(self.zone).date()
        last = hi.astimezone(self.zone).date()
        while day <= last:
            for s, e in _intervals(self, day):
                overlap = min(e, hi) - max(s, lo)
                if overlap > _ZERO:
                    total += overlap
            day = _next_day(day)
        return total

    def describe(self) -> str:
        """A one-line summary, e.g. ``Mon-Fri 08:00-12:00, 13:00-17:00 (Europe/Berlin)``."""
        by_day = [", ".join(w.describe() for w in day) for day in _by_weekday_hours(self)]
        groups: list[tuple[int, int, str]] = []
        for number, text in enumerate(by_day):
            if groups and groups[-1][2] == text and groups[-1][1] == number - 1:
                groups[-1] = (groups[-1][0], number, text)
            else:
                groups.append((number, number, text))
        parts = []
        for first, last, text in groups:
            if not text:
                continue
            name = WEEKDAYS[first][:3].title()
            if last != first:
                name += "-" + WEEKDAYS[last][:3].title()
            parts.append(f"{name} {text}")
        holidays = f"; {len(self.holidays)} holidays" if self.holidays else ""
        return f"{'; '.join(parts)} ({self.timezone}){holidays}"

    # -- walking ------------------------------------------------------------------------
    def _open_from(self, start: datetime) -> Iterable[Interval]:
        """Open intervals clipped to start at ``start``, in time order, forever."""
        day = start.astimezone(self.zone).date()
        empty_days = 0
        limit = _LOOKAHEAD_DAYS + len(self.holidays)
        while True:
            found = False
            for a, b in _intervals(self, day):
                if b > start:
                    found = True
                    yield max(a, start), b
            empty_days = 0 if found else empty_days + 1
            if empty_days > limit:
                raise ValidationError(
                    f"the calendar is not open on any day for {limit} days after {day}",
                    path="hours",
                )
            day = _next_day(day)


def _next_day(day: date) -> date:
    try:
        return day + _ONE_DAY
    except OverflowError:
        raise ValidationError(
            "business time runs past the last date Python can represent", path="duration"
        ) from None


def _utc(value: object, path: str) -> datetime:
    aware = require_aware(value, path=path)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            "instant is outside the range Python can represent", path=path, value=value
        ) from None


def _duration(value: object) -> timedelta:
    if not isinstance(value, timedelta):
        raise ValidationError(
            "must be a timedelta such as timedelta(hours=8)", path="duration", value=value
        )
    if value < _ZERO:
        raise ValidationError(
            "a business duration cannot be negative", path="duration", value=value
        )
    return value


@functools.lru_cache(maxsize=256)
def _by_weekday_hours(cal: BusinessCalendar) -> tuple[tuple[WorkingHours, ...], ...]:
    return tuple(tuple(w for w in cal.hours if w.weekday == d) for d in range(7))


@functools.lru_cache(maxsize=256)
def _by_weekday(cal: BusinessCalendar) -> tuple[tuple[tuple[timedelta, timedelta], ...], ...]:
    return tuple(tuple(w.span for w in day) for day in _by_weekday_hours(cal))


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


@functools.lru_cache(maxsize=4096)
def _segments(zone_name: str, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """Stretches of constant UTC offset covering every instant of local date ``day``."""
    zone = _zone(zone_name)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        lo, hi = midnight - _MARGIN, midnight + _ONE_DAY + _MARGIN
    except OverflowError:
        raise ValidationError(
            f"{day} is too close to the limits of the calendar Python can represent",
            path="day",
            value=day,
        ) from None
    points = []
    t = lo
    while t < hi:
        points.append(t)
        t += _SAMPLE
    points.append(hi)
    segments = []
    seg_start, seg_offset = lo, _offset(zone, lo)
    for previous, point in itertools.pairwise(points):
        # Find every change of offset up to ``point`` (normally none, at most one);
        # tz database transitions fall on whole seconds.
        while _offset(zone, point) != seg_offset:
            base = max(seg_start, previous)
            before, after = 0, int((point - base).total_seconds())
            while after - before > 1:
                mid = (before + after) // 2
                if _offset(zone, base + timedelta(seconds=mid)) == seg_offset:
                    before = mid
                else:
                    after = mid
            change = base + timedelta(seconds=after)
            segments.append((seg_start, change, seg_offset))
            seg_start, seg_offset = change, _offset(zone, change)
    segments.append((seg_start, hi, seg_offset))
    return tuple(segments)


@functools.lru_cache(maxsize=8192)
def _intervals(cal: BusinessCalendar, day: date) -> tuple[Interval, ...]:
    if day in cal.holidays:
        return ()
    windows = _by_weekday(cal)[day.weekday()]
    if not windows:
        return ()
    naive_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    found: list[Interval] = []
    for seg_start, seg_end, offset in _segments(cal.timezone, day):
        for start, end in windows:
            # wall = instant + offset, so the window's instants in this stretch are:
            lo = max(seg_start, naive_midnight + start - offset)
            hi = min(seg_end, naive_midnight + end - offset)
            if lo < hi:
                found.append((lo, hi))
    found.sort()
    merged: list[Interval] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)
