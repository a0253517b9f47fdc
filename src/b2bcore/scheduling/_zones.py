"""Wall-clock time to instants across daylight saving switches (private).

The one rule used everywhere in scheduling: a wall-clock window ``[start, end)`` of
local date ``d`` in zone ``Z`` covers exactly the instants whose local time in ``Z``
falls on ``d`` between ``start`` and ``end``. So a skipped hour is never covered, a
repeated hour is covered twice (once per offset) when it lies inside the window,
and a window that starts or ends inside a skipped hour opens or closes when the
clocks jump. A wall time that does not exist has no instant; one that occurs twice
has two.

Instants are handled as whole seconds since the epoch (UTC) for speed.
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from b2bcore.errors import ValidationError
from b2bcore.l10n import get_zone

__all__ = [
    "Segment",
    "day_start_ts",
    "instants_of",
    "segments",
    "transitions",
    "wall_preimage",
    "zone",
]

#: A stretch of constant UTC offset: (first second, end second exclusive, offset seconds).
Segment = tuple[int, int, int]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Instants whose local date is d lie within this margin around d's UTC day (offsets
# range from -12 to +14 hours today; local mean times reached about +-16).
_MARGIN: Final = 27 * 3600
_SAMPLE: Final = 3 * 3600
_DAY: Final = 86_400


@functools.lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (ValidationError if unknown), cached."""
    return get_zone(name)


def _offset(z: ZoneInfo, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, UTC).astimezone(z).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def day_start_ts(day: date) -> int:
    """Seconds since the epoch of ``day`` 00:00 read as UTC."""
    return (day - _EPOCH.date()).days * _DAY


@functools.lru_cache(maxsize=16_384)
def segments(zone_name: str, day: date) -> tuple[Segment, ...]:
    """Stretches of constant offset covering every instant whose local date is ``day``."""
    z = zone(zone_name)
    try:
        lo = day_start_ts(day) - _MARGIN
        hi = day_start_ts(day) + _DAY + _MARGIN
        datetime.fromtimestamp(lo, UTC)
        datetime.fromtimestamp(hi, UTC)
    except (OverflowError, ValueError, OSError):
        raise ValidationError(
            f"{day} is too close to the limits of the calendar", path="day", value=day
        ) from None
    points = list(range(lo, hi, _SAMPLE))
    points.append(hi)
    found: list[Segment] = []
    seg_start, seg_offset = lo, _offset(z, lo)
    for previous, point in itertools.pairwise(points):
        while _offset(z, point) != seg_offset:
            base = max(seg_start, previous)
            before, after = 0, point - base
            while after - before > 1:
                mid = (before + after) // 2
                if _offset(z, base + mid) == seg_offset:
                    before = mid
                else:
                    after = mid
            change = base + after
            found.append((seg_start, change, seg_offset))
            seg_start, seg_offset = change, _offset(z, change)
    found.append((seg_start, hi, seg_offset))
    return tuple(found)


def instants_of(zone_name: str, day: date, minute: int) -> list[int]:
    """The instants (0, 1 or 2) whose local time is ``day`` + ``minute`` minutes."""
    wall = day_start_ts(day) + minute * 60
    out = []
    for start, end, offset in segments(zone_name, day):
        t = wall - offset
        if start <= t < end:
            out.append(t)
    return sorted(set(out))


def wall_preimage(zone_name: str, day: date, start: int, end: int) -> list[tuple[int, int]]:
    """The instants whose local time lies on ``day`` in ``[start, end)`` minutes, as
    sorted, merged ``(first, end)`` second ranges."""
    midnight = day_start_ts(day)
    found = []
    for seg_start, seg_end, offset in segments(zone_name, day):
        lo = max(seg_start, midnight + start * 60 - offset)
        hi = min(seg_end, midnight + end * 60 - offset)
        if lo < hi:
            found.append((lo, hi))
    found.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def transitions(zone_name: str, first: date, last: date) -> list[tuple[int, int, int]]:
    """Offset changes between the local dates ``first`` and ``last``: (instant,
    offset before, offset after), in order."""
    out: dict[int, tuple[int, int, int]] = {}
    day = first
    while day <= last:
        segs = segments(zone_name, day)
        for (_a, change, before), (_b, _e, after) in itertools.pairwise(segs):
            out[change] = (change, before, after)
        day += timedelta(days=1)
    return [out[k] for k in sorted(out)]
