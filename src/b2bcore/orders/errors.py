"""Errors of the orders context.

>>> from decimal import Decimal
>>> from b2bcore.orders.errors import LineProblem, NotOrderableCartError
>>> problem = LineProblem(index=0, sku="SEAL-6", code="discontinued",
...                       message="SEAL-6 is discontinued", successor_sku="SEAL-7")
>>> e = NotOrderableCartError("cart-1", [problem])
>>> (e.code, e.cart_id, [p.code for p in e.problems])
('orders.cart_not_orderable', 'cart-1', ['discontinued'])
>>> print(e)
cart 'cart-1' cannot be ordered: line 1 (SEAL-6): SEAL-6 is discontinued; order SEAL-7 instead
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from b2bcore.errors import ConflictError, InvalidTransitionError

__all__ = [
    "LineProblem",
    "NotOrderableCartError",
    "QuantityExceededError",
    "QuoteExpiredError",
]


@attrs.frozen
class LineProblem:
    """Why one line (of a cart, a quote, a shopping list …) cannot be ordered.

    ``index`` is the line's 0-based position; ``code`` one of ``unknown_product``,
    ``outside_assortment``, ``discontinued``, ``quantity_rule``, ``no_price``,
    ``insufficient_stock``; ``message`` says it in words. ``successor_sku`` names a
    product to order instead, ``lower``/``higher`` the nearest allowed quantities
    (quantity rules) when there are any.
    """

    index: int
    sku: str
    code: str
    message: str
    successor_sku: str | None = None
    lower: Decimal | None = None
    higher: Decimal | None = None

    def describe(self) -> str:
        """``line 2 (SEAL-7): 3 of SEAL-7 is not 2 plus a multiple of 2 …``."""
        hint = f"; order {self.successor_sku} instead" if self.successor_sku else ""
        return f"line {self.index + 1} ({self.sku}): {self.message}{hint}"


class NotOrderableCartError(ConflictError):
    """A cart (or quote, or list) has lines that cannot be ordered as they are.

    ``problems`` holds one :class:`LineProblem` per offending line, so a portal can
    show each next to its line; nothing was ordered or reserved. ``cart_id`` is
    empty for a quick order (it has no cart).
    """

    code = "orders.cart_not_orderable"

    def __init__(
        self, cart_id: str, problems: Sequence[LineProblem], *, subject: str | None = None
    ) -> None:
        listed = "; ".join(p.describe() for p in problems)
        what = subject if subject is not None else f"cart {cart_id!r}"
        super().__init__(f"{what} cannot be ordered: {listed}")
        self.cart_id = cart_id
        self.problems = tuple(problems)


class QuantityExceededError(ConflictError):
    """More would be shipped (or invoiced) of an order line than is left of it.

    ``what`` is ``"shipped"`` or ``"invoiced"``; ``allowed`` is what is left of the
    line, ``requested`` what was asked.
    """

    code = "orders.quantity_exceeded"

    def __init__(
        self, order_id: str, sku: str, what: str, *, allowed: Decimal, requested: Decimal
    ) -> None:
        super().__init__(
            f"order {order_id!r}: cannot have {requested} of {sku} {what}; "
            f"only {allowed} of the line is left to be {what}"
        )
        self.order_id = order_id
        self.sku = sku
        self.what = what
        self.allowed = allowed
        self.requested = requested


class QuoteExpiredError(InvalidTransitionError):
    """A sales quote was accepted after its ``valid_until``: ask for a new one."""

    code = "orders.quote_expired"

    def __init__(self, quote_id: str, valid_until: str) -> None:
        super().__init__("quote", quote_id, "expired", "accepted")
        self.message = (
            f"quote {quote_id!r} expired at {valid_until}; request a new quote to order "
            "at negotiated prices"
        )
        self.args = (self.message,)
        self.valid_until = valid_until
