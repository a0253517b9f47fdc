"""Pure rules of the orders context: checking lines, pricing an order, reordering,
who sees which orders, and the "where is my order" view. No storage, no clock.

Lines are checked one by one so that every problem is reported next to its line
(:func:`review_lines`); an order is priced only through the pricing engine
(:func:`price_lines`); :func:`reorder` turns a past order into cart lines at today's
prices with a report per line.

>>> from datetime import datetime, timezone
>>> from b2bcore.catalog import CatalogContext, InMemoryCatalog, Product
>>> from b2bcore.money import Money
>>> from b2bcore.pricing import (Formula, PriceContext, PriceList, PriceRule, QuantityRule,
...     RuleTarget)
>>> from b2bcore.orders.rules import review_lines
>>> catalog = InMemoryCatalog(products=[
...     Product(sku="SEAL-7", name="Seal", list_price=Money("18.40", "EUR"),
...             quantity_rule=QuantityRule(sku="SEAL-7", minimum=2, increment=2)),
...     Product(sku="SEAL-6", name="Old seal", lifecycle="discontinued",
...             successor_sku="SEAL-7")])
>>> lists = [PriceList(id="list", name="List", currency="EUR",
...     valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc),
...     rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())])]
>>> context = CatalogContext(price_context=PriceContext(
...     company_id="acme", currency="EUR", at=datetime(2026, 5, 4, tzinfo=timezone.utc)))
>>> reviewed = review_lines([("SEAL-7", 3), ("SEAL-6", 1), ("NOPE", 1)],
...                         catalog=catalog, context=context, lists=lists)
>>> [(r.sku, r.problem.code if r.problem else "ok") for r in reviewed]
[('SEAL-7', 'quantity_rule'), ('SEAL-6', 'discontinued'), ('NOPE', 'unknown_product')]
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Final

import attrs

from b2bcore.accounts.model import Actor, Permission, ViewScope
from b2bcore.accounts.rules import Access, AccessDecision, authorize, descendants
from b2bcore.catalog.errors import NotOrderableError
from b2bcore.catalog.model import Product, StockLevel
from b2bcore.catalog.rules import (
    Availability,
    CatalogContext,
    CatalogReader,
    StockStatus,
    availability,
    check_orderable,
    price_item,
)
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import BusinessUnitId, CategoryId, CompanyId, OrderId, UserId, check_id
from b2bcore.money import Money, RoundingPolicy, to_quantity
from b2bcore.orders.errors import LineProblem
from b2bcore.orders.model import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    OrderStatus,
    PriceOverride,
    Quote,
    Shipment,
    StatusChange,
    TrackingEvent,
)
from b2bcore.orders.ports import Audience, AudienceGroup
from b2bcore.pricing.cart import CartLineInput, CartPrice, DiscountSet, PricedLine, price_cart
from b2bcore.pricing.errors import NoPriceError, QuantityRuleError
from b2bcore.pricing.model import PriceItem, PriceList, PricePolicy
from b2bcore.pricing.resolve import (
    DEFAULT_ROUNDING,
    PriceExplanation,
    PriceIndex,
    check_quantity,
    resolve_price,
)

__all__ = [
    "CartReview",
    "FilledCart",
    "LineReview",
    "OrderTracking",
    "Reorder",
    "ReorderChange",
    "ReorderLine",
    "TrackedLine",
    "audience_for",
    "build_order_lines",
    "carry_lines",
    "price_lines",
    "quote_order_lines",
    "reorder",
    "review_lines",
    "track",
]

#: Stock statuses that can be ordered now.
_ORDERABLE_NOW: Final = frozenset({StockStatus.IN_STOCK, StockStatus.LOW})

Lists = Sequence[PriceList] | PriceIndex
StockReader = Callable[[str], Sequence[StockLevel]]


# --- checking lines ------------------------------------------------------------------------


@attrs.frozen
class LineReview:
    """What became of one requested line: the product and price item when the SKU is
    known, the :class:`~b2bcore.orders.errors.LineProblem` when it cannot be ordered
    as it is, and its availability when stock was checked."""

    index: int
    sku: str
    quantity: Decimal
    product: Product | None = attrs.field(default=None, eq=False, repr=False)
    item: PriceItem | None = attrs.field(default=None, eq=False, repr=False)
    problem: LineProblem | None = None
    availability: Availability | None = None
    priced: PricedLine | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the line can be ordered."""
        return self.problem is None

    @property
    def categories(self) -> tuple[CategoryId, ...]:
        """The SKU's category path, root first (empty for an unknown SKU)."""
        return self.item.category_path if self.item is not None else ()

    @property
    def amount(self) -> Money | None:
        """What the line costs in the priced cart (None when it was not priced)."""
        return self.priced.net if self.priced is not None else None


