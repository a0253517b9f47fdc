"""b2bcore embedded in a small Starlette web app.

The guide ``docs/guides/embedding-in-a-web-app.md`` walks through this file, and
``tests/docs/test_webapp_example.py`` drives it with Starlette's ``TestClient``.

b2bcore knows no web framework: the app owns HTTP (routes, headers, JSON, status
codes) and the portal owns the domain (who may do what, prices, carts, orders). The
seam between them is small:

* :func:`actor_from` turns a request into the :class:`~b2bcore.accounts.Actor` who
  acts. Here it trusts two headers, ``X-Company`` and ``X-User`` — a stand-in for
  real authentication: put your session, OAuth token or API key check there.
* :func:`error_response` is the one exception handler: every
  :class:`~b2bcore.errors.B2BCoreError` becomes a JSON body ``{code, message, path}``
  with the HTTP status of its family (:func:`http_status`).
* Portal calls are synchronous (the store does blocking I/O), so every endpoint runs
  them in Starlette's threadpool (``run_in_threadpool``) and never blocks the event
  loop.

Run it with any ASGI server, e.g. ``uvicorn --factory webapp:demo_app`` from this
directory (uvicorn is not a dependency of b2bcore or of its tests).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from b2bcore.accounts import Actor
from b2bcore.catalog import Assortment, Category, Product, Selection
from b2bcore.errors import (
    B2BCoreError,
    ConflictError,
    CurrencyMismatchError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)
from b2bcore.ids import PriceListId, Sku
from b2bcore.money import Money
from b2bcore.orders import NotOrderableCartError, Order, OrderStatus
from b2bcore.paging import Page
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceList, PriceRule, PriceScope, QuantityRule, RuleTarget
from b2bcore.storage.sqlite import SQLiteStore

__all__ = [
    "actor_from",
    "create_app",
    "demo_app",
    "error_response",
    "http_status",
    "seed",
]

P = ParamSpec("P")
T = TypeVar("T")
JSON = dict[str, Any]

# --- who is asking ---------------------------------------------------------------------


class NotAuthenticatedError(Exception):
    """The request does not say who sends it (answered with 401)."""


def actor_from(request: Request) -> Actor:
    """The actor of a request: a company user, named by two headers.

    A stand-in for real authentication. In production derive the company and the
    user from a verified session or token — never from headers a client can set —
    and build ``Actor.assisted(...)`` for a seller's agent in an assisted session.
    """
    company = request.headers.get("x-company", "").strip()
    user = request.headers.get("x-user", "").strip()
    if not company or not user:
        raise NotAuthenticatedError("send the X-Company and X-User headers")
    return Actor.user(company, user)


# --- errors ----------------------------------------------------------------------------

#: Error families and their HTTP statuses, most specific first: the first class the
#: error is an instance of decides. Subclasses (``pricing.no_price`` is a
#: NotFoundError, ``approvals.not_eligible`` a PermissionDeniedError ...) follow
#: their family; map a ``code`` explicitly where you want another status.
STATUS_BY_FAMILY: tuple[tuple[type[B2BCoreError], int], ...] = (
    (ValidationError, 422),
    (CurrencyMismatchError, 422),
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),  # also DuplicateError and ConcurrencyError
    (InvalidTransitionError, 409),
    (StorageError, 503),
)


def http_status(error: B2BCoreError) -> int:
    """The HTTP status for a b2bcore error, by its family (400 for any other)."""
    for family, status in STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return 400


async def error_response(request: Request, exc: Exception) -> Response:
    """The one exception handler: ``{code, message, path}`` with the family's status.

    ``path`` names the bad field of a ValidationError (``"quantity"``,
    ``"lines[2].sku"``) and is null for the other families. A cart that cannot be
    ordered adds ``problems``, one per bad line, so a UI can show each next to its
    line.
    """
    if isinstance(exc, NotAuthenticatedError):
        return JSONResponse(
            {"code": "unauthenticated", "message": str(exc), "path": None}, status_code=401
        )
    if not isinstance(exc, B2BCoreError):  # pragma: no cover - only B2BCoreError is routed here
        raise exc
    body: JSON = {
        "code": exc.code,
        "message": str(exc),
        "path": exc.path if isinstance(exc, ValidationError) and exc.path else None,
    }
    if isinstance(exc, NotOrderableCartError):
        body["problems"] = [
            {
                "line": p.index + 1,
                "sku": p.sku,
                "code": p.code,
                "message": p.message,
                "successor_sku": p.successor_sku,
            }
            for p in exc.problems
        ]
    return JSONResponse(body, status_code=http_status(exc))


# --- JSON in and out -------------------------------------------------------------------


async def json_body(request: Request) -> JSON:
    """The request's JSON object. Numbers are read as ``Decimal``: b2bcore refuses
    floats for money and quantities, and a float would lose digits anyway."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}", parse_float=Decimal)
    except ValueError:
        raise ValidationError("the body is not valid JSON", path="$") from None
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", path="$", value=body)
    return body


