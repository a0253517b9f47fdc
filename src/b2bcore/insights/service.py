"""Insights use-cases: the client dashboard and the spend report (``portal.insights``).

The insights context owns no data. It is a read-side composition: it reads through
the other contexts' read use-cases, as the ports of :mod:`b2bcore.insights.ports`
(the portal passes the services in; insights imports none of them), each of which
authorizes the actor and applies its view
scope, so the dashboard never shows a record the actor could not open on its own
page) and aggregates with the pure rules of :mod:`b2bcore.insights.rules`. Sections
the actor has no view permission for are not asked for (no denial lands in the
audit trail); they are listed in ``ClientDashboard.hidden``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from b2bcore._command import Command, member_query
from b2bcore.accounts.model import Actor, Permission
from b2bcore.approvals.model import ApprovalFlow, FlowStatus
from b2bcore.assets.model import AssetStatus
from b2bcore.catalog.recommendations import Suggestion
from b2bcore.claims.model import Claim, ClaimStatus
from b2bcore.claims.rules import PAUSED_STATUSES, RUNNING_STATUSES, sla_status
from b2bcore.clock import Clock, to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import UserId
from b2bcore.insights.model import (
    ApprovalItem,
    ApprovalsSection,
    ClaimsSection,
    ClientDashboard,
    GroupBy,
    InvoicesSection,
    InvoiceSummary,
    OpenClaim,
    OpenOrder,
    OrdersSection,
    Period,
    Section,
    SpendComparison,
    SpendReport,
    SuggestionsSection,
    TrackingSummary,
    UpcomingAppointment,
    WarrantyEnding,
)
from b2bcore.insights.ports import (
    ApprovalsReader,
    AssetsReader,
    ClaimsReader,
    OrdersReader,
    SchedulingReader,
    Suggestions,
)
from b2bcore.insights.rules import (
    OPEN_ORDER_STATUSES,
    SPEND_STATUSES,
    count_by_status,
    cycle_times,
    sla_compliance,
    sla_state,
    spend_comparison,
    spend_rows,
    sum_by_currency,
)
from b2bcore.l10n import get_zone
from b2bcore.orders.model import InvoiceStatus, Order, OrderStatus
from b2bcore.orders.rules import audience_for
from b2bcore.paging import MAX_LIMIT, Page, iterate
from b2bcore.scheduling.model import AppointmentStatus
from b2bcore.storage.ports import UnitOfWork

__all__ = ["CSV_HEADER", "InsightsService", "to_csv"]

T = TypeVar("T")

#: The spend report CSV's columns, in order (stable across releases).
CSV_HEADER = (
    "period_start",
    "period_end",
    "group_by",
    "key",
    "currency",
    "amount",
    "orders",
    "lines",
    "quantity",
)

#: How far ahead the dashboard looks for warranties that end.
WARRANTY_HORIZON = timedelta(days=90)

_VIEWS = (
    (Section.ORDERS, Permission.ORDERS_VIEW),
    (Section.INVOICES, Permission.INVOICES_VIEW),
    (Section.CLAIMS, Permission.CLAIMS_VIEW),
    (Section.APPOINTMENTS, Permission.APPOINTMENTS_VIEW),
    (Section.WARRANTIES, Permission.ASSETS_VIEW),
)
_UPCOMING = (AppointmentStatus.HELD, AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
_OPEN_CLAIMS = RUNNING_STATUSES | PAUSED_STATUSES
_SHIPPING = frozenset({OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED})


def _all(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    return list(iterate(fetch))


def _limit(value: object, *, path: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise ValidationError(f"must be a whole number 1-{MAX_LIMIT}", path=path, value=value)
    return value


def _tier_names(flow: ApprovalFlow) -> str:
    return ", ".join(flow.rules[r].tiers[t].tier.name for r, t in flow.active_tiers())


def _flow_item(
    flow: ApprovalFlow, *, tier: str = "", on_behalf_of: str | None = None
) -> ApprovalItem:
    return ApprovalItem(
        flow_id=flow.id,
        subject_kind=flow.subject.ref.kind,
        subject_id=flow.subject.ref.id,
        total=flow.subject.total,
        requester_id=flow.subject.requester_id,
        submitted_at=flow.submitted_at,
        tier_name=tier,
        on_behalf_of=on_behalf_of,
        status=flow.status,
    )


class _Scope:
    """What the dashboard's actor may see, decided once in one unit of work."""

    def __init__(self, visible: frozenset[Section], company_wide_orders: bool) -> None:
        self.visible = visible
        self.company_wide_orders = company_wide_orders
        self.my_flows: list[ApprovalFlow] = []


