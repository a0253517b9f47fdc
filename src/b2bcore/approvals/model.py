"""Approvals model: policies of rules and tiers, flows with decisions, budgets and
delegations.

An :class:`ApprovalPolicy` of a company holds :class:`ApprovalRule` s. A rule has
a condition (:mod:`~b2bcore.approvals.predicate`), the requesters it applies to
(roles, business units) and sequential :class:`ApprovalTier` s; a tier names who
may approve as a :class:`Requirement` — roles and named users combined with any /
all / at least M of N, nested as deep as needed — and, optionally, a timeout in
business hours after which it escalates.

Approvals know no orders: they judge an :class:`ApprovalSubject` (a cart, an order,
a quote …) through a snapshot, :class:`Subject`. An :class:`ApprovalFlow` is the
life of one subject's approval: pending until every tier of every matching rule is
satisfied (approved), or one approver rejects (rejected), the requester withdraws
(cancelled) or a tier times out with nowhere left to escalate (expired).

>>> from b2bcore.approvals import ApprovalRule, ApprovalTier, Requirement
>>> rule = ApprovalRule(id="over-5k", name="Orders over 5,000 EUR",
...     condition="total > 5000 EUR",
...     tiers=[ApprovalTier(name="Plant approval", approvers=Requirement.role("approver")),
...            ApprovalTier(name="Management", approvers=Requirement.at_least(
...                2, Requirement.role("manager"), Requirement.user("u-ana"),
...                Requirement.role("finance")))])
>>> [t.approvers.describe() for t in rule.tiers]
['role approver', '2 of (role manager, user u-ana, role finance)']
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from b2bcore._validate import enum_member, identifier, optional_identifier, text, unique_ids
from b2bcore.approvals.errors import NotEligibleError
from b2bcore.approvals.predicate import Predicate, parse_predicate
from b2bcore.calendar import BusinessCalendar
from b2bcore.clock import require_aware, to_utc
from b2bcore.errors import (
    ConflictError,
    InvalidTransitionError,
    ValidationError,
)
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import (
    BudgetId,
    BusinessUnitId,
    CategoryId,
    CompanyId,
    DelegationId,
    FlowId,
    RoleId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.l10n import get_zone
from b2bcore.money import Money, to_quantity

__all__ = [
    "ApprovalDecided",
    "ApprovalFlow",
    "ApprovalFlowApproved",
    "ApprovalFlowCompleted",
    "ApprovalFlowRejected",
    "ApprovalFlowReset",
    "ApprovalFlowStarted",
    "ApprovalLine",
    "ApprovalPolicy",
    "ApprovalPolicySaved",
    "ApprovalRule",
    "ApprovalSubject",
    "ApprovalTier",
    "ApprovalTierEscalated",
    "Budget",
    "BudgetCommitted",
    "BudgetPeriod",
    "BudgetSaved",
    "Decision",
    "Delegation",
    "DelegationGranted",
    "DelegationRevoked",
    "Escalation",
    "EscalationKind",
    "EscalationStep",
    "FlowStatus",
    "MAX_LEAVES",
    "Path",
    "Qualification",
    "Requirement",
    "RequirementKind",
    "RuleProgress",
    "Subject",
    "SubjectLine",
    "SubjectRef",
    "TierProgress",
    "Verdict",
    "satisfiable",
]

#: Most leaves (roles and named users) one tier may combine.
MAX_LEAVES: Final = 16
_MAX_NESTING: Final = 8

#: Where a leaf sits in a requirement: the child indexes from the root.
Path = tuple[int, ...]


def _company_id(value: str) -> CompanyId:
    return CompanyId(check_id(value, path="company_id"))


def _requester_id(value: str) -> UserId:
    return UserId(check_id(value, path="requester_id"))


def _acted_by(value: str) -> UserId:
    return UserId(check_id(value, path="acted_by"))


def _on_behalf_of(value: str) -> UserId:
    return UserId(check_id(value, path="on_behalf_of"))


def _delegator_id(value: str) -> UserId:
    return UserId(check_id(value, path="delegator_id"))


def _delegate_id(value: str) -> UserId:
    return UserId(check_id(value, path="delegate_id"))


def _sku(value: str) -> Sku:
    return Sku(check_id(value, path="sku"))


def _flow_id(value: str) -> FlowId:
    return FlowId(check_id(value, path="id"))


def _budget_id(value: str) -> BudgetId:
    return BudgetId(check_id(value, path="id"))


def _delegation_id(value: str) -> DelegationId:
    return DelegationId(check_id(value, path="id"))


def _unit_id(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _role_id(value: str | None) -> RoleId | None:
    return None if value is None else RoleId(check_id(value, path="role_id"))


# -- subjects -----------------------------------------------------------------------------


def _kind(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.isidentifier() or not value.islower():
        raise ValidationError(
            "a subject kind is a lower-case word such as 'order', 'quote' or 'cart'",
            path=attribute.name,
            value=value,
        )


@attrs.frozen
class SubjectRef:
    """What is being approved: its kind and id (``order:o-17``)."""

    kind: str = attrs.field(validator=_kind)
    id: str = attrs.field(validator=identifier)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@runtime_checkable
class ApprovalLine(Protocol):
    """A line of an approvable subject."""

    @property
    def sku(self) -> str:
        """The SKU."""
        ...

    @property
    def amount(self) -> Money:
        """The line's amount (net)."""
        ...

    @property
    def categories(self) -> Sequence[str]:
        """The line's category and its ancestors (any order)."""
        ...


@runtime_checkable
class ApprovalSubject(Protocol):
    """Anything that can be approved: carts, orders, quotes.

    Approvals read only these attributes; :meth:`Subject.of` takes a snapshot of
    any object that has them. A subject of another context, which cannot build a
    :class:`SubjectRef` without importing approvals, may give ``subject_kind`` and
    ``subject_id`` instead of ``ref``.
    """

    @property
    def ref(self) -> SubjectRef:
        """Kind and id."""
        ...

    @property
    def company_id(self) -> str:
        """The buyer company."""
        ...

    @property
    def requester_id(self) -> str:
        """The user who asks (who may never approve it)."""
        ...

    @property
    def total(self) -> Money:
        """The amount to approve."""
        ...

    @property
    def lines(self) -> Sequence[ApprovalLine]:
        """The lines."""
        ...

    @property
    def business_unit_id(self) -> str | None:
        """The business unit it is booked on."""
        ...

    @property
    def cost_center(self) -> str | None:
        """The cost center it is booked on."""
        ...