def int_param(request: Request, name: str, default: int) -> int:
    """A whole-number query parameter (a ValidationError naming it otherwise)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"{raw!r} is not a whole number", path=name, value=raw) from None


def required(body: Mapping[str, Any], name: str) -> Any:
    """A field the request must have (a ValidationError naming it otherwise)."""
    if name not in body:
        raise ValidationError("is required", path=name)
    return body[name]


def money(value: Money | None) -> JSON | None:
    """Money as JSON: the amount as a string, so no digit is lost to a float."""
    return None if value is None else {"amount": str(value.amount), "currency": value.currency}


def order_json(order: Order) -> JSON:
    """What a buyer sees of an :class:`~b2bcore.orders.Order`."""
    return {
        "id": order.id,
        "status": order.status.value,
        "created_at": order.created_at.isoformat(),
        "po_number": order.po_number,
        "total": money(order.total),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": str(line.quantity),
                "unit_price": money(line.unit_price),
                "net": money(line.net),
            }
            for line in order.lines
        ],
    }


def page_json(page: Page[T], item: Callable[[T], JSON]) -> JSON:
    """A :class:`~b2bcore.paging.Page` as JSON: the items and the cursor of the next page."""
    return {"items": [item(x) for x in page], "next_cursor": page.next_cursor}


# --- the app ---------------------------------------------------------------------------


def create_app(portal: Portal, *, close_store: bool = False) -> Starlette:
    """A Starlette app over ``portal``; with ``close_store`` it closes the portal's
    store when the app shuts down (when the app owns the store)."""

    async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        # Portal calls block (storage I/O, locks): run them off the event loop.
        return await run_in_threadpool(fn, *args, **kwargs)

    async def list_products(request: Request) -> Response:
        actor = actor_from(request)
        page = await call(
            portal.catalog.list_products,
            actor,
            category_id=request.query_params.get("category"),
            limit=int_param(request, "limit", 20),
            cursor=request.query_params.get("cursor"),
        )
        return JSONResponse(
            page_json(page, lambda p: {"sku": p.sku, "name": p.name, "category": p.category_id})
        )

    def price_quote_for(actor: Actor, sku: str, quantity: str, currency: str) -> JSON:
        # One unit of work: 404 outside the assortment, the quantity rule applied.
        quote = portal.catalog.quote(actor, sku, quantity, currency=currency)
        explanation = quote.explanation  # for_buyer(): no other buyer's lists in it
        return {
            "sku": quote.sku,
            "quantity": str(quote.quantity),
            "unit_price": money(quote.unit_price),
            "line_total": money(quote.line_total),
            "explanation": {
                "summary": explanation.summary(),
                "candidates": [
                    {
                        "price_list": c.price_list_id,
                        "rule": c.rule_id,
                        "status": c.status,
                        "reason": c.reason,
                        "unit_price": money(c.unit_price),
                    }
                    for c in explanation.candidates
                ],
            },
        }

    async def price(request: Request) -> Response:
        actor = actor_from(request)
        params = request.query_params
        body = await call(
            price_quote_for,
            actor,
            request.path_params["sku"],
            params.get("quantity", "1"),
            params.get("currency", "EUR"),
        )
        return JSONResponse(body)

    async def create_cart(request: Request) -> Response:
        actor = actor_from(request)
        body = await json_body(request)
        cart = await call(portal.orders.create_cart, actor, currency=required(body, "currency"))
        return JSONResponse({"id": cart.id, "currency": cart.currency}, status_code=201)

    async def review_cart(request: Request) -> Response:
        actor = actor_from(request)
        review = await call(portal.orders.review_cart, actor, request.path_params["cart_id"])
        return JSONResponse(
            {
                "id": review.cart.id,
                "ok": review.ok,
                "total": money(review.total),
                "lines": [
                    {
                        "sku": line.sku,
                        "quantity": str(line.quantity),
                        "amount": money(line.amount),
                        "problem": None if line.problem is None else line.problem.message,
                    }
                    for line in review.lines
                ],
            }
        )

    async def add_line(request: Request) -> Response:
        actor = actor_from(request)
        body = await json_body(request)
        cart = await call(
            portal.orders.add_to_cart,
            actor,
            request.path_params["cart_id"],
            required(body, "sku"),
            required(body, "quantity"),
        )
        lines = [{"sku": line.sku, "quantity": str(line.quantity)} for line in cart.lines]
        return JSONResponse({"id": cart.id, "lines": lines})

    async def checkout(request: Request) -> Response:
        actor = actor_from(request)
        body = await json_body(request)
        order = await call(
            portal.orders.checkout,
            actor,
            request.path_params["cart_id"],
            # The same key on a retry (a timeout, a double click) returns the same
            # order instead of placing a second one.
            idempotency_key=request.headers.get("idempotency-key"),
            po_number=body.get("po_number", ""),
        )
        # Deliver the outbox after the response (an approved order is placed, your
        # subscribers are told). Starlette runs a sync task in its threadpool; a
        # worker process calling portal.dispatch() on a timer works just as well.
        return JSONResponse(
            order_json(order), status_code=201, background=BackgroundTask(portal.dispatch)
        )

    async def order_history(request: Request) -> Response:
        actor = actor_from(request)
        params = request.query_params
        status = params.get("status")
        page = await call(
            portal.orders.order_history,
            actor,
            statuses=None if status is None else [parse_status(status)],
            limit=int_param(request, "limit", 20),
            cursor=params.get("cursor"),
        )
        return JSONResponse(page_json(page, order_json))

    async def tracking(request: Request) -> Response:
        actor = actor_from(request)
        found = await call(portal.orders.track_order, actor, request.path_params["order_id"])
        return JSONResponse(
            {
                "order_id": found.order_id,
                "status": found.status.value,
                "lines": [
                    {
                        "sku": line.sku,
                        "ordered": str(line.ordered),
                        "shipped": str(line.shipped),
                        "outstanding": str(line.outstanding),
                    }
                    for line in found.lines
                ],
                "timeline": [{"at": at.isoformat(), "text": text} for at, text in found.timeline],
            }
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if close_store:
            portal.store.close()

    return Starlette(
        routes=[
            Route("/products", list_products),
            Route("/products/{sku}/price", price),
            Route("/carts", create_cart, methods=["POST"]),
            Route("/carts/{cart_id}", review_cart),
            Route("/carts/{cart_id}/lines", add_line, methods=["POST"]),
            Route("/carts/{cart_id}/checkout", checkout, methods=["POST"]),
            Route("/orders", order_history),
            Route("/orders/{order_id}/tracking", tracking),
        ],
        exception_handlers={B2BCoreError: error_response, NotAuthenticatedError: error_response},
        lifespan=lifespan,
    )


def parse_status(value: str) -> OrderStatus:
    """An order status from a query parameter (a ValidationError naming it otherwise)."""
    try:
        return OrderStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in OrderStatus)
        raise ValidationError(f"{value!r} is not one of {known}", path="status") from None


# --- sample data -----------------------------------------------------------------------


def seed(portal: Portal) -> None:
    """A seller with three products and two price lists; ACME with an admin (Ana), a
    buyer (Ben) and a viewer (Vic); ACME's assortment leaves accessories out."""
    op = Actor.operator_for("acme", "op-olga")
    portal.accounts.create_company(
        op, name="ACME", country="DE", admin_email="ana@acme.example", admin_user_id="ana"
    )
    ana = Actor.user("acme", "ana")
    portal.accounts.add_business_unit(ana, name="Plant", unit_id="plant", parent_id="hq")
    for user_id, role in (("ben", "buyer"), ("vic", "viewer")):
        portal.accounts.invite_user(
            ana,
            user_id=user_id,
            name=user_id.title(),
            email=f"{user_id}@acme.example",
            business_unit_ids=["plant"],
            roles=[role],
        )
    catalog = portal.catalog
    for category in (
        Category(id="spares", name="Spare parts"),
        Category(id="pumps", name="Pumps", parent_id="spares"),
        Category(id="accessories", name="Accessories"),
    ):
        catalog.save_category(operator_id="op-olga", category=category)
    for product in (
        Product(
            sku="SEAL-7",
            name="Shaft seal",
            category_id="spares",
            list_price=Money("18.40", "EUR"),
            quantity_rule=QuantityRule(sku=Sku("SEAL-7"), minimum=2, increment=2),
        ),
        Product(
            sku="PUMP-1", name="Pump unit", category_id="pumps", list_price=Money("1250.00", "EUR")
        ),
        Product(
            sku="MUG-1", name="Logo mug", category_id="accessories", list_price=Money("9.90", "EUR")
        ),
    ):
        catalog.save_product(operator_id="op-olga", product=product)
        catalog.set_stock(operator_id="op-olga", sku=product.sku, location="main", on_hand=50)
    catalog.save_assortment(
        op, Assortment(company_id="acme", include=Selection(categories={"spares"}))
    )
    since = portal.clock.now() - timedelta(days=1)
    for price_list in (
        PriceList(
            id=PriceListId("list"),
            name="List prices",
            currency="EUR",
            valid_from=since,
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
        PriceList(
            id=PriceListId("acme"),
            name="ACME contract",
            currency="EUR",
            valid_from=since,
            scope=PriceScope(companies={"acme"}),
            rules=[
                PriceRule(
                    id="pumps",
                    target=RuleTarget.category("pumps"),
                    formula=Formula(percent=Decimal("-10")),
                )
            ],
        ),
    ):
        portal.pricing.publish_price_list(operator_id="op-olga", price_list=price_list)


def demo_app(path: str | Path = "webapp-demo.sqlite") -> Starlette:
    """The app on a SQLite file, with the sample data when the file is new."""
    new = not Path(path).exists()
    portal = Portal(SQLiteStore(path))
    if new:
        seed(portal)
    return create_app(portal, close_store=True)