@attrs.frozen
class CartReview:
    """A cart as the buyer sees it before ordering: every line checked (with its
    problem, its availability and its price), and the cart priced when every line is
    ok. Nothing is reserved or stored.

    A review is an approval subject (``subject_kind`` ``"cart"``): ``company_id``,
    ``total``, ``lines`` (``sku``, ``amount``, ``categories``), ``requester_id``,
    ``business_unit_id`` and ``cost_center``.
    """

    subject_kind: ClassVar[str] = "cart"

    cart: Cart
    lines: tuple[LineReview, ...]
    priced: CartPrice | None = attrs.field(default=None, eq=False, repr=False)
    cost_center: str | None = attrs.field(default=None)

    @property
    def problems(self) -> tuple[LineProblem, ...]:
        """Every line's problem, in line order."""
        return tuple(r.problem for r in self.lines if r.problem is not None)

    @property
    def ok(self) -> bool:
        """Whether the cart can be ordered as it is."""
        return self.priced is not None and not self.problems

    @property
    def total(self) -> Money | None:
        """The priced cart's total (None while a line has a problem)."""
        return self.priced.total if self.priced is not None else None

    @property
    def subject_id(self) -> str:
        """The cart id."""
        return self.cart.id

    @property
    def company_id(self) -> CompanyId:
        """The buyer company."""
        return self.cart.company_id

    @property
    def requester_id(self) -> UserId:
        """The cart's owner."""
        return self.cart.owner_id

    @property
    def business_unit_id(self) -> BusinessUnitId | None:
        """The business unit the cart is for."""
        return self.cart.business_unit_id


def _pairs(lines: object) -> list[tuple[str, Decimal]]:
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, (list, tuple)):
        raise ValidationError("must be a list of (sku, quantity) pairs", path="lines", value=lines)
    out: list[tuple[str, Decimal]] = []
    for i, line in enumerate(lines):
        if isinstance(line, CartLine):
            out.append((line.sku, line.quantity))
            continue
        if not isinstance(line, (tuple, list)) or len(line) != 2:
            raise ValidationError(
                "must be a CartLine or a (sku, quantity) pair", path=f"lines[{i}]", value=line
            )
        sku, quantity = line
        out.append(
            (
                check_id(sku, path=f"lines[{i}].sku"),
                to_quantity(quantity, path=f"lines[{i}].quantity"),
            )
        )
    return out


def _buyer_summary(error: NoPriceError) -> str:
    explanation = error.explanation
    if isinstance(explanation, PriceExplanation):
        return explanation.for_buyer().summary()
    return "no price list applies"


def _problem_for(  # noqa: PLR0911 - one early return per kind of problem
    index: int,
    sku: str,
    quantity: Decimal,
    *,
    catalog: CatalogReader,
    context: CatalogContext,
    lists: Lists | None,
) -> tuple[Product | None, PriceItem | None, LineProblem | None]:
    """Product, price item and the first problem of one line (orderability, quantity
    rule, price — unless ``lists`` is None)."""
    product = catalog.product(sku)
    if product is None:
        return (
            None,
            None,
            LineProblem(index, sku, "unknown_product", f"{sku} is not in the catalog"),
        )
    try:
        check_orderable(product, context.assortments, catalog=catalog)
    except NotOrderableError as e:
        problem = LineProblem(index, sku, e.reason_code, e.reason, successor_sku=e.successor_sku)
        return product, None, problem
    item = price_item(product, catalog)
    if quantity <= 0:
        return product, item, LineProblem(index, sku, "quantity_rule", "quantity must be positive")
    try:
        check_quantity(product.quantity_rule, quantity)
    except QuantityRuleError as e:
        problem = LineProblem(index, sku, "quantity_rule", e.reason, lower=e.lower, higher=e.higher)
        return product, item, problem
    if lists is None:
        return product, item, None
    try:
        resolve_price(context.price_context, item, quantity, lists=lists)
    except NoPriceError as e:
        message = f"no price for {sku} in your price lists ({_buyer_summary(e)})"
        return product, item, LineProblem(index, sku, "no_price", message)
    return product, item, None


