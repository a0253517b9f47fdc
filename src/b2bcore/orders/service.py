"""Use-cases of the orders context: carts, checkout, the order lifecycle, shipments
and tracking, invoices, sales quotes, shopping lists and reorder.

**Buyers** — company users, or agents in an assisted session for one — act with
their :class:`~b2bcore.accounts.model.Actor`: carts are their own; ordering needs
``orders.buy`` (its amount limit is checked against the order's total); reading
orders and quotes needs ``orders.view`` and invoices ``invoices.view``, and lists
show exactly what the view scope reaches (own, business unit and below, company).

**The seller** — the seller's staff and sales agents — act as
``Actor.operator_for(company_id, staff_id)``: they confirm, ship, track, close and
invoice orders, record payments, issue credit notes and propose prices for quotes.
Every command, buyer's or seller's, is authorized and audited in the company's trail
in the same unit of work as its change; a denial or a failure is audited on its own
and nothing of the change is kept.

**Checkout** happens in one unit of work: the cart's lines are checked (catalog
rules: assortment, discontinued with successor; quantity rules; a price; stock
available now), priced by the pricing engine (cart discounts, tiers across the
cart), the total is authorized against the buyer's limit, stock is reserved, the
:class:`~b2bcore.orders.ports.ApprovalGate` is asked, and the order is stored —
all of it or nothing. With an ``idempotency_key`` a retry (even a concurrent one)
returns the same order, never a second one.

This service calls only other contexts' pure rules (catalog rules and inventory,
the pricing engine, authorization); the compiled price lists come from
``price_index`` (the portal passes the pricing service's cache).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

import attrs

from b2bcore._command import Command, _audit_alone, _deny, _entry, load_access
from b2bcore.accounts.model import Actor, Company, Permission
from b2bcore.accounts.rules import Access, AccessDecision, Resource, ancestors, authorize
from b2bcore.audit import Outcome
from b2bcore.catalog.inventory import release_stock, reserve_stock
from b2bcore.catalog.model import StockLevel
from b2bcore.catalog.rules import CatalogContext, applicable_assortments, price_item
from b2bcore.catalog.stored import StoredCatalog
from b2bcore.clock import Clock, to_utc
from b2bcore.errors import (
    B2BCoreError,
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
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
    as_id,
    check_id,
    new_id,
)
from b2bcore.money import Money, RoundingPolicy, is_currency, to_quantity
from b2bcore.orders.errors import NotOrderableCartError, QuoteExpiredError
from b2bcore.orders.model import (
    Cart,
    CartStatus,
    Invoice,
    InvoiceIssued,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentTerms,
    Quote,
    QuoteLine,
    QuoteStatus,
    Shipment,
    ShipmentDispatched,
    ShipmentLine,
    ShoppingList,
    StatusChange,
    TrackingEvent,
    TrackingStatus,
)
from b2bcore.orders.ports import (
    ApprovalCompletion,
    ApprovalGate,
    ApprovalResult,
    Audience,
    NoApprovalGate,
)
from b2bcore.orders.rules import (
    CartReview,
    FilledCart,
    OrderTracking,
    audience_for,
    build_order_lines,
    carry_lines,
    price_lines,
    quote_order_lines,
    review_lines,
    track,
)
from b2bcore.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, iterate
from b2bcore.pricing.cart import DiscountSet
from b2bcore.pricing.errors import NoPriceError
from b2bcore.pricing.model import PriceContext, PriceList
from b2bcore.pricing.resolve import PriceIndex, resolve_price
from b2bcore.storage._reads import read_only_many, writes_together
from b2bcore.storage.ports import UnitOfWork

__all__ = ["AccountBalance", "OrdersService"]

P = TypeVar("P")
R = TypeVar("R")
Lists = Sequence[PriceList] | PriceIndex

#: How often a checkout (or an acceptance, or an approval) is retried when another
#: unit of work changed what it read (stock levels, the cart, the idempotency key).
_RETRIES = 5
_SELLER_ONLY = "seller_only"


@attrs.frozen
class AccountBalance:
    """What a company owes in one currency: ``outstanding`` over every open invoice,
    the ``overdue`` part of it (at the instant asked), and ``credit`` from credit
    notes beyond what was owed."""

    currency: str
    outstanding: Money
    overdue: Money
    credit: Money
    open_invoices: int


@attrs.frozen
class _Ask(Generic[P]):
    """What a command's authorization step found: the decision and what it read."""

    decision: AccessDecision
    value: P
    permission: str = ""


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _seller_decision(actor: Actor) -> AccessDecision:
    if actor.operator:
        return AccessDecision(
            allowed=True,
            permission=Permission.COMPANY_MANAGE,
            code="seller",
            reason="the seller's staff act for the seller",
        )
    return AccessDecision(
        allowed=False,
        permission=Permission.COMPANY_MANAGE,
        code=_SELLER_ONLY,
        reason="only the seller's staff (Actor.operator_for) do this, not a buyer",
    )


def _resource(
    kind: str, key: str, company_id: str, owner: str | None, unit: str | None
) -> Resource:
    return Resource(
        kind,
        key,
        CompanyId(company_id),
        owner_id=owner,
        business_unit_id=None if unit is None else BusinessUnitId(unit),
    )


def _order_resource(order: Order) -> Resource:
    return _resource(
        "order", order.id, order.company_id, order.requester_id, order.business_unit_id
    )


def _quote_resource(quote: Quote) -> Resource:
    return _resource(
        "quote", quote.id, quote.company_id, quote.requester_id, quote.business_unit_id
    )


def _invoice_resource(invoice: Invoice) -> Resource:
    return _resource(
        "invoice", invoice.id, invoice.company_id, invoice.requester_id, invoice.business_unit_id
    )


