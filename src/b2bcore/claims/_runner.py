"""Authorize, run, audit — when the decision depends on what was read (private).

Like :func:`b2bcore._command.execute`, but the authorization step (``ask``) reads
what the decision needs (the claim, its lifecycle step) in the command's unit of
work and decides; a denial is audited (``denied``), a failure of ``ask`` or of
the body is audited on its own (``failed``) and nothing of the change is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from b2bcore._command import Command, _audit_alone, _deny, _entry, load_access
from b2bcore.accounts.model import Actor, Permission
from b2bcore.accounts.rules import Access, AccessDecision
from b2bcore.audit import Outcome
from b2bcore.clock import Clock
from b2bcore.errors import B2BCoreError, ValidationError
from b2bcore.storage.ports import UnitOfWork

__all__ = ["Ask", "denied", "run", "seller"]

P = TypeVar("P")
R = TypeVar("R")


@attrs.frozen
class Ask(Generic[P]):
    """What the authorization step found: the decision, what it read, and the
    permission asked (for the audit line of a denial)."""

    decision: AccessDecision
    value: P
    permission: str = ""


def seller(actor: Actor) -> AccessDecision:
    """Allowed for the seller's staff (``Actor.operator_for``), refused for buyers."""
    if actor.operator:
        return AccessDecision(
            allowed=True,
            permission=Permission.COMPANY_MANAGE,
            code="seller",
            reason="the seller's staff act for the seller",
        )
    return denied("seller_only", "only the seller's staff (Actor.operator_for) do this")


def denied(code: str, reason: str) -> AccessDecision:
    """A refusal with ``code`` and ``reason``."""
    return AccessDecision(
        allowed=False, permission=Permission.COMPANY_MANAGE, code=code, reason=reason
    )


def run(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    *,
    action: str,
    target: str,
    ask: Callable[[UnitOfWork, Access, datetime], Ask[P]],
    body: Callable[[Command, P], R],
    write: bool = True,
    detail: Callable[[R], str] | None = None,
) -> R:
    """Authorize (``ask``), run ``body``, audit — atomically (reads: ``write``
    False, nothing audited but a denial)."""
    if not isinstance(actor, Actor):
        raise ValidationError("must be an Actor", path="actor", value=actor)
    at = clock.now()
    failure: B2BCoreError | None = None
    with unit_of_work() as uow:
        access = load_access(uow, actor)
        try:
            asked = ask(uow, access, at)
        except B2BCoreError as e:
            if not write:
                raise
            uow.rollback()
            failure = e
        else:
            if not asked.decision.allowed:
                raise _deny(
                    uow,
                    actor,
                    at=at,
                    action=action,
                    target=target,
                    permission=asked.permission,
                    code=asked.decision.code,
                    reason=asked.decision.reason,
                )
            cmd = Command(uow, actor, access, asked.decision, at)
            if not write:
                return body(cmd, asked.value)
            try:
                result = body(cmd, asked.value)
                text = detail(result) if detail is not None else ""
                uow.audit.append(
                    _entry(
                        actor,
                        at=at,
                        action=action,
                        target=target,
                        outcome=Outcome.ALLOWED,
                        detail=text,
                    )
                )
                uow.commit()
            except B2BCoreError as e:
                uow.rollback()
                failure = e
            else:
                return result
    assert failure is not None
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
