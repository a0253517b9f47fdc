"""Assets model: installed equipment of a buyer company, by serial number.

An :class:`Asset` is one installed unit of a product (its SKU): a serial number
unique within the company (case-insensitively), where it stands (business unit,
site), when it was installed, its :class:`Warranty`, and a short lifecycle —
``pending_verification`` (registered by the customer) → ``active`` (verified by
the seller) → ``decommissioned``. Its service history (claims, appointments) and
documents live in their own contexts and name the asset by id.

>>> from datetime import date, datetime, timezone
>>> from b2bcore.assets import Asset, AssetStatus, Warranty
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> pump = Asset.register(asset_id="a-1", company_id="acme", serial_number=" SN-4711 ",
...                       sku="PUMP-1", registered_by="u-ben", at=at,
...                       installed_on=date(2026, 2, 27))
>>> pump.serial_number, pump.status.value
('SN-4711', 'pending_verification')
>>> pump.verify(at=at, by="staff-sam", warranty=Warranty(until=date(2028, 2, 27), terms="2 years"))
>>> pump.status is AssetStatus.ACTIVE, pump.under_warranty(date(2027, 6, 1))
(True, True)
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

import attrs

from b2bcore._validate import enum_member, identifier
from b2bcore.clock import to_utc
from b2bcore.errors import InvalidTransitionError, ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import AssetId, BusinessUnitId, CompanyId, OrderId, Sku, UserId, check_id

__all__ = [
    "ASSET_TRANSITIONS",
    "Asset",
    "AssetChanged",
    "AssetRegistered",
    "AssetStatus",
    "AssetStatusChange",
    "AssetStatusChanged",
    "Warranty",
    "normalize_serial",
]


# -- ids given as plain strings, checked and typed ------------------------------------------


def _business_unit_id_opt(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _company_id(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _id(value: str) -> AssetId:
    return AssetId(check_id(value, path="id"))


def _order_id_opt(value: str | None) -> OrderId | None:
    return None if value is None else OrderId(check_id(value, path="order_id"))


def _registered_by(value: str) -> UserId:
    return UserId(check_id(value, path="registered_by"))


def _sku(value: str) -> Sku:
    return Sku(check_id(value, path="sku"))


class AssetStatus(enum.Enum):
    """Where an asset is in its life (see :data:`ASSET_TRANSITIONS`)."""

    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    DECOMMISSIONED = "decommissioned"


_S = AssetStatus

#: The moves each status allows: the seller verifies a registered asset; either
#: side decommissions it; nothing comes back from decommissioned.
ASSET_TRANSITIONS: Final[Mapping[AssetStatus, frozenset[AssetStatus]]] = {
    _S.PENDING_VERIFICATION: frozenset({_S.ACTIVE, _S.DECOMMISSIONED}),
    _S.ACTIVE: frozenset({_S.DECOMMISSIONED}),
    _S.DECOMMISSIONED: frozenset(),
}

_SERIAL_MAX = 100


def normalize_serial(value: object, *, path: str = "serial_number") -> str:
    """A serial number as stored: trimmed, 1-100 printable characters, no control
    characters (uniqueness is case-insensitive: ``sn-1`` and ``SN-1`` are one serial).

    >>> normalize_serial("  AB-12/7 ")
    'AB-12/7'
    >>> normalize_serial("a\\nb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    b2bcore.errors.ValidationError: serial_number: a serial number has no control characters...
    """
    if not isinstance(value, str):
        raise ValidationError("must be a string", path=path, value=value)
    serial = value.strip()
    if not serial or len(serial) > _SERIAL_MAX:
        raise ValidationError(
            f"must be 1-{_SERIAL_MAX} characters (got {len(serial)} after trimming)",
            path=path,
            value=value,
        )
    if any(unicodedata.category(ch).startswith("C") for ch in serial):
        raise ValidationError(
            "a serial number has no control characters (tabs, line breaks …)",
            path=path,
            value=value,
        )
    return serial


def _serial(value: object) -> str:
    return normalize_serial(value)


def _text(max_length: int, *, required: bool = False) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or len(value) > max_length:
            raise ValidationError(
                f"must be a string of at most {max_length} characters",
                path=attribute.name,
                value=value,
            )
        if required and not value.strip():
            raise ValidationError("must not be blank", path=attribute.name, value=value)

    return check


def _day(value: object, path: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError("must be a date (not a datetime)", path=path, value=value)
    return value


def _until(value: object) -> date:
    return _day(value, "until")


def _optional_installed(value: object) -> date | None:
    return None if value is None else _day(value, "installed_on")


def _registered_at(value: datetime) -> datetime:
    return to_utc(value, path="registered_at")


def _at(value: datetime) -> datetime:
    return to_utc(value, path="at")


@attrs.frozen
class Warranty:
    """A warranty: valid up to and including ``until``, under ``terms``.

    >>> from datetime import date
    >>> Warranty(until=date(2027, 12, 31)).covers(date(2028, 1, 1))
    False
    """

    until: date = attrs.field(converter=_until)
    terms: str = attrs.field(default="", validator=_text(500))

    def covers(self, day: date) -> bool:
        """Whether ``day`` is within the warranty."""
        return _day(day, "day") <= self.until


def _optional_warranty(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, Warranty):
        raise ValidationError("must be a Warranty or None", path="warranty", value=value)


@attrs.frozen
class AssetStatusChange:
    """One step of an asset's history: from, to, when, by whom, why."""

    to_status: AssetStatus = attrs.field(validator=enum_member(AssetStatus))
    at: datetime = attrs.field(converter=_at)
    by: str = attrs.field(validator=identifier)
    from_status: AssetStatus | None = None
    reason: str = attrs.field(default="", validator=_text(500))


def _history(value: object) -> tuple[AssetStatusChange, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of AssetStatusChange", path="history", value=value)
    for i, change in enumerate(value):
        if not isinstance(change, AssetStatusChange):
            raise ValidationError(
                "must be an AssetStatusChange", path=f"history[{i}]", value=change
            )
    return tuple(value)


@attrs.define
class Asset(Aggregate):
    """One installed unit of a product at a buyer company.

    ``serial_number`` is unique within the company, compared case-insensitively
    (:attr:`serial_key`); ``sku`` names the product (its spare parts and services
    come from the catalog's relations). ``order_id`` is the order it came with, if
    known; ``registered_by`` the user who registered it (view scopes read it, like
    an order's requester).
    """

    id: AssetId = attrs.field(converter=_id)
    company_id: CompanyId = attrs.field(converter=_company_id)
    serial_number: str = attrs.field(converter=_serial)
    sku: Sku = attrs.field(converter=_sku)
    registered_by: UserId = attrs.field(converter=_registered_by)
    registered_at: datetime = attrs.field(converter=_registered_at)
    name: str = attrs.field(default="", validator=_text(200))
    business_unit_id: BusinessUnitId | None = attrs.field(
        default=None, converter=_business_unit_id_opt
    )
    site: str = attrs.field(default="", validator=_text(200))
    installed_on: date | None = attrs.field(default=None, converter=_optional_installed)
    warranty: Warranty | None = attrs.field(default=None, validator=_optional_warranty)
    order_id: OrderId | None = attrs.field(default=None, converter=_order_id_opt)
    status: AssetStatus = attrs.field(
        default=AssetStatus.PENDING_VERIFICATION, validator=enum_member(AssetStatus)
    )
    history: tuple[AssetStatusChange, ...] = attrs.field(factory=tuple, converter=_history)

    def __attrs_post_init__(self) -> None:
        if (
            self.installed_on is not None
            and self.warranty is not None
            and self.warranty.until < self.installed_on
        ):
            raise ValidationError(
                f"the warranty ends ({self.warranty.until}) before the installation "
                f"({self.installed_on})",
                path="warranty",
                value=self.warranty,
            )

    # -- derived ----------------------------------------------------------------------
    @property
    def serial_key(self) -> str:
        """The serial number as compared for uniqueness (case-folded)."""
        return self.serial_number.casefold()

    @property
    def in_service(self) -> bool:
        """Whether it is not decommissioned."""
        return self.status is not AssetStatus.DECOMMISSIONED

    def under_warranty(self, day: date) -> bool:
        """Whether its own warranty covers ``day`` (False without a warranty)."""
        return self.warranty is not None and self.warranty.covers(day)

    # -- changes ----------------------------------------------------------------------
    @classmethod
    def register(
        cls,
        *,
        asset_id: str,
        company_id: str,
        serial_number: str,
        sku: str,
        registered_by: str,
        at: datetime,
        by: str | None = None,
        name: str = "",
        business_unit_id: str | None = None,
        site: str = "",
        installed_on: date | None = None,
        warranty: Warranty | None = None,
        order_id: str | None = None,
        status: AssetStatus = AssetStatus.PENDING_VERIFICATION,
    ) -> Asset:
        """A new asset (``pending_verification`` when a customer registers it,
        ``active`` when the seller does); records :class:`AssetRegistered`."""
        if status is AssetStatus.DECOMMISSIONED or not isinstance(status, AssetStatus):
            raise ValidationError(
                "a new asset is pending_verification or active", path="status", value=status
            )
        when = to_utc(at, path="at")
        actor = by if by is not None else registered_by
        asset = cls(
            id=AssetId(asset_id),
            company_id=CompanyId(company_id),
            serial_number=serial_number,
            sku=Sku(sku),
            registered_by=UserId(registered_by),
            registered_at=when,
            name=name,
            business_unit_id=None if business_unit_id is None else BusinessUnitId(business_unit_id),
            site=site,
            installed_on=installed_on,
            warranty=warranty,
            order_id=None if order_id is None else OrderId(order_id),
            status=status,
            history=(AssetStatusChange(to_status=status, at=when, by=actor),),
        )
        asset.record(
            AssetRegistered(
                company_id=asset.company_id,
                occurred_at=when,
                asset_id=asset.id,
                serial_number=asset.serial_number,
                sku=asset.sku,
                status=status.value,
            )
        )
        return asset

    def _move(self, new: AssetStatus, *, at: datetime, by: str, reason: str) -> None:
        old = self.status
        if new not in ASSET_TRANSITIONS[old]:
            raise InvalidTransitionError("asset", self.id, old.value, new.value)
        when = to_utc(at, path="at")
        change = AssetStatusChange(
            to_status=new, at=when, by=by, from_status=old, reason=reason[:500]
        )
        self.status = new
        self.history = (*self.history, change)
        self.record(
            AssetStatusChanged(
                company_id=self.company_id,
                occurred_at=when,
                asset_id=self.id,
                from_status=old.value,
                to_status=new.value,
                by=by,
                reason=change.reason,
            )
        )

    def verify(self, *, at: datetime, by: str, warranty: Warranty | None = None) -> None:
        """The seller checked it: ``active`` (optionally with the warranty they know)."""
        if warranty is not None:
            self.set_warranty(warranty, at=at, by=by)
        self._move(AssetStatus.ACTIVE, at=at, by=by, reason="verified")

    def decommission(self, *, at: datetime, by: str, reason: str = "") -> None:
        """Take it out of service for good."""
        if not isinstance(reason, str):
            raise ValidationError("must be a string", path="reason", value=reason)
        self._move(AssetStatus.DECOMMISSIONED, at=at, by=by, reason=reason)

    def set_warranty(self, warranty: Warranty | None, *, at: datetime, by: str) -> None:
        """Replace its warranty (None: it has none); records :class:`AssetChanged`."""
        _optional_warranty(None, None, warranty)
        attrs.evolve(self, warranty=warranty)  # checks it against the installation date
        self.warranty = warranty
        self._changed(at=at, by=by, fields=("warranty",))

    def relocate(
        self, *, at: datetime, by: str, business_unit_id: str | None, site: str, name: str
    ) -> None:
        """Change where it stands (business unit, site) and its display name."""
        if not self.in_service:
            raise InvalidTransitionError("asset", self.id, self.status.value, "relocated")
        checked = attrs.evolve(
            self,
            business_unit_id=None if business_unit_id is None else BusinessUnitId(business_unit_id),
            site=site,
            name=name,
        )
        changed = tuple(
            f
            for f in ("business_unit_id", "site", "name")
            if getattr(checked, f) != getattr(self, f)
        )
        self.business_unit_id, self.site, self.name = (
            checked.business_unit_id,
            checked.site,
            checked.name,
        )
        if changed:
            self._changed(at=at, by=by, fields=changed)

    def _changed(self, *, at: datetime, by: str, fields: tuple[str, ...]) -> None:
        self.record(
            AssetChanged(
                company_id=self.company_id,
                occurred_at=to_utc(at, path="at"),
                asset_id=self.id,
                by=by,
                fields=fields,
            )
        )


@register_event
@attrs.frozen(kw_only=True)
class AssetRegistered(DomainEvent):
    """An asset was registered."""

    event_type = "assets.asset_registered"
    asset_id: AssetId
    serial_number: str
    sku: Sku
    status: str


@register_event
@attrs.frozen(kw_only=True)
class AssetStatusChanged(DomainEvent):
    """An asset was verified or decommissioned."""

    event_type = "assets.asset_status_changed"
    asset_id: AssetId
    from_status: str
    to_status: str
    by: str
    reason: str = ""


@register_event
@attrs.frozen(kw_only=True)
class AssetChanged(DomainEvent):
    """An asset's details (warranty, place, name) changed."""

    event_type = "assets.asset_changed"
    asset_id: AssetId
    by: str
    fields: tuple[str, ...]
