"""Orders model: carts, orders and their lifecycle, shipments, invoices, sales quotes
and shopping lists.

A :class:`Cart` holds SKUs and quantities only — prices come from the pricing engine
whenever the cart is shown or ordered. An :class:`Order` pins each line's
:class:`~b2bcore.pricing.resolve.PriceQuote` (with its explanation) so the price a
buyer ordered at never changes afterwards; its :class:`OrderStatus` moves only along
:data:`ORDER_TRANSITIONS`.

>>> from datetime import datetime, timezone
>>> from b2bcore.orders import Cart, OrderStatus, can_transition
>>> cart = Cart(id="cart-1", company_id="acme", owner_id="u-ben", currency="EUR",
...             created_at=datetime(2026, 5, 4, tzinfo=timezone.utc))
>>> cart.add("SEAL-7", 4).quantity
Decimal('4')
>>> cart.add("SEAL-7", 2).quantity  # the same SKU again adds up
Decimal('6')
>>> can_transition(OrderStatus.PARTIALLY_SHIPPED, OrderStatus.CANCELLED)
False

Every amount is :class:`~b2bcore.money.Money`; an order's total is exactly the sum of
its lines' net amounts, to the cent (checked whenever an order is built or read).
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Final

import attrs

from b2bcore._validate import bounded_quantity, enum_member, identifier, optional_identifier
from b2bcore.clock import to_utc
from b2bcore.errors import ConflictError, InvalidTransitionError, ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    BusinessUnitId,
    CartId,
    CategoryId,
    CompanyId,
    InvoiceId,
    OrderId,
    QuoteId,
    ShipmentId,
    ShoppingListId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.money import (
    CALCULATION_CONTEXT,
    Money,
    RoundingMode,
    RoundingPolicy,
    is_currency,
)
from b2bcore.orders.errors import QuantityExceededError
from b2bcore.pricing.resolve import PriceQuote

__all__ = [
    "Cart",
    "CartLine",
    "CartStatus",
    "CreditNote",
    "CreditNoteIssued",
    "Invoice",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoicePaid",
    "InvoiceStatus",
    "MAX_LINES",
    "MAX_QUANTITY",
    "ORDER_TRANSITIONS",
    "Order",
    "OrderLine",
    "OrderPlaced",
    "OrderStatus",
    "OrderStatusChanged",
    "Payment",
    "PaymentTerms",
    "PriceOverride",
    "QUOTE_TRANSITIONS",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
    "QuoteStatusChanged",
    "Shipment",
    "ShipmentDispatched",
    "ShipmentLine",
    "ShipmentTracked",
    "ShoppingList",
    "ShoppingListLine",
    "StatusChange",
    "TrackingEvent",
    "TrackingStatus",
    "can_transition",
]

#: The largest quantity a line may have (quantities have at most 6 decimals).
MAX_QUANTITY: Final = Decimal(10) ** 12
#: The most lines a cart, order, quote or shopping list may have.
MAX_LINES: Final = 500
_PLACES: Final = 6
_HALF_UP: Final = RoundingPolicy(RoundingMode.HALF_UP)


# --- small converters and validators ---------------------------------------------------


def _quantity(value: object, *, path: str, positive: bool = True) -> Decimal:
    """A quantity: a Decimal (or int / decimal str; never a float), above 0 (or from
    0), below :data:`MAX_QUANTITY`, with at most six decimals."""
    return bounded_quantity(value, path=path, positive=positive, below=MAX_QUANTITY, places=_PLACES)


def _line_quantity(value: object) -> Decimal:
    return _quantity(value, path="quantity")


def _done_quantity(value: object) -> Decimal:
    return _quantity(value, path="quantity", positive=False)


def _sku(value: str) -> Sku:
    return Sku(check_id(value, path="sku"))


def _category_path(value: object) -> tuple[CategoryId, ...]:
    """The category path of a line, root first (the SKU's own category last)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(
            "must be a list of category ids, root first", path="categories", value=value
        )
    return tuple(CategoryId(check_id(c, path=f"categories[{i}]")) for i, c in enumerate(value))