def review_lines(
    lines: Sequence[CartLine] | Sequence[tuple[str, Decimal | int | str]],
    *,
    catalog: CatalogReader,
    context: CatalogContext,
    lists: Lists | None,
    stock: StockReader | None = None,
) -> list[LineReview]:
    """Check every line: the SKU exists, the buyer may order it (assortment, not
    discontinued — naming the successor), the quantity keeps the SKU's quantity rule
    (naming the nearest valid quantities), there is a price for the buyer in
    ``lists`` (not checked when ``lists`` is None), and — with ``stock`` (SKU → its
    stock levels) — that much is available now.

    Returns one :class:`LineReview` per line, in order; a line's ``problem`` is the
    first thing wrong with it. Never raises for a line's problem.
    """
    if not isinstance(context, CatalogContext):
        raise ValidationError("must be a CatalogContext", path="context", value=context)
    at = context.price_context.at
    out: list[LineReview] = []
    for index, (sku, quantity) in enumerate(_pairs(lines)):
        product, item, problem = _problem_for(
            index, sku, quantity, catalog=catalog, context=context, lists=lists
        )
        avail: Availability | None = None
        if problem is None and stock is not None:
            avail = availability(stock(sku), sku, quantity, at)
            if avail.status not in _ORDERABLE_NOW:
                problem = LineProblem(
                    index, sku, "insufficient_stock", f"{quantity} of {sku}: {avail.describe()}"
                )
        out.append(LineReview(index, sku, quantity, product, item, problem, avail))
    return out


def price_lines(
    reviewed: Sequence[LineReview],
    *,
    context: CatalogContext,
    lists: Lists,
    discounts: Sequence[DiscountSet] = (),
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
    rounding: RoundingPolicy = DEFAULT_ROUNDING,
) -> CartPrice:
    """Price the reviewed lines together with
    :func:`~b2bcore.pricing.cart.price_cart` (tiers aggregated over the cart, cart
    discounts allocated exactly); every line must be ok."""
    bad = [r for r in reviewed if r.problem is not None or r.item is None]
    if bad:
        raise ValidationError(
            f"line {bad[0].index + 1} ({bad[0].sku}) cannot be priced: review it first",
            path="lines",
        )
    inputs = [CartLineInput(r.item, r.quantity) for r in reviewed if r.item is not None]
    return price_cart(
        context.price_context,
        inputs,
        lists=lists,
        discounts=discounts,
        policy=policy,
        rounding=rounding,
    )


def build_order_lines(
    reviewed: Sequence[LineReview],
    priced: CartPrice,
    *,
    overrides: Mapping[str, PriceOverride] | None = None,
) -> tuple[OrderLine, ...]:
    """Order lines from reviewed lines and their cart price: each pins its engine
    quote with the explanation a buyer may see (other buyers' lists left out).

    A line with an override (a sales quote's negotiated unit price) costs that price
    times the quantity, rounded half-up, and takes no cart discount.
    """
    overrides = overrides or {}
    out: list[OrderLine] = []
    for review, line in zip(reviewed, priced.lines, strict=True):
        explanation = line.quote.explanation
        shown = explanation.for_buyer()
        quote = line.quote if shown is explanation else attrs.evolve(line.quote, explanation=shown)
        product = review.product
        override = overrides.get(review.sku)
        if override is None:
            unit, gross, discount, rounding, net = (
                line.quote.unit_price,
                line.gross,
                line.discount,
                line.rounding,
                line.net,
            )
        else:
            unit = override.unit_price
            gross = (unit * review.quantity).round(_HALF_UP)
            zero = Money.zero(gross.currency)
            discount, rounding, net = zero, zero, gross
        out.append(
            OrderLine(
                line_no=len(out) + 1,
                sku=review.sku,
                quantity=review.quantity,
                price=quote,
                unit_price=unit,
                gross=gross,
                discount=discount,
                rounding=rounding,
                net=net,
                name=product.name if product is not None else "",
                categories=review.item.category_path if review.item is not None else (),
                override=override,
            )
        )
    return tuple(out)


