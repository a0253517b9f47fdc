"""Clocks and the rules for datetimes.

Domain code never reads the time itself: services get a :class:`Clock`, rules get
``at``/``now`` arguments. Every datetime b2bcore accepts must be timezone-aware;
a naive one raises :class:`~b2bcore.errors.ValidationError`. Stored values are UTC.

>>> from datetime import datetime, timedelta, timezone
>>> from b2bcore.clock import FixedClock, require_aware
>>> clock = FixedClock(datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc))
>>> clock.advance(timedelta(hours=2)).isoformat()
'2026-03-29T02:30:00+00:00'
>>> require_aware(datetime(2026, 1, 1), path="valid_from")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
b2bcore.errors.ValidationError: valid_from: naive datetime 2026-01-01 00:00:00 has no ...
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from b2bcore.errors import ValidationError

__all__ = ["Clock", "FixedClock", "SystemClock", "require_aware", "to_utc"]


def require_aware(value: object, *, path: str = "datetime") -> datetime:
    """Return ``value`` if it is an aware datetime; raise ValidationError otherwise."""
    if not isinstance(value, datetime):
        raise ValidationError(
            f"expected a timezone-aware datetime, got {type(value).__name__}",
            path=path,
            value=value,
        )
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError(
            f"naive datetime {value} has no time zone; pass an aware datetime "
            "(e.g. tzinfo=timezone.utc)",
            path=path,
            value=value,
        )
    return value


def to_utc(value: object, *, path: str = "datetime") -> datetime:
    """Validate like :func:`require_aware` and convert to UTC (attrs converter friendly)."""
    return require_aware(value, path=path).astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` returning an aware datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that only moves when told to: deterministic tests and demos.

    Thread-safe; ``advance`` and ``set`` return the new time.
    """

    def __init__(self, at: datetime) -> None:
        self._at = to_utc(at, path="at")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The fixed instant."""
        with self._lock:
            return self._at

    def set(self, at: datetime) -> datetime:
        """Jump to ``at`` (aware)."""
        new = to_utc(at, path="at")
        with self._lock:
            self._at = new
        return new

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, with a negative delta) by ``delta``."""
        with self._lock:
            self._at = self._at + delta
            return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"