def _optional_unit(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _company(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _user(value: str) -> UserId:
    return UserId(check_id(value, path="user_id"))


def _optional_user(value: str | None) -> UserId | None:
    return None if value is None else UserId(check_id(value, path="owner_id"))


def _currency(_inst: object, _attribute: object, value: Any) -> None:
    if not is_currency(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency", path="currency", value=value
        )


def _short_text(max_length: int) -> Any:
    """Validator factory: a string (may be empty) of at most ``max_length`` characters."""

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str):
            raise ValidationError("must be a string", path=attribute.name, value=value)
        if len(value) > max_length:
            raise ValidationError(
                f"must be at most {max_length} characters (got {len(value)})",
                path=attribute.name,
                value=value,
            )

    return check


def _optional_short(max_length: int) -> Any:
    """Validator factory: None or a string of at most ``max_length`` characters."""
    short = _short_text(max_length)

    def check(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            short(inst, attribute, value)

    return check


def _required_text(max_length: int) -> Any:
    """Validator factory: a non-blank string of at most ``max_length`` characters."""
    short = _short_text(max_length)

    def check(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        short(inst, attribute, value)
        assert isinstance(value, str)
        if not value.strip():
            raise ValidationError("must not be blank", path=attribute.name, value=value)

    return check


def _at(value: datetime) -> datetime:
    return to_utc(value, path="at")


def _created_at(value: datetime) -> datetime:
    return to_utc(value, path="created_at")


def _shipped_at(value: datetime) -> datetime:
    return to_utc(value, path="shipped_at")


def _issued_at(value: datetime) -> datetime:
    return to_utc(value, path="issued_at")


def _updated_at(value: datetime) -> datetime:
    return to_utc(value, path="updated_at")


def _valid_until(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value, path="valid_until")


def _money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError("must be Money", path=attribute.name, value=value)


def _optional_money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _money(_inst, attribute, value)


def _positive_money(path: str, value: object) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("must be Money", path=path, value=value)
    if value.amount <= 0:
        raise ValidationError("must be more than zero", path=path, value=value)
    if not value.is_rounded():
        raise ValidationError(
            f"has more decimals than {value.currency} has", path=path, value=value
        )
    return value


def _line_no(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LINES:
        raise ValidationError(
            f"must be a line number from 1 to {MAX_LINES}", path=attribute.name, value=value
        )


def _typed_tuple(kind: type, path: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(f"must be a list of {kind.__name__}", path=path, value=value)
    if len(value) > MAX_LINES:
        raise ValidationError(f"at most {MAX_LINES} entries", path=path, value=len(value))
    for i, item in enumerate(value):
        if not isinstance(item, kind):
            raise ValidationError(f"must be a {kind.__name__}", path=f"{path}[{i}]", value=item)
    return tuple(value)


def _unique_skus(lines: tuple[Any, ...], path: str) -> None:
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.sku in seen:
            raise ValidationError(
                f"{line.sku} is on two lines; put its whole quantity on one",
                path=f"{path}[{i}].sku",
                value=line.sku,
            )
        seen.add(line.sku)


def _split(amount: Money, part: Decimal, whole: Decimal) -> Money:
    """``amount * part / whole`` rounded half-up to minor units."""
    with decimal.localcontext(CALCULATION_CONTEXT):
        exact = amount.amount * part / whole
    return Money(exact, amount.currency).round(_HALF_UP)


# --- status changes ----------------------------------------------------------------------


@attrs.frozen
class StatusChange:
    """One step of a lifecycle: from which state to which, when, by whom, why.

    ``from_status`` is None for the first state of a new order or quote.
    """

    to_status: str
    at: datetime = attrs.field(converter=_at)
    by: str = attrs.field(validator=identifier)
    from_status: str | None = None
    reason: str = attrs.field(default="", validator=_short_text(500))


def _history(value: object) -> tuple[StatusChange, ...]:
    return _typed_tuple(StatusChange, "history", value)


# --- carts -------------------------------------------------------------------------------


class CartStatus(enum.Enum):
    """A cart is open until it is ordered."""

    OPEN = "open"
    ORDERED = "ordered"


@attrs.frozen
class CartLine:
    """A SKU and a quantity in a cart: no price (prices come from the engine)."""

    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)


def _cart_lines(value: object) -> tuple[CartLine, ...]:
    lines: tuple[CartLine, ...] = _typed_tuple(CartLine, "lines", value)
    _unique_skus(lines, "lines")
    return lines


def _cart_id(value: str) -> CartId:
    return CartId(check_id(value, path="id"))


def _optional_order_id(value: str | None) -> OrderId | None:
    return None if value is None else OrderId(check_id(value, path="order_id"))


@attrs.define
class Cart(Aggregate):
    """One user's cart in one currency, for one business unit (default: the user's
    first). A SKU is on one line at most: adding it again adds the quantities up.

    Lines are changed only while the cart is ``OPEN``; an ordered
    cart names its order.
    """

    id: CartId = attrs.field(converter=_cart_id)
    company_id: CompanyId = attrs.field(converter=_company)
    owner_id: UserId = attrs.field(converter=_user)
    currency: str = attrs.field(validator=_currency)
    created_at: datetime = attrs.field(converter=_created_at)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_optional_unit)
    name: str = attrs.field(default="", validator=_short_text(100))
    lines: tuple[CartLine, ...] = attrs.field(factory=tuple, converter=_cart_lines)
    status: CartStatus = attrs.field(default=CartStatus.OPEN, validator=enum_member(CartStatus))
    order_id: OrderId | None = attrs.field(default=None, converter=_optional_order_id)
    source: str = attrs.field(default="", validator=_short_text(200))

    def _require_open(self) -> None:
        if self.status is not CartStatus.OPEN:
            raise ConflictError(
                f"cart {self.id!r} was already ordered (order {self.order_id}); "
                "start a new cart or reorder"
            )

    def line(self, sku: str) -> CartLine | None:
        """The line of ``sku``, if the cart has one."""
        for line in self.lines:
            if line.sku == sku:
                return line
        return None

    def add(self, sku: str, quantity: Decimal | int | str) -> CartLine:
        """Put ``quantity`` of ``sku`` in the cart (added to a line it already has)."""
        self._require_open()
        new = CartLine(sku=sku, quantity=quantity)
        old = self.line(new.sku)
        if old is None:
            if len(self.lines) >= MAX_LINES:
                raise ValidationError(f"a cart has at most {MAX_LINES} lines", path="lines")
            self.lines = (*self.lines, new)
            return new
        with decimal.localcontext(CALCULATION_CONTEXT):
            merged = CartLine(sku=new.sku, quantity=old.quantity + new.quantity)
        self.lines = tuple(merged if line.sku == new.sku else line for line in self.lines)
        return merged

    def set_quantity(self, sku: str, quantity: Decimal | int | str) -> CartLine:
        """Change the quantity of the line of ``sku`` (NotFound-like ValidationError
        if there is none)."""
        self._require_open()
        new = CartLine(sku=sku, quantity=quantity)
        if self.line(new.sku) is None:
            raise ValidationError(f"the cart has no line for {new.sku}", path="sku", value=sku)
        self.lines = tuple(new if line.sku == new.sku else line for line in self.lines)
        return new

    def remove(self, sku: str) -> None:
        """Take the line of ``sku`` out of the cart."""
        self._require_open()
        if self.line(sku) is None:
            raise ValidationError(f"the cart has no line for {sku}", path="sku", value=sku)
        self.lines = tuple(line for line in self.lines if line.sku != sku)

    def mark_ordered(self, order_id: str) -> None:
        """Close the cart: it became order ``order_id``."""
        self._require_open()
        self.status = CartStatus.ORDERED
        self.order_id = OrderId(check_id(order_id, path="order_id"))


# --- orders --------------------------------------------------------------------------------


class OrderStatus(enum.Enum):
    """Where an order is in its life (see :data:`ORDER_TRANSITIONS`)."""

    PENDING_APPROVAL = "pending_approval"
    PLACED = "placed"
    CONFIRMED = "confirmed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_S = OrderStatus

#: Every allowed move. An order waiting for approval is locked: it can only be
#: approved (placed) or cancelled. Cancelling is possible only before anything shipped
#: (and releases the order's stock reservations).
ORDER_TRANSITIONS: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = {
    _S.PENDING_APPROVAL: frozenset({_S.PLACED, _S.CANCELLED}),
    _S.PLACED: frozenset({_S.CONFIRMED, _S.CANCELLED}),
    _S.CONFIRMED: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.CANCELLED}),
    _S.PARTIALLY_SHIPPED: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED}),
    _S.SHIPPED: frozenset({_S.DELIVERED}),
    _S.DELIVERED: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    """Whether an order may go from ``current`` to ``new``.

    >>> can_transition(OrderStatus.PLACED, OrderStatus.CONFIRMED)
    True
    >>> can_transition(OrderStatus.PENDING_APPROVAL, OrderStatus.CONFIRMED)
    False
    """
    return new in ORDER_TRANSITIONS[current]


