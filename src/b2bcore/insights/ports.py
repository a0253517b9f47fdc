"""What the insights context reads besides the other contexts' services.

The portal provides :class:`Suggestions` (``Portal.buy_again`` and
``Portal.frequently_bought_together``, over its basket model of the stored orders).
"""

from __future__ import annotations

from typing import Protocol

from b2bcore.accounts.model import Actor
from b2bcore.catalog.recommendations import BuyAgainSuggestion, Suggestion

__all__ = ["Suggestions"]


class Suggestions(Protocol):
    """Assortment-filtered suggestions from order history."""

    def buy_again(
        self, actor: Actor, *, limit: int = 10, business_unit_id: str | None = None
    ) -> list[BuyAgainSuggestion]:
        """What the actor's company is due to reorder."""
        ...

    def frequently_bought_together(
        self, actor: Actor, sku: str, *, limit: int = 5, business_unit_id: str | None = None
    ) -> list[Suggestion]:
        """What was bought together with ``sku``."""
        ...
