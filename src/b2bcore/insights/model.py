"""The insights read models: the client dashboard and the spend report.

Every value here is a frozen attrs class built from what the other contexts store;
nothing is persisted. Money is summed exactly per currency (never mixed), times are
timezone-aware UTC instants.

>>> from datetime import datetime, timezone
>>> period = Period.month(2026, 11)
>>> period.start.isoformat(), period.end.isoformat()
('2026-11-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00')
>>> Period.month(2026, 11, tz="Europe/Berlin").start.isoformat()
'2026-10-31T23:00:00+00:00'
>>> GroupBy.parse("cost_center")
<GroupBy.COST_CENTER: 'cost_center'>
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from b2bcore.approvals.model import FlowStatus
from b2bcore.catalog.recommendations import BuyAgainSuggestion, Suggestion
from b2bcore.claims.model import ClaimStatus, Priority
from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.l10n import get_zone
from b2bcore.money import Money
from b2bcore.orders.model import OrderStatus, TrackingStatus
from b2bcore.scheduling.model import AppointmentStatus

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
]


def _utc(value: object) -> datetime:
    return to_utc(value, path="datetime")


class GroupBy(enum.Enum):
    """How :func:`~b2bcore.insights.spend_report` groups spend."""

    MONTH = "month"
    BUSINESS_UNIT = "business_unit"
    COST_CENTER = "cost_center"
    CATEGORY = "category"
    SKU = "sku"

    @classmethod
    def parse(cls, value: object) -> GroupBy:
        """A ``GroupBy`` or its value (``"month"``, ``"sku"`` …); ValidationError otherwise.

        >>> GroupBy.parse("colour")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        b2bcore.errors.ValidationError: group_by: must be one of business_unit, ...
        """
        if isinstance(value, GroupBy):
            return value
        for member in cls:
            if value == member.value:
                return member
        names = ", ".join(sorted(m.value for m in cls))
        raise ValidationError(f"must be one of {names}", path="group_by", value=value)


class Section(enum.Enum):
    """The dashboard's sections; those the actor may not see are listed in
    ``ClientDashboard.hidden`` (and left empty)."""

    ORDERS = "orders"
    INVOICES = "invoices"
    CLAIMS = "claims"
    APPOINTMENTS = "appointments"
    WARRANTIES = "warranties"
    APPROVALS = "approvals"
    SUGGESTIONS = "suggestions"
    SPEND = "spend"


def _period_end(instance: Period, _attribute: object, value: datetime) -> None:
    if value <= instance.start:
        raise ValidationError(
            f"must be after the start {instance.start.isoformat()}", path="end", value=value
        )


@attrs.frozen
class Period:
    """A half-open span of time ``[start, end)`` (timezone-aware; stored in UTC)."""

    start: datetime = attrs.field(converter=_utc)
    end: datetime = attrs.field(converter=_utc, validator=_period_end)

    @classmethod
    def month(cls, year: int, month: int, *, tz: str = "UTC") -> Period:
        """The calendar month ``year``-``month`` in the zone ``tz``."""
        zone = get_zone(tz)
        for name, value, low, high in (("year", year, 1900, 9998), ("month", month, 1, 12)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(
                    f"must be a whole number {low}-{high}", path=name, value=value
                )
        nxt = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(datetime(year, month, 1, tzinfo=zone), datetime(*nxt, 1, tzinfo=zone))

    @classmethod
    def month_of(cls, at: datetime, *, tz: str = "UTC") -> Period:
        """The calendar month (in ``tz``) that holds the instant ``at``."""
        local = to_utc(at, path="at").astimezone(get_zone(tz))
        return cls.month(local.year, local.month, tz=tz)

    def previous_month(self, *, tz: str = "UTC") -> Period:
        """The calendar month (in ``tz``) before the one this period starts in."""
        local = self.start.astimezone(get_zone(tz))
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        return Period.month(year, month, tz=tz)

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.start <= at < self.end


# == the dashboard ==========================================================================
@attrs.frozen
class StatusCount:
    """How many open orders are in ``status``."""

    status: OrderStatus
    count: int


@attrs.frozen
class TrackingSummary:
    """The latest carrier event of an order's shipments."""

    shipment_id: str
    carrier: str
    tracking_number: str
    status: TrackingStatus
    at: datetime
    location: str = ""


@attrs.frozen
class OpenOrder:
    """An order not yet delivered, closed or cancelled."""

    order_id: str
    status: OrderStatus
    total: Money
    created_at: datetime
    requester_id: str
    po_number: str = ""
    tracking: TrackingSummary | None = None


@attrs.frozen
class OrdersSection:
    """Open orders: a count per status (in lifecycle order) and the orders, newest first."""

    by_status: tuple[StatusCount, ...] = ()
    orders: tuple[OpenOrder, ...] = ()

    @property
    def count(self) -> int:
        """How many open orders there are."""
        return sum(s.count for s in self.by_status)


@attrs.frozen
class InvoiceSummary:
    """An open invoice: what is left to pay and whether it is overdue."""

    invoice_id: str
    order_id: str
    total: Money
    balance: Money
    due_date: date
    overdue: bool