@attrs.frozen
class PriceOverride:
    """A negotiated unit price from a sales quote, replacing the engine's price: who
    proposed it, in which quote, and why."""

    unit_price: Money = attrs.field(validator=_money)
    reason: str = attrs.field(validator=_required_text(500))
    quote_id: QuoteId = attrs.field(validator=identifier)
    proposed_by: str = attrs.field(validator=identifier)


def _optional_override(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, PriceOverride):
        raise ValidationError("must be a PriceOverride or None", path="override", value=value)


def _price_quote(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, PriceQuote):
        raise ValidationError("must be a PriceQuote", path="price", value=value)


@attrs.frozen
class OrderLine:
    """One ordered SKU, priced for good.

    ``price`` is the engine's pinned :class:`~b2bcore.pricing.resolve.PriceQuote`
    (explanation included, as the buyer may see it); ``override`` a negotiated price
    from a sales quote that replaced it. ``categories`` is the SKU's category path
    when it was ordered (root first). ``gross`` is the line before cart discounts,
    ``net = gross - discount + rounding`` what the line costs (in minor units).
    ``shipped_quantity`` and ``invoiced_quantity`` / ``invoiced_amount`` grow as the
    line is shipped and invoiced; neither ever exceeds the line.
    """

    line_no: int = attrs.field(validator=_line_no)
    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)
    price: PriceQuote = attrs.field(validator=_price_quote)
    unit_price: Money = attrs.field(validator=_money)
    gross: Money = attrs.field(validator=_money)
    discount: Money = attrs.field(validator=_money)
    rounding: Money = attrs.field(validator=_money)
    net: Money = attrs.field(validator=_money)
    name: str = attrs.field(default="", validator=_short_text(200))
    categories: tuple[CategoryId, ...] = attrs.field(factory=tuple, converter=_category_path)
    override: PriceOverride | None = attrs.field(default=None, validator=_optional_override)
    shipped_quantity: Decimal = attrs.field(default=Decimal(0), converter=_done_quantity)
    invoiced_quantity: Decimal = attrs.field(default=Decimal(0), converter=_done_quantity)
    invoiced_amount: Money | None = attrs.field(default=None, validator=_optional_money)

    def __attrs_post_init__(self) -> None:
        currency = self.net.currency
        for name in ("unit_price", "gross", "discount", "rounding"):
            money: Money = getattr(self, name)
            if money.currency != currency:
                raise ValidationError(
                    f"{name} is in {money.currency}, the line in {currency}",
                    path=name,
                    value=money,
                )
        if self.price.sku != self.sku:
            raise ValidationError(
                f"the pinned price is for {self.price.sku}, not {self.sku}", path="price"
            )
        if self.gross - self.discount + self.rounding != self.net:
            raise ValidationError(
                f"net {self.net} is not gross {self.gross} - discount {self.discount} "
                f"+ rounding {self.rounding}",
                path="net",
                value=self.net,
            )
        if not self.net.is_rounded() or self.net.is_negative():
            raise ValidationError(
                f"net {self.net} must be a non-negative amount in minor units",
                path="net",
                value=self.net,
            )
        for name in ("shipped_quantity", "invoiced_quantity"):
            done: Decimal = getattr(self, name)
            if done > self.quantity:
                raise ValidationError(
                    f"{name} {done} exceeds the ordered {self.quantity}", path=name, value=done
                )
        invoiced = self.invoiced_amount
        if invoiced is not None and (invoiced.currency != currency or invoiced > self.net):
            raise ValidationError(
                f"invoiced_amount {invoiced} exceeds the line's {self.net}",
                path="invoiced_amount",
                value=invoiced,
            )

    # -- what approvals read (ApprovalSubject lines: sku, amount, categories) -------------
    @property
    def category_id(self) -> CategoryId | None:
        """The SKU's own category when it was ordered (the last of ``categories``)."""
        return self.categories[-1] if self.categories else None

    @property
    def amount(self) -> Money:
        """What the line costs (its net amount)."""
        return self.net

    @property
    def left_to_ship(self) -> Decimal:
        """Ordered and not shipped yet."""
        return _minus(self.quantity, self.shipped_quantity)

    @property
    def left_to_invoice(self) -> Decimal:
        """Ordered and not invoiced yet."""
        return _minus(self.quantity, self.invoiced_quantity)


def _minus(a: Decimal, b: Decimal) -> Decimal:
    with decimal.localcontext(CALCULATION_CONTEXT):
        return a - b


def _plus(a: Decimal, b: Decimal) -> Decimal:
    with decimal.localcontext(CALCULATION_CONTEXT):
        return a + b


def _order_lines(value: object) -> tuple[OrderLine, ...]:
    lines: tuple[OrderLine, ...] = _typed_tuple(OrderLine, "lines", value)
    if not lines:
        raise ValidationError("an order has at least one line", path="lines", value=value)
    _unique_skus(lines, "lines")
    for i, line in enumerate(lines):
        if line.line_no != i + 1:
            raise ValidationError(
                f"lines are numbered 1, 2, 3 …: line {i + 1} says {line.line_no}",
                path=f"lines[{i}].line_no",
                value=line.line_no,
            )
    return lines


def _order_id(value: str) -> OrderId:
    return OrderId(check_id(value, path="id"))


def _optional_cart(value: str | None) -> CartId | None:
    return None if value is None else CartId(check_id(value, path="cart_id"))


def _optional_quote(value: str | None) -> QuoteId | None:
    return None if value is None else QuoteId(check_id(value, path="quote_id"))


def _optional_reorder(value: str | None) -> OrderId | None:
    return None if value is None else OrderId(check_id(value, path="reorder_of"))


