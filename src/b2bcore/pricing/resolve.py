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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Final

import attrs

from b2bcore.errors import ConflictError, ValidationError
from b2bcore.money import (
    CALCULATION_CONTEXT,
    Money,
    RoundingMode,
    RoundingPolicy,
    RoundingStage,
    to_decimal,
)
from b2bcore.pricing.errors import NoPriceError, QuantityRuleError
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
    """A resolved price: unit price, line total and why. Pin it to keep a price."""

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
    ) -> PriceQuote | None:
        """Price the same line again (at ``at``, default the quote's own time) and
        return the new quote if anything changed, or None if the pinned quote still
        holds exactly."""
        context = self.context if at is None else attrs.evolve(self.context, at=at)
        fresh = resolve_price(
            context, item, self.quantity, lists=lists, policy=self.policy, rounding=self.rounding
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
    q = to_decimal(quantity, path="quantity")
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


class PriceIndex:
    """Price lists compiled for lookup: rules by target, so resolving a SKU looks at
    the rules for that SKU, its product, its categories and "all" — never the rest.

    Build it once per publication of price lists and reuse it for every line.
    """

    def __init__(self, lists: Iterable[PriceList]) -> None:
        self.lists: dict[str, PriceList] = {}
        self._by_target: dict[tuple[TargetKind, str | None], list[_Entry]] = {}
        if isinstance(lists, (str, bytes)) or not isinstance(lists, Iterable):
            raise ValidationError("give an iterable of PriceList", path="lists", value=lists)
        for pl in lists:
            if not isinstance(pl, PriceList):
                raise ValidationError("must be a PriceList", path="lists", value=pl)
            if pl.id in self.lists:
                raise ValidationError(f"price list {pl.id!r} is given twice", path="lists")
            self.lists[pl.id] = pl
            for rule in pl.rules:
                key = (rule.target.kind, rule.target.value)
                self._by_target.setdefault(key, []).append((pl, rule))

    def entries_for(self, item: PriceItem, *, only_list: str | None = None) -> list[_Entry]:
        """Every (list, rule) whose target matches ``item``."""
        keys: list[tuple[TargetKind, str | None]] = [(TargetKind.SKU, item.sku)]
        if item.product_id is not None:
            keys.append((TargetKind.PRODUCT, item.product_id))
        keys.extend((TargetKind.CATEGORY, c) for c in item.category_path)
        keys.append((TargetKind.ALL, None))
        found: list[_Entry] = []
        for key in keys:
            entries = self._by_target.get(key)
            if entries:
                if only_list is None:
                    found.extend(entries)
                else:
                    found.extend(e for e in entries if e[0].id == only_list)
        return found


def _as_index(lists: Sequence[PriceList] | PriceIndex) -> PriceIndex:
    if isinstance(lists, PriceIndex):
        return lists
    if isinstance(lists, (str, bytes)) or not isinstance(lists, (list, tuple)):
        raise ValidationError("give a list of PriceList or a PriceIndex", path="lists")
    return PriceIndex(lists)


# --- formulas --------------------------------------------------------------------------


def _round_step(value: Decimal, step: RoundingStep) -> Decimal:
    with decimal.localcontext(CALCULATION_CONTEXT):
        return _round_step_in_context(value, step)


def _round_step_in_context(value: Decimal, step: RoundingStep) -> Decimal:
    mode = step.mode.value
    if step.multiple is not None:
        m = step.multiple
        return (value / m).quantize(Decimal(1), rounding=mode) * m
    ending = step.ending if step.ending is not None else Decimal(0)
    lower = (value - ending).to_integral_value(rounding=ROUND_FLOOR) + ending
    upper = lower if lower == value else lower + 1
    if lower < 0 <= value:
        # No price below this one has the ending (0.40 -> -0.01): never round a price
        # into a negative (that the never-negative step would turn into free).
        return upper
    if step.mode in (RoundingMode.DOWN, RoundingMode.FLOOR):
        return lower
    if step.mode in (RoundingMode.UP, RoundingMode.CEILING):
        return upper
    below, above = value - lower, upper - value
    if below < above or (below == above and step.mode is RoundingMode.HALF_DOWN):
        return lower
    return upper


class _BaseMissingError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _base(
    formula: Formula,
    *,
    owner: PriceList,
    item: PriceItem,
    context: PriceContext,
    quantity: Decimal,
    index: PriceIndex,
    visiting: frozenset[str],
) -> tuple[Decimal, str]:
    if formula.base is BaseKind.LIST_PRICE:
        base_money, label = item.list_price, "list price"
    elif formula.base is BaseKind.COST:
        base_money, label = item.cost, "cost"
    else:
        list_id = formula.base_list_id or owner.base_list_id
        if list_id is None or list_id not in index.lists:
            raise _BaseMissingError(f"base price list {list_id!r} is not available")
        if list_id in visiting:
            raise _BaseMissingError(
                f"price lists derive from each other in a cycle via {list_id!r}"
            )
        base_money = _resolve_in(
            context, item, quantity, index, only_list=list_id, visiting=visiting | {owner.id}
        )
        label = f"list {list_id}"
    if base_money is None:
        raise _BaseMissingError(f"the item has no {label}")
    if base_money.currency != owner.currency:
        raise _BaseMissingError(
            f"the {label} is in {base_money.currency}, the list in {owner.currency}"
        )
    return base_money.amount, label


def _apply(formula: Formula, base: Decimal, label: str) -> tuple[Decimal, list[FormulaStep]]:
    """Percent, rounding, surcharge and margin clamp, each step recorded exactly."""
    steps = [FormulaStep(label, base)]
    value = base
    with decimal.localcontext(CALCULATION_CONTEXT):
        if formula.percent:
            value = value * (1 + formula.percent / 100)
            steps.append(FormulaStep("percent", value, f"{formula.percent}"))
        if formula.rounding is not None:
            value = _round_step_in_context(value, formula.rounding)
            r = formula.rounding
            how = f"to multiple {r.multiple}" if r.multiple is not None else f"to ending {r.ending}"
            steps.append(FormulaStep("rounding", value, how))
        if formula.surcharge is not None:
            value = value + formula.surcharge.amount
            steps.append(FormulaStep("surcharge", value, f"{formula.surcharge.amount:+}"))
        if formula.min_margin is not None and value < base * (1 + formula.min_margin / 100):
            value = base * (1 + formula.min_margin / 100)
            steps.append(FormulaStep("min margin", value, f"{formula.min_margin}%"))
        if formula.max_margin is not None and value > base * (1 + formula.max_margin / 100):
            value = base * (1 + formula.max_margin / 100)
            steps.append(FormulaStep("max margin", value, f"{formula.max_margin}%"))
    if value < 0:
        value = Decimal(0)
        steps.append(FormulaStep("never negative", value))
    return value, steps


def _evaluate(
    formula: Formula,
    *,
    owner: PriceList,
    item: PriceItem,
    context: PriceContext,
    quantity: Decimal,
    index: PriceIndex,
    visiting: frozenset[str],
) -> tuple[Decimal, list[FormulaStep]]:
    base, label = _base(
        formula,
        owner=owner,
        item=item,
        context=context,
        quantity=quantity,
        index=index,
        visiting=visiting,
    )
    return _apply(formula, base, label)


def _price_rule(
    owner: PriceList,
    rule: PriceRule,
    *,
    item: PriceItem,
    context: PriceContext,
    quantity: Decimal,
    tier_quantity: Decimal,
    index: PriceIndex,
    visiting: frozenset[str],
) -> tuple[Decimal, list[FormulaStep], PriceTier | None]:
    tier = rule.tier_for(tier_quantity)
    price = tier.price if tier is not None else rule.price
    formula = tier.formula if tier is not None else rule.formula
    # "tier from 50 -> ..." names the tier that applied before its computation.
    head = [] if tier is None else [FormulaStep("tier from", tier.min_quantity)]
    if price is not None:
        return price.amount, [*head, FormulaStep("fixed price", price.amount)], tier
    assert formula is not None
    value, steps = _evaluate(
        formula,
        owner=owner,
        item=item,
        context=context,
        quantity=quantity,
        index=index,
        visiting=visiting,
    )
    return value, [*head, *steps], tier


# --- selection -------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _scope_text(scope: PriceScope) -> str:
    """``scope.describe()``, remembered: scopes are few, frozen, and described for
    every candidate of every line."""
    return scope.describe()


def _list_reason(pl: PriceList, context: PriceContext, *, scoped: bool) -> str | None:
    """Why no rule of ``pl`` applies to ``context`` (checked once per list and call)."""
    if pl.currency != context.currency:
        return f"list is in {pl.currency}"
    if not pl.active_at(context.at):
        return "list is not valid at this time"
    if scoped and (mismatch := pl.scope.mismatch(context)) is not None:
        return f"list is {mismatch}"
    return None


def _key(pl: PriceList, rule: PriceRule, depth: int) -> tuple[object, ...]:
    start = max(pl.valid_from, rule.valid_from) if rule.valid_from else pl.valid_from
    return (
        -pl.scope.specificity,
        -_TARGET_RANK[rule.target.kind],
        -depth,
        -pl.priority,
        -start.timestamp(),
        pl.id,
        rule.id,
    )


def _lost_on(key: tuple[object, ...], winner: tuple[object, ...]) -> str:
    for name, a, b in zip(_STEPS, key, winner, strict=True):
        if a != b:
            return name
    return "rule id"


@attrs.frozen
class _Applicable:
    pl: PriceList
    rule: PriceRule
    key: tuple[object, ...]
    value: Decimal
    steps: tuple[FormulaStep, ...]
    tier: PriceTier | None


def _judge(
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    tier_quantity: Decimal | Callable[[PriceRule], Decimal],
    index: PriceIndex,
    *,
    only_list: str | None,
    visiting: frozenset[str],
) -> tuple[list[_Applicable], list[Candidate]]:
    applicable: list[_Applicable] = []
    rejected: list[Candidate] = []
    list_reasons: dict[int, str | None] = {}  # id(list) -> _list_reason, for this call
    for pl, rule in index.entries_for(item, only_list=only_list):
        depth = rule.target.match_depth(item)
        if depth is None:
            continue
        list_key = id(pl)
        if list_key not in list_reasons:
            list_reasons[list_key] = _list_reason(pl, context, scoped=only_list is None)
        reason = list_reasons[list_key]
        if reason is None:
            if not rule.active_at(context.at):
                reason = "rule is not valid at this time"
            elif quantity < rule.min_quantity:
                reason = f"needs at least {rule.min_quantity}"
        if reason is None:
            try:
                value, steps, tier = _price_rule(
                    pl,
                    rule,
                    item=item,
                    context=context,
                    quantity=quantity,
                    tier_quantity=(
                        tier_quantity(rule) if callable(tier_quantity) else tier_quantity
                    ),
                    index=index,
                    visiting=visiting,
                )
            except _BaseMissingError as e:
                reason = e.reason
            else:
                applicable.append(
                    _Applicable(pl, rule, _key(pl, rule, depth), value, tuple(steps), tier)
                )
                continue
        rejected.append(
            Candidate(
                price_list_id=pl.id,
                rule_id=rule.id,
                target=rule.target.describe(),
                scope=_scope_text(pl.scope),
                status="rejected",
                reason=reason,
            )
        )
    return applicable, rejected


def _choose(applicable: list[_Applicable], policy: PricePolicy) -> list[_Applicable]:
    """``applicable`` ordered winner first."""
    if policy is PricePolicy.LOWEST:
        return sorted(applicable, key=lambda a: (a.value, a.key))
    return sorted(applicable, key=lambda a: a.key)


def _resolve_in(
    context: PriceContext,
    item: PriceItem,
    quantity: Decimal,
    index: PriceIndex,
    *,
    only_list: str,
    visiting: frozenset[str],
) -> Money:
    applicable, rejected = _judge(
        context, item, quantity, quantity, index, only_list=only_list, visiting=visiting
    )
    if not applicable:
        # Say why, so that a cycle or a missing base price deeper down stays visible.
        why = "; ".join(
            f"{c.price_list_id}/{c.rule_id}: {c.reason}"
            for c in sorted(rejected, key=lambda c: c.rule_id)
        )
        raise _BaseMissingError(
            f"base price list {only_list!r} has no price for {item.sku}"
            + (f" ({why})" if why else "")
        )
    best = _choose(applicable, PricePolicy.MOST_SPECIFIC)[0]
    return Money(best.value, best.pl.currency)


def resolve_price(
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
    q = check_quantity(quantity_rule, quantity)
    tq = _tier_quantity_argument(tier_quantity, q)
    index = _as_index(lists)
    applicable, rejected = _judge(context, item, q, tq, index, only_list=None, visiting=frozenset())
    ordered = _choose(applicable, policy)
    candidates: list[Candidate] = []
    if ordered:
        win = ordered[0]
        unit_exact = Money(win.value, context.currency)
        candidates.append(
            Candidate(
                price_list_id=win.pl.id,
                rule_id=win.rule.id,
                target=win.rule.target.describe(),
                scope=_scope_text(win.pl.scope),
                status="won",
                reason="",
                unit_price=unit_exact,
                steps=win.steps,
            )
        )
        for other in ordered[1:]:
            if policy is PricePolicy.LOWEST and other.value != win.value:
                reason = f"higher price ({other.value} > {win.value})"
            else:
                reason = f"lost on {_lost_on(other.key, win.key)}"
            candidates.append(
                Candidate(
                    price_list_id=other.pl.id,
                    rule_id=other.rule.id,
                    target=other.rule.target.describe(),
                    scope=_scope_text(other.pl.scope),
                    status="lost",
                    reason=reason,
                    unit_price=Money(other.value, context.currency),
                    steps=other.steps,
                )
            )
    candidates.extend(sorted(rejected, key=lambda c: (c.price_list_id, c.rule_id)))
    explanation = PriceExplanation(
        sku=item.sku,
        quantity=q,
        company_id=context.company_id,
        currency=context.currency,
        policy=policy,
        candidates=tuple(candidates),
    )
    if not ordered:
        raise NoPriceError(item.sku, explanation)
    win = ordered[0]
    unit, line = _round_line(unit_exact, q, rounding)
    return PriceQuote(
        sku=item.sku,
        quantity=q,
        unit_price=unit,
        line_total=line,
        price_list_id=win.pl.id,
        rule_id=win.rule.id,
        tier_min_quantity=None if win.tier is None else win.tier.min_quantity,
        context=context,
        rounding=rounding,
        policy=policy,
        explanation=explanation,
    )


def _tier_quantity_argument(
    tier_quantity: Decimal | int | Callable[[PriceRule], Decimal] | None, quantity: Decimal
) -> Decimal | Callable[[PriceRule], Decimal]:
    """``resolve_price``'s ``tier_quantity``, checked (a function: on each call)."""

    def checked(value: object) -> Decimal:
        tq = to_decimal(value, path="tier_quantity")
        if tq <= 0:
            raise ValidationError("tier_quantity must be positive", path="tier_quantity", value=tq)
        return tq

    if tier_quantity is None:
        return quantity
    if callable(tier_quantity):
        per_rule = tier_quantity
        return lambda rule: checked(per_rule(rule))
    return checked(tier_quantity)


def _round_line(unit: Money, quantity: Decimal, rounding: RoundingPolicy) -> tuple[Money, Money]:
    if rounding.stage is RoundingStage.UNIT:
        rounded = rounding.round(unit)
        return rounded, rounding.round(rounded * quantity)
    if rounding.stage is RoundingStage.LINE:
        return unit, rounding.round(unit * quantity)
    return unit, unit * quantity


# --- write-time checks -----------------------------------------------------------------


def check_price_lists(lists: Iterable[PriceList]) -> None:
    """Reject a set of lists that would make selection ambiguous or loop.

    * two rules with the same scope, target, window and priority (in one list or in
      two lists of the same currency) → ConflictError naming both;
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
    seen: dict[tuple[object, ...], str] = {}
    for pl in sorted(all_lists, key=lambda p: p.id):
        for rule in pl.rules:
            # The window in which the rule really applies: its own ∩ its list's.
            start = max(pl.valid_from, rule.valid_from or pl.valid_from)
            ends = [e for e in (rule.valid_until, pl.valid_until) if e is not None]
            end = min(ends) if ends else None
            key = (pl.currency, pl.scope, rule.target, start, end, pl.priority)
            other = seen.get(key)
            if other is not None:
                raise ConflictError(
                    f"rules {other} and {pl.id}/{rule.id} have the same scope, target, "
                    "window and priority: the winner would be arbitrary; change one's "
                    "priority or window"
                )
            seen[key] = f"{pl.id}/{rule.id}"
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
