"""The claims service on every store: filing, the lifecycle by party, quantities,
resolutions across contexts, the conversation, SLAs, authorization and audit."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.assets import Warranty
from b2bcore.audit import Outcome
from b2bcore.claims import (
    Claim,
    ClaimStatus,
    CreditExceedsInvoicedError,
    MissingEvidenceError,
    OverClaimError,
    Priority,
    ReopenWindowClosedError,
    ResolutionKind,
    Visibility,
    WarrantyBasis,
)
from b2bcore.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.money import Money
from b2bcore.paging import iterate
from b2bcore.scheduling import Booking, ServiceType

from .conftest import AGENT, ANA, BEN, CLARA, DORA, GIA, NOW, PNG, World, eur

D = Decimal


def _damage(w: World, quantity: int = 2, *, sku: str = "SEAL-7", actor: Actor = BEN) -> Claim:
    """A submitted transport damage claim on Ben's order."""
    claims = w.portal.claims
    claim = claims.open_claim(actor, type_id="transport_damage", title="Crushed box",
                              description="The box arrived crushed.")  # fmt: skip
    claims.add_order_line(actor, claim.id, order_id=w.order.id, sku=sku, quantity=quantity)
    claims.attach(actor, claim.id, w.photo(actor, content=PNG + claim.id.encode()))
    return claims.submit(actor, claim.id)


def _approved(w: World, quantity: int = 2, *, sku: str = "SEAL-7") -> Claim:
    claim = _damage(w, quantity, sku=sku)
    w.portal.claims.start_review(AGENT, claim.id)
    return w.portal.claims.approve(AGENT, claim.id)


def _tally(w: World, line_no: int = 2) -> Decimal:
    with w.portal.store.unit_of_work() as uow:
        try:
            return uow.claim_tallies.get(w.order.id, company_id=w.order.company_id).held(line_no)
        except NotFoundError:
            return D(0)


# -- the warranty story --------------------------------------------------------------------------


def test_a_warranty_claim_on_an_asset_from_photo_to_repair(world: World) -> None:
    w, claims = world, world.portal.claims
    asset = w.portal.assets.register(BEN, serial_number="PX9-0042", sku="PX-9",
                                     installed_on=date(2026, 5, 20))  # fmt: skip
    w.portal.assets.verify(AGENT, asset.id, warranty=Warranty(until=date(2028, 5, 20)))
    claim = claims.open_claim(BEN, type_id="warranty", title="PX-9 rattles",
                              description="Loud rattling.", priority=Priority.HIGH)  # fmt: skip
    assert (claim.status, claim.business_unit_id) == (ClaimStatus.DRAFT, "line")
    claims.add_asset_line(BEN, claim.id, asset_id=asset.id)
    claims.attach(BEN, claim.id, w.photo(claim_id=claim.id))
    claim = claims.submit(BEN, claim.id)
    warranty = claim.lines[0].warranty
    assert warranty is not None
    assert (warranty.covered, warranty.basis) == (True, WarrantyBasis.ASSET_WARRANTY)

    w.clock.advance(timedelta(hours=1))
    claims.start_review(AGENT, claim.id)
    claims.request_info(AGENT, claim.id, "How loud is it?")
    assert claims.sla(BEN, claim.id).paused
    w.clock.advance(timedelta(days=2))
    answer = w.photo(content=PNG + b"noise")
    claim = claims.provide_info(BEN, claim.id, "About 90 dB.", attachments=[answer])
    assert claim.status is ClaimStatus.IN_REVIEW
    assert answer in {a.document_id for a in claim.attachments}
    sla = claims.sla(BEN, claim.id)
    assert sla.resolution is not None
    assert sla.resolution.elapsed == timedelta(hours=1)
    claims.approve(AGENT, claim.id)

    booking = _repair_booking(w, claim.id, asset.id)
    claim = claims.schedule_repair(AGENT, claim.id, booking.id)
    repair = claim.resolutions[-1]
    assert (repair.kind, repair.booking_id) == (ResolutionKind.REPAIR, booking.id)
    assert [(x.line_no, x.quantity) for x in repair.lines] == [(1, D(1))]
    assert claim.status is ClaimStatus.RESOLUTION_IN_PROGRESS
    claim = claims.resolve(AGENT, claim.id, note="bearing replaced")
    assert claims.sla(BEN, claim.id).eta == w.clock.now()
    history = w.portal.assets.history(BEN, asset.id)
    assert [c.id for c in history.claims] == [claim.id]
    assert [b.id for b in history.appointments] == [booking.id]
    public = [m.body for m in claims.messages(BEN, claim.id).items]
    assert public == ["How loud is it?", "About 90 dB."]


