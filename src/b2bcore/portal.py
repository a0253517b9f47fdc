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
from typing import Any

from b2bcore.accounts.model import Actor
from b2bcore.accounts.service import AccountsService
from b2bcore.approvals.model import ApprovalFlowCompleted, FlowStatus
from b2bcore.approvals.service import ApprovalsService
from b2bcore.assets.service import AssetsService
from b2bcore.calendar import BusinessCalendar
from b2bcore.catalog.service import CatalogService
from b2bcore.claims.service import ClaimsService
from b2bcore.clock import Clock, SystemClock
from b2bcore.documents.blobs import BlobStore
from b2bcore.documents.service import DocumentsService
from b2bcore.events import DomainEvent
from b2bcore.orders.ports import ApprovalCompletion, ApprovalResult
from b2bcore.orders.service import OrdersService
from b2bcore.pricing.service import PricingService
from b2bcore.scheduling.service import SchedulingService
from b2bcore.storage.dispatch import DispatchReport, Handler, dispatch
from b2bcore.storage.ports import Store, UnitOfWork

__all__ = ["Portal"]


class Portal:
    """The facade over every context, bound to one store and one clock."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        blobs: BlobStore | None = None,
        claims_calendar: BusinessCalendar | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.accounts = AccountsService(store.unit_of_work, self.clock)
        self.pricing = PricingService(store.unit_of_work, self.clock)
        self.approvals = ApprovalsService(store.unit_of_work, self.clock)
        self.catalog = CatalogService(
            store.unit_of_work, self.clock, price_index=self.pricing.index
        )
        self.scheduling = SchedulingService(store.unit_of_work, self.clock)
        # An order over the company's approval policy waits in pending_approval: its
        # flow is started in the checkout's unit of work, and the flow's completion
        # (an outbox event, see dispatch) places or cancels it.
        self.orders = OrdersService(
            store.unit_of_work,
            self.clock,
            price_index=self.pricing.index,
            approval_gate=_OrderApprovals(self.approvals, self.clock),
        )
        # Claims, assets, documents: document contents in ``blobs`` (default: in memory);
        # claim SLAs in ``claims_calendar`` (default: Mon-Fri 08:00-17:00 UTC); compatible
        # parts of an asset from the catalog's related products.
        self.documents = DocumentsService(store.unit_of_work, self.clock, blobs=blobs)
        self.assets = AssetsService(
            store.unit_of_work, self.clock, related_products=self.catalog.related_products
        )
        self.claims = ClaimsService(store.unit_of_work, self.clock, calendar=claims_calendar)

    def dispatch(
        self,
        handlers: Mapping[type[DomainEvent], Sequence[Handler]] | None = None,
        *,
        limit: int = 100,
        max_attempts: int = 10,
    ) -> DispatchReport:
        """Deliver pending outbox events to ``handlers`` (at least once), after the
        portal's own: a completed approval flow of an order places the order
        (approved) or cancels it and releases its stock (rejected, cancelled,
        expired). Run it after each request or from a worker; the portal's handlers
        are idempotent, so redelivery is harmless."""
        merged: dict[type[DomainEvent], list[Handler]] = {
            ApprovalFlowCompleted: [self._complete_order_approval]
        }
        for event_type, extra in (handlers or {}).items():
            merged.setdefault(event_type, []).extend(extra)
        return dispatch(
            self.store, merged, clock=self.clock, limit=limit, max_attempts=max_attempts
        )

    def _complete_order_approval(self, event: DomainEvent) -> None:
        if not isinstance(event, ApprovalFlowCompleted) or event.subject_kind != "order":
            return
        with self.store.unit_of_work() as uow:
            flow = uow.approval_flows.get(event.flow_id, company_id=event.company_id)
        decisions = flow.decisions()
        decided_by = decisions[-1].acted_by if decisions else "approvals"
        approved = flow.status is FlowStatus.APPROVED
        self.orders.complete_approval(
            ApprovalCompletion(
                company_id=event.company_id,
                order_id=event.subject_id,
                result=ApprovalResult.APPROVED if approved else ApprovalResult.REJECTED,
                decided_by=decided_by,
                at=flow.completed_at or event.occurred_at,
                flow_id=flow.id,
                reason=flow.outcome_reason or f"approval flow {flow.status.value}",
            )
        )


class _OrderApprovals:
    """The orders context's approval gate, over the approvals context: an order is
    an approval subject (``subject_kind``/``subject_id``), judged by the company's
    policy inside the checkout's unit of work."""

    def __init__(self, approvals: ApprovalsService, clock: Clock) -> None:
        self._approvals = approvals
        self._clock = clock

    def requires_approval(self, uow: UnitOfWork, order: Any, /) -> bool:
        return self._approvals.needs_approval(uow, order, at=self._clock.now())

    def submit(self, uow: UnitOfWork, actor: Actor, order: Any, /) -> str | None:
        return self._approvals.submit_in(uow, actor, order, at=self._clock.now()).id
