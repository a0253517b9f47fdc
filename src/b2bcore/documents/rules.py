"""Pure rules of the documents context: who may read a document.

:func:`may_read` evaluates a document's :class:`~b2bcore.documents.model.AccessScope`
with :func:`~b2bcore.accounts.rules.authorize` (the ``documents.view`` permission
and its view scope), so documents follow exactly the same roles, grants, business
units, assisted sessions and separation-of-duties rules as every other read:

* the seller's staff (``Actor.operator_for``) read every document of the company
  they act for and every platform-wide document;
* ``company``: whoever holds ``documents.view``;
* ``business_unit``: whoever's ``documents.view`` scope reaches the scope's unit
  (and the document's owner);
* ``role``: holders of ``documents.view`` who hold the role now (and the owner);
* ``buyers_of_product``: holders of ``documents.view`` whose assortment admits the
  product (``can_buy``, decided by the caller from the catalog).

Another company's document is never readable.

>>> from datetime import datetime, timezone
>>> from b2bcore.accounts import (Actor, CompanyUser, RoleGrant, UserStatus,
...                               predefined_roles)
>>> from b2bcore.accounts.rules import Access
>>> from b2bcore.documents import AccessScope, Document, DocumentKind, DocumentVersion
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> ben = CompanyUser(id="u-ben", company_id="acme", email="ben@acme.example", name="Ben",
...                   business_unit_ids=["hq"], status=UserStatus.ACTIVE,
...                   grants=[RoleGrant(role_id="viewer", valid_from=at)])
>>> access = Access(user=ben, roles={r.id: r for r in predefined_roles("acme")})
>>> manual = Document(id="d-1", company_id=None, title="Pump manual", kind=DocumentKind.MANUAL,
...     access=AccessScope.buyers_of("PUMP-1"), created_at=at, created_by="staff-sam",
...     versions=[DocumentVersion(number=1, sha256="ab" * 32, size=10,
...               media_type="application/pdf", filename="pump.pdf", uploaded_at=at,
...               uploaded_by="staff-sam")])
>>> may_read(manual, Actor.user("acme", "u-ben"), access=access, at=at,
...          can_buy=lambda sku: sku == "PUMP-1").allowed
True
>>> may_read(manual, Actor.user("acme", "u-ben"), access=access, at=at,
...          can_buy=lambda sku: False).code
'cannot_buy'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from b2bcore.accounts.model import Actor, Permission
from b2bcore.accounts.rules import Access, AccessDecision, Resource, authorize
from b2bcore.clock import require_aware
from b2bcore.documents.model import Document, ScopeKind
from b2bcore.errors import ValidationError
from b2bcore.ids import CompanyId

__all__ = ["document_resource", "may_read"]

_VIEW = Permission.DOCUMENTS_VIEW


def _decision(*, allowed: bool, code: str, reason: str) -> AccessDecision:
    return AccessDecision(allowed=allowed, permission=_VIEW, code=code, reason=reason)


def document_resource(document: Document, company_id: str) -> Resource:
    """The document as :func:`~b2bcore.accounts.rules.authorize` sees it: owned by
    whoever it was created for, in the unit of its scope (or the one it was filed
    for)."""
    unit = document.access.business_unit_id or document.business_unit_id
    return Resource(
        "document",
        document.id,
        CompanyId(company_id),
        owner_id=document.created_by,
        business_unit_id=unit,
    )


def may_read(
    document: Document,
    actor: Actor,
    *,
    access: Access,
    at: datetime,
    can_buy: Callable[[str], bool],
) -> AccessDecision:
    """Whether ``actor`` may read ``document`` (its metadata and every version).

    ``can_buy(sku)`` says whether the actor's assortment admits a product; it is
    asked for ``buyers_of_product`` scopes only.
    """
    if not isinstance(document, Document):
        raise ValidationError("must be a Document", path="document", value=document)
    if not isinstance(actor, Actor):
        raise ValidationError("must be an Actor", path="actor", value=actor)
    at = require_aware(at, path="at")
    if document.company_id is not None and document.company_id != actor.company_id:
        return _decision(
            allowed=False,
            code="other_company",
            reason=f"document {document.id!r} is another company's",
        )
    if actor.operator:
        return _decision(
            allowed=True, code="seller", reason="the seller's staff read every document"
        )
    if document.access.kind is ScopeKind.BUSINESS_UNIT:
        resource = document_resource(document, actor.company_id)
        return authorize(actor, _VIEW, access=access, resource=resource, at=at)
    decision = authorize(actor, _VIEW, access=access, at=at)
    mine = document.created_by == actor.on_behalf_of and not document.platform
    if not decision.allowed or mine:
        return decision
    return _narrowed(document, decision, access=access, at=at, can_buy=can_buy)


def _narrowed(
    document: Document,
    decision: AccessDecision,
    *,
    access: Access,
    at: datetime,
    can_buy: Callable[[str], bool],
) -> AccessDecision:
    """The decision of a ``company``, ``role`` or ``buyers_of_product`` scope for an
    actor who holds ``documents.view``."""
    scope = document.access
    if scope.kind is ScopeKind.ROLE:
        user = access.user
        held = user is not None and any(
            g.role_id == scope.role_id and g.active_at(at) for g in user.grants
        )
        if not held:
            return _decision(
                allowed=False,
                code="not_in_role",
                reason=f"only holders of role {scope.role_id!r} read it",
            )
    elif scope.kind is ScopeKind.BUYERS_OF_PRODUCT:
        assert scope.sku is not None
        if not can_buy(scope.sku):
            return _decision(
                allowed=False, code="cannot_buy", reason=f"only buyers of {scope.sku} read it"
            )
    return decision
