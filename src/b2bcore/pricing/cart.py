"""Cart pricing: per-line quotes with aggregated tiers, cart discounts allocated exactly.

:func:`price_cart` prices every line with :func:`~b2bcore.pricing.resolve.resolve_price`
(tier quantities summed across the cart per each rule's :class:`TierBasis`), applies
the cart-level discounts of its :class:`DiscountSet` s, splits every discount over
the lines it applies to with :func:`~b2bcore.money.allocate`, and rounds at the
stage the :class:`~b2bcore.money.RoundingPolicy` names. The line nets always sum to
the total to the last minor unit, the total is never negative, and the result does
not depend on the order of the lines.

>>> from datetime import datetime, timezone
>>> from b2bcore.money import Money
>>> from b2bcore.pricing import (CartDiscount, CartLineInput, DiscountSet, Formula,
...     PriceContext, PriceItem, PriceList, PriceRule, RuleTarget, price_cart)
>>> jan = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> catalog = PriceList(id="list", name="List prices", currency="EUR", valid_from=jan,
...     rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())])
>>> def item(sku, price):
...     return PriceItem(sku=sku, category_path=["parts"], list_price=Money(price, "EUR"))
>>> lines = [CartLineInput(item("A", "33.33"), 1), CartLineInput(item("B", "33.33"), 1),
...          CartLineInput(item("C", "33.34"), 1)]
>>> promo = DiscountSet("promo", [CartDiscount(id="ten-off", name="10 EUR off",
...                                            amount=Money("10.00", "EUR"))])
>>> ctx = PriceContext(company_id="acme", currency="EUR",
...                    at=datetime(2026, 5, 4, tzinfo=timezone.utc))
>>> cart = price_cart(ctx, lines, lists=[catalog], discounts=[promo])
>>> [str(line.discount) for line in cart.lines], cart.total
(['3.33 EUR', '3.33 EUR', '3.34 EUR'], Money('90.00', 'EUR'))
>>> print(cart.explanation_text())
Cart for acme in EUR: 3 lines, rounding half_up at the unit stage
  line 1: A x 1 = 33.33 EUR (list/all) - 3.33 EUR [ten-off] = 30.00 EUR
  line 2: B x 1 = 33.33 EUR (list/all) - 3.33 EUR [ten-off] = 30.00 EUR
  line 3: C x 1 = 33.34 EUR (list/all) - 3.34 EUR [ten-off] = 30.00 EUR
subtotal 100.00 EUR
  applied ten-off (set promo): -10.00 EUR: fixed 10.00 EUR on 100.00 EUR
total 90.00 EUR
"""

from __future__ import annotations

import decimal
import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from b2bcore._validate import enum_member, identifier, optional_identifier, text
from b2bcore.errors import ValidationError
from b2bcore.ids import CategoryId, Sku
from b2bcore.money import (
    CALCULATION_CONTEXT,
    Money,
    RoundingMode,
    RoundingPolicy,
    RoundingStage,
    allocate,
    minor_units,
    to_quantity,
)
from b2bcore.pricing.model import (
    PriceContext,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceRule,
    QuantityRule,
    TargetKind,
    TierBasis,
)
from b2bcore.pricing.resolve import PriceIndex, PriceQuote, resolve_price

__all__ = [
    "AppliedDiscount",
    "CartDiscount",
    "CartLineInput",
    "CartPrice",
    "DiscountKind",
    "DiscountSet",
    "LineDiscount",
    "PricedLine",
    "SkippedDiscount",
    "StackingMode",
    "price_cart",
]

_DEFAULT_ROUNDING: Final = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.UNIT)
_HUNDRED: Final = Decimal(100)


# --- input -----------------------------------------------------------------------------


def _number(value: object, path: str) -> Decimal:
    return to_quantity(value, path=path)


def _line_quantity(value: object) -> Decimal:
    q = _number(value, "quantity")
    if q <= 0:
        raise ValidationError("quantity must be positive", path="quantity", value=value)
    return q


def _is_item(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, PriceItem):
        raise ValidationError("must be a PriceItem", path="item", value=value)


@attrs.frozen
class CartLineInput:
    """One line to price: a :class:`~b2bcore.pricing.model.PriceItem` and a positive
    quantity (Decimal, int or decimal str; never a float)."""

    item: PriceItem = attrs.field(validator=_is_item)
    quantity: Decimal = attrs.field(converter=_line_quantity)


# --- discounts -------------------------------------------------------------------------


class DiscountKind(enum.Enum):
    """A percentage of the eligible amount, or a fixed amount of money."""

    PERCENT = "percent"
    FIXED = "fixed"


