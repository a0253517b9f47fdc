"""Ports of the assets context: the asset repository and the catalog lookup.

The repository follows the house semantics (checked by the contract suite in
:mod:`b2bcore.testing.contracts`): ``get`` raises
:class:`~b2bcore.errors.NotFoundError` (also for another company's id), ``add``
raises :class:`~b2bcore.errors.DuplicateError` — also when the serial number is
registered in the company already — ``update`` takes the version that was read
(:class:`~b2bcore.errors.ConcurrencyError` otherwise), and every query is scoped to
one company.

Compatible spare parts and services come from the catalog's relations: the assets
service asks a :class:`RelatedProductsLookup` (the portal passes
:meth:`b2bcore.catalog.service.CatalogService.related_products`), so assets never
call the catalog's service themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from b2bcore.assets.model import Asset, AssetStatus
from b2bcore.ids import AssetId, CompanyId, OrderId, Sku
from b2bcore.paging import DEFAULT_LIMIT, Page

if TYPE_CHECKING:  # the unit of work's port imports this module
    from b2bcore.accounts.model import Actor
    from b2bcore.catalog.model import RelationType
    from b2bcore.catalog.rules import RelatedProduct
    from b2bcore.orders.ports import Audience

__all__ = ["AssetRepository", "RelatedProductsLookup"]


class AssetRepository(Protocol):
    """Each company's assets."""

    def get(self, asset_id: AssetId, /, *, company_id: CompanyId) -> Asset:
        """The asset; NotFoundError if the company has none with this id."""
        ...

    def add(self, asset: Asset, /) -> None:
        """Store a new asset; DuplicateError on its id or its serial number."""
        ...

    def update(self, asset: Asset, /) -> None:
        """Store a changed asset read at ``asset.version``."""
        ...

    def find_by_serial(self, serial_number: str, /, *, company_id: CompanyId) -> Asset | None:
        """The company's asset with this serial number (case-insensitive), if any."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        status: AssetStatus | None = None,
        sku: Sku | None = None,
        order_id: OrderId | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Asset]:
        """The company's assets in registration order, filtered; ``audience`` keeps
        those of its business units or registered by its user."""
        ...


class RelatedProductsLookup(Protocol):
    """What the assets service needs of the catalog: the products related to a SKU
    that the actor may buy, with their prices (the catalog's ``related_products``)."""

    def __call__(
        self,
        actor: Actor,
        sku: str,
        *,
        currency: str,
        types: Iterable[RelationType | str] | None = None,
        limit: int = 20,
    ) -> list[RelatedProduct]:
        """Related products of ``sku`` for ``actor``, best first."""
        ...
