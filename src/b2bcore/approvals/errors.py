"""Errors of the approvals context.

>>> from b2bcore.approvals import parse_predicate
>>> from b2bcore.approvals.errors import PredicateError
>>> try:
...     parse_predicate("total > 5000 EUR and")
... except PredicateError as e:
...     (e.code, e.position, e.reason)
('approvals.predicate', 20, 'expected a condition after and, found the end')
"""

from __future__ import annotations

from collections.abc import Sequence

from b2bcore.errors import ConflictError, PermissionDeniedError, ValidationError

__all__ = ["NotEligibleError", "PredicateError", "UnapprovableError"]


class PredicateError(ValidationError):
    """A rule condition that does not parse, or compares what cannot be compared.

    ``text`` is the condition, ``position`` the 0-based offset of the problem in it
    and ``reason`` what is wrong there; the message shows the text with a marker.
    """

    code = "approvals.predicate"

    def __init__(self, reason: str, text: str, position: int) -> None:
        shown = text if len(text) <= 120 else text[:117] + "..."
        marker = " " * min(position, len(shown)) + "^"
        super().__init__(
            f"{reason} (at position {position})\n  {shown}\n  {marker}",
            path="condition",
            value=text,
        )
        self.reason = reason
        self.text = text
        self.position = position


class UnapprovableError(ConflictError):
    """A rule or tier that nobody could approve: when a policy is saved (a role
    nobody holds, limits below every amount the rule matches, an empty tier) or when
    a subject is submitted (no approver's limit covers it, the only approver is the
    requester).

    ``rule_id`` and ``tier`` (its name, None for the whole rule) say where;
    ``reasons`` say why, one line each.
    """

    code = "approvals.unapprovable"

    def __init__(self, rule_id: str, tier: str | None, reasons: Sequence[str]) -> None:
        where = f"rule {rule_id!r}" + (f", tier {tier!r}" if tier is not None else "")
        super().__init__(f"{where} can never be approved: " + "; ".join(reasons))
        self.rule_id = rule_id
        self.tier = tier
        self.reasons = tuple(reasons)


class NotEligibleError(PermissionDeniedError):
    """The person may not decide on this flow now.

    ``decision_code`` is one of ``requester`` (separation of duties: nobody decides
    on their own request), ``already_decided`` (one person decides once per flow,
    acting for themselves or for a colleague), ``no_delegation``, ``not_an_approver``
    (no active tier names them, or their limit does not cover the amount);
    ``reasons`` list what each active tier needs.
    """

    code = "approvals.not_eligible"

    def __init__(
        self, message: str, *, actor: str, decision_code: str, reasons: Sequence[str] = ()
    ) -> None:
        detail = "".join(f"\n  - {r}" for r in reasons)
        super().__init__(
            message + detail,
            permission="approvals.approve",
            actor=actor,
            decision_code=decision_code,
        )
        self.reasons = tuple(reasons)