class StackingMode(enum.Enum):
    """How the discounts of one :class:`DiscountSet` combine.

    * ``STACK`` — every discount that qualifies applies, in the set's order, each on
      what is left after the ones before it.
    * ``BEST`` — only the single discount worth the most applies (ties: the lowest id).
    * ``EXCLUSIVE`` — the set's discounts stack, and the set excludes every other set:
      the exclusive set worth the most wins over all non-exclusive sets together when
      it is worth strictly more than they are; otherwise it does not apply at all.
    """

    STACK = "stack"
    BEST = "best"
    EXCLUSIVE = "exclusive"


def _opt_percent(value: object) -> Decimal | None:
    if value is None:
        return None
    p = _number(value, "percent")
    if not Decimal(0) < p <= _HUNDRED:
        raise ValidationError("percent must be above 0 and at most 100", path="percent", value=p)
    return p


def _opt_min_quantity(value: object) -> Decimal | None:
    if value is None:
        return None
    q = _number(value, "min_quantity")
    if q < 0:
        raise ValidationError("min_quantity must not be negative", path="min_quantity", value=q)
    return q


def _opt_money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError("must be Money or None", path=attribute.name, value=value)


@attrs.frozen
class CartDiscount:
    """A cart-level discount: ``percent`` off, or a fixed ``amount`` off.

    Conditions (all optional, all must hold): ``min_amount`` — the eligible lines'
    amount before cart discounts reaches it; ``min_quantity`` — their summed quantity
    reaches it; ``category`` — only lines in this category (or below it) are eligible:
    only they count toward the thresholds, and only they receive the discount.

    A fixed amount larger than what is left of the eligible lines is capped at it, so
    no line and no total goes below zero.
    """

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    percent: Decimal | None = attrs.field(default=None, converter=_opt_percent)
    amount: Money | None = attrs.field(default=None, validator=_opt_money)
    min_amount: Money | None = attrs.field(default=None, validator=_opt_money)
    min_quantity: Decimal | None = attrs.field(default=None, converter=_opt_min_quantity)
    category: CategoryId | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise ValidationError(
                f"discount {self.id!r}: give exactly one of percent or amount", path="percent"
            )
        if self.amount is not None and not self.amount.amount > 0:
            raise ValidationError(
                f"discount {self.id!r}: the amount must be positive",
                path="amount",
                value=self.amount,
            )
        if self.min_amount is not None and self.min_amount.is_negative():
            raise ValidationError(
                f"discount {self.id!r}: min_amount must not be negative",
                path="min_amount",
                value=self.min_amount,
            )
        currencies = {m.currency for m in (self.amount, self.min_amount) if m is not None}
        if len(currencies) > 1:
            raise ValidationError(
                f"discount {self.id!r}: amount and min_amount are in different currencies",
                path="min_amount",
                value=self.min_amount,
            )

    @property
    def kind(self) -> DiscountKind:
        """``PERCENT`` or ``FIXED``."""
        return DiscountKind.PERCENT if self.percent is not None else DiscountKind.FIXED

    def describe(self) -> str:
        """``10% off from 500.00 EUR in category pumps``."""
        head = f"{self.percent}% off" if self.percent is not None else f"{self.amount} off"
        conditions = []
        if self.min_amount is not None:
            conditions.append(f"from {self.min_amount}")
        if self.min_quantity is not None:
            conditions.append(f"from {self.min_quantity} units")
        if self.category is not None:
            conditions.append(f"in category {self.category}")
        return " ".join([head, *conditions])


