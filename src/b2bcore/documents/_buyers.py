"""Whether an actor's assortment admits a product, read in a unit of work (private).

Documents scoped to the buyers of a product (:meth:`AccessScope.buyers_of`) ask
this; it applies the catalog's pure assortment rules (the company's assortment and
those of the user's business units and their ancestors) to what the unit of work
sees. A product's lifecycle does not matter: the buyers of a discontinued product
keep its manual.
"""

from __future__ import annotations

from collections.abc import Callable

from b2bcore.accounts.model import Actor
from b2bcore.accounts.rules import Access, ancestors
from b2bcore.catalog.model import Assortment, Product
from b2bcore.catalog.rules import applicable_assortments, in_assortment
from b2bcore.errors import NotFoundError
from b2bcore.ids import CategoryId, Sku
from b2bcore.paging import MAX_LIMIT, iterate
from b2bcore.storage.ports import UnitOfWork

__all__ = ["buyer_can_buy"]

_DEEPEST = 64


def _category_path(uow: UnitOfWork, product: Product) -> tuple[str, ...] | None:
    path: list[str] = []
    current = product.category_id
    while current is not None:
        if current in path or len(path) > _DEEPEST:
            return None
        try:
            category = uow.categories.get(CategoryId(current))
        except NotFoundError:
            return None
        path.append(category.id)
        current = category.parent_id
    return tuple(reversed(path))


def buyer_can_buy(uow: UnitOfWork, actor: Actor, access: Access) -> Callable[[str], bool]:
    """A check ``can_buy(sku)`` for ``actor`` (answers are cached per SKU)."""
    cache: dict[str, bool] = {}
    loaded: list[tuple[Assortment, ...]] = []

    def assortments() -> tuple[Assortment, ...]:
        if not loaded:
            company = actor.company_id
            units: set[str] = set()
            user = access.user
            for unit in user.business_unit_ids if user is not None else ():
                if any(u.id == unit for u in access.units):
                    units.add(unit)
                    units.update(ancestors(access.units, unit))
            stored = iterate(
                lambda c: uow.assortments.list(company_id=company, limit=MAX_LIMIT, cursor=c)
            )
            loaded.append(
                applicable_assortments(stored, company_id=company, business_unit_ids=units)
            )
        return loaded[0]

    def can_buy(sku: str) -> bool:
        if sku not in cache:
            try:
                product = uow.products.get(Sku(sku))
            except NotFoundError:
                cache[sku] = False
                return False
            path = _category_path(uow, product)
            cache[sku] = path is not None and in_assortment(
                product, assortments(), category_path=path
            )
        return cache[sku]

    return can_buy
