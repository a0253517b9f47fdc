"""Use-cases of the accounts context, each authorized and audited.

Every method takes the :class:`~b2bcore.accounts.model.Actor` who acts; the tenant is
always the actor's company (there is no separate ``company_id`` to get wrong). Each
command runs in one unit of work: authorization, the change, its events and its
audit line commit together; a denial or a failure is audited on its own and
nothing of the change is kept.

b2bcore authorizes; it does not authenticate. The embedding application decides
who is calling and builds the :class:`~b2bcore.accounts.model.Actor` for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from b2bcore._command import Command, execute, load_access, member_query, query
from b2bcore.accounts.model import (
    Actor,
    Agent,
    AssistedSession,
    AssistedSessionEnded,
    AssistedSessionStarted,
    BusinessUnit,
    BusinessUnitAdded,
    BusinessUnitMoved,
    Company,
    CompanyCreated,
    CompanyUser,
    Permission,
    Role,
    RoleGrant,
    RoleGranted,
    RolePermission,
    RoleRevoked,
    RoleSaved,
    SoDRule,
    SoDRuleAdded,
    UserInvited,
    UserStatus,
    UserStatusChanged,
    ViewScope,
    predefined_roles,
)
from b2bcore.accounts.rules import (
    AccessDecision,
    PermissionExplanation,
    Resource,
    check_tree,
    explain_permission,
)
from b2bcore.audit import PLATFORM_AUDIT, AuditEntry, Outcome
from b2bcore.clock import Clock, require_aware
from b2bcore.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import (
    AgentId,
    AssistedSessionId,
    BusinessUnitId,
    CompanyId,
    RoleId,
    UserId,
    as_id,
    as_ids,
    new_id,
)
from b2bcore.money import Money
from b2bcore.paging import DEFAULT_LIMIT, Page, iterate
from b2bcore.storage.ports import UnitOfWork

__all__ = ["AccountsService", "MAX_ASSISTED_SESSION"]

#: The longest an assisted session may last.
MAX_ASSISTED_SESSION = timedelta(hours=12)


def _user_resource(user: CompanyUser) -> Resource:
    return Resource(
        kind="user",
        id=user.id,
        company_id=user.company_id,
        owner_id=user.id,
        business_unit_id=user.business_unit_ids[0],
    )


def _record_saved(role: Role, at: datetime) -> None:
    role.record(
        RoleSaved(
            company_id=role.company_id,
            occurred_at=at,
            role_id=role.id,
            permissions=tuple(rp.describe() for rp in role.permissions),
        )
    )


def _grants_clash(a: RoleGrant, b: RoleGrant) -> bool:
    return a.overlaps(b)


class AccountsService:
    """Accounts use-cases over any store (via a unit-of-work factory)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = unit_of_work
        self._clock = clock

    # -- companies (platform operators) -----------------------------------------------
    def create_company(
        self,
        actor: Actor,
        *,
        name: str,
        country: str | None = None,
        root_unit_id: str = "hq",
        root_unit_name: str = "Headquarters",
        admin_email: str | None = None,
        admin_name: str | None = None,
        admin_user_id: str | None = None,
    ) -> Company:
        """Onboard a buyer company (a platform operator's command).

        The company gets ``actor.company_id`` as id, a root business unit, the
        predefined roles (buyer, approver, company admin, viewer) to adapt, and —
        when ``admin_email`` is given — a first user holding the company admin role.
        """
        if not isinstance(actor, Actor) or not actor.operator:
            raise PermissionDeniedError(
                "only a platform operator (Actor.operator_for) can create companies",
                permission="company.create",
                actor=getattr(actor, "acted_by", ""),
                decision_code="operator_required",
            )
        at = self._clock.now()
        cid = actor.company_id
        company = Company(id=cid, name=name, country=country)
        company.record(CompanyCreated(company_id=cid, occurred_at=at, name=name))
        root = BusinessUnit(
            id=as_id(BusinessUnitId, root_unit_id, path="root_unit_id"),
            company_id=cid,
            name=root_unit_name,
        )
        root.record(
            BusinessUnitAdded(
                company_id=cid, occurred_at=at, business_unit_id=root.id, parent_id=None
            )
        )
        admin: CompanyUser | None = None
        if admin_email is not None:
            admin = CompanyUser(
                id=as_id(UserId, admin_user_id or new_id(), path="admin_user_id"),
                company_id=cid,
                email=admin_email,
                name=admin_name or admin_email,
                business_unit_ids=(root.id,),
                status=UserStatus.ACTIVE,
                grants=(
                    RoleGrant(
                        role_id=RoleId("company_admin"), valid_from=at, granted_by=actor.acted_by
                    ),
                ),
            )
            admin.record(
                UserInvited(company_id=cid, occurred_at=at, user_id=admin.id, email=admin.email)
            )
        with self._uow() as uow:
            uow.companies.add(company)
            uow.business_units.add(root)
            for role in predefined_roles(cid):
                uow.roles.add(role)
            if admin is not None:
                uow.users.add(admin)
            uow.audit.append(
                AuditEntry(
                    company_id=cid,
                    at=at,
                    acted_by=actor.acted_by,
                    on_behalf_of=actor.on_behalf_of,
                    action="company.create",
                    target=f"company:{cid}",
                    outcome=Outcome.ALLOWED,
                    detail=f"admin {admin.email}" if admin is not None else "",
                )
            )
            uow.commit()
        return company

    def get_company(self, actor: Actor) -> Company:
        """The actor's company (any user, agent or operator of it may read it)."""
        return member_query(
            self._uow,
            self._clock,
            actor,
            action="company.read",
            target="company",
            body=lambda cmd: cmd.uow.companies.get(cmd.actor.company_id),
        )

    # -- business units ---------------------------------------------------------------
    def add_business_unit(
        self,
        actor: Actor,
        *,
        name: str,
        parent_id: str,
        unit_id: str | None = None,
        cost_center: str | None = None,
    ) -> BusinessUnit:
        """Add a unit under ``parent_id`` (needs company.manage for the parent)."""
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        pid = as_id(BusinessUnitId, parent_id, path="parent_id")
        uid = as_id(BusinessUnitId, new_id() if unit_id is None else unit_id, path="unit_id")
        unit = BusinessUnit(
            id=uid, company_id=cid, name=name, parent_id=pid, cost_center=cost_center
        )

        def body(cmd: Command) -> BusinessUnit:
            cmd.uow.business_units.get(pid, company_id=cid)
            unit.record(
                BusinessUnitAdded(
                    company_id=cid, occurred_at=cmd.at, business_unit_id=uid, parent_id=pid
                )
            )
            cmd.uow.business_units.add(unit)
            return unit

        return execute(
            self._uow,
            self._clock,
            actor,
            action="business_unit.add",
            target=f"business_unit:{uid}",
            permission=Permission.COMPANY_MANAGE,
            resource=Resource("business_unit", pid, cid, business_unit_id=pid),
            body=body,
        )

    def move_business_unit(
        self, actor: Actor, *, unit_id: str, new_parent_id: str | None
    ) -> BusinessUnit:
        """Re-parent a unit; ValidationError naming the loop if it would create a cycle."""
        uid = as_id(BusinessUnitId, unit_id, path="unit_id")
        pid = (
            None
            if new_parent_id is None
            else as_id(BusinessUnitId, new_parent_id, path="new_parent_id")
        )

        def body(cmd: Command) -> BusinessUnit:
            cid = cmd.actor.company_id
            unit = cmd.uow.business_units.get(uid, company_id=cid)
            if pid is not None:
                cmd.uow.business_units.get(pid, company_id=cid)
            moved = BusinessUnit(
                id=unit.id,
                company_id=cid,
                name=unit.name,
                parent_id=pid,
                cost_center=unit.cost_center,
                version=unit.version,
            )
            check_tree([moved if u.id == uid else u for u in cmd.access.units] or [moved])
            moved.record(
                BusinessUnitMoved(
                    company_id=cid,
                    occurred_at=cmd.at,
                    business_unit_id=uid,
                    old_parent_id=unit.parent_id,
                    new_parent_id=pid,
                )
            )
            cmd.uow.business_units.update(moved)
            return moved

        return execute(
            self._uow,
            self._clock,
            actor,
            action="business_unit.move",
            target=f"business_unit:{uid}",
            permission=Permission.COMPANY_MANAGE,
            resource=lambda uow: Resource(
                "business_unit", uid, actor.company_id, business_unit_id=uid
            ),
            body=body,
        )

    def business_unit_tree(self, actor: Actor) -> list[BusinessUnit]:
        """Every unit of the actor's company, parents before children (then by id)."""
        units = member_query(
            self._uow,
            self._clock,
            actor,
            action="business_unit.read",
            target="business_units",
            # Read afresh: the caller gets objects of its own (Access's are shared).
            body=lambda cmd: list(
                iterate(
                    lambda c: cmd.uow.business_units.list(
                        company_id=cmd.actor.company_id, limit=500, cursor=c
                    )
                )
            ),
        )
        children: dict[str | None, list[BusinessUnit]] = {}
        for u in units:
            children.setdefault(u.parent_id, []).append(u)
        ordered: list[BusinessUnit] = []
        stack = sorted(children.get(None, []), key=lambda u: u.id, reverse=True)
        while stack:
            unit = stack.pop()
            ordered.append(unit)
            stack.extend(sorted(children.get(unit.id, []), key=lambda u: u.id, reverse=True))
        return ordered

    # -- users ------------------------------------------------------------------------
    def invite_user(
        self,
        actor: Actor,
        *,
        email: str,
        name: str,
        business_unit_ids: Sequence[str],
        user_id: str | None = None,
        roles: Sequence[str] = (),
    ) -> CompanyUser:
        """Invite a user into the actor's company, member of the given units, holding
        ``roles`` company-wide from now on (users.manage needed for the first unit)."""
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        uid = as_id(UserId, new_id() if user_id is None else user_id, path="user_id")
        role_ids = as_ids(RoleId, roles, path="roles")
        user = CompanyUser(
            id=uid,
            company_id=cid,
            email=email,
            name=name,
            business_unit_ids=business_unit_ids,  # the converter validates
            status=UserStatus.INVITED,
        )

        def body(cmd: Command) -> CompanyUser:
            for bu in user.business_unit_ids:
                cmd.uow.business_units.get(bu, company_id=cid)
            if cmd.uow.users.find_by_email(user.email, company_id=cid) is not None:
                raise DuplicateError(
                    "user",
                    user.email,
                    f"a user with e-mail {user.email!r} already exists in company {cid!r}",
                )
            for rid in role_ids:
                cmd.uow.roles.get(rid, company_id=cid)
            user.grants = tuple(
                RoleGrant(role_id=rid, valid_from=cmd.at, granted_by=cmd.actor.acted_by)
                for rid in dict.fromkeys(role_ids)
            )
            self._check_sod(user, cmd.uow.companies.get(cid).sod_rules)
            user.record(
                UserInvited(company_id=cid, occurred_at=cmd.at, user_id=uid, email=user.email)
            )
            cmd.uow.users.add(user)
            return user

        return execute(
            self._uow,
            self._clock,
            actor,
            action="user.invite",
            target=f"user:{uid}",
            permission=Permission.USERS_MANAGE,
            resource=_user_resource(user),
            body=body,
            detail=lambda u: f"{u.email} roles={','.join(g.role_id for g in u.grants)}",
        )

    def _load_user_resource(
        self, actor: Actor, uid: UserId
    ) -> Callable[[UnitOfWork], Resource | None]:
        def load(uow: UnitOfWork) -> Resource | None:
            try:
                return _user_resource(uow.users.get(uid, company_id=actor.company_id))
            except NotFoundError:
                return Resource("user", uid, actor.company_id)

        return load

    def set_user_status(self, actor: Actor, *, user_id: str, status: UserStatus) -> CompanyUser:
        """Activate or disable a user (users.manage). A user cannot disable themself."""
        uid = as_id(UserId, user_id, path="user_id")
        if not isinstance(status, UserStatus):
            raise ValidationError("must be a UserStatus", path="status", value=status)

        def body(cmd: Command) -> CompanyUser:
            user = cmd.uow.users.get(uid, company_id=cmd.actor.company_id)
            if status is UserStatus.DISABLED and uid == cmd.actor.on_behalf_of:
                raise ConflictError("you cannot disable yourself; ask another administrator")
            if user.status is not status:
                user.status = status
                user.record(
                    UserStatusChanged(
                        company_id=user.company_id,
                        occurred_at=cmd.at,
                        user_id=uid,
                        status=status.value,
                    )
                )
                cmd.uow.users.update(user)
            return user

        return execute(
            self._uow,
            self._clock,
            actor,
            action=f"user.{status.value}",
            target=f"user:{uid}",
            permission=Permission.USERS_MANAGE,
            resource=self._load_user_resource(actor, uid),
            body=body,
        )

    def get_user(self, actor: Actor, *, user_id: str) -> CompanyUser:
        """A user of the actor's company: yourself always, others with users.manage."""
        uid = as_id(UserId, user_id, path="user_id")
        if isinstance(actor, Actor) and uid == actor.on_behalf_of and not actor.operator:
            return member_query(
                self._uow,
                self._clock,
                actor,
                action="user.read",
                target=f"user:{uid}",
                body=lambda cmd: cmd.uow.users.get(uid, company_id=cmd.actor.company_id),
            )
        return query(
            self._uow,
            self._clock,
            actor,
            action="user.read",
            target=f"user:{uid}",
            permission=Permission.USERS_MANAGE,
            resource=self._load_user_resource(actor, uid),
            body=lambda cmd: cmd.uow.users.get(uid, company_id=cmd.actor.company_id),
        )

    def list_users(
        self,
        actor: Actor,
        *,
        business_unit_id: str | None = None,
        status: UserStatus | None = None,
        role_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[CompanyUser]:
        """A page of the company's users, by id (users.manage)."""
        bu = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        rid = None if role_id is None else as_id(RoleId, role_id, path="role_id")
        return query(
            self._uow,
            self._clock,
            actor,
            action="user.list",
            target="users",
            permission=Permission.USERS_MANAGE,
            body=lambda cmd: cmd.uow.users.list(
                company_id=cmd.actor.company_id,
                business_unit_id=bu,
                status=status,
                role_id=rid,
                limit=limit,
                cursor=cursor,
            ),
        )

    # -- roles ------------------------------------------------------------------------
    def list_roles(self, actor: Actor) -> list[Role]:
        """The company's roles (any member may read them), by id."""
        return member_query(
            self._uow,
            self._clock,
            actor,
            action="role.read",
            target="roles",
            # Read afresh: the caller gets objects of its own (Access's are shared).
            body=lambda cmd: sorted(
                iterate(
                    lambda c: cmd.uow.roles.list(
                        company_id=cmd.actor.company_id, limit=500, cursor=c
                    )
                ),
                key=lambda r: r.id,
            ),
        )

    def create_role(
        self,
        actor: Actor,
        *,
        name: str,
        permissions: Sequence[RolePermission | Permission] = (),
        role_id: str | None = None,
        copy_of: str | None = None,
        description: str = "",
    ) -> Role:
        """A new role, from scratch or as a copy of an existing one (roles.manage)."""
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        rid = as_id(RoleId, new_id() if role_id is None else role_id, path="role_id")
        source = None if copy_of is None else as_id(RoleId, copy_of, path="copy_of")
        if isinstance(permissions, (str, bytes)) or not isinstance(
            permissions, (list, tuple, set, frozenset)
        ):
            raise ValidationError(
                "must be a list of Permission or RolePermission",
                path="permissions",
                value=permissions,
            )
        given = list(permissions)

        def body(cmd: Command) -> Role:
            if source is not None:
                role = cmd.uow.roles.get(source, company_id=cid).copy(role_id=rid, name=name)
                role.description = description or role.description
                for entry in given:
                    rp = entry if isinstance(entry, RolePermission) else RolePermission(entry)
                    role.with_permission(rp.permission, scope=rp.scope, limit=rp.limit)
            else:
                role = Role(
                    id=rid, company_id=cid, name=name, permissions=given, description=description
                )
            _record_saved(role, cmd.at)
            cmd.uow.roles.add(role)
            return role

        return execute(
            self._uow,
            self._clock,
            actor,
            action="role.create",
            target=f"role:{rid}",
            permission=Permission.ROLES_MANAGE,
            body=body,
            detail=lambda r: "; ".join(rp.describe() for rp in r.permissions),
        )

    def set_role_permission(
        self,
        actor: Actor,
        *,
        role_id: str,
        permission: Permission,
        scope: ViewScope | None = None,
        limit: Money | None = None,
        remove: bool = False,
    ) -> Role:
        """Add, change (scope, limit) or remove one permission of a role (roles.manage)."""
        rid = as_id(RoleId, role_id, path="role_id")
        if not isinstance(permission, Permission):
            raise ValidationError("must be a Permission", path="permission", value=permission)

        def body(cmd: Command) -> Role:
            role = cmd.uow.roles.get(rid, company_id=cmd.actor.company_id)
            if remove:
                role.without_permission(permission)
            else:
                entry = RolePermission(permission, scope=scope, limit=limit)
                role.with_permission(entry.permission, scope=entry.scope, limit=entry.limit)
            _record_saved(role, cmd.at)
            cmd.uow.roles.update(role)
            return role

        return execute(
            self._uow,
            self._clock,
            actor,
            action="role.change",
            target=f"role:{rid}",
            permission=Permission.ROLES_MANAGE,
            body=body,
            detail=lambda r: "; ".join(rp.describe() for rp in r.permissions),
        )

    @staticmethod
    def _check_sod(user: CompanyUser, rules: Sequence[SoDRule]) -> None:
        for rule in rules:
            for a in user.grants:
                if a.role_id != rule.role_a:
                    continue
                for b in user.grants:
                    if b.role_id == rule.role_b and _grants_clash(a, b):
                        raise ConflictError(
                            f"user {user.id!r} may not hold both {rule.role_a!r} and "
                            f"{rule.role_b!r} at the same time (separation of duties"
                            f"{': ' + rule.reason if rule.reason else ''})"
                        )

    def grant_role(
        self,
        actor: Actor,
        *,
        user_id: str,
        role_id: str,
        business_unit_id: str | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> CompanyUser:
        """Give a user a role, optionally for one unit and a time window (roles.manage).

        NotFoundError for an unknown user, role or unit (of this company);
        DuplicateError when the same grant overlaps an existing one; ConflictError
        when it would break a separation-of-duties rule.
        """
        uid = as_id(UserId, user_id, path="user_id")
        rid = as_id(RoleId, role_id, path="role_id")
        bu = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        if valid_from is not None:
            require_aware(valid_from, path="valid_from")

        def body(cmd: Command) -> CompanyUser:
            cid = cmd.actor.company_id
            user = cmd.uow.users.get(uid, company_id=cid)
            cmd.uow.roles.get(rid, company_id=cid)
            if bu is not None:
                cmd.uow.business_units.get(bu, company_id=cid)
            grant = RoleGrant(
                role_id=rid,
                valid_from=valid_from or cmd.at,
                valid_until=valid_until,
                business_unit_id=bu,
                granted_by=cmd.actor.acted_by,
            )
            for g in user.grants:
                if g.role_id == rid and g.business_unit_id == bu and g.overlaps(grant):
                    raise DuplicateError(
                        "role grant",
                        (uid, rid, bu),
                        f"user {uid!r} already holds role {rid!r}"
                        f"{' in ' + bu if bu else ''} in an overlapping window",
                    )
            user.grants = (*user.grants, grant)
            self._check_sod(user, cmd.uow.companies.get(cid).sod_rules)
            user.record(
                RoleGranted(
                    company_id=cid,
                    occurred_at=cmd.at,
                    user_id=uid,
                    role_id=rid,
                    business_unit_id=bu,
                    valid_from=grant.valid_from,
                    valid_until=grant.valid_until,
                )
            )
            cmd.uow.users.update(user)
            return user

        return execute(
            self._uow,
            self._clock,
            actor,
            action="role.grant",
            target=f"user:{uid}",
            permission=Permission.ROLES_MANAGE,
            resource=self._load_user_resource(actor, uid),
            body=body,
            detail=lambda _u: f"role {rid}{' in ' + bu if bu else ''}",
        )

    def revoke_role(
        self, actor: Actor, *, user_id: str, role_id: str, business_unit_id: str | None = None
    ) -> CompanyUser:
        """Take every grant of ``role_id`` (for that unit, or company-wide) from a user."""
        uid = as_id(UserId, user_id, path="user_id")
        rid = as_id(RoleId, role_id, path="role_id")
        bu = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )

        def body(cmd: Command) -> CompanyUser:
            user = cmd.uow.users.get(uid, company_id=cmd.actor.company_id)
            kept = tuple(
                g for g in user.grants if not (g.role_id == rid and g.business_unit_id == bu)
            )
            if len(kept) == len(user.grants):
                raise NotFoundError(
                    "role grant",
                    (uid, rid, bu),
                    f"user {uid!r} holds no grant of role {rid!r}{' in ' + bu if bu else ''}",
                )
            user.grants = kept
            user.record(
                RoleRevoked(
                    company_id=user.company_id,
                    occurred_at=cmd.at,
                    user_id=uid,
                    role_id=rid,
                    business_unit_id=bu,
                )
            )
            cmd.uow.users.update(user)
            return user

        return execute(
            self._uow,
            self._clock,
            actor,
            action="role.revoke",
            target=f"user:{uid}",
            permission=Permission.ROLES_MANAGE,
            resource=self._load_user_resource(actor, uid),
            body=body,
            detail=lambda _u: f"role {rid}{' in ' + bu if bu else ''}",
        )

    def add_sod_rule(self, actor: Actor, *, role_a: str, role_b: str, reason: str = "") -> Company:
        """Declare that no user may hold both roles at once (roles.manage).

        ConflictError naming the users when some already hold both.
        """
        rule = SoDRule(
            role_a=as_id(RoleId, role_a, path="role_a"),
            role_b=as_id(RoleId, role_b, path="role_b"),
            reason=reason,
        )

        def body(cmd: Command) -> Company:
            cid = cmd.actor.company_id
            company = cmd.uow.companies.get(cid)
            cmd.uow.roles.get(rule.role_a, company_id=cid)
            cmd.uow.roles.get(rule.role_b, company_id=cid)
            if any({r.role_a, r.role_b} == {rule.role_a, rule.role_b} for r in company.sod_rules):
                raise DuplicateError("separation-of-duties rule", (rule.role_a, rule.role_b))
            offenders = []
            for user in iterate(
                lambda c: cmd.uow.users.list(
                    company_id=cid, role_id=rule.role_a, limit=500, cursor=c
                )
            ):
                try:
                    self._check_sod(user, [rule])
                except ConflictError:
                    offenders.append(user.id)
            if offenders:
                raise ConflictError(
                    f"users {sorted(offenders)} hold both {rule.role_a!r} and {rule.role_b!r} "
                    "at overlapping times; revoke one of the roles first"
                )
            company.sod_rules = (*company.sod_rules, rule)
            company.record(
                SoDRuleAdded(
                    company_id=cid, occurred_at=cmd.at, role_a=rule.role_a, role_b=rule.role_b
                )
            )
            cmd.uow.companies.update(company)
            return company

        return execute(
            self._uow,
            self._clock,
            actor,
            action="sod_rule.add",
            target=f"roles:{rule.role_a}+{rule.role_b}",
            permission=Permission.ROLES_MANAGE,
            body=body,
        )

    # -- agents and assisted buying ---------------------------------------------------
    def register_agent(
        self, *, operator_id: str, name: str, email: str, agent_id: str | None = None
    ) -> Agent:
        """Register a seller-side agent (a platform operator's command, audited in
        the platform trail)."""
        op = as_id(UserId, operator_id, path="operator_id")
        aid = as_id(AgentId, new_id() if agent_id is None else agent_id, path="agent_id")
        agent = Agent(id=aid, name=name, email=email)
        at = self._clock.now()
        with self._uow() as uow:
            uow.agents.add(agent)
            uow.audit.append(
                AuditEntry.platform(
                    at=at, operator_id=op, action="agent.register", target=f"agent:{aid}"
                )
            )
            uow.commit()
        return agent

    def start_assisted_session(
        self,
        *,
        agent_id: str,
        company_id: str,
        customer_user_id: str,
        reason: str,
        permissions: Iterable[Permission],
        duration: timedelta = timedelta(hours=2),
        session_id: str | None = None,
    ) -> AssistedSession:
        """An agent starts acting for a customer user (assisted buying).

        The agent must be registered and active, the customer an enabled user of the
        company; approving can never be part of ``permissions``; ``duration`` is at
        most :data:`MAX_ASSISTED_SESSION`. Audited in the company's trail, denials too.
        Act in it with ``Actor.assisted(session)``.

        Like every b2bcore call, this trusts the embedding application to have
        authenticated the caller as ``agent_id`` (b2bcore authorizes, it does not
        authenticate).
        """
        aid = as_id(AgentId, agent_id, path="agent_id")
        cid = as_id(CompanyId, company_id, path="company_id")
        cust = as_id(UserId, customer_user_id, path="customer_user_id")
        if (
            not isinstance(duration, timedelta)
            or not timedelta(0) < duration <= MAX_ASSISTED_SESSION
        ):
            raise ValidationError(
                f"duration must be positive and at most {MAX_ASSISTED_SESSION}",
                path="duration",
                value=duration,
            )
        at = self._clock.now()
        session = AssistedSession(
            id=as_id(
                AssistedSessionId, new_id() if session_id is None else session_id, path="session_id"
            ),
            company_id=cid,
            agent_id=aid,
            customer_user_id=cust,
            reason=reason,
            permissions=permissions,  # the converter validates
            started_at=at,
            expires_at=at + duration,
        )
        with self._uow() as uow:
            uow.companies.get(cid)
            denial = None
            try:
                agent = uow.agents.get(aid)
                if not agent.active:
                    denial = f"agent {aid!r} is deactivated"
            except NotFoundError:
                denial = f"{aid!r} is not a registered agent"
            if denial is None:
                try:
                    customer = uow.users.get(cust, company_id=cid)
                    if customer.status is UserStatus.DISABLED:
                        denial = f"customer user {cust!r} is disabled"
                except NotFoundError:
                    denial = f"{cust!r} is not a user of company {cid!r}"
            entry = AuditEntry(
                company_id=cid,
                at=at,
                acted_by=aid,
                on_behalf_of=cust,
                action="assisted_session.start",
                target=f"assisted_session:{session.id}",
                outcome=Outcome.DENIED if denial else Outcome.ALLOWED,
                detail=denial
                or f"{reason} [{', '.join(sorted(p.value for p in session.permissions))}]",
                assisted_session_id=None if denial else session.id,
            )
            uow.audit.append(entry)
            if denial is None:
                session.record(
                    AssistedSessionStarted(
                        company_id=cid,
                        occurred_at=at,
                        session_id=session.id,
                        agent_id=aid,
                        customer_user_id=cust,
                        reason=reason,
                        expires_at=session.expires_at,
                    )
                )
                uow.assisted_sessions.add(session)
            uow.commit()
        if denial is not None:
            raise PermissionDeniedError(
                f"cannot start an assisted session: {denial}",
                permission="assisted_session.start",
                actor=aid,
                decision_code="agent_or_customer_invalid",
            )
        return session

    def end_assisted_session(self, actor: Actor, *, session_id: str) -> AssistedSession:
        """End a session: its agent, its customer user, or a users.manage holder may."""
        sid = as_id(AssistedSessionId, session_id, path="session_id")
        at = self._clock.now()
        with self._uow() as uow:
            session = uow.assisted_sessions.get(sid, company_id=actor.company_id)
            own = (actor.is_agent and actor.assisted_session_id == sid) or (
                not actor.is_agent
                and not actor.operator
                and actor.on_behalf_of == session.customer_user_id
            )
        if own:

            def body(cmd: Command) -> AssistedSession:
                s = cmd.uow.assisted_sessions.get(sid, company_id=cmd.actor.company_id)
                return self._end(cmd, s)

            return self._execute_unchecked(actor, sid, body, at)
        return execute(
            self._uow,
            self._clock,
            actor,
            action="assisted_session.end",
            target=f"assisted_session:{sid}",
            permission=Permission.USERS_MANAGE,
            body=lambda cmd: self._end(
                cmd, cmd.uow.assisted_sessions.get(sid, company_id=cmd.actor.company_id)
            ),
        )

    @staticmethod
    def _end(cmd: Command, session: AssistedSession) -> AssistedSession:
        if session.ended_at is None:
            session.end(at=cmd.at, by=cmd.actor.acted_by)
            session.record(
                AssistedSessionEnded(
                    company_id=session.company_id,
                    occurred_at=cmd.at,
                    session_id=session.id,
                    ended_by=cmd.actor.acted_by,
                )
            )
            cmd.uow.assisted_sessions.update(session)
        return session

    def _execute_unchecked(
        self,
        actor: Actor,
        sid: AssistedSessionId,
        body: Callable[[Command], AssistedSession],
        at: datetime,
    ) -> AssistedSession:
        # Ending one's own session needs no permission (it only takes rights away).
        with self._uow() as uow:
            access = load_access(uow, actor)
            decision = AccessDecision(
                allowed=True,
                permission=Permission.USERS_MANAGE,
                code="own_session",
                reason="own session",
            )
            result = body(Command(uow, actor, access, decision, at))
            uow.audit.append(
                AuditEntry(
                    company_id=actor.company_id,
                    at=at,
                    acted_by=actor.acted_by,
                    on_behalf_of=actor.on_behalf_of,
                    action="assisted_session.end",
                    target=f"assisted_session:{sid}",
                    outcome=Outcome.ALLOWED,
                    assisted_session_id=actor.assisted_session_id,
                )
            )
            uow.commit()
        return result

    # -- audit and explanations -------------------------------------------------------
    def audit_trail(
        self,
        actor: Actor,
        *,
        acted_by: str | None = None,
        action: str | None = None,
        outcome: Outcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        """The company's audit trail in time order (audit.view)."""
        return query(
            self._uow,
            self._clock,
            actor,
            action="audit.read",
            target="audit",
            permission=Permission.AUDIT_VIEW,
            body=lambda cmd: cmd.uow.audit.list(
                company_id=cmd.actor.company_id,
                acted_by=acted_by,
                action=action,
                outcome=outcome,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            ),
        )

    def platform_audit_trail(
        self, *, operator_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[AuditEntry]:
        """The platform's own trail (agent registrations), for platform operators.

        Like every b2bcore call it trusts the application to have authenticated
        ``operator_id`` as a platform operator.
        """
        as_id(UserId, operator_id, path="operator_id")
        with self._uow() as uow:
            return uow.audit.list(company_id=PLATFORM_AUDIT, limit=limit, cursor=cursor)

    def explain(
        self,
        actor: Actor,
        permission: Permission,
        *,
        resource: Resource | None = None,
        amount: Money | None = None,
        at: datetime | None = None,
    ) -> PermissionExplanation:
        """Why ``actor`` may or may not do ``permission`` now (or ``at``): a read-only
        answer anyone may ask about themselves."""
        when = self._clock.now() if at is None else require_aware(at, path="at")
        with self._uow() as uow:
            access = load_access(uow, actor)
        return explain_permission(
            actor, permission, access=access, resource=resource, amount=amount, at=when
        )