_HALF_UP: Final = RoundingPolicy()


def quote_order_lines(quote: Quote, reviewed: Sequence[LineReview]) -> tuple[OrderLine, ...]:
    """Order lines at a proposed quote's prices: each pins the engine's quote from
    the proposal (explanation included) and carries the negotiated unit price as a
    :class:`~b2bcore.orders.model.PriceOverride` (no cart discounts apply)."""
    if quote.proposed_by is None:
        raise ValidationError(f"quote {quote.id!r} has no proposal to order from", path="quote")
    out: list[OrderLine] = []
    for line, review in zip(quote.lines, reviewed, strict=True):
        if line.list_price is None or line.unit_price is None or line.amount is None:
            raise ValidationError(
                f"line {line.sku} of quote {quote.id!r} has no proposed price", path="lines"
            )
        override = PriceOverride(
            unit_price=line.unit_price,
            reason=line.reason.strip() or f"price quoted in {quote.id}",
            quote_id=quote.id,
            proposed_by=quote.proposed_by,
        )
        zero = Money.zero(quote.currency)
        product = review.product
        out.append(
            OrderLine(
                line_no=len(out) + 1,
                sku=line.sku,
                quantity=line.quantity,
                price=line.list_price,
                unit_price=line.unit_price,
                gross=line.amount,
                discount=zero,
                rounding=zero,
                net=line.amount,
                name=product.name if product is not None else line.name,
                categories=review.item.category_path
                if review.item is not None
                else line.categories,
                override=override,
            )
        )
    return tuple(out)


# --- reorder ---------------------------------------------------------------------------------


class ReorderChange(enum.Enum):
    """What happened to a line when an order was put into a new cart."""

    UNCHANGED = "unchanged"
    PRICE_CHANGED = "price_changed"
    UNAVAILABLE = "unavailable"
    REPLACED = "replaced"
    QUANTITY_ADJUSTED = "quantity_adjusted"


@attrs.frozen
class ReorderLine:
    """The report on one line of the original: what goes into the new cart (``sku``
    and ``quantity``, None when unavailable), what changed (``changes``, empty when
    nothing did) and the unit price then and now."""

    line_no: int
    original_sku: str
    original_quantity: Decimal
    sku: str | None
    quantity: Decimal | None
    changes: tuple[ReorderChange, ...]
    old_unit_price: Money | None = None
    new_unit_price: Money | None = None
    reason: str = ""

    @property
    def outcome(self) -> ReorderChange:
        """The main outcome: ``UNAVAILABLE``, ``REPLACED``, ``QUANTITY_ADJUSTED``,
        ``PRICE_CHANGED`` or ``UNCHANGED`` (in that order of precedence)."""
        for change in (
            ReorderChange.UNAVAILABLE,
            ReorderChange.REPLACED,
            ReorderChange.QUANTITY_ADJUSTED,
            ReorderChange.PRICE_CHANGED,
        ):
            if change in self.changes:
                return change
        return ReorderChange.UNCHANGED

    def describe(self) -> str:
        """One line a buyer can read, e.g. ``SEAL-7 x 4: price changed 18.40 EUR ->
        19.90 EUR``."""
        head = f"{self.original_sku} x {self.original_quantity}"
        if ReorderChange.UNAVAILABLE in self.changes:
            return f"{head}: unavailable ({self.reason})"
        notes: list[str] = []
        if ReorderChange.REPLACED in self.changes:
            notes.append(f"replaced by {self.sku}")
        if ReorderChange.QUANTITY_ADJUSTED in self.changes:
            notes.append(f"quantity adjusted to {self.quantity}")
        if ReorderChange.PRICE_CHANGED in self.changes:
            notes.append(f"price changed {self.old_unit_price} -> {self.new_unit_price}")
        if not notes:
            notes.append(f"unchanged at {self.new_unit_price}")
        text = f"{head}: " + ", ".join(notes)
        return f"{text} ({self.reason})" if self.reason else text


