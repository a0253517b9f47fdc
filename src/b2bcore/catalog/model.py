"""Catalog model: categories, products and variants, assortments, relations, stock.

>>> from decimal import Decimal
>>> from b2bcore.catalog import Assortment, Category, Product, Selection
>>> from b2bcore.money import Money
>>> spares = Category(id="spares", name="Spare parts")
>>> seal = Product(sku="SEAL-7", name="Shaft seal", category_id="spares",
...                attributes={"fits_model": "PX-200", "diameter_mm": Decimal("42.5")},
...                list_price=Money("18.40", "EUR"))
>>> seal.product_id, seal.active
('SEAL-7', True)
>>> acme = Assortment(company_id="acme", include=Selection(categories={"spares"}),
...                   exclude=Selection(skus={"SEAL-7"}))
>>> acme.refusal(seal, category_path=["spares"])
'excluded by sku SEAL-7 (company assortment of acme)'

Catalog data is the seller's and platform-wide (categories, products, relations,
relation rules, stock levels); assortments and reservations belong to one buyer
company each.
"""

from __future__ import annotations

import decimal
import enum
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from b2bcore._validate import bounded_quantity, identifier, text
from b2bcore.catalog.errors import InsufficientStockError
from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    BusinessUnitId,
    CategoryId,
    CompanyId,
    LocationId,
    ProductId,
    RelationRuleId,
    ReservationId,
    Sku,
    check_id,
)
from b2bcore.money import Money
from b2bcore.pricing.model import QuantityRule
from b2bcore.serialization import converter

__all__ = [
    "Assortment",
    "AssortmentRemoved",
    "AssortmentSaved",
    "AttributeMatch",
    "AttributeValue",
    "COMPANY_ASSORTMENT",
    "Category",
    "CategorySaved",
    "Incoming",
    "Lifecycle",
    "MAX_QUANTITY",
    "Product",
    "ProductRelation",
    "ProductRelationRemoved",
    "ProductRelationSaved",
    "ProductSaved",
    "RelationRule",
    "RelationRuleSaved",
    "RelationType",
    "Reservation",
    "ReservationStatus",
    "Selection",
    "StockLevel",
    "StockLevelSet",
    "StockReleased",
    "StockReserved",
    "attribute_key",
]

E = TypeVar("E", bound=enum.Enum)

#: What an attribute value may be: text, an exact decimal, a whole number or a flag.
AttributeValue = str | Decimal | int | bool

#: Storage key of a company-wide assortment (a business unit id never starts with "@").
COMPANY_ASSORTMENT: Final = "@company"

#: The largest quantity (stock, reservation, incoming) the catalog accepts.
MAX_QUANTITY: Final = Decimal(10) ** 12

#: Quantities have at most this many decimals (so sums stay exact).
_QUANTITY_PLACES: Final = 6
_ATTRIBUTE_NAME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}\Z")
_MAX_ATTRIBUTES: Final = 100
_MAX_ATTRIBUTE_TEXT: Final = 500

#: Exact arithmetic for stock quantities: never the global decimal context.
_EXACT: Final = decimal.Context(
    prec=60,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.Inexact],
)


# --- small converters and validators ---------------------------------------------------


def _quantity(value: object, *, path: str, positive: bool) -> Decimal:
    return bounded_quantity(
        value, path=path, positive=positive, below=MAX_QUANTITY, places=_QUANTITY_PLACES
    )


def _add(a: Decimal, b: Decimal) -> Decimal:
    """``a + b`` exactly (quantities are bounded, so this never rounds)."""
    return _EXACT.add(a, b)


def _subtract(a: Decimal, b: Decimal) -> Decimal:
    """``a - b`` exactly."""
    return _EXACT.subtract(a, b)