def _optional_text_id(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
        raise ValidationError(
            "must be None or a string of 1-255 characters", path=attribute.name, value=value
        )


@attrs.define
class Order(Aggregate):
    """A buyer company's order: who requested it (and who pressed the button), for
    which business unit and cost center, its priced lines and its lifecycle.

    ``total`` is exactly the sum of the lines' ``net`` amounts. ``history`` records
    every status change (from, to, when, by whom, why); ``status`` only moves along
    :data:`ORDER_TRANSITIONS` (:meth:`transition`), and every move records an
    :class:`OrderStatusChanged` event. An order in ``PENDING_APPROVAL`` is locked.

    An order is an *approval subject*: approvals read ``subject_kind``,
    ``subject_id``, ``company_id``, ``total``, ``lines`` (each with ``sku``,
    ``amount`` and ``categories``), ``requester_id``, ``business_unit_id`` and
    ``cost_center``.
    """

    subject_kind: ClassVar[str] = "order"

    id: OrderId = attrs.field(converter=_order_id)
    company_id: CompanyId = attrs.field(converter=_company)
    requester_id: UserId = attrs.field(converter=_user)
    placed_by: str = attrs.field(validator=identifier)
    currency: str = attrs.field(validator=_currency)
    lines: tuple[OrderLine, ...] = attrs.field(converter=_order_lines)
    total: Money = attrs.field(validator=_money)
    created_at: datetime = attrs.field(converter=_created_at)
    status: OrderStatus = attrs.field(validator=enum_member(OrderStatus))
    history: tuple[StatusChange, ...] = attrs.field(factory=tuple, converter=_history)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_optional_unit)
    cost_center: str | None = attrs.field(default=None, validator=_optional_short(100))
    reference: str = attrs.field(default="", validator=_short_text(100))
    po_number: str = attrs.field(default="", validator=_short_text(50))
    cart_id: CartId | None = attrs.field(default=None, converter=_optional_cart)
    quote_id: QuoteId | None = attrs.field(default=None, converter=_optional_quote)
    reorder_of: OrderId | None = attrs.field(default=None, converter=_optional_reorder)
    approval_flow_id: str | None = attrs.field(default=None, validator=_optional_text_id)
    idempotency_key: str | None = attrs.field(default=None, validator=_optional_text_id)
    assisted_session_id: str | None = attrs.field(default=None, validator=_optional_text_id)

    def __attrs_post_init__(self) -> None:
        for i, line in enumerate(self.lines):
            if line.net.currency != self.currency:
                raise ValidationError(
                    f"line {line.line_no} is in {line.net.currency}, the order in {self.currency}",
                    path=f"lines[{i}].net",
                    value=line.net,
                )
        expected = sum((line.net for line in self.lines), Money.zero(self.currency))
        if self.total != expected:
            raise ValidationError(
                f"total {self.total} is not the sum of the lines' net amounts ({expected})",
                path="total",
                value=self.total,
            )

    # -- derived ----------------------------------------------------------------------
    @property
    def subject_id(self) -> str:
        """The order id (the approval subject's id)."""
        return self.id

    @property
    def subtotal(self) -> Money:
        """The lines' gross amounts together (before cart discounts)."""
        return sum((line.gross for line in self.lines), Money.zero(self.currency))

    @property
    def discount_total(self) -> Money:
        """The cart discounts taken off the lines together."""
        return sum((line.discount for line in self.lines), Money.zero(self.currency))

    @property
    def locked(self) -> bool:
        """Whether the order waits for approval (nothing but approve/cancel moves it)."""
        return self.status is OrderStatus.PENDING_APPROVAL

    @property
    def fully_shipped(self) -> bool:
        """Whether every line is shipped completely."""
        return all(line.left_to_ship == 0 for line in self.lines)

    @property
    def shipped_anything(self) -> bool:
        """Whether any quantity has been shipped."""
        return any(line.shipped_quantity > 0 for line in self.lines)

    @property
    def placed_at(self) -> datetime | None:
        """When the order entered ``PLACED`` (None while it waits for approval)."""
        for change in self.history:
            if change.to_status == OrderStatus.PLACED.value:
                return change.at
        return None

    def line_for(self, sku: str) -> OrderLine:
        """The line of ``sku`` (ValidationError naming the order's SKUs if none)."""
        for line in self.lines:
            if line.sku == sku:
                return line
        skus = ", ".join(line.sku for line in self.lines)
        raise ValidationError(
            f"order {self.id!r} has no line for {sku!r} (its SKUs: {skus})", path="sku", value=sku
        )

    # -- lifecycle --------------------------------------------------------------------
    def start(self, *, at: datetime, by: str, reason: str = "") -> None:
        """Record the order's first state (``PLACED`` or ``PENDING_APPROVAL``) and
        the :class:`OrderPlaced` event; a new order only."""
        if self.history:
            raise ConflictError(f"order {self.id!r} was started already")
        if self.status not in (OrderStatus.PLACED, OrderStatus.PENDING_APPROVAL):
            raise InvalidTransitionError("order", self.id, "new", self.status.value)
        when = to_utc(at, path="at")
        self.history = (StatusChange(to_status=self.status.value, at=when, by=by, reason=reason),)
        self.record(
            OrderPlaced(
                company_id=self.company_id,
                occurred_at=when,
                order_id=self.id,
                status=self.status.value,
                total=self.total,
                requester_id=self.requester_id,
                placed_by=by,
            )
        )

    def transition(self, new: OrderStatus, *, at: datetime, by: str, reason: str = "") -> None:
        """Move to ``new`` if :data:`ORDER_TRANSITIONS` allows it; otherwise
        :class:`~b2bcore.errors.InvalidTransitionError` naming both states."""
        if not isinstance(new, OrderStatus):
            raise ValidationError("must be an OrderStatus", path="status", value=new)
        old = self.status
        if not can_transition(old, new):
            raise InvalidTransitionError("order", self.id, old.value, new.value)
        when = to_utc(at, path="at")
        change = StatusChange(
            from_status=old.value, to_status=new.value, at=when, by=by, reason=reason
        )
        self.status = new
        self.history = (*self.history, change)
        self.record(
            OrderStatusChanged(
                company_id=self.company_id,
                occurred_at=when,
                order_id=self.id,
                from_status=old.value,
                to_status=new.value,
                by=by,
                reason=reason,
            )
        )

    def ship(
        self, quantities: Mapping[str, Decimal | int | str], *, at: datetime, by: str
    ) -> OrderStatus:
        """Count ``quantities`` (SKU → quantity, each positive) as shipped and move to
        ``PARTIALLY_SHIPPED`` or ``SHIPPED``; returns the new status.

        Only a confirmed (or partially shipped) order ships; more than is left of a
        line raises :class:`~b2bcore.orders.errors.QuantityExceededError` and changes
        nothing.
        """
        target = OrderStatus.PARTIALLY_SHIPPED
        if self.status not in (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED):
            raise InvalidTransitionError("order", self.id, self.status.value, target.value)
        updated = {line.sku: line for line in self.lines}
        if not quantities:
            raise ValidationError("name at least one SKU to ship", path="quantities")
        for sku, quantity in quantities.items():
            line = self.line_for(sku)
            q = _quantity(quantity, path=f"quantities[{sku}]")
            if q > line.left_to_ship:
                raise QuantityExceededError(
                    self.id, line.sku, "shipped", allowed=line.left_to_ship, requested=q
                )
            updated[line.sku] = attrs.evolve(line, shipped_quantity=_plus(line.shipped_quantity, q))
        lines = tuple(updated[line.sku] for line in self.lines)
        done = all(line.left_to_ship == 0 for line in lines)
        self.transition(
            OrderStatus.SHIPPED if done else OrderStatus.PARTIALLY_SHIPPED, at=at, by=by
        )
        self.lines = lines
        return self.status

    def invoice(self, quantities: Mapping[str, Decimal | int | str]) -> list[InvoiceLine]:
        """Count ``quantities`` (SKU → quantity) as invoiced and return the invoice
        lines, each line's amount its share of the line's net amount (the last part
        takes the remainder, so a line invoiced in parts sums exactly to its net).

        More than is left to invoice raises
        :class:`~b2bcore.orders.errors.QuantityExceededError`; a locked or cancelled
        order is never invoiced.
        """
        if self.status in (OrderStatus.PENDING_APPROVAL, OrderStatus.CANCELLED):
            raise ConflictError(
                f"order {self.id!r} is {self.status.value.replace('_', ' ')}: "
                "nothing of it can be invoiced"
            )
        if not quantities:
            raise ValidationError("name at least one SKU to invoice", path="quantities")
        updated = {line.sku: line for line in self.lines}
        out: list[InvoiceLine] = []
        for sku, quantity in quantities.items():
            line = self.line_for(sku)
            q = _quantity(quantity, path=f"quantities[{sku}]")
            if q > line.left_to_invoice:
                raise QuantityExceededError(
                    self.id, line.sku, "invoiced", allowed=line.left_to_invoice, requested=q
                )
            already = line.invoiced_amount or Money.zero(self.currency)
            amount = (
                line.net - already
                if q == line.left_to_invoice
                else min(_split(line.net, q, line.quantity), line.net - already)
            )
            updated[line.sku] = attrs.evolve(
                line,
                invoiced_quantity=_plus(line.invoiced_quantity, q),
                invoiced_amount=already + amount,
            )
            out.append(InvoiceLine(line_no=line.line_no, sku=line.sku, quantity=q, amount=amount))
        self.lines = tuple(updated[line.sku] for line in self.lines)
        return sorted(out, key=lambda il: il.line_no)


