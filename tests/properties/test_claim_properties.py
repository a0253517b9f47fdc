"""Properties of claims, assets and documents.

* Quantity accounting: whatever customers and agents do, every claim line is
  ``accepted + rejected + open``, the claims never hold more of an order line than
  was delivered, and each order's tally holds exactly what its claims hold.
* No transition outside the definition: a claim of any claim type only ever moves
  along its type's lifecycle, by a party the step allows, within its window; a
  refused move (or decision, or resolution) leaves the claim as it was.
* The SLA clock pauses exactly while paused: its elapsed business time is the
  business time of the running periods, constant while information is requested.
* Bad input to the claims, assets and documents use-cases: a B2BCoreError and
  nothing half-written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.assets import Asset
from b2bcore.calendar import BusinessCalendar
from b2bcore.claims import (
    PAUSED_STATUSES,
    RUNNING_STATUSES,
    Attachment,
    Claim,
    ClaimLine,
    ClaimStatus,
    ClaimType,
    LineSource,
    Party,
    Resolution,
    ResolutionKind,
    ResolutionLine,
    sla_status,
    standard_claim_types,
)
from b2bcore.clock import FixedClock
from b2bcore.documents import Document, DocumentKind, DocumentLink, MemoryBlobStore
from b2bcore.errors import B2BCoreError, NotFoundError
from b2bcore.ids import CompanyId, OrderId
from b2bcore.money import Money
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.serialization import dumps, loads
from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.strategies import assets, business_calendars, claim_types, documents
from tests.unit.claims.conftest import AGENT, BEN, CLARA, NOW, PNG, World, build_world

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
STANDARD: dict[str, ClaimType] = {t.id: t for t in standard_claim_types()}
S = ClaimStatus


def _fresh() -> World:
    clock = FixedClock(NOW - timedelta(days=7))
    portal = Portal(MemoryStore(), clock=clock, blobs=MemoryBlobStore())
    return build_world(portal, clock)


# -- quantity accounting (through the service) ------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.sampled_from((1, 2)), st.integers(1, 5)),  # line, qty
        st.tuples(
            st.sampled_from(("submit", "cancel", "review", "approve", "reject", "reopen")),
            st.integers(0, 4),
            st.just(0),
        ),
        st.tuples(st.just("decide"), st.integers(0, 4), st.integers(0, 5)),
    ),
    max_size=14,
)


def _check_accounting(w: World) -> None:
    with w.portal.store.unit_of_work() as uow:
        claims = list(iterate(lambda c: uow.claims.list(company_id=CompanyId("acme"), cursor=c)))
        shipments = uow.shipments.for_order(w.order.id, company_id=w.order.company_id)
        try:
            tally = uow.claim_tallies.get(w.order.id, company_id=w.order.company_id)
        except NotFoundError:
            tally = None
    delivered = {1: Decimal(0), 2: Decimal(0)}
    for shipment in shipments:
        if shipment.delivered_at is not None:
            for carried in shipment.lines:
                delivered[carried.line_no] += carried.quantity
    for claim in claims:
        for line in claim.lines:
            assert line.quantity == line.accepted + line.rejected + line.open
            assert min(line.accepted, line.rejected, line.open) >= 0
    for line_no, limit in delivered.items():
        held = sum(
            (
                q
                for c in claims
                for (oid, n), q in c.held().items()
                if oid == w.order.id and n == line_no
            ),
            Decimal(0),
        )
        assert held <= limit
        assert (tally.held(line_no) if tally is not None else Decimal(0)) == held


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops)
def test_claims_never_hold_more_than_was_delivered(script: list[tuple[str, int, int]]) -> None:
    w, claims = _fresh(), []
    service = w.portal.claims
    for op, a, b in script:
        try:
            if op == "open":
                claim = service.open_claim(BEN, type_id="missing_items", title="m", description="d")
                service.add_order_line(BEN, claim.id, order_id=w.order.id, line_no=a, quantity=b)
                claims.append(claim.id)
                continue
            if not claims:
                continue
            cid = claims[a % len(claims)]
            if op == "submit":
                service.submit(BEN, cid)
            elif op == "cancel":
                service.cancel(BEN, cid)
            elif op == "review":
                service.start_review(AGENT, cid)
            elif op == "approve":
                service.approve(AGENT, cid)
            elif op == "reject":
                service.reject(AGENT, cid, reason="no")
            elif op == "reopen":
                service.reopen(BEN, cid, reason="again")
            else:
                service.decide_line(AGENT, cid, 1, accepted=b // 2, rejected=b - b // 2)
        except B2BCoreError:
            pass
        _check_accounting(w)


# -- no transition outside the definition (the model) ---------------------------------------

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("move"),
            st.sampled_from(tuple(ClaimStatus)),
            st.sampled_from(tuple(Party)),
            st.integers(0, 24 * 40),
        ),
        st.tuples(st.just("decide"), st.integers(0, 3), st.integers(0, 3), st.just(0)),
        st.tuples(
            st.just("resolve"),
            st.sampled_from(tuple(ResolutionKind)),
            st.integers(1, 3),
            st.just(0),
        ),
    ),
    max_size=30,
)


def _ready_claim(kind: ClaimType) -> Claim:
    claim = Claim.open(claim_id="c-1", company_id="acme", claim_type=kind, requester_id="ben",
                       by="ben", at=AT, title="t", description="d")  # fmt: skip
    if LineSource.ORDER_LINE in kind.line_sources:
        claim.add_line(ClaimLine(line_no=1, sku="SEAL-7", quantity=Decimal(3), order_id="o-1",
                                 order_line_no=1, serial_number="SN-1"))  # fmt: skip
    elif kind.line_sources:
        claim.add_line(ClaimLine(line_no=1, sku="PX-9", quantity=Decimal(3), asset_id="a-1"))
    claim.attach(Attachment(document_id="d-1", name="p.png", media_type="image/png", added_at=AT,
                            added_by="ben"))  # fmt: skip
    assert claim.missing_evidence() == []
    return claim


def _resolution(kind: ResolutionKind, quantity: int, at: datetime, n: int) -> Resolution:
    lines = [ResolutionLine(1, Decimal(quantity))]
    needs: dict[ResolutionKind, dict[str, Any]] = {
        ResolutionKind.CREDIT_NOTE: {"amount": Money("1.00", "EUR"), "invoice_id": "i-1",
                                     "credit_note_id": f"cn-{n}"},
        ResolutionKind.REPLACEMENT: {"order_id": f"o-r{n}"},
        ResolutionKind.REPAIR: {"booking_id": f"b-{n}"},
        ResolutionKind.RETURN: {"rma_number": f"RMA-{n}"},
    }  # fmt: skip
    return Resolution(id=f"r-{n}", kind=kind, at=at, by="sam", lines=lines, **needs[kind])


def _state(claim: Claim) -> tuple[Any, ...]:
    return (claim.status, claim.history, claim.lines, claim.resolutions, claim.first_response_at)


@settings(max_examples=150)
@given(
    kind=st.one_of(claim_types(), st.sampled_from(list(STANDARD.values()))),
    script=actions,
)
def test_a_claim_never_moves_outside_its_types_lifecycle(
    kind: ClaimType, script: list[tuple[Any, ...]]
) -> None:
    claim = _ready_claim(kind)
    at = AT
    for n, (action, a, b, hours) in enumerate(script):
        at += timedelta(hours=hours)
        before = _state(claim)
        try:
            if action == "move":
                claim.transition(a, party=b, by="x", at=at)
            elif action == "decide":
                claim.decide(1, accepted=a, rejected=b, by="sam", at=at)
            else:
                claim.add_resolution(_resolution(a, b, at, n))
        except B2BCoreError:
            assert _state(claim) == before  # refused: nothing half-written
    previous = None
    for change in claim.history:
        assert change.from_status == previous
        if previous is not None:
            step = kind.step(previous, change.to_status)
            assert step is not None
            assert change.party in step.parties
            if step.within_days is not None:
                entered = max(
                    h.at for h in claim.history if h.to_status is previous and h.at <= change.at
                )
                assert change.at <= entered + timedelta(days=step.within_days)
        previous = change.to_status
    assert claim.status is previous
    for line in claim.lines:
        assert line.quantity == line.accepted + line.rejected + line.open


# -- the SLA clock pauses exactly while paused --------------------------------------------------

walks = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 3 * 24 * 60)), max_size=12)


def _walk(script: list[tuple[int, int]]) -> Claim:
    """A general inquiry moved along its lifecycle at random (any allowed move)."""
    claim = Claim.open(claim_id="c-1", company_id="acme", claim_type=STANDARD["general_inquiry"],
                       requester_id="ben", by="ben", at=AT, title="t", description="d")  # fmt: skip
    at = AT
    claim.transition(S.SUBMITTED, party=Party.CUSTOMER, by="ben", at=at)
    for pick, minutes in script:
        at += timedelta(minutes=minutes)
        moves = [m for m in claim.allowed_moves(Party.AGENT) + claim.allowed_moves(Party.CUSTOMER)
                 if m is not S.CANCELLED]  # fmt: skip
        if not moves:
            break
        to = moves[pick % len(moves)]
        party = Party.AGENT if to in claim.allowed_moves(Party.AGENT) else Party.CUSTOMER
        try:
            claim.transition(to, party=party, by="x", at=at)
        except B2BCoreError:  # a reopen window closed: stay
            continue
    return claim


def _oracle(claim: Claim, calendar: BusinessCalendar, until: datetime) -> timedelta:
    total = timedelta(0)
    history = claim.history
    for i, change in enumerate(history):
        end = history[i + 1].at if i + 1 < len(history) else until
        end = min(end, until)
        if change.to_status in RUNNING_STATUSES and change.at < end:
            total += calendar.business_time_between(change.at, end)
    return total


@settings(max_examples=60, deadline=None)
@given(calendar=business_calendars(timezones=["UTC", "Europe/Berlin"]), script=walks,
       probes=st.lists(st.integers(0, 40 * 24 * 60), min_size=1, max_size=4))  # fmt: skip
def test_the_sla_clock_runs_exactly_outside_pauses(
    calendar: BusinessCalendar, script: list[tuple[int, int]], probes: list[int]
) -> None:
    claim = _walk(script)
    for minutes in probes:
        at = AT + timedelta(minutes=minutes)
        status = sla_status(claim, calendar, at)
        assert status.resolution is not None
        assert status.resolution.elapsed == _oracle(claim, calendar, at)
        end = at + timedelta(hours=7)
        later = sla_status(claim, calendar, end)
        assert later.resolution is not None
        current = _status_at(claim, at)
        if any(at < change.at <= end for change in claim.history):
            continue  # the status changes inside the window
        grown = later.resolution.elapsed - status.resolution.elapsed
        if current in PAUSED_STATUSES:
            event("paused throughout")
            assert grown == timedelta(0)
            assert status.paused
            assert status.eta is None
        elif current in RUNNING_STATUSES:
            event("running throughout")
            assert grown == calendar.business_time_between(at, end)
            assert not status.paused
        else:
            assert grown == timedelta(0)


def _status_at(claim: Claim, at: datetime) -> ClaimStatus:
    current = S.DRAFT
    for change in claim.history:
        if change.at <= at:
            current = change.to_status
    return current


# -- round trips -----------------------------------------------------------------------------------


@given(kind=claim_types(), asset=assets(), document=documents())
def test_claim_types_assets_and_documents_round_trip(
    kind: ClaimType, asset: Asset, document: Document
) -> None:
    assert loads(dumps(kind), ClaimType) == kind
    assert loads(dumps(asset), Asset) == asset
    assert loads(dumps(document), Document) == document


# -- bad input: a B2BCoreError, and nothing half-written -----------------------------------------

junk: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["", " ", "../../etc/passwd", "nope", "o-1", "SEAL-7", "bad id!"]),
    st.none(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.binary(max_size=4),
    st.lists(st.integers(0, 2), max_size=2),
)


def field(*good: object) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes junk."""
    return st.integers(0, 3).flatmap(lambda n: junk if n == 0 else st.sampled_from(good))


