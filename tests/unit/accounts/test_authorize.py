"""Example-based tests of the pure authorization: authorize and explain_permission."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b2bcore.accounts import (
    Access,
    AccessDecision,
    Actor,
    AssistedSession,
    BusinessUnit,
    CompanyUser,
    Permission,
    Resource,
    Role,
    RoleGrant,
    RolePermission,
    SoDRule,
    UserStatus,
    ViewScope,
    authorize,
    explain_permission,
    predefined_roles,
)
from b2bcore.accounts.rules import check_membership
from b2bcore.errors import ValidationError
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId, UserId
from b2bcore.money import Money

AT = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ACME = CompanyId("acme")
ANA = UserId("u-ana")


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _unit(unit_id: str, parent: str | None = None) -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=ACME,
        name=unit_id.upper(),
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


# hq -> plant -> line, and hq -> depot beside the plant
UNITS = (_unit("hq"), _unit("plant", "hq"), _unit("line", "plant"), _unit("depot", "hq"))


def _roles(*extra: Role) -> dict[str, Role]:
    roles: dict[str, Role] = {r.id: r for r in predefined_roles("acme")}
    roles.update({r.id: r for r in extra})
    return roles


def _role(role_id: str, *permissions: Permission | RolePermission, name: str = "") -> Role:
    return Role(
        id=RoleId(role_id),
        company_id=ACME,
        name=name or role_id.title(),
        permissions=list(permissions),
    )


def _grant(
    role: str,
    unit: str | None = None,
    *,
    start: datetime = AT - DAY,
    end: datetime | None = None,
) -> RoleGrant:
    return RoleGrant(
        role_id=RoleId(role),
        valid_from=start,
        valid_until=end,
        business_unit_id=None if unit is None else BusinessUnitId(unit),
    )


def _user(
    *grants: RoleGrant,
    units: Sequence[str] = ("plant",),
    status: UserStatus = UserStatus.ACTIVE,
    user_id: str = "u-ana",
    company: str = "acme",
) -> CompanyUser:
    return CompanyUser(
        id=UserId(user_id),
        company_id=CompanyId(company),
        email=f"{user_id}@example.com",
        name="Ana",
        business_unit_ids=[BusinessUnitId(u) for u in units],
        status=status,
        grants=list(grants),
    )


def _access(
    user: CompanyUser | None,
    *extra_roles: Role,
    sod: Sequence[SoDRule] = (),
    session: AssistedSession | None = None,
) -> Access:
    return Access(
        user=user,
        roles=_roles(*extra_roles),
        units=UNITS,
        sod_rules=tuple(sod),
        session=session,
    )


def _order(
    unit: str | None = "plant", owner: str | None = "u-bob", company: str = "acme"
) -> Resource:
    return Resource(
        kind="order",
        id="o-1",
        company_id=CompanyId(company),
        owner_id=owner,
        business_unit_id=None if unit is None else BusinessUnitId(unit),
    )


def _session(**changes: Any) -> AssistedSession:
    fields: dict[str, Any] = {
        "id": "s-1",
        "company_id": "acme",
        "agent_id": "agent-1",
        "customer_user_id": "u-ana",
        "reason": "customer called the hotline",
        "permissions": [Permission.ORDERS_BUY, Permission.ORDERS_VIEW],
        "started_at": AT - HOUR,
        "expires_at": AT + HOUR,
    }
    fields.update(changes)
    return AssistedSession(**fields)


ANA_ACTOR = Actor.user("acme", "u-ana")
BUYER = _user(_grant("buyer"))


def _decide(
    permission: Permission,
    access: Access,
    *,
    actor: Actor = ANA_ACTOR,
    resource: Resource | None = None,
    amount: Money | None = None,
    at: datetime = AT,
) -> AccessDecision:
    decision = authorize(actor, permission, access=access, resource=resource, amount=amount, at=at)
    explained = explain_permission(
        actor, permission, access=access, resource=resource, amount=amount, at=at
    )
    assert explained.decision == decision
    assert decision.permission is permission
    assert bool(decision) is decision.allowed
    assert decision.reason.strip()
    return decision


# -- allowed and the operator ------------------------------------------------------------


def test_a_buyer_may_buy() -> None:
    decision = _decide(Permission.ORDERS_BUY, _access(BUYER), amount=_eur("999999"))
    assert decision.allowed
    assert decision.code == "allowed"
    assert decision.role_id == "buyer"
    assert decision.grant == BUYER.grants[0]
    assert decision.entry == RolePermission(Permission.ORDERS_BUY)
    assert "Buyer" in decision.reason


def test_operator_may_administer_accounts_without_being_a_user() -> None:
    operator = Actor.operator_for("acme", "op-1")
    for permission in (
        Permission.USERS_MANAGE,
        Permission.ROLES_MANAGE,
        Permission.COMPANY_MANAGE,
        Permission.AUDIT_VIEW,
    ):
        decision = _decide(permission, _access(None), actor=operator)
        assert decision.allowed
        assert decision.code == "operator"
        assert decision.role_id is None


@pytest.mark.parametrize(
    "permission",
    [Permission.ORDERS_BUY, Permission.ORDERS_VIEW, Permission.APPROVALS_APPROVE],
)
def test_operator_may_do_nothing_else(permission: Permission) -> None:
    operator = Actor.operator_for("acme", "op-1")
    # Even a user record with the operator's id and an admin grant does not help.
    access = _access(_user(_grant("buyer"), _grant("approver"), user_id="op-1"))
    decision = _decide(permission, access, actor=operator)
    assert not decision.allowed
    assert decision.code == "operator_restricted"


def test_operator_is_bound_to_the_company_too() -> None:
    operator = Actor.operator_for("acme", "op-1")
    decision = _decide(
        Permission.USERS_MANAGE,
        _access(None),
        actor=operator,
        resource=Resource(kind="user", id="u-x", company_id=CompanyId("globex")),
    )
    assert decision.code == "other_company"


# -- tenant boundary ---------------------------------------------------------------------


def test_a_resource_of_another_company_is_denied_even_to_an_admin() -> None:
    admin = _user(_grant("company_admin"))
    decision = _decide(
        Permission.ORDERS_VIEW, _access(admin), resource=_order(owner="u-ana", company="globex")
    )
    assert not decision.allowed
    assert decision.code == "other_company"
    assert "order:o-1" in decision.reason


@pytest.mark.parametrize(
    "user",
    [
        None,
        _user(_grant("buyer"), user_id="u-bob"),
        _user(_grant("buyer"), company="globex"),
    ],
    ids=["no user", "another user", "same id in another company"],
)
def test_unknown_user(user: CompanyUser | None) -> None:
    decision = _decide(Permission.ORDERS_BUY, _access(user))
    assert not decision.allowed
    assert decision.code == "unknown_user"
    assert "u-ana" in decision.reason


def test_disabled_user() -> None:
    disabled = _user(_grant("buyer"), status=UserStatus.DISABLED)
    decision = _decide(Permission.ORDERS_BUY, _access(disabled))
    assert decision.code == "user_disabled"
    assert not decision.allowed


def test_invited_user_is_judged_by_grants() -> None:
    invited = _user(_grant("buyer"), status=UserStatus.INVITED)
    assert _decide(Permission.ORDERS_BUY, _access(invited)).allowed


# -- separation of duties ----------------------------------------------------------------


SOD = SoDRule(role_a=RoleId("buyer"), role_b=RoleId("approver"), reason="four eyes")


def test_sod_denies_a_user_holding_both_roles() -> None:
    both = _user(_grant("buyer"), _grant("approver"))
    decision = _decide(Permission.ORDERS_BUY, _access(both, sod=[SOD]))
    assert not decision.allowed
    assert decision.code == "sod"
    assert "'buyer'" in decision.reason
    assert "'approver'" in decision.reason
    assert _decide(Permission.ORDERS_BUY, _access(both)).allowed  # no rule, no conflict


def test_sod_only_counts_grants_active_at_the_instant() -> None:
    sequential = _user(
        _grant("buyer", start=AT - DAY, end=AT),
        _grant("approver", start=AT),
    )
    assert _decide(Permission.APPROVALS_APPROVE, _access(sequential, sod=[SOD])).allowed
    before = _decide(Permission.ORDERS_BUY, _access(sequential, sod=[SOD]), at=AT - HOUR)
    assert before.allowed
    overlapping = _user(_grant("buyer", end=AT + HOUR), _grant("approver", start=AT))
    assert _decide(Permission.ORDERS_BUY, _access(overlapping, sod=[SOD])).code == "sod"
    after = _decide(Permission.APPROVALS_APPROVE, _access(overlapping, sod=[SOD]), at=AT + HOUR)
    assert after.allowed  # the buyer grant has ended: no conflict any more


def test_sod_rule_about_other_roles_does_not_matter() -> None:
    rule = SoDRule(role_a=RoleId("buyer"), role_b=RoleId("company_admin"))
    both = _user(_grant("buyer"), _grant("approver"))
    assert _decide(Permission.ORDERS_BUY, _access(both, sod=[rule])).allowed


# -- grants ------------------------------------------------------------------------------


def test_no_grant() -> None:
    decision = _decide(Permission.ORDERS_VIEW, _access(_user()))
    assert not decision.allowed
    assert decision.code == "no_grant"
    assert "u-ana" in decision.reason


def test_role_missing() -> None:
    decision = _decide(Permission.ORDERS_BUY, _access(_user(_grant("ghost"))))
    assert decision.code == "role_missing"
    assert "ghost" in decision.reason


def test_not_yet_valid() -> None:
    later = _user(_grant("buyer", start=AT + HOUR))
    decision = _decide(Permission.ORDERS_BUY, _access(later))
    assert decision.code == "not_yet_valid"
    assert _decide(Permission.ORDERS_BUY, _access(later), at=AT + HOUR).allowed


def test_expired() -> None:
    ended = _user(_grant("buyer", start=AT - DAY, end=AT))
    decision = _decide(Permission.ORDERS_BUY, _access(ended))
    assert decision.code == "expired"
    assert "expired" in decision.reason
    assert _decide(Permission.ORDERS_BUY, _access(ended), at=AT - timedelta(microseconds=1))


def test_not_in_role() -> None:
    decision = _decide(Permission.APPROVALS_APPROVE, _access(BUYER))
    assert not decision.allowed
    assert decision.code == "not_in_role"
    assert "approvals.approve" in decision.reason


def test_wrong_business_unit_when_the_request_names_none() -> None:
    scoped = _user(_grant("buyer", "plant"))
    for resource in (None, _order(unit=None)):
        decision = _decide(Permission.ORDERS_BUY, _access(scoped), resource=resource)
        assert decision.code == "wrong_business_unit"
        assert "names no business unit" in decision.reason


def test_bu_scoped_grant_covers_its_subtree_only() -> None:
    scoped = _user(_grant("buyer", "plant"))
    access = _access(scoped)
    assert _decide(Permission.ORDERS_BUY, access, resource=_order("plant")).allowed
    assert _decide(Permission.ORDERS_BUY, access, resource=_order("line")).allowed
    for outside in ("hq", "depot", "elsewhere"):
        decision = _decide(Permission.ORDERS_BUY, access, resource=_order(outside))
        assert decision.code == "wrong_business_unit"
        assert repr(outside) in decision.reason


def test_bu_scoped_grant_on_the_root_covers_the_whole_tree() -> None:
    access = _access(_user(_grant("buyer", "hq")))
    for unit in ("hq", "plant", "line", "depot"):
        assert _decide(Permission.ORDERS_BUY, access, resource=_order(unit)).allowed


def test_bu_scoped_grant_on_a_unit_missing_from_the_tree_allows_nothing() -> None:
    access = _access(_user(_grant("buyer", "gone")))
    assert _decide(Permission.ORDERS_BUY, access, resource=_order("plant")).code == (
        "wrong_business_unit"
    )


# -- view scopes -------------------------------------------------------------------------


def test_own_scope_sees_own_records_only() -> None:
    access = _access(_user(_grant("viewer")))
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order(owner="u-ana")).allowed
    decision = _decide(Permission.ORDERS_VIEW, access, resource=_order(owner="u-bob"))
    assert decision.code == "outside_view_scope"
    assert "own order" in decision.reason
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order(owner=None)).code == (
        "outside_view_scope"
    )


def test_view_without_a_resource_is_allowed_for_any_scope() -> None:
    # Listing: the query itself applies the scope.
    assert _decide(Permission.ORDERS_VIEW, _access(_user(_grant("viewer")))).allowed


def test_business_unit_scope_covers_the_users_units_and_below() -> None:
    access = _access(_user(_grant("buyer"), units=["plant"]))
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order("plant")).allowed
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order("line")).allowed
    for outside in ("hq", "depot", None):
        decision = _decide(Permission.ORDERS_VIEW, access, resource=_order(outside))
        assert decision.code == "outside_view_scope"
        assert "['plant']" in decision.reason
    # One's own order is visible wherever it is booked.
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order("hq", owner="u-ana")).allowed


def test_business_unit_scope_of_a_user_in_several_units() -> None:
    access = _access(_user(_grant("buyer"), units=["line", "depot"]))
    assert _decide(Permission.INVOICES_VIEW, access, resource=_order("depot")).allowed
    assert _decide(Permission.INVOICES_VIEW, access, resource=_order("line")).allowed
    assert not _decide(Permission.INVOICES_VIEW, access, resource=_order("plant"))
    assert not _decide(Permission.INVOICES_VIEW, access, resource=_order("hq"))


def test_business_unit_scope_of_a_bu_scoped_grant_uses_the_grant_unit() -> None:
    # Ana belongs to depot but holds the buyer role for the plant.
    access = _access(_user(_grant("buyer", "plant"), units=["depot"]))
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order("line")).allowed
    assert _decide(Permission.ORDERS_VIEW, access, resource=_order("depot")).code == (
        "wrong_business_unit"
    )


def test_company_scope_sees_everything_of_the_company() -> None:
    access = _access(_user(_grant("company_admin"), units=["line"]))
    for unit in ("hq", "plant", "line", "depot", None):
        assert _decide(Permission.CLAIMS_VIEW, access, resource=_order(unit)).allowed


# -- limits ------------------------------------------------------------------------------


LIMITED = _role(
    "buyer-5k", RolePermission(Permission.ORDERS_BUY, limit=_eur("5000.00")), name="Buyer 5k"
)


def test_amount_up_to_the_limit_is_allowed() -> None:
    access = _access(_user(_grant("buyer-5k")), LIMITED)
    assert _decide(Permission.ORDERS_BUY, access, amount=_eur("4999.99")).allowed
    assert _decide(Permission.ORDERS_BUY, access, amount=_eur("5000.00")).allowed
    assert _decide(Permission.ORDERS_BUY, access, amount=_eur("5000")).allowed
    assert _decide(Permission.ORDERS_BUY, access).allowed  # no amount, nothing to compare


def test_over_limit() -> None:
    access = _access(_user(_grant("buyer-5k")), LIMITED)
    decision = _decide(Permission.ORDERS_BUY, access, amount=_eur("5000.01"))
    assert not decision.allowed
    assert decision.code == "over_limit"
    assert "5000.01 EUR" in decision.reason
    assert "5000.00 EUR" in decision.reason


def test_currency_mismatch() -> None:
    access = _access(_user(_grant("buyer-5k")), LIMITED)
    decision = _decide(Permission.ORDERS_BUY, access, amount=Money(Decimal(1), "USD"))
    assert decision.code == "currency_mismatch"
    assert "EUR" in decision.reason
    assert "USD" in decision.reason


def test_approve_up_to() -> None:
    approver = _role(
        "approver-1k", RolePermission(Permission.APPROVALS_APPROVE, limit=_eur("1000"))
    )
    access = _access(_user(_grant("approver-1k")), approver)
    assert _decide(Permission.APPROVALS_APPROVE, access, amount=_eur("1000")).allowed
    assert _decide(Permission.APPROVALS_APPROVE, access, amount=_eur("1000.01")).code == (
        "over_limit"
    )


def test_an_amount_is_ignored_where_no_limit_applies() -> None:
    access = _access(BUYER)
    assert _decide(Permission.CLAIMS_FILE, access, amount=Money(Decimal(10**9), "JPY")).allowed


# -- several grants ----------------------------------------------------------------------


def test_the_widest_allowed_grant_is_reported() -> None:
    user = _user(_grant("viewer"), _grant("company_admin"), _grant("buyer"))
    decision = _decide(
        Permission.ORDERS_VIEW, _access(user), resource=_order("plant", owner="u-ana")
    )
    assert decision.allowed
    assert decision.role_id == "company_admin"
    assert decision.entry is not None
    assert decision.entry.scope is ViewScope.COMPANY


def test_the_highest_limit_is_reported_and_no_limit_is_highest() -> None:
    small = _role("b100", RolePermission(Permission.ORDERS_BUY, limit=_eur("100")))
    big = _role("b1000", RolePermission(Permission.ORDERS_BUY, limit=_eur("1000")))
    user = _user(_grant("b100"), _grant("b1000"))
    decision = _decide(Permission.ORDERS_BUY, _access(user, small, big), amount=_eur("50"))
    assert decision.role_id == "b1000"
    assert decision.entry is not None
    assert decision.entry.limit == _eur("1000")
    # Between 100 and 1000 only the big one allows.
    mid = _decide(Permission.ORDERS_BUY, _access(user, small, big), amount=_eur("500"))
    assert mid.role_id == "b1000"
    unlimited = _user(_grant("b1000"), _grant("buyer"), _grant("b100"))
    best = _decide(Permission.ORDERS_BUY, _access(unlimited, small, big), amount=_eur("50"))
    assert best.role_id == "buyer"


def test_one_allowing_grant_is_enough() -> None:
    user = _user(
        _grant("ghost"),
        _grant("viewer"),
        _grant("buyer", end=AT),
        _grant("buyer-5k", "plant"),
    )
    decision = _decide(
        Permission.ORDERS_BUY, _access(user, LIMITED), resource=_order("line"), amount=_eur("1")
    )
    assert decision.allowed
    assert decision.role_id == "buyer-5k"


def test_over_limit_is_reported_over_not_in_role() -> None:
    user = _user(_grant("viewer"), _grant("buyer-5k"), _grant("approver"))
    decision = _decide(Permission.ORDERS_BUY, _access(user, LIMITED), amount=_eur("9000"))
    assert decision.code == "over_limit"
    assert "Buyer 5k" in decision.reason


@pytest.mark.parametrize(
    ("grants", "expected"),
    [
        ([_grant("ghost"), _grant("viewer")], "not_in_role"),
        ([_grant("viewer"), _grant("buyer", end=AT)], "expired"),
        ([_grant("buyer", end=AT), _grant("buyer", "depot")], "wrong_business_unit"),
        ([_grant("buyer", start=AT + HOUR), _grant("buyer", end=AT)], "expired"),
        ([_grant("ghost"), _grant("buyer", start=AT + HOUR)], "not_yet_valid"),
    ],
)
def test_the_most_telling_denial_is_reported(grants: list[RoleGrant], expected: str) -> None:
    decision = _decide(Permission.ORDERS_BUY, _access(_user(*grants)), resource=_order("plant"))
    assert decision.code == expected


# -- explanation -------------------------------------------------------------------------


def test_explanation_lists_every_grant() -> None:
    user = _user(
        _grant("viewer"), _grant("buyer-5k", "plant"), _grant("ghost"), _grant("buyer", end=AT)
    )
    explained = explain_permission(
        ANA_ACTOR,
        Permission.ORDERS_BUY,
        access=_access(user, LIMITED),
        resource=_order("line"),
        amount=_eur("6000"),
        at=AT,
    )
    assert not explained.decision.allowed
    assert explained.decision.code == "over_limit"
    assert [(f.grant.role_id, f.code, f.allowed) for f in explained.findings] == [
        ("viewer", "not_in_role", False),
        ("buyer-5k", "over_limit", False),
        ("ghost", "role_missing", False),
        ("buyer", "expired", False),
    ]
    assert [f.role_name for f in explained.findings] == ["Viewer", "Buyer 5k", "ghost", "Buyer"]
    text = explained.text()
    lines = text.splitlines()
    assert lines[0].startswith("DENIED orders.buy: ")
    assert "over the limit" in lines[0]
    assert "  - role 'Viewer': role does not include orders.buy" in lines
    assert any(line.startswith("  - role 'Buyer 5k' in plant: ") for line in lines)
    assert "  - role 'ghost': role 'ghost' no longer exists" in lines
    assert any(line.startswith("  - role 'Buyer': grant expired ") for line in lines)


def test_explanation_of_an_allowed_decision() -> None:
    user = _user(_grant("viewer"), _grant("buyer"))
    explained = explain_permission(ANA_ACTOR, Permission.ORDERS_BUY, access=_access(user), at=AT)
    assert explained.decision.allowed
    assert [f.allowed for f in explained.findings] == [False, True]
    assert explained.findings[1].code == "allowed"
    assert explained.findings[1].reason == "grants orders.buy"
    text = explained.text()
    assert text.startswith("ALLOWED orders.buy: role 'Buyer' grants orders.buy")
    assert "  + role 'Buyer': grants orders.buy" in text.splitlines()
    assert "  - role 'Viewer': role does not include orders.buy" in text.splitlines()


def test_explanation_of_a_precheck_denial_has_no_findings() -> None:
    explained = explain_permission(
        ANA_ACTOR,
        Permission.ORDERS_BUY,
        access=_access(_user(_grant("buyer"), status=UserStatus.DISABLED)),
        at=AT,
    )
    assert explained.findings == ()
    assert explained.checks == (explained.decision.reason,)
    assert explained.text().splitlines() == [
        f"DENIED orders.buy: {explained.decision.reason}",
        f"  check: {explained.decision.reason}",
    ]


def test_explanation_of_an_agent_notes_the_session() -> None:
    session = _session()
    explained = explain_permission(
        Actor.assisted(session),
        Permission.ORDERS_BUY,
        access=_access(BUYER, session=session),
        at=AT,
    )
    assert explained.decision.allowed
    assert any("assisted session 's-1'" in c for c in explained.checks)
    assert "assisted session 's-1'" in explained.text()


def test_explanation_of_the_operator() -> None:
    explained = explain_permission(
        Actor.operator_for("acme", "op-1"), Permission.USERS_MANAGE, access=_access(None), at=AT
    )
    assert explained.decision.code == "operator"
    assert explained.findings == ()
    assert explained.text().startswith("ALLOWED users.manage: platform operators")


# -- assisted sessions -------------------------------------------------------------------


def test_agent_acts_within_the_session() -> None:
    session = _session()
    decision = _decide(
        Permission.ORDERS_BUY,
        _access(BUYER, session=session),
        actor=Actor.assisted(session),
    )
    assert decision.allowed
    assert decision.code == "allowed"
    assert decision.role_id == "buyer"


def test_agent_is_still_bound_by_the_customers_grants() -> None:
    session = _session(permissions=[Permission.ORDERS_BUY])
    viewer = _user(_grant("viewer"))
    decision = _decide(
        Permission.ORDERS_BUY, _access(viewer, session=session), actor=Actor.assisted(session)
    )
    assert decision.code == "not_in_role"
    limited = _user(_grant("buyer-5k"))
    over = _decide(
        Permission.ORDERS_BUY,
        _access(limited, LIMITED, session=session),
        actor=Actor.assisted(session),
        amount=_eur("5000.01"),
    )
    assert over.code == "over_limit"


def test_session_missing() -> None:
    session = _session()
    actor = Actor.assisted(session)
    assert _decide(Permission.ORDERS_BUY, _access(BUYER), actor=actor).code == "session_missing"
    other = _session(id="s-2")
    decision = _decide(Permission.ORDERS_BUY, _access(BUYER, session=other), actor=actor)
    assert decision.code == "session_missing"
    assert "s-1" in decision.reason


@pytest.mark.parametrize(
    "changes",
    [{"agent_id": "agent-2"}, {"customer_user_id": "u-bob"}, {"company_id": "globex"}],
    ids=["another agent", "another customer", "another company"],
)
def test_session_mismatch(changes: dict[str, str]) -> None:
    actor = Actor.assisted(_session())
    foreign = _session(**changes)
    decision = _decide(Permission.ORDERS_BUY, _access(BUYER, session=foreign), actor=actor)
    assert not decision.allowed
    assert decision.code == "session_mismatch"


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (AT - 2 * HOUR, "session_not_started"),
        (AT + HOUR, "session_expired"),
        (AT + 5 * HOUR, "session_expired"),
    ],
)
def test_session_outside_its_time(at: datetime, code: str) -> None:
    session = _session()
    decision = _decide(
        Permission.ORDERS_BUY, _access(BUYER, session=session), actor=Actor.assisted(session), at=at
    )
    assert decision.code == code
    assert "s-1" in decision.reason


def test_session_ended() -> None:
    session = _session()
    session.end(at=AT - HOUR / 2, by="agent-1")
    decision = _decide(
        Permission.ORDERS_BUY, _access(BUYER, session=session), actor=Actor.assisted(session)
    )
    assert decision.code == "session_ended"
    assert "ended" in decision.reason
    before = _decide(
        Permission.ORDERS_BUY,
        _access(BUYER, session=session),
        actor=Actor.assisted(session),
        at=AT - HOUR,
    )
    assert before.allowed


def test_agent_can_never_approve() -> None:
    session = _session(permissions=[p for p in Permission if not p.is_approval])
    approver = _user(_grant("approver"))
    decision = _decide(
        Permission.APPROVALS_APPROVE,
        _access(approver, session=session),
        actor=Actor.assisted(session),
    )
    assert decision.code == "agent_cannot_approve"
    # The customer themself may approve.
    assert _decide(Permission.APPROVALS_APPROVE, _access(approver)).allowed


def test_agent_restricted_to_the_session_permissions() -> None:
    session = _session(permissions=[Permission.ORDERS_VIEW])
    decision = _decide(
        Permission.ORDERS_BUY, _access(BUYER, session=session), actor=Actor.assisted(session)
    )
    assert decision.code == "agent_restricted"
    assert "orders.buy" in decision.reason
    assert "orders.view" in decision.reason


def test_agent_for_a_disabled_customer() -> None:
    session = _session()
    disabled = _user(_grant("buyer"), status=UserStatus.DISABLED)
    decision = _decide(
        Permission.ORDERS_BUY, _access(disabled, session=session), actor=Actor.assisted(session)
    )
    assert decision.code == "user_disabled"


def test_agent_view_scope_is_the_customers() -> None:
    session = _session()
    access = _access(_user(_grant("viewer")), session=session)
    agent = Actor.assisted(session)
    assert _decide(
        Permission.ORDERS_VIEW, access, actor=agent, resource=_order(owner="u-ana")
    ).allowed
    assert _decide(
        Permission.ORDERS_VIEW, access, actor=agent, resource=_order(owner="agent-1")
    ).code == ("outside_view_scope")


# -- AccessDecision and bad arguments ----------------------------------------------------------


def test_decision_is_truthy_iff_allowed() -> None:
    yes = AccessDecision(
        allowed=True, permission=Permission.ORDERS_BUY, code="allowed", reason="ok"
    )
    no = AccessDecision(
        allowed=False, permission=Permission.ORDERS_BUY, code="no_grant", reason="no"
    )
    assert yes
    assert not no
    assert authorize(ANA_ACTOR, Permission.ORDERS_BUY, access=_access(BUYER), at=AT)
    assert not authorize(ANA_ACTOR, Permission.APPROVALS_APPROVE, access=_access(BUYER), at=AT)


@pytest.mark.parametrize("permission", ["orders.buy", None, RolePermission(Permission.ORDERS_BUY)])
def test_permission_must_be_a_permission(permission: object) -> None:
    with pytest.raises(ValidationError) as info:
        authorize(ANA_ACTOR, _untyped(permission), access=_access(BUYER), at=AT)
    assert info.value.path == "permission"
    with pytest.raises(ValidationError):
        explain_permission(ANA_ACTOR, _untyped(permission), access=_access(BUYER), at=AT)


@pytest.mark.parametrize("amount", [Decimal(10), 10, "10 EUR", 10.0])
def test_amount_must_be_money(amount: object) -> None:
    with pytest.raises(ValidationError) as info:
        authorize(
            ANA_ACTOR, Permission.ORDERS_BUY, access=_access(BUYER), amount=_untyped(amount), at=AT
        )
    assert info.value.path == "amount"


@pytest.mark.parametrize("at", [AT.replace(tzinfo=None), "2026-05-04T09:00:00+00:00", None])
def test_at_must_be_an_aware_datetime(at: object) -> None:
    with pytest.raises(ValidationError) as info:
        authorize(ANA_ACTOR, Permission.ORDERS_BUY, access=_access(BUYER), at=_untyped(at))
    assert info.value.path == "at"
    with pytest.raises(ValidationError):
        explain_permission(ANA_ACTOR, Permission.ORDERS_BUY, access=_access(BUYER), at=_untyped(at))


def test_at_in_another_zone_is_the_same_instant() -> None:
    ends = _user(_grant("buyer", end=AT))
    tokyo = AT.astimezone(ZoneInfo("Asia/Tokyo"))
    assert _decide(Permission.ORDERS_BUY, _access(ends), at=tokyo).code == "expired"
    assert _decide(Permission.ORDERS_BUY, _access(ends), at=tokyo - timedelta(seconds=1)).allowed


# -- membership (reads any member may do) ------------------------------------------------


def test_membership_of_operator_user_and_agent() -> None:
    session = _session()
    assert check_membership(Actor.operator_for("acme", "op-1"), access=_access(None), at=AT) is None
    assert check_membership(ANA_ACTOR, access=_access(_user()), at=AT) is None  # no grant needed
    assert (
        check_membership(Actor.assisted(session), access=_access(_user(), session=session), at=AT)
        is None
    )


def test_membership_refusals_use_the_authorize_codes() -> None:
    session = _session()
    agent = Actor.assisted(session)
    disabled = _user(status=UserStatus.DISABLED)
    assert _code(check_membership(ANA_ACTOR, access=_access(None), at=AT)) == "unknown_user"
    assert _code(check_membership(ANA_ACTOR, access=_access(disabled), at=AT)) == "user_disabled"
    assert _code(check_membership(agent, access=_access(_user()), at=AT)) == "session_missing"
    late = AT + 2 * HOUR
    expired = check_membership(agent, access=_access(_user(), session=session), at=late)
    assert _code(expired) == "session_expired"
    foreign = _session(company_id="globex")
    mismatch = check_membership(agent, access=_access(_user(), session=foreign), at=AT)
    assert _code(mismatch) == "session_mismatch"


def test_membership_rejects_a_naive_instant() -> None:
    with pytest.raises(ValidationError):
        check_membership(ANA_ACTOR, access=_access(_user()), at=AT.replace(tzinfo=None))


def _code(failure: tuple[str, str] | None) -> str | None:
    return None if failure is None else failure[0]
