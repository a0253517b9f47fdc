"""Accounts use-cases through the portal, on MemoryStore and SQLiteStore:
authorization, audit in the same unit of work, and nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from b2bcore.accounts import (
    Actor,
    BusinessUnitAdded,
    BusinessUnitMoved,
    CompanyCreated,
    Permission,
    Resource,
    RoleGranted,
    UserInvited,
    UserStatus,
    ViewScope,
)
from b2bcore.audit import Outcome
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.events import DomainEvent
from b2bcore.ids import BusinessUnitId, CompanyId
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OPERATOR = Actor.operator_for("acme", "op-1")
ADMIN = Actor.user("acme", "u-admin")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "a.sqlite")
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


@pytest.fixture
def portal(store: Store, clock: FixedClock) -> Portal:
    p = Portal(store, clock=clock)
    p.accounts.create_company(
        OPERATOR,
        name="ACME",
        country="DE",
        admin_email="admin@acme.example",
        admin_user_id="u-admin",
    )
    p.accounts.add_business_unit(ADMIN, name="Plant", unit_id="plant", parent_id="hq")
    return p


def _trail(portal: Portal) -> list[tuple[str, str, Outcome]]:
    page = portal.accounts.audit_trail(ADMIN, limit=1000)
    return [(e.acted_by, e.action, e.outcome) for e in page]


def _counts(portal: Portal) -> tuple[int, int, int]:
    with portal.store.unit_of_work() as uow:
        cid = CompanyId("acme")
        return (
            len(uow.business_units.list(company_id=cid, limit=1000)),
            len(uow.users.list(company_id=cid, limit=1000)),
            len(uow.roles.list(company_id=cid, limit=1000)),
        )


# -- onboarding --------------------------------------------------------------------------


def test_onboarding_creates_root_unit_roles_and_admin(portal: Portal) -> None:
    company = portal.accounts.get_company(ADMIN)
    assert (company.id, company.name) == ("acme", "ACME")
    roles = {r.id for r in portal.accounts.list_roles(ADMIN)}
    assert roles == {"buyer", "approver", "company_admin", "viewer"}
    admin = portal.accounts.get_user(ADMIN, user_id="u-admin")
    assert admin.status is UserStatus.ACTIVE
    assert [g.role_id for g in admin.grants] == ["company_admin"]
    assert _trail(portal)[0] == ("op-1", "company.create", Outcome.ALLOWED)


def test_only_operators_create_companies(portal: Portal) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        portal.accounts.create_company(Actor.user("beta", "u-x"), name="Beta")
    assert info.value.decision_code == "operator_required"
    with pytest.raises(DuplicateError):
        portal.accounts.create_company(OPERATOR, name="Again")
    assert portal.accounts.get_company(ADMIN).name == "ACME"


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"name": "  "}, "name"),
        ({"name": "X", "country": "Germany"}, "country"),
        ({"name": "X", "root_unit_id": "bad id"}, "root_unit_id"),
        ({"name": "X", "admin_email": "not-an-email"}, "email"),
    ],
)
def test_create_company_bad_input_names_the_field(
    portal: Portal, kwargs: dict[str, str], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        portal.accounts.create_company(Actor.operator_for("beta", "op-1"), **kwargs)
    assert info.value.path == path
    with pytest.raises(NotFoundError):
        portal.accounts.get_company(Actor.operator_for("beta", "op-1"))


# -- business units ----------------------------------------------------------------------


def test_business_unit_under_unknown_parent_is_not_found_and_audited(portal: Portal) -> None:
    with pytest.raises(NotFoundError) as info:
        portal.accounts.add_business_unit(ADMIN, name="X", parent_id="nope")
    assert (info.value.kind, info.value.key) == ("business unit", "nope")
    assert _trail(portal)[-1] == ("u-admin", "business_unit.add", Outcome.FAILED)


def test_tree_lists_parents_before_children(portal: Portal) -> None:
    portal.accounts.add_business_unit(ADMIN, name="L1", unit_id="l1", parent_id="plant")
    portal.accounts.add_business_unit(ADMIN, name="Sales", unit_id="a-sales", parent_id="hq")
    order = [u.id for u in portal.accounts.business_unit_tree(ADMIN)]
    assert order == ["hq", "a-sales", "plant", "l1"]


def test_moving_a_unit_under_its_descendant_is_rejected_naming_the_loop(portal: Portal) -> None:
    portal.accounts.add_business_unit(ADMIN, name="L1", unit_id="l1", parent_id="plant")
    with pytest.raises(ValidationError, match="cycle") as info:
        portal.accounts.move_business_unit(ADMIN, unit_id="plant", new_parent_id="l1")
    loop = info.value.value
    assert isinstance(loop, list)
    assert set(loop) >= {"plant", "l1"}
    tree = {u.id: u.parent_id for u in portal.accounts.business_unit_tree(ADMIN)}
    assert tree == {"hq": None, "plant": "hq", "l1": "plant"}


def test_moving_a_unit_records_an_event_and_bumps_the_version(portal: Portal) -> None:
    portal.accounts.add_business_unit(ADMIN, name="Other", unit_id="other", parent_id="hq")
    moved = portal.accounts.move_business_unit(ADMIN, unit_id="plant", new_parent_id="other")
    assert (moved.parent_id, moved.version) == ("other", 2)
    events: list[DomainEvent] = []
    portal.dispatch({BusinessUnitMoved: [events.append]})
    assert len(events) == 1
    assert isinstance(events[0], BusinessUnitMoved)
    assert (events[0].old_parent_id, events[0].new_parent_id) == ("hq", "other")


# -- users and roles ---------------------------------------------------------------------


def test_invite_user_checks_units_roles_and_email(portal: Portal) -> None:
    ana = portal.accounts.invite_user(
        ADMIN, email="Ana@ACME.example", name="Ana", business_unit_ids=["plant"], roles=["buyer"]
    )
    assert ana.email == "ana@acme.example"
    assert [g.role_id for g in ana.grants] == ["buyer"]
    with pytest.raises(DuplicateError, match="already exists in company 'acme'"):
        portal.accounts.invite_user(
            ADMIN, email="ANA@acme.example", name="Ana 2", business_unit_ids=["hq"]
        )
    with pytest.raises(NotFoundError) as info:
        portal.accounts.invite_user(
            ADMIN, email="bo@acme.example", name="Bo", business_unit_ids=["hq", "x"]
        )
    assert info.value.key == "x"
    with pytest.raises(NotFoundError) as info2:
        portal.accounts.invite_user(
            ADMIN, email="cy@acme.example", name="Cy", business_unit_ids=["hq"], roles=["boss"]
        )
    assert (info2.value.kind, info2.value.key) == ("role", "boss")
    emails = {u.email for u in portal.accounts.list_users(ADMIN)}
    assert emails == {"admin@acme.example", "ana@acme.example"}


def test_list_users_filters_by_unit_and_role(portal: Portal) -> None:
    portal.accounts.invite_user(
        ADMIN, email="a@acme.example", name="A", business_unit_ids=["hq"], user_id="a"
    )
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant", "hq"],
        user_id="b",
        roles=["approver"],
    )
    in_plant = portal.accounts.list_users(ADMIN, business_unit_id="plant")
    approvers = portal.accounts.list_users(ADMIN, role_id="approver")
    assert [u.id for u in in_plant] == ["b"]
    assert [u.id for u in approvers] == ["b"]


def test_a_buyer_cannot_manage_users_and_the_denial_is_audited(portal: Portal) -> None:
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant"],
        user_id="b",
        roles=["buyer"],
    )
    buyer = Actor.user("acme", "b")
    before = _counts(portal)
    with pytest.raises(PermissionDeniedError) as info:
        portal.accounts.invite_user(
            buyer, email="c@acme.example", name="C", business_unit_ids=["plant"]
        )
    assert info.value.decision_code == "not_in_role"
    assert info.value.permission == "users.manage"
    assert _counts(portal) == before
    assert _trail(portal)[-1] == ("b", "user.invite", Outcome.DENIED)
    with pytest.raises(PermissionDeniedError):
        portal.accounts.list_users(buyer)
    assert _trail(portal)[-1] == ("b", "user.list", Outcome.DENIED)


def test_grant_windows_sod_and_revoke(portal: Portal, clock: FixedClock) -> None:
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant"],
        user_id="b",
        roles=["buyer"],
    )
    portal.accounts.add_sod_rule(ADMIN, role_a="buyer", role_b="approver", reason="4 eyes")
    with pytest.raises(ConflictError, match="separation of duties: 4 eyes"):
        portal.accounts.grant_role(ADMIN, user_id="b", role_id="approver")
    # The same pair later in time is fine once the buyer grant has ended.
    portal.accounts.revoke_role(ADMIN, user_id="b", role_id="buyer")
    user = portal.accounts.grant_role(
        ADMIN,
        user_id="b",
        role_id="approver",
        business_unit_id="plant",
        valid_until=AT + timedelta(days=30),
    )
    assert [(g.role_id, g.business_unit_id) for g in user.grants] == [("approver", "plant")]
    with pytest.raises(DuplicateError):
        portal.accounts.grant_role(ADMIN, user_id="b", role_id="approver", business_unit_id="plant")
    with pytest.raises(NotFoundError):
        portal.accounts.revoke_role(ADMIN, user_id="b", role_id="buyer")
    clock.advance(timedelta(days=31))
    explained = portal.accounts.explain(Actor.user("acme", "b"), Permission.APPROVALS_APPROVE)
    assert explained.decision.code == "expired"
    events: list[DomainEvent] = []
    portal.dispatch({RoleGranted: [events.append]})
    assert len(events) == 1  # the refused (SoD) grant left no event behind


def test_sod_rule_that_current_grants_violate_is_refused_naming_users(portal: Portal) -> None:
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant"],
        user_id="b",
        roles=["buyer", "approver"],
    )
    with pytest.raises(ConflictError, match=r"\['b'\]"):
        portal.accounts.add_sod_rule(ADMIN, role_a="buyer", role_b="approver")
    assert portal.accounts.get_company(ADMIN).sod_rules == ()


def test_bu_scoped_admin_manages_only_their_subtree(portal: Portal) -> None:
    portal.accounts.add_business_unit(ADMIN, name="Other", unit_id="other", parent_id="hq")
    portal.accounts.invite_user(
        ADMIN, email="p@acme.example", name="P", business_unit_ids=["plant"], user_id="p"
    )
    portal.accounts.grant_role(
        ADMIN, user_id="p", role_id="company_admin", business_unit_id="plant"
    )
    plant_admin = Actor.user("acme", "p")
    portal.accounts.add_business_unit(plant_admin, name="L1", unit_id="l1", parent_id="plant")
    with pytest.raises(PermissionDeniedError) as info:
        portal.accounts.add_business_unit(plant_admin, name="X", parent_id="other")
    assert info.value.decision_code == "wrong_business_unit"


def test_role_limits_and_explanations(portal: Portal) -> None:
    portal.accounts.create_role(ADMIN, name="Buyer 5k", role_id="b5k", copy_of="buyer")
    portal.accounts.set_role_permission(
        ADMIN, role_id="b5k", permission=Permission.ORDERS_BUY, limit=Money("5000", "EUR")
    )
    portal.accounts.set_role_permission(
        ADMIN, role_id="b5k", permission=Permission.ORDERS_VIEW, scope=ViewScope.OWN
    )
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant"],
        user_id="b",
        roles=["b5k"],
    )
    b = Actor.user("acme", "b")
    ok = portal.accounts.explain(b, Permission.ORDERS_BUY, amount=Money("5000", "EUR"))
    over = portal.accounts.explain(b, Permission.ORDERS_BUY, amount=Money("5000.01", "EUR"))
    other = Resource("order", "o-1", CompanyId("acme"), "someone-else", BusinessUnitId("plant"))
    view = portal.accounts.explain(b, Permission.ORDERS_VIEW, resource=other)
    assert ok.decision.allowed
    assert (over.decision.code, view.decision.code) == ("over_limit", "outside_view_scope")
    assert "5000.01 EUR is over the limit of 5000 EUR" in over.text()


def test_disabled_user_is_denied_and_cannot_disable_self(portal: Portal) -> None:
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant"],
        user_id="b",
        roles=["company_admin"],
    )
    with pytest.raises(ConflictError, match="cannot disable yourself"):
        portal.accounts.set_user_status(ADMIN, user_id="u-admin", status=UserStatus.DISABLED)
    portal.accounts.set_user_status(ADMIN, user_id="b", status=UserStatus.DISABLED)
    with pytest.raises(PermissionDeniedError) as info:
        portal.accounts.list_users(Actor.user("acme", "b"))
    assert info.value.decision_code == "user_disabled"


# -- assisted buying ---------------------------------------------------------------------


def _agent_session_setup(portal: Portal) -> None:
    portal.accounts.invite_user(
        ADMIN,
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant"],
        user_id="b",
        roles=["buyer"],
    )
    portal.accounts.register_agent(
        operator_id="op-1", agent_id="agent-7", name="Sam", email="sam@seller.example"
    )


def test_assisted_session_lifecycle_is_audited_with_the_agent(
    portal: Portal, clock: FixedClock
) -> None:
    _agent_session_setup(portal)
    session = portal.accounts.start_assisted_session(
        agent_id="agent-7",
        company_id="acme",
        customer_user_id="b",
        reason="phone order",
        permissions=[Permission.ORDERS_BUY],
        duration=timedelta(minutes=30),
    )
    agent = Actor.assisted(session)
    assert portal.accounts.explain(agent, Permission.ORDERS_BUY).decision.allowed
    assert portal.accounts.explain(agent, Permission.ORDERS_VIEW).decision.code == (
        "agent_restricted"
    )
    assert portal.accounts.explain(agent, Permission.APPROVALS_APPROVE).decision.code == (
        "agent_cannot_approve"
    )
    with pytest.raises(PermissionDeniedError):
        portal.accounts.invite_user(
            agent, email="x@acme.example", name="X", business_unit_ids=["plant"]
        )
    clock.advance(timedelta(minutes=31))
    assert portal.accounts.explain(agent, Permission.ORDERS_BUY).decision.code == (
        "session_expired"
    )
    ended = portal.accounts.end_assisted_session(agent, session_id=session.id)
    assert ended.ended_by == "agent-7"
    entries = [e for e in portal.accounts.audit_trail(ADMIN, limit=1000) if e.by_agent]
    assert [(e.acted_by, e.on_behalf_of, e.action) for e in entries] == [
        ("agent-7", "b", "assisted_session.start"),
        ("agent-7", "b", "user.invite"),
        ("agent-7", "b", "assisted_session.end"),
    ]
    assert entries[1].outcome is Outcome.DENIED


def test_unknown_or_inactive_agent_cannot_start_a_session(portal: Portal) -> None:
    _agent_session_setup(portal)
    with pytest.raises(PermissionDeniedError):
        portal.accounts.start_assisted_session(
            agent_id="nobody",
            company_id="acme",
            customer_user_id="b",
            reason="x",
            permissions=[Permission.ORDERS_BUY],
        )
    with pytest.raises(ValidationError, match="never approve"):
        portal.accounts.start_assisted_session(
            agent_id="agent-7",
            company_id="acme",
            customer_user_id="b",
            reason="x",
            permissions=[Permission.APPROVALS_APPROVE],
        )
    with pytest.raises(ValidationError, match="duration"):
        portal.accounts.start_assisted_session(
            agent_id="agent-7",
            company_id="acme",
            customer_user_id="b",
            reason="x",
            permissions=[Permission.ORDERS_BUY],
            duration=timedelta(days=2),
        )
    assert _trail(portal)[-1] == ("nobody", "assisted_session.start", Outcome.DENIED)


def test_every_command_emits_its_events_once(portal: Portal) -> None:
    portal.accounts.invite_user(ADMIN, email="a@acme.example", name="A", business_unit_ids=["hq"])
    seen: list[DomainEvent] = []
    report = portal.dispatch({DomainEvent: [seen.append]})
    kinds = [type(e) for e in seen]
    assert kinds.count(CompanyCreated) == 1
    assert kinds.count(BusinessUnitAdded) == 2
    assert kinds.count(UserInvited) == 2
    assert all(e.company_id == CompanyId("acme") for e in seen)
    assert report.delivered == len(seen)
    assert portal.dispatch({DomainEvent: [seen.append]}).delivered == 0
