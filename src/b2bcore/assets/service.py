"""Use-cases of the assets context: register, verify, move, decommission and look
up installed assets, with their service history, documents and compatible parts.

**Buyers** — users, or agents in an assisted session for one — register assets of
their company with ``assets.manage`` (they wait in ``pending_verification``), move
and decommission those their ``assets.view`` scope reaches, and read them with
``assets.view`` (own, business unit and below, company). **The seller's staff**
(``Actor.operator_for(company_id, staff_id)``) verify assets (``active``), record
warranties, and may register assets they installed themselves (``active`` at once).

Every command is authorized and audited in the same unit of work as its change; a
serial number already registered in the company is a
:class:`~b2bcore.errors.DuplicateError` (the store's unique index decides, so two
concurrent registrations cannot both win).

:meth:`AssetsService.history` gathers, in one unit of work, the claims and service
appointments that name the asset and the documents linked to it (each as far as
the actor may see it); :meth:`AssetsService.compatible_products` asks the catalog
(through :class:`~b2bcore.assets.ports.RelatedProductsLookup`) for the spare parts
and accessories of the asset's product that the actor may buy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import attrs

from b2bcore._command import Command, _audit_alone, execute, query
from b2bcore.accounts.model import Actor, Permission
from b2bcore.accounts.rules import Resource, authorize
from b2bcore.assets.model import Asset, AssetStatus, Warranty, normalize_serial
from b2bcore.assets.ports import RelatedProductsLookup
from b2bcore.audit import Outcome
from b2bcore.catalog.model import RelationType
from b2bcore.catalog.rules import RelatedProduct
from b2bcore.claims.model import Claim
from b2bcore.clock import Clock
from b2bcore.documents._buyers import buyer_can_buy
from b2bcore.documents.model import Document, DocumentLink
from b2bcore.documents.rules import may_read
from b2bcore.errors import DuplicateError, NotFoundError, PermissionDeniedError, ValidationError
from b2bcore.ids import AssetId, BusinessUnitId, CompanyId, OrderId, Sku, as_id, new_id
from b2bcore.orders.rules import audience_for
from b2bcore.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, iterate
from b2bcore.scheduling.model import Booking
from b2bcore.storage.ports import UnitOfWork

__all__ = ["AssetHistory", "AssetsService", "DEFAULT_PART_TYPES"]

#: What :meth:`AssetsService.compatible_products` looks for by default.
DEFAULT_PART_TYPES: tuple[RelationType, ...] = (RelationType.SPARE_PART, RelationType.ACCESSORY)


@attrs.frozen
class AssetHistory:
    """An asset with its service history as the actor may see it: the claims and
    appointments that name it (oldest first) and the documents linked to it or to
    its product (newest first)."""

    asset: Asset
    claims: tuple[Claim, ...]
    appointments: tuple[Booking, ...]
    documents: tuple[Document, ...]


def _resource(asset: Asset) -> Resource:
    return Resource(
        "asset",
        asset.id,
        asset.company_id,
        owner_id=asset.registered_by,
        business_unit_id=asset.business_unit_id,
    )


def _company(actor: object) -> CompanyId:
    return actor.company_id if isinstance(actor, Actor) else CompanyId("")


def _optional_date(value: object, path: str) -> date | None:
    if value is not None and (not isinstance(value, date) or hasattr(value, "hour")):
        raise ValidationError("must be a date or None", path=path, value=value)
    return value


def _optional_warranty(value: object) -> Warranty | None:
    if value is not None and not isinstance(value, Warranty):
        raise ValidationError("must be a Warranty or None", path="warranty", value=value)
    return value


def _sees(cmd: Command, permission: Permission, resource: Resource) -> bool:
    if cmd.actor.operator:
        return True
    return authorize(cmd.actor, permission, access=cmd.access, resource=resource, at=cmd.at).allowed


class AssetsService:
    """Assets use-cases over any store (via a unit-of-work factory).

    ``related_products`` is the catalog lookup behind :meth:`compatible_products`
    (the portal passes the catalog service's); without it that method raises a
    :class:`~b2bcore.errors.ValidationError`.
    """

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        related_products: RelatedProductsLookup | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._related = related_products

    # -- plumbing -----------------------------------------------------------------------
    def _seller_only(self, actor: Actor, *, action: str, target: str) -> None:
        """Refuse (and audit) a buyer trying what only the seller's staff do."""
        if not isinstance(actor, Actor):
            raise ValidationError("must be an Actor", path="actor", value=actor)
        if actor.operator:
            return
        reason = "only the seller's staff (Actor.operator_for) do this"
        _audit_alone(
            self._uow,
            actor,
            at=self._clock.now(),
            action=action,
            target=target,
            outcome=Outcome.DENIED,
            detail=reason,
        )
        raise PermissionDeniedError(
            f"{actor.acted_by} may not {action}: {reason}",
            permission=Permission.COMPANY_MANAGE.value,
            actor=actor.acted_by,
            decision_code="seller_only",
        )

    @staticmethod
    def _permission(actor: object, buyer: Permission) -> Permission:
        # The seller's staff act as operators, whom authorize lets do company.manage.
        return Permission.COMPANY_MANAGE if isinstance(actor, Actor) and actor.operator else buyer

    def _load(self, asset_id: AssetId, company: CompanyId) -> Callable[[UnitOfWork], Resource]:
        return lambda uow: _resource(uow.assets.get(asset_id, company_id=company))

    def _change(
        self,
        actor: Actor,
        asset_id: str,
        *,
        action: str,
        change: Callable[[Command, Asset], None],
        seller: bool = False,
    ) -> Asset:
        aid = as_id(AssetId, asset_id, path="asset_id")
        if seller:
            self._seller_only(actor, action=action, target=f"asset:{aid}")
        company = _company(actor)

        def body(cmd: Command) -> Asset:
            asset = cmd.uow.assets.get(aid, company_id=company)
            if not _sees(cmd, Permission.ASSETS_VIEW, _resource(asset)):
                raise NotFoundError("asset", aid)
            change(cmd, asset)
            cmd.uow.assets.update(asset)
            return asset

        return execute(
            self._uow,
            self._clock,
            actor,
            action=action,
            target=f"asset:{aid}",
            permission=self._permission(actor, Permission.ASSETS_MANAGE),
            resource=self._load(aid, company),
            body=body,
            detail=lambda a: f"{a.serial_number}: {a.status.value}",
        )

    # -- commands -----------------------------------------------------------------------
    def register(
        self,
        actor: Actor,
        *,
        serial_number: str,
        sku: str,
        name: str = "",
        business_unit_id: str | None = None,
        site: str = "",
        installed_on: date | None = None,
        warranty: Warranty | None = None,
        order_id: str | None = None,
    ) -> Asset:
        """Register an installed asset of the actor's company.

        The product must exist; the business unit too; an ``order_id`` must name an
        order of the company with a line for ``sku``. A customer's asset waits in
        ``pending_verification``; one the seller's staff register is ``active``.
        DuplicateError when the serial number is registered in the company already.
        """
        serial = normalize_serial(serial_number)
        code = as_id(Sku, sku, path="sku")
        unit = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        order = None if order_id is None else as_id(OrderId, order_id, path="order_id")
        installed = _optional_date(installed_on, "installed_on")
        cover = _optional_warranty(warranty)
        company = _company(actor)
        owner = actor.on_behalf_of if isinstance(actor, Actor) else None

        def body(cmd: Command) -> Asset:
            cmd.uow.products.get(code)
            if unit is not None:
                cmd.uow.business_units.get(unit, company_id=company)
            if order is not None:
                cmd.uow.orders.get(order, company_id=company).line_for(code)
            taken = cmd.uow.assets.find_by_serial(serial, company_id=company)
            if taken is not None:
                raise DuplicateError(
                    "asset",
                    serial,
                    f"serial number {serial!r} is registered already (asset {taken.id!r})",
                )
            asset = Asset.register(
                asset_id=new_id(),
                company_id=company,
                serial_number=serial,
                sku=code,
                registered_by=cmd.actor.on_behalf_of,
                by=cmd.actor.acted_by,
                at=cmd.at,
                name=name,
                business_unit_id=unit,
                site=site,
                installed_on=installed,
                warranty=cover,
                order_id=order,
                status=AssetStatus.ACTIVE
                if cmd.actor.operator
                else AssetStatus.PENDING_VERIFICATION,
            )
            cmd.uow.assets.add(asset)
            return asset

        return execute(
            self._uow,
            self._clock,
            actor,
            action="asset.register",
            target="asset:new",
            permission=self._permission(actor, Permission.ASSETS_MANAGE),
            resource=Resource("asset", "new", company, owner_id=owner, business_unit_id=unit),
            body=body,
            detail=lambda a: f"{a.id} {a.serial_number} ({a.sku}): {a.status.value}",
        )

    def verify(self, actor: Actor, asset_id: str, *, warranty: Warranty | None = None) -> Asset:
        """The seller's staff confirm a registered asset (``active``), optionally with
        its warranty."""
        cover = _optional_warranty(warranty)
        return self._change(
            actor,
            asset_id,
            action="asset.verify",
            change=lambda cmd, a: a.verify(at=cmd.at, by=cmd.actor.acted_by, warranty=cover),
            seller=True,
        )

    def set_warranty(self, actor: Actor, asset_id: str, warranty: Warranty | None) -> Asset:
        """The seller's staff record (or remove, with None) an asset's warranty."""
        cover = _optional_warranty(warranty)
        return self._change(
            actor,
            asset_id,
            action="asset.set_warranty",
            change=lambda cmd, a: a.set_warranty(cover, at=cmd.at, by=cmd.actor.acted_by),
            seller=True,
        )

    def relocate(
        self,
        actor: Actor,
        asset_id: str,
        *,
        business_unit_id: str | None,
        site: str = "",
        name: str = "",
    ) -> Asset:
        """Move an asset to another business unit or site, or rename it."""
        unit = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )

        def change(cmd: Command, asset: Asset) -> None:
            if unit is not None:
                cmd.uow.business_units.get(unit, company_id=asset.company_id)
            asset.relocate(
                at=cmd.at, by=cmd.actor.acted_by, business_unit_id=unit, site=site, name=name
            )

        return self._change(actor, asset_id, action="asset.relocate", change=change)

    def decommission(self, actor: Actor, asset_id: str, *, reason: str = "") -> Asset:
        """Take an asset out of service for good (``decommissioned``)."""
        return self._change(
            actor,
            asset_id,
            action="asset.decommission",
            change=lambda cmd, a: a.decommission(at=cmd.at, by=cmd.actor.acted_by, reason=reason),
        )

    # -- reads --------------------------------------------------------------------------
    def get(self, actor: Actor, asset_id: str) -> Asset:
        """One asset, if the actor's ``assets.view`` scope reaches it."""
        aid = as_id(AssetId, asset_id, path="asset_id")
        company = _company(actor)
        return query(
            self._uow,
            self._clock,
            actor,
            action="asset.read",
            target=f"asset:{aid}",
            permission=self._permission(actor, Permission.ASSETS_VIEW),
            resource=self._load(aid, company),
            body=lambda cmd: cmd.uow.assets.get(aid, company_id=company),
        )

    def find_by_serial(self, actor: Actor, serial_number: str) -> Asset:
        """The company's asset with this serial number (case-insensitive), if the
        actor may see it; NotFoundError otherwise."""
        serial = normalize_serial(serial_number)
        company = _company(actor)

        def body(cmd: Command) -> Asset:
            asset = cmd.uow.assets.find_by_serial(serial, company_id=company)
            if asset is None or not _sees(cmd, Permission.ASSETS_VIEW, _resource(asset)):
                raise NotFoundError("asset", serial)
            return asset

        return query(
            self._uow,
            self._clock,
            actor,
            action="asset.read",
            target=f"serial:{serial}",
            permission=self._permission(actor, Permission.ASSETS_VIEW),
            body=body,
        )

    def assets(
        self,
        actor: Actor,
        *,
        status: AssetStatus | None = None,
        sku: str | None = None,
        order_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Asset]:
        """The assets the actor may see, in registration order, a page at a time."""
        code = None if sku is None else as_id(Sku, sku, path="sku")
        order = None if order_id is None else as_id(OrderId, order_id, path="order_id")
        if status is not None and not isinstance(status, AssetStatus):
            raise ValidationError("must be an AssetStatus", path="status", value=status)
        company = _company(actor)

        def body(cmd: Command) -> Page[Asset]:
            audience = None
            if not cmd.actor.operator:
                _, audience = audience_for(
                    cmd.actor, Permission.ASSETS_VIEW, access=cmd.access, at=cmd.at
                )
            return cmd.uow.assets.list(
                company_id=company,
                status=status,
                sku=code,
                order_id=order,
                audience=audience,
                limit=limit,
                cursor=cursor,
            )

        return query(
            self._uow,
            self._clock,
            actor,
            action="asset.list",
            target="assets",
            permission=self._permission(actor, Permission.ASSETS_VIEW),
            body=body,
        )

    def history(self, actor: Actor, asset_id: str) -> AssetHistory:
        """The asset with the claims and appointments naming it and the documents
        linked to it or its product — each as far as the actor may see it."""
        aid = as_id(AssetId, asset_id, path="asset_id")
        company = _company(actor)

        def body(cmd: Command) -> AssetHistory:
            uow = cmd.uow
            asset = uow.assets.get(aid, company_id=company)
            claims = [
                c
                for c in iterate(
                    lambda cur: uow.claims.list(
                        company_id=company, asset_id=aid, limit=MAX_LIMIT, cursor=cur
                    )
                )
                if _sees(cmd, Permission.CLAIMS_VIEW, c.access_resource())
            ]
            bookings = [
                b
                for b in iterate(
                    lambda cur: uow.bookings.list(
                        company_id=company, asset_id=aid, limit=MAX_LIMIT, cursor=cur
                    )
                )
                if _sees(
                    cmd,
                    Permission.APPOINTMENTS_VIEW,
                    Resource(
                        "appointment",
                        b.id,
                        company,
                        owner_id=b.requester_id,
                        business_unit_id=b.business_unit_id,
                    ),
                )
            ]
            can_buy = buyer_can_buy(uow, cmd.actor, cmd.access)

            def readable(docs: Iterable[Document]) -> list[Document]:
                return [
                    d
                    for d in docs
                    if may_read(d, cmd.actor, access=cmd.access, at=cmd.at, can_buy=can_buy)
                ]

            documents = readable(
                iterate(
                    lambda cur: uow.documents.list(
                        company_id=company,
                        link=DocumentLink.asset(aid),
                        limit=MAX_LIMIT,
                        cursor=cur,
                    )
                )
            ) + readable(
                iterate(
                    lambda cur: uow.documents.list(
                        company_id=None,
                        link=DocumentLink.product(asset.sku),
                        limit=MAX_LIMIT,
                        cursor=cur,
                    )
                )
            )
            return AssetHistory(
                asset=asset,
                claims=tuple(sorted(claims, key=lambda c: (c.created_at, c.id))),
                appointments=tuple(sorted(bookings, key=lambda b: (b.start, b.id))),
                documents=tuple(
                    sorted(documents, key=lambda d: (d.created_at, d.id), reverse=True)
                ),
            )

        return query(
            self._uow,
            self._clock,
            actor,
            action="asset.history",
            target=f"asset:{aid}",
            permission=self._permission(actor, Permission.ASSETS_VIEW),
            resource=self._load(aid, company),
            body=body,
        )

    def compatible_products(
        self,
        actor: Actor,
        asset_id: str,
        *,
        currency: str,
        types: Iterable[RelationType | str] = DEFAULT_PART_TYPES,
        limit: int = 20,
    ) -> list[RelatedProduct]:
        """The spare parts and accessories (or other relation ``types``) of the
        asset's product that the actor may buy, with their prices in ``currency``,
        best first (the catalog's ``related_products``)."""
        if self._related is None:
            raise ValidationError(
                "no catalog lookup is configured (pass related_products= to AssetsService)",
                path="related_products",
            )
        asset = self.get(actor, asset_id)
        return self._related(actor, asset.sku, currency=currency, types=types, limit=limit)
