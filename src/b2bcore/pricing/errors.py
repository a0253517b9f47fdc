"""Errors of the pricing context."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from b2bcore.errors import ConflictError, NotFoundError, ValidationError

__all__ = ["Explained", "NoPriceError", "PriceRuleConflictError", "QuantityRuleError"]


class QuantityRuleError(ValidationError):
    """A quantity the SKU's quantity rule does not allow; names the nearest valid ones.

    ``lower`` and ``higher`` are the nearest allowed quantities below and above
    (either may be None when there is none).
    """

    code = "pricing.quantity_rule"

    def __init__(
        self,
        sku: str,
        quantity: Decimal,
        reason: str,
        *,
        lower: Decimal | None,
        higher: Decimal | None,
    ) -> None:
        options = [str(q) for q in (lower, higher) if q is not None]
        hint = f"; nearest valid: {' or '.join(options)}" if options else ""
        super().__init__(f"{quantity} of {sku} {reason}{hint}", path="quantity", value=quantity)
        self.sku = sku
        self.quantity = quantity
        self.lower = lower
        self.higher = higher


class Explained(Protocol):
    """What :class:`NoPriceError` carries: a
    :class:`~b2bcore.pricing.resolve.PriceExplanation`."""

    def summary(self) -> str:
        """One line: why nothing applied."""
        ...

    def text(self) -> str:
        """The full explanation."""
        ...


class NoPriceError(NotFoundError):
    """No price list has an applicable price; ``explanation`` says why each failed."""

    code = "pricing.no_price"

    def __init__(self, sku: str, explanation: Explained) -> None:
        super().__init__("price", sku, f"no applicable price for {sku}: {explanation.summary()}")
        self.sku = sku
        self.explanation = explanation


class PriceRuleConflictError(ConflictError):
    """Two rules that would tie on every precedence step but the ids: which one wins
    would be arbitrary. ``first`` and ``second`` are their ``(list id, rule id)``.
    """

    code = "pricing.rule_conflict"

    def __init__(self, first: tuple[str, str], second: tuple[str, str]) -> None:
        super().__init__(
            f"rules {first[0]}/{first[1]} and {second[0]}/{second[1]} have the same "
            "scope, target, window and priority: the winner would be arbitrary; change "
            "one's priority or window"
        )
        self.first = first
        self.second = second
