"""The web app example of the docs (``docs/examples/webapp.py``) works.

Starlette's TestClient drives the app over ASGI, on a SQLite file: the happy path
from the product list to the order's tracking, each error family with its status and
JSON body, and an idempotent checkout retry.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from b2bcore.accounts import Actor
from b2bcore.clock import FixedClock
from b2bcore.portal import Portal
from b2bcore.storage.sqlite import SQLiteStore

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "webapp.py"
BEN = {"X-Company": "acme", "X-User": "ben"}
VIC = {"X-Company": "acme", "X-User": "vic"}
SELLER = Actor.operator_for("acme", "op-olga")


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("b2bcore_docs_webapp", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


webapp = _load_example()


@pytest.fixture
def portal(tmp_path: Path) -> Portal:
    clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    portal = Portal(SQLiteStore(tmp_path / "webapp.sqlite"), clock=clock)
    webapp.seed(portal)
    return portal


@pytest.fixture
def client(portal: Portal) -> Iterator[TestClient]:
    # The context manager runs the app's lifespan: the store is closed at the end.
    with TestClient(webapp.create_app(portal, close_store=True)) as client:
        yield client


def _order(
    client: TestClient, lines: dict[str, int], *, key: str | None = None
) -> dict[str, object]:
    cart = client.post("/carts", json={"currency": "EUR"}, headers=BEN)
    assert cart.status_code == 201, cart.text
    cart_id = cart.json()["id"]
    for sku, quantity in lines.items():
        added = client.post(
            f"/carts/{cart_id}/lines", json={"sku": sku, "quantity": quantity}, headers=BEN
        )
        assert added.status_code == 200, added.text
    headers = BEN if key is None else {**BEN, "Idempotency-Key": key}
    placed = client.post(f"/carts/{cart_id}/checkout", json={"po_number": "PO-1"}, headers=headers)
    assert placed.status_code == 201, placed.text
    body: dict[str, object] = placed.json()
    return body


def test_happy_path_from_products_to_tracking(client: TestClient, portal: Portal) -> None:
    products = client.get("/products", headers=BEN).json()
    # The assortment leaves the accessories (MUG-1) out.
    assert [p["sku"] for p in products["items"]] == ["PUMP-1", "SEAL-7"]
    assert products["next_cursor"] is None

    price = client.get("/products/PUMP-1/price?quantity=2&currency=EUR", headers=BEN)
    assert price.status_code == 200, price.text
    quote = price.json()
    assert quote["unit_price"] == {"amount": "1125.00", "currency": "EUR"}
    assert quote["line_total"] == {"amount": "2250.00", "currency": "EUR"}
    assert quote["explanation"]["summary"] == "1125.000 EUR from acme/pumps"
    assert [(c["price_list"], c["status"]) for c in quote["explanation"]["candidates"]] == [
        ("acme", "won"),
        ("list", "lost"),
    ]

    cart = client.post("/carts", json={"currency": "EUR"}, headers=BEN).json()
    for sku, quantity in (("SEAL-7", 4), ("PUMP-1", 1)):
        client.post(
            f"/carts/{cart['id']}/lines", json={"sku": sku, "quantity": quantity}, headers=BEN
        )
    review = client.get(f"/carts/{cart['id']}", headers=BEN).json()
    assert review["ok"] is True
    assert review["total"] == {"amount": "1198.60", "currency": "EUR"}

    placed = client.post(
        f"/carts/{cart['id']}/checkout",
        json={"po_number": "PO-77"},
        headers={**BEN, "Idempotency-Key": "ben-1"},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["status"], order["po_number"], order["total"]["amount"]) == (
        "placed",
        "PO-77",
        "1198.60",
    )
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        ("SEAL-7", "4"),
        ("PUMP-1", "1"),
    ]

    # The seller ships the pump in the back office; the buyer's tracking shows it.
    portal.orders.confirm_order(SELLER, order["id"])
    portal.orders.ship(
        SELLER, order["id"], quantities={"PUMP-1": 1}, carrier="DHL", tracking_number="JD1"
    )
    tracking = client.get(f"/orders/{order['id']}/tracking", headers=BEN).json()
    assert tracking["status"] == "partially_shipped"
    assert [(line["sku"], line["shipped"], line["outstanding"]) for line in tracking["lines"]] == [
        ("SEAL-7", "0", "4"),
        ("PUMP-1", "1", "0"),
    ]
    assert any("handed to DHL (JD1)" in entry["text"] for entry in tracking["timeline"])


def test_order_history_pages_with_a_cursor(client: TestClient) -> None:
    first = _order(client, {"SEAL-7": 2})
    second = _order(client, {"SEAL-7": 4})
    page = client.get("/orders?limit=1", headers=BEN).json()
    assert [o["id"] for o in page["items"]] == [second["id"]]  # newest first
    assert page["next_cursor"] is not None
    rest = client.get("/orders", params={"limit": 1, "cursor": page["next_cursor"]}, headers=BEN)
    assert [o["id"] for o in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None
    placed = client.get("/orders?status=placed", headers=BEN).json()
    assert len(placed["items"]) == 2


def test_unknown_and_hidden_things_are_404(client: TestClient) -> None:
    missing = client.get("/orders/no-such-order/tracking", headers=BEN)
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "not_found",
        "message": "order 'no-such-order' does not exist",
        "path": None,
    }
    # A product outside the buyer's assortment is not found, exactly like a missing one.
    hidden = client.get("/products/MUG-1/price", headers=BEN)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")


def test_bad_fields_are_422_with_their_path(client: TestClient) -> None:
    cart_id = client.post("/carts", json={"currency": "EUR"}, headers=BEN).json()["id"]
    negative = client.post(
        f"/carts/{cart_id}/lines", json={"sku": "SEAL-7", "quantity": "-2"}, headers=BEN
    )
    assert negative.status_code == 422
    assert negative.json() == {
        "code": "validation",
        "message": "quantity: must be positive",
        "path": "quantity",
    }
    no_sku = client.post(f"/carts/{cart_id}/lines", json={"quantity": 2}, headers=BEN)
    assert (no_sku.status_code, no_sku.json()["path"]) == (422, "sku")
    currency = client.post("/carts", json={"currency": "eur"}, headers=BEN)
    assert (currency.status_code, currency.json()["path"]) == (422, "currency")
    float_quantity = client.post(
        f"/carts/{cart_id}/lines", content=b'{"sku": "SEAL-7", "quantity": 2.5}', headers=BEN
    )
    # 2.5 is read as Decimal("2.5"), not a float: the quantity rule refuses it.
    assert float_quantity.status_code == 409
    (problem,) = float_quantity.json()["problems"]
    assert (problem["line"], problem["code"]) == (1, "quantity_rule")
    assert client.get("/orders?limit=many", headers=BEN).json()["path"] == "limit"
    assert client.get("/orders?status=lost", headers=BEN).json()["path"] == "status"
    broken = client.post("/carts", content=b"{not json", headers=BEN)
    assert (broken.status_code, broken.json()["path"]) == (422, "$")


def test_a_viewer_may_not_buy_403(client: TestClient) -> None:
    denied = client.post("/carts", json={"currency": "EUR"}, headers=VIC)
    assert denied.status_code == 403
    body = denied.json()
    assert (body["code"], body["path"]) == ("permission_denied", None)
    assert "orders.buy" in body["message"]
    # Without the identifying headers nobody is asked at all.
    anonymous = client.get("/products")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")


def test_checkout_retry_with_the_same_key_returns_the_same_order(client: TestClient) -> None:
    cart_id = client.post("/carts", json={"currency": "EUR"}, headers=BEN).json()["id"]
    client.post(f"/carts/{cart_id}/lines", json={"sku": "PUMP-1", "quantity": 1}, headers=BEN)
    headers = {**BEN, "Idempotency-Key": "ben-cart-7"}
    first = client.post(f"/carts/{cart_id}/checkout", json={}, headers=headers)
    retry = client.post(f"/carts/{cart_id}/checkout", json={}, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert len(client.get("/orders", headers=BEN).json()["items"]) == 1
    # Without the key, a second checkout of the ordered cart is a conflict.
    again = client.post(f"/carts/{cart_id}/checkout", json={}, headers=BEN)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


def test_the_error_families_map_to_statuses() -> None:
    from b2bcore import errors

    assert [
        webapp.http_status(e)
        for e in (
            errors.ValidationError("bad", path="x"),
            errors.NotFoundError("order", "o-1"),
            errors.PermissionDeniedError("no"),
            errors.DuplicateError("user", "u-1"),
            errors.ConcurrencyError("order", "o-1", expected_version=1, actual_version=2),
            errors.InvalidTransitionError("order", "o-1", "shipped", "cancelled"),
            errors.CurrencyMismatchError("EUR", "USD"),
            errors.StorageError("disk full"),
            errors.B2BCoreError("other"),
        )
    ] == [422, 404, 403, 409, 409, 409, 422, 503, 400]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantity=st.one_of(st.text(max_size=12), st.integers(-5, 5), st.none(), st.booleans()))
def test_any_quantity_gets_a_b2bcore_answer_never_a_500(
    client: TestClient, quantity: object
) -> None:
    cart_id = client.post("/carts", json={"currency": "EUR"}, headers=BEN).json()["id"]
    response = client.post(
        f"/carts/{cart_id}/lines", json={"sku": "SEAL-7", "quantity": quantity}, headers=BEN
    )
    assert response.status_code in {200, 409, 422}, response.text
    if response.status_code == 422:
        assert response.json()["path"] == "quantity"
    cart = client.get(f"/carts/{cart_id}", headers=BEN).json()
    # A refused line leaves the cart as it was: empty.
    assert (cart["lines"] == []) == (response.status_code != 200)
