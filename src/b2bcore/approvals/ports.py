"""Repository protocols of the approvals context.

The semantics of :mod:`b2bcore.accounts.ports` hold here too (``get`` raises
NotFoundError, also across tenants; ``add`` DuplicateError; ``update`` needs the
version read, ConcurrencyError otherwise; ``list`` pages in a stable order). Two
more guarantees the contract suite checks:

* a company has at most one :class:`~b2bcore.approvals.model.ApprovalPolicy`;
* at most one *pending* flow exists per subject: adding or updating a second one
  raises DuplicateError, even when two units of work race.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from b2bcore.approvals.model import (
    ApprovalFlow,
    ApprovalPolicy,
    Budget,
    Delegation,
    FlowStatus,
    SubjectRef,
)
from b2bcore.ids import BudgetId, CompanyId, DelegationId, FlowId, UserId
from b2bcore.paging import DEFAULT_LIMIT, Page

__all__ = [
    "ApprovalFlowRepository",
    "ApprovalPolicyRepository",
    "BudgetRepository",
    "DelegationRepository",
]


class ApprovalPolicyRepository(Protocol):
    """The approval policy of each company (one per company)."""

    def get(self, *, company_id: CompanyId) -> ApprovalPolicy:
        """The company's policy (NotFoundError when it has none)."""
        ...

    def add(self, policy: ApprovalPolicy, /) -> None:
        """Store the company's first policy (DuplicateError if it has one)."""
        ...

    def update(self, policy: ApprovalPolicy, /) -> None:
        """Store a changed policy."""
        ...


class ApprovalFlowRepository(Protocol):
    """Approval flows, per company."""

    def get(self, flow_id: FlowId, /, *, company_id: CompanyId) -> ApprovalFlow:
        """The flow with this id in ``company_id``."""
        ...

    def add(self, flow: ApprovalFlow, /) -> None:
        """Store a new flow (DuplicateError when the subject has a pending flow)."""
        ...

    def update(self, flow: ApprovalFlow, /) -> None:
        """Store a changed flow."""
        ...

    def pending_for(self, subject: SubjectRef, /, *, company_id: CompanyId) -> ApprovalFlow | None:
        """The subject's pending flow, if any."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        status: FlowStatus | None = None,
        requester_id: UserId | None = None,
        subject: SubjectRef | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ApprovalFlow]:
        """Flows of a company, optionally by status, requester or subject, by id
        (ids made by :func:`~b2bcore.ids.new_id` sort in creation order)."""
        ...

    def due(
        self, *, company_id: CompanyId, until: datetime, limit: int = DEFAULT_LIMIT
    ) -> builtins.list[ApprovalFlow]:
        """Pending flows with a tier due at or before ``until``, earliest first."""
        ...


class BudgetRepository(Protocol):
    """Budgets per business unit or cost center; one per scope and period kind."""

    def get(self, budget_id: BudgetId, /, *, company_id: CompanyId) -> Budget:
        """The budget with this id in ``company_id``."""
        ...

    def add(self, budget: Budget, /) -> None:
        """Store a new budget (DuplicateError for a taken id or scope and period)."""
        ...

    def update(self, budget: Budget, /) -> None:
        """Store a changed budget."""
        ...

    def list(
        self, *, company_id: CompanyId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Budget]:
        """Budgets of a company, by id."""
        ...


class DelegationRepository(Protocol):
    """Delegations of approvals, per company."""

    def get(self, delegation_id: DelegationId, /, *, company_id: CompanyId) -> Delegation:
        """The delegation with this id in ``company_id``."""
        ...

    def add(self, delegation: Delegation, /) -> None:
        """Store a new delegation."""
        ...

    def update(self, delegation: Delegation, /) -> None:
        """Store a changed delegation (e.g. revoked)."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        delegator_id: UserId | None = None,
        delegate_id: UserId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Delegation]:
        """Delegations of a company, optionally from or to one user, by id."""
        ...