def _repair_booking(w: World, claim_id: str, asset_id: str | None = None) -> Booking:
    service = ServiceType(id="repair", name="Repair", duration_minutes=60)
    booking = Booking.hold(booking_id=f"b-{claim_id}", company_id="acme", service_type=service,
                           resource_ids=["tech-1"], start=NOW + timedelta(days=10),
                           requester_id="ben", at=w.clock.now(), by="ben", asset_id=asset_id,
                           claim_id=claim_id)  # fmt: skip
    with w.portal.store.unit_of_work() as uow:
        uow.bookings.add(booking)
        uow.commit()
    return booking


def test_repairs_link_only_appointments_made_for_the_claim(world: World) -> None:
    claim = _approved(world)
    other = _repair_booking(world, "another-claim")
    with pytest.raises(ValidationError, match="is not for claim"):
        world.portal.claims.schedule_repair(AGENT, claim.id, other.id)


# -- quantities ------------------------------------------------------------------------------------


def test_claimed_quantities_never_exceed_what_was_delivered(world: World) -> None:
    w, claims = world, world.portal.claims
    with pytest.raises(OverClaimError) as raised:  # 6 of 10 seals delivered
        _damage(w, 7)
    assert raised.value.available == D(6)
    first = _damage(w, 4)
    assert _tally(w) == D(4)
    draft = claims.open_claim(BEN, type_id="missing_items", title="Missing", description="Two.")
    claims.add_order_line(BEN, draft.id, order_id=w.order.id, sku="SEAL-7", quantity=2)
    rival = claims.open_claim(CLARA, type_id="missing_items", title="Also", description="Two.")
    with pytest.raises(NotFoundError):  # Clara cannot see Ben's order
        claims.add_order_line(CLARA, rival.id, order_id=w.order.id, line_no=2, quantity=2)
    claims.submit(BEN, draft.id)
    assert _tally(w) == D(6)
    claims.cancel(BEN, first.id, reason="found them")
    assert _tally(w) == D(2)


def test_a_draft_checked_early_can_still_lose_at_submission(world: World) -> None:
    w, claims = world, world.portal.claims
    drafts = []
    for _ in range(2):
        draft = claims.open_claim(BEN, type_id="missing_items", title="M", description="d")
        claims.add_order_line(BEN, draft.id, order_id=w.order.id, sku="SEAL-7", quantity=4)
        drafts.append(draft)
    claims.submit(BEN, drafts[0].id)
    with pytest.raises(OverClaimError):
        claims.submit(BEN, drafts[1].id)
    assert claims.get(BEN, drafts[1].id).status is ClaimStatus.DRAFT
    assert _tally(w) == D(4)


def test_concurrent_submissions_never_hold_more_than_delivered(world: World) -> None:
    w, claims = world, world.portal.claims
    drafts = []
    for _ in range(4):
        draft = claims.open_claim(BEN, type_id="missing_items", title="M", description="d")
        claims.add_order_line(BEN, draft.id, order_id=w.order.id, sku="SEAL-7", quantity=2)
        drafts.append(draft)
    outcomes: list[Exception | None] = [None] * len(drafts)
    start = threading.Barrier(len(drafts))

    def submit(i: int) -> None:
        start.wait()
        try:
            claims.submit(BEN, drafts[i].id)
        except Exception as e:
            outcomes[i] = e

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(drafts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o is None for o in outcomes) == 3
    assert all(isinstance(o, OverClaimError) for o in outcomes if o is not None), outcomes
    assert _tally(w) == D(6)