@attrs.frozen
class InvoicesSection:
    """Open invoices (oldest first) and, per currency, the outstanding and overdue balance."""

    open: tuple[InvoiceSummary, ...] = ()
    outstanding: tuple[Money, ...] = ()
    overdue: tuple[Money, ...] = ()

    @property
    def overdue_count(self) -> int:
        """How many open invoices are past their due date."""
        return sum(1 for i in self.open if i.overdue)


class SlaState(enum.Enum):
    """Where an open claim's service clock stands."""

    ON_TRACK = "on_track"
    PAUSED = "paused"
    BREACHED = "breached"
    NO_TARGET = "no_target"


@attrs.frozen
class OpenClaim:
    """A claim not yet resolved, closed, rejected or cancelled, with its SLA state."""

    claim_id: str
    title: str
    status: ClaimStatus
    priority: Priority
    created_at: datetime
    sla: SlaState
    eta: datetime | None = None


@attrs.frozen
class ClaimsSection:
    """Open claims, newest first."""

    open: tuple[OpenClaim, ...] = ()

    @property
    def breached(self) -> int:
        """How many open claims are past a service target."""
        return sum(1 for c in self.open if c.sla is SlaState.BREACHED)


@attrs.frozen
class UpcomingAppointment:
    """A held, booked or confirmed appointment that has not started yet."""

    booking_id: str
    title: str
    start: datetime
    end: datetime
    status: AppointmentStatus
    resource_ids: tuple[str, ...] = ()
    asset_id: str | None = None
    claim_id: str | None = None


@attrs.frozen
class WarrantyEnding:
    """An asset whose warranty ends within the dashboard's horizon (90 days)."""

    asset_id: str
    serial_number: str
    sku: str
    until: date
    days_left: int


@attrs.frozen
class ApprovalItem:
    """An approval flow, pending: one the actor may decide (``on_behalf_of`` set when
    by delegation) or one the actor requested, waiting on others (``waiting_on`` the
    tier's name)."""

    flow_id: str
    subject_kind: str
    subject_id: str
    total: Money
    requester_id: str
    submitted_at: datetime
    tier_name: str = ""
    on_behalf_of: str | None = None
    status: FlowStatus = FlowStatus.PENDING


@attrs.frozen
class ApprovalsSection:
    """Approvals waiting on the actor, and the actor's own requests waiting on others."""

    waiting_on_me: tuple[ApprovalItem, ...] = ()
    mine_waiting: tuple[ApprovalItem, ...] = ()


@attrs.frozen
class SuggestionsSection:
    """ "Buy again" (due by the company's cadence) and frequently-bought-together."""

    buy_again: tuple[BuyAgainSuggestion, ...] = ()
    bought_together: tuple[Suggestion, ...] = ()


@attrs.frozen
class SpendComparison:
    """Spend this month and last month in one currency (orders placed and not
    cancelled, by order date); ``change`` is this minus last."""

    currency: str
    this_month: Money
    last_month: Money

    @property
    def change(self) -> Money:
        """This month's spend minus last month's."""
        return self.this_month - self.last_month


@attrs.frozen
class ClientDashboard:
    """The portal's front page for one actor at instant ``at``: only what the actor
    may see; sections the actor has no view permission for are in ``hidden``."""

    company_id: str
    user_id: str
    at: datetime
    orders: OrdersSection
    invoices: InvoicesSection
    claims: ClaimsSection
    appointments: tuple[UpcomingAppointment, ...]
    warranties: tuple[WarrantyEnding, ...]
    approvals: ApprovalsSection
    suggestions: SuggestionsSection
    spend: tuple[SpendComparison, ...]
    this_month: Period
    last_month: Period
    hidden: frozenset[Section] = frozenset()


# == the spend report =======================================================================
@attrs.frozen
class SpendRow:
    """Spend of one group in one currency: the lines' net amounts summed exactly,
    over ``orders`` orders and ``lines`` order lines (``quantity`` their units)."""

    key: str
    currency: str
    amount: Money
    orders: int
    lines: int
    quantity: Decimal


@attrs.frozen
class CycleTimes:
    """Approval cycle times of the flows decided in a period: ``median`` and ``p90``
    (nearest rank) of submission-to-decision time; None when none was decided."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@attrs.frozen
class SlaCompliance:
    """Claims whose resolution clock stopped in a period: ``met`` in time,
    ``breached`` late; ``rate`` = met / decided (None when none was decided)."""

    decided: int
    met: int
    breached: int

    @property
    def rate(self) -> Decimal | None:
        """The share met in time, 0..1 to four places (None without claims)."""
        if self.decided == 0:
            return None
        return (Decimal(self.met) / Decimal(self.decided)).quantize(Decimal("0.0001"))


def _rows(value: Any) -> tuple[SpendRow, ...]:
    return tuple(value)


@attrs.frozen
class SpendReport:
    """A company's spend in ``period`` grouped by ``group_by`` (rows sorted by key,
    then currency), its totals per currency, approval cycle times and claim SLA
    compliance. :func:`~b2bcore.insights.service.to_csv` writes the rows."""

    company_id: str
    period: Period
    group_by: GroupBy
    tz: str
    rows: tuple[SpendRow, ...] = attrs.field(converter=_rows)
    totals: tuple[Money, ...]
    approval_cycle_times: CycleTimes | None
    sla_compliance: SlaCompliance | None