# --- shipments -----------------------------------------------------------------------------


class TrackingStatus(enum.Enum):
    """What a carrier reports about a shipment."""

    SHIPPED = "shipped"  # handed to the carrier
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # delayed, damaged, address problem … (see the description)


@attrs.frozen
class TrackingEvent:
    """One entry of a shipment's timeline (the customer's "where is my order")."""

    at: datetime = attrs.field(converter=_at)
    status: TrackingStatus = attrs.field(validator=enum_member(TrackingStatus))
    location: str = attrs.field(default="", validator=_short_text(200))
    description: str = attrs.field(default="", validator=_short_text(500))


@attrs.frozen
class ShipmentLine:
    """How much of one order line a shipment carries."""

    line_no: int = attrs.field(validator=_line_no)
    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)


def _shipment_lines(value: object) -> tuple[ShipmentLine, ...]:
    lines: tuple[ShipmentLine, ...] = _typed_tuple(ShipmentLine, "lines", value)
    if not lines:
        raise ValidationError("a shipment carries at least one line", path="lines")
    _unique_skus(lines, "lines")
    return lines


def _tracking_events(value: object) -> tuple[TrackingEvent, ...]:
    events: tuple[TrackingEvent, ...] = _typed_tuple(TrackingEvent, "events", value)
    return tuple(sorted(events, key=lambda e: e.at))


def _shipment_id(value: str) -> ShipmentId:
    return ShipmentId(check_id(value, path="id"))


def _order_ref(value: str) -> OrderId:
    return OrderId(check_id(value, path="order_id"))


def _optional_invoice(value: str | None) -> InvoiceId | None:
    return None if value is None else InvoiceId(check_id(value, path="invoice_id"))


@attrs.define
class Shipment(Aggregate):
    """A parcel (or truck) of an order: carrier, tracking number, the quantities of
    each line it carries, and the carrier's timeline of :class:`TrackingEvent` s
    (kept in time order)."""

    id: ShipmentId = attrs.field(converter=_shipment_id)
    company_id: CompanyId = attrs.field(converter=_company)
    order_id: OrderId = attrs.field(converter=_order_ref)
    carrier: str = attrs.field(validator=_required_text(80))
    tracking_number: str = attrs.field(validator=_required_text(80))
    shipped_at: datetime = attrs.field(converter=_shipped_at)
    lines: tuple[ShipmentLine, ...] = attrs.field(converter=_shipment_lines)
    events: tuple[TrackingEvent, ...] = attrs.field(factory=tuple, converter=_tracking_events)
    invoice_id: InvoiceId | None = attrs.field(default=None, converter=_optional_invoice)

    @property
    def status(self) -> TrackingStatus:
        """The latest tracking status (``SHIPPED`` before the carrier reports)."""
        return self.events[-1].status if self.events else TrackingStatus.SHIPPED

    @property
    def delivered_at(self) -> datetime | None:
        """When the carrier reported the delivery, if it did."""
        for event in self.events:
            if event.status is TrackingStatus.DELIVERED:
                return event.at
        return None

    def track(self, event: TrackingEvent) -> bool:
        """Add a carrier event to the timeline; False (and nothing recorded) when the
        same event is known already (carriers repeat themselves)."""
        if not isinstance(event, TrackingEvent):
            raise ValidationError("must be a TrackingEvent", path="event", value=event)
        if event in self.events:
            return False
        self.events = (*self.events, event)
        self.record(
            ShipmentTracked(
                company_id=self.company_id,
                occurred_at=event.at,
                shipment_id=self.id,
                order_id=self.order_id,
                status=event.status.value,
                location=event.location,
            )
        )
        return True


# --- invoices ------------------------------------------------------------------------------


class InvoiceStatus(enum.Enum):
    """``OPEN`` until paid or credited in full; ``OVERDUE`` is an open invoice past its
    due date (computed against a given instant, never stored)."""

    OPEN = "open"
    PAID = "paid"
    OVERDUE = "overdue"
    CREDITED = "credited"


