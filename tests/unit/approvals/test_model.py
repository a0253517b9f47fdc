"""The approvals model: requirements (M of N, nesting, distinct approvers), tiers,
rules, policies, subjects, budgets, delegations, and JSON round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from b2bcore.approvals import (
    ApprovalFlow,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Budget,
    BudgetPeriod,
    Decision,
    Delegation,
    Escalation,
    FlowStatus,
    NotEligibleError,
    Qualification,
    Requirement,
    Subject,
    SubjectLine,
    SubjectRef,
    Verdict,
    evaluate,
    satisfiable,
)
from b2bcore.calendar import BusinessCalendar
from b2bcore.errors import ConflictError, InvalidTransitionError, ValidationError
from b2bcore.money import Money
from b2bcore.serialization import dumps, loads

AT = datetime(2026, 11, 23, 9, tzinfo=UTC)
role, user = Requirement.role, Requirement.user


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def subject(**kw: object) -> Subject:
    fields: dict[str, object] = {
        "ref": SubjectRef("cart", "c-1"),
        "company_id": "acme",
        "requester_id": "u-ben",
        "total": eur("7657.30"),
        "business_unit_id": "maint",
    }
    fields.update(kw)
    return Subject(**fields)  # type: ignore[arg-type]


# -- requirements -------------------------------------------------------------------------


def test_requirements_describe_and_list_their_leaves() -> None:
    r = Requirement.any_of(
        role("approver"),
        Requirement.all_of(user("u-ana"), Requirement.at_least(2, role("a"), role("b"), role("c"))),
    )
    assert r.describe() == (
        "any of (role approver, all of (user u-ana, 2 of (role a, role b, role c)))"
    )
    assert [p for p, _ in r.leaves()] == [(0,), (1, 0), (1, 1, 0), (1, 1, 1), (1, 1, 2)]
    assert r.minimum() == 1
    assert (
        Requirement.all_of(user("u-ana"), Requirement.at_least(2, role("a"), role("b"))).minimum()
        == 3
    )
    assert role("x").leaves() == (((), role("x")),)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: Requirement.at_least(0, role("a")), "count"),
        (lambda: Requirement.at_least(3, role("a"), role("b")), "count"),
        (lambda: Requirement.at_least(True, role("a")), "count"),
        (lambda: Requirement(Requirement.role("a").kind), "id"),
        (lambda: Requirement(Requirement.any_of().kind, id="a"), "id"),
        (lambda: Requirement(Requirement.any_of().kind, count=1), "count"),
        (lambda: role(" bad "), "id"),
        (lambda: Requirement.any_of("role a"), "items[0]"),  # type: ignore[arg-type]
        (lambda: Requirement.any_of(*[role(f"r{i}") for i in range(17)]), "items"),
    ],
)
def test_bad_requirements_are_refused(build: object, path: str) -> None:
    with pytest.raises(ValidationError) as e:
        build()  # type: ignore[operator]
    assert e.value.path == path


def test_nesting_is_limited() -> None:
    r = role("a")
    for _ in range(7):
        r = Requirement.any_of(r)
    with pytest.raises(ValidationError, match="nest at most"):
        Requirement.any_of(r)


def test_each_approval_counts_for_one_leaf_only() -> None:
    two_of_same = Requirement.at_least(2, role("approver"), role("approver"))
    assert not satisfiable(two_of_same, [{(0,), (1,)}])
    assert satisfiable(two_of_same, [{(0,), (1,)}, {(0,), (1,)}])
    # One approver qualified for both leaves must take the one the other cannot.
    both = Requirement.all_of(role("a"), role("b"))
    assert satisfiable(both, [{(0,), (1,)}, {(0,)}])
    assert not satisfiable(both, [{(0,)}, {(0,)}])
    nested = Requirement.any_of(Requirement.all_of(role("a"), role("b")), user("u-x"))
    assert satisfiable(nested, [{(1,)}])
    assert satisfiable(nested, [{(0, 0)}, {(0, 1)}])
    assert not satisfiable(nested, [{(0, 0), (0, 1)}])
    assert not satisfiable(Requirement.any_of(), [{()}])
    assert not satisfiable(Requirement.all_of(), [])
    assert satisfiable(role("a"), [set(), {()}])


def test_is_met_by_leaf_paths() -> None:
    r = Requirement.at_least(2, role("a"), user("u"), Requirement.all_of(role("b"), role("c")))
    assert r.is_met([(0,), (1,)])
    assert not r.is_met([(0,), (2, 0)])
    assert r.is_met([(0,), (2, 0), (2, 1)])


# -- tiers, rules, policies ---------------------------------------------------------------


def test_tiers_rules_and_policies_validate() -> None:
    with pytest.raises(ValidationError, match="needs a timeout"):
        ApprovalTier(name="T", approvers=role("a"), escalate_to=Escalation.to_parent_unit())
    with pytest.raises(ValidationError) as e:
        ApprovalTier(name="T", approvers=role("a"), timeout=timedelta(0))
    assert e.value.path == "timeout"
    with pytest.raises(ValidationError):
        ApprovalTier(name="T", approvers=role("a"), timeout=8)
    with pytest.raises(ValidationError):
        ApprovalTier(name=" ", approvers=role("a"))
    with pytest.raises(ValidationError):
        ApprovalTier(name="T", approvers="role a")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Escalation(Escalation.to_parent_unit().kind, "finance")
    with pytest.raises(ValidationError) as e:
        ApprovalRule(id="r", name="R", condition="total >", tiers=[])
    assert e.value.path == "condition"
    with pytest.raises(ValidationError):
        ApprovalRule(id="r", name="R", condition=5, tiers=[])
    with pytest.raises(ValidationError) as e:
        ApprovalRule(id="r", name="R", condition="true", tiers=["T"])
    assert e.value.path == "tiers[0]"
    timed = ApprovalRule(
        id="r",
        name="R",
        condition="true",
        tiers=[ApprovalTier(name="T", approvers=role("a"), timeout=timedelta(hours=8))],
    )
    with pytest.raises(ValidationError, match="needs a business calendar"):
        ApprovalPolicy(company_id="acme", rules=[timed])
    ApprovalPolicy(company_id="acme", rules=[timed], calendar=BusinessCalendar.always_open())
    with pytest.raises(ValidationError, match="used twice"):
        ApprovalPolicy(
            company_id="acme", rules=[timed, timed], calendar=BusinessCalendar.always_open()
        )
    with pytest.raises(ValidationError):
        ApprovalPolicy(company_id="acme", calendar="Mon-Fri")  # type: ignore[arg-type]


def test_describe_rules_and_tiers() -> None:
    tier = ApprovalTier(
        name="Plant",
        approvers=role("approver"),
        timeout=timedelta(hours=8),
        escalate_to=Escalation.to_role("finance"),
    )
    assert tier.describe() == (
        "Plant: role approver; after 8 business hours escalates to role finance"
    )
    rule = ApprovalRule(
        id="big",
        name="Big",
        condition="total > 5000 EUR",
        tiers=[tier],
        requester_roles=["buyer"],
        requester_units=["maint", "leipzig"],
    )
    assert rule.describe() == (
        "Big [big] when total > 5000 EUR (requesters: roles buyer; units leipzig, maint)"
    )


def test_policy_round_trips_through_json() -> None:
    policy = ApprovalPolicy(
        company_id="acme",
        calendar=BusinessCalendar.uniform(
            "Europe/Berlin", [("08:00", "12:00"), ("13:00", "17:00")]
        ),
        rules=[
            ApprovalRule(
                id="big",
                name="Big",
                condition='total > 5000 EUR and category in ("pumps")',
                tiers=[
                    ApprovalTier(
                        name="Plant",
                        approvers=Requirement.at_least(2, role("approver"), user("u-ana")),
                        timeout=timedelta(hours=8, minutes=30),
                        escalate_to=Escalation.to_parent_unit(),
                    )
                ],
                requester_units=["maint"],
            )
        ],
    )
    text = dumps(policy)
    assert '"condition":"total > 5000 EUR and category in (\\"pumps\\")"' in text
    assert '"timeout":"30600"' in text
    assert loads(text, ApprovalPolicy) == policy


# -- subjects -----------------------------------------------------------------------------


@attrs.frozen
class OrderLike:
    """An order of another context, approvable through the protocol."""

    id: str
    company_id: str
    requester_id: str
    total: Money
    lines: tuple[object, ...]
    business_unit_id: str | None = None
    cost_center: str | None = "CC-4711"

    @property
    def ref(self) -> SubjectRef:
        return SubjectRef("order", self.id)


@attrs.frozen
class LineLike:
    sku: str
    amount: Money
    categories: tuple[str, ...] = ()


def test_a_snapshot_of_anything_shaped_like_a_subject() -> None:
    order = OrderLike(
        "o-17", "acme", "u-ben", eur("100"), (LineLike("A", eur("100"), ("pumps",)),), "maint"
    )
    snap = Subject.of(order)
    assert snap.ref == SubjectRef("order", "o-17")
    assert str(snap.ref) == "order:o-17"
    assert snap.lines == (SubjectLine(sku="A", amount=eur("100"), categories=("pumps",)),)
    assert snap.cost_center == "CC-4711"
    assert Subject.of(snap) is snap
    with pytest.raises(ValidationError, match="no ref"):
        Subject.of(object())
    with pytest.raises(ValidationError) as e:
        Subject.of(attrs.evolve(order, lines=(object(),)))
    assert e.value.path == "lines[0]"
    with pytest.raises(ValidationError) as e:
        Subject.of(attrs.evolve(order, lines=(LineLike("A", Money("1", "USD")),)))
    assert e.value.path == "lines[0].amount"
    with pytest.raises(ValidationError) as e:
        Subject.of(attrs.evolve(order, lines=(LineLike(" ", eur("1")),)))
    assert e.value.path == "lines[0].sku"


@pytest.mark.parametrize(
    ("kw", "path"),
    [
        ({"total": eur("-1")}, "total"),
        ({"total": 5}, "total"),
        ({"requester_id": ""}, "requester_id"),
        ({"ref": "cart:c-1"}, "ref"),
        ({"cost_center": ""}, "cost_center"),
        ({"lines": "A"}, "lines"),
    ],
)
def test_bad_subjects_are_refused(kw: dict[str, object], path: str) -> None:
    with pytest.raises((ValidationError, TypeError)) as e:
        subject(**kw)
    if isinstance(e.value, ValidationError):
        assert e.value.path == path


def test_subject_refs_validate() -> None:
    with pytest.raises(ValidationError):
        SubjectRef("Order", "o-1")
    with pytest.raises(ValidationError):
        SubjectRef("order", "o 1")
    assert SubjectLine(sku="A", amount=eur("1"), quantity="2.5").quantity == Decimal("2.5")


# -- flows --------------------------------------------------------------------------------


def _flow(*tiers: Requirement) -> ApprovalFlow:
    policy = ApprovalPolicy(
        company_id="acme",
        rules=[
            ApprovalRule(
                id="r",
                name="R",
                condition="true",
                tiers=[ApprovalTier(name=f"T{i}", approvers=t) for i, t in enumerate(tiers)],
            )
        ],
    )
    return evaluate(policy, subject(), at=AT, flow_id="f-1")


def _approval(tier: int, who: str, *, at: datetime = AT, leaf: tuple[int, ...] = ()) -> Decision:
    return Decision(
        rule_id="r",
        tier=tier,
        verdict=Verdict.APPROVED,
        acted_by=who,
        on_behalf_of=who,
        at=at,
        qualifications=(Qualification(leaf, None, "role a"),),
    )


def test_flow_invariants_hold_even_without_the_rules_module() -> None:
    flow = _flow(role("a"), role("a"))
    assert flow.active_tiers() == [(0, 0)]
    with pytest.raises(ConflictError, match="not waiting"):
        flow.record_decision(_approval(1, "u-x"))
    with pytest.raises(NotEligibleError) as e:
        flow.record_decision(_approval(0, "u-ben"))
    assert e.value.decision_code == "requester"
    flow.record_decision(_approval(0, "u-x", at=AT + timedelta(hours=1)))
    assert flow.active_tiers() == [(0, 1)]
    assert flow.rules[0].tiers[1].started_at == AT + timedelta(hours=1)
    with pytest.raises(NotEligibleError) as e:
        flow.record_decision(_approval(1, "u-x"))
    assert e.value.decision_code == "already_decided"
    with pytest.raises(ValidationError, match="which requirement"):
        flow.record_decision(attrs.evolve(_approval(1, "u-y"), qualifications=()))
    with pytest.raises(ValidationError):
        flow.record_decision("approve")  # type: ignore[arg-type]
    flow.record_decision(_approval(1, "u-y", at=AT + timedelta(hours=2)))
    assert flow.status is FlowStatus.APPROVED
    assert flow.cycle_time == timedelta(hours=2)
    assert flow.business_cycle_time is None
    with pytest.raises(InvalidTransitionError):
        flow.cancel(by="u-ben", at=AT, reason="too late")


def test_a_flow_with_no_matching_rule_is_approved_at_once() -> None:
    policy = ApprovalPolicy(company_id="acme")
    flow = evaluate(policy, subject(), at=AT, flow_id="f-0")
    assert flow.status is FlowStatus.APPROVED
    assert flow.cycle_time == timedelta(0)
    names = [type(e).__name__ for e in flow.pull_events()]
    assert names == ["ApprovalFlowStarted", "ApprovalFlowApproved", "ApprovalFlowCompleted"]


def test_flows_round_trip_through_json() -> None:
    flow = _flow(Requirement.at_least(2, role("a"), user("u-x")), role("b"))
    flow.record_decision(_approval(0, "u-x", leaf=(1,)))
    assert loads(dumps(flow), ApprovalFlow) == flow


# -- budgets and delegations --------------------------------------------------------------


def test_budget_periods_in_the_budget_time_zone() -> None:
    new_year_eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 2027 in Berlin
    budget = Budget(
        id="b",
        company_id="acme",
        amount=eur("1000"),
        period=BudgetPeriod.MONTH,
        cost_center="CC-1",
        timezone="Europe/Berlin",
    )
    assert budget.period_key(new_year_eve) == "2027-01"
    assert attrs.evolve(budget, period=BudgetPeriod.QUARTER).period_key(AT) == "2026-Q4"
    assert attrs.evolve(budget, period=BudgetPeriod.YEAR).period_key(new_year_eve) == "2027"
    budget.commit(eur("400"), at=AT, flow_id="f-1")
    budget.commit(eur("700"), at=AT, flow_id="f-2")
    assert budget.remaining(AT) == eur("-100")
    assert budget.remaining(new_year_eve) == eur("1000")
    assert budget.scope_key == "cost_center:CC-1:month"
    assert [type(e).__name__ for e in budget.pull_events()] == ["BudgetCommitted"] * 2
    assert loads(dumps(budget), Budget) == budget


@pytest.mark.parametrize(
    ("kw", "path"),
    [
        ({"business_unit_id": "hq"}, "business_unit_id"),
        ({"cost_center": None}, "business_unit_id"),
        ({"amount": eur("-1")}, "amount"),
        ({"timezone": "Mars/Base"}, "tz"),
        ({"period": "month"}, "period"),
    ],
)
def test_bad_budgets_are_refused(kw: dict[str, object], path: str) -> None:
    fields: dict[str, object] = {
        "id": "b",
        "company_id": "acme",
        "amount": eur("1"),
        "period": BudgetPeriod.MONTH,
        "cost_center": "CC-1",
    }
    fields.update(kw)
    with pytest.raises(ValidationError) as e:
        Budget(**fields)  # type: ignore[arg-type]
    assert e.value.path == path


def test_delegations_have_a_half_open_window_and_can_be_revoked() -> None:
    d = Delegation(
        id="d",
        company_id="acme",
        delegator_id="u-dora",
        delegate_id="u-ana",
        valid_from=AT,
        valid_until=AT + timedelta(days=2),
    )
    assert not d.active_at(AT - timedelta(seconds=1))
    assert d.active_at(AT)
    assert not d.active_at(AT + timedelta(days=2))
    later = attrs.evolve(
        d, id="d2", valid_from=AT + timedelta(days=1), valid_until=AT + timedelta(days=3)
    )
    assert d.overlaps(later)
    d.revoke(AT + timedelta(hours=1))
    d.revoke(AT + timedelta(hours=5))
    assert d.revoked_at == AT + timedelta(hours=1)
    assert not d.active_at(AT + timedelta(hours=2))
    assert not d.overlaps(later)
    assert [type(e).__name__ for e in d.pull_events()] == ["DelegationRevoked"]
    with pytest.raises(ValidationError, match="colleague"):
        attrs.evolve(d, delegate_id="u-dora")
    with pytest.raises(ValidationError) as e:
        attrs.evolve(d, valid_until=AT)
    assert e.value.path == "valid_until"
    with pytest.raises(ValidationError):
        attrs.evolve(d, valid_from=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    assert loads(dumps(d), Delegation) == d
