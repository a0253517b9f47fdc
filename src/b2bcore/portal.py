"""The portal: one object that wires every context's use-cases to a store and a clock.

Applications create one ``Portal`` and call its services; cross-context workflows
live here. Later contexts (pricing, catalog, orders, approvals, claims, scheduling,
insights) grow into it as attributes next to ``accounts``.

>>> from datetime import datetime, timezone
>>> from b2bcore.accounts import Actor
>>> from b2bcore.clock import FixedClock
>>> from b2bcore.portal import Portal
>>> from b2bcore.storage.memory import MemoryStore
>>> portal = Portal(MemoryStore(), clock=FixedClock(datetime(2026, 1, 5, tzinfo=timezone.utc)))
>>> operator = Actor.operator_for("acme", "op-olga")
>>> portal.accounts.create_company(operator, name="ACME").version
1
>>> [u.name for u in portal.accounts.business_unit_tree(operator)]
['Headquarters']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from b2bcore.accounts.service import AccountsService
from b2bcore.catalog.service import CatalogService
from b2bcore.clock import Clock, SystemClock
from b2bcore.events import DomainEvent
from b2bcore.pricing.service import PricingService
from b2bcore.storage.dispatch import DispatchReport, Handler, dispatch
from b2bcore.storage.ports import Store

__all__ = ["Portal"]


class Portal:
    """The facade over every context, bound to one store and one clock."""

    def __init__(self, store: Store, *, clock: Clock | None = None) -> None:
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.accounts = AccountsService(store.unit_of_work, self.clock)
        self.pricing = PricingService(store.unit_of_work, self.clock)
        self.catalog = CatalogService(
            store.unit_of_work, self.clock, price_index=self.pricing.index
        )

    def dispatch(
        self,
        handlers: Mapping[type[DomainEvent], Sequence[Handler]],
        *,
        limit: int = 100,
        max_attempts: int = 10,
    ) -> DispatchReport:
        """Deliver pending outbox events to ``handlers`` (at least once)."""
        return dispatch(
            self.store, handlers, clock=self.clock, limit=limit, max_attempts=max_attempts
        )