@attrs.frozen
class Reorder:
    """The lines for a new cart and the report on every original line.

    ``priced`` is the new cart at today's prices (None when no line is left).
    """

    lines: tuple[CartLine, ...]
    report: tuple[ReorderLine, ...]
    priced: CartPrice | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def unavailable(self) -> tuple[ReorderLine, ...]:
        """The report lines that did not make it into the cart."""
        return tuple(r for r in self.report if ReorderChange.UNAVAILABLE in r.changes)


@attrs.frozen
class FilledCart:
    """A cart filled from a past order or a shopping list, and the report on every
    line that was carried over (see :class:`ReorderLine`)."""

    cart: Cart
    report: tuple[ReorderLine, ...]
    priced: CartPrice | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class _Carried:
    line_no: int
    sku: str
    quantity: Decimal
    old_unit: Money | None


def _adjust(product: Product, quantity: Decimal) -> tuple[Decimal | None, str]:
    """The quantity the product's quantity rule allows (the nearest valid one, the
    higher on a tie), and why it changed."""
    try:
        return check_quantity(product.quantity_rule, quantity), ""
    except QuantityRuleError as e:
        chosen = e.higher if e.higher is not None else e.lower
        return chosen, e.reason


def _unavailable(c: _Carried, reason: str) -> ReorderLine:
    return ReorderLine(
        line_no=c.line_no,
        original_sku=c.sku,
        original_quantity=c.quantity,
        sku=None,
        quantity=None,
        changes=(ReorderChange.UNAVAILABLE,),
        old_unit_price=c.old_unit,
        reason=reason,
    )


def _carry(
    c: _Carried, *, catalog: CatalogReader, context: CatalogContext, lists: Lists
) -> tuple[ReorderLine, Product | None]:
    """Where one original line goes: its SKU or its successor, at a quantity the
    quantity rule allows, if the buyer may order it and has a price for it."""
    product = catalog.product(c.sku)
    if product is None:
        return _unavailable(c, f"{c.sku} is no longer in the catalog"), None
    changes: list[ReorderChange] = []
    reasons: list[str] = []
    try:
        check_orderable(product, context.assortments, catalog=catalog)
    except NotOrderableError as e:
        successor = catalog.product(e.successor_sku) if e.successor_sku else None
        if successor is None:
            return _unavailable(c, e.reason), None
        product = successor
        changes.append(ReorderChange.REPLACED)
        reasons.append(f"{c.sku} is discontinued")
    quantity, why = _adjust(product, c.quantity)
    if quantity is None:
        return _unavailable(c, why), None
    if quantity != c.quantity:
        changes.append(ReorderChange.QUANTITY_ADJUSTED)
        reasons.append(why)
    try:
        resolve_price(context.price_context, price_item(product, catalog), quantity, lists=lists)
    except NoPriceError as e:
        return _unavailable(c, f"no price for {product.sku} ({_buyer_summary(e)})"), None
    line = ReorderLine(
        line_no=c.line_no,
        original_sku=c.sku,
        original_quantity=c.quantity,
        sku=product.sku,
        quantity=quantity,
        changes=tuple(changes),
        old_unit_price=c.old_unit,
        reason="; ".join(reasons),
    )
    return line, product


