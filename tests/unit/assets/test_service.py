"""The assets service on every store: registration, verification, lookups, history
and compatible parts."""

from __future__ import annotations

from datetime import date

import pytest

from b2bcore.accounts import Actor
from b2bcore.assets import AssetStatus, Warranty
from b2bcore.audit import Outcome
from b2bcore.catalog import ProductRelation, RelationType
from b2bcore.documents import DocumentKind, DocumentLink
from b2bcore.errors import (
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.paging import iterate
from tests.unit.claims.conftest import AGENT, ANA, BEN, CLARA, DORA, GIA, PDF, World


def test_customers_register_and_the_seller_verifies(world: World) -> None:
    assets = world.portal.assets
    asset = assets.register(BEN, serial_number="PX9-1", sku="PX-9", business_unit_id="line",
                            site="Hall 2", installed_on=date(2026, 5, 20))  # fmt: skip
    assert (asset.status, asset.registered_by) == (AssetStatus.PENDING_VERIFICATION, "ben")
    with pytest.raises(PermissionDeniedError, match="seller"):
        assets.verify(BEN, asset.id)
    verified = assets.verify(AGENT, asset.id, warranty=Warranty(until=date(2028, 5, 20)))
    assert (verified.status, verified.warranty) == (AssetStatus.ACTIVE, Warranty(date(2028, 5, 20)))
    mine = assets.register(AGENT, serial_number="PX9-2", sku="PX-9")
    assert mine.status is AssetStatus.ACTIVE
    trail = list(iterate(lambda c: world.portal.accounts.audit_trail(ANA, cursor=c)))
    verify = [(e.action, e.outcome) for e in trail if e.action == "asset.verify"]
    assert verify == [("asset.verify", Outcome.DENIED), ("asset.verify", Outcome.ALLOWED)]


def test_serial_numbers_are_unique_per_company(world: World) -> None:
    assets = world.portal.assets
    first = assets.register(BEN, serial_number="SN-7", sku="PX-9")
    with pytest.raises(DuplicateError, match=first.id):
        assets.register(CLARA, serial_number=" sn-7 ", sku="PUMP-1")
    globex = Actor.operator_for("globex", "staff")
    assert assets.register(globex, serial_number="SN-7", sku="PX-9").company_id == "globex"
    assert assets.find_by_serial(BEN, "sn-7").id == first.id
    with pytest.raises(NotFoundError):
        assets.find_by_serial(BEN, "SN-8")


def test_registration_checks_product_unit_and_order(world: World) -> None:
    assets = world.portal.assets
    with pytest.raises(NotFoundError):
        assets.register(BEN, serial_number="S", sku="NOPE")
    with pytest.raises(NotFoundError):
        assets.register(BEN, serial_number="S", sku="PX-9", business_unit_id="mars")
    with pytest.raises(ValidationError, match="has no line for 'PX-9'"):
        assets.register(BEN, serial_number="S", sku="PX-9", order_id=world.order.id)
    pump = assets.register(BEN, serial_number="S", sku="PUMP-1", order_id=world.order.id)
    assert pump.order_id == world.order.id
    with pytest.raises(ValidationError):
        assets.register(BEN, serial_number="S2", sku="PX-9", installed_on="2026-05-01")  # type: ignore[arg-type]
    with pytest.raises(PermissionDeniedError):
        assets.register(DORA, serial_number="S3", sku="PX-9")  # a viewer registers nothing
    assert assets.assets(AGENT).items == (pump,)


def test_view_scopes_reach_assets_like_any_record(world: World) -> None:
    assets = world.portal.assets
    asset = assets.register(BEN, serial_number="SN-1", sku="PX-9")
    assert assets.get(ANA, asset.id).id == asset.id
    with pytest.raises(PermissionDeniedError):
        assets.get(CLARA, asset.id)
    with pytest.raises(NotFoundError):
        assets.get(GIA, asset.id)
    with pytest.raises(NotFoundError):
        assets.find_by_serial(CLARA, "SN-1")
    with pytest.raises(NotFoundError):
        assets.decommission(CLARA, asset.id)
    assert [a.id for a in assets.assets(BEN).items] == [asset.id]
    assert assets.assets(CLARA).items == ()
    assert assets.assets(BEN, status=AssetStatus.ACTIVE).items == ()
    assert [a.id for a in assets.assets(AGENT, sku="PX-9").items] == [asset.id]


def test_relocation_and_decommissioning(world: World) -> None:
    assets = world.portal.assets
    asset = assets.register(BEN, serial_number="SN-1", sku="PX-9", business_unit_id="line")
    moved = assets.relocate(BEN, asset.id, business_unit_id="plant", site="Hall 9", name="Spare")
    assert (moved.business_unit_id, moved.site, moved.name) == ("plant", "Hall 9", "Spare")
    with pytest.raises(NotFoundError):
        assets.relocate(BEN, asset.id, business_unit_id="mars")
    gone = assets.decommission(BEN, asset.id, reason="scrapped")
    assert gone.status is AssetStatus.DECOMMISSIONED
    with pytest.raises(InvalidTransitionError):
        assets.verify(AGENT, asset.id)
    assert assets.set_warranty(AGENT, asset.id, Warranty(date(2030, 1, 1))).warranty is not None


def test_history_gathers_claims_appointments_and_documents(world: World) -> None:
    portal = world.portal
    asset = portal.assets.register(BEN, serial_number="SN-1", sku="PX-9", business_unit_id="line")
    portal.assets.verify(AGENT, asset.id)
    claim = portal.claims.open_claim(BEN, type_id="warranty", title="t", description="d")
    portal.claims.add_asset_line(BEN, claim.id, asset_id=asset.id)
    note = portal.documents.upload(BEN, title="Service report", kind=DocumentKind.REPORT,
                                   content=PDF, media_type="application/pdf",
                                   filename="report.pdf",
                                   links=[DocumentLink.asset(asset.id)])  # fmt: skip
    manual = portal.documents.publish(operator_id="op-olga", sku="PX-9", title="PX-9 manual",
                                      kind=DocumentKind.MANUAL, content=PDF + b"m",
                                      media_type="application/pdf", filename="px9.pdf")  # fmt: skip
    history = portal.assets.history(BEN, asset.id)
    assert [c.id for c in history.claims] == [claim.id]
    assert {d.id for d in history.documents} == {note.id, manual.id}
    assert history.appointments == ()
    ana = portal.assets.history(ANA, asset.id)
    assert [c.id for c in ana.claims] == [claim.id]


def test_compatible_parts_come_from_the_catalogs_relations(world: World) -> None:
    portal = world.portal
    portal.catalog.save_relation(operator_id="op-olga", relation=ProductRelation(
        source_sku="PX-9", target_sku="SEAL-7", type=RelationType.SPARE_PART))  # fmt: skip
    portal.catalog.save_relation(operator_id="op-olga", relation=ProductRelation(
        source_sku="PX-9", target_sku="PUMP-1", type=RelationType.UP_SELL))  # fmt: skip
    asset = portal.assets.register(BEN, serial_number="SN-1", sku="PX-9")
    parts = portal.assets.compatible_products(BEN, asset.id, currency="EUR")
    assert [(p.sku, p.type) for p in parts] == [("SEAL-7", RelationType.SPARE_PART)]
    with pytest.raises(PermissionDeniedError):
        portal.assets.compatible_products(CLARA, asset.id, currency="EUR")
