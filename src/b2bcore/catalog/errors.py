"""Errors of the catalog context.

>>> from b2bcore.catalog.errors import NotOrderableError
>>> e = NotOrderableError("PX-100", "discontinued", "PX-100 is discontinued",
...                       successor_sku="PX-200")
>>> (e.code, e.sku, e.reason_code, e.successor_sku)
('catalog.not_orderable', 'PX-100', 'discontinued', 'PX-200')
>>> str(e)
'PX-100 cannot be ordered: PX-100 is discontinued; order PX-200 instead'
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from b2bcore.errors import ConflictError, ValidationError

__all__ = ["CycleError", "InsufficientStockError", "NotOrderableError"]


class NotOrderableError(ConflictError):
    """The buyer cannot order this SKU.

    ``reason_code`` is ``"outside_assortment"`` (the buyer's assortment keeps it
    out) or ``"discontinued"``; ``successor_sku`` is the first orderable successor
    when there is one (suggest it instead).
    """

    code = "catalog.not_orderable"

    def __init__(
        self, sku: str, reason_code: str, reason: str, *, successor_sku: str | None = None
    ) -> None:
        hint = f"; order {successor_sku} instead" if successor_sku is not None else ""
        super().__init__(f"{sku} cannot be ordered: {reason}{hint}")
        self.sku = sku
        self.reason_code = reason_code
        self.reason = reason
        self.successor_sku = successor_sku


class InsufficientStockError(ConflictError):
    """Less stock is available than a reservation asks for.

    ``requested`` and ``available`` are quantities; ``location`` is the location
    asked for (None: all locations together).
    """

    code = "catalog.insufficient_stock"

    def __init__(
        self, sku: str, requested: Decimal, available: Decimal, *, location: str | None = None
    ) -> None:
        where = f" at {location}" if location is not None else ""
        super().__init__(f"cannot reserve {requested} of {sku}: only {available} available{where}")
        self.sku = sku
        self.requested = requested
        self.available = available
        self.location = location


class CycleError(ValidationError):
    """A write would make a loop: a category below itself, a product succeeding
    itself through a chain of successors or replacements. ``cycle`` lists the ids
    around the loop, ending where it started."""

    code = "catalog.cycle"

    def __init__(self, kind: str, cycle: Sequence[str], *, path: str) -> None:
        loop = tuple(cycle)
        super().__init__(f"{kind} would form a cycle: " + " -> ".join(loop), path=path, value=loop)
        self.kind = kind
        self.cycle = loop
