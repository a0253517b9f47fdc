"""Accounts model: companies, their business-unit tree and their users.

>>> from datetime import datetime, timezone
>>> from b2bcore.accounts import BusinessUnit, Company, CompanyUser
>>> acme = Company(id="acme", name="ACME Industrial GmbH", country="DE")
>>> hq = BusinessUnit(id="hq", company_id="acme", name="Headquarters")
>>> ana = CompanyUser(id="u-ana", company_id="acme", email=" Ana@ACME.example ",
...                   name="Ana", business_unit_ids=["hq"])
>>> ana.email
'ana@acme.example'
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any

import attrs

from b2bcore._validate import (
    email,
    enum_member,
    identifier,
    optional_identifier,
    optional_utc_valid_until,
    text,
    unique_ids,
    utc_valid_from,
    window_end_after_start,
)
from b2bcore.clock import require_aware, to_utc
from b2bcore.errors import ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    AgentId,
    AssistedSessionId,
    BusinessUnitId,
    CompanyId,
    RoleId,
    UserId,
)
from b2bcore.money import Money

__all__ = [
    "Actor",
    "Agent",
    "AssistedSession",
    "AssistedSessionEnded",
    "AssistedSessionStarted",
    "BusinessUnit",
    "BusinessUnitAdded",
    "BusinessUnitMoved",
    "Company",
    "CompanyCreated",
    "CompanyUser",
    "PREDEFINED_ROLES",
    "Permission",
    "Role",
    "RoleGrant",
    "RoleGranted",
    "RolePermission",
    "RoleRevoked",
    "RoleSaved",
    "SCOPE_RANK",
    "SoDRule",
    "SoDRuleAdded",
    "UserInvited",
    "UserStatus",
    "UserStatusChanged",
    "ViewScope",
    "predefined_roles",
]

_COUNTRY_RE = re.compile(r"^[A-Z]{2}\Z")


def _country(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not _COUNTRY_RE.match(value)):
        raise ValidationError(
            "must be an ISO 3166-1 alpha-2 country code such as 'DE'",
            path=attribute.name,
            value=value,
        )


# --- roles, grants, actors, assisted buying ---------------------------------------------


class Permission(enum.Enum):
    """What a role may allow. ``*_VIEW`` permissions carry a :class:`ViewScope`;
    ``ORDERS_BUY`` and ``APPROVALS_APPROVE`` may carry an amount limit
    (BUY_UP_TO, APPROVE_UP_TO)."""

    ORDERS_VIEW = "orders.view"
    INVOICES_VIEW = "invoices.view"
    CLAIMS_VIEW = "claims.view"
    ASSETS_VIEW = "assets.view"
    DOCUMENTS_VIEW = "documents.view"
    APPOINTMENTS_VIEW = "appointments.view"
    ORDERS_BUY = "orders.buy"
    QUOTES_REQUEST = "quotes.request"
    APPROVALS_APPROVE = "approvals.approve"
    CLAIMS_FILE = "claims.file"
    ASSETS_MANAGE = "assets.manage"
    DOCUMENTS_UPLOAD = "documents.upload"
    APPOINTMENTS_BOOK = "appointments.book"
    USERS_MANAGE = "users.manage"
    ROLES_MANAGE = "roles.manage"
    COMPANY_MANAGE = "company.manage"
    AUDIT_VIEW = "audit.view"

    @property
    def is_view(self) -> bool:
        """Whether this permission reads data under a view scope."""
        return self.value.endswith(".view") and self is not Permission.AUDIT_VIEW

    @property
    def takes_limit(self) -> bool:
        """Whether a grant of this permission may carry an amount limit."""
        return self in (Permission.ORDERS_BUY, Permission.APPROVALS_APPROVE)

    @property
    def is_approval(self) -> bool:
        """Approving is never allowed to an agent in an assisted session."""
        return self is Permission.APPROVALS_APPROVE


class ViewScope(enum.Enum):
    """How far a view permission reaches, narrowest first."""

    OWN = "own"
    BUSINESS_UNIT = "business_unit"  # the user's units and every unit below them
    COMPANY = "company"


SCOPE_RANK = {ViewScope.OWN: 0, ViewScope.BUSINESS_UNIT: 1, ViewScope.COMPANY: 2}


def _money_or_none(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError("must be Money or None", path=attribute.name, value=value)
    if isinstance(value, Money) and value.is_negative():
        raise ValidationError("a limit cannot be negative", path=attribute.name, value=value)


@attrs.frozen
class RolePermission:
    """One permission inside a role, with its view scope or amount limit."""

    permission: Permission = attrs.field(validator=enum_member(Permission))
    scope: ViewScope | None = attrs.field(default=None)
    limit: Money | None = attrs.field(default=None, validator=_money_or_none)

    def __attrs_post_init__(self) -> None:
        p = self.permission
        if p.is_view and self.scope is None:
            object.__setattr__(self, "scope", ViewScope.OWN)
        if not p.is_view and self.scope is not None:
            raise ValidationError(
                f"{p.value} is not a view permission and takes no scope", path="scope"
            )
        if self.scope is not None and not isinstance(self.scope, ViewScope):
            raise ValidationError("must be a ViewScope", path="scope", value=self.scope)
        if self.limit is not None and not p.takes_limit:
            raise ValidationError(
                f"{p.value} takes no amount limit (only orders.buy and approvals.approve do)",
                path="limit",
                value=self.limit,
            )

    def describe(self) -> str:
        """``orders.view (business_unit)`` / ``orders.buy up to 5000.00 EUR``."""
        if self.scope is not None:
            return f"{self.permission.value} ({self.scope.value})"
        if self.limit is not None:
            return f"{self.permission.value} up to {self.limit}"
        return self.permission.value


def _role_permissions(value: object) -> tuple[RolePermission, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a list of RolePermission", path="permissions", value=value)
    seen: dict[Permission, RolePermission] = {}
    for i, raw in enumerate(value):
        item = RolePermission(raw) if isinstance(raw, Permission) else raw
        if not isinstance(item, RolePermission):
            raise ValidationError(
                "must be a RolePermission or Permission", path=f"permissions[{i}]", value=item
            )
        if item.permission in seen:
            raise ValidationError(
                f"{item.permission.value} is listed twice", path=f"permissions[{i}]", value=item
            )
        seen[item.permission] = item
    return tuple(sorted(seen.values(), key=lambda rp: rp.permission.value))


@attrs.define
class Role(Aggregate):
    """A named set of permissions of one company (copy a predefined one to start)."""

    id: RoleId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text(max_length=80))
    permissions: tuple[RolePermission, ...] = attrs.field(converter=_role_permissions)
    description: str = ""

    def entry(self, permission: Permission) -> RolePermission | None:
        """This role's entry for ``permission``, if it has one."""
        for rp in self.permissions:
            if rp.permission is permission:
                return rp
        return None

    def copy(self, *, role_id: str, name: str, company_id: str | None = None) -> Role:
        """A new, unsaved role with the same permissions (to adapt a predefined one)."""
        return Role(
            id=RoleId(role_id),
            company_id=CompanyId(company_id or self.company_id),
            name=name,
            permissions=self.permissions,
            description=self.description,
        )

    def with_permission(
        self, permission: Permission, *, scope: ViewScope | None = None, limit: Money | None = None
    ) -> None:
        """Add or replace one permission entry (e.g. set a BUY_UP_TO limit)."""
        entry = RolePermission(permission, scope=scope, limit=limit)
        others = [rp for rp in self.permissions if rp.permission is not permission]
        self.permissions = _role_permissions([*others, entry])

    def without_permission(self, permission: Permission) -> None:
        """Remove ``permission`` from the role (no error if it was not there)."""
        self.permissions = tuple(rp for rp in self.permissions if rp.permission is not permission)


