"""Accounts: companies, business units and users (roles and assisted buying follow).

The public names of the accounts context; see :mod:`b2bcore.accounts.model`.
"""

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
from b2bcore.accounts.ports import BusinessUnitRepository, CompanyRepository, UserRepository

__all__ = [
    "BusinessUnit",
    "BusinessUnitAdded",
    "BusinessUnitMoved",
    "BusinessUnitRepository",
    "Company",
    "CompanyCreated",
    "CompanyRepository",
    "CompanyUser",
    "UserInvited",
    "UserRepository",
    "UserStatus",
]
