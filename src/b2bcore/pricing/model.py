"""Pricing model: price lists, rules, tiers, formulas, quantity rules, contexts.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from b2bcore.money import Money
>>> from b2bcore.pricing import Formula, PriceList, PriceRule, PriceScope, RuleTarget
>>> contract = PriceList(
...     id="acme-contract", name="ACME contract", currency="EUR",
...     scope=PriceScope(companies={"acme"}),
...     valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc),
...     rules=[PriceRule(id="pumps-10", target=RuleTarget.category("pumps"),
...                      formula=Formula(percent=Decimal("-10")))])
>>> contract.rules[0].target.describe()
'category pumps'
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from b2bcore._validate import (
    enum_member,
    identifier,
    optional_identifier,
    optional_utc_valid_from,
    optional_utc_valid_until,
    text,
    utc_valid_from,
    window_end_after_start,
)
from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    BusinessUnitId,
    CategoryId,
    CompanyId,
    PriceListId,
    ProductId,
    Sku,
    check_id,
)
from b2bcore.money import Money, RoundingMode, is_currency, to_decimal

__all__ = [
    "BaseKind",
    "Formula",
    "PriceContext",
    "PriceItem",
    "PriceList",
    "PriceListSaved",
    "PricePolicy",
    "PriceRule",
    "PriceScope",
    "PriceTier",
    "QuantityRule",
    "RoundingStep",
    "RuleTarget",
    "TargetKind",
    "TierBasis",
]


# --- small converters ------------------------------------------------------------------


def _ids(value: object, path: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a set of ids", path=path, value=value)
    out = set()
    for item in value:
        if not isinstance(item, str) or not item:
            raise ValidationError("ids must be non-empty strings", path=path, value=item)
        out.add(item)
    return frozenset(out)


def _opt_dec_multiple(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="multiple")


def _opt_dec_ending(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="ending")


def _dec_percent(value: object) -> Decimal:
    return to_decimal(value, path="percent")


def _opt_dec_min_margin(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="min_margin")


def _opt_dec_max_margin(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="max_margin")


def _dec_minimum(value: object) -> Decimal:
    return to_decimal(value, path="minimum")


def _opt_dec_maximum(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="maximum")


def _dec_increment(value: object) -> Decimal:
    return to_decimal(value, path="increment")


# --- scope and context -----------------------------------------------------------------


def _companies(value: object) -> frozenset[str]:
    return _ids(value, "scope.companies")


def _units(value: object) -> frozenset[str]:
    return _ids(value, "scope.business_units")


def _groups(value: object) -> frozenset[str]:
    return _ids(value, "scope.customer_groups")


def _channels(value: object) -> frozenset[str]:
    return _ids(value, "scope.channels")


def _countries(value: object) -> frozenset[str]:
    return _ids(value, "scope.countries")


@attrs.frozen
class PriceScope:
    """Which buyers a price list is for; an empty dimension means "any".

    Every non-empty dimension must match. The list's *buyer specificity* ranks
    scopes by their most specific non-empty dimension — company > business unit >
    customer group > channel > country > unscoped — and, between scopes whose most
    specific dimension is the same, by the next ones: a list for one company in one
    country is more specific than a list for that company alone.

    >>> PriceScope(companies={"acme"}).specificity
    16
    >>> PriceScope(companies={"acme"}, countries={"DE"}).specificity
    17
    >>> PriceScope(business_units={"plant-1"}, channels={"web"}).specificity
    10
    """

    companies: frozenset[CompanyId] = attrs.field(factory=frozenset, converter=_companies)
    business_units: frozenset[BusinessUnitId] = attrs.field(factory=frozenset, converter=_units)
    customer_groups: frozenset[str] = attrs.field(factory=frozenset, converter=_groups)
    channels: frozenset[str] = attrs.field(factory=frozenset, converter=_channels)
    countries: frozenset[str] = attrs.field(factory=frozenset, converter=_countries)

    @property
    def specificity(self) -> int:
        """One bit per non-empty dimension: company 16, business unit 8, customer
        group 4, channel 2, country 1 (0: unscoped). Compared as numbers, the most
        specific dimension decides first, then the next ones."""
        return (
            (16 if self.companies else 0)
            | (8 if self.business_units else 0)
            | (4 if self.customer_groups else 0)
            | (2 if self.channels else 0)
            | (1 if self.countries else 0)
        )

    def mismatch(self, context: PriceContext) -> str | None:
        """Why ``context`` is outside this scope, or None if it is inside."""
        if self.companies and context.company_id not in self.companies:
            return f"for companies {sorted(self.companies)}, not {context.company_id!r}"
        if self.business_units and not (self.business_units & context.business_unit_ids):
            return f"for business units {sorted(self.business_units)}"
        if self.customer_groups and not (self.customer_groups & context.customer_groups):
            return f"for customer groups {sorted(self.customer_groups)}"
        if self.channels and context.channel not in self.channels:
            return f"for channels {sorted(self.channels)}, not {context.channel!r}"
        if self.countries and context.country not in self.countries:
            return f"for countries {sorted(self.countries)}, not {context.country!r}"
        return None

    def describe(self) -> str:
        """``companies=['acme'] countries=['DE']`` or ``everyone``."""
        parts = [
            f"{name}={sorted(dim)}"
            for name, dim in (
                ("companies", self.companies),
                ("business_units", self.business_units),
                ("customer_groups", self.customer_groups),
                ("channels", self.channels),
                ("countries", self.countries),
            )
            if dim
        ]
        return " ".join(parts) or "everyone"


def _context_units(value: object) -> frozenset[str]:
    return _ids(value, "business_unit_ids")


def _context_groups(value: object) -> frozenset[str]:
    return _ids(value, "customer_groups")


def _currency(_inst: object, _attribute: object, value: str) -> None:
    if not is_currency(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency", path="currency", value=value
        )


def _at(value: datetime) -> datetime:
    return to_utc(value, path="at")


def _optional_name(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValidationError(
            "must be a non-empty string or None", path=attribute.name, value=value
        )


@attrs.frozen(cache_hash=True)  # a key of PriceIndex caches, hashed per line
class PriceContext:
    """Who buys, where, in which currency, when.

    ``business_unit_ids`` is the buyer's unit *and its ancestors*, so a list scoped to
    a parent unit applies to its children.
    """

    company_id: CompanyId = attrs.field(validator=identifier)
    currency: str = attrs.field(validator=_currency)
    at: datetime = attrs.field(converter=_at)
    business_unit_ids: frozenset[BusinessUnitId] = attrs.field(
        factory=frozenset, converter=_context_units
    )
    customer_groups: frozenset[str] = attrs.field(factory=frozenset, converter=_context_groups)
    channel: str | None = attrs.field(default=None, validator=_optional_name)
    country: str | None = attrs.field(default=None, validator=_optional_name)


# --- what is priced --------------------------------------------------------------------


def _interned(value: str | None) -> str | None:
    """One shared copy of an id string: a million rules name far fewer SKUs, and a
    lookup of an interned key by an interned id compares pointers, not text."""
    return sys.intern(value) if type(value) is str else value


def _interned_id(value: str) -> str:
    return sys.intern(value) if type(value) is str else value


def _category_path(value: object) -> tuple[CategoryId, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of category ids, root first", path="category_path")
    path = tuple(
        CategoryId(_interned_id(check_id(v, path=f"category_path[{i}]")))
        for i, v in enumerate(value)
    )
    if len(set(path)) != len(path):
        raise ValidationError("a category appears twice", path="category_path", value=value)
    return path


def _optional_money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError("must be Money or None", path=attribute.name, value=value)
    if isinstance(value, Money) and value.is_negative():
        raise ValidationError("must not be negative", path=attribute.name, value=value)


@attrs.frozen
class PriceItem:
    """What the pricing engine needs to know about a SKU (the catalog supplies it).

    ``category_path`` runs from the root category to the SKU's own category.
    """

    sku: Sku = attrs.field(converter=_interned_id, validator=identifier)
    product_id: ProductId | None = attrs.field(
        default=None, converter=_interned, validator=optional_identifier
    )
    category_path: tuple[CategoryId, ...] = attrs.field(factory=tuple, converter=_category_path)
    list_price: Money | None = attrs.field(default=None, validator=_optional_money)
    cost: Money | None = attrs.field(default=None, validator=_optional_money)


# --- targets, formulas, tiers, rules ---------------------------------------------------


class TargetKind(enum.Enum):
    """What a rule applies to, most specific first."""

    SKU = "sku"
    PRODUCT = "product"
    CATEGORY = "category"
    ALL = "all"


@attrs.frozen
class RuleTarget:
    """One SKU, one product (all its variants), one category (and below) or all."""

    kind: TargetKind = attrs.field(validator=enum_member(TargetKind))
    value: str | None = attrs.field(default=None, converter=_interned)

    def __attrs_post_init__(self) -> None:
        if self.kind is TargetKind.ALL:
            if self.value is not None:
                raise ValidationError("an 'all' target takes no value", path="target.value")
        elif not isinstance(self.value, str) or not self.value:
            raise ValidationError(
                f"a {self.kind.value} target needs a {self.kind.value} id", path="target.value"
            )

    @classmethod
    def sku(cls, sku: str) -> RuleTarget:
        """One SKU."""
        return cls(TargetKind.SKU, sku)

    @classmethod
    def product(cls, product_id: str) -> RuleTarget:
        """Every variant of one product."""
        return cls(TargetKind.PRODUCT, product_id)

    @classmethod
    def category(cls, category_id: str) -> RuleTarget:
        """A category and all its subcategories."""
        return cls(TargetKind.CATEGORY, category_id)

    @classmethod
    def all(cls) -> RuleTarget:
        """Everything."""
        return cls(TargetKind.ALL)

    def match_depth(self, item: PriceItem) -> int | None:
        """None if ``item`` is not targeted; else the specificity within the kind
        (for categories: 1 + depth of the category, deeper is more specific)."""
        if self.kind is TargetKind.SKU:
            return 0 if item.sku == self.value else None
        if self.kind is TargetKind.PRODUCT:
            return 0 if item.product_id is not None and item.product_id == self.value else None
        if self.kind is TargetKind.CATEGORY:
            try:
                return item.category_path.index(CategoryId(self.value or "")) + 1
            except ValueError:
                return None
        return 0

    def describe(self) -> str:
        """``sku P-100`` / ``category pumps`` / ``all``."""
        return "all" if self.kind is TargetKind.ALL else f"{self.kind.value} {self.value}"


class BaseKind(enum.Enum):
    """Where a formula starts."""

    LIST_PRICE = "list_price"
    PRICE_LIST = "price_list"
    COST = "cost"


_MAX_ENDING = Decimal(10) ** 12


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


@attrs.frozen
class RoundingStep:
    """Round to a multiple (``0.05``) or to an ending (``0.99``).

    ``mode`` picks the direction: the default ``HALF_UP`` goes to the nearest
    candidate (ending 0.99: 12.30 → 11.99, 12.60 → 12.99, a tie goes up);
    ``HALF_EVEN`` breaks a tie towards the candidate whose number of whole periods,
    ``(candidate - ending) / period``, is even (ending 0.99: 12.49 → 12.99, 11.49 →
    10.99); ``HALF_DOWN`` breaks it down; ``UP`` and ``CEILING`` go up
    (12.30 → 12.99), ``DOWN`` and ``FLOOR`` go down. An ending of 1 or more repeats
    every power of ten above it: ending 9.99 rounds 23.50 to 19.99 and 26.00 to 29.99.
    """

    multiple: Decimal | None = attrs.field(default=None, converter=_opt_dec_multiple)
    ending: Decimal | None = attrs.field(default=None, converter=_opt_dec_ending)
    mode: RoundingMode = attrs.field(
        default=RoundingMode.HALF_UP, validator=enum_member(RoundingMode)
    )

    def __attrs_post_init__(self) -> None:
        if (self.multiple is None) == (self.ending is None):
            raise ValidationError("give exactly one of multiple or ending", path="rounding")
        if self.multiple is not None and self.multiple <= 0:
            raise ValidationError("multiple must be positive", path="rounding.multiple")
        if self.ending is not None and not (
            0 <= self.ending < _MAX_ENDING and _exponent(self.ending.normalize()) >= -6
        ):
            raise ValidationError(
                "ending must be from 0 to below 10^12 with at most 6 decimals "
                "(0.99 for prices like 12.99, 9.99 for 19.99, 29.99, ...)",
                path="rounding.ending",
                value=self.ending,
            )

    @property
    def period(self) -> Decimal:
        """How far apart the prices with this ending lie: 1 for an ending below 1
        (0.99: 11.99, 12.99), else the power of ten above the ending (9.99: 9.99,
        19.99, 29.99; 95: 95, 195)."""
        if self.ending is None or self.ending < 1:
            return Decimal(1)
        return Decimal(10) ** (self.ending.adjusted() + 1)


def _optional_rounding(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, RoundingStep):
        raise ValidationError("must be a RoundingStep or None", path="rounding", value=value)


@attrs.frozen
class Formula:
    """base → percent (negative = discount) → rounding → surcharge → margin clamp.

    The margin clamp keeps the result within ``[base x (1 + min_margin/100),
    base x (1 + max_margin/100)]``.
    """

    base: BaseKind = attrs.field(default=BaseKind.LIST_PRICE, validator=enum_member(BaseKind))
    base_list_id: PriceListId | None = attrs.field(default=None, validator=optional_identifier)
    percent: Decimal = attrs.field(default=Decimal(0), converter=_dec_percent)
    rounding: RoundingStep | None = attrs.field(default=None, validator=_optional_rounding)
    surcharge: Money | None = None
    min_margin: Decimal | None = attrs.field(default=None, converter=_opt_dec_min_margin)
    max_margin: Decimal | None = attrs.field(default=None, converter=_opt_dec_max_margin)

    def __attrs_post_init__(self) -> None:
        if self.base is not BaseKind.PRICE_LIST and self.base_list_id is not None:
            raise ValidationError(
                "base_list_id only goes with base price_list", path="base_list_id"
            )
        if self.percent <= -100:
            raise ValidationError("a discount of 100% or more leaves no price", path="percent")
        if (
            self.min_margin is not None
            and self.max_margin is not None
            and self.min_margin > self.max_margin
        ):
            raise ValidationError("min_margin must not exceed max_margin", path="min_margin")
        if self.surcharge is not None and not isinstance(self.surcharge, Money):
            raise ValidationError("surcharge must be Money", path="surcharge")


def _price_or_formula(instance: Any) -> None:
    if (instance.price is None) == (instance.formula is None):
        raise ValidationError("give exactly one of price or formula", path="price")
    if instance.price is not None:
        if not isinstance(instance.price, Money):
            raise ValidationError("price must be Money", path="price", value=instance.price)
        if instance.price.is_negative():
            raise ValidationError("price must not be negative", path="price")
    if instance.formula is not None and not isinstance(instance.formula, Formula):
        raise ValidationError("formula must be a Formula", path="formula", value=instance.formula)


def _quantity(value: object) -> Decimal:
    q = to_decimal(value, path="min_quantity")
    if q <= 0:
        raise ValidationError("min_quantity must be positive", path="min_quantity", value=value)
    return q


@attrs.frozen
class PriceTier:
    """From ``min_quantity`` on, this fixed unit price or formula applies."""

    min_quantity: Decimal = attrs.field(converter=_quantity)
    price: Money | None = None
    formula: Formula | None = None

    def __attrs_post_init__(self) -> None:
        _price_or_formula(self)


class TierBasis(enum.Enum):
    """Which cart quantity selects the tier: this SKU's, its product's, its category's."""

    SKU = "sku"
    PRODUCT = "product"
    CATEGORY = "category"


