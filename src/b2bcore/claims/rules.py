"""Pure rules of the claims context: delivered and claimable quantities, warranty
decisions, credits against invoices, free replacement orders, RMA numbers and SLA
clocks. No I/O, no clock: everything comes in as arguments.

**Quantities.** What was delivered of an order line is what its shipments carry
whose carrier reported the delivery (:func:`delivered_quantities`). A claim may
hold at most what is delivered and not held by other claims
(:func:`check_held`); a rejected quantity is released.

**Warranty.** :func:`decide_warranty` decides from the asset's own warranty if it
has one, else from the delivery date plus the product's warranty period
(:func:`warranty_months`, the catalog attribute ``warranty_months``), and says why.

**SLA.** A claim's clocks run in business time (a
:class:`~b2bcore.calendar.BusinessCalendar`) from submission while the claim is
submitted, in review, approved or being resolved; they pause exactly while
information is requested from the customer and stop once it is resolved, rejected,
closed or cancelled. :func:`sla_status` gives the elapsed time, the due instants,
breach flags and the customer-facing ETA.

>>> from datetime import datetime, timezone
>>> from b2bcore.claims.rules import decide_warranty
>>> decision = decide_warranty(at=datetime(2027, 5, 1, tzinfo=timezone.utc),
...                            delivered_at=datetime(2026, 3, 2, tzinfo=timezone.utc),
...                            warranty_months=24)
>>> decision.covered, decision.until.isoformat()
(True, '2028-03-02')
>>> decision.reason
'delivered 2026-03-02 with a 24-month warranty: covered until 2028-03-02'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import attrs
from dateutil.relativedelta import relativedelta

from b2bcore.assets.model import Asset
from b2bcore.calendar import BusinessCalendar
from b2bcore.catalog.model import Product
from b2bcore.claims.errors import CreditExceedsInvoicedError, OverClaimError
from b2bcore.claims.model import (
    Claim,
    ClaimStatus,
    ClaimTally,
    Priority,
    WarrantyBasis,
    WarrantyDecision,
)
from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import ClaimId, OrderId
from b2bcore.money import CALCULATION_CONTEXT, Money, RoundingMode, RoundingPolicy
from b2bcore.orders.model import Order, OrderLine, OrderStatus, Shipment

__all__ = [
    "PAUSED_STATUSES",
    "RUNNING_STATUSES",
    "SlaClock",
    "SlaStatus",
    "WARRANTY_ATTRIBUTE",
    "available_to_claim",
    "check_held",
    "clock_intervals",
    "credit_for",
    "decide_warranty",
    "delivered_quantities",
    "delivery_dates",
    "replacement_order",
    "rma_number",
    "sla_status",
    "warranty_months",
]

#: Statuses in which a claim's SLA clocks run.
RUNNING_STATUSES: Final = frozenset(
    {
        ClaimStatus.SUBMITTED,
        ClaimStatus.IN_REVIEW,
        ClaimStatus.APPROVED,
        ClaimStatus.RESOLUTION_IN_PROGRESS,
    }
)
#: Statuses in which they pause (waiting for the customer).
PAUSED_STATUSES: Final = frozenset({ClaimStatus.INFO_REQUESTED})

_ZERO: Final = Decimal(0)
_NO_TIME: Final = timedelta(0)
_HALF_UP: Final = RoundingPolicy(RoundingMode.HALF_UP)
#: The catalog attribute naming a product's warranty period in months.
WARRANTY_ATTRIBUTE: Final = "warranty_months"


# --- quantities ------------------------------------------------------------------------------


def delivered_quantities(order: Order, shipments: Iterable[Shipment]) -> dict[int, Decimal]:
    """What was delivered of each line of ``order`` (line number → quantity): the
    quantities of its shipments whose carrier reported the delivery."""
    out = {line.line_no: _ZERO for line in order.lines}
    for shipment in shipments:
        if shipment.order_id != order.id or shipment.delivered_at is None:
            continue
        for sl in shipment.lines:
            if sl.line_no in out:
                out[sl.line_no] = CALCULATION_CONTEXT.add(out[sl.line_no], sl.quantity)
    return out


def delivery_dates(order: Order, shipments: Iterable[Shipment]) -> dict[int, datetime]:
    """When each line of ``order`` was delivered (the latest delivery that carried
    some of it; lines not delivered yet are left out)."""
    out: dict[int, datetime] = {}
    for shipment in shipments:
        delivered = shipment.delivered_at
        if shipment.order_id != order.id or delivered is None:
            continue
        for sl in shipment.lines:
            if sl.line_no not in out or out[sl.line_no] < delivered:
                out[sl.line_no] = delivered
    return out


def available_to_claim(
    delivered: Mapping[int, Decimal], tally: ClaimTally, line_no: int, *, claim_id: str
) -> Decimal:
    """What claim ``claim_id`` may hold of order line ``line_no``: delivered minus
    what the other claims hold (never below zero)."""
    left = CALCULATION_CONTEXT.subtract(
        delivered.get(line_no, _ZERO), tally.held(line_no, excluding=claim_id)
    )
    return max(left, _ZERO)


def check_held(
    claim: Claim,
    order: Order,
    delivered: Mapping[int, Decimal],
    tally: ClaimTally,
) -> dict[int, Decimal]:
    """What ``claim`` holds of the lines of ``order``, checked: every line whose
    holding grows must fit in what is delivered and not held by other claims
    (:class:`~b2bcore.claims.errors.OverClaimError` naming what is left otherwise).
    Returns order line number → quantity, for
    :meth:`~b2bcore.claims.model.ClaimTally.hold`."""
    if tally.order_id != order.id:
        raise ValidationError("the tally is of another order", path="tally", value=tally.order_id)
    wanted = {line_no: q for (oid, line_no), q in claim.held().items() if oid == order.id}
    before = tally.held_by(claim.id)
    by_no = {line.line_no: line for line in order.lines}
    for line_no, q in sorted(wanted.items()):
        line = by_no.get(line_no)
        if line is None:
            raise ValidationError(
                f"order {order.id!r} has lines 1 to {len(order.lines)}",
                path="order_line_no",
                value=line_no,
            )
        if q <= before.get(line_no, _ZERO):
            continue
        left = available_to_claim(delivered, tally, line_no, claim_id=claim.id)
        if q > left:
            raise OverClaimError(
                order_id=order.id, line_no=line_no, sku=line.sku, requested=q, available=left
            )
    return wanted


# --- warranty -----------------------------------------------------------------------------------


def warranty_months(product: Product | None) -> int | None:
    """The product's warranty period in months: its catalog attribute
    ``warranty_months`` (a whole number of 0 or more), if it has one."""
    if product is None:
        return None
    value = product.attributes.get(WARRANTY_ATTRIBUTE)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    months = int(value)
    return months if months == value and months >= 0 else None


def decide_warranty(
    *,
    at: datetime,
    asset: Asset | None = None,
    delivered_at: datetime | None = None,
    warranty_months: int | None = None,
) -> WarrantyDecision:
    """Whether a claim filed at ``at`` is under warranty: by the asset's own
    warranty when it has one; else by the delivery date plus ``warranty_months``;
    else not known (not covered). Days are UTC dates; ``until`` is inclusive."""
    day = to_utc(at, path="at").date()
    if asset is not None and asset.warranty is not None:
        w = asset.warranty
        covered = w.covers(day)
        terms = f" ({w.terms})" if w.terms else ""
        verdict = "covered" if covered else f"expired before {day.isoformat()}"
        return WarrantyDecision(
            covered=covered,
            basis=WarrantyBasis.ASSET_WARRANTY,
            reason=f"asset {asset.serial_number}: warranty until {w.until.isoformat()}"
            f"{terms}; {verdict}",
            until=w.until,
        )
    if delivered_at is not None and warranty_months is not None:
        delivered = to_utc(delivered_at, path="delivered_at").date()
        until = delivered + relativedelta(months=warranty_months)
        covered = day <= until
        verdict = (
            f"covered until {until.isoformat()}"
            if covered
            else f"expired {until.isoformat()}, before {day.isoformat()}"
        )
        return WarrantyDecision(
            covered=covered,
            basis=WarrantyBasis.DELIVERY,
            reason=f"delivered {delivered.isoformat()} with a {warranty_months}-month "
            f"warranty: {verdict}",
            until=until,
        )
    missing = []
    if asset is not None:
        missing.append(f"asset {asset.serial_number} has no recorded warranty")
    if delivered_at is None:
        missing.append("no delivery date is known")
    if warranty_months is None:
        missing.append("the product has no warranty period")
    return WarrantyDecision(
        covered=False,
        basis=WarrantyBasis.UNKNOWN,
        reason="warranty unknown: " + "; ".join(missing),
    )


# --- credits and replacements ---------------------------------------------------------------


def credit_for(
    line: OrderLine, quantity: Decimal, tally: ClaimTally, *, amount: Money | None = None
) -> Money:
    """The credit for ``quantity`` of order line ``line``: ``amount`` if given,
    else the invoiced amount of that quantity (pro rata, rounded half up). Never
    more than what was invoiced for the line and not credited yet
    (:class:`~b2bcore.claims.errors.CreditExceedsInvoicedError`), nor more than
    the invoiced value of ``quantity``."""
    currency = line.net.currency
    invoiced = line.invoiced_amount or Money.zero(currency)
    left = invoiced - tally.credited(line.line_no, currency)
    if line.invoiced_quantity == 0:
        raise CreditExceedsInvoicedError(
            order_id=tally.order_id,
            line_no=line.line_no,
            requested=amount if amount is not None else Money.zero(currency),
            available=Money.zero(currency),
        )
    share = Money(
        CALCULATION_CONTEXT.divide(
            CALCULATION_CONTEXT.multiply(invoiced.amount, min(quantity, line.invoiced_quantity)),
            line.invoiced_quantity,
        ),
        currency,
    ).round(_HALF_UP)
    cap = min(share, left)
    wanted = cap if amount is None else amount
    if not isinstance(wanted, Money) or wanted.currency != currency:
        raise ValidationError(f"must be Money in {currency}", path="amount", value=amount)
    if not wanted.is_rounded() or wanted.is_negative() or wanted.is_zero():
        raise ValidationError(
            f"must be a positive amount in {currency}'s minor units", path="amount", value=amount
        )
    if wanted > cap:
        raise CreditExceedsInvoicedError(
            order_id=tally.order_id, line_no=line.line_no, requested=wanted, available=cap
        )
    return wanted


def replacement_order(
    claim: Claim,
    original: Order,
    quantities: Mapping[int, Decimal],
    *,
    order_id: str,
    at: datetime,
    by: str,
) -> Order:
    """A free replacement order for claim lines (claim line number → quantity) of
    order ``original``: the same SKUs at their original pinned prices, discounted in
    full (total zero), placed for the claim's requester and referring to the claim.
    The orders context ships it like any order."""
    lines: list[OrderLine] = []
    by_no = {line.line_no: line for line in original.lines}
    for claim_line_no, q in sorted(quantities.items()):
        ref = claim.line(claim_line_no).order_line
        if ref is None or ref[0] != original.id:
            raise ValidationError(
                f"claim line {claim_line_no} is not about order {original.id!r}",
                path="lines",
                value=claim_line_no,
            )
        source = by_no[ref[1]]
        gross = source.unit_price * q
        lines.append(
            attrs.evolve(
                source,
                line_no=len(lines) + 1,
                quantity=q,
                gross=gross,
                discount=gross,
                rounding=Money.zero(original.currency),
                net=Money.zero(original.currency),
                override=None,
                shipped_quantity=_ZERO,
                invoiced_quantity=_ZERO,
                invoiced_amount=None,
            )
        )
    if not lines:
        raise ValidationError("a replacement covers at least one line", path="lines")
    when = to_utc(at, path="at")
    reason = f"free replacement for claim {claim.id}"
    order = Order(
        id=OrderId(order_id),
        company_id=original.company_id,
        requester_id=claim.requester_id,
        placed_by=by,
        currency=original.currency,
        lines=tuple(lines),
        total=Money.zero(original.currency),
        created_at=when,
        status=OrderStatus.PLACED,
        business_unit_id=original.business_unit_id,
        cost_center=original.cost_center,
        reference=f"Replacement, claim {claim.id}"[:100],
    )
    order.start(at=when, by=by, reason=reason)
    return order


def rma_number(claim_id: ClaimId | str, sequence: int) -> str:
    """The RMA number of a claim's ``sequence``-th return: ``RMA-<claim>-<n>``.

    >>> rma_number("01J8ZK", 1)
    'RMA-01J8ZK-1'
    """
    return f"RMA-{claim_id}-{sequence}"


# --- SLA ------------------------------------------------------------------------------------------


def _periods(claim: Claim, until: datetime) -> list[tuple[ClaimStatus, datetime, datetime]]:
    """Each status of the claim's history with the time it held, up to ``until``."""
    out: list[tuple[ClaimStatus, datetime, datetime]] = []
    history = claim.history
    for i, change in enumerate(history):
        start = change.at
        end = history[i + 1].at if i + 1 < len(history) else until
        end = min(end, until)
        if start < end:
            out.append((change.to_status, start, end))
    return out


