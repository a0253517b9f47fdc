"""Properties of slot search, its explanations and bookings.

* Across daylight saving switches in many zones (30-minute DST on Lord Howe, a
  half-hour offset with DST in St. John's, negative DST in Dublin, 45-minute offsets
  in Chatham and Kathmandu ...) :func:`find_slots` returns exactly the starts a
  brute-force oracle finds by walking every 5 minutes in UTC: none outside the local
  working hours, none duplicated, none lost.
* :func:`explain_unavailable` agrees with :func:`find_slots` on every start, with
  bookings, buffers, seats, limits, skills, bays, notice and horizon.
* Booking offered slots through a store never double-books a resource.
* Models round-trip through JSON; bad input to the portal raises a B2BCoreError
  and leaves nothing written.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError, ConflictError
from b2bcore.ids import BookingId, CompanyId, ResourceId, ServiceTypeId, UserId
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.scheduling import (
    Availability,
    Booking,
    Busy,
    Resource,
    ServiceType,
    explain_unavailable,
    find_slots,
)
from b2bcore.serialization import structure, unstructure
from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.strategies import availabilities, service_resources, service_types

ZONES = (
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/New_York",
    "Australia/Sydney",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Santiago",
    "UTC",
)
STEP = 300


def _switch_days(zone: str, year: int = 2026) -> list[date]:
    """The local dates in ``year`` on which the zone's UTC offset changes."""
    z = ZoneInfo(zone)
    out = []
    day = date(year, 1, 1)
    while day.year == year:
        a = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if a.astimezone(z).utcoffset() != (a + timedelta(days=1)).astimezone(z).utcoffset():
            out.append(day)
        day += timedelta(days=1)
    return out


SWITCHES = {z: _switch_days(z) for z in ZONES}


@st.composite
def dst_windows(draw: st.DrawFn) -> tuple[str, date]:
    """A zone and a day next to one of its 2026 offset changes (or any day)."""
    zone = draw(st.sampled_from(ZONES))
    days = SWITCHES[zone]
    near_a_switch = draw(st.integers(0, 4)) > 0
    if days and near_a_switch:
        return zone, draw(st.sampled_from(days)) + timedelta(days=draw(st.integers(-1, 0)))
    return zone, draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 28)))


def _local(zone: ZoneInfo, t: int, cache: dict[int, tuple[date, int]]) -> tuple[date, int]:
    found = cache.get(t)
    if found is None:
        local = datetime.fromtimestamp(t, UTC).astimezone(zone)
        found = cache[t] = (local.date(), local.hour * 60 + local.minute)
    return found


def _oracle(st_: ServiceType, resource: Resource, lo: int, hi: int) -> list[int]:
    """Every start a person would offer, found by walking UTC in 5-minute steps."""
    zone = ZoneInfo(resource.timezone)
    cache: dict[int, tuple[date, int]] = {}

    def worked(t: int) -> bool:
        day, minute = _local(zone, t, cache)
        return any(s <= minute < e for s, e in resource.availability.hours_on(day))

    out = []
    for t in range(lo + (-lo) % STEP, hi, STEP):
        day, minute = _local(zone, t, cache)
        on_grid = any(
            s <= minute < e and (minute - s) % st_.interval_minutes == 0
            for s, e in resource.availability.hours_on(day)
        )
        if on_grid and all(worked(u) for u in range(t, t + st_.duration_minutes * 60, STEP)):
            out.append(t)
    return out


@settings(max_examples=60)
@given(
    dst_windows(),
    st.sampled_from((5, 15, 30, 60, 90, 240)),
    st.sampled_from((0, 5, 15, 30, 45, 60)),
    st.data(),
)
def test_slots_match_the_brute_force_oracle_across_dst(
    where: tuple[str, date], duration: int, interval: int, data: st.DataObject
) -> None:
    zone, day = where
    hours = data.draw(availabilities(first=day - timedelta(days=2), last=day + timedelta(days=3)))
    resource = Resource(id="r", name="R", timezone=zone, availability=hours)
    service = ServiceType(
        id="s", name="S", duration_minutes=duration, interval_minutes=interval, horizon_days=30
    )
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=14)
    end = start + timedelta(days=2, hours=4)
    now = start - timedelta(days=1)
    slots = find_slots(service, (start, end), [resource], [], now, zone)
    got = [int(s.start.timestamp()) for s in slots]
    assert got == sorted(set(got)), "a slot is duplicated or out of order"
    expected = _oracle(service, resource, int(start.timestamp()), int(end.timestamp()))
    assert got == expected
    z = ZoneInfo(zone)
    for s in slots:
        assert s.end - s.start == timedelta(minutes=duration)
        # the same instant (compare timestamps: Python's == across zones is False for a
        # wall time in a repeated hour, PEP 495)
        assert s.local_start.timestamp() == s.start.timestamp()
        assert s.local_start.tzinfo is not None
        assert s.local_start.astimezone(z).date() in hours.hours_between(
            day - timedelta(days=2), day + timedelta(days=3)
        )