class InsightsService:
    """The dashboard and report use-cases over the other contexts' read use-cases."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        orders: OrdersReader,
        approvals: ApprovalsReader,
        claims: ClaimsReader,
        assets: AssetsReader,
        scheduling: SchedulingReader,
        suggestions: Suggestions | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._orders = orders
        self._approvals = approvals
        self._claims = claims
        self._assets = assets
        self._scheduling = scheduling
        self._suggestions = suggestions

    # -- scope ------------------------------------------------------------------------
    def _scope(self, actor: Actor, *, action: str) -> _Scope:
        def body(cmd: Command) -> _Scope:
            if cmd.actor.operator:
                # The seller's staff see the company's orders, invoices, claims and
                # assets; appointments are read by the company's users only.
                return _Scope(frozenset(Section) - {Section.APPOINTMENTS}, company_wide_orders=True)
            visible = {Section.APPROVALS, Section.SUGGESTIONS}
            company_wide = False
            for section, permission in _VIEWS:
                decision, audience = audience_for(
                    cmd.actor, permission, access=cmd.access, at=cmd.at
                )
                if decision.allowed and audience.groups:
                    visible.add(section)
                    if section is Section.ORDERS:
                        visible.add(Section.SPEND)
                        company_wide = any(
                            g.units is None and g.requester_id is None for g in audience.groups
                        )
            scope = _Scope(frozenset(visible), company_wide)
            # One's own requests are always one's to see.
            scope.my_flows = _all(
                lambda c: cmd.uow.approval_flows.list(
                    company_id=cmd.actor.company_id,
                    status=FlowStatus.PENDING,
                    requester_id=UserId(cmd.actor.on_behalf_of),
                    limit=MAX_LIMIT,
                    cursor=c,
                )
            )
            return scope

        if not isinstance(actor, Actor):
            raise ValidationError("must be an Actor", path="actor", value=actor)
        return member_query(
            self._uow, self._clock, actor, action=action, target="insights", body=body
        )

    # -- the dashboard ----------------------------------------------------------------
    def client_dashboard(
        self, actor: Actor, now: datetime | None = None, *, tz: str = "UTC", limit: int = 20
    ) -> ClientDashboard:
        """The portal's front page for ``actor`` at ``now`` (default: the clock's now):
        open orders by status with each shown order's latest tracking event; open
        invoices with the outstanding and overdue balance per currency; open claims
        with SLA state and ETA; upcoming appointments; assets whose warranty ends
        within 90 days; approvals waiting on the actor and the actor's own waiting
        on others; "buy again" and frequently-bought-together suggestions; spend this
        month vs last (calendar months in ``tz``). Lists show at most ``limit``
        entries (counts and sums cover everything)."""
        at = self._clock.now() if now is None else to_utc(now, path="now")
        get_zone(tz)
        shown = _limit(limit)
        scope = self._scope(actor, action="dashboard.read")
        visible = scope.visible
        this_month = Period.month_of(at, tz=tz)
        last_month = this_month.previous_month(tz=tz)

        orders, latest_skus = OrdersSection(), list[str]()
        if Section.ORDERS in visible:
            orders, latest_skus = self._open_orders(actor, shown)
        comparison: tuple[SpendComparison, ...] = ()
        if Section.SPEND in visible:
            recent = self._orders_between(actor, last_month.start, this_month.end)
            comparison = spend_comparison(recent, this_month, last_month)
        invoices = InvoicesSection()
        if Section.INVOICES in visible:
            invoices = self._open_invoices(actor, at, shown)
        claims = ClaimsSection()
        if Section.CLAIMS in visible:
            claims = self._open_claims(actor, at, shown)
        appointments: tuple[UpcomingAppointment, ...] = ()
        if Section.APPOINTMENTS in visible:
            appointments = self._upcoming(actor, at, shown)
        warranties: tuple[WarrantyEnding, ...] = ()
        asset_skus: list[str] = []
        if Section.WARRANTIES in visible:
            warranties, asset_skus = self._warranties(actor, at, tz, shown)
        approvals = ApprovalsSection(
            waiting_on_me=tuple(
                _flow_item(
                    self._approvals.get_flow(actor, p.flow_id),
                    tier=p.tier_name,
                    on_behalf_of=p.on_behalf_of,
                )
                for p in self._approvals.pending_approvals(actor)[:shown]
            ),
            mine_waiting=tuple(
                _flow_item(f, tier=_tier_names(f))
                for f in sorted(scope.my_flows, key=lambda f: (f.submitted_at, f.id))[:shown]
            ),
        )
        hidden = set(Section) - visible
        suggestions = SuggestionsSection()
        if self._suggestions is None:
            hidden.add(Section.SUGGESTIONS)
        else:
            seeds = list(dict.fromkeys([*asset_skus, *latest_skus]))
            suggestions = self._suggest(actor, seeds)
        return ClientDashboard(
            company_id=actor.company_id,
            user_id=actor.on_behalf_of,
            at=at,
            orders=orders,
            invoices=invoices,
            claims=claims,
            appointments=appointments,
            warranties=warranties,
            approvals=approvals,
            suggestions=suggestions,
            spend=comparison,
            this_month=this_month,
            last_month=last_month,
            hidden=frozenset(hidden),
        )

    def _open_orders(self, actor: Actor, shown: int) -> tuple[OrdersSection, list[str]]:
        open_orders = _all(
            lambda c: self._orders.order_history(
                actor, statuses=OPEN_ORDER_STATUSES, limit=MAX_LIMIT, cursor=c
            )
        )
        items = []
        for order in open_orders[:shown]:
            tracking = None
            if order.status in _SHIPPING:
                tracking = self._latest_tracking(actor, order)
            items.append(
                OpenOrder(
                    order_id=order.id,
                    status=order.status,
                    total=order.total,
                    created_at=order.created_at,
                    requester_id=order.requester_id,
                    po_number=order.po_number,
                    tracking=tracking,
                )
            )
        latest = [str(line.sku) for line in open_orders[0].lines] if open_orders else []
        return OrdersSection(by_status=count_by_status(open_orders), orders=tuple(items)), latest

    def _latest_tracking(self, actor: Actor, order: Order) -> TrackingSummary | None:
        found = self._orders.track_order(actor, order.id)
        best: TrackingSummary | None = None
        for shipment in found.shipments:
            for event in shipment.events:
                if best is None or (event.at, shipment.id) >= (best.at, best.shipment_id):
                    best = TrackingSummary(
                        shipment_id=shipment.id,
                        carrier=shipment.carrier,
                        tracking_number=shipment.tracking_number,
                        status=event.status,
                        at=event.at,
                        location=event.location,
                    )
        return best

    def _orders_between(self, actor: Actor, since: datetime, until: datetime) -> list[Order]:
        return _all(
            lambda c: self._orders.order_history(
                actor, statuses=SPEND_STATUSES, since=since, until=until, limit=MAX_LIMIT, cursor=c
            )
        )

    def _open_invoices(self, actor: Actor, at: datetime, shown: int) -> InvoicesSection:
        every = _all(
            lambda c: self._orders.invoices(
                actor, status=InvoiceStatus.OPEN, limit=MAX_LIMIT, cursor=c
            )
        )
        summaries = [
            InvoiceSummary(
                invoice_id=i.id,
                order_id=i.order_id,
                total=i.total,
                balance=i.balance,
                due_date=i.due_date,
                overdue=i.status_at(at) is InvoiceStatus.OVERDUE,
            )
            for i in every
            if not i.balance.is_negative()
        ]
        return InvoicesSection(
            open=tuple(summaries[:shown]),
            outstanding=sum_by_currency(s.balance for s in summaries),
            overdue=sum_by_currency(s.balance for s in summaries if s.overdue),
        )

    def _open_claims(self, actor: Actor, at: datetime, shown: int) -> ClaimsSection:
        found: list[Claim] = _all(
            lambda c: self._claims.claims(actor, statuses=_OPEN_CLAIMS, limit=MAX_LIMIT, cursor=c)
        )
        items = []
        for claim in found[:shown]:
            status = sla_status(claim, self._claims.calendar, at)
            items.append(
                OpenClaim(
                    claim_id=claim.id,
                    title=claim.title,
                    status=claim.status,
                    priority=claim.priority,
                    created_at=claim.created_at,
                    sla=sla_state(status),
                    eta=status.eta,
                )
            )
        return ClaimsSection(open=tuple(items))

    def _upcoming(self, actor: Actor, at: datetime, shown: int) -> tuple[UpcomingAppointment, ...]:
        page = self._scheduling.appointments(actor, statuses=_UPCOMING, since=at, limit=shown)
        return tuple(
            UpcomingAppointment(
                booking_id=b.id,
                title=b.title,
                start=b.start,
                end=b.end,
                status=b.status,
                resource_ids=tuple(b.resource_ids),
                asset_id=b.asset_id,
                claim_id=b.claim_id,
            )
            for b in page.items
        )

    def _warranties(
        self, actor: Actor, at: datetime, tz: str, shown: int
    ) -> tuple[tuple[WarrantyEnding, ...], list[str]]:
        today = at.astimezone(get_zone(tz)).date()
        horizon = today + WARRANTY_HORIZON
        assets = _all(
            lambda c: self._assets.assets(
                actor, status=AssetStatus.ACTIVE, limit=MAX_LIMIT, cursor=c
            )
        )
        ending = sorted(
            (
                WarrantyEnding(
                    asset_id=a.id,
                    serial_number=a.serial_number,
                    sku=a.sku,
                    until=a.warranty.until,
                    days_left=(a.warranty.until - today).days,
                )
                for a in assets
                if a.warranty is not None and today <= a.warranty.until <= horizon
            ),
            key=lambda w: (w.until, w.asset_id),
        )
        return tuple(ending[:shown]), [a.sku for a in assets]

    def _suggest(self, actor: Actor, seeds: Sequence[str]) -> SuggestionsSection:
        assert self._suggestions is not None
        again = self._suggestions.buy_again(actor, limit=5)
        together: list[Suggestion] = []
        seen = set(seeds)
        for seed in seeds[:5]:
            for s in self._suggestions.frequently_bought_together(actor, seed, limit=5):
                if s.sku not in seen:
                    seen.add(s.sku)
                    together.append(s)
        together.sort(key=lambda s: (-s.confidence, -s.lift, s.sku))
        return SuggestionsSection(buy_again=tuple(again), bought_together=tuple(together[:5]))

    # -- the spend report ---------------------------------------------------------------
    def spend_report(
        self,
        actor: Actor,
        period: Period,
        group_by: GroupBy | str = GroupBy.MONTH,
        *,
        tz: str = "UTC",
    ) -> SpendReport:
        """The spend of the orders the actor may see (``orders.view`` scope) ordered
        in ``period``, grouped by month (in ``tz``), business unit, cost center,
        category (the line's leaf category) or SKU, exact per currency; with the
        approval cycle times (median, p90) of the flows decided in the period (for
        company-wide viewers, else None) and the SLA compliance of the claims the
        actor may see (None without ``claims.view``)."""
        if not isinstance(period, Period):
            raise ValidationError("must be a Period", path="period", value=period)
        grouping = GroupBy.parse(group_by)
        get_zone(tz)
        scope = self._scope(actor, action="spend_report.read")
        orders = self._orders_between(actor, period.start, period.end)  # authorizes orders.view
        rows = spend_rows(orders, period, grouping, tz=tz)
        cycles = None
        if scope.company_wide_orders:
            flows = _all(lambda c: self._approvals.list_flows(actor, limit=MAX_LIMIT, cursor=c))
            cycles = cycle_times(
                f.cycle_time
                for f in flows
                if f.cycle_time is not None
                and f.completed_at is not None
                and f.completed_at in period
                and f.status in (FlowStatus.APPROVED, FlowStatus.REJECTED)
            )
        compliance = None
        if Section.CLAIMS in scope.visible:
            at = min(period.end - timedelta(microseconds=1), self._clock.now())
            claims = _all(
                lambda c: self._claims.claims(
                    actor,
                    statuses=set(ClaimStatus) - {ClaimStatus.DRAFT},
                    limit=MAX_LIMIT,
                    cursor=c,
                )
            )
            compliance = sla_compliance(
                (sla_status(c, self._claims.calendar, at) for c in claims if c.created_at <= at),
                period,
            )
        return SpendReport(
            company_id=actor.company_id,
            period=period,
            group_by=grouping,
            tz=tz,
            rows=rows,
            totals=sum_by_currency(r.amount for r in rows),
            approval_cycle_times=cycles,
            sla_compliance=compliance,
        )


def to_csv(report: SpendReport) -> str:
    """The report's rows as CSV text (header :data:`CSV_HEADER`; amounts and
    quantities as plain decimal text, instants ISO-8601)."""
    if not isinstance(report, SpendReport):
        raise ValidationError("must be a SpendReport", path="report", value=report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    start, end = report.period.start.isoformat(), report.period.end.isoformat()
    for row in report.rows:
        writer.writerow(
            (
                start,
                end,
                report.group_by.value,
                row.key,
                row.currency,
                str(row.amount.amount),
                row.orders,
                row.lines,
                str(row.quantity),
            )
        )
    return out.getvalue()
