"""Recommendations from order history: frequently bought together, and buy again.

Both engines are pure: they read past orders that the application supplies through
the :class:`OrderHistory` port (as :class:`HistoricOrder` values), never a store or a
clock, and every suggestion says why it was made.

* :class:`BasketModel` counts, over every order, how many orders contain each SKU
  and each pair of SKUs. It is kept up to date one order at a time
  (:meth:`~BasketModel.add_order`, :meth:`~BasketModel.remove_order` for a
  cancelled order; both idempotent per order id), and
  :func:`frequently_bought_together` turns the counts into ranked
  :class:`Suggestion`\\ s with exact support, confidence and lift — the pair rules
  of the Apriori algorithm limited to one SKU on each side.
* :func:`buy_again` reads one company's orders and, for each SKU it ordered at
  least twice, its purchase cadence (the median interval between orders) and when
  the next order is expected: :class:`BuyAgainSuggestion`\\ s sorted by that date.

Both take ``allowed``, a ``sku -> bool`` callable such as a company's assortment
check, so that nothing the buyer may not buy is ever suggested.

>>> from datetime import UTC, datetime
>>> from b2bcore.catalog.recommendations import (
...     BasketModel, HistoricOrder, frequently_bought_together)
>>> def order(day, *skus):
...     return HistoricOrder(order_id=f"o{day}", company_id="acme",
...                          placed_at=datetime(2026, 3, day, tzinfo=UTC),
...                          lines=[(sku, 1) for sku in skus])
>>> model = BasketModel.from_history([
...     order(1, "PUMP", "SEAL"), order(2, "PUMP", "SEAL", "OIL"),
...     order(3, "PUMP"), order(4, "OIL")])
>>> [s.sku for s in frequently_bought_together(model, "PUMP", limit=5)]
['SEAL', 'OIL']
>>> best = frequently_bought_together(model, "PUMP", limit=1)[0]
>>> best.support, best.confidence, best.lift
(Fraction(1, 2), Fraction(2, 3), Fraction(4, 3))
>>> print(best.reason)
bought together in 2 of 3 orders containing PUMP (67%), 1.3 times as often as chance
"""

from __future__ import annotations

import collections
import enum
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from operator import itemgetter
from typing import Any, Final, Protocol

import attrs

from b2bcore._validate import enum_member, identifier
from b2bcore.clock import to_utc
from b2bcore.errors import DuplicateError, ValidationError
from b2bcore.ids import CompanyId, OrderId, Sku, as_id
from b2bcore.money import to_quantity
from b2bcore.paging import check_limit

__all__ = [
    "BasketModel",
    "BuyAgainStatus",
    "BuyAgainSuggestion",
    "HistoricLine",
    "HistoricOrder",
    "OrderHistory",
    "Suggestion",
    "association_rules",
    "buy_again",
    "frequently_bought_together",
]

#: ``allowed``: which SKUs may be suggested (``None``: every SKU).
_Allowed = Callable[[Sku], bool] | None

_ZERO: Final = Fraction(0)


# --- orders, as the history port supplies them ---------------------------------------


def _positive_quantity(value: object) -> Decimal:
    quantity = to_quantity(value, path="quantity")
    if quantity <= 0:
        raise ValidationError("must be greater than zero", path="quantity", value=value)
    return quantity


@attrs.frozen
class HistoricLine:
    """One line of a past order: a SKU and the quantity ordered (a positive number).

    >>> HistoricLine(sku="SEAL-7", quantity=4)
    HistoricLine(sku='SEAL-7', quantity=Decimal('4'))
    """

    sku: Sku = attrs.field(validator=identifier)
    quantity: Decimal = attrs.field(converter=_positive_quantity)


