"""Ports of the orders context: its repositories and the approval gate.

Repositories follow the house semantics (the contract suite in
:mod:`b2bcore.testing.contracts` checks them): ``get`` raises
:class:`~b2bcore.errors.NotFoundError` (also for another company's id), ``add``
raises :class:`~b2bcore.errors.DuplicateError` and sets ``version`` to 1,
``update`` takes the version that was read and raises
:class:`~b2bcore.errors.ConcurrencyError` when it moved on; every query is scoped to
one company and pages with a stable cursor.

**Approvals.** Orders know no approval policy: at checkout they ask an
:class:`ApprovalGate` whether the new order needs approval and, if so, hand it over
(in the same unit of work, so the order and its approval flow are stored together).
The order then waits in ``pending_approval``, locked, until the flow ends and the
application tells the orders service with an :class:`ApprovalCompletion` — approved:
the order is placed; rejected: it is cancelled and its stock released. The default
gate, :class:`NoApprovalGate`, never asks for approval.

>>> from b2bcore.orders.ports import Audience, NoApprovalGate
>>> NoApprovalGate().requires_approval(None, None)
False
>>> Audience.whole_company().everything
True
>>> Audience.of([("plant", "line")], requester_id="u-ben").describe()
"business units ['line', 'plant']; or requested by 'u-ben'"
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from b2bcore._validate import identifier
from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import (
    BusinessUnitId,
    CartId,
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
from b2bcore.orders.model import (
    Cart,
    CartStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Quote,
    QuoteStatus,
    Shipment,
    ShoppingList,
)
from b2bcore.paging import DEFAULT_LIMIT, Page

if TYPE_CHECKING:  # the unit of work's port imports these repositories
    from b2bcore.accounts.model import Actor
    from b2bcore.storage.ports import UnitOfWork

__all__ = [
    "ApprovalCompletion",
    "ApprovalGate",
    "ApprovalResult",
    "Audience",
    "AudienceGroup",
    "CartRepository",
    "InvoiceRepository",
    "NoApprovalGate",
    "OrderRepository",
    "SalesQuoteRepository",
    "ShipmentRepository",
    "ShoppingListRepository",
]


# --- who may see what ----------------------------------------------------------------------


@attrs.frozen
class AudienceGroup:
    """Records of business units ``units`` (None: any unit) requested by
    ``requester_id`` (None: anyone)."""

    units: frozenset[BusinessUnitId] | None = None
    requester_id: UserId | None = None


@attrs.frozen
class Audience:
    """The records an actor may see under a view scope: the union of its groups.

    A repository query given an audience returns exactly the records that fall in at
    least one group (and match the query's other filters).
    """

    groups: tuple[AudienceGroup, ...]

    @classmethod
    def whole_company(cls) -> Audience:
        """Every record of the company."""
        return cls((AudienceGroup(),))

    @classmethod
    def of(
        cls, unit_sets: Iterable[Iterable[str]] = (), *, requester_id: str | None = None
    ) -> Audience:
        """Records of any of ``unit_sets`` (each a set of unit ids), or requested by
        ``requester_id``."""
        groups = [
            AudienceGroup(units=frozenset(BusinessUnitId(u) for u in units)) for units in unit_sets
        ]
        if requester_id is not None:
            groups.append(AudienceGroup(requester_id=UserId(requester_id)))
        return cls(tuple(groups))

    @property
    def everything(self) -> bool:
        """Whether one group admits every record."""
        return any(g.units is None and g.requester_id is None for g in self.groups)

    @property
    def nothing(self) -> bool:
        """Whether no record can match."""
        return all(g.units is not None and not g.units for g in self.groups)

    def admits(self, *, business_unit_id: str | None, requester_id: str) -> bool:
        """Whether a record of ``business_unit_id`` requested by ``requester_id`` is in."""
        return any(
            (g.units is None or business_unit_id in g.units)
            and (g.requester_id is None or g.requester_id == requester_id)
            for g in self.groups
        )

    def describe(self) -> str:
        """A readable summary (for messages and audit details)."""
        if self.everything:
            return "the whole company"
        parts = []
        for g in self.groups:
            bits = []
            if g.units is not None:
                bits.append(f"business units {sorted(g.units)}")
            if g.requester_id is not None:
                bits.append(f"requested by {g.requester_id!r}")
            parts.append(" and ".join(bits))
        return "; or ".join(parts) or "nothing"


# --- repositories --------------------------------------------------------------------------


class CartRepository(Protocol):
    """Carts of each company."""

    def get(self, cart_id: CartId, /, *, company_id: CompanyId) -> Cart:
        """The cart with this id."""
        ...

    def add(self, cart: Cart, /) -> None:
        """Store a new cart."""
        ...

    def update(self, cart: Cart, /) -> None:
        """Store a changed cart."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        owner_id: UserId | None = None,
        status: CartStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Cart]:
        """A company's carts (one owner's, open or ordered ones), oldest first."""
        ...