def _member(kind: type[E], value: object, path: str) -> E:
    """An enum member from itself or its value (``"discontinued"``)."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in kind)
        raise ValidationError(
            f"must be a {kind.__name__} (one of {choices})", path=path, value=value
        ) from None


def _not_own(kind: str, own: str, value: object, path: str) -> None:
    if value is not None and value == own:
        raise ValidationError(f"{kind} {own!r} cannot refer to itself", path=path, value=value)


def _optional_money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise ValidationError("must be Money or None", path=attribute.name, value=value)
    if value.is_negative():
        raise ValidationError("must not be negative", path=attribute.name, value=value)


def _rank(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise ValidationError(
            "must be a whole number from 0 to 1000000 (lower ranks come first)",
            path=attribute.name,
            value=value,
        )


def _flag(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError("must be True or False", path=attribute.name, value=value)


def _note(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or len(value) > _MAX_ATTRIBUTE_TEXT:
        raise ValidationError(
            f"must be a string of at most {_MAX_ATTRIBUTE_TEXT} characters",
            path=attribute.name,
            value=value,
        )


# --- typed ids from plain strings ------------------------------------------------------
# Constructors take plain ``str`` ids (as they come from an ERP or a form) and keep
# them typed; a bad id is a ValidationError naming the field.


def _sku(value: str) -> Sku:
    return Sku(check_id(value, path="sku"))


def _parent_sku(value: str | None) -> Sku | None:
    return None if value is None else Sku(check_id(value, path="parent_sku"))


def _successor_sku(value: str | None) -> Sku | None:
    return None if value is None else Sku(check_id(value, path="successor_sku"))


def _source_sku(value: str) -> Sku:
    return Sku(check_id(value, path="source_sku"))


def _target_sku(value: str) -> Sku:
    return Sku(check_id(value, path="target_sku"))


def _category_key(value: str) -> CategoryId:
    return CategoryId(check_id(value, path="id"))


def _parent_category(value: str | None) -> CategoryId | None:
    return None if value is None else CategoryId(check_id(value, path="parent_id"))


def _category(value: str | None) -> CategoryId | None:
    return None if value is None else CategoryId(check_id(value, path="category_id"))


def _target_category(value: str) -> CategoryId:
    return CategoryId(check_id(value, path="target_category"))


def _source_category(value: str | None) -> CategoryId | None:
    return None if value is None else CategoryId(check_id(value, path="source_category"))


def _company(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _unit(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _rule_id(value: str) -> RelationRuleId:
    return RelationRuleId(check_id(value, path="id"))


def _location(value: str) -> LocationId:
    return LocationId(check_id(value, path="location"))


def _reservation_id(value: str) -> ReservationId:
    return ReservationId(check_id(value, path="id"))


# --- attributes ------------------------------------------------------------------------


def _attribute_value(value: object, path: str) -> AttributeValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 10**18:
            raise ValidationError("whole numbers must be below 10**18", path=path, value=value)
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError("must be a finite number", path=path, value=value)
        return value
    if isinstance(value, str):
        if len(value) > _MAX_ATTRIBUTE_TEXT:
            raise ValidationError(
                f"text values are at most {_MAX_ATTRIBUTE_TEXT} characters", path=path, value=value
            )
        return value
    kind = type(value).__name__
    hint = " (floats are never accepted: use Decimal)" if isinstance(value, float) else ""
    raise ValidationError(
        f"an attribute value is a str, Decimal, int or bool, not {kind}{hint}",
        path=path,
        value=value,
    )


def _attributes(value: object) -> dict[str, AttributeValue]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            "must be a mapping of attribute names to values", path="attributes", value=value
        )
    if len(value) > _MAX_ATTRIBUTES:
        raise ValidationError(
            f"at most {_MAX_ATTRIBUTES} attributes", path="attributes", value=len(value)
        )
    out: dict[str, AttributeValue] = {}
    for name in sorted(value, key=str):
        if not isinstance(name, str) or not _ATTRIBUTE_NAME_RE.match(name):
            raise ValidationError(
                f"{name!r} is not an attribute name (a letter, then up to 63 letters, digits "
                "and _ . -)",
                path="attributes",
                value=name,
            )
        out[name] = _attribute_value(value[name], f"attributes.{name}")
    return out


def attribute_key(value: AttributeValue) -> tuple[str, object]:
    """A comparison key that keeps kinds apart (``True`` never equals ``1``) and
    compares numbers by value (``Decimal('2.0')`` equals ``2``)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, Decimal)):
        return ("number", Decimal(value).normalize(_EXACT) if value else Decimal(0))
    return ("text", value)