calls = st.lists(
    st.one_of(
        st.tuples(st.just("open_claim"), st.fixed_dictionaries({
            "type_id": field("transport_damage", "warranty", "lost"),
            "title": field("Crushed", ""), "description": field("d", "x" * 6000),
            "business_unit_id": field(None, "line", "office", "mars")})),
        st.tuples(st.just("add_order_line"), st.fixed_dictionaries({
            "line_no": field(1, 2, 3, None), "quantity": field(1, "2", Decimal("0.5"), 0, -1, 99),
            "sku": field(None, "SEAL-7")})),
        st.tuples(st.just("attach"),
                  st.fixed_dictionaries({"document_id": field("photo", "nope")})),
        st.tuples(st.just("submit"), st.just({})),
        st.tuples(st.just("post_message"), st.fixed_dictionaries({
            "body": field("Hello", "", " "), "attachments": field([], ["photo"], ["nope"])})),
        st.tuples(st.just("register"), st.fixed_dictionaries({
            "serial_number": field("SN-1", "sn-1", " ", "a\\tb"), "sku": field("PX-9", "NOPE"),
            "business_unit_id": field(None, "line", "mars"), "order_id": field(None, "order")})),
        st.tuples(st.just("upload"), st.fixed_dictionaries({
            "title": field("Photo", ""), "content": field(PNG, b"%PDF-1", b"MZ"),
            "media_type": field("image/png", "application/x-msdownload", "png"),
            "filename": field("p.png", "../p.png", "/etc/passwd"),
            "links": field([], [DocumentLink.claim("nope")], [DocumentLink.product("PX-9")])})),
    ),
    max_size=8,
)  # fmt: skip


