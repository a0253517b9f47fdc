"""What-if: which prices would a change of price lists change, before publishing it.

:func:`simulate_change` prices every (context, SKU, quantity) against the current and
the proposed lists and lists each one whose winner or price changes, or that gains or
loses its price, with both quotes and both explanations.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from b2bcore.money import Money
>>> from b2bcore.pricing import (Formula, PriceContext, PriceItem, PriceList, PriceRule,
...     PriceScope, RuleTarget, simulate_change)
>>> jan = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> def acme(rule_id, percent):
...     return PriceList(id="acme", name="ACME", currency="EUR", valid_from=jan,
...         scope=PriceScope(companies={"acme"}),
...         rules=[PriceRule(id=rule_id, target=RuleTarget.category("pumps"),
...                          formula=Formula(percent=Decimal(percent)))])
>>> pump = PriceItem(sku="P-100", category_path=["pumps"], list_price=Money("200.00", "EUR"))
>>> valve = PriceItem(sku="V-7", category_path=["valves"], list_price=Money("9.00", "EUR"))
>>> may = datetime(2026, 5, 4, tzinfo=timezone.utc)
>>> buyers = [PriceContext(company_id="acme", currency="EUR", at=may)]
>>> changes = simulate_change([acme("pumps", "-12.5")], [acme("pumps-v2", "-16")],
...                           buyers, [pump, valve])
>>> for change in changes:
...     print(change.describe())
acme P-100 x1: 175.00 EUR (acme/pumps) -> 168.00 EUR (acme/pumps-v2)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

import attrs

from b2bcore.errors import ValidationError
from b2bcore.money import RoundingMode, RoundingPolicy, RoundingStage, to_decimal
from b2bcore.pricing.errors import NoPriceError
from b2bcore.pricing.model import PriceContext, PriceItem, PriceList, PricePolicy
from b2bcore.pricing.resolve import PriceExplanation, PriceIndex, PriceQuote, resolve_price

__all__ = ["ChangeKind", "PriceChange", "simulate_change"]

_DEFAULT_ROUNDING: Final = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.UNIT)


class ChangeKind(enum.Enum):
    """What happened to one (context, SKU, quantity)."""

    GAINED = "gained"  # no price before, a price now
    LOST = "lost"  # a price before, none now
    CHANGED = "changed"  # priced before and after; the winner or the price differs


@attrs.frozen
class PriceChange:
    """One (context, SKU, quantity) whose price would change.

    ``old``/``new`` are the quotes (None where there is no price); the explanations
    are there either way — where there is no price, they say why.
    """

    context: PriceContext
    sku: str
    quantity: Decimal
    old: PriceQuote | None
    new: PriceQuote | None
    old_explanation: PriceExplanation | None = attrs.field(eq=False, repr=False)
    new_explanation: PriceExplanation | None = attrs.field(eq=False, repr=False)

    @property
    def kind(self) -> ChangeKind:
        """``GAINED``, ``LOST`` or ``CHANGED``."""
        if self.old is None:
            return ChangeKind.GAINED
        if self.new is None:
            return ChangeKind.LOST
        return ChangeKind.CHANGED

    @property
    def winner_changed(self) -> bool:
        """Whether another list or rule wins (or one wins where none did, or vice versa)."""
        return _winner(self.old) != _winner(self.new)

    @property
    def price_changed(self) -> bool:
        """Whether the unit price or the line total differs (or appears, or goes)."""
        if self.old is None or self.new is None:
            return True
        return (self.old.unit_price, self.old.line_total) != (
            self.new.unit_price,
            self.new.line_total,
        )

    def describe(self) -> str:
        """``acme P-100 x1: 175.00 EUR (acme/pumps) -> 168.00 EUR (acme/pumps-v2)``."""
        return (
            f"{self.context.company_id} {self.sku} x{self.quantity}: "
            f"{_side(self.old)} -> {_side(self.new)}"
        )


def _winner(quote: PriceQuote | None) -> tuple[str, str] | None:
    return None if quote is None else (quote.price_list_id, quote.rule_id)


def _side(quote: PriceQuote | None) -> str:
    if quote is None:
        return "no price"
    return f"{quote.unit_price} ({quote.price_list_id}/{quote.rule_id})"


def _index(lists: object, path: str) -> PriceIndex:
    if isinstance(lists, PriceIndex):
        return lists
    if isinstance(lists, (str, bytes)) or not isinstance(lists, (list, tuple)):
        raise ValidationError("give a list of PriceList or a PriceIndex", path=path, value=lists)
    try:
        return PriceIndex(lists)
    except ValidationError as e:
        raise ValidationError(e.reason, path=path, value=e.value) from None


def _contexts(contexts: object) -> list[PriceContext]:
    if isinstance(contexts, (str, bytes)) or not isinstance(contexts, (list, tuple)):
        raise ValidationError("must be a list of PriceContext", path="contexts", value=contexts)
    out: dict[PriceContext, None] = {}
    for i, c in enumerate(contexts):
        if not isinstance(c, PriceContext):
            raise ValidationError("must be a PriceContext", path=f"contexts[{i}]", value=c)
        out[c] = None
    return sorted(out, key=_context_key)


def _context_key(
    c: PriceContext,
) -> tuple[str, str, datetime, str, str, tuple[str, ...], tuple[str, ...]]:
    return (
        c.company_id,
        c.currency,
        c.at,
        c.channel or "",
        c.country or "",
        tuple(sorted(c.business_unit_ids)),
        tuple(sorted(c.customer_groups)),
    )


def _items(items: object) -> list[PriceItem]:
    if isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple)):
        raise ValidationError("must be a list of PriceItem", path="items", value=items)
    by_sku: dict[str, PriceItem] = {}
    for i, item in enumerate(items):
        if not isinstance(item, PriceItem):
            raise ValidationError("must be a PriceItem", path=f"items[{i}]", value=item)
        seen = by_sku.setdefault(item.sku, item)
        if seen != item:
            raise ValidationError(
                f"SKU {item.sku} is given twice with different data", path=f"items[{i}]"
            )
    return [by_sku[sku] for sku in sorted(by_sku)]


def _quantities(quantities: object) -> list[Decimal]:
    if isinstance(quantities, (str, bytes)) or not isinstance(quantities, Iterable):
        raise ValidationError("must be a list of quantities", path="quantities", value=quantities)
    out: set[Decimal] = set()
    for i, value in enumerate(quantities):
        path = f"quantities[{i}]"
        try:
            q = to_decimal(value, path=path)
        except TypeError:
            raise ValidationError(
                "must be a Decimal, int or decimal str", path=path, value=value
            ) from None
        if q <= 0:
            raise ValidationError("quantity must be positive", path=path, value=value)
        out.add(q)
    if not out:
        raise ValidationError("give at least one quantity", path="quantities")
    return sorted(out)


def _price(
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    index: PriceIndex,
    *,
    policy: PricePolicy,
    rounding: RoundingPolicy,
) -> tuple[PriceQuote | None, PriceExplanation | None]:
    try:
        quote = resolve_price(
            context, item, quantity, lists=index, policy=policy, rounding=rounding
        )
    except NoPriceError as e:
        explanation = e.explanation
        return None, explanation if isinstance(explanation, PriceExplanation) else None
    return quote, quote.explanation


def simulate_change(
    current: Sequence[PriceList] | PriceIndex,
    proposed: Sequence[PriceList] | PriceIndex,
    contexts: Sequence[PriceContext],
    items: Sequence[PriceItem],
    *,
    quantities: Iterable[Decimal | int | str] = (1,),
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
    rounding: RoundingPolicy = _DEFAULT_ROUNDING,
) -> list[PriceChange]:
    """Every (context, SKU, quantity) whose price the proposed lists would change.

    A combination is listed when its winner (price list and rule) changes, its unit
    price or line total changes, or it gains or loses a price altogether. Each change
    carries the old and the new quote (None where there is no price) and both
    explanations. The list is sorted by context (company, currency, time, channel,
    country, units, groups), then SKU, then quantity; repeated contexts, items and
    quantities count once. Nothing is written: this is the what-if before a publish.

    >>> from datetime import datetime, timezone
    >>> from b2bcore.money import Money
    >>> from b2bcore.pricing import PriceContext, PriceItem, PriceList, PriceRule, RuleTarget
    >>> jan = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> bolt = PriceItem(sku="BOLT")
    >>> new = PriceList(id="list", name="List", currency="EUR", valid_from=jan,
    ...     rules=[PriceRule(id="bolt", target=RuleTarget.sku("BOLT"),
    ...                      price=Money("0.25", "EUR"))])
    >>> ctx = PriceContext(company_id="acme", currency="EUR", at=jan)
    >>> [change] = simulate_change([], [new], [ctx], [bolt], quantities=[100])
    >>> change.kind.value, change.describe()
    ('gained', 'acme BOLT x100: no price -> 0.25 EUR (list/bolt)')
    """
    old_index = _index(current, "current")
    new_index = _index(proposed, "proposed")
    ctxs = _contexts(contexts)
    skus = _items(items)
    qs = _quantities(quantities)
    if not isinstance(policy, PricePolicy):
        raise ValidationError("must be a PricePolicy", path="policy", value=policy)
    if not isinstance(rounding, RoundingPolicy):
        raise ValidationError("must be a RoundingPolicy", path="rounding", value=rounding)
    changes: list[PriceChange] = []
    for context in ctxs:
        for item in skus:
            for q in qs:
                old, old_why = _price(context, item, q, old_index, policy=policy, rounding=rounding)
                new, new_why = _price(context, item, q, new_index, policy=policy, rounding=rounding)
                change = PriceChange(context, item.sku, q, old, new, old_why, new_why)
                if (old is not None or new is not None) and (
                    change.winner_changed or change.price_changed
                ):
                    changes.append(change)
    return changes
