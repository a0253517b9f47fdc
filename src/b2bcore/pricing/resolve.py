"""The pricing engine: one pure function for every surface, and its explanation.

:func:`resolve_price` finds every rule whose target matches the item, rejects the
ones whose list or rule does not apply (currency, window, scope, minimum quantity,
missing base price), orders the rest by the declared precedence, and prices the
winner step by step with exact Decimals. The result never depends on the order in
which lists or rules were given.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from b2bcore.money import Money
>>> from b2bcore.pricing import (Formula, PriceContext, PriceItem, PriceList, PriceRule,
...     PriceScope, RuleTarget, resolve_price)
>>> jan = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> public = PriceList(id="list", name="List prices", currency="EUR", valid_from=jan,
...     rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())])
>>> acme = PriceList(id="acme", name="ACME contract", currency="EUR", valid_from=jan,
...     scope=PriceScope(companies={"acme"}),
...     rules=[PriceRule(id="pumps", target=RuleTarget.category("pumps"),
...                      formula=Formula(percent=Decimal("-12.5")))])
>>> pump = PriceItem(sku="P-100", category_path=["pumps"], list_price=Money("200.00", "EUR"))
>>> may = datetime(2026, 5, 4, tzinfo=timezone.utc)
>>> ctx = PriceContext(company_id="acme", currency="EUR", at=may)
>>> quote = resolve_price(ctx, pump, 3, lists=[public, acme])
>>> quote.unit_price, quote.line_total, quote.rule_id
(Money('175.00', 'EUR'), Money('525.00', 'EUR'), 'pumps')
>>> print(quote.explanation.text())
P-100 x 3 for acme in EUR: 175.00000 EUR from acme/pumps
  won  acme/pumps (category pumps, companies=['acme']): 175.00000 EUR
       list price 200.00 -> percent -12.5 = 175.00000
  lost list/all (all, everyone): lost on buyer specificity
"""

from __future__ import annotations

import decimal
import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Final, NoReturn

import attrs

from b2bcore.errors import ValidationError
from b2bcore.money import (
    _CTX,
    _CTX_ROUND,
    CALCULATION_CONTEXT,
    Money,
    RoundingMode,
    RoundingPolicy,
    RoundingStage,
    _exact,
    _money,
    minor_units,
    to_quantity,
)
from b2bcore.pricing.errors import NoPriceError, PriceRuleConflictError, QuantityRuleError
from b2bcore.pricing.model import (
    BaseKind,
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceRule,
    PriceScope,
    PriceTier,
    QuantityRule,
    RoundingStep,
    TargetKind,
)

__all__ = [
    "Candidate",
    "FormulaStep",
    "PriceExplanation",
    "PriceIndex",
    "PriceQuote",
    "check_price_lists",
    "check_quantity",
    "resolve_price",
]

_TARGET_RANK: Final = {
    TargetKind.SKU: 3,
    TargetKind.PRODUCT: 2,
    TargetKind.CATEGORY: 1,
    TargetKind.ALL: 0,
}
_STEPS: Final = (
    "buyer specificity",
    "target specificity",
    "category depth",
    "priority",
    "valid_from",
    "list id",
    "rule id",
)
DEFAULT_ROUNDING: Final = RoundingPolicy(RoundingMode.HALF_UP, RoundingStage.UNIT)
_CEILING: Final = RoundingPolicy(RoundingMode.CEILING)
_FLOOR: Final = RoundingPolicy(RoundingMode.FLOOR)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_multiply: Final = _CTX.multiply
_FOR_SOMEONE_ELSE: Final = "list is for "
_NOBODY: Final[frozenset[str]] = frozenset()  # no derived list is being priced yet
_ROUND_CONTEXT: Final = _CTX_ROUND
_MICROSECOND: Final = timedelta(microseconds=1)


# --- explanation -----------------------------------------------------------------------


@attrs.frozen
class FormulaStep:
    """One exact step of a price computation."""

    name: str
    value: Decimal
    note: str = ""

    def describe(self) -> str:
        """``percent -12.5 = 175.0000``."""
        return (
            f"{self.name} {self.note} = {self.value}" if self.note else f"{self.name} {self.value}"
        )


@attrs.frozen
class Candidate:
    """A rule whose target matched the item, and what became of it.

    ``status`` is ``won``, ``lost`` (applicable but lost on precedence — ``reason``
    names the step) or ``rejected`` (not applicable — ``reason`` says why).
    """

    price_list_id: str
    rule_id: str
    target: str
    scope: str
    status: str
    reason: str
    unit_price: Money | None = None
    steps: tuple[FormulaStep, ...] = ()

    def describe(self) -> str:
        """One line of the explanation."""
        head = f"{self.status:<4} {self.price_list_id}/{self.rule_id} ({self.target}, {self.scope})"
        if self.status == "won":
            return f"{head}: {self.unit_price}"
        return f"{head}: {self.reason}"


@attrs.frozen
class PriceExplanation:
    """Every candidate considered, why each lost or was rejected, and the winner's
    computation step by step."""

    sku: str
    quantity: Decimal
    company_id: str
    currency: str
    policy: PricePolicy
    candidates: tuple[Candidate, ...]

    @property
    def winner(self) -> Candidate | None:
        """The winning candidate, if any."""
        for c in self.candidates:
            if c.status == "won":
                return c
        return None

    def summary(self) -> str:
        """One line: the winner, or why nothing applied."""
        w = self.winner
        if w is not None:
            return f"{w.unit_price} from {w.price_list_id}/{w.rule_id}"
        if not self.candidates:
            return "no price list has a rule for this item"
        reasons = sorted({c.reason for c in self.candidates})
        return "every candidate was rejected (" + "; ".join(reasons) + ")"

    def for_buyer(self) -> PriceExplanation:
        """The explanation a buyer may see: without the lists scoped to other buyers.

        A list rejected because it is for someone else (another company, unit,
        group, channel or country) would reveal that buyer's contract and its name;
        the seller sees the full explanation.
        """
        kept = tuple(
            c
            for c in self.candidates
            if not (c.status == "rejected" and c.reason.startswith(_FOR_SOMEONE_ELSE))
        )
        if len(kept) == len(self.candidates):
            return self  # nothing to hide (explanations are immutable)
        return attrs.evolve(self, candidates=kept)

    def text(self) -> str:
        """A readable, multi-line explanation."""
        head = f"{self.sku} x {self.quantity} for {self.company_id} in {self.currency}"
        lines = [f"{head}: {self.summary()}"]
        for c in self.candidates:
            lines.append(f"  {c.describe()}")
            if c.status == "won" and c.steps:
                lines.append("       " + " -> ".join(s.describe() for s in c.steps))
        return "\n".join(lines)


@attrs.frozen
class PriceQuote:
    """A resolved price: unit price, line total and why. Pin it to keep a price.

    ``tier_quantity`` is the quantity that chose the winner's tier: the line's own
    quantity, or — in a cart — the quantity summed over the rule's tier basis (SKU,
    product or category). With rounding stage ``UNIT`` the unit price is rounded to
    the currency's minor units; with ``LINE`` or ``TOTAL`` it is the exact price
    and only the line total (``LINE``) or the document (``TOTAL``) is rounded.
    """

    sku: str
    quantity: Decimal
    unit_price: Money
    line_total: Money
    price_list_id: str
    rule_id: str
    tier_min_quantity: Decimal | None
    context: PriceContext
    rounding: RoundingPolicy
    policy: PricePolicy
    tier_quantity: Decimal
    explanation: PriceExplanation = attrs.field(eq=False, repr=False)

    @property
    def currency(self) -> str:
        """The quote's currency."""
        return self.unit_price.currency

    def revalidate(
        self,
        item: PriceItem,
        *,
        lists: Sequence[PriceList] | PriceIndex,
        at: datetime | None = None,
        tier_quantity: Decimal | int | None = None,
    ) -> PriceQuote | None:
        """Price the same line again (at ``at``, default the quote's own time) and
        return the new quote if anything changed, or None if the pinned quote still
        holds exactly.

        Tiers are chosen by ``tier_quantity``, default the quote's own: a line
        pinned from a cart keeps the quantity its tier basis summed to in that cart
        (re-price the whole cart with :func:`~b2bcore.pricing.cart.price_cart` to
        follow a cart whose other lines changed).
        """
        context = self.context if at is None else attrs.evolve(self.context, at=at)
        fresh = resolve_price(
            context,
            item,
            self.quantity,
            lists=lists,
            policy=self.policy,
            rounding=self.rounding,
            tier_quantity=self.tier_quantity if tier_quantity is None else tier_quantity,
        )
        same = (
            fresh.unit_price == self.unit_price
            and fresh.line_total == self.line_total
            and (fresh.price_list_id, fresh.rule_id) == (self.price_list_id, self.rule_id)
        )
        return None if same else fresh


