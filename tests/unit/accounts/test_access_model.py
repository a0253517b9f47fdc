"""Example-based tests of roles, grants, SoD rules, assisted sessions and actors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from b2bcore.accounts import (
    Actor,
    AssistedSession,
    Permission,
    Role,
    RoleGrant,
    RolePermission,
    SoDRule,
    ViewScope,
    predefined_roles,
)
from b2bcore.accounts.model import PREDEFINED_ROLES, SCOPE_RANK
from b2bcore.errors import ValidationError
from b2bcore.ids import AgentId, AssistedSessionId, CompanyId, RoleId, UserId
from b2bcore.money import Money

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ACME = CompanyId("acme")
VIEWS = [p for p in Permission if p.is_view]
NON_VIEWS = [p for p in Permission if not p.is_view]


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _role(*permissions: Permission | RolePermission, role_id: str = "r") -> Role:
    return Role(id=RoleId(role_id), company_id=ACME, name="Role", permissions=list(permissions))


def _session(**changes: Any) -> AssistedSession:
    fields: dict[str, Any] = {
        "id": "s-1",
        "company_id": "acme",
        "agent_id": "agent-1",
        "customer_user_id": "u-ana",
        "reason": "customer called the hotline",
        "permissions": [Permission.ORDERS_BUY, Permission.ORDERS_VIEW],
        "started_at": T0,
        "expires_at": T0 + HOUR,
    }
    fields.update(changes)
    return AssistedSession(**fields)


# -- Permission --------------------------------------------------------------------------


def test_permission_kinds() -> None:
    assert set(VIEWS) == {
        Permission.ORDERS_VIEW,
        Permission.INVOICES_VIEW,
        Permission.CLAIMS_VIEW,
        Permission.ASSETS_VIEW,
        Permission.DOCUMENTS_VIEW,
        Permission.APPOINTMENTS_VIEW,
    }
    assert not Permission.AUDIT_VIEW.is_view  # audit is not scoped by owner or unit
    assert {p for p in Permission if p.takes_limit} == {
        Permission.ORDERS_BUY,
        Permission.APPROVALS_APPROVE,
    }
    assert [p for p in Permission if p.is_approval] == [Permission.APPROVALS_APPROVE]


def test_scope_rank_orders_scopes_narrowest_first() -> None:
    ranked = sorted(ViewScope, key=SCOPE_RANK.__getitem__)
    assert ranked == [ViewScope.OWN, ViewScope.BUSINESS_UNIT, ViewScope.COMPANY]


# -- RolePermission ----------------------------------------------------------------------


@pytest.mark.parametrize("permission", VIEWS)
def test_view_permission_defaults_to_own_scope(permission: Permission) -> None:
    entry = RolePermission(permission)
    assert entry.scope is ViewScope.OWN
    assert entry.limit is None


@pytest.mark.parametrize("scope", list(ViewScope))
def test_view_permission_keeps_an_explicit_scope(scope: ViewScope) -> None:
    assert RolePermission(Permission.CLAIMS_VIEW, scope=scope).scope is scope


@pytest.mark.parametrize("permission", NON_VIEWS)
def test_non_view_permission_has_no_scope_by_default(permission: Permission) -> None:
    assert RolePermission(permission).scope is None


@pytest.mark.parametrize("permission", NON_VIEWS)
def test_scope_on_a_non_view_permission_is_rejected(permission: Permission) -> None:
    with pytest.raises(ValidationError) as info:
        RolePermission(permission, scope=ViewScope.COMPANY)
    assert info.value.path == "scope"
    assert permission.value in str(info.value)


def test_scope_that_is_not_a_view_scope_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        RolePermission(Permission.ORDERS_VIEW, scope=_untyped("company"))
    assert info.value.path == "scope"
    assert info.value.value == "company"


@pytest.mark.parametrize("permission", [Permission.ORDERS_BUY, Permission.APPROVALS_APPROVE])
def test_limit_is_accepted_on_buy_and_approve(permission: Permission) -> None:
    entry = RolePermission(permission, limit=_eur("5000.00"))
    assert entry.limit == _eur("5000")
    assert entry.scope is None


def test_zero_limit_is_accepted() -> None:
    assert RolePermission(Permission.ORDERS_BUY, limit=_eur("0")).limit == _eur("0")


@pytest.mark.parametrize(
    "permission",
    [p for p in Permission if p not in (Permission.ORDERS_BUY, Permission.APPROVALS_APPROVE)],
)
def test_limit_on_other_permissions_is_rejected(permission: Permission) -> None:
    with pytest.raises(ValidationError) as info:
        RolePermission(permission, limit=_eur("10"))
    assert info.value.path == "limit"
    assert info.value.value == _eur("10")


def test_negative_limit_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        RolePermission(Permission.ORDERS_BUY, limit=_eur("-0.01"))
    assert info.value.path == "limit"
    assert "negative" in str(info.value)


@pytest.mark.parametrize("limit", [5000.0, "5000", 5000, Decimal(5000)])
def test_limit_that_is_not_money_is_rejected(limit: object) -> None:
    with pytest.raises(ValidationError) as info:
        RolePermission(Permission.ORDERS_BUY, limit=_untyped(limit))
    assert info.value.path == "limit"
    assert info.value.value == limit


@pytest.mark.parametrize("permission", ["orders.view", None, 3])
def test_permission_that_is_not_a_permission_is_rejected(permission: object) -> None:
    with pytest.raises(ValidationError) as info:
        RolePermission(_untyped(permission))
    assert info.value.path == "permission"


def test_role_permission_describe() -> None:
    assert RolePermission(Permission.ORDERS_VIEW).describe() == "orders.view (own)"
    assert (
        RolePermission(Permission.ORDERS_BUY, limit=_eur("5000.00")).describe()
        == "orders.buy up to 5000.00 EUR"
    )
    assert RolePermission(Permission.CLAIMS_FILE).describe() == "claims.file"


# -- Role --------------------------------------------------------------------------------


def test_role_accepts_permission_shorthand_and_sorts_by_value() -> None:
    role = _role(
        Permission.USERS_MANAGE,
        RolePermission(Permission.ORDERS_BUY, limit=_eur("100")),
        Permission.APPROVALS_APPROVE,
        Permission.CLAIMS_VIEW,
    )
    assert [rp.permission.value for rp in role.permissions] == [
        "approvals.approve",
        "claims.view",
        "orders.buy",
        "users.manage",
    ]
    assert all(isinstance(rp, RolePermission) for rp in role.permissions)
    assert isinstance(role.permissions, tuple)
    claims = role.entry(Permission.CLAIMS_VIEW)
    assert claims is not None
    assert claims.scope is ViewScope.OWN  # the shorthand gets the defaults
    buy = role.entry(Permission.ORDERS_BUY)
    assert buy is not None
    assert buy.limit == _eur("100")
    assert role.entry(Permission.COMPANY_MANAGE) is None


def test_role_accepts_a_set_of_permissions() -> None:
    role = Role(
        id=RoleId("r"),
        company_id=ACME,
        name="R",
        permissions=_untyped({Permission.ORDERS_BUY, Permission.QUOTES_REQUEST}),
    )
    assert [rp.permission for rp in role.permissions] == [
        Permission.ORDERS_BUY,
        Permission.QUOTES_REQUEST,
    ]


def test_role_may_have_no_permissions() -> None:
    assert _role().permissions == ()


def test_role_rejects_a_duplicate_permission_naming_its_position() -> None:
    with pytest.raises(ValidationError) as info:
        _role(
            Permission.ORDERS_BUY,
            Permission.CLAIMS_FILE,
            RolePermission(Permission.ORDERS_BUY, limit=_eur("10")),
        )
    assert info.value.path == "permissions[2]"
    assert "orders.buy" in str(info.value)


def test_role_rejects_a_duplicate_view_with_another_scope() -> None:
    with pytest.raises(ValidationError) as info:
        _role(
            RolePermission(Permission.ORDERS_VIEW, scope=ViewScope.OWN),
            RolePermission(Permission.ORDERS_VIEW, scope=ViewScope.COMPANY),
        )
    assert info.value.path == "permissions[1]"


@pytest.mark.parametrize("item", ["orders.buy", None, ("orders.buy",)])
def test_role_rejects_items_that_are_not_permissions(item: object) -> None:
    with pytest.raises(ValidationError) as info:
        _role(Permission.CLAIMS_FILE, _untyped(item))
    assert info.value.path == "permissions[1]"


@pytest.mark.parametrize("value", ["orders.buy", None, Permission.ORDERS_BUY, {"a": 1}])
def test_role_rejects_permissions_that_are_not_a_list(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Role(id=RoleId("r"), company_id=ACME, name="R", permissions=_untyped(value))
    assert info.value.path == "permissions"


def test_role_validates_ids_and_name() -> None:
    with pytest.raises(ValidationError):
        Role(id=RoleId(""), company_id=ACME, name="R", permissions=[])
    with pytest.raises(ValidationError):
        Role(id=RoleId("r"), company_id=ACME, name=" ", permissions=[])
    with pytest.raises(ValidationError):
        Role(id=RoleId("r"), company_id=ACME, name="x" * 81, permissions=[])


def test_role_assignment_is_normalised_and_validated() -> None:
    role = _role(Permission.CLAIMS_FILE)
    role.permissions = _untyped([Permission.ORDERS_BUY, Permission.CLAIMS_VIEW])
    assert [rp.permission for rp in role.permissions] == [
        Permission.CLAIMS_VIEW,
        Permission.ORDERS_BUY,
    ]
    with pytest.raises(ValidationError):
        role.permissions = _untyped([Permission.ORDERS_BUY, Permission.ORDERS_BUY])


def test_role_copy_is_a_new_unsaved_role_with_the_same_permissions() -> None:
    buyer = predefined_roles("acme")[0]
    buyer.version = 3
    copy = buyer.copy(role_id="senior-buyer", name="Senior buyer")
    assert copy.id == "senior-buyer"
    assert copy.name == "Senior buyer"
    assert copy.company_id == "acme"
    assert copy.permissions == buyer.permissions
    assert copy.description == buyer.description
    assert copy.version == 0
    copy.with_permission(Permission.ORDERS_BUY, limit=_eur("5000"))
    original_buy = buyer.entry(Permission.ORDERS_BUY)
    assert original_buy is not None
    assert original_buy.limit is None  # changing the copy leaves the original alone


def test_role_copy_to_another_company() -> None:
    copy = predefined_roles("acme")[1].copy(role_id="approver", name="A", company_id="globex")
    assert copy.company_id == "globex"
    assert copy.id == "approver"


def test_role_copy_validates_the_new_id() -> None:
    with pytest.raises(ValidationError) as info:
        predefined_roles("acme")[0].copy(role_id="bad id!", name="B")
    assert info.value.path == "id"


def test_with_permission_adds_an_entry_in_order() -> None:
    role = _role(Permission.CLAIMS_FILE, Permission.USERS_MANAGE)
    role.with_permission(Permission.ORDERS_BUY, limit=_eur("250"))
    assert [rp.permission for rp in role.permissions] == [
        Permission.CLAIMS_FILE,
        Permission.ORDERS_BUY,
        Permission.USERS_MANAGE,
    ]
    assert role.permissions[1] == RolePermission(Permission.ORDERS_BUY, limit=_eur("250"))


def test_with_permission_replaces_an_existing_entry() -> None:
    role = _role(RolePermission(Permission.ORDERS_BUY, limit=_eur("100")), Permission.ORDERS_VIEW)
    role.with_permission(Permission.ORDERS_BUY, limit=_eur("900"))
    role.with_permission(Permission.ORDERS_VIEW, scope=ViewScope.COMPANY)
    assert role.permissions == (
        RolePermission(Permission.ORDERS_BUY, limit=_eur("900")),
        RolePermission(Permission.ORDERS_VIEW, scope=ViewScope.COMPANY),
    )
    role.with_permission(Permission.ORDERS_BUY)
    entry = role.entry(Permission.ORDERS_BUY)
    assert entry is not None
    assert entry.limit is None


def test_with_permission_rejects_a_bad_entry_and_keeps_the_role() -> None:
    role = _role(Permission.CLAIMS_FILE)
    before = role.permissions
    with pytest.raises(ValidationError):
        role.with_permission(Permission.CLAIMS_FILE, limit=_eur("5"))
    with pytest.raises(ValidationError):
        role.with_permission(Permission.ORDERS_BUY, scope=ViewScope.OWN)
    assert role.permissions == before


def test_without_permission_removes_and_tolerates_absent() -> None:
    role = _role(Permission.CLAIMS_FILE, Permission.ORDERS_BUY)
    role.without_permission(Permission.CLAIMS_FILE)
    assert [rp.permission for rp in role.permissions] == [Permission.ORDERS_BUY]
    role.without_permission(Permission.CLAIMS_FILE)
    role.without_permission(Permission.COMPANY_MANAGE)
    assert [rp.permission for rp in role.permissions] == [Permission.ORDERS_BUY]
    role.without_permission(Permission.ORDERS_BUY)
    assert role.permissions == ()


# -- predefined roles --------------------------------------------------------------------


def _by_id(company: str = "acme") -> dict[str, Role]:
    return {r.id: r for r in predefined_roles(company)}


def test_predefined_roles_are_the_four_of_the_company() -> None:
    roles = predefined_roles("acme")
    assert [r.id for r in roles] == ["buyer", "approver", "company_admin", "viewer"]
    assert all(r.company_id == "acme" for r in roles)
    assert all(r.version == 0 for r in roles)
    assert all(r.name.strip() and r.description.strip() for r in roles)
    assert [r.id for r in roles] == [entry[0] for entry in PREDEFINED_ROLES]


def test_predefined_roles_are_fresh_copies() -> None:
    first, second = predefined_roles("acme"), predefined_roles("acme")
    assert first == second
    assert first[0] is not second[0]
    first[0].without_permission(Permission.ORDERS_BUY)
    assert predefined_roles("acme")[0].entry(Permission.ORDERS_BUY) is not None
    assert second[0].entry(Permission.ORDERS_BUY) is not None


def test_predefined_roles_validate_the_company_id() -> None:
    with pytest.raises(ValidationError):
        predefined_roles("")


def test_buyer_buys_but_does_not_approve() -> None:
    buyer = _by_id()["buyer"]
    held = {rp.permission for rp in buyer.permissions}
    assert {
        Permission.ORDERS_BUY,
        Permission.QUOTES_REQUEST,
        Permission.CLAIMS_FILE,
        Permission.APPOINTMENTS_BOOK,
    } <= held
    assert Permission.APPROVALS_APPROVE not in held
    assert not held & {Permission.USERS_MANAGE, Permission.ROLES_MANAGE, Permission.COMPANY_MANAGE}
    for view in VIEWS:
        entry = buyer.entry(view)
        assert entry is not None
        assert entry.scope is ViewScope.BUSINESS_UNIT


def test_approver_approves_but_does_not_buy() -> None:
    approver = _by_id()["approver"]
    held = {rp.permission for rp in approver.permissions}
    assert Permission.APPROVALS_APPROVE in held
    assert Permission.ORDERS_BUY not in held
    assert Permission.USERS_MANAGE not in held
    orders = approver.entry(Permission.ORDERS_VIEW)
    assert orders is not None
    assert orders.scope is ViewScope.BUSINESS_UNIT


def test_viewer_only_views_own_records() -> None:
    viewer = _by_id()["viewer"]
    assert {rp.permission for rp in viewer.permissions} == set(VIEWS)
    assert all(rp.scope is ViewScope.OWN for rp in viewer.permissions)
    assert all(rp.limit is None for rp in viewer.permissions)


def test_company_admin_manages_and_sees_the_whole_company() -> None:
    admin = _by_id()["company_admin"]
    held = {rp.permission for rp in admin.permissions}
    assert {
        Permission.USERS_MANAGE,
        Permission.ROLES_MANAGE,
        Permission.COMPANY_MANAGE,
        Permission.AUDIT_VIEW,
    } <= held
    assert Permission.ORDERS_BUY not in held
    assert Permission.APPROVALS_APPROVE not in held
    for view in VIEWS:
        entry = admin.entry(view)
        assert entry is not None
        assert entry.scope is ViewScope.COMPANY


# -- RoleGrant ---------------------------------------------------------------------------


def _grant(start: datetime = T0, end: datetime | None = None, role: str = "buyer") -> RoleGrant:
    return RoleGrant(role_id=RoleId(role), valid_from=start, valid_until=end)


def test_grant_defaults_to_open_ended_and_company_wide() -> None:
    grant = _grant()
    assert grant.valid_until is None
    assert grant.business_unit_id is None
    assert grant.granted_by == ""


def test_grant_window_is_half_open() -> None:
    grant = _grant(T0, T0 + HOUR)
    assert not grant.active_at(T0 - timedelta(microseconds=1))
    assert grant.active_at(T0)
    assert grant.active_at(T0 + HOUR - timedelta(microseconds=1))
    assert not grant.active_at(T0 + HOUR)
    assert not grant.active_at(T0 + 2 * HOUR)


def test_open_ended_grant_is_active_forever_after_start() -> None:
    grant = _grant(T0)
    assert grant.active_at(T0 + timedelta(days=365 * 50))
    assert not grant.active_at(T0 - HOUR)


def test_grant_times_are_stored_in_utc_and_compare_as_instants() -> None:
    berlin = timezone(timedelta(hours=2))
    grant = _grant(
        datetime(2026, 5, 4, 11, 0, tzinfo=berlin), datetime(2026, 5, 4, 12, 0, tzinfo=berlin)
    )
    assert grant.valid_from == T0
    assert grant.valid_from.tzinfo is UTC
    assert grant.valid_until is not None
    assert grant.valid_until.tzinfo is UTC
    assert grant.active_at(datetime(2026, 5, 4, 5, 30, tzinfo=timezone(timedelta(hours=-4))))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 2), (1, 3), True),
        ((1, 3), (0, 2), True),
        ((0, 2), (2, 4), False),  # touching windows [a, b) and [b, c) share no instant
        ((2, 4), (0, 2), False),
        ((0, 4), (1, 2), True),
        ((0, 1), (3, 4), False),
        ((0, None), (5, 6), True),
        ((5, 6), (0, None), True),
        ((3, None), (0, 3), False),
        ((0, 3), (3, None), False),
        ((0, None), (9, None), True),
    ],
)
def test_grant_overlaps(
    a: tuple[int, int | None], b: tuple[int, int | None], *, expected: bool
) -> None:
    def window(bounds: tuple[int, int | None]) -> RoleGrant:
        start, end = bounds
        return _grant(T0 + start * HOUR, None if end is None else T0 + end * HOUR)

    assert window(a).overlaps(window(b)) is expected


def test_grant_rejects_naive_datetimes() -> None:
    with pytest.raises(ValidationError) as info:
        _grant(T0.replace(tzinfo=None))
    assert info.value.path == "valid_from"
    with pytest.raises(ValidationError) as info:
        _grant(T0, (T0 + HOUR).replace(tzinfo=None))
    assert info.value.path == "valid_until"


@pytest.mark.parametrize("end", [T0, T0 - HOUR])
def test_grant_rejects_an_empty_or_reversed_window(end: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        _grant(T0, end)
    assert info.value.path == "valid_until"


def test_grant_active_at_rejects_a_naive_instant() -> None:
    with pytest.raises(ValidationError):
        _grant().active_at(T0.replace(tzinfo=None))


def test_grant_validates_ids() -> None:
    with pytest.raises(ValidationError):
        _grant(role="")
    with pytest.raises(ValidationError) as info:
        RoleGrant(role_id=RoleId("buyer"), valid_from=T0, business_unit_id=_untyped("bad unit"))
    assert info.value.path == "business_unit_id"


# -- SoDRule -----------------------------------------------------------------------------


def test_sod_rule_needs_two_different_roles() -> None:
    with pytest.raises(ValidationError) as info:
        SoDRule(role_a=RoleId("buyer"), role_b=RoleId("buyer"))
    assert info.value.path == "role_b"


def test_sod_rule_involves_and_other() -> None:
    rule = SoDRule(role_a=RoleId("buyer"), role_b=RoleId("approver"), reason="4 eyes")
    assert rule.involves("buyer")
    assert rule.involves("approver")
    assert not rule.involves("viewer")
    assert rule.other("buyer") == "approver"
    assert rule.other("approver") == "buyer"


def test_sod_rule_validates_ids() -> None:
    with pytest.raises(ValidationError):
        SoDRule(role_a=RoleId(""), role_b=RoleId("approver"))


# -- AssistedSession ---------------------------------------------------------------------


def test_session_holds_a_permission_set_from_members_or_values() -> None:
    session = _session(permissions=[Permission.ORDERS_BUY, "quotes.request", Permission.ORDERS_BUY])
    assert session.permissions == frozenset({Permission.ORDERS_BUY, Permission.QUOTES_REQUEST})
    assert session.ended_at is None
    assert session.ended_by is None


@pytest.mark.parametrize("expires", [T0, T0 - HOUR])
def test_session_must_expire_after_it_starts(expires: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        _session(expires_at=expires)
    assert info.value.path == "expires_at"


@pytest.mark.parametrize(
    "permissions",
    [
        [Permission.APPROVALS_APPROVE],
        [Permission.ORDERS_BUY, Permission.APPROVALS_APPROVE],
        ["approvals.approve", "orders.view"],
    ],
)
def test_session_can_never_hold_approve(permissions: list[object]) -> None:
    with pytest.raises(ValidationError) as info:
        _session(permissions=permissions)
    assert info.value.path == "permissions"
    assert "approve" in str(info.value)


@pytest.mark.parametrize("empty", [[], (), set(), frozenset()])
def test_session_needs_a_permission(empty: object) -> None:
    with pytest.raises(ValidationError) as info:
        _session(permissions=empty)
    assert info.value.path == "permissions"


def test_session_rejects_unknown_permission_strings() -> None:
    with pytest.raises(ValidationError) as info:
        _session(permissions=[Permission.ORDERS_BUY, "orders.steal"])
    assert info.value.path == "permissions[1]"
    assert info.value.value == "orders.steal"


@pytest.mark.parametrize("value", ["orders.buy", None, Permission.ORDERS_BUY])
def test_session_rejects_permissions_that_are_not_a_collection(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        _session(permissions=value)
    assert info.value.path == "permissions"


@pytest.mark.parametrize("field", ["started_at", "expires_at", "ended_at"])
def test_session_rejects_naive_datetimes(field: str) -> None:
    naive = {"started_at": T0, "expires_at": T0 + HOUR, "ended_at": T0 + HOUR}[field]
    with pytest.raises(ValidationError) as info:
        _session(**{field: naive.replace(tzinfo=None)})
    assert info.value.path == field


@pytest.mark.parametrize("field", ["id", "company_id", "agent_id", "customer_user_id"])
def test_session_validates_ids(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        _session(**{field: "not an id"})
    assert info.value.path == field


def test_session_needs_a_reason() -> None:
    with pytest.raises(ValidationError) as info:
        _session(reason="  ")
    assert info.value.path == "reason"


def test_session_state_over_time() -> None:
    session = _session()
    assert session.state_at(T0 - timedelta(microseconds=1)) == "not_started"
    assert session.state_at(T0) == "active"
    assert session.state_at(T0 + HOUR - timedelta(microseconds=1)) == "active"
    assert session.state_at(T0 + HOUR) == "expired"
    assert session.state_at(T0 + 10 * HOUR) == "expired"


def test_session_ended_early() -> None:
    session = _session()
    session.end(at=T0 + HOUR / 2, by="agent-1")
    assert session.state_at(T0 + HOUR / 4) == "active"
    assert session.state_at(T0 + HOUR / 2) == "ended"
    assert session.state_at(T0 + 2 * HOUR) == "ended"  # ended wins over expired
    assert session.ended_at == T0 + HOUR / 2
    assert session.ended_by == "agent-1"


def test_session_end_is_idempotent() -> None:
    session = _session()
    session.end(at=T0 + HOUR / 2, by="agent-1")
    session.end(at=T0 + HOUR / 3, by="someone-else")
    assert session.ended_at == T0 + HOUR / 2
    assert session.ended_by == "agent-1"


def test_session_end_stores_utc_and_rejects_naive() -> None:
    session = _session()
    with pytest.raises(ValidationError):
        session.end(at=(T0 + HOUR / 2).replace(tzinfo=None), by="agent-1")
    assert session.ended_at is None
    session.end(at=datetime(2026, 5, 4, 11, 30, tzinfo=timezone(timedelta(hours=2))), by="x")
    assert session.ended_at == T0 + HOUR / 2
    assert session.ended_at is not None
    assert session.ended_at.tzinfo is UTC


def test_session_state_at_rejects_a_naive_instant() -> None:
    with pytest.raises(ValidationError):
        _session().state_at(T0.replace(tzinfo=None))


# -- Actor -------------------------------------------------------------------------------


def test_actor_user_acts_for_themselves() -> None:
    actor = Actor.user("acme", "u-ana")
    assert actor == Actor(ACME, "u-ana", UserId("u-ana"))
    assert (actor.company_id, actor.acted_by, actor.on_behalf_of) == ("acme", "u-ana", "u-ana")
    assert actor.assisted_session_id is None
    assert not actor.operator
    assert not actor.is_agent


def test_actor_assisted_is_the_agent_for_the_customer() -> None:
    session = _session()
    actor = Actor.assisted(session)
    assert actor.company_id == "acme"
    assert actor.acted_by == "agent-1"
    assert actor.on_behalf_of == "u-ana"
    assert actor.assisted_session_id == AssistedSessionId("s-1")
    assert actor.is_agent
    assert not actor.operator
    assert actor.acted_by == AgentId("agent-1")


def test_actor_operator_for_a_company() -> None:
    actor = Actor.operator_for("acme", "op-1")
    assert actor.operator
    assert actor.company_id == "acme"
    assert actor.acted_by == "op-1"
    assert actor.on_behalf_of == "op-1"
    assert not actor.is_agent


@pytest.mark.parametrize(
    ("company", "user"), [("", "u-ana"), ("acme", ""), ("acme", "u ana"), ("a b", "u")]
)
def test_actor_validates_ids(company: str, user: str) -> None:
    with pytest.raises(ValidationError):
        Actor.user(company, user)
