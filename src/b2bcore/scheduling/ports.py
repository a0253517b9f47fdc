"""Repository protocols of the scheduling context.

Service types and resources belong to the seller: their repositories are
platform-wide (no ``company_id``), like price lists. Bookings belong to a buyer
company; every query is scoped to one, except :meth:`BookingRepository.busy`,
which tells when resources are taken by anyone (without names or notes), because
a technician serves every company.

No double booking is the store's job, not only the service's: adding or updating
a booking that occupies its resources (every status but ``cancelled``) also
writes one row per resource, 5-minute granule of its time with buffers, and seat,
keyed ``(resource, granule, seat)`` and unique in the store. A second booking of
any overlapping granule therefore fails — when it is written, or at the latest
when its unit of work commits — with a :class:`~b2bcore.errors.ConflictError`
(:class:`~b2bcore.scheduling.errors.SlotTakenError` or
:class:`~b2bcore.errors.DuplicateError`), whichever thread or process wrote
first. Seats: a booking of capacity ``c`` takes, per granule, the first free seat
below ``c``; rows of another service type on a granule refuse it; taking a seat
above 0 also rewrites seat 0's row (version check), so a release of seat 0 racing
it conflicts instead of letting service types mix.

Semantics every implementation keeps (the contract suite in
:mod:`b2bcore.testing.contracts` checks them):

* ``get`` raises :class:`~b2bcore.errors.NotFoundError` (also for another
  company's booking); ``add`` raises :class:`~b2bcore.errors.DuplicateError` for
  an existing id and sets ``version`` to 1; ``update`` needs the version read
  (:class:`~b2bcore.errors.ConcurrencyError` otherwise) and moves the booking's
  granule rows with it: released when it is cancelled, moved when it is
  rescheduled, their hold deadline cleared when it is confirmed;
* ``busy`` returns the appointments of every company that occupy any of the
  resources between ``start`` and ``end``, lapsed holds included (the caller
  decides with ``now``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from b2bcore.ids import (
    AssetId,
    BookingId,
    BusinessUnitId,
    ClaimId,
    CompanyId,
    ResourceId,
    ServiceTypeId,
    UserId,
)
from b2bcore.paging import DEFAULT_LIMIT, Page
from b2bcore.scheduling.model import AppointmentStatus, Booking, Busy, Resource, ServiceType

__all__ = ["BookingRepository", "ResourceRepository", "ServiceTypeRepository"]


class ServiceTypeRepository(Protocol):
    """The seller's service types (platform-wide)."""

    def get(self, service_type_id: ServiceTypeId, /) -> ServiceType:
        """The service type with this id (NotFoundError if none)."""
        ...

    def add(self, service_type: ServiceType, /) -> None:
        """Store a new service type (DuplicateError for a taken id)."""
        ...

    def update(self, service_type: ServiceType, /) -> None:
        """Store a changed service type (the version read)."""
        ...

    def list(
        self, *, active: bool | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ServiceType]:
        """Service types by id, optionally only active (or inactive) ones."""
        ...


class ResourceRepository(Protocol):
    """The seller's resources: technicians, bays (platform-wide)."""

    def get(self, resource_id: ResourceId, /) -> Resource:
        """The resource with this id (NotFoundError if none)."""
        ...

    def add(self, resource: Resource, /) -> None:
        """Store a new resource (DuplicateError for a taken id)."""
        ...

    def update(self, resource: Resource, /) -> None:
        """Store a changed resource (the version read)."""
        ...

    def list(
        self,
        *,
        group: str | None = None,
        active: bool | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Resource]:
        """Resources by id, optionally of one group and only active (or inactive) ones."""
        ...


class BookingRepository(Protocol):
    """Each company's appointments, and who occupies which resource when."""

    def get(self, booking_id: BookingId, /, *, company_id: CompanyId) -> Booking:
        """The booking (NotFoundError if none in this company)."""
        ...

    def add(self, booking: Booking, /) -> None:
        """Store a new booking and claim its time (ConflictError if any of it is taken)."""
        ...

    def update(self, booking: Booking, /) -> None:
        """Store a changed booking (the version read) and move its claim on time with it."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        requester_id: UserId | None = None,
        business_unit_ids: Iterable[BusinessUnitId] | None = None,
        statuses: Iterable[AppointmentStatus] | None = None,
        service_type_id: ServiceTypeId | None = None,
        asset_id: AssetId | None = None,
        claim_id: ClaimId | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Booking]:
        """One company's bookings by start time (``since`` inclusive, ``until``
        exclusive, on the start), filtered by every argument given."""
        ...

    def busy(
        self, resource_ids: Iterable[ResourceId], /, *, start: datetime, end: datetime
    ) -> builtins.list[Busy]:
        """What occupies any of ``resource_ids`` between ``start`` and ``end`` (time with
        buffers overlapping), of every company, by resource and time."""
        ...
