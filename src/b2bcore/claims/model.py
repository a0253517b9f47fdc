"""Claims model: claim types as data, claims with their lines, evidence,
lifecycle, decisions and resolutions, the conversation, and the claimed-quantity
tally of each order.

A :class:`ClaimType` is *data*: its lifecycle (every allowed move, who may make it —
customer or agent — and, for reopening, within how many days), the evidence a claim
needs before it is submitted, the resolutions it allows, what its lines refer to,
and its SLA targets per priority. :func:`standard_claim_types` gives warranty,
transport damage, missing items, wrong item, return (RMA) and general inquiry.
A :class:`Claim` carries a copy of its type, so a claim runs by the rules it was
filed under, and never moves outside them (:meth:`Claim.transition`).

The standard lifecycle::

    draft → submitted → in_review ⇄ info_requested
    in_review → approved / rejected;  approved → resolution_in_progress → resolved
    resolved / rejected → closed;  resolved / rejected → in_review (reopen, N days)
    draft / submitted → cancelled (the customer, before review)

A :class:`ClaimLine` refers to an order line (and then counts against what was
delivered of it) or to an asset. Its ``quantity`` is always ``accepted + rejected
+ open``; a :class:`ClaimTally` per order keeps what every claim holds of each line
so that together they never exceed the delivered quantity, and what was credited
so that credits never exceed what was invoiced.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from b2bcore.claims import Claim, ClaimLine, ClaimStatus, Party, standard_claim_types
>>> types = {t.id: t for t in standard_claim_types()}
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> claim = Claim.open(claim_id="c-1", company_id="acme", claim_type=types["transport_damage"],
...                    requester_id="u-ben", by="u-ben", at=at, title="Dented pump housing",
...                    description="The pump arrived with a dented housing.")
>>> _ = claim.add_line(ClaimLine(line_no=1, sku="PUMP-1", quantity=Decimal(1),
...                              order_id="o-1", order_line_no=1))
>>> claim.missing_evidence()
['a photo']
>>> claim.allowed_moves(Party.CUSTOMER)
(<ClaimStatus.SUBMITTED: 'submitted'>, <ClaimStatus.CANCELLED: 'cancelled'>)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import attrs

from b2bcore._validate import bounded_quantity, enum_member, identifier, optional_identifier, text
from b2bcore.accounts.rules import Resource
from b2bcore.calendar import duration_from_text
from b2bcore.claims.errors import (
    MissingEvidenceError,
    PartyNotAllowedError,
    ReopenWindowClosedError,
)
from b2bcore.clock import to_utc
from b2bcore.errors import ConflictError, InvalidTransitionError, ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    AssetId,
    BookingId,
    BusinessUnitId,
    ClaimId,
    ClaimTypeId,
    CompanyId,
    DocumentId,
    InvoiceId,
    OrderId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.money import CALCULATION_CONTEXT, Money

__all__ = [
    "Attachment",
    "COUNTED_STATUSES",
    "Claim",
    "ClaimEvidenceAttached",
    "ClaimLine",
    "ClaimLineDecided",
    "ClaimMessage",
    "ClaimMessagePosted",
    "ClaimOpened",
    "ClaimPriorityChanged",
    "ClaimResolutionRecorded",
    "ClaimStatus",
    "ClaimStatusChange",
    "ClaimStatusChanged",
    "ClaimTally",
    "ClaimType",
    "Evidence",
    "FINAL_STATUSES",
    "LifecycleStep",
    "LineSource",
    "MAX_CLAIM_LINES",
    "MAX_QUANTITY",
    "Party",
    "Priority",
    "Resolution",
    "ResolutionKind",
    "ResolutionLine",
    "SlaTarget",
    "TallyCredit",
    "TallyEntry",
    "Visibility",
    "WarrantyBasis",
    "WarrantyDecision",
    "inquiry_lifecycle",
    "standard_claim_types",
    "standard_lifecycle",
]


# -- ids given as plain strings, checked and typed ------------------------------------------


def _asset_id_opt(value: str | None) -> AssetId | None:
    return None if value is None else AssetId(check_id(value, path="asset_id"))


def _booking_id_opt(value: str | None) -> BookingId | None:
    return None if value is None else BookingId(check_id(value, path="booking_id"))


def _business_unit_id_opt(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _claim_id(value: str) -> ClaimId:
    return ClaimId(check_id(value, path="claim_id"))


def _company_id(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _document_id(value: str) -> DocumentId:
    return DocumentId(check_id(value, path="document_id"))


def _id(value: str) -> ClaimId:
    return ClaimId(check_id(value, path="id"))


def _type_id(value: str) -> ClaimTypeId:
    return ClaimTypeId(check_id(value, path="id"))


def _invoice_id_opt(value: str | None) -> InvoiceId | None:
    return None if value is None else InvoiceId(check_id(value, path="invoice_id"))


def _order_id(value: str) -> OrderId:
    return OrderId(check_id(value, path="order_id"))


def _order_id_opt(value: str | None) -> OrderId | None:
    return None if value is None else OrderId(check_id(value, path="order_id"))


def _requester_id(value: str) -> UserId:
    return UserId(check_id(value, path="requester_id"))


def _sku(value: str) -> Sku:
    return Sku(check_id(value, path="sku"))


#: The largest quantity a claim line may have (at most 6 decimals).
MAX_QUANTITY: Final = Decimal(10) ** 9
#: The most lines one claim may have.
MAX_CLAIM_LINES: Final = 200
_PLACES: Final = 6
_MAX_ATTACHMENTS: Final = 50
_ZERO: Final = Decimal(0)


def _add(a: Decimal, b: Decimal) -> Decimal:
    return CALCULATION_CONTEXT.add(a, b)


def _sub(a: Decimal, b: Decimal) -> Decimal:
    return CALCULATION_CONTEXT.subtract(a, b)


def _quantity(value: object, *, path: str, positive: bool = True) -> Decimal:
    """A quantity: a Decimal (or int / decimal str; never a float), above 0 (or from
    0), below :data:`MAX_QUANTITY`, with at most six decimals."""
    return bounded_quantity(value, path=path, positive=positive, below=MAX_QUANTITY, places=_PLACES)


def _positive(value: object) -> Decimal:
    return _quantity(value, path="quantity")


def _accepted(value: object) -> Decimal:
    return _quantity(value, path="accepted", positive=False)


def _rejected(value: object) -> Decimal:
    return _quantity(value, path="rejected", positive=False)


def _at(value: datetime) -> datetime:
    return to_utc(value, path="at")


def _created_at(value: datetime) -> datetime:
    return to_utc(value, path="created_at")


def _optional_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, path="first_response_at")


def _whole(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise ValidationError(
            "must be a whole number from 1 to 100000", path=attribute.name, value=value
        )


def _short(max_length: int) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or len(value) > max_length:
            raise ValidationError(
                f"must be a string of at most {max_length} characters",
                path=attribute.name,
                value=value,
            )

    return check


def _typed_tuple(kind: type, path: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(f"must be a list of {kind.__name__}", path=path, value=value)
    for i, item in enumerate(value):
        if not isinstance(item, kind):
            raise ValidationError(f"must be a {kind.__name__}", path=f"{path}[{i}]", value=item)
    return tuple(value)


def _enum_set(kind: type[enum.Enum], path: str) -> Any:
    def convert(value: object) -> frozenset[Any]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValidationError(f"must be a set of {kind.__name__}", path=path, value=value)
        out = set()
        for i, item in enumerate(value):
            try:
                out.add(kind(item))
            except ValueError:
                choices = ", ".join(repr(m.value) for m in kind)
                raise ValidationError(
                    f"{item!r} is not a {kind.__name__} (one of {choices})",
                    path=f"{path}[{i}]",
                    value=item,
                ) from None
        return frozenset(out)

    return convert


# --- statuses, parties, priorities --------------------------------------------------------


class ClaimStatus(enum.Enum):
    """Where a claim is in its life (which moves exist is its type's data)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESOLUTION_IN_PROGRESS = "resolution_in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_S = ClaimStatus

#: Statuses nothing leaves.
FINAL_STATUSES: Final = frozenset({_S.CLOSED, _S.CANCELLED})
#: Statuses in which a claim's lines count against the delivered quantities (and
#: hold them): everything but a draft and a cancelled claim.
COUNTED_STATUSES: Final = frozenset(s for s in ClaimStatus if s not in (_S.DRAFT, _S.CANCELLED))


class Party(enum.Enum):
    """Who makes a move: the customer (a company user, or an agent in an assisted
    session acting for one) or the seller's agent (``Actor.operator_for``)."""

    CUSTOMER = "customer"
    AGENT = "agent"


class Priority(enum.Enum):
    """How urgent a claim is; SLA targets are per priority."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Evidence(enum.Enum):
    """What a claim type requires before a claim is submitted.

    ``photo``: an image attached; ``document``: any attachment; ``serial_number``:
    every line names an asset or a serial number; ``order_reference``: every line
    names an order line.
    """

    PHOTO = "photo"
    DOCUMENT = "document"
    SERIAL_NUMBER = "serial_number"
    ORDER_REFERENCE = "order_reference"

    @property
    def label(self) -> str:
        """What is missing, in words."""
        return {
            "photo": "a photo",
            "document": "an attached document",
            "serial_number": "a serial number (or asset) on every line",
            "order_reference": "an order line on every line",
        }[self.value]


class LineSource(enum.Enum):
    """What a claim type's lines may refer to."""

    ORDER_LINE = "order_line"
    ASSET = "asset"


class ResolutionKind(enum.Enum):
    """How an approved claim is resolved."""

    CREDIT_NOTE = "credit_note"  # money back on the invoice
    REPLACEMENT = "replacement"  # a free replacement order
    REPAIR = "repair"  # a service appointment
    RETURN = "return"  # goods sent back under an RMA number


class Visibility(enum.Enum):
    """Who reads a message: everyone on the claim, or the seller's agents only."""

    PUBLIC = "public"
    INTERNAL = "internal"


# --- claim types ---------------------------------------------------------------------------


def _parties(value: object) -> frozenset[Party]:
    out: frozenset[Party] = _enum_set(Party, "parties")(value)
    if not out:
        raise ValidationError("a move is made by at least one party", path="parties")
    return out


def _optional_days(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _whole(_inst, attribute, value)


@attrs.frozen
class LifecycleStep:
    """One allowed move of a claim type: from, to, by whom, and — when set — only
    within ``within_days`` days of entering ``from_status`` (reopening)."""

    from_status: ClaimStatus = attrs.field(validator=enum_member(ClaimStatus))
    to_status: ClaimStatus = attrs.field(validator=enum_member(ClaimStatus))
    parties: frozenset[Party] = attrs.field(converter=_parties)
    within_days: int | None = attrs.field(default=None, validator=_optional_days)

    def __attrs_post_init__(self) -> None:
        if self.from_status is self.to_status:
            raise ValidationError("a move changes the status", path="to_status")
        if self.from_status in FINAL_STATUSES:
            raise ValidationError(f"nothing leaves {self.from_status.value}", path="from_status")
        if self.from_status is _S.DRAFT and self.to_status not in (_S.SUBMITTED, _S.CANCELLED):
            raise ValidationError(
                "a draft is only submitted or cancelled", path="to_status", value=self.to_status
            )
        if self.to_status is _S.DRAFT:
            raise ValidationError("nothing goes back to draft", path="to_status")


def _duration(path: str) -> Any:
    def convert(value: object) -> timedelta:
        duration = value if isinstance(value, timedelta) else duration_from_text(value, path=path)
        if duration <= timedelta(0):
            raise ValidationError("must be a positive duration", path=path, value=value)
        return duration

    return convert


def _first_response(value: object) -> timedelta:
    converted: timedelta = _duration("first_response")(value)
    return converted


def _resolution_time(value: object) -> timedelta:
    converted: timedelta = _duration("resolution")(value)
    return converted


@attrs.frozen
class SlaTarget:
    """Service-level targets of one priority, in business time (the claims'
    :class:`~b2bcore.calendar.BusinessCalendar`): the first response, and the
    resolution. Both clocks run from submission and pause while information is
    requested from the customer."""

    priority: Priority = attrs.field(validator=enum_member(Priority))
    first_response: timedelta = attrs.field(converter=_first_response)
    resolution: timedelta = attrs.field(converter=_resolution_time)

    def __attrs_post_init__(self) -> None:
        if self.resolution < self.first_response:
            raise ValidationError(
                "the resolution target cannot be shorter than the first-response target",
                path="resolution",
                value=self.resolution,
            )


def _steps(value: object) -> tuple[LifecycleStep, ...]:
    steps: tuple[LifecycleStep, ...] = _typed_tuple(LifecycleStep, "steps", value)
    seen: set[tuple[ClaimStatus, ClaimStatus]] = set()
    for i, step in enumerate(steps):
        key = (step.from_status, step.to_status)
        if key in seen:
            raise ValidationError(
                f"the move {step.from_status.value} → {step.to_status.value} is listed twice",
                path=f"steps[{i}]",
            )
        seen.add(key)
    return steps


def _sla(value: object) -> tuple[SlaTarget, ...]:
    targets: tuple[SlaTarget, ...] = _typed_tuple(SlaTarget, "sla", value)
    priorities = [t.priority for t in targets]
    if len(set(priorities)) != len(priorities):
        raise ValidationError("one SLA target per priority", path="sla")
    return targets


def _evidence(value: object) -> frozenset[Evidence]:
    converted: frozenset[Evidence] = _enum_set(Evidence, "evidence")(value)
    return converted


def _resolution_kinds(value: object) -> frozenset[ResolutionKind]:
    converted: frozenset[ResolutionKind] = _enum_set(ResolutionKind, "resolutions")(value)
    return converted


def _line_sources(value: object) -> frozenset[LineSource]:
    converted: frozenset[LineSource] = _enum_set(LineSource, "line_sources")(value)
    return converted


@attrs.frozen
class ClaimType:
    """A kind of claim, as data: its lifecycle ``steps``, the ``evidence`` it needs
    before submission, the ``resolutions`` it allows, what its lines refer to
    (``line_sources``; none for a general inquiry), its ``sla`` targets per
    priority, and whether a warranty decision is recorded for each line
    (``checks_warranty``)."""

    id: ClaimTypeId = attrs.field(converter=_type_id)
    name: str = attrs.field(validator=text(max_length=120))
    steps: tuple[LifecycleStep, ...] = attrs.field(converter=_steps)
    evidence: frozenset[Evidence] = attrs.field(factory=frozenset, converter=_evidence)
    resolutions: frozenset[ResolutionKind] = attrs.field(
        factory=frozenset, converter=_resolution_kinds
    )
    line_sources: frozenset[LineSource] = attrs.field(factory=frozenset, converter=_line_sources)
    sla: tuple[SlaTarget, ...] = attrs.field(factory=tuple, converter=_sla)
    checks_warranty: bool = False
    description: str = attrs.field(default="", validator=_short(1000))

    def __attrs_post_init__(self) -> None:
        if self.step(_S.DRAFT, _S.SUBMITTED) is None:
            raise ValidationError("a claim type lets a draft be submitted", path="steps")
        if self.resolutions and self.step(_S.APPROVED, _S.RESOLUTION_IN_PROGRESS) is None:
            raise ValidationError(
                "a claim type with resolutions needs the move approved → "
                "resolution_in_progress (recording a resolution makes it)",
                path="steps",
            )
        if not self.line_sources and (
            Evidence.SERIAL_NUMBER in self.evidence or Evidence.ORDER_REFERENCE in self.evidence
        ):
            raise ValidationError(
                "serial numbers and order references are evidence on lines: give line_sources",
                path="evidence",
            )
        if (
            Evidence.ORDER_REFERENCE in self.evidence
            and LineSource.ORDER_LINE not in self.line_sources
        ):
            raise ValidationError(
                "order references as evidence need lines on order lines (line_sources)",
                path="evidence",
            )
        if not isinstance(self.checks_warranty, bool):
            raise ValidationError("must be True or False", path="checks_warranty")

    def step(self, from_status: ClaimStatus, to_status: ClaimStatus) -> LifecycleStep | None:
        """The step from ``from_status`` to ``to_status``, if the lifecycle has it."""
        for s in self.steps:
            if s.from_status is from_status and s.to_status is to_status:
                return s
        return None

    def moves(self, status: ClaimStatus, party: Party | None = None) -> tuple[ClaimStatus, ...]:
        """Where a claim in ``status`` may go (by ``party``, if given), in the order
        the steps are listed."""
        return tuple(
            s.to_status
            for s in self.steps
            if s.from_status is status and (party is None or party in s.parties)
        )

    def target(self, priority: Priority) -> SlaTarget | None:
        """The SLA target of ``priority``, if the type has one."""
        for t in self.sla:
            if t.priority is priority:
                return t
        return None


def standard_lifecycle(*, reopen_days: int = 14) -> tuple[LifecycleStep, ...]:
    """The standard lifecycle (see the module docs); resolved and rejected claims may
    be reopened by the customer within ``reopen_days`` days."""
    customer, agent, both = {Party.CUSTOMER}, {Party.AGENT}, {Party.CUSTOMER, Party.AGENT}
    return (
        LifecycleStep(_S.DRAFT, _S.SUBMITTED, customer),
        LifecycleStep(_S.DRAFT, _S.CANCELLED, customer),
        LifecycleStep(_S.SUBMITTED, _S.IN_REVIEW, agent),
        LifecycleStep(_S.SUBMITTED, _S.CANCELLED, customer),
        LifecycleStep(_S.IN_REVIEW, _S.INFO_REQUESTED, agent),
        LifecycleStep(_S.INFO_REQUESTED, _S.IN_REVIEW, both),
        LifecycleStep(_S.IN_REVIEW, _S.APPROVED, agent),
        LifecycleStep(_S.IN_REVIEW, _S.REJECTED, agent),
        LifecycleStep(_S.APPROVED, _S.RESOLUTION_IN_PROGRESS, agent),
        LifecycleStep(_S.RESOLUTION_IN_PROGRESS, _S.RESOLVED, agent),
        LifecycleStep(_S.RESOLVED, _S.CLOSED, both),
        LifecycleStep(_S.REJECTED, _S.CLOSED, both),
        LifecycleStep(_S.RESOLVED, _S.IN_REVIEW, customer, within_days=reopen_days),
        LifecycleStep(_S.REJECTED, _S.IN_REVIEW, customer, within_days=reopen_days),
    )


def inquiry_lifecycle(*, reopen_days: int = 14) -> tuple[LifecycleStep, ...]:
    """A question answered, not a decision: in review it is resolved directly."""
    customer, agent, both = {Party.CUSTOMER}, {Party.AGENT}, {Party.CUSTOMER, Party.AGENT}
    return (
        LifecycleStep(_S.DRAFT, _S.SUBMITTED, customer),
        LifecycleStep(_S.DRAFT, _S.CANCELLED, customer),
        LifecycleStep(_S.SUBMITTED, _S.IN_REVIEW, agent),
        LifecycleStep(_S.SUBMITTED, _S.CANCELLED, customer),
        LifecycleStep(_S.IN_REVIEW, _S.INFO_REQUESTED, agent),
        LifecycleStep(_S.INFO_REQUESTED, _S.IN_REVIEW, both),
        LifecycleStep(_S.IN_REVIEW, _S.RESOLVED, agent),
        LifecycleStep(_S.RESOLVED, _S.CLOSED, both),
        LifecycleStep(_S.RESOLVED, _S.IN_REVIEW, customer, within_days=reopen_days),
    )


def _hours(value: int) -> timedelta:
    return timedelta(hours=value)


def _standard_sla() -> tuple[SlaTarget, ...]:
    return (
        SlaTarget(Priority.URGENT, _hours(2), _hours(16)),
        SlaTarget(Priority.HIGH, _hours(4), _hours(24)),
        SlaTarget(Priority.NORMAL, _hours(8), _hours(40)),
        SlaTarget(Priority.LOW, _hours(16), _hours(80)),
    )


def standard_claim_types(*, reopen_days: int = 14) -> tuple[ClaimType, ...]:
    """The six standard claim types, ready to use or to adapt with :func:`attrs.evolve`.

    ========================  ==============================  ===========================
    type                      evidence before submission      resolutions
    ========================  ==============================  ===========================
    ``warranty``              serial number on every line     repair, replacement, credit,
                                                              return
    ``transport_damage``      a photo                         replacement, credit, return
    ``missing_items``         order lines                     replacement, credit
    ``wrong_item``            a photo, order lines            return, replacement, credit
    ``return``                order lines                     return, credit
    ``general_inquiry``       —                               — (answered: resolved)
    ========================  ==============================  ===========================

    SLA (business hours, first response / resolution): urgent 2/16, high 4/24,
    normal 8/40, low 16/80.

    >>> [t.id for t in standard_claim_types()]
    ['warranty', 'transport_damage', 'missing_items', 'wrong_item', 'return', 'general_inquiry']
    """
    life, sla = standard_lifecycle(reopen_days=reopen_days), _standard_sla()
    order, asset = LineSource.ORDER_LINE, LineSource.ASSET
    r = ResolutionKind
    return (
        ClaimType(
            id=ClaimTypeId("warranty"),
            name="Warranty",
            steps=life,
            evidence={Evidence.SERIAL_NUMBER},
            resolutions={r.REPAIR, r.REPLACEMENT, r.CREDIT_NOTE, r.RETURN},
            line_sources={asset, order},
            sla=sla,
            checks_warranty=True,
            description="A defect of an installed asset or a delivered product under warranty.",
        ),
        ClaimType(
            id=ClaimTypeId("transport_damage"),
            name="Transport damage",
            steps=life,
            evidence={Evidence.PHOTO},
            resolutions={r.REPLACEMENT, r.CREDIT_NOTE, r.RETURN},
            line_sources={order},
            sla=sla,
            description="Goods damaged on the way.",
        ),
        ClaimType(
            id=ClaimTypeId("missing_items"),
            name="Missing items",
            steps=life,
            evidence={Evidence.ORDER_REFERENCE},
            resolutions={r.REPLACEMENT, r.CREDIT_NOTE},
            line_sources={order},
            sla=sla,
            description="Fewer items arrived than the delivery says.",
        ),
        ClaimType(
            id=ClaimTypeId("wrong_item"),
            name="Wrong item",
            steps=life,
            evidence={Evidence.PHOTO, Evidence.ORDER_REFERENCE},
            resolutions={r.RETURN, r.REPLACEMENT, r.CREDIT_NOTE},
            line_sources={order},
            sla=sla,
            description="Something else arrived than was ordered.",
        ),
        ClaimType(
            id=ClaimTypeId("return"),
            name="Return (RMA)",
            steps=life,
            evidence={Evidence.ORDER_REFERENCE},
            resolutions={r.RETURN, r.CREDIT_NOTE},
            line_sources={order},
            sla=sla,
            description="Goods sent back under a return merchandise authorization.",
        ),
        ClaimType(
            id=ClaimTypeId("general_inquiry"),
            name="General inquiry",
            steps=inquiry_lifecycle(reopen_days=reopen_days),
            sla=sla,
            description="A question to the service team.",
        ),
    )


# --- lines, evidence, warranty ----------------------------------------------------------


class WarrantyBasis(enum.Enum):
    """What a warranty decision rests on."""

    ASSET_WARRANTY = "asset_warranty"  # the asset's own recorded warranty
    DELIVERY = "delivery"  # the delivery date plus the product's warranty period
    UNKNOWN = "unknown"  # neither is known


def _optional_date(value: object) -> date | None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise ValidationError("must be a date or None", path="until", value=value)
    return value


@attrs.frozen
class WarrantyDecision:
    """Whether a line is under warranty, on what basis, until when, and why — in
    words, recorded on the line when the claim is submitted."""

    covered: bool
    basis: WarrantyBasis = attrs.field(validator=enum_member(WarrantyBasis))
    reason: str = attrs.field(validator=text(max_length=500))
    until: date | None = attrs.field(default=None, converter=_optional_date)


def _optional_decision(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, WarrantyDecision):
        raise ValidationError("must be a WarrantyDecision or None", path="warranty", value=value)


def _optional_line_no(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _whole(_inst, attribute, value)


def _optional_serial(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise ValidationError(
            "must be a serial number of 1-100 characters", path="serial_number", value=value
        )
    return value.strip()


@attrs.frozen
class ClaimLine:
    """What one line of a claim is about: ``quantity`` of ``sku`` from an order line
    (``order_id`` and ``order_line_no``) and/or an asset (``asset_id``, with its
    serial number).

    ``quantity = accepted + rejected + open`` always; the agent decides ``accepted``
    and ``rejected`` while reviewing. ``warranty`` is the decision recorded at
    submission (warranty claims).
    """

    line_no: int = attrs.field(validator=_whole)
    sku: Sku = attrs.field(converter=_sku)
    quantity: Decimal = attrs.field(converter=_positive)
    order_id: OrderId | None = attrs.field(default=None, converter=_order_id_opt)
    order_line_no: int | None = attrs.field(default=None, validator=_optional_line_no)
    asset_id: AssetId | None = attrs.field(default=None, converter=_asset_id_opt)
    serial_number: str | None = attrs.field(default=None, converter=_optional_serial)
    reason: str = attrs.field(default="", validator=_short(1000))
    accepted: Decimal = attrs.field(default=_ZERO, converter=_accepted)
    rejected: Decimal = attrs.field(default=_ZERO, converter=_rejected)
    warranty: WarrantyDecision | None = attrs.field(default=None, validator=_optional_decision)

    def __attrs_post_init__(self) -> None:
        if (self.order_id is None) != (self.order_line_no is None):
            raise ValidationError(
                "an order line is named by both order_id and order_line_no",
                path="order_line_no",
                value=self.order_line_no,
            )
        if self.order_id is None and self.asset_id is None:
            raise ValidationError(
                "a claim line refers to an order line or an asset", path="order_id"
            )
        if _add(self.accepted, self.rejected) > self.quantity:
            raise ValidationError(
                f"accepted {self.accepted} and rejected {self.rejected} together exceed the "
                f"claimed {self.quantity}",
                path="accepted",
                value=self.accepted,
            )

    @property
    def open(self) -> Decimal:
        """Claimed and not decided yet: ``quantity - accepted - rejected``."""
        return _sub(_sub(self.quantity, self.accepted), self.rejected)

    @property
    def held(self) -> Decimal:
        """What the line holds of its order line: open and accepted (a rejected part
        is released)."""
        return _sub(self.quantity, self.rejected)

    @property
    def order_line(self) -> tuple[OrderId, int] | None:
        """``(order_id, line_no)`` of the order line, if the line names one."""
        if self.order_id is None or self.order_line_no is None:
            return None
        return (self.order_id, self.order_line_no)

    @property
    def source(self) -> LineSource:
        """What the line is about first: the asset when it names one."""
        return LineSource.ASSET if self.asset_id is not None else LineSource.ORDER_LINE


def _media_type(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or "/" not in value or len(value) > 255:
        raise ValidationError("must be a media type", path=attribute.name, value=value)


@attrs.frozen
class Attachment:
    """A document attached to a claim or a message (the document lives in the
    documents context; this names it, with what the evidence checks need)."""

    document_id: DocumentId = attrs.field(converter=_document_id)
    name: str = attrs.field(validator=text(max_length=255))
    media_type: str = attrs.field(validator=_media_type)
    added_at: datetime = attrs.field(converter=_at)
    added_by: str = attrs.field(validator=identifier)

    @property
    def is_image(self) -> bool:
        """Whether it is a photo (an ``image/*`` media type)."""
        return self.media_type.startswith("image/")


@attrs.frozen
class ClaimStatusChange:
    """One move of a claim: from, to, when, by whom (and as which party), why."""

    to_status: ClaimStatus = attrs.field(validator=enum_member(ClaimStatus))
    at: datetime = attrs.field(converter=_at)
    by: str = attrs.field(validator=identifier)
    party: Party = attrs.field(validator=enum_member(Party))
    from_status: ClaimStatus | None = None
    note: str = attrs.field(default="", validator=_short(2000))


# --- resolutions ----------------------------------------------------------------------------


@attrs.frozen
class ResolutionLine:
    """How much of one claim line a resolution covers."""

    line_no: int = attrs.field(validator=_whole)
    quantity: Decimal = attrs.field(converter=_positive)


def _resolution_lines(value: object) -> tuple[ResolutionLine, ...]:
    lines: tuple[ResolutionLine, ...] = _typed_tuple(ResolutionLine, "lines", value)
    numbers = [line.line_no for line in lines]
    if len(set(numbers)) != len(numbers):
        raise ValidationError("each claim line once per resolution", path="lines")
    return lines


def _optional_money(_inst: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError("must be Money or None", path="amount", value=value)


_NEEDS: Final[Mapping[ResolutionKind, tuple[str, ...]]] = {
    ResolutionKind.CREDIT_NOTE: ("amount", "invoice_id", "credit_note_id"),
    ResolutionKind.REPLACEMENT: ("order_id",),
    ResolutionKind.REPAIR: ("booking_id",),
    ResolutionKind.RETURN: ("rma_number",),
}


#: Resolutions whose quantities share a line's accepted quantity: a unit is credited
#: or replaced (not both); returned and repaired quantities are counted on their own.
_POOLS: Final = (
    (ResolutionKind.CREDIT_NOTE, ResolutionKind.REPLACEMENT),
    (ResolutionKind.RETURN,),
    (ResolutionKind.REPAIR,),
)


@attrs.frozen
class Resolution:
    """What was done to resolve an approved claim.

    * ``credit_note``: ``amount`` credited on invoice ``invoice_id`` as credit note
      ``credit_note_id``, for ``lines``;
    * ``replacement``: the free replacement order ``order_id`` for ``lines``;
    * ``repair``: the service appointment ``booking_id`` (for ``lines``, if any);
    * ``return``: the goods of ``lines`` come back under ``rma_number``.
    """

    id: str = attrs.field(validator=identifier)
    kind: ResolutionKind = attrs.field(validator=enum_member(ResolutionKind))
    at: datetime = attrs.field(converter=_at)
    by: str = attrs.field(validator=identifier)
    lines: tuple[ResolutionLine, ...] = attrs.field(factory=tuple, converter=_resolution_lines)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)
    invoice_id: InvoiceId | None = attrs.field(default=None, converter=_invoice_id_opt)
    credit_note_id: str | None = attrs.field(default=None, validator=optional_identifier)
    order_id: OrderId | None = attrs.field(default=None, converter=_order_id_opt)
    booking_id: BookingId | None = attrs.field(default=None, converter=_booking_id_opt)
    rma_number: str | None = attrs.field(default=None, validator=optional_identifier)
    note: str = attrs.field(default="", validator=_short(2000))

    def __attrs_post_init__(self) -> None:
        needs = _NEEDS[self.kind]
        for name in ("amount", "invoice_id", "credit_note_id", "order_id", "booking_id"):
            given = getattr(self, name) is not None
            if given != (name in needs):
                what = "needs" if name in needs else "takes no"
                raise ValidationError(
                    f"a {self.kind.value} resolution {what} {name}",
                    path=name,
                    value=getattr(self, name),
                )
        if (self.rma_number is not None) != ("rma_number" in needs):
            raise ValidationError(
                f"only a return resolution has an rma_number ({self.kind.value})",
                path="rma_number",
                value=self.rma_number,
            )
        if self.kind is not ResolutionKind.REPAIR and not self.lines:
            raise ValidationError(
                f"a {self.kind.value} resolution covers at least one line", path="lines"
            )
        if self.amount is not None and (self.amount.is_negative() or self.amount.is_zero()):
            raise ValidationError("a credit is a positive amount", path="amount", value=self.amount)


# --- the claim ------------------------------------------------------------------------------


def _claim_type(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, ClaimType):
        raise ValidationError("must be a ClaimType", path="claim_type", value=value)


def _lines(value: object) -> tuple[ClaimLine, ...]:
    lines: tuple[ClaimLine, ...] = _typed_tuple(ClaimLine, "lines", value)
    if len(lines) > MAX_CLAIM_LINES:
        raise ValidationError(f"a claim has at most {MAX_CLAIM_LINES} lines", path="lines")
    refs: set[object] = set()
    for i, line in enumerate(lines):
        if line.line_no != i + 1:
            raise ValidationError(
                f"lines are numbered 1, 2, 3 …: line {i + 1} says {line.line_no}",
                path=f"lines[{i}].line_no",
                value=line.line_no,
            )
        for ref in (line.order_line, line.asset_id):
            if ref is None:
                continue
            if ref in refs:
                raise ValidationError(
                    f"line {line.line_no} repeats what another line claims ({ref}): "
                    "claim it once, with the whole quantity",
                    path=f"lines[{i}]",
                    value=ref,
                )
            refs.add(ref)
    return lines


def _attachments(value: object) -> tuple[Attachment, ...]:
    items: tuple[Attachment, ...] = _typed_tuple(Attachment, "attachments", value)
    if len(items) > _MAX_ATTACHMENTS:
        raise ValidationError(
            f"a claim has at most {_MAX_ATTACHMENTS} attachments", path="attachments"
        )
    ids = [a.document_id for a in items]
    if len(set(ids)) != len(ids):
        raise ValidationError("each document is attached once", path="attachments")
    return items


def _history(value: object) -> tuple[ClaimStatusChange, ...]:
    return _typed_tuple(ClaimStatusChange, "history", value)


def _resolutions(value: object) -> tuple[Resolution, ...]:
    return _typed_tuple(Resolution, "resolutions", value)


def _party(value: object) -> Party:
    if not isinstance(value, Party):
        raise ValidationError("must be a Party", path="party", value=value)
    return value


@attrs.define
class Claim(Aggregate):
    """A customer's claim: its type (a copy, so the rules it was filed under hold),
    who filed it for which business unit, what it is about (title, description,
    :class:`ClaimLine` s, :class:`Attachment` s), its status and history, the
    agent's decisions and the :class:`Resolution` s.

    Every status change goes through :meth:`transition`, which refuses any move the
    type's lifecycle does not list (:class:`~b2bcore.errors.InvalidTransitionError`)
    or not for this party (:class:`~b2bcore.claims.errors.PartyNotAllowedError`),
    and records :class:`ClaimStatusChanged`.
    """

    id: ClaimId = attrs.field(converter=_id)
    company_id: CompanyId = attrs.field(converter=_company_id)
    claim_type: ClaimType = attrs.field(validator=_claim_type)
    requester_id: UserId = attrs.field(converter=_requester_id)
    created_at: datetime = attrs.field(converter=_created_at)
    title: str = attrs.field(validator=text(max_length=200))
    description: str = attrs.field(default="", validator=_short(5000))
    priority: Priority = attrs.field(default=Priority.NORMAL, validator=enum_member(Priority))
    business_unit_id: BusinessUnitId | None = attrs.field(
        default=None, converter=_business_unit_id_opt
    )
    status: ClaimStatus = attrs.field(default=_S.DRAFT, validator=enum_member(ClaimStatus))
    lines: tuple[ClaimLine, ...] = attrs.field(factory=tuple, converter=_lines)
    attachments: tuple[Attachment, ...] = attrs.field(factory=tuple, converter=_attachments)
    history: tuple[ClaimStatusChange, ...] = attrs.field(factory=tuple, converter=_history)
    resolutions: tuple[Resolution, ...] = attrs.field(factory=tuple, converter=_resolutions)
    first_response_at: datetime | None = attrs.field(default=None, converter=_optional_at)

    # -- derived ----------------------------------------------------------------------
    @property
    def type_id(self) -> ClaimTypeId:
        """The claim type's id."""
        return self.claim_type.id

    @property
    def submitted_at(self) -> datetime | None:
        """When it was first submitted (None for a draft)."""
        for change in self.history:
            if change.to_status is _S.SUBMITTED:
                return change.at
        return None

    def entered_at(self, status: ClaimStatus) -> datetime | None:
        """When it last entered ``status`` (None if never)."""
        for change in reversed(self.history):
            if change.to_status is status:
                return change.at
        return None

    @property
    def counted(self) -> bool:
        """Whether its lines hold their order lines' quantities (submitted and not
        cancelled; see :data:`COUNTED_STATUSES`)."""
        return self.status in COUNTED_STATUSES

    def held(self) -> dict[tuple[OrderId, int], Decimal]:
        """What the claim holds of each order line: ``open + accepted`` of each line
        naming one while :attr:`counted`, nothing otherwise."""
        if not self.counted:
            return {}
        return {
            ref: line.held
            for line in self.lines
            if (ref := line.order_line) is not None and line.held > 0
        }

    @property
    def asset_ids(self) -> tuple[AssetId, ...]:
        """The assets its lines name, in line order."""
        return tuple(line.asset_id for line in self.lines if line.asset_id is not None)

    @property
    def order_ids(self) -> tuple[OrderId, ...]:
        """The orders its lines name, in line order, each once."""
        return tuple(
            dict.fromkeys(line.order_id for line in self.lines if line.order_id is not None)
        )

    def line(self, line_no: int) -> ClaimLine:
        """Line ``line_no`` (ValidationError naming the claim's lines if none)."""
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise ValidationError(
            f"claim {self.id!r} has lines 1 to {len(self.lines)}", path="line_no", value=line_no
        )

    def allowed_moves(self, party: Party) -> tuple[ClaimStatus, ...]:
        """Where ``party`` may move the claim now, by its type's lifecycle (a reopen
        window not checked)."""
        return self.claim_type.moves(self.status, _party(party))

    def missing_evidence(self) -> list[str]:
        """What the claim still lacks before it can be submitted, in words (empty
        when complete): the type's evidence, lines (or none, for a question), and a
        description."""
        kind, missing = self.claim_type, []
        if kind.line_sources and not self.lines:
            missing.append("at least one line (what the claim is about)")
        if Evidence.PHOTO in kind.evidence and not any(a.is_image for a in self.attachments):
            missing.append(Evidence.PHOTO.label)
        if Evidence.DOCUMENT in kind.evidence and not self.attachments:
            missing.append(Evidence.DOCUMENT.label)
        if Evidence.SERIAL_NUMBER in kind.evidence and not all(
            line.asset_id is not None or line.serial_number is not None for line in self.lines
        ):
            missing.append(Evidence.SERIAL_NUMBER.label)
        if Evidence.ORDER_REFERENCE in kind.evidence and not all(
            line.order_line is not None for line in self.lines
        ):
            missing.append(Evidence.ORDER_REFERENCE.label)
        if not self.description.strip():
            missing.append("a description")
        return missing

    def access_resource(self) -> Resource:
        """The claim as :func:`~b2bcore.accounts.rules.authorize` sees it (owned by
        its requester, in its business unit)."""
        return Resource(
            "claim",
            self.id,
            self.company_id,
            owner_id=self.requester_id,
            business_unit_id=self.business_unit_id,
        )

    def resolved_quantity(self, line_no: int, kinds: Iterable[ResolutionKind]) -> Decimal:
        """How much of line ``line_no`` resolutions of ``kinds`` cover together."""
        wanted = set(kinds)
        total = _ZERO
        for r in self.resolutions:
            if r.kind in wanted:
                for rl in r.lines:
                    if rl.line_no == line_no:
                        total = _add(total, rl.quantity)
        return total

    # -- building a draft --------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        claim_id: str,
        company_id: str,
        claim_type: ClaimType,
        requester_id: str,
        by: str,
        at: datetime,
        title: str,
        description: str = "",
        priority: Priority = Priority.NORMAL,
        business_unit_id: str | None = None,
        party: Party = Party.CUSTOMER,
    ) -> Claim:
        """A new draft claim (records :class:`ClaimOpened`)."""
        when = to_utc(at, path="at")
        claim = cls(
            id=ClaimId(claim_id),
            company_id=CompanyId(company_id),
            claim_type=claim_type,
            requester_id=UserId(requester_id),
            created_at=when,
            title=title,
            description=description,
            priority=priority,
            business_unit_id=None if business_unit_id is None else BusinessUnitId(business_unit_id),
            history=(ClaimStatusChange(to_status=_S.DRAFT, at=when, by=by, party=_party(party)),),
        )
        claim.record(
            ClaimOpened(
                company_id=claim.company_id,
                occurred_at=when,
                claim_id=claim.id,
                type_id=claim.type_id,
                requester_id=claim.requester_id,
                by=by,
            )
        )
        return claim

    def _require(self, *statuses: ClaimStatus, doing: str) -> None:
        if self.status not in statuses:
            raise InvalidTransitionError("claim", self.id, self.status.value, doing)

    def edit(self, *, title: str | None = None, description: str | None = None) -> None:
        """Change the title or description of a draft."""
        self._require(_S.DRAFT, doing="edited")
        checked = attrs.evolve(
            self,
            title=self.title if title is None else title,
            description=self.description if description is None else description,
        )
        self.title, self.description = checked.title, checked.description

    def add_line(self, line: ClaimLine) -> ClaimLine:
        """Add a line to a draft (numbered after the last one)."""
        self._require(_S.DRAFT, doing="given a line")
        if not isinstance(line, ClaimLine):
            raise ValidationError("must be a ClaimLine", path="line", value=line)
        if line.source not in self.claim_type.line_sources and not (
            line.order_line is not None and LineSource.ORDER_LINE in self.claim_type.line_sources
        ):
            allowed = sorted(s.value for s in self.claim_type.line_sources) or ["nothing"]
            raise ValidationError(
                f"a {self.claim_type.name} claim's lines refer to {' or '.join(allowed)}",
                path="line",
                value=line.source.value,
            )
        if line.accepted or line.rejected or line.warranty is not None:
            raise ValidationError("a new line is undecided", path="line")
        numbered = attrs.evolve(line, line_no=len(self.lines) + 1)
        self.lines = _lines([*self.lines, numbered])
        return numbered

    def remove_line(self, line_no: int) -> None:
        """Remove a line of a draft (the later ones move up)."""
        self._require(_S.DRAFT, doing="changed")
        self.line(line_no)
        kept = [line for line in self.lines if line.line_no != line_no]
        self.lines = tuple(attrs.evolve(line, line_no=i + 1) for i, line in enumerate(kept))

    def attach(self, attachment: Attachment) -> None:
        """Attach a document (evidence) while the claim is open."""
        if self.status in FINAL_STATUSES:
            raise InvalidTransitionError("claim", self.id, self.status.value, "attached to")
        if not isinstance(attachment, Attachment):
            raise ValidationError("must be an Attachment", path="attachment", value=attachment)
        if any(a.document_id == attachment.document_id for a in self.attachments):
            return
        self.attachments = _attachments([*self.attachments, attachment])
        self.record(
            ClaimEvidenceAttached(
                company_id=self.company_id,
                occurred_at=attachment.added_at,
                claim_id=self.id,
                document_id=attachment.document_id,
                media_type=attachment.media_type,
            )
        )

    def record_warranty(self, line_no: int, decision: WarrantyDecision) -> None:
        """Record the warranty decision of a line (at submission)."""
        self.line(line_no)
        self.lines = tuple(
            attrs.evolve(line, warranty=decision) if line.line_no == line_no else line
            for line in self.lines
        )

    # -- the lifecycle -----------------------------------------------------------------
    def check_move(self, to: ClaimStatus, party: Party, *, at: datetime) -> LifecycleStep:
        """The lifecycle step for moving to ``to`` by ``party`` at ``at``, or the
        error: InvalidTransitionError (no such move; or its window closed:
        :class:`~b2bcore.claims.errors.ReopenWindowClosedError`), or
        :class:`~b2bcore.claims.errors.PartyNotAllowedError`."""
        if not isinstance(to, ClaimStatus):
            raise ValidationError("must be a ClaimStatus", path="status", value=to)
        who = _party(party)
        step = self.claim_type.step(self.status, to)
        if step is None:
            raise InvalidTransitionError("claim", self.id, self.status.value, to.value)
        if who not in step.parties:
            raise PartyNotAllowedError(
                self.id,
                self.status.value,
                to.value,
                who.value,
                (p.value for p in step.parties),
            )
        if step.within_days is not None:
            since = self.entered_at(self.status) or self.created_at
            if to_utc(at, path="at") > since + timedelta(days=step.within_days):
                raise ReopenWindowClosedError(
                    self.id, self.status.value, to.value, since=since, days=step.within_days
                )
        return step

    def _check_entry(self, to: ClaimStatus) -> None:
        """What must hold to enter ``to``, whatever the type."""
        if to is _S.SUBMITTED:
            missing = self.missing_evidence()
            if missing:
                raise MissingEvidenceError(self.id, missing)
        elif to is _S.APPROVED:
            undecided = [line.line_no for line in self.lines if line.open > 0]
            if undecided:
                raise ConflictError(
                    f"claim {self.id!r}: decide lines {undecided} (accept or reject every "
                    "claimed quantity) before approving"
                )
            if self.lines and not any(line.accepted > 0 for line in self.lines):
                raise ConflictError(
                    f"claim {self.id!r}: nothing is accepted; reject the claim instead"
                )
        elif to is _S.REJECTED:
            accepted = [line.line_no for line in self.lines if line.accepted > 0]
            if accepted:
                raise ConflictError(
                    f"claim {self.id!r}: lines {accepted} have accepted quantities; approve "
                    "the claim (rejecting the rest) instead"
                )
        elif to is _S.RESOLUTION_IN_PROGRESS and not self.resolutions:
            raise ConflictError(
                f"claim {self.id!r}: record a resolution (credit note, replacement, repair, "
                "return) to start resolving it"
            )

    def transition(
        self, to: ClaimStatus, *, party: Party, by: str, at: datetime, note: str = ""
    ) -> None:
        """Move to ``to`` if the type's lifecycle lets ``party`` do it now and the
        claim is ready (evidence before submission, every line decided before
        approval …); records :class:`ClaimStatusChanged`. Rejecting rejects every
        open quantity; an agent's move is the first response if none was given."""
        when = to_utc(at, path="at")
        self.check_move(to, party, at=when)
        self._check_entry(to)
        old = self.status
        change = ClaimStatusChange(
            to_status=to, at=when, by=by, party=party, from_status=old, note=note
        )
        if to is _S.REJECTED:
            self.lines = tuple(
                attrs.evolve(line, rejected=_add(line.rejected, line.open)) for line in self.lines
            )
        self.status = to
        self.history = (*self.history, change)
        if party is Party.AGENT:
            self.responded(when)
        self.record(
            ClaimStatusChanged(
                company_id=self.company_id,
                occurred_at=when,
                claim_id=self.id,
                from_status=old.value,
                to_status=to.value,
                by=by,
                party=party.value,
                note=change.note,
            )
        )

    def responded(self, at: datetime) -> None:
        """Note the agent's first response (a public message or a move), once."""
        if self.first_response_at is None and self.status is not _S.DRAFT:
            self.first_response_at = to_utc(at, path="at")

    def set_priority(self, priority: Priority, *, by: str, at: datetime) -> None:
        """Change the priority of an open claim (records :class:`ClaimPriorityChanged`)."""
        if not isinstance(priority, Priority):
            raise ValidationError("must be a Priority", path="priority", value=priority)
        if self.status in FINAL_STATUSES:
            raise InvalidTransitionError("claim", self.id, self.status.value, "reprioritised")
        if priority is self.priority:
            return
        old, self.priority = self.priority, priority
        self.record(
            ClaimPriorityChanged(
                company_id=self.company_id,
                occurred_at=to_utc(at, path="at"),
                claim_id=self.id,
                from_priority=old.value,
                to_priority=priority.value,
                by=by,
            )
        )

    def decide(
        self,
        line_no: int,
        *,
        accepted: Decimal | int | str,
        rejected: Decimal | int | str,
        by: str,
        at: datetime,
    ) -> ClaimLine:
        """The agent's decision on line ``line_no`` while reviewing: how much is
        accepted and how much rejected (together at most the claimed quantity; the
        rest stays open). Records :class:`ClaimLineDecided`."""
        self._require(_S.IN_REVIEW, doing="decided")
        line = self.line(line_no)
        decided = attrs.evolve(line, accepted=accepted, rejected=rejected)
        covered = max(self.resolved_quantity(line_no, pool) for pool in _POOLS)
        if decided.accepted < covered:
            raise ConflictError(
                f"claim {self.id!r} line {line_no}: resolutions already cover {covered}; "
                "accept at least that"
            )
        self.lines = tuple(decided if x.line_no == line_no else x for x in self.lines)
        self.record(
            ClaimLineDecided(
                company_id=self.company_id,
                occurred_at=to_utc(at, path="at"),
                claim_id=self.id,
                line_no=line_no,
                accepted=decided.accepted,
                rejected=decided.rejected,
                by=by,
            )
        )
        return decided

    def add_resolution(self, resolution: Resolution) -> None:
        """Record a resolution of an approved claim (one its type allows, for at most
        the accepted quantities: credits and replacements together, returns and
        repairs each on their own). The first one starts the resolution
        (``resolution_in_progress``). Records :class:`ClaimResolutionRecorded`."""
        if not isinstance(resolution, Resolution):
            raise ValidationError("must be a Resolution", path="resolution", value=resolution)
        self._require(_S.APPROVED, _S.RESOLUTION_IN_PROGRESS, doing="resolved")
        if resolution.kind not in self.claim_type.resolutions:
            allowed = ", ".join(sorted(k.value for k in self.claim_type.resolutions)) or "none"
            raise ValidationError(
                f"a {self.claim_type.name} claim is resolved by {allowed}, not "
                f"{resolution.kind.value}",
                path="kind",
                value=resolution.kind.value,
            )
        if any(r.id == resolution.id for r in self.resolutions):
            raise ConflictError(f"resolution {resolution.id!r} exists on claim {self.id!r}")
        if self.status is _S.APPROVED:  # the move it makes must be possible: check first
            self.check_move(_S.RESOLUTION_IN_PROGRESS, Party.AGENT, at=resolution.at)
        pool = next(p for p in _POOLS if resolution.kind in p)
        for rl in resolution.lines:
            line = self.line(rl.line_no)
            covered = _add(self.resolved_quantity(rl.line_no, pool), rl.quantity)
            if covered > line.accepted:
                raise ValidationError(
                    f"line {rl.line_no}: {covered} would be covered by "
                    f"{' and '.join(k.value for k in pool)}, but {line.accepted} is accepted",
                    path="lines",
                    value=rl.quantity,
                )
        self.resolutions = (*self.resolutions, resolution)
        if self.status is _S.APPROVED:
            self.transition(
                _S.RESOLUTION_IN_PROGRESS,
                party=Party.AGENT,
                by=resolution.by,
                at=resolution.at,
                note=f"{resolution.kind.value} {resolution.id}",
            )
        self.record(
            ClaimResolutionRecorded(
                company_id=self.company_id,
                occurred_at=resolution.at,
                claim_id=self.id,
                resolution_id=resolution.id,
                kind=resolution.kind.value,
                by=resolution.by,
            )
        )


# --- the conversation ----------------------------------------------------------------------


def _body(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("a message says something", path=attribute.name, value=value)
    if len(value) > 10_000:
        raise ValidationError(
            "a message is at most 10000 characters", path=attribute.name, value=len(value)
        )


def _message_attachments(value: object) -> tuple[Attachment, ...]:
    items: tuple[Attachment, ...] = _typed_tuple(Attachment, "attachments", value)
    if len(items) > 10:
        raise ValidationError("a message has at most 10 attachments", path="attachments")
    return items


@attrs.define
class ClaimMessage(Aggregate):
    """One message on a claim: who wrote it (and as which party), when, its text and
    attachments, and who reads it (``internal``: the seller's agents only).
    Messages are appended, never changed."""

    id: str = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(converter=_company_id)
    claim_id: ClaimId = attrs.field(converter=_claim_id)
    at: datetime = attrs.field(converter=_at)
    author: str = attrs.field(validator=identifier)
    party: Party = attrs.field(validator=enum_member(Party))
    body: str = attrs.field(validator=_body)
    visibility: Visibility = attrs.field(
        default=Visibility.PUBLIC, validator=enum_member(Visibility)
    )
    attachments: tuple[Attachment, ...] = attrs.field(factory=tuple, converter=_message_attachments)

    def __attrs_post_init__(self) -> None:
        if self.party is Party.CUSTOMER and self.visibility is Visibility.INTERNAL:
            raise ValidationError(
                "internal notes are the seller's: a customer's message is public",
                path="visibility",
                value=self.visibility.value,
            )

    @classmethod
    def post(
        cls,
        *,
        message_id: str,
        claim: Claim,
        at: datetime,
        author: str,
        party: Party,
        body: str,
        visibility: Visibility = Visibility.PUBLIC,
        attachments: Iterable[Attachment] = (),
    ) -> ClaimMessage:
        """A new message on ``claim`` (records :class:`ClaimMessagePosted`)."""
        if claim.status in FINAL_STATUSES:
            raise InvalidTransitionError("claim", claim.id, claim.status.value, "messaged")
        message = cls(
            id=message_id,
            company_id=claim.company_id,
            claim_id=claim.id,
            at=at,
            author=author,
            party=party,
            body=body,
            visibility=visibility,
            attachments=tuple(attachments),
        )
        message.record(
            ClaimMessagePosted(
                company_id=message.company_id,
                occurred_at=message.at,
                claim_id=claim.id,
                message_id=message.id,
                party=party.value,
                visibility=message.visibility.value,
            )
        )
        return message

    @property
    def public(self) -> bool:
        """Whether the customer reads it."""
        return self.visibility is Visibility.PUBLIC


# --- the tally of an order's claimed quantities --------------------------------------------


@attrs.frozen
class TallyEntry:
    """What one claim holds of one order line."""

    claim_id: ClaimId = attrs.field(converter=_claim_id)
    line_no: int = attrs.field(validator=_whole)
    quantity: Decimal = attrs.field(converter=_positive)


@attrs.frozen
class TallyCredit:
    """A credit note issued on one order line for one claim."""

    claim_id: ClaimId = attrs.field(converter=_claim_id)
    line_no: int = attrs.field(validator=_whole)
    amount: Money = attrs.field()
    credit_note_id: str = attrs.field(validator=identifier)

    @amount.validator
    def _positive_money(self, _attribute: object, value: object) -> None:
        if not isinstance(value, Money) or value.is_negative() or value.is_zero():
            raise ValidationError("must be a positive Money", path="amount", value=value)


def _entries(value: object) -> tuple[TallyEntry, ...]:
    entries: tuple[TallyEntry, ...] = _typed_tuple(TallyEntry, "entries", value)
    keys = [(e.claim_id, e.line_no) for e in entries]
    if len(set(keys)) != len(keys):
        raise ValidationError("one entry per claim and line", path="entries")
    return tuple(sorted(entries, key=lambda e: (e.line_no, e.claim_id)))


def _credits(value: object) -> tuple[TallyCredit, ...]:
    return _typed_tuple(TallyCredit, "credits", value)


@attrs.define
class ClaimTally(Aggregate):
    """What every claim holds of each line of one order, and what was credited.

    Stored with a version like every aggregate: a claim that changes what it holds
    of an order updates the order's tally in the same unit of work, so two claims
    racing for the last delivered units cannot both win (the second update is
    stale). Claims consult :meth:`held` before they hold more.

    >>> from decimal import Decimal
    >>> tally = ClaimTally(order_id="o-1", company_id="acme")
    >>> tally.hold("c-1", {1: Decimal(2)})
    >>> tally.hold("c-2", {1: Decimal(1), 2: Decimal(5)})
    >>> tally.held(1), tally.held(1, excluding="c-2")
    (Decimal('3'), Decimal('2'))
    """

    order_id: OrderId = attrs.field(converter=_order_id)
    company_id: CompanyId = attrs.field(converter=_company_id)
    entries: tuple[TallyEntry, ...] = attrs.field(factory=tuple, converter=_entries)
    credits: tuple[TallyCredit, ...] = attrs.field(factory=tuple, converter=_credits)

    def held(self, line_no: int, *, excluding: str | None = None) -> Decimal:
        """What the claims (but ``excluding``) hold of order line ``line_no``."""
        total = _ZERO
        for e in self.entries:
            if e.line_no == line_no and e.claim_id != excluding:
                total = _add(total, e.quantity)
        return total

    def held_by(self, claim_id: str) -> dict[int, Decimal]:
        """What claim ``claim_id`` holds, per order line."""
        return {e.line_no: e.quantity for e in self.entries if e.claim_id == claim_id}

    def hold(self, claim_id: str, quantities: Mapping[int, Decimal]) -> None:
        """Set what claim ``claim_id`` holds of each line (replacing what it held;
        lines not given, or given 0, are released). No check against deliveries:
        the caller checks (:func:`~b2bcore.claims.rules.check_held`)."""
        cid = ClaimId(check_id(claim_id, path="claim_id"))
        kept = [e for e in self.entries if e.claim_id != cid]
        kept += [
            TallyEntry(claim_id=cid, line_no=line_no, quantity=q)
            for line_no, q in quantities.items()
            if q != 0
        ]
        self.entries = _entries(kept)

    def credited(self, line_no: int, currency: str) -> Money:
        """What was credited on order line ``line_no`` (by every claim)."""
        total = Money.zero(currency)
        for c in self.credits:
            if c.line_no == line_no:
                total = total + c.amount
        return total

    def credit(self, claim_id: str, line_no: int, amount: Money, credit_note_id: str) -> None:
        """Count a credit note issued for ``claim_id`` on order line ``line_no``."""
        self.credits = (
            *self.credits,
            TallyCredit(
                claim_id=ClaimId(claim_id),
                line_no=line_no,
                amount=amount,
                credit_note_id=credit_note_id,
            ),
        )


# --- events ---------------------------------------------------------------------------------


@register_event
@attrs.frozen(kw_only=True)
class ClaimOpened(DomainEvent):
    """A claim was drafted."""

    event_type = "claims.claim_opened"
    claim_id: ClaimId
    type_id: ClaimTypeId
    requester_id: UserId
    by: str


@register_event
@attrs.frozen(kw_only=True)
class ClaimStatusChanged(DomainEvent):
    """A claim moved from one status to another."""

    event_type = "claims.claim_status_changed"
    claim_id: ClaimId
    from_status: str
    to_status: str
    by: str
    party: str
    note: str = ""


@register_event
@attrs.frozen(kw_only=True)
class ClaimLineDecided(DomainEvent):
    """The agent decided a claim line (accepted and rejected quantities)."""

    event_type = "claims.claim_line_decided"
    claim_id: ClaimId
    line_no: int
    accepted: Decimal
    rejected: Decimal
    by: str


@register_event
@attrs.frozen(kw_only=True)
class ClaimResolutionRecorded(DomainEvent):
    """A resolution (credit note, replacement, repair, return) was recorded."""

    event_type = "claims.claim_resolution_recorded"
    claim_id: ClaimId
    resolution_id: str
    kind: str
    by: str


@register_event
@attrs.frozen(kw_only=True)
class ClaimEvidenceAttached(DomainEvent):
    """A document was attached to a claim."""

    event_type = "claims.claim_evidence_attached"
    claim_id: ClaimId
    document_id: DocumentId
    media_type: str


@register_event
@attrs.frozen(kw_only=True)
class ClaimPriorityChanged(DomainEvent):
    """A claim's priority changed."""

    event_type = "claims.claim_priority_changed"
    claim_id: ClaimId
    from_priority: str
    to_priority: str
    by: str


@register_event
@attrs.frozen(kw_only=True)
class ClaimMessagePosted(DomainEvent):
    """A message was posted on a claim."""

    event_type = "claims.claim_message_posted"
    claim_id: ClaimId
    message_id: str
    party: str
    visibility: str