def test_rejected_quantities_are_released(world: World) -> None:
    claim = _damage(world, 6)
    world.portal.claims.start_review(AGENT, claim.id)
    world.portal.claims.reject(AGENT, claim.id, reason="no visible damage")
    assert _tally(world) == D(0)
    _damage(world, 6)


# -- the lifecycle by party -----------------------------------------------------------------------


def test_each_party_makes_only_its_own_moves(world: World) -> None:
    claims = world.portal.claims
    claim = _damage(world)
    with pytest.raises(PermissionDeniedError) as raised:
        claims.start_review(BEN, claim.id)
    assert raised.value.decision_code == "party_not_allowed"
    with pytest.raises(PermissionDeniedError) as agent:
        claims.cancel(AGENT, claim.id)
    assert agent.value.decision_code == "party_not_allowed"
    with pytest.raises(PermissionDeniedError, match="seller"):
        claims.decide_line(BEN, claim.id, 1, accepted=1, rejected=0)
    with pytest.raises(InvalidTransitionError):
        claims.approve(AGENT, claim.id)
    denied = [e for e in _trail(world) if e.outcome is Outcome.DENIED]
    assert [e.action for e in denied] == ["claim.review", "claim.cancel", "claim.decide_line"]
    assert claims.get(BEN, claim.id).status is ClaimStatus.SUBMITTED


def _trail(w: World) -> list:  # type: ignore[type-arg]
    return list(iterate(lambda c: w.portal.accounts.audit_trail(ANA, cursor=c)))


def test_submission_needs_the_types_evidence(world: World) -> None:
    claims = world.portal.claims
    claim = claims.open_claim(BEN, type_id="transport_damage", title="t", description="")
    claims.add_order_line(BEN, claim.id, order_id=world.order.id, line_no=1, quantity=1)
    with pytest.raises(MissingEvidenceError) as raised:
        claims.submit(BEN, claim.id)
    assert raised.value.missing == ("a photo", "a description")
    failed = [e for e in _trail(world) if e.action == "claim.submit"]
    assert [e.outcome for e in failed] == [Outcome.FAILED]


def test_decisions_partial_approval_and_rejection(world: World) -> None:
    claims = world.portal.claims
    claim = _damage(world, 4)
    claims.start_review(AGENT, claim.id)
    claim = claims.decide_line(AGENT, claim.id, 1, accepted=1, rejected=1)
    assert (claim.lines[0].open, _tally(world)) == (D(2), D(3))
    claim = claims.approve(AGENT, claim.id, accept={1: 3})
    line = claim.lines[0]
    assert (line.accepted, line.rejected, line.open) == (D(3), D(1), D(0))
    assert _tally(world) == D(3)
    with pytest.raises(ValidationError):
        claims.approve(AGENT, claim.id, accept={1: 1.5})  # type: ignore[dict-item]


def test_reopening_within_the_window_and_closing(world: World) -> None:
    claims = world.portal.claims
    claim = _damage(world)
    claims.start_review(AGENT, claim.id)
    claims.reject(AGENT, claim.id, reason="not damaged")
    world.clock.advance(timedelta(days=3))
    claim = claims.reopen(BEN, claim.id, reason="see the new photos")
    assert claim.status is ClaimStatus.IN_REVIEW
    claims.reject(AGENT, claim.id, reason="still not damaged")
    world.clock.advance(timedelta(days=15))
    with pytest.raises(ReopenWindowClosedError):
        claims.reopen(BEN, claim.id, reason="please")
    assert claims.close(BEN, claim.id).status is ClaimStatus.CLOSED
    with pytest.raises(ValidationError):
        claims.reject(AGENT, claim.id, reason=" ")


