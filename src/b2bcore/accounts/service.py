"""Use-cases of the accounts context: companies, the business-unit tree, users.

Each method runs in its own unit of work and either commits everything it changed
(with its events, in the same transaction) or nothing. Roles, permissions, actors
and the audit trail of these commands arrive with the accounts issue; until then
the methods take no actor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from b2bcore.accounts.model import (
    BusinessUnit,
    BusinessUnitAdded,
    BusinessUnitMoved,
    Company,
    CompanyCreated,
    CompanyUser,
    UserInvited,
    UserStatus,
)
from b2bcore.accounts.rules import check_tree
from b2bcore.clock import Clock
from b2bcore.errors import DuplicateError
from b2bcore.ids import BusinessUnitId, CompanyId, UserId, check_id, new_id
from b2bcore.paging import DEFAULT_LIMIT, Page, iterate
from b2bcore.storage.ports import UnitOfWork

__all__ = ["AccountsService"]


class AccountsService:
    """Accounts use-cases over any store (via a unit-of-work factory)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = unit_of_work
        self._clock = clock

    # -- companies ----------------------------------------------------------------------
    def create_company(
        self, *, name: str, company_id: str | None = None, country: str | None = None
    ) -> Company:
        """Register a buyer company (DuplicateError if the id is taken)."""
        cid = CompanyId(
            check_id(company_id, path="company_id") if company_id is not None else new_id()
        )
        company = Company(id=cid, name=name, country=country)
        company.record(CompanyCreated(company_id=cid, occurred_at=self._clock.now(), name=name))
        with self._uow() as uow:
            uow.companies.add(company)
            uow.commit()
        return company

    def get_company(self, company_id: CompanyId) -> Company:
        """The company (NotFoundError if there is none)."""
        with self._uow() as uow:
            return uow.companies.get(company_id)

    # -- business units -----------------------------------------------------------------
    def add_business_unit(
        self,
        *,
        company_id: CompanyId,
        name: str,
        unit_id: str | None = None,
        parent_id: BusinessUnitId | None = None,
        cost_center: str | None = None,
    ) -> BusinessUnit:
        """Add a unit to the company's tree, under ``parent_id`` (None: a new root)."""
        uid = BusinessUnitId(check_id(unit_id, path="unit_id") if unit_id is not None else new_id())
        unit = BusinessUnit(
            id=uid, company_id=company_id, name=name, parent_id=parent_id, cost_center=cost_center
        )
        unit.record(
            BusinessUnitAdded(
                company_id=company_id,
                occurred_at=self._clock.now(),
                business_unit_id=uid,
                parent_id=parent_id,
            )
        )
        with self._uow() as uow:
            uow.companies.get(company_id)
            if parent_id is not None:
                uow.business_units.get(parent_id, company_id=company_id)
            uow.business_units.add(unit)
            uow.commit()
        return unit

    def move_business_unit(
        self,
        *,
        company_id: CompanyId,
        unit_id: BusinessUnitId,
        new_parent_id: BusinessUnitId | None,
    ) -> BusinessUnit:
        """Re-parent a unit; ValidationError naming the loop if it would create a cycle."""
        with self._uow() as uow:
            unit = uow.business_units.get(unit_id, company_id=company_id)
            old_parent = unit.parent_id
            if new_parent_id is not None:
                uow.business_units.get(new_parent_id, company_id=company_id)
            units = self._all_units(uow, company_id)
            moved = BusinessUnit(
                id=unit.id,
                company_id=company_id,
                name=unit.name,
                parent_id=new_parent_id,
                cost_center=unit.cost_center,
                version=unit.version,
            )
            check_tree([moved if u.id == unit_id else u for u in units])
            moved.record(
                BusinessUnitMoved(
                    company_id=company_id,
                    occurred_at=self._clock.now(),
                    business_unit_id=unit_id,
                    old_parent_id=old_parent,
                    new_parent_id=new_parent_id,
                )
            )
            uow.business_units.update(moved)
            uow.commit()
        return moved

    @staticmethod
    def _all_units(uow: UnitOfWork, company_id: CompanyId) -> list[BusinessUnit]:
        return list(
            iterate(
                lambda cursor: uow.business_units.list(
                    company_id=company_id, limit=500, cursor=cursor
                )
            )
        )

    def business_unit_tree(self, *, company_id: CompanyId) -> list[BusinessUnit]:
        """Every unit of the company, parents before children (then by id)."""
        with self._uow() as uow:
            uow.companies.get(company_id)
            units = self._all_units(uow, company_id)
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

    # -- users --------------------------------------------------------------------------
    def invite_user(
        self,
        *,
        company_id: CompanyId,
        email: str,
        name: str,
        business_unit_ids: Sequence[BusinessUnitId],
        user_id: str | None = None,
    ) -> CompanyUser:
        """Invite a user into the company, member of the given business units.

        NotFoundError for an unknown company or unit (of this company); DuplicateError
        when the id or the e-mail (case-insensitive) is taken in the company.
        """
        uid = UserId(check_id(user_id, path="user_id") if user_id is not None else new_id())
        user = CompanyUser(
            id=uid,
            company_id=company_id,
            email=email,
            name=name,
            business_unit_ids=tuple(business_unit_ids),
            status=UserStatus.INVITED,
        )
        user.record(
            UserInvited(
                company_id=company_id, occurred_at=self._clock.now(), user_id=uid, email=user.email
            )
        )
        with self._uow() as uow:
            uow.companies.get(company_id)
            for bu in user.business_unit_ids:
                uow.business_units.get(bu, company_id=company_id)
            if uow.users.find_by_email(user.email, company_id=company_id) is not None:
                raise DuplicateError(
                    "user",
                    user.email,
                    f"a user with e-mail {user.email!r} already exists in company {company_id!r}",
                )
            uow.users.add(user)
            uow.commit()
        return user

    def get_user(self, *, company_id: CompanyId, user_id: UserId) -> CompanyUser:
        """The user of this company (NotFoundError otherwise)."""
        with self._uow() as uow:
            return uow.users.get(user_id, company_id=company_id)

    def list_users(
        self,
        *,
        company_id: CompanyId,
        business_unit_id: BusinessUnitId | None = None,
        status: UserStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[CompanyUser]:
        """A page of the company's users, by id."""
        with self._uow() as uow:
            uow.companies.get(company_id)
            return uow.users.list(
                company_id=company_id,
                business_unit_id=business_unit_id,
                status=status,
                limit=limit,
                cursor=cursor,
            )
