"""Pure rules of the catalog: category paths, assortments, orderability, successors,
related products and availability. No storage, no clock: time is an argument.

>>> from datetime import datetime, timezone
>>> from b2bcore.catalog import (Assortment, Category, InMemoryCatalog, Product,
...     ProductRelation, RelationType, Selection, check_orderable, price_item)
>>> from b2bcore.money import Money
>>> catalog = InMemoryCatalog(
...     categories=[Category(id="spares", name="Spares"),
...                 Category(id="seals", name="Seals", parent_id="spares")],
...     products=[Product(sku="SEAL-7", name="Seal", category_id="seals",
...                       list_price=Money("18.40", "EUR")),
...               Product(sku="SEAL-6", name="Old seal", category_id="seals",
...                       lifecycle="discontinued", successor_sku="SEAL-7")])
>>> price_item(catalog.product("SEAL-7"), catalog).category_path
('spares', 'seals')
>>> acme = [Assortment(company_id="acme", include=Selection(categories={"spares"}))]
>>> check_orderable(catalog.product("SEAL-6"), acme, catalog=catalog)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
b2bcore.catalog.errors.NotOrderableError: SEAL-6 cannot be ordered: ...; order SEAL-7 instead
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol, TypeVar

import attrs

from b2bcore.catalog.errors import CycleError, NotOrderableError
from b2bcore.catalog.model import (
    Assortment,
    Category,
    Lifecycle,
    Product,
    ProductRelation,
    RelationRule,
    RelationType,
    StockLevel,
    _add,
    _subtract,
)
from b2bcore.clock import to_utc
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import CategoryId, CompanyId, LocationId, Sku, check_id
from b2bcore.money import to_quantity
from b2bcore.pricing.errors import NoPriceError
from b2bcore.pricing.model import PriceContext, PriceItem, PriceList
from b2bcore.pricing.resolve import PriceIndex, PriceQuote, resolve_price

__all__ = [
    "Availability",
    "CatalogContext",
    "CatalogReader",
    "DEFAULT_LOW_STOCK",
    "InMemoryCatalog",
    "LocationAvailability",
    "RelatedProduct",
    "RelationOrigin",
    "StockStatus",
    "applicable_assortments",
    "assortment_refusal",
    "availability",
    "category_path",
    "check_category_tree",
    "check_orderable",
    "check_successors",
    "first_orderable",
    "in_assortment",
    "price_item",
    "related_products",
    "subtree",
    "successor_chain",
]

T = TypeVar("T")

#: Default low-stock threshold of :func:`availability`.
DEFAULT_LOW_STOCK: Final = Decimal(5)


# --- reading the catalog -----------------------------------------------------------------


class CatalogReader(Protocol):
    """What the rules read: a catalog in memory (:class:`InMemoryCatalog`) or the
    store, read through a unit of work (the service provides that one)."""

    def product(self, sku: str, /) -> Product | None:
        """The product with this SKU, or None."""
        ...

    def category(self, category_id: str, /) -> Category | None:
        """The category with this id, or None."""
        ...

    def children(self, category_id: str, /) -> Sequence[Category]:
        """The categories whose parent is ``category_id``."""
        ...

    def products_in(self, category_ids: Collection[str], /) -> Iterable[Product]:
        """The products whose own category is one of ``category_ids``, by SKU."""
        ...

    def relations_from(self, sku: str, /) -> Sequence[ProductRelation]:
        """The explicit relations that hold from ``sku``: those with ``sku`` as
        source, and bidirectional ones with ``sku`` as target."""
        ...

    def relation_rules(self) -> Sequence[RelationRule]:
        """Every rule-based relation."""
        ...


class InMemoryCatalog:
    """A :class:`CatalogReader` over catalog objects held in memory.

    Handy for tests and for embedding without a store; the same rules then run on
    exactly what the store would return.
    """

    def __init__(
        self,
        *,
        categories: Iterable[Category] = (),
        products: Iterable[Product] = (),
        relations: Iterable[ProductRelation] = (),
        rules: Iterable[RelationRule] = (),
    ) -> None:
        self._categories: dict[str, Category] = {
            c.id: c for c in _typed(categories, Category, "categories")
        }
        self._products: dict[str, Product] = {
            p.sku: p for p in _typed(products, Product, "products")
        }
        self._relations = list(_typed(relations, ProductRelation, "relations"))
        self._rules = sorted(_typed(rules, RelationRule, "rules"), key=lambda r: r.id)
        self._children: dict[str | None, list[Category]] = {}
        for c in sorted(self._categories.values(), key=lambda c: c.id):
            self._children.setdefault(c.parent_id, []).append(c)
        self._by_category: dict[str | None, list[Product]] = {}
        for p in sorted(self._products.values(), key=lambda p: p.sku):
            self._by_category.setdefault(p.category_id, []).append(p)

    def product(self, sku: str, /) -> Product | None:
        """The product with this SKU, or None."""
        return self._products.get(sku)

    def category(self, category_id: str, /) -> Category | None:
        """The category with this id, or None."""
        return self._categories.get(category_id)

    def children(self, category_id: str, /) -> Sequence[Category]:
        """The direct subcategories of a category."""
        return tuple(self._children.get(category_id, ()))

    def products_in(self, category_ids: Collection[str], /) -> Iterable[Product]:
        """The products in any of these categories."""
        found = [p for c in set(category_ids) for p in self._by_category.get(c, ())]
        return sorted(found, key=lambda p: p.sku)

    def relations_from(self, sku: str, /) -> Sequence[ProductRelation]:
        """The explicit relations stored from a SKU."""
        return tuple(r for r in self._relations if r.other(sku) is not None)

    def relation_rules(self) -> Sequence[RelationRule]:
        """Every rule-based relation."""
        return tuple(self._rules)

    @property
    def products(self) -> list[Product]:
        """Every product, by SKU."""
        return sorted(self._products.values(), key=lambda p: p.sku)

    @property
    def categories(self) -> list[Category]:
        """Every category, by id."""
        return sorted(self._categories.values(), key=lambda c: c.id)

    @property
    def relations(self) -> list[ProductRelation]:
        """Every explicit relation, by key."""
        return sorted(self._relations, key=lambda r: r.key)

    @property
    def rules(self) -> list[RelationRule]:
        """Every relation rule, by id."""
        return list(self._rules)


def _typed(values: Iterable[T], kind: type[T], path: str) -> list[T]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValidationError(f"must be a list of {kind.__name__}", path=path, value=values)
    out = list(values)
    for i, v in enumerate(out):
        if not isinstance(v, kind):
            raise ValidationError(f"must be a {kind.__name__}", path=f"{path}[{i}]", value=v)
    return out


# --- categories --------------------------------------------------------------------------


def check_category_tree(categories: Iterable[Category]) -> None:
    """Check that ``categories`` form a forest: every parent exists
    (NotFoundError) and no chain of parents loops (:class:`CycleError` naming it).
    """
    by_id: dict[str, Category] = {c.id: c for c in _typed(categories, Category, "categories")}
    done: set[str] = set()
    for start in sorted(by_id):
        seen: list[str] = []
        current: str | None = start
        while current is not None and current not in done:
            if current in seen:
                raise CycleError(
                    "categories", [*seen[seen.index(current) :], current], path="parent_id"
                )
            seen.append(current)
            category = by_id.get(current)
            if category is None:
                raise NotFoundError("category", current)
            current = category.parent_id
        done.update(seen)


def category_path(category_id: str | None, catalog: CatalogReader) -> tuple[CategoryId, ...]:
    """The path from the root category down to ``category_id`` (empty for None).

    NotFoundError when a category on the way is missing; :class:`CycleError` when
    the parents loop (a store written around the service's checks).
    """
    path: list[CategoryId] = []
    current = category_id
    while current is not None:
        if current in path:
            raise CycleError("categories", [*reversed(path), current], path="parent_id")
        category = catalog.category(current)
        if category is None:
            raise NotFoundError("category", current)
        path.append(category.id)
        current = category.parent_id
    return tuple(reversed(path))


def subtree(category_id: str, catalog: CatalogReader) -> set[CategoryId]:
    """``category_id`` and every category below it (NotFoundError if it is unknown)."""
    root = catalog.category(category_id)
    if root is None:
        raise NotFoundError("category", category_id)
    out: set[CategoryId] = {root.id}
    stack = [root.id]
    while stack:
        for child in catalog.children(stack.pop()):
            if child.id not in out:
                out.add(child.id)
                stack.append(child.id)
    return out


def price_item(product: Product, catalog: CatalogReader) -> PriceItem:
    """What the pricing engine needs to price ``product``: SKU, product (the parent
    for a variant), the category path root first, list price and cost."""
    if not isinstance(product, Product):
        raise ValidationError("must be a Product", path="product", value=product)
    return PriceItem(
        sku=product.sku,
        product_id=product.product_id,
        category_path=category_path(product.category_id, catalog),
        list_price=product.list_price,
        cost=product.cost,
    )


# --- assortments ---------------------------------------------------------------------------


def applicable_assortments(
    assortments: Iterable[Assortment],
    *,
    company_id: str,
    business_unit_ids: Collection[str] = (),
) -> tuple[Assortment, ...]:
    """The assortments that apply to a buyer of ``company_id`` in a unit whose own id
    and ancestors are ``business_unit_ids``: the company's own and those units'.
    Company first, then by unit id."""
    units = set(business_unit_ids)
    kept = [
        a
        for a in _typed(assortments, Assortment, "assortments")
        if a.company_id == company_id
        and (a.business_unit_id is None or a.business_unit_id in units)
    ]
    return tuple(sorted(kept, key=lambda a: (a.business_unit_id is not None, a.key)))


def assortment_refusal(
    product: Product, assortments: Iterable[Assortment], *, category_path: Sequence[str] = ()
) -> str | None:
    """Why ``assortments`` keep ``product`` out, or None when they admit it.

    Every given assortment must admit the product (each level narrows the one
    above; exclude wins everywhere); no assortment at all admits everything.
    ``category_path`` is the product's category path (from :func:`category_path`),
    needed for category entries.
    """
    for assortment in assortments:
        refusal = assortment.refusal(product, category_path=category_path)
        if refusal is not None:
            return refusal
    return None


def in_assortment(
    product: Product, assortments: Iterable[Assortment], *, category_path: Sequence[str] = ()
) -> bool:
    """Whether ``assortments`` admit ``product`` (see :func:`assortment_refusal`)."""
    return assortment_refusal(product, assortments, category_path=category_path) is None


def _admits(assortments: Sequence[Assortment], catalog: CatalogReader) -> Callable[[Product], bool]:
    paths: dict[str | None, tuple[CategoryId, ...]] = {}

    def admits(product: Product) -> bool:
        if product.category_id not in paths:
            paths[product.category_id] = category_path(product.category_id, catalog)
        return in_assortment(product, assortments, category_path=paths[product.category_id])

    return admits


def check_orderable(
    product: Product, assortments: Iterable[Assortment], *, catalog: CatalogReader
) -> Product:
    """Return ``product`` if a buyer under ``assortments`` may order it; otherwise
    raise :class:`~b2bcore.catalog.errors.NotOrderableError` saying why — outside
    the assortment, or discontinued (naming the first orderable successor, if any).
    """
    if not isinstance(product, Product):
        raise ValidationError("must be a Product", path="product", value=product)
    kept = tuple(_typed(assortments, Assortment, "assortments"))
    path = category_path(product.category_id, catalog)
    refusal = assortment_refusal(product, kept, category_path=path)
    if refusal is not None:
        raise NotOrderableError(
            product.sku, "outside_assortment", f"it is outside your assortment ({refusal})"
        )
    if not product.active:
        successor = None
        if product.successor_sku is not None:
            try:
                successor = first_orderable(
                    product.successor_sku, catalog, admits=_admits(kept, catalog)
                )
            except NotFoundError:
                successor = None
        raise NotOrderableError(
            product.sku,
            "discontinued",
            f"{product.sku} is discontinued",
            successor_sku=None if successor is None else successor.sku,
        )
    return product


# --- successors ----------------------------------------------------------------------------


def successor_chain(sku: str, catalog: CatalogReader) -> list[Product]:
    """``sku``'s product, its successor, that one's successor … until a product
    without one (NotFoundError for an unknown SKU, :class:`CycleError` for a loop)."""
    chain: list[Product] = []
    seen: set[str] = set()
    current: str | None = check_id(sku, path="sku")
    while current is not None:
        if current in seen:
            raise CycleError("successors", [*(p.sku for p in chain), current], path="successor_sku")
        seen.add(current)
        product = catalog.product(current)
        if product is None:
            raise NotFoundError("product", current)
        chain.append(product)
        current = product.successor_sku
    return chain


def first_orderable(
    sku: str, catalog: CatalogReader, *, admits: Callable[[Product], bool] = lambda _p: True
) -> Product | None:
    """The first product of :func:`successor_chain` that is active and ``admits``
    accepts (the buyer's assortment); None when the chain ends without one. A
    successor that is missing from the catalog ends the chain."""
    try:
        chain = successor_chain(sku, catalog)
    except NotFoundError as e:
        if e.key == sku:
            raise
        chain = []
        current: str | None = sku
        while current is not None and (p := catalog.product(current)) is not None:
            chain.append(p)
            current = p.successor_sku
    for product in chain:
        if product.lifecycle is Lifecycle.ACTIVE:
            return product if admits(product) else None
    return None


def check_successors(
    sku: str,
    successors: Callable[[str], Iterable[str]],
) -> None:
    """Refuse a loop in the successor graph starting at ``sku``.

    ``successors(x)`` gives the SKUs that replace ``x`` (its ``successor_sku`` and
    the targets of its replacement relations, including the link being written).
    Raises :class:`CycleError` naming the loop when one leads back to a SKU on the
    path from ``sku``.
    """
    state: dict[str, bool] = {}  # True: on the current path, False: fully explored
    path: list[str] = []
    stack: list[tuple[str, Iterator[str]]] = []

    def enter(node: str) -> None:
        path.append(node)
        state[node] = True
        stack.append((node, iter(sorted(set(successors(node))))))

    enter(sku)
    while stack:
        node, pending = stack[-1]
        nxt = next(pending, None)
        if nxt is None:
            stack.pop()
            path.pop()
            state[node] = False
        elif state.get(nxt) is True:
            raise CycleError("successors", [*path[path.index(nxt) :], nxt], path="successor_sku")
        elif nxt not in state:
            enter(nxt)


# --- related products ----------------------------------------------------------------------


class RelationOrigin(enum.Enum):
    """Where a related product comes from."""

    RELATION = "relation"  # an explicit ProductRelation
    SUCCESSOR = "successor"  # the source is discontinued; this replaces it
    RULE = "rule"  # a RelationRule (category, attribute match)


_ORIGIN_ORDER: Final = {
    RelationOrigin.RELATION: 0,
    RelationOrigin.SUCCESSOR: 0,
    RelationOrigin.RULE: 1,
}


def _assortments(value: object) -> tuple[Assortment, ...]:
    return tuple(_typed(value, Assortment, "assortments"))  # type: ignore[arg-type]


def _price_context(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, PriceContext):
        raise ValidationError("must be a PriceContext", path="price_context", value=value)


@attrs.frozen
class CatalogContext:
    """A buyer as the catalog sees them: their pricing context (company, units,
    currency, instant) and the assortments that apply to them
    (:func:`applicable_assortments`; empty = everything)."""

    price_context: PriceContext = attrs.field(validator=_price_context)
    assortments: tuple[Assortment, ...] = attrs.field(factory=tuple, converter=_assortments)

    def __attrs_post_init__(self) -> None:
        for i, a in enumerate(self.assortments):
            if a.company_id != self.price_context.company_id:
                raise ValidationError(
                    f"assortment of {a.company_id} given for {self.price_context.company_id}",
                    path=f"assortments[{i}]",
                    value=a,
                )

    @property
    def company_id(self) -> CompanyId:
        """The buyer company."""
        return self.price_context.company_id


@attrs.frozen
class RelatedProduct:
    """A product shown with another, why, and the buyer's price for it.

    ``replaces`` is set when the related product was discontinued and this is its
    first orderable successor.
    """

    sku: Sku
    type: RelationType
    rank: int
    origin: RelationOrigin
    reason: str
    product: Product = attrs.field(eq=False, repr=False)
    quote: PriceQuote = attrs.field(eq=False, repr=False)
    replaces: Sku | None = None


@attrs.frozen
class _Candidate:
    order: tuple[int, int, int, str]
    sku: str
    type: RelationType
    rank: int
    origin: RelationOrigin
    reason: str


def _types(types: object) -> tuple[RelationType, ...]:
    if types is None:
        return tuple(RelationType)
    if isinstance(types, (str, bytes, RelationType)) or not isinstance(types, Iterable):
        raise ValidationError("must be a list of RelationType", path="types", value=types)
    out: list[RelationType] = []
    for i, t in enumerate(types):
        try:
            kind = RelationType(t)
        except ValueError:
            choices = ", ".join(m.value for m in RelationType)
            raise ValidationError(
                f"{t!r} is not a relation type (one of {choices})", path=f"types[{i}]", value=t
            ) from None
        if kind not in out:
            out.append(kind)
    if not out:
        raise ValidationError("name at least one relation type", path="types", value=types)
    return tuple(out)


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValidationError("must be a whole number from 1 to 1000", path="limit", value=value)
    return value


def _describe_match(rule: RelationRule, source: Product) -> str:
    shown = [f"{m.target} = {source.attributes[m.source]}" for m in rule.match]
    return f" ({', '.join(shown)})" if shown else ""


def _rule_candidates(
    source: Product, rules: Iterable[RelationRule], catalog: CatalogReader
) -> Iterator[tuple[RelationRule, Product, str]]:
    """(rule, candidate, reason) for every rule-based relation that holds."""
    source_path: tuple[CategoryId, ...] | None = None
    for rule in rules:
        if rule.source_category is not None:
            if source_path is None:
                source_path = category_path(source.category_id, catalog)
            if rule.source_category not in source_path:
                continue
        if catalog.category(rule.target_category) is None:
            continue
        if any(m.source not in source.attributes for m in rule.match):
            continue  # nothing can match an attribute the source lacks
        detail = _describe_match(rule, source)
        reason = f"{rule.type.label} of {source.sku} by {rule.describe()}{detail}"
        for candidate in catalog.products_in(subtree(rule.target_category, catalog)):
            if rule.matches(source, candidate):
                yield rule, candidate, reason


def _candidates(
    source: Product, types: tuple[RelationType, ...], catalog: CatalogReader
) -> list[_Candidate]:
    found: list[_Candidate] = []
    position = {t: i for i, t in enumerate(types)}

    def add(sku: str, kind: RelationType, rank: int, origin: RelationOrigin, reason: str) -> None:
        if kind in position and sku != source.sku:
            order = (position[kind], rank, _ORIGIN_ORDER[origin], sku)
            found.append(_Candidate(order, sku, kind, rank, origin, reason))

    for rel in catalog.relations_from(source.sku):
        other = rel.other(source.sku)
        if other is None:
            continue
        note = f": {rel.note}" if rel.note else ""
        if other == rel.target_sku:
            reason = f"{rel.type.label} of {source.sku} (catalog relation{note})"
        else:
            reason = (
                f"{rel.type.label} of {source.sku} (catalog relation from {other}, both ways{note})"
            )
        add(other, rel.type, rel.rank, RelationOrigin.RELATION, reason)
    if source.lifecycle is Lifecycle.DISCONTINUED and source.successor_sku is not None:
        add(
            source.successor_sku,
            RelationType.REPLACEMENT,
            0,
            RelationOrigin.SUCCESSOR,
            f"successor of {source.sku}, which is discontinued",
        )
    rules = [r for r in catalog.relation_rules() if r.type in position]
    for rule, candidate, reason in _rule_candidates(source, rules, catalog):
        add(candidate.sku, rule.type, rule.rank, RelationOrigin.RULE, reason)
    return sorted(found, key=lambda c: c.order)


def related_products(
    sku: str,
    context: CatalogContext,
    types: Iterable[RelationType | str] | None = None,
    *,
    catalog: CatalogReader,
    lists: Sequence[PriceList] | PriceIndex,
    limit: int = 20,
) -> list[RelatedProduct]:
    """The products related to ``sku`` that the buyer of ``context`` may buy and has
    a price for, best first, each with the reason it is shown.

    Candidates come from explicit relations (both ways when bidirectional), the
    successor of a discontinued ``sku`` (as ``replacement``), and rule-based
    relations (category to category, attribute matches). They are ranked by the
    position of their type in ``types`` (default: every type in
    :class:`~b2bcore.catalog.model.RelationType` order), then ``rank`` (lower
    first), then explicit before rule-based, then SKU. A discontinued candidate is
    replaced by its first orderable successor; a candidate outside the buyer's
    assortment, or without a price for them (priced at its quantity rule's minimum,
    else 1, with :func:`~b2bcore.pricing.resolve.resolve_price`), is left out. Each
    SKU appears once, at its best place. ``sku`` itself need not be orderable (an
    installed machine's model, say); NotFoundError if it is not in the catalog.
    """
    if not isinstance(context, CatalogContext):
        raise ValidationError("must be a CatalogContext", path="context", value=context)
    wanted = _types(types)
    count = _limit(limit)
    source = catalog.product(check_id(sku, path="sku"))
    if source is None:
        raise NotFoundError("product", sku)
    index = (
        lists if isinstance(lists, PriceIndex) else PriceIndex(_typed(lists, PriceList, "lists"))
    )
    admits = _admits(context.assortments, catalog)
    out: list[RelatedProduct] = []
    shown: set[str] = {source.sku}
    for cand in _candidates(source, wanted, catalog):
        if len(out) >= count:
            break
        product = catalog.product(cand.sku)
        if product is None or product.sku in shown:
            continue
        reason, replaces = cand.reason, None
        if not product.active:
            successor = first_orderable(product.sku, catalog, admits=admits)
            if successor is None or successor.sku in shown:
                continue
            reason = f"{reason}; {product.sku} is discontinued, {successor.sku} replaces it"
            replaces, product = product.sku, successor
        elif not admits(product):
            continue
        quantity = product.quantity_rule.minimum if product.quantity_rule is not None else 1
        try:
            quote = resolve_price(
                context.price_context,
                price_item(product, catalog),
                quantity,
                lists=index,
                quantity_rule=product.quantity_rule,
            )
        except NoPriceError:
            continue
        shown.add(product.sku)
        out.append(
            RelatedProduct(
                sku=product.sku,
                type=cand.type,
                rank=cand.rank,
                origin=cand.origin,
                reason=reason,
                product=product,
                quote=quote,
                replaces=None if replaces is None else Sku(replaces),
            )
        )
    return out


# --- availability --------------------------------------------------------------------------


class StockStatus(enum.Enum):
    """What a buyer is told about a quantity of a SKU."""

    IN_STOCK = "in_stock"
    LOW = "low"  # available now, but the stock is at or below the low threshold
    BACKORDER = "backorder"  # not all of it now; incoming goods cover it by expected_at
    UNAVAILABLE = "unavailable"  # neither stock nor incoming goods cover it


@attrs.frozen
class LocationAvailability:
    """Available to promise now at one location."""

    location: LocationId
    available: Decimal


@attrs.frozen
class Availability:
    """The answer of :func:`availability`.

    ``available`` is what can be promised now (on hand minus reserved, over every
    location); ``expected_at`` is when incoming goods make ``quantity`` available
    (for ``BACKORDER``); ``promisable`` is the most that can ever be promised from
    stock and incoming goods together.
    """

    sku: Sku
    quantity: Decimal
    at: datetime
    status: StockStatus
    available: Decimal
    promisable: Decimal
    expected_at: datetime | None = None
    locations: tuple[LocationAvailability, ...] = ()

    def describe(self) -> str:
        """``in stock (12 available)``, ``backorder: 40 expected 2026-12-01`` …"""
        if self.status is StockStatus.IN_STOCK:
            return f"in stock ({self.available} available)"
        if self.status is StockStatus.LOW:
            return f"low stock ({self.available} available)"
        if self.status is StockStatus.BACKORDER:
            assert self.expected_at is not None
            return (
                f"backorder: {self.available} now, {self.quantity} by "
                f"{self.expected_at.date().isoformat()}"
            )
        return f"unavailable ({self.available} now, {self.promisable} with incoming goods)"


def availability(
    levels: Iterable[StockLevel],
    sku: str,
    quantity: Decimal | int | str,
    at: datetime,
    *,
    low_threshold: Decimal | int | str = DEFAULT_LOW_STOCK,
) -> Availability:
    """How ``quantity`` of ``sku`` stands at instant ``at`` across ``levels``.

    Available to promise now is the sum over locations of ``on_hand - reserved``
    (never below zero per location). ``IN_STOCK`` when that covers ``quantity`` and
    is above ``low_threshold``; ``LOW`` when it covers it but is at or below the
    threshold; ``BACKORDER`` when incoming goods cover the rest, with the expected
    date of the delivery that completes it (a delivery already overdue counts as
    expected at ``at``; at a location where more is reserved than on hand, incoming
    goods first make up that shortfall); ``UNAVAILABLE`` otherwise.
    """
    code = check_id(sku, path="sku")
    q = to_quantity(quantity, path="quantity")
    if q <= 0:
        raise ValidationError("must be positive", path="quantity", value=quantity)
    threshold = to_quantity(low_threshold, path="low_threshold")
    if threshold < 0:
        raise ValidationError("must not be negative", path="low_threshold", value=low_threshold)
    instant = to_utc(at, path="at")
    kept = _typed(levels, StockLevel, "levels")
    available = Decimal(0)
    arrivals: list[tuple[datetime, Decimal]] = []
    per_location: list[LocationAvailability] = []
    for i, level in enumerate(sorted(kept, key=lambda lv: lv.location)):
        if level.sku != code:
            raise ValidationError(
                f"a stock level of {level.sku} given for {code}", path=f"levels[{i}]", value=level
            )
        available = _add(available, level.available)
        per_location.append(LocationAvailability(level.location, level.available))
        shortfall = _subtract(level.reserved, level.on_hand)
        for arrival in level.incoming:
            net = arrival.quantity
            if shortfall > 0:
                used = min(shortfall, net)
                shortfall = _subtract(shortfall, used)
                net = _subtract(net, used)
            if net > 0:
                arrivals.append((max(arrival.expected_at, instant), net))
    promisable = available
    expected: datetime | None = None
    for when, net in sorted(arrivals):
        promisable = _add(promisable, net)
        if expected is None and q > available and promisable >= q:
            expected = when
    if q <= available:
        status = StockStatus.LOW if available <= threshold else StockStatus.IN_STOCK
    elif expected is not None:
        status = StockStatus.BACKORDER
    else:
        status = StockStatus.UNAVAILABLE
    return Availability(
        sku=Sku(code),
        quantity=q,
        at=instant,
        status=status,
        available=available,
        promisable=promisable,
        expected_at=expected,
        locations=tuple(per_location),
    )