def _unstructure_attribute(value: AttributeValue) -> object:
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def _structure_attribute(value: object, _: object) -> AttributeValue:
    if isinstance(value, dict):
        if set(value) != {"decimal"} or not isinstance(value["decimal"], str):
            raise ValueError('a decimal attribute is stored as {"decimal": "<digits>"}')
        try:
            number = Decimal(value["decimal"])
        except decimal.InvalidOperation:
            raise ValueError(f"{value['decimal']!r} is not a decimal number") from None
        return _attribute_value(number, "")
    if isinstance(value, float):
        raise TypeError("floats are not accepted for attributes (use a decimal)")
    return _attribute_value(value, "")


def _is_attribute_value(t: object) -> bool:
    return t == AttributeValue


converter.register_unstructure_hook_func(_is_attribute_value, _unstructure_attribute)
converter.register_structure_hook_func(_is_attribute_value, _structure_attribute)


# --- categories ------------------------------------------------------------------------


@attrs.define
class Category(Aggregate):
    """A node of the category tree (``parent_id`` None = a root).

    A category is never its own parent; longer cycles are refused when a category is
    saved (:func:`b2bcore.catalog.rules.check_category_tree`).
    """

    id: CategoryId = attrs.field(converter=_category_key)
    name: str = attrs.field(validator=text())
    parent_id: CategoryId | None = attrs.field(default=None, converter=_parent_category)

    @parent_id.validator
    def _not_own_parent(self, _attribute: attrs.Attribute[Any], value: object) -> None:
        _not_own("category", self.id, value, "parent_id")


# --- products --------------------------------------------------------------------------


class Lifecycle(enum.Enum):
    """Whether a product can still be ordered."""

    ACTIVE = "active"
    DISCONTINUED = "discontinued"


def _lifecycle(value: object) -> Lifecycle:
    return _member(Lifecycle, value, "lifecycle")


def _optional_quantity_rule(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, QuantityRule):
        raise ValidationError("must be a QuantityRule or None", path="quantity_rule", value=value)


@attrs.define
class Product(Aggregate):
    """A sellable article, identified by its SKU.

    A *variant* names its parent product in ``parent_sku``; its
    :attr:`product_id` is the parent's SKU, so a price rule or an assortment entry
    for the product covers the parent and every variant. Variants are one level
    deep (a parent is never itself a variant; checked when saved).

    A ``DISCONTINUED`` product may name its ``successor_sku``; successor chains are
    followed to the first orderable product and never loop (checked when saved).
    ``attributes`` maps names to text, exact decimals, whole numbers or flags.
    """

    sku: Sku = attrs.field(converter=_sku)
    name: str = attrs.field(validator=text())
    category_id: CategoryId | None = attrs.field(default=None, converter=_category)
    attributes: dict[str, AttributeValue] = attrs.field(factory=dict, converter=_attributes)
    parent_sku: Sku | None = attrs.field(default=None, converter=_parent_sku)
    lifecycle: Lifecycle = attrs.field(default=Lifecycle.ACTIVE, converter=_lifecycle)
    successor_sku: Sku | None = attrs.field(default=None, converter=_successor_sku)
    list_price: Money | None = attrs.field(default=None, validator=_optional_money)
    cost: Money | None = attrs.field(default=None, validator=_optional_money)
    quantity_rule: QuantityRule | None = attrs.field(
        default=None, validator=_optional_quantity_rule
    )

    def __attrs_post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Check the rules across fields (run on creation and before every save)."""
        _not_own("product", self.sku, self.parent_sku, "parent_sku")
        _not_own("product", self.sku, self.successor_sku, "successor_sku")
        if self.successor_sku is not None and self.lifecycle is not Lifecycle.DISCONTINUED:
            raise ValidationError(
                "only a discontinued product has a successor", path="successor_sku"
            )
        if (
            self.list_price is not None
            and self.cost is not None
            and self.list_price.currency != self.cost.currency
        ):
            raise ValidationError(
                f"list price is in {self.list_price.currency}, cost in {self.cost.currency}",
                path="cost",
                value=self.cost,
            )
        if self.quantity_rule is not None and self.quantity_rule.sku != self.sku:
            raise ValidationError(
                f"the quantity rule is for {self.quantity_rule.sku}, not {self.sku}",
                path="quantity_rule",
                value=self.quantity_rule,
            )

    @property
    def id(self) -> Sku:
        """The SKU (products are identified by it)."""
        return self.sku

    @property
    def product_id(self) -> ProductId:
        """The product this SKU belongs to: the parent's SKU for a variant, else its own."""
        return ProductId(self.parent_sku if self.parent_sku is not None else self.sku)

    @property
    def active(self) -> bool:
        """Whether the product is still sold."""
        return self.lifecycle is Lifecycle.ACTIVE

    def discontinue(self, *, successor_sku: str | None = None) -> None:
        """Stop selling the product, optionally naming the SKU that replaces it."""
        successor = (
            None if successor_sku is None else Sku(check_id(successor_sku, path="successor_sku"))
        )
        _not_own("product", self.sku, successor, "successor_sku")
        self.lifecycle = Lifecycle.DISCONTINUED
        self.successor_sku = successor

    def reactivate(self) -> None:
        """Sell the product again (it loses its successor)."""
        self.successor_sku = None
        self.lifecycle = Lifecycle.ACTIVE