def clock_intervals(
    claim: Claim, until: datetime, *, stop: datetime | None = None
) -> tuple[tuple[datetime, datetime], ...]:
    """The intervals (UTC, in order) in which the claim's SLA clock ran up to
    ``until`` (and, if given, ``stop``): while its status was one of
    :data:`RUNNING_STATUSES` (adjacent ones merged). Paused and stopped time is left
    out."""
    end = to_utc(until, path="until")
    if stop is not None:
        end = min(end, to_utc(stop, path="stop"))
    merged: list[tuple[datetime, datetime]] = []
    for status, start, finish in _periods(claim, end):
        if status not in RUNNING_STATUSES:
            continue
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((start, finish))
    return tuple(merged)


@attrs.frozen
class SlaClock:
    """One SLA clock (first response, or resolution): its ``target`` and the business
    time ``elapsed`` against it, when it is (or was) ``due``, whether it is still
    running, when it was met, and whether it is ``breached`` (more business time
    used than the target)."""

    target: timedelta
    elapsed: timedelta
    due: datetime | None
    running: bool
    met_at: datetime | None
    breached: bool

    @property
    def remaining(self) -> timedelta:
        """Business time left before the target (zero once used up)."""
        return max(self.target - self.elapsed, _NO_TIME)


def _clock(
    calendar: BusinessCalendar,
    intervals: Sequence[tuple[datetime, datetime]],
    *,
    target: timedelta,
    at: datetime,
    running: bool,
    met_at: datetime | None,
) -> SlaClock:
    elapsed = _NO_TIME
    due: datetime | None = None
    for a, b in intervals:
        span = calendar.business_time_between(a, b)
        if due is None and elapsed + span >= target:
            due = calendar.add_business_time(a, target - elapsed)
        elapsed += span
    if due is None and running:
        due = calendar.add_business_time(at, target - elapsed)
    return SlaClock(
        target=target,
        elapsed=elapsed,
        due=due,
        running=running,
        met_at=met_at,
        breached=elapsed > target,
    )


