"""Use-cases of the claims context: file, review, decide, resolve and talk about
claims, with SLA clocks in business time.

**Customers** — company users, or agents in an assisted session for one — draft
claims with ``claims.file`` (lines on the order lines they may see or on their
assets, evidence attached from the documents context), submit, cancel before the
review, answer information requests and reopen a resolved claim within its type's
window; they read claims and the public conversation with ``claims.view`` (own,
business unit and below, company).

**The seller's agents** act as ``Actor.operator_for(company_id, agent_id)``: they
review, request information, decide each line (accepted / rejected quantities),
approve or reject, and resolve — a credit note on the invoice, a free replacement
order, a repair appointment, a return under an RMA number — and post internal
notes.

Every move is the claim type's data (:class:`~b2bcore.claims.model.ClaimType`): a
move the lifecycle lacks is an :class:`~b2bcore.errors.InvalidTransitionError`, a
move for the other party a
:class:`~b2bcore.claims.errors.PartyNotAllowedError` (audited as denied). Every
command is authorized and audited in the same unit of work as its change, and so
are its effects in other contexts (the credit note on the invoice, the replacement
order): all of it or nothing.

**Quantities.** A claim line on an order line holds ``open + accepted`` of it
from submission on; the order's :class:`~b2bcore.claims.model.ClaimTally` is
updated in the same unit of work, so concurrent claims never hold more than was
delivered (the loser is retried and gets
:class:`~b2bcore.claims.errors.OverClaimError`). Credits never exceed what was
invoiced for a line (:class:`~b2bcore.claims.errors.CreditExceedsInvoicedError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from b2bcore._command import Command
from b2bcore.accounts.model import Actor, Permission
from b2bcore.accounts.rules import Access, AccessDecision, authorize
from b2bcore.accounts.rules import Resource as AccessResource
from b2bcore.assets.model import Asset
from b2bcore.calendar import BusinessCalendar
from b2bcore.claims._runner import Ask, denied, run, seller
from b2bcore.claims.errors import OverClaimError, PartyNotAllowedError
from b2bcore.claims.model import (
    Attachment,
    Claim,
    ClaimLine,
    ClaimMessage,
    ClaimStatus,
    ClaimTally,
    ClaimType,
    Party,
    Priority,
    Resolution,
    ResolutionKind,
    ResolutionLine,
    Visibility,
    standard_claim_types,
)
from b2bcore.claims.rules import (
    PAUSED_STATUSES,
    RUNNING_STATUSES,
    SlaStatus,
    available_to_claim,
    check_held,
    credit_for,
    decide_warranty,
    delivered_quantities,
    delivery_dates,
    replacement_order,
    rma_number,
    sla_status,
    warranty_months,
)
from b2bcore.clock import Clock
from b2bcore.documents._buyers import buyer_can_buy
from b2bcore.documents.rules import may_read
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
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
    as_id,
    new_id,
)
from b2bcore.money import Money, to_quantity
from b2bcore.orders.model import Invoice, Order, OrderLine
from b2bcore.orders.ports import Audience
from b2bcore.orders.rules import audience_for
from b2bcore.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, iterate
from b2bcore.scheduling.model import AppointmentStatus
from b2bcore.storage.ports import UnitOfWork

__all__ = ["ClaimsService", "default_calendar"]

R = TypeVar("R")

#: How often a command is retried when a concurrent one changed what it read (the
#: claim, an order's tally).
_RETRIES = 5
_CREDIT_POOL = (ResolutionKind.CREDIT_NOTE, ResolutionKind.REPLACEMENT)


def default_calendar() -> BusinessCalendar:
    """The service hours SLAs count in unless told otherwise: Monday to Friday,
    08:00-17:00 UTC.

    >>> default_calendar().describe()
    'Mon-Fri 08:00-17:00 (UTC)'
    """
    return BusinessCalendar.uniform("UTC", [("08:00", "17:00")])


def _party(actor: Actor) -> Party:
    return Party.AGENT if actor.operator else Party.CUSTOMER


def _company(actor: object) -> CompanyId:
    return actor.company_id if isinstance(actor, Actor) else CompanyId("")


def _text(value: object, *, path: str, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(
            f"must be a string of at most {max_length} characters", path=path, value=value
        )
    return value


def _priority(value: object) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        choices = ", ".join(p.value for p in Priority)
        raise ValidationError(
            f"{value!r} is not a priority (one of {choices})", path="priority", value=value
        ) from None


def _line_no(value: object, path: str = "line_no") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("must be a line number (1, 2, 3 …)", path=path, value=value)
    return value


def _quantities(value: object, path: str) -> dict[int, Decimal] | None:
    """``{claim line number: quantity}`` given by a caller (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError("must map line numbers to quantities", path=path, value=value)
    out: dict[int, Decimal] = {}
    for key, q in value.items():
        number = _line_no(key, path)
        quantity = to_quantity(q, path=f"{path}[{number}]")
        if quantity <= 0:
            raise ValidationError("must be positive", path=f"{path}[{number}]", value=q)
        out[number] = quantity
    if not out:
        raise ValidationError("name at least one line", path=path, value=value)
    return out


def _document_ids(value: object, path: str) -> list[DocumentId]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of document ids", path=path, value=value)
    return [as_id(DocumentId, d, path=f"{path}[{i}]") for i, d in enumerate(value)]


def _sees(cmd: Command, permission: Permission, resource: AccessResource) -> bool:
    if cmd.actor.operator:
        return True
    return authorize(cmd.actor, permission, access=cmd.access, resource=resource, at=cmd.at).allowed


class ClaimsService:
    """Claims use-cases over any store (via a unit-of-work factory).

    ``types`` are the claim types offered (default:
    :func:`~b2bcore.claims.model.standard_claim_types`); ``calendar`` the business
    hours the SLA clocks count in (default: :func:`default_calendar`).
    """

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        types: Iterable[ClaimType] | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        offered = tuple(standard_claim_types() if types is None else types)
        registry: dict[str, ClaimType] = {}
        for i, t in enumerate(offered):
            if not isinstance(t, ClaimType):
                raise ValidationError("must be a ClaimType", path=f"types[{i}]", value=t)
            if t.id in registry:
                raise ValidationError(f"claim type {t.id!r} is given twice", path=f"types[{i}]")
            registry[t.id] = t
        self._types = registry
        if calendar is not None and not isinstance(calendar, BusinessCalendar):
            raise ValidationError("must be a BusinessCalendar", path="calendar", value=calendar)
        self.calendar = calendar if calendar is not None else default_calendar()

    # == plumbing ==========================================================================
    def claim_types(self) -> list[ClaimType]:
        """The claim types offered, in the order given."""
        return list(self._types.values())

    def claim_type(self, type_id: str) -> ClaimType:
        """One claim type (NotFoundError naming the offered ones if unknown)."""
        tid = as_id(ClaimTypeId, type_id, path="type_id")
        found = self._types.get(tid)
        if found is None:
            raise NotFoundError(
                "claim type",
                tid,
                f"claim type {tid!r} is not offered (offered: {', '.join(self._types)})",
            )
        return found

    @staticmethod
    def _retrying(attempt: Callable[[], Claim]) -> Claim:
        for _ in range(_RETRIES - 1):
            try:
                return attempt()
            except (ConcurrencyError, DuplicateError):
                continue
        return attempt()

    @staticmethod
    def _may(
        actor: Actor,
        permission: Permission,
        access: Access,
        at: datetime,
        resource: AccessResource | None,
    ) -> AccessDecision:
        return authorize(actor, permission, access=access, resource=resource, at=at)

    def _customer_decision(
        self, actor: Actor, access: Access, at: datetime, claim: Claim
    ) -> tuple[AccessDecision, str]:
        """``claims.file`` and a view scope that reaches the claim."""
        resource = claim.access_resource()
        decision = self._may(actor, Permission.CLAIMS_FILE, access, at, resource)
        if not decision.allowed:
            return decision, Permission.CLAIMS_FILE.value
        decision = self._may(actor, Permission.CLAIMS_VIEW, access, at, resource)
        return decision, Permission.CLAIMS_VIEW.value

    def _command(
        self,
        actor: Actor,
        claim_id: str,
        *,
        action: str,
        change: Callable[[Command, Claim], None],
        move: ClaimStatus | None = None,
        who: Party | None = None,
    ) -> Claim:
        """Load a claim, authorize (the party of the move or ``who``; a customer
        needs ``claims.file`` and a view scope reaching the claim), apply ``change``,
        keep the order tallies in step, store — retried on a concurrent change."""
        cid = as_id(ClaimId, claim_id, path="claim_id")
        company = _company(actor)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> Ask[Claim]:
            claim = uow.claims.get(cid, company_id=company)
            party = _party(actor)
            if move is not None:
                try:
                    claim.check_move(move, party, at=at)
                except PartyNotAllowedError as e:
                    return Ask(denied("party_not_allowed", e.message), claim, "claims.transition")
            if who is Party.AGENT:
                return Ask(seller(actor), claim)
            if who is Party.CUSTOMER and actor.operator:
                reason = "only the customer does this (an agent acts in an assisted session)"
                return Ask(denied("customer_only", reason), claim)
            if actor.operator:
                return Ask(seller(actor), claim)
            decision, permission = self._customer_decision(actor, access, at, claim)
            return Ask(decision, claim, permission)

        def body(cmd: Command, claim: Claim) -> Claim:
            change(cmd, claim)
            self._sync(cmd.uow, claim)
            cmd.uow.claims.update(claim)
            return claim

        return self._retrying(
            lambda: run(
                self._uow,
                self._clock,
                actor,
                action=action,
                target=f"claim:{cid}",
                ask=ask,
                body=body,
                detail=lambda c: f"{c.status.value}",
            )
        )

    @staticmethod
    def _sync(uow: UnitOfWork, claim: Claim) -> None:
        """Bring the tallies of the claim's orders in step with what it holds (each
        growing holding checked against what is delivered and not held by others)."""
        for order_id in claim.order_ids:
            order = uow.orders.get(order_id, company_id=claim.company_id)
            try:
                tally: ClaimTally | None = uow.claim_tallies.get(
                    order_id, company_id=claim.company_id
                )
            except NotFoundError:
                tally = None
            current = tally or ClaimTally(order_id=order_id, company_id=claim.company_id)
            shipments = uow.shipments.for_order(order_id, company_id=claim.company_id)
            wanted = check_held(claim, order, delivered_quantities(order, shipments), current)
            if wanted == current.held_by(claim.id):
                continue
            current.hold(claim.id, wanted)
            if tally is None:
                uow.claim_tallies.add(current)
            else:
                uow.claim_tallies.update(current)

    # == customers: drafting ===============================================================
    def open_claim(
        self,
        actor: Actor,
        *,
        type_id: str,
        title: str,
        description: str = "",
        priority: Priority = Priority.NORMAL,
        business_unit_id: str | None = None,
    ) -> Claim:
        """Draft a claim of type ``type_id`` (``claims.file``), for
        ``business_unit_id`` (default: the user's first business unit)."""
        claim_type = self.claim_type(type_id)
        level = _priority(priority)
        unit = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        company = _company(actor)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> Ask[BusinessUnitId | None]:
            if actor.operator:
                reason = "claims are filed by the customer (an agent acts in an assisted session)"
                return Ask(denied("customer_only", reason), unit)
            chosen = unit
            if chosen is None and access.user is not None:
                chosen = access.user.business_unit_ids[0]
            resource = AccessResource(
                "claim", "new", company, owner_id=actor.on_behalf_of, business_unit_id=chosen
            )
            decision = self._may(actor, Permission.CLAIMS_FILE, access, at, resource)
            return Ask(decision, chosen, Permission.CLAIMS_FILE.value)

        def body(cmd: Command, chosen: BusinessUnitId | None) -> Claim:
            if chosen is not None:
                cmd.uow.business_units.get(chosen, company_id=company)
            claim = Claim.open(
                claim_id=new_id(),
                company_id=company,
                claim_type=claim_type,
                requester_id=cmd.actor.on_behalf_of,
                by=cmd.actor.acted_by,
                at=cmd.at,
                title=title,
                description=description,
                priority=level,
                business_unit_id=chosen,
            )
            cmd.uow.claims.add(claim)
            return claim

        return run(
            self._uow,
            self._clock,
            actor,
            action="claim.open",
            target="claim:new",
            ask=ask,
            body=body,
            detail=lambda c: f"{c.id} ({c.type_id})",
        )

    def edit(
        self,
        actor: Actor,
        claim_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
    ) -> Claim:
        """Change a draft's title or description."""
        return self._command(
            actor,
            claim_id,
            action="claim.edit",
            change=lambda _cmd, c: c.edit(title=title, description=description),
            who=Party.CUSTOMER,
        )

    def add_order_line(
        self,
        actor: Actor,
        claim_id: str,
        *,
        order_id: str,
        quantity: Decimal | int | str,
        line_no: int | None = None,
        sku: str | None = None,
        serial_number: str | None = None,
        reason: str = "",
    ) -> Claim:
        """Claim ``quantity`` of an order line (by its ``line_no`` or ``sku``) of an
        order the actor may see. At most what was delivered of it and is not held by
        other claims (:class:`~b2bcore.claims.errors.OverClaimError`)."""
        oid = as_id(OrderId, order_id, path="order_id")
        if (line_no is None) == (sku is None):
            raise ValidationError("name the order line by line_no or by sku", path="line_no")
        number = None if line_no is None else _line_no(line_no)
        code = None if sku is None else as_id(Sku, sku, path="sku")
        amount = to_quantity(quantity, path="quantity")

        def change(cmd: Command, claim: Claim) -> None:
            order = cmd.uow.orders.get(oid, company_id=claim.company_id)
            resource = AccessResource(
                "order",
                order.id,
                order.company_id,
                owner_id=order.requester_id,
                business_unit_id=order.business_unit_id,
            )
            if not _sees(cmd, Permission.ORDERS_VIEW, resource):
                raise NotFoundError("order", oid)
            line = _order_line(order, number, code)
            claim.add_line(
                ClaimLine(
                    line_no=len(claim.lines) + 1,
                    sku=line.sku,
                    quantity=amount,
                    order_id=order.id,
                    order_line_no=line.line_no,
                    serial_number=serial_number,
                    reason=reason,
                )
            )
            _precheck(cmd.uow, claim, order)

        return self._command(
            actor, claim_id, action="claim.add_line", change=change, who=Party.CUSTOMER
        )

    def add_asset_line(
        self,
        actor: Actor,
        claim_id: str,
        *,
        asset_id: str,
        quantity: Decimal | int | str = 1,
        reason: str = "",
    ) -> Claim:
        """Claim about an installed asset the actor may see (not decommissioned).
        When the asset came with an order that has a line for its SKU, the claim line
        names that order line too (and counts against its delivered quantity)."""
        aid = as_id(AssetId, asset_id, path="asset_id")
        amount = to_quantity(quantity, path="quantity")

        def change(cmd: Command, claim: Claim) -> None:
            asset = cmd.uow.assets.get(aid, company_id=claim.company_id)
            resource = AccessResource(
                "asset",
                asset.id,
                asset.company_id,
                owner_id=asset.registered_by,
                business_unit_id=asset.business_unit_id,
            )
            if not _sees(cmd, Permission.ASSETS_VIEW, resource):
                raise NotFoundError("asset", aid)
            if not asset.in_service:
                raise ConflictError(f"asset {asset.serial_number} is decommissioned")
            order, order_line = _asset_order_line(cmd.uow, asset)
            claim.add_line(
                ClaimLine(
                    line_no=len(claim.lines) + 1,
                    sku=asset.sku,
                    quantity=amount,
                    asset_id=asset.id,
                    serial_number=asset.serial_number,
                    order_id=None if order is None else order.id,
                    order_line_no=None if order_line is None else order_line.line_no,
                    reason=reason,
                )
            )
            if order is not None:
                _precheck(cmd.uow, claim, order)

        return self._command(
            actor, claim_id, action="claim.add_line", change=change, who=Party.CUSTOMER
        )

    def remove_line(self, actor: Actor, claim_id: str, line_no: int) -> Claim:
        """Remove a line of a draft."""
        number = _line_no(line_no)
        return self._command(
            actor,
            claim_id,
            action="claim.remove_line",
            change=lambda _cmd, c: c.remove_line(number),
            who=Party.CUSTOMER,
        )

    def attach(self, actor: Actor, claim_id: str, document_id: str) -> Claim:
        """Attach a document of the company that the actor may read (a photo, a
        delivery note …) to an open claim as evidence."""
        did = as_id(DocumentId, document_id, path="document_id")

        def change(cmd: Command, claim: Claim) -> None:
            claim.attach(_attachment(cmd, claim, did))

        return self._command(actor, claim_id, action="claim.attach", change=change)

    # == the lifecycle =====================================================================
    def _move(
        self,
        actor: Actor,
        claim_id: str,
        to: ClaimStatus,
        *,
        action: str,
        note: str = "",
        before: Callable[[Command, Claim], None] | None = None,
        after: Callable[[Command, Claim], None] | None = None,
    ) -> Claim:
        text = _text(note, path="note", max_length=2000)

        def change(cmd: Command, claim: Claim) -> None:
            if before is not None:
                before(cmd, claim)
            claim.transition(
                to, party=_party(cmd.actor), by=cmd.actor.acted_by, at=cmd.at, note=text
            )
            if after is not None:
                after(cmd, claim)

        return self._command(actor, claim_id, action=action, change=change, move=to)

    def submit(self, actor: Actor, claim_id: str) -> Claim:
        """Submit a draft: its evidence must be complete
        (:class:`~b2bcore.claims.errors.MissingEvidenceError` lists what is
        missing); warranty claims get a warranty decision on every line; the lines
        now hold their order lines' quantities. The SLA clocks start."""

        def before(cmd: Command, claim: Claim) -> None:
            if claim.claim_type.checks_warranty:
                _decide_warranties(cmd, claim)

        return self._move(
            actor, claim_id, ClaimStatus.SUBMITTED, action="claim.submit", before=before
        )

    def cancel(self, actor: Actor, claim_id: str, *, reason: str = "") -> Claim:
        """The customer withdraws a claim before its review (draft or submitted);
        what it held is released."""
        return self._move(
            actor, claim_id, ClaimStatus.CANCELLED, action="claim.cancel", note=reason
        )

    def start_review(self, actor: Actor, claim_id: str) -> Claim:
        """An agent takes a submitted claim into review."""
        return self._move(actor, claim_id, ClaimStatus.IN_REVIEW, action="claim.review")

    def request_info(self, actor: Actor, claim_id: str, message: str) -> Claim:
        """An agent asks the customer for information (``info_requested``: the SLA
        clocks pause) with a public message."""

        def after(cmd: Command, claim: Claim) -> None:
            _post(cmd, claim, message, Visibility.PUBLIC, ())

        return self._move(
            actor,
            claim_id,
            ClaimStatus.INFO_REQUESTED,
            action="claim.request_info",
            note=_text(message, path="message", max_length=2000),
            after=after,
        )

    def provide_info(
        self,
        actor: Actor,
        claim_id: str,
        message: str,
        *,
        attachments: Iterable[str] = (),
    ) -> Claim:
        """The customer answers an information request with a message (and
        documents, attached to the claim as evidence too); the claim goes back into
        review and the SLA clocks run on."""
        ids = _document_ids(attachments, "attachments")

        def after(cmd: Command, claim: Claim) -> None:
            files = [_attachment(cmd, claim, d) for d in ids]
            for f in files:
                claim.attach(f)
            _post(cmd, claim, message, Visibility.PUBLIC, files)

        return self._move(
            actor, claim_id, ClaimStatus.IN_REVIEW, action="claim.provide_info", after=after
        )

    def resume_review(self, actor: Actor, claim_id: str, *, note: str = "") -> Claim:
        """An agent takes a claim back into review without waiting for the answer."""
        return self._move(actor, claim_id, ClaimStatus.IN_REVIEW, action="claim.review", note=note)

    def decide_line(
        self,
        actor: Actor,
        claim_id: str,
        line_no: int,
        *,
        accepted: Decimal | int | str,
        rejected: Decimal | int | str,
    ) -> Claim:
        """An agent decides a line under review: ``accepted`` and ``rejected``
        quantities (together at most the claimed quantity; the rest stays open)."""
        number = _line_no(line_no)
        return self._command(
            actor,
            claim_id,
            action="claim.decide_line",
            change=lambda cmd, c: _decided(
                c.decide(
                    number,
                    accepted=accepted,
                    rejected=rejected,
                    by=cmd.actor.acted_by,
                    at=cmd.at,
                )
            ),
            who=Party.AGENT,
        )

    def approve(
        self,
        actor: Actor,
        claim_id: str,
        *,
        accept: Mapping[int, Decimal | int | str] | None = None,
        note: str = "",
    ) -> Claim:
        """An agent approves a claim under review. ``accept`` sets the accepted
        quantity of lines (the rest of each line is rejected); lines not named keep
        their decision and have their open quantity accepted. Without ``accept``
        every open quantity is accepted."""
        chosen = _quantities(accept, "accept")

        def before(cmd: Command, claim: Claim) -> None:
            for line in claim.lines:
                if chosen is not None and line.line_no in chosen:
                    q = chosen[line.line_no]
                    claim.decide(
                        line.line_no,
                        accepted=q,
                        rejected=line.quantity - q if q <= line.quantity else 0,
                        by=cmd.actor.acted_by,
                        at=cmd.at,
                    )
                elif line.open > 0:
                    claim.decide(
                        line.line_no,
                        accepted=line.accepted + line.open,
                        rejected=line.rejected,
                        by=cmd.actor.acted_by,
                        at=cmd.at,
                    )
            if chosen is not None:
                for number in chosen:
                    claim.line(number)

        return self._move(
            actor, claim_id, ClaimStatus.APPROVED, action="claim.approve", note=note, before=before
        )

    def reject(self, actor: Actor, claim_id: str, *, reason: str) -> Claim:
        """An agent rejects a claim under review (every open quantity rejected and
        released), saying why."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("say why the claim is rejected", path="reason", value=reason)
        return self._move(actor, claim_id, ClaimStatus.REJECTED, action="claim.reject", note=reason)

    def resolve(self, actor: Actor, claim_id: str, *, note: str = "") -> Claim:
        """An agent marks a claim whose resolution is done as ``resolved`` (a general
        inquiry: answered)."""
        return self._move(actor, claim_id, ClaimStatus.RESOLVED, action="claim.resolve", note=note)

    def reopen(self, actor: Actor, claim_id: str, *, reason: str) -> Claim:
        """The customer reopens a resolved (or rejected) claim within its type's
        window (:class:`~b2bcore.claims.errors.ReopenWindowClosedError` after it);
        it goes back into review and its clocks run on."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("say why the claim is reopened", path="reason", value=reason)
        return self._move(
            actor, claim_id, ClaimStatus.IN_REVIEW, action="claim.reopen", note=reason
        )

    def close(self, actor: Actor, claim_id: str) -> Claim:
        """Close a resolved or rejected claim for good."""
        return self._move(actor, claim_id, ClaimStatus.CLOSED, action="claim.close")

    def set_priority(self, actor: Actor, claim_id: str, priority: Priority) -> Claim:
        """An agent changes an open claim's priority (its SLA targets follow)."""
        level = _priority(priority)
        return self._command(
            actor,
            claim_id,
            action="claim.set_priority",
            change=lambda cmd, c: c.set_priority(level, by=cmd.actor.acted_by, at=cmd.at),
            who=Party.AGENT,
        )

    # == resolutions ==========================================================================
    def _resolve_with(
        self,
        actor: Actor,
        claim_id: str,
        *,
        action: str,
        make: Callable[[Command, Claim], Resolution],
    ) -> Claim:
        def change(cmd: Command, claim: Claim) -> None:
            claim.add_resolution(make(cmd, claim))

        return self._command(actor, claim_id, action=action, change=change, who=Party.AGENT)

    def credit(
        self,
        actor: Actor,
        claim_id: str,
        *,
        lines: Mapping[int, Decimal | int | str] | None = None,
        invoice_id: str | None = None,
        amount: Money | None = None,
        note: str = "",
    ) -> Claim:
        """Resolve with a credit note on the invoice of the claimed order lines.

        ``lines`` (claim line → quantity; default: every accepted quantity not yet
        credited or replaced) must be of one order. The amount is the invoiced
        value of those quantities, or ``amount`` (one line only) if lower; never more
        than was invoiced for a line and not credited already. The credit note is
        issued on ``invoice_id`` (default: the newest invoice of the order that has
        the lines and enough left to credit) in the same unit of work."""
        chosen = _quantities(lines, "lines")
        wanted_invoice = (
            None if invoice_id is None else as_id(InvoiceId, invoice_id, path="invoice_id")
        )
        if amount is not None and not isinstance(amount, Money):
            raise ValidationError("must be Money or None", path="amount", value=amount)
        text = _text(note, path="note", max_length=2000)

        def make(cmd: Command, claim: Claim) -> Resolution:
            quantities = chosen or _remaining(claim, _CREDIT_POOL)
            order = _one_order(cmd.uow, claim, quantities)
            tally = _tally(cmd.uow, order)
            if amount is not None and len(quantities) != 1:
                raise ValidationError(
                    "an explicit amount credits one line at a time", path="amount", value=amount
                )
            per_line: dict[int, Money] = {}
            for number, q in quantities.items():
                ref = claim.line(number).order_line
                assert ref is not None
                per_line[ref[1]] = credit_for(_by_line(order, ref[1]), q, tally, amount=amount)
            total = sum(per_line.values(), Money.zero(order.currency))
            invoice = _invoice_for(cmd.uow, order, set(per_line), total, wanted_invoice)
            credit_id = f"CN-{new_id()}"
            invoice.credit(
                total,
                reason=f"claim {claim.id}: {claim.title}"[:500],
                at=cmd.at,
                credit_id=credit_id,
                reference=claim.id,
            )
            cmd.uow.invoices.update(invoice)
            for order_line_no, money in per_line.items():
                tally.credit(claim.id, order_line_no, money, credit_id)
            _store_tally(cmd.uow, tally)
            return Resolution(
                id=new_id(),
                kind=ResolutionKind.CREDIT_NOTE,
                at=cmd.at,
                by=cmd.actor.acted_by,
                lines=[ResolutionLine(n, q) for n, q in sorted(quantities.items())],
                amount=total,
                invoice_id=invoice.id,
                credit_note_id=credit_id,
                note=text,
            )

        return self._resolve_with(actor, claim_id, action="claim.credit", make=make)

    def replace(
        self,
        actor: Actor,
        claim_id: str,
        *,
        lines: Mapping[int, Decimal | int | str] | None = None,
        note: str = "",
    ) -> Claim:
        """Resolve with a free replacement order (placed for the claim's requester,
        at zero total, referring to the claim) for ``lines`` (claim line →
        quantity; default: every accepted quantity not yet credited or replaced), of
        one order. The order is stored in the same unit of work and shipped like any
        order."""
        chosen = _quantities(lines, "lines")
        text = _text(note, path="note", max_length=2000)

        def make(cmd: Command, claim: Claim) -> Resolution:
            quantities = chosen or _remaining(claim, _CREDIT_POOL)
            original = _one_order(cmd.uow, claim, quantities)
            replacement = replacement_order(
                claim,
                original,
                quantities,
                order_id=new_id(),
                at=cmd.at,
                by=cmd.actor.acted_by,
            )
            cmd.uow.orders.add(replacement)
            return Resolution(
                id=new_id(),
                kind=ResolutionKind.REPLACEMENT,
                at=cmd.at,
                by=cmd.actor.acted_by,
                lines=[ResolutionLine(n, q) for n, q in sorted(quantities.items())],
                order_id=replacement.id,
                note=text,
            )

        return self._resolve_with(actor, claim_id, action="claim.replace", make=make)

    def schedule_repair(
        self,
        actor: Actor,
        claim_id: str,
        booking_id: str,
        *,
        lines: Mapping[int, Decimal | int | str] | None = None,
        note: str = "",
    ) -> Claim:
        """Resolve with a repair: link the service appointment ``booking_id`` (held or
        booked for this claim, not cancelled) for ``lines`` (default: the accepted
        quantities of the asset lines not yet under repair)."""
        bid = as_id(BookingId, booking_id, path="booking_id")
        chosen = _quantities(lines, "lines")
        text = _text(note, path="note", max_length=2000)

        def make(cmd: Command, claim: Claim) -> Resolution:
            booking = cmd.uow.bookings.get(bid, company_id=claim.company_id)
            if booking.claim_id != claim.id:
                raise ValidationError(
                    f"appointment {bid!r} is not for claim {claim.id!r}: book it with "
                    f"claim_id={claim.id!r}",
                    path="booking_id",
                    value=bid,
                )
            if booking.status is AppointmentStatus.CANCELLED:
                raise ConflictError(f"appointment {bid!r} is cancelled")
            quantities = chosen
            if quantities is None:
                pool = (ResolutionKind.REPAIR,)
                quantities = {
                    n: q
                    for n, q in _remaining(claim, pool, strict=False).items()
                    if claim.line(n).asset_id is not None
                }
            return Resolution(
                id=new_id(),
                kind=ResolutionKind.REPAIR,
                at=cmd.at,
                by=cmd.actor.acted_by,
                lines=[ResolutionLine(n, q) for n, q in sorted(quantities.items())],
                booking_id=booking.id,
                note=text,
            )

        return self._resolve_with(actor, claim_id, action="claim.schedule_repair", make=make)

    def authorize_return(
        self,
        actor: Actor,
        claim_id: str,
        *,
        lines: Mapping[int, Decimal | int | str] | None = None,
        note: str = "",
    ) -> Claim:
        """Resolve (or prepare a credit or replacement) with a return: the goods of
        ``lines`` (default: every accepted quantity not yet returned) come back under
        a new RMA number (``RMA-<claim>-<n>``)."""
        chosen = _quantities(lines, "lines")
        text = _text(note, path="note", max_length=2000)

        def make(cmd: Command, claim: Claim) -> Resolution:
            quantities = chosen or _remaining(claim, (ResolutionKind.RETURN,))
            returns = sum(1 for r in claim.resolutions if r.kind is ResolutionKind.RETURN)
            return Resolution(
                id=new_id(),
                kind=ResolutionKind.RETURN,
                at=cmd.at,
                by=cmd.actor.acted_by,
                lines=[ResolutionLine(n, q) for n, q in sorted(quantities.items())],
                rma_number=rma_number(claim.id, returns + 1),
                note=text,
            )

        return self._resolve_with(actor, claim_id, action="claim.return", make=make)

    # == the conversation ======================================================================
    def post_message(
        self,
        actor: Actor,
        claim_id: str,
        body: str,
        *,
        visibility: Visibility = Visibility.PUBLIC,
        attachments: Iterable[str] = (),
    ) -> ClaimMessage:
        """Post a message on an open claim: customers post public messages; agents
        public ones (the first is the first response) or internal notes the customer
        never sees. Attachments are documents of the company the author may read."""
        cid = as_id(ClaimId, claim_id, path="claim_id")
        if not isinstance(visibility, Visibility):
            raise ValidationError("must be a Visibility", path="visibility", value=visibility)
        ids = _document_ids(attachments, "attachments")
        posted: list[ClaimMessage] = []

        def change(cmd: Command, claim: Claim) -> None:
            files = [_attachment(cmd, claim, d) for d in ids]
            posted.append(_post(cmd, claim, body, visibility, files))

        self._command(actor, cid, action="claim.message", change=change)
        return posted[-1]

    def messages(
        self,
        actor: Actor,
        claim_id: str,
        *,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ClaimMessage]:
        """A claim's conversation, oldest first: the customer reads the public
        messages, agents everything. Keep the last page's cursor to read only new
        messages later (live support)."""
        cid = as_id(ClaimId, claim_id, path="claim_id")
        company = _company(actor)

        def body(cmd: Command, claim: Claim) -> Page[ClaimMessage]:
            return cmd.uow.claim_messages.list(
                claim.id,
                company_id=company,
                visibility=None if cmd.actor.operator else Visibility.PUBLIC,
                limit=limit,
                cursor=cursor,
            )

        return self._view(actor, cid, action="claim.messages", body=body)

    # == reading ==================================================================================
    def get(self, actor: Actor, claim_id: str) -> Claim:
        """One claim, if the actor's ``claims.view`` scope reaches it (agents see
        every claim of the company)."""
        cid = as_id(ClaimId, claim_id, path="claim_id")
        return self._view(actor, cid, action="claim.read", body=lambda _cmd, c: c)

    def sla(self, actor: Actor, claim_id: str) -> SlaStatus:
        """The claim's SLA now: elapsed business time, due instants, breach flags
        and the customer-facing ETA (:func:`~b2bcore.claims.rules.sla_status`)."""
        cid = as_id(ClaimId, claim_id, path="claim_id")
        return self._view(
            actor,
            cid,
            action="claim.sla",
            body=lambda cmd, c: sla_status(c, self.calendar, cmd.at),
        )

    def claims(
        self,
        actor: Actor,
        *,
        statuses: Iterable[ClaimStatus] | None = None,
        type_id: str | None = None,
        asset_id: str | None = None,
        order_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Claim]:
        """The claims the actor may see, newest first, filtered by status, type, an
        asset or an order on any line."""
        tid = None if type_id is None else as_id(ClaimTypeId, type_id, path="type_id")
        aid = None if asset_id is None else as_id(AssetId, asset_id, path="asset_id")
        oid = None if order_id is None else as_id(OrderId, order_id, path="order_id")
        company = _company(actor)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> Ask[Audience | None]:
            if actor.operator:
                return Ask(seller(actor), None)
            decision, audience = audience_for(actor, Permission.CLAIMS_VIEW, access=access, at=at)
            return Ask(decision, audience, Permission.CLAIMS_VIEW.value)

        def body(cmd: Command, audience: Audience | None) -> Page[Claim]:
            return cmd.uow.claims.list(
                company_id=company,
                statuses=statuses,
                type_id=tid,
                asset_id=aid,
                order_id=oid,
                audience=audience,
                limit=limit,
                cursor=cursor,
            )

        return run(
            self._uow,
            self._clock,
            actor,
            action="claim.list",
            target="claims",
            ask=ask,
            body=body,
            write=False,
        )

    def sla_breaches(self, actor: Actor, *, limit: int = MAX_LIMIT) -> list[SlaStatus]:
        """For agents: the open claims whose first-response or resolution target is
        breached now, most overdue first."""
        company = _company(actor)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> Ask[None]:
            return Ask(seller(actor), None)

        def body(cmd: Command, _: None) -> list[SlaStatus]:
            live = RUNNING_STATUSES | PAUSED_STATUSES
            found = [
                sla_status(c, self.calendar, cmd.at)
                for c in iterate(
                    lambda cur: cmd.uow.claims.list(
                        company_id=company, statuses=live, limit=MAX_LIMIT, cursor=cur
                    )
                )
            ]
            breached = [s for s in found if s.breached]
            breached.sort(key=_overdue, reverse=True)
            return breached[:limit]

        return run(
            self._uow,
            self._clock,
            actor,
            action="claim.sla_breaches",
            target="claims",
            ask=ask,
            body=body,
            write=False,
        )

    def _view(
        self,
        actor: Actor,
        claim_id: ClaimId,
        *,
        action: str,
        body: Callable[[Command, Claim], R],
    ) -> R:
        company = _company(actor)

        def ask(uow: UnitOfWork, access: Access, at: datetime) -> Ask[Claim]:
            claim = uow.claims.get(claim_id, company_id=company)
            if actor.operator:
                return Ask(seller(actor), claim)
            decision = self._may(actor, Permission.CLAIMS_VIEW, access, at, claim.access_resource())
            return Ask(decision, claim, Permission.CLAIMS_VIEW.value)

        return run(
            self._uow,
            self._clock,
            actor,
            action=action,
            target=f"claim:{claim_id}",
            ask=ask,
            body=body,
            write=False,
        )


# --- helpers of the commands -------------------------------------------------------------------


def _overdue(status: SlaStatus) -> tuple[timedelta, timedelta]:
    """How far past its targets a claim is (resolution first)."""
    over = [
        clock.elapsed - clock.target if clock is not None else timedelta(0)
        for clock in (status.resolution, status.first_response)
    ]
    return over[0], over[1]


def _decided(_line: ClaimLine) -> None:
    """A decision was recorded (nothing else to do)."""


def _order_line(order: Order, line_no: int | None, sku: str | None) -> OrderLine:
    if sku is not None:
        return order.line_for(sku)
    for line in order.lines:
        if line.line_no == line_no:
            return line
    raise ValidationError(
        f"order {order.id!r} has lines 1 to {len(order.lines)}", path="line_no", value=line_no
    )


def _by_line(order: Order, line_no: int) -> OrderLine:
    return _order_line(order, line_no, None)


def _asset_order_line(uow: UnitOfWork, asset: Asset) -> tuple[Order | None, OrderLine | None]:
    """The order line an asset came with, if its order is known and has its SKU."""
    if asset.order_id is None:
        return None, None
    try:
        order = uow.orders.get(asset.order_id, company_id=asset.company_id)
    except NotFoundError:
        return None, None
    for line in order.lines:
        if line.sku == asset.sku:
            return order, line
    return None, None


def _tally(uow: UnitOfWork, order: Order) -> ClaimTally:
    try:
        return uow.claim_tallies.get(order.id, company_id=order.company_id)
    except NotFoundError:
        return ClaimTally(order_id=order.id, company_id=order.company_id)


def _store_tally(uow: UnitOfWork, tally: ClaimTally) -> None:
    if tally.version == 0:
        uow.claim_tallies.add(tally)
    else:
        uow.claim_tallies.update(tally)


def _precheck(uow: UnitOfWork, claim: Claim, order: Order) -> None:
    """Early feedback while drafting: each line on ``order`` fits in what is
    delivered and not held by other claims (checked for good at submission)."""
    tally = _tally(uow, order)
    delivered = delivered_quantities(
        order, uow.shipments.for_order(order.id, company_id=order.company_id)
    )
    for line in claim.lines:
        ref = line.order_line
        if ref is None or ref[0] != order.id:
            continue
        left = available_to_claim(delivered, tally, ref[1], claim_id=claim.id)
        if line.quantity > left:
            raise OverClaimError(
                order_id=order.id,
                line_no=ref[1],
                sku=line.sku,
                requested=line.quantity,
                available=left,
            )


def _attachment(cmd: Command, claim: Claim, document_id: DocumentId) -> Attachment:
    """A document of the claim's company that the actor may read, as an attachment."""
    document = cmd.uow.documents.get(document_id, company_id=claim.company_id)
    decision = may_read(
        document,
        cmd.actor,
        access=cmd.access,
        at=cmd.at,
        can_buy=buyer_can_buy(cmd.uow, cmd.actor, cmd.access),
    )
    if not decision.allowed:
        raise NotFoundError("document", document_id)
    latest = document.latest
    return Attachment(
        document_id=document.id,
        name=latest.filename,
        media_type=latest.media_type,
        added_at=cmd.at,
        added_by=cmd.actor.acted_by,
    )


def _post(
    cmd: Command,
    claim: Claim,
    body: str,
    visibility: Visibility,
    attachments: Sequence[Attachment],
) -> ClaimMessage:
    party = _party(cmd.actor)
    message = ClaimMessage.post(
        message_id=new_id(),
        claim=claim,
        at=cmd.at,
        author=cmd.actor.acted_by,
        party=party,
        body=body,
        visibility=visibility,
        attachments=attachments,
    )
    cmd.uow.claim_messages.add(message)
    if party is Party.AGENT and visibility is Visibility.PUBLIC:
        claim.responded(cmd.at)
    return message


def _decide_warranties(cmd: Command, claim: Claim) -> None:
    """Record a warranty decision on every line (at submission)."""
    uow = cmd.uow
    dates: dict[str, dict[int, datetime]] = {}
    for line in claim.lines:
        asset = (
            None
            if line.asset_id is None
            else uow.assets.get(line.asset_id, company_id=claim.company_id)
        )
        delivered_at = None
        ref = line.order_line
        if ref is None and asset is not None:
            order, order_line = _asset_order_line(uow, asset)
            if order is not None and order_line is not None:
                ref = (order.id, order_line.line_no)
        if ref is not None:
            if ref[0] not in dates:
                order = uow.orders.get(ref[0], company_id=claim.company_id)
                dates[ref[0]] = delivery_dates(
                    order, uow.shipments.for_order(order.id, company_id=claim.company_id)
                )
            delivered_at = dates[ref[0]].get(ref[1])
        try:
            product = uow.products.get(line.sku)
        except NotFoundError:
            product = None
        claim.record_warranty(
            line.line_no,
            decide_warranty(
                at=cmd.at,
                asset=asset,
                delivered_at=delivered_at,
                warranty_months=warranty_months(product),
            ),
        )


def _remaining(
    claim: Claim, pool: tuple[ResolutionKind, ...], *, strict: bool = True
) -> dict[int, Decimal]:
    """Per claim line, what is accepted and not yet covered by resolutions of
    ``pool`` (lines with nothing left are left out)."""
    out = {}
    for line in claim.lines:
        left = line.accepted - claim.resolved_quantity(line.line_no, pool)
        if left > 0 and (line.order_line is not None or not strict):
            out[line.line_no] = left
    if not out:
        raise ConflictError(
            f"claim {claim.id!r}: every accepted quantity is covered already; name the lines"
        )
    return out


def _one_order(uow: UnitOfWork, claim: Claim, quantities: Mapping[int, Decimal]) -> Order:
    """The one order that the claim lines of ``quantities`` are about."""
    orders = set()
    for number in quantities:
        ref = claim.line(number).order_line
        if ref is None:
            raise ValidationError(
                f"claim line {number} names no order line", path="lines", value=number
            )
        orders.add(ref[0])
    if len(orders) != 1:
        raise ValidationError(
            f"the lines are of orders {sorted(orders)}: resolve one order at a time",
            path="lines",
            value=sorted(quantities),
        )
    return uow.orders.get(OrderId(orders.pop()), company_id=claim.company_id)


def _invoice_for(
    uow: UnitOfWork,
    order: Order,
    order_lines: set[int],
    total: Money,
    wanted: InvoiceId | None,
) -> Invoice:
    """The invoice to credit: ``wanted`` (it must be of the order and have the
    lines), else the newest invoice of the order with the lines and enough left."""
    if wanted is not None:
        invoice = uow.invoices.get(wanted, company_id=order.company_id)
        candidates = [invoice]
    else:
        candidates = list(
            iterate(
                lambda c: uow.invoices.list(
                    company_id=order.company_id, order_id=order.id, limit=MAX_LIMIT, cursor=c
                )
            )
        )
    fitting = [
        inv
        for inv in candidates
        if inv.order_id == order.id
        and order_lines <= {line.line_no for line in inv.lines}
        and inv.total - inv.credited_total >= total
    ]
    if not fitting:
        where = f"invoice {wanted!r}" if wanted is not None else f"no invoice of order {order.id!r}"
        raise ValidationError(
            f"{where} has order lines {sorted(order_lines)} with {total} left to credit",
            path="invoice_id",
            value=wanted,
        )
    return max(fitting, key=lambda inv: (inv.issued_at, inv.id))