def _net_days(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise ValidationError(
            "must be a whole number of days from 0 to 3650", path=attribute.name, value=value
        )


@attrs.frozen
class PaymentTerms:
    """When an invoice is due: ``net_days`` after its issue date (net 30, net 60 …).

    >>> from datetime import date
    >>> PaymentTerms(30).due_date(date(2026, 11, 20))
    datetime.date(2026, 12, 20)
    >>> PaymentTerms(30).describe()
    'net 30'
    """

    net_days: int = attrs.field(default=30, validator=_net_days)

    def due_date(self, issue_date: date) -> date:
        """The due date of an invoice issued on ``issue_date``."""
        return issue_date + timedelta(days=self.net_days)

    def describe(self) -> str:
        """``net 30`` (``due on receipt`` for 0 days)."""
        return "due on receipt" if self.net_days == 0 else f"net {self.net_days}"


@attrs.frozen
class InvoiceLine:
    """An invoiced quantity of one order line and its amount."""

    line_no: int = attrs.field(validator=_line_no)
    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)
    amount: Money = attrs.field(validator=_money)


@attrs.frozen
class Payment:
    """A payment received against an invoice."""

    amount: Money = attrs.field(validator=_money)
    at: datetime = attrs.field(converter=_at)
    reference: str = attrs.field(default="", validator=_short_text(100))


@attrs.frozen
class CreditNote:
    """Money credited back on an invoice (a claim's refund, a goodwill credit …).

    ``reference`` names what it is for (a claim id, a return number).
    """

    id: str = attrs.field(validator=identifier)
    amount: Money = attrs.field(validator=_money)
    reason: str = attrs.field(validator=_required_text(500))
    issued_at: datetime = attrs.field(converter=_issued_at)
    reference: str = attrs.field(default="", validator=_short_text(100))


def _invoice_lines(value: object) -> tuple[InvoiceLine, ...]:
    lines: tuple[InvoiceLine, ...] = _typed_tuple(InvoiceLine, "lines", value)
    if not lines:
        raise ValidationError("an invoice has at least one line", path="lines")
    _unique_skus(lines, "lines")
    return lines


def _payments(value: object) -> tuple[Payment, ...]:
    return _typed_tuple(Payment, "payments", value)


def _credit_notes(value: object) -> tuple[CreditNote, ...]:
    return _typed_tuple(CreditNote, "credit_notes", value)


def _invoice_id(value: str) -> InvoiceId:
    return InvoiceId(check_id(value, path="id"))


def _optional_shipment(value: str | None) -> ShipmentId | None:
    return None if value is None else ShipmentId(check_id(value, path="shipment_id"))


def _terms(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, PaymentTerms):
        raise ValidationError("must be PaymentTerms", path="terms", value=value)


def _settled_status(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.CREDITED):
        raise ValidationError(
            "a stored invoice is open, paid or credited (overdue is computed)",
            path=attribute.name,
            value=value,
        )


@attrs.define
class Invoice(Aggregate):
    """An invoice of an order (or of one shipment of it): lines, total, payment
    terms, payments and credit notes. ``requester_id`` and ``business_unit_id`` are
    the order's (view scopes of ``invoices.view`` read them).

    ``balance = total - paid - credited`` (negative: a credit in the buyer's favour).
    The issue date is ``issued_at``'s date in UTC; the due date that plus the terms'
    days. :meth:`status_at` says ``OVERDUE`` for an open invoice after its due date.
    """

    id: InvoiceId = attrs.field(converter=_invoice_id)
    company_id: CompanyId = attrs.field(converter=_company)
    order_id: OrderId = attrs.field(converter=_order_ref)
    currency: str = attrs.field(validator=_currency)
    issued_at: datetime = attrs.field(converter=_issued_at)
    terms: PaymentTerms = attrs.field(validator=_terms)
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_invoice_lines)
    total: Money = attrs.field(validator=_money)
    requester_id: UserId = attrs.field(converter=_user)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_optional_unit)
    shipment_id: ShipmentId | None = attrs.field(default=None, converter=_optional_shipment)
    payments: tuple[Payment, ...] = attrs.field(factory=tuple, converter=_payments)
    credit_notes: tuple[CreditNote, ...] = attrs.field(factory=tuple, converter=_credit_notes)
    status: InvoiceStatus = attrs.field(default=InvoiceStatus.OPEN, validator=_settled_status)

    def __attrs_post_init__(self) -> None:
        amounts = [line.amount for line in self.lines]
        amounts += [p.amount for p in self.payments] + [c.amount for c in self.credit_notes]
        for money in (self.total, *amounts):
            if money.currency != self.currency:
                raise ValidationError(
                    f"{money} is not in the invoice's currency {self.currency}",
                    path="currency",
                    value=money,
                )
        expected = sum((line.amount for line in self.lines), Money.zero(self.currency))
        if self.total != expected:
            raise ValidationError(
                f"total {self.total} is not the sum of the lines ({expected})",
                path="total",
                value=self.total,
            )

    @property
    def issue_date(self) -> date:
        """The date the invoice was issued (UTC)."""
        return self.issued_at.date()

    @property
    def due_date(self) -> date:
        """The issue date plus the payment terms' days."""
        return self.terms.due_date(self.issue_date)

    @property
    def paid_total(self) -> Money:
        """Every payment together."""
        return sum((p.amount for p in self.payments), Money.zero(self.currency))

    @property
    def credited_total(self) -> Money:
        """Every credit note together."""
        return sum((c.amount for c in self.credit_notes), Money.zero(self.currency))

    @property
    def balance(self) -> Money:
        """What is still owed (negative: owed to the buyer)."""
        return self.total - self.paid_total - self.credited_total

    def status_at(self, now: datetime) -> InvoiceStatus:
        """The status at instant ``now``: ``OVERDUE`` for an open invoice whose due date
        has passed (UTC dates), else the stored status."""
        instant = to_utc(now, path="now")
        if self.status is InvoiceStatus.OPEN and instant.date() > self.due_date:
            return InvoiceStatus.OVERDUE
        return self.status

    def _settle(self) -> None:
        if self.credited_total == self.total:
            self.status = InvoiceStatus.CREDITED
        elif not self.balance.amount > 0:
            self.status = InvoiceStatus.PAID
        else:
            self.status = InvoiceStatus.OPEN

    def record_payment(self, amount: Money, *, at: datetime, reference: str = "") -> Payment:
        """Count a payment (at most the open balance: an overpayment is refused)."""
        money = _positive_money("amount", amount)
        if money.currency != self.currency:
            raise ValidationError(
                f"the invoice is in {self.currency}, the payment in {money.currency}",
                path="amount",
                value=money,
            )
        if money > self.balance:
            raise ValidationError(
                f"{money} is more than the open balance of {self.balance}",
                path="amount",
                value=money,
            )
        payment = Payment(amount=money, at=at, reference=reference)
        self.payments = (*self.payments, payment)
        self._settle()
        self.record(
            InvoicePaid(
                company_id=self.company_id,
                occurred_at=payment.at,
                invoice_id=self.id,
                amount=money,
                balance=self.balance,
            )
        )
        return payment

    def credit(
        self, amount: Money, *, reason: str, at: datetime, credit_id: str, reference: str = ""
    ) -> CreditNote:
        """Issue a credit note of ``amount`` (at most what is not credited yet)."""
        money = _positive_money("amount", amount)
        if money.currency != self.currency:
            raise ValidationError(
                f"the invoice is in {self.currency}, the credit in {money.currency}",
                path="amount",
                value=money,
            )
        creditable = self.total - self.credited_total
        if money > creditable:
            raise ValidationError(
                f"{money} is more than the {creditable} of the invoice not credited yet",
                path="amount",
                value=money,
            )
        if any(c.id == credit_id for c in self.credit_notes):
            raise ConflictError(f"credit note {credit_id!r} exists on invoice {self.id!r}")
        note = CreditNote(
            id=credit_id, amount=money, reason=reason, issued_at=at, reference=reference
        )
        self.credit_notes = (*self.credit_notes, note)
        self._settle()
        self.record(
            CreditNoteIssued(
                company_id=self.company_id,
                occurred_at=note.issued_at,
                invoice_id=self.id,
                credit_note_id=note.id,
                amount=money,
                reference=reference,
            )
        )
        return note