def test_a_general_inquiry_is_answered_without_lines(world: World) -> None:
    claims = world.portal.claims
    claim = claims.open_claim(BEN, type_id="general_inquiry", title="Manual?",
                              description="Where is the PX-9 manual?")  # fmt: skip
    claims.submit(BEN, claim.id)
    claims.start_review(AGENT, claim.id)
    claims.post_message(AGENT, claim.id, "In the documents of your asset.")
    claim = claims.resolve(AGENT, claim.id)
    assert claim.status is ClaimStatus.RESOLVED
    with pytest.raises(ValidationError, match="refer to nothing"):
        draft = claims.open_claim(BEN, type_id="general_inquiry", title="t", description="d")
        claims.add_order_line(BEN, draft.id, order_id=world.order.id, line_no=1, quantity=1)


# -- resolutions across contexts -------------------------------------------------------------------


def test_a_credit_note_lands_on_the_invoice(world: World) -> None:
    claims = world.portal.claims
    claim = claims.credit(AGENT, _approved(world, 3).id, note="goodwill")
    credit = claim.resolutions[-1]
    assert (credit.kind, credit.amount, credit.invoice_id) == (
        ResolutionKind.CREDIT_NOTE, eur("55.20"), world.invoice_id,
    )  # fmt: skip
    invoice = world.portal.orders.get_invoice(BEN, world.invoice_id)
    assert invoice.credited_total == eur("55.20")
    assert invoice.credit_notes[-1].id == credit.credit_note_id
    assert invoice.credit_notes[-1].reference == claim.id
    with pytest.raises(ConflictError, match="covered already"):
        claims.credit(AGENT, claim.id)


def test_credits_above_the_invoiced_amount_change_nothing(world: World) -> None:
    claims = world.portal.claims
    claim = _approved(world, 1)
    before = world.portal.orders.get_invoice(BEN, world.invoice_id)
    with pytest.raises(CreditExceedsInvoicedError):
        claims.credit(AGENT, claim.id, amount=eur("18.41"))
    with pytest.raises(ValidationError):
        claims.credit(AGENT, claim.id, amount=Money("1.00", "USD"))
    after = world.portal.orders.get_invoice(BEN, world.invoice_id)
    assert (after.credit_notes, after.version) == (before.credit_notes, before.version)
    assert claims.get(BEN, claim.id).resolutions == ()
    assert claims.credit(AGENT, claim.id, amount=eur("10.00")).resolutions[-1].amount == eur(
        "10.00"
    )


def test_a_free_replacement_order_and_a_return(world: World) -> None:
    claims = world.portal.claims
    claim = _approved(world, 1, sku="PUMP-1")
    claim = claims.authorize_return(AGENT, claim.id)
    claim = claims.replace(AGENT, claim.id)
    ret, replacement = claim.resolutions
    assert ret.rma_number == f"RMA-{claim.id}-1"
    assert replacement.order_id is not None
    order = world.portal.orders.get_order(BEN, replacement.order_id)
    assert order.total == Money.zero("EUR")
    assert [(x.sku, x.quantity) for x in order.lines] == [("PUMP-1", D(1))]
    assert claim.id in order.reference
    with pytest.raises(ConflictError):
        claims.replace(AGENT, claim.id)
    assert claims.resolve(AGENT, claim.id).status is ClaimStatus.RESOLVED


def test_resolutions_not_allowed_by_the_type_are_refused(world: World) -> None:
    claim = _approved(world)
    booking = _repair_booking(world, claim.id)
    with pytest.raises(ValidationError, match="not repair"):
        world.portal.claims.schedule_repair(AGENT, claim.id, booking.id)


# -- the conversation ------------------------------------------------------------------------------


def test_internal_notes_are_the_agents_and_the_first_response_counts(world: World) -> None:
    claims = world.portal.claims
    claim = _damage(world)
    world.clock.advance(timedelta(minutes=30))
    claims.post_message(AGENT, claim.id, "Batch 7 had issues", visibility=Visibility.INTERNAL)
    assert claims.get(AGENT, claim.id).first_response_at is None
    claims.post_message(AGENT, claim.id, "We are looking into it.")
    assert claims.get(BEN, claim.id).first_response_at == world.clock.now()
    with pytest.raises(ValidationError, match="internal"):
        claims.post_message(BEN, claim.id, "secret", visibility=Visibility.INTERNAL)
    claims.post_message(BEN, claim.id, "Thanks!")
    page = claims.messages(BEN, claim.id, limit=1)
    seen = [m.body for m in iterate(lambda c: claims.messages(BEN, claim.id, limit=1, cursor=c))]
    assert seen == ["We are looking into it.", "Thanks!"]
    assert page.next_cursor is not None
    assert len(claims.messages(AGENT, claim.id).items) == 3