# --- quantity rules --------------------------------------------------------------------


def check_quantity(rule: QuantityRule | None, quantity: Decimal | int | str) -> Decimal:
    """Validate ``quantity`` against ``rule``; return it as a Decimal.

    >>> from b2bcore.pricing import QuantityRule
    >>> rule = QuantityRule(sku="BOLT", minimum=10, increment=5)
    >>> try:
    ...     check_quantity(rule, 17)
    ... except QuantityRuleError as e:
    ...     print(e.lower, e.higher, "|", e)
    15 20 | quantity: 17 of BOLT is not 10 plus a multiple of 5; nearest valid: 15 or 20
    """
    q = to_quantity(quantity, path="quantity")
    if q <= 0:
        raise ValidationError("quantity must be positive", path="quantity", value=quantity)
    if rule is None:
        return q
    if not isinstance(rule, QuantityRule):
        raise ValidationError("must be a QuantityRule or None", path="quantity_rule", value=rule)
    with decimal.localcontext(CALCULATION_CONTEXT):
        return _check_steps(rule, q)


def _check_steps(rule: QuantityRule, q: Decimal) -> Decimal:
    lo, hi, step = rule.minimum, rule.maximum, rule.increment
    if q < lo:
        raise QuantityRuleError(rule.sku, q, f"is below the minimum of {lo}", lower=None, higher=lo)
    if hi is not None and q > hi:
        top = lo + ((hi - lo) // step) * step
        raise QuantityRuleError(
            rule.sku, q, f"is above the maximum of {hi}", lower=top, higher=None
        )
    steps = (q - lo) / step
    if steps != steps.to_integral_value():
        below = lo + (steps.to_integral_value(rounding=ROUND_FLOOR)) * step
        above = below + step
        above_opt = None if hi is not None and above > hi else above
        raise QuantityRuleError(
            rule.sku,
            q,
            f"is not {lo} plus a multiple of {step}",
            lower=below,
            higher=above_opt,
        )
    return q


# --- the index -------------------------------------------------------------------------

_Entry = tuple[PriceList, PriceRule]
#: The quantity that selects tiers: one for every rule, or one per rule (its basis).
TierQuantity = Decimal | Callable[[PriceRule], Decimal]


class _ListHead:
    """What an explanation needs of a price list. Quotes keep these (not the list
    with all its rules) until their explanation is read."""

    __slots__ = ("base_list_id", "currency", "id", "scope")

    def __init__(self, pl: PriceList) -> None:
        self.id = pl.id
        self.scope = pl.scope
        self.currency = pl.currency
        self.base_list_id = pl.base_list_id


#: A plain formula compiled (see :data:`_PLAIN`): its ``1 + percent / 100`` (None
#: for no percent), rounding step and surcharge amount.
_PlainFormula = tuple[Decimal | None, RoundingStep | None, Decimal | None]
#: A (list, rule) pair compiled for the hot path by :func:`_compile`: (list, its
#: head, rule, rule id, list position, ranking key prefix (at the depth the rule
#: matched, see :meth:`PriceIndex._plan`), flags, its minimum quantity, and its
#: price: with :data:`_FIXED` its fixed price (Money), with :data:`_PLAIN` its
#: formula compiled (:data:`_PlainFormula`), else None).
_Compiled = tuple[
    PriceList,
    _ListHead,
    PriceRule,
    str,
    int,
    tuple[object, ...],
    int,
    Decimal,
    Any,
]
#: Flag of a compiled entry: the rule has its own validity window.
_WINDOWED: Final = 1
#: Flag of a compiled entry: its fixed price has exactly the list currency's minor
#: units (and at most 60 digits), so rounding it to them gives the very same Decimal.
_IN_MINOR_UNITS: Final = 2
#: Flag of a compiled entry: the rule has a fixed price and no tiers.
_FIXED: Final = 4
#: Flags of a compiled entry: the rule has no tiers and a formula based on the
#: list price (or the cost) without a margin clamp.
_ON_LIST_PRICE: Final = 8
_ON_COST: Final = 16
_PLAIN: Final = _ON_LIST_PRICE | _ON_COST
#: What compiled entries share, so that a million rules do not mean a million copies
#: (and a line reads fewer places in memory): ranking key prefixes, and Decimals and
#: Money (keyed by their text, so that 10.0 and 10.00 stay apart).
_Shared = dict[object, Any]
#: The groups of compiled entries that match an item, each in precedence order.
_Groups = list[Sequence[_Compiled]]
#: Every compiled entry that matches an item, in precedence order (see
#: :meth:`PriceIndex._plan`).
_Plan = Sequence[_Compiled]
#: A plan as the index remembers it per SKU: the product id and category path it
#: is for, the plan (None: the SKU was met once, see :meth:`PriceIndex._plan`), and
#: its entries' list positions as bytes (None with 256 lists or more).
_PlanRecord = tuple[str | None, tuple[str, ...], _Plan | None, bytes | None]
#: Per context and list position: the list's verdict ("" = it applies, else why
#: not; None = not judged yet), scoped and unscoped (for derived prices); and a
#: table for ``bytes.translate`` that maps the position of a list known not to
#: apply (scoped) to 0, any other to 1.
_Verdicts = tuple[list[str | None], list[str | None], bytearray]
#: The most lists whose positions a plan keeps as bytes (one byte a position, and
#: the translation table is 256 long).
_BYTE_POSITIONS: Final = 255

_MAYBE: Final = b"\x01"
#: How many contexts an index remembers list verdicts for before it starts afresh.
_CONTEXT_CACHE_SIZE: Final = 256
#: How many SKUs an index remembers the plan of (see :meth:`PriceIndex._plan`)
#: before it starts afresh.
_PLAN_CACHE_SIZE: Final = 1 << 15


class PriceIndex:
    """Price lists compiled for lookup: rules by target, so resolving a SKU looks at
    the rules for that SKU, its product, its categories and "all" — never the rest.

    Build it once per publication of price lists and reuse it for every line. The
    index is a snapshot: it precomputes each rule's place in the precedence order
    and remembers, per context, which lists apply and, per SKU met more than once,
    the rules that match it in precedence order (bounded caches of what the lists
    say, never of prices), so a price list changed after the index was built needs
    a new index.
    """

    def __init__(self, lists: Iterable[PriceList]) -> None:
        self.lists: dict[str, PriceList] = {}
        self._positions: dict[int, int] = {}  # id(list) -> position
        self._heads: list[_ListHead] = []  # by position
        self._contexts: dict[PriceContext, _Verdicts] = {}
        # Per SKU: the product id, category path and plan of the item last met with
        # it (see _plan); per category and match depth: its entries at that depth.
        self._plans: dict[str, _PlanRecord] = {}
        self._at_depth: dict[tuple[str, int], tuple[_Compiled, ...]] = {}
        # A subclass that overrides entries_for (a brute-force oracle, say) is asked
        # for every lookup; the plain index uses its own tables directly.
        self._direct = type(self).entries_for is PriceIndex.entries_for
        if isinstance(lists, (str, bytes)) or not isinstance(lists, Iterable):
            raise ValidationError("give an iterable of PriceList", path="lists", value=lists)
        # First the (list, rule) pairs per target, flat [list, rule, list, rule, ...];
        # then each target's entries compiled together, so that they lie side by
        # side in memory (a line reads all of them).
        pairs: dict[TargetKind, dict[str | None, list[PriceList | PriceRule]]] = {
            kind: {} for kind in TargetKind
        }
        for pl in lists:
            if not isinstance(pl, PriceList):
                raise ValidationError("must be a PriceList", path="lists", value=pl)
            if pl.id in self.lists:
                raise ValidationError(f"price list {pl.id!r} is given twice", path="lists")
            self.lists[pl.id] = pl
            self._positions[id(pl)] = len(self._positions)
            self._heads.append(_ListHead(pl))
            for rule in pl.rules:
                found = pairs[rule.target.kind].setdefault(rule.target.value, [])
                found.append(pl)
                found.append(rule)
        prefixes: _Shared = {}
        tables: dict[TargetKind, dict[str, tuple[_Compiled, ...]]] = {}
        for kind, by_value in pairs.items():
            table = tables[kind] = {}
            while by_value:
                value, flat = by_value.popitem()
                compiled = [
                    self._compile(flat[i], flat[i + 1], prefixes)  # type: ignore[arg-type]
                    for i in range(0, len(flat), 2)
                ]
                # In precedence order: a target's entries share target kind and
                # depth, so the first one that applies is the best of its group.
                compiled.sort(key=_static_rank)
                table[value or ""] = tuple(compiled)
        self._by_sku = tables[TargetKind.SKU]
        self._by_product = tables[TargetKind.PRODUCT]
        self._by_category = tables[TargetKind.CATEGORY]
        self._for_all = tables[TargetKind.ALL].get("", ())

    def entries_for(self, item: PriceItem, *, only_list: str | None = None) -> list[_Entry]:
        """Every (list, rule) whose target matches ``item``."""
        return [
            (c[0], c[2])
            for group in self._groups(item)
            for c in group
            if only_list is None or c[0].id == only_list
        ]

    def _groups(self, item: PriceItem) -> _Groups:
        """The compiled entries matching ``item`` — SKU, product, categories (root
        first), all — by target, each group in precedence order and ranked at the
        depth it matched (categories: 1 + position in the path; else 0)."""
        groups: _Groups = []
        found = self._by_sku.get(item.sku)
        if found:
            groups.append(found)
        if item.product_id is not None:
            found = self._by_product.get(item.product_id)
            if found:
                groups.append(found)
        if self._by_category:
            for depth, category in enumerate(item.category_path, 1):
                found = self._by_category.get(category)
                if found:
                    groups.append(self._category_at(category, found, depth))
        if self._for_all:
            groups.append(self._for_all)
        return groups

    def _category_at(
        self, category: str, entries: tuple[_Compiled, ...], depth: int
    ) -> tuple[_Compiled, ...]:
        """A category's ``entries`` ranked as matched at ``depth`` (made once)."""
        found = self._at_depth.get((category, depth))
        if found is None:
            prefixes: _Shared = {}
            found = self._at_depth[(category, depth)] = tuple(
                _at_depth(entry, depth, prefixes) for entry in entries
            )
        return found

    def _plan(self, item: PriceItem) -> _PlanRecord:
        """Every compiled entry that matches ``item``, in precedence order, so that
        the first one that applies is the winner; with the item's product id and
        category path, and the entries' list positions (see :data:`_PlanRecord`).

        A plan depends on nothing but the index and the item's SKU, product and
        category path — not on the buyer, time, quantity or list price — and the
        index remembers the plan per SKU (up to :data:`_PLAN_CACHE_SIZE` SKUs): a
        SKU's lines then take one lookup instead of one per target, and no merging.
        The first time the index meets a SKU (or the SKU with another product or
        path), it only notes it and returns no plan (None): a SKU priced once is
        not worth merging, :func:`_winner` reads its groups instead."""
        product_id = item.product_id
        path = item.category_path
        if not self._direct:
            return product_id, path, self._asked_plan(item, None), None
        known = self._plans.get(item.sku)
        if known is None or known[0] != product_id or known[1] != path:
            record: _PlanRecord = (product_id, path, None, None)
        elif known[2] is not None:
            return known
        else:
            plan = _merged(self._groups(item))
            positions = bytes(map(_position, plan)) if len(self._heads) <= _BYTE_POSITIONS else None
            record = (product_id, path, plan, positions)
        if len(self._plans) >= _PLAN_CACHE_SIZE:
            self._plans.clear()
        self._plans[item.sku] = record
        return record

    def _entries(self, item: PriceItem, only_list: str | None) -> Iterable[_Compiled]:
        """Every compiled entry that matches ``item`` (of ``only_list`` if given), in
        no particular order."""
        if not self._direct:
            return self._asked_plan(item, only_list)
        entries = itertools.chain.from_iterable(self._groups(item))
        return entries if only_list is None else _only(tuple(entries), only_list)

    def _asked_plan(self, item: PriceItem, only_list: str | None) -> _Plan:
        """``_plan`` of an index whose ``entries_for`` is overridden: ask it."""
        plan: list[_Compiled] = []
        prefixes: _Shared = {}
        for pl, rule in self.entries_for(item, only_list=only_list):
            depth = rule.target.match_depth(item)
            if depth is None:
                continue
            entry = self._compile(pl, rule, prefixes)
            plan.append(_at_depth(entry, depth, prefixes) if depth else entry)
        plan.sort(key=_static_rank)
        return plan

    def _compile(
        self,
        pl: PriceList,
        rule: PriceRule,
        prefixes: _Shared,
    ) -> _Compiled:
        """What the hot path needs of (list, rule), computed once: see
        :func:`_compile`. A list the index does not hold (one that an overridden
        ``entries_for`` returns) gets the spare position, which is never cached."""
        position = self._positions.get(id(pl), -1)
        if position < 0 or self.lists.get(pl.id) is not pl:
            return _compile(pl, _ListHead(pl), rule, len(self._positions), prefixes)
        return _compile(pl, self._heads[position], rule, position, prefixes)

    def _verdicts(self, context: PriceContext) -> _Verdicts:
        """Which lists apply to ``context``, filled in as lists are met (the index
        and its lists do not change, so a verdict holds as long as the index)."""
        verdicts = self._contexts.get(context)
        if verdicts is None:
            if len(self._contexts) >= _CONTEXT_CACHE_SIZE:
                self._contexts.clear()
            size = len(self._positions) + 1  # and a spare slot, see _compile
            verdicts = self._contexts[context] = (
                [None] * size,
                [None] * size,
                bytearray(_MAYBE * max(size, 256)),
            )
        return verdicts


def _compile(
    pl: PriceList,
    head: _ListHead,
    rule: PriceRule,
    position: int,
    prefixes: _Shared,
) -> _Compiled:
    """What the hot path needs of (list, rule), computed once.

    The ranking key is ``(prefix, rule id)`` where the prefix holds buyer
    specificity, target specificity, category depth (0 here), priority, start and
    list id — shared by all the rules of a list that have the same kind and start,
    so a million rules do not mean a million prefixes (nor a million keys: the key
    is made only for a rule that applies).
    """
    start = max(pl.valid_from, rule.valid_from) if rule.valid_from else pl.valid_from
    prefix: tuple[object, ...] = (
        -pl.scope.specificity,
        -_TARGET_RANK[rule.target.kind],
        0,
        -pl.priority,
        -((start - _EPOCH) // _MICROSECOND),
        pl.id,
    )
    prefix = prefixes.setdefault(prefix, prefix)
    flags = _WINDOWED if rule.valid_from is not None or rule.valid_until is not None else 0
    price: Money | _PlainFormula | None = None
    formula = rule.formula
    if rule.tiers:
        pass
    elif rule.price is not None:
        text: tuple[object, ...] = ("money", str(rule.price.amount), rule.price.currency)
        shared = prefixes.get(text)
        if shared is None:
            shared = prefixes[text] = (rule.price, _in_minor_units(rule.price))
        price = shared[0]
        flags |= _FIXED | (_IN_MINOR_UNITS if shared[1] else 0)
    elif (
        formula is not None
        and formula.base is not BaseKind.PRICE_LIST
        and formula.min_margin is None
        and formula.max_margin is None
    ):
        step, surcharge = formula.rounding, formula.surcharge
        text = (
            "formula",
            str(formula.percent),
            None if step is None else (str(step.multiple), str(step.ending), step.mode),
            None if surcharge is None else str(surcharge.amount),
        )
        price = prefixes.get(text)
        if price is None:
            price = prefixes[text] = (
                _factor(formula.percent) if formula.percent else None,
                step,
                None if surcharge is None else surcharge.amount,
            )
        flags |= _ON_LIST_PRICE if formula.base is BaseKind.LIST_PRICE else _ON_COST
    min_quantity = prefixes.setdefault(("decimal", str(rule.min_quantity)), rule.min_quantity)
    return (pl, head, rule, rule.id, position, prefix, flags, min_quantity, price)


def _in_minor_units(price: Money) -> bool:
    """Whether ``price`` has exactly its currency's minor units and at most 60
    digits: rounding it to minor units (in ``_ROUND_CONTEXT``, any mode) then gives
    the very same Decimal, and so does multiplying it by a whole quantity and
    rounding the product."""
    _sign, digits, exponent = price.amount.as_tuple()
    return exponent == -minor_units(price.currency) and len(digits) <= _ROUND_CONTEXT.prec


def _at_depth(entry: _Compiled, depth: int, prefixes: _Shared) -> _Compiled:
    """A category rule's compiled ``entry`` ranked as matched at ``depth``."""
    prefix = _deeper_prefix(entry[5], depth)
    prefix = prefixes.setdefault(prefix, prefix)
    return (*entry[:5], prefix, *entry[6:])


def _static_rank(entry: _Compiled) -> _Key:
    return entry[5], entry[3]


_prefix: Final[Callable[[_Compiled], tuple[object, ...]]] = operator.itemgetter(5)
_position: Final[Callable[[_Compiled], int]] = operator.itemgetter(4)


def _merged(groups: _Groups) -> _Plan:
    """The entries of ``groups`` (each in precedence order) in precedence order.

    Sorted by prefix alone, stably: two entries of different groups never have the
    same prefix (it holds the target kind and depth), and within a group, entries
    are in (prefix, rule id) order already."""
    if len(groups) == 1:
        return groups[0]
    return tuple(sorted(itertools.chain.from_iterable(groups), key=_prefix))


def _only(plan: _Plan, only_list: str) -> _Plan:
    """The entries of ``plan`` of the list ``only_list``."""
    return [entry for entry in plan if entry[0].id == only_list]


def _as_index(lists: Sequence[PriceList] | PriceIndex) -> PriceIndex:
    if isinstance(lists, PriceIndex):
        return lists
    if isinstance(lists, (str, bytes)) or not isinstance(lists, (list, tuple)):
        raise ValidationError("give a list of PriceList or a PriceIndex", path="lists")
    return PriceIndex(lists)


# --- formulas --------------------------------------------------------------------------


def _round_step(value: Decimal, step: RoundingStep) -> Decimal:
    if step.multiple is not None:
        # What _round_step_in_context does, with the context named (entering a
        # local context costs more than the arithmetic).
        ctx = CALCULATION_CONTEXT
        m = step.multiple
        return ctx.multiply(ctx.divide(value, m).quantize(_ONE, step.mode._value_, ctx), m)
    with decimal.localcontext(CALCULATION_CONTEXT):
        return _round_step_in_context(value, step)


def _round_step_in_context(value: Decimal, step: RoundingStep) -> Decimal:
    if step.multiple is not None:
        m = step.multiple
        return (value / m).quantize(Decimal(1), rounding=step.mode.value) * m
    ending = step.ending if step.ending is not None else Decimal(0)
    period = step.period
    periods = ((value - ending) / period).to_integral_value(rounding=ROUND_FLOOR)
    lower = periods * period + ending
    upper = lower if lower == value else lower + period
    if lower < 0 <= value:
        # No price below this one has the ending (0.40 -> -0.01): never round a price
        # into a negative (that the never-negative step would turn into free).
        return upper
    return lower if _towards_lower(step.mode, value - lower, upper - value, periods) else upper


def _towards_lower(mode: RoundingMode, below: Decimal, above: Decimal, periods: Decimal) -> bool:
    """Whether rounding to an ending goes to the candidate ``below`` the value (the
    other lies ``above`` it; ``periods`` counts the lower one's whole periods)."""
    if mode in (RoundingMode.DOWN, RoundingMode.FLOOR):
        return True
    if mode in (RoundingMode.UP, RoundingMode.CEILING):
        return False
    if below != above:
        return below < above
    if mode is RoundingMode.HALF_EVEN:
        return periods % 2 == 0
    return mode is RoundingMode.HALF_DOWN


class _BaseMissingError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _base_label(formula: Formula, owner: PriceList | _ListHead) -> str:
    if formula.base is BaseKind.LIST_PRICE:
        return "list price"
    if formula.base is BaseKind.COST:
        return "cost"
    return f"list {formula.base_list_id or owner.base_list_id}"


def _base(  # noqa: PLR0917 - per line: positional calls cost less
    formula: Formula,
    owner: PriceList,
    item: PriceItem,
    context: PriceContext,
    quantity: Decimal,
    tier_quantity: TierQuantity,
    index: PriceIndex,
    visiting: frozenset[str],
) -> Decimal:
    base = formula.base
    if base is BaseKind.LIST_PRICE:
        base_money = item.list_price
    elif base is BaseKind.COST:
        base_money = item.cost
    else:
        list_id = formula.base_list_id or owner.base_list_id
        if list_id is None or list_id not in index.lists:
            raise _BaseMissingError(f"base price list {list_id!r} is not available")
        if list_id in visiting:
            raise _BaseMissingError(
                f"price lists derive from each other in a cycle via {list_id!r}"
            )
        base_money = _resolve_in(
            context,
            item,
            quantity,
            tier_quantity,
            index,
            only_list=list_id,
            visiting=visiting | {owner.id},
        )
    if base_money is None:
        raise _BaseMissingError(f"the item has no {_base_label(formula, owner)}")
    if base_money.currency != owner.currency:
        raise _BaseMissingError(
            f"the {_base_label(formula, owner)} is in {base_money.currency}, "
            f"the list in {owner.currency}"
        )
    return base_money.amount


_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)
_calculate_multiply: Final = CALCULATION_CONTEXT.multiply
_calculate_add: Final = CALCULATION_CONTEXT.add
#: ``1 + percent / 100`` per percent (see :func:`_factor`).
_FACTORS: dict[Decimal, tuple[Decimal, Decimal]] = {}


def _factor(percent: Decimal) -> Decimal:
    """``1 + percent / 100`` in :data:`~b2bcore.money.CALCULATION_CONTEXT`,
    remembered per percent: formulas are many, their percents few. (A Decimal equal
    to a remembered one but with another exponent, 10.0 and 10, gets its own.)"""
    known = _FACTORS.get(percent)
    if known is not None and known[0].same_quantum(percent):
        return known[1]
    ctx = CALCULATION_CONTEXT
    factor = ctx.add(_ONE, ctx.divide(percent, _HUNDRED))
    if len(_FACTORS) >= 4096:
        _FACTORS.clear()
    _FACTORS[percent] = (percent, factor)
    return factor


def _apply(
    formula: Formula, base: Decimal, currency: str, steps: list[FormulaStep] | None
) -> Decimal:
    """Percent, rounding, surcharge and margin clamp; each step is recorded exactly
    in ``steps`` (None: just compute — the explanation recomputes them on demand).

    A margin bound is rounded to the currency's minor units *inwards* (a minimum
    up, a maximum down), so that rounding the unit price afterwards can never take
    it outside the margin.

    Every operation runs in :data:`~b2bcore.money.CALCULATION_CONTEXT`, never the
    thread's context.
    """
    ctx = CALCULATION_CONTEXT
    value = base
    if formula.percent:
        value = ctx.multiply(value, _factor(formula.percent))
        if steps is not None:
            steps.append(FormulaStep("percent", value, f"{formula.percent}"))
    if formula.rounding is not None:
        value = _round_step(value, formula.rounding)
        if steps is not None:
            r = formula.rounding
            how = f"to multiple {r.multiple}" if r.multiple is not None else f"to ending {r.ending}"
            steps.append(FormulaStep("rounding", value, how))
    if formula.surcharge is not None:
        value = ctx.add(value, formula.surcharge.amount)
        if steps is not None:
            steps.append(FormulaStep("surcharge", value, f"{formula.surcharge.amount:+}"))
    if formula.min_margin is not None or formula.max_margin is not None:
        value = _clamp(formula, base, value, minor_units(currency), steps)
    if value < 0:
        value = Decimal(0)
        if steps is not None:
            steps.append(FormulaStep("never negative", value))
    return value


def _clamp(
    formula: Formula,
    base: Decimal,
    value: Decimal,
    digits: int,
    steps: list[FormulaStep] | None,
) -> Decimal:
    """The margin clamp of :func:`_apply`."""
    ctx = CALCULATION_CONTEXT
    if formula.min_margin is not None:
        least = ctx.multiply(base, ctx.add(1, ctx.divide(formula.min_margin, 100)))
        least = _CEILING.round_decimal(least, digits)
        if value < least:
            value = least
            if steps is not None:
                steps.append(FormulaStep("min margin", value, f"{formula.min_margin}%"))
    if formula.max_margin is not None:
        most = ctx.multiply(base, ctx.add(1, ctx.divide(formula.max_margin, 100)))
        most = _FLOOR.round_decimal(most, digits)
        if value > most:
            value = most
            if steps is not None:
                steps.append(FormulaStep("max margin", value, f"{formula.max_margin}%"))
    return value


def _price_rule(  # noqa: PLR0917 - per line: positional calls cost less
    owner: PriceList,
    rule: PriceRule,
    item: PriceItem,
    context: PriceContext,
    quantity: Decimal,
    tier_quantity: Decimal,
    base_tier_quantity: TierQuantity,
    index: PriceIndex,
    visiting: frozenset[str],
) -> tuple[Decimal, PriceTier | None, Decimal | None]:
    """The exact unit price of ``rule``, the tier that gave it and the formula's base
    (None for a fixed price): what :func:`_steps` needs to show the computation.
    ``tier_quantity`` chooses the rule's tier, ``base_tier_quantity`` is what a base
    price list is priced with."""
    tier = rule.tier_for(tier_quantity) if rule.tiers else None
    if tier is None:
        price, formula = rule.price, rule.formula
    else:
        price, formula = tier.price, tier.formula
    if price is not None:
        return price.amount, tier, None
    assert formula is not None
    base = _base(formula, owner, item, context, quantity, base_tier_quantity, index, visiting)
    return _apply(formula, base, owner.currency, None), tier, base


def _steps(
    owner: _ListHead, rule: PriceRule, tier: PriceTier | None, base: Decimal | None
) -> tuple[FormulaStep, ...]:
    """The computation of a price found by :func:`_price_rule`, step by step."""
    # "tier from 50 -> ..." names the tier that applied before its computation.
    head = [] if tier is None else [FormulaStep("tier from", tier.min_quantity)]
    price = tier.price if tier is not None else rule.price
    if price is not None:
        return (*head, FormulaStep("fixed price", price.amount))
    formula = tier.formula if tier is not None else rule.formula
    assert formula is not None
    assert base is not None
    steps = [*head, FormulaStep(_base_label(formula, owner), base)]
    _apply(formula, base, owner.currency, steps)
    return tuple(steps)


# --- selection -------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _scope_text(scope: PriceScope) -> str:
    """``scope.describe()``, remembered: scopes are few, frozen, and described for
    every candidate of every line."""
    return scope.describe()


def _list_reason(pl: PriceList, context: PriceContext, *, scoped: bool) -> str | None:
    """Why no rule of ``pl`` applies to ``context`` (checked once per list and context).

    The scope is checked first: a list for someone else is rejected as such, whatever
    else is wrong with it, so that :meth:`PriceExplanation.for_buyer` can drop it.
    """
    if scoped and (mismatch := pl.scope.mismatch(context)) is not None:
        return f"list is {mismatch}"
    if pl.currency != context.currency:
        return f"list is in {pl.currency}"
    if not pl.active_at(context.at):
        return "list is not valid at this time"
    return None


_Key = tuple[tuple[object, ...], str]


def _flat(key: _Key) -> tuple[object, ...]:
    """The ranking key as the seven steps of :data:`_STEPS`."""
    return (*key[0], key[1])


def _lost_on(key: _Key, winner: _Key) -> str:
    for name, a, b in zip(_STEPS, _flat(key), _flat(winner), strict=True):
        if a != b:
            return name
    return "rule id"


#: An applicable candidate: (ranking key, exact unit price, list, rule, tier, base).
_Hit = tuple[_Key, Decimal, _ListHead, PriceRule, PriceTier | None, Decimal | None]
#: A rejected candidate: (list, rule, reason); ``_BELOW_MINIMUM`` is spelled out
#: only when the explanation is read. They are kept flat, three items a candidate
#: (see :func:`_misses`): fewer objects for the garbage collector to walk.
_Miss = tuple[_ListHead, PriceRule, str]
_Misses = list[_ListHead | PriceRule | str]


def _misses(flat: _Misses) -> list[_Miss]:
    """The rejected candidates of a flat list, as triples."""
    it = iter(flat)
    return list(zip(it, it, it, strict=True))  # type: ignore[arg-type]


_RULE_WINDOW: Final = "rule is not valid at this time"
_BELOW_MINIMUM: Final = "\0below minimum"


def _reason(rule: PriceRule, reason: str) -> str:
    return f"needs at least {rule.min_quantity}" if reason is _BELOW_MINIMUM else reason


def _deeper_prefix(prefix: tuple[object, ...], depth: int) -> tuple[object, ...]:
    """The ranking prefix of a category rule matched at ``depth``."""
    return (prefix[0], prefix[1], -depth, prefix[3], prefix[4], prefix[5])


def _rank(hit: _Hit) -> _Key:
    return hit[0]


def _lowest_rank(rounding: RoundingPolicy, currency: str) -> Callable[[_Hit], tuple[Decimal, _Key]]:
    """The LOWEST policy's ranking: the *final* unit price (rounded when the policy
    rounds unit prices, so that two rules that charge the same cent tie), then the
    MOST_SPECIFIC order."""
    if rounding.stage is not RoundingStage.UNIT:
        return lambda hit: (hit[1], hit[0])
    digits = minor_units(currency)
    round_decimal = rounding.round_decimal
    return lambda hit: (round_decimal(hit[1], digits), hit[0])


def _judge(
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    tier_quantity: TierQuantity,
    index: PriceIndex,
    *,
    only_list: str | None,
    visiting: frozenset[str],
) -> tuple[list[_Hit], _Misses]:
    """Every candidate for ``item``: the applicable ones, priced exactly, and the
    rejected ones with their reason (explanations are built from these on demand)."""
    applicable: list[_Hit] = []
    rejected: _Misses = []
    scoped = only_list is None
    judged = index._verdicts(context)
    verdicts = judged[0] if scoped else judged[1]
    spare = len(verdicts) - 1
    at = context.at
    per_rule = tier_quantity if callable(tier_quantity) else None
    tq = quantity if callable(tier_quantity) else tier_quantity
    for entry in index._entries(item, only_list):
        pl, head, rule, rule_id, position, prefix, flags, min_quantity, price = entry
        reason = verdicts[position]
        if reason is None:
            reason = _list_reason(pl, context, scoped=scoped) or ""
            if position != spare:
                verdicts[position] = reason
        if reason:
            rejected += (head, rule, reason)
            continue
        if flags & _WINDOWED and not rule.active_at(at):
            rejected += (head, rule, _RULE_WINDOW)
            continue
        if quantity < min_quantity:
            rejected += (head, rule, _BELOW_MINIMUM)
            continue
        key = (prefix, rule_id)
        if per_rule is not None:
            tq = per_rule(rule)
        if flags & _FIXED:
            applicable.append((key, price.amount, head, rule, None, None))
            continue
        try:
            value, tier, base = _price_rule(
                pl, rule, item, context, quantity, tq, tier_quantity, index, visiting
            )
        except _BaseMissingError as e:
            rejected += (head, rule, e.reason)
        else:
            applicable.append((key, value, head, rule, tier, base))
    return applicable, rejected


#: The MOST_SPECIFIC winner as :func:`_winner` finds it: (its compiled entry, its
#: exact unit price, its tier, its formula's base).
_Win = tuple[_Compiled, Decimal, PriceTier | None, Decimal | None]


def _winner(  # noqa: PLR0912 - the per-line path, spelled out
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    tier_quantity: TierQuantity,
    index: PriceIndex,
) -> _Win | None:
    """The MOST_SPECIFIC winner, without judging every candidate: the item's plan
    (see :meth:`PriceIndex._plan`) is in precedence order, so it is read up to its
    first entry that applies. Only the winner's formula is computed;
    :func:`_judge` does the full work when an explanation is read.

    A line reads as few objects as it can: with a million rules, each one it reads
    (and so each one whose reference count it touches) is a cache miss. The entries
    of lists known not to apply to the context are skipped without being read, and
    of the others only the fields that decide are read.
    """
    # index._verdicts(context) and index._plan(item) when the index has them
    # already, without the calls.
    known_verdicts = index._contexts.get(context)
    if known_verdicts is None:
        known_verdicts = index._verdicts(context)
    verdicts = known_verdicts[0]
    known = index._plans.get(item.sku)
    if (
        known is None
        or known[2] is None
        or not ((product_id := known[0]) is item.product_id or product_id == item.product_id)
        or not ((path := known[1]) is item.category_path or path == item.category_path)
    ):
        known = index._plan(item)
    plan, positions = known[2], known[3]
    if plan is None:
        return _first_sight(context, item, quantity, tier_quantity, index, known_verdicts)
    # Which entries to read: with the positions, not those of the lists known not
    # to apply (so a line does not touch their entries at all); else every one.
    table = known_verdicts[2]
    maybe = _MAYBE * len(plan) if positions is None else positions.translate(table)
    k = maybe.find(1)
    while k >= 0:
        entry = plan[k]
        position = entry[4]
        reason = verdicts[position]
        if reason is None:
            reason = _list_reason(entry[0], context, scoped=True) or ""
            if position != len(verdicts) - 1:  # not the spare position, see _compile
                verdicts[position] = reason
                if reason:
                    table[position] = 0
        flags = entry[6]
        if (
            not reason
            and not (flags & _WINDOWED and not entry[2].active_at(context.at))
            and quantity >= entry[7]
        ):
            if flags & _FIXED:
                return entry, entry[8].amount, None, None
            if flags & _PLAIN:
                win = _plain_win(entry, item)
                if win is not None:
                    return win
            else:
                win = _price_entry(entry, item, context, quantity, tier_quantity, index)
                if win is not None:
                    return win
        k = maybe.find(1, k + 1)
    return None


def _first_sight(  # noqa: PLR0917 - per line: positional calls cost less
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    tier_quantity: TierQuantity,
    index: PriceIndex,
    verdicts: _Verdicts,
) -> _Win | None:
    """:func:`_winner` of a SKU the index has no plan for (met once): each target's
    group is in precedence order, so a group is read up to its first entry that
    applies, or to the first that cannot beat the best found so far (no two groups
    share a prefix, see :func:`_merged`)."""
    judged, table = verdicts[0], verdicts[2]
    spare = len(judged) - 1
    best: _Win | None = None
    best_prefix: tuple[object, ...] = ()
    for group in index._groups(item):
        for entry in group:
            prefix = entry[5]
            if best is not None and not prefix < best_prefix:
                break
            position = entry[4]
            reason = judged[position]
            if reason is None:
                reason = _list_reason(entry[0], context, scoped=True) or ""
                if position != spare:
                    judged[position] = reason
                    if reason:
                        table[position] = 0
            if (
                reason
                or (entry[6] & _WINDOWED and not entry[2].active_at(context.at))
                or quantity < entry[7]
            ):
                continue
            win = _price_entry(entry, item, context, quantity, tier_quantity, index)
            if win is not None:
                best, best_prefix = win, prefix
                break
    return best


def _plain_win(entry: _Compiled, item: PriceItem) -> _Win | None:
    """What ``_price_rule`` does for a rule with a plain formula (list price or
    cost, percent, rounding step, surcharge), with the formula compiled; None when
    the item has no base price in the list's currency."""
    base = item.list_price if entry[6] & _ON_LIST_PRICE else item.cost
    if base is None or base.currency != entry[1].currency:
        return None
    amount = base.amount
    factor, step, surcharge = entry[8]
    value = amount if factor is None else _calculate_multiply(amount, factor)
    if step is not None:
        value = _round_step(value, step)
    if surcharge is not None:
        value = _calculate_add(value, surcharge)
    return entry, value if value >= 0 else _ZERO, None, amount


def _price_entry(  # noqa: PLR0917 - per line: positional calls cost less
    entry: _Compiled,
    item: PriceItem,
    context: PriceContext,
    quantity: Decimal,
    tier_quantity: TierQuantity,
    index: PriceIndex,
) -> _Win | None:
    """The exact unit price of an applicable entry as :func:`_winner` returns it,
    or None if its formula has no base (:func:`_judge` says why when asked)."""
    flags = entry[6]
    if flags & _FIXED:
        return entry, entry[8].amount, None, None
    if flags & _PLAIN:
        return _plain_win(entry, item)
    rule = entry[2]
    try:
        value, tier, base = _price_rule(
            entry[0],
            rule,
            item,
            context,
            quantity,
            tier_quantity(rule) if callable(tier_quantity) else tier_quantity,
            tier_quantity,
            index,
            _NOBODY,
        )
    except _BaseMissingError:
        return None
    return entry, value, tier, base


def _resolve_in(
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    tier_quantity: TierQuantity,
    index: PriceIndex,
    *,
    only_list: str,
    visiting: frozenset[str],
) -> Money:
    """The price of the base list ``only_list`` (its scope is not checked: the
    derived list names it, and the derived list's scope says who gets the price)."""
    applicable, rejected = _judge(
        context, item, quantity, tier_quantity, index, only_list=only_list, visiting=visiting
    )
    if not applicable:
        # Say why, so that a cycle or a missing base price deeper down stays visible.
        why = "; ".join(
            f"{pl.id}/{rule.id}: {_reason(rule, reason)}"
            for pl, rule, reason in sorted(_misses(rejected), key=lambda m: m[1].id)
        )
        raise _BaseMissingError(
            f"base price list {only_list!r} has no price for {item.sku}"
            + (f" ({why})" if why else "")
        )
    best = min(applicable, key=_rank)
    return Money(best[1], best[2].currency)


class _PendingExplanation(
    tuple[
        PriceItem,
        Decimal,
        PriceContext,
        PriceIndex,
        TierQuantity,
        PricePolicy,
        RoundingPolicy,
        tuple[list[_Hit], _Misses] | None,
    ]
):
    """What a :class:`PriceExplanation` is made of, kept until someone reads
    ``PriceQuote.explanation`` (most quotes are never explained): the line (item,
    quantity, context, index, tier quantity, policy, rounding) and the judged
    candidates if they were judged already — else they are judged on read, against
    the same index snapshot. A tuple: every quote makes one."""

    __slots__ = ()

    def build(self) -> PriceExplanation:
        item, quantity, context, index, tier_quantity, policy, rounding, judged = self
        if judged is None:
            judged = _judge(
                context, item, quantity, tier_quantity, index, only_list=None, visiting=frozenset()
            )
        applicable, rejected = judged
        currency = context.currency
        lowest = policy is PricePolicy.LOWEST
        final = _lowest_rank(rounding, currency)
        ordered = sorted(applicable, key=final if lowest else _rank)
        candidates: list[Candidate] = []
        if ordered:
            win_key, win_value, win_pl, win_rule, win_tier, win_base = ordered[0]
            candidates.append(
                Candidate(
                    price_list_id=win_pl.id,
                    rule_id=win_rule.id,
                    target=win_rule.target.describe(),
                    scope=_scope_text(win_pl.scope),
                    status="won",
                    reason="",
                    unit_price=Money(win_value, currency),
                    steps=_steps(win_pl, win_rule, win_tier, win_base),
                )
            )
            win_final = final(ordered[0])[0]
            for hit in ordered[1:]:
                key, value, pl, rule, tier, base = hit
                if lowest and (price := final(hit)[0]) != win_final:
                    reason = f"higher price ({price} > {win_final})"
                else:
                    reason = f"lost on {_lost_on(key, win_key)}"
                candidates.append(
                    Candidate(
                        price_list_id=pl.id,
                        rule_id=rule.id,
                        target=rule.target.describe(),
                        scope=_scope_text(pl.scope),
                        status="lost",
                        reason=reason,
                        unit_price=Money(value, currency),
                        steps=_steps(pl, rule, tier, base),
                    )
                )
        candidates.extend(
            Candidate(
                price_list_id=pl.id,
                rule_id=rule.id,
                target=rule.target.describe(),
                scope=_scope_text(pl.scope),
                status="rejected",
                reason=_reason(rule, reason),
            )
            for pl, rule, reason in sorted(_misses(rejected), key=lambda m: (m[0].id, m[1].id))
        )
        return PriceExplanation(
            sku=item.sku,
            quantity=quantity,
            company_id=context.company_id,
            currency=currency,
            policy=policy,
            candidates=tuple(candidates),
        )


# ``PriceQuote.explanation`` is an ordinary attrs field (init, evolve, pickle,
# serialization and equality all see it as before), but resolve_price stores a
# _PendingExplanation in its slot and the first read turns it into the explanation.
_QUOTE_SLOTS: Final = {a.name: PriceQuote.__dict__[a.name] for a in attrs.fields(PriceQuote)}
_EXPLANATION_SLOT: Final = _QUOTE_SLOTS["explanation"]


class _ExplanationField:
    __slots__ = ()

    def __get__(self, quote: PriceQuote | None, owner: type | None = None) -> object:
        if quote is None:
            return self
        value = _EXPLANATION_SLOT.__get__(quote, owner)
        if type(value) is _PendingExplanation:
            value = value.build()
            _EXPLANATION_SLOT.__set__(quote, value)
        return value

    def __set__(self, quote: PriceQuote, value: object) -> None:
        _EXPLANATION_SLOT.__set__(quote, value)

    def __delete__(self, quote: PriceQuote) -> None:
        _EXPLANATION_SLOT.__delete__(quote)


type.__setattr__(PriceQuote, "explanation", _ExplanationField())

# resolve_price builds its quotes slot by slot (attrs' __init__ for these plain
# fields does the same, with more ceremony).
_new_object: Final = object.__new__
_set_sku = _QUOTE_SLOTS["sku"].__set__
_set_quantity = _QUOTE_SLOTS["quantity"].__set__
_set_unit_price = _QUOTE_SLOTS["unit_price"].__set__
_set_line_total = _QUOTE_SLOTS["line_total"].__set__
_set_price_list_id = _QUOTE_SLOTS["price_list_id"].__set__
_set_rule_id = _QUOTE_SLOTS["rule_id"].__set__
_set_tier_min_quantity = _QUOTE_SLOTS["tier_min_quantity"].__set__
_set_context = _QUOTE_SLOTS["context"].__set__
_set_rounding = _QUOTE_SLOTS["rounding"].__set__
_set_policy = _QUOTE_SLOTS["policy"].__set__
_set_tier_quantity = _QUOTE_SLOTS["tier_quantity"].__set__
_set_explanation = _EXPLANATION_SLOT.__set__
# ... and its Money the same way (what b2bcore.money._money does, without the call).
_new_money: Final = object.__new__
_set_money_amount: Final = Money.__dict__["amount"].__set__
_set_money_currency: Final = Money.__dict__["currency"].__set__


def resolve_price(  # noqa: PLR0912, PLR0915 - the per-line path, spelled out
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal | int | str,
    *,
    lists: Sequence[PriceList] | PriceIndex,
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
    rounding: RoundingPolicy = DEFAULT_ROUNDING,
    tier_quantity: Decimal | int | Callable[[PriceRule], Decimal] | None = None,
    quantity_rule: QuantityRule | None = None,
) -> PriceQuote:
    """The price of ``quantity`` of ``item`` for ``context``.

    ``tier_quantity`` is the quantity that selects tiers (a cart passes the summed
    quantity of the SKU, product or category, per the rule's tier basis); it defaults
    to ``quantity``. It may also be a function of the candidate rule, so that each
    candidate's tier is chosen by the quantity of *its own* tier basis (this is what
    :func:`~b2bcore.pricing.cart.price_cart` passes; under ``PricePolicy.LOWEST`` the
    candidates are then compared at their true cart prices). Rounding: stage ``UNIT``
    rounds the unit price, then multiplies; ``LINE`` rounds the line total; ``TOTAL``
    leaves the line exact for the document to round. Raises
    :class:`~b2bcore.pricing.errors.NoPriceError` (with the explanation) when nothing
    applies, and :class:`~b2bcore.pricing.errors.QuantityRuleError` for a disallowed
    quantity.

    The quote's explanation is put together when it is first read.
    """
    if not isinstance(context, PriceContext):
        raise ValidationError("must be a PriceContext", path="context", value=context)
    if not isinstance(item, PriceItem):
        raise ValidationError("must be a PriceItem", path="item", value=item)
    if not isinstance(policy, PricePolicy):
        raise ValidationError("must be a PricePolicy", path="policy", value=policy)
    if not isinstance(rounding, RoundingPolicy):
        raise ValidationError("must be a RoundingPolicy", path="rounding", value=rounding)
    if quantity_rule is not None and getattr(quantity_rule, "sku", item.sku) != item.sku:
        raise ValidationError(
            f"the quantity rule is for {quantity_rule.sku}, not {item.sku}",
            path="quantity_rule",
            value=quantity_rule,
        )
    whole = type(quantity) is int  # then q has no decimals
    q: Decimal | None
    if type(quantity) is int and quantity_rule is None and 0 < quantity < _SMALL:
        q = _WHOLE[quantity]
    else:
        q = _fast_quantity(quantity) if quantity_rule is None else None
        if q is None:
            q = check_quantity(quantity_rule, quantity)
    tq = q if tier_quantity is None else _tier_quantity_argument(tier_quantity, q)
    index = lists if type(lists) is PriceIndex else _as_index(lists)
    currency = context.currency
    price: Money | None = None  # the winner's fixed price if it needs no rounding
    rule: PriceRule | None
    judged: tuple[list[_Hit], _Misses] | None = None
    if policy is PricePolicy.LOWEST:
        judged = _judge(context, item, q, tq, index, only_list=None, visiting=_NOBODY)
        hit = min(judged[0], key=_lowest_rank(rounding, currency), default=None)
        if hit is None:
            _no_price(_PendingExplanation((item, q, context, index, tq, policy, rounding, judged)))
        _key, value, head, rule, tier, _base_amount = hit
        rule_id = rule.id
    else:
        win = _winner(context, item, q, tq, index)
        if win is None:
            _no_price(_PendingExplanation((item, q, context, index, tq, policy, rounding, judged)))
        entry, value, tier, _base_amount = win
        # Not the rule itself unless needed: with a million rules, one cache miss less.
        head, rule_id, rule = entry[1], entry[3], None
        if whole and entry[6] & _IN_MINOR_UNITS:
            price = entry[8]
    if price is not None:
        # A fixed price in minor units, and a whole quantity: the unit price and
        # the line total are already rounded, at whatever stage and in whatever mode.
        unit = price
        try:
            total = _multiply(value, q)
        except decimal.Inexact:
            total = _exact("multiply", _multiply, value, q)  # raises ValidationError
        line = _new_money(Money)
        _set_money_amount(line, total)
        _set_money_currency(line, currency)
    elif rounding.stage is RoundingStage.UNIT:
        # _round_line for this stage, spelled out: round the unit price, multiply.
        quantum = _quantum(currency)
        mode = rounding.mode._value_
        value = value.quantize(quantum, mode, _ROUND_CONTEXT)
        try:
            total = _multiply(value, q)
        except decimal.Inexact:
            total = _exact("multiply", _multiply, value, q)  # raises ValidationError
        if not whole:  # else the product is rounded already
            total = total.quantize(quantum, mode, _ROUND_CONTEXT)
        unit = _new_money(Money)
        _set_money_amount(unit, value)
        _set_money_currency(unit, currency)
        line = _new_money(Money)
        _set_money_amount(line, total)
        _set_money_currency(line, currency)
    else:
        unit, line = _round_line(value, currency, q, rounding)
    quote: PriceQuote = _new_object(PriceQuote)
    _set_sku(quote, item.sku)
    _set_quantity(quote, q)
    _set_unit_price(quote, unit)
    _set_line_total(quote, line)
    _set_price_list_id(quote, head.id)
    _set_rule_id(quote, rule_id)
    _set_tier_min_quantity(quote, None if tier is None else tier.min_quantity)
    _set_context(quote, context)
    _set_rounding(quote, rounding)
    _set_policy(quote, policy)
    _set_tier_quantity(quote, tq if not callable(tq) else tq(entry[2] if rule is None else rule))
    _set_explanation(
        quote,
        _PendingExplanation((item, q, context, index, tq, policy, rounding, judged)),
    )
    return quote


def _no_price(pending: _PendingExplanation) -> NoReturn:
    """Raise NoPriceError for the line of ``pending``, with its explanation."""
    raise NoPriceError(pending[0].sku, pending.build())


#: The Decimals of small whole quantities, made once (a Decimal is immutable).
_SMALL: Final = 1024
_WHOLE: Final = tuple(Decimal(n) for n in range(_SMALL))


def _fast_quantity(quantity: object) -> Decimal | None:
    """What :func:`check_quantity` returns without a quantity rule, for the common
    cases (a positive int or finite Decimal); None: let it check."""
    if type(quantity) is int:
        if 0 < quantity < _SMALL:
            return _WHOLE[quantity]
        return Decimal(quantity) if quantity > 0 else None
    if type(quantity) is Decimal and quantity.is_finite() and quantity > 0:
        return quantity
    return None


def _tier_quantity_argument(
    tier_quantity: Decimal | int | Callable[[PriceRule], Decimal] | None, quantity: Decimal
) -> Decimal | Callable[[PriceRule], Decimal]:
    """``resolve_price``'s ``tier_quantity``, checked (a function: on each call)."""

    def checked(value: object) -> Decimal:
        tq = to_quantity(value, path="tier_quantity")
        if tq <= 0:
            raise ValidationError("tier_quantity must be positive", path="tier_quantity", value=tq)
        return tq

    if tier_quantity is None:
        return quantity
    if callable(tier_quantity):
        per_rule = tier_quantity
        return lambda rule: checked(per_rule(rule))
    return checked(tier_quantity)


def _round_line(
    amount: Decimal, currency: str, quantity: Decimal, rounding: RoundingPolicy
) -> tuple[Money, Money]:
    """Unit price and line total of an exact unit price ``amount``, rounded as
    ``rounding`` says (what ``rounding.round_decimal`` does, to the currency's minor
    units; spelled out here because every quote pays for it)."""
    stage = rounding.stage
    if stage is RoundingStage.TOTAL:
        return _money(amount, currency), _money(
            _exact("multiply", _multiply, amount, quantity), currency
        )
    quantum = _quantum(currency)
    mode = rounding.mode._value_
    # quantize's arguments are given by position: by keyword they cost twice as much.
    unit = amount.quantize(quantum, mode, _ROUND_CONTEXT) if stage is RoundingStage.UNIT else amount
    line = _exact("multiply", _multiply, unit, quantity)
    return _money(unit, currency), _money(line.quantize(quantum, mode, _ROUND_CONTEXT), currency)


@functools.cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


# --- write-time checks -----------------------------------------------------------------


def check_price_lists(lists: Iterable[PriceList]) -> None:
    """Reject a set of lists that would make selection ambiguous or loop.

    * two rules with the same scope, target, window and priority (in one list or in
      two lists of the same currency) → :class:`~b2bcore.pricing.errors.PriceRuleConflictError`
      naming both;
    * derived lists (``base_list_id``, ``price_list`` formulas) that form a cycle, or
      name a list that does not exist → ValidationError.
    """
    if isinstance(lists, (str, bytes)) or not isinstance(lists, Iterable):
        raise ValidationError("give an iterable of PriceList", path="lists", value=lists)
    all_lists = list(lists)
    for i, pl in enumerate(all_lists):
        if not isinstance(pl, PriceList):
            raise ValidationError("must be a PriceList", path=f"lists[{i}]", value=pl)
    by_id = {pl.id: pl for pl in all_lists}
    seen: dict[tuple[object, ...], tuple[str, str]] = {}
    for pl in sorted(all_lists, key=lambda p: p.id):
        for rule in pl.rules:
            # The window in which the rule really applies: its own ∩ its list's.
            start = max(pl.valid_from, rule.valid_from or pl.valid_from)
            ends = [e for e in (rule.valid_until, pl.valid_until) if e is not None]
            end = min(ends) if ends else None
            key = (pl.currency, pl.scope, rule.target, start, end, pl.priority)
            other = seen.get(key)
            if other is not None:
                raise PriceRuleConflictError(other, (pl.id, rule.id))
            seen[key] = (pl.id, rule.id)
    graph: dict[str, set[str]] = {pl.id: _derives_from(pl) for pl in all_lists}
    for source, targets in graph.items():
        for t in targets:
            if t not in by_id:
                raise ValidationError(
                    f"price list {source!r} derives from {t!r}, which does not exist",
                    path="base_list_id",
                    value=t,
                )
    for start_id in graph:
        path: list[str] = []
        _walk(start_id, graph, path, set())


def _derives_from(pl: PriceList) -> set[str]:
    out: set[str] = set()
    for rule in pl.rules:
        formulas = [rule.formula, *(t.formula for t in rule.tiers)]
        for f in formulas:
            if f is not None and f.base is BaseKind.PRICE_LIST:
                target = f.base_list_id or pl.base_list_id
                if target is not None:
                    out.add(target)
    if pl.base_list_id is not None:
        out.add(pl.base_list_id)
    return out


def _walk(node: str, graph: Mapping[str, set[str]], path: list[str], done: set[str]) -> None:
    if node in path:
        loop = [*path[path.index(node) :], node]
        raise ValidationError(
            "price lists derive from each other in a cycle: " + " -> ".join(loop),
            path="base_list_id",
            value=loop,
        )
    if node in done:
        return
    path.append(node)
    for nxt in sorted(graph.get(node, ())):
        _walk(nxt, graph, path, done)
    path.pop()
    done.add(node)
