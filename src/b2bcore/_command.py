"""Service plumbing shared by every context: authorize, run, audit (private).

Every portal command goes through :func:`execute`:

1. open a unit of work and load, fresh, what authorization needs (the user acted
   for, the company's roles, units and SoD rules, the assisted session);
2. :func:`~b2bcore.accounts.rules.authorize`; a denial is audited (committed on its
   own) and raised as :class:`~b2bcore.errors.PermissionDeniedError`;
3. run the command's body in the same unit of work, append the ``allowed`` audit
   entry and commit: the change and its audit line land together or not at all;
4. if the body fails with a :class:`~b2bcore.errors.B2BCoreError`, nothing of it is
   kept and a ``failed`` audit entry (with the error code) is written instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs

from b2bcore.accounts.model import Actor, BusinessUnit, Company, CompanyUser, Permission, Role
from b2bcore.accounts.rules import Access, AccessDecision, Resource, authorize, check_membership
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.clock import Clock
from b2bcore.errors import (
    B2BCoreError,
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.events import Aggregate, DomainEvent
from b2bcore.ids import UserId, as_id
from b2bcore.money import Money
from b2bcore.paging import iterate
from b2bcore.storage._reads import read_only_many
from b2bcore.storage.ports import UnitOfWork

__all__ = ["Command", "execute", "load_access", "member_query", "query", "save_platform"]

T = TypeVar("T")

ResourceSpec = Resource | Callable[[UnitOfWork], Resource | None] | None


def load_access(uow: UnitOfWork, actor: Actor) -> Access:
    """What authorization needs for ``actor``, read inside ``uow``.

    NotFoundError when the actor's company does not exist; an unknown user is left
    to :func:`authorize` (which denies, and the denial is audited).

    Every command reads this, so on b2bcore's own stores the rows are still read in
    ``uow`` (fresh, in its transaction) but a row unchanged since an earlier read is
    not structured again: its object is shared (see ``b2bcore.storage._reads``),
    which is why :class:`~b2bcore.accounts.rules.Access` must only be read.
    """
    cid = actor.company_id
    uid = None if actor.operator else actor.on_behalf_of

    def one_by_one() -> list[tuple[Any, ...]]:
        try:
            user: tuple[CompanyUser, ...] = (
                () if uid is None else (uow.users.get(uid, company_id=cid),)
            )
        except NotFoundError:
            user = ()
        return [
            (uow.companies.get(cid),),
            tuple(iterate(lambda c: uow.roles.list(company_id=cid, limit=500, cursor=c))),
            tuple(iterate(lambda c: uow.business_units.list(company_id=cid, limit=500, cursor=c))),
            user,
        ]

    wanted: list[tuple[object, str | None, str | None]] = [
        (uow.companies, cid, cid),
        (uow.roles, cid, None),
        (uow.business_units, cid, None),
    ]
    if uid is not None:
        wanted.append((uow.users, cid, uid))
    found = read_only_many(uow, wanted, one_by_one)
    if not found[0]:
        raise NotFoundError("company", cid)
    company: Company = found[0][0]
    roles: dict[str, Role] = {r.id: r for r in found[1]}
    units: tuple[BusinessUnit, ...] = found[2]
    user: CompanyUser | None = found[3][0] if len(found) > 3 and found[3] else None
    session = None
    if actor.assisted_session_id is not None:
        try:
            session = uow.assisted_sessions.get(actor.assisted_session_id, company_id=cid)
        except NotFoundError:
            session = None
    return Access(
        user=user,
        roles=roles,
        units=units,
        sod_rules=company.sod_rules,
        session=session,
        company=company,
    )


@attrs.frozen
class Command:
    """What a command body gets: its unit of work, the actor, the decision and the time."""

    uow: UnitOfWork
    actor: Actor
    access: Access
    decision: AccessDecision
    at: datetime


def _entry(
    actor: Actor, *, at: datetime, action: str, target: str, outcome: Outcome, detail: str
) -> AuditEntry:
    return AuditEntry(
        company_id=actor.company_id,
        at=at,
        acted_by=actor.acted_by,
        on_behalf_of=actor.on_behalf_of,
        action=action,
        target=target,
        outcome=outcome,
        detail=detail[:2000],
        assisted_session_id=actor.assisted_session_id,
    )


def _audit_alone(
    unit_of_work: Callable[[], UnitOfWork],
    actor: Actor,
    *,
    at: datetime,
    action: str,
    target: str,
    outcome: Outcome,
    detail: str,
) -> None:
    with unit_of_work() as uow:
        uow.audit.append(
            _entry(actor, at=at, action=action, target=target, outcome=outcome, detail=detail)
        )
        uow.commit()


def _deny(
    uow: UnitOfWork,
    actor: Actor,
    *,
    at: datetime,
    action: str,
    target: str,
    permission: str,
    code: str,
    reason: str,
) -> PermissionDeniedError:
    """Audit a denial in ``uow``, commit it, and return the error to raise."""
    uow.audit.append(
        _entry(actor, at=at, action=action, target=target, outcome=Outcome.DENIED, detail=reason)
    )
    uow.commit()
    asked = f" ({permission})" if permission else ""
    return PermissionDeniedError(
        f"{actor.acted_by} may not {action}{asked}: {reason}",
        permission=permission,
        actor=actor.acted_by,
        decision_code=code,
    )


def execute(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    *,
    action: str,
    target: str,
    permission: Permission,
    body: Callable[[Command], T],
    resource: ResourceSpec = None,
    amount: Money | None = None,
    detail: Callable[[T], str] | None = None,
) -> T:
    """Authorize ``actor`` for ``permission``, run ``body``, audit — atomically."""
    if not isinstance(actor, Actor):
        raise ValidationError("must be an Actor", path="actor", value=actor)
    at = clock.now()
    with unit_of_work() as uow:
        access = load_access(uow, actor)
        res = resource(uow) if callable(resource) else resource
        decision = authorize(actor, permission, access=access, resource=res, amount=amount, at=at)
        if not decision.allowed:
            raise _deny(
                uow,
                actor,
                at=at,
                action=action,
                target=target,
                permission=permission.value,
                code=decision.code,
                reason=decision.reason,
            )
        try:
            result = body(Command(uow, actor, access, decision, at))
            text = detail(result) if detail is not None else ""
            uow.audit.append(
                _entry(
                    actor, at=at, action=action, target=target, outcome=Outcome.ALLOWED, detail=text
                )
            )
            uow.commit()
        except B2BCoreError as e:
            uow.rollback()
            failure = e
        else:
            return result
    _audit_alone(
        unit_of_work,
        actor,
        at=at,
        action=action,
        target=target,
        outcome=Outcome.FAILED,
        detail=f"{failure.code}: {failure}",
    )
    raise failure


def query(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    *,
    action: str,
    target: str,
    permission: Permission,
    body: Callable[[Command], T],
    resource: ResourceSpec = None,
) -> T:
    """Like :func:`execute` for reads: denials are audited, allowed reads are not."""
    if not isinstance(actor, Actor):
        raise ValidationError("must be an Actor", path="actor", value=actor)
    at = clock.now()
    with unit_of_work() as uow:
        access = load_access(uow, actor)
        res = resource(uow) if callable(resource) else resource
        decision = authorize(actor, permission, access=access, resource=res, at=at)
        if decision.allowed:
            return body(Command(uow, actor, access, decision, at))
        raise _deny(
            uow,
            actor,
            at=at,
            action=action,
            target=target,
            permission=permission.value,
            code=decision.code,
            reason=decision.reason,
        )


def member_query(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    *,
    action: str,
    target: str,
    body: Callable[[Command], T],
) -> T:
    """A read any member of the company may do (a user of it, an agent in an active
    session for one, an operator); a refusal is audited like any denial."""
    if not isinstance(actor, Actor):
        raise ValidationError("must be an Actor", path="actor", value=actor)
    at = clock.now()
    with unit_of_work() as uow:
        access = load_access(uow, actor)
        failure = check_membership(actor, access=access, at=at)
        if failure is None:
            decision = AccessDecision(
                allowed=True,
                permission=Permission.COMPANY_MANAGE,
                code="member",
                reason="members may read this",
            )
            return body(Command(uow, actor, access, decision, at))
        raise _deny(
            uow,
            actor,
            at=at,
            action=action,
            target=target,
            permission="",
            code=failure[0],
            reason=failure[1],
        )


_A = TypeVar("_A", bound=Aggregate)


def save_platform(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    operator_id: str,
    obj: _A,
    kind: str,
    key: str,
    repository: Callable[[UnitOfWork], Any],
    stored: Callable[[UnitOfWork], _A | None],
    event: Callable[[datetime], DomainEvent],
    action: str,
    check: Callable[[UnitOfWork], None] | None = None,
) -> _A:
    """Save one of the seller's platform-wide aggregates (catalogue, service types,
    resources …) for a platform operator: ``check`` it, add it (version 0) or update
    it (the version read), record its event and a platform audit line, all in one
    unit of work. A failed save leaves the caller's object as it was (no pending
    event, the version it had)."""
    op = as_id(UserId, operator_id, path="operator_id")
    at = clock.now()
    version = obj.version
    try:
        with unit_of_work() as uow:
            if check is not None:
                check(uow)
            before = stored(uow)
            obj.record(event(at))
            repo = repository(uow)
            if before is None:
                if obj.version != 0:
                    raise ConcurrencyError(kind, key, expected_version=obj.version)
                repo.add(obj)
            elif obj.version == 0:
                raise DuplicateError(
                    kind,
                    key,
                    f"{kind} {key!r} already exists; read it and save the version you read",
                )
            else:
                repo.update(obj)
            uow.audit.append(
                AuditEntry.platform(
                    at=at,
                    operator_id=op,
                    action=action,
                    target=f"{kind.replace(' ', '_')}:{key}",
                    detail=f"version {obj.version}",
                )
            )
            uow.commit()
    except B2BCoreError:
        obj.pull_events()
        obj.version = version
        raise
    return obj