@attrs.frozen
class SlaStatus:
    """A claim's SLA at instant ``at``: both clocks (None when the claim's type has
    no target for its priority, or it is a draft), whether they are paused, and the
    customer-facing ETA of the resolution (None while paused, overdue, or when
    there will be no resolution)."""

    claim_id: ClaimId
    status: ClaimStatus
    priority: Priority
    at: datetime
    first_response: SlaClock | None
    resolution: SlaClock | None
    paused: bool
    eta: datetime | None

    @property
    def breached(self) -> bool:
        """Whether either target is breached."""
        return any(c is not None and c.breached for c in (self.first_response, self.resolution))

    def describe(self) -> str:
        """What to tell the customer."""
        if self.status in (ClaimStatus.RESOLVED, ClaimStatus.CLOSED) and self.eta is not None:
            return f"resolved {self.eta.isoformat()}"
        if self.status in (ClaimStatus.DRAFT, ClaimStatus.CANCELLED, ClaimStatus.REJECTED):
            return f"no resolution expected ({self.status.value.replace('_', ' ')})"
        if self.paused:
            return "waiting for your information; the service clock is paused"
        if self.resolution is not None and self.resolution.breached:
            return "overdue; we are on it"
        if self.eta is not None:
            return f"expected resolution by {self.eta.isoformat()}"
        return "no target set"