def _lines(value: object) -> tuple[HistoricLine, ...]:
    """Converter: a non-empty list of :class:`HistoricLine` or ``(sku, quantity)`` pairs."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(
            "must be a list of lines (HistoricLine or (sku, quantity) pairs)",
            path="lines",
            value=value,
        )
    if not value:
        raise ValidationError("an order has at least one line", path="lines", value=value)
    lines = []
    for i, line in enumerate(value):
        if isinstance(line, HistoricLine):
            lines.append(line)
        elif isinstance(line, (tuple, list)) and len(line) == 2:
            sku, quantity = line
            lines.append(
                HistoricLine(
                    sku=as_id(Sku, sku, path=f"lines[{i}].sku"),
                    quantity=to_quantity(quantity, path=f"lines[{i}].quantity"),
                )
            )
        else:
            raise ValidationError(
                "must be a HistoricLine or a (sku, quantity) pair", path=f"lines[{i}]", value=line
            )
    return tuple(lines)


def _placed_at(value: object) -> datetime:
    return to_utc(value, path="placed_at")


@attrs.frozen
class HistoricOrder:
    """A placed order as the recommendations read it: who, when, which SKUs.

    ``placed_at`` must be timezone-aware (it is kept in UTC). A SKU on several lines
    of one order is one SKU of that basket: :attr:`skus` holds each once, and
    :meth:`quantities` adds its lines up.

    >>> from datetime import UTC, datetime
    >>> o = HistoricOrder(order_id="o-1", company_id="acme",
    ...                   placed_at=datetime(2026, 3, 1, tzinfo=UTC),
    ...                   lines=[("SEAL-7", 2), ("OIL-1", "1.5"), ("SEAL-7", 1)])
    >>> sorted(o.skus), o.quantities()["SEAL-7"]
    (['OIL-1', 'SEAL-7'], Decimal('3'))
    """

    order_id: OrderId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    placed_at: datetime = attrs.field(converter=_placed_at)
    lines: tuple[HistoricLine, ...] = attrs.field(converter=_lines)
    #: The distinct SKUs of the order (derived from ``lines``).
    skus: frozenset[Sku] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "skus", frozenset(line.sku for line in self.lines))

    def quantities(self) -> dict[Sku, Decimal]:
        """The quantity of each SKU, lines of the same SKU added up."""
        totals: dict[Sku, Decimal] = {}
        for line in self.lines:
            totals[line.sku] = totals.get(line.sku, Decimal(0)) + line.quantity
        return totals


class OrderHistory(Protocol):
    """The port through which an application supplies past orders.

    An adapter over the application's order store (or over b2bcore's orders, once
    they exist) yields every placed, not cancelled, order as a :class:`HistoricOrder`,
    in any order:

    >>> class ListHistory:
    ...     def __init__(self, orders):
    ...         self._orders = list(orders)
    ...     def orders(self, *, company_id=None):
    ...         return [o for o in self._orders
    ...                 if company_id is None or o.company_id == company_id]

    Feed :meth:`BasketModel.from_history` with ``history.orders()``, then keep the
    model current with :meth:`BasketModel.add_order` and
    :meth:`BasketModel.remove_order` as orders are placed and cancelled; feed
    :func:`buy_again` with ``history.orders(company_id=...)``.
    """

    def orders(self, *, company_id: CompanyId | None = None) -> Iterable[HistoricOrder]:
        """Every placed order (of one company when ``company_id`` is given)."""
        ...


# --- the basket model ------------------------------------------------------------------


def _count_into(counts: dict[Sku, int], items: Iterable[Sku]) -> None:
    """Add one to ``counts[item]`` for each item (what ``Counter.update`` does)."""
    for item in items:
        counts[item] = counts.get(item, 0) + 1


#: The standard library's C helper behind ``collections.Counter.update`` (private, but
#: there since Python 3.2; the pure-Python fallback does the same, about 30% slower).
_count_elements: Callable[[dict[Sku, int], Iterable[Sku]], None] = getattr(
    collections, "_count_elements", _count_into
)


def _check_order(order: object, *, path: str = "order") -> HistoricOrder:
    if not isinstance(order, HistoricOrder):
        raise ValidationError(
            f"must be a HistoricOrder, not {type(order).__name__}", path=path, value=order
        )
    return order


def _reused_id(order_id: OrderId, counted: frozenset[Sku], new: frozenset[Sku]) -> DuplicateError:
    return DuplicateError(
        "order",
        order_id,
        message=(
            f"order {order_id!r} was already counted with SKUs {sorted(counted)}, not "
            f"{sorted(new)}: remove_order() it first to count its new lines"
        ),
    )


class BasketModel:
    """How many orders contain each SKU and each pair of SKUs, kept incrementally.

    The state is the set of counted orders (order id → its distinct SKUs) and, for
    every SKU, the number of orders containing it together with each other SKU.
    :meth:`add_order` costs O(k²) for an order of k distinct SKUs, and so does
    :meth:`remove_order`. Counting an order id again with the same SKUs changes
    nothing; with other SKUs it is refused (:class:`~b2bcore.errors.DuplicateError`)
    — remove the order first. Two models are equal when they counted the same
    orders and hold the same counts, however the orders arrived.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 1, tzinfo=UTC)
    >>> model = BasketModel()
    >>> model.add_order(HistoricOrder(order_id="o-1", company_id="acme", placed_at=at,
    ...                               lines=[("PUMP", 1), ("SEAL", 2)]))
    True
    >>> model.baskets, model.count("PUMP"), model.together("PUMP", "SEAL")
    (1, 1, 1)
    >>> model.remove_order("o-1"), model == BasketModel()
    (True, True)
    """

    __slots__ = ("_orders", "_rows")

    def __init__(self) -> None:
        self._orders: dict[OrderId, frozenset[Sku]] = {}
        # _rows[a][b]: orders containing both a and b; _rows[a][a]: orders containing a.
        self._rows: collections.defaultdict[Sku, dict[Sku, int]] = collections.defaultdict(dict)

    @classmethod
    def from_history(cls, orders: Iterable[HistoricOrder]) -> BasketModel:
        """A model of every order in ``orders`` (repeats of an order id count once).

        Raises :class:`~b2bcore.errors.ValidationError` for an item that is not a
        :class:`HistoricOrder` and :class:`~b2bcore.errors.DuplicateError` for an
        order id given twice with different SKUs; no model is returned then.
        """
        if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
            raise ValidationError("must be an iterable of HistoricOrder", path="orders")
        model = cls()
        counted = model._orders
        rows = model._rows
        count = _count_elements
        for i, order in enumerate(orders):
            if not isinstance(order, HistoricOrder):
                _check_order(order, path=f"orders[{i}]")
            basket = order.skus
            known = counted.get(order.order_id)
            if known is not None:
                if known != basket:
                    raise _reused_id(order.order_id, known, basket)
                continue
            counted[order.order_id] = basket
            for sku in basket:
                count(rows[sku], basket)
        return model

    def add_order(self, order: HistoricOrder) -> bool:
        """Count ``order``; ``False`` if this order id was already counted (no change)."""
        order = _check_order(order)
        basket = order.skus
        known = self._orders.get(order.order_id)
        if known is not None:
            if known != basket:
                raise _reused_id(order.order_id, known, basket)
            return False
        self._orders[order.order_id] = basket
        rows = self._rows
        for sku in basket:
            _count_elements(rows[sku], basket)
        return True

    def remove_order(self, order_id: OrderId | str) -> bool:
        """Uncount a cancelled order; ``False`` if it was not counted (no change)."""
        key = as_id(OrderId, order_id, path="order_id")
        basket = self._orders.pop(key, None)
        if basket is None:
            return False
        rows = self._rows
        for sku in basket:
            row = rows[sku]
            for other in basket:
                remaining = row[other] - 1
                if remaining:
                    row[other] = remaining
                else:
                    del row[other]
            if not row:
                del rows[sku]
        return True

    @property
    def baskets(self) -> int:
        """The number of orders counted."""
        return len(self._orders)

    @property
    def pairs(self) -> int:
        """The number of distinct pairs of SKUs bought together at least once."""
        return sum(len(row) - 1 for row in self._rows.values()) // 2

    def has_order(self, order_id: OrderId | str) -> bool:
        """Whether this order id is counted."""
        return as_id(OrderId, order_id, path="order_id") in self._orders

    def count(self, sku: Sku | str) -> int:
        """The number of orders containing ``sku`` (0 for a SKU never ordered)."""
        key = as_id(Sku, sku, path="sku")
        row = self._rows.get(key)
        return 0 if row is None else row[key]

    def together(self, sku: Sku | str, other: Sku | str) -> int:
        """The number of orders containing both SKUs (for one SKU: :meth:`count`)."""
        row = self._rows.get(as_id(Sku, sku, path="sku"))
        return 0 if row is None else row.get(as_id(Sku, other, path="other"), 0)

    def skus(self) -> list[Sku]:
        """Every SKU of a counted order, sorted."""
        return sorted(self._rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BasketModel):
            return NotImplemented
        return self._orders == other._orders and self._rows == other._rows

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    def __repr__(self) -> str:
        return f"<BasketModel: {self.baskets} orders, {len(self._rows)} SKUs>"

    # -- queries (called by the module functions, which validate their arguments) -----

    def _rules_for(
        self,
        sku: Sku,
        limit: int | None,
        min_support: Fraction,
        min_confidence: Fraction,
        allowed: _Allowed,
    ) -> list[Suggestion]:
        rows = self._rows
        row = rows.get(sku)
        if row is None:
            return []
        orders = len(self._orders)
        sku_orders = row[sku]
        # support = together / orders >= min_support, confidence = together / sku_orders
        # >= min_confidence, and a pair is only a rule if it was bought together once.
        threshold = max(1, math.ceil(min_support * orders), math.ceil(min_confidence * sku_orders))
        candidates = [item for item in row.items() if item[1] >= threshold and item[0] != sku]
        # Rank on counts alone (for one antecedent, confidence follows ``together`` and,
        # at equal ``together``, lift follows the other SKU's count, inversely); call
        # ``allowed`` only until ``limit`` SKUs and their ties are found.
        candidates.sort(key=itemgetter(1), reverse=True)
        picked: list[tuple[Sku, int]] = []
        cutoff = 0
        for other, together in candidates:
            if together < cutoff:
                break
            if allowed is not None and not allowed(other):
                continue
            picked.append((other, together))
            if limit is not None and len(picked) == limit:
                cutoff = together
        picked.sort(key=lambda item: (-item[1], rows[item[0]][item[0]], item[0]))
        if limit is not None:
            del picked[limit:]
        return [
            Suggestion(
                for_sku=sku,
                sku=other,
                together=together,
                for_sku_orders=sku_orders,
                sku_orders=rows[other][other],
                orders=orders,
            )
            for other, together in picked
        ]


# --- frequently bought together ------------------------------------------------------


def _percent(value: Fraction) -> str:
    whole = round(value * 100)
    if whole == 0 and value > 0:
        return "<1%"
    if whole == 100 and value < 1:
        return ">99%"
    return f"{whole}%"


def _one_decimal(value: Fraction) -> str:
    tenths = round(value * 10)
    return f"{tenths // 10}.{tenths % 10}"


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("must be a whole number", path=name, value=value)
    return value


@attrs.frozen
class Suggestion:
    """``sku`` suggested with ``for_sku``: the pair rule ``for_sku → sku``.

    The counts are those of the model when it was asked: ``together`` orders hold
    both SKUs, ``for_sku_orders`` hold ``for_sku``, ``sku_orders`` hold ``sku``, out of
    ``orders``. The measures are exact fractions:

    * :attr:`support` = together / orders,
    * :attr:`confidence` = together / for_sku_orders (how often a basket with
      ``for_sku`` also holds ``sku``),
    * :attr:`lift` = confidence / (sku_orders / orders) (how much more often than if
      the two were bought independently).

    >>> s = Suggestion(for_sku="PUMP", sku="SEAL", together=312, for_sku_orders=1840,
    ...                sku_orders=760, orders=18000)
    >>> s.confidence, round(float(s.lift), 2)
    (Fraction(39, 230), 4.02)
    >>> print(s.reason)
    bought together in 312 of 1,840 orders containing PUMP (17%), 4.0 times as often as chance
    """

    for_sku: Sku = attrs.field(validator=identifier)
    sku: Sku = attrs.field(validator=identifier)
    together: int
    for_sku_orders: int
    sku_orders: int
    orders: int

    def __attrs_post_init__(self) -> None:
        for name in ("together", "for_sku_orders", "sku_orders", "orders"):
            _count(getattr(self, name), name)
        if self.sku == self.for_sku:
            raise ValidationError("a SKU is not suggested with itself", path="sku", value=self.sku)
        if not 1 <= self.together <= min(self.for_sku_orders, self.sku_orders):
            raise ValidationError(
                "must be at least 1 and at most the orders of either SKU",
                path="together",
                value=self.together,
            )
        if self.for_sku_orders + self.sku_orders - self.together > self.orders:
            raise ValidationError(
                "more orders hold one of the SKUs than there are orders",
                path="orders",
                value=self.orders,
            )

    @property
    def support(self) -> Fraction:
        """The share of all orders that hold both SKUs."""
        return Fraction(self.together, self.orders)

    @property
    def confidence(self) -> Fraction:
        """The share of the orders holding ``for_sku`` that also hold ``sku``."""
        return Fraction(self.together, self.for_sku_orders)

    @property
    def lift(self) -> Fraction:
        """Confidence over the share of orders holding ``sku``: 1 means independent."""
        return Fraction(self.together * self.orders, self.for_sku_orders * self.sku_orders)

    @property
    def reason(self) -> str:
        """Why, in words (English; numbers rounded for reading, the fields are exact)."""
        return (
            f"bought together in {self.together:,} of {self.for_sku_orders:,} orders "
            f"containing {self.for_sku} ({_percent(self.confidence)}), "
            f"{_one_decimal(self.lift)} times as often as chance"
        )


def _ratio(value: object, name: str) -> Fraction:
    """A threshold from 0 to 1 as an exact fraction (Fraction, Decimal, int or str)."""
    ratio = value if isinstance(value, Fraction) else Fraction(to_quantity(value, path=name))
    if not 0 <= ratio <= 1:
        raise ValidationError("must be from 0 to 1 (a share of orders)", path=name, value=value)
    return ratio


def _check_allowed(allowed: object) -> _Allowed:
    if allowed is not None and not callable(allowed):
        raise ValidationError(
            "must be a callable sku -> bool (or None for every SKU)", path="allowed", value=allowed
        )
    return allowed


def _check_model(model: object) -> BasketModel:
    if not isinstance(model, BasketModel):
        raise ValidationError(
            f"must be a BasketModel, not {type(model).__name__}", path="model", value=model
        )
    return model


def frequently_bought_together(
    model: BasketModel,
    sku: Sku | str,
    *,
    limit: int = 10,
    min_support: Fraction | Decimal | int | str = _ZERO,
    min_confidence: Fraction | Decimal | int | str = _ZERO,
    allowed: Callable[[Sku], bool] | None = None,
) -> list[Suggestion]:
    """The SKUs most often bought with ``sku``, best first, each explained.

    A SKU is suggested when it was bought together with ``sku`` in at least one
    order, the pair's support is at least ``min_support`` and its confidence at least
    ``min_confidence`` (exact comparisons; give thresholds as ``Fraction``,
    ``Decimal``, ``int`` or a decimal ``str`` — a float is refused), and
    ``allowed(sku)`` is true (filter before limit: ``limit`` allowed SKUs come back
    when there are that many).

    The ranking is total and declared: higher confidence first, then higher lift,
    then more orders together, then the SKU in code-point order. A SKU that was never
    ordered gets no suggestions.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 1, tzinfo=UTC)
    >>> model = BasketModel.from_history(
    ...     HistoricOrder(order_id=f"o{i}", company_id="acme", placed_at=at,
    ...                   lines=[(sku, 1) for sku in skus])
    ...     for i, skus in enumerate([("A", "B"), ("A", "B"), ("A", "C"), ("C",)]))
    >>> [(s.sku, str(s.confidence)) for s in frequently_bought_together(model, "A")]
    [('B', '2/3'), ('C', '1/3')]
    >>> frequently_bought_together(model, "A", min_confidence="0.5", allowed=lambda s: s != "B")
    []
    """
    checked = _check_model(model)
    key = as_id(Sku, sku, path="sku")
    count = check_limit(limit)
    support = _ratio(min_support, "min_support")
    confidence = _ratio(min_confidence, "min_confidence")
    return checked._rules_for(key, count, support, confidence, _check_allowed(allowed))


def association_rules(
    model: BasketModel,
    *,
    min_support: Fraction | Decimal | int | str,
    min_confidence: Fraction | Decimal | int | str,
    allowed: Callable[[Sku], bool] | None = None,
) -> Iterator[Suggestion]:
    """Every pair rule ``A → B`` of the model that meets both thresholds.

    What Apriori with ``max_length=2`` finds, from the counts: grouped by
    ``for_sku`` in code-point order, each group ranked as in
    :func:`frequently_bought_together`. ``allowed`` filters the suggested side.
    """
    checked = _check_model(model)
    support = _ratio(min_support, "min_support")
    confidence = _ratio(min_confidence, "min_confidence")
    accept = _check_allowed(allowed)
    for sku in checked.skus():
        yield from checked._rules_for(sku, None, support, confidence, accept)


# --- buy again -----------------------------------------------------------------------


class BuyAgainStatus(enum.Enum):
    """Where a SKU stands against its purchase cadence at the time asked."""

    #: The next order is expected later.
    UPCOMING = "upcoming"
    #: The expected date has come, less than one more cadence ago.
    DUE = "due"
    #: A whole cadence has passed since the expected date: a cycle was missed.
    OVERDUE = "overdue"


def _days(span: timedelta) -> str:
    days = round(Fraction(span // timedelta(microseconds=1), 86_400_000_000))
    if days == 0:
        return "less than a day"
    return "1 day" if days == 1 else f"{days} days"


@attrs.frozen
class BuyAgainSuggestion:
    """A SKU a company buys regularly, and when it would order it next.

    ``orders`` is how many of the company's orders (up to ``at``) hold the SKU,
    ``cadence`` the median interval between them, ``expected_at`` =
    ``last_ordered_at + cadence`` and ``status`` where ``at`` stands against it.
    ``last_quantity`` is the SKU's quantity in the last order (to pre-fill a cart).
    Datetimes are aware, in UTC.
    """

    sku: Sku = attrs.field(validator=identifier)
    orders: int
    last_ordered_at: datetime
    cadence: timedelta
    expected_at: datetime
    status: BuyAgainStatus = attrs.field(validator=enum_member(BuyAgainStatus))
    last_quantity: Decimal
    at: datetime

    @property
    def reason(self) -> str:
        """Why, in words (English; dates are UTC calendar dates)."""
        if self.status is BuyAgainStatus.UPCOMING:
            when = f"in {_days(self.expected_at - self.at)}"
        elif self.status is BuyAgainStatus.DUE:
            when = f"due since {_days(self.at - self.expected_at)}"
        else:
            when = f"overdue by {_days(self.at - self.expected_at)}, a whole cycle missed"
        return (
            f"ordered {self.orders} times, about every {_days(self.cadence)}; last on "
            f"{self.last_ordered_at.date().isoformat()}, next expected on "
            f"{self.expected_at.date().isoformat()} ({when})"
        )


def _median(gaps: list[timedelta]) -> timedelta:
    gaps.sort()
    middle, odd = divmod(len(gaps), 2)
    if odd:
        return gaps[middle]
    low, high = gaps[middle - 1], gaps[middle]
    return low + (high - low) / 2


def _orders_of_one_company(orders: object, at: datetime) -> list[HistoricOrder]:
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise ValidationError("must be an iterable of HistoricOrder", path="orders")
    seen: dict[OrderId, HistoricOrder] = {}
    company: CompanyId | None = None
    for i, item in enumerate(orders):
        order = _check_order(item, path=f"orders[{i}]")
        if company is None:
            company = order.company_id
        elif order.company_id != company:
            raise ValidationError(
                f"buy_again reads one company's orders: this one is {order.company_id!r}, "
                f"earlier ones are {company!r}",
                path=f"orders[{i}].company_id",
                value=order.company_id,
            )
        known = seen.get(order.order_id)
        if known is not None:
            if known != order:
                raise DuplicateError(
                    "order",
                    order.order_id,
                    message=f"order {order.order_id!r} appears twice with different contents",
                )
            continue
        seen[order.order_id] = order
    return [order for order in seen.values() if order.placed_at <= at]


def buy_again(
    orders: Iterable[HistoricOrder],
    *,
    at: datetime,
    limit: int = 10,
    allowed: Callable[[Sku], bool] | None = None,
    within: timedelta | None = None,
) -> list[BuyAgainSuggestion]:
    """What one company is likely to reorder, soonest expected first.

    ``orders`` are one company's orders (another company's order is a
    :class:`~b2bcore.errors.ValidationError`; an order id repeated with the same
    contents counts once). Only orders placed at or before ``at`` are read, so the
    answer is the one that could have been given at ``at``.

    For each SKU ordered at two or more distinct instants, the cadence is the median
    of the intervals between them (with an even number of intervals, the mean of the
    middle two, to the microsecond), and the next order is expected one cadence
    after the last. A SKU ordered only once is left out: one order says nothing about
    a rhythm (list it as "bought before" from the order history if you want to).

    Sorted by expected date, then SKU; ``allowed`` filters before ``limit``;
    ``within`` keeps only SKUs expected by ``at + within``.

    >>> from datetime import UTC, datetime, timedelta
    >>> def order(i, day, *skus):
    ...     return HistoricOrder(order_id=f"o{i}", company_id="acme",
    ...                          placed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day),
    ...                          lines=[(sku, 2) for sku in skus])
    >>> history = [order(1, 0, "FILTER", "OIL"), order(2, 30, "FILTER"),
    ...            order(3, 60, "FILTER", "OIL"), order(4, 61, "GLOVES")]
    >>> [(s.sku, s.cadence.days, s.status.value) for s in
    ...  buy_again(history, at=datetime(2026, 3, 25, tzinfo=UTC))]
    [('FILTER', 30, 'upcoming'), ('OIL', 60, 'upcoming')]
    >>> print(buy_again(history, at=datetime(2026, 4, 5, tzinfo=UTC))[0].reason)
    ... # doctest: +NORMALIZE_WHITESPACE
    ordered 3 times, about every 30 days; last on 2026-03-02,
    next expected on 2026-04-01 (due since 4 days)
    """
    now = to_utc(at, path="at")
    count = check_limit(limit)
    accept = _check_allowed(allowed)
    if within is not None and (not isinstance(within, timedelta) or within < timedelta(0)):
        raise ValidationError(
            "must be a non-negative timedelta (or None)", path="within", value=within
        )
    by_sku: dict[Sku, list[tuple[datetime, OrderId, Decimal]]] = {}
    for order in _orders_of_one_company(orders, now):
        for sku, quantity in order.quantities().items():
            by_sku.setdefault(sku, []).append((order.placed_at, order.order_id, quantity))
    found: list[BuyAgainSuggestion] = []
    for sku, entries in by_sku.items():
        instants = sorted({entry[0] for entry in entries})
        if len(instants) < 2:
            continue
        cadence = _median([later - earlier for earlier, later in pairwise(instants)])
        last_at, _, last_quantity = max(entries)
        try:
            expected = last_at + cadence
        except OverflowError:
            raise ValidationError(
                f"the next order of {sku} would fall after the year 9999",
                path="orders",
                value=sku,
            ) from None
        if within is not None and expected - now > within:
            continue
        if accept is not None and not accept(sku):
            continue
        if now < expected:
            status = BuyAgainStatus.UPCOMING
        elif now - expected < cadence:
            status = BuyAgainStatus.DUE
        else:
            status = BuyAgainStatus.OVERDUE
        found.append(
            BuyAgainSuggestion(
                sku=sku,
                orders=len(entries),
                last_ordered_at=last_at,
                cadence=cadence,
                expected_at=expected,
                status=status,
                last_quantity=last_quantity,
                at=now,
            )
        )
    found.sort(key=_by_expected_date)
    return found[:count]


def _by_expected_date(suggestion: BuyAgainSuggestion) -> tuple[Any, ...]:
    return (suggestion.expected_at, suggestion.sku)