def test_attachments_must_be_readable_documents_of_the_company(world: World) -> None:
    claims = world.portal.claims
    claim = claims.open_claim(BEN, type_id="transport_damage", title="t", description="d")
    globex_doc = world.photo(Actor.operator_for("globex", "staff"))
    with pytest.raises(NotFoundError):
        claims.attach(BEN, claim.id, globex_doc)
    with pytest.raises(NotFoundError):
        claims.post_message(BEN, claim.id, "see", attachments=["nope"])


# -- reading, scopes, tenants ----------------------------------------------------------------------


def test_view_scopes_and_tenants(world: World) -> None:
    claims = world.portal.claims
    claim = _damage(world)
    assert claims.get(ANA, claim.id).id == claim.id  # company admin: company scope
    with pytest.raises(PermissionDeniedError):
        claims.get(CLARA, claim.id)  # another unit
    with pytest.raises(PermissionDeniedError):
        claims.get(DORA, claim.id)  # own records only
    with pytest.raises(NotFoundError):
        claims.get(GIA, claim.id)
    with pytest.raises(PermissionDeniedError):
        claims.open_claim(DORA, type_id="return", title="t")  # a viewer files nothing
    with pytest.raises(PermissionDeniedError, match="customer"):
        claims.open_claim(AGENT, type_id="return", title="t")
    assert [c.id for c in claims.claims(CLARA).items] == []
    assert [c.id for c in claims.claims(ANA).items] == [claim.id]
    assert [c.id for c in claims.claims(AGENT, order_id=world.order.id).items] == [claim.id]
    assert claims.claims(AGENT, statuses=[ClaimStatus.DRAFT]).items == ()
    assert claims.claims(BEN, type_id="warranty").items == ()


def test_assisted_agents_file_claims_for_the_customer(world: World) -> None:
    accounts = world.portal.accounts
    accounts.register_agent(operator_id="op-olga", agent_id="agent-sam", name="Sam",
                            email="sam@seller.example")  # fmt: skip
    session = accounts.start_assisted_session(
        agent_id="agent-sam", company_id="acme", customer_user_id="ben", reason="phone call",
        permissions=[Permission.CLAIMS_FILE, Permission.CLAIMS_VIEW, Permission.ORDERS_VIEW,
                     Permission.DOCUMENTS_UPLOAD, Permission.DOCUMENTS_VIEW],
        duration=timedelta(minutes=30),
    )  # fmt: skip
    sam = Actor.assisted(session)
    claim = _damage(world, 1, actor=sam)
    assert (claim.requester_id, claim.history[-1].by) == ("ben", "agent-sam")


def test_sla_breaches_for_agents(world: World) -> None:
    claims = world.portal.claims
    urgent = _damage(world)
    claims.set_priority(AGENT, urgent.id, Priority.URGENT)
    calm = _damage(world, 1, sku="PUMP-1")
    world.clock.advance(timedelta(days=3))
    breached = claims.sla_breaches(AGENT)
    assert [s.claim_id for s in breached] == [urgent.id, calm.id]
    with pytest.raises(PermissionDeniedError):
        claims.sla_breaches(BEN)


def test_claim_types_are_offered_by_id(world: World) -> None:
    claims = world.portal.claims
    assert [t.id for t in claims.claim_types()][:2] == ["warranty", "transport_damage"]
    with pytest.raises(NotFoundError, match="offered"):
        claims.claim_type("lost_luggage")
    with pytest.raises(NotFoundError):
        claims.open_claim(BEN, type_id="lost_luggage", title="t")