# --- assortments -----------------------------------------------------------------------


def _id_set(value: object, path: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a set of ids", path=path, value=value)
    return frozenset(check_id(v, path=path) for v in value)


def _skus(value: object) -> frozenset[str]:
    return _id_set(value, "skus")


def _products(value: object) -> frozenset[str]:
    return _id_set(value, "products")


def _categories(value: object) -> frozenset[str]:
    return _id_set(value, "categories")


@attrs.frozen
class Selection:
    """A set of products named by SKU, by product (a parent and all its variants) or by
    category (the category and every category below it)."""

    skus: frozenset[Sku] = attrs.field(factory=frozenset, converter=_skus)
    products: frozenset[ProductId] = attrs.field(factory=frozenset, converter=_products)
    categories: frozenset[CategoryId] = attrs.field(factory=frozenset, converter=_categories)

    @property
    def empty(self) -> bool:
        """Whether nothing is named."""
        return not (self.skus or self.products or self.categories)

    def match(self, product: Product, *, category_path: Sequence[str] = ()) -> str | None:
        """How ``product`` is named here (``"sku X"``, ``"product P"``,
        ``"category C"``), or None. ``category_path`` is the product's category and its
        ancestors (any order)."""
        if product.sku in self.skus:
            return f"sku {product.sku}"
        if product.product_id in self.products:
            return f"product {product.product_id}"
        for category in category_path:
            if category in self.categories:
                return f"category {category}"
        return None


def _selection(value: object) -> Selection:
    if value is None:
        return Selection()
    if not isinstance(value, Selection):
        raise ValidationError("must be a Selection", path="selection", value=value)
    return value


@attrs.define
class Assortment(Aggregate):
    """What one buyer company (or one of its business units) may see and order.

    A product is *admitted* when the include selection names it (an empty include
    names everything) and the exclude selection does not: **exclude wins**. No
    assortment at all means everything. A business unit's assortment only narrows:
    a buyer in unit U sees what the company's assortment admits *and* what the
    assortments of U and of each unit above U admit (see
    :func:`b2bcore.catalog.rules.assortment_refusal`).
    """

    company_id: CompanyId = attrs.field(converter=_company)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_unit)
    include: Selection = attrs.field(factory=Selection, converter=_selection)
    exclude: Selection = attrs.field(factory=Selection, converter=_selection)

    @property
    def key(self) -> str:
        """Storage key: the business unit id, or :data:`COMPANY_ASSORTMENT`."""
        return COMPANY_ASSORTMENT if self.business_unit_id is None else self.business_unit_id

    def describe(self) -> str:
        """``company assortment of acme`` / ``assortment of unit plant (acme)``."""
        if self.business_unit_id is None:
            return f"company assortment of {self.company_id}"
        return f"assortment of unit {self.business_unit_id} ({self.company_id})"

    def refusal(self, product: Product, *, category_path: Sequence[str] = ()) -> str | None:
        """Why this assortment keeps ``product`` out, or None when it admits it."""
        excluded = self.exclude.match(product, category_path=category_path)
        if excluded is not None:
            return f"excluded by {excluded} ({self.describe()})"
        if (
            not self.include.empty
            and self.include.match(product, category_path=category_path) is None
        ):
            return f"not included ({self.describe()})"
        return None


