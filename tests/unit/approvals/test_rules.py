"""Pure approval rules: matching, deciding (separation of duties, limits, delegation,
M of N), escalation in business hours, selective re-approval, preview and the
checks that find dead ends. The company is described in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from b2bcore.approvals import (
    ApprovalFlow,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Budget,
    BudgetPeriod,
    Delegation,
    Directory,
    Escalation,
    FlowStatus,
    NotEligibleError,
    Requirement,
    UnapprovableError,
    Verdict,
    advance,
    check_feasible,
    check_policy,
    decide,
    evaluate,
    explain_flow,
    facts_for,
    match_rules,
    pending_for,
    policy_problems,
    preview,
    resubmit,
)
from b2bcore.calendar import BusinessCalendar
from b2bcore.errors import CurrencyMismatchError, InvalidTransitionError, ValidationError
from b2bcore.money import Money

from .conftest import AT, cart, eur

role, user = Requirement.role, Requirement.user
H = timedelta(hours=1)
OFFICE = BusinessCalendar.uniform("Europe/Berlin", [("08:00", "12:00"), ("13:00", "17:00")])
APPROVED, REJECTED = Verdict.APPROVED, Verdict.REJECTED


def rule(rule_id: str, condition: str, *tiers: ApprovalTier, **kw: object) -> ApprovalRule:
    return ApprovalRule(id=rule_id, name=rule_id.title(), condition=condition, tiers=tiers, **kw)


def tier(name: str, approvers: Requirement, **kw: object) -> ApprovalTier:
    return ApprovalTier(name=name, approvers=approvers, **kw)  # type: ignore[arg-type]


def policy(*rules: ApprovalRule, calendar: BusinessCalendar | None = OFFICE) -> ApprovalPolicy:
    return ApprovalPolicy(company_id="acme", rules=rules, calendar=calendar)


BIG = policy(
    rule(
        "big",
        "total > 5000 EUR",
        tier("Plant", role("approver")),
        tier("Head", user("dora")),
    )
)


def start(p: ApprovalPolicy, directory: Directory, subject: object = None) -> ApprovalFlow:
    return evaluate(p, subject or cart(), at=AT, directory=directory, flow_id="f-1")


# -- matching -----------------------------------------------------------------------------


def test_facts_read_the_subject_and_what_the_company_knows(directory: Directory) -> None:
    facts = facts_for(cart(), directory, at=AT)
    assert facts.business_units == {"maint", "leipzig", "hq"}
    assert facts.categories == {"pumps", "spares"}
    assert facts.skus == {"PUMP-200"}
    assert facts.requester_roles == {"buyer"}
    assert facts.budget_remaining is None
    bare = facts_for(cart(), None, at=AT)
    assert bare.business_units == {"maint"}
    assert bare.requester_roles == frozenset()


def test_budget_remaining_is_the_tightest_applicable_budget(directory: Directory) -> None:
    budgets = [
        Budget(
            id="b-hq",
            company_id="acme",
            amount=eur("100000"),
            period=BudgetPeriod.YEAR,
            business_unit_id="hq",
        ),
        Budget(
            id="b-cc",
            company_id="acme",
            amount=eur("8000"),
            period=BudgetPeriod.MONTH,
            cost_center="CC-4711",
        ),
        Budget(
            id="b-office",
            company_id="acme",
            amount=eur("1"),
            period=BudgetPeriod.MONTH,
            business_unit_id="office",
        ),
    ]
    budgets[1].commit(eur("3000"), at=AT, flow_id="f-0")
    with_budgets = attrs.evolve(directory, budgets=tuple(budgets))
    assert facts_for(cart(), with_budgets, at=AT).budget_remaining == eur("5000")
    usd = attrs.evolve(
        directory,
        budgets=(
            Budget(
                id="b",
                company_id="acme",
                amount=Money("1", "USD"),
                period=BudgetPeriod.YEAR,
                business_unit_id="hq",
            ),
        ),
    )
    with pytest.raises(CurrencyMismatchError):
        facts_for(cart(), usd, at=AT)


def test_rules_match_by_requester_and_condition_and_say_why(directory: Directory) -> None:
    p = policy(
        rule("big", "total > 5000 EUR", tier("T", role("approver"))),
        rule("buyers", "true", tier("T", role("approver")), requester_roles=["buyer"]),
        rule("seniors", "true", tier("T", role("approver")), requester_roles=["manager"]),
        rule("leipzig", "true", tier("T", role("approver")), requester_units=["leipzig"]),
        rule("office", "true", tier("T", role("approver")), requester_units=["office"]),
        rule("budget", "budget_remaining < total", tier("T", role("approver"))),
    )
    matches = {m.rule.id: m for m in match_rules(p, cart(), at=AT, directory=directory)}
    assert {k for k, m in matches.items() if m.matched} == {"big", "buyers", "leipzig"}
    assert matches["seniors"].reasons == ("requester holds none of the roles manager",)
    assert matches["office"].reasons == ("requester belongs to none of the units office",)
    assert matches["leipzig"].reasons[0] == "requester belongs to leipzig"
    assert matches["big"].reasons == ("condition holds: total > 5000 EUR",)
    assert [str(c) for c in matches["big"].checks] == [
        "total > 5000 EUR: total is 7657.30 EUR -> true"
    ]
    assert matches["budget"].reasons == ("condition does not hold: budget_remaining < total",)
    with pytest.raises(ValidationError):
        match_rules(p, cart(company_id="globex"), at=AT, directory=directory)
    with pytest.raises(ValidationError):
        match_rules("policy", cart(), at=AT)  # type: ignore[arg-type]


def test_evaluate_starts_the_first_tier_of_every_matching_rule(directory: Directory) -> None:
    p = policy(
        rule(
            "big",
            "total > 5000 EUR",
            tier("A", role("approver"), timeout=8 * H),
            tier("B", user("dora")),
        ),
        rule("pumps", 'category = "pumps"', tier("C", role("manager"))),
        rule("tiny", "total < 10 EUR", tier("D", role("manager"))),
    )
    flow = start(p, directory)
    assert [r.rule.id for r in flow.rules] == ["big", "pumps"]
    assert flow.active_tiers() == [(0, 0), (1, 0)]
    a = flow.rules[0].tiers[0]
    assert a.started_at == AT
    # 8 business hours from 09:00 Berlin: 3 until lunch, 4 after, 1 on Tuesday morning.
    assert a.due_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
    assert flow.rules[0].tiers[1].started_at is None
    assert flow.next_due() == a.due_at
    events = [type(e).__name__ for e in flow.pull_events()]
    assert events == ["ApprovalFlowStarted"]
    again = start(p, directory)
    again.pull_events()
    assert again == flow  # deterministic


# -- deciding -----------------------------------------------------------------------------


def test_the_requester_never_decides(directory: Directory) -> None:
    flow = start(BIG, directory)
    for verdict in (APPROVED, REJECTED):
        with pytest.raises(NotEligibleError) as e:
            decide(flow, directory, acted_by="ben", verdict=verdict, at=AT, comment="mine")
        assert e.value.decision_code == "requester"
        assert e.value.code == "approvals.not_eligible"


def test_sequential_tiers_and_one_decision_per_person(directory: Directory) -> None:
    flow = start(BIG, directory)
    with pytest.raises(NotEligibleError) as e:
        decide(flow, directory, acted_by="dora", verdict=APPROVED, at=AT)
    assert e.value.decision_code == "not_an_approver"
    assert "Big / tier 1 Plant needs role approver - dora does not hold role approver" in str(
        e.value
    )
    d = decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT + H, comment="fine")
    assert (d.rule_id, d.tier, d.acted_by, d.on_behalf_of) == ("big", 0, "clara", "clara")
    assert [q.via for q in d.qualifications] == ["role approver"]
    assert flow.active_tiers() == [(0, 1)]
    with pytest.raises(NotEligibleError) as e:
        decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT + H)
    assert e.value.decision_code == "already_decided"
    decide(flow, directory, acted_by="dora", verdict=APPROVED, at=AT + 2 * H)
    assert flow.status is FlowStatus.APPROVED
    assert flow.business_cycle_time == 2 * H
    with pytest.raises(InvalidTransitionError):
        decide(flow, directory, acted_by="eve", verdict=APPROVED, at=AT + 3 * H)


def test_a_rejection_needs_a_reason_and_ends_the_flow(directory: Directory) -> None:
    flow = start(BIG, directory)
    with pytest.raises(ValidationError) as e:
        decide(flow, directory, acted_by="clara", verdict=REJECTED, at=AT, comment="  ")
    assert e.value.path == "comment"
    decide(flow, directory, acted_by="clara", verdict=REJECTED, at=AT + H, comment="over budget")
    assert flow.status is FlowStatus.REJECTED
    assert flow.outcome_reason == "over budget"
    names = [type(e).__name__ for e in flow.pull_events()]
    assert names[-3:] == ["ApprovalDecided", "ApprovalFlowRejected", "ApprovalFlowCompleted"]


@pytest.mark.parametrize(
    ("who", "code", "why"),
    [
        ("ivy", "not_an_approver", "does not hold role approver"),
        ("gus", "unknown_user", "not an active user"),
        ("hal", "not_an_approver", "does not hold role approver"),
        ("finn", "not_an_approver", "limited to business unit 'office'"),
        ("nobody", "unknown_user", "not an active user"),
    ],
)
def test_who_cannot_approve_and_why(directory: Directory, who: str, code: str, why: str) -> None:
    flow = start(BIG, directory)
    with pytest.raises(NotEligibleError) as e:
        decide(flow, directory, acted_by=who, verdict=APPROVED, at=AT)
    assert e.value.decision_code == code
    assert why in str(e.value)
    assert flow.decisions() == []


def test_unit_limited_grants_cover_their_subtree(directory: Directory) -> None:
    flow = start(BIG, directory, cart(unit="office"))
    decide(flow, directory, acted_by="finn", verdict=APPROVED, at=AT)
    assert flow.active_tiers() == [(0, 1)]


def test_approve_up_to_limits_are_honoured(directory: Directory) -> None:
    p = policy(
        rule("any", "true", tier("Limit", role("approver-10k")), tier("Usd", role("approver-usd")))
    )
    small = start(p, directory, cart("9999.99"))
    d = decide(small, directory, acted_by="dora", verdict=APPROVED, at=AT)
    assert d.qualifications[0].limit == eur("10000")
    assert d.qualifications[0].via == "role approver-10k up to 10000 EUR"
    big = start(p, directory, cart("10000.01"))
    with pytest.raises(NotEligibleError, match="over the limit of 10000 EUR"):
        decide(big, directory, acted_by="dora", verdict=APPROVED, at=AT)


def test_m_of_n_needs_different_people(directory: Directory) -> None:
    p = policy(
        rule(
            "four-eyes",
            "true",
            tier("Two", Requirement.at_least(2, role("approver"), role("approver"), user("eve"))),
        )
    )
    flow = start(p, directory)
    decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT)
    assert flow.is_pending
    decide(flow, directory, acted_by="eve", verdict=APPROVED, at=AT + H)
    assert flow.status is FlowStatus.APPROVED


def test_nested_requirements(directory: Directory) -> None:
    both = Requirement.any_of(Requirement.all_of(role("approver"), role("finance")), user("ana"))
    p = policy(rule("r", "true", tier("Nested", both)))
    flow = start(p, directory)
    decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT)
    assert flow.is_pending
    decide(flow, directory, acted_by="eve", verdict=APPROVED, at=AT + H)
    assert flow.status is FlowStatus.APPROVED
    shortcut = start(p, directory)
    decide(shortcut, directory, acted_by="ana", verdict=APPROVED, at=AT)
    assert shortcut.status is FlowStatus.APPROVED


def test_every_matching_rule_must_be_satisfied_by_different_people(directory: Directory) -> None:
    p = policy(
        rule("a", "true", tier("A", Requirement.any_of(role("approver"), role("manager")))),
        rule("b", "true", tier("B", Requirement.any_of(role("approver"), role("finance")))),
    )
    flow = start(p, directory)
    d = decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT)
    assert d.rule_id == "a"
    assert flow.active_tiers() == [(1, 0)]
    with pytest.raises(NotEligibleError) as e:
        decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT)
    assert e.value.decision_code == "already_decided"
    targeted = start(p, directory)
    d = decide(targeted, directory, acted_by="clara", verdict=APPROVED, at=AT, rule_id="b")
    assert d.rule_id == "b"
    with pytest.raises(ValidationError):
        decide(targeted, directory, acted_by="eve", verdict=APPROVED, at=AT, rule_id="zzz")
    with pytest.raises(NotEligibleError, match="rule 'b' has no tier waiting"):
        decide(targeted, directory, acted_by="eve", verdict=APPROVED, at=AT, rule_id="b")
    decide(targeted, directory, acted_by="ana", verdict=APPROVED, at=AT)
    assert targeted.status is FlowStatus.APPROVED


# -- delegation ---------------------------------------------------------------------------


def delegation(delegator: str, delegate: str, **kw: object) -> Delegation:
    fields: dict[str, object] = {
        "id": f"d-{delegator}",
        "company_id": "acme",
        "delegator_id": delegator,
        "delegate_id": delegate,
        "valid_from": AT - H,
        "valid_until": AT + timedelta(days=5),
    }
    fields.update(kw)
    return Delegation(**fields)  # type: ignore[arg-type]


def test_a_delegate_decides_for_the_delegator_with_the_delegators_limits(
    directory: Directory,
) -> None:
    out_of_office = attrs.evolve(directory, delegations=(delegation("dora", "ivy"),))
    flow = start(BIG, out_of_office)
    decide(flow, out_of_office, acted_by="clara", verdict=APPROVED, at=AT)
    with pytest.raises(NotEligibleError) as e:
        decide(flow, out_of_office, acted_by="ivy", verdict=APPROVED, at=AT)  # not for herself
    assert e.value.decision_code == "not_an_approver"
    d = decide(
        flow, out_of_office, acted_by="ivy", on_behalf_of="dora", verdict=APPROVED, at=AT + H
    )
    assert (d.acted_by, d.on_behalf_of, d.delegation_id, d.delegated) == (
        "ivy",
        "dora",
        "d-dora",
        True,
    )
    assert d.qualifications[0].limit == eur("10000")
    assert flow.status is FlowStatus.APPROVED
    assert flow.persons() == {"clara", "ivy", "dora"}


def test_delegation_cannot_be_used_twice_or_without_a_window(directory: Directory) -> None:
    p = policy(
        rule("r", "true", tier("Two", Requirement.at_least(2, role("approver"), role("approver"))))
    )
    with_d = attrs.evolve(directory, delegations=(delegation("clara", "eve"),))
    flow = start(p, with_d)
    decide(flow, with_d, acted_by="clara", verdict=APPROVED, at=AT)
    with pytest.raises(NotEligibleError) as e:
        decide(flow, with_d, acted_by="eve", on_behalf_of="clara", verdict=APPROVED, at=AT)
    assert e.value.decision_code == "already_decided"
    fresh = start(p, with_d)
    decide(fresh, with_d, acted_by="eve", on_behalf_of="clara", verdict=APPROVED, at=AT)
    with pytest.raises(NotEligibleError) as e:
        decide(fresh, with_d, acted_by="clara", verdict=APPROVED, at=AT)
    assert e.value.decision_code == "already_decided"
    with pytest.raises(NotEligibleError) as e:
        decide(fresh, with_d, acted_by="ana", on_behalf_of="dora", verdict=APPROVED, at=AT)
    assert e.value.decision_code == "no_delegation"
    late = AT + timedelta(days=6)
    other = start(p, with_d)
    with pytest.raises(NotEligibleError) as e:
        decide(other, with_d, acted_by="eve", on_behalf_of="clara", verdict=APPROVED, at=late)
    assert e.value.decision_code == "no_delegation"
    revoked = attrs.evolve(with_d, delegations=(delegation("clara", "eve", revoked_at=AT - H / 2),))
    with pytest.raises(NotEligibleError):
        decide(
            start(p, revoked),
            revoked,
            acted_by="eve",
            on_behalf_of="clara",
            verdict=APPROVED,
            at=AT,
        )


def test_nobody_decides_with_the_requesters_authority(directory: Directory) -> None:
    sneaky = attrs.evolve(directory, delegations=(delegation("ben", "clara"),))
    flow = start(BIG, sneaky)
    with pytest.raises(NotEligibleError) as e:
        decide(flow, sneaky, acted_by="clara", on_behalf_of="ben", verdict=APPROVED, at=AT)
    assert e.value.decision_code == "requester"


def test_pending_for_lists_own_and_delegated_work(directory: Directory) -> None:
    with_d = attrs.evolve(directory, delegations=(delegation("clara", "ana"),))
    flow = start(BIG, with_d)
    mine = pending_for(flow, with_d, "ana", at=AT)
    assert [(p.tier_name, p.on_behalf_of) for p in mine] == [("Plant", "clara")]  # not her role
    assert mine[0].describe() == "cart:c-1 (7657.30 EUR from ben): Plant, for clara"
    assert pending_for(flow, with_d, "ben", at=AT) == []
    assert pending_for(flow, with_d, "ivy", at=AT) == []
    decide(flow, with_d, acted_by="clara", verdict=APPROVED, at=AT)
    assert pending_for(flow, with_d, "clara", at=AT) == []
    assert [p.tier_name for p in pending_for(flow, with_d, "dora", at=AT)] == ["Head"]


# -- escalation ---------------------------------------------------------------------------


def test_escalation_to_a_role_then_expiry(directory: Directory) -> None:
    p = policy(
        rule(
            "big",
            "true",
            tier(
                "Plant", role("approver"), timeout=4 * H, escalate_to=Escalation.to_role("finance")
            ),
        )
    )
    flow = start(p, directory)
    assert advance(flow, now=AT + 3 * H, directory=directory) == []
    with pytest.raises(NotEligibleError):
        decide(flow, directory, acted_by="eve", verdict=APPROVED, at=AT)
    assert advance(flow, now=AT + 4 * H, directory=directory) == []  # lunch is not counted
    lines = advance(flow, now=AT + 5 * H, directory=directory)  # due 13:00 UTC = 14:00 Berlin
    assert lines == ["f-1: tier 1 'Plant' of rule 'big' escalated to role finance"]
    step = flow.rules[0].tiers[0].escalations[0]
    assert step.at == datetime(2026, 11, 23, 13, tzinfo=UTC)
    assert flow.rules[0].tiers[0].due_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
    d = decide(flow, directory, acted_by="eve", verdict=APPROVED, at=AT + 5 * H)
    assert [q.via for q in d.qualifications] == ["escalation to role finance up to 50000 EUR"]
    assert flow.status is FlowStatus.APPROVED
    expiring = start(p, directory)
    lines = advance(expiring, now=AT + timedelta(days=3), directory=directory)
    assert lines[-1] == "f-1: expired (tier 1 'Plant' of rule 'big' timed out)"
    assert expiring.status is FlowStatus.EXPIRED
    assert expiring.completed_at == datetime(2026, 11, 24, 8, tzinfo=UTC)  # the second due time


def test_escalation_climbs_the_unit_tree(directory: Directory) -> None:
    p = policy(
        rule(
            "big",
            "true",
            tier("Unit", user("dora"), timeout=8 * H, escalate_to=Escalation.to_parent_unit()),
        )
    )
    flow = start(p, directory)
    lines = advance(flow, now=AT + timedelta(days=1, hours=1), directory=directory)
    assert lines == ["f-1: tier 1 'Unit' of rule 'big' escalated to approvers of unit leipzig"]
    d = decide(
        flow, directory, acted_by="clara", verdict=APPROVED, at=AT + timedelta(days=1, hours=1)
    )
    assert [q.via for q in d.qualifications] == ["escalation to approvers of unit leipzig"]
    assert flow.status is FlowStatus.APPROVED
    climbing = start(p, directory)
    lines = advance(climbing, now=AT + timedelta(days=10), directory=directory)
    assert [line.split(" to ")[-1] for line in lines[:-1]] == [
        "approvers of unit leipzig",
        "approvers of unit hq",
    ]
    assert climbing.status is FlowStatus.EXPIRED
    nowhere = start(p, directory, cart(unit=None))
    advance(nowhere, now=AT + timedelta(days=2), directory=directory)
    assert nowhere.status is FlowStatus.EXPIRED


def test_escalation_does_not_depend_on_how_often_the_clock_ticks(directory: Directory) -> None:
    p = policy(
        rule(
            "big",
            "true",
            tier("Unit", user("dora"), timeout=3 * H, escalate_to=Escalation.to_parent_unit()),
        ),
        rule(
            "two",
            "true",
            tier("Role", role("finance"), timeout=5 * H, escalate_to=Escalation.to_role("manager")),
        ),
    )
    once = start(p, directory)
    advance(once, now=AT + timedelta(days=4), directory=directory)
    often = start(p, directory)
    t = AT
    while t < AT + timedelta(days=4):
        t += timedelta(minutes=37)
        advance(often, now=min(t, AT + timedelta(days=4)), directory=directory)
    once.pull_events()
    often.pull_events()
    assert once == often
    assert once.status is FlowStatus.EXPIRED


def test_a_tier_without_escalation_expires_when_due(directory: Directory) -> None:
    p = policy(rule("r", "true", tier("T", role("approver"), timeout=H)))
    flow = start(p, directory)
    advance(flow, now=AT + H, directory=directory)
    assert flow.status is FlowStatus.EXPIRED
    assert [type(e).__name__ for e in flow.pull_events()][-1] == "ApprovalFlowCompleted"
    assert advance(flow, now=AT + 9 * H, directory=directory) == []


# -- selective re-approval ----------------------------------------------------------------


def test_resubmit_resets_only_rules_whose_outcome_changed(directory: Directory) -> None:
    p = policy(
        rule(
            "big",
            "total > 5000 EUR",
            tier("Plant", role("approver")),
            tier("Head", role("manager")),
        ),
        rule("pumps", 'category = "pumps"', tier("Pumps", role("finance"))),
        rule("huge", "total > 9000 EUR", tier("Board", role("manager"))),
    )
    flow = start(p, directory)
    decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT)
    decide(flow, directory, acted_by="eve", verdict=APPROVED, at=AT + H)
    assert [r.rule.id for r in flow.rules] == ["big", "pumps"]
    changed = cart("9500", lines=[])  # no pump lines any more, a bigger total
    outcome = resubmit(flow, p, changed, at=AT + 2 * H, directory=directory)
    assert outcome == {"kept": ["big"], "reset": [], "added": ["huge"], "dropped": ["pumps"]}
    assert [r.rule.id for r in flow.rules] == ["big", "huge"]
    assert [d.acted_by for d in flow.rules[0].tiers[0].decisions] == ["clara"]
    assert flow.subject.total == eur("9500")
    assert flow.resubmissions == 1
    assert flow.active_tiers() == [(0, 1), (1, 0)]
    assert flow.rules[1].tiers[0].started_at == AT + 2 * H
    assert "ApprovalFlowReset" in [type(e).__name__ for e in flow.pull_events()]


def test_resubmit_drops_approvals_whose_limit_no_longer_covers(directory: Directory) -> None:
    p = policy(
        rule("r", "true", tier("First", role("approver-10k")), tier("Second", role("approver")))
    )
    flow = start(p, directory, cart("8000"))
    decide(flow, directory, acted_by="dora", verdict=APPROVED, at=AT)
    assert flow.active_tiers() == [(0, 1)]
    outcome = resubmit(flow, p, cart("12000"), at=AT + H, directory=directory)
    assert outcome["reset"] == ["r"]
    assert flow.rules[0].tiers[0].decisions == ()
    assert flow.active_tiers() == [(0, 0)]
    assert flow.rules[0].tiers[0].started_at == AT + H
    assert "dora" not in flow.persons()


def test_resubmit_resets_a_changed_rule_and_may_approve(directory: Directory) -> None:
    p = policy(rule("r", "true", tier("T", role("approver"))))
    flow = start(p, directory)
    changed_policy = policy(rule("r", "true", tier("T", role("manager"))))
    assert resubmit(flow, changed_policy, cart(), at=AT, directory=directory)["reset"] == ["r"]
    none_match = policy(rule("r", "total > 1000000 EUR", tier("T", role("manager"))))
    resubmit(flow, none_match, cart(), at=AT + H, directory=directory)
    assert flow.status is FlowStatus.APPROVED
    with pytest.raises(InvalidTransitionError):
        resubmit(flow, p, cart(), at=AT, directory=directory)
    other = start(p, directory)
    with pytest.raises(ValidationError):
        resubmit(other, p, cart(requester_id="clara"), at=AT, directory=directory)


# -- transparency and dead ends ------------------------------------------------------------


def test_preview_names_who_can_approve_each_tier_today(directory: Directory) -> None:
    p = policy(
        rule(
            "big",
            "total > 5000 EUR",
            tier(
                "Plant", role("approver"), timeout=8 * H, escalate_to=Escalation.to_role("finance")
            ),
            tier("Head", user("dora")),
        ),
        rule("small", "total < 100 EUR", tier("Anyone", role("approver"))),
    )
    with_d = attrs.evolve(directory, delegations=(delegation("dora", "ivy"),))
    text = preview(p, cart(), at=AT, directory=with_d).text()
    assert text == "\n".join(
        [
            "cart:c-1 of ben, 7657.30 EUR: approval needed",
            "  business hours: Mon-Fri 08:00-12:00, 13:00-17:00 (Europe/Berlin); open now",
            "  rule Big [big]: applies",
            "    total > 5000 EUR: total is 7657.30 EUR -> true",
            "    tier 1 Plant: role approver",
            "      8 business hours, then escalates to role finance",
            "      can approve: Clara (clara): role approver",
            "    tier 2 Head: user dora",
            "      can approve: Dora (dora): named approver up to 10000 EUR",
            "      can approve: Ivy (ivy) for dora: named approver up to 10000 EUR",
            "  rule Small [small]: does not apply",
            "    total < 100 EUR: total is 7657.30 EUR -> false",
        ]
    )
    assert not preview(p, cart(), at=AT, directory=with_d).blocked
    nothing = preview(p, cart("500.00"), at=AT)
    assert not nothing.needs_approval
    assert nothing.text().splitlines()[0] == "cart:c-1 of ben, 500.00 EUR: no approval needed"


def test_preview_shows_dead_ends(directory: Directory) -> None:
    p = policy(
        rule(
            "huge",
            "true",
            tier("Limits", Requirement.any_of(role("approver-10k"), role("finance"))),
        )
    )
    view = preview(p, cart("60000"), at=AT, directory=directory)
    assert view.blocked
    (problem,) = view.rules[0].tiers[0].problems
    assert "any of (role approver-10k, role finance) cannot be met" in problem
    assert "Dora (dora): cannot approve through role approver-10k" in problem
    assert "over the limit of 10000 EUR" in problem
    flow = evaluate(p, cart("60000"), at=AT, directory=directory, flow_id="f")
    with pytest.raises(UnapprovableError) as e:
        check_feasible(flow, directory, at=AT)
    assert (e.value.rule_id, e.value.tier) == ("huge", "Limits")
    escalating = policy(
        rule(
            "huge",
            "true",
            tier("Limits", role("finance"), timeout=H, escalate_to=Escalation.to_role("manager")),
        )
    )
    view = preview(escalating, cart("60000"), at=AT, directory=directory)
    assert not view.blocked
    assert view.rules[0].tiers[0].problems == (
        "nobody can approve it as it stands; it will escalate when due",
    )


def test_the_requester_as_only_approver_is_a_dead_end(directory: Directory) -> None:
    p = policy(rule("r", "true", tier("Self", role("buyer"))))
    with pytest.raises(UnapprovableError):
        check_feasible(start(p, directory), directory, at=AT)
    named = policy(rule("r", "true", tier("Self", user("ben"))))
    with pytest.raises(UnapprovableError):
        check_feasible(start(named, directory), directory, at=AT)


def test_rules_together_may_need_more_people_than_there_are(directory: Directory) -> None:
    p = policy(
        rule("a", "true", tier("A", user("dora"))),
        rule("b", "true", tier("B", Requirement.any_of(user("dora"), user("clara")))),
        rule("c", "true", tier("C", user("clara"))),
    )
    with pytest.raises(UnapprovableError, match="more different approvers"):
        check_feasible(start(p, directory), directory, at=AT)
    ok = policy(
        rule("a", "true", tier("A", user("dora"))), rule("c", "true", tier("C", user("clara")))
    )
    check_feasible(start(ok, directory), directory, at=AT)


def test_explain_flow(directory: Directory) -> None:
    flow = start(BIG, directory)
    decide(flow, directory, acted_by="clara", verdict=APPROVED, at=AT)
    view = explain_flow(flow, at=AT, directory=directory)
    assert [t.state for t in view.rules[0].tiers] == ["approved", "active"]
    assert view.rules[0].tiers[0].decided == ("clara",)
    assert [c.user_id for c in view.rules[0].tiers[1].candidates] == ["dora"]
    decide(flow, directory, acted_by="dora", verdict=REJECTED, at=AT, comment="no budget")
    view = explain_flow(flow, at=AT, directory=directory)
    assert view.status == "rejected (no budget)"
    assert [t.state for t in view.rules[0].tiers] == ["approved", "rejected"]


# -- static checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (rule("r", "true"), "the rule has no tiers"),
        (rule("r", "true", tier("T", Requirement.any_of())), "the tier is empty"),
        (rule("r", "true", tier("T", Requirement.all_of())), "the tier is empty"),
        (rule("r", "true", tier("T", role("ghost"))), "role ghost does not exist"),
        (
            rule("r", "true", tier("T", role("viewer"))),
            "role viewer does not include approvals.approve",
        ),
        (rule("r", "true", tier("T", role("company_admin"))), "does not include approvals.approve"),
        (
            rule("r", "total > 20000 EUR", tier("T", role("approver-10k"))),
            "approves up to 10000 EUR; the rule matches only totals over 20000 EUR",
        ),
        (
            rule("r", "total >= 10000.01 EUR", tier("T", role("approver-10k"))),
            "only totals from 10000.01 EUR",
        ),
        (
            rule("r", "total > 10000 EUR", tier("T", role("approver-10k"))),
            "only totals over 10000 EUR",
        ),
        (
            rule("r", "total > 100 EUR", tier("T", role("approver-usd"))),
            "the rule matches totals in EUR",
        ),
        (rule("r", "total > 20000 EUR", tier("T", user("dora"))), "approves up to 10000 EUR"),
        (rule("r", "true", tier("T", user("ivy"))), "user ivy holds no role that may approve"),
        (rule("r", "true", tier("T", user("gus"))), "user gus is not an active user"),
        (rule("r", "true", tier("T", user("ghost"))), "user ghost is not an active user"),
        (
            rule("r", "true", tier("T", Requirement.at_least(2, role("finance"), role("finance")))),
            "needs 2 different approvers; only 1 could approve",
        ),
        (
            rule(
                "r",
                "true",
                tier("T", role("finance"), timeout=H, escalate_to=Escalation.to_role("ghost")),
            ),
            "the escalation role ghost does not exist",
        ),
        (
            rule(
                "r",
                "true",
                tier("T", role("finance"), timeout=H, escalate_to=Escalation.to_role("viewer")),
            ),
            "escalation role viewer does not include",
        ),
    ],
)
def test_static_checks_find_rules_nobody_can_approve(
    directory: Directory, bad: ApprovalRule, why: str
) -> None:
    p = policy(bad)
    with pytest.raises(UnapprovableError) as e:
        check_policy(p, directory, at=AT)
    assert why in str(e.value)
    assert e.value.rule_id == "r"
    assert e.value.code == "approvals.unapprovable"


def test_static_checks_accept_what_someone_can_approve(directory: Directory) -> None:
    fine = policy(
        rule("a", "total > 5000 EUR", tier("T", role("approver-10k"))),
        rule(
            "b",
            "total > 20000 EUR",
            tier("T", Requirement.any_of(role("approver-10k"), role("finance"))),
        ),
        rule("d", "true", tier("T", Requirement.at_least(2, role("approver"), role("finance")))),
        rule("e", "true", tier("T", user("dora"))),
    )
    assert policy_problems(fine, directory, at=AT) == []
    check_policy(policy(), directory, at=AT)