def _tiers(value: object) -> tuple[PriceTier, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of PriceTier", path="tiers", value=value)
    tiers = tuple(value)
    for i, t in enumerate(tiers):
        if not isinstance(t, PriceTier):
            raise ValidationError("must be a PriceTier", path=f"tiers[{i}]", value=t)
        if i and t.min_quantity <= tiers[i - 1].min_quantity:
            raise ValidationError(
                "tiers must have strictly increasing min_quantity",
                path=f"tiers[{i}].min_quantity",
                value=t.min_quantity,
            )
    return tiers


def _target(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, RuleTarget):
        raise ValidationError(
            "must be a RuleTarget (RuleTarget.sku(...), .product(...), .category(...), .all())",
            path="target",
            value=value,
        )


def _min_qty(value: object) -> Decimal:
    return _quantity(value)


@attrs.frozen
class PriceRule:
    """A price for a target: a fixed unit price or a formula, optional tiers, its own
    optional validity window and a minimum quantity."""

    id: str = attrs.field(validator=identifier)
    target: RuleTarget = attrs.field(validator=_target)
    price: Money | None = None
    formula: Formula | None = None
    tiers: tuple[PriceTier, ...] = attrs.field(factory=tuple, converter=_tiers)
    tier_basis: TierBasis = attrs.field(default=TierBasis.SKU, validator=enum_member(TierBasis))
    valid_from: datetime | None = attrs.field(default=None, converter=optional_utc_valid_from)
    valid_until: datetime | None = attrs.field(
        default=None, converter=optional_utc_valid_until, validator=window_end_after_start
    )
    min_quantity: Decimal = attrs.field(default=Decimal(1), converter=_min_qty)

    def __attrs_post_init__(self) -> None:
        _price_or_formula(self)

    def active_at(self, at: datetime) -> bool:
        """Whether the rule's own window contains ``at``."""
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_until is None or at < self.valid_until
        )

    def tier_for(self, quantity: Decimal) -> PriceTier | None:
        """The tier with the highest min quantity ≤ ``quantity`` (None: base price)."""
        chosen = None
        for tier in self.tiers:
            if tier.min_quantity <= quantity:
                chosen = tier
            else:
                break
        return chosen


