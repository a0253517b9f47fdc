"""Properties of approvals over random policies, subjects, companies and scripts of
decisions, delegations and clock ticks:

* conditions print and parse back to the same tree;
* evaluating and deciding are deterministic, and escalation does not depend on how
  often the clock ticks;
* separation of duties is never violated: the requester never decides, nobody
  decides twice in a flow (for themselves or for a colleague);
* a flow is approved exactly when every tier of every matching rule is satisfied
  (checked against a brute-force assignment of approvals to requirement leaves);
* bad input to the service is a B2BCoreError and leaves nothing half-written.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor, BusinessUnit, CompanyUser, Permission, Role, RoleGrant
from b2bcore.accounts.model import RolePermission, UserStatus, predefined_roles
from b2bcore.approvals import (
    ApprovalFlow,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Budget,
    BudgetPeriod,
    Delegation,
    Directory,
    FlowStatus,
    Predicate,
    Requirement,
    Subject,
    SubjectRef,
    TierProgress,
    Verdict,
    advance,
    decide,
    evaluate,
    match_rules,
    parse_predicate,
    pending_for,
)
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId, UserId
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.serialization import dumps, loads
from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.strategies import (
    DEFAULT_APPROVAL_ROLES,
    DEFAULT_APPROVAL_USERS,
    approval_policies,
    approval_subjects,
    business_calendars,
    predicates,
)

AT = datetime(2026, 11, 23, 8, tzinfo=UTC)
#: Drawing policies, calendars and companies is heavy; on a loaded machine it may be
#: slow, which says nothing about the code under test.
SLOW = [HealthCheck.too_slow]
ACME = CompanyId("acme")
LIMITS = (None, None, Money("5000", "EUR"), Money("20000", "EUR"), Money("100", "USD"))


def _unit(unit_id: str, parent: str | None) -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=ACME,
        name=unit_id,
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


UNITS = (_unit("hq", None), _unit("leipzig", "hq"), _unit("maint", "leipzig"))


@st.composite
def directories(draw: st.DrawFn, *, generous: bool = False) -> Directory:
    """A company: the shared roles with random APPROVE_UP_TO limits, users holding
    random roles (some limited to a unit, some disabled), random delegations. A
    generous company has no limits and every user holds every role: everybody could
    approve everything, so only separation of duties stops anyone."""
    roles = list(predefined_roles("acme"))
    for role_id in DEFAULT_APPROVAL_ROLES:
        limit = None if generous else draw(st.sampled_from(LIMITS))
        roles.append(
            Role(
                id=RoleId(role_id),
                company_id=ACME,
                name=role_id,
                permissions=[RolePermission(Permission.APPROVALS_APPROVE, limit=limit)],
            )
        )
    users = []
    for user_id in DEFAULT_APPROVAL_USERS:
        held = (
            {*DEFAULT_APPROVAL_ROLES, "buyer"}
            if generous
            else draw(
                st.sets(st.sampled_from((*DEFAULT_APPROVAL_ROLES, "buyer")), min_size=1, max_size=3)
            )
        )
        grants = [
            RoleGrant(
                role_id=RoleId(r),
                valid_from=AT - timedelta(days=1),
                business_unit_id=None
                if generous
                else draw(st.sampled_from([None, None, None, BusinessUnitId("leipzig")])),
            )
            for r in sorted(held)
        ]
        users.append(
            CompanyUser(
                id=UserId(user_id),
                company_id=ACME,
                email=f"{user_id}@acme.example",
                name=user_id,
                business_unit_ids=[draw(st.sampled_from(["hq", "leipzig", "maint"]))],
                status=UserStatus.ACTIVE
                if generous
                else draw(st.sampled_from([UserStatus.ACTIVE] * 5 + [UserStatus.DISABLED])),
                grants=grants,
            )
        )
    delegations = []
    for i, (a, b) in enumerate(
        draw(
            st.lists(
                st.tuples(
                    st.sampled_from(DEFAULT_APPROVAL_USERS), st.sampled_from(DEFAULT_APPROVAL_USERS)
                ).filter(lambda p: p[0] != p[1]),
                min_size=1,
                max_size=3,
            )
        )
    ):
        delegations.append(
            Delegation(
                id=f"d-{i}",
                company_id="acme",
                delegator_id=a,
                delegate_id=b,
                valid_from=AT - timedelta(hours=1),
                valid_until=AT + timedelta(days=draw(st.integers(1, 10))),
            )
        )
    return Directory.of("acme", users=users, roles=roles, units=UNITS, delegations=delegations)


#: One step of a script: someone decides (maybe for a colleague), or the clock moves on.
steps = st.one_of(
    st.tuples(
        st.just("decide"),
        st.sampled_from(DEFAULT_APPROVAL_USERS),
        st.sampled_from([None, None, None, None, *DEFAULT_APPROVAL_USERS]),
        st.sampled_from([Verdict.APPROVED] * 6 + [Verdict.REJECTED]),
    ),
    st.tuples(st.just("wait"), st.integers(1, 40)),
    # someone who took part decides again, through a delegation or for themselves
    st.tuples(st.just("again"), st.integers(0, 20), st.integers(0, 20)),
    # someone who may decide now does (found through pending_for), so flows progress
    st.tuples(
        st.just("eligible"),
        st.integers(0, 20),
        st.sampled_from([Verdict.APPROVED] * 6 + [Verdict.REJECTED]),
    ),
)
scripts = st.lists(steps, max_size=14)
policies = approval_policies(calendars=business_calendars())
#: Policies whose rules apply often, so that flows have decisions to make.
TRUE = parse_predicate("true")
busy_policies = approval_policies(
    calendars=business_calendars(),
    conditions=st.sampled_from([TRUE, TRUE, None]).flatmap(
        lambda c: st.just(c) if c is not None else predicates(currencies=("EUR",))
    ),
    requester_filters=False,
).filter(lambda p: bool(p.rules))


def _run(
    policy: ApprovalPolicy, subject: Subject, directory: Directory, script: list[Any]
) -> tuple[ApprovalFlow | None, list[str]]:
    """Run a script on a fresh flow; return the flow and what each step did."""
    try:
        flow = evaluate(policy, subject, at=AT, directory=directory, flow_id="f-1")
    except B2BCoreError as e:  # e.g. a budget or condition in another currency
        return None, [e.code]
    now = AT
    log = []
    for step in script:
        if step[0] == "wait":
            now += timedelta(hours=step[1])
            log.extend(advance(flow, now=now, directory=directory))
            continue
        if step[0] == "again":
            tries = _again(flow, directory, now)
            if not tries:
                continue
            who, for_whom = tries[step[2] % len(tries)]
            verdict = Verdict.APPROVED
        elif step[0] == "eligible":
            options = [
                (who, p.on_behalf_of)
                for who in sorted(directory.users)
                for p in pending_for(flow, directory, who, at=now)
            ]
            if not options:
                continue
            who, for_whom = options[step[1] % len(options)]
            verdict = step[2]
        else:
            _, who, for_whom, verdict = step
        try:
            d = decide(
                flow,
                directory,
                acted_by=who,
                on_behalf_of=for_whom,
                verdict=verdict,
                at=now,
                comment="reason",
            )
        except B2BCoreError as e:
            log.append(f"{who}: {e.code}")
        else:
            log.append(f"{who} for {d.on_behalf_of}: {d.verdict.value} {d.rule_id}/{d.tier}")
    return flow, log


def _again(flow: ApprovalFlow, directory: Directory, now: datetime) -> list[tuple[str, str | None]]:
    """Attempts by people who already took part: as delegate or delegator of a
    colleague who approved, or for themselves after acting for someone."""
    persons = flow.persons()
    out: list[tuple[str, str | None]] = []
    for d in directory.delegations:
        if not d.active_at(now):
            continue
        if d.delegator_id in persons or d.delegate_id in persons:
            out.append((d.delegate_id, d.delegator_id))
            out.append((d.delegate_id, None))
            out.append((d.delegator_id, None))
    return out


def _oracle_satisfied(tier: TierProgress) -> bool:
    """Brute force: some set of leaves meets the requirement and can be given to
    distinct approvals, each qualified for its leaf; or an escalation target approved."""
    approvals = tier.approvals
    if any(q.leaf is None for d in approvals for q in d.qualifications):
        return True
    leaves = [p for p, _ in tier.tier.approvers.leaves()]
    for size in range(len(leaves) + 1):
        for chosen in itertools.combinations(leaves, size):
            if not tier.tier.approvers.is_met(chosen):
                continue
            for order in itertools.permutations(range(len(approvals)), size):
                if all(
                    any(q.leaf == leaf for q in approvals[i].qualifications)
                    for leaf, i in zip(chosen, order, strict=True)
                ):
                    return True
    return False


# -- conditions ---------------------------------------------------------------------------


@settings(suppress_health_check=SLOW)
@given(predicates())
def test_conditions_print_and_parse_back(predicate: Predicate) -> None:
    text = str(predicate)
    again = parse_predicate(text)
    assert again == predicate
    assert str(again) == text
    assert loads(dumps(predicate), Predicate) == predicate


@settings(suppress_health_check=SLOW)
@given(policies)
def test_policies_round_trip_through_json(policy: ApprovalPolicy) -> None:
    assert loads(dumps(policy), ApprovalPolicy) == policy


# -- flows --------------------------------------------------------------------------------


@settings(max_examples=60, suppress_health_check=SLOW)
@given(busy_policies, approval_subjects(max_total=8000), directories(), scripts)
def test_flows_are_deterministic(
    policy: ApprovalPolicy, subject: Subject, directory: Directory, script: list[Any]
) -> None:
    first, log_one = _run(policy, subject, directory, script)
    second, log_two = _run(policy, subject, directory, script)
    assert log_one == log_two
    if first is None or second is None:
        assert first is second
        return
    first.pull_events()
    second.pull_events()
    assert first == second
    assert loads(dumps(first), ApprovalFlow) == first


@settings(max_examples=60, suppress_health_check=SLOW)
@given(busy_policies, approval_subjects(), directories(), st.lists(st.integers(1, 30), max_size=8))
def test_escalation_does_not_depend_on_the_tick_cadence(
    policy: ApprovalPolicy, subject: Subject, directory: Directory, waits: list[int]
) -> None:
    try:
        once = evaluate(policy, subject, at=AT, directory=directory, flow_id="f-1")
    except B2BCoreError:
        return
    often = evaluate(policy, subject, at=AT, directory=directory, flow_id="f-1")
    now = AT
    for hours in waits:
        now += timedelta(hours=hours)
        advance(often, now=now, directory=directory)
    advance(once, now=now, directory=directory)
    once.pull_events()
    often.pull_events()
    assert once == often
    event(f"status {once.status.value}")


@settings(max_examples=120, suppress_health_check=SLOW)
@given(
    busy_policies,
    approval_subjects(max_total=8000),
    st.one_of(directories(), directories(generous=True)),
    scripts,
)
def test_separation_of_duties_is_never_violated(
    policy: ApprovalPolicy, subject: Subject, directory: Directory, script: list[Any]
) -> None:
    flow, log = _run(policy, subject, directory, script)
    if flow is None:
        return
    decisions = flow.decisions()
    for d in decisions:
        assert subject.requester_id not in d.persons
        assert directory.users[d.acted_by].status is UserStatus.ACTIVE
        if d.delegated:
            assert any(
                x.delegator_id == d.on_behalf_of
                and x.delegate_id == d.acted_by
                and x.active_at(d.at)
                for x in directory.delegations
            )
    approvals = [d for d in decisions if d.verdict is Verdict.APPROVED]
    total = flow.subject.total
    for d in approvals:  # APPROVE_UP_TO limits are honoured
        for q in d.qualifications:
            assert q.limit is None or (q.limit.currency == total.currency and total <= q.limit)
    for a, b in itertools.combinations(approvals, 2):
        assert not (a.persons & b.persons), (a, b)
    event(f"{len(approvals)} approvals")
    refused = [line for line in log if ": approvals.not_eligible" in line]
    event(f"refused: {min(len(refused), 3)}")


@settings(max_examples=120, suppress_health_check=SLOW)
@given(
    busy_policies,
    approval_subjects(max_total=8000),
    st.one_of(directories(), directories(generous=True)),
    scripts,
)
def test_approved_iff_every_tier_of_every_matching_rule_is_satisfied(
    policy: ApprovalPolicy, subject: Subject, directory: Directory, script: list[Any]
) -> None:
    flow, _ = _run(policy, subject, directory, script)
    if flow is None:
        return
    matched = [
        m.rule.id for m in match_rules(policy, subject, at=AT, directory=directory) if m.matched
    ]
    assert [p.rule.id for p in flow.rules] == matched
    every_tier = all(_oracle_satisfied(t) for p in flow.rules for t in p.tiers)
    rejected = any(d.verdict is Verdict.REJECTED for d in flow.decisions())
    assert (flow.status is FlowStatus.APPROVED) == every_tier
    assert (flow.status is FlowStatus.REJECTED) == rejected
    for p in flow.rules:
        for t in p.tiers:
            assert (t.completed_at is not None) == _oracle_satisfied(t)
            if t.completed_at is None:
                break  # tiers are sequential: nothing after an unmet tier is decided
        for t in p.tiers[(p.active_index or len(p.tiers)) + 1 :]:
            assert t.decisions == ()
    event(f"status {flow.status.value}")


# -- bad input to the service -------------------------------------------------------------

junk: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["acme", "f-1", "ben", "clara", "", " x ", "cart:c-1"]),
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.sampled_from(["a", ""]), max_size=2),
    st.datetimes(),  # naive
)


def field(*good: object) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes junk: both paths get exercised."""
    return st.integers(0, 4).flatmap(lambda n: junk if n == 0 else st.sampled_from(good))


