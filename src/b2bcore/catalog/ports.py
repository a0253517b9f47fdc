"""Repository protocols of the catalog context.

Which tenant each aggregate lives in:

* **platform-wide** (the seller's catalog, no ``company_id``): categories, products,
  explicit relations, relation rules and stock levels — every buyer reads the same
  catalog, narrowed by their assortment;
* **per company**: assortments (what one buyer company, or one of its business
  units, may buy) and reservations (stock held for that company's orders); reading
  them needs the ``company_id``, and another company's are never found.

Semantics every implementation keeps (the contract suite in
:mod:`b2bcore.testing.contracts` checks them): ``get`` raises
:class:`~b2bcore.errors.NotFoundError`; ``add`` raises
:class:`~b2bcore.errors.DuplicateError` for an existing key and sets ``version`` to
1; ``update`` takes the version that was read, raises
:class:`~b2bcore.errors.ConcurrencyError` when the stored one moved on and
increments it; ``list`` pages in a stable order. Write-time checks that span
several aggregates (category cycles, successor loops, variants one level deep) are
the service's job, in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from b2bcore.catalog.model import (
    Assortment,
    Category,
    Product,
    ProductRelation,
    RelationRule,
    RelationType,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from b2bcore.ids import (
    BusinessUnitId,
    CategoryId,
    CompanyId,
    LocationId,
    RelationRuleId,
    ReservationId,
    Sku,
)
from b2bcore.paging import DEFAULT_LIMIT, Page

__all__ = [
    "AssortmentRepository",
    "CategoryRepository",
    "ProductRelationRepository",
    "ProductRepository",
    "RelationRuleRepository",
    "ReservationRepository",
    "StockLevelRepository",
    "StockRepositories",
]


class CategoryRepository(Protocol):
    """Categories (platform-wide)."""

    def get(self, category_id: CategoryId, /) -> Category:
        """The category with this id."""
        ...

    def add(self, category: Category, /) -> None:
        """Store a new category."""
        ...

    def update(self, category: Category, /) -> None:
        """Store a changed category."""
        ...

    def list(
        self,
        *,
        parent_id: CategoryId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Category]:
        """Categories by id; with ``parent_id`` only that category's children."""
        ...


class ProductRepository(Protocol):
    """Products by SKU (platform-wide)."""

    def get(self, sku: Sku, /) -> Product:
        """The product with this SKU."""
        ...

    def add(self, product: Product, /) -> None:
        """Store a new product."""
        ...

    def update(self, product: Product, /) -> None:
        """Store a changed product."""
        ...

    def list(
        self,
        *,
        category_ids: Iterable[CategoryId] | None = None,
        parent_sku: Sku | None = None,
        after_sku: Sku | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Product]:
        """Products by SKU: only those whose own category is one of
        ``category_ids``, only the variants of ``parent_sku``, only SKUs after
        ``after_sku`` (for callers that page over a filtered selection)."""
        ...


class AssortmentRepository(Protocol):
    """Assortments, per company: at most one for the company and one per business
    unit."""

    def get(
        self, *, company_id: CompanyId, business_unit_id: BusinessUnitId | None = None
    ) -> Assortment:
        """The company's assortment (``business_unit_id`` None) or a unit's."""
        ...

    def add(self, assortment: Assortment, /) -> None:
        """Store a new assortment (DuplicateError when that level has one)."""
        ...

    def update(self, assortment: Assortment, /) -> None:
        """Store a changed assortment."""
        ...

    def remove(self, assortment: Assortment, /) -> None:
        """Delete an assortment as read (ConcurrencyError if it changed meanwhile)."""
        ...

    def list(
        self, *, company_id: CompanyId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Assortment]:
        """One company's assortments: the company's first, then by business unit id."""
        ...


class ProductRelationRepository(Protocol):
    """Explicit relations between products (platform-wide), one per (source, type,
    target)."""

    def get(
        self, source_sku: Sku, relation_type: RelationType, target_sku: Sku, /
    ) -> ProductRelation:
        """The relation of this type from ``source_sku`` to ``target_sku``."""
        ...

    def add(self, relation: ProductRelation, /) -> None:
        """Store a new relation."""
        ...

    def update(self, relation: ProductRelation, /) -> None:
        """Store a changed relation (rank, both ways, note)."""
        ...

    def remove(self, relation: ProductRelation, /) -> None:
        """Delete a relation as read."""
        ...

    def from_sku(
        self, sku: Sku, /, *, relation_type: RelationType | None = None
    ) -> list[ProductRelation]:
        """Every relation that holds from ``sku``: those with ``sku`` as source and
        the bidirectional ones with ``sku`` as target; by rank, then key."""
        ...

    def list(
        self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ProductRelation]:
        """Every relation, by key (``source#type#target``)."""
        ...


class RelationRuleRepository(Protocol):
    """Rule-based relations (platform-wide)."""

    def get(self, rule_id: RelationRuleId, /) -> RelationRule:
        """The rule with this id."""
        ...

    def add(self, rule: RelationRule, /) -> None:
        """Store a new rule."""
        ...

    def update(self, rule: RelationRule, /) -> None:
        """Store a changed rule."""
        ...

    def list(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[RelationRule]:
        """Every rule, by id."""
        ...


class StockLevelRepository(Protocol):
    """Stock per SKU and location (platform-wide)."""

    def get(self, sku: Sku, location: LocationId, /) -> StockLevel:
        """The level of ``sku`` at ``location``."""
        ...

    def add(self, level: StockLevel, /) -> None:
        """Store a new level."""
        ...

    def update(self, level: StockLevel, /) -> None:
        """Store a changed level: the version guard makes concurrent reservations of
        the same stock end with one winner."""
        ...

    def for_sku(self, sku: Sku, /) -> list[StockLevel]:
        """Every location's level of ``sku``, by location."""
        ...


class ReservationRepository(Protocol):
    """Stock reservations, per company."""

    def get(self, reservation_id: ReservationId, /, *, company_id: CompanyId) -> Reservation:
        """The reservation with this id in ``company_id``."""
        ...

    def add(self, reservation: Reservation, /) -> None:
        """Store a new reservation."""
        ...

    def update(self, reservation: Reservation, /) -> None:
        """Store a changed reservation (released)."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        reference: str | None = None,
        sku: Sku | None = None,
        status: ReservationStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Reservation]:
        """One company's reservations by id, optionally of one reference, SKU or
        status."""
        ...


class StockRepositories(Protocol):
    """What :func:`~b2bcore.catalog.inventory.reserve_stock` and
    :func:`~b2bcore.catalog.inventory.release_stock` need: any
    :class:`~b2bcore.storage.ports.UnitOfWork` has both."""

    @property
    def stock_levels(self) -> StockLevelRepository:
        """Stock levels."""
        ...

    @property
    def reservations(self) -> ReservationRepository:
        """Reservations."""
        ...
