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

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from b2bcore.accounts.model import Actor
from b2bcore.accounts.service import AccountsService
from b2bcore.approvals.model import ApprovalFlowCompleted, FlowStatus
from b2bcore.approvals.service import ApprovalsService
from b2bcore.assets.service import AssetsService
from b2bcore.calendar import BusinessCalendar
from b2bcore.catalog.recommendations import (
    BasketModel,
    BuyAgainSuggestion,
    HistoricOrder,
    Suggestion,
)
from b2bcore.catalog.service import CatalogService
from b2bcore.claims.service import ClaimsService
from b2bcore.clock import Clock, SystemClock
from b2bcore.documents.blobs import BlobStore
from b2bcore.documents.service import DocumentsService
from b2bcore.errors import ValidationError
from b2bcore.events import DomainEvent
from b2bcore.ids import CompanyId
from b2bcore.insights.service import InsightsService
from b2bcore.orders.model import Order, OrderPlaced, OrderStatus, OrderStatusChanged
from b2bcore.orders.ports import ApprovalCompletion, ApprovalResult
from b2bcore.orders.service import OrdersService
from b2bcore.paging import MAX_LIMIT, iterate
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
            cached_price_index=self.pricing.cached_index,
        )
        # Claims, assets, documents: document contents in ``blobs`` (default: in memory);
        # claim SLAs in ``claims_calendar`` (default: Mon-Fri 08:00-17:00 UTC); compatible
        # parts of an asset from the catalog's related products.
        self.documents = DocumentsService(store.unit_of_work, self.clock, blobs=blobs)
        self.assets = AssetsService(
            store.unit_of_work, self.clock, related_products=self.catalog.related_products
        )
        self.claims = ClaimsService(store.unit_of_work, self.clock, calendar=claims_calendar)
        # The client dashboard and spend report read through the services above.
        self.insights = InsightsService(
            store.unit_of_work,
            self.clock,
            orders=self.orders,
            approvals=self.approvals,
            claims=self.claims,
            assets=self.assets,
            scheduling=self.scheduling,
            suggestions=self,
        )
        self._baskets: BasketModel | None = None
        self._baskets_lock = threading.Lock()

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
        if handlers is not None and not isinstance(handlers, Mapping):
            raise ValidationError(
                "handlers must map event classes to lists of callables",
                path="handlers",
                value=handlers,
            )
        merged: dict[type[DomainEvent], list[Handler]] = {
            ApprovalFlowCompleted: [self._complete_order_approval],
            OrderPlaced: [self._count_order],
            OrderStatusChanged: [self._count_order],
        }
        for event_type, extra in (handlers or {}).items():
            merged.setdefault(event_type, []).extend(extra)
        return dispatch(
            self.store, merged, clock=self.clock, limit=limit, max_attempts=max_attempts
        )

    # -- recommendations from order history (catalog x orders) ---------------------------
    def frequently_bought_together(
        self, actor: Actor, sku: str, *, limit: int = 5, business_unit_id: str | None = None
    ) -> list[Suggestion]:
        """What was bought together with ``sku`` in every company's orders, limited to
        what the actor may buy, with support, confidence, lift and a reason.

        The counts are read from the orders once, then kept current as orders are
        placed or cancelled — by :meth:`dispatch` (call
        :meth:`refresh_recommendations` to recount from the store)."""
        return self.catalog.frequently_bought_together(
            actor, sku, model=self._basket_model(), limit=limit, business_unit_id=business_unit_id
        )

    def buy_again(
        self, actor: Actor, *, limit: int = 10, business_unit_id: str | None = None
    ) -> list[BuyAgainSuggestion]:
        """What the actor's company is due to reorder, from its own orders' cadence,
        limited to what the actor may buy."""
        history = list(self._history(actor.company_id))
        return self.catalog.buy_again(
            actor, history=history, limit=limit, business_unit_id=business_unit_id
        )

    def refresh_recommendations(self) -> None:
        """Recount frequently-bought-together from the stored orders (after orders
        were written by another process, say)."""
        model = BasketModel.from_history(self._all_history())
        with self._baskets_lock:
            self._baskets = model

    def _basket_model(self) -> BasketModel:
        with self._baskets_lock:
            model = self._baskets
        if model is None:
            self.refresh_recommendations()
            with self._baskets_lock:
                model = self._baskets
        assert model is not None
        return model

    def _all_history(self) -> Iterator[HistoricOrder]:
        with self.store.unit_of_work() as uow:
            companies = [
                c.id for c in iterate(lambda cur: uow.companies.list(limit=MAX_LIMIT, cursor=cur))
            ]
        for company_id in companies:
            yield from self._history(company_id)

    def _history(self, company_id: CompanyId) -> Iterator[HistoricOrder]:
        with self.store.unit_of_work() as uow:
            orders = list(
                iterate(
                    lambda cur: uow.orders.list(
                        company_id=company_id, statuses=_COUNTED, limit=MAX_LIMIT, cursor=cur
                    )
                )
            )
        return (_historic(order) for order in orders)

    def _count_order(self, event: DomainEvent) -> None:
        """Keep the basket counts current: an order counts from placed on, and stops
        counting when cancelled (idempotent both ways)."""
        with self._baskets_lock:
            model = self._baskets
        if model is None or not isinstance(event, (OrderPlaced, OrderStatusChanged)):
            return  # counted from the store when first needed
        with self.store.unit_of_work() as uow:
            order = uow.orders.get(event.order_id, company_id=event.company_id)
        with self._baskets_lock:
            if order.status in _COUNTED:
                model.add_order(_historic(order))
            else:
                model.remove_order(order.id)

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


#: The order statuses whose orders count as bought (placed on; not waiting, not cancelled).
_COUNTED = frozenset(OrderStatus) - {OrderStatus.PENDING_APPROVAL, OrderStatus.CANCELLED}


def _historic(order: Order) -> HistoricOrder:
    return HistoricOrder(
        order_id=order.id,
        company_id=order.company_id,
        placed_at=order.created_at,
        lines=[(line.sku, line.quantity) for line in order.lines],
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
