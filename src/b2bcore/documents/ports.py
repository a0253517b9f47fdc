"""Ports of the documents context: the document repository.

Documents of a buyer company are scoped to it like every aggregate; the seller's
platform-wide documents (``company_id`` None) are read and listed with
``company_id=None``. ``get`` raises :class:`~b2bcore.errors.NotFoundError` (also for
another company's id), ``add`` :class:`~b2bcore.errors.DuplicateError`, ``update``
takes the version read (:class:`~b2bcore.errors.ConcurrencyError` otherwise). The
contents live in a :class:`~b2bcore.documents.blobs.BlobStore`, not here.
"""

from __future__ import annotations

from typing import Protocol

from b2bcore.documents.model import Document, DocumentKind, DocumentLink
from b2bcore.ids import CompanyId, DocumentId
from b2bcore.paging import DEFAULT_LIMIT, Page

__all__ = ["DocumentRepository"]


class DocumentRepository(Protocol):
    """Documents of each company, and the seller's platform-wide ones."""

    def get(self, document_id: DocumentId, /, *, company_id: CompanyId | None) -> Document:
        """The document (``company_id`` None: a platform-wide one)."""
        ...

    def add(self, document: Document, /) -> None:
        """Store a new document."""
        ...

    def update(self, document: Document, /) -> None:
        """Store a changed document read at ``document.version``."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId | None,
        link: DocumentLink | None = None,
        kind: DocumentKind | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Document]:
        """Documents of one company (None: the platform-wide ones), newest first,
        optionally only those linked to ``link``'s target or of one ``kind``."""
        ...