def _subject(total: str, requester: str = "ben", ref: str = "c-1") -> Subject:
    return Subject.of(
        attrs.evolve(
            SUBJECT,
            total=Money(total, "EUR"),
            requester_id=requester,
            ref=attrs.evolve(SUBJECT.ref, id=ref),
            lines=(),
        )
    )


SUBJECT = Subject(
    ref=SubjectRef("cart", "c-1"),
    company_id="acme",
    requester_id="ben",
    total=Money("7000", "EUR"),
    business_unit_id="leipzig",
)
LATER = AT + timedelta(days=2)
subjects = field(
    _subject("7000"), _subject("100"), _subject("7000", ref="c-2"), _subject("1", "clara")
)
actors = field(*(Actor.user("acme", u) for u in ("ana", "ben", "clara", "dora")))

commands = st.lists(
    st.one_of(
        st.tuples(
            st.just("submit"),
            actors,
            st.fixed_dictionaries({"subject": subjects, "flow_id": field("f-1", "f-2")}),
        ),
        st.tuples(
            st.just("decide"),
            actors,
            st.fixed_dictionaries(
                {
                    "flow_id": field("f-1", "f-2", "nope"),
                    "approve": field(True, False),
                    "comment": field("ok", "", "no budget"),
                    "on_behalf_of": field(None, "dora", "ben"),
                }
            ),
        ),
        st.tuples(
            st.just("cancel"),
            actors,
            st.fixed_dictionaries({"flow_id": field("f-1", "f-2"), "reason": field("gone", "")}),
        ),
        st.tuples(
            st.just("delegate"),
            actors,
            st.fixed_dictionaries(
                {
                    "delegate_id": field("clara", "dora", "ghost", "ben"),
                    "valid_from": field(AT, LATER),
                    "valid_until": field(LATER, AT),
                }
            ),
        ),
        st.tuples(
            st.just("save_budget"),
            actors,
            st.fixed_dictionaries(
                {
                    "budget": field(
                        Budget(
                            id="b-1",
                            company_id="acme",
                            amount=Money("10000", "EUR"),
                            period=BudgetPeriod.MONTH,
                            business_unit_id="leipzig",
                        ),
                        Budget(
                            id="b-2",
                            company_id="acme",
                            amount=Money("1", "USD"),
                            period=BudgetPeriod.MONTH,
                            business_unit_id="hq",
                        ),
                    )
                }
            ),
        ),
        st.tuples(st.just("tick"), actors, st.just({})),
    ),
    max_size=10,
)


