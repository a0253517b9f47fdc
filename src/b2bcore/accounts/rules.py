"""Pure rules of the accounts context: the business-unit tree.

>>> from b2bcore.accounts import BusinessUnit
>>> from b2bcore.accounts.rules import check_tree, descendants
>>> units = [BusinessUnit(id="hq", company_id="acme", name="HQ"),
...          BusinessUnit(id="plant", company_id="acme", name="Plant", parent_id="hq"),
...          BusinessUnit(id="line-1", company_id="acme", name="Line 1", parent_id="plant")]
>>> check_tree(units)
>>> sorted(descendants(units, "hq"))
['hq', 'line-1', 'plant']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from b2bcore.accounts.model import (
    SCOPE_RANK,
    Actor,
    AssistedSession,
    BusinessUnit,
    Company,
    CompanyUser,
    Permission,
    Role,
    RoleGrant,
    RolePermission,
    SoDRule,
    UserStatus,
    ViewScope,
)
from b2bcore.clock import require_aware
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId
from b2bcore.money import Money

__all__ = [
    "Access",
    "AccessDecision",
    "GrantFinding",
    "PermissionExplanation",
    "Resource",
    "ancestors",
    "authorize",
    "check_membership",
    "check_tree",
    "descendants",
    "explain_permission",
]


def check_tree(units: Iterable[BusinessUnit]) -> None:
    """Check that ``units`` form a forest inside one company.

    Raises ValidationError when units of several companies are mixed or a parent
    chain loops, and NotFoundError when a parent is missing. The message names the
    units of the loop.
    """
    by_id: dict[str, BusinessUnit] = {}
    companies = set()
    for u in units:
        by_id[u.id] = u
        companies.add(u.company_id)
    if len(companies) > 1:
        raise ValidationError(
            f"business units of several companies in one tree: {sorted(companies)}",
            path="company_id",
        )
    for start in by_id:
        seen: list[str] = []
        current: str | None = start
        while current is not None:
            if current in seen:
                loop = [*seen[seen.index(current) :], current]
                raise ValidationError(
                    "business units would form a cycle: " + " -> ".join(loop),
                    path="parent_id",
                    value=loop,
                )
            seen.append(current)
            unit = by_id.get(current)
            if unit is None:
                raise NotFoundError("business unit", current)
            current = unit.parent_id


def ancestors(units: Iterable[BusinessUnit], unit_id: BusinessUnitId | str) -> list[BusinessUnitId]:
    """Ids from ``unit_id``'s parent up to the root (nearest first)."""
    by_id: dict[str, BusinessUnit] = {u.id: u for u in units}
    if unit_id not in by_id:
        raise NotFoundError("business unit", unit_id)
    out: list[BusinessUnitId] = []
    parent = by_id[unit_id].parent_id
    while parent is not None and parent not in out and parent != unit_id:
        out.append(parent)
        parent = by_id[parent].parent_id if parent in by_id else None
    return out