def _discounts(value: object) -> tuple[CartDiscount, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of CartDiscount", path="discounts", value=value)
    out = tuple(value)
    seen: set[str] = set()
    for i, d in enumerate(out):
        if not isinstance(d, CartDiscount):
            raise ValidationError("must be a CartDiscount", path=f"discounts[{i}]", value=d)
        if d.id in seen:
            raise ValidationError(
                f"discount id {d.id!r} is used twice", path=f"discounts[{i}].id", value=d.id
            )
        seen.add(d.id)
    return out


@attrs.frozen
class DiscountSet:
    """Discounts that combine by one :class:`StackingMode` (default ``STACK``).

    Sets apply in the order given to :func:`price_cart`, each on what the sets before
    it left; ``EXCLUSIVE`` sets compete with all the others together instead.
    """

    id: str = attrs.field(validator=identifier)
    discounts: tuple[CartDiscount, ...] = attrs.field(converter=_discounts)
    mode: StackingMode = attrs.field(
        default=StackingMode.STACK, validator=enum_member(StackingMode)
    )


# --- results ---------------------------------------------------------------------------


@attrs.frozen
class LineDiscount:
    """The share of one applied discount that one line carries."""

    discount_id: str
    set_id: str
    amount: Money


@attrs.frozen
class PricedLine:
    """A priced cart line: ``net = gross - discount + rounding``.

    ``index`` is the line's position in the input; ``tier_quantity`` the cart
    quantity that chose the winning rule's tier (None when the rule has no tiers),
    summed per ``tier_basis`` as ``tier_scope`` says (``sku P-100``, ``product pump``,
    ``category pumps``). ``rounding`` is this line's share of the document rounding
    (zero unless the rounding stage is ``TOTAL``).
    """

    index: int
    item: PriceItem
    quote: PriceQuote
    tier_basis: TierBasis
    tier_scope: str
    tier_quantity: Decimal | None
    gross: Money
    discounts: tuple[LineDiscount, ...]
    rounding: Money
    net: Money

    @property
    def sku(self) -> str:
        """The line's SKU."""
        return self.quote.sku

    @property
    def quantity(self) -> Decimal:
        """The line's quantity."""
        return self.quote.quantity

    @property
    def discount(self) -> Money:
        """The line's share of every applied cart discount together."""
        return sum((d.amount for d in self.discounts), Money.zero(self.gross.currency))

    def discount_for(self, discount_id: str) -> Money:
        """The line's share of one discount (zero if it got none)."""
        return sum(
            (d.amount for d in self.discounts if d.discount_id == discount_id),
            Money.zero(self.gross.currency),
        )

    def describe(self) -> str:
        """``line 1: P-100 x 3 = 525.00 EUR (acme/pumps) - 52.50 EUR [ten] = 472.50 EUR``."""
        q = self.quote
        tier = ""
        if q.tier_min_quantity is not None:
            tier = f", tier from {q.tier_min_quantity}"
            if self.tier_quantity is not None:
                tier += f" by {self.tier_scope} = {self.tier_quantity}"
        text = f"line {self.index + 1}: {q.sku} x {q.quantity} = {self.gross} "
        text += f"({q.price_list_id}/{q.rule_id}{tier})"
        for d in self.discounts:
            text += f" - {d.amount} [{d.discount_id}]"
        if not self.rounding.is_zero():
            sign = "-" if self.rounding.is_negative() else "+"
            text += f" {sign} {abs(self.rounding)} [rounding]"
        return f"{text} = {self.net}"


@attrs.frozen
class AppliedDiscount:
    """A discount that applied: its ``amount``, the eligible ``base`` it was taken from
    (what was left of the eligible lines at that point) and the ``reason`` in words."""

    discount_id: str
    set_id: str
    name: str
    amount: Money
    base: Money
    capped: bool
    reason: str

    def describe(self) -> str:
        """``applied ten (set promo): -10.00 EUR: 10% of 100.00 EUR``."""
        return f"applied {self.discount_id} (set {self.set_id}): -{self.amount}: {self.reason}"


@attrs.frozen
class SkippedDiscount:
    """A discount that was considered and did not apply, and why."""

    discount_id: str
    set_id: str
    name: str
    reason: str

    def describe(self) -> str:
        """``skipped big (set promo): the amount 80.00 EUR is below 100.00 EUR``."""
        return f"skipped {self.discount_id} (set {self.set_id}): {self.reason}"


@attrs.frozen
class CartPrice:
    """A priced cart.

    ``subtotal`` is the sum of the lines' gross amounts, ``discount_total`` of the
    applied discounts, ``rounding`` the document rounding (``TOTAL`` stage only), and
    ``total = subtotal - discount_total + rounding``, which is also exactly the sum
    of the lines' nets. ``discounts`` lists the applied discounts in the order they
    were applied; ``skipped`` the others, with the reason.
    """

    context: PriceContext
    currency: str
    rounding_policy: RoundingPolicy
    lines: tuple[PricedLine, ...]
    subtotal: Money
    discounts: tuple[AppliedDiscount, ...]
    skipped: tuple[SkippedDiscount, ...]
    discount_total: Money
    rounding: Money
    total: Money

    def explanation_text(self) -> str:
        """Every line, every discount considered, the rounding and the total."""
        policy = self.rounding_policy
        n = len(self.lines)
        head = (
            f"Cart for {self.context.company_id} in {self.currency}: "
            f"{n} line{'' if n == 1 else 's'}, rounding {policy.mode.name.lower()} "
            f"at the {policy.stage.value} stage"
        )
        out = [head]
        out.extend(f"  {line.describe()}" for line in self.lines)
        out.append(f"subtotal {self.subtotal}")
        out.extend(f"  {d.describe()}" for d in self.discounts)
        out.extend(f"  {d.describe()}" for d in self.skipped)
        if not self.rounding.is_zero() or policy.stage is RoundingStage.TOTAL:
            out.append(f"rounding {self.rounding} (the total is rounded once)")
        out.append(f"total {self.total}")
        return "\n".join(out)


# --- tier quantities -------------------------------------------------------------------


@attrs.frozen
class _Totals:
    """Summed cart quantities per SKU, per product and per category."""

    by_sku: Mapping[str, Decimal]
    by_product: Mapping[str, Decimal]
    by_category: Mapping[str, Decimal]

    @classmethod
    def of(cls, lines: Sequence[CartLineInput]) -> _Totals:
        by_sku: dict[str, Decimal] = {}
        by_product: dict[str, Decimal] = {}
        by_category: dict[str, Decimal] = {}
        with decimal.localcontext(CALCULATION_CONTEXT):
            for line in lines:
                item, q = line.item, line.quantity
                by_sku[item.sku] = by_sku.get(item.sku, Decimal(0)) + q
                if item.product_id is not None:
                    by_product[item.product_id] = by_product.get(item.product_id, Decimal(0)) + q
                for category in item.category_path:
                    by_category[category] = by_category.get(category, Decimal(0)) + q
        return cls(by_sku, by_product, by_category)

    def scope(self, rule: PriceRule, item: PriceItem) -> tuple[str, Decimal]:
        """Which cart quantity selects ``rule``'s tier for ``item``, and its value.

        PRODUCT without a product id and CATEGORY without any category fall back to
        the SKU's own quantity.
        """
        basis = rule.tier_basis
        if basis is TierBasis.PRODUCT and item.product_id is not None:
            return f"product {item.product_id}", self.by_product[item.product_id]
        if basis is TierBasis.CATEGORY:
            target = rule.target
            if target.kind is TargetKind.CATEGORY and target.value in item.category_path:
                return f"category {target.value}", self.by_category[target.value]
            if item.category_path:
                leaf = item.category_path[-1]
                return f"category {leaf}", self.by_category[leaf]
        return f"sku {item.sku}", self.by_sku[item.sku]

    def quantity(self, rule: PriceRule, *, item: PriceItem) -> Decimal:
        """The tier quantity of ``rule`` for ``item`` (what resolve_price asks for)."""
        return self.scope(rule, item)[1]


def _winning_rule(index: PriceIndex, item: PriceItem, quote: PriceQuote) -> PriceRule:
    for _pl, rule in index.entries_for(item, only_list=quote.price_list_id):
        if rule.id == quote.rule_id:
            return rule
    raise AssertionError(f"the winner {quote.price_list_id}/{quote.rule_id} vanished")


# --- the discount engine ---------------------------------------------------------------


@attrs.frozen
class _Cart:
    """What the discount engine needs: lines in a canonical order."""

    items: tuple[PriceItem, ...]
    quantities: tuple[Decimal, ...]
    gross: tuple[Decimal, ...]
    order: tuple[int, ...]  # line indexes, canonical order (independent of input order)
    currency: str
    rounding: RoundingPolicy

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)


