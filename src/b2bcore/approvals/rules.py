"""Pure rules of approvals: which rules match and why, who may approve, flows started,
decided, escalated and re-evaluated, and the checks that find dead ends.

Nothing here reads a clock or a store: time comes in as ``at``, and what the
company knows — users, roles, the unit tree, delegations, budgets — comes in as a
:class:`Directory` (the service loads it in its unit of work).

>>> from datetime import datetime, timezone
>>> from b2bcore.approvals import (ApprovalPolicy, ApprovalRule, ApprovalTier, Requirement,
...     Subject, SubjectRef, evaluate, preview)
>>> from b2bcore.money import Money
>>> policy = ApprovalPolicy(company_id="acme", rules=[
...     ApprovalRule(id="big", name="Big orders", condition="total > 5000 EUR",
...                  tiers=[ApprovalTier(name="Approver",
...                                     approvers=Requirement.role("approver"))])])
>>> cart = Subject(ref=SubjectRef("cart", "c-1"), company_id="acme", requester_id="u-ben",
...                total=Money("7657.30", "EUR"))
>>> at = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
>>> flow = evaluate(policy, cart, at=at, flow_id="f-1")
>>> flow.status.value, [p.rule.id for p in flow.rules]
('pending', ['big'])
>>> print(preview(policy, cart, at=at).text())
cart:c-1 of u-ben, 7657.30 EUR: approval needed
  rule Big orders [big]: applies
    total > 5000 EUR: total is 7657.30 EUR -> true
    tier 1 Approver: role approver
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from b2bcore.accounts.model import (
    Actor,
    BusinessUnit,
    CompanyUser,
    Permission,
    Role,
    SoDRule,
    UserStatus,
)
from b2bcore.accounts.rules import Access, Resource, authorize
from b2bcore.approvals.errors import NotEligibleError, UnapprovableError
from b2bcore.approvals.model import (
    ApprovalFlow,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Budget,
    Decision,
    Delegation,
    EscalationKind,
    EscalationStep,
    Path,
    Qualification,
    Requirement,
    RequirementKind,
    RuleProgress,
    Subject,
    TierProgress,
    Verdict,
    _chain,
    satisfiable,
)
from b2bcore.approvals.predicate import Check, Facts
from b2bcore.calendar import BusinessCalendar
from b2bcore.clock import require_aware
from b2bcore.errors import CurrencyMismatchError, InvalidTransitionError, ValidationError
from b2bcore.ids import BusinessUnitId, CompanyId, FlowId, UserId, check_id, new_id
from b2bcore.money import Money

__all__ = [
    "ApprovalPreview",
    "Candidate",
    "Directory",
    "PendingDecision",
    "RuleMatch",
    "RulePreview",
    "TierPreview",
    "advance",
    "applicable_budgets",
    "check_feasible",
    "check_policy",
    "decide",
    "evaluate",
    "explain_flow",
    "facts_for",
    "match_rules",
    "pending_for",
    "policy_problems",
    "preview",
    "resubmit",
]


# -- what the company knows ---------------------------------------------------------------


def _by_id(values: object, kind: str) -> dict[str, object]:
    if isinstance(values, Mapping):
        return dict(values)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValidationError(f"must be a list of {kind}", path=kind, value=values)
    return {getattr(v, "id", None): v for v in values}  # type: ignore[misc]


@attrs.frozen(eq=False)
class Directory:
    """The company as approvals need it, at one moment: users and roles (who may
    approve, with which limits), the unit tree (rules by unit, escalation upwards),
    separation-of-duties rules, delegations and budgets."""

    company_id: CompanyId
    users: Mapping[str, CompanyUser] = attrs.field(factory=dict)
    roles: Mapping[str, Role] = attrs.field(factory=dict)
    units: tuple[BusinessUnit, ...] = ()
    sod_rules: tuple[SoDRule, ...] = ()
    delegations: tuple[Delegation, ...] = ()
    budgets: tuple[Budget, ...] = ()

    @classmethod
    def of(
        cls,
        company_id: str,
        *,
        users: Iterable[CompanyUser] = (),
        roles: Iterable[Role] = (),
        units: Iterable[BusinessUnit] = (),
        sod_rules: Iterable[SoDRule] = (),
        delegations: Iterable[Delegation] = (),
        budgets: Iterable[Budget] = (),
    ) -> Directory:
        """Build one from lists."""
        return cls(
            company_id=CompanyId(check_id(company_id, path="company_id")),
            users=_by_id(users, "users"),  # type: ignore[arg-type]
            roles=_by_id(roles, "roles"),  # type: ignore[arg-type]
            units=tuple(units),
            sod_rules=tuple(sod_rules),
            delegations=tuple(delegations),
            budgets=tuple(budgets),
        )

    def unit_path(self, unit_id: str | None) -> tuple[BusinessUnitId, ...]:
        """``unit_id`` and the units above it, nearest first (empty for None)."""
        if unit_id is None:
            return ()
        parents: dict[str, BusinessUnitId | None] = {u.id: u.parent_id for u in self.units}
        out: list[BusinessUnitId] = [BusinessUnitId(unit_id)]
        current = parents.get(unit_id)
        while current is not None and current not in out:
            out.append(current)
            current = parents.get(current)
        return tuple(out)

    def parent(self, unit_id: str) -> BusinessUnitId | None:
        """The unit above ``unit_id`` (None at the root or for an unknown unit)."""
        for u in self.units:
            if u.id == unit_id:
                return u.parent_id
        return None

    def user(self, user_id: str) -> CompanyUser | None:
        """The user, if known."""
        return self.users.get(user_id)


def applicable_budgets(directory: Directory | None, subject: Subject) -> list[Budget]:
    """The budgets a subject spends from: its cost center's, and those of its
    business unit and every unit above it."""
    if directory is None:
        return []
    path = set(directory.unit_path(subject.business_unit_id))
    return [
        b
        for b in directory.budgets
        if (b.cost_center is not None and b.cost_center == subject.cost_center)
        or (b.business_unit_id is not None and b.business_unit_id in path)
    ]


def _requester_roles(user: CompanyUser | None, at: datetime) -> frozenset[str]:
    if user is None:
        return frozenset()
    return frozenset(g.role_id for g in user.active_grants(at))


def _requester_units(directory: Directory | None, user: CompanyUser | None) -> frozenset[str]:
    if directory is None or user is None:
        return frozenset()
    out: set[str] = set()
    for unit in user.business_unit_ids:
        out |= set(directory.unit_path(unit))
    return frozenset(out)


def facts_for(subject: Subject, directory: Directory | None = None, *, at: datetime) -> Facts:
    """The facts a condition reads for ``subject`` at ``at``.

    ``budget_remaining`` is the least remaining amount among the subject's
    :func:`applicable_budgets` (None when there is none); a budget in another
    currency than the subject is a CurrencyMismatchError, never a silent skip.
    """
    at = require_aware(at, path="at")
    requester = directory.user(subject.requester_id) if directory is not None else None
    remaining: Money | None = None
    for budget in applicable_budgets(directory, subject):
        if budget.amount.currency != subject.total.currency:
            raise CurrencyMismatchError(
                subject.total.currency, budget.amount.currency, f"budget {budget.id} against"
            )
        left = budget.remaining(at)
        remaining = left if remaining is None or left < remaining else remaining
    categories: set[str] = set()
    for line in subject.lines:
        categories |= set(line.categories)
    return Facts(
        total=subject.total,
        line_count=len(subject.lines),
        skus={line.sku for line in subject.lines},
        categories=categories,
        cost_center=subject.cost_center,
        business_units=set(
            directory.unit_path(subject.business_unit_id)
            if directory is not None
            else ([subject.business_unit_id] if subject.business_unit_id else [])
        ),
        requester_roles=_requester_roles(requester, at),
        budget_remaining=remaining,
    )


# -- matching -----------------------------------------------------------------------------


@attrs.frozen
class RuleMatch:
    """Whether a rule applies to a subject, and why (or why not)."""

    rule: ApprovalRule
    matched: bool
    reasons: tuple[str, ...]
    checks: tuple[Check, ...] = ()


def match_rules(
    policy: ApprovalPolicy, subject: object, *, at: datetime, directory: Directory | None = None
) -> tuple[RuleMatch, ...]:
    """Judge every rule of ``policy`` for ``subject``: the requester filters first
    (roles, units), then the condition."""
    snapshot = Subject.of(subject)
    if not isinstance(policy, ApprovalPolicy):
        raise ValidationError("must be an ApprovalPolicy", path="policy", value=policy)
    if snapshot.company_id != policy.company_id:
        raise ValidationError(
            f"the subject belongs to {snapshot.company_id!r}, the policy to {policy.company_id!r}",
            path="company_id",
            value=snapshot.company_id,
        )
    facts = facts_for(snapshot, directory, at=at)
    requester = directory.user(snapshot.requester_id) if directory is not None else None
    units = _requester_units(directory, requester)
    out = []
    for rule in policy.rules:
        reasons: list[str] = []
        applies = True
        if rule.requester_roles:
            held = sorted(rule.requester_roles & facts.requester_roles)
            if held:
                reasons.append(f"requester holds {', '.join(held)}")
            else:
                applies = False
                reasons.append(
                    f"requester holds none of the roles {', '.join(sorted(rule.requester_roles))}"
                )
        if rule.requester_units:
            inside = sorted(rule.requester_units & units)
            if inside:
                reasons.append(f"requester belongs to {', '.join(inside)}")
            else:
                applies = False
                reasons.append(
                    "requester belongs to none of the units "
                    + ", ".join(sorted(rule.requester_units))
                )
        checks: tuple[Check, ...] = ()
        if applies:
            checks = rule.condition.explain(facts)
            applies = rule.condition.evaluate(facts)
            reasons.append(f"condition {'holds' if applies else 'does not hold'}: {rule.condition}")
        out.append(RuleMatch(rule, applies, tuple(reasons), checks))
    return tuple(out)


def evaluate(
    policy: ApprovalPolicy,
    subject: object,
    *,
    at: datetime,
    directory: Directory | None = None,
    flow_id: str | None = None,
) -> ApprovalFlow:
    """Start the flow of ``subject`` under ``policy`` at ``at``: every matching rule
    with its tiers, the first tier of each active. A subject no rule matches is
    approved at once. Deterministic: the same inputs give the same flow (pass
    ``flow_id``, or a new id is made)."""
    at = require_aware(at, path="at")
    snapshot = Subject.of(subject)
    matches = match_rules(policy, snapshot, at=at, directory=directory)
    rules = [
        RuleProgress(m.rule, tuple(TierProgress(t) for t in m.rule.tiers))
        for m in matches
        if m.matched
    ]
    flow = ApprovalFlow(
        id=FlowId(check_id(flow_id if flow_id is not None else new_id(), path="flow_id")),
        company_id=snapshot.company_id,
        subject=snapshot,
        submitted_at=at,
        rules=rules,
        calendar=policy.calendar,
        policy_version=policy.version,
    )
    flow.start(at)
    return flow


# -- who may approve ----------------------------------------------------------------------


def _resource(subject: Subject) -> Resource:
    return Resource(
        kind=subject.ref.kind,
        id=subject.ref.id,
        company_id=subject.company_id,
        owner_id=subject.requester_id,
        business_unit_id=subject.business_unit_id,
    )


def _limit_text(limit: Money | None) -> str:
    return "" if limit is None else f" up to {limit}"


def _authorize(
    directory: Directory, user: CompanyUser, subject: Subject, at: datetime
) -> tuple[bool, Money | None, str]:
    access = Access(
        user=user, roles=directory.roles, units=directory.units, sod_rules=directory.sod_rules
    )
    actor = Actor.user(directory.company_id, user.id)
    decision = authorize(
        actor,
        Permission.APPROVALS_APPROVE,
        access=access,
        resource=_resource(subject),
        amount=subject.total,
        at=at,
    )
    if decision.allowed:
        limit = decision.entry.limit if decision.entry is not None else None
        return True, limit, ""
    return False, None, decision.reason


def _judge_role(
    directory: Directory, user: CompanyUser, role_id: str, subject: Subject, at: datetime
) -> tuple[Money | None, str] | str:
    grants = tuple(g for g in user.grants if g.role_id == role_id)
    if not any(g.active_at(at) for g in grants):
        return f"does not hold role {role_id}"
    restricted = attrs.evolve(user, grants=grants)
    ok, limit, reason = _authorize(directory, restricted, subject, at)
    if not ok:
        return f"cannot approve through role {role_id}: {reason}"
    return limit, f"role {role_id}{_limit_text(limit)}"


def _judge_leaf(
    directory: Directory, user: CompanyUser, leaf: Requirement, subject: Subject, at: datetime
) -> tuple[Money | None, str] | str:
    assert leaf.id is not None
    if leaf.kind is RequirementKind.ROLE:
        return _judge_role(directory, user, leaf.id, subject, at)
    if user.id != leaf.id:
        return f"is not the named approver {leaf.id}"
    ok, limit, reason = _authorize(directory, user, subject, at)
    if not ok:
        return f"cannot approve: {reason}"
    return limit, f"named approver{_limit_text(limit)}"


def _judge_step(
    directory: Directory, user: CompanyUser, step: EscalationStep, subject: Subject, at: datetime
) -> tuple[Money | None, str] | str:
    if step.kind is EscalationKind.ROLE:
        assert step.role_id is not None
        found = _judge_role(directory, user, step.role_id, subject, at)
        if isinstance(found, str):
            return found
        return found[0], f"escalation to {found[1]}"
    assert step.unit_id is not None
    if step.unit_id not in user.business_unit_ids:
        return f"is not a member of unit {step.unit_id}"
    ok, limit, reason = _authorize(directory, user, subject, at)
    if not ok:
        return f"cannot approve: {reason}"
    return limit, f"escalation to approvers of unit {step.unit_id}{_limit_text(limit)}"


def _qualifications(
    directory: Directory,
    user: CompanyUser,
    tier: TierProgress,
    subject: Subject,
    at: datetime,
) -> tuple[list[Qualification], list[str]]:
    quals: list[Qualification] = []
    failures: list[str] = []
    for path, leaf in tier.tier.approvers.leaves():
        found = _judge_leaf(directory, user, leaf, subject, at)
        if isinstance(found, str):
            failures.append(found)
        else:
            quals.append(Qualification(path, found[0], found[1]))
    for step in tier.escalations:
        found = _judge_step(directory, user, step, subject, at)
        if isinstance(found, str):
            failures.append(f"{found} (escalation to {step.describe()})")
        else:
            quals.append(Qualification(None, found[0], found[1]))
    return quals, failures


def _delegation(
    directory: Directory, *, delegator: str, delegate: str, at: datetime
) -> Delegation | None:
    for d in sorted(directory.delegations, key=lambda d: d.id):
        if d.delegator_id == delegator and d.delegate_id == delegate and d.active_at(at):
            return d
    return None


def _enabled(directory: Directory, user_id: str) -> CompanyUser | None:
    user = directory.user(user_id)
    if user is None or user.status is UserStatus.DISABLED:
        return None
    return user


def decide(  # noqa: PLR0912 - one branch per separation-of-duties check
    flow: ApprovalFlow,
    directory: Directory,
    *,
    acted_by: str,
    verdict: Verdict,
    at: datetime,
    comment: str = "",
    on_behalf_of: str | None = None,
    rule_id: str | None = None,
) -> Decision:
    """Judge a decision and record it on ``flow``; return it.

    ``acted_by`` decides with their own authority, or — with ``on_behalf_of`` — with
    that of a colleague who delegated to them (an active :class:`Delegation`). The
    decision goes to the first active tier (in rule order, or of ``rule_id``) whose
    requirement the authority meets: the role's grant active now, for the subject's
    business unit, its APPROVE_UP_TO limit covering the total. The requester never
    decides, nobody decides twice in a flow (for themselves or for someone else),
    and a rejection needs a reason.

    Raises NotEligibleError (a PermissionDeniedError) saying what each active tier
    needs, InvalidTransitionError when the flow is not pending.
    """
    at = require_aware(at, path="at")
    if not isinstance(verdict, Verdict):
        raise ValidationError("must be a Verdict", path="verdict", value=verdict)
    if not isinstance(comment, str) or len(comment) > 2000:
        raise ValidationError("a comment is text of at most 2000 characters", path="comment")
    if verdict is Verdict.REJECTED and not comment.strip():
        raise ValidationError(
            "say why you reject: the requester sees the reason", path="comment", value=comment
        )
    if not flow.is_pending:
        raise InvalidTransitionError("approval flow", flow.id, flow.status.value, verdict.value)
    authority_id = acted_by if on_behalf_of is None else on_behalf_of
    subject = flow.subject
    if subject.requester_id in (acted_by, authority_id):
        raise NotEligibleError(
            f"{subject.requester_id} requested {subject.ref}; the requester never decides on "
            "their own request",
            actor=acted_by,
            decision_code="requester",
        )
    twice = {acted_by, authority_id} & flow.persons()
    if twice:
        raise NotEligibleError(
            f"{', '.join(sorted(twice))} already approved in this flow; one person approves "
            "once, for themselves or for a colleague",
            actor=acted_by,
            decision_code="already_decided",
        )
    if _enabled(directory, acted_by) is None:
        raise NotEligibleError(
            f"{acted_by} is not an active user of {directory.company_id}",
            actor=acted_by,
            decision_code="unknown_user",
        )
    delegation = None
    if authority_id != acted_by:
        delegation = _delegation(directory, delegator=authority_id, delegate=acted_by, at=at)
        if delegation is None:
            raise NotEligibleError(
                f"{authority_id} has not delegated their approvals to {acted_by} at this time",
                actor=acted_by,
                decision_code="no_delegation",
            )
    authority = _enabled(directory, authority_id)
    if authority is None:
        raise NotEligibleError(
            f"{authority_id} is not an active user of {directory.company_id}",
            actor=acted_by,
            decision_code="unknown_user",
        )
    reasons: list[str] = []
    for r, t in flow.active_tiers():
        progress = flow.rules[r]
        if rule_id is not None and progress.rule.id != rule_id:
            continue
        tier = progress.tiers[t]
        quals, failures = _qualifications(directory, authority, tier, subject, at)
        if quals:
            decision = Decision(
                rule_id=progress.rule.id,
                tier=t,
                verdict=verdict,
                acted_by=UserId(acted_by),
                on_behalf_of=UserId(authority_id),
                at=at,
                comment=comment,
                qualifications=tuple(quals),
                delegation_id=delegation.id if delegation is not None else None,
            )
            flow.record_decision(decision)
            return decision
        reasons.append(
            f"{progress.rule.name} / tier {t + 1} {tier.tier.name} needs "
            f"{tier.tier.approvers.describe()} - {authority_id} " + "; ".join(failures)
        )
    if rule_id is not None and not reasons:
        flow.rule_index(rule_id)  # ValidationError for an unknown rule
        reasons.append(f"rule {rule_id!r} has no tier waiting for decisions")
    raise NotEligibleError(
        f"{authority_id} cannot decide on {subject.ref} now",
        actor=acted_by,
        decision_code="not_an_approver",
        reasons=reasons,
    )


@attrs.frozen
class PendingDecision:
    """A decision a user could make now: on which flow's rule and tier, for whom
    (``on_behalf_of``: None for themselves, else the colleague who delegated to
    them) and why they qualify."""

    flow_id: FlowId
    subject: Subject
    rule_id: str
    tier: int
    tier_name: str
    on_behalf_of: UserId | None
    via: tuple[str, ...]
    due_at: datetime | None = None

    def describe(self) -> str:
        """``cart:c-1 (7657.30 EUR from u-ben): Plant approval, for u-dora``."""
        s = self.subject
        who = f", for {self.on_behalf_of}" if self.on_behalf_of else ""
        due = f", due {self.due_at.isoformat()}" if self.due_at is not None else ""
        return f"{s.ref} ({s.total} from {s.requester_id}): {self.tier_name}{who}{due}"


def pending_for(
    flow: ApprovalFlow, directory: Directory, user_id: str, *, at: datetime
) -> list[PendingDecision]:
    """What ``user_id`` could decide on ``flow`` at ``at`` (empty when nothing)."""
    at = require_aware(at, path="at")
    subject = flow.subject
    if not flow.is_pending or _enabled(directory, user_id) is None:
        return []
    if user_id == subject.requester_id or user_id in flow.persons():
        return []
    capacities = [
        user_id,
        *sorted(
            d.delegator_id
            for d in directory.delegations
            if d.delegate_id == user_id and d.active_at(at)
        ),
    ]
    out = []
    for authority_id in dict.fromkeys(capacities):
        if authority_id == subject.requester_id or authority_id in flow.persons():
            continue
        authority = _enabled(directory, authority_id)
        if authority is None:
            continue
        for r, t in flow.active_tiers():
            tier = flow.rules[r].tiers[t]
            quals, _ = _qualifications(directory, authority, tier, subject, at)
            if quals:
                out.append(
                    PendingDecision(
                        flow_id=flow.id,
                        subject=subject,
                        rule_id=flow.rules[r].rule.id,
                        tier=t,
                        tier_name=tier.tier.name,
                        on_behalf_of=None if authority_id == user_id else UserId(authority_id),
                        via=tuple(q.via for q in quals),
                        due_at=tier.due_at,
                    )
                )
                break
    return out


# -- escalation and re-approval -----------------------------------------------------------


def _next_step(
    flow: ApprovalFlow, tier: TierProgress, at: datetime, directory: Directory
) -> EscalationStep | None:
    target = tier.tier.escalate_to
    if target is None:
        return None
    level = len(tier.escalations) + 1
    if target.kind is EscalationKind.ROLE:
        if tier.escalations:
            return None
        return EscalationStep(at=at, level=level, kind=EscalationKind.ROLE, role_id=target.role_id)
    base = tier.escalations[-1].unit_id if tier.escalations else flow.subject.business_unit_id
    parent = directory.parent(base) if base is not None else None
    if parent is None:
        return None
    return EscalationStep(at=at, level=level, kind=EscalationKind.PARENT_UNIT, unit_id=parent)


def advance(flow: ApprovalFlow, *, now: datetime, directory: Directory) -> list[str]:
    """Escalate every tier whose due time has passed by ``now`` — as often as it has
    become due, each step at its own due time, so the result is the same however
    often this runs — and expire the flow when a tier times out with nowhere left to
    go. Returns what happened, one line per step."""
    now = require_aware(now, path="now")
    done: list[str] = []
    while flow.is_pending:
        due = sorted(
            (tier.due_at, r, t)
            for r, t in flow.active_tiers()
            if (tier := flow.rules[r].tiers[t]).due_at is not None and tier.due_at <= now
        )
        if not due:
            break
        due_at, r, t = due[0]
        assert due_at is not None
        progress = flow.rules[r]
        tier = progress.tiers[t]
        step = _next_step(flow, tier, due_at, directory)
        where = f"tier {t + 1} {tier.tier.name!r} of rule {progress.rule.id!r}"
        if step is None:
            flow.expire(due_at, f"{where} was not decided in time and cannot escalate further")
            done.append(f"{flow.id}: expired ({where} timed out)")
            break
        flow.escalate(r, t, step)
        done.append(f"{flow.id}: {where} escalated to {step.describe()}")
    return done


def _covers(limit: Money | None, total: Money) -> bool:
    return limit is None or (limit.currency == total.currency and total <= limit)


def _recheck(progress: RuleProgress, total: Money) -> tuple[RuleProgress, bool]:
    """Keep a rule's approvals whose limits still cover ``total``; restart from the
    first tier that is no longer met. Returns (progress, whether anything changed)."""
    tiers: list[TierProgress] = []
    changed = False
    broken = False
    for tier in progress.tiers:
        if broken:
            tiers.append(TierProgress(tier.tier))
            changed = changed or tier.decisions != () or tier.started_at is not None
            continue
        kept = []
        for d in tier.decisions:
            quals = tuple(q for q in d.qualifications if _covers(q.limit, total))
            if quals:
                kept.append(attrs.evolve(d, qualifications=quals))
        if len(kept) != len(tier.decisions) or any(
            k.qualifications != d.qualifications for k, d in zip(kept, tier.decisions, strict=False)
        ):
            changed = True
        updated = attrs.evolve(tier, decisions=tuple(kept))
        if tier.completed_at is not None and not updated.is_satisfied():
            updated = attrs.evolve(updated, completed_at=None, started_at=None, due_at=None)
            broken = True
        elif tier.completed_at is None:
            broken = True  # the active tier: later tiers stay waiting
        tiers.append(updated)
    return RuleProgress(progress.rule, tuple(tiers)), changed


def resubmit(
    flow: ApprovalFlow,
    policy: ApprovalPolicy,
    subject: object,
    *,
    at: datetime,
    directory: Directory | None = None,
) -> dict[str, list[str]]:
    """Selective re-approval: the subject of a pending flow changed.

    Rules are matched again under ``policy``. A rule that matched before and still
    matches, unchanged, keeps its progress — except approvals whose approver's
    limit no longer covers the new total, which no longer count (its tiers restart
    from the first one not met). A rule that newly matches, or whose definition
    changed, starts from its first tier; a rule that no longer matches is dropped.
    Returns the rule ids by outcome: kept, reset, added, dropped.
    """
    at = require_aware(at, path="at")
    snapshot = Subject.of(subject)
    if not flow.is_pending:
        raise InvalidTransitionError("approval flow", flow.id, flow.status.value, "resubmitted")
    if snapshot.ref != flow.subject.ref or snapshot.requester_id != flow.subject.requester_id:
        raise ValidationError(
            f"flow {flow.id!r} is for {flow.subject.ref} requested by "
            f"{flow.subject.requester_id}; submit a new flow for another subject",
            path="subject",
            value=str(snapshot.ref),
        )
    matches = match_rules(policy, snapshot, at=at, directory=directory)
    old = {p.rule.id: p for p in flow.rules}
    outcome: dict[str, list[str]] = {"kept": [], "reset": [], "added": [], "dropped": []}
    progress: list[RuleProgress] = []
    for m in matches:
        if not m.matched:
            continue
        fresh = RuleProgress(m.rule, tuple(TierProgress(t) for t in m.rule.tiers))
        before = old.get(m.rule.id)
        if before is None:
            outcome["added"].append(m.rule.id)
            progress.append(fresh)
        elif before.rule != m.rule:
            outcome["reset"].append(m.rule.id)
            progress.append(fresh)
        else:
            rechecked, changed = _recheck(before, snapshot.total)
            outcome["reset" if changed else "kept"].append(m.rule.id)
            progress.append(rechecked)
    matched = {m.rule.id for m in matches if m.matched}
    outcome["dropped"] = [p.rule.id for p in flow.rules if p.rule.id not in matched]
    flow.calendar = policy.calendar
    flow.policy_version = policy.version
    flow.replace_rules(
        progress,
        at=at,
        subject=snapshot,
        kept=outcome["kept"],
        reset=outcome["reset"],
        added=outcome["added"],
        dropped=outcome["dropped"],
    )
    return outcome


# -- transparency: preview and flow status ------------------------------------------------


@attrs.frozen
class Candidate:
    """Someone who can approve a tier now: a user for themselves, or a delegate for
    the colleague named in ``on_behalf_of``; ``via`` says through what."""

    user_id: UserId
    name: str
    via: tuple[str, ...]
    on_behalf_of: UserId | None = None

    def describe(self) -> str:
        """``Clara Nguyen (u-clara): role approver``."""
        who = f"{self.name} ({self.user_id})"
        if self.on_behalf_of is not None:
            who += f" for {self.on_behalf_of}"
        return f"{who}: {', '.join(self.via)}"


@attrs.frozen
class TierPreview:
    """A tier as the requester sees it: what it needs, its state, who can approve it
    today, whether that can ever succeed (``problems`` when not)."""

    index: int
    name: str
    needs: str
    state: str  # "waiting", "active", "approved", "rejected", "-" (not started: preview)
    candidates: tuple[Candidate, ...] = ()
    decided: tuple[str, ...] = ()
    escalated_to: tuple[str, ...] = ()
    due_at: datetime | None = None
    timing: str = ""
    feasible: bool = True
    problems: tuple[str, ...] = ()


@attrs.frozen
class RulePreview:
    """A rule: whether it applies and why, and its tiers."""

    rule_id: str
    name: str
    matched: bool
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    tiers: tuple[TierPreview, ...]


@attrs.frozen
class ApprovalPreview:
    """What approval a subject needs and who can give it: every rule with its
    verdict and the comparisons behind it, every tier of the matching ones with the
    people who can approve it today. See :meth:`text`."""

    subject: Subject
    at: datetime
    rules: tuple[RulePreview, ...]
    status: str = ""  # the flow's status when explaining a flow; "" for a preview
    calendar: str = ""
    open_now: bool | None = None
    next_opening: datetime | None = None

    @property
    def needs_approval(self) -> bool:
        """Whether any rule matches."""
        return any(r.matched for r in self.rules)

    @property
    def blocked(self) -> bool:
        """Whether some tier of a matching rule can never be approved."""
        return any(not t.feasible for r in self.rules if r.matched for t in r.tiers)

    def text(self) -> str:
        """The whole preview for a person."""
        s = self.subject
        head = f"{s.ref} of {s.requester_id}, {s.total}: "
        if self.status:
            head += self.status
        else:
            head += "approval needed" if self.needs_approval else "no approval needed"
        lines = [head]
        if self.calendar:
            state = "open now" if self.open_now else "closed now"
            nxt = ""
            if not self.open_now and self.next_opening is not None:
                nxt = f", opens {self.next_opening.isoformat()}"
            lines.append(f"  business hours: {self.calendar}; {state}{nxt}")
        for rule in self.rules:
            verdict = "applies" if rule.matched else "does not apply"
            lines.append(f"  rule {rule.name} [{rule.rule_id}]: {verdict}")
            lines.extend(f"    {c}" for c in rule.checks)
            lines.extend(
                f"    {r}" for r in rule.reasons if r.startswith("requester") and not rule.matched
            )
            for tier in rule.tiers:
                state = "" if tier.state == "-" else f" [{tier.state}]"
                lines.append(f"    tier {tier.index + 1} {tier.name}: {tier.needs}{state}")
                if tier.timing:
                    lines.append(f"      {tier.timing}")
                lines.extend(f"      approved by {d}" for d in tier.decided)
                lines.extend(f"      escalated to {e}" for e in tier.escalated_to)
                lines.extend(f"      can approve: {c.describe()}" for c in tier.candidates)
                lines.extend(f"      problem: {p}" for p in tier.problems)
        return "\n".join(lines)


def _candidates(
    directory: Directory, tier: TierProgress, subject: Subject, at: datetime, exclude: set[str]
) -> tuple[list[Candidate], list[tuple[str, list[Qualification]]], list[str]]:
    """(candidates incl. delegates, (person, qualifications) of each own capacity,
    why the others cannot)."""
    own: list[tuple[str, list[Qualification]]] = []
    out: list[Candidate] = []
    misses: list[str] = []
    for user_id in sorted(directory.users):
        user = directory.users[user_id]
        if user_id in exclude or user.status is UserStatus.DISABLED:
            continue
        quals, failures = _qualifications(directory, user, tier, subject, at)
        if quals:
            own.append((user_id, quals))
            out.append(Candidate(user.id, user.name, tuple(q.via for q in quals)))
        else:
            relevant = [f for f in failures if f.startswith("cannot approve")]
            if relevant:
                misses.append(f"{user.name} ({user_id}): {'; '.join(relevant)}")
    qualified = {p for p, _ in own}
    for d in sorted(directory.delegations, key=lambda d: (d.delegator_id, d.id)):
        if not d.active_at(at) or d.delegator_id not in qualified or d.delegate_id in exclude:
            continue
        delegate = _enabled(directory, d.delegate_id)
        if delegate is None:
            continue
        quals = next(q for p, q in own if p == d.delegator_id)
        out.append(
            Candidate(delegate.id, delegate.name, tuple(q.via for q in quals), d.delegator_id)
        )
    return out, own, misses


def _timing(tier: TierProgress) -> str:
    t = tier.tier
    if t.timeout is None:
        return ""
    hours = f"{t.timeout / timedelta(hours=1):g}"
    then = f"escalates to {t.escalate_to.describe()}" if t.escalate_to else "the flow expires"
    due = f" (due {tier.due_at.isoformat()})" if tier.due_at is not None else ""
    return f"{hours} business hours, then {then}{due}"


def _tier_preview(
    index: int,
    tier: TierProgress,
    state: str,
    subject: Subject,
    *,
    at: datetime,
    directory: Directory | None,
    exclude: set[str],
) -> TierPreview:
    decided = tuple(
        f"{d.acted_by}" + (f" for {d.on_behalf_of}" if d.delegated else "") for d in tier.approvals
    )
    base = TierPreview(
        index=index,
        name=tier.tier.name,
        needs=tier.tier.approvers.describe(),
        state=state,
        decided=decided,
        escalated_to=tuple(s.describe() for s in tier.escalations),
        due_at=tier.due_at,
        timing=_timing(tier),
    )
    if directory is None or state in ("approved", "rejected"):
        return base
    candidates, own, misses = _candidates(directory, tier, subject, at, exclude)
    done = [{q.leaf for q in d.qualifications if q.leaf is not None} for d in tier.approvals]
    options = done + [{q.leaf for q in quals if q.leaf is not None} for _, quals in own]
    feasible = satisfiable(tier.tier.approvers, options) or any(
        q.leaf is None for _, quals in own for q in quals
    )
    problems: list[str] = []
    if not feasible:
        if _escalation_possible(tier, subject, at, directory, exclude):
            problems.append("nobody can approve it as it stands; it will escalate when due")
            feasible = True
        else:
            problems.append(
                f"{tier.tier.approvers.describe()} cannot be met by the people who may approve"
                + (": " + " | ".join(misses) if misses else "")
            )
    return attrs.evolve(
        base, candidates=tuple(candidates), feasible=feasible, problems=tuple(problems)
    )


def _escalation_possible(
    tier: TierProgress, subject: Subject, at: datetime, directory: Directory, exclude: set[str]
) -> bool:
    target = tier.tier.escalate_to
    if target is None:
        return False
    if target.kind is EscalationKind.ROLE:
        steps = [EscalationStep(at=at, level=1, kind=EscalationKind.ROLE, role_id=target.role_id)]
    else:
        units = directory.unit_path(subject.business_unit_id)[1:]
        steps = [
            EscalationStep(at=at, level=i + 1, kind=EscalationKind.PARENT_UNIT, unit_id=u)
            for i, u in enumerate(units)
        ]
    for user_id, user in directory.users.items():
        if user_id in exclude or user.status is UserStatus.DISABLED:
            continue
        for step in steps:
            if not isinstance(_judge_step(directory, user, step, subject, at), str):
                return True
    return False


def _calendar_fields(calendar: BusinessCalendar | None, at: datetime) -> dict[str, Any]:
    if calendar is None:
        return {}
    return {
        "calendar": calendar.describe(),
        "open_now": calendar.is_open(at),
        "next_opening": calendar.next_opening(at),
    }


def preview(
    policy: ApprovalPolicy,
    subject: object,
    *,
    at: datetime,
    directory: Directory | None = None,
) -> ApprovalPreview:
    """Which rules match ``subject`` and why, what each tier needs and — given a
    :class:`Directory` — who can approve each tier today and whether some tier is a
    dead end (nobody's limit covers the total, only the requester holds the role).
    Nothing is stored."""
    at = require_aware(at, path="at")
    snapshot = Subject.of(subject)
    rules = []
    for m in match_rules(policy, snapshot, at=at, directory=directory):
        tiers: tuple[TierPreview, ...] = ()
        if m.matched:
            tiers = tuple(
                _tier_preview(
                    i,
                    TierProgress(t),
                    "-",
                    snapshot,
                    at=at,
                    directory=directory,
                    exclude={snapshot.requester_id},
                )
                for i, t in enumerate(m.rule.tiers)
            )
        rules.append(RulePreview(m.rule.id, m.rule.name, m.matched, m.reasons, m.checks, tiers))
    return ApprovalPreview(snapshot, at, tuple(rules), **_calendar_fields(policy.calendar, at))


def explain_flow(
    flow: ApprovalFlow, *, at: datetime, directory: Directory | None = None
) -> ApprovalPreview:
    """A flow's state for a person: each matched rule's tiers with what they need,
    who approved, escalations, due times and who can approve the active ones now."""
    at = require_aware(at, path="at")
    exclude: set[str] = {flow.subject.requester_id, *flow.persons()}
    rules = []
    for progress in flow.rules:
        tiers = []
        for t, tier in enumerate(progress.tiers):
            if any(d.verdict is Verdict.REJECTED for d in tier.decisions):
                state = "rejected"
            elif tier.completed_at is not None:
                state = "approved"
            elif t != progress.active_index:
                state = "waiting" if flow.is_pending else "not reached"
            else:
                state = "active" if flow.is_pending else flow.status.value
            dir_for_tier = directory if state == "active" else None
            tiers.append(
                _tier_preview(
                    t, tier, state, flow.subject, at=at, directory=dir_for_tier, exclude=exclude
                )
            )
        rules.append(
            RulePreview(
                rule_id=progress.rule.id,
                name=progress.rule.name,
                matched=True,
                reasons=(f"condition {progress.rule.condition}",),
                checks=(),
                tiers=tuple(tiers),
            )
        )
    status = flow.status.value
    if flow.outcome_reason and not flow.is_pending:
        status += f" ({flow.outcome_reason})"
    return ApprovalPreview(
        flow.subject, at, tuple(rules), status, **_calendar_fields(flow.calendar, at)
    )


# -- dead ends ----------------------------------------------------------------------------


def check_feasible(flow: ApprovalFlow, directory: Directory, *, at: datetime) -> None:
    """Refuse a flow some tier of which nobody could approve as things stand — no
    approver's limit covers the total, the only holder of a role is the requester —
    unless the tier escalates to someone who could. Also refuses a flow whose tiers
    together need more different approvers than there are. Raises
    UnapprovableError naming the rule, the tier and why."""
    at = require_aware(at, path="at")
    subject = flow.subject
    exclude: set[str] = {subject.requester_id}
    chained: list[tuple[int, Requirement]] = []
    persons: dict[str, set[Path]] = {}
    escalating = False
    for progress in flow.rules:
        for tier in progress.tiers:
            view = _tier_preview(0, tier, "-", subject, at=at, directory=directory, exclude=exclude)
            if not view.feasible:
                raise UnapprovableError(progress.rule.id, tier.tier.name, view.problems)
            escalating = escalating or tier.tier.escalate_to is not None
            index = len(chained)
            chained.append((index, tier.tier.approvers))
            _, own, _ = _candidates(directory, tier, subject, at, exclude)
            for user_id, quals in own:
                persons.setdefault(user_id, set()).update(
                    (index, *q.leaf) for q in quals if q.leaf is not None
                )
    if chained and not escalating:
        options = [frozenset(p) for p in persons.values()]
        if next(iter(_chain(chained, (), options, frozenset())), None) is None:
            rule = flow.rules[0].rule.id
            raise UnapprovableError(
                rule,
                None,
                [
                    (
                        "the matching rules together need more different approvers than there "
                        f"are ({len(persons)} can approve; one person approves once per flow)"
                    )
                ],
            )


def _could_hold(user: CompanyUser, role_id: str, at: datetime) -> bool:
    return user.status is not UserStatus.DISABLED and any(
        g.role_id == role_id and (g.valid_until is None or g.valid_until > at) for g in user.grants
    )


def _limit_problem(role: Role, floor: tuple[Money, bool] | None) -> str | None:
    entry = role.entry(Permission.APPROVALS_APPROVE)
    if entry is None:
        return f"role {role.id} does not include approvals.approve"
    if entry.limit is None or floor is None:
        return None
    amount, exclusive = floor
    if entry.limit.currency != amount.currency:
        return (
            f"role {role.id} approves up to {entry.limit}, and the rule matches totals in "
            f"{amount.currency}"
        )
    if entry.limit < amount or (exclusive and entry.limit == amount):
        over = "over" if exclusive else "from"
        return (
            f"role {role.id} approves up to {entry.limit}; the rule matches only totals "
            f"{over} {amount}"
        )
    return None


def _static_leaf(  # noqa: PLR0911 - one return per kind of leaf problem
    leaf: Requirement, directory: Directory, floor: tuple[Money, bool] | None, at: datetime
) -> tuple[set[str], list[str]]:
    """(users who could ever meet the leaf, problems)."""
    assert leaf.id is not None
    if leaf.kind is RequirementKind.ROLE:
        role = directory.roles.get(leaf.id)
        if role is None:
            return set(), [f"role {leaf.id} does not exist"]
        problem = _limit_problem(role, floor)
        if problem is not None:
            return set(), [problem]
        holders: set[str] = {u.id for u in directory.users.values() if _could_hold(u, leaf.id, at)}
        if not holders:
            return set(), [f"nobody holds role {leaf.id}"]
        return holders, []
    user = directory.users.get(leaf.id)
    if user is None or user.status is UserStatus.DISABLED:
        return set(), [f"user {leaf.id} is not an active user of {directory.company_id}"]
    problems = []
    for grant in user.grants:
        role = directory.roles.get(grant.role_id)
        if role is None or not _could_hold(user, grant.role_id, at):
            continue
        problem = _limit_problem(role, floor)
        if problem is None:
            return {str(user.id)}, []
        if role.entry(Permission.APPROVALS_APPROVE) is not None:
            problems.append(problem)
    return set(), problems or [f"user {leaf.id} holds no role that may approve"]


def policy_problems(
    policy: ApprovalPolicy, directory: Directory, *, at: datetime
) -> list[UnapprovableError]:
    """Every rule or tier of ``policy`` nobody could ever approve: a rule without
    tiers, an empty tier, a role that does not exist, lacks approvals.approve or
    that nobody holds, a named user who cannot approve, limits below every total
    the rule matches, more different approvers needed than can be found, an
    escalation to a role that cannot approve."""
    at = require_aware(at, path="at")
    found: list[UnapprovableError] = []
    for rule in policy.rules:
        if not rule.tiers:
            found.append(UnapprovableError(rule.id, None, ["the rule has no tiers"]))
            continue
        floor = rule.condition.total_floor()
        for tier in rule.tiers:
            problems = _tier_problems(tier, directory, floor, at)
            if problems:
                found.append(UnapprovableError(rule.id, tier.name, problems))
    return found


def _tier_problems(
    tier: ApprovalTier, directory: Directory, floor: tuple[Money, bool] | None, at: datetime
) -> list[str]:
    requirement = tier.approvers
    if requirement.minimum() == 0 or not requirement.is_met(p for p, _ in requirement.leaves()):
        return ["the tier is empty: it names no role or user to approve"]
    problems: list[str] = []
    persons: dict[str, set[Path]] = {}
    for path, leaf in requirement.leaves():
        holders, leaf_problems = _static_leaf(leaf, directory, floor, at)
        problems.extend(leaf_problems)
        for user_id in holders:
            persons.setdefault(user_id, set()).add(path)
    if tier.escalate_to is not None and tier.escalate_to.role_id is not None:
        role = directory.roles.get(tier.escalate_to.role_id)
        if role is None:
            return [f"the escalation role {tier.escalate_to.role_id} does not exist"]
        if role.entry(Permission.APPROVALS_APPROVE) is None:
            return [f"the escalation role {role.id} does not include approvals.approve"]
    if not satisfiable(requirement, list(persons.values())):
        if not problems:
            problems.append(
                f"{requirement.describe()} needs {requirement.minimum()} different approvers; "
                f"only {len(persons)} could approve"
            )
        return problems
    return []


def check_policy(policy: ApprovalPolicy, directory: Directory, *, at: datetime) -> None:
    """Raise the first of :func:`policy_problems` (an UnapprovableError, a
    ConflictError), if any."""
    problems = policy_problems(policy, directory, at=at)
    if problems:
        raise problems[0]
