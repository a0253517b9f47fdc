"""The audit trail: who did what, for whom, to what, and how it ended.

Every portal command writes an :class:`AuditEntry` in the same unit of work as its
change (``uow.audit.append``); denied attempts are written too. Entries are
append-only and always belong to one company.

>>> from datetime import datetime, timezone
>>> from b2bcore.audit import AuditEntry, Outcome
>>> entry = AuditEntry(
...     company_id="acme", at=datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc),
...     acted_by="agent-7", on_behalf_of="u-1", action="cart.reorder",
...     target="order:o-9", outcome=Outcome.ALLOWED, assisted_session_id="as-3")
>>> entry.by_agent
True
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import CompanyId, new_id

__all__ = ["AuditEntry", "Outcome", "PLATFORM_AUDIT"]


#: The audit trail of platform-level commands (agents, price lists), outside every
#: company. Not a valid company id, so it can never collide with a tenant.
PLATFORM_AUDIT = CompanyId("~platform")


class Outcome(enum.Enum):
    """How an audited command ended."""

    ALLOWED = "allowed"
    DENIED = "denied"
    FAILED = "failed"


def _at(value: datetime) -> datetime:
    return to_utc(value, path="at")


def _nonempty(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("must be a non-empty string", path=attribute.name, value=value)


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One line of the audit trail.

    ``acted_by`` is who pressed the button (a user or an agent); ``on_behalf_of`` is
    the customer user it was done for (the same as ``acted_by`` unless assisted).
    """

    company_id: CompanyId = attrs.field(validator=_nonempty)
    at: datetime = attrs.field(converter=_at)
    acted_by: str = attrs.field(validator=_nonempty)
    on_behalf_of: str = attrs.field(validator=_nonempty)
    action: str = attrs.field(validator=_nonempty)
    target: str
    outcome: Outcome = attrs.field(validator=attrs.validators.instance_of(Outcome))
    detail: str = ""
    assisted_session_id: str | None = None
    id: str = attrs.field(factory=new_id)

    @property
    def by_agent(self) -> bool:
        """Whether an agent acted in an assisted session."""
        return self.assisted_session_id is not None

    @classmethod
    def platform(
        cls, *, at: datetime, operator_id: str, action: str, target: str, detail: str = ""
    ) -> AuditEntry:
        """An allowed command of a platform operator, for the platform trail."""
        return cls(
            company_id=PLATFORM_AUDIT,
            at=at,
            acted_by=operator_id,
            on_behalf_of=operator_id,
            action=action,
            target=target,
            outcome=Outcome.ALLOWED,
            detail=detail,
        )