@attrs.frozen
class _Hit:
    """A discount that would apply on the nets it was evaluated on."""

    discount: CartDiscount
    set_id: str
    amount: Decimal
    base: Decimal
    capped: bool
    reason: str
    eligible: tuple[int, ...]
    parts: tuple[Decimal, ...]


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _split(amount: Decimal, weights: Sequence[Decimal], currency: str) -> tuple[Decimal, ...]:
    """``allocate`` in as many decimals as the amount and the weights need (minor units
    unless the lines are exact, at the ``TOTAL`` stage), so no part exceeds its weight."""
    digits = max([minor_units(currency), _decimals(amount), *map(_decimals, weights)])
    parts = allocate(Money(amount, currency), list(weights), digits=digits)
    return tuple(p.amount for p in parts)


def _skip(d: CartDiscount, set_id: str, reason: str) -> SkippedDiscount:
    return SkippedDiscount(discount_id=d.id, set_id=set_id, name=d.name, reason=reason)


def _thresholds(d: CartDiscount, cart: _Cart, eligible: Sequence[int]) -> tuple[str | None, str]:
    """Why ``d``'s thresholds are not met (None if they are), and how they are met."""
    where = "" if d.category is None else f" in category {d.category}"
    met = []
    with decimal.localcontext(CALCULATION_CONTEXT):
        if d.min_amount is not None:
            gross = cart.money(sum((cart.gross[i] for i in eligible), Decimal(0)))
            if gross.amount < d.min_amount.amount:
                return f"the amount{where} {gross} is below the threshold {d.min_amount}", ""
            met.append(f"amount{where} {gross} reaches {d.min_amount}")
        if d.min_quantity is not None:
            quantity = sum((cart.quantities[i] for i in eligible), Decimal(0))
            if quantity < d.min_quantity:
                return f"the quantity{where} {quantity} is below the threshold {d.min_quantity}", ""
            met.append(f"quantity{where} {quantity} reaches {d.min_quantity}")
    return None, ", ".join(met)