_VIEWS = (
    Permission.ORDERS_VIEW,
    Permission.INVOICES_VIEW,
    Permission.CLAIMS_VIEW,
    Permission.ASSETS_VIEW,
    Permission.DOCUMENTS_VIEW,
    Permission.APPOINTMENTS_VIEW,
)

#: The predefined roles every company starts from: (id, name, description, entries).
PREDEFINED_ROLES: tuple[tuple[str, str, str, tuple[RolePermission, ...]], ...] = (
    (
        "buyer",
        "Buyer",
        (
            "Orders, quotes, claims, assets, documents and service bookings; sees their own "
            "business unit's records."
        ),
        (
            *(RolePermission(p, scope=ViewScope.BUSINESS_UNIT) for p in _VIEWS),
            RolePermission(Permission.ORDERS_BUY),
            RolePermission(Permission.QUOTES_REQUEST),
            RolePermission(Permission.CLAIMS_FILE),
            RolePermission(Permission.ASSETS_MANAGE),
            RolePermission(Permission.DOCUMENTS_UPLOAD),
            RolePermission(Permission.APPOINTMENTS_BOOK),
        ),
    ),
    (
        "approver",
        "Approver",
        "Approves purchases of their business units; sees their records.",
        (
            *(RolePermission(p, scope=ViewScope.BUSINESS_UNIT) for p in _VIEWS),
            RolePermission(Permission.APPROVALS_APPROVE),
        ),
    ),
    (
        "company_admin",
        "Company administrator",
        "Manages users, roles and business units; sees everything of the company.",
        (
            *(RolePermission(p, scope=ViewScope.COMPANY) for p in _VIEWS),
            RolePermission(Permission.USERS_MANAGE),
            RolePermission(Permission.ROLES_MANAGE),
            RolePermission(Permission.COMPANY_MANAGE),
            RolePermission(Permission.AUDIT_VIEW),
        ),
    ),
    (
        "viewer",
        "Viewer",
        "Reads their own orders, invoices, claims, assets, documents and appointments.",
        tuple(RolePermission(p, scope=ViewScope.OWN) for p in _VIEWS),
    ),
)


