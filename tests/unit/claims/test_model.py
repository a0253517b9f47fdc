"""The claims model: claim types as data, the lifecycle by party, lines, decisions,
resolutions, messages and the tally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from b2bcore.claims import (
    COUNTED_STATUSES,
    Attachment,
    Claim,
    ClaimLine,
    ClaimMessage,
    ClaimStatus,
    ClaimTally,
    ClaimType,
    Evidence,
    LifecycleStep,
    LineSource,
    MissingEvidenceError,
    Party,
    PartyNotAllowedError,
    Priority,
    ReopenWindowClosedError,
    Resolution,
    ResolutionKind,
    ResolutionLine,
    SlaTarget,
    Visibility,
    WarrantyBasis,
    WarrantyDecision,
    inquiry_lifecycle,
    standard_claim_types,
    standard_lifecycle,
)
from b2bcore.claims.model import ClaimStatusChanged
from b2bcore.errors import ConflictError, InvalidTransitionError, ValidationError
from b2bcore.money import Money
from b2bcore.serialization import dumps, loads

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
TYPES: dict[str, ClaimType] = {t.id: t for t in standard_claim_types()}
S = ClaimStatus
C, A = Party.CUSTOMER, Party.AGENT


def _photo(doc: str = "d-1", media_type: str = "image/jpeg") -> Attachment:
    return Attachment(document_id=doc, name="p.jpg", media_type=media_type, added_at=AT,
                      added_by="ben")  # fmt: skip


def _line(quantity: int | str = 2, *, order_line: int = 1, **kw: object) -> ClaimLine:
    return ClaimLine(line_no=1, sku="SEAL-7", quantity=Decimal(quantity), order_id="o-1",
                     order_line_no=order_line, **kw)  # type: ignore[arg-type]  # fmt: skip


def _claim(type_id: str = "transport_damage", description: str = "The box was crushed.") -> Claim:
    return Claim.open(claim_id="c-1", company_id="acme", claim_type=TYPES[type_id],
                      requester_id="ben", by="ben", at=AT, title="Crushed",
                      description=description)  # fmt: skip


def _submitted(type_id: str = "transport_damage") -> Claim:
    claim = _claim(type_id)
    claim.add_line(_line())
    claim.attach(_photo())
    claim.transition(S.SUBMITTED, party=C, by="ben", at=AT)
    return claim


def _in_review() -> Claim:
    claim = _submitted()
    claim.transition(S.IN_REVIEW, party=A, by="sam", at=AT + timedelta(hours=1))
    return claim


# -- claim types --------------------------------------------------------------------------------


def test_standard_types_are_the_six_of_the_issue() -> None:
    assert list(TYPES) == [
        "warranty", "transport_damage", "missing_items", "wrong_item", "return", "general_inquiry",
    ]  # fmt: skip
    assert TYPES["transport_damage"].evidence == {Evidence.PHOTO}
    assert TYPES["warranty"].evidence == {Evidence.SERIAL_NUMBER}
    assert TYPES["warranty"].checks_warranty
    assert TYPES["general_inquiry"].resolutions == frozenset()
    assert TYPES["general_inquiry"].line_sources == frozenset()
    for t in TYPES.values():
        assert {s.priority for s in t.sla} == set(Priority)


def test_claim_type_lifecycle_is_data() -> None:
    t = TYPES["wrong_item"]
    assert t.moves(S.DRAFT, C) == (S.SUBMITTED, S.CANCELLED)
    assert t.moves(S.DRAFT, A) == ()
    assert t.moves(S.IN_REVIEW, A) == (S.INFO_REQUESTED, S.APPROVED, S.REJECTED)
    assert t.moves(S.INFO_REQUESTED) == (S.IN_REVIEW,)
    assert t.step(S.RESOLVED, S.IN_REVIEW) == LifecycleStep(S.RESOLVED, S.IN_REVIEW, {C}, 14)
    assert t.step(S.CLOSED, S.IN_REVIEW) is None
    assert TYPES["general_inquiry"].moves(S.IN_REVIEW, A) == (S.INFO_REQUESTED, S.RESOLVED)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (standard_lifecycle()[1:], "lets a draft be submitted"),
        ([*standard_lifecycle(), LifecycleStep(S.DRAFT, S.SUBMITTED, {A})], "listed twice"),
    ],
)
def test_claim_type_checks_its_lifecycle(steps: tuple[LifecycleStep, ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ClaimType(id="t", name="T", steps=steps)


def test_a_type_with_resolutions_needs_the_resolution_step() -> None:
    with pytest.raises(ValidationError, match="resolution_in_progress"):
        ClaimType(id="t", name="T", steps=inquiry_lifecycle(), resolutions={"repair"})


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"from_status": S.CLOSED, "to_status": S.IN_REVIEW}, "from_status"),
        ({"from_status": S.DRAFT, "to_status": S.APPROVED}, "to_status"),
        ({"from_status": S.SUBMITTED, "to_status": S.SUBMITTED}, "to_status"),
        ({"from_status": S.SUBMITTED, "to_status": S.DRAFT}, "to_status"),
        ({"from_status": S.SUBMITTED, "to_status": S.IN_REVIEW, "parties": []}, "parties"),
        ({"from_status": S.SUBMITTED, "to_status": S.IN_REVIEW, "parties": ["boss"]}, "parties[0]"),
        ({"from_status": S.RESOLVED, "to_status": S.IN_REVIEW, "within_days": 0}, "within_days"),
    ],
)
def test_lifecycle_steps_are_validated(kwargs: dict[str, object], path: str) -> None:
    args: dict[str, object] = {"parties": [C], **kwargs}
    with pytest.raises(ValidationError) as raised:
        LifecycleStep(**args)  # type: ignore[arg-type]
    assert raised.value.path == path


def test_sla_targets_take_durations_and_check_their_order() -> None:
    target = SlaTarget(Priority.HIGH, "3600", timedelta(hours=8))
    assert target.first_response == timedelta(hours=1)
    with pytest.raises(ValidationError, match="shorter"):
        SlaTarget(Priority.HIGH, timedelta(hours=8), timedelta(hours=1))
    with pytest.raises(ValidationError):
        SlaTarget(Priority.HIGH, timedelta(0), timedelta(hours=1))
    with pytest.raises(ValidationError, match="one SLA target per priority"):
        ClaimType(id="t", name="T", steps=standard_lifecycle(), sla=[target, target])


# -- lines ---------------------------------------------------------------------------------------


def test_a_line_is_claimed_equals_accepted_rejected_open() -> None:
    line = _line(5, accepted=2, rejected=1)
    assert (line.open, line.held) == (Decimal(2), Decimal(4))
    assert line.order_line == ("o-1", 1)
    with pytest.raises(ValidationError, match="exceed"):
        _line(5, accepted=3, rejected=3)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": Decimal("0.0000001")}, "quantity"),
        ({"quantity": Decimal(10) ** 9}, "quantity"),
        ({"quantity": Decimal("NaN")}, "quantity"),
        ({"order_line_no": None}, "order_line_no"),
        ({"order_id": None, "order_line_no": None}, "order_id"),
        ({"accepted": -1}, "accepted"),
        ({"serial_number": "   "}, "serial_number"),
    ],
)
def test_bad_lines_are_refused(kwargs: dict[str, object], path: str) -> None:
    args: dict[str, object] = {"line_no": 1, "sku": "SEAL-7", "quantity": Decimal(1),
                               "order_id": "o-1", "order_line_no": 1, **kwargs}  # fmt: skip
    with pytest.raises(ValidationError) as raised:
        ClaimLine(**args)  # type: ignore[arg-type]
    assert raised.value.path == path


def test_drafts_take_lines_of_their_types_sources_once() -> None:
    claim = _claim()
    first = claim.add_line(_line())
    assert first.line_no == 1
    with pytest.raises(ValidationError, match="repeats"):
        claim.add_line(_line(order_line=1))
    claim.add_line(_line(order_line=2))
    with pytest.raises(ValidationError, match="refer to order_line"):
        claim.add_line(ClaimLine(line_no=1, sku="PX-9", quantity=Decimal(1), asset_id="a-1"))
    claim.remove_line(1)
    assert [(x.line_no, x.order_line) for x in claim.lines] == [(1, ("o-1", 2))]
    inquiry = _claim("general_inquiry")
    with pytest.raises(ValidationError, match="refer to nothing"):
        inquiry.add_line(_line())


def test_evidence_is_listed_until_complete() -> None:
    claim = _claim("warranty", description="")
    assert claim.missing_evidence() == [
        "at least one line (what the claim is about)",
        "a description",
    ]
    claim.add_line(_line())
    assert "a serial number (or asset) on every line" in claim.missing_evidence()
    with pytest.raises(MissingEvidenceError) as raised:
        claim.transition(S.SUBMITTED, party=C, by="ben", at=AT)
    assert raised.value.missing == tuple(claim.missing_evidence())
    assert claim.status is S.DRAFT
    damage = _claim()
    damage.add_line(_line())
    damage.attach(_photo(media_type="application/pdf"))
    assert damage.missing_evidence() == ["a photo"]
    damage.attach(_photo("d-2"))
    assert damage.missing_evidence() == []


# -- the lifecycle -------------------------------------------------------------------------------


def test_every_move_is_recorded_with_its_party() -> None:
    claim = _in_review()
    assert [(h.from_status, h.to_status, h.party) for h in claim.history] == [
        (None, S.DRAFT, C), (S.DRAFT, S.SUBMITTED, C), (S.SUBMITTED, S.IN_REVIEW, A),
    ]  # fmt: skip
    events = [e for e in claim.pull_events() if isinstance(e, ClaimStatusChanged)]
    assert [(e.from_status, e.to_status, e.party) for e in events] == [
        ("draft", "submitted", "customer"), ("submitted", "in_review", "agent"),
    ]  # fmt: skip
    assert claim.first_response_at == AT + timedelta(hours=1)
    assert claim.submitted_at == AT


def test_moves_outside_the_lifecycle_are_invalid_transitions() -> None:
    claim = _submitted()
    with pytest.raises(InvalidTransitionError) as raised:
        claim.transition(S.APPROVED, party=A, by="sam", at=AT)
    assert (raised.value.from_state, raised.value.to_state) == ("submitted", "approved")
    assert claim.status is S.SUBMITTED


def test_moves_of_the_other_party_are_refused() -> None:
    claim = _submitted()
    with pytest.raises(PartyNotAllowedError) as raised:
        claim.transition(S.IN_REVIEW, party=C, by="ben", at=AT)
    assert raised.value.allowed == ("agent",)
    claim.transition(S.IN_REVIEW, party=A, by="sam", at=AT)
    with pytest.raises(InvalidTransitionError):  # the customer cancels only before review
        claim.transition(S.CANCELLED, party=C, by="ben", at=AT)


def test_approval_needs_every_line_decided_and_something_accepted() -> None:
    claim = _in_review()
    with pytest.raises(ConflictError, match="decide lines"):
        claim.transition(S.APPROVED, party=A, by="sam", at=AT)
    claim.decide(1, accepted=0, rejected=2, by="sam", at=AT)
    with pytest.raises(ConflictError, match="nothing is accepted"):
        claim.transition(S.APPROVED, party=A, by="sam", at=AT)
    claim.decide(1, accepted=1, rejected=1, by="sam", at=AT)
    with pytest.raises(ConflictError, match="approve"):
        claim.transition(S.REJECTED, party=A, by="sam", at=AT)
    claim.transition(S.APPROVED, party=A, by="sam", at=AT)
    assert claim.held() == {("o-1", 1): Decimal(1)}


def test_rejecting_rejects_every_open_quantity() -> None:
    claim = _in_review()
    claim.transition(S.REJECTED, party=A, by="sam", at=AT, note="not damaged")
    assert (claim.lines[0].rejected, claim.lines[0].open) == (Decimal(2), Decimal(0))
    assert claim.held() == {}
    assert claim.status in COUNTED_STATUSES


def test_decisions_happen_in_review_only() -> None:
    claim = _submitted()
    with pytest.raises(InvalidTransitionError):
        claim.decide(1, accepted=1, rejected=0, by="sam", at=AT)


def test_reopening_is_possible_within_the_window_only() -> None:
    claim = _in_review()
    claim.transition(S.REJECTED, party=A, by="sam", at=AT)
    late = AT + timedelta(days=14, seconds=1)
    with pytest.raises(ReopenWindowClosedError) as raised:
        claim.transition(S.IN_REVIEW, party=C, by="ben", at=late)
    assert (raised.value.days, raised.value.since) == (14, AT)
    claim.transition(S.IN_REVIEW, party=C, by="ben", at=AT + timedelta(days=14))
    assert claim.status is S.IN_REVIEW


def test_draft_only_edits() -> None:
    claim = _claim()
    claim.edit(title="New title")
    assert claim.title == "New title"
    with pytest.raises(ValidationError):
        claim.edit(title="")
    claim.add_line(_line())
    claim.attach(_photo())
    claim.transition(S.SUBMITTED, party=C, by="ben", at=AT)
    for change in (lambda: claim.edit(title="x"), lambda: claim.add_line(_line(order_line=2))):
        with pytest.raises(InvalidTransitionError):
            change()


def test_priority_changes_are_evented_and_refused_once_final() -> None:
    claim = _submitted()
    claim.pull_events()
    claim.set_priority(Priority.URGENT, by="sam", at=AT)
    claim.set_priority(Priority.URGENT, by="sam", at=AT)
    assert [e.event_type for e in claim.pull_events()] == ["claims.claim_priority_changed"]
    claim.transition(S.CANCELLED, party=C, by="ben", at=AT)
    with pytest.raises(InvalidTransitionError):
        claim.set_priority(Priority.LOW, by="sam", at=AT)


# -- resolutions ---------------------------------------------------------------------------------


def _approved() -> Claim:
    claim = _in_review()
    claim.decide(1, accepted=2, rejected=0, by="sam", at=AT)
    claim.transition(S.APPROVED, party=A, by="sam", at=AT)
    return claim


def _credit(quantity: int = 1, rid: str = "r-1") -> Resolution:
    return Resolution(id=rid, kind=ResolutionKind.CREDIT_NOTE, at=AT, by="sam",
                      lines=[ResolutionLine(1, Decimal(quantity))], amount=Money("18.40", "EUR"),
                      invoice_id="i-1", credit_note_id="cn-1")  # fmt: skip


def test_the_first_resolution_starts_resolving() -> None:
    claim = _approved()
    claim.add_resolution(_credit())
    assert claim.status is S.RESOLUTION_IN_PROGRESS
    replacement = Resolution(id="r-2", kind=ResolutionKind.REPLACEMENT, at=AT, by="sam",
                             lines=[ResolutionLine(1, Decimal(1))], order_id="o-2")  # fmt: skip
    claim.add_resolution(replacement)
    with pytest.raises(ValidationError, match="covered by credit_note and replacement"):
        claim.add_resolution(attrs.evolve(replacement, id="r-3"))
    ret = Resolution(id="r-4", kind=ResolutionKind.RETURN, at=AT, by="sam",
                     lines=[ResolutionLine(1, Decimal(2))], rma_number="RMA-c-1-1")  # fmt: skip
    claim.add_resolution(ret)  # returns are counted on their own
    with pytest.raises(ConflictError, match="exists"):
        claim.add_resolution(ret)
    claim.transition(S.RESOLVED, party=A, by="sam", at=AT)


def test_resolutions_must_be_allowed_by_the_type() -> None:
    claim = _approved()
    repair = Resolution(id="r-1", kind=ResolutionKind.REPAIR, at=AT, by="sam", booking_id="b-1")
    with pytest.raises(ValidationError, match="not repair"):
        claim.add_resolution(repair)
    assert claim.status is S.APPROVED


def test_resolutions_need_an_approved_claim() -> None:
    claim = _in_review()
    with pytest.raises(InvalidTransitionError):
        claim.add_resolution(_credit())
    with pytest.raises(ConflictError, match="record a resolution"):
        _approved().transition(S.RESOLUTION_IN_PROGRESS, party=A, by="sam", at=AT)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"kind": ResolutionKind.CREDIT_NOTE, "lines": [ResolutionLine(1, Decimal(1))]}, "amount"),
        ({"kind": ResolutionKind.REPLACEMENT}, "order_id"),
        ({"kind": ResolutionKind.REPAIR, "booking_id": "b-1", "order_id": "o-2"}, "order_id"),
        ({"kind": ResolutionKind.RETURN, "lines": [ResolutionLine(1, Decimal(1))]}, "rma_number"),
        ({"kind": ResolutionKind.REPLACEMENT, "order_id": "o-2"}, "lines"),
        ({"kind": ResolutionKind.REPAIR, "booking_id": "b-1",
          "lines": [ResolutionLine(1, Decimal(1)), ResolutionLine(1, Decimal(1))]}, "lines"),
    ],
)  # fmt: skip
def test_resolutions_carry_what_their_kind_needs(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Resolution(id="r", at=AT, by="sam", **kwargs)  # type: ignore[arg-type]
    assert raised.value.path == path


def test_decisions_cannot_drop_below_what_is_resolved() -> None:
    claim = _approved()
    claim.add_resolution(_credit(2))
    claim.transition(S.RESOLVED, party=A, by="sam", at=AT)
    claim.transition(S.IN_REVIEW, party=C, by="ben", at=AT)
    with pytest.raises(ConflictError, match="cover 2"):
        claim.decide(1, accepted=1, rejected=1, by="sam", at=AT)


# -- messages and the tally ------------------------------------------------------------------


def test_customers_cannot_post_internal_notes() -> None:
    claim = _submitted()
    note = ClaimMessage.post(message_id="m-1", claim=claim, at=AT, author="sam", party=A,
                             body="Check the batch", visibility=Visibility.INTERNAL)  # fmt: skip
    assert not note.public
    with pytest.raises(ValidationError, match="internal"):
        ClaimMessage.post(message_id="m-2", claim=claim, at=AT, author="ben", party=C,
                          body="psst", visibility=Visibility.INTERNAL)  # fmt: skip
    with pytest.raises(ValidationError, match="says something"):
        ClaimMessage.post(message_id="m-3", claim=claim, at=AT, author="ben", party=C, body=" ")
    claim.transition(S.CANCELLED, party=C, by="ben", at=AT)
    with pytest.raises(InvalidTransitionError):
        ClaimMessage.post(message_id="m-4", claim=claim, at=AT, author="ben", party=C, body="hi")


def test_the_tally_holds_per_claim_and_line() -> None:
    tally = ClaimTally(order_id="o-1", company_id="acme")
    tally.hold("c-1", {1: Decimal(2), 2: Decimal(1)})
    tally.hold("c-2", {1: Decimal(3)})
    tally.hold("c-1", {1: Decimal(1), 2: Decimal(0)})
    assert tally.held(1) == Decimal(4)
    assert tally.held(2) == Decimal(0)
    assert tally.held_by("c-1") == {1: Decimal(1)}
    tally.credit("c-2", 1, Money("5.00", "EUR"), "cn-1")
    tally.credit("c-2", 1, Money("2.50", "EUR"), "cn-2")
    assert tally.credited(1, "EUR") == Money("7.50", "EUR")
    assert tally.credited(2, "EUR") == Money.zero("EUR")


def test_claims_round_trip_through_json_with_their_type() -> None:
    claim = _approved()
    claim.add_resolution(_credit())
    claim.record_warranty(
        1, WarrantyDecision(covered=False, basis=WarrantyBasis.UNKNOWN, reason="unknown")
    )
    again = loads(dumps(claim), Claim)
    assert again == claim
    assert again.claim_type == TYPES["transport_damage"]


def test_claim_lines_refer_to_assets_where_the_type_allows() -> None:
    claim = _claim("warranty")
    line = claim.add_line(ClaimLine(line_no=9, sku="PX-9", quantity=Decimal(1), asset_id="a-1",
                                    serial_number="SN-1"))  # fmt: skip
    assert (line.line_no, line.source) == (1, LineSource.ASSET)
    assert claim.asset_ids == ("a-1",)
    assert claim.held() == {}  # a draft holds nothing
