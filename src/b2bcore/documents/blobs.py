"""Blob stores: where document contents live, addressed by their SHA-256.

A :class:`BlobStore` keeps bytes under the hex SHA-256 of their content, so equal
contents are stored once and a stored blob proves its own integrity (every read
is checked against its key). Stores refuse, with a specific
:class:`~b2bcore.errors.ValidationError` subclass, content over their size limit
(:class:`~b2bcore.documents.errors.BlobTooLargeError`), media types not on their
allow-list (:class:`~b2bcore.documents.errors.MediaTypeNotAllowedError`), content
whose first bytes contradict its declared type
(:class:`~b2bcore.documents.errors.MediaTypeMismatchError`), and keys that are not
a SHA-256 — ``../../etc/passwd`` or ``/etc/passwd`` never reach the file system
(:class:`~b2bcore.documents.errors.UnsafePathError`).

Blob stores hold bytes only: who may read a document is decided by
:class:`~b2bcore.documents.service.DocumentsService`, which checks the document's
access scope with :func:`~b2bcore.accounts.rules.authorize` before it reads a blob.

:class:`FileSystemBlobStore` writes atomically: the content goes to a hidden
temporary file in the target directory, is flushed and fsynced, and is then
renamed into place (``os.replace``), so a crash mid-write leaves no partial blob
under any key — at most a ``.part`` file that no key can name.

>>> import tempfile
>>> from b2bcore.documents.blobs import FileSystemBlobStore
>>> blobs = FileSystemBlobStore(tempfile.mkdtemp(), max_size=1024)
>>> info = blobs.put(b"hello", media_type="text/plain; charset=utf-8")
>>> info.sha256[:12], info.size, info.media_type
('2cf24dba5fb0', 5, 'text/plain')
>>> blobs.get(info.sha256)
b'hello'
>>> blobs.get("../../etc/passwd")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
b2bcore.documents.errors.UnsafePathError: sha256: '../../etc/passwd' is refused: ...
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Final, Protocol

import attrs

from b2bcore.documents.errors import (
    BlobCorruptedError,
    BlobNotFoundError,
    BlobTooLargeError,
    MediaTypeMismatchError,
    MediaTypeNotAllowedError,
    UnsafePathError,
)
from b2bcore.errors import StorageError, ValidationError

__all__ = [
    "BlobInfo",
    "BlobStore",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_MEDIA_TYPES",
    "FileSystemBlobStore",
    "MemoryBlobStore",
    "check_sha256",
    "detect_media_type",
    "normalize_media_type",
]

#: The default size limit of a blob: 25 MiB.
DEFAULT_MAX_SIZE: Final = 25 * 1024 * 1024

#: The media types stores accept unless told otherwise: PDFs, photos, text and CSV,
#: office documents and drawings (DXF, STEP).
DEFAULT_MEDIA_TYPES: Final[frozenset[str]] = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/vnd.dxf",
        "model/step",
    }
)

_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}\Z")
_MEDIA_PART: Final = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MEDIA_RE: Final = re.compile(rf"^{_MEDIA_PART}/{_MEDIA_PART}\Z")
_SIGNATURES: Final[tuple[tuple[str, tuple[bytes, ...]], ...]] = (
    ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ("image/jpeg", (b"\xff\xd8\xff",)),
    ("image/gif", (b"GIF87a", b"GIF89a")),
    ("application/pdf", (b"%PDF-",)),
)
_SNIFFED: Final = frozenset({*(t for t, _ in _SIGNATURES), "image/webp"})


def normalize_media_type(value: object) -> str:
    """A media type as stored: lower case, parameters dropped.

    >>> normalize_media_type("Image/JPEG; q=0.9")
    'image/jpeg'
    """
    if not isinstance(value, str):
        raise ValidationError("must be a media type such as 'image/png'", path="media_type")
    media_type = value.split(";", 1)[0].strip().lower()
    if not _MEDIA_RE.match(media_type):
        raise ValidationError(
            f"{value!r} is not a media type such as 'image/png'", path="media_type", value=value
        )
    return media_type


def detect_media_type(content: bytes) -> str | None:
    """The media type the first bytes show, for the types b2bcore recognises
    (PNG, JPEG, GIF, WebP, PDF); None for anything else.

    >>> detect_media_type(b"%PDF-1.7 ..."), detect_media_type(b"plain words")
    ('application/pdf', None)
    """
    for media_type, signatures in _SIGNATURES:
        if any(content.startswith(s) for s in signatures):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_sha256(value: object, *, path: str = "sha256") -> str:
    """A blob key: the 64 lower-case hex digits of a SHA-256. Anything else —
    separators, ``..``, an absolute path — is an
    :class:`~b2bcore.documents.errors.UnsafePathError`."""
    if isinstance(value, str) and _SHA256_RE.match(value):
        return value
    if isinstance(value, str) and ("/" in value or "\\" in value or ".." in value):
        reason = "path traversal or an absolute path; a blob key is a SHA-256 in hex"
    else:
        reason = "a blob key is the 64 lower-case hex digits of a SHA-256"
    raise UnsafePathError(value, reason, path=path)


@attrs.frozen
class BlobInfo:
    """What a store knows of a blob: its key (SHA-256), size and media type."""

    sha256: str
    size: int
    media_type: str


class BlobStore(Protocol):
    """Content-addressed bytes. ``put`` is idempotent (equal content, one blob);
    ``get`` raises :class:`~b2bcore.documents.errors.BlobNotFoundError` for an
    unknown key and checks the content against its key."""

    @property
    def max_size(self) -> int:
        """The largest content accepted, in bytes."""
        ...

    def put(self, content: bytes | bytearray | memoryview, /, *, media_type: str) -> BlobInfo:
        """Store ``content`` (checked: size, media type) and return its info."""
        ...

    def get(self, sha256: str, /) -> bytes:
        """The content stored under ``sha256``."""
        ...

    def exists(self, sha256: str, /) -> bool:
        """Whether a blob is stored under ``sha256``."""
        ...


class _Checks:
    """The checks every b2bcore blob store applies before writing."""

    def __init__(self, max_size: object, media_types: object, sniff: object) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValidationError(
                "must be a positive number of bytes", path="max_size", value=max_size
            )
        if isinstance(media_types, (str, bytes)) or not isinstance(media_types, Iterable):
            raise ValidationError(
                "must be a list of media types", path="media_types", value=media_types
            )
        allowed = frozenset(normalize_media_type(m) for m in media_types)
        if not allowed:
            raise ValidationError("allow at least one media type", path="media_types")
        if not isinstance(sniff, bool):
            raise ValidationError("must be True or False", path="sniff", value=sniff)
        self.max_size = max_size
        self.media_types = allowed
        self.sniff = sniff

    def check(self, content: object, media_type: object) -> tuple[bytes, str]:
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise ValidationError(
                f"must be bytes, not {type(content).__name__}", path="content", value=None
            )
        data = bytes(content)
        if len(data) > self.max_size:
            raise BlobTooLargeError(size=len(data), limit=self.max_size)
        kind = normalize_media_type(media_type)
        if kind not in self.media_types:
            raise MediaTypeNotAllowedError(kind, self.media_types)
        if self.sniff and kind in _SNIFFED:
            detected = detect_media_type(data)
            if detected != kind:
                raise MediaTypeMismatchError(kind, detected)
        return data, kind


def _verified(sha256: str, data: bytes) -> bytes:
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise BlobCorruptedError(sha256, actual)
    return data


class FileSystemBlobStore:
    """Blobs as files under ``root``: ``root/ab/ab12…`` (the key's first two hex
    digits shard the directory). Writes are atomic (temporary file, fsync, rename);
    reads are checked against the key.

    ``max_size`` limits a blob in bytes (default 25 MiB); ``media_types`` is the
    allow-list (default :data:`DEFAULT_MEDIA_TYPES`); with ``sniff`` (default) the
    first bytes of PNG, JPEG, GIF, WebP and PDF content must match the declared type.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        media_types: Iterable[str] = DEFAULT_MEDIA_TYPES,
        sniff: bool = True,
    ) -> None:
        if not isinstance(root, (str, os.PathLike)) or not str(root).strip():
            raise ValidationError("must be a directory path", path="root", value=root)
        self._checks = _Checks(max_size, media_types, sniff)
        try:
            self.root = Path(root).resolve()
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot use {str(root)!r} as a blob directory: {e}") from e

    @property
    def max_size(self) -> int:
        """The largest content accepted, in bytes."""
        return self._checks.max_size

    @property
    def media_types(self) -> frozenset[str]:
        """The accepted media types."""
        return self._checks.media_types

    def path_for(self, sha256: str) -> Path:
        """Where the blob ``sha256`` lives (never outside ``root``)."""
        key = check_sha256(sha256)
        path = (self.root / key[:2] / key).resolve()
        if not path.is_relative_to(self.root):  # pragma: no cover - keys are hex only
            raise UnsafePathError(sha256, "resolves outside the store", path="sha256")
        return path

    def put(self, content: bytes | bytearray | memoryview, /, *, media_type: str) -> BlobInfo:
        """Store ``content`` atomically (once per distinct content)."""
        data, kind = self._checks.check(content, media_type)
        key = hashlib.sha256(data).hexdigest()
        target = self.path_for(key)
        info = BlobInfo(sha256=key, size=len(data), media_type=kind)
        if target.exists():
            return info
        try:
            target.parent.mkdir(exist_ok=True)
            self._write(target, data)
        except OSError as e:
            raise StorageError(f"could not store blob {key}: {e}") from e
        return info

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        if hasattr(os, "O_DIRECTORY"):  # make the rename durable (POSIX)
            with contextlib.suppress(OSError):
                dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def get(self, sha256: str, /) -> bytes:
        """The content of blob ``sha256`` (checked against the key)."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None
        except OSError as e:
            raise StorageError(f"could not read blob {sha256}: {e}") from e
        return _verified(sha256, data)

    def exists(self, sha256: str, /) -> bool:
        """Whether blob ``sha256`` is stored."""
        return self.path_for(sha256).is_file()


class MemoryBlobStore:
    """Blobs in a dict (thread-safe): for tests and embedding. Same checks as
    :class:`FileSystemBlobStore`.

    >>> blobs = MemoryBlobStore()
    >>> blobs.put(b"GIF89a...", media_type="image/gif").size
    9
    """

    def __init__(
        self,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        media_types: Iterable[str] = DEFAULT_MEDIA_TYPES,
        sniff: bool = True,
    ) -> None:
        self._checks = _Checks(max_size, media_types, sniff)
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def max_size(self) -> int:
        """The largest content accepted, in bytes."""
        return self._checks.max_size

    def put(self, content: bytes | bytearray | memoryview, /, *, media_type: str) -> BlobInfo:
        """Store ``content`` (once per distinct content)."""
        data, kind = self._checks.check(content, media_type)
        key = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._blobs.setdefault(key, data)
        return BlobInfo(sha256=key, size=len(data), media_type=kind)

    def get(self, sha256: str, /) -> bytes:
        """The content of blob ``sha256``."""
        key = check_sha256(sha256)
        with self._lock:
            data = self._blobs.get(key)
        if data is None:
            raise BlobNotFoundError(key)
        return _verified(key, data)

    def exists(self, sha256: str, /) -> bool:
        """Whether blob ``sha256`` is stored."""
        key = check_sha256(sha256)
        with self._lock:
            return key in self._blobs
