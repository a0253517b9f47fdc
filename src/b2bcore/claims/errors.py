"""Errors of the claims context.

>>> from decimal import Decimal
>>> from b2bcore.claims.errors import OverClaimError
>>> e = OverClaimError(order_id="o-1", line_no=2, sku="SEAL-7", requested=Decimal(3),
...                    available=Decimal(1))
>>> (e.code, e.line_no, e.available)
('claims.over_claim', 2, Decimal('1'))
>>> print(e)
order 'o-1' line 2 (SEAL-7): 3 claimed, but only 1 is delivered and not claimed already
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from b2bcore.errors import (
    ConflictError,
    InvalidTransitionError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.money import Money

__all__ = [
    "CreditExceedsInvoicedError",
    "MissingEvidenceError",
    "OverClaimError",
    "PartyNotAllowedError",
    "ReopenWindowClosedError",
]


class PartyNotAllowedError(PermissionDeniedError):
    """The claim type's lifecycle has this move, but not for this party (a customer
    approving, an agent cancelling for the customer …). ``allowed`` names who may."""

    code = "claims.party_not_allowed"

    def __init__(
        self, claim_id: str, from_state: str, to_state: str, party: str, allowed: Iterable[str]
    ) -> None:
        self.allowed = tuple(sorted(allowed))
        super().__init__(
            f"claim {claim_id!r}: only the {' or the '.join(self.allowed)} may move it from "
            f"{from_state!r} to {to_state!r}, not the {party}",
            permission="claims.transition",
            actor=party,
            decision_code="party_not_allowed",
        )
        self.claim_id = claim_id
        self.from_state = from_state
        self.to_state = to_state
        self.party = party


class ReopenWindowClosedError(InvalidTransitionError):
    """A move allowed only within some days of entering the current state (reopening
    a resolved claim) was asked too late. ``since`` is when the state was entered,
    ``days`` the window."""

    code = "claims.window_closed"

    def __init__(
        self, claim_id: str, from_state: str, to_state: str, *, since: datetime, days: int
    ) -> None:
        super().__init__("claim", claim_id, from_state, to_state)
        self.message = (
            f"claim {claim_id!r} cannot go from {from_state!r} to {to_state!r} any more: "
            f"that is possible within {days} days of {since.date().isoformat()}"
        )
        self.args = (self.message,)
        self.since = since
        self.days = days


class MissingEvidenceError(ValidationError):
    """The claim lacks what its type requires before it can be submitted (a photo,
    serial numbers, order references …): ``missing`` lists each requirement."""

    code = "claims.missing_evidence"

    def __init__(self, claim_id: str, missing: Iterable[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(
            f"claim {claim_id!r} needs {'; '.join(self.missing)} before it can be submitted",
            path="evidence",
            value=self.missing,
        )
        self.claim_id = claim_id


class OverClaimError(ConflictError):
    """More of an order line claimed than was delivered and not claimed already (by
    this or other claims): ``available`` is what can still be claimed."""

    code = "claims.over_claim"

    def __init__(
        self,
        *,
        order_id: str,
        line_no: int,
        sku: str,
        requested: Decimal,
        available: Decimal,
    ) -> None:
        super().__init__(
            f"order {order_id!r} line {line_no} ({sku}): {requested} claimed, but only "
            f"{available} is delivered and not claimed already"
        )
        self.order_id = order_id
        self.line_no = line_no
        self.sku = sku
        self.requested = requested
        self.available = available


class CreditExceedsInvoicedError(ConflictError):
    """A credit for an order line above what was invoiced for it and not credited
    already: ``available`` is what can still be credited."""

    code = "claims.credit_exceeds_invoiced"

    def __init__(self, *, order_id: str, line_no: int, requested: Money, available: Money) -> None:
        super().__init__(
            f"order {order_id!r} line {line_no}: a credit of {requested} is more than the "
            f"{available} invoiced and not credited yet"
        )
        self.order_id = order_id
        self.line_no = line_no
        self.requested = requested
        self.available = available