def _worth(d: CartDiscount, cart: _Cart, base: Decimal) -> tuple[Decimal, bool, str]:
    """What ``d`` takes off ``base`` (capped at it), whether it was capped, and how."""
    if d.percent is not None:
        with decimal.localcontext(CALCULATION_CONTEXT):
            raw = base * d.percent / _HUNDRED
        amount = cart.rounding.round_decimal(raw, minor_units(cart.currency))
        how = f"{d.percent}% of {cart.money(base)}"
    else:
        assert d.amount is not None
        amount = d.amount.amount
        how = f"fixed {d.amount} on {cart.money(base)}"
    capped = amount > base
    if capped:
        how += f", capped at the eligible {cart.money(base)}: the total never goes below zero"
    return min(amount, base), capped, how


def _try(
    d: CartDiscount, set_id: str, cart: _Cart, nets: Sequence[Decimal]
) -> _Hit | SkippedDiscount:
    """Evaluate one discount on the current nets (nothing is changed)."""
    if not cart.order:
        return _skip(d, set_id, "the cart is empty")
    eligible = tuple(
        i for i in cart.order if d.category is None or d.category in cart.items[i].category_path
    )
    if not eligible:
        return _skip(d, set_id, f"no line is in category {d.category}")
    unmet, met = _thresholds(d, cart, eligible)
    if unmet is not None:
        return _skip(d, set_id, unmet)
    with decimal.localcontext(CALCULATION_CONTEXT):
        base = sum((nets[i] for i in eligible), Decimal(0))
    if base <= 0:
        return _skip(d, set_id, "nothing is left to discount on the eligible lines")
    amount, capped, reason = _worth(d, cart, base)
    if amount <= 0:
        return _skip(d, set_id, f"{reason} rounds to nothing")
    if d.category is not None:
        reason += f" (lines in category {d.category} only)"
    if met:
        reason += f"; {met}"
    parts = _split(amount, [nets[i] for i in eligible], cart.currency)
    return _Hit(d, set_id, amount, base, capped, reason, eligible, parts)


def _apply(hit: _Hit, nets: list[Decimal]) -> None:
    with decimal.localcontext(CALCULATION_CONTEXT):
        for i, part in zip(hit.eligible, hit.parts, strict=True):
            nets[i] = nets[i] - part


@attrs.frozen
class _Run:
    """The outcome of one or more sets applied in turn."""

    hits: tuple[_Hit, ...]
    skipped: tuple[SkippedDiscount, ...]
    nets: tuple[Decimal, ...]

    @property
    def amount(self) -> Decimal:
        with decimal.localcontext(CALCULATION_CONTEXT):
            return sum((h.amount for h in self.hits), Decimal(0))


def _run_set(s: DiscountSet, cart: _Cart, start: Sequence[Decimal]) -> _Run:
    nets = list(start)
    hits: list[_Hit] = []
    skipped: list[SkippedDiscount] = []
    if s.mode is StackingMode.BEST:
        outcomes = [_try(d, s.id, cart, nets) for d in sorted(s.discounts, key=lambda d: d.id)]
        found = [o for o in outcomes if isinstance(o, _Hit)]
        best = min(found, key=lambda h: -h.amount) if found else None
        for o in outcomes:
            if isinstance(o, SkippedDiscount):
                skipped.append(o)
            elif o is not best:
                assert best is not None
                skipped.append(
                    _skip(
                        o.discount,
                        s.id,
                        f"the set takes only its best discount: {best.discount.id} gives "
                        f"{cart.money(best.amount)}, this one {cart.money(o.amount)}",
                    )
                )
        if best is not None:
            _apply(best, nets)
            hits.append(best)
    else:
        for d in s.discounts:
            outcome = _try(d, s.id, cart, nets)
            if isinstance(outcome, SkippedDiscount):
                skipped.append(outcome)
            else:
                _apply(outcome, nets)
                hits.append(outcome)
    return _Run(tuple(hits), tuple(skipped), tuple(nets))


