"""Domain events and the outbox record that carries them.

Aggregates record what happened as immutable, past-tense events. The unit of work
writes them to an outbox in the same transaction as the change, and
:func:`b2bcore.storage.dispatch` delivers them at least once to subscribers.

Event classes are registered explicitly, by name, so an outbox row can be turned
back into its class without importing anything dynamically:

>>> import attrs
>>> from datetime import datetime, timezone
>>> from b2bcore.events import DomainEvent, event_class, register_event
>>> @register_event
... @attrs.frozen(kw_only=True)
... class WidgetPolished(DomainEvent):
...     event_type = "example.widget_polished"
...     widget: str
>>> e = WidgetPolished(company_id="acme", occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
...                    widget="w-1")
>>> event_class("example.widget_polished") is WidgetPolished
True
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import CompanyId, EventId, new_id

__all__ = [
    "Aggregate",
    "DomainEvent",
    "OutboxRecord",
    "OutboxStatus",
    "event_class",
    "register_event",
    "registered_events",
]

E = TypeVar("E", bound=type["DomainEvent"])


def _utc_occurred(value: datetime) -> datetime:
    return to_utc(value, path="occurred_at")


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every domain event: which tenant, when, and a unique id.

    Subclasses set the class attribute ``event_type`` (a stable dotted name, kept
    in stored outboxes) and are decorated with :func:`register_event`.
    """

    event_type: ClassVar[str] = "b2bcore.event"

    company_id: CompanyId
    occurred_at: datetime = attrs.field(converter=_utc_occurred)
    event_id: EventId = attrs.field(factory=lambda: EventId(new_id()))


_REGISTRY: dict[str, type[DomainEvent]] = {}


def register_event(cls: E) -> E:
    """Class decorator: make ``cls`` known under its ``event_type``."""
    name = cls.event_type
    if not name or name == DomainEvent.event_type:
        raise ValidationError(f"{cls.__name__} must set a distinct event_type", path="event_type")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise ValidationError(
            f"event_type {name!r} is already used by {existing.__qualname__}", path="event_type"
        )
    _REGISTRY[name] = cls
    return cls


def event_class(event_type: str) -> type[DomainEvent]:
    """The registered class for ``event_type``; ValidationError if unknown."""
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise ValidationError(
            f"unknown event type {event_type!r}; is the module that defines it imported?",
            path="event_type",
            value=event_type,
        ) from None


def registered_events() -> dict[str, type[DomainEvent]]:
    """A copy of the registry: event type name -> class."""
    return dict(_REGISTRY)


class OutboxStatus(enum.Enum):
    """Delivery state of an outbox record."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after too many failed attempts; needs a person


@attrs.define
class OutboxRecord:
    """An event as stored in the outbox, with its delivery bookkeeping."""

    id: str
    event_type: str
    company_id: CompanyId
    occurred_at: datetime = attrs.field(converter=_utc_occurred)
    payload: dict[str, Any] = attrs.field(factory=dict)
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    delivered_at: datetime | None = None
    last_error: str = ""
    version: int = 0


@attrs.define
class Aggregate:
    """Base of aggregates: an optimistic-concurrency ``version`` and pending events.

    ``version`` is 0 for an aggregate never stored; repositories set it to 1 on
    ``add`` and increment it on every successful ``update`` (the version passed to
    ``update`` must be the one that was read). Events recorded with :meth:`record`
    are collected by the unit of work when the aggregate is added or updated and
    written to the outbox in the same transaction; they are never serialized with
    the aggregate.
    """

    version: int = attrs.field(default=0, kw_only=True)
    _pending_events: list[DomainEvent] = attrs.field(factory=list, init=False, eq=False, repr=False)

    def record(self, event: DomainEvent) -> None:
        """Remember ``event`` until the unit of work collects it."""
        self._pending_events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        """Return and forget the events recorded so far."""
        events = list(self._pending_events)
        self._pending_events.clear()
        return events
