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
from b2bcore.ids import BusinessUnitId, CompanyId, UserId, as_id, new_id
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
        cid = as_id(CompanyId, new_id() if company_id is None else company_id, path="company_id")
        company = Company(id=cid, name=name, country=country)
        company.record(CompanyCreated(company_id=cid, occurred_at=self._clock.now(), name=name))
        with self._uow() as uow:
            uow.companies.add(company)
            uow.commit()
        return company

    def get_company(self, company_id: str) -> Company:
        """The company (NotFoundError if there is none)."""
        with self._uow() as uow:
            return uow.companies.get(as_id(CompanyId, company_id, path="company_id"))

    # -- business units -----------------------------------------------------------------
    def add_business_unit(
        self,
        *,
        company_id: str,
        name: str,
        unit_id: str | None = None,
        parent_id: str | None = None,
        cost_center: str | None = None,
    ) -> BusinessUnit:
        """Add a unit to the company's tree, under ``parent_id`` (None: a new root)."""
        cid = as_id(CompanyId, company_id, path="company_id")
        uid = as_id(BusinessUnitId, new_id() if unit_id is None else unit_id, path="unit_id")
        pid = None if parent_id is None else as_id(BusinessUnitId, parent_id, path="parent_id")
        unit = BusinessUnit(
            id=uid, company_id=cid, name=name, parent_id=pid, cost_center=cost_center
        )
        unit.record(
            BusinessUnitAdded(
                company_id=cid, occurred_at=self._clock.now(), business_unit_id=uid, parent_id=pid
            )
        )
        with self._uow() as uow:
            uow.companies.get(cid)
            if pid is not None:
                uow.business_units.get(pid, company_id=cid)
            uow.business_units.add(unit)
            uow.commit()
        return unit

    def move_business_unit(
        self,
        *,
        company_id: str,
        unit_id: str,
        new_parent_id: str | None,
    ) -> BusinessUnit:
        """Re-parent a unit; ValidationError naming the loop if it would create a cycle."""
        cid = as_id(CompanyId, company_id, path="company_id")
        uid = as_id(BusinessUnitId, unit_id, path="unit_id")
        pid = (
            None
            if new_parent_id is None
            else as_id(BusinessUnitId, new_parent_id, path="new_parent_id")
        )
        with self._uow() as uow:
            unit = uow.business_units.get(uid, company_id=cid)
            old_parent = unit.parent_id
            if pid is not None:
                uow.business_units.get(pid, company_id=cid)
            units = self._all_units(uow, cid)
            moved = BusinessUnit(
                id=unit.id,
                company_id=cid,
                name=unit.name,
                parent_id=pid,
                cost_center=unit.cost_center,
                version=unit.version,
            )
            check_tree([moved if u.id == uid else u for u in units])
            moved.record(
                BusinessUnitMoved(
                    company_id=cid,
                    occurred_at=self._clock.now(),
                    business_unit_id=uid,
                    old_parent_id=old_parent,
                    new_parent_id=pid,
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

    def business_unit_tree(self, *, company_id: str) -> list[BusinessUnit]:
        """Every unit of the company, parents before children (then by id)."""
        cid = as_id(CompanyId, company_id, path="company_id")
        with self._uow() as uow:
            uow.companies.get(cid)
            units = self._all_units(uow, cid)
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
        company_id: str,
        email: str,
        name: str,
        business_unit_ids: Sequence[str],
        user_id: str | None = None,
    ) -> CompanyUser:
        """Invite a user into the company, member of the given business units.

        NotFoundError for an unknown company or unit (of this company); DuplicateError
        when the id or the e-mail (case-insensitive) is taken in the company.
        """
        cid = as_id(CompanyId, company_id, path="company_id")
        uid = as_id(UserId, new_id() if user_id is None else user_id, path="user_id")
        user = CompanyUser(
            id=uid,
            company_id=cid,
            email=email,
            name=name,
            business_unit_ids=business_unit_ids,  # the converter validates
            status=UserStatus.INVITED,
        )
        user.record(
            UserInvited(
                company_id=cid, occurred_at=self._clock.now(), user_id=uid, email=user.email
            )
        )
        with self._uow() as uow:
            uow.companies.get(cid)
            for bu in user.business_unit_ids:
                uow.business_units.get(bu, company_id=cid)
            if uow.users.find_by_email(user.email, company_id=cid) is not None:
                raise DuplicateError(
                    "user",
                    user.email,
                    f"a user with e-mail {user.email!r} already exists in company {company_id!r}",
                )
            uow.users.add(user)
            uow.commit()
        return user

    def get_user(self, *, company_id: str, user_id: str) -> CompanyUser:
        """The user of this company (NotFoundError otherwise)."""
        with self._uow() as uow:
            return uow.users.get(
                as_id(UserId, user_id, path="user_id"),
                company_id=as_id(CompanyId, company_id, path="company_id"),
            )

    def list_users(
        self,
        *,
        company_id: str,
        business_unit_id: str | None = None,
        status: UserStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[CompanyUser]:
        """A page of the company's users, by id."""
        cid = as_id(CompanyId, company_id, path="company_id")
        bu = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        with self._uow() as uow:
            uow.companies.get(cid)
            return uow.users.list(
                company_id=cid,
                business_unit_id=bu,
                status=status,
                limit=limit,
                cursor=cursor,
            )
