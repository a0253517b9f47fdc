"""Documents: secure, centralised, versioned files linked to products, assets,
orders, claims and invoices.

:class:`Document` names its versions' contents by SHA-256; the bytes live in a
:class:`BlobStore` (:class:`FileSystemBlobStore` on disk, :class:`MemoryBlobStore`
in memory) that checks size, media type and keys. Who may read a document is its
:class:`AccessScope` evaluated with the accounts' ``authorize``
(:func:`may_read`); the use-cases live in
:class:`b2bcore.documents.service.DocumentsService` (``portal.documents``).
"""

from b2bcore.documents.blobs import (
    DEFAULT_MAX_SIZE,
    DEFAULT_MEDIA_TYPES,
    BlobInfo,
    BlobStore,
    FileSystemBlobStore,
    MemoryBlobStore,
    check_sha256,
    detect_media_type,
    normalize_media_type,
)
from b2bcore.documents.errors import (
    BlobCorruptedError,
    BlobNotFoundError,
    BlobTooLargeError,
    MediaTypeMismatchError,
    MediaTypeNotAllowedError,
    UnsafePathError,
)
from b2bcore.documents.model import (
    MAX_VERSIONS,
    AccessScope,
    Document,
    DocumentKind,
    DocumentLink,
    DocumentUploaded,
    DocumentVersion,
    DocumentVersionAdded,
    LinkKind,
    ScopeKind,
    check_filename,
)
from b2bcore.documents.ports import DocumentRepository
from b2bcore.documents.rules import document_resource, may_read

__all__ = [
    "AccessScope",
    "BlobCorruptedError",
    "BlobInfo",
    "BlobNotFoundError",
    "BlobStore",
    "BlobTooLargeError",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_MEDIA_TYPES",
    "Document",
    "DocumentKind",
    "DocumentLink",
    "DocumentRepository",
    "DocumentUploaded",
    "DocumentVersion",
    "DocumentVersionAdded",
    "FileSystemBlobStore",
    "LinkKind",
    "MAX_VERSIONS",
    "MediaTypeMismatchError",
    "MediaTypeNotAllowedError",
    "MemoryBlobStore",
    "ScopeKind",
    "UnsafePathError",
    "check_filename",
    "check_sha256",
    "detect_media_type",
    "document_resource",
    "may_read",
    "normalize_media_type",
]
