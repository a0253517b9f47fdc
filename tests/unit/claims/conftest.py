"""A small world for the claims, assets and documents tests.

ACME: units hq → plant → line, hq → office. Users: ana (company admin, hq), ben
(buyer, line), clara (buyer, office), dora (viewer: own records only, line).
Globex next door (gia, admin). The seller's agent acts as ``Actor.operator_for``.

Catalog: PUMP-1 (24 months' warranty), SEAL-7 (no warranty period), PX-9 (an
installable machine). Ben's order: 2 PUMP-1 and 10 SEAL-7, shipped as S1 (2 PUMP-1,
6 SEAL-7; delivered and invoiced) and S2 (4 SEAL-7, on its way).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from b2bcore.accounts import Actor
from b2bcore.catalog import Category, Product
from b2bcore.clock import FixedClock
from b2bcore.documents import DocumentKind, DocumentLink, MemoryBlobStore
from b2bcore.ids import PriceListId
from b2bcore.money import Money
from b2bcore.orders import Order, TrackingStatus
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceList, PriceRule, RuleTarget
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

#: A Monday morning (the default claims calendar: Mon-Fri 08:00-17:00 UTC).
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
AGENT = Actor.operator_for("acme", "agent-sam")
ANA, BEN = Actor.user("acme", "ana"), Actor.user("acme", "ben")
CLARA, DORA = Actor.user("acme", "clara"), Actor.user("acme", "dora")
GIA = Actor.user("globex", "gia")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"x" * 32


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


@attrs.define
class World:
    """The portal with its clock, and Ben's order."""

    portal: Portal
    clock: FixedClock
    order: Order
    invoice_id: str

    def photo(
        self, actor: Actor = BEN, *, claim_id: str | None = None, content: bytes = PNG
    ) -> str:
        """Upload a photo as ``actor``; its document id."""
        links = [] if claim_id is None else [DocumentLink.claim(claim_id)]
        doc = self.portal.documents.upload(
            actor,
            title="Photo",
            kind=DocumentKind.PHOTO,
            content=content,
            media_type="image/png",
            filename="photo.png",
            links=links,
        )
        return doc.id


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "claims.sqlite", synchronous="NORMAL")
    )
    yield s
    s.close()


def build_world(portal: Portal, clock: FixedClock) -> World:
    """Companies, users, catalog, prices, and Ben's order (see the module docstring)."""
    op = Actor.operator_for("acme", "op-olga")
    accounts = portal.accounts
    accounts.create_company(
        op, name="ACME", country="DE", admin_email="ana@acme.example", admin_name="Ana",
        admin_user_id="ana",
    )  # fmt: skip
    accounts.add_business_unit(ANA, name="Plant", unit_id="plant", parent_id="hq")
    accounts.add_business_unit(ANA, name="Line", unit_id="line", parent_id="plant")
    accounts.add_business_unit(ANA, name="Office", unit_id="office", parent_id="hq")
    for uid, unit, role in (("ben", "line", "buyer"), ("clara", "office", "buyer"),
                            ("dora", "line", "viewer")):  # fmt: skip
        accounts.invite_user(
            ANA, user_id=uid, name=uid.title(), email=f"{uid}@acme.example",
            business_unit_ids=[unit], roles=[role],
        )  # fmt: skip
    accounts.create_company(
        Actor.operator_for("globex", "op-olga"), name="Globex", admin_email="gia@globex.example",
        admin_name="Gia", admin_user_id="gia",
    )  # fmt: skip
    cat = portal.catalog
    cat.save_category(operator_id="op-olga", category=Category(id="spares", name="Spares"))
    for product in (
        Product(sku="PUMP-1", name="Pump unit", category_id="spares", list_price=eur("1250.00"),
                attributes={"warranty_months": 24}),
        Product(sku="SEAL-7", name="Shaft seal", category_id="spares", list_price=eur("18.40")),
        Product(sku="PX-9", name="PX-9 pump station", category_id="spares",
                list_price=eur("9900.00"), attributes={"warranty_months": 12}),
    ):  # fmt: skip
        cat.save_product(operator_id="op-olga", product=product)
    for sku in ("PUMP-1", "SEAL-7", "PX-9"):
        cat.set_stock(operator_id="op-olga", sku=sku, location="leipzig", on_hand=100)
    portal.pricing.publish_price_list(
        operator_id="op-olga",
        price_list=PriceList(
            id=PriceListId("list"), name="List prices", currency="EUR", valid_from=YEAR,
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
    )  # fmt: skip
    orders = portal.orders
    cart = orders.create_cart(BEN, currency="EUR")
    orders.add_to_cart(BEN, cart.id, "PUMP-1", 2)
    orders.add_to_cart(BEN, cart.id, "SEAL-7", 10)
    order = orders.checkout(BEN, cart.id)
    orders.confirm_order(op, order.id)
    first = orders.ship(op, order.id, quantities={"PUMP-1": 2, "SEAL-7": 6}, carrier="DHL",
                        tracking_number="JD1", shipment_id="S1")  # fmt: skip
    invoice = orders.issue_invoice(op, order.id, shipment_id=first.id)
    orders.ship(op, order.id, quantities={"SEAL-7": 4}, carrier="DHL", tracking_number="JD2",
                shipment_id="S2")  # fmt: skip
    clock.advance(timedelta(hours=20))
    orders.record_tracking(op, first.id, status=TrackingStatus.DELIVERED, location="Leipzig")
    clock.set(NOW)
    return World(portal, clock, orders.get_order(BEN, order.id), invoice.id)


@pytest.fixture
def world(store: Store) -> World:
    clock = FixedClock(NOW - timedelta(days=7))
    portal = Portal(store, clock=clock, blobs=MemoryBlobStore())
    return build_world(portal, clock)