def _busy_from(
    slot_starts: list[datetime],
    st_: ServiceType,
    picks: list[tuple[int, int, str]],
    resources: list[Resource],
) -> list[Busy]:
    out = []
    for i, (index, shift, company) in enumerate(picks):
        if not slot_starts:
            break
        begin = slot_starts[index % len(slot_starts)] + timedelta(minutes=5 * shift)
        r = resources[i % len(resources)]
        end = begin + timedelta(minutes=st_.duration_minutes)
        out.append(
            Busy(
                booking_id=BookingId(f"b{i}"),
                company_id=CompanyId(company),
                resource_id=r.id,
                service_type_id=st_.id if i % 3 else ServiceTypeId("other"),
                start=begin,
                end=end,
                occupied_start=begin - timedelta(minutes=st_.buffer_before_minutes),
                occupied_end=end + timedelta(minutes=st_.buffer_after_minutes),
                capacity=st_.capacity,
                held_until=None if i % 4 else begin,  # some holds, some of them lapsed
            )
        )
    return out


@settings(max_examples=40)
@given(
    st.lists(
        service_resources(
            timezones=ZONES[:5],
            availability=availabilities(first=date(2026, 3, 20), last=date(2026, 4, 10)),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda r: r.id,
    ),
    service_types(ids=("svc",)),
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(-6, 6), st.sampled_from(("a", "b"))), max_size=8
    ),
    st.integers(-48, 48),
    st.data(),
)
def test_explain_agrees_with_find_slots(
    resources: list[Resource],
    service: ServiceType,
    picks: list[tuple[int, int, str]],
    now_shift: int,
    data: st.DataObject,
) -> None:
    start = datetime(2026, 3, 28, tzinfo=UTC)  # spans the European and US-later switches
    end = start + timedelta(days=2)
    now = start + timedelta(hours=now_shift)
    free = find_slots(service, (start, end), resources, [], start - timedelta(days=30))
    busy = _busy_from([s.start for s in free], service, picks, resources)
    slots = find_slots(service, (start, end), resources, busy, now, "Europe/Berlin")
    by_start = {s.start: s for s in slots}
    assert len(by_start) == len(slots)
    probes = [s.start for s in slots] + [s.start for s in free]
    probes += data.draw(
        st.lists(
            st.integers(0, 2 * 288 - 1).map(lambda n: start + timedelta(minutes=5 * n)), max_size=10
        )
    )
    for t in probes:
        why = explain_unavailable(service, t, resources, busy, now)
        slot = by_start.get(t)
        assert why.bookable == (slot is not None), why.text()
        if slot is not None:
            assert [why.free(req.group) for req in service.requirements] == list(slot.choices)
        else:
            assert why.reasons, why.text()


@settings(max_examples=25)
@given(
    st.lists(
        service_resources(
            ids=("tech-1", "tech-2"), groups=("technician",), skills=(), timezones=ZONES[:4]
        ),
        min_size=1,
        max_size=2,
        unique_by=lambda r: r.id,
    ),
    service_types(ids=("svc",), skills=(), also_bays=False),
    st.lists(st.integers(0, 10_000), min_size=1, max_size=12),
)
def test_booking_offered_slots_never_double_books(
    resources: list[Resource], service: ServiceType, choices: list[int]
) -> None:
    resources = list(resources)
    for r in resources:
        r.active = True
    store = MemoryStore()
    now = datetime(2026, 3, 27, tzinfo=UTC)
    window = (now, now + timedelta(days=4))
    made: list[Booking] = []
    for n, choice in enumerate(choices):
        with store.unit_of_work() as uow:
            busy = uow.bookings.busy(
                [r.id for r in resources],
                start=window[0] - timedelta(days=8),
                end=window[1] + timedelta(days=8),
            )
        slots = find_slots(service, window, resources, busy, now)
        if not slots:
            break
        slot = slots[choice % len(slots)]
        booking = Booking.hold(
            booking_id=f"b{n}", company_id="co", service_type=service,
            resource_ids=[slot.choices[0][choice % len(slot.choices[0])]], start=slot.start,
            requester_id="u", at=now, by="u",
        )  # fmt: skip
        booking.move(booking.status.CONFIRMED, at=now, by="u")
        with store.unit_of_work() as uow:
            uow.bookings.add(booking)  # an offered slot is always accepted by the store
            uow.commit()
        made.append(booking)
    for a, b in itertools.combinations(made, 2):
        if a.resource_ids[0] != b.resource_ids[0]:
            continue
        overlap = a.occupied_start < b.occupied_end and b.occupied_start < a.occupied_end
        if service.capacity == 1:
            assert not overlap, (a, b)
    # and any overlapping booking is refused by the store itself
    if made and service.capacity == 1:
        clash = Booking.hold(
            booking_id="clash", company_id="other", service_type=service,
            resource_ids=made[0].resource_ids, start=made[0].start, requester_id="u",
            at=now, by="u",
        )  # fmt: skip
        try:
            with store.unit_of_work() as uow:
                uow.bookings.add(clash)
                uow.commit()
        except ConflictError:
            pass
        else:
            raise AssertionError("the store accepted a double booking")


