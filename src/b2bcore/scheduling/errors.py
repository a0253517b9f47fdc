"""Errors of the scheduling context.

>>> from datetime import datetime, timezone
>>> from b2bcore.scheduling.errors import SlotTakenError
>>> e = SlotTakenError("tech-1", datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
>>> from b2bcore.errors import ConflictError
>>> (e.code, e.resource_id, isinstance(e, ConflictError))
('scheduling.slot_taken', 'tech-1', True)
>>> str(e)
'resource tech-1 is already taken at 2026-03-02T09:00:00+00:00; pick another slot'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from b2bcore.errors import ConflictError

__all__ = [
    "CutoffPassedError",
    "Explained",
    "HoldExpiredError",
    "SlotTakenError",
    "SlotUnavailableError",
]


class SlotTakenError(ConflictError):
    """The store refused to book a time that another appointment took first (two
    buyers raced for one slot, or a group session's seats ran out).

    ``resource_id`` and ``at`` name the first resource and 5-minute granule found
    taken; ``booking_id`` is the appointment that could not be written (if known).
    """

    code = "scheduling.slot_taken"

    def __init__(self, resource_id: str, at: datetime, *, booking_id: str | None = None) -> None:
        super().__init__(
            f"resource {resource_id} is already taken at {at.isoformat()}; pick another slot"
        )
        self.resource_id = resource_id
        self.at = at
        self.booking_id = booking_id


class Explained(Protocol):
    """What :class:`SlotUnavailableError` carries: a
    :class:`~b2bcore.scheduling.slots.SlotExplanation`."""

    @property
    def reasons(self) -> Sequence[object]:
        """The deciding reasons."""
        ...

    @property
    def notes(self) -> tuple[str, ...]:
        """The deciding reasons in words."""
        ...

    def text(self) -> str:
        """The full explanation."""
        ...


class SlotUnavailableError(ConflictError):
    """The time asked for is not bookable; ``explanation`` says why (see
    :func:`~b2bcore.scheduling.explain_unavailable`), ``reason_codes`` the reasons'
    values (``"booked"``, ``"outside_hours"`` ...)."""

    code = "scheduling.unavailable"

    def __init__(self, start: datetime, explanation: Explained) -> None:
        summary = "; ".join(explanation.notes) or "no resource is free"
        super().__init__(f"{start.isoformat()} is not bookable: {summary}")
        self.start = start
        self.explanation = explanation
        self.reason_codes = tuple(str(getattr(r, "value", r)) for r in explanation.reasons)


class CutoffPassedError(ConflictError):
    """A buyer tried to cancel or reschedule later than the service type's cutoff.

    ``deadline`` is the last instant it was allowed; ``action`` is ``"cancel"`` or
    ``"reschedule"``.
    """

    code = "scheduling.cutoff_passed"

    def __init__(self, booking_id: str, action: str, deadline: datetime) -> None:
        super().__init__(
            f"appointment {booking_id} can no longer be {action}led online: the cutoff "
            f"was {deadline.isoformat()}; contact the service provider"
            if action == "cancel"
            else f"appointment {booking_id} can no longer be rescheduled online: the "
            f"cutoff was {deadline.isoformat()}; contact the service provider"
        )
        self.booking_id = booking_id
        self.action = action
        self.deadline = deadline


class HoldExpiredError(ConflictError):
    """A hold was confirmed after it lapsed: hold the slot again."""

    code = "scheduling.hold_expired"

    def __init__(self, booking_id: str, held_until: datetime) -> None:
        super().__init__(
            f"the hold {booking_id} lapsed at {held_until.isoformat()}; hold a slot again"
        )
        self.booking_id = booking_id
        self.held_until = held_until
