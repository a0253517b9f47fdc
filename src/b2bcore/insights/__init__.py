"""Insights: the client dashboard and the spend report — read models over every context.

The insights context stores nothing; it reads through the other contexts' read
use-cases, so every figure is scoped to what the actor may see. The use-cases live in
:class:`b2bcore.insights.service.InsightsService` (``portal.insights``);
:func:`client_dashboard` and :func:`spend_report` are the same calls as functions of
a :class:`~b2bcore.portal.Portal`. The pure aggregation rules (exact sums per
currency, nearest-rank percentiles, SLA compliance) are in
:mod:`b2bcore.insights.rules`; :func:`~b2bcore.insights.service.to_csv` exports a
report.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from b2bcore.accounts.model import Actor
from b2bcore.insights.model import (
    ApprovalItem,
    ApprovalsSection,
    ClaimsSection,
    ClientDashboard,
    CycleTimes,
    GroupBy,
    InvoicesSection,
    InvoiceSummary,
    OpenClaim,
    OpenOrder,
    OrdersSection,
    Period,
    Section,
    SlaCompliance,
    SlaState,
    SpendComparison,
    SpendReport,
    SpendRow,
    StatusCount,
    SuggestionsSection,
    TrackingSummary,
    UpcomingAppointment,
    WarrantyEnding,
)
from b2bcore.insights.rules import cycle_times, percentile, sla_compliance, spend_rows

if TYPE_CHECKING:
    from b2bcore.portal import Portal

__all__ = [
    "ApprovalItem",
    "ApprovalsSection",
    "ClaimsSection",
    "ClientDashboard",
    "CycleTimes",
    "GroupBy",
    "InvoiceSummary",
    "InvoicesSection",
    "OpenClaim",
    "OpenOrder",
    "OrdersSection",
    "Period",
    "Section",
    "SlaCompliance",
    "SlaState",
    "SpendComparison",
    "SpendReport",
    "SpendRow",
    "StatusCount",
    "SuggestionsSection",
    "TrackingSummary",
    "UpcomingAppointment",
    "WarrantyEnding",
    "client_dashboard",
    "cycle_times",
    "percentile",
    "sla_compliance",
    "spend_report",
    "spend_rows",
]


def client_dashboard(
    portal: Portal, actor: Actor, now: datetime | None = None, *, tz: str = "UTC"
) -> ClientDashboard:
    """``portal.insights.client_dashboard(actor, now, tz=tz)``: the portal's front page
    for ``actor`` (see :meth:`b2bcore.insights.service.InsightsService.client_dashboard`)."""
    return portal.insights.client_dashboard(actor, now, tz=tz)


def spend_report(
    portal: Portal,
    actor: Actor,
    period: Period,
    group_by: GroupBy | str = GroupBy.MONTH,
    *,
    tz: str = "UTC",
) -> SpendReport:
    """``portal.insights.spend_report(actor, period, group_by, tz=tz)`` (see
    :meth:`b2bcore.insights.service.InsightsService.spend_report`)."""
    return portal.insights.spend_report(actor, period, group_by, tz=tz)