def _lost(run: _Run, reason: str) -> list[SkippedDiscount]:
    """Every discount of a run that lost to another set."""
    out = [_skip(h.discount, h.set_id, reason) for h in run.hits]
    out.extend(attrs.evolve(s, reason=f"{reason} (besides, {s.reason})") for s in run.skipped)
    return out


def _discount(cart: _Cart, sets: Sequence[DiscountSet]) -> _Run:
    """Apply the sets: non-exclusive ones in turn, then let exclusive ones compete."""
    start = cart.gross
    regular = _Run((), (), start)
    for s in sets:
        if s.mode is not StackingMode.EXCLUSIVE:
            run = _run_set(s, cart, regular.nets)
            regular = _Run(regular.hits + run.hits, regular.skipped + run.skipped, run.nets)
    exclusive = [(s, _run_set(s, cart, start)) for s in sets if s.mode is StackingMode.EXCLUSIVE]
    best: tuple[DiscountSet, _Run] | None = None
    for s, run in exclusive:
        if run.hits and (best is None or run.amount > best[1].amount):
            best = (s, run)
    others = cart.money(regular.amount)
    if best is not None and best[1].amount > regular.amount:
        winner, won = best
        worth = cart.money(won.amount)
        skipped = list(won.skipped)
        skipped += _lost(
            regular,
            f"exclusive set {winner.id} applies instead ({worth} beats {others} from the "
            "other sets)",
        )
        for s, run in exclusive:
            if s is not winner:
                skipped += _lost(
                    run,
                    f"exclusive set {winner.id} is worth more ({worth} against "
                    f"{cart.money(run.amount)})",
                )
        return _Run(won.hits, tuple(skipped), won.nets)
    skipped = list(regular.skipped)
    for s, run in exclusive:
        if run.hits:
            skipped += _lost(
                run,
                f"exclusive set {s.id} would give {cart.money(run.amount)}, not more than "
                f"{others} from the other sets",
            )
        else:
            skipped += run.skipped
    return _Run(regular.hits, tuple(skipped), regular.nets)


# --- price_cart ------------------------------------------------------------------------


def _check_lines(lines: object) -> tuple[CartLineInput, ...]:
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, (list, tuple)):
        raise ValidationError("must be a list of CartLineInput", path="lines", value=lines)
    for i, line in enumerate(lines):
        if not isinstance(line, CartLineInput):
            raise ValidationError("must be a CartLineInput", path=f"lines[{i}]", value=line)
    return tuple(lines)


def _check_sets(discounts: object, currency: str) -> tuple[DiscountSet, ...]:
    if isinstance(discounts, (str, bytes, Mapping)) or not isinstance(discounts, (list, tuple)):
        raise ValidationError("must be a list of DiscountSet", path="discounts", value=discounts)
    set_ids: set[str] = set()
    discount_ids: set[str] = set()
    for i, s in enumerate(discounts):
        if not isinstance(s, DiscountSet):
            raise ValidationError("must be a DiscountSet", path=f"discounts[{i}]", value=s)
        if s.id in set_ids:
            raise ValidationError(
                f"discount set id {s.id!r} is used twice", path=f"discounts[{i}].id", value=s.id
            )
        set_ids.add(s.id)
        for j, d in enumerate(s.discounts):
            path = f"discounts[{i}].discounts[{j}]"
            if d.id in discount_ids:
                raise ValidationError(
                    f"discount id {d.id!r} is used in two places", path=f"{path}.id", value=d.id
                )
            discount_ids.add(d.id)
            for money, field in ((d.amount, "amount"), (d.min_amount, "min_amount")):
                if money is None:
                    continue
                if money.currency != currency:
                    raise ValidationError(
                        f"discount {d.id!r} is in {money.currency}, the cart in {currency}",
                        path=f"{path}.{field}",
                        value=money,
                    )
            if d.amount is not None and not d.amount.is_rounded():
                raise ValidationError(
                    f"discount {d.id!r}: {d.amount} has more decimals than {currency} has",
                    path=f"{path}.amount",
                    value=d.amount,
                )
    return tuple(discounts)