def _rules(value: object) -> tuple[PriceRule, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of PriceRule", path="rules", value=value)
    rules = tuple(value)
    seen: set[str] = set()
    for i, r in enumerate(rules):
        if not isinstance(r, PriceRule):
            raise ValidationError("must be a PriceRule", path=f"rules[{i}]", value=r)
        if r.id in seen:
            raise ValidationError(f"rule id {r.id!r} is used twice", path=f"rules[{i}].id")
        seen.add(r.id)
    return rules


def _scope(value: object) -> PriceScope:
    if value is None:
        return PriceScope()
    if not isinstance(value, PriceScope):
        raise ValidationError("must be a PriceScope", path="scope", value=value)
    return value


@attrs.define
class PriceList(Aggregate):
    """A currency's prices for a scope of buyers, valid in ``[valid_from, valid_until)``.

    ``base_list_id`` names the list that ``price_list``-based formulas derive from
    when they name none themselves.
    """

    id: PriceListId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    currency: str = attrs.field(validator=_currency)
    valid_from: datetime = attrs.field(converter=utc_valid_from)
    scope: PriceScope = attrs.field(factory=PriceScope, converter=_scope)
    valid_until: datetime | None = attrs.field(
        default=None, converter=optional_utc_valid_until, validator=window_end_after_start
    )
    priority: int = 0
    base_list_id: PriceListId | None = attrs.field(default=None, validator=optional_identifier)
    rules: tuple[PriceRule, ...] = attrs.field(factory=tuple, converter=_rules)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ValidationError("priority must be an int", path="priority", value=self.priority)
        if self.base_list_id == self.id:
            raise ValidationError("a list cannot derive from itself", path="base_list_id")
        for i, rule in enumerate(self.rules):
            for formula, where in _formulas(rule):
                if (
                    formula.base is BaseKind.PRICE_LIST
                    and formula.base_list_id is None
                    and self.base_list_id is None
                ):
                    raise ValidationError(
                        "a formula based on a price list needs base_list_id, on the formula "
                        "or on the list",
                        path=f"rules[{i}].{where}.base_list_id",
                    )
            for money, where in _money_fields(rule):
                if money.currency != self.currency:
                    raise ValidationError(
                        f"{where} is in {money.currency}, the list in {self.currency}",
                        path=f"rules[{i}].{where}",
                        value=money,
                    )

    def active_at(self, at: datetime) -> bool:
        """Whether the list's window contains ``at``."""
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)


