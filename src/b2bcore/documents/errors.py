"""Errors of the documents context: what a blob store refuses, and why.

>>> from b2bcore.documents.errors import BlobTooLargeError
>>> e = BlobTooLargeError(size=30_000_000, limit=25 * 1024 * 1024)
>>> (e.code, e.size, e.limit)
('documents.too_large', 30000000, 26214400)
>>> print(e)
content: is 30000000 bytes, more than the limit of 26214400 bytes (25.0 MiB)
"""

from __future__ import annotations

from collections.abc import Iterable

from b2bcore.errors import NotFoundError, StorageError, ValidationError

__all__ = [
    "BlobCorruptedError",
    "BlobNotFoundError",
    "BlobTooLargeError",
    "MediaTypeMismatchError",
    "MediaTypeNotAllowedError",
    "UnsafePathError",
]


class BlobTooLargeError(ValidationError):
    """The content is larger than the store's size limit (``size`` > ``limit``)."""

    code = "documents.too_large"

    def __init__(self, *, size: int, limit: int) -> None:
        super().__init__(
            f"is {size} bytes, more than the limit of {limit} bytes "
            f"({limit / (1024 * 1024):.1f} MiB)",
            path="content",
            value=size,
        )
        self.size = size
        self.limit = limit


class MediaTypeNotAllowedError(ValidationError):
    """The media type is not on the store's allow-list (``allowed`` lists it)."""

    code = "documents.media_type_not_allowed"

    def __init__(self, media_type: str, allowed: Iterable[str]) -> None:
        self.allowed = tuple(sorted(allowed))
        super().__init__(
            f"{media_type!r} is not accepted; accepted media types: {', '.join(self.allowed)}",
            path="media_type",
            value=media_type,
        )
        self.media_type = media_type


class MediaTypeMismatchError(ValidationError):
    """The content is not what its declared media type says (a ``.exe`` sent as
    ``image/png``): ``declared`` and what the first bytes show, ``detected``."""

    code = "documents.media_type_mismatch"

    def __init__(self, declared: str, detected: str | None) -> None:
        found = f"looks like {detected}" if detected else "does not start like one"
        super().__init__(
            f"the content is declared {declared} but {found}", path="media_type", value=declared
        )
        self.declared = declared
        self.detected = detected


class UnsafePathError(ValidationError):
    """A name or key that could reach outside the store: an absolute path, ``..``,
    a separator, a drive letter, control characters."""

    code = "documents.unsafe_path"

    def __init__(self, value: object, reason: str, *, path: str = "filename") -> None:
        super().__init__(f"{value!r} is refused: {reason}", path=path, value=value)


class BlobNotFoundError(NotFoundError):
    """No blob with this SHA-256 is stored."""

    code = "documents.blob_not_found"

    def __init__(self, sha256: str) -> None:
        super().__init__("blob", sha256)
        self.sha256 = sha256


class BlobCorruptedError(StorageError):
    """A stored blob no longer matches its SHA-256 (disk damage, tampering)."""

    code = "documents.blob_corrupted"

    def __init__(self, sha256: str, actual: str) -> None:
        super().__init__(
            f"stored blob {sha256} reads back as {actual}: it was damaged or tampered with"
        )
        self.sha256 = sha256
        self.actual = actual
