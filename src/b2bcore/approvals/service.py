"""Use-cases of the approvals context, each authorized and audited (``portal.approvals``).

Every method takes the :class:`~b2bcore.accounts.model.Actor` first and runs through
``b2bcore._command``: authorization, the change, its events and its audit line
commit together in one unit of work; a refusal or a failure is audited and leaves
nothing half-written.

=========================  ==========================================================
use-case                   who may
=========================  ==========================================================
``save_policy``            company.manage (and the policy passes the static checks)
``submit`` / ``resubmit``  the requester (orders.buy; quotes.request for quotes)
``cancel``                 the requester (orders.buy)
``decide``                 an approver (approvals.approve; never an agent) — or a
                           colleague they delegated to, with ``on_behalf_of``
``delegate``               an approver for themselves; users.manage for someone else
``tick``                   company.manage (a scheduler acting as a platform operator)
``save_budget``            company.manage
``preview`` and the reads  any member of the company; a flow's details need
                           orders.view over its subject
=========================  ==========================================================

**Wiring to orders and quotes.** Approvals know no orders. An order (or quote) is
approvable when it has the attributes of
:class:`~b2bcore.approvals.model.ApprovalSubject` (``ref`` = ``SubjectRef("order",
order.id)``, ``company_id``, ``requester_id``, ``total``, ``lines`` with ``sku``,
``amount`` and ``categories``, ``business_unit_id``, ``cost_center``). The workflow
in :mod:`b2bcore.portal`:

1. the order is placed in status ``pending_approval`` and
   :meth:`ApprovalsService.submit` is called with it; the returned flow is already
   ``approved`` when no rule matches — the order proceeds at once;
2. otherwise the outbox carries :class:`~b2bcore.approvals.model.ApprovalFlowApproved`
   or :class:`~b2bcore.approvals.model.ApprovalFlowRejected` (and always
   :class:`~b2bcore.approvals.model.ApprovalFlowCompleted`, also for cancelled and
   expired flows) with ``subject_kind`` and ``subject_id``; a subscriber moves the
   order on (``ApprovalsService.flow_for`` finds a subject's latest flow);
3. when the buyer changes a pending order, :meth:`ApprovalsService.resubmit` re-runs
   the rules and resets only the rules whose outcome changed; when the order is
   withdrawn, :meth:`ApprovalsService.cancel`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

import attrs

from b2bcore._command import Command, execute, member_query, query
from b2bcore.accounts.model import Actor, BusinessUnit, Permission, Role, UserStatus
from b2bcore.accounts.rules import Resource
from b2bcore.approvals.model import (
    ApprovalFlow,
    ApprovalPolicy,
    ApprovalPolicySaved,
    Budget,
    BudgetSaved,
    Delegation,
    DelegationGranted,
    FlowStatus,
    Subject,
    SubjectRef,
    Verdict,
)
from b2bcore.approvals.rules import (
    ApprovalPreview,
    Directory,
    PendingDecision,
    advance,
    applicable_budgets,
    check_feasible,
    check_policy,
    decide,
    evaluate,
    explain_flow,
    pending_for,
    preview,
    resubmit,
)
from b2bcore.clock import Clock, require_aware
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import BudgetId, CompanyId, DelegationId, FlowId, UserId, as_id, new_id
from b2bcore.money import Money
from b2bcore.paging import DEFAULT_LIMIT, Page, iterate
from b2bcore.storage.ports import UnitOfWork

__all__ = ["ApprovalsService", "BudgetStatus"]

T = TypeVar("T")

_BATCH = 200


@attrs.frozen
class BudgetStatus:
    """A budget now: the period, what approved subjects committed, what is left."""

    budget: Budget
    period: str
    committed: Money
    remaining: Money


def _subject(value: object) -> Subject:
    return Subject.of(value)


def _resource(subject: Subject) -> Resource:
    return Resource(
        kind=subject.ref.kind,
        id=subject.ref.id,
        company_id=subject.company_id,
        owner_id=subject.requester_id,
        business_unit_id=subject.business_unit_id,
    )


def _same_company(actor: Actor, company_id: str, path: str) -> None:
    if isinstance(actor, Actor) and company_id != actor.company_id:
        raise ValidationError(
            f"{path} belongs to company {company_id!r}, the actor to {actor.company_id!r}",
            path=path,
            value=company_id,
        )


def _load_directory(cmd: Command) -> Directory:
    return _directory(cmd.uow, cmd.actor.company_id, cmd.access.roles, cmd.access.units)


def _directory_in(uow: UnitOfWork, company_id: CompanyId) -> Directory:
    """The directory read inside a caller's unit of work (no command around it)."""
    roles: dict[str, Role] = {
        r.id: r
        for r in iterate(lambda c: uow.roles.list(company_id=company_id, limit=_BATCH, cursor=c))
    }
    units = tuple(
        iterate(lambda c: uow.business_units.list(company_id=company_id, limit=_BATCH, cursor=c))
    )
    return _directory(uow, company_id, roles, units)


