"""What the insights context reads: the other contexts' read use-cases, as ports.

Insights owns no data. It reads through these protocols, which the other contexts'
services satisfy (the portal passes ``portal.orders``, ``portal.approvals`` … in), so
every record it shows was authorized and view-scoped by the context that owns it —
and insights imports no other context's service. :class:`Suggestions` is provided by
the portal (``Portal.buy_again`` and ``Portal.frequently_bought_together``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from b2bcore.accounts.model import Actor
from b2bcore.approvals.model import ApprovalFlow, FlowStatus
from b2bcore.approvals.rules import PendingDecision
from b2bcore.assets.model import Asset, AssetStatus
from b2bcore.calendar import BusinessCalendar
from b2bcore.catalog.recommendations import BuyAgainSuggestion, Suggestion
from b2bcore.claims.model import Claim, ClaimStatus
from b2bcore.orders.model import Invoice, InvoiceStatus, Order, OrderStatus
from b2bcore.orders.rules import OrderTracking
from b2bcore.paging import Page
from b2bcore.scheduling.model import AppointmentStatus, Booking

__all__ = [
    "ApprovalsReader",
    "AssetsReader",
    "ClaimsReader",
    "OrdersReader",
    "SchedulingReader",
    "Suggestions",
]


class OrdersReader(Protocol):
    """The orders the actor may see (``OrdersService``)."""

    def order_history(
        self,
        actor: Actor,
        *,
        statuses: Iterable[OrderStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sku: str | None = None,
        business_unit_id: str | None = None,
        requester_id: str | None = None,
        text: str | None = None,
        limit: int = ...,
        cursor: str | None = None,
    ) -> Page[Order]:
        """Orders in the actor's view scope, newest first."""
        ...

    def track_order(self, actor: Actor, order_id: str) -> OrderTracking:
        """Where an order is."""
        ...

    def invoices(
        self,
        actor: Actor,
        *,
        order_id: str | None = None,
        status: InvoiceStatus | None = None,
        limit: int = ...,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        """Invoices in the actor's view scope."""
        ...


class ApprovalsReader(Protocol):
    """Approval flows (``ApprovalsService``)."""

    def get_flow(self, actor: Actor, flow_id: str) -> ApprovalFlow:
        """One flow the actor may see."""
        ...

    def list_flows(
        self,
        actor: Actor,
        *,
        status: FlowStatus | None = None,
        requester_id: str | None = None,
        limit: int = ...,
        cursor: str | None = None,
    ) -> Page[ApprovalFlow]:
        """Flows the actor may see."""
        ...

    def pending_approvals(self, actor: Actor) -> list[PendingDecision]:
        """What waits on the actor's decision."""
        ...


class ClaimsReader(Protocol):
    """Claims (``ClaimsService``) and the business calendar their SLAs run on."""

    calendar: BusinessCalendar

    def claims(
        self,
        actor: Actor,
        *,
        statuses: Iterable[ClaimStatus] | None = None,
        type_id: str | None = None,
        asset_id: str | None = None,
        order_id: str | None = None,
        limit: int = ...,
        cursor: str | None = None,
    ) -> Page[Claim]:
        """Claims in the actor's view scope."""
        ...


class AssetsReader(Protocol):
    """Installed assets (``AssetsService``)."""

    def assets(
        self,
        actor: Actor,
        *,
        status: AssetStatus | None = None,
        sku: str | None = None,
        order_id: str | None = None,
        limit: int = ...,
        cursor: str | None = None,
    ) -> Page[Asset]:
        """Assets in the actor's view scope."""
        ...


class SchedulingReader(Protocol):
    """Service appointments (``SchedulingService``)."""

    def appointments(
        self,
        actor: Actor,
        *,
        statuses: Sequence[AppointmentStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        asset_id: str | None = None,
        claim_id: str | None = None,
        limit: int = ...,
        cursor: str | None = None,
    ) -> Page[Booking]:
        """The actor's company's appointments."""
        ...


class Suggestions(Protocol):
    """Assortment-filtered suggestions from order history."""

    def buy_again(
        self, actor: Actor, *, limit: int = 10, business_unit_id: str | None = None
    ) -> list[BuyAgainSuggestion]:
        """What the actor's company is due to reorder."""
        ...

    def frequently_bought_together(
        self, actor: Actor, sku: str, *, limit: int = 5, business_unit_id: str | None = None
    ) -> list[Suggestion]:
        """What was bought together with ``sku``."""
        ...
