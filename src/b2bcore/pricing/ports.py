"""Repository protocol of the pricing context.

Price lists belong to the seller: the repository is platform-wide (no
``company_id``), like agents. A list is one aggregate with its rules, but an
adapter need not store it as one document: b2bcore's own adapters keep the list's
header as one row and each rule as its own row indexed by target, so a list of a
million rules is neither one giant document nor scanned to price one SKU.

Semantics every implementation keeps (the contract suite in
:mod:`b2bcore.testing.contracts` checks them):

* ``get`` returns the list with all its rules, in their order, or raises
  :class:`~b2bcore.errors.NotFoundError`;
* ``add`` raises :class:`~b2bcore.errors.DuplicateError` for an existing id and sets
  ``version`` to 1;
* ``update`` takes the list with the version that was read, raises
  :class:`~b2bcore.errors.ConcurrencyError` when the stored version moved on,
  replaces the stored rules by the list's rules as one change (a rolled-back unit
  of work leaves the old rules) and increments ``version``;
* ``list`` pages through lists by id, optionally of one currency;
* ``rules_for`` finds the rules of given targets through an index;
* ``load_index`` compiles the stored lists into a
  :class:`~b2bcore.pricing.resolve.PriceIndex` for the hot path.

Write-time checks across lists (:func:`~b2bcore.pricing.resolve.check_price_lists`)
are the publishing service's job, not the repository's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from b2bcore.ids import PriceListId
from b2bcore.paging import DEFAULT_LIMIT, Page
from b2bcore.pricing.model import PriceList, PriceRule, TargetKind

if TYPE_CHECKING:  # the engine module sits above the ports; only its type is named here
    from b2bcore.pricing.resolve import PriceIndex

__all__ = ["PriceListRepository"]


class PriceListRepository(Protocol):
    """Price lists and their rules (platform-wide)."""

    def get(self, list_id: PriceListId, /) -> PriceList:
        """The list with this id, with all its rules."""
        ...

    def add(self, price_list: PriceList, /) -> None:
        """Store a new list and its rules."""
        ...

    def update(self, price_list: PriceList, /) -> None:
        """Store a changed list; its rules replace the stored ones atomically."""
        ...

    def rules_for(
        self,
        targets: Iterable[tuple[TargetKind, str | None]],
        /,
        *,
        list_ids: Iterable[PriceListId] | None = None,
    ) -> list[tuple[PriceListId, PriceRule]]:
        """The rules whose target is one of ``targets``, with their list's id.

        A target is ``(TargetKind.SKU, "P-100")``, ``(TargetKind.CATEGORY, "pumps")``,
        ``(TargetKind.ALL, None)`` …; ``list_ids`` keeps only those lists' rules.
        Found through an index: the rules of other targets are not read. Ordered by
        list id, then by the rules' order in their list.
        """
        ...

    def load_index(self, *, currency: str | None = None, at: datetime | None = None) -> PriceIndex:
        """The stored lists compiled into a :class:`~b2bcore.pricing.resolve.PriceIndex`.

        ``currency`` keeps the lists in that currency, ``at`` the lists whose window
        contains that instant; a list that a kept list derives from (its
        ``base_list_id`` or a ``price_list`` formula's) is kept too. Prices resolved
        for contexts of that currency and instant are those of the full index; only
        the explanations no longer list the candidates that were left out.
        """
        ...

    def list(
        self,
        *,
        currency: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[PriceList]:
        """Lists by id (each with its rules), optionally only those in ``currency``."""
        ...