def carry_lines(
    lines: Sequence[tuple[int, str, Decimal, Money | None]],
    *,
    catalog: CatalogReader,
    context: CatalogContext,
    lists: Lists,
    discounts: Sequence[DiscountSet] = (),
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
    rounding: RoundingPolicy = DEFAULT_ROUNDING,
) -> Reorder:
    """Put ``(line_no, sku, quantity, old unit price or None)`` lines into new cart
    lines at today's prices (what :func:`reorder` and shopping lists share)."""
    carried: list[tuple[ReorderLine, Product | None]] = [
        _carry(_Carried(*line), catalog=catalog, context=context, lists=lists) for line in lines
    ]
    kept: dict[str, Decimal] = {}
    products: dict[str, Product] = {}
    for carried_line, product in carried:
        if carried_line.sku is None or carried_line.quantity is None or product is None:
            continue
        sku = carried_line.sku
        kept[sku] = kept.get(sku, Decimal(0)) + carried_line.quantity
        products[sku] = product
    # Two originals that became one SKU share a line: check its quantity once more.
    for sku, quantity in list(kept.items()):
        allowed, _why = _adjust(products[sku], quantity)
        kept[sku] = allowed if allowed is not None else quantity
    cart_lines = tuple(CartLine(sku=sku, quantity=q) for sku, q in kept.items())
    priced: CartPrice | None = None
    unit: dict[str, Money] = {}
    if cart_lines:
        priced = price_cart(
            context.price_context,
            [
                CartLineInput(price_item(products[line.sku], catalog), line.quantity)
                for line in cart_lines
            ],
            lists=lists,
            discounts=discounts,
            policy=policy,
            rounding=rounding,
        )
        unit = {p.sku: p.quote.unit_price for p in priced.lines}
    report: list[ReorderLine] = []
    for line, _product in carried:
        if line.sku is None:
            report.append(line)
            continue
        new = unit[line.sku]
        changes = list(line.changes)
        if line.old_unit_price is not None and new != line.old_unit_price:
            changes.append(ReorderChange.PRICE_CHANGED)
        report.append(attrs.evolve(line, changes=tuple(changes), new_unit_price=new))
    return Reorder(lines=cart_lines, report=tuple(report), priced=priced)


def reorder(
    order: Order,
    *,
    catalog: CatalogReader,
    context: CatalogContext,
    lists: Lists,
    discounts: Sequence[DiscountSet] = (),
    policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
    rounding: RoundingPolicy = DEFAULT_ROUNDING,
) -> Reorder:
    """The lines of ``order`` for a new cart at today's prices, with a report per line:
    unchanged, price changed (old → new unit price), unavailable (why), replaced by
    its successor, or quantity adjusted to the SKU's quantity rule (the nearest
    allowed quantity, the higher one when there is one).

    ``order`` itself is never changed. Prices come from ``context`` (today's instant,
    the buyer) and ``lists``.
    """
    if not isinstance(order, Order):
        raise ValidationError("must be an Order", path="order", value=order)
    return carry_lines(
        [(line.line_no, line.sku, line.quantity, line.unit_price) for line in order.lines],
        catalog=catalog,
        context=context,
        lists=lists,
        discounts=discounts,
        policy=policy,
        rounding=rounding,
    )


# --- who sees which orders -------------------------------------------------------------------


def _subtree(access: Access, roots: Iterable[str]) -> frozenset[BusinessUnitId]:
    """``roots`` and every unit below them (unknown roots reach nothing)."""
    out: set[BusinessUnitId] = set()
    known = {u.id for u in access.units}
    for root in roots:
        if root in known:
            out |= descendants(access.units, root)
    return frozenset(out)