# --- relations -------------------------------------------------------------------------


class RelationType(enum.Enum):
    """How a related product relates to the one it is shown with."""

    ACCESSORY = "accessory"
    SPARE_PART = "spare_part"
    CROSS_SELL = "cross_sell"
    UP_SELL = "up_sell"
    ALTERNATIVE = "alternative"
    REPLACEMENT = "replacement"

    @property
    def label(self) -> str:
        """``spare part``, ``cross-sell`` ..."""
        return {
            "spare_part": "spare part",
            "cross_sell": "cross-sell",
            "up_sell": "up-sell",
        }.get(self.value, self.value)


def _relation_type(value: object) -> RelationType:
    return _member(RelationType, value, "type")


#: Separates the parts of a relation's storage key; ids never contain it.
_KEY_SEP: Final = "#"


@attrs.define
class ProductRelation(Aggregate):
    """An explicit relation: ``target_sku`` is a ``type`` of ``source_sku`` (a spare
    part of it, an accessory for it …), ranked (lower ``rank`` first).

    ``bidirectional`` makes it hold both ways (an alternative usually does). A
    replacement is always directed, and replacement links never loop (checked when
    saved, together with the products' successors).
    """

    source_sku: Sku = attrs.field(converter=_source_sku)
    target_sku: Sku = attrs.field(converter=_target_sku)
    type: RelationType = attrs.field(converter=_relation_type)
    rank: int = attrs.field(default=100, validator=_rank)
    bidirectional: bool = attrs.field(default=False, validator=_flag)
    note: str = attrs.field(default="", validator=_note)

    def __attrs_post_init__(self) -> None:
        if self.source_sku == self.target_sku:
            raise ValidationError(
                f"a product cannot be related to itself ({self.source_sku})",
                path="target_sku",
                value=self.target_sku,
            )
        if self.type is RelationType.REPLACEMENT and self.bidirectional:
            raise ValidationError(
                "a replacement is directed: it cannot be bidirectional", path="bidirectional"
            )

    @property
    def key(self) -> str:
        """Storage key ``source#type#target``: one relation of a type per pair."""
        return _KEY_SEP.join((self.source_sku, self.type.value, self.target_sku))

    def other(self, sku: str) -> Sku | None:
        """The SKU related to ``sku`` through this relation (None if it does not hold
        from ``sku``)."""
        if sku == self.source_sku:
            return self.target_sku
        if self.bidirectional and sku == self.target_sku:
            return self.source_sku
        return None