def predefined_roles(company_id: str) -> list[Role]:
    """Fresh copies of the predefined roles (buyer, approver, company admin, viewer)
    for ``company_id``, ready to adapt and store.

    >>> [r.id for r in predefined_roles("acme")]
    ['buyer', 'approver', 'company_admin', 'viewer']
    """
    return [
        Role(
            id=RoleId(rid),
            company_id=CompanyId(company_id),
            name=name,
            permissions=entries,
            description=description,
        )
        for rid, name, description, entries in PREDEFINED_ROLES
    ]


def _utc_started_at(value: datetime) -> datetime:
    return to_utc(value, path="started_at")


def _utc_expires_at(value: datetime) -> datetime:
    return to_utc(value, path="expires_at")


def _opt_utc_ended_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, path="ended_at")


@attrs.frozen
class RoleGrant:
    """A role given to a user, optionally only for one business unit (and its subtree),
    valid in the half-open window ``[valid_from, valid_until)``."""

    role_id: RoleId = attrs.field(validator=identifier)
    valid_from: datetime = attrs.field(converter=utc_valid_from)
    valid_until: datetime | None = attrs.field(
        default=None, converter=optional_utc_valid_until, validator=window_end_after_start
    )
    business_unit_id: BusinessUnitId | None = attrs.field(
        default=None, validator=optional_identifier
    )
    granted_by: str = ""

    def active_at(self, at: datetime) -> bool:
        """Whether ``at`` falls in the validity window."""
        at = require_aware(at, path="at")
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def overlaps(self, other: RoleGrant) -> bool:
        """Whether both windows share at least one instant."""
        a_end, b_end = self.valid_until, other.valid_until
        return (b_end is None or self.valid_from < b_end) and (
            a_end is None or other.valid_from < a_end
        )