@given(service_types(), service_resources())
def test_models_round_trip_through_json(service: ServiceType, resource: Resource) -> None:
    assert structure(unstructure(service), ServiceType) == service
    assert structure(unstructure(resource), Resource) == resource
    assert structure(unstructure(resource.availability), Availability) == resource.availability


# -- bad input through the portal ---------------------------------------------------------

NOW = datetime(2026, 3, 2, 6, tzinfo=UTC)
BEN = Actor.user("acme", "ben")
junk: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=6),
    st.floats(allow_nan=True),
    st.lists(st.sampled_from(["tech-1", "bay-1", "", 3]), max_size=3),
    st.datetimes(  # naive on purpose
        min_value=datetime(2026, 3, 1),  # noqa: DTZ001
        max_value=datetime(2026, 3, 9),  # noqa: DTZ001
    ),
    st.binary(max_size=3),
)


def _portal() -> Portal:
    p = Portal(MemoryStore(), clock=FixedClock(NOW))
    p.accounts.create_company(
        Actor.operator_for("acme", "op"), name="ACME", admin_email="a@acme.example",
        admin_user_id="admin",
    )  # fmt: skip
    p.accounts.invite_user(
        Actor.user("acme", "admin"), user_id="ben", email="ben@acme.example", name="Ben",
        business_unit_ids=["hq"], roles=["buyer"],
    )  # fmt: skip
    p.scheduling.save_resource(
        operator_id="op",
        resource=Resource(id="tech-1", name="T", availability=Availability.weekly(
            "MO-FR", [("07:00", "17:00")])),
    )  # fmt: skip
    p.scheduling.save_service_type(
        operator_id="op", service_type=ServiceType(id="svc", name="S", duration_minutes=60)
    )
    return p


PORTAL = _portal()
GOOD = {
    "service_type_id": "svc",
    "start": datetime(2026, 3, 3, 9, tzinfo=UTC),
    "resource_ids": None,
    "business_unit_id": None,
    "asset_id": None,
    "claim_id": None,
    "notes": "",
    "tz": None,
}


def _state(p: Portal) -> tuple[int, int, int]:
    with p.store.unit_of_work() as uow:
        bookings = len(
            list(iterate(lambda c: uow.bookings.list(company_id=CompanyId("acme"), cursor=c)))
        )
        events = len(
            list(iterate(lambda c: uow.outbox.list(company_id=CompanyId("acme"), cursor=c)))
        )
        audit = len(list(iterate(lambda c: uow.audit.list(company_id=CompanyId("acme"), cursor=c))))
    return bookings, events, audit


@settings(max_examples=80)
@given(st.sampled_from(sorted(GOOD)), junk)
def test_bad_input_to_hold_raises_and_writes_nothing(name: str, value: Any) -> None:
    args = dict(GOOD, **{name: value})
    assume(
        not (
            name in ("resource_ids", "business_unit_id", "asset_id", "claim_id", "tz", "notes")
            and value in (None, "", [])
        )
    )
    bookings, events, audit = _state(PORTAL)
    try:
        made = PORTAL.scheduling.hold(BEN, args.pop("service_type_id"), args.pop("start"), **args)
    except B2BCoreError:
        after = _state(PORTAL)
        assert after[:2] == (bookings, events)
        assert after[2] - audit <= 1  # at most the 'failed' line
        return
    # junk that happens to be valid (a text note, a valid asset id): undo the hold
    PORTAL.scheduling.cancel(BEN, made.id)
    assert made.status.value == "held"
    _ = (ResourceId, UserId)