def _attribute_name(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _ATTRIBUTE_NAME_RE.match(value):
        raise ValidationError("must be an attribute name", path=attribute.name, value=value)


@attrs.frozen
class AttributeMatch:
    """A candidate matches when its ``target`` attribute equals the source product's
    ``source`` attribute (both present)."""

    source: str = attrs.field(validator=_attribute_name)
    target: str = attrs.field(validator=_attribute_name)


def _matches(value: object) -> tuple[AttributeMatch, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of AttributeMatch", path="match", value=value)
    for i, m in enumerate(value):
        if not isinstance(m, AttributeMatch):
            raise ValidationError("must be an AttributeMatch", path=f"match[{i}]", value=m)
    return tuple(value)


def _rule_type(value: object) -> RelationType:
    kind = _relation_type(value)
    if kind is RelationType.REPLACEMENT:
        raise ValidationError(
            "replacements are explicit (a product's successor or a replacement relation), "
            "never rule-based",
            path="type",
            value=value,
        )
    return kind


@attrs.define
class RelationRule(Aggregate):
    """A rule-based relation: products in ``target_category`` (or below) are a
    ``type`` of every product in ``source_category`` (or below; None = any product)
    whose attributes match (every :class:`AttributeMatch` holds).

    Example: spare parts (target category ``seals``) of every pump whose ``model``
    equals the part's ``fits_model``.
    """

    id: RelationRuleId = attrs.field(converter=_rule_id)
    type: RelationType = attrs.field(converter=_rule_type)
    target_category: CategoryId = attrs.field(converter=_target_category)
    source_category: CategoryId | None = attrs.field(default=None, converter=_source_category)
    match: tuple[AttributeMatch, ...] = attrs.field(factory=tuple, converter=_matches)
    rank: int = attrs.field(default=100, validator=_rank)
    description: str = attrs.field(default="", validator=_note)

    def matches(self, source: Product, candidate: Product) -> bool:
        """Whether every attribute match holds between ``source`` and ``candidate``."""
        for m in self.match:
            if m.source not in source.attributes or m.target not in candidate.attributes:
                return False
            if attribute_key(source.attributes[m.source]) != attribute_key(
                candidate.attributes[m.target]
            ):
                return False
        return True

    def describe(self) -> str:
        """``rule seals-for-model: category seals, fits_model = model``."""
        if self.description:
            return f"rule {self.id}: {self.description}"
        parts = [f"category {self.target_category}"]
        if self.source_category is not None:
            parts.insert(0, f"from category {self.source_category}")
        parts.extend(f"{m.target} = {m.source}" for m in self.match)
        return f"rule {self.id}: " + ", ".join(parts)


# --- stock -----------------------------------------------------------------------------


def _incoming_quantity(value: object) -> Decimal:
    return _quantity(value, path="incoming.quantity", positive=True)


def _expected_at(value: datetime) -> datetime:
    return to_utc(value, path="incoming.expected_at")


@attrs.frozen
class Incoming:
    """Goods on their way to a location: ``quantity`` expected at ``expected_at``."""

    quantity: Decimal = attrs.field(converter=_incoming_quantity)
    expected_at: datetime = attrs.field(converter=_expected_at)


def _incoming(value: object) -> tuple[Incoming, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of Incoming", path="incoming", value=value)
    for i, item in enumerate(value):
        if not isinstance(item, Incoming):
            raise ValidationError("must be an Incoming", path=f"incoming[{i}]", value=item)
    return tuple(sorted(value, key=lambda item: (item.expected_at, item.quantity)))


def _on_hand(value: object) -> Decimal:
    return _quantity(value, path="on_hand", positive=False)


def _reserved(value: object) -> Decimal:
    return _quantity(value, path="reserved", positive=False)


@attrs.define
class StockLevel(Aggregate):
    """Stock of one SKU at one location: ``on_hand``, the part of it ``reserved`` for
    orders, and what is ``incoming`` (kept in expected order).

    Available to promise now is ``on_hand - reserved`` (never below zero). Every
    reservation changes the level's ``version``, so two units of work reserving the
    last units cannot both succeed.
    """

    sku: Sku = attrs.field(converter=_sku)
    location: LocationId = attrs.field(converter=_location)
    on_hand: Decimal = attrs.field(default=Decimal(0), converter=_on_hand)
    reserved: Decimal = attrs.field(default=Decimal(0), converter=_reserved)
    incoming: tuple[Incoming, ...] = attrs.field(factory=tuple, converter=_incoming)

    @property
    def key(self) -> str:
        """Storage key ``sku#location``."""
        return f"{self.sku}{_KEY_SEP}{self.location}"

    @property
    def available(self) -> Decimal:
        """On hand and not reserved (never negative)."""
        free = _subtract(self.on_hand, self.reserved)
        return free if free > 0 else Decimal(0)

    def take(self, quantity: Decimal | int | str) -> None:
        """Reserve ``quantity`` of what is available
        (:class:`~b2bcore.catalog.errors.InsufficientStockError` if it is not)."""
        q = _quantity(quantity, path="quantity", positive=True)
        if q > self.available:
            raise InsufficientStockError(self.sku, q, self.available, location=self.location)
        self.reserved = _add(self.reserved, q)

    def give_back(self, quantity: Decimal | int | str) -> None:
        """Release ``quantity`` of the reserved stock."""
        q = _quantity(quantity, path="quantity", positive=True)
        self.reserved = max(_subtract(self.reserved, q), Decimal(0))


class ReservationStatus(enum.Enum):
    """A reservation holds stock until it is released."""

    ACTIVE = "active"
    RELEASED = "released"


def _reservation_quantity(value: object) -> Decimal:
    return _quantity(value, path="quantity", positive=True)


def _reservation_status(value: object) -> ReservationStatus:
    return _member(ReservationStatus, value, "status")


def _created_at(value: datetime) -> datetime:
    return to_utc(value, path="created_at")


def _optional_released_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, path="released_at")


@attrs.define
class Reservation(Aggregate):
    """Stock of one SKU at one location held for a buyer company's ``reference``
    (an order id, a cart id …) until released."""

    id: ReservationId = attrs.field(converter=_reservation_id)
    company_id: CompanyId = attrs.field(converter=_company)
    sku: Sku = attrs.field(converter=_sku)
    location: LocationId = attrs.field(converter=_location)
    quantity: Decimal = attrs.field(converter=_reservation_quantity)
    reference: str = attrs.field(validator=identifier)
    created_at: datetime = attrs.field(converter=_created_at)
    status: ReservationStatus = attrs.field(
        default=ReservationStatus.ACTIVE, converter=_reservation_status
    )
    released_at: datetime | None = attrs.field(default=None, converter=_optional_released_at)


# --- events ----------------------------------------------------------------------------


@register_event
@attrs.frozen(kw_only=True)
class CategorySaved(DomainEvent):
    """A category was created or changed (platform trail)."""

    event_type = "catalog.category_saved"
    category_id: CategoryId
    parent_id: CategoryId | None


@register_event
@attrs.frozen(kw_only=True)
class ProductSaved(DomainEvent):
    """A product was created or changed (platform trail)."""

    event_type = "catalog.product_saved"
    sku: Sku
    lifecycle: str
    successor_sku: Sku | None


@register_event
@attrs.frozen(kw_only=True)
class ProductRelationSaved(DomainEvent):
    """An explicit product relation was created or changed."""

    event_type = "catalog.relation_saved"
    source_sku: Sku
    target_sku: Sku
    relation_type: str


@register_event
@attrs.frozen(kw_only=True)
class ProductRelationRemoved(DomainEvent):
    """An explicit product relation was removed."""

    event_type = "catalog.relation_removed"
    source_sku: Sku
    target_sku: Sku
    relation_type: str


@register_event
@attrs.frozen(kw_only=True)
class RelationRuleSaved(DomainEvent):
    """A rule-based relation was created or changed."""

    event_type = "catalog.relation_rule_saved"
    rule_id: RelationRuleId


@register_event
@attrs.frozen(kw_only=True)
class AssortmentSaved(DomainEvent):
    """A company's (or business unit's) assortment was set."""

    event_type = "catalog.assortment_saved"
    business_unit_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class AssortmentRemoved(DomainEvent):
    """An assortment was removed (that level no longer restricts anything)."""

    event_type = "catalog.assortment_removed"
    business_unit_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class StockLevelSet(DomainEvent):
    """On-hand stock or incoming goods of a SKU at a location were set."""

    event_type = "catalog.stock_level_set"
    sku: Sku
    location: LocationId
    on_hand: Decimal


@register_event
@attrs.frozen(kw_only=True)
class StockReserved(DomainEvent):
    """Stock was reserved for a buyer company's reference."""

    event_type = "catalog.stock_reserved"
    reservation_id: ReservationId
    sku: Sku
    location: LocationId
    quantity: Decimal
    reference: str


@register_event
@attrs.frozen(kw_only=True)
class StockReleased(DomainEvent):
    """A reservation was released."""

    event_type = "catalog.stock_released"
    reservation_id: ReservationId
    sku: Sku
    location: LocationId
    quantity: Decimal
    reference: str
