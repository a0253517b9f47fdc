"""Use-cases of the documents context: upload, version, find and download documents.

**Buyers** — users, or agents in an assisted session for one — upload documents of
their company with ``documents.upload`` (photos for a claim, a delivery note, their
own drawings) and read them with ``documents.view``, as far as each document's
access scope lets them (:func:`~b2bcore.documents.rules.may_read`). **The seller's
staff** (``Actor.operator_for(company_id, staff_id)``) upload and read every
document of the company they act for; **platform operators** publish the seller's
own documents (manuals, certificates) for the buyers of a product
(``operator_id=``, audited in the platform trail).

Every command is authorized and audited in the same unit of work as its change; a
refused read is audited like any denial, and downloads are audited too. Contents go
to the :class:`~b2bcore.documents.blobs.BlobStore` only after every check passed
(size, media type, links, scope); a failure after that leaves at most an
unreferenced blob, never a document without its content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import attrs

from b2bcore._command import Command, _deny, execute, query
from b2bcore.accounts.model import Actor, Permission
from b2bcore.accounts.rules import Resource as AccessResource
from b2bcore.audit import AuditEntry
from b2bcore.clock import Clock
from b2bcore.documents._buyers import buyer_can_buy
from b2bcore.documents.blobs import BlobStore, MemoryBlobStore
from b2bcore.documents.model import (
    AccessScope,
    Document,
    DocumentKind,
    DocumentLink,
    DocumentVersion,
    LinkKind,
    ScopeKind,
)
from b2bcore.documents.rules import document_resource, may_read
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import (
    AssetId,
    BusinessUnitId,
    ClaimId,
    CompanyId,
    DocumentId,
    InvoiceId,
    OrderId,
    RoleId,
    Sku,
    UserId,
    as_id,
    new_id,
)
from b2bcore.paging import DEFAULT_LIMIT, Page
from b2bcore.storage.ports import UnitOfWork

__all__ = ["DocumentsService", "Download"]

T = TypeVar("T")


@attrs.frozen
class Download:
    """A document's content as read: the document, the version and its bytes (checked
    against the version's SHA-256)."""

    document: Document
    version: DocumentVersion
    content: bytes


def _kind(value: object) -> DocumentKind:
    try:
        return DocumentKind(value)
    except ValueError:
        choices = ", ".join(k.value for k in DocumentKind)
        raise ValidationError(
            f"{value!r} is not a document kind (one of {choices})", path="kind", value=value
        ) from None