def _text(value: object, *, path: str, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(
            f"must be a string of at most {max_length} characters", path=path, value=value
        )
    return value.strip()


def _key(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise ValidationError(
            "idempotency key must be a string of 1-255 characters",
            path="idempotency_key",
            value=value,
        )
    return value


def _stock_levels_of(uow: UnitOfWork, skus: Sequence[Sku]) -> dict[str, Sequence[StockLevel]]:
    """The stock levels of several SKUs: in one read where the repository can
    (b2bcore's own have ``for_skus``), else one read per SKU."""
    many = getattr(uow.stock_levels, "for_skus", None)
    if many is not None:
        return dict(many(skus))
    return {sku: uow.stock_levels.for_sku(sku) for sku in skus}


def _cart_arguments(currency: str, business_unit_id: str | None) -> BusinessUnitId | None:
    """A new cart's (or quick order's) currency checked, and its unit's id."""
    if not is_currency(currency):
        raise ValidationError(
            f"{currency!r} is not an ISO 4217 currency", path="currency", value=currency
        )
    if business_unit_id is None:
        return None
    return as_id(BusinessUnitId, business_unit_id, path="business_unit_id")


def _order_fields(
    actor: object, reference: str, po_number: str, cost_center: str | None
) -> tuple[str, str, str | None]:
    """A new order's reference, PO number and cost center, checked (and the actor)."""
    ref = _text(reference, path="reference", max_length=100)
    po = _text(po_number, path="po_number", max_length=50)
    cc = None if cost_center is None else _text(cost_center, path="cost_center", max_length=100)
    if not isinstance(actor, Actor):
        raise ValidationError("must be an Actor", path="actor", value=actor)
    return ref, po, cc


def _lines_arg(lines: object) -> list[tuple[str, Decimal]]:
    if isinstance(lines, Mapping):
        pairs = list(lines.items())
    elif isinstance(lines, (list, tuple)):
        pairs = list(lines)
    else:
        raise ValidationError(
            "must be a list of (sku, quantity) pairs or a mapping of SKU to quantity",
            path="lines",
            value=lines,
        )
    out: list[tuple[str, Decimal]] = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValidationError("must be a (sku, quantity) pair", path=f"lines[{i}]", value=pair)
        sku, quantity = pair
        out.append(
            (
                check_id(sku, path=f"lines[{i}].sku"),
                to_quantity(quantity, path=f"lines[{i}].quantity"),
            )
        )
    return out


def _quantities(value: object, path: str) -> dict[str, Decimal]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError("must be a mapping of SKU to quantity", path=path, value=value)
    return {
        check_id(sku, path=f"{path}.sku"): to_quantity(q, path=f"{path}[{sku}]")
        for sku, q in value.items()
    }


def _release(uow: UnitOfWork, order: Order, at: datetime) -> None:
    with contextlib.suppress(NotFoundError):  # NotFound: nothing was reserved for it
        release_stock(uow, company_id=order.company_id, reference=order.id, at=at)


class _CachedLists(Mapping[str, "Lists"]):
    """A view of a price index cache that is read without a unit of work; the
    currencies it did not have are kept in ``missed``."""

    def __init__(self, cached: Callable[[str], PriceIndex | None]) -> None:
        self._cached = cached
        self.missed: set[str] = set()

    def __getitem__(self, currency: str) -> Lists:
        found = self._cached(currency)
        if found is None:
            self.missed.add(currency)
            raise KeyError(currency)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class OrdersService:
    """Orders use-cases over any store (via a unit-of-work factory).

    ``price_index`` gives the compiled price lists of a currency (the portal passes
    :meth:`b2bcore.pricing.service.PricingService.index`); without it the lists are
    loaded from the store for every command that prices. ``approval_gate`` decides
    which orders wait for approval (default: none). ``discounts`` gives the cart
    discounts that apply to a buyer's pricing context (default: none).
    ``cached_price_index`` reads the same cache without ever reading the store
    (:meth:`b2bcore.pricing.service.PricingService.cached_index`), so a command can
    consult it inside its unit of work instead of reading what it prices first in a
    short unit of work of its own.
    """

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        price_index: Callable[[str], PriceIndex] | None = None,
        approval_gate: ApprovalGate | None = None,
        discounts: Callable[[PriceContext], Sequence[DiscountSet]] | None = None,
        cached_price_index: Callable[[str], PriceIndex | None] | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._price_index = price_index
        self._cached_price_index = cached_price_index
        self.approval_gate: ApprovalGate = (
            approval_gate if approval_gate is not None else NoApprovalGate()
        )
        self._discounts = discounts

    # == plumbing ==========================================================================
    def _run(
        self,
        actor: Actor,
        *,
        action: str,
        target: str,
        ask: Callable[[UnitOfWork, Access, datetime], _Ask[P]],
        body: Callable[[Command, P], R],
        write: bool = True,
        detail: Callable[[R], str] | None = None,
    ) -> R:
        """Authorize (``ask`` reads what the decision needs and decides), run
        ``body``, audit — atomically. Like :func:`b2bcore._command.execute`, but the
        decision may depend on what was read (an order's total against a limit)."""
        if not isinstance(actor, Actor):
            raise ValidationError("must be an Actor", path="actor", value=actor)
        at = self._clock.now()
        failure: B2BCoreError | None = None
        with self._uow() as uow:
            access = load_access(uow, actor)
            try:
                asked = ask(uow, access, at)
            except B2BCoreError as e:
                if not write:
                    raise
                uow.rollback()
                failure = e
            else:
                decision = asked.decision
                if not decision.allowed:
                    raise _deny(
                        uow,
                        actor,
                        at=at,
                        action=action,
                        target=target,
                        permission=asked.permission,
                        code=decision.code,
                        reason=decision.reason,
                    )
                cmd = Command(uow, actor, access, decision, at)
                if not write:
                    return body(cmd, asked.value)
                try:
                    result = body(cmd, asked.value)
                    text = detail(result) if detail is not None else ""
                    uow.audit.append(
                        _entry(
                            actor,
                            at=at,
                            action=action,
                            target=target,
                            outcome=Outcome.ALLOWED,
                            detail=text,
                        )
                    )
                    uow.commit()
                except B2BCoreError as e:
                    uow.rollback()
                    failure = e
                else:
                    return result
        assert failure is not None
        _audit_alone(
            self._uow,
            actor,
            at=at,
            action=action,
            target=target,
            outcome=Outcome.FAILED,
            detail=f"{failure.code}: {failure}",
        )
        raise failure

    @staticmethod
    def _may(
        actor: Actor,
        permission: Permission,
        access: Access,
        at: datetime,
        value: P,
        *,
        resource: Resource | None = None,
        amount: Money | None = None,
    ) -> _Ask[P]:
        decision = authorize(
            actor, permission, access=access, resource=resource, amount=amount, at=at
        )
        return _Ask(decision, value, permission.value)

    @staticmethod
    def _may_view(
        actor: Actor,
        permission: Permission,
        access: Access,
        at: datetime,
        value: P,
        *,
        resource: Resource,
    ) -> _Ask[P]:
        if actor.operator:
            return _Ask(_seller_decision(actor), value)
        return OrdersService._may(actor, permission, access, at, value, resource=resource)

    @staticmethod
    def _seller(value: P, actor: Actor) -> _Ask[P]:
        return _Ask(_seller_decision(actor), value)

    @staticmethod
    def _retrying(attempt: Callable[[], R]) -> R:
        """Run ``attempt`` again (a few times) when a concurrent unit of work won a
        race on what it read; the new attempt reads the winner's result."""
        for _ in range(_RETRIES - 1):
            try:
                return attempt()
            except (ConcurrencyError, DuplicateError):
                continue
        return attempt()

    def _cached_lists(self, currency: str | None) -> dict[str, Lists]:
        """The compiled lists of ``currency``, fetched before a unit of work opens (the
        cache may open its own)."""
        if currency is None or self._price_index is None or not is_currency(currency):
            return {}
        return {currency: self._price_index(currency)}

    def _lists_of(self, currency_of: Callable[[UnitOfWork], str]) -> Mapping[str, Lists]:
        """The compiled lists a command will price with: with a cache that can be read
        inside a unit of work (``cached_price_index``), a view of it — a miss is
        loaded in the command's unit of work and cached afterwards (:meth:`_warm`);
        else fetched before the unit of work opens, for the currency of what
        ``currency_of`` reads in a short unit of work of its own."""
        if self._cached_price_index is not None:
            return _CachedLists(self._cached_price_index)
        return self._cached_lists(self._peek(currency_of))

    def _warm(self, cache: Mapping[str, Lists]) -> None:
        """Cache the lists a command missed (see :meth:`_lists_of`), after it ran."""
        if not isinstance(cache, _CachedLists) or self._price_index is None:
            return
        for currency in cache.missed:
            with contextlib.suppress(B2BCoreError):  # the next command tries again
                self._price_index(currency)

    @staticmethod
    def _lists(uow: UnitOfWork, currency: str, at: datetime, cache: Mapping[str, Lists]) -> Lists:
        found = cache.get(currency)
        return found if found is not None else uow.price_lists.load_index(currency=currency, at=at)

    def _peek(self, read: Callable[[UnitOfWork], str]) -> str | None:
        """A value read in a short unit of work of its own (None when it fails: the
        command then reports the problem properly)."""
        try:
            with self._uow() as uow:
                return read(uow)
        except B2BCoreError:
            return None

    def _discounts_for(self, context: PriceContext) -> Sequence[DiscountSet]:
        return () if self._discounts is None else tuple(self._discounts(context))

    @staticmethod
    def _unit_chain(
        cmd_access: Access, actor: Actor, business_unit_id: str | None
    ) -> tuple[BusinessUnitId | None, tuple[BusinessUnitId, ...]]:
        """The buyer's business unit (default: the user's first) and the chain from it
        up to the root; the unit must be one of the user's units or below one."""
        units = cmd_access.units
        user = cmd_access.user
        own = list(user.business_unit_ids) if user is not None else []
        chosen = business_unit_id if business_unit_id is not None else (own[0] if own else None)
        if chosen is None:
            return None, ()
        if chosen not in {u.id for u in units}:
            raise NotFoundError("business unit", chosen)
        path = (BusinessUnitId(chosen), *ancestors(units, chosen))
        if user is not None and not set(own) & set(path):
            raise ValidationError(
                f"business unit {chosen!r} is not one of the user's units or below them",
                path="business_unit_id",
                value=chosen,
            )
        return BusinessUnitId(chosen), path

    def _context(
        self,
        uow: UnitOfWork,
        access: Access,
        actor: Actor,
        *,
        currency: str,
        business_unit_id: str | None,
        at: datetime,
    ) -> tuple[CatalogContext, BusinessUnitId | None, str | None]:
        """The buyer's catalog context (pricing context and assortments), their unit
        and its cost center."""
        company: Company = (
            access.company if access.company is not None else uow.companies.get(actor.company_id)
        )
        unit, chain = self._unit_chain(access, actor, business_unit_id)
        cid = actor.company_id
        # Assortments are only read here: shared objects where the store has them.
        (stored,) = read_only_many(
            uow,
            [(uow.assortments, cid, None)],
            lambda: [
                tuple(
                    iterate(
                        lambda c: uow.assortments.list(company_id=cid, limit=MAX_LIMIT, cursor=c)
                    )
                )
            ],
        )
        assortments = applicable_assortments(stored, company_id=cid, business_unit_ids=chain)
        price_context = PriceContext(
            company_id=company.id,
            currency=currency,
            at=at,
            business_unit_ids=chain,
            country=company.country,
        )
        by_id = {u.id: u for u in access.units}
        cost_center = next(
            (by_id[u].cost_center for u in chain if u in by_id and by_id[u].cost_center), None
        )
        return (
            CatalogContext(price_context=price_context, assortments=assortments),
            unit,
            cost_center,
        )

    @staticmethod
    def _stock(
        uow: UnitOfWork, seen: dict[str, Sequence[StockLevel]] | None = None
    ) -> Callable[[str], Sequence[StockLevel]]:
        """A reader of a SKU's stock levels in ``uow``; keeping what it read in
        ``seen`` (so that the reservation does not read them again)."""
        if seen is None:
            return lambda sku: uow.stock_levels.for_sku(Sku(sku))

        def read(sku: str) -> Sequence[StockLevel]:
            found = seen.get(sku)
            if found is None:
                found = seen[sku] = uow.stock_levels.for_sku(Sku(sku))
            return found

        return read

    # == carts =============================================================================
    @staticmethod
    def _own_cart(uow: UnitOfWork, actor: Actor, cart_id: CartId) -> Cart:
        cart = uow.carts.get(cart_id, company_id=actor.company_id)
        if cart.owner_id != actor.on_behalf_of:
            raise NotFoundError("cart", cart_id)  # another user's cart is not there for you
        return cart

    def _new_cart(
        self,
        actor: Actor,
        access: Access,
        cart_id: CartId,
        *,
        currency: str,
        unit: BusinessUnitId | None,
        at: datetime,
        name: str = "",
    ) -> Cart:
        """A new cart of the actor's for ``unit`` (default: the user's first)."""
        chosen, _chain = self._unit_chain(access, actor, unit)
        return Cart(
            id=cart_id,
            company_id=actor.company_id,
            owner_id=actor.on_behalf_of,
            currency=currency,
            created_at=at,
            business_unit_id=chosen,
            name=name,
        )

    @staticmethod
    def _cart_resource(cart: Cart) -> Resource:
        return _resource("cart", cart.id, cart.company_id, cart.owner_id, cart.business_unit_id)

    def create_cart(
        self,
        actor: Actor,
        *,
        currency: str,
        business_unit_id: str | None = None,
        name: str = "",
    ) -> Cart:
        """A new, empty cart of the actor's (the customer's, when an agent assists)
        in ``currency`` for a business unit (default: the user's first)."""
        unit_arg = _cart_arguments(currency, business_unit_id)
        label = _text(name, path="name", max_length=100)
        cart_id = CartId(new_id())

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Cart]:
            cart = self._new_cart(
                actor, access, cart_id, currency=currency, unit=unit_arg, at=at, name=label
            )
            return self._may(
                actor, Permission.ORDERS_BUY, access, at, cart, resource=self._cart_resource(cart)
            )

        def body(cmd: Command, cart: Cart) -> Cart:
            cmd.uow.carts.add(cart)
            return cart

        return self._run(actor, action="cart.create", target=f"cart:{cart_id}", ask=ask, body=body)

    def get_cart(self, actor: Actor, cart_id: str) -> Cart:
        """One of the actor's carts (another user's is NotFoundError)."""
        cid = as_id(CartId, cart_id, path="cart_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Cart]:
            cart = self._own_cart(uow, actor, cid)
            return self._may(
                actor, Permission.ORDERS_BUY, access, at, cart, resource=self._cart_resource(cart)
            )

        return self._run(
            actor,
            action="cart.read",
            target=f"cart:{cid}",
            ask=ask,
            body=lambda _cmd, cart: cart,
            write=False,
        )

    def carts(
        self,
        actor: Actor,
        *,
        status: CartStatus | None = CartStatus.OPEN,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Cart]:
        """The actor's carts (open ones by default; None: all), oldest first."""
        if status is not None and not isinstance(status, CartStatus):
            raise ValidationError("must be a CartStatus or None", path="status", value=status)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[None]:
            return self._may(actor, Permission.ORDERS_BUY, access, at, None)

        def body(cmd: Command, _: None) -> Page[Cart]:
            return cmd.uow.carts.list(
                company_id=actor.company_id,
                owner_id=actor.on_behalf_of,
                status=status,
                limit=limit,
                cursor=cursor,
            )

        return self._run(actor, action="cart.list", target="carts", ask=ask, body=body, write=False)

    def _change_cart(
        self,
        actor: Actor,
        cart_id: str,
        *,
        action: str,
        change: Callable[[Cart], Sku | None],
    ) -> Cart:
        """Load the actor's open cart, apply ``change`` (which returns the SKU whose
        line must be checked, or None), check that line, store the cart."""
        cid = as_id(CartId, cart_id, path="cart_id")
        cache = self._lists_of(lambda uow: uow.carts.get(cid, company_id=actor.company_id).currency)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Cart]:
            cart = self._own_cart(uow, actor, cid)
            return self._may(
                actor, Permission.ORDERS_BUY, access, at, cart, resource=self._cart_resource(cart)
            )

        def body(cmd: Command, cart: Cart) -> Cart:
            sku = change(cart)
            line = cart.line(sku) if sku is not None else None
            if line is not None:
                context, _unit, _cc = self._context(
                    cmd.uow,
                    cmd.access,
                    actor,
                    currency=cart.currency,
                    business_unit_id=cart.business_unit_id,
                    at=cmd.at,
                )
                lists = self._lists(cmd.uow, cart.currency, cmd.at, cache)
                (review,) = review_lines(
                    [line],
                    catalog=StoredCatalog(cmd.uow, read_only=True),
                    context=context,
                    lists=lists,
                )
                if review.problem is not None:
                    index = cart.lines.index(line)
                    raise NotOrderableCartError(
                        cart.id, [attrs.evolve(review.problem, index=index)]
                    )
            cmd.uow.carts.update(cart)
            return cart

        try:
            return self._run(actor, action=action, target=f"cart:{cid}", ask=ask, body=body)
        finally:
            self._warm(cache)

    def add_to_cart(
        self, actor: Actor, cart_id: str, sku: str, quantity: Decimal | int | str
    ) -> Cart:
        """Put ``quantity`` of ``sku`` in the cart (added to its line if it has one).

        The line is checked at once: a SKU the buyer may not order (unknown, outside
        the assortment, discontinued — naming the successor), a quantity its quantity
        rule forbids (naming the nearest valid ones) or one without a price raises
        :class:`~b2bcore.orders.errors.NotOrderableCartError` with that line's
        problem. Stock is checked at checkout.
        """
        code = as_id(Sku, sku, path="sku")
        return self._change_cart(
            actor, cart_id, action="cart.add", change=lambda cart: cart.add(code, quantity).sku
        )

    def set_cart_quantity(
        self, actor: Actor, cart_id: str, sku: str, quantity: Decimal | int | str
    ) -> Cart:
        """Change the quantity of a line (checked like :meth:`add_to_cart`)."""
        code = as_id(Sku, sku, path="sku")
        return self._change_cart(
            actor,
            cart_id,
            action="cart.set_quantity",
            change=lambda cart: cart.set_quantity(code, quantity).sku,
        )

    def remove_from_cart(self, actor: Actor, cart_id: str, sku: str) -> Cart:
        """Take a line out of the cart."""
        code = as_id(Sku, sku, path="sku")

        def change(cart: Cart) -> None:
            cart.remove(code)

        return self._change_cart(actor, cart_id, action="cart.remove", change=change)

    def review_cart(self, actor: Actor, cart_id: str) -> CartReview:
        """The cart as the buyer sees it: every line checked (assortment, quantity
        rule, price, stock available now) with its problem, and the cart priced
        (tiers across the cart, cart discounts) when every line is ok. Explanations
        never name other buyers' price lists. Nothing is reserved."""
        cid = as_id(CartId, cart_id, path="cart_id")
        cache = self._lists_of(lambda uow: uow.carts.get(cid, company_id=actor.company_id).currency)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Cart]:
            cart = self._own_cart(uow, actor, cid)
            return self._may(
                actor, Permission.ORDERS_BUY, access, at, cart, resource=self._cart_resource(cart)
            )

        def body(cmd: Command, cart: Cart) -> CartReview:
            return self._review(
                cmd.uow, cart, access=cmd.access, actor=actor, at=cmd.at, cache=cache
            )

        try:
            return self._run(
                actor, action="cart.review", target=f"cart:{cid}", ask=ask, body=body, write=False
            )
        finally:
            self._warm(cache)

    def _review(
        self,
        uow: UnitOfWork,
        cart: Cart,
        *,
        access: Access,
        actor: Actor,
        at: datetime,
        cache: Mapping[str, Lists],
        stock_seen: dict[str, Sequence[StockLevel]] | None = None,
        read_only: bool = False,
    ) -> CartReview:
        """The cart's review; ``read_only``: for the caller's own use only (its
        products may be objects shared with other commands, see StoredCatalog; its
        quotes keep their full explanations, its lines no prices)."""
        context, _unit, cost_center = self._context(
            uow,
            access,
            actor,
            currency=cart.currency,
            business_unit_id=cart.business_unit_id,
            at=at,
        )
        lists = self._lists(uow, cart.currency, at, cache)
        catalog = StoredCatalog(uow, read_only=read_only)
        catalog.preload(line.sku for line in cart.lines)
        if stock_seen is not None:
            stock_seen.update(_stock_levels_of(uow, [line.sku for line in cart.lines]))
        reviewed = review_lines(
            cart.lines,
            catalog=catalog,
            context=context,
            lists=lists,
            stock=self._stock(uow, stock_seen),
        )
        if not reviewed or any(r.problem is not None for r in reviewed):
            return CartReview(cart=cart, lines=tuple(reviewed), cost_center=cost_center)
        priced = price_lines(
            reviewed,
            context=context,
            lists=lists,
            discounts=self._discounts_for(context.price_context),
        )
        if read_only:
            # For the caller's own use (an order is built from it, and
            # build_order_lines pins each quote with the buyer's explanation).
            return CartReview(
                cart=cart, lines=tuple(reviewed), priced=priced, cost_center=cost_center
            )
        redacted = tuple(
            attrs.evolve(
                line,
                quote=attrs.evolve(line.quote, explanation=line.quote.explanation.for_buyer()),
            )
            for line in priced.lines
        )
        priced = attrs.evolve(priced, lines=redacted)
        with_prices = tuple(
            attrs.evolve(r, priced=line) for r, line in zip(reviewed, priced.lines, strict=True)
        )
        return CartReview(cart=cart, lines=with_prices, priced=priced, cost_center=cost_center)

    # == checkout ==========================================================================
    def checkout(
        self,
        actor: Actor,
        cart_id: str,
        *,
        idempotency_key: str | None = None,
        reference: str = "",
        po_number: str = "",
        cost_center: str | None = None,
    ) -> Order:
        """Order the cart, in one unit of work: check every line (raising
        :class:`~b2bcore.orders.errors.NotOrderableCartError` with a problem per bad
        line), price it, authorize ``orders.buy`` for the total (the buyer's limit),
        reserve the stock, ask the approval gate (``pending_approval`` when it asks
        for approval, else ``placed``), store the order and close the cart.

        With ``idempotency_key`` a retry of the same request — even from another
        thread at the same time — returns the same order; the key reused for another
        request is a :class:`~b2bcore.errors.ConflictError`.
        """
        cid = as_id(CartId, cart_id, path="cart_id")
        key = _key(idempotency_key)
        ref, po, cc = fields = _order_fields(actor, reference, po_number, cost_center)
        fingerprint = _fingerprint("checkout", actor.on_behalf_of, cid, ref, po, cc)
        cache = self._lists_of(lambda uow: uow.carts.get(cid, company_id=actor.company_id).currency)

        def ready(cart: Cart) -> None:
            if cart.status is not CartStatus.OPEN:
                raise ConflictError(
                    f"cart {cart.id!r} was already ordered as order {cart.order_id!r}"
                )
            if not cart.lines:
                raise ValidationError(f"cart {cart.id!r} is empty", path="lines")

        return self._place(
            actor,
            target=f"cart:{cid}",
            cart_of=lambda uow, _access, _at: self._own_cart(uow, actor, cid),
            stored_cart=True,
            ready=ready,
            key=key,
            fingerprint=fingerprint,
            order_fields=fields,
            cache=cache,
        )

    def place_order(
        self,
        actor: Actor,
        lines: Sequence[tuple[str, Decimal | int | str]] | Mapping[str, Decimal | int | str],
        *,
        currency: str,
        business_unit_id: str | None = None,
        idempotency_key: str | None = None,
        reference: str = "",
        po_number: str = "",
        cost_center: str | None = None,
    ) -> Order:
        """Quick order: order ``lines`` — (SKU, quantity) pairs, or a mapping of SKU
        to quantity — in one step, without a stored cart: for the buyer who types or
        pastes part numbers, a punch-out return, an ERP or EDI integration.

        One unit of work does what :meth:`create_cart`, :meth:`add_to_cart` and
        :meth:`checkout` do together — the same checks per line
        (:class:`~b2bcore.orders.errors.NotOrderableCartError` naming each bad
        line), the same prices (tiers across the order, cart discounts), the
        buyer's limit for the total, the stock reservation, the approval gate and
        the audit line ``order.place`` — so the order is placed whole or not at all.
        The same SKU twice is one line with the quantities added up. The order is
        for ``business_unit_id`` (default: the user's first). With
        ``idempotency_key`` a retry of the same request returns the same order; the
        key reused for another request is a :class:`~b2bcore.errors.ConflictError`.
        """
        wanted = _lines_arg(lines)
        if not wanted:
            raise ValidationError("give at least one line", path="lines", value=lines)
        unit_arg = _cart_arguments(currency, business_unit_id)
        key = _key(idempotency_key)
        ref, po, cc = fields = _order_fields(actor, reference, po_number, cost_center)
        fingerprint = _fingerprint(
            "place_order", actor.on_behalf_of, currency, unit_arg, wanted, ref, po, cc
        )
        cart_id = CartId(new_id())

        def cart_of(uow: UnitOfWork, access: Access, at: datetime) -> Cart:
            cart = self._new_cart(actor, access, cart_id, currency=currency, unit=unit_arg, at=at)
            for i, (sku, quantity) in enumerate(wanted):
                try:
                    cart.add(sku, quantity)
                except ValidationError as e:
                    raise ValidationError(str(e), path=f"lines[{i}]", value=(sku, quantity)) from e
            return cart

        return self._place(
            actor,
            target="quick_order",
            cart_of=cart_of,
            stored_cart=False,
            ready=None,
            key=key,
            fingerprint=fingerprint,
            order_fields=fields,
            cache=self._lists_of(lambda _uow: currency),
        )

    def _place(
        self,
        actor: Actor,
        *,
        target: str,
        cart_of: Callable[[UnitOfWork, Access, datetime], Cart],
        stored_cart: bool,
        ready: Callable[[Cart], None] | None,
        key: str | None,
        fingerprint: str,
        order_fields: tuple[str, str, str | None],
        cache: Mapping[str, Lists],
    ) -> Order:
        """Place an order of a cart — a stored one (checkout) or one made up for the
        request (quick order) — in one unit of work, retried on a lost race. A
        request seen before (same idempotency key) returns its order; otherwise the
        cart must be ``ready``."""
        ref, po, cc = order_fields
        # The stock levels the review reads, for the reservation in the same attempt.
        stock_seen: dict[str, Sequence[StockLevel]] = {}

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[tuple[Order, Cart | None]]:
            stock_seen.clear()
            cart = cart_of(uow, access, at)
            replay = self._replay(uow, actor, key, fingerprint)
            if replay is not None:
                return self._may(
                    actor,
                    Permission.ORDERS_BUY,
                    access,
                    at,
                    (replay, None),
                    resource=_order_resource(replay),
                )
            if ready is not None:
                ready(cart)
            review = self._review(
                uow,
                cart,
                access=access,
                actor=actor,
                at=at,
                cache=cache,
                stock_seen=stock_seen,
                read_only=True,
            )
            if not review.ok or review.priced is None:
                if stored_cart:
                    raise NotOrderableCartError(cart.id, review.problems)
                raise NotOrderableCartError("", review.problems, subject="the quick order")
            order = self._new_order(
                actor,
                at=at,
                currency=cart.currency,
                lines=build_order_lines(review.lines, review.priced),
                unit=cart.business_unit_id,
                cost_center=cc if cc is not None else review.cost_center,
                reference=ref,
                po_number=po,
                key=key,
            )
            if stored_cart:
                order.cart_id = cart.id
            return self._may(
                actor,
                Permission.ORDERS_BUY,
                access,
                at,
                (order, cart),
                resource=_order_resource(order),
                amount=order.total,
            )

        def body(cmd: Command, found: tuple[Order, Cart | None]) -> Order:
            order, cart = found
            if cart is None:
                return order  # a retry: the order placed the first time
            self._store_new_order(cmd, order, key, fingerprint, stock_seen)
            if stored_cart:
                cart.mark_ordered(order.id)
                cmd.uow.carts.update(cart)
            return order

        try:
            return self._retrying(
                lambda: self._run(
                    actor,
                    action="order.place",
                    target=target,
                    ask=ask,
                    body=body,
                    detail=lambda o: f"order {o.id} {o.status.value}, total {o.total}",
                )
            )
        finally:
            self._warm(cache)

    @staticmethod
    def _replay(uow: UnitOfWork, actor: Actor, key: str | None, fingerprint: str) -> Order | None:
        if key is None:
            return None
        known = uow.idempotency.recall(key, company_id=actor.company_id, fingerprint=fingerprint)
        if known is None:
            return None
        return uow.orders.get(OrderId(known), company_id=actor.company_id)

    @staticmethod
    def _new_order(
        actor: Actor,
        *,
        at: datetime,
        currency: str,
        lines: tuple[OrderLine, ...],
        unit: BusinessUnitId | None,
        cost_center: str | None,
        reference: str,
        po_number: str,
        key: str | None,
    ) -> Order:
        order_lines = lines
        total = sum((line.net for line in order_lines), Money.zero(currency))
        return Order(
            id=OrderId(new_id()),
            company_id=actor.company_id,
            requester_id=actor.on_behalf_of,
            placed_by=actor.acted_by,
            currency=currency,
            lines=order_lines,
            total=total,
            created_at=at,
            status=OrderStatus.PLACED,
            business_unit_id=unit,
            cost_center=cost_center,
            reference=reference,
            po_number=po_number,
            idempotency_key=key,
            assisted_session_id=actor.assisted_session_id,
        )

    def _store_new_order(
        self,
        cmd: Command,
        order: Order,
        key: str | None,
        fingerprint: str,
        stock_seen: Mapping[str, Sequence[StockLevel]] | None = None,
    ) -> None:
        """Ask the approval gate, reserve the order's stock (from the levels the
        review read in this unit of work, if it kept them), store the order (and its
        key). The writes go to the store together where it can (one round trip on
        PostgreSQL)."""
        needs_approval = self.approval_gate.requires_approval(cmd.uow, order)
        with writes_together(cmd.uow):
            for line in order.lines:
                reserve_stock(
                    cmd.uow,
                    company_id=order.company_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    reference=order.id,
                    at=cmd.at,
                    levels=None if stock_seen is None else stock_seen.get(line.sku),
                )
            if needs_approval:
                order.status = OrderStatus.PENDING_APPROVAL
                flow = self.approval_gate.submit(cmd.uow, cmd.actor, order)
                order.approval_flow_id = flow
            order.start(at=cmd.at, by=cmd.actor.acted_by)
            cmd.uow.orders.add(order)
            if key is not None:
                cmd.uow.idempotency.remember(
                    key,
                    company_id=order.company_id,
                    fingerprint=fingerprint,
                    result=order.id,
                    at=cmd.at,
                )

    # == reading orders ====================================================================
    def get_order(self, actor: Actor, order_id: str) -> Order:
        """One order, if the actor's ``orders.view`` scope reaches it (the seller's
        staff see every order of the company)."""
        oid = as_id(OrderId, order_id, path="order_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            order = uow.orders.get(oid, company_id=actor.company_id)
            return self._may_view(
                actor, Permission.ORDERS_VIEW, access, at, order, resource=_order_resource(order)
            )

        return self._run(
            actor,
            action="order.read",
            target=f"order:{oid}",
            ask=ask,
            body=lambda _cmd, order: order,
            write=False,
        )

    def _audience(
        self, actor: Actor, permission: Permission, access: Access, at: datetime
    ) -> _Ask[Audience]:
        if actor.operator:
            return _Ask(_seller_decision(actor), Audience.whole_company())
        decision, audience = audience_for(actor, permission, access=access, at=at)
        return _Ask(decision, audience, permission.value)

    def order_history(
        self,
        actor: Actor,
        *,
        statuses: Iterable[OrderStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sku: str | None = None,
        business_unit_id: str | None = None,
        requester_id: str | None = None,
        text: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Order]:
        """The orders the actor may see, newest first, a page at a time: filtered by
        status, creation time (``since`` inclusive, ``until`` exclusive), a SKU on
        any line, business unit, requester, and ``text`` found (case-insensitively)
        in the order id, reference or PO number. The cursor is stable: orders placed
        meanwhile never shift a page."""
        code = None if sku is None else as_id(Sku, sku, path="sku")
        unit = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        requester = (
            None if requester_id is None else as_id(UserId, requester_id, path="requester_id")
        )
        start = None if since is None else to_utc(since, path="since")
        end = None if until is None else to_utc(until, path="until")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Audience]:
            return self._audience(actor, Permission.ORDERS_VIEW, access, at)

        def body(cmd: Command, audience: Audience) -> Page[Order]:
            return cmd.uow.orders.list(
                company_id=actor.company_id,
                statuses=statuses,
                since=start,
                until=end,
                sku=code,
                business_unit_id=unit,
                requester_id=requester,
                text=text,
                audience=audience,
                limit=limit,
                cursor=cursor,
            )

        return self._run(
            actor, action="order.list", target="orders", ask=ask, body=body, write=False
        )

    def track_order(self, actor: Actor, order_id: str) -> OrderTracking:
        """Where is my order: its status and history, shipped and outstanding
        quantities per line, and every shipment with the carrier's timeline."""
        oid = as_id(OrderId, order_id, path="order_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            order = uow.orders.get(oid, company_id=actor.company_id)
            return self._may_view(
                actor, Permission.ORDERS_VIEW, access, at, order, resource=_order_resource(order)
            )

        def body(cmd: Command, order: Order) -> OrderTracking:
            shipments = cmd.uow.shipments.for_order(order.id, company_id=order.company_id)
            return track(order, shipments)

        return self._run(
            actor, action="order.track", target=f"order:{oid}", ask=ask, body=body, write=False
        )

    # == the lifecycle =====================================================================
    def _order_command(
        self,
        actor: Actor,
        order_id: str,
        *,
        action: str,
        change: Callable[[Command, Order], None],
        buyer: Permission | None = None,
    ) -> Order:
        """Load an order, authorize (the seller's staff; or a buyer with ``buyer``
        who may also view the order), apply ``change``, store it."""
        oid = as_id(OrderId, order_id, path="order_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            order = uow.orders.get(oid, company_id=actor.company_id)
            if actor.operator or buyer is None:
                return self._seller(order, actor)
            resource = _order_resource(order)
            asked = self._may(actor, buyer, access, at, order, resource=resource)
            if not asked.decision.allowed:
                return asked
            return self._may(actor, Permission.ORDERS_VIEW, access, at, order, resource=resource)

        def body(cmd: Command, order: Order) -> Order:
            change(cmd, order)
            cmd.uow.orders.update(order)
            return order

        return self._retrying(
            lambda: self._run(
                actor,
                action=action,
                target=f"order:{oid}",
                ask=ask,
                body=body,
                detail=lambda o: f"now {o.status.value}",
            )
        )

    def confirm_order(self, actor: Actor, order_id: str, *, note: str = "") -> Order:
        """The seller confirms a placed order (``placed`` → ``confirmed``)."""
        reason = _text(note, path="note", max_length=500)
        return self._order_command(
            actor,
            order_id,
            action="order.confirm",
            change=lambda cmd, order: order.transition(
                OrderStatus.CONFIRMED, at=cmd.at, by=cmd.actor.acted_by, reason=reason
            ),
        )

    def cancel_order(self, actor: Actor, order_id: str, *, reason: str = "") -> Order:
        """Cancel an order before anything of it shipped, releasing its stock.

        The buyer needs ``orders.buy`` and must be able to view the order; the
        seller's staff may cancel too (say why). After a shipment it is an
        :class:`~b2bcore.errors.InvalidTransitionError`.
        """
        why = _text(reason, path="reason", max_length=500)

        def change(cmd: Command, order: Order) -> None:
            order.transition(OrderStatus.CANCELLED, at=cmd.at, by=cmd.actor.acted_by, reason=why)
            _release(cmd.uow, order, cmd.at)

        return self._order_command(
            actor, order_id, action="order.cancel", change=change, buyer=Permission.ORDERS_BUY
        )

    def close_order(self, actor: Actor, order_id: str) -> Order:
        """The seller closes a delivered order (``delivered`` → ``closed``)."""
        return self._order_command(
            actor,
            order_id,
            action="order.close",
            change=lambda cmd, order: order.transition(
                OrderStatus.CLOSED, at=cmd.at, by=cmd.actor.acted_by
            ),
        )

    def complete_approval(self, completion: ApprovalCompletion) -> Order:
        """An approval flow of an order ended (what the approvals context reports):
        approved → the order is placed; rejected → cancelled, its stock released.

        Idempotent: an order that already left ``pending_approval`` is returned as it
        is, so delivering the same completion twice changes nothing. Audited in the
        company's trail as the deciding approver's ``order.approval``.
        """
        if not isinstance(completion, ApprovalCompletion):
            raise ValidationError(
                "must be an ApprovalCompletion", path="completion", value=completion
            )
        decider = Actor(
            company_id=completion.company_id,
            acted_by=completion.decided_by,
            on_behalf_of=UserId(completion.decided_by),
        )
        oid = completion.order_id

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            order = uow.orders.get(oid, company_id=completion.company_id)
            if (
                completion.flow_id is not None
                and order.approval_flow_id is not None
                and completion.flow_id != order.approval_flow_id
            ):
                raise ConflictError(
                    f"flow {completion.flow_id!r} is not the approval flow of order {oid!r} "
                    f"({order.approval_flow_id!r})"
                )
            decision = AccessDecision(
                allowed=True,
                permission=Permission.APPROVALS_APPROVE,
                code="approval_flow",
                reason="the approval flow decided",
            )
            return _Ask(decision, order)

        def body(cmd: Command, order: Order) -> Order:
            if order.status is not OrderStatus.PENDING_APPROVAL:
                return order
            reason = completion.reason or f"approval {completion.result.value}"
            if completion.result is ApprovalResult.APPROVED:
                order.transition(
                    OrderStatus.PLACED, at=completion.at, by=completion.decided_by, reason=reason
                )
            else:
                order.transition(
                    OrderStatus.CANCELLED, at=completion.at, by=completion.decided_by, reason=reason
                )
                _release(cmd.uow, order, cmd.at)
            cmd.uow.orders.update(order)
            return order

        return self._retrying(
            lambda: self._run(
                decider,
                action="order.approval",
                target=f"order:{oid}",
                ask=ask,
                body=body,
                detail=lambda o: f"{completion.result.value}: now {o.status.value}",
            )
        )

    # == shipments =========================================================================
    def ship(
        self,
        actor: Actor,
        order_id: str,
        *,
        quantities: Mapping[str, Decimal | int | str],
        carrier: str,
        tracking_number: str,
        shipment_id: str | None = None,
    ) -> Shipment:
        """The seller ships ``quantities`` (SKU → quantity) of a confirmed order:
        a :class:`~b2bcore.orders.model.Shipment` is stored and the order becomes
        ``partially_shipped`` or ``shipped``. Shipping more than is left of a line
        raises :class:`~b2bcore.orders.errors.QuantityExceededError`. When the order
        is fully shipped its stock reservations are released (the warehouse's stock
        sync then lowers what is on hand)."""
        oid = as_id(OrderId, order_id, path="order_id")
        wanted = _quantities(quantities, "quantities")
        sid = (
            ShipmentId(new_id())
            if shipment_id is None
            else as_id(ShipmentId, shipment_id, path="shipment_id")
        )

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            return self._seller(uow.orders.get(oid, company_id=actor.company_id), actor)

        def body(cmd: Command, order: Order) -> Shipment:
            lines = [
                ShipmentLine(line_no=order.line_for(sku).line_no, sku=sku, quantity=q)
                for sku, q in wanted.items()
            ]
            shipment = Shipment(
                id=sid,
                company_id=order.company_id,
                order_id=order.id,
                carrier=carrier,
                tracking_number=tracking_number,
                shipped_at=cmd.at,
                lines=sorted(lines, key=lambda line: line.line_no),
            )
            status = order.ship(wanted, at=cmd.at, by=cmd.actor.acted_by)
            shipment.record(
                ShipmentDispatched(
                    company_id=order.company_id,
                    occurred_at=cmd.at,
                    shipment_id=shipment.id,
                    order_id=order.id,
                    carrier=shipment.carrier,
                    tracking_number=shipment.tracking_number,
                )
            )
            if status is OrderStatus.SHIPPED:
                _release(cmd.uow, order, cmd.at)
            cmd.uow.shipments.add(shipment)
            cmd.uow.orders.update(order)
            return shipment

        return self._retrying(
            lambda: self._run(
                actor,
                action="order.ship",
                target=f"order:{oid}",
                ask=ask,
                body=body,
                detail=lambda s: f"shipment {s.id} ({s.carrier} {s.tracking_number})",
            )
        )

    def record_tracking(
        self,
        actor: Actor,
        shipment_id: str,
        *,
        status: TrackingStatus,
        at: datetime | None = None,
        location: str = "",
        description: str = "",
    ) -> Shipment:
        """The seller (or the carrier integration, as the seller) adds a carrier event
        to a shipment's timeline (default time: now); repeating a known event changes
        nothing. When every shipment of a fully shipped order is delivered, the order
        becomes ``delivered``."""
        sid = as_id(ShipmentId, shipment_id, path="shipment_id")
        when = None if at is None else to_utc(at, path="at")

        def ask(uow: UnitOfWork, access: Access, now: datetime) -> _Ask[Shipment]:
            return self._seller(uow.shipments.get(sid, company_id=actor.company_id), actor)

        def body(cmd: Command, shipment: Shipment) -> Shipment:
            event = TrackingEvent(
                at=when if when is not None else cmd.at,
                status=status,
                location=location,
                description=description,
            )
            if not shipment.track(event):
                return shipment
            cmd.uow.shipments.update(shipment)
            order = cmd.uow.orders.get(shipment.order_id, company_id=shipment.company_id)
            if order.status is OrderStatus.SHIPPED:
                siblings = cmd.uow.shipments.for_order(order.id, company_id=order.company_id)
                latest = {s.id: s for s in siblings} | {shipment.id: shipment}
                if all(s.delivered_at is not None for s in latest.values()):
                    order.transition(
                        OrderStatus.DELIVERED,
                        at=cmd.at,
                        by=cmd.actor.acted_by,
                        reason=f"every shipment delivered (last: {shipment.id})",
                    )
                    cmd.uow.orders.update(order)
            return shipment

        return self._retrying(
            lambda: self._run(
                actor,
                action="shipment.track",
                target=f"shipment:{sid}",
                ask=ask,
                body=body,
                detail=lambda s: f"{s.status.value}",
            )
        )

    # == invoices ==========================================================================
    def issue_invoice(
        self,
        actor: Actor,
        order_id: str,
        *,
        shipment_id: str | None = None,
        quantities: Mapping[str, Decimal | int | str] | None = None,
        terms: PaymentTerms | None = None,
    ) -> Invoice:
        """The seller invoices an order: one shipment's quantities (``shipment_id``;
        a shipment is invoiced once), the given ``quantities``, or everything not
        invoiced yet. Each line's amount is its share of the order line's net amount
        (the last part takes the remainder, so the parts add up exactly); more than
        is left to invoice raises
        :class:`~b2bcore.orders.errors.QuantityExceededError`. Due date: the issue
        date plus the payment ``terms`` (default net 30)."""
        oid = as_id(OrderId, order_id, path="order_id")
        sid = None if shipment_id is None else as_id(ShipmentId, shipment_id, path="shipment_id")
        wanted = None if quantities is None else _quantities(quantities, "quantities")
        if sid is not None and wanted is not None:
            raise ValidationError(
                "give a shipment or quantities, not both", path="quantities", value=quantities
            )
        payment_terms = PaymentTerms() if terms is None else terms
        if not isinstance(payment_terms, PaymentTerms):
            raise ValidationError("must be PaymentTerms", path="terms", value=terms)
        iid = InvoiceId(new_id())

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            return self._seller(uow.orders.get(oid, company_id=actor.company_id), actor)

        def body(cmd: Command, order: Order) -> Invoice:
            shipment: Shipment | None = None
            what: dict[str, Decimal]
            if sid is not None:
                shipment = cmd.uow.shipments.get(sid, company_id=order.company_id)
                if shipment.order_id != order.id:
                    raise NotFoundError(
                        "shipment", sid, f"shipment {sid!r} is not of order {order.id!r}"
                    )
                if shipment.invoice_id is not None:
                    raise ConflictError(
                        f"shipment {sid!r} was invoiced already ({shipment.invoice_id})"
                    )
                what = {line.sku: line.quantity for line in shipment.lines}
            elif wanted is not None:
                what = wanted
            else:
                what = {
                    line.sku: line.left_to_invoice for line in order.lines if line.left_to_invoice
                }
                if not what:
                    raise ConflictError(f"order {order.id!r} is invoiced completely")
            lines = order.invoice(what)
            invoice = Invoice(
                id=iid,
                company_id=order.company_id,
                order_id=order.id,
                currency=order.currency,
                issued_at=cmd.at,
                terms=payment_terms,
                lines=lines,
                total=sum((line.amount for line in lines), Money.zero(order.currency)),
                requester_id=order.requester_id,
                business_unit_id=order.business_unit_id,
                shipment_id=sid,
            )
            invoice.record(
                InvoiceIssued(
                    company_id=invoice.company_id,
                    occurred_at=cmd.at,
                    invoice_id=invoice.id,
                    order_id=order.id,
                    total=invoice.total,
                    due_date=invoice.due_date,
                )
            )
            cmd.uow.invoices.add(invoice)
            cmd.uow.orders.update(order)
            if shipment is not None:
                shipment.invoice_id = invoice.id
                cmd.uow.shipments.update(shipment)
            return invoice

        return self._retrying(
            lambda: self._run(
                actor,
                action="invoice.issue",
                target=f"order:{oid}",
                ask=ask,
                body=body,
                detail=lambda i: f"invoice {i.id}: {i.total}, due {i.due_date.isoformat()}",
            )
        )

    def _invoice_command(
        self,
        actor: Actor,
        invoice_id: str,
        *,
        action: str,
        change: Callable[[Command, Invoice], str],
    ) -> Invoice:
        iid = as_id(InvoiceId, invoice_id, path="invoice_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Invoice]:
            return self._seller(uow.invoices.get(iid, company_id=actor.company_id), actor)

        notes: list[str] = []

        def body(cmd: Command, invoice: Invoice) -> Invoice:
            notes.append(change(cmd, invoice))
            cmd.uow.invoices.update(invoice)
            return invoice

        return self._run(
            actor,
            action=action,
            target=f"invoice:{iid}",
            ask=ask,
            body=body,
            detail=lambda i: f"{notes[-1]}; balance {i.balance}",
        )

    def record_payment(
        self, actor: Actor, invoice_id: str, amount: Money, *, reference: str = ""
    ) -> Invoice:
        """The seller records a payment against an invoice (at most its balance)."""
        ref = _text(reference, path="reference", max_length=100)

        def change(cmd: Command, invoice: Invoice) -> str:
            invoice.record_payment(amount, at=cmd.at, reference=ref)
            return f"paid {amount}"

        return self._invoice_command(actor, invoice_id, action="invoice.payment", change=change)

    def issue_credit_note(
        self,
        actor: Actor,
        invoice_id: str,
        amount: Money,
        *,
        reason: str,
        reference: str = "",
    ) -> Invoice:
        """The seller credits ``amount`` on an invoice (a claim's refund — name it in
        ``reference`` —, a goodwill credit …), at most what is not credited yet."""
        ref = _text(reference, path="reference", max_length=100)

        def change(cmd: Command, invoice: Invoice) -> str:
            note = invoice.credit(
                amount, reason=reason, at=cmd.at, credit_id=new_id(), reference=ref
            )
            return f"credit note {note.id}: {note.amount}"

        return self._invoice_command(actor, invoice_id, action="invoice.credit", change=change)

    def get_invoice(self, actor: Actor, invoice_id: str) -> Invoice:
        """One invoice, if the actor's ``invoices.view`` scope reaches it."""
        iid = as_id(InvoiceId, invoice_id, path="invoice_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Invoice]:
            invoice = uow.invoices.get(iid, company_id=actor.company_id)
            return self._may_view(
                actor,
                Permission.INVOICES_VIEW,
                access,
                at,
                invoice,
                resource=_invoice_resource(invoice),
            )

        return self._run(
            actor,
            action="invoice.read",
            target=f"invoice:{iid}",
            ask=ask,
            body=lambda _cmd, invoice: invoice,
            write=False,
        )

    def invoices(
        self,
        actor: Actor,
        *,
        order_id: str | None = None,
        status: InvoiceStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        """The invoices the actor's ``invoices.view`` scope reaches, oldest first;
        ``status=InvoiceStatus.OVERDUE`` gives the open ones past their due date now."""
        oid = None if order_id is None else as_id(OrderId, order_id, path="order_id")
        if status is not None and not isinstance(status, InvoiceStatus):
            raise ValidationError("must be an InvoiceStatus or None", path="status", value=status)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Audience]:
            return self._audience(actor, Permission.INVOICES_VIEW, access, at)

        def body(cmd: Command, audience: Audience) -> Page[Invoice]:
            stored = InvoiceStatus.OPEN if status is InvoiceStatus.OVERDUE else status
            due_before = cmd.at if status is InvoiceStatus.OVERDUE else None
            return cmd.uow.invoices.list(
                company_id=actor.company_id,
                order_id=oid,
                status=stored,
                due_before=due_before,
                audience=audience,
                limit=limit,
                cursor=cursor,
            )

        return self._run(
            actor, action="invoice.list", target="invoices", ask=ask, body=body, write=False
        )

    def outstanding_balance(self, actor: Actor) -> list[AccountBalance]:
        """What the actor's company owes, per currency, over the invoices the actor's
        ``invoices.view`` scope reaches (the whole company for a company scope):
        outstanding, overdue now, and credit beyond what was owed."""

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Audience]:
            return self._audience(actor, Permission.INVOICES_VIEW, access, at)

        def body(cmd: Command, audience: Audience) -> list[AccountBalance]:
            uow = cmd.uow
            every = iterate(
                lambda c: uow.invoices.list(
                    company_id=actor.company_id, audience=audience, limit=MAX_LIMIT, cursor=c
                )
            )
            sums: dict[str, AccountBalance] = {}
            for invoice in every:
                zero = Money.zero(invoice.currency).round(RoundingPolicy())
                acc = sums.get(invoice.currency) or AccountBalance(
                    invoice.currency, zero, zero, zero, 0
                )
                balance = invoice.balance
                if balance.is_negative():
                    acc = attrs.evolve(acc, credit=acc.credit - balance)
                elif invoice.status is InvoiceStatus.OPEN:
                    overdue = invoice.status_at(cmd.at) is InvoiceStatus.OVERDUE
                    acc = attrs.evolve(
                        acc,
                        outstanding=acc.outstanding + balance,
                        overdue=acc.overdue + balance if overdue else acc.overdue,
                        open_invoices=acc.open_invoices + 1,
                    )
                sums[invoice.currency] = acc
            return [sums[currency] for currency in sorted(sums)]

        return self._run(
            actor, action="invoice.balance", target="invoices", ask=ask, body=body, write=False
        )

    # == sales quotes (RFQ) ==================================================================
    def request_quote(
        self,
        actor: Actor,
        *,
        currency: str,
        lines: Sequence[tuple[str, Decimal | int | str]] | Mapping[str, Decimal | int | str],
        message: str = "",
        business_unit_id: str | None = None,
        submit: bool = True,
    ) -> Quote:
        """The buyer asks for a quote (``quotes.request``): SKUs they may order
        (assortment, not discontinued) in quantities their quantity rules allow — a
        problem per bad line as :class:`~b2bcore.orders.errors.NotOrderableCartError`.
        Stored as ``requested`` (``draft`` with ``submit=False``)."""
        if not is_currency(currency):
            raise ValidationError(
                f"{currency!r} is not an ISO 4217 currency", path="currency", value=currency
            )
        wanted = _lines_arg(lines)
        note = _text(message, path="message", max_length=2000)
        unit_arg = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        if not isinstance(submit, bool):
            raise ValidationError("must be True or False", path="submit", value=submit)
        qid = QuoteId(new_id())

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Quote]:
            context, unit, cost_center = self._context(
                uow, access, actor, currency=currency, business_unit_id=unit_arg, at=at
            )
            reviewed = review_lines(wanted, catalog=StoredCatalog(uow), context=context, lists=None)
            problems = [r.problem for r in reviewed if r.problem is not None]
            if problems:
                raise NotOrderableCartError(qid, problems)
            quote = Quote(
                id=qid,
                company_id=actor.company_id,
                requester_id=actor.on_behalf_of,
                currency=currency,
                created_at=at,
                lines=[
                    QuoteLine(
                        sku=r.sku,
                        quantity=r.quantity,
                        name=r.product.name if r.product is not None else "",
                        categories=r.categories,
                    )
                    for r in reviewed
                ],
                business_unit_id=unit,
                cost_center=cost_center,
                message=note,
                history=[StatusChange(to_status=QuoteStatus.DRAFT.value, at=at, by=actor.acted_by)],
            )
            return self._may(
                actor, Permission.QUOTES_REQUEST, access, at, quote, resource=_quote_resource(quote)
            )

        def body(cmd: Command, quote: Quote) -> Quote:
            if submit:
                quote.transition(QuoteStatus.REQUESTED, at=cmd.at, by=cmd.actor.acted_by)
            cmd.uow.sales_quotes.add(quote)
            return quote

        return self._run(
            actor,
            action="quote.request",
            target=f"quote:{qid}",
            ask=ask,
            body=body,
            detail=lambda q: f"{len(q.lines)} lines, {q.status.value}",
        )

    def _quote_command(
        self,
        actor: Actor,
        quote_id: str,
        *,
        action: str,
        change: Callable[[Command, Quote], str],
        buyer: Permission | None,
        cache: Mapping[str, Lists] | None = None,
    ) -> Quote:
        qid = as_id(QuoteId, quote_id, path="quote_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Quote]:
            quote = uow.sales_quotes.get(qid, company_id=actor.company_id)
            if actor.operator or buyer is None:
                return self._seller(quote, actor)
            resource = _quote_resource(quote)
            asked = self._may(actor, buyer, access, at, quote, resource=resource)
            if not asked.decision.allowed:
                return asked
            return self._may(actor, Permission.ORDERS_VIEW, access, at, quote, resource=resource)

        notes: list[str] = []

        def body(cmd: Command, quote: Quote) -> Quote:
            notes.append(change(cmd, quote))
            cmd.uow.sales_quotes.update(quote)
            return quote

        return self._run(
            actor,
            action=action,
            target=f"quote:{qid}",
            ask=ask,
            body=body,
            detail=lambda q: f"now {q.status.value}" + (f"; {notes[-1]}" if notes[-1] else ""),
        )

    def submit_quote(self, actor: Actor, quote_id: str) -> Quote:
        """The buyer sends a draft quote to the seller (``draft`` → ``requested``)."""

        def change(cmd: Command, quote: Quote) -> str:
            quote.transition(QuoteStatus.REQUESTED, at=cmd.at, by=cmd.actor.acted_by)
            return ""

        return self._quote_command(
            actor,
            quote_id,
            action="quote.submit",
            buyer=Permission.QUOTES_REQUEST,
            change=change,
        )

    def decline_quote(self, actor: Actor, quote_id: str, *, reason: str = "") -> Quote:
        """Decline a quote: the buyer (``quotes.request``) a draft, a request or a
        proposal; the seller's staff a request or a proposal."""
        why = _text(reason, path="reason", max_length=500)

        def change(cmd: Command, quote: Quote) -> str:
            if cmd.actor.operator and quote.status is QuoteStatus.DRAFT:
                raise InvalidTransitionError(
                    "quote", quote.id, quote.status.value, QuoteStatus.DECLINED.value
                )
            quote.transition(QuoteStatus.DECLINED, at=cmd.at, by=cmd.actor.acted_by, reason=why)
            return why

        return self._quote_command(
            actor,
            quote_id,
            action="quote.decline",
            buyer=Permission.QUOTES_REQUEST,
            change=change,
        )

    def propose_quote(
        self,
        actor: Actor,
        quote_id: str,
        *,
        valid_until: datetime,
        prices: Mapping[str, Money] | None = None,
        reasons: Mapping[str, str] | None = None,
    ) -> Quote:
        """The seller's agent proposes prices for a requested quote (or revises a
        proposal), valid until ``valid_until``.

        Each line pins the engine's price for the buyer (explained; the buyer must
        have one); ``prices`` (SKU → unit price) overrides some of them, and every
        override needs its reason in ``reasons`` — the overrides are listed in the
        audit trail. Without an override the line is offered at the engine's price.
        """
        until = to_utc(valid_until, path="valid_until")
        offered = dict(prices or {})
        why = dict(reasons or {})
        for path, mapping in (("prices", offered), ("reasons", why)):
            for sku in mapping:
                check_id(sku, path=f"{path}.sku")
        qid = as_id(QuoteId, quote_id, path="quote_id")
        currency = self._peek(
            lambda uow: uow.sales_quotes.get(qid, company_id=actor.company_id).currency
        )
        cache = self._cached_lists(currency)

        def change(cmd: Command, quote: Quote) -> str:
            if until <= cmd.at:
                raise ValidationError(
                    "valid_until must be in the future", path="valid_until", value=until
                )
            unknown = sorted((set(offered) | set(why)) - {line.sku for line in quote.lines})
            if unknown:
                raise ValidationError(
                    f"quote {quote.id!r} has no lines for {unknown}", path="prices", value=unknown
                )
            buyer = Actor(
                company_id=quote.company_id,
                acted_by=quote.requester_id,
                on_behalf_of=quote.requester_id,
            )
            access = load_access(cmd.uow, buyer)
            context, _unit, _cc = self._context(
                cmd.uow,
                access,
                buyer,
                currency=quote.currency,
                business_unit_id=quote.business_unit_id,
                at=cmd.at,
            )
            lists = self._lists(cmd.uow, quote.currency, cmd.at, cache)
            catalog = StoredCatalog(cmd.uow)
            lines: list[QuoteLine] = []
            overrides: list[str] = []
            for line in quote.lines:
                product = catalog.product(line.sku)
                if product is None:
                    raise NotFoundError("product", line.sku)
                try:
                    engine = resolve_price(
                        context.price_context,
                        price_item(product, catalog),
                        line.quantity,
                        lists=lists,
                    )
                except NoPriceError:
                    raise ValidationError(
                        f"the buyer has no list price for {line.sku}: publish one before "
                        "quoting it (a quote is a price against the list)",
                        path="lines",
                        value=line.sku,
                    ) from None
                engine = attrs.evolve(engine, explanation=engine.explanation.for_buyer())
                unit = offered.get(line.sku, engine.unit_price)
                new = attrs.evolve(
                    line, list_price=engine, unit_price=unit, reason=why.get(line.sku, "")
                )
                if new.is_override:
                    overrides.append(
                        f"{line.sku} {unit} (list {engine.unit_price}): {new.reason.strip()}"
                    )
                lines.append(new)
            quote.lines = tuple(lines)
            quote.transition(QuoteStatus.PROPOSED, at=cmd.at, by=cmd.actor.acted_by)
            quote.proposed_by = cmd.actor.acted_by
            quote.valid_until = until
            total = quote.total
            listed = "; ".join(overrides) if overrides else "no overrides"
            return f"total {total}, valid until {until.isoformat()}, {listed}"

        return self._quote_command(
            actor, quote_id, action="quote.propose", change=change, buyer=None, cache=cache
        )

    def expire_quotes(self, actor: Actor) -> list[Quote]:
        """The seller marks every proposal of the company past its ``valid_until`` as
        ``expired``; returns them."""

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[None]:
            return self._seller(None, actor)

        def body(cmd: Command, _: None) -> list[Quote]:
            uow = cmd.uow
            proposed = list(
                iterate(
                    lambda c: uow.sales_quotes.list(
                        company_id=actor.company_id,
                        status=QuoteStatus.PROPOSED,
                        limit=MAX_LIMIT,
                        cursor=c,
                    )
                )
            )
            expired = []
            for quote in proposed:
                if quote.status_at(cmd.at) is QuoteStatus.EXPIRED:
                    quote.transition(
                        QuoteStatus.EXPIRED,
                        at=cmd.at,
                        by=cmd.actor.acted_by,
                        reason="not accepted in time",
                    )
                    uow.sales_quotes.update(quote)
                    expired.append(quote)
            return expired

        return self._run(
            actor,
            action="quote.expire",
            target="quotes",
            ask=ask,
            body=body,
            detail=lambda qs: f"{len(qs)} expired",
        )

    def get_quote(self, actor: Actor, quote_id: str) -> Quote:
        """One quote, if the actor's ``orders.view`` scope reaches it."""
        qid = as_id(QuoteId, quote_id, path="quote_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Quote]:
            quote = uow.sales_quotes.get(qid, company_id=actor.company_id)
            return self._may_view(
                actor, Permission.ORDERS_VIEW, access, at, quote, resource=_quote_resource(quote)
            )

        return self._run(
            actor,
            action="quote.read",
            target=f"quote:{qid}",
            ask=ask,
            body=lambda _cmd, quote: quote,
            write=False,
        )

    def quotes(
        self,
        actor: Actor,
        *,
        status: QuoteStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Quote]:
        """The quotes the actor's ``orders.view`` scope reaches (the seller's staff:
        all of the company's), newest first."""

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Audience]:
            return self._audience(actor, Permission.ORDERS_VIEW, access, at)

        def body(cmd: Command, audience: Audience) -> Page[Quote]:
            return cmd.uow.sales_quotes.list(
                company_id=actor.company_id,
                status=status,
                audience=audience,
                limit=limit,
                cursor=cursor,
            )

        return self._run(
            actor, action="quote.list", target="quotes", ask=ask, body=body, write=False
        )

    def accept_quote(
        self,
        actor: Actor,
        quote_id: str,
        *,
        idempotency_key: str | None = None,
        reference: str = "",
        po_number: str = "",
    ) -> Order:
        """The buyer accepts a proposal before it expires: an order at the quoted
        prices (each line pins the engine's explained price and carries the quoted
        one as its override), checked, authorized, reserved and gated exactly like a
        checkout. A proposal past ``valid_until`` raises
        :class:`~b2bcore.orders.errors.QuoteExpiredError`."""
        qid = as_id(QuoteId, quote_id, path="quote_id")
        key = _key(idempotency_key)
        ref = _text(reference, path="reference", max_length=100)
        po = _text(po_number, path="po_number", max_length=50)
        if not isinstance(actor, Actor):
            raise ValidationError("must be an Actor", path="actor", value=actor)
        fingerprint = _fingerprint("accept", actor.on_behalf_of, qid, ref, po)

        def ask(
            uow: UnitOfWork, access: Access, at: datetime
        ) -> _Ask[tuple[Order, Quote | None] | None]:
            quote = uow.sales_quotes.get(qid, company_id=actor.company_id)
            replay = self._replay(uow, actor, key, fingerprint)
            if replay is not None:
                return self._may(
                    actor,
                    Permission.ORDERS_BUY,
                    access,
                    at,
                    (replay, None),
                    resource=_order_resource(replay),
                )
            view = self._may(
                actor, Permission.ORDERS_VIEW, access, at, None, resource=_quote_resource(quote)
            )
            if not view.decision.allowed:
                return _Ask(view.decision, None, view.permission)
            state = quote.status_at(at)
            if state is QuoteStatus.EXPIRED and quote.valid_until is not None:
                raise QuoteExpiredError(quote.id, quote.valid_until.isoformat())
            if state is not QuoteStatus.PROPOSED:
                raise InvalidTransitionError(
                    "quote", quote.id, state.value, QuoteStatus.ACCEPTED.value
                )
            context, _unit, cost_center = self._context(
                uow,
                access,
                actor,
                currency=quote.currency,
                business_unit_id=quote.business_unit_id,
                at=at,
            )
            reviewed = review_lines(
                [(line.sku, line.quantity) for line in quote.lines],
                catalog=StoredCatalog(uow),
                context=context,
                lists=None,
                stock=self._stock(uow),
            )
            problems = [r.problem for r in reviewed if r.problem is not None]
            if problems:
                raise NotOrderableCartError(quote.id, problems)
            order = self._new_order(
                actor,
                at=at,
                currency=quote.currency,
                lines=quote_order_lines(quote, reviewed),
                unit=quote.business_unit_id,
                cost_center=quote.cost_center or cost_center,
                reference=ref,
                po_number=po,
                key=key,
            )
            order.quote_id = quote.id
            return self._may(
                actor,
                Permission.ORDERS_BUY,
                access,
                at,
                (order, quote),
                resource=_order_resource(order),
                amount=order.total,
            )

        def body(cmd: Command, found: tuple[Order, Quote | None] | None) -> Order:
            assert found is not None  # a denied view never gets here
            order, quote = found
            if quote is None:
                return order
            self._store_new_order(cmd, order, key, fingerprint)
            quote.transition(QuoteStatus.ACCEPTED, at=cmd.at, by=cmd.actor.acted_by)
            quote.order_id = order.id
            cmd.uow.sales_quotes.update(quote)
            return order

        return self._retrying(
            lambda: self._run(
                actor,
                action="quote.accept",
                target=f"quote:{qid}",
                ask=ask,
                body=body,
                detail=lambda o: f"order {o.id} {o.status.value}, total {o.total}",
            )
        )

    # == shopping lists ======================================================================
    def _visible_lists(self, access: Access, actor: Actor) -> set[str]:
        """The units whose lists the user sees: their units and every unit above."""
        user = access.user
        units: set[str] = set()
        for unit in user.business_unit_ids if user is not None else ():
            if unit in {u.id for u in access.units}:
                units.add(unit)
                units.update(ancestors(access.units, unit))
        return units

    def _list_access(
        self, uow: UnitOfWork, access: Access, actor: Actor, list_id: ShoppingListId
    ) -> ShoppingList:
        found = uow.shopping_lists.get(list_id, company_id=actor.company_id)
        mine = found.owner_id == actor.on_behalf_of
        shared = (
            found.business_unit_id is not None
            and found.business_unit_id in self._visible_lists(access, actor)
        )
        if not (mine or shared):
            raise NotFoundError("shopping list", list_id)
        return found

    @staticmethod
    def _list_resource(shopping_list: ShoppingList, actor: Actor) -> Resource:
        return _resource(
            "shopping_list",
            shopping_list.id,
            shopping_list.company_id,
            shopping_list.owner_id or actor.on_behalf_of,
            shopping_list.business_unit_id,
        )

    def create_shopping_list(
        self,
        actor: Actor,
        *,
        name: str,
        business_unit_id: str | None = None,
        lines: Sequence[tuple[str, Decimal | int | str]] = (),
    ) -> ShoppingList:
        """A new shopping list: the actor's own, or — with ``business_unit_id`` — one
        shared by a business unit (one of the user's units or a unit above them;
        everyone in it and below sees it). Needs ``orders.buy``."""
        wanted = _lines_arg(list(lines))
        unit_arg = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        lid = ShoppingListId(new_id())

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[ShoppingList]:
            if unit_arg is not None and unit_arg not in self._visible_lists(access, actor):
                raise ValidationError(
                    f"business unit {unit_arg!r} is not one of your units or above them",
                    path="business_unit_id",
                    value=unit_arg,
                )
            shopping_list = ShoppingList(
                id=lid,
                company_id=actor.company_id,
                name=name,
                created_by=actor.on_behalf_of,
                updated_at=at,
                owner_id=None if unit_arg is not None else actor.on_behalf_of,
                business_unit_id=unit_arg,
            )
            for sku, quantity in wanted:
                shopping_list.put(sku, quantity)
            return self._may(
                actor,
                Permission.ORDERS_BUY,
                access,
                at,
                shopping_list,
                resource=self._list_resource(shopping_list, actor),
            )

        def body(cmd: Command, shopping_list: ShoppingList) -> ShoppingList:
            cmd.uow.shopping_lists.add(shopping_list)
            return shopping_list

        return self._run(
            actor, action="shopping_list.create", target=f"shopping_list:{lid}", ask=ask, body=body
        )

    def _list_command(
        self,
        actor: Actor,
        list_id: str,
        *,
        action: str,
        change: Callable[[Command, ShoppingList], None],
        remove: bool = False,
    ) -> ShoppingList:
        lid = as_id(ShoppingListId, list_id, path="list_id")

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[ShoppingList]:
            found = self._list_access(uow, access, actor, lid)
            return self._may(
                actor,
                Permission.ORDERS_BUY,
                access,
                at,
                found,
                resource=self._list_resource(found, actor),
            )

        def body(cmd: Command, shopping_list: ShoppingList) -> ShoppingList:
            if remove:
                cmd.uow.shopping_lists.remove(shopping_list)
                return shopping_list
            change(cmd, shopping_list)
            shopping_list.updated_at = cmd.at
            cmd.uow.shopping_lists.update(shopping_list)
            return shopping_list

        return self._retrying(
            lambda: self._run(
                actor, action=action, target=f"shopping_list:{lid}", ask=ask, body=body
            )
        )

    def put_on_list(
        self,
        actor: Actor,
        list_id: str,
        sku: str,
        quantity: Decimal | int | str,
        *,
        note: str = "",
    ) -> ShoppingList:
        """Add a SKU to a shopping list, or change its quantity and note."""
        code = as_id(Sku, sku, path="sku")
        return self._list_command(
            actor,
            list_id,
            action="shopping_list.put",
            change=lambda _cmd, sl: sl.put(code, quantity, note=note),
        )

    def remove_from_list(self, actor: Actor, list_id: str, sku: str) -> ShoppingList:
        """Take a SKU off a shopping list."""
        code = as_id(Sku, sku, path="sku")
        return self._list_command(
            actor, list_id, action="shopping_list.remove", change=lambda _cmd, sl: sl.remove(code)
        )

    def delete_shopping_list(self, actor: Actor, list_id: str) -> ShoppingList:
        """Delete a shopping list; returns it as it was."""
        return self._list_command(
            actor,
            list_id,
            action="shopping_list.delete",
            change=lambda _cmd, _sl: None,
            remove=True,
        )

    def shopping_lists(self, actor: Actor) -> list[ShoppingList]:
        """The actor's own lists and those of their business units and the units above
        them, by name."""

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[set[str]]:
            asked = self._may(actor, Permission.ORDERS_BUY, access, at, set[str]())
            if not asked.decision.allowed:
                return asked
            return _Ask(asked.decision, self._visible_lists(access, actor))

        def body(cmd: Command, units: set[str]) -> list[ShoppingList]:
            uow, cid = cmd.uow, actor.company_id
            own = iterate(
                lambda c: uow.shopping_lists.list(
                    company_id=cid, owner_id=actor.on_behalf_of, limit=MAX_LIMIT, cursor=c
                )
            )
            shared = iterate(
                lambda c: uow.shopping_lists.list(
                    company_id=cid,
                    business_unit_ids=[BusinessUnitId(u) for u in units],
                    limit=MAX_LIMIT,
                    cursor=c,
                )
            )
            found = {sl.id: sl for sl in (*own, *(shared if units else ()))}
            return sorted(found.values(), key=lambda sl: (sl.name.casefold(), sl.id))

        return self._run(
            actor,
            action="shopping_list.list",
            target="shopping_lists",
            ask=ask,
            body=body,
            write=False,
        )

    def list_to_cart(
        self,
        actor: Actor,
        list_id: str,
        *,
        currency: str,
        business_unit_id: str | None = None,
    ) -> FilledCart:
        """A new cart from a shopping list at today's prices, with a report per line
        (replaced by a successor, quantity adjusted to a quantity rule, unavailable)."""
        lid = as_id(ShoppingListId, list_id, path="list_id")
        if not is_currency(currency):
            raise ValidationError(
                f"{currency!r} is not an ISO 4217 currency", path="currency", value=currency
            )
        unit_arg = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        cache = self._cached_lists(currency)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[ShoppingList]:
            found = self._list_access(uow, access, actor, lid)
            return self._may(
                actor,
                Permission.ORDERS_BUY,
                access,
                at,
                found,
                resource=self._list_resource(found, actor),
            )

        def body(cmd: Command, shopping_list: ShoppingList) -> FilledCart:
            lines = [
                (i + 1, line.sku, line.quantity, None) for i, line in enumerate(shopping_list.lines)
            ]
            return self._fill_cart(
                cmd,
                lines,
                currency=currency,
                unit=unit_arg,
                cache=cache,
                source=f"shopping list {shopping_list.id}",
            )

        return self._run(
            actor,
            action="shopping_list.to_cart",
            target=f"shopping_list:{lid}",
            ask=ask,
            body=body,
            detail=lambda f: f"cart {f.cart.id}: {len(f.cart.lines)} lines",
        )

    def _fill_cart(
        self,
        cmd: Command,
        lines: Sequence[tuple[int, str, Decimal, Money | None]],
        *,
        currency: str,
        unit: str | None,
        cache: Mapping[str, Lists],
        source: str,
    ) -> FilledCart:
        context, chosen, _cc = self._context(
            cmd.uow, cmd.access, cmd.actor, currency=currency, business_unit_id=unit, at=cmd.at
        )
        lists = self._lists(cmd.uow, currency, cmd.at, cache)
        carried = carry_lines(
            lines,
            catalog=StoredCatalog(cmd.uow),
            context=context,
            lists=lists,
            discounts=self._discounts_for(context.price_context),
        )
        cart = Cart(
            id=CartId(new_id()),
            company_id=cmd.actor.company_id,
            owner_id=cmd.actor.on_behalf_of,
            currency=currency,
            created_at=cmd.at,
            business_unit_id=chosen,
            lines=carried.lines,
            source=source,
        )
        cmd.uow.carts.add(cart)
        return FilledCart(cart=cart, report=carried.report, priced=carried.priced)

    # == reorder ===========================================================================
    def reorder(
        self, actor: Actor, order_id: str, *, business_unit_id: str | None = None
    ) -> FilledCart:
        """A new cart with a past order's lines at today's prices
        (:func:`~b2bcore.orders.rules.reorder`) and the report per line: unchanged,
        price changed (old → new), unavailable, replaced by its successor, quantity
        adjusted to a quantity rule. The order itself never changes. Needs
        ``orders.buy`` and a view of the order; the cart is for the order's business
        unit when it is one of the user's (else the user's first)."""
        oid = as_id(OrderId, order_id, path="order_id")
        unit_arg = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        currency = self._peek(lambda uow: uow.orders.get(oid, company_id=actor.company_id).currency)
        cache = self._cached_lists(currency)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> _Ask[Order]:
            order = uow.orders.get(oid, company_id=actor.company_id)
            resource = _order_resource(order)
            view = self._may(actor, Permission.ORDERS_VIEW, access, at, order, resource=resource)
            if not view.decision.allowed:
                return view
            return self._may(actor, Permission.ORDERS_BUY, access, at, order)

        def body(cmd: Command, order: Order) -> FilledCart:
            unit = unit_arg
            if unit is None and order.business_unit_id is not None:
                try:
                    self._unit_chain(cmd.access, actor, order.business_unit_id)
                    unit = order.business_unit_id
                except B2BCoreError:
                    unit = None
            return self._fill_cart(
                cmd,
                [(line.line_no, line.sku, line.quantity, line.unit_price) for line in order.lines],
                currency=order.currency,
                unit=unit,
                cache=cache,
                source=f"reorder of {order.id}",
            )

        return self._run(
            actor,
            action="order.reorder",
            target=f"order:{oid}",
            ask=ask,
            body=body,
            detail=lambda f: f"cart {f.cart.id}: {len(f.cart.lines)} of {len(f.report)} lines",
        )