# --- sales quotes (RFQ) --------------------------------------------------------------------


class QuoteStatus(enum.Enum):
    """The sales pipeline of a request for quotation (see :data:`QUOTE_TRANSITIONS`)."""

    DRAFT = "draft"
    REQUESTED = "requested"
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


_Q = QuoteStatus

#: The buyer drafts and requests; the seller's agent proposes (again, to revise);
#: the buyer accepts before ``valid_until`` or declines; a proposal not accepted in
#: time expires. Either side may decline a request.
QUOTE_TRANSITIONS: Final[Mapping[QuoteStatus, frozenset[QuoteStatus]]] = {
    _Q.DRAFT: frozenset({_Q.REQUESTED, _Q.DECLINED}),
    _Q.REQUESTED: frozenset({_Q.PROPOSED, _Q.DECLINED}),
    _Q.PROPOSED: frozenset({_Q.PROPOSED, _Q.ACCEPTED, _Q.DECLINED, _Q.EXPIRED}),
    _Q.ACCEPTED: frozenset(),
    _Q.DECLINED: frozenset(),
    _Q.EXPIRED: frozenset(),
}


def _optional_price_quote(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, PriceQuote):
        raise ValidationError("must be a PriceQuote or None", path="list_price", value=value)


@attrs.frozen
class QuoteLine:
    """A SKU and quantity the buyer asks a price for; once proposed, ``list_price`` is
    what the engine would charge (pinned, explained) and ``unit_price`` the
    agent's price. A ``unit_price`` that differs from the engine's is an override and
    carries its ``reason``."""

    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)
    name: str = attrs.field(default="", validator=_short_text(200))
    categories: tuple[CategoryId, ...] = attrs.field(factory=tuple, converter=_category_path)
    list_price: PriceQuote | None = attrs.field(default=None, validator=_optional_price_quote)
    unit_price: Money | None = attrs.field(default=None, validator=_optional_money)
    reason: str = attrs.field(default="", validator=_short_text(500))

    def __attrs_post_init__(self) -> None:
        if self.unit_price is not None:
            if self.unit_price.is_negative() or not self.unit_price.is_rounded():
                raise ValidationError(
                    "a proposed unit price is a non-negative amount in minor units",
                    path="unit_price",
                    value=self.unit_price,
                )
            if self.is_override and not self.reason.strip():
                engine = self.list_price.unit_price if self.list_price is not None else None
                raise ValidationError(
                    f"{self.unit_price} for {self.sku} differs from the price list's "
                    f"{engine}: give the reason for the override",
                    path="reason",
                    value=self.reason,
                )

    @property
    def is_override(self) -> bool:
        """Whether the proposed price differs from the engine's."""
        if self.unit_price is None:
            return False
        return self.list_price is None or self.unit_price != self.list_price.unit_price

    @property
    def category_id(self) -> CategoryId | None:
        """The SKU's own category (the last of ``categories``)."""
        return self.categories[-1] if self.categories else None

    @property
    def amount(self) -> Money | None:
        """The line at the proposed price (rounded half-up), None before a proposal."""
        if self.unit_price is None:
            return None
        return (self.unit_price * self.quantity).round(_HALF_UP)


def _quote_lines(value: object) -> tuple[QuoteLine, ...]:
    lines: tuple[QuoteLine, ...] = _typed_tuple(QuoteLine, "lines", value)
    if not lines:
        raise ValidationError("a quote asks for at least one line", path="lines")
    _unique_skus(lines, "lines")
    return lines


def _quote_id(value: str) -> QuoteId:
    return QuoteId(check_id(value, path="id"))