def _formulas(rule: PriceRule) -> Iterable[tuple[Formula, str]]:
    if rule.formula is not None:
        yield rule.formula, "formula"
    for i, tier in enumerate(rule.tiers):
        if tier.formula is not None:
            yield tier.formula, f"tiers[{i}].formula"


def _money_fields(rule: PriceRule) -> Iterable[tuple[Money, str]]:
    if rule.price is not None:
        yield rule.price, "price"
    if rule.formula is not None and rule.formula.surcharge is not None:
        yield rule.formula.surcharge, "formula.surcharge"
    for i, tier in enumerate(rule.tiers):
        if tier.price is not None:
            yield tier.price, f"tiers[{i}].price"
        if tier.formula is not None and tier.formula.surcharge is not None:
            yield tier.formula.surcharge, f"tiers[{i}].formula.surcharge"


class PricePolicy(enum.Enum):
    """How the winner is chosen among applicable rules."""

    MOST_SPECIFIC = "most_specific"
    LOWEST = "lowest"


@attrs.frozen
class QuantityRule:
    """Orderable quantities of a SKU: at least ``minimum``, at most ``maximum``, in
    steps of ``increment`` counted from ``minimum``."""

    sku: Sku = attrs.field(validator=identifier)
    minimum: Decimal = attrs.field(default=Decimal(1), converter=_dec_minimum)
    maximum: Decimal | None = attrs.field(default=None, converter=_opt_dec_maximum)
    increment: Decimal = attrs.field(default=Decimal(1), converter=_dec_increment)

    def __attrs_post_init__(self) -> None:
        if self.minimum <= 0:
            raise ValidationError("minimum must be positive", path="minimum", value=self.minimum)
        if self.increment <= 0:
            raise ValidationError("increment must be positive", path="increment")
        if self.maximum is not None and self.maximum < self.minimum:
            raise ValidationError("maximum must be at least minimum", path="maximum")


@register_event
@attrs.frozen(kw_only=True)
class PriceListSaved(DomainEvent):
    """A price list was created or changed (published)."""

    event_type = "pricing.price_list_saved"
    price_list_id: PriceListId
    rule_count: int
