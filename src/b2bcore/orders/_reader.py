"""The catalog as the orders service reads it inside its own unit of work (private).

A :class:`~b2bcore.catalog.rules.CatalogReader` over the stored catalog, so the
catalog's pure rules (orderability, price items, successors) run on exactly what the
checkout's unit of work sees. Lookups are cached for the reader's lifetime (one
command).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from b2bcore.catalog.model import Category, Product, ProductRelation, RelationRule
from b2bcore.errors import NotFoundError
from b2bcore.ids import CategoryId, Sku
from b2bcore.paging import MAX_LIMIT, iterate
from b2bcore.storage.ports import UnitOfWork

__all__ = ["UnitOfWorkCatalog"]


class UnitOfWorkCatalog:
    """A catalog reader over a unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._products: dict[str, Product | None] = {}
        self._categories: dict[str, Category | None] = {}

    def product(self, sku: str, /) -> Product | None:
        if sku not in self._products:
            try:
                self._products[sku] = self._uow.products.get(Sku(sku))
            except NotFoundError:
                self._products[sku] = None
        return self._products[sku]

    def category(self, category_id: str, /) -> Category | None:
        if category_id not in self._categories:
            try:
                self._categories[category_id] = self._uow.categories.get(CategoryId(category_id))
            except NotFoundError:
                self._categories[category_id] = None
        return self._categories[category_id]

    def children(self, category_id: str, /) -> Sequence[Category]:
        uow, parent = self._uow, CategoryId(category_id)
        return list(
            iterate(lambda c: uow.categories.list(parent_id=parent, limit=MAX_LIMIT, cursor=c))
        )

    def products_in(self, category_ids: Collection[str], /) -> Iterable[Product]:
        uow, ids = self._uow, [CategoryId(c) for c in category_ids]
        return iterate(lambda c: uow.products.list(category_ids=ids, limit=MAX_LIMIT, cursor=c))

    def relations_from(self, sku: str, /) -> Sequence[ProductRelation]:
        return self._uow.product_relations.from_sku(Sku(sku))

    def relation_rules(self) -> Sequence[RelationRule]:
        uow = self._uow
        return list(iterate(lambda c: uow.relation_rules.list(limit=MAX_LIMIT, cursor=c)))