@attrs.define
class Quote(Aggregate):
    """A request for quotation and the seller's answer (the B2B sales pipeline).

    The buyer drafts lines and requests; an agent proposes prices valid until
    ``valid_until``; the buyer accepts (which orders at the quoted prices) or
    declines. :meth:`status_at` reports a proposal past its validity as ``EXPIRED``
    even before anyone stored that.
    """

    subject_kind: ClassVar[str] = "quote"

    id: QuoteId = attrs.field(converter=_quote_id)
    company_id: CompanyId = attrs.field(converter=_company)
    requester_id: UserId = attrs.field(converter=_user)
    currency: str = attrs.field(validator=_currency)
    created_at: datetime = attrs.field(converter=_created_at)
    lines: tuple[QuoteLine, ...] = attrs.field(converter=_quote_lines)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_optional_unit)
    cost_center: str | None = attrs.field(default=None, validator=_optional_short(100))
    message: str = attrs.field(default="", validator=_short_text(2000))
    status: QuoteStatus = attrs.field(default=QuoteStatus.DRAFT, validator=enum_member(QuoteStatus))
    history: tuple[StatusChange, ...] = attrs.field(factory=tuple, converter=_history)
    proposed_by: str | None = attrs.field(default=None, validator=optional_identifier)
    valid_until: datetime | None = attrs.field(default=None, converter=_valid_until)
    order_id: OrderId | None = attrs.field(default=None, converter=_optional_order_id)

    @property
    def subject_id(self) -> str:
        """The quote id (the approval subject's id)."""
        return self.id

    @property
    def total(self) -> Money:
        """The proposed lines together (zero before a proposal)."""
        amounts = [line.amount for line in self.lines if line.amount is not None]
        return sum(amounts, Money.zero(self.currency))

    def status_at(self, now: datetime) -> QuoteStatus:
        """``EXPIRED`` for a proposal whose ``valid_until`` has passed, else the status."""
        instant = to_utc(now, path="now")
        if (
            self.status is QuoteStatus.PROPOSED
            and self.valid_until is not None
            and instant >= self.valid_until
        ):
            return QuoteStatus.EXPIRED
        return self.status

    def transition(self, new: QuoteStatus, *, at: datetime, by: str, reason: str = "") -> None:
        """Move to ``new`` along :data:`QUOTE_TRANSITIONS` (InvalidTransitionError
        naming both states otherwise), recording a :class:`QuoteStatusChanged`."""
        if not isinstance(new, QuoteStatus):
            raise ValidationError("must be a QuoteStatus", path="status", value=new)
        old = self.status
        if new not in QUOTE_TRANSITIONS[old]:
            raise InvalidTransitionError("quote", self.id, old.value, new.value)
        when = to_utc(at, path="at")
        self.status = new
        self.history = (
            *self.history,
            StatusChange(from_status=old.value, to_status=new.value, at=when, by=by, reason=reason),
        )
        self.record(
            QuoteStatusChanged(
                company_id=self.company_id,
                occurred_at=when,
                quote_id=self.id,
                from_status=old.value,
                to_status=new.value,
                by=by,
            )
        )

    def replace_lines(self, lines: tuple[QuoteLine, ...]) -> None:
        """Change the requested lines (a draft only)."""
        if self.status is not QuoteStatus.DRAFT:
            raise ConflictError(
                f"quote {self.id!r} is {self.status.value}: only a draft's lines can change"
            )
        self.lines = _quote_lines(lines)


# --- shopping lists ------------------------------------------------------------------------


@attrs.frozen
class ShoppingListLine:
    """A SKU, the usual quantity and a note on a shopping list."""

    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)
    note: str = attrs.field(default="", validator=_short_text(200))


def _list_lines(value: object) -> tuple[ShoppingListLine, ...]:
    lines: tuple[ShoppingListLine, ...] = _typed_tuple(ShoppingListLine, "lines", value)
    _unique_skus(lines, "lines")
    return lines


def _list_id(value: str) -> ShoppingListId:
    return ShoppingListId(check_id(value, path="id"))


@attrs.define
class ShoppingList(Aggregate):
    """A named, saved list of SKUs: a user's own (``owner_id``) or a business unit's
    (``business_unit_id``), exactly one of the two. Turned into a cart with
    :meth:`b2bcore.orders.service.OrdersService.list_to_cart`."""

    id: ShoppingListId = attrs.field(converter=_list_id)
    company_id: CompanyId = attrs.field(converter=_company)
    name: str = attrs.field(validator=_required_text(100))
    created_by: UserId = attrs.field(converter=_user)
    updated_at: datetime = attrs.field(converter=_updated_at)
    owner_id: UserId | None = attrs.field(default=None, converter=_optional_user)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_optional_unit)
    lines: tuple[ShoppingListLine, ...] = attrs.field(factory=tuple, converter=_list_lines)

    def __attrs_post_init__(self) -> None:
        if (self.owner_id is None) == (self.business_unit_id is None):
            raise ValidationError(
                "a shopping list belongs to one user (owner_id) or one business unit "
                "(business_unit_id), exactly one of the two",
                path="owner_id",
            )

    def put(self, sku: str, quantity: Decimal | int | str, *, note: str = "") -> None:
        """Add ``sku`` or change its quantity and note."""
        new = ShoppingListLine(sku=sku, quantity=quantity, note=note)
        if all(line.sku != new.sku for line in self.lines):
            if len(self.lines) >= MAX_LINES:
                raise ValidationError(f"a list has at most {MAX_LINES} lines", path="lines")
            self.lines = (*self.lines, new)
        else:
            self.lines = tuple(new if line.sku == new.sku else line for line in self.lines)

    def remove(self, sku: str) -> None:
        """Take ``sku`` off the list."""
        if all(line.sku != sku for line in self.lines):
            raise ValidationError(f"the list has no line for {sku}", path="sku", value=sku)
        self.lines = tuple(line for line in self.lines if line.sku != sku)


# --- events --------------------------------------------------------------------------------


@register_event
@attrs.frozen(kw_only=True)
class OrderPlaced(DomainEvent):
    """An order was created: placed, or waiting for approval (``status``)."""

    event_type = "orders.order_placed"
    order_id: OrderId
    status: str
    total: Money
    requester_id: UserId
    placed_by: str


@register_event
@attrs.frozen(kw_only=True)
class OrderStatusChanged(DomainEvent):
    """An order moved from one status to another."""

    event_type = "orders.order_status_changed"
    order_id: OrderId
    from_status: str
    to_status: str
    by: str
    reason: str = ""


@register_event
@attrs.frozen(kw_only=True)
class ShipmentDispatched(DomainEvent):
    """A shipment of an order left the warehouse."""

    event_type = "orders.shipment_dispatched"
    shipment_id: ShipmentId
    order_id: OrderId
    carrier: str
    tracking_number: str


@register_event
@attrs.frozen(kw_only=True)
class ShipmentTracked(DomainEvent):
    """The carrier reported on a shipment."""

    event_type = "orders.shipment_tracked"
    shipment_id: ShipmentId
    order_id: OrderId
    status: str
    location: str = ""


@register_event
@attrs.frozen(kw_only=True)
class InvoiceIssued(DomainEvent):
    """An invoice was issued."""

    event_type = "orders.invoice_issued"
    invoice_id: InvoiceId
    order_id: OrderId
    total: Money
    due_date: date


@register_event
@attrs.frozen(kw_only=True)
class InvoicePaid(DomainEvent):
    """A payment was recorded against an invoice."""

    event_type = "orders.invoice_paid"
    invoice_id: InvoiceId
    amount: Money
    balance: Money


@register_event
@attrs.frozen(kw_only=True)
class CreditNoteIssued(DomainEvent):
    """A credit note was issued on an invoice."""

    event_type = "orders.credit_note_issued"
    invoice_id: InvoiceId
    credit_note_id: str
    amount: Money
    reference: str = ""


@register_event
@attrs.frozen(kw_only=True)
class QuoteStatusChanged(DomainEvent):
    """A sales quote moved through the pipeline."""

    event_type = "orders.quote_status_changed"
    quote_id: QuoteId
    from_status: str
    to_status: str
    by: str