def _directory(
    uow: UnitOfWork,
    cid: CompanyId,
    roles: Mapping[str, Role],
    units: tuple[BusinessUnit, ...],
) -> Directory:
    company = uow.companies.get(cid)
    return Directory(
        company_id=cid,
        users={
            u.id: u
            for u in iterate(lambda c: uow.users.list(company_id=cid, limit=_BATCH, cursor=c))
        },
        roles=roles,
        units=units,
        sod_rules=company.sod_rules,
        delegations=tuple(
            iterate(lambda c: uow.delegations.list(company_id=cid, limit=_BATCH, cursor=c))
        ),
        budgets=tuple(iterate(lambda c: uow.budgets.list(company_id=cid, limit=_BATCH, cursor=c))),
    )


def _policy_or_empty(uow: UnitOfWork, company_id: CompanyId) -> ApprovalPolicy:
    try:
        return uow.approval_policies.get(company_id=company_id)
    except NotFoundError:
        return ApprovalPolicy(company_id=company_id)


def _commit_budgets(uow: UnitOfWork, flow: ApprovalFlow, directory: Directory) -> None:
    if flow.status is not FlowStatus.APPROVED or flow.completed_at is None:
        return
    for budget in applicable_budgets(directory, flow.subject):
        budget.commit(flow.subject.total, at=flow.completed_at, flow_id=flow.id)
        uow.budgets.update(budget)


def _flow_detail(flow: ApprovalFlow) -> str:
    rules = ",".join(p.rule.id for p in flow.rules) or "none"
    return f"{flow.subject.ref} {flow.subject.total} rules={rules} status={flow.status.value}"