def _money(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError("must be Money", path=attribute.name, value=value)


def _categories(value: object) -> tuple[CategoryId, ...]:
    return tuple(CategoryId(c) for c in unique_ids(value, path="categories"))


@attrs.frozen
class SubjectLine:
    """A line as approvals see it: SKU, amount, categories (leaf and ancestors)."""

    sku: Sku = attrs.field(converter=_sku)
    amount: Money = attrs.field(validator=_money)
    categories: tuple[CategoryId, ...] = attrs.field(default=(), converter=_categories)
    quantity: Decimal = attrs.field(default=Decimal(1), converter=to_quantity)


def _lines(value: object) -> tuple[SubjectLine, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of SubjectLine", path="lines", value=value)
    out = tuple(value)
    for i, line in enumerate(out):
        if not isinstance(line, SubjectLine):
            raise ValidationError("must be a SubjectLine", path=f"lines[{i}]", value=line)
    return out


def _optional_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        text(max_length=80)(_inst, attribute, value)


class _Named:
    """A subject that names itself by ``subject_kind``/``subject_id``, seen with a
    ``ref`` (every other attribute is the subject's own)."""

    def __init__(self, ref: SubjectRef, subject: object) -> None:
        self.ref = ref
        self._subject = subject

    def __getattr__(self, name: str) -> Any:
        return getattr(self._subject, name)


@attrs.frozen
class Subject:
    """The snapshot of an :class:`ApprovalSubject` a flow judges and keeps."""

    ref: SubjectRef = attrs.field(validator=attrs.validators.instance_of(SubjectRef))
    company_id: CompanyId = attrs.field(converter=_company_id)
    requester_id: UserId = attrs.field(converter=_requester_id)
    total: Money = attrs.field(validator=_money)
    lines: tuple[SubjectLine, ...] = attrs.field(default=(), converter=_lines)
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_unit_id)
    cost_center: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        if self.total.is_negative():
            raise ValidationError("a total cannot be negative", path="total", value=self.total)
        for i, line in enumerate(self.lines):
            if line.amount.currency != self.total.currency:
                raise ValidationError(
                    f"line amount in {line.amount.currency}, the total in {self.total.currency}",
                    path=f"lines[{i}].amount",
                    value=line.amount,
                )

    @classmethod
    def of(cls, subject: object) -> Subject:
        """A snapshot of anything shaped like :class:`ApprovalSubject`."""
        if isinstance(subject, Subject):
            return subject
        if not hasattr(subject, "ref") and hasattr(subject, "subject_kind"):
            # A subject from another context names itself by kind and id (it cannot
            # build a SubjectRef without importing approvals).
            s_: Any = subject
            subject = _Named(SubjectRef(s_.subject_kind, getattr(s_, "subject_id", "")), s_)
        missing = [
            name
            for name in (
                "ref",
                "company_id",
                "requester_id",
                "total",
                "lines",
                "business_unit_id",
                "cost_center",
            )
            if not hasattr(subject, name)
        ]
        if missing:
            raise ValidationError(
                f"not an approval subject: it has no {', '.join(missing)}",
                path="subject",
                value=subject,
            )
        s: Any = subject
        raw_lines = s.lines
        if isinstance(raw_lines, (str, bytes)) or not isinstance(raw_lines, Iterable):
            raise ValidationError("lines must be a list", path="lines", value=raw_lines)
        lines = []
        for i, line in enumerate(raw_lines):
            try:
                lines.append(
                    SubjectLine(
                        sku=line.sku,
                        amount=line.amount,
                        categories=tuple(getattr(line, "categories", ())),
                        quantity=getattr(line, "quantity", Decimal(1)),
                    )
                )
            except AttributeError as e:
                raise ValidationError(
                    f"not an approval line: {e}", path=f"lines[{i}]", value=line
                ) from None
            except ValidationError as e:
                raise ValidationError(
                    e.reason, path=f"lines[{i}].{e.path}", value=e.value
                ) from None
        return cls(
            ref=s.ref,
            company_id=s.company_id,
            requester_id=s.requester_id,
            total=s.total,
            lines=lines,
            business_unit_id=s.business_unit_id,
            cost_center=s.cost_center,
        )


# -- requirements, tiers, rules, policies --------------------------------------------------


class RequirementKind(enum.Enum):
    """A leaf (a role, a named user) or a combination of requirements."""

    ROLE = "role"
    USER = "user"
    ANY = "any"
    ALL = "all"
    AT_LEAST = "at_least"


_LEAF_KINDS: Final = (RequirementKind.ROLE, RequirementKind.USER)


def _items(value: object) -> tuple[Requirement, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of Requirement", path="items", value=value)
    out = tuple(value)
    for i, item in enumerate(out):
        if not isinstance(item, Requirement):
            raise ValidationError("must be a Requirement", path=f"items[{i}]", value=item)
    return out


@attrs.frozen
class Requirement:
    """Who must approve a tier: a role (one approval by anyone holding it), a named
    user, or any / all / at least ``count`` of nested requirements.

    Every approval counts for one leaf only, and one person approves once per flow,
    so ``Requirement.at_least(2, Requirement.role("approver"),
    Requirement.role("approver"))`` needs two different approvers.
    """

    kind: RequirementKind = attrs.field(validator=enum_member(RequirementKind))
    id: str | None = attrs.field(default=None, validator=optional_identifier)
    count: int | None = None
    items: tuple[Requirement, ...] = attrs.field(default=(), converter=_items)

    def __attrs_post_init__(self) -> None:
        if self.kind in _LEAF_KINDS:
            if self.id is None or self.items or self.count is not None:
                raise ValidationError(
                    f"a {self.kind.value} requirement names one id and nothing else",
                    path="id",
                    value=self.id,
                )
            return
        if self.id is not None:
            raise ValidationError(
                f"{self.kind.value} combines items and names no id", path="id", value=self.id
            )
        if self.kind is RequirementKind.AT_LEAST:
            if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
                raise ValidationError(
                    "at_least needs a count of 1 or more", path="count", value=self.count
                )
            if self.items and self.count > len(self.items):
                raise ValidationError(
                    f"at least {self.count} of {len(self.items)} can never be met",
                    path="count",
                    value=self.count,
                )
        elif self.count is not None:
            raise ValidationError(
                f"{self.kind.value} takes no count", path="count", value=self.count
            )
        if self._depth() > _MAX_NESTING:
            raise ValidationError(
                f"requirements nest at most {_MAX_NESTING} levels deep", path="items"
            )
        if len(self.leaves()) > MAX_LEAVES:
            raise ValidationError(
                f"a tier combines at most {MAX_LEAVES} roles and users", path="items"
            )

    def _depth(self) -> int:
        return 1 + max((i._depth() for i in self.items), default=0)

    @classmethod
    def role(cls, role_id: str) -> Requirement:
        """One approval by a holder of ``role_id``."""
        return cls(RequirementKind.ROLE, id=role_id)

    @classmethod
    def user(cls, user_id: str) -> Requirement:
        """The approval of ``user_id`` (or of a colleague they delegated to)."""
        return cls(RequirementKind.USER, id=user_id)

    @classmethod
    def any_of(cls, *items: Requirement) -> Requirement:
        """One of ``items``."""
        return cls(RequirementKind.ANY, items=items)

    @classmethod
    def all_of(cls, *items: Requirement) -> Requirement:
        """Every one of ``items``."""
        return cls(RequirementKind.ALL, items=items)

    @classmethod
    def at_least(cls, count: int, *items: Requirement) -> Requirement:
        """At least ``count`` of ``items`` (M of N)."""
        return cls(RequirementKind.AT_LEAST, count=count, items=items)

    @property
    def is_leaf(self) -> bool:
        """A role or a named user."""
        return self.kind in _LEAF_KINDS

    def leaves(self, prefix: Path = ()) -> tuple[tuple[Path, Requirement], ...]:
        """Every role and user leaf with its path, in order."""
        if self.is_leaf:
            return ((prefix, self),)
        out: list[tuple[Path, Requirement]] = []
        for i, item in enumerate(self.items):
            out.extend(item.leaves((*prefix, i)))
        return tuple(out)

    def needed(self) -> int:
        """How many items of a combination must be met (the count of ``at_least``)."""
        if self.kind is RequirementKind.ANY:
            return 1
        if self.kind is RequirementKind.ALL:
            return len(self.items)
        return self.count or 1

    def is_met(self, leaves: Iterable[Path], prefix: Path = ()) -> bool:
        """Whether satisfying the leaves at ``leaves`` satisfies the requirement."""
        met = set(leaves)
        if self.is_leaf:
            return prefix in met
        if not self.items:
            return False
        done = sum(1 for i, item in enumerate(self.items) if item.is_met(met, (*prefix, i)))
        return done >= self.needed()

    def minimum(self) -> int:
        """The fewest approvals that can satisfy it (0 for an empty combination)."""
        if self.is_leaf:
            return 1
        if not self.items:
            return 0
        return sum(sorted(i.minimum() for i in self.items)[: self.needed()])

    def describe(self) -> str:
        """``role approver``, ``2 of (role manager, user u-ana)``, ``all of (...)``."""
        if self.is_leaf:
            return f"{self.kind.value} {self.id}"
        inner = ", ".join(i.describe() for i in self.items)
        label = {
            RequirementKind.ANY: "any of",
            RequirementKind.ALL: "all of",
        }.get(self.kind, f"{self.count} of")
        return f"{label} ({inner})"


def satisfiable(requirement: Requirement, options: Sequence[Iterable[Path]]) -> bool:
    """Whether approvals whose qualifying leaves are ``options`` (one collection of
    leaf paths per approval, each approval used for at most one leaf) can satisfy
    ``requirement``.

    >>> r = Requirement.at_least(2, Requirement.role("a"), Requirement.role("b"))
    >>> satisfiable(r, [{(0,), (1,)}, {(0,)}]), satisfiable(r, [{(0,), (1,)}])
    (True, False)
    """
    choices = [frozenset(o) for o in options]
    return _assign(requirement, (), choices, frozenset()) is not None


def _assign(
    node: Requirement, prefix: Path, choices: list[frozenset[Path]], used: frozenset[int]
) -> frozenset[int] | None:
    """A set of approval indexes (extending ``used``) satisfying ``node``, or None."""
    for found in _assignments(node, prefix, choices, used):
        return found
    return None


def _assignments(
    node: Requirement, prefix: Path, choices: list[frozenset[Path]], used: frozenset[int]
) -> Iterable[frozenset[int]]:
    free = len(choices) - len(used)
    if node.minimum() > free or (not node.is_leaf and not node.items):
        return
    if node.is_leaf:
        for i, option in enumerate(choices):
            if i not in used and prefix in option:
                yield used | {i}
        return
    children = list(enumerate(node.items))
    for chosen in itertools.combinations(children, node.needed()):
        yield from _chain(chosen, prefix, choices, used)


def _chain(
    chosen: Sequence[tuple[int, Requirement]],
    prefix: Path,
    choices: list[frozenset[Path]],
    used: frozenset[int],
) -> Iterable[frozenset[int]]:
    if not chosen:
        yield used
        return
    (index, first), rest = chosen[0], chosen[1:]
    for after_first in _assignments(first, (*prefix, index), choices, used):
        yield from _chain(rest, prefix, choices, after_first)


class EscalationKind(enum.Enum):
    """Where an overdue tier escalates."""

    ROLE = "role"  # to the holders of a named role (once)
    PARENT_UNIT = "parent_unit"  # to the approvers of the unit above, then the next one up


@attrs.frozen
class Escalation:
    """Where an overdue tier goes: :meth:`to_role` or :meth:`to_parent_unit`."""

    kind: EscalationKind = attrs.field(validator=enum_member(EscalationKind))
    role_id: RoleId | None = attrs.field(default=None, converter=_role_id)

    def __attrs_post_init__(self) -> None:
        if (self.kind is EscalationKind.ROLE) != (self.role_id is not None):
            raise ValidationError(
                "an escalation to a role names the role; one to the parent unit names none",
                path="role_id",
                value=self.role_id,
            )

    @classmethod
    def to_role(cls, role_id: str) -> Escalation:
        """Escalate once to the holders of ``role_id``."""
        return cls(EscalationKind.ROLE, role_id)

    @classmethod
    def to_parent_unit(cls) -> Escalation:
        """Escalate to the approvers of the subject's parent unit, then further up."""
        return cls(EscalationKind.PARENT_UNIT)

    def describe(self) -> str:
        """``role finance`` or ``approvers of the parent unit``."""
        if self.kind is EscalationKind.ROLE:
            return f"role {self.role_id}"
        return "approvers of the parent unit"


def _requirement(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Requirement):
        raise ValidationError("must be a Requirement", path=attribute.name, value=value)


def _timeout(value: object) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise ValidationError(
            "must be a timedelta of business time, e.g. timedelta(hours=8)",
            path="timeout",
            value=value,
        )
    if value <= timedelta(0):
        raise ValidationError("a timeout must be positive", path="timeout", value=value)
    return value


@attrs.frozen
class ApprovalTier:
    """One step of a rule: who must approve, and optionally how long they have (in
    business time of the policy's calendar) before it escalates."""

    name: str = attrs.field(validator=text(max_length=80))
    approvers: Requirement = attrs.field(validator=_requirement)
    timeout: timedelta | None = attrs.field(default=None, converter=_timeout)
    escalate_to: Escalation | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if self.escalate_to is not None:
            if not isinstance(self.escalate_to, Escalation):
                raise ValidationError(
                    "must be an Escalation", path="escalate_to", value=self.escalate_to
                )
            if self.timeout is None:
                raise ValidationError(
                    "an escalation needs a timeout", path="escalate_to", value=self.escalate_to
                )

    def describe(self) -> str:
        """The tier in one line."""
        out = f"{self.name}: {self.approvers.describe()}"
        if self.timeout is not None:
            hours = self.timeout / timedelta(hours=1)
            shown = f"{hours:g} business hours"
            target = (
                f"escalates to {self.escalate_to.describe()}" if self.escalate_to else "expires"
            )
            out += f"; after {shown} {target}"
        return out


def _condition(value: object) -> Predicate:
    if isinstance(value, Predicate):
        return value
    if not isinstance(value, str):
        raise ValidationError("a condition is text or a Predicate", path="condition", value=value)
    return parse_predicate(value)


def _tiers(value: object) -> tuple[ApprovalTier, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of ApprovalTier", path="tiers", value=value)
    out = tuple(value)
    for i, tier in enumerate(out):
        if not isinstance(tier, ApprovalTier):
            raise ValidationError("must be an ApprovalTier", path=f"tiers[{i}]", value=tier)
    return out


def _role_set(value: object) -> frozenset[RoleId]:
    return frozenset(RoleId(r) for r in unique_ids(value, path="requester_roles"))


def _unit_set(value: object) -> frozenset[BusinessUnitId]:
    return frozenset(BusinessUnitId(u) for u in unique_ids(value, path="requester_units"))


@attrs.frozen
class ApprovalRule:
    """When the condition holds for a subject of one of the requesters, every tier
    must approve, one after the other.

    ``requester_roles`` / ``requester_units`` narrow the requesters (empty: all):
    the requester must hold one of the roles and belong to one of the units or a
    unit below one.
    """

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text(max_length=120))
    condition: Predicate = attrs.field(converter=_condition)
    tiers: tuple[ApprovalTier, ...] = attrs.field(converter=_tiers)
    requester_roles: frozenset[RoleId] = attrs.field(factory=frozenset, converter=_role_set)
    requester_units: frozenset[BusinessUnitId] = attrs.field(factory=frozenset, converter=_unit_set)

    def describe(self) -> str:
        """The rule in one line."""
        who = []
        if self.requester_roles:
            who.append("roles " + ", ".join(sorted(self.requester_roles)))
        if self.requester_units:
            who.append("units " + ", ".join(sorted(self.requester_units)))
        scope = f" (requesters: {'; '.join(who)})" if who else ""
        return f"{self.name} [{self.id}] when {self.condition}{scope}"


def _rules(value: object) -> tuple[ApprovalRule, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of ApprovalRule", path="rules", value=value)
    out = tuple(value)
    seen: set[str] = set()
    for i, rule in enumerate(out):
        if not isinstance(rule, ApprovalRule):
            raise ValidationError("must be an ApprovalRule", path=f"rules[{i}]", value=rule)
        if rule.id in seen:
            raise ValidationError(
                f"rule id {rule.id!r} is used twice", path=f"rules[{i}].id", value=rule.id
            )
        seen.add(rule.id)
    return out


def _calendar(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, BusinessCalendar):
        raise ValidationError("must be a BusinessCalendar", path=attribute.name, value=value)


@attrs.define
class ApprovalPolicy(Aggregate):
    """A company's approval rules, and the business calendar their timeouts run on.

    Every matching rule applies (they are not alternatives); a subject no rule
    matches needs no approval.
    """

    company_id: CompanyId = attrs.field(converter=_company_id)
    rules: tuple[ApprovalRule, ...] = attrs.field(factory=tuple, converter=_rules)
    calendar: BusinessCalendar | None = attrs.field(default=None, validator=_calendar)

    def __attrs_post_init__(self) -> None:
        if self.calendar is None:
            for i, rule in enumerate(self.rules):
                for j, tier in enumerate(rule.tiers):
                    if tier.timeout is not None:
                        raise ValidationError(
                            f"tier {tier.name!r} of rule {rule.id!r} has a timeout: the policy "
                            "needs a business calendar to count it",
                            path=f"rules[{i}].tiers[{j}].timeout",
                            value=tier.timeout,
                        )

    def rule(self, rule_id: str) -> ApprovalRule:
        """The rule with this id (ValidationError if there is none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise ValidationError(f"the policy has no rule {rule_id!r}", path="rule_id", value=rule_id)


# -- flows --------------------------------------------------------------------------------


class Verdict(enum.Enum):
    """An approver's verdict."""

    APPROVED = "approved"
    REJECTED = "rejected"


class FlowStatus(enum.Enum):
    """Where a flow stands; every state but pending is final."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@attrs.frozen
class Qualification:
    """Why an approver's decision counts in a tier: the requirement leaf they meet
    (None when they decide as an escalation target), their limit for it (None:
    unlimited) and a description (``role approver up to 10000.00 EUR``)."""

    leaf: Path | None
    limit: Money | None
    via: str


def _utc_at(value: object) -> datetime:
    return to_utc(value, path="at")


def _optional_utc(value: object) -> datetime | None:
    return None if value is None else to_utc(value, path="at")


@attrs.frozen
class Decision:
    """One approver's decision in a flow, on one tier of one rule.

    ``acted_by`` pressed the button; ``on_behalf_of`` is whose authority they used
    (themselves, or a colleague who delegated to them — ``delegation_id``).
    """

    rule_id: str
    tier: int
    verdict: Verdict = attrs.field(validator=enum_member(Verdict))
    acted_by: UserId = attrs.field(converter=_acted_by)
    on_behalf_of: UserId = attrs.field(converter=_on_behalf_of)
    at: datetime = attrs.field(converter=_utc_at)
    comment: str = ""
    qualifications: tuple[Qualification, ...] = ()
    delegation_id: DelegationId | None = None

    @property
    def persons(self) -> frozenset[str]:
        """Who took part: the one who acted and the one they acted for."""
        return frozenset({self.acted_by, self.on_behalf_of})

    @property
    def delegated(self) -> bool:
        """Whether a delegate decided for someone else."""
        return self.acted_by != self.on_behalf_of


@attrs.frozen
class EscalationStep:
    """One escalation of a tier: when, to whom (a role, or a unit's approvers)."""

    at: datetime = attrs.field(converter=_utc_at)
    level: int
    kind: EscalationKind
    role_id: RoleId | None = None
    unit_id: BusinessUnitId | None = None

    def describe(self) -> str:
        """``role finance`` / ``approvers of unit hq``."""
        if self.kind is EscalationKind.ROLE:
            return f"role {self.role_id}"
        return f"approvers of unit {self.unit_id}"


@attrs.frozen
class TierProgress:
    """A tier inside a flow: its definition (copied when the flow started), when it
    became active and is due, its escalations and decisions, when it was met."""

    tier: ApprovalTier
    started_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    due_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    escalations: tuple[EscalationStep, ...] = ()
    decisions: tuple[Decision, ...] = ()
    completed_at: datetime | None = attrs.field(default=None, converter=_optional_utc)

    @property
    def approvals(self) -> tuple[Decision, ...]:
        """The approving decisions."""
        return tuple(d for d in self.decisions if d.verdict is Verdict.APPROVED)

    def is_satisfied(self) -> bool:
        """Whether the approvals meet the requirement (each approval counting for one
        leaf), or an escalation target approved."""
        options: list[set[Path]] = []
        for d in self.approvals:
            leaves = {q.leaf for q in d.qualifications if q.leaf is not None}
            if any(q.leaf is None for q in d.qualifications):
                return True
            options.append(leaves)
        return satisfiable(self.tier.approvers, options)


@attrs.frozen
class RuleProgress:
    """A matched rule inside a flow: its definition and its tiers' progress."""

    rule: ApprovalRule
    tiers: tuple[TierProgress, ...]

    @property
    def active_index(self) -> int | None:
        """The first tier not met yet (None when all are)."""
        for i, tier in enumerate(self.tiers):
            if tier.completed_at is None:
                return i
        return None

    @property
    def is_satisfied(self) -> bool:
        """Whether every tier is met."""
        return self.active_index is None


def _flow_rules(value: object) -> tuple[RuleProgress, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of RuleProgress", path="rules", value=value)
    return tuple(value)


@attrs.define
class ApprovalFlow(Aggregate):
    """The approval of one subject. Change it only through its methods (or
    :mod:`b2bcore.approvals.rules`), which keep the invariants: decisions only on
    active tiers, never by the requester, one decision per person; approved exactly
    when every tier of every matched rule is met."""

    id: FlowId = attrs.field(converter=_flow_id)
    company_id: CompanyId = attrs.field(converter=_company_id)
    subject: Subject
    submitted_at: datetime = attrs.field(converter=_utc_at)
    rules: tuple[RuleProgress, ...] = attrs.field(converter=_flow_rules)
    status: FlowStatus = attrs.field(default=FlowStatus.PENDING, validator=enum_member(FlowStatus))
    calendar: BusinessCalendar | None = None
    policy_version: int = 0
    completed_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    cycle_time: timedelta | None = None
    business_cycle_time: timedelta | None = None
    outcome_reason: str = ""
    resubmissions: int = 0

    # -- reading ------------------------------------------------------------------------
    @property
    def is_pending(self) -> bool:
        """Still waiting for decisions."""
        return self.status is FlowStatus.PENDING

    def rule_index(self, rule_id: str) -> int:
        """Position of a matched rule (ValidationError when the rule did not match)."""
        for i, progress in enumerate(self.rules):
            if progress.rule.id == rule_id:
                return i
        raise ValidationError(
            f"rule {rule_id!r} is not part of flow {self.id!r}", path="rule_id", value=rule_id
        )

    def active_tiers(self) -> list[tuple[int, int]]:
        """(rule index, tier index) of every tier waiting for decisions now."""
        if not self.is_pending:
            return []
        out = []
        for r, progress in enumerate(self.rules):
            t = progress.active_index
            if t is not None:
                out.append((r, t))
        return out

    def persons(self) -> frozenset[str]:
        """Everyone who approved in this flow, and everyone whose authority was used."""
        out: set[str] = set()
        for progress in self.rules:
            for tier in progress.tiers:
                for d in tier.approvals:
                    out |= d.persons
        return frozenset(out)

    def decisions(self) -> list[Decision]:
        """Every decision, in the order they were made."""
        found = [d for p in self.rules for t in p.tiers for d in t.decisions]
        return sorted(found, key=lambda d: d.at)

    def next_due(self) -> datetime | None:
        """The earliest due time of an active tier (None when nothing is timed)."""
        dues = [
            due
            for r, t in self.active_tiers()
            if (due := self.rules[r].tiers[t].due_at) is not None
        ]
        return min(dues, default=None)

    def all_satisfied(self) -> bool:
        """Whether every tier of every matched rule is met."""
        return all(p.is_satisfied for p in self.rules)

    # -- changing -----------------------------------------------------------------------
    def _event_base(self, at: datetime) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "occurred_at": at,
            "flow_id": self.id,
            "subject_kind": self.subject.ref.kind,
            "subject_id": self.subject.ref.id,
        }

    def _due(self, tier: ApprovalTier, start: datetime) -> datetime | None:
        if tier.timeout is None or self.calendar is None:
            return None
        return self.calendar.add_business_time(start, tier.timeout)

    def _replace_tier(self, r: int, t: int, tier: TierProgress) -> None:
        progress = self.rules[r]
        tiers = (*progress.tiers[:t], tier, *progress.tiers[t + 1 :])
        self.rules = (*self.rules[:r], attrs.evolve(progress, tiers=tiers), *self.rules[r + 1 :])

    def activate_waiting(self, at: datetime) -> None:
        """Start the clock of every active tier that has not started yet."""
        for r, t in self.active_tiers():
            tier = self.rules[r].tiers[t]
            if tier.started_at is None:
                self._replace_tier(
                    r, t, attrs.evolve(tier, started_at=at, due_at=self._due(tier.tier, at))
                )

    def _require_pending(self, to_state: str) -> None:
        if not self.is_pending:
            raise InvalidTransitionError("approval flow", self.id, self.status.value, to_state)

    def record_decision(self, decision: Decision) -> None:
        """Add an approver's decision to its (active) tier; reject or complete the flow
        when that decides it. Separation of duties is enforced here too: the
        requester never decides, and nobody decides twice."""
        if not isinstance(decision, Decision):
            raise ValidationError("must be a Decision", path="decision", value=decision)
        self._require_pending(decision.verdict.value)
        r = self.rule_index(decision.rule_id)
        if (r, decision.tier) not in self.active_tiers():
            raise ConflictError(
                f"tier {decision.tier} of rule {decision.rule_id!r} is not waiting for decisions"
            )
        requester = self.subject.requester_id
        if requester in decision.persons:
            raise NotEligibleError(
                f"{requester} requested {self.subject.ref} and cannot decide on it",
                actor=decision.acted_by,
                decision_code="requester",
            )
        twice = decision.persons & self.persons()
        if twice:
            raise NotEligibleError(
                f"{', '.join(sorted(twice))} already approved in this flow; one person "
                "approves once",
                actor=decision.acted_by,
                decision_code="already_decided",
            )
        if decision.verdict is Verdict.APPROVED and not decision.qualifications:
            raise ValidationError(
                "an approval must say which requirement the approver meets",
                path="qualifications",
            )
        tier = self.rules[r].tiers[decision.tier]
        tier = attrs.evolve(tier, decisions=(*tier.decisions, decision))
        at = decision.at
        self.record(
            ApprovalDecided(
                **self._event_base(at),
                rule_id=decision.rule_id,
                tier=decision.tier,
                verdict=decision.verdict.value,
                acted_by=decision.acted_by,
                on_behalf_of=decision.on_behalf_of,
                comment=decision.comment,
            )
        )
        if decision.verdict is Verdict.REJECTED:
            self._replace_tier(r, decision.tier, tier)
            self._finish(FlowStatus.REJECTED, at, decision.comment, rejected_by=decision)
            return
        if tier.is_satisfied():
            tier = attrs.evolve(tier, completed_at=at, due_at=None)
        self._replace_tier(r, decision.tier, tier)
        self._advance(at)

    def _advance(self, at: datetime) -> None:
        if self.all_satisfied():
            self._finish(FlowStatus.APPROVED, at, "every tier of every matching rule approved")
        else:
            self.activate_waiting(at)

    def _finish(
        self, status: FlowStatus, at: datetime, reason: str, *, rejected_by: Decision | None = None
    ) -> None:
        self.status = status
        self.completed_at = at
        self.outcome_reason = reason
        self.cycle_time = at - self.submitted_at
        self.business_cycle_time = (
            self.calendar.business_time_between(self.submitted_at, at)
            if self.calendar is not None
            else None
        )
        base = self._event_base(at)
        if status is FlowStatus.APPROVED:
            self.record(ApprovalFlowApproved(**base, total=self.subject.total))
        elif rejected_by is not None:
            self.record(
                ApprovalFlowRejected(
                    **base,
                    rejected_by=rejected_by.acted_by,
                    on_behalf_of=rejected_by.on_behalf_of,
                    reason=reason,
                )
            )
        self.record(
            ApprovalFlowCompleted(
                **base,
                status=status.value,
                requester_id=self.subject.requester_id,
                total=self.subject.total,
                cycle_time=self.cycle_time,
                business_cycle_time=self.business_cycle_time,
            )
        )

    def start(self, at: datetime) -> None:
        """Record the start (call once, when the flow is first stored): activate the
        first tier of every rule, or approve at once when no rule matched."""
        self.record(
            ApprovalFlowStarted(
                **self._event_base(at),
                requester_id=self.subject.requester_id,
                total=self.subject.total,
                rule_ids=tuple(p.rule.id for p in self.rules),
            )
        )
        if not self.rules:
            self._finish(FlowStatus.APPROVED, at, "no approval rule matches")
        else:
            self._advance(at)

    def cancel(self, *, by: str, at: datetime, reason: str) -> None:
        """The requester withdraws the subject."""
        self._require_pending(FlowStatus.CANCELLED.value)
        self._finish(FlowStatus.CANCELLED, require_aware(at, path="at"), f"{by}: {reason}")

    def escalate(self, r: int, t: int, step: EscalationStep) -> None:
        """Escalate the active tier ``t`` of rule ``r`` (its clock restarts at the step)."""
        self._require_pending("escalated")
        tier = self.rules[r].tiers[t]
        due = self._due(tier.tier, step.at)
        self._replace_tier(
            r, t, attrs.evolve(tier, escalations=(*tier.escalations, step), due_at=due)
        )
        self.record(
            ApprovalTierEscalated(
                **self._event_base(step.at),
                rule_id=self.rules[r].rule.id,
                tier=t,
                level=step.level,
                target=step.describe(),
            )
        )

    def expire(self, at: datetime, reason: str) -> None:
        """A tier ran out of time with nowhere left to escalate."""
        self._require_pending(FlowStatus.EXPIRED.value)
        self._finish(FlowStatus.EXPIRED, at, reason)

    def replace_rules(
        self,
        rules: Sequence[RuleProgress],
        *,
        at: datetime,
        subject: Subject,
        kept: Sequence[str],
        reset: Sequence[str],
        added: Sequence[str],
        dropped: Sequence[str],
    ) -> None:
        """Selective re-approval (see :func:`b2bcore.approvals.rules.resubmit`)."""
        self._require_pending("resubmitted")
        self.subject = subject
        self.rules = tuple(rules)
        self.resubmissions += 1
        self.record(
            ApprovalFlowReset(
                **self._event_base(at),
                total=subject.total,
                kept=tuple(kept),
                reset=tuple(reset),
                added=tuple(added),
                dropped=tuple(dropped),
            )
        )
        self._advance(at)


# -- budgets and delegations --------------------------------------------------------------


class BudgetPeriod(enum.Enum):
    """The period a budget amount is for."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def _nonnegative(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError("must be Money", path=attribute.name, value=value)
    if value.is_negative():
        raise ValidationError("a budget cannot be negative", path=attribute.name, value=value)


def _zone_name(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError("must be an IANA time zone name", path=attribute.name, value=value)
    get_zone(value)


def _spent(value: object) -> dict[str, Money]:
    if not isinstance(value, Mapping):
        raise ValidationError("must be a mapping of period to Money", path="spent", value=value)
    out = {}
    for key, amount in value.items():
        if not isinstance(key, str) or not isinstance(amount, Money):
            raise ValidationError(
                "must map a period to Money", path=f"spent[{key!r}]", value=amount
            )
        out[key] = amount
    return out


@attrs.define
class Budget(Aggregate):
    """Spend allowed per period for one business unit (and the units below it) or
    one cost center; approved subjects commit their totals to it.

    >>> from datetime import datetime, timezone
    >>> b = Budget(id="b-1", company_id="acme", amount=Money("20000", "EUR"),
    ...            period=BudgetPeriod.QUARTER, business_unit_id="leipzig")
    >>> at = datetime(2026, 11, 23, tzinfo=timezone.utc)
    >>> b.commit(Money("7657.30", "EUR"), at=at, flow_id="f-1")
    >>> b.period_key(at), b.remaining(at)
    ('2026-Q4', Money('12342.70', 'EUR'))
    """

    id: BudgetId = attrs.field(converter=_budget_id)
    company_id: CompanyId = attrs.field(converter=_company_id)
    amount: Money = attrs.field(validator=_nonnegative)
    period: BudgetPeriod = attrs.field(validator=enum_member(BudgetPeriod))
    business_unit_id: BusinessUnitId | None = attrs.field(default=None, converter=_unit_id)
    cost_center: str | None = attrs.field(default=None, validator=_optional_text)
    timezone: str = attrs.field(default="UTC", validator=_zone_name)
    spent: dict[str, Money] = attrs.field(factory=dict, converter=_spent)
    name: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.business_unit_id is None) == (self.cost_center is None):
            raise ValidationError(
                "a budget is for exactly one business unit or one cost center",
                path="business_unit_id",
            )

    @property
    def scope(self) -> str:
        """``unit:leipzig`` or ``cost_center:CC-4711``."""
        if self.business_unit_id is not None:
            return f"unit:{self.business_unit_id}"
        return f"cost_center:{self.cost_center}"

    @property
    def scope_key(self) -> str:
        """Unique per company: one budget per scope and period kind."""
        return f"{self.scope}:{self.period.value}"

    def period_key(self, at: datetime) -> str:
        """``2026-11``, ``2026-Q4`` or ``2026`` for the instant ``at`` (in the budget's
        time zone)."""
        local = require_aware(at, path="at").astimezone(get_zone(self.timezone))
        if self.period is BudgetPeriod.MONTH:
            return f"{local.year}-{local.month:02d}"
        if self.period is BudgetPeriod.QUARTER:
            return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
        return str(local.year)

    def committed(self, at: datetime) -> Money:
        """Spend committed in the period of ``at``."""
        return self.spent.get(self.period_key(at), Money.zero(self.amount.currency))

    def remaining(self, at: datetime) -> Money:
        """What is left in the period of ``at`` (negative when overspent)."""
        return self.amount - self.committed(at)

    def commit(self, amount: Money, *, at: datetime, flow_id: str) -> None:
        """Commit an approved subject's total (same currency as the budget)."""
        key = self.period_key(at)
        self.spent = {**self.spent, key: self.committed(at) + amount}
        self.record(
            BudgetCommitted(
                company_id=self.company_id,
                occurred_at=at,
                budget_id=self.id,
                flow_id=FlowId(flow_id),
                amount=amount,
                period=key,
            )
        )


def _utc_from(value: object) -> datetime:
    return to_utc(value, path="valid_from")


def _utc_until(value: object) -> datetime:
    return to_utc(value, path="valid_until")


@attrs.define
class Delegation(Aggregate):
    """An approver hands their approvals to a colleague for a window (out of office).

    The delegate then decides *on behalf of* the delegator, with the delegator's
    roles and limits; the decision records both. One hop only: a delegate's own
    delegations are not followed.
    """

    id: DelegationId = attrs.field(converter=_delegation_id)
    company_id: CompanyId = attrs.field(converter=_company_id)
    delegator_id: UserId = attrs.field(converter=_delegator_id)
    delegate_id: UserId = attrs.field(converter=_delegate_id)
    valid_from: datetime = attrs.field(converter=_utc_from)
    valid_until: datetime = attrs.field(converter=_utc_until)
    reason: str = ""
    revoked_at: datetime | None = attrs.field(default=None, converter=_optional_utc)

    def __attrs_post_init__(self) -> None:
        if self.delegator_id == self.delegate_id:
            raise ValidationError(
                "delegate to a colleague, not to yourself",
                path="delegate_id",
                value=self.delegate_id,
            )
        if self.valid_until <= self.valid_from:
            raise ValidationError(
                "valid_until must be after valid_from (the window is half-open)",
                path="valid_until",
                value=self.valid_until,
            )

    def active_at(self, at: datetime) -> bool:
        """Whether the delegation is in force at ``at``."""
        at = require_aware(at, path="at")
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        return self.valid_from <= at < self.valid_until

    def overlaps(self, other: Delegation) -> bool:
        """Whether both windows (up to a revocation) share an instant."""
        a_end = min(self.valid_until, self.revoked_at or self.valid_until)
        b_end = min(other.valid_until, other.revoked_at or other.valid_until)
        return self.valid_from < b_end and other.valid_from < a_end

    def revoke(self, at: datetime) -> None:
        """End the delegation now (idempotent)."""
        if self.revoked_at is None:
            self.revoked_at = to_utc(at, path="at")
            self.record(
                DelegationRevoked(company_id=self.company_id, occurred_at=at, delegation_id=self.id)
            )


# -- events -------------------------------------------------------------------------------


@register_event
@attrs.frozen(kw_only=True)
class ApprovalPolicySaved(DomainEvent):
    """A company's approval policy was created or changed."""

    event_type = "approvals.policy_saved"
    rule_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class _FlowEvent(DomainEvent):
    flow_id: FlowId
    subject_kind: str
    subject_id: str


@register_event
@attrs.frozen(kw_only=True)
class ApprovalFlowStarted(_FlowEvent):
    """A subject was submitted for approval."""

    event_type = "approvals.flow_started"
    requester_id: UserId
    total: Money
    rule_ids: tuple[str, ...]


@register_event
@attrs.frozen(kw_only=True)
class ApprovalDecided(_FlowEvent):
    """An approver approved or rejected (``acted_by`` for ``on_behalf_of``)."""

    event_type = "approvals.decided"
    rule_id: str
    tier: int
    verdict: str
    acted_by: UserId
    on_behalf_of: UserId
    comment: str


@register_event
@attrs.frozen(kw_only=True)
class ApprovalTierEscalated(_FlowEvent):
    """An overdue tier was escalated."""

    event_type = "approvals.tier_escalated"
    rule_id: str
    tier: int
    level: int
    target: str


@register_event
@attrs.frozen(kw_only=True)
class ApprovalFlowReset(_FlowEvent):
    """The subject changed: rules whose outcome changed were reset (``reset``,
    ``added``, ``dropped``), the others kept their approvals (``kept``)."""

    event_type = "approvals.flow_reset"
    total: Money
    kept: tuple[str, ...]
    reset: tuple[str, ...]
    added: tuple[str, ...]
    dropped: tuple[str, ...]


@register_event
@attrs.frozen(kw_only=True)
class ApprovalFlowApproved(_FlowEvent):
    """Every tier of every matching rule approved: the subject may proceed (an
    order leaves ``pending_approval``)."""

    event_type = "approvals.flow_approved"
    total: Money


@register_event
@attrs.frozen(kw_only=True)
class ApprovalFlowRejected(_FlowEvent):
    """An approver rejected the subject, with a reason."""

    event_type = "approvals.flow_rejected"
    rejected_by: UserId
    on_behalf_of: UserId
    reason: str


@register_event
@attrs.frozen(kw_only=True)
class ApprovalFlowCompleted(_FlowEvent):
    """A flow reached a final state (approved, rejected, cancelled, expired), with
    its cycle time — elapsed and in business time — for analytics."""

    event_type = "approvals.flow_completed"
    status: str
    requester_id: UserId
    total: Money
    cycle_time: timedelta
    business_cycle_time: timedelta | None


@register_event
@attrs.frozen(kw_only=True)
class BudgetSaved(DomainEvent):
    """A budget was created or its amount changed."""

    event_type = "approvals.budget_saved"
    budget_id: BudgetId
    scope: str
    amount: Money
    period: str


@register_event
@attrs.frozen(kw_only=True)
class BudgetCommitted(DomainEvent):
    """An approved subject's total was committed to a budget."""

    event_type = "approvals.budget_committed"
    budget_id: BudgetId
    flow_id: FlowId
    amount: Money
    period: str


@register_event
@attrs.frozen(kw_only=True)
class DelegationGranted(DomainEvent):
    """An approver delegated to a colleague for a window."""

    event_type = "approvals.delegation_granted"
    delegation_id: DelegationId
    delegator_id: UserId
    delegate_id: UserId
    valid_from: datetime
    valid_until: datetime


@register_event
@attrs.frozen(kw_only=True)
class DelegationRevoked(DomainEvent):
    """A delegation was ended early."""

    event_type = "approvals.delegation_revoked"
    delegation_id: DelegationId
