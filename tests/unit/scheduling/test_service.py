"""Scheduling through the portal, on MemoryStore and SQLite: the seller offers
service types and resources, buyers find, hold, confirm, reschedule and cancel,
the provider moves appointments along; all authorized and audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.audit import PLATFORM_AUDIT, Outcome
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    ConcurrencyError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import CompanyId
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.scheduling import (
    AppointmentHeld,
    AppointmentStatus,
    AppointmentStatusChanged,
    Availability,
    CutoffPassedError,
    HoldExpiredError,
    Resource,
    ResourceRequirement,
    ServiceType,
    SlotTakenError,
    UnavailableReason,
)
from b2bcore.scheduling.errors import SlotUnavailableError
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

NOW = datetime(2026, 3, 2, 6, tzinfo=UTC)  # Monday 07:00 in Berlin
OP = "op-olga"
BEN = Actor.user("acme", "ben")
VIC = Actor.user("acme", "vic")
ADMIN = Actor.user("acme", "admin-acme")
GIA = Actor.user("globex", "admin-globex")
DISPATCH = Actor.operator_for("acme", "disp-dora")
S = AppointmentStatus


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A March 2026 instant given in Berlin winter time (UTC+1)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "scheduling.sqlite", synchronous="NORMAL")
    )
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def portal(store: Store, clock: FixedClock) -> Portal:
    p = Portal(store, clock=clock)
    for cid in ("acme", "globex"):
        p.accounts.create_company(
            Actor.operator_for(cid, OP),
            name=cid.upper(),
            admin_email=f"admin@{cid}.example",
            admin_user_id=f"admin-{cid}",
        )
    p.accounts.invite_user(
        ADMIN, user_id="ben", email="ben@acme.example", name="Ben",
        business_unit_ids=["hq"], roles=["buyer"],
    )  # fmt: skip
    p.accounts.invite_user(
        ADMIN, user_id="vic", email="vic@acme.example", name="Vic",
        business_unit_ids=["hq"], roles=["viewer"],
    )  # fmt: skip
    p.accounts.invite_user(
        Actor.user("globex", "admin-globex"), user_id="gus", email="gus@globex.example",
        name="Gus", business_unit_ids=["hq"], roles=["buyer"],
    )  # fmt: skip
    week = Availability.weekly("MO-FR", [("08:00", "12:00"), ("13:00", "17:00")])
    sch = p.scheduling
    for rid, skills in (("tech-ana", {"hvac", "gas"}), ("tech-bo", {"hvac"})):
        sch.save_resource(
            operator_id=OP,
            resource=Resource(
                id=rid, name=rid, skills=skills, timezone="Europe/Berlin", availability=week
            ),
        )
    sch.save_resource(
        operator_id=OP,
        resource=Resource(
            id="bay-1", name="Bay 1", group="bay", timezone="Europe/Berlin", availability=week
        ),
    )
    sch.save_service_type(
        operator_id=OP,
        service_type=ServiceType(
            id="hvac-check",
            name="HVAC check",
            duration_minutes=60,
            buffer_after_minutes=30,
            required_skills={"hvac"},
            min_notice_minutes=60,
            cutoff_minutes=24 * 60,
        ),
    )
    sch.save_service_type(
        operator_id=OP,
        service_type=ServiceType(
            id="gas-repair",
            name="Gas repair in the bay",
            duration_minutes=120,
            interval_minutes=60,
            required_skills={"gas"},
            also_requires=[ResourceRequirement("bay")],
            needs_confirmation=True,
        ),
    )
    return p


def _events(portal: Portal, company: str) -> list[str]:
    with portal.store.unit_of_work() as uow:
        return [
            r.event_type
            for r in iterate(lambda c: uow.outbox.list(company_id=CompanyId(company), cursor=c))
        ]


def _trail(portal: Portal, company: str = "acme") -> list[tuple[str, str]]:
    return [
        (e.action, e.outcome.value)
        for e in iterate(
            lambda c: portal.accounts.audit_trail(ADMIN if company == "acme" else GIA, cursor=c)
        )
    ]


def test_seller_saves_are_versioned_and_in_the_platform_trail(portal: Portal) -> None:
    st = portal.scheduling.service_type("hvac-check")
    assert st.version == 1
    st.hold_minutes = 30
    assert portal.scheduling.save_service_type(operator_id=OP, service_type=st).version == 2
    stale = attrs.evolve(st, version=1)
    with pytest.raises(ConcurrencyError):
        portal.scheduling.save_service_type(operator_id=OP, service_type=stale)
    again = ServiceType(id="hvac-check", name="dup", duration_minutes=30)
    with pytest.raises(DuplicateError):
        portal.scheduling.save_service_type(operator_id=OP, service_type=again)
    assert again.version == 0
    assert again.pull_events() == []
    trail = [
        e.action
        for e in iterate(lambda c: portal.accounts.platform_audit_trail(operator_id=OP, cursor=c))
    ]
    assert trail.count("scheduling.resource.save") == 3
    assert trail.count("scheduling.service_type.save") == 3
    assert [r.id for r in portal.scheduling.resources(group="technician")] == [
        "tech-ana",
        "tech-bo",
    ]
    assert [s.id for s in portal.scheduling.service_types()] == ["gas-repair", "hvac-check"]
    with pytest.raises(ValidationError):
        portal.scheduling.save_resource(operator_id=OP, resource="tech")  # type: ignore[arg-type]
    _ = PLATFORM_AUDIT


def test_find_hold_confirm_and_track(portal: Portal) -> None:
    sch = portal.scheduling
    slots = sch.find_slots(BEN, "hvac-check", start=at(2, 0), end=at(3, 0), tz="Europe/Berlin")
    # 07:00 now + 60 minutes notice: from 08:00; 60-minute slots every hour, both techs
    assert [s.local_start.strftime("%H:%M") for s in slots] == [
        "08:00", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00",
    ]  # fmt: skip
    assert slots[0].choices == (("tech-ana", "tech-bo"),)
    held = sch.hold(BEN, "hvac-check", slots[1].start, asset_id="pump-7", notes="noisy")
    assert (held.status, held.resource_ids, held.asset_id) == (S.HELD, ("tech-ana",), "pump-7")
    assert held.held_until == NOW + timedelta(minutes=15)
    assert held.timezone == "Europe/Berlin"
    after = sch.find_slots(BEN, "hvac-check", start=at(2, 0), end=at(3, 0))
    nine = next(s for s in after if s.start == slots[1].start)
    assert nine.choices == (("tech-bo",),)
    booked = sch.confirm(BEN, held.id)
    assert booked.status is S.CONFIRMED
    assert booked.held_until is None
    seen = sch.appointment(BEN, held.id)
    assert [h.status for h in seen.history] == [S.HELD, S.CONFIRMED]
    assert [b.id for b in sch.appointments(BEN)] == [held.id]
    assert _events(portal, "acme")[-2:] == [
        AppointmentHeld.event_type,
        AppointmentStatusChanged.event_type,
    ]
    assert ("appointment.hold", "allowed") in _trail(portal)
    assert ("appointment.confirm", "allowed") in _trail(portal)
    ical = sch.ical(BEN, held.id)
    assert "DTSTART;TZID=Europe/Berlin:20260302T090000" in ical


def test_a_held_slot_is_taken_for_other_companies_too(portal: Portal) -> None:
    sch = portal.scheduling
    gus = Actor.user("globex", "gus")
    first = sch.hold(BEN, "hvac-check", at(2, 9), resource_ids=["tech-ana"])
    sch.hold(BEN, "hvac-check", at(2, 9), resource_ids=["tech-bo"])
    with pytest.raises(SlotUnavailableError) as info:
        sch.hold(gus, "hvac-check", at(2, 9))
    assert "booked" in info.value.reason_codes
    why = sch.explain(gus, "hvac-check", at(2, 9))
    assert why.reasons == (UnavailableReason.BOOKED,)
    assert first.id not in why.text()  # another company's appointment: its time only
    schedule = sch.resource_schedule("tech-ana", start=at(2, 0), end=at(3, 0))
    assert [(b.booking_id, b.company_id, b.start) for b in schedule] == [
        (first.id, "acme", at(2, 9))
    ]
    with pytest.raises(NotFoundError):
        sch.resource_schedule("tech-zed", start=at(2, 0), end=at(3, 0))
    # the 30-minute buffer after 09:00-10:00 blocks 10:00 too
    assert sch.explain(gus, "hvac-check", at(2, 10)).reasons == (UnavailableReason.BUFFER,)
    assert sch.explain(gus, "hvac-check", at(2, 10, 30)).bookable is False  # off grid
    assert sch.explain(gus, "hvac-check", at(2, 11)).bookable


def test_lapsed_holds_are_released_for_the_next_buyer(portal: Portal, clock: FixedClock) -> None:
    sch = portal.scheduling
    gus = Actor.user("globex", "gus")
    first = sch.hold(BEN, "hvac-check", at(2, 9), resource_ids=["tech-ana"])
    clock.advance(timedelta(minutes=16))
    with pytest.raises(HoldExpiredError):
        sch.confirm(BEN, first.id)
    second = sch.hold(gus, "hvac-check", at(2, 9), resource_ids=["tech-ana"])
    assert second.resource_ids == ("tech-ana",)
    assert sch.appointment(BEN, first.id).status is S.CANCELLED
    assert sch.appointment(BEN, first.id).history[-1].note == "hold lapsed"
    assert ("appointment.confirm", "failed") in _trail(portal)


def test_two_resources_and_provider_confirmation(portal: Portal) -> None:
    sch = portal.scheduling
    slots = sch.find_slots(BEN, "gas-repair", start=at(2, 0), end=at(3, 0), tz="Europe/Berlin")
    assert [s.local_start.strftime("%H:%M") for s in slots] == [
        "08:00",
        "09:00",
        "10:00",
        "13:00",
        "14:00",
        "15:00",
    ]
    assert slots[0].choices == (("tech-ana",), ("bay-1",))
    held = sch.hold(BEN, "gas-repair", slots[0].start)
    assert held.resource_ids == ("tech-ana", "bay-1")
    booked = sch.confirm(BEN, held.id)
    assert booked.status is S.BOOKED  # the provider confirms
    with pytest.raises(PermissionDeniedError):
        sch.advance(BEN, held.id, S.CONFIRMED)
    with pytest.raises(PermissionDeniedError):
        sch.advance(ADMIN, held.id, S.CONFIRMED)
    for status in (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED):
        assert sch.advance(DISPATCH, held.id, status).status is status
    with pytest.raises(InvalidTransitionError):
        sch.advance(DISPATCH, held.id, S.NO_SHOW)
    with pytest.raises(ValidationError):
        sch.advance(DISPATCH, held.id, "teleported")
    assert sch.appointment(BEN, held.id).history[-1].by == "disp-dora"
    # the bay is taken 08:00-10:00 for everyone
    later = sch.find_slots(BEN, "gas-repair", start=at(2, 0), end=at(3, 0), tz="Europe/Berlin")
    assert [s.local_start.strftime("%H:%M") for s in later][:1] == ["10:00"]


def test_reschedule_and_cancel_until_the_cutoff(portal: Portal, clock: FixedClock) -> None:
    sch = portal.scheduling
    booking = sch.confirm(BEN, sch.hold(BEN, "hvac-check", at(4, 9), resource_ids=["tech-ana"]).id)
    moved = sch.reschedule(BEN, booking.id, at(4, 14), resource_ids=["tech-ana"])
    assert (moved.start, moved.sequence, moved.status) == (at(4, 14), 1, S.CONFIRMED)
    # the old time is free again, the new one taken, in one step
    assert sch.explain(BEN, "hvac-check", at(4, 9), resource_ids=["tech-ana"]).bookable
    assert not sch.explain(BEN, "hvac-check", at(4, 14), resource_ids=["tech-ana"]).bookable
    # overlapping its own old time (and buffer) is fine
    moved = sch.reschedule(BEN, booking.id, at(4, 15), resource_ids=["tech-ana"])
    assert moved.start == at(4, 15)
    clock.set(at(3, 15, 5))  # less than 24 hours before
    with pytest.raises(CutoffPassedError) as info:
        sch.cancel(BEN, booking.id)
    assert info.value.deadline == at(3, 15)
    with pytest.raises(CutoffPassedError):
        sch.reschedule(BEN, booking.id, at(4, 16))
    cancelled = sch.advance(DISPATCH, booking.id, S.CANCELLED, note="customer called")
    assert cancelled.status is S.CANCELLED
    assert sch.explain(BEN, "hvac-check", at(4, 15), resource_ids=["tech-ana"]).bookable


def test_buyers_see_and_change_only_what_they_may(portal: Portal) -> None:
    sch = portal.scheduling
    gus = Actor.user("globex", "gus")
    mine = sch.hold(BEN, "hvac-check", at(2, 9))
    with pytest.raises(NotFoundError):
        sch.appointment(gus, mine.id)
    with pytest.raises(NotFoundError):
        sch.cancel(gus, mine.id)
    with pytest.raises(PermissionDeniedError):
        sch.hold(VIC, "hvac-check", at(2, 11))  # a viewer may not book
    assert [b.id for b in sch.appointments(VIC)] == []  # viewers see their own only
    assert [b.id for b in sch.appointments(ADMIN)] == [mine.id]  # company scope
    assert sch.appointments(gus).items == ()
    with pytest.raises(PermissionDeniedError):
        sch.find_slots(DISPATCH, "hvac-check", start=at(2, 0), end=at(3, 0))
    assert ("appointment.hold", "denied") in _trail(portal)


def test_assisted_agent_books_for_the_customer(portal: Portal) -> None:
    portal.accounts.register_agent(
        operator_id=OP, name="Sam", email="sam@seller.example", agent_id="agent-sam"
    )
    session = portal.accounts.start_assisted_session(
        agent_id="agent-sam", company_id="acme", customer_user_id="ben", reason="phone call",
        permissions=[Permission.APPOINTMENTS_BOOK, Permission.APPOINTMENTS_VIEW],
    )  # fmt: skip
    sam = Actor.assisted(session)
    booking = portal.scheduling.hold(sam, "hvac-check", at(2, 9))
    assert (booking.requester_id, booking.history[0].by) == ("ben", "agent-sam")
    assert portal.scheduling.confirm(BEN, booking.id).status is S.CONFIRMED


def test_bad_input_is_refused_and_nothing_is_written(portal: Portal) -> None:
    sch = portal.scheduling
    before = _events(portal, "acme")
    with pytest.raises(NotFoundError):
        sch.hold(BEN, "no-such-service", at(2, 9))
    with pytest.raises(ValidationError):
        sch.hold(BEN, "hvac-check", datetime(2026, 3, 2, 9))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValidationError):
        sch.hold(BEN, "hvac-check", at(2, 9), resource_ids=["bay-1"])  # wrong group
    with pytest.raises(NotFoundError):
        sch.hold(BEN, "hvac-check", at(2, 9), resource_ids=["tech-zed"])
    with pytest.raises(SlotUnavailableError):
        sch.hold(BEN, "hvac-check", at(2, 7))  # before hours and notice
    with pytest.raises(ValidationError):
        sch.find_slots(BEN, "hvac-check", start=at(3, 0), end=at(2, 0))
    with pytest.raises(ValidationError):
        sch.hold(BEN, "hvac-check", at(2, 9), notes=42)  # type: ignore[arg-type]
    assert _events(portal, "acme") == before
    assert sch.appointments(ADMIN).items == ()


def test_two_buyers_racing_for_one_slot_one_wins(portal: Portal) -> None:
    import threading

    outcomes: list[object] = []
    gus = Actor.user("globex", "gus")
    barrier = threading.Barrier(4)

    def work(actor: Actor) -> None:
        barrier.wait()
        try:
            outcomes.append(
                portal.scheduling.hold(actor, "hvac-check", at(2, 9), resource_ids=["tech-ana"])
            )
        except Exception as e:
            outcomes.append(e)

    threads = [threading.Thread(target=work, args=(a,)) for a in (BEN, gus, BEN, gus)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    won = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert all(
        isinstance(o, (SlotTakenError, SlotUnavailableError)) for o in outcomes if o not in won
    )
    _ = Outcome
