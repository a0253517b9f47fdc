"""Use-cases of the scheduling context: offer, find, hold, book and run appointments.

The seller's side is platform-wide, like the catalog: a platform operator saves
service types and resources (``operator_id=``), each change checked and audited in
the platform trail in one unit of work.

Buyers — users, or agents in an assisted session for one — need
``appointments.book`` to find slots, hold one, confirm the hold, reschedule and
cancel (both only until the service type's cutoff), and ``appointments.view`` to
read and track them (view scopes apply). A buyer changes their own appointments,
or those they may view. Slot search sees every company's appointments on the
resources (as :class:`~b2bcore.scheduling.model.Busy` times, without names).

The provider moves appointments along (confirm a booking that needs it, en route,
in progress, completed, no show, cancel without cutoff) as a platform operator
acting for the buyer's company (``Actor.operator_for(company_id, staff_id)``),
audited in that company's trail.

Every command runs through ``b2bcore._command.execute``: authorized and
audited in the same unit of work as its change. Double booking is refused by the
store itself (:mod:`b2bcore.scheduling.ports`); when two buyers race for one
slot, the loser gets :class:`~b2bcore.scheduling.errors.SlotTakenError`. Lapsed
holds in the way of a new hold are released (cancelled) in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from b2bcore._command import Command, execute, query, save_platform
from b2bcore.accounts.model import Actor, Permission, ViewScope
from b2bcore.accounts.rules import Resource as AccessResource
from b2bcore.accounts.rules import authorize, descendants
from b2bcore.audit import PLATFORM_AUDIT
from b2bcore.clock import Clock, to_utc
from b2bcore.errors import (
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.events import Aggregate, DomainEvent
from b2bcore.ids import (
    AssetId,
    BookingId,
    BusinessUnitId,
    ClaimId,
    CompanyId,
    ResourceId,
    ServiceTypeId,
    UserId,
    as_id,
    new_id,
)
from b2bcore.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, iterate
from b2bcore.scheduling.errors import (
    CutoffPassedError,
    HoldExpiredError,
    SlotTakenError,
    SlotUnavailableError,
)
from b2bcore.scheduling.ical import to_ical
from b2bcore.scheduling.model import (
    AppointmentStatus,
    Booking,
    Busy,
    Resource,
    ResourceSaved,
    ServiceType,
    ServiceTypeSaved,
)
from b2bcore.scheduling.slots import Slot, SlotExplanation, explain_unavailable, find_slots
from b2bcore.storage.ports import UnitOfWork

__all__ = ["PROVIDER_MOVES", "SchedulingService"]

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

S = AppointmentStatus
#: What the provider may set with :meth:`SchedulingService.advance`.
PROVIDER_MOVES = frozenset(
    {S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW, S.CANCELLED}
)
#: How often a command retries when a concurrent one changed what it read.
_RETRIES = 4
#: Busy times are read this far around a start, so weekly limits count every
#: appointment of the start's week.
_AROUND = timedelta(days=8)
_SYSTEM = "system"


def _find(get: Callable[..., T], *key: Any, **kw: Any) -> T | None:
    try:
        return get(*key, **kw)
    except NotFoundError:
        return None


def _require(value: object, kind: type[T], path: str) -> T:
    if not isinstance(value, kind):
        raise ValidationError(f"must be a {kind.__name__}", path=path, value=value)
    return value


def _company(actor: object) -> CompanyId:
    return actor.company_id if isinstance(actor, Actor) else CompanyId("")


def _optional(kind: Callable[[str], T], value: object, path: str) -> T | None:
    return None if value is None else as_id(kind, value, path=path)


def _status(value: object) -> AppointmentStatus:
    try:
        return AppointmentStatus(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not an appointment status", path="status", value=value
        ) from None


def _text(value: object, path: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(
            f"must be a string of at most {limit} characters", path=path, value=value
        )
    return value


def _all_of_group(uow: UnitOfWork, group: str) -> list[Resource]:
    return list(iterate(lambda c: uow.resources.list(group=group, limit=MAX_LIMIT, cursor=c)))


class SchedulingService:
    """Scheduling use-cases over any store (via a unit-of-work factory)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = unit_of_work
        self._clock = clock

    # -- the seller's service types and resources --------------------------------------
    def _save(
        self,
        *,
        operator_id: str,
        obj: A,
        kind: str,
        key: str,
        repository: Callable[[UnitOfWork], Any],
        stored: Callable[[UnitOfWork], A | None],
        event: Callable[[datetime], DomainEvent],
        action: str,
    ) -> A:
        """Add or update a platform aggregate (see :func:`b2bcore._command.save_platform`)."""
        return save_platform(
            self._uow,
            self._clock,
            operator_id=operator_id,
            obj=obj,
            kind=kind,
            key=key,
            repository=repository,
            stored=stored,
            event=event,
            action=action,
        )

    def save_service_type(self, *, operator_id: str, service_type: ServiceType) -> ServiceType:
        """Create (version 0) or change (the version read) a service type.

        A change applies to appointments held from then on; those made keep the
        duration, buffers and seats they were made with.
        """
        st = _require(service_type, ServiceType, "service_type")
        return self._save(
            operator_id=operator_id,
            obj=st,
            kind="service type",
            key=st.id,
            repository=lambda uow: uow.service_types,
            stored=lambda uow: _find(uow.service_types.get, st.id),
            event=lambda at: ServiceTypeSaved(
                company_id=PLATFORM_AUDIT, occurred_at=at, service_type_id=st.id, active=st.active
            ),
            action="scheduling.service_type.save",
        )

    def save_resource(self, *, operator_id: str, resource: Resource) -> Resource:
        """Create (version 0) or change (the version read) a resource. New hours,
        limits or skills apply to slots offered from then on; appointments made
        stay."""
        r = _require(resource, Resource, "resource")
        return self._save(
            operator_id=operator_id,
            obj=r,
            kind="resource",
            key=r.id,
            repository=lambda uow: uow.resources,
            stored=lambda uow: _find(uow.resources.get, r.id),
            event=lambda at: ResourceSaved(
                company_id=PLATFORM_AUDIT, occurred_at=at, resource_id=r.id, active=r.active
            ),
            action="scheduling.resource.save",
        )

    def service_type(self, service_type_id: str) -> ServiceType:
        """A stored service type (NotFoundError if none)."""
        with self._uow() as uow:
            return uow.service_types.get(
                as_id(ServiceTypeId, service_type_id, path="service_type_id")
            )

    def resource(self, resource_id: str) -> Resource:
        """A stored resource (NotFoundError if none)."""
        with self._uow() as uow:
            return uow.resources.get(as_id(ResourceId, resource_id, path="resource_id"))

    def service_types(self, *, active: bool | None = True) -> list[ServiceType]:
        """Every service type (by default the active ones), by id."""
        with self._uow() as uow:
            return list(
                iterate(lambda c: uow.service_types.list(active=active, limit=MAX_LIMIT, cursor=c))
            )

    def resources(self, *, group: str | None = None) -> list[Resource]:
        """Every resource (optionally of one group), by id."""
        with self._uow() as uow:
            return list(
                iterate(lambda c: uow.resources.list(group=group, limit=MAX_LIMIT, cursor=c))
            )

    def resource_schedule(self, resource_id: str, *, start: datetime, end: datetime) -> list[Busy]:
        """What occupies a resource between ``start`` and ``end``, of every company, by
        time (for the seller's dispatchers; lapsed holds included, see
        :meth:`~b2bcore.scheduling.model.Busy.counts_at`)."""
        rid = as_id(ResourceId, resource_id, path="resource_id")
        lo, hi = to_utc(start, path="start"), to_utc(end, path="end")
        with self._uow() as uow:
            uow.resources.get(rid)
            return uow.bookings.busy([rid], start=lo, end=hi)

    # -- shared reads -----------------------------------------------------------------
    @staticmethod
    def _candidates(
        uow: UnitOfWork, st: ServiceType, resource_ids: Sequence[str] | None
    ) -> list[Resource]:
        """The resources of the service type's groups; ``resource_ids`` narrows a group
        to the ones named in it (a group none is named in keeps all its resources)."""
        named: list[ResourceId] = []
        if resource_ids is not None:
            if isinstance(resource_ids, (str, bytes)) or not isinstance(
                resource_ids, (list, tuple)
            ):
                raise ValidationError(
                    "must be a list of resource ids", path="resource_ids", value=resource_ids
                )
            named = [
                as_id(ResourceId, r, path=f"resource_ids[{i}]") for i, r in enumerate(resource_ids)
            ]
        chosen = {r: uow.resources.get(r) for r in dict.fromkeys(named)}
        out: list[Resource] = []
        for req in st.requirements:
            mine = [r for r in chosen.values() if r.group == req.group]
            if not mine:
                mine = _all_of_group(uow, req.group)
            out.extend(mine)
        strays = [r for r in chosen.values() if r not in out]
        if strays:
            raise ValidationError(
                f"resource {strays[0].id!r} is of group {strays[0].group!r}, which "
                f"{st.id!r} does not need",
                path="resource_ids",
                value=strays[0].id,
            )
        return out

    @staticmethod
    def _busy(
        uow: UnitOfWork,
        resources: Sequence[Resource],
        start: datetime,
        end: datetime,
        *,
        without: Booking | None = None,
    ) -> list[Busy]:
        found = uow.bookings.busy([r.id for r in resources], start=start, end=end)
        if without is None:
            return found
        return [
            b for b in found if (b.company_id, b.booking_id) != (without.company_id, without.id)
        ]

    # -- buyers: slots ----------------------------------------------------------------
    def find_slots(
        self,
        actor: Actor,
        service_type_id: str,
        *,
        start: datetime,
        end: datetime,
        tz: str = "UTC",
        resource_ids: Sequence[str] | None = None,
    ) -> list[Slot]:
        """The slots of a service type the actor may book between ``start`` and
        ``end`` (see :func:`~b2bcore.scheduling.find_slots`), with local times in
        ``tz``; ``resource_ids`` narrows the choice (e.g. a preferred technician)."""
        sid = as_id(ServiceTypeId, service_type_id, path="service_type_id")
        lo, hi = to_utc(start, path="start"), to_utc(end, path="end")

        def body(cmd: Command) -> list[Slot]:
            st = cmd.uow.service_types.get(sid)
            candidates = self._candidates(cmd.uow, st, resource_ids)
            busy = self._busy(cmd.uow, candidates, lo - _AROUND, hi + _AROUND)
            return find_slots(st, (lo, hi), candidates, busy, cmd.at, tz)

        return query(
            self._uow,
            self._clock,
            actor,
            action="appointment.slots",
            target=f"service_type:{sid}",
            permission=Permission.APPOINTMENTS_BOOK,
            body=body,
        )

    def explain(
        self,
        actor: Actor,
        service_type_id: str,
        start: datetime,
        *,
        resource_ids: Sequence[str] | None = None,
    ) -> SlotExplanation:
        """Why the service type cannot be booked at ``start`` (or that it can); see
        :func:`~b2bcore.scheduling.explain_unavailable`."""
        sid = as_id(ServiceTypeId, service_type_id, path="service_type_id")
        at = to_utc(start, path="start")

        def body(cmd: Command) -> SlotExplanation:
            st = cmd.uow.service_types.get(sid)
            candidates = self._candidates(cmd.uow, st, resource_ids)
            busy = self._busy(cmd.uow, candidates, at - _AROUND, at + _AROUND)
            return explain_unavailable(st, at, candidates, busy, cmd.at)

        return query(
            self._uow,
            self._clock,
            actor,
            action="appointment.explain",
            target=f"service_type:{sid}",
            permission=Permission.APPOINTMENTS_BOOK,
            body=body,
        )

    # -- buyers: holds and bookings ---------------------------------------------------
    def _place(
        self,
        cmd: Command,
        st: ServiceType,
        start: datetime,
        resource_ids: Sequence[str] | None,
        *,
        own: Booking | None = None,
    ) -> list[ResourceId]:
        """Check that ``st`` is bookable at ``start`` now, release lapsed holds in its
        way, and return the resources to take (the first free of each group)."""
        candidates = self._candidates(cmd.uow, st, resource_ids)
        busy = self._busy(cmd.uow, candidates, start - _AROUND, start + _AROUND, without=own)
        why = explain_unavailable(st, start, candidates, busy, cmd.at)
        if not why.bookable:
            raise SlotUnavailableError(start, why)
        chosen = [why.free(req.group)[0] for req in st.requirements]
        occupied = (
            start - timedelta(minutes=st.buffer_before_minutes),
            start + timedelta(minutes=st.duration_minutes + st.buffer_after_minutes),
        )
        for b in busy:
            if (
                b.resource_id in chosen
                and not b.counts_at(cmd.at)
                and b.occupied_start < occupied[1]
                and occupied[0] < b.occupied_end
            ):
                self._release(cmd, b)
        return chosen

    @staticmethod
    def _release(cmd: Command, busy: Busy) -> None:
        """Cancel a lapsed hold (of any company) so its time is free again."""
        lapsed = _find(cmd.uow.bookings.get, busy.booking_id, company_id=busy.company_id)
        if lapsed is not None and lapsed.status is S.HELD and lapsed.lapsed(cmd.at):
            lapsed.move(S.CANCELLED, at=cmd.at, by=_SYSTEM, note="hold lapsed")
            cmd.uow.bookings.update(lapsed)

    def _unit(self, cmd: Command, business_unit_id: BusinessUnitId | None) -> BusinessUnitId | None:
        if business_unit_id is not None:
            if business_unit_id not in {u.id for u in cmd.access.units}:
                raise NotFoundError("business unit", business_unit_id)
            return business_unit_id
        user = cmd.access.user
        return None if user is None else user.business_unit_ids[0]

    def _retrying(self, run: Callable[[], T], *, what: Callable[[], tuple[str, datetime]]) -> T:
        """Run a command, again when a concurrent one changed what it read; a claim
        that lost a race at commit becomes :class:`SlotTakenError`."""
        for attempt in range(_RETRIES):
            try:
                return run()
            except DuplicateError as e:
                resource_id, at = what()
                raise SlotTakenError(resource_id, at) from e
            except ConcurrencyError:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def hold(
        self,
        actor: Actor,
        service_type_id: str,
        start: datetime,
        *,
        resource_ids: Sequence[str] | None = None,
        business_unit_id: str | None = None,
        asset_id: str | None = None,
        claim_id: str | None = None,
        notes: str = "",
        tz: str | None = None,
    ) -> Booking:
        """Hold a slot for the actor (``appointments.book``) until the service type's
        ``hold_minutes`` pass; :meth:`confirm` makes it a booking.

        The time must be bookable now
        (:class:`~b2bcore.scheduling.errors.SlotUnavailableError` with the
        explanation otherwise); the first free resource of each group is taken (or
        one of ``resource_ids``). The appointment may name the asset to service and
        the claim it resolves; ``tz`` is its display zone (default: the lead
        resource's).
        """
        sid = as_id(ServiceTypeId, service_type_id, path="service_type_id")
        at = to_utc(start, path="start")
        unit = _optional(BusinessUnitId, business_unit_id, "business_unit_id")
        asset = _optional(AssetId, asset_id, "asset_id")
        claim = _optional(ClaimId, claim_id, "claim_id")
        note = _text(notes, "notes", 2000)
        cid = _company(actor)
        owner = actor.on_behalf_of if isinstance(actor, Actor) else None
        chosen: list[ResourceId] = []

        def body(cmd: Command) -> Booking:
            st = cmd.uow.service_types.get(sid)
            chosen[:] = self._place(cmd, st, at, resource_ids)
            lead = cmd.uow.resources.get(chosen[0])
            booking = Booking.hold(
                booking_id=new_id(),
                company_id=cid,
                service_type=st,
                resource_ids=chosen,
                start=at,
                requester_id=cmd.actor.on_behalf_of,
                at=cmd.at,
                by=cmd.actor.acted_by,
                business_unit_id=self._unit(cmd, unit),
                asset_id=asset,
                claim_id=claim,
                notes=note,
                timezone=tz if tz is not None else lead.timezone,
            )
            cmd.uow.bookings.add(booking)
            return booking

        def run() -> Booking:
            return execute(
                self._uow,
                self._clock,
                actor,
                action="appointment.hold",
                target=f"service_type:{sid}",
                permission=Permission.APPOINTMENTS_BOOK,
                resource=lambda uow: AccessResource(
                    "appointment", "new", cid, owner_id=owner, business_unit_id=unit
                ),
                body=body,
                detail=lambda b: f"{b.id} at {b.start.isoformat()} on {', '.join(b.resource_ids)}",
            )

        return self._retrying(run, what=lambda: (chosen[0] if chosen else "?", at))

    def _mine(self, cmd: Command, booking_id: BookingId) -> Booking:
        """The booking, if the actor booked it or may view it (NotFoundError if not)."""
        booking = cmd.uow.bookings.get(booking_id, company_id=cmd.actor.company_id)
        if booking.requester_id != cmd.actor.on_behalf_of and not cmd.actor.operator:
            seen = authorize(
                cmd.actor,
                Permission.APPOINTMENTS_VIEW,
                access=cmd.access,
                resource=self._resource(booking),
                at=cmd.at,
            )
            if not seen.allowed:
                raise NotFoundError("appointment", booking_id)
        return booking

    @staticmethod
    def _resource(booking: Booking) -> AccessResource:
        return AccessResource(
            "appointment",
            booking.id,
            booking.company_id,
            owner_id=booking.requester_id,
            business_unit_id=booking.business_unit_id,
        )

    def _change(
        self,
        actor: Actor,
        booking_id: str,
        *,
        action: str,
        permission: Permission,
        body: Callable[[Command, Booking], None],
    ) -> Booking:
        bid = as_id(BookingId, booking_id, path="booking_id")
        cid = _company(actor)

        changed: list[Booking] = []

        def run_body(cmd: Command) -> Booking:
            booking = self._mine(cmd, bid)
            body(cmd, booking)
            changed.append(booking)
            cmd.uow.bookings.update(booking)
            return booking

        def what() -> tuple[str, datetime]:
            if not changed:
                return "?", self._clock.now()
            return changed[-1].resource_ids[0], changed[-1].start

        def load(uow: UnitOfWork) -> AccessResource | None:
            found = _find(uow.bookings.get, bid, company_id=cid)
            return None if found is None else self._resource(found)

        def run() -> Booking:
            return execute(
                self._uow,
                self._clock,
                actor,
                action=action,
                target=f"appointment:{bid}",
                permission=permission,
                resource=load,
                body=run_body,
                detail=lambda b: f"{b.status.value} at {b.start.isoformat()}",
            )

        return self._retrying(run, what=what)

    def confirm(self, actor: Actor, booking_id: str) -> Booking:
        """Turn the actor's hold into a booking: ``confirmed``, or ``booked`` when the
        service type needs the provider's confirmation.
        :class:`~b2bcore.scheduling.errors.HoldExpiredError` when the hold lapsed."""

        def body(cmd: Command, booking: Booking) -> None:
            if booking.status is S.HELD and booking.lapsed(cmd.at):
                assert booking.held_until is not None
                raise HoldExpiredError(booking.id, booking.held_until)
            st = _find(cmd.uow.service_types.get, booking.service_type_id)
            needs = st.needs_confirmation if st is not None else False
            booking.move(S.BOOKED if needs else S.CONFIRMED, at=cmd.at, by=cmd.actor.acted_by)

        return self._change(
            actor,
            booking_id,
            action="appointment.confirm",
            permission=Permission.APPOINTMENTS_BOOK,
            body=body,
        )

    @staticmethod
    def _check_cutoff(cmd: Command, booking: Booking, action: str, cutoff: int) -> None:
        if booking.status is S.HELD:
            return
        deadline = booking.start - timedelta(minutes=cutoff)
        if cmd.at > deadline:
            raise CutoffPassedError(booking.id, action, deadline)

    def reschedule(
        self,
        actor: Actor,
        booking_id: str,
        start: datetime,
        *,
        resource_ids: Sequence[str] | None = None,
    ) -> Booking:
        """Move the actor's appointment to ``start`` (until the cutoff before its
        current start): the new time must be bookable now, and it is claimed and the
        old one released in one unit of work. A confirmed appointment of a service
        type that needs confirmation goes back to ``booked``."""
        at = to_utc(start, path="start")

        def body(cmd: Command, booking: Booking) -> None:
            st = cmd.uow.service_types.get(booking.service_type_id)
            self._check_cutoff(cmd, booking, "reschedule", st.cutoff_minutes)
            chosen = self._place(cmd, st, at, resource_ids, own=booking)
            booking.reschedule(
                start=at,
                resource_ids=chosen,
                at=cmd.at,
                by=cmd.actor.acted_by,
                needs_confirmation=st.needs_confirmation,
            )

        return self._change(
            actor,
            booking_id,
            action="appointment.reschedule",
            permission=Permission.APPOINTMENTS_BOOK,
            body=body,
        )

    def cancel(self, actor: Actor, booking_id: str, *, reason: str = "") -> Booking:
        """Cancel the actor's appointment (a hold at any time, a booking until the
        service type's cutoff: :class:`~b2bcore.scheduling.errors.CutoffPassedError`);
        its time is free again at once."""
        why = _text(reason, "reason", 500)

        def body(cmd: Command, booking: Booking) -> None:
            st = _find(cmd.uow.service_types.get, booking.service_type_id)
            self._check_cutoff(cmd, booking, "cancel", st.cutoff_minutes if st else 0)
            booking.move(S.CANCELLED, at=cmd.at, by=cmd.actor.acted_by, note=why)

        return self._change(
            actor,
            booking_id,
            action="appointment.cancel",
            permission=Permission.APPOINTMENTS_BOOK,
            body=body,
        )

    # -- the provider -----------------------------------------------------------------
    def advance(
        self, actor: Actor, booking_id: str, status: AppointmentStatus | str, *, note: str = ""
    ) -> Booking:
        """The provider moves an appointment: confirm a booked one, en route, in
        progress, completed, no show, or cancel it regardless of the cutoff.

        Only a platform operator acting for the appointment's company may
        (``Actor.operator_for``); the move must follow
        :data:`~b2bcore.scheduling.model.TRANSITIONS`.
        """
        to = _status(status)
        if to not in PROVIDER_MOVES:
            raise ValidationError(
                f"the provider sets {', '.join(sorted(s.value for s in PROVIDER_MOVES))}",
                path="status",
                value=status,
            )
        text = _text(note, "note", 500)

        def body(cmd: Command, booking: Booking) -> None:
            if not cmd.actor.operator:
                raise PermissionDeniedError(
                    f"only the service provider moves an appointment to {to.value}",
                    permission=Permission.COMPANY_MANAGE.value,
                    actor=cmd.actor.acted_by,
                    decision_code="operator_required",
                )
            booking.move(to, at=cmd.at, by=cmd.actor.acted_by, note=text)

        return self._change(
            actor,
            booking_id,
            action=f"appointment.{to.value}",
            permission=Permission.COMPANY_MANAGE,
            body=body,
        )

    # -- reading and tracking -----------------------------------------------------------
    def appointment(self, actor: Actor, booking_id: str) -> Booking:
        """One appointment with its status history (``appointments.view``; view
        scopes apply)."""
        bid = as_id(BookingId, booking_id, path="booking_id")
        cid = _company(actor)

        def load(uow: UnitOfWork) -> AccessResource:
            return self._resource(uow.bookings.get(bid, company_id=cid))

        return query(
            self._uow,
            self._clock,
            actor,
            action="appointment.read",
            target=f"appointment:{bid}",
            permission=Permission.APPOINTMENTS_VIEW,
            resource=load,
            body=lambda cmd: cmd.uow.bookings.get(bid, company_id=cid),
        )

    def appointments(
        self,
        actor: Actor,
        *,
        statuses: Sequence[AppointmentStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        asset_id: str | None = None,
        claim_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Booking]:
        """The appointments the actor may view, by start time: their own, their
        business units' or the company's, as their ``appointments.view`` scope says."""
        asset = _optional(AssetId, asset_id, "asset_id")
        claim = _optional(ClaimId, claim_id, "claim_id")

        def body(cmd: Command) -> Page[Booking]:
            entry = cmd.decision.entry
            scope = entry.scope if entry is not None else ViewScope.COMPANY
            requester: UserId | None = None
            units: list[BusinessUnitId] | None = None
            if scope is ViewScope.OWN:
                requester = cmd.actor.on_behalf_of
            elif scope is ViewScope.BUSINESS_UNIT:
                grant = cmd.decision.grant
                user = cmd.access.user
                roots: list[str] = (
                    [grant.business_unit_id]
                    if grant is not None and grant.business_unit_id is not None
                    else list(user.business_unit_ids if user is not None else ())
                )
                known = {u.id for u in cmd.access.units}
                found: set[BusinessUnitId] = set()
                for root in roots:
                    if root in known:
                        found |= descendants(cmd.access.units, root)
                units = sorted(found)
            return cmd.uow.bookings.list(
                company_id=cmd.actor.company_id,
                requester_id=requester,
                business_unit_ids=units,
                statuses=statuses,
                asset_id=asset,
                claim_id=claim,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )

        return query(
            self._uow,
            self._clock,
            actor,
            action="appointment.list",
            target="appointments",
            permission=Permission.APPOINTMENTS_VIEW,
            body=body,
        )

    def ical(self, actor: Actor, booking_id: str, *, tz: str | None = None) -> str:
        """The appointment as an iCalendar file (:func:`~b2bcore.scheduling.to_ical`);
        ``tz`` defaults to the appointment's display zone."""
        booking = self.appointment(actor, booking_id)
        return to_ical(booking, tz=tz if tz is not None else booking.timezone)