def _snapshot(w: World) -> dict[str, Any]:
    with w.portal.store.unit_of_work() as uow:
        acme = CompanyId("acme")
        claims = list(iterate(lambda c: uow.claims.list(company_id=acme, cursor=c)))
        return {
            "claims": [(c.id, c.version) for c in claims],
            "messages": [
                len(uow.claim_messages.list(c.id, company_id=acme, limit=500).items) for c in claims
            ],
            "assets": [(a.id, a.version) for a in uow.assets.list(company_id=acme, limit=500)],
            "documents": [
                (d.id, d.version) for d in uow.documents.list(company_id=acme, limit=500)
            ],
            "tally": _tally_version(uow, w.order.id),
            "outbox": len(uow.outbox.list(company_id=acme, limit=1000).items),
        }


def _tally_version(uow: Any, order_id: OrderId) -> int:
    try:
        return int(uow.claim_tallies.get(order_id, company_id=CompanyId("acme")).version)
    except NotFoundError:
        return 0


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(script=calls)
def test_bad_input_fails_cleanly(script: list[tuple[str, dict[str, Any]]]) -> None:
    w = _fresh()
    portal = w.portal
    claim = portal.claims.open_claim(BEN, type_id="transport_damage", title="t", description="d")
    photo = w.photo()
    actor: Actor = BEN
    for name, raw in script:
        kwargs = {k: (photo if v == "photo" else v) for k, v in raw.items()}
        if kwargs.get("attachments") == ["photo"]:
            kwargs["attachments"] = [photo]
        if kwargs.get("order_id") == "order":
            kwargs["order_id"] = w.order.id
        before = _snapshot(w)
        try:
            _call(portal, actor, (claim.id, w.order.id), name, kwargs)
        except B2BCoreError:
            assert _snapshot(w) == before
        actor = CLARA if actor is BEN else BEN


def _call(portal: Portal, actor: Actor, ids: tuple[str, str], name: str, kwargs: Any) -> object:
    claim_id, order_id = ids
    calls: dict[str, Any] = {
        "open_claim": lambda: portal.claims.open_claim(actor, **kwargs),
        "add_order_line": lambda: portal.claims.add_order_line(
            actor, claim_id, order_id=order_id, **kwargs
        ),
        "attach": lambda: portal.claims.attach(actor, claim_id, **kwargs),
        "submit": lambda: portal.claims.submit(actor, claim_id),
        "post_message": lambda: portal.claims.post_message(actor, claim_id, **kwargs),
        "register": lambda: portal.assets.register(actor, **kwargs),
        "upload": lambda: portal.documents.upload(actor, kind=DocumentKind.PHOTO, **kwargs),
    }
    return calls[name]()
