"""A small company for the approvals tests, as a pure Directory and as a portal.

Units: hq -> leipzig -> maint; hq -> office.
Roles: the predefined ones; approver-10k (approves up to 10,000 EUR), manager
(approves, no limit), finance (up to 50,000 EUR), approver-usd (up to 20,000 USD).
Users: ana (company admin + manager, hq), ben (buyer, maint: the requester),
clara (approver, leipzig), dora (approver-10k, leipzig), eve (finance, hq),
finn (approver for unit office only, office), gus (approver, disabled, leipzig),
hal (approver whose grant expired, leipzig), ivy (viewer, maint).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from b2bcore.accounts import (
    Actor,
    BusinessUnit,
    CompanyUser,
    Permission,
    Role,
    RoleGrant,
    RolePermission,
    UserStatus,
    predefined_roles,
)
from b2bcore.approvals import Directory, Subject, SubjectLine, SubjectRef
from b2bcore.clock import FixedClock
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId, UserId
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

AT = datetime(2026, 11, 23, 8, tzinfo=UTC)  # a Monday, 09:00 in Berlin
YEAR_AGO = AT - timedelta(days=365)
ACME = CompanyId("acme")


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def approve_role(role_id: str, limit: Money | None) -> Role:
    return Role(
        id=RoleId(role_id),
        company_id=ACME,
        name=role_id,
        permissions=[RolePermission(Permission.APPROVALS_APPROVE, limit=limit)],
    )


def member(
    user_id: str,
    *roles: str,
    unit: str = "leipzig",
    status: UserStatus = UserStatus.ACTIVE,
    grant_unit: str | None = None,
    until: datetime | None = None,
) -> CompanyUser:
    return CompanyUser(
        id=UserId(user_id),
        company_id=ACME,
        email=f"{user_id}@acme.example",
        name=user_id.title(),
        business_unit_ids=[unit],
        status=status,
        grants=[
            RoleGrant(
                role_id=RoleId(r),
                valid_from=YEAR_AGO,
                valid_until=until,
                business_unit_id=None if grant_unit is None else BusinessUnitId(grant_unit),
            )
            for r in roles
        ],
    )


def unit(unit_id: str, name: str, parent: str | None = None) -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=ACME,
        name=name,
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


UNITS = [
    unit("hq", "HQ"),
    unit("leipzig", "Leipzig", "hq"),
    unit("maint", "Maintenance", "leipzig"),
    unit("office", "Office", "hq"),
]
ROLES = [
    *predefined_roles("acme"),
    approve_role("approver-10k", eur("10000")),
    approve_role("manager", None),
    approve_role("finance", eur("50000")),
    approve_role("approver-usd", Money("20000", "USD")),
]
USERS = [
    member("ana", "company_admin", "manager", unit="hq"),
    member("ben", "buyer", unit="maint"),
    member("clara", "approver"),
    member("dora", "approver-10k"),
    member("eve", "finance", unit="hq"),
    member("finn", "approver", unit="office", grant_unit="office"),
    member("gus", "approver", status=UserStatus.DISABLED),
    member("hal", "approver", until=AT - timedelta(days=1)),
    member("ivy", "viewer", unit="maint"),
]


@pytest.fixture
def directory() -> Directory:
    return Directory.of("acme", users=USERS, roles=ROLES, units=UNITS)


def cart(total: str = "7657.30", *, unit: str | None = "maint", **kw: object) -> Subject:
    fields: dict[str, object] = {
        "ref": SubjectRef("cart", "c-1"),
        "company_id": "acme",
        "requester_id": "ben",
        "total": eur(total),
        "lines": [
            SubjectLine(
                sku="PUMP-200", amount=eur(total), categories=["pumps", "spares"], quantity=7
            )
        ],
        "business_unit_id": unit,
        "cost_center": "CC-4711",
    }
    fields.update(kw)
    return Subject(**fields)  # type: ignore[arg-type]


# -- the same company behind a portal ------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "approvals.sqlite", synchronous="NORMAL")
    )
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


@pytest.fixture
def portal(store: Store, clock: FixedClock) -> Portal:
    p = Portal(store, clock=clock)
    op = Actor.operator_for("acme", "op-olga")
    p.accounts.create_company(
        op, name="ACME", admin_email="ana@acme.example", admin_name="Ana", admin_user_id="ana"
    )
    ana = Actor.user("acme", "ana")
    for unit in UNITS[1:]:
        assert unit.parent_id is not None
        p.accounts.add_business_unit(ana, name=unit.name, unit_id=unit.id, parent_id=unit.parent_id)
    for role in ROLES[4:]:
        p.accounts.create_role(ana, name=role.name, role_id=role.id, permissions=role.permissions)
    p.accounts.grant_role(ana, user_id="ana", role_id="manager")
    for user in USERS:
        if user.id == "ana" or user.status is UserStatus.DISABLED or user.id == "hal":
            continue
        plain = [g.role_id for g in user.grants if g.business_unit_id is None]
        p.accounts.invite_user(
            ana,
            user_id=user.id,
            name=user.name,
            email=user.email,
            business_unit_ids=list(user.business_unit_ids),
            roles=plain,
        )
        for g in user.grants:
            if g.business_unit_id is not None:
                p.accounts.grant_role(
                    ana, user_id=user.id, role_id=g.role_id, business_unit_id=g.business_unit_id
                )
    return p