def _links(value: object) -> tuple[DocumentLink, ...]:
    if isinstance(value, (str, bytes, DocumentLink)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of DocumentLink", path="links", value=value)
    out = []
    for i, link in enumerate(value):
        if not isinstance(link, DocumentLink):
            raise ValidationError("must be a DocumentLink", path=f"links[{i}]", value=link)
        out.append(link)
    return tuple(out)


def _scope(value: object) -> AccessScope:
    if value is None:
        return AccessScope.company()
    if not isinstance(value, AccessScope):
        raise ValidationError("must be an AccessScope", path="access", value=value)
    return value


def _view_permission(actor: Actor) -> Permission:
    # The seller's staff act as operators; authorize lets operators do company.manage.
    return Permission.COMPANY_MANAGE if actor.operator else Permission.DOCUMENTS_VIEW


def _check_link(uow: UnitOfWork, company_id: CompanyId | None, link: DocumentLink) -> None:
    """NotFoundError when a link names nothing (in the company)."""
    if link.kind is LinkKind.PRODUCT:
        uow.products.get(Sku(link.target))
        return
    if company_id is None:
        raise ValidationError(
            "the seller's platform-wide documents link to products only",
            path="links",
            value=link.key,
        )
    if link.kind is LinkKind.ASSET:
        uow.assets.get(AssetId(link.target), company_id=company_id)
    elif link.kind is LinkKind.ORDER:
        uow.orders.get(OrderId(link.target), company_id=company_id)
    elif link.kind is LinkKind.CLAIM:
        uow.claims.get(ClaimId(link.target), company_id=company_id)
    else:
        uow.invoices.get(InvoiceId(link.target), company_id=company_id)


def _check_scope(uow: UnitOfWork, company_id: CompanyId, scope: AccessScope) -> None:
    if scope.kind is ScopeKind.BUSINESS_UNIT:
        assert scope.business_unit_id is not None
        uow.business_units.get(scope.business_unit_id, company_id=company_id)
    elif scope.kind is ScopeKind.ROLE:
        assert scope.role_id is not None
        uow.roles.get(RoleId(scope.role_id), company_id=company_id)
    elif scope.kind is ScopeKind.BUYERS_OF_PRODUCT:
        assert scope.sku is not None
        uow.products.get(scope.sku)


class DocumentsService:
    """Documents use-cases over any store, with contents in ``blobs`` (default: an
    in-memory :class:`~b2bcore.documents.blobs.MemoryBlobStore`)."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        blobs: BlobStore | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self.blobs: BlobStore = blobs if blobs is not None else MemoryBlobStore()

    # -- reading ------------------------------------------------------------------------
    @staticmethod
    def _load(uow: UnitOfWork, actor: Actor, document_id: DocumentId) -> Document:
        try:
            return uow.documents.get(document_id, company_id=actor.company_id)
        except NotFoundError:
            return uow.documents.get(document_id, company_id=None)

    @staticmethod
    def _readable(cmd: Command, document: Document, action: str) -> Document:
        """``document`` if the actor may read it; the denial audited otherwise."""
        decision = may_read(
            document,
            cmd.actor,
            access=cmd.access,
            at=cmd.at,
            can_buy=buyer_can_buy(cmd.uow, cmd.actor, cmd.access),
        )
        if decision.allowed:
            return document
        raise _deny(
            cmd.uow,
            cmd.actor,
            at=cmd.at,
            action=action,
            target=f"document:{document.id}",
            permission=Permission.DOCUMENTS_VIEW.value,
            code=decision.code,
            reason=decision.reason,
        )

    def get(self, actor: Actor, document_id: str) -> Document:
        """One document (of the actor's company, or a platform-wide one), if its
        access scope lets the actor read it."""
        did = as_id(DocumentId, document_id, path="document_id")
        return query(
            self._uow,
            self._clock,
            actor,
            action="document.read",
            target=f"document:{did}",
            permission=_view_permission(actor),
            body=lambda cmd: self._readable(
                cmd, self._load(cmd.uow, cmd.actor, did), "document.read"
            ),
        )

    def download(self, actor: Actor, document_id: str, *, version: int | None = None) -> Download:
        """The content of a version (default: the latest) of a readable document,
        checked against its SHA-256. Downloads are audited."""
        did = as_id(DocumentId, document_id, path="document_id")

        def body(cmd: Command) -> Download:
            document = self._readable(cmd, self._load(cmd.uow, cmd.actor, did), "document.download")
            chosen = document.revision(version)
            return Download(document, chosen, self.blobs.get(chosen.sha256))

        return execute(
            self._uow,
            self._clock,
            actor,
            action="document.download",
            target=f"document:{did}",
            permission=_view_permission(actor),
            body=body,
            detail=lambda d: f"version {d.version.number} ({d.version.size} bytes)",
        )

    def documents(
        self,
        actor: Actor,
        *,
        link: DocumentLink | None = None,
        kind: DocumentKind | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Document]:
        """The company's documents the actor may read, newest first, optionally only
        those linked to ``link``'s target or of one ``kind``. A page holds the
        readable ones among ``limit`` stored documents, so it may be shorter than
        ``limit``; follow ``next_cursor`` until it is None."""
        if link is not None and not isinstance(link, DocumentLink):
            raise ValidationError("must be a DocumentLink or None", path="link", value=link)
        wanted = None if kind is None else _kind(kind)

        def body(cmd: Command) -> Page[Document]:
            page = cmd.uow.documents.list(
                company_id=cmd.actor.company_id, link=link, kind=wanted, limit=limit, cursor=cursor
            )
            can_buy = buyer_can_buy(cmd.uow, cmd.actor, cmd.access)
            kept = tuple(
                d
                for d in page.items
                if may_read(d, cmd.actor, access=cmd.access, at=cmd.at, can_buy=can_buy).allowed
            )
            return Page(items=kept, next_cursor=page.next_cursor)

        return query(
            self._uow,
            self._clock,
            actor,
            action="document.list",
            target="documents",
            permission=_view_permission(actor),
            body=body,
        )

    def product_documents(self, actor: Actor, sku: str) -> list[Document]:
        """The seller's documents of product ``sku`` (manuals, certificates …) the
        actor may read — those of products their assortment admits — newest first."""
        code = as_id(Sku, sku, path="sku")

        def body(cmd: Command) -> list[Document]:
            can_buy = buyer_can_buy(cmd.uow, cmd.actor, cmd.access)
            out: list[Document] = []
            cursor: str | None = None
            while True:
                page = cmd.uow.documents.list(
                    company_id=None, link=DocumentLink.product(code), limit=200, cursor=cursor
                )
                out += [
                    d
                    for d in page.items
                    if may_read(d, cmd.actor, access=cmd.access, at=cmd.at, can_buy=can_buy)
                ]
                cursor = page.next_cursor
                if cursor is None:
                    return out

        return query(
            self._uow,
            self._clock,
            actor,
            action="document.list",
            target=f"product:{code}",
            permission=_view_permission(actor),
            body=body,
        )

    # -- a buyer company's documents ------------------------------------------------------
    def upload(
        self,
        actor: Actor,
        *,
        title: str,
        kind: DocumentKind,
        content: bytes,
        media_type: str,
        filename: str,
        links: Iterable[DocumentLink] = (),
        access: AccessScope | None = None,
        business_unit_id: str | None = None,
    ) -> Document:
        """Upload a new document of the actor's company (``documents.upload``; the
        seller's staff may too). Every link must name something of the company (or a
        product), the scope's unit, role or product must exist; then the content is
        checked and stored by the blob store and the document saved — all or nothing.
        ``access`` defaults to the whole company."""
        doc_kind = _kind(kind)
        doc_links = _links(links)
        scope = _scope(access)
        unit = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        if unit is None and scope.business_unit_id is not None:
            unit = scope.business_unit_id
        company = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        owner = actor.on_behalf_of if isinstance(actor, Actor) else None

        def body(cmd: Command) -> Document:
            if unit is not None:
                cmd.uow.business_units.get(unit, company_id=company)
            _check_scope(cmd.uow, company, scope)
            for link in doc_links:
                _check_link(cmd.uow, company, link)
            info = self.blobs.put(content, media_type=media_type)
            document = Document(
                id=DocumentId(new_id()),
                company_id=company,
                title=title,
                kind=doc_kind,
                access=scope,
                versions=[
                    DocumentVersion(
                        number=1,
                        sha256=info.sha256,
                        size=info.size,
                        media_type=info.media_type,
                        filename=filename,
                        uploaded_at=cmd.at,
                        uploaded_by=cmd.actor.acted_by,
                    )
                ],
                created_at=cmd.at,
                created_by=cmd.actor.on_behalf_of,
                links=doc_links,
                business_unit_id=unit,
            )
            document.uploaded()
            cmd.uow.documents.add(document)
            return document

        return execute(
            self._uow,
            self._clock,
            actor,
            action="document.upload",
            target="document:new",
            permission=Permission.COMPANY_MANAGE
            if isinstance(actor, Actor) and actor.operator
            else Permission.DOCUMENTS_UPLOAD,
            resource=AccessResource(
                "document", "new", company, owner_id=owner, business_unit_id=unit
            ),
            body=body,
            detail=lambda d: f"{d.id} {d.latest.sha256} ({d.latest.size} bytes)",
        )

    def add_version(
        self,
        actor: Actor,
        document_id: str,
        *,
        content: bytes,
        media_type: str,
        filename: str,
        note: str = "",
    ) -> Document:
        """Upload a new version of a company document the actor may read
        (``documents.upload``; the seller's staff may too)."""
        did = as_id(DocumentId, document_id, path="document_id")
        company = actor.company_id if isinstance(actor, Actor) else CompanyId("")

        def resource(uow: UnitOfWork) -> AccessResource | None:
            try:
                return document_resource(uow.documents.get(did, company_id=company), company)
            except NotFoundError:
                return None

        def body(cmd: Command) -> Document:
            document = self._readable(
                cmd, cmd.uow.documents.get(did, company_id=company), "document.add_version"
            )
            if not isinstance(note, str) or len(note) > 500:
                raise ValidationError("must be at most 500 characters", path="note", value=note)
            info = self.blobs.put(content, media_type=media_type)
            document.add_version(
                sha256=info.sha256,
                size=info.size,
                media_type=info.media_type,
                filename=filename,
                at=cmd.at,
                by=cmd.actor.acted_by,
                note=note,
            )
            cmd.uow.documents.update(document)
            return document

        return execute(
            self._uow,
            self._clock,
            actor,
            action="document.add_version",
            target=f"document:{did}",
            permission=Permission.COMPANY_MANAGE
            if isinstance(actor, Actor) and actor.operator
            else Permission.DOCUMENTS_UPLOAD,
            resource=resource,
            body=body,
            detail=lambda d: f"version {d.latest.number} {d.latest.sha256}",
        )

    # -- the seller's own documents ---------------------------------------------------------
    def _platform(
        self, *, operator_id: str, action: str, target: str, body: Callable[[UnitOfWork], T]
    ) -> T:
        op = as_id(UserId, operator_id, path="operator_id")
        at = self._clock.now()
        with self._uow() as uow:
            result = body(uow)
            uow.audit.append(
                AuditEntry.platform(at=at, operator_id=op, action=action, target=target)
            )
            uow.commit()
        return result

    def publish(
        self,
        *,
        operator_id: str,
        sku: str,
        title: str,
        kind: DocumentKind,
        content: bytes,
        media_type: str,
        filename: str,
        links: Iterable[DocumentLink] = (),
    ) -> Document:
        """Publish one of the seller's documents for everyone who can buy ``sku``
        (linked to the product; more product links may be given)."""
        code = as_id(Sku, sku, path="sku")
        doc_kind = _kind(kind)
        doc_links = (DocumentLink.product(code), *_links(links))
        at = self._clock.now()
        op = as_id(UserId, operator_id, path="operator_id")

        def body(uow: UnitOfWork) -> Document:
            for link in doc_links:
                _check_link(uow, None, link)
            info = self.blobs.put(content, media_type=media_type)
            document = Document(
                id=DocumentId(new_id()),
                company_id=None,
                title=title,
                kind=doc_kind,
                access=AccessScope.buyers_of(code),
                versions=[
                    DocumentVersion(
                        number=1,
                        sha256=info.sha256,
                        size=info.size,
                        media_type=info.media_type,
                        filename=filename,
                        uploaded_at=at,
                        uploaded_by=op,
                    )
                ],
                created_at=at,
                created_by=op,
                links=doc_links,
            )
            document.uploaded()
            uow.documents.add(document)
            return document

        return self._platform(
            operator_id=op, action="document.publish", target=f"product:{code}", body=body
        )

    def publish_version(
        self,
        *,
        operator_id: str,
        document_id: str,
        content: bytes,
        media_type: str,
        filename: str,
        note: str = "",
    ) -> Document:
        """A new version of one of the seller's platform-wide documents."""
        did = as_id(DocumentId, document_id, path="document_id")
        op = as_id(UserId, operator_id, path="operator_id")
        at = self._clock.now()

        def body(uow: UnitOfWork) -> Document:
            document = uow.documents.get(did, company_id=None)
            info = self.blobs.put(content, media_type=media_type)
            document.add_version(
                sha256=info.sha256,
                size=info.size,
                media_type=info.media_type,
                filename=filename,
                at=at,
                by=op,
                note=note,
            )
            uow.documents.update(document)
            return document

        return self._platform(
            operator_id=op, action="document.add_version", target=f"document:{did}", body=body
        )
