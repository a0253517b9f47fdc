"""The stored catalogue as the catalogue's pure rules read it, inside a unit of work.

:class:`StoredCatalog` is a :class:`~b2bcore.catalog.rules.CatalogReader` over a
unit of work, so the pure rules (orderability, price items, successors, related
products) run on exactly what that unit of work sees; :func:`may_buy` is the one
check "may this buyer buy this SKU" that listings, recommendations, documents scoped
to a product's buyers and asset pages share. Services of every context use them
inside their own unit of work (they read the catalogue's ports, and call no
catalogue service).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from b2bcore.catalog.model import (
    Assortment,
    Category,
    Lifecycle,
    Product,
    ProductRelation,
    RelationRule,
)
from b2bcore.catalog.rules import (
    CatalogReader,
    applicable_assortments,
    category_path,
    in_assortment,
)
from b2bcore.errors import B2BCoreError, NotFoundError, ValidationError
from b2bcore.ids import BusinessUnitId, CategoryId, CompanyId, Sku, check_id
from b2bcore.paging import MAX_LIMIT, iterate
from b2bcore.storage._reads import read_only_get, read_only_many
from b2bcore.storage.ports import UnitOfWork

__all__ = ["StoredCatalog", "assortments_for", "may_buy"]


class StoredCatalog:
    """A :class:`~b2bcore.catalog.rules.CatalogReader` over a unit of work, so the
    pure rules run on stored data (lookups are cached for the reader's lifetime).

    With ``read_only=True`` the products and categories it returns may be objects
    shared with other readers (b2bcore's own stores reuse what they structured when
    the stored row has not changed): for reads that never change what they get.
    """

    def __init__(self, uow: UnitOfWork, *, read_only: bool = False) -> None:
        self._uow = uow
        self._read_only = read_only
        self._products: dict[str, Product | None] = {}
        self._categories: dict[str, Category | None] = {}
        self._rules: list[RelationRule] | None = None

    def preload(self, skus: Iterable[str], /) -> None:
        """Read these SKUs' products, then their categories, in one go each (one
        round trip on PostgreSQL) instead of one by one as they are asked for. Only a
        ``read_only`` reader preloads; for others this does nothing."""
        if isinstance(skus, str) or not isinstance(skus, Iterable):
            raise ValidationError("give an iterable of SKUs", path="skus", value=skus)
        wanted = list(dict.fromkeys([check_id(sku, path="skus") for sku in skus]))
        if not self._read_only:
            return
        uow = self._uow
        wanted = [sku for sku in wanted if sku not in self._products]
        for sku, found in zip(wanted, self._read_many(uow.products, wanted), strict=True):
            self._products[sku] = found
        categories = {
            p.category_id
            for p in self._products.values()
            if p is not None and p.category_id is not None and p.category_id not in self._categories
        }
        ordered = sorted(categories)
        for category_id, category in zip(
            ordered, self._read_many(uow.categories, ordered), strict=True
        ):
            self._categories[category_id] = category

    def _read_many(self, repository: Any, keys: Sequence[str]) -> list[Any]:
        """The objects of ``keys`` (None: not there), shared where the store can."""
        if not keys:
            return []

        def one_by_one() -> list[tuple[Any, ...]]:
            out: list[tuple[Any, ...]] = []
            for key in keys:
                try:
                    out.append((repository.get(key),))
                except NotFoundError:
                    out.append(())
            return out

        asked: list[tuple[object, str | None, str | None]] = [
            (repository, None, key) for key in keys
        ]
        found = read_only_many(self._uow, asked, one_by_one)
        return [got[0] if got else None for got in found]

    def product(self, sku: str, /) -> Product | None:
        """The product with this SKU, or None."""
        if sku not in self._products:
            products = self._uow.products
            try:
                self._products[sku] = (
                    read_only_get(products, sku, None, lambda: products.get(Sku(sku)))
                    if self._read_only
                    else products.get(Sku(sku))
                )
            except NotFoundError:
                self._products[sku] = None
        return self._products[sku]

    def category(self, category_id: str, /) -> Category | None:
        """The category with this id, or None."""
        if category_id not in self._categories:
            categories = self._uow.categories
            try:
                self._categories[category_id] = (
                    read_only_get(
                        categories,
                        category_id,
                        None,
                        lambda: categories.get(CategoryId(category_id)),
                    )
                    if self._read_only
                    else categories.get(CategoryId(category_id))
                )
            except NotFoundError:
                self._categories[category_id] = None
        return self._categories[category_id]

    def children(self, category_id: str, /) -> Sequence[Category]:
        """The direct subcategories of a category."""
        uow, parent = self._uow, CategoryId(category_id)
        return list(
            iterate(lambda c: uow.categories.list(parent_id=parent, limit=MAX_LIMIT, cursor=c))
        )

    def products_in(self, category_ids: Collection[str], /) -> Iterable[Product]:
        """The products in any of these categories."""
        uow, ids = self._uow, [CategoryId(c) for c in category_ids]
        return iterate(lambda c: uow.products.list(category_ids=ids, limit=MAX_LIMIT, cursor=c))

    def relations_from(self, sku: str, /) -> Sequence[ProductRelation]:
        """The explicit relations stored from a SKU."""
        return self._uow.product_relations.from_sku(Sku(sku))

    def relation_rules(self) -> Sequence[RelationRule]:
        """Every rule-based relation."""
        if self._rules is None:
            uow = self._uow
            self._rules = list(
                iterate(lambda c: uow.relation_rules.list(limit=MAX_LIMIT, cursor=c))
            )
        return self._rules


def assortments_for(
    uow: UnitOfWork, company_id: CompanyId, business_unit_ids: Iterable[BusinessUnitId]
) -> tuple[Assortment, ...]:
    """The stored assortments that apply to a buyer of ``company_id`` in
    ``business_unit_ids`` (give a unit with its ancestors)."""
    stored = iterate(
        lambda c: uow.assortments.list(company_id=company_id, limit=MAX_LIMIT, cursor=c)
    )
    return applicable_assortments(
        stored, company_id=company_id, business_unit_ids=tuple(business_unit_ids)
    )


def may_buy(
    catalog: CatalogReader, assortments: Sequence[Assortment], *, active_only: bool
) -> Callable[[str], bool]:
    """A check ``may_buy(sku)``: the product exists, the assortments admit it and —
    with ``active_only`` — it is not discontinued (the buyers of a discontinued
    product keep its manual; they are not offered it). Answers are cached per SKU; a
    product whose category path cannot be read counts as not admitted."""
    cache: dict[str, bool] = {}

    def check(sku: str) -> bool:
        if sku not in cache:
            product = catalog.product(sku)
            if product is None or (active_only and product.lifecycle is not Lifecycle.ACTIVE):
                cache[sku] = False
            else:
                try:
                    path = category_path(product.category_id, catalog)
                except B2BCoreError:
                    cache[sku] = False
                else:
                    cache[sku] = in_assortment(product, assortments, category_path=path)
        return cache[sku]

    return check