def audience_for(
    actor: Actor, permission: Permission, *, access: Access, at: datetime
) -> tuple[AccessDecision, Audience]:
    """Whether ``actor`` may view such records at all, and which ones: the union over
    the user's active grants of ``permission`` of what each grant's view scope
    reaches — ``COMPANY`` everything, ``BUSINESS_UNIT`` the grant's unit (or the
    user's units) and everything below, ``OWN`` what the user requested — each within
    the grant's business unit when the grant is limited to one. One's own records
    are always visible under an unlimited grant.

    Matches :func:`~b2bcore.accounts.rules.authorize` record by record: a record is in
    the audience exactly when authorize allows viewing it.
    """
    if not isinstance(permission, Permission) or not permission.is_view:
        raise ValidationError("must be a view permission", path="permission", value=permission)
    decision = authorize(actor, permission, access=access, at=at)
    if not decision.allowed and decision.code == "wrong_business_unit":
        # Allowed for records of the grant's unit: the audience says which.
        decision = attrs.evolve(decision, allowed=True, code="allowed")
    user = access.user
    if not decision.allowed or user is None:
        return decision, Audience(())
    me = UserId(actor.on_behalf_of)
    groups: list[AudienceGroup] = []
    for grant in user.grants:
        if not grant.active_at(at):
            continue
        role = access.roles.get(grant.role_id)
        entry = role.entry(permission) if role is not None else None
        if entry is None:
            continue
        limited = (
            None if grant.business_unit_id is None else _subtree(access, [grant.business_unit_id])
        )
        if entry.scope is ViewScope.COMPANY:
            groups.append(AudienceGroup(units=limited))
        elif entry.scope is ViewScope.BUSINESS_UNIT:
            roots = (
                [grant.business_unit_id]
                if grant.business_unit_id is not None
                else list(user.business_unit_ids)
            )
            groups.append(AudienceGroup(units=_subtree(access, roots)))
            groups.append(AudienceGroup(units=limited, requester_id=me))
        else:
            groups.append(AudienceGroup(units=limited, requester_id=me))
    if any(g.units is None and g.requester_id is None for g in groups):
        return decision, Audience.whole_company()
    unique = tuple(dict.fromkeys(g for g in groups if g.units is None or g.units))
    return decision, Audience(unique)


# --- where is my order -----------------------------------------------------------------------


@attrs.frozen
class TrackedLine:
    """One order line as the buyer follows it: ordered, shipped, still to come."""

    line_no: int
    sku: str
    name: str
    ordered: Decimal
    shipped: Decimal
    outstanding: Decimal


@attrs.frozen
class OrderTracking:
    """The customer-facing "where is my order": the order's status and history, each
    line's shipped and outstanding quantities, and every shipment with its carrier
    timeline (oldest first)."""

    order_id: OrderId
    status: OrderStatus
    history: tuple[StatusChange, ...]
    lines: tuple[TrackedLine, ...]
    shipments: tuple[Shipment, ...]

    @property
    def timeline(self) -> tuple[tuple[datetime, str], ...]:
        """Everything that happened, in time order: status changes and carrier events."""
        # At the same instant a carrier's report comes after the status changes before
        # shipping and before the status it caused (shipped, delivered).
        entries: list[tuple[datetime, int, str]] = [
            (
                change.at,
                1 if change.to_status in _CAUSED_BY_SHIPPING else -1,
                f"order {change.to_status.replace('_', ' ')}",
            )
            for change in self.history
        ]
        for shipment in self.shipments:
            handed = (
                f"shipment {shipment.id} handed to {shipment.carrier} ({shipment.tracking_number})"
            )
            entries.append((shipment.shipped_at, 0, handed))
            entries.extend((e.at, 0, _event_text(shipment, e)) for e in shipment.events)
        ordered = sorted(entries, key=lambda entry: (entry[0], entry[1]))
        return tuple((at, text) for at, _rank, text in ordered)


_CAUSED_BY_SHIPPING: Final = frozenset(
    {OrderStatus.PARTIALLY_SHIPPED.value, OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value}
)


def _event_text(shipment: Shipment, event: TrackingEvent) -> str:
    where = f" at {event.location}" if event.location else ""
    note = f": {event.description}" if event.description else ""
    return f"shipment {shipment.id} {event.status.value.replace('_', ' ')}{where}{note}"


def track(order: Order, shipments: Iterable[Shipment]) -> OrderTracking:
    """The tracking view of ``order`` and its ``shipments`` (others are refused)."""
    mine = sorted(shipments, key=lambda s: (s.shipped_at, s.id))
    for s in mine:
        if s.order_id != order.id or s.company_id != order.company_id:
            raise NotFoundError("shipment", s.id, f"shipment {s.id!r} is not of {order.id!r}")
    lines = tuple(
        TrackedLine(
            line_no=line.line_no,
            sku=line.sku,
            name=line.name,
            ordered=line.quantity,
            shipped=line.shipped_quantity,
            outstanding=line.left_to_ship,
        )
        for line in order.lines
    )
    return OrderTracking(
        order_id=order.id,
        status=order.status,
        history=order.history,
        lines=lines,
        shipments=tuple(mine),
    )
