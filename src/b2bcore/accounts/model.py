"""Accounts model: companies, their business-unit tree and their users.

>>> from datetime import datetime, timezone
>>> from b2bcore.accounts import BusinessUnit, Company, CompanyUser
>>> acme = Company(id="acme", name="ACME Industrial GmbH", country="DE")
>>> hq = BusinessUnit(id="hq", company_id="acme", name="Headquarters")
>>> ana = CompanyUser(id="u-ana", company_id="acme", email=" Ana@ACME.example ",
...                   name="Ana", business_unit_ids=["hq"])
>>> ana.email
'ana@acme.example'
"""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

from b2bcore._validate import (
    email,
    enum_member,
    identifier,
    optional_identifier,
    text,
    unique_ids,
)
from b2bcore.errors import ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import BusinessUnitId, CompanyId, UserId

__all__ = [
    "BusinessUnit",
    "BusinessUnitAdded",
    "BusinessUnitMoved",
    "Company",
    "CompanyCreated",
    "CompanyUser",
    "UserInvited",
    "UserStatus",
]

_COUNTRY_RE = re.compile(r"^[A-Z]{2}\Z")


def _country(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not _COUNTRY_RE.match(value)):
        raise ValidationError(
            "must be an ISO 3166-1 alpha-2 country code such as 'DE'",
            path=attribute.name,
            value=value,
        )


@attrs.define
class Company(Aggregate):
    """A customer (buyer) company: the tenant boundary of every query."""

    id: CompanyId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    country: str | None = attrs.field(default=None, validator=_country)

    def rename(self, name: str) -> None:
        """Change the display name (validated)."""
        self.name = attrs.evolve(self, name=name).name


@attrs.define
class BusinessUnit(Aggregate):
    """A node of a company's business-unit tree (``parent_id`` None = a root).

    Cycles are rejected by :func:`b2bcore.accounts.rules.check_tree` when a unit is
    added or moved; a unit never belongs to another company than its parent.
    """

    id: BusinessUnitId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    name: str = attrs.field(validator=text())
    parent_id: BusinessUnitId | None = attrs.field(default=None, validator=optional_identifier)
    cost_center: str | None = attrs.field(default=None)

    @parent_id.validator
    def _not_own_parent(self, _attribute: attrs.Attribute[Any], value: object) -> None:
        # Validators run after every field is set, and again on assignment.
        if value is not None and value == self.id:
            raise ValidationError(
                f"business unit {self.id!r} cannot be its own parent",
                path="parent_id",
                value=value,
            )


class UserStatus(enum.Enum):
    """Lifecycle of a company user."""

    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


def _bu_ids(value: object) -> tuple[BusinessUnitId, ...]:
    ids = unique_ids(value, path="business_unit_ids")
    if not ids:
        raise ValidationError(
            "a user belongs to at least one business unit", path="business_unit_ids", value=value
        )
    return tuple(BusinessUnitId(i) for i in ids)


@attrs.define
class CompanyUser(Aggregate):
    """A person of a buyer company; e-mail unique within the company (case-insensitive)."""

    id: UserId = attrs.field(validator=identifier)
    company_id: CompanyId = attrs.field(validator=identifier)
    email: str = attrs.field(converter=email)
    name: str = attrs.field(validator=text())
    business_unit_ids: tuple[BusinessUnitId, ...] = attrs.field(converter=_bu_ids)
    status: UserStatus = attrs.field(default=UserStatus.INVITED, validator=enum_member(UserStatus))


@register_event
@attrs.frozen(kw_only=True)
class CompanyCreated(DomainEvent):
    """A company was registered."""

    event_type = "accounts.company_created"
    name: str


@register_event
@attrs.frozen(kw_only=True)
class BusinessUnitAdded(DomainEvent):
    """A business unit was added to a company's tree."""

    event_type = "accounts.business_unit_added"
    business_unit_id: BusinessUnitId
    parent_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class BusinessUnitMoved(DomainEvent):
    """A business unit got a new parent."""

    event_type = "accounts.business_unit_moved"
    business_unit_id: BusinessUnitId
    old_parent_id: BusinessUnitId | None
    new_parent_id: BusinessUnitId | None


@register_event
@attrs.frozen(kw_only=True)
class UserInvited(DomainEvent):
    """A user was invited into a company."""

    event_type = "accounts.user_invited"
    user_id: UserId
    email: str