def _check_quantity_rules(
    rules: Mapping[Sku, QuantityRule] | Iterable[QuantityRule] | None,
) -> dict[str, QuantityRule]:
    if rules is None:
        return {}
    if isinstance(rules, (str, bytes)):
        raise ValidationError(
            "must be QuantityRules or a mapping of SKU to QuantityRule",
            path="quantity_rules",
            value=rules,
        )
    values = rules.values() if isinstance(rules, Mapping) else rules
    out: dict[str, QuantityRule] = {}
    for i, rule in enumerate(values):
        if not isinstance(rule, QuantityRule):
            raise ValidationError("must be a QuantityRule", path=f"quantity_rules[{i}]", value=rule)
        if rule.sku in out:
            raise ValidationError(
                f"two quantity rules for {rule.sku}", path=f"quantity_rules[{i}]", value=rule
            )
        out[rule.sku] = rule
    return out


def _index(lists: object) -> PriceIndex:
    if isinstance(lists, PriceIndex):
        return lists
    if isinstance(lists, (str, bytes)) or not isinstance(lists, (list, tuple)):
        raise ValidationError("give a list of PriceList or a PriceIndex", path="lists", value=lists)
    return PriceIndex(lists)


def price_cart(
    context: PriceContext,
    lines: Sequence[CartLineInput],
    *,
    lists: Sequence[PriceList] | PriceIndex,
    discounts: Sequence[DiscountSet] = (),
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
    rounding: RoundingPolicy = _DEFAULT_ROUNDING,
    quantity_rules: Mapping[Sku, QuantityRule] | Iterable[QuantityRule] | None = None,
) -> CartPrice:
    """Price a cart: every line, then the cart discounts, then the document rounding.

    **Lines.** Each line is priced by
    :func:`~b2bcore.pricing.resolve.resolve_price` in ``context`` (so every amount is
    in ``context.currency``) with its own quantity, checked against its SKU's
    :class:`~b2bcore.pricing.model.QuantityRule` from ``quantity_rules`` (a line at a
    time). Tiers are chosen by the *cart* quantity of each candidate rule's
    :class:`~b2bcore.pricing.model.TierBasis`: ``SKU`` — this SKU summed over all
    lines; ``PRODUCT`` — every line of the same product; ``CATEGORY`` — every line in
    the rule's target category (for a rule that does not target a category: the
    line's own, deepest category). Each candidate rule gets the quantity of its own
    basis (``resolve_price`` takes the tier quantity as a function of the rule), so
    under ``PricePolicy.LOWEST`` candidates are compared at the prices they would
    really give. A line with no price raises
    :class:`~b2bcore.pricing.errors.NoPriceError` with the explanation.

    **Discounts.** The non-exclusive sets apply in the order given, each on what the
    sets before it left; within a set as its :class:`StackingMode` says. Thresholds
    are checked against the eligible lines *before* cart discounts; percentages are
    taken of what is left of the eligible lines and rounded (minor units, the
    policy's mode); a fixed amount larger than what is left is capped at it. Each
    applied discount is split over its eligible lines with
    :func:`~b2bcore.money.allocate`, weighted by what is left of each line, so no line
    goes below zero. The largest-remainder ties are broken in a canonical order of
    the lines (SKU, amount, quantity ...), so the result does not depend on the order
    of the lines.

    **Rounding.** ``UNIT`` and ``LINE`` round inside ``resolve_price`` (every line is in
    minor units already). ``TOTAL`` keeps the lines exact, rounds the document total
    once, and allocates the total over the exact line nets, so the lines' nets are in
    minor units and still sum to the total; each line's share of the difference is
    its ``rounding``.

    >>> from datetime import datetime, timezone
    >>> from decimal import Decimal
    >>> from b2bcore.money import Money
    >>> from b2bcore.pricing import (CartLineInput, PriceContext, PriceItem, PriceList,
    ...     PriceRule, PriceTier, RuleTarget, TierBasis)
    >>> jan = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> seals = PriceList(id="acme", name="ACME", currency="EUR", valid_from=jan, rules=[
    ...     PriceRule(id="seals", target=RuleTarget.category("seals"),
    ...               price=Money("2.00", "EUR"), tier_basis=TierBasis.CATEGORY,
    ...               tiers=[PriceTier(min_quantity=100, price=Money("1.50", "EUR"))])])
    >>> small = PriceItem(sku="S-10", category_path=["seals"])
    >>> large = PriceItem(sku="S-20", category_path=["seals"])
    >>> ctx = PriceContext(company_id="acme", currency="EUR",
    ...                    at=datetime(2026, 5, 4, tzinfo=timezone.utc))
    >>> cart = price_cart(ctx, [CartLineInput(small, 60), CartLineInput(large, 40)],
    ...                   lists=[seals])
    >>> [(line.sku, line.quote.unit_price.amount, line.tier_quantity) for line in cart.lines]
    [('S-10', Decimal('1.50'), Decimal('100')), ('S-20', Decimal('1.50'), Decimal('100'))]
    >>> cart.total
    Money('150.00', 'EUR')
    """
    if not isinstance(context, PriceContext):
        raise ValidationError("must be a PriceContext", path="context", value=context)
    if not isinstance(policy, PricePolicy):
        raise ValidationError("must be a PricePolicy", path="policy", value=policy)
    if not isinstance(rounding, RoundingPolicy):
        raise ValidationError("must be a RoundingPolicy", path="rounding", value=rounding)
    inputs = _check_lines(lines)
    sets = _check_sets(discounts, context.currency)
    rules = _check_quantity_rules(quantity_rules)
    index = _index(lists)
    currency = context.currency
    totals = _Totals.of(inputs)

    quotes: list[PriceQuote] = []
    tiers: list[tuple[TierBasis, str, Decimal | None]] = []
    for line in inputs:
        quote = resolve_price(
            context,
            line.item,
            line.quantity,
            lists=index,
            policy=policy,
            rounding=rounding,
            tier_quantity=functools.partial(totals.quantity, item=line.item),
            quantity_rule=rules.get(line.item.sku),
        )
        rule = _winning_rule(index, line.item, quote)
        scope, tier_quantity = totals.scope(rule, line.item)
        tiers.append((rule.tier_basis, scope, tier_quantity if rule.tiers else None))
        quotes.append(quote)

    gross = tuple(q.line_total.amount for q in quotes)
    order = tuple(
        sorted(
            range(len(inputs)),
            key=lambda i: (
                inputs[i].item.sku,
                gross[i],
                inputs[i].quantity,
                inputs[i].item.product_id or "",
                inputs[i].item.category_path,
                i,
            ),
        )
    )
    cart = _Cart(
        items=tuple(line.item for line in inputs),
        quantities=tuple(line.quantity for line in inputs),
        gross=gross,
        order=order,
        currency=currency,
        rounding=rounding,
    )
    outcome = _discount(cart, sets)
    nets = list(outcome.nets)

    nought = rounding.round_decimal(Decimal(0), minor_units(currency))  # 0.00 in EUR
    with decimal.localcontext(CALCULATION_CONTEXT):
        exact_total = sum(nets, nought)
        adjustments = [nought] * len(nets)
        if rounding.stage is RoundingStage.TOTAL:
            total = rounding.round_decimal(exact_total, minor_units(currency))
            final = [nought] * len(nets)
            if exact_total > 0:
                shares = allocate(Money(total, currency), [nets[i] for i in order])
                for i, share in zip(order, shares, strict=True):
                    final[i] = share.amount
            adjustments = [f - n for f, n in zip(final, nets, strict=True)]
            nets = final
        else:
            total = exact_total

    allocations: list[list[LineDiscount]] = [[] for _ in inputs]
    for hit in outcome.hits:
        for i, part in zip(hit.eligible, hit.parts, strict=True):
            if part:
                allocations[i].append(
                    LineDiscount(
                        discount_id=hit.discount.id, set_id=hit.set_id, amount=cart.money(part)
                    )
                )
    priced = tuple(
        PricedLine(
            index=i,
            item=inputs[i].item,
            quote=quotes[i],
            tier_basis=tiers[i][0],
            tier_scope=tiers[i][1],
            tier_quantity=tiers[i][2],
            gross=quotes[i].line_total,
            discounts=tuple(allocations[i]),
            rounding=cart.money(adjustments[i]),
            net=cart.money(nets[i]),
        )
        for i in range(len(inputs))
    )
    applied = tuple(
        AppliedDiscount(
            discount_id=h.discount.id,
            set_id=h.set_id,
            name=h.discount.name,
            amount=cart.money(h.amount),
            base=cart.money(h.base),
            capped=h.capped,
            reason=h.reason,
        )
        for h in outcome.hits
    )
    zero = cart.money(nought)
    subtotal = sum((q.line_total for q in quotes), zero)
    discount_total = sum((a.amount for a in applied), zero)
    total_money = cart.money(total)
    return CartPrice(
        context=context,
        currency=currency,
        rounding_policy=rounding,
        lines=priced,
        subtotal=subtotal,
        discounts=applied,
        skipped=outcome.skipped,
        discount_total=discount_total,
        rounding=total_money - (subtotal - discount_total),
        total=total_money,
    )
