"""Repository protocols of the accounts context.

Semantics every implementation keeps (the contract suite in
:mod:`b2bcore.testing.contracts` checks them):

* ``get`` raises :class:`~b2bcore.errors.NotFoundError` — also when the id exists
  in another company (tenants never see each other's data);
* ``add`` raises :class:`~b2bcore.errors.DuplicateError` for an existing id or
  unique value, and sets ``version`` to 1;
* ``update`` takes the aggregate with the version that was read, raises
  :class:`~b2bcore.errors.ConcurrencyError` when the stored version moved on, and
  increments ``version``;
* ``list`` takes keyword-only filters, a ``limit`` and a ``cursor``, and returns a
  :class:`~b2bcore.paging.Page` in a stable order (by id).
"""

from __future__ import annotations

from typing import Protocol

from b2bcore.accounts.model import (
    Agent,
    AssistedSession,
    BusinessUnit,
    Company,
    CompanyUser,
    Role,
    UserStatus,
)
from b2bcore.ids import AgentId, AssistedSessionId, BusinessUnitId, CompanyId, RoleId, UserId
from b2bcore.paging import DEFAULT_LIMIT, Page

__all__ = [
    "AgentRepository",
    "AssistedSessionRepository",
    "BusinessUnitRepository",
    "CompanyRepository",
    "RoleRepository",
    "UserRepository",
]


class CompanyRepository(Protocol):
    """Companies. ``list`` is the one cross-tenant (platform admin) query."""

    def get(self, company_id: CompanyId, /) -> Company:
        """The company with this id."""
        ...

    def add(self, company: Company, /) -> None:
        """Store a new company."""
        ...

    def update(self, company: Company, /) -> None:
        """Store a changed company (optimistic concurrency on ``version``)."""
        ...

    def list(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Company]:
        """All companies, by id (cross-tenant: for platform administration only)."""
        ...


class BusinessUnitRepository(Protocol):
    """Business units, always inside one company."""

    def get(self, unit_id: BusinessUnitId, /, *, company_id: CompanyId) -> BusinessUnit:
        """The unit with this id in ``company_id``."""
        ...

    def add(self, unit: BusinessUnit, /) -> None:
        """Store a new unit."""
        ...

    def update(self, unit: BusinessUnit, /) -> None:
        """Store a changed unit."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        parent_id: BusinessUnitId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[BusinessUnit]:
        """Units of a company, optionally only the children of ``parent_id``, by id."""
        ...


class UserRepository(Protocol):
    """Company users; e-mail is unique per company."""

    def get(self, user_id: UserId, /, *, company_id: CompanyId) -> CompanyUser:
        """The user with this id in ``company_id``."""
        ...

    def add(self, user: CompanyUser, /) -> None:
        """Store a new user (DuplicateError on an existing id or e-mail in the company)."""
        ...

    def update(self, user: CompanyUser, /) -> None:
        """Store a changed user."""
        ...

    def find_by_email(self, email: str, /, *, company_id: CompanyId) -> CompanyUser | None:
        """The user with this e-mail (case-insensitive) in the company, if any."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        business_unit_id: BusinessUnitId | None = None,
        status: UserStatus | None = None,
        role_id: RoleId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[CompanyUser]:
        """Users of a company, optionally in one business unit, status or holding a role
        (in any window), by id."""
        ...


class RoleRepository(Protocol):
    """Roles, always inside one company."""

    def get(self, role_id: RoleId, /, *, company_id: CompanyId) -> Role:
        """The role with this id in ``company_id``."""
        ...

    def add(self, role: Role, /) -> None:
        """Store a new role."""
        ...

    def update(self, role: Role, /) -> None:
        """Store a changed role."""
        ...

    def list(
        self, *, company_id: CompanyId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Role]:
        """Roles of a company, by id."""
        ...


class AgentRepository(Protocol):
    """Seller-side agents: platform-wide, not company users."""

    def get(self, agent_id: AgentId, /) -> Agent:
        """The agent with this id."""
        ...

    def add(self, agent: Agent, /) -> None:
        """Store a new agent (DuplicateError on a taken id)."""
        ...

    def update(self, agent: Agent, /) -> None:
        """Store a changed agent."""
        ...

    def list(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Agent]:
        """All agents, by id."""
        ...


class AssistedSessionRepository(Protocol):
    """Assisted-buying sessions, inside the customer's company."""

    def get(self, session_id: AssistedSessionId, /, *, company_id: CompanyId) -> AssistedSession:
        """The session with this id in ``company_id``."""
        ...

    def add(self, session: AssistedSession, /) -> None:
        """Store a new session."""
        ...

    def update(self, session: AssistedSession, /) -> None:
        """Store a changed session (e.g. ended)."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        agent_id: AgentId | None = None,
        customer_user_id: UserId | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AssistedSession]:
        """Sessions of a company, optionally of one agent or customer user, by id."""
        ...
