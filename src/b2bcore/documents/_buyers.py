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
from b2bcore.catalog.stored import StoredCatalog, assortments_for, may_buy
from b2bcore.ids import BusinessUnitId
from b2bcore.storage.ports import UnitOfWork

__all__ = ["buyer_can_buy"]


def buyer_can_buy(uow: UnitOfWork, actor: Actor, access: Access) -> Callable[[str], bool]:
    """A check ``can_buy(sku)`` for ``actor``: the catalogue's
    :func:`~b2bcore.catalog.stored.may_buy` over the assortments of the company and
    of every unit of the user with its ancestors (discontinued products included).
    The assortments are read on the first question."""
    checks: list[Callable[[str], bool]] = []

    def can_buy(sku: str) -> bool:
        if not checks:
            units: set[BusinessUnitId] = set()
            user = access.user
            for unit in user.business_unit_ids if user is not None else ():
                if any(u.id == unit for u in access.units):
                    units.add(unit)
                    units.update(ancestors(access.units, unit))
            assortments = assortments_for(uow, actor.company_id, sorted(units))
            checks.append(may_buy(StoredCatalog(uow), assortments, active_only=False))
        return checks[0](sku)

    return can_buy
