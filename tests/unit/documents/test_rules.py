"""Who may read a document: its access scope judged with the accounts' authorize."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from b2bcore.accounts import (
    Actor,
    BusinessUnit,
    CompanyUser,
    RoleGrant,
    UserStatus,
    predefined_roles,
)
from b2bcore.accounts.model import Role
from b2bcore.accounts.rules import Access
from b2bcore.documents import AccessScope, Document, DocumentKind, DocumentVersion, may_read
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId, UserId

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
ACME = CompanyId("acme")


def _unit(uid: str, parent: str | None) -> BusinessUnit:
    up = None if parent is None else BusinessUnitId(parent)
    return BusinessUnit(id=BusinessUnitId(uid), company_id=ACME, name=uid, parent_id=up)


UNITS = (_unit("hq", None), _unit("plant", "hq"), _unit("line", "plant"), _unit("office", "hq"))
ROLES: dict[str, Role] = {r.id: r for r in predefined_roles("acme")}


def _access(uid: str, unit: str, *roles: str, until: datetime | None = None) -> Access:
    grants = [
        RoleGrant(role_id=RoleId(r), valid_from=AT - timedelta(days=1), valid_until=until)
        for r in roles
    ]
    user = CompanyUser(id=UserId(uid), company_id=ACME, email=f"{uid}@acme.example", name=uid,
                       business_unit_ids=[unit], status=UserStatus.ACTIVE,
                       grants=grants)  # fmt: skip
    return Access(user=user, roles=ROLES, units=UNITS)


def _doc(scope: AccessScope, *, company: str | None = "acme", owner: str = "ben") -> Document:
    version = DocumentVersion(number=1, sha256="ab" * 32, size=1, media_type="application/pdf",
                              filename="a.pdf", uploaded_at=AT, uploaded_by=owner)  # fmt: skip
    return Document(id="d-1", company_id=company, title="Doc", kind=DocumentKind.DRAWING,
                    access=scope, versions=[version], created_at=AT, created_by=owner)  # fmt: skip


def _may(
    doc: Document, uid: str, access: Access, can_buy: Callable[[str], bool] = lambda s: True
) -> str:
    return may_read(doc, Actor.user("acme", uid), access=access, at=AT, can_buy=can_buy).code


BEN = _access("ben", "line", "buyer")  # buyer: business-unit view scope
CLARA = _access("clara", "office", "buyer")
DORA = _access("dora", "line", "viewer")  # own records only
ANA = _access("ana", "hq", "company_admin")
NOBODY = _access("nick", "line")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (AccessScope.company(), {"ben": "allowed", "clara": "allowed", "dora": "allowed",
                                 "ana": "allowed", "nick": "no_grant"}),
        (AccessScope.business_unit("plant"), {"ben": "allowed", "clara": "outside_view_scope",
                                              "dora": "outside_view_scope", "ana": "allowed",
                                              "nick": "no_grant"}),
        (AccessScope.role("approver"), {"ben": "allowed", "clara": "not_in_role",
                                        "dora": "not_in_role", "ana": "not_in_role",
                                        "nick": "no_grant"}),
    ],
)  # fmt: skip
def test_scopes_of_a_company_document(scope: AccessScope, expected: dict[str, str]) -> None:
    doc = _doc(scope)  # owned by ben: his own document he always reads
    users = {"ben": BEN, "clara": CLARA, "dora": DORA, "ana": ANA, "nick": NOBODY}
    assert {uid: _may(doc, uid, access) for uid, access in users.items()} == expected


def test_the_business_unit_scope_reaches_down_not_up() -> None:
    doc = _doc(AccessScope.business_unit("line"), owner="someone")
    plant_buyer = _access("pia", "plant", "buyer")
    assert _may(doc, "pia", plant_buyer) == "allowed"
    line_doc_for_plant = _doc(AccessScope.business_unit("plant"), owner="someone")
    assert _may(line_doc_for_plant, "ben", BEN) == "outside_view_scope"
    assert _may(line_doc_for_plant, "dora", DORA) == "outside_view_scope"


def test_a_role_scope_needs_the_role_now() -> None:
    doc = _doc(AccessScope.role("approver"), owner="someone")
    approver = _access("abe", "line", "approver")
    lapsed = _access("abe", "line", "approver", until=AT)
    assert _may(doc, "abe", approver) == "allowed"
    assert _may(doc, "abe", lapsed) == "expired"


def test_platform_documents_are_read_by_buyers_of_the_product() -> None:
    manual = _doc(AccessScope.buyers_of("PX-9"), company=None, owner="staff")
    assert _may(manual, "ben", BEN, lambda sku: sku == "PX-9") == "allowed"
    assert _may(manual, "ben", BEN, lambda sku: False) == "cannot_buy"
    assert _may(manual, "nick", NOBODY) == "no_grant"
    staff = Actor.operator_for("acme", "staff")
    assert may_read(manual, staff, access=NOBODY, at=AT, can_buy=lambda s: False).allowed


def test_another_companys_document_is_never_readable() -> None:
    doc = _doc(AccessScope.company(), company="globex")
    assert _may(doc, "ben", BEN) == "other_company"
    staff = Actor.operator_for("acme", "staff")
    assert may_read(doc, staff, access=BEN, at=AT, can_buy=lambda s: True).code == "other_company"