def _grants(value: object) -> tuple[RoleGrant, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of RoleGrant", path="grants", value=value)
    for i, g in enumerate(value):
        if not isinstance(g, RoleGrant):
            raise ValidationError("must be a RoleGrant", path=f"grants[{i}]", value=g)
    return tuple(value)


def _sod_rules(value: object) -> tuple[SoDRule, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of SoDRule", path="sod_rules", value=value)
    for i, r in enumerate(value):
        if not isinstance(r, SoDRule):
            raise ValidationError("must be a SoDRule", path=f"sod_rules[{i}]", value=r)
    return tuple(value)


@attrs.frozen
class SoDRule:
    """Separation of duties: one user may not hold both roles at overlapping times."""

    role_a: RoleId = attrs.field(validator=identifier)
    role_b: RoleId = attrs.field(validator=identifier)
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if self.role_a == self.role_b:
            raise ValidationError(
                "a separation-of-duties rule needs two different roles", path="role_b"
            )

    def involves(self, role_id: str) -> bool:
        """Whether ``role_id`` is one side of this rule."""
        return role_id in (self.role_a, self.role_b)

    def other(self, role_id: str) -> RoleId:
        """The role on the other side of ``role_id``."""
        return self.role_b if role_id == self.role_a else self.role_a


@attrs.define
class Company(Aggregate):
    """A customer (buyer) company: the tenant boundary of every query."""

    id: CompanyId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    country: str | None = attrs.field(default=None, validator=_country)
    sod_rules: tuple[SoDRule, ...] = attrs.field(factory=tuple, converter=_sod_rules)

    def rename(self, name: str) -> None:
        """Change the display name (validated)."""
        self.name = attrs.evolve(self, name=name).name


@attrs.define
class BusinessUnit(Aggregate):
    """A node of a company's business-unit tree (``parent_id`` None = a root).

    Cycles are rejected by :func:`b2bcore.accounts.rules.check_tree` when a unit is
    added or moved; a unit never belongs to another company than its parent.
    """

    id: BusinessUnitId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    parent_id: BusinessUnitId | None = attrs.field(default=None, validator=optional_identifier)
    cost_center: str | None = attrs.field(default=None)

    @parent_id.validator
    def _not_own_parent(self, _attribute: attrs.Attribute[Any], value: object) -> None:
        # Validators run after every field is set, and again on assignment.
        if value is not None and value == self.id:
            raise ValidationError(
                f"business unit {self.id!r} cannot be its own parent",
                path="parent_id",
                value=value,
            )


class UserStatus(enum.Enum):
    """Lifecycle of a company user."""

    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


def _bu_ids(value: object) -> tuple[BusinessUnitId, ...]:
    ids = unique_ids(value, path="business_unit_ids")
    if not ids:
        raise ValidationError(
            "a user belongs to at least one business unit", path="business_unit_ids", value=value
        )
    return tuple(BusinessUnitId(i) for i in ids)


@attrs.define
class CompanyUser(Aggregate):
    """A person of a buyer company; e-mail unique within the company (case-insensitive)."""

    id: UserId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    email: str = attrs.field(converter=email)
    name: str = attrs.field(validator=text())
    business_unit_ids: tuple[BusinessUnitId, ...] = attrs.field(converter=_bu_ids)
    status: UserStatus = attrs.field(default=UserStatus.INVITED, validator=enum_member(UserStatus))
    grants: tuple[RoleGrant, ...] = attrs.field(factory=tuple, converter=_grants)

    def active_grants(self, at: datetime) -> list[RoleGrant]:
        """The grants valid at instant ``at``."""
        return [g for g in self.grants if g.active_at(at)]


@attrs.define
class Agent(Aggregate):
    """A seller-side sales or service agent: not a company user, may assist any buyer."""

    id: AgentId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    email: str = attrs.field(converter=email)
    active: bool = True


def _permission_set(value: object) -> frozenset[Permission]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a set of Permission", path="permissions", value=value)
    out = set()
    for i, item in enumerate(value):
        try:
            out.add(Permission(item))
        except ValueError:
            raise ValidationError(
                f"{item!r} is not a permission", path=f"permissions[{i}]", value=item
            ) from None
    if not out:
        raise ValidationError(
            "an assisted session needs at least one permission", path="permissions"
        )
    return frozenset(out)


@attrs.define
class AssistedSession(Aggregate):
    """An agent acting for a customer user (assisted buying), for a reason, with a
    subset of permissions, until it expires or is ended. Approving is never allowed."""

    id: AssistedSessionId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    agent_id: AgentId = attrs.field(validator=identifier)
    customer_user_id: UserId = attrs.field(validator=identifier)
    reason: str = attrs.field(validator=text(max_length=500))
    permissions: frozenset[Permission] = attrs.field(converter=_permission_set)
    started_at: datetime = attrs.field(converter=_utc_started_at)
    expires_at: datetime = attrs.field(converter=_utc_expires_at)
    ended_at: datetime | None = attrs.field(default=None, converter=_opt_utc_ended_at)
    ended_by: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.expires_at <= self.started_at:
            raise ValidationError(
                "an assisted session must expire after it starts", path="expires_at"
            )
        if Permission.APPROVALS_APPROVE in self.permissions:
            raise ValidationError(
                "an agent can never approve: approvals.approve cannot be delegated to a session",
                path="permissions",
                value=Permission.APPROVALS_APPROVE.value,
            )

    def state_at(self, at: datetime) -> str:
        """``active``, ``ended``, ``expired`` or ``not_started`` at instant ``at``."""
        at = require_aware(at, path="at")
        if self.ended_at is not None and self.ended_at <= at:
            return "ended"
        if at >= self.expires_at:
            return "expired"
        if at < self.started_at:
            return "not_started"
        return "active"

    def end(self, *, at: datetime, by: str) -> None:
        """End the session now (idempotent: ending an ended session changes nothing)."""
        if self.ended_at is None:
            self.ended_at = to_utc(at, path="at")
            self.ended_by = by


@attrs.frozen
class Actor:
    """Who acts (``acted_by``) and for whom (``on_behalf_of``), in which company.

    A user acting for themselves: ``Actor.user(company_id, user_id)``. An agent in an
    assisted session: ``Actor.assisted(session)`` (acted_by is the agent, on_behalf_of
    the customer). The platform operator who onboards companies:
    ``Actor.operator_for(company_id, operator_id)``.
    """

    company_id: CompanyId = attrs.field(validator=identifier)
    acted_by: str = attrs.field(validator=identifier)
    on_behalf_of: UserId = attrs.field(validator=identifier)
    assisted_session_id: AssistedSessionId | None = attrs.field(
        default=None, validator=optional_identifier
    )
    operator: bool = False

    @classmethod
    def user(cls, company_id: str, user_id: str) -> Actor:
        """A company user acting for themselves."""
        return cls(CompanyId(company_id), user_id, UserId(user_id))

    @classmethod
    def assisted(cls, session: AssistedSession) -> Actor:
        """The agent of ``session`` acting for its customer user."""
        return cls(session.company_id, session.agent_id, session.customer_user_id, session.id)

    @classmethod
    def operator_for(cls, company_id: str, operator_id: str) -> Actor:
        """A platform operator administering ``company_id`` (onboarding, support)."""
        return cls(CompanyId(company_id), operator_id, UserId(operator_id), None, operator=True)

    @property
    def is_agent(self) -> bool:
        """Whether an agent acts in an assisted session."""
        return self.assisted_session_id is not None


@register_event
@attrs.frozen(kw_only=True)
class CompanyCreated(DomainEvent):
    """A company was registered."""

    event_type = "accounts.company_created"
    name: str


@register_event
@attrs.frozen(kw_only=True)
class BusinessUnitAdded(DomainEvent):
    """A business unit was added to a company's tree."""

    event_type = "accounts.business_unit_added"
    business_unit_id: BusinessUnitId
    parent_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class BusinessUnitMoved(DomainEvent):
    """A business unit got a new parent."""

    event_type = "accounts.business_unit_moved"
    business_unit_id: BusinessUnitId
    old_parent_id: BusinessUnitId | None
    new_parent_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class UserInvited(DomainEvent):
    """A user was invited into a company."""

    event_type = "accounts.user_invited"
    user_id: UserId
    email: str


@register_event
@attrs.frozen(kw_only=True)
class RoleSaved(DomainEvent):
    """A role was created or its permissions changed."""

    event_type = "accounts.role_saved"
    role_id: RoleId
    permissions: tuple[str, ...]


@register_event
@attrs.frozen(kw_only=True)
class RoleGranted(DomainEvent):
    """A user was given a role (optionally for one business unit, for a window)."""

    event_type = "accounts.role_granted"
    user_id: UserId
    role_id: RoleId
    business_unit_id: BusinessUnitId | None
    valid_from: datetime
    valid_until: datetime | None


@register_event
@attrs.frozen(kw_only=True)
class RoleRevoked(DomainEvent):
    """A user's role grant was taken away."""

    event_type = "accounts.role_revoked"
    user_id: UserId
    role_id: RoleId
    business_unit_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class SoDRuleAdded(DomainEvent):
    """A separation-of-duties rule was declared for the company."""

    event_type = "accounts.sod_rule_added"
    role_a: RoleId
    role_b: RoleId


@register_event
@attrs.frozen(kw_only=True)
class UserStatusChanged(DomainEvent):
    """A user was activated or disabled."""

    event_type = "accounts.user_status_changed"
    user_id: UserId
    status: str


@register_event
@attrs.frozen(kw_only=True)
class AssistedSessionStarted(DomainEvent):
    """An agent started acting for a customer user."""

    event_type = "accounts.assisted_session_started"
    session_id: AssistedSessionId
    agent_id: AgentId
    customer_user_id: UserId
    reason: str
    expires_at: datetime


@register_event
@attrs.frozen(kw_only=True)
class AssistedSessionEnded(DomainEvent):
    """An assisted session was ended before it expired."""

    event_type = "accounts.assisted_session_ended"
    session_id: AssistedSessionId
    ended_by: str