class OrderRepository(Protocol):
    """Orders of each company, queried newest first."""

    def get(self, order_id: OrderId, /, *, company_id: CompanyId) -> Order:
        """The order with this id."""
        ...

    def add(self, order: Order, /) -> None:
        """Store a new order."""
        ...

    def update(self, order: Order, /) -> None:
        """Store a changed order."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        statuses: Iterable[OrderStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sku: Sku | None = None,
        business_unit_id: BusinessUnitId | None = None,
        requester_id: UserId | None = None,
        text: str | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Order]:
        """The order history, newest first (creation time, then id).

        ``since`` is inclusive, ``until`` exclusive (creation time); ``sku`` matches
        orders with a line of that SKU; ``text`` a case-insensitive part of the
        order id, reference or PO number; ``audience`` keeps only what a view scope
        lets an actor see. A cursor only works with the same filters.
        """
        ...


class ShipmentRepository(Protocol):
    """Shipments of each company's orders."""

    def get(self, shipment_id: ShipmentId, /, *, company_id: CompanyId) -> Shipment:
        """The shipment with this id."""
        ...

    def add(self, shipment: Shipment, /) -> None:
        """Store a new shipment."""
        ...

    def update(self, shipment: Shipment, /) -> None:
        """Store a changed shipment."""
        ...

    def for_order(self, order_id: OrderId, /, *, company_id: CompanyId) -> list[Shipment]:
        """Every shipment of one order, in the order they were shipped."""
        ...


class InvoiceRepository(Protocol):
    """Invoices of each company."""

    def get(self, invoice_id: InvoiceId, /, *, company_id: CompanyId) -> Invoice:
        """The invoice with this id."""
        ...

    def add(self, invoice: Invoice, /) -> None:
        """Store a new invoice."""
        ...

    def update(self, invoice: Invoice, /) -> None:
        """Store a changed invoice."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        order_id: OrderId | None = None,
        status: InvoiceStatus | None = None,
        due_before: datetime | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        """A company's invoices, oldest first (issue time, then id).

        ``status`` is the stored status (``OPEN``, ``PAID`` or ``CREDITED``; ask for
        ``OVERDUE`` with ``status=OPEN`` and ``due_before`` = the start of today);
        ``due_before`` keeps invoices due strictly before that day (UTC).
        """
        ...


class SalesQuoteRepository(Protocol):
    """Sales quotes (requests for quotation) of each company."""

    def get(self, quote_id: QuoteId, /, *, company_id: CompanyId) -> Quote:
        """The quote with this id."""
        ...

    def add(self, quote: Quote, /) -> None:
        """Store a new quote."""
        ...

    def update(self, quote: Quote, /) -> None:
        """Store a changed quote."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        status: QuoteStatus | None = None,
        requester_id: UserId | None = None,
        audience: Audience | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Quote]:
        """A company's quotes, newest first."""
        ...


class ShoppingListRepository(Protocol):
    """Shopping lists of each company."""

    def get(self, list_id: ShoppingListId, /, *, company_id: CompanyId) -> ShoppingList:
        """The list with this id."""
        ...

    def add(self, shopping_list: ShoppingList, /) -> None:
        """Store a new list."""
        ...

    def update(self, shopping_list: ShoppingList, /) -> None:
        """Store a changed list."""
        ...

    def remove(self, shopping_list: ShoppingList, /) -> None:
        """Delete a list (as read: ConcurrencyError if it changed since)."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        owner_id: UserId | None = None,
        business_unit_ids: Iterable[BusinessUnitId] | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ShoppingList]:
        """A company's lists: one user's own, or those of the given units (by name)."""
        ...


# --- approvals -----------------------------------------------------------------------------


class ApprovalGate(Protocol):
    """Where orders meet approvals (wired by the application or the portal).

    Both methods run inside the checkout's unit of work, before the new order is
    stored: ``requires_approval`` decides (read-only); ``submit`` starts the approval
    flow for the order (it may write, e.g. the flow) and returns the flow's id (or
    None). The order is an approval subject (see :class:`~b2bcore.orders.model.Order`).
    """

    def requires_approval(self, uow: UnitOfWork, order: Order, /) -> bool:
        """Whether ``order`` must be approved before it is placed."""
        ...

    def submit(self, uow: UnitOfWork, actor: Actor, order: Order, /) -> str | None:
        """Start the approval of ``order`` requested by ``actor``; the flow's id."""
        ...


class NoApprovalGate:
    """The default :class:`ApprovalGate`: no order ever needs approval."""

    def requires_approval(self, uow: Any, order: Any, /) -> bool:
        """Always False."""
        return False

    def submit(self, uow: Any, actor: Any, order: Any, /) -> str | None:
        """Never called by the orders service (nothing needs approval); returns None."""
        return None


class ApprovalResult(enum.Enum):
    """How an approval flow ended."""

    APPROVED = "approved"
    REJECTED = "rejected"


def _result(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, ApprovalResult):
        raise ValidationError(
            "must be ApprovalResult.APPROVED or .REJECTED", path="result", value=value
        )


def _company_id(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _order_id(value: str) -> OrderId:
    return OrderId(check_id(value, path="order_id"))


def _completed_at(value: datetime) -> datetime:
    return to_utc(value, path="at")


def _reason(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationError("must be a string of at most 500 characters", path="reason")


@attrs.frozen
class ApprovalCompletion:
    """An approval flow of an order ended: what the orders service needs to know.

    Built by the application (or the portal) from the approvals context's "flow
    completed" event and passed to
    :meth:`b2bcore.orders.service.OrdersService.complete_approval`, which is
    idempotent, so an at-least-once event delivery is safe. ``decided_by`` is who made
    the deciding decision; ``reason`` is shown in the order's history.

    >>> from datetime import datetime, timezone
    >>> ApprovalCompletion(company_id="acme", order_id="o-1", result=ApprovalResult.APPROVED,
    ...     decided_by="u-clara", at=datetime(2026, 5, 4, tzinfo=timezone.utc)).result.value
    'approved'
    """

    company_id: CompanyId = attrs.field(converter=_company_id)
    order_id: OrderId = attrs.field(converter=_order_id)
    result: ApprovalResult = attrs.field(validator=_result)
    decided_by: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(converter=_completed_at)
    flow_id: str | None = None
    reason: str = attrs.field(default="", validator=_reason)