def _snapshot(portal: Portal) -> dict[str, list[tuple[str, int]]]:
    with portal.store.unit_of_work() as uow:
        return {
            "flows": [
                (f.id, f.version) for f in uow.approval_flows.list(company_id=ACME, limit=500)
            ],
            "budgets": [(b.id, b.version) for b in uow.budgets.list(company_id=ACME, limit=500)],
            "delegations": [
                (d.id, d.version) for d in uow.delegations.list(company_id=ACME, limit=500)
            ],
            "outbox": [(r.id, r.version) for r in uow.outbox.list(company_id=ACME, limit=1000)],
        }


def _world() -> Portal:
    clock = FixedClock(AT)
    portal = Portal(MemoryStore(), clock=clock)
    portal.accounts.create_company(
        Actor.operator_for("acme", "op"),
        name="ACME",
        admin_email="ana@acme.example",
        admin_user_id="ana",
    )
    ana = Actor.user("acme", "ana")
    portal.accounts.add_business_unit(ana, name="Leipzig", unit_id="leipzig", parent_id="hq")
    for uid, roles in (
        ("ben", ["buyer"]),
        ("clara", ["approver", "buyer"]),
        ("dora", ["approver"]),
    ):
        portal.accounts.invite_user(
            ana,
            user_id=uid,
            name=uid,
            email=f"{uid}@acme.example",
            business_unit_ids=["leipzig"],
            roles=roles,
        )
    portal.approvals.save_policy(
        ana,
        ApprovalPolicy(
            company_id="acme",
            rules=[
                ApprovalRule(
                    id="big",
                    name="Big",
                    condition="total > 5000 EUR",
                    tiers=[ApprovalTier(name="T", approvers=Requirement.role("approver"))],
                )
            ],
        ),
    )
    return portal


@settings(max_examples=60, suppress_health_check=SLOW)
@given(commands)
def test_bad_input_fails_cleanly_and_writes_nothing(
    script: list[tuple[str, Any, dict[str, Any]]],
) -> None:
    portal = _world()
    for name, actor, kwargs in script:
        before = _snapshot(portal)
        try:
            if name == "submit":
                portal.approvals.submit(actor, kwargs["subject"], flow_id=kwargs["flow_id"])
            elif name == "decide":
                portal.approvals.decide(actor, **kwargs)
            elif name == "cancel":
                portal.approvals.cancel(actor, **kwargs)
            elif name == "delegate":
                portal.approvals.delegate(actor, **kwargs)
            elif name == "save_budget":
                budget = kwargs["budget"]
                fresh = attrs.evolve(budget, version=0) if isinstance(budget, Budget) else budget
                portal.approvals.save_budget(actor, fresh)
            else:
                portal.approvals.tick(actor)
        except B2BCoreError as e:
            event(f"{name}: {e.code}")
            assert _snapshot(portal) == before, f"{name} failed but changed the store"
        else:
            event(f"{name}: ok")
            if name != "tick":
                assert _snapshot(portal) != before, f"{name} succeeded but stored nothing"
