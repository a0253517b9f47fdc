"""Ports of the claims context: claims, their messages, and the claimed-quantity
tallies of orders.

Repositories follow the house semantics (checked by the contract suite in
:mod:`b2bcore.testing.contracts`): ``get`` raises
:class:`~b2bcore.errors.NotFoundError` (also for another company's id), ``add``
raises :class:`~b2bcore.errors.DuplicateError`, ``update`` takes the version that
was read and raises :class:`~b2bcore.errors.ConcurrencyError` when it moved on;
every query is scoped to one company and pages with a stable cursor.

A claim that changes what it holds of an order's lines updates that order's
:class:`~b2bcore.claims.model.ClaimTally` in the same unit of work; because the
tally is versioned, two claims racing for the last delivered units cannot both
commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from b2bcore.claims.model import Claim, ClaimMessage, ClaimStatus, ClaimTally, Visibility
from b2bcore.ids import AssetId, ClaimId, ClaimTypeId, CompanyId, OrderId, UserId
from b2bcore.paging import DEFAULT_LIMIT, Page

if TYPE_CHECKING:  # the unit of work's port imports this module
    from b2bcore.orders.ports import Audience

__all__ = ["ClaimMessageRepository", "ClaimRepository", "ClaimTallyRepository"]


class ClaimRepository(Protocol):
    """Each company's claims."""

    def get(self, claim_id: ClaimId, /, *, company_id: CompanyId) -> Claim:
        """The claim; NotFoundError if the company has none with this id."""
        ...

    def add(self, claim: Claim, /) -> None:
        """Store a new claim."""
        ...

    def update(self, claim: Claim, /) -> None:
        """Store a changed claim read at ``claim.version``."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        statuses: Iterable[ClaimStatus] | None = None,
        type_id: ClaimTypeId | None = None,
        asset_id: AssetId | None = None,
        order_id: OrderId | None = None,
        requester_id: UserId | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Claim]:
        """The company's claims, newest first, filtered by status, type, an asset or
        an order on any line, requester; ``audience`` keeps those of its business
        units or requested by its user."""
        ...


class ClaimMessageRepository(Protocol):
    """The conversation of each claim (append-only)."""

    def add(self, message: ClaimMessage, /) -> None:
        """Append a message."""
        ...

    def list(
        self,
        claim_id: ClaimId,
        /,
        *,
        company_id: CompanyId,
        visibility: Visibility | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ClaimMessage]:
        """A claim's messages, oldest first (a cursor taken at the end picks up new
        messages later: live support polls with it)."""
        ...


class ClaimTallyRepository(Protocol):
    """What the claims hold of each order's lines (one tally per order)."""

    def get(self, order_id: OrderId, /, *, company_id: CompanyId) -> ClaimTally:
        """The order's tally; NotFoundError when no claim ever held any of it."""
        ...

    def add(self, tally: ClaimTally, /) -> None:
        """Store the first tally of an order (DuplicateError when there is one)."""
        ...

    def update(self, tally: ClaimTally, /) -> None:
        """Store a changed tally read at ``tally.version``."""
        ...
