"""The asset model: serial numbers, the lifecycle, warranties and details."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from b2bcore.assets import ASSET_TRANSITIONS, Asset, AssetStatus, Warranty, normalize_serial
from b2bcore.errors import InvalidTransitionError, ValidationError
from b2bcore.serialization import dumps, loads

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _asset(**kw: object) -> Asset:
    args: dict[str, object] = {"asset_id": "a-1", "company_id": "acme", "serial_number": "SN-1",
                               "sku": "PX-9", "registered_by": "ben", "at": AT, **kw}  # fmt: skip
    return Asset.register(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "stored"), [(" SN-1 ", "SN-1"), ("ab/12.7", "ab/12.7"), ("Ä-Ö-ß", "Ä-Ö-ß")]
)
def test_serials_are_trimmed_and_compared_case_insensitively(raw: str, stored: str) -> None:
    asset = _asset(serial_number=raw)
    assert asset.serial_number == stored
    assert asset.serial_key == stored.casefold()


@pytest.mark.parametrize("bad", ["", "   ", "a\tb", "x" * 101, 42, None])
def test_bad_serials_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as raised:
        normalize_serial(bad)
    assert raised.value.path == "serial_number"


def test_the_lifecycle_goes_forward_only() -> None:
    asset = _asset()
    assert asset.status is AssetStatus.PENDING_VERIFICATION
    asset.verify(at=AT, by="sam")
    with pytest.raises(InvalidTransitionError):
        asset.verify(at=AT, by="sam")
    asset.decommission(at=AT, by="ben", reason="scrapped")
    assert not asset.in_service
    for status in AssetStatus:
        with pytest.raises(InvalidTransitionError):
            asset._move(status, at=AT, by="x", reason="")
    assert ASSET_TRANSITIONS[AssetStatus.DECOMMISSIONED] == frozenset()
    assert [(h.from_status, h.to_status) for h in asset.history] == [
        (None, AssetStatus.PENDING_VERIFICATION),
        (AssetStatus.PENDING_VERIFICATION, AssetStatus.ACTIVE),
        (AssetStatus.ACTIVE, AssetStatus.DECOMMISSIONED),
    ]
    assert [e.event_type for e in asset.pull_events()] == [
        "assets.asset_registered", "assets.asset_status_changed", "assets.asset_status_changed",
    ]  # fmt: skip


def test_a_new_asset_is_never_decommissioned() -> None:
    with pytest.raises(ValidationError):
        _asset(status=AssetStatus.DECOMMISSIONED)
    assert _asset(status=AssetStatus.ACTIVE).status is AssetStatus.ACTIVE


def test_warranties_cover_up_to_their_last_day_and_follow_the_installation() -> None:
    asset = _asset(installed_on=date(2026, 5, 1))
    assert not asset.under_warranty(date(2026, 6, 1))
    asset.set_warranty(Warranty(until=date(2027, 5, 1)), at=AT, by="sam")
    assert asset.under_warranty(date(2027, 5, 1))
    assert not asset.under_warranty(date(2027, 5, 2))
    with pytest.raises(ValidationError, match="before the installation"):
        asset.set_warranty(Warranty(until=date(2026, 4, 30)), at=AT, by="sam")
    assert asset.warranty == Warranty(until=date(2027, 5, 1))
    with pytest.raises(ValidationError):
        Warranty(until=AT)


def test_relocating_records_what_changed() -> None:
    asset = _asset()
    asset.pull_events()
    asset.relocate(at=AT, by="ben", business_unit_id="line", site="Hall 2", name="Pump 2")
    asset.relocate(at=AT, by="ben", business_unit_id="line", site="Hall 2", name="Pump 2")
    events = asset.pull_events()
    assert [e.fields for e in events] == [("business_unit_id", "site", "name")]  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        asset.relocate(at=AT, by="ben", business_unit_id="bad id!", site="", name="")
    assert asset.business_unit_id == "line"
    asset.decommission(at=AT, by="ben")
    with pytest.raises(InvalidTransitionError):
        asset.relocate(at=AT, by="ben", business_unit_id=None, site="", name="")


def test_assets_round_trip_through_json() -> None:
    asset = _asset(installed_on=date(2026, 5, 1), warranty=Warranty(date(2028, 1, 1), "2 years"),
                   order_id="o-1", site="Hall 2", business_unit_id="line")  # fmt: skip
    asset.verify(at=AT, by="sam")
    assert loads(dumps(asset), Asset) == asset
