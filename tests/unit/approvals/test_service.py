"""Approvals through the portal, on MemoryStore and SQLite: every use-case takes an
actor, is authorized and audited, and leaves nothing half-written when it fails."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import attrs
import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.approvals import (
    ApprovalFlowApproved,
    ApprovalFlowCompleted,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Budget,
    BudgetPeriod,
    Escalation,
    FlowStatus,
    NotEligibleError,
    Requirement,
    Subject,
    UnapprovableError,
)
from b2bcore.calendar import BusinessCalendar
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.events import DomainEvent
from b2bcore.ids import CompanyId
from b2bcore.portal import Portal
from b2bcore.serialization import event_from_record

from .conftest import AT, cart, eur

ANA, BEN, CLARA, DORA, EVE, IVY = (
    Actor.user("acme", u) for u in ("ana", "ben", "clara", "dora", "eve", "ivy")
)
H = timedelta(hours=1)
OFFICE = BusinessCalendar.uniform("Europe/Berlin", [("08:00", "17:00")])
role, user = Requirement.role, Requirement.user


def two_step_policy() -> ApprovalPolicy:
    return ApprovalPolicy(
        company_id="acme",
        calendar=OFFICE,
        rules=[
            ApprovalRule(
                id="over-5k",
                name="Orders over 5,000 EUR",
                condition="total > 5000 EUR",
                tiers=[
                    ApprovalTier(
                        name="Plant approval",
                        approvers=role("approver"),
                        timeout=8 * H,
                        escalate_to=Escalation.to_role("finance"),
                    ),
                    ApprovalTier(name="Budget owner", approvers=user("dora")),
                ],
            )
        ],
    )


def trail(portal: Portal) -> list[tuple[str, str, str, str]]:
    return [
        (e.acted_by, e.on_behalf_of, e.action, e.outcome.value)
        for e in portal.accounts.audit_trail(ANA, limit=500)
    ]


def events(portal: Portal) -> list[DomainEvent]:
    with portal.store.unit_of_work() as uow:
        records = uow.outbox.list(company_id=CompanyId("acme"), limit=1000)
    return [event_from_record(r) for r in records]


def flows_stored(portal: Portal) -> int:
    with portal.store.unit_of_work() as uow:
        return len(uow.approval_flows.list(company_id=CompanyId("acme"), limit=100))


# -- policy -------------------------------------------------------------------------------


def test_save_policy_checks_versions_and_permissions(portal: Portal) -> None:
    policy = two_step_policy()
    saved = portal.approvals.save_policy(ANA, policy)
    assert saved.version == 1
    assert portal.approvals.get_policy(BEN) == saved
    with pytest.raises(ConcurrencyError):
        portal.approvals.save_policy(ANA, two_step_policy())
    stale = portal.approvals.get_policy(ANA)
    current = portal.approvals.get_policy(ANA)
    current.rules = current.rules[:0]
    assert portal.approvals.save_policy(ANA, current).version == 2
    with pytest.raises(ConcurrencyError):
        portal.approvals.save_policy(ANA, stale)
    with pytest.raises(PermissionDeniedError):
        portal.approvals.save_policy(BEN, two_step_policy())
    with pytest.raises(ValidationError):
        portal.approvals.save_policy(ANA, attrs.evolve(two_step_policy(), company_id="globex"))
    with pytest.raises(ValidationError):
        portal.approvals.save_policy(ANA, "policy")  # type: ignore[arg-type]
    assert [a for _, _, a, o in trail(portal) if a == "approval_policy.save"] == [
        "approval_policy.save"
    ] * 5
    saved_events = [e for e in events(portal) if type(e).__name__ == "ApprovalPolicySaved"]
    assert len(saved_events) == 2


def test_a_policy_nobody_can_approve_is_refused_and_not_stored(portal: Portal) -> None:
    bad = ApprovalPolicy(
        company_id="acme",
        rules=[
            ApprovalRule(
                id="huge",
                name="Huge",
                condition="total > 20000 EUR",
                tiers=[ApprovalTier(name="T", approvers=role("approver-10k"))],
            )
        ],
    )
    with pytest.raises(UnapprovableError, match="approves up to 10000 EUR"):
        portal.approvals.save_policy(ANA, bad)
    assert bad.pull_events() == []
    with pytest.raises(NotFoundError):
        portal.approvals.get_policy(ANA)
    assert trail(portal)[-1] == ("ana", "ana", "approval_policy.save", "failed")


# -- the requester ------------------------------------------------------------------------


def test_without_a_policy_nothing_needs_approval(portal: Portal) -> None:
    flow = portal.approvals.submit(BEN, cart())
    assert flow.status is FlowStatus.APPROVED
    assert flow.rules == ()
    assert portal.approvals.preview(BEN, cart()).needs_approval is False


def test_needs_approval_in_a_unit_of_work_checks_the_subject_when_a_rule_could_match(
    portal: Portal,
) -> None:
    with portal.store.unit_of_work() as uow:
        assert portal.approvals.needs_approval(uow, cart(), at=AT) is False
        with pytest.raises(ValidationError):
            portal.approvals.needs_approval(uow, object(), at=AT)  # no company at all
        # Without rules nothing needs approval: the rest of the subject is not read.
        partial = SimpleNamespace(company_id="acme")
        assert portal.approvals.needs_approval(uow, partial, at=AT) is False
    portal.approvals.save_policy(ANA, two_step_policy())
    with portal.store.unit_of_work() as uow:
        assert portal.approvals.needs_approval(uow, cart(), at=AT) is True
        with pytest.raises(ValidationError):
            portal.approvals.needs_approval(uow, partial, at=AT)


def test_only_the_requester_submits_and_only_once(portal: Portal) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    with pytest.raises(PermissionDeniedError) as e:
        portal.approvals.submit(IVY, cart(requester_id="ivy"))
    assert e.value.decision_code == "not_in_role"  # viewers may not buy
    portal.accounts.grant_role(ANA, user_id="ivy", role_id="buyer")
    with pytest.raises(PermissionDeniedError) as e:
        portal.approvals.submit(IVY, cart())
    assert e.value.decision_code == "not_requester"
    flow = portal.approvals.submit(BEN, cart())
    with pytest.raises(DuplicateError, match=flow.id):
        portal.approvals.submit(BEN, cart())
    with pytest.raises(ValidationError):
        portal.approvals.submit(BEN, cart(company_id="globex"))
    with pytest.raises(ValidationError):
        portal.approvals.submit(BEN, object())
    assert flows_stored(portal) == 1


def test_a_dead_end_is_refused_at_submit(portal: Portal) -> None:
    portal.approvals.save_policy(
        ANA,
        ApprovalPolicy(
            company_id="acme",
            rules=[
                ApprovalRule(
                    id="r",
                    name="R",
                    condition="true",
                    tiers=[ApprovalTier(name="Capped", approvers=role("approver-10k"))],
                )
            ],
        ),
    )
    with pytest.raises(UnapprovableError, match="over the limit of 10000 EUR"):
        portal.approvals.submit(BEN, cart("12000"))
    assert flows_stored(portal) == 0
    assert portal.approvals.preview(BEN, cart("12000")).blocked


def test_two_approvers_one_delegated_budget_committed_once(
    portal: Portal, clock: FixedClock
) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    portal.approvals.save_budget(
        ANA,
        Budget(
            id="leipzig-q",
            company_id="acme",
            amount=eur("20000"),
            period=BudgetPeriod.QUARTER,
            business_unit_id="leipzig",
        ),
    )
    flow = portal.approvals.submit(BEN, cart())
    assert flow.status is FlowStatus.PENDING
    portal.approvals.delegate(
        DORA, delegate_id="eve", valid_from=AT, valid_until=AT + timedelta(days=7), reason="leave"
    )
    assert [p.tier_name for p in portal.approvals.pending_approvals(CLARA)] == ["Plant approval"]
    assert portal.approvals.pending_approvals(BEN) == []
    clock.advance(H)
    flow = portal.approvals.decide(CLARA, flow.id, approve=True, comment="needed for line 3")
    eves = portal.approvals.pending_approvals(EVE)
    assert [(p.tier_name, p.on_behalf_of) for p in eves] == [("Budget owner", "dora")]
    with pytest.raises(NotEligibleError):
        portal.approvals.decide(EVE, flow.id, approve=True)  # not for herself
    clock.advance(H)
    flow = portal.approvals.decide(EVE, flow.id, approve=True, on_behalf_of="dora")
    assert flow.status is FlowStatus.APPROVED
    assert flow.cycle_time == 2 * H
    decisions = flow.decisions()
    assert [(d.acted_by, d.on_behalf_of) for d in decisions] == [
        ("clara", "clara"),
        ("eve", "dora"),
    ]
    (status,) = portal.approvals.budgets(ANA)
    assert (status.period, status.committed, status.remaining) == (
        "2026-Q4",
        eur("7657.30"),
        eur("12342.70"),
    )
    assert ("eve", "dora", "approval.approve", "allowed") in trail(portal)
    approved = [e for e in events(portal) if isinstance(e, ApprovalFlowApproved)]
    assert [(e.subject_kind, e.subject_id, e.flow_id) for e in approved] == [
        ("cart", "c-1", flow.id)
    ]
    (completed,) = [e for e in events(portal) if isinstance(e, ApprovalFlowCompleted)]
    assert (completed.status, completed.cycle_time) == ("approved", 2 * H)
    with pytest.raises(InvalidTransitionError):
        portal.approvals.decide(ANA, flow.id, approve=False, comment="too late")
    assert portal.approvals.flow_for(BEN, "cart", "c-1") == flow
    assert portal.approvals.flow_for(BEN, "cart", "c-2") is None


def test_agents_never_approve_and_refusals_are_audited(portal: Portal, clock: FixedClock) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    flow = portal.approvals.submit(BEN, cart())
    portal.accounts.register_agent(
        operator_id="op-olga", agent_id="agent-sam", name="Sam", email="sam@seller.example"
    )
    session = portal.accounts.start_assisted_session(
        agent_id="agent-sam",
        company_id="acme",
        customer_user_id="clara",
        reason="phone call",
        permissions=[Permission.ORDERS_BUY, Permission.ORDERS_VIEW],
        duration=timedelta(minutes=30),
    )
    with pytest.raises(PermissionDeniedError) as e:
        portal.approvals.decide(Actor.assisted(session), flow.id, approve=True)
    assert e.value.decision_code == "agent_cannot_approve"
    with pytest.raises(PermissionDeniedError) as e:
        portal.approvals.decide(IVY, flow.id, approve=True)
    assert e.value.decision_code == "not_in_role"
    with pytest.raises(NotEligibleError):
        portal.approvals.decide(DORA, flow.id, approve=True)  # not her tier yet
    lines = trail(portal)[-3:]
    assert lines == [
        ("agent-sam", "clara", "approval.approve", "denied"),
        ("ivy", "ivy", "approval.approve", "denied"),
        ("dora", "dora", "approval.approve", "failed"),
    ]
    assert portal.approvals.get_flow(BEN, flow.id).decisions() == []


def test_reject_with_a_reason_and_cancel(portal: Portal) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    flow = portal.approvals.submit(BEN, cart())
    with pytest.raises(ValidationError):
        portal.approvals.decide(CLARA, flow.id, approve=False)
    flow = portal.approvals.decide(
        CLARA, flow.id, approve=False, comment="use the framework contract"
    )
    assert (flow.status, flow.outcome_reason) == (FlowStatus.REJECTED, "use the framework contract")
    again = portal.approvals.submit(BEN, cart())  # a new flow after a rejection
    with pytest.raises(PermissionDeniedError):
        portal.approvals.cancel(CLARA, again.id, reason="not mine")
    with pytest.raises(ValidationError):
        portal.approvals.cancel(BEN, again.id, reason=" ")
    cancelled = portal.approvals.cancel(BEN, again.id, reason="ordered elsewhere")
    assert cancelled.status is FlowStatus.CANCELLED
    assert cancelled.outcome_reason == "ben: ordered elsewhere"
    with pytest.raises(InvalidTransitionError):
        portal.approvals.cancel(BEN, again.id, reason="twice")
    statuses = [e.status for e in events(portal) if isinstance(e, ApprovalFlowCompleted)]
    assert statuses == ["rejected", "cancelled"]


def test_resubmit_keeps_what_still_holds(portal: Portal) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    flow = portal.approvals.submit(BEN, cart())
    portal.approvals.decide(CLARA, flow.id, approve=True)
    changed = portal.approvals.resubmit(BEN, flow.id, cart("8100.00"))
    assert changed.resubmissions == 1
    assert [d.acted_by for d in changed.decisions()] == ["clara"]
    assert changed.subject.total == eur("8100.00")
    with pytest.raises(PermissionDeniedError):
        portal.approvals.resubmit(CLARA, flow.id, cart("8100.00"))
    cheap = portal.approvals.resubmit(BEN, flow.id, cart("99.00"))
    assert cheap.status is FlowStatus.APPROVED


def test_tick_escalates_and_expires_in_business_hours(portal: Portal, clock: FixedClock) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    flow = portal.approvals.submit(BEN, cart())
    scheduler = Actor.operator_for("acme", "scheduler")
    assert portal.approvals.tick(scheduler) == []
    clock.advance(timedelta(hours=9))  # 18:00 in Berlin: 8 business hours are up at 17:00
    lines = portal.approvals.tick(scheduler)
    assert lines == [
        f"{flow.id}: tier 1 'Plant approval' of rule 'over-5k' escalated to role finance"
    ]
    assert portal.approvals.tick(scheduler) == []
    with pytest.raises(PermissionDeniedError):
        portal.approvals.tick(BEN)
    view = portal.approvals.explain(ANA, flow.id)
    tier = view.rules[0].tiers[0]
    assert tier.escalated_to == ("role finance",)
    assert [c.user_id for c in tier.candidates] == ["clara", "eve"]
    clock.advance(timedelta(days=3))
    (line,) = portal.approvals.tick(scheduler)
    assert line.endswith("expired (tier 1 'Plant approval' of rule 'over-5k' timed out)")
    assert portal.approvals.get_flow(ANA, flow.id).status is FlowStatus.EXPIRED
    assert ("scheduler", "scheduler", "approval.tick", "allowed") in trail(portal)


def test_decide_escalates_first_so_late_ticks_change_nothing(
    portal: Portal, clock: FixedClock
) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    flow = portal.approvals.submit(BEN, cart())
    clock.advance(timedelta(hours=10))
    flow = portal.approvals.decide(EVE, flow.id, approve=True)  # finance, after escalation
    assert flow.rules[0].tiers[0].completed_at is not None
    assert [q.via for q in flow.decisions()[0].qualifications] == [
        "escalation to role finance up to 50000 EUR"
    ]


def test_reading_a_flow_follows_view_scopes(portal: Portal) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())
    flow = portal.approvals.submit(BEN, cart())
    assert portal.approvals.get_flow(BEN, flow.id).id == flow.id
    assert portal.approvals.get_flow(CLARA, flow.id).id == flow.id  # approver of leipzig
    with pytest.raises(PermissionDeniedError) as e:
        portal.approvals.get_flow(IVY, flow.id)  # a viewer sees only their own
    assert e.value.decision_code == "outside_view_scope"
    with pytest.raises(PermissionDeniedError):
        portal.approvals.get_flow(Actor.user("acme", "nobody"), flow.id)
    with pytest.raises(NotFoundError):
        portal.approvals.get_flow(ANA, "nope")
    page = portal.approvals.list_flows(ANA, status=FlowStatus.PENDING)
    assert [f.id for f in page] == [flow.id]
    assert portal.approvals.list_flows(ANA, requester_id="clara").items == ()
    with pytest.raises(ValidationError):
        portal.approvals.list_flows(ANA, status="pending")  # type: ignore[arg-type]


# -- delegation and budgets ---------------------------------------------------------------


def test_delegations(portal: Portal, clock: FixedClock) -> None:
    week = AT + timedelta(days=7)
    d = portal.approvals.delegate(DORA, delegate_id="eve", valid_from=AT, valid_until=week)
    assert (d.delegator_id, d.delegate_id, d.version) == ("dora", "eve", 1)
    with pytest.raises(ConflictError, match="already delegates to eve"):
        portal.approvals.delegate(DORA, delegate_id="ana", valid_from=AT + H, valid_until=week)
    with pytest.raises(NotFoundError):
        portal.approvals.delegate(CLARA, delegate_id="ghost", valid_from=AT, valid_until=week)
    with pytest.raises(ValidationError):
        portal.approvals.delegate(CLARA, delegate_id="clara", valid_from=AT, valid_until=week)
    with pytest.raises(ValidationError):
        portal.approvals.delegate(
            CLARA, delegate_id="ana", valid_from=AT - timedelta(days=9), valid_until=AT - H
        )
    with pytest.raises(PermissionDeniedError):  # a viewer has nothing to delegate
        portal.approvals.delegate(IVY, delegate_id="ana", valid_from=AT, valid_until=week)
    with pytest.raises(PermissionDeniedError):  # only user admins set one up for others
        portal.approvals.delegate(
            CLARA, delegator_id="dora", delegate_id="ana", valid_from=AT, valid_until=week
        )
    by_admin = portal.approvals.delegate(
        ANA, delegator_id="clara", delegate_id="dora", valid_from=AT, valid_until=week
    )
    assert by_admin.delegator_id == "clara"
    assert [x.id for x in portal.approvals.list_delegations(EVE, user_id="eve")] == [d.id]
    clock.advance(H)
    revoked = portal.approvals.revoke_delegation(DORA, d.id)
    assert revoked.revoked_at == AT + H
    with pytest.raises(PermissionDeniedError):
        portal.approvals.revoke_delegation(EVE, by_admin.id)
    portal.approvals.delegate(DORA, delegate_id="ana", valid_from=AT + 2 * H, valid_until=week)
    with pytest.raises(NotFoundError):
        portal.approvals.revoke_delegation(ANA, "nope")


def test_budgets(portal: Portal) -> None:
    budget = Budget(
        id="cc",
        company_id="acme",
        amount=eur("5000"),
        period=BudgetPeriod.MONTH,
        cost_center="CC-4711",
        name="Maintenance spares",
    )
    saved = portal.approvals.save_budget(ANA, budget)
    assert saved.version == 1
    with pytest.raises(DuplicateError):
        portal.approvals.save_budget(ANA, attrs.evolve(budget, id="cc-2", version=0))
    with pytest.raises(PermissionDeniedError):
        portal.approvals.save_budget(BEN, attrs.evolve(budget, id="x"))
    with pytest.raises(NotFoundError):
        portal.approvals.save_budget(
            ANA,
            Budget(
                id="u",
                company_id="acme",
                amount=eur("1"),
                period=BudgetPeriod.YEAR,
                business_unit_id="nope",
            ),
        )
    portal.approvals.save_policy(
        ANA,
        ApprovalPolicy(
            company_id="acme",
            rules=[
                ApprovalRule(
                    id="over-budget",
                    name="Over budget",
                    condition="budget_remaining < total",
                    tiers=[ApprovalTier(name="Finance", approvers=role("finance"))],
                )
            ],
        ),
    )
    first = portal.approvals.submit(BEN, cart("3000.00"))
    assert first.status is FlowStatus.APPROVED  # within budget: no rule matches
    second = portal.approvals.submit(BEN, cart("3000.00", ref=attrs.evolve(cart().ref, id="c-2")))
    assert second.status is FlowStatus.PENDING  # 2,000 left
    assert "budget_remaining < total: budget_remaining is 2000.00 EUR -> true" in (
        portal.approvals.explain(ANA, second.id).text()
        + portal.approvals.preview(BEN, cart("3000.00")).text()
    )
    raised = attrs.evolve(portal.approvals.budget(ANA, "cc"), amount=eur("9000"))
    kept = portal.approvals.save_budget(ANA, raised)
    assert kept.committed(AT) == eur("3000.00")
    with pytest.raises(ValidationError):
        portal.approvals.save_budget(ANA, attrs.evolve(kept, period=BudgetPeriod.YEAR))
    with pytest.raises(ValidationError):
        portal.approvals.save_budget(
            ANA, attrs.evolve(budget, id="fresh", version=0, spent={"2026-11": eur("1")})
        )
    assert [s.remaining for s in portal.approvals.budgets(BEN)] == [eur("6000.00")]


def test_subjects_from_other_contexts_are_snapshots(portal: Portal) -> None:
    portal.approvals.save_policy(ANA, two_step_policy())

    @attrs.frozen
    class Order:
        ref: object
        company_id: str
        requester_id: str
        total: object
        lines: tuple[object, ...]
        business_unit_id: str | None
        cost_center: str | None

    base = cart()
    order = Order(
        attrs.evolve(base.ref, kind="order", id="o-17"),
        "acme",
        "ben",
        base.total,
        base.lines,
        "maint",
        None,
    )
    flow = portal.approvals.submit(BEN, order)
    assert isinstance(flow.subject, Subject)
    assert str(flow.subject.ref) == "order:o-17"
    assert trail(portal)[-1] == ("ben", "ben", "approval.submit", "allowed")