def sla_status(claim: Claim, calendar: BusinessCalendar, at: datetime) -> SlaStatus:
    """The claim's SLA at instant ``at`` (see the module docs), as its history stood
    then: ``at`` may be now or any earlier instant.

    First response: met by the agent's first move or public message
    (``claim.first_response_at``). Resolution: met when the claim reaches
    ``resolved``, ``rejected``, ``closed`` or ``cancelled``; a reopened claim's
    clock runs on from where it stopped.
    """
    if not isinstance(calendar, BusinessCalendar):
        raise ValidationError("must be a BusinessCalendar", path="calendar", value=calendar)
    now = to_utc(at, path="at")
    live = RUNNING_STATUSES | PAUSED_STATUSES
    status, ended, resolved_at, submitted = ClaimStatus.DRAFT, None, None, False
    for change in claim.history:
        if change.at > now:
            break
        if status in live and change.to_status not in live:
            ended = change.at
        if change.to_status is ClaimStatus.RESOLVED:
            resolved_at = change.at
        submitted = submitted or change.to_status is ClaimStatus.SUBMITTED
        status = change.to_status
    running, paused = status in RUNNING_STATUSES, status in PAUSED_STATUSES
    target = claim.claim_type.target(claim.priority)
    first: SlaClock | None = None
    resolution: SlaClock | None = None
    if target is not None and submitted:
        responded = claim.first_response_at
        if responded is not None and responded > now:
            responded = None
        first = _clock(
            calendar,
            clock_intervals(claim, now, stop=responded),
            target=target.first_response,
            at=now,
            running=running and responded is None,
            met_at=responded,
        )
        resolution = _clock(
            calendar,
            clock_intervals(claim, now),
            target=target.resolution,
            at=now,
            running=running,
            met_at=None if running or paused else ended,
        )
    eta: datetime | None = None
    if status in (ClaimStatus.RESOLVED, ClaimStatus.CLOSED):
        eta = resolved_at
    elif running and resolution is not None and not resolution.breached:
        eta = resolution.due
    return SlaStatus(
        claim_id=claim.id,
        status=status,
        priority=claim.priority,
        at=now,
        first_response=first,
        resolution=resolution,
        paused=paused,
        eta=eta,
    )