class ApprovalsService:
    """Approvals use-cases over any store (via a unit-of-work factory)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = unit_of_work
        self._clock = clock

    # -- policy -----------------------------------------------------------------------
    def save_policy(self, actor: Actor, policy: ApprovalPolicy) -> ApprovalPolicy:
        """Create or replace the company's approval policy after the static checks:
        a rule or tier nobody could ever approve (no tiers, an empty tier, a role that
        does not exist, cannot approve or nobody holds, limits below every total the
        rule matches) is an :class:`~b2bcore.approvals.errors.UnapprovableError`.

        A first policy has ``version`` 0; a changed one carries the version it was
        read at (ConcurrencyError when someone saved in between).
        """
        if not isinstance(policy, ApprovalPolicy):
            raise ValidationError("must be an ApprovalPolicy", path="policy", value=policy)
        _same_company(actor, policy.company_id, "policy.company_id")

        def body(cmd: Command) -> ApprovalPolicy:
            check_policy(policy, _load_directory(cmd), at=cmd.at)
            try:
                stored: ApprovalPolicy | None = cmd.uow.approval_policies.get(
                    company_id=cmd.actor.company_id
                )
            except NotFoundError:
                stored = None
            policy.record(
                ApprovalPolicySaved(
                    company_id=policy.company_id,
                    occurred_at=cmd.at,
                    rule_ids=tuple(r.id for r in policy.rules),
                )
            )
            if stored is None:
                if policy.version != 0:
                    raise ConcurrencyError(
                        "approval policy", policy.company_id, expected_version=policy.version
                    )
                cmd.uow.approval_policies.add(policy)
            elif policy.version == 0:
                raise ConcurrencyError(
                    "approval policy",
                    policy.company_id,
                    expected_version=0,
                    actual_version=stored.version,
                )
            else:
                cmd.uow.approval_policies.update(policy)
            return policy

        try:
            return execute(
                self._uow,
                self._clock,
                actor,
                action="approval_policy.save",
                target=f"approval_policy:{policy.company_id}",
                permission=Permission.COMPANY_MANAGE,
                body=body,
                detail=lambda p: f"{len(p.rules)} rules, version {p.version}",
            )
        except Exception:
            policy.pull_events()  # a failed save leaves no pending event on the caller's policy
            raise

    def get_policy(self, actor: Actor) -> ApprovalPolicy:
        """The company's policy (NotFoundError when it has none)."""
        return member_query(
            self._uow,
            self._clock,
            actor,
            action="approval_policy.read",
            target="approval_policy",
            body=lambda cmd: cmd.uow.approval_policies.get(company_id=cmd.actor.company_id),
        )

    # -- transparency -----------------------------------------------------------------
    def preview(self, actor: Actor, subject: object) -> ApprovalPreview:
        """Which rules the subject would match and why, and who can approve each tier
        today — before anything is submitted (:func:`~b2bcore.approvals.rules.preview`)."""
        snapshot = _subject(subject)
        _same_company(actor, snapshot.company_id, "subject.company_id")
        return member_query(
            self._uow,
            self._clock,
            actor,
            action="approval.preview",
            target=str(snapshot.ref),
            body=lambda cmd: preview(
                _policy_or_empty(cmd.uow, cmd.actor.company_id),
                snapshot,
                at=cmd.at,
                directory=_load_directory(cmd),
            ),
        )

    def explain(self, actor: Actor, flow_id: str) -> ApprovalPreview:
        """A flow's state: each tier's decisions, escalations, due time, and who can
        approve the active ones now (orders.view over the subject)."""
        fid = as_id(FlowId, flow_id, path="flow_id")

        def body(cmd: Command) -> ApprovalPreview:
            flow = cmd.uow.approval_flows.get(fid, company_id=cmd.actor.company_id)
            directory = _load_directory(cmd)
            advance(flow, now=cmd.at, directory=directory)  # shown as of now, not stored
            return explain_flow(flow, at=cmd.at, directory=directory)

        return self._read_flow(actor, fid, "approval.explain", body)

    def get_flow(self, actor: Actor, flow_id: str) -> ApprovalFlow:
        """A flow as stored (orders.view over its subject)."""
        fid = as_id(FlowId, flow_id, path="flow_id")
        return self._read_flow(
            actor,
            fid,
            "approval.read",
            lambda cmd: cmd.uow.approval_flows.get(fid, company_id=cmd.actor.company_id),
        )

    def _flow_resource(self, actor: Actor, fid: FlowId) -> Callable[[UnitOfWork], Resource]:
        def load(uow: UnitOfWork) -> Resource:
            try:
                return _resource(uow.approval_flows.get(fid, company_id=actor.company_id).subject)
            except NotFoundError:
                return Resource("approval_flow", fid, actor.company_id)

        return load

    def _read_flow(self, actor: Actor, fid: FlowId, action: str, body: Callable[[Command], T]) -> T:
        return query(
            self._uow,
            self._clock,
            actor,
            action=action,
            target=f"approval_flow:{fid}",
            permission=Permission.ORDERS_VIEW,
            resource=self._flow_resource(actor, fid) if isinstance(actor, Actor) else None,
            body=body,
        )

    def flow_for(self, actor: Actor, kind: str, subject_id: str) -> ApprovalFlow | None:
        """The latest flow of a subject (``"order"``, ``"o-17"``), if any (any member)."""
        ref = SubjectRef(kind, subject_id)

        def body(cmd: Command) -> ApprovalFlow | None:
            flows = list(
                iterate(
                    lambda c: cmd.uow.approval_flows.list(
                        company_id=cmd.actor.company_id, subject=ref, limit=_BATCH, cursor=c
                    )
                )
            )
            return max(flows, key=lambda f: (f.submitted_at, f.id), default=None)

        return member_query(
            self._uow, self._clock, actor, action="approval.read", target=str(ref), body=body
        )

    def list_flows(
        self,
        actor: Actor,
        *,
        status: FlowStatus | None = None,
        requester_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ApprovalFlow]:
        """Flows of the company (company-wide orders.view), by id."""
        who = None if requester_id is None else as_id(UserId, requester_id, path="requester_id")
        if status is not None and not isinstance(status, FlowStatus):
            raise ValidationError("must be a FlowStatus", path="status", value=status)
        return query(
            self._uow,
            self._clock,
            actor,
            action="approval.list",
            target="approval_flows",
            permission=Permission.ORDERS_VIEW,
            resource=Resource("approval_flows", "all", actor.company_id)
            if isinstance(actor, Actor)
            else None,
            body=lambda cmd: cmd.uow.approval_flows.list(
                company_id=cmd.actor.company_id,
                status=status,
                requester_id=who,
                limit=limit,
                cursor=cursor,
            ),
        )

    def pending_approvals(self, actor: Actor) -> list[PendingDecision]:
        """What the actor can decide now — as themselves and for colleagues who
        delegated to them — oldest flow first (due escalations are taken into account)."""

        def body(cmd: Command) -> list[PendingDecision]:
            if cmd.actor.is_agent or cmd.actor.operator:
                return []
            directory = _load_directory(cmd)
            out: list[PendingDecision] = []
            flows = iterate(
                lambda c: cmd.uow.approval_flows.list(
                    company_id=cmd.actor.company_id,
                    status=FlowStatus.PENDING,
                    limit=_BATCH,
                    cursor=c,
                )
            )
            for flow in flows:
                advance(flow, now=cmd.at, directory=directory)  # as of now, not stored
                out.extend(pending_for(flow, directory, cmd.actor.on_behalf_of, at=cmd.at))
            return out

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="approval.pending",
            target="approval_flows",
            body=body,
        )

    # -- the requester ----------------------------------------------------------------
    @staticmethod
    def _buy_permission(subject: Subject) -> Permission:
        return Permission.QUOTES_REQUEST if subject.ref.kind == "quote" else Permission.ORDERS_BUY

    @staticmethod
    def _require_requester(cmd: Command, subject: Subject) -> None:
        if cmd.actor.on_behalf_of != subject.requester_id:
            raise PermissionDeniedError(
                f"{subject.ref} is requested by {subject.requester_id}; only they submit, "
                "change or withdraw it",
                permission="approvals.submit",
                actor=cmd.actor.acted_by,
                decision_code="not_requester",
            )

    def submit(self, actor: Actor, subject: object, *, flow_id: str | None = None) -> ApprovalFlow:
        """Start the approval of ``subject`` (an :class:`~b2bcore.approvals.model.ApprovalSubject`).

        The returned flow is ``approved`` at once when no rule matches. A flow some
        tier of which nobody could approve (no approver's limit covers the total, the
        only approver is the requester, the rules need more approvers than there are)
        is refused with :class:`~b2bcore.approvals.errors.UnapprovableError` instead
        of becoming a dead end. A subject with a pending flow is a DuplicateError
        (resubmit that flow).
        """
        snapshot = _subject(subject)
        _same_company(actor, snapshot.company_id, "subject.company_id")
        fid = as_id(FlowId, new_id() if flow_id is None else flow_id, path="flow_id")

        def body(cmd: Command) -> ApprovalFlow:
            self._require_requester(cmd, snapshot)
            pending = cmd.uow.approval_flows.pending_for(
                snapshot.ref, company_id=cmd.actor.company_id
            )
            if pending is not None:
                raise DuplicateError(
                    "approval flow",
                    pending.id,
                    f"{snapshot.ref} already has the pending approval flow {pending.id!r}; "
                    "resubmit it after a change",
                )
            directory = _load_directory(cmd)
            policy = _policy_or_empty(cmd.uow, cmd.actor.company_id)
            flow = evaluate(policy, snapshot, at=cmd.at, directory=directory, flow_id=fid)
            check_feasible(flow, directory, at=cmd.at)
            _commit_budgets(cmd.uow, flow, directory)
            cmd.uow.approval_flows.add(flow)
            return flow

        return execute(
            self._uow,
            self._clock,
            actor,
            action="approval.submit",
            target=f"approval_flow:{fid}",
            permission=self._buy_permission(snapshot),
            resource=_resource(snapshot),
            body=body,
            detail=_flow_detail,
        )

    # -- inside another use-case's unit of work (orders' checkout) --------------------
    def needs_approval(self, uow: UnitOfWork, subject: object, *, at: datetime) -> bool:
        """Whether some rule of the company's policy matches ``subject`` at ``at``,
        read inside the caller's unit of work (orders' checkout asks it before it
        stores a new order). A company without rules needs no approval for anything:
        then only the subject's ``company_id`` is checked, not the rest of it."""
        at = require_aware(at, path="at")
        company_id = as_id(CompanyId, getattr(subject, "company_id", None), path="company_id")
        policy = _policy_or_empty(uow, company_id)
        if not policy.rules:
            return False
        snapshot = _subject(subject)
        directory = _directory_in(uow, snapshot.company_id)
        flow = evaluate(policy, snapshot, at=at, directory=directory, flow_id=FlowId("preview"))
        return flow.status is not FlowStatus.APPROVED

    def submit_in(
        self, uow: UnitOfWork, actor: Actor, subject: object, *, at: datetime
    ) -> ApprovalFlow:
        """:meth:`submit` inside the caller's unit of work, for a use-case that has
        authorized and audits the whole change itself (orders' checkout: the order
        and its approval flow are stored together, or neither is). The same checks:
        only the requester submits, a pending flow is a DuplicateError, a flow nobody
        could approve is an :class:`~b2bcore.approvals.errors.UnapprovableError`."""
        snapshot = _subject(subject)
        _same_company(actor, snapshot.company_id, "subject.company_id")
        at = require_aware(at, path="at")
        if actor.on_behalf_of != snapshot.requester_id:
            raise PermissionDeniedError(
                f"{snapshot.ref} is requested by {snapshot.requester_id}; only they submit it",
                permission="approvals.submit",
                actor=actor.acted_by,
                decision_code="not_requester",
            )
        pending = uow.approval_flows.pending_for(snapshot.ref, company_id=snapshot.company_id)
        if pending is not None:
            raise DuplicateError(
                "approval flow",
                pending.id,
                f"{snapshot.ref} already has the pending approval flow {pending.id!r}",
            )
        directory = _directory_in(uow, snapshot.company_id)
        policy = _policy_or_empty(uow, snapshot.company_id)
        flow = evaluate(policy, snapshot, at=at, directory=directory, flow_id=FlowId(new_id()))
        check_feasible(flow, directory, at=at)
        _commit_budgets(uow, flow, directory)
        uow.approval_flows.add(flow)
        return flow

    def resubmit(self, actor: Actor, flow_id: str, subject: object) -> ApprovalFlow:
        """The subject of a pending flow changed: re-run the rules and reset only the
        rules whose outcome changed (:func:`~b2bcore.approvals.rules.resubmit`)."""
        snapshot = _subject(subject)
        _same_company(actor, snapshot.company_id, "subject.company_id")
        fid = as_id(FlowId, flow_id, path="flow_id")

        def body(cmd: Command) -> ApprovalFlow:
            self._require_requester(cmd, snapshot)
            flow = cmd.uow.approval_flows.get(fid, company_id=cmd.actor.company_id)
            directory = _load_directory(cmd)
            advance(flow, now=cmd.at, directory=directory)
            policy = _policy_or_empty(cmd.uow, cmd.actor.company_id)
            resubmit(flow, policy, snapshot, at=cmd.at, directory=directory)
            if flow.is_pending:
                check_feasible(flow, directory, at=cmd.at)
            _commit_budgets(cmd.uow, flow, directory)
            cmd.uow.approval_flows.update(flow)
            return flow

        return execute(
            self._uow,
            self._clock,
            actor,
            action="approval.resubmit",
            target=f"approval_flow:{fid}",
            permission=self._buy_permission(snapshot),
            resource=_resource(snapshot),
            body=body,
            detail=_flow_detail,
        )

    def cancel(self, actor: Actor, flow_id: str, *, reason: str) -> ApprovalFlow:
        """The requester withdraws a pending flow (InvalidTransitionError otherwise)."""
        fid = as_id(FlowId, flow_id, path="flow_id")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ValidationError("give a reason of 1-500 characters", path="reason", value=reason)

        def body(cmd: Command) -> ApprovalFlow:
            flow = cmd.uow.approval_flows.get(fid, company_id=cmd.actor.company_id)
            self._require_requester(cmd, flow.subject)
            flow.cancel(by=cmd.actor.acted_by, at=cmd.at, reason=reason)
            cmd.uow.approval_flows.update(flow)
            return flow

        return execute(
            self._uow,
            self._clock,
            actor,
            action="approval.cancel",
            target=f"approval_flow:{fid}",
            permission=Permission.ORDERS_BUY,
            resource=self._flow_resource(actor, fid) if isinstance(actor, Actor) else None,
            body=body,
            detail=_flow_detail,
        )

    # -- approvers --------------------------------------------------------------------
    def decide(
        self,
        actor: Actor,
        flow_id: str,
        *,
        approve: bool,
        comment: str = "",
        on_behalf_of: str | None = None,
        rule_id: str | None = None,
    ) -> ApprovalFlow:
        """Approve or reject (a rejection needs a ``comment``: the requester sees it).

        With ``on_behalf_of``, the actor decides for a colleague who delegated their
        approvals to them: the colleague's roles and limits count, and the decision
        and the audit line record both. The decision lands on the first active tier
        (or of ``rule_id``) the authority qualifies for; overdue tiers are escalated
        first. Refusals: NotEligibleError (requester, already decided, no
        delegation, not an approver of any active tier), PermissionDeniedError (no
        approvals.approve; agents never approve).
        """
        if not isinstance(approve, bool):
            raise ValidationError("approve must be True or False", path="approve", value=approve)
        fid = as_id(FlowId, flow_id, path="flow_id")
        authority = (
            None if on_behalf_of is None else as_id(UserId, on_behalf_of, path="on_behalf_of")
        )
        if rule_id is not None:
            as_id(str, rule_id, path="rule_id")
        verdict = Verdict.APPROVED if approve else Verdict.REJECTED
        acting = actor
        if authority is not None and isinstance(actor, Actor):
            acting = Actor(
                company_id=actor.company_id,
                acted_by=actor.acted_by,
                on_behalf_of=authority,
                assisted_session_id=actor.assisted_session_id,
                operator=actor.operator,
            )

        def body(cmd: Command) -> ApprovalFlow:
            flow = cmd.uow.approval_flows.get(fid, company_id=cmd.actor.company_id)
            directory = _load_directory(cmd)
            advance(flow, now=cmd.at, directory=directory)
            decide(
                flow,
                directory,
                acted_by=cmd.actor.acted_by,
                on_behalf_of=authority,
                verdict=verdict,
                at=cmd.at,
                comment=comment,
                rule_id=rule_id,
            )
            _commit_budgets(cmd.uow, flow, directory)
            cmd.uow.approval_flows.update(flow)
            return flow

        return execute(
            self._uow,
            self._clock,
            acting,
            action=f"approval.{'approve' if approve else 'reject'}",
            target=f"approval_flow:{fid}",
            permission=Permission.APPROVALS_APPROVE,
            resource=self._flow_resource(actor, fid) if isinstance(actor, Actor) else None,
            body=body,
            detail=_flow_detail,
        )

    def tick(self, actor: Actor) -> list[str]:
        """Escalate the company's overdue tiers and expire flows that ran out of
        escalations, at the portal clock's now (company.manage; a scheduler acts as
        ``Actor.operator_for(company, "scheduler")``). Each step happens at its own
        due time, so running this late or often gives the same result. Returns one
        line per step."""

        def body(cmd: Command) -> list[str]:
            directory: Directory | None = None
            lines: list[str] = []
            seen: set[str] = set()
            while True:
                due = [
                    f
                    for f in cmd.uow.approval_flows.due(
                        company_id=cmd.actor.company_id, until=cmd.at, limit=_BATCH
                    )
                    if f.id not in seen
                ]
                if not due:
                    return lines
                directory = directory or _load_directory(cmd)
                for flow in due:
                    seen.add(flow.id)
                    lines.extend(advance(flow, now=cmd.at, directory=directory))
                    cmd.uow.approval_flows.update(flow)

        return execute(
            self._uow,
            self._clock,
            actor,
            action="approval.tick",
            target="approval_flows",
            permission=Permission.COMPANY_MANAGE,
            body=body,
            detail=lambda lines: "; ".join(lines) or "nothing due",
        )

    # -- delegation -------------------------------------------------------------------
    @staticmethod
    def _approver_resource(actor: Actor, delegator: UserId) -> Callable[[UnitOfWork], Resource]:
        """A resource a unit-limited approver grant of the delegator covers."""

        def load(uow: UnitOfWork) -> Resource:
            unit = None
            try:
                user = uow.users.get(delegator, company_id=actor.company_id)
            except NotFoundError:
                user = None
            if user is not None:
                units = [g.business_unit_id for g in user.grants if g.business_unit_id]
                unit = units[0] if units else user.business_unit_ids[0]
            return Resource("delegation", delegator, actor.company_id, delegator, unit)

        return load

    def delegate(
        self,
        actor: Actor,
        *,
        delegate_id: str,
        valid_from: datetime,
        valid_until: datetime,
        reason: str = "",
        delegator_id: str | None = None,
        delegation_id: str | None = None,
    ) -> Delegation:
        """Hand one's approvals to a colleague for ``[valid_from, valid_until)`` (out
        of office). An approver delegates their own; with ``delegator_id`` a user
        administrator sets one up for someone else. A delegator has one delegation at
        a time (ConflictError for an overlapping one)."""
        delegate = as_id(UserId, delegate_id, path="delegate_id")
        did = as_id(DelegationId, new_id() if delegation_id is None else delegation_id, path="id")
        start = require_aware(valid_from, path="valid_from")
        end = require_aware(valid_until, path="valid_until")
        if not isinstance(reason, str) or len(reason) > 500:
            raise ValidationError("a reason is at most 500 characters", path="reason")
        if not isinstance(actor, Actor):
            raise ValidationError("must be an Actor", path="actor", value=actor)
        delegator = (
            actor.on_behalf_of
            if delegator_id is None
            else as_id(UserId, delegator_id, path="delegator_id")
        )
        for_self = delegator == actor.on_behalf_of
        delegation = Delegation(
            id=did,
            company_id=actor.company_id,
            delegator_id=delegator,
            delegate_id=delegate,
            valid_from=start,
            valid_until=end,
            reason=reason,
        )

        def body(cmd: Command) -> Delegation:
            if delegation.valid_until <= cmd.at:
                raise ValidationError(
                    "the delegation would already be over", path="valid_until", value=end
                )
            cid = cmd.actor.company_id
            for uid in (delegator, delegate):
                user = cmd.uow.users.get(uid, company_id=cid)
                if user.status is UserStatus.DISABLED:
                    raise ConflictError(f"user {uid!r} is disabled")
            mine = iterate(
                lambda c: cmd.uow.delegations.list(
                    company_id=cid, delegator_id=delegator, limit=_BATCH, cursor=c
                )
            )
            for other in mine:
                if other.overlaps(delegation):
                    raise ConflictError(
                        f"{delegator} already delegates to {other.delegate_id} from "
                        f"{other.valid_from.isoformat()} until {other.valid_until.isoformat()} "
                        f"(delegation {other.id!r}); revoke it first"
                    )
            delegation.record(
                DelegationGranted(
                    company_id=cid,
                    occurred_at=cmd.at,
                    delegation_id=did,
                    delegator_id=delegator,
                    delegate_id=delegate,
                    valid_from=delegation.valid_from,
                    valid_until=delegation.valid_until,
                )
            )
            cmd.uow.delegations.add(delegation)
            return delegation

        return execute(
            self._uow,
            self._clock,
            actor,
            action="approval.delegate",
            target=f"delegation:{did}",
            permission=Permission.APPROVALS_APPROVE if for_self else Permission.USERS_MANAGE,
            resource=self._approver_resource(actor, delegator)
            if for_self
            else Resource("user", delegator, actor.company_id, delegator),
            body=body,
            detail=lambda d: (
                f"{d.delegator_id} -> {d.delegate_id} "
                f"{d.valid_from.isoformat()}..{d.valid_until.isoformat()}"
            ),
        )

    def revoke_delegation(self, actor: Actor, delegation_id: str) -> Delegation:
        """End a delegation now (its delegator, or a user administrator)."""
        did = as_id(DelegationId, delegation_id, path="delegation_id")
        if not isinstance(actor, Actor):
            raise ValidationError("must be an Actor", path="actor", value=actor)
        with self._uow() as uow:
            try:
                delegator: UserId | None = uow.delegations.get(
                    did, company_id=actor.company_id
                ).delegator_id
            except NotFoundError:
                delegator = None
        for_self = delegator == actor.on_behalf_of

        def body(cmd: Command) -> Delegation:
            delegation = cmd.uow.delegations.get(did, company_id=cmd.actor.company_id)
            delegation.revoke(cmd.at)
            cmd.uow.delegations.update(delegation)
            return delegation

        return execute(
            self._uow,
            self._clock,
            actor,
            action="approval.revoke_delegation",
            target=f"delegation:{did}",
            permission=Permission.APPROVALS_APPROVE if for_self else Permission.USERS_MANAGE,
            resource=self._approver_resource(actor, actor.on_behalf_of)
            if for_self
            else Resource("user", delegator or "unknown", actor.company_id, delegator),
            body=body,
        )

    def list_delegations(self, actor: Actor, *, user_id: str | None = None) -> list[Delegation]:
        """The company's delegations (from or to ``user_id`` when given), by id."""
        uid = None if user_id is None else as_id(UserId, user_id, path="user_id")

        def body(cmd: Command) -> list[Delegation]:
            found = iterate(
                lambda c: cmd.uow.delegations.list(
                    company_id=cmd.actor.company_id, limit=_BATCH, cursor=c
                )
            )
            return [d for d in found if uid is None or uid in (d.delegator_id, d.delegate_id)]

        return member_query(
            self._uow, self._clock, actor, action="delegation.list", target="delegations", body=body
        )

    # -- budgets ----------------------------------------------------------------------
    def save_budget(self, actor: Actor, budget: Budget) -> Budget:
        """Create a budget (``version`` 0) or change its amount or name (the version
        read). Its committed spend is kept by the store, never taken from the caller;
        scope and period kind cannot change (create another budget)."""
        if not isinstance(budget, Budget):
            raise ValidationError("must be a Budget", path="budget", value=budget)
        _same_company(actor, budget.company_id, "budget.company_id")

        def body(cmd: Command) -> Budget:
            cid = cmd.actor.company_id
            if budget.business_unit_id is not None:
                cmd.uow.business_units.get(budget.business_unit_id, company_id=cid)
            saved = budget
            if budget.version == 0:
                if budget.spent:
                    raise ValidationError(
                        "a new budget has committed nothing yet", path="spent", value=budget.spent
                    )
            else:
                stored = cmd.uow.budgets.get(budget.id, company_id=cid)
                if (stored.scope_key, stored.amount.currency) != (
                    budget.scope_key,
                    budget.amount.currency,
                ):
                    raise ValidationError(
                        "a budget's scope, period and currency do not change; create another",
                        path="budget",
                        value=budget.scope_key,
                    )
                saved = attrs.evolve(budget, spent=stored.spent)
            saved.record(
                BudgetSaved(
                    company_id=cid,
                    occurred_at=cmd.at,
                    budget_id=saved.id,
                    scope=saved.scope,
                    amount=saved.amount,
                    period=saved.period.value,
                )
            )
            if saved.version == 0:
                cmd.uow.budgets.add(saved)
            else:
                cmd.uow.budgets.update(saved)
            return saved

        return execute(
            self._uow,
            self._clock,
            actor,
            action="budget.save",
            target=f"budget:{budget.id}",
            permission=Permission.COMPANY_MANAGE,
            body=body,
            detail=lambda b: f"{b.scope} {b.amount} per {b.period.value}",
        )

    def budgets(self, actor: Actor) -> list[BudgetStatus]:
        """Every budget of the company with what is committed and left this period."""

        def body(cmd: Command) -> list[BudgetStatus]:
            found = iterate(
                lambda c: cmd.uow.budgets.list(company_id=cmd.actor.company_id, cursor=c)
            )
            return [
                BudgetStatus(b, b.period_key(cmd.at), b.committed(cmd.at), b.remaining(cmd.at))
                for b in found
            ]

        return member_query(
            self._uow, self._clock, actor, action="budget.list", target="budgets", body=body
        )

    def budget(self, actor: Actor, budget_id: str) -> Budget:
        """One budget as stored (any member)."""
        bid = as_id(BudgetId, budget_id, path="budget_id")
        return member_query(
            self._uow,
            self._clock,
            actor,
            action="budget.read",
            target=f"budget:{bid}",
            body=lambda cmd: cmd.uow.budgets.get(bid, company_id=cmd.actor.company_id),
        )
