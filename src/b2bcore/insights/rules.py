"""Pure aggregation rules of the insights context: no I/O, no clock.

Sums are exact :class:`~b2bcore.money.Money` per currency — currencies are never
mixed; percentiles are nearest-rank.

>>> from datetime import timedelta
>>> cycle_times([timedelta(hours=h) for h in (1, 2, 3, 4, 10)])
CycleTimes(count=5, median=datetime.timedelta(seconds=10800), p90=datetime.timedelta(seconds=36000))
>>> sum_by_currency([Money("1.10", "EUR"), Money("5", "USD"), Money("2.20", "EUR")])
(Money('3.30', 'EUR'), Money('5', 'USD'))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from decimal import Decimal

from b2bcore.claims.model import ClaimStatus
from b2bcore.claims.rules import SlaStatus
from b2bcore.errors import ValidationError
from b2bcore.insights.model import (
    CycleTimes,
    GroupBy,
    Period,
    SlaCompliance,
    SlaState,
    SpendComparison,
    SpendRow,
    StatusCount,
)
from b2bcore.l10n import get_zone
from b2bcore.money import Money
from b2bcore.orders.model import Order, OrderLine, OrderStatus

__all__ = [
    "OPEN_ORDER_STATUSES",
    "SPEND_STATUSES",
    "count_by_status",
    "cycle_times",
    "percentile",
    "sla_compliance",
    "sla_state",
    "spend_comparison",
    "spend_in",
    "spend_rows",
    "sum_by_currency",
]

#: Orders that count as spend: placed (approved if they needed it) and not cancelled.
SPEND_STATUSES = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.CONFIRMED,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.CLOSED,
    }
)

#: Orders the dashboard shows as open (not yet delivered, closed or cancelled).
OPEN_ORDER_STATUSES = (
    OrderStatus.PENDING_APPROVAL,
    OrderStatus.PLACED,
    OrderStatus.CONFIRMED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
)

UNASSIGNED = "(none)"


def sum_by_currency(amounts: Iterable[Money]) -> tuple[Money, ...]:
    """Exact sums of ``amounts``, one per currency, sorted by currency code."""
    sums: dict[str, Money] = {}
    for amount in amounts:
        if not isinstance(amount, Money):
            raise ValidationError("must be Money", path="amounts", value=amount)
        held = sums.get(amount.currency)
        sums[amount.currency] = amount if held is None else held + amount
    return tuple(sums[c] for c in sorted(sums))


def _ordered_in(order: Order, period: Period) -> bool:
    return order.status in SPEND_STATUSES and order.created_at in period


def spend_in(orders: Iterable[Order], period: Period) -> tuple[Money, ...]:
    """The spend of ``orders`` ordered in ``period`` (orders now in
    :data:`SPEND_STATUSES`, by order date ``created_at``), per currency."""
    return sum_by_currency(o.total for o in orders if _ordered_in(o, period))


def spend_comparison(
    orders: Sequence[Order], this_month: Period, last_month: Period
) -> tuple[SpendComparison, ...]:
    """Spend this month against last month, per currency present in either."""
    now = {m.currency: m for m in spend_in(orders, this_month)}
    before = {m.currency: m for m in spend_in(orders, last_month)}
    return tuple(
        SpendComparison(
            currency=c,
            this_month=now.get(c, Money.zero(c)),
            last_month=before.get(c, Money.zero(c)),
        )
        for c in sorted(now.keys() | before.keys())
    )


def _month_key(tz: str) -> Callable[[Order, OrderLine], str]:
    zone = get_zone(tz)

    def key(order: Order, _line: OrderLine) -> str:
        return f"{order.created_at.astimezone(zone):%Y-%m}"

    return key


def _key(group_by: GroupBy, tz: str) -> Callable[[Order, OrderLine], str]:
    if group_by is GroupBy.MONTH:
        return _month_key(tz)
    if group_by is GroupBy.BUSINESS_UNIT:
        return lambda order, _line: order.business_unit_id or UNASSIGNED
    if group_by is GroupBy.COST_CENTER:
        return lambda order, _line: order.cost_center or UNASSIGNED
    if group_by is GroupBy.CATEGORY:
        return lambda _order, line: line.categories[-1] if line.categories else UNASSIGNED
    return lambda _order, line: line.sku


def spend_rows(
    orders: Iterable[Order], period: Period, group_by: GroupBy, *, tz: str = "UTC"
) -> tuple[SpendRow, ...]:
    """Spend of ``orders`` ordered in ``period`` (as :func:`spend_in`), grouped by
    ``group_by`` and currency: the order lines' net amounts summed exactly; month
    keys (``2026-11``) in zone ``tz``; orders without a unit or cost center, lines
    without a category under ``"(none)"``. Rows sorted by key, then currency."""
    key_of = _key(GroupBy.parse(group_by), tz)
    amounts: dict[tuple[str, str], Money] = {}
    order_ids: dict[tuple[str, str], set[str]] = {}
    lines: dict[tuple[str, str], int] = {}
    quantity: dict[tuple[str, str], Decimal] = {}
    for order in orders:
        if not _ordered_in(order, period):
            continue
        for line in order.lines:
            k = (key_of(order, line), order.currency)
            held = amounts.get(k)
            amounts[k] = line.net if held is None else held + line.net
            order_ids.setdefault(k, set()).add(order.id)
            lines[k] = lines.get(k, 0) + 1
            quantity[k] = quantity.get(k, Decimal(0)) + line.quantity
    return tuple(
        SpendRow(
            key=k[0],
            currency=k[1],
            amount=amounts[k],
            orders=len(order_ids[k]),
            lines=lines[k],
            quantity=quantity[k],
        )
        for k in sorted(amounts)
    )


def percentile(values: Sequence[timedelta], q: int) -> timedelta:
    """The ``q``-th percentile (1..100) of ``values`` by nearest rank: the smallest
    value with at least ``q`` % of the values at or below it.

    >>> percentile([timedelta(minutes=m) for m in (5, 1, 3)], 50)
    datetime.timedelta(seconds=180)
    """
    if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= 100:
        raise ValidationError("must be a whole number 1-100", path="q", value=q)
    if not values:
        raise ValidationError("needs at least one value", path="values", value=values)
    ordered = sorted(values)
    rank = math.ceil(q * len(ordered) / 100)
    return ordered[rank - 1]


def cycle_times(durations: Iterable[timedelta]) -> CycleTimes:
    """Count, median (mean of the middle two for an even count) and nearest-rank
    p90 of approval cycle times."""
    values = sorted(durations)
    if not values:
        return CycleTimes(count=0, median=None, p90=None)
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return CycleTimes(count=len(values), median=median, p90=percentile(values, 90))


def sla_state(status: SlaStatus) -> SlaState:
    """Where a claim's service clock stands, for the dashboard."""
    if status.breached:
        return SlaState.BREACHED
    if status.paused:
        return SlaState.PAUSED
    if status.resolution is None and status.first_response is None:
        return SlaState.NO_TARGET
    return SlaState.ON_TRACK


_STOPPED = frozenset({ClaimStatus.RESOLVED, ClaimStatus.CLOSED})


def sla_compliance(statuses: Iterable[SlaStatus], period: Period) -> SlaCompliance:
    """Of the claims whose resolution clock stopped (met) in ``period``, how many met
    their resolution target; a running clock already past it counts as breached
    when its due instant falls in the period."""
    met = breached = 0
    for status in statuses:
        clock = status.resolution
        if clock is None:
            continue
        if clock.met_at is not None and status.status in _STOPPED:
            if clock.met_at in period:
                if clock.breached:
                    breached += 1
                else:
                    met += 1
        elif clock.breached and clock.due is not None and clock.due in period:
            breached += 1
    return SlaCompliance(decided=met + breached, met=met, breached=breached)


def count_by_status(orders: Iterable[Order]) -> tuple[StatusCount, ...]:
    """How many of ``orders`` are in each open status, in lifecycle order (only
    statuses that occur)."""
    counts: dict[OrderStatus, int] = {}
    for order in orders:
        counts[order.status] = counts.get(order.status, 0) + 1
    return tuple(StatusCount(s, counts[s]) for s in OPEN_ORDER_STATUSES if counts.get(s))