def descendants(
    units: Iterable[BusinessUnit], unit_id: BusinessUnitId | str
) -> set[BusinessUnitId]:
    """``unit_id`` and every unit below it."""
    children: dict[str | None, list[BusinessUnitId]] = {}
    known: set[str] = set()
    for u in units:
        children.setdefault(u.parent_id, []).append(u.id)
        known.add(u.id)
    if unit_id not in known:
        raise NotFoundError("business unit", unit_id)
    out: set[BusinessUnitId] = {BusinessUnitId(unit_id)}
    stack = [unit_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


# --- authorization ---------------------------------------------------------------------

_ADMIN_PERMISSIONS = frozenset(
    {
        Permission.USERS_MANAGE,
        Permission.ROLES_MANAGE,
        Permission.COMPANY_MANAGE,
        Permission.AUDIT_VIEW,
    }
)

# When every grant denies, the reported reason is the most telling one.
_DENIAL_PRIORITY = (
    "over_limit",
    "currency_mismatch",
    "outside_view_scope",
    "wrong_business_unit",
    "expired",
    "not_yet_valid",
    "not_in_role",
    "role_missing",
)


@attrs.frozen
class Resource:
    """What an action touches, as far as authorization cares.

    ``owner_id`` is the user it belongs to (an order's requester); ``business_unit_id``
    the unit it is booked on. Both are optional; view scopes need them to match.
    """

    kind: str
    id: str
    company_id: CompanyId
    owner_id: str | None = None
    business_unit_id: BusinessUnitId | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@attrs.frozen
class Access:
    """What authorization needs to know, loaded fresh in the command's unit of work:
    the user acted for, the company's roles, business units and SoD rules, and the
    assisted session when an agent acts — and the company itself, when the loader
    read it.

    What the portal's commands load here may be shared with other commands
    (b2bcore's own stores reuse an unchanged document's object): read it, never
    change it.
    """

    user: CompanyUser | None
    roles: Mapping[str, Role]
    units: tuple[BusinessUnit, ...] = ()
    sod_rules: tuple[SoDRule, ...] = ()
    session: AssistedSession | None = None
    company: Company | None = None


@attrs.frozen
class AccessDecision:
    """The answer of :func:`authorize`. Truthy when allowed."""

    allowed: bool
    permission: Permission
    code: str
    reason: str
    role_id: RoleId | None = None
    grant: RoleGrant | None = None
    entry: RolePermission | None = None

    def __bool__(self) -> bool:
        return self.allowed


@attrs.frozen
class GrantFinding:
    """How one role grant of the user judged the request."""

    grant: RoleGrant
    role_name: str
    allowed: bool
    code: str
    reason: str


@attrs.frozen
class PermissionExplanation:
    """The decision plus every check and every grant that led to it."""

    decision: AccessDecision
    checks: tuple[str, ...]
    findings: tuple[GrantFinding, ...]

    def text(self) -> str:
        """A multi-line explanation a person can read."""
        verdict = "ALLOWED" if self.decision.allowed else "DENIED"
        lines = [f"{verdict} {self.decision.permission.value}: {self.decision.reason}"]
        lines += [f"  check: {c}" for c in self.checks]
        for f in self.findings:
            mark = "+" if f.allowed else "-"
            unit = f" in {f.grant.business_unit_id}" if f.grant.business_unit_id else ""
            lines.append(f"  {mark} role {f.role_name!r}{unit}: {f.reason}")
        return "\n".join(lines)


Failure = tuple[str, str]  # (code, reason)


def _deny(permission: Permission, code: str, reason: str) -> AccessDecision:
    return AccessDecision(allowed=False, permission=permission, code=code, reason=reason)


def _subtree(units: Sequence[BusinessUnit], roots: Iterable[str]) -> set[str]:
    out: set[str] = set()
    known = {u.id for u in units}
    for root in roots:
        if root in known:
            out |= descendants(units, root)
    return out


@attrs.frozen
class _Request:
    actor: Actor
    permission: Permission
    access: Access
    resource: Resource | None
    amount: Money | None
    at: datetime


def _check_window(grant: RoleGrant, at: datetime) -> Failure | None:
    if at < grant.valid_from:
        return "not_yet_valid", f"grant starts {grant.valid_from.isoformat()}"
    if grant.valid_until is not None and at >= grant.valid_until:
        return "expired", f"grant expired {grant.valid_until.isoformat()}"
    return None


def _check_grant_unit(grant: RoleGrant, req: _Request) -> Failure | None:
    if grant.business_unit_id is None:
        return None
    resource = req.resource
    limited = f"grant is limited to business unit {grant.business_unit_id!r} and below"
    if resource is None or resource.business_unit_id is None:
        return "wrong_business_unit", f"{limited}; the request names no business unit"
    if resource.business_unit_id not in _subtree(req.access.units, [grant.business_unit_id]):
        return "wrong_business_unit", f"{limited}; {resource} is in {resource.business_unit_id!r}"
    return None


def _check_view_scope(grant: RoleGrant, entry: RolePermission, req: _Request) -> Failure | None:
    resource = req.resource
    if not req.permission.is_view or resource is None:
        return None
    if resource.owner_id == req.actor.on_behalf_of or entry.scope is ViewScope.COMPANY:
        return None
    if entry.scope is ViewScope.BUSINESS_UNIT:
        user = req.access.user
        roots = (
            [grant.business_unit_id]
            if grant.business_unit_id
            else list(user.business_unit_ids if user is not None else ())
        )
        if resource.business_unit_id in _subtree(req.access.units, roots):
            return None
        return (
            "outside_view_scope",
            f"may view {resource.kind}s of business units {sorted(roots)} and below",
        )
    return "outside_view_scope", f"may view only own {resource.kind}s"


def _check_limit(entry: RolePermission, amount: Money | None) -> Failure | None:
    if amount is None or entry.limit is None:
        return None
    if amount.currency != entry.limit.currency:
        return (
            "currency_mismatch",
            f"limit is in {entry.limit.currency}, the amount in {amount.currency}",
        )
    if amount > entry.limit:
        return "over_limit", f"{amount} is over the limit of {entry.limit}"
    return None


def _judge_grant(grant: RoleGrant, req: _Request) -> tuple[GrantFinding, RolePermission | None]:
    role = req.access.roles.get(grant.role_id)
    name = role.name if role is not None else grant.role_id
    entry = role.entry(req.permission) if role is not None else None
    failure: Failure | None
    if role is None:
        failure = "role_missing", f"role {grant.role_id!r} no longer exists"
    elif entry is None:
        failure = _check_window(grant, req.at) or (
            "not_in_role",
            f"role does not include {req.permission.value}",
        )
    else:
        failure = (
            _check_window(grant, req.at)
            or _check_grant_unit(grant, req)
            or _check_view_scope(grant, entry, req)
            or _check_limit(entry, req.amount)
        )
    if failure is None:
        assert entry is not None
        finding = GrantFinding(
            grant=grant,
            role_name=name,
            allowed=True,
            code="allowed",
            reason=f"grants {entry.describe()}",
        )
    else:
        finding = GrantFinding(
            grant=grant, role_name=name, allowed=False, code=failure[0], reason=failure[1]
        )
    return finding, entry


def _check_session_state(req: _Request) -> Failure | None:
    actor, s = req.actor, req.access.session
    if s is None or s.id != actor.assisted_session_id:
        return "session_missing", f"assisted session {actor.assisted_session_id!r} not found"
    if (
        s.agent_id != actor.acted_by
        or s.customer_user_id != actor.on_behalf_of
        or s.company_id != actor.company_id
    ):
        return "session_mismatch", "the session belongs to another agent, customer or company"
    state = s.state_at(req.at)
    if state != "active":
        return f"session_{state}", f"assisted session {s.id!r} is {state.replace('_', ' ')}"
    return None


def _check_session(req: _Request) -> Failure | None:
    failure = _check_session_state(req)
    if failure is not None:
        return failure
    s, permission = req.access.session, req.permission
    assert s is not None
    if permission.is_approval:
        return "agent_cannot_approve", "an agent in an assisted session can never approve"
    if permission not in s.permissions:
        permitted = ", ".join(sorted(p.value for p in s.permissions))
        return (
            "agent_restricted",
            f"{permission.value} is outside the session's permissions ({permitted})",
        )
    return None


def _check_member(req: _Request) -> Failure | None:
    user, actor = req.access.user, req.actor
    if user is None or user.id != actor.on_behalf_of or user.company_id != actor.company_id:
        return "unknown_user", f"user {actor.on_behalf_of!r} is not a user of this company"
    if user.status is UserStatus.DISABLED:
        return "user_disabled", f"user {user.id!r} is disabled"
    return None


def _check_user(req: _Request) -> Failure | None:
    failure = _check_member(req)
    if failure is not None:
        return failure
    user = req.access.user
    assert user is not None
    held = {g.role_id for g in user.grants if g.active_at(req.at)}
    for rule in req.access.sod_rules:
        if rule.role_a in held and rule.role_b in held:
            both = f"{rule.role_a!r} and {rule.role_b!r}"
            return "sod", f"user holds both {both}, which separation of duties forbids"
    return None


def _precheck(req: _Request) -> tuple[Failure | None, list[str], bool]:
    """Checks before any grant is looked at: (failure, notes, operator_allowed)."""
    notes: list[str] = []
    resource, actor, permission = req.resource, req.actor, req.permission
    if resource is not None and resource.company_id != actor.company_id:
        return ("other_company", f"{resource} belongs to another company"), notes, False
    if actor.operator:
        if permission in _ADMIN_PERMISSIONS:
            notes.append("platform operators may administer accounts")
            return None, notes, True
        return ("operator_restricted", "platform operators only administer accounts"), notes, False
    if actor.is_agent:
        failure = _check_session(req)
        if failure is not None:
            return failure, notes, False
        notes.append(f"assisted session {actor.assisted_session_id!r} permits {permission.value}")
    return _check_user(req), notes, False


def check_membership(actor: Actor, *, access: Access, at: datetime) -> Failure | None:
    """Whether ``actor`` may do what any member of its company may (read-only lookups):
    ``None`` for a platform operator, an enabled user of the company, or an agent in an
    active assisted session matching the actor; otherwise ``(code, reason)`` of the
    refusal, with the same codes as :func:`authorize`. No grant or permission is
    looked at.
    """
    req = _Request(
        actor, Permission.COMPANY_MANAGE, access, None, None, require_aware(at, path="at")
    )
    if actor.operator:
        return None
    if actor.is_agent:
        failure = _check_session_state(req)
        if failure is not None:
            return failure
    return _check_member(req)


def explain_permission(
    actor: Actor,
    permission: Permission,
    *,
    access: Access,
    resource: Resource | None = None,
    amount: Money | None = None,
    at: datetime,
) -> PermissionExplanation:
    """Decide like :func:`authorize` and say which grant allowed or denied it, and why."""
    if not isinstance(permission, Permission):
        raise ValidationError("must be a Permission", path="permission", value=permission)
    if amount is not None and not isinstance(amount, Money):
        raise ValidationError("must be Money", path="amount", value=amount)
    req = _Request(actor, permission, access, resource, amount, require_aware(at, path="at"))
    failure, notes, operator_ok = _precheck(req)
    if operator_ok:
        decision = AccessDecision(
            allowed=True, permission=permission, code="operator", reason=notes[-1]
        )
        return PermissionExplanation(decision, tuple(notes), ())
    if failure is not None:
        notes.append(failure[1])
        return PermissionExplanation(_deny(permission, *failure), tuple(notes), ())
    assert access.user is not None
    judged = [_judge_grant(g, req) for g in access.user.grants]
    findings = tuple(f for f, _ in judged)
    allowed = [(f, e) for f, e in judged if f.allowed]
    if allowed:
        best, entry = max(allowed, key=lambda fe: _breadth(fe[1]))
        decision = AccessDecision(
            allowed=True,
            permission=permission,
            code="allowed",
            reason=f"role {best.role_name!r} {best.reason}",
            role_id=best.grant.role_id,
            grant=best.grant,
            entry=entry,
        )
    elif not findings:
        decision = _deny(permission, "no_grant", f"user {access.user.id!r} holds no roles")
    else:
        worst = min(findings, key=lambda f: _DENIAL_PRIORITY.index(f.code))
        decision = _deny(permission, worst.code, f"role {worst.role_name!r}: {worst.reason}")
    return PermissionExplanation(decision, tuple(notes), findings)


def _breadth(entry: RolePermission | None) -> tuple[int, Decimal]:
    if entry is None:
        return (0, Decimal(0))
    rank = SCOPE_RANK[entry.scope] if entry.scope is not None else 0
    return (rank, Decimal("Infinity") if entry.limit is None else entry.limit.amount)


def authorize(
    actor: Actor,
    permission: Permission,
    *,
    access: Access,
    resource: Resource | None = None,
    amount: Money | None = None,
    at: datetime,
) -> AccessDecision:
    """Whether ``actor`` may do ``permission`` (on ``resource``, for ``amount``) at ``at``.

    Pure: everything comes in as arguments. See :func:`explain_permission` for why.
    """
    return explain_permission(
        actor, permission, access=access, resource=resource, amount=amount, at=at
    ).decision
