"""Deliver outbox events to subscribers, at least once.

>>> from datetime import datetime, timezone
>>> from b2bcore.accounts import Company, CompanyCreated
>>> from b2bcore.storage import dispatch
>>> from b2bcore.storage.memory import MemoryStore
>>> store = MemoryStore()
>>> with store.unit_of_work() as uow:
...     acme = Company(id="acme", name="ACME")
...     acme.record(CompanyCreated(company_id="acme", name="ACME",
...                 occurred_at=datetime(2026, 1, 5, tzinfo=timezone.utc)))
...     uow.companies.add(acme)
...     uow.commit()
>>> seen = []
>>> dispatch(store, {CompanyCreated: [lambda e: seen.append(e.name)]})
DispatchReport(delivered=1, failed=0, dead=0)
>>> seen, dispatch(store, {CompanyCreated: [seen.append]})
(['ACME'], DispatchReport(delivered=0, failed=0, dead=0))

A record is marked delivered only after every subscribed handler returned; if the
process dies in between, the event is delivered again on the next run, so handlers
must be idempotent (the event's ``event_id`` is stable for that). A handler that
raises leaves the record pending with the error noted; after ``max_attempts`` the
record is marked dead and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from b2bcore.clock import Clock, SystemClock
from b2bcore.errors import ConcurrencyError, ValidationError
from b2bcore.events import DomainEvent
from b2bcore.serialization import event_from_record
from b2bcore.storage.ports import Store

__all__ = ["DispatchReport", "Handler", "dispatch"]

Handler = Callable[[DomainEvent], object]


@attrs.frozen
class DispatchReport:
    """What one :func:`dispatch` run did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0


def dispatch(
    store: Store,
    handlers: Mapping[type[DomainEvent], Sequence[Handler]],
    *,
    clock: Clock | None = None,
    limit: int = 100,
    max_attempts: int = 10,
) -> DispatchReport:
    """Deliver up to ``limit`` pending events, oldest first.

    ``handlers`` maps an event class to the callables subscribed to it; a handler
    subscribed to a base class (``DomainEvent`` for all) gets the subclasses' events
    too. Events nobody subscribed to are marked delivered.
    """
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValidationError(
            "max_attempts must be at least 1", path="max_attempts", value=max_attempts
        )
    now = (clock or SystemClock()).now
    with store.unit_of_work() as uow:
        records = uow.outbox.pending(limit=limit)
    delivered = failed = dead = 0
    for record in records:
        event = event_from_record(record)
        subscribed = [h for cls, hs in handlers.items() if isinstance(event, cls) for h in hs]
        try:
            for handler in subscribed:
                handler(event)
        except Exception as e:  # noqa: BLE001 - a subscriber's failure must not stop the others
            give_up = record.attempts + 1 >= max_attempts
            with store.unit_of_work() as uow:
                try:
                    uow.outbox.mark_failed(record, error=f"{type(e).__name__}: {e}", dead=give_up)
                    uow.commit()
                except ConcurrencyError:
                    continue  # another dispatcher handled it meanwhile
            failed += 1
            dead += give_up
            continue
        with store.unit_of_work() as uow:
            try:
                uow.outbox.mark_delivered(record, at=now())
                uow.commit()
            except ConcurrencyError:
                continue  # delivered twice by two dispatchers: allowed (at least once)
        delivered += 1
    return DispatchReport(delivered=delivered, failed=failed, dead=dead)
