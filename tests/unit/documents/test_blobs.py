"""Blob stores: content addressing, size and media-type checks, keys that cannot
escape the store, atomic writes and integrity on read."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.documents import (
    DEFAULT_MEDIA_TYPES,
    BlobCorruptedError,
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    FileSystemBlobStore,
    MediaTypeMismatchError,
    MediaTypeNotAllowedError,
    MemoryBlobStore,
    UnsafePathError,
    detect_media_type,
    normalize_media_type,
)
from b2bcore.errors import StorageError, ValidationError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7\n%%EOF"


@pytest.fixture(params=["fs", "memory"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "fs":
        return FileSystemBlobStore(tmp_path / "blobs", max_size=1024)
    return MemoryBlobStore(max_size=1024)


def test_content_is_addressed_by_its_sha256(blobs: BlobStore) -> None:
    info = blobs.put(b"hello", media_type="text/plain")
    assert info.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert (info.size, info.media_type) == (5, "text/plain")
    assert blobs.get(info.sha256) == b"hello"
    assert blobs.exists(info.sha256)
    assert blobs.put(bytearray(b"hello"), media_type="TEXT/Plain; charset=utf-8") == info
    missing = hashlib.sha256(b"other").hexdigest()
    assert not blobs.exists(missing)
    with pytest.raises(BlobNotFoundError) as raised:
        blobs.get(missing)
    assert raised.value.sha256 == missing


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "..", "ab/../../x", "",
     "A" * 64, "g" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", 42, None],
)  # fmt: skip
def test_keys_that_are_not_a_sha256_never_reach_the_file_system(
    blobs: BlobStore, key: object
) -> None:
    for read in (blobs.get, blobs.exists):
        with pytest.raises(UnsafePathError) as raised:
            read(key)  # type: ignore[arg-type]
        assert raised.value.path == "sha256"


def test_traversal_is_named_as_such(blobs: BlobStore) -> None:
    with pytest.raises(UnsafePathError, match="path traversal or an absolute path"):
        blobs.get("../secret")


def test_the_size_limit_is_a_clear_error(blobs: BlobStore) -> None:
    assert blobs.put(b"x" * 1024, media_type="text/plain").size == 1024
    with pytest.raises(BlobTooLargeError) as raised:
        blobs.put(b"x" * 1025, media_type="text/plain")
    assert (raised.value.size, raised.value.limit, raised.value.path) == (1025, 1024, "content")
    assert isinstance(raised.value, ValidationError)


def test_media_types_are_checked_against_the_allow_list(blobs: BlobStore) -> None:
    with pytest.raises(MediaTypeNotAllowedError) as raised:
        blobs.put(b"MZ\x90\x00", media_type="application/x-msdownload")
    assert raised.value.media_type == "application/x-msdownload"
    assert raised.value.allowed == tuple(sorted(DEFAULT_MEDIA_TYPES))
    for bad in ("image", "image/", "/png", "image/png/x", "", 7):
        with pytest.raises(ValidationError):
            blobs.put(b"x", media_type=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="bytes"):
        blobs.put("text", media_type="text/plain")  # type: ignore[arg-type]


def test_content_must_look_like_its_declared_type(blobs: BlobStore) -> None:
    assert blobs.put(PNG, media_type="image/png").media_type == "image/png"
    with pytest.raises(MediaTypeMismatchError) as raised:
        blobs.put(PDF, media_type="image/png")
    assert (raised.value.declared, raised.value.detected) == ("image/png", "application/pdf")
    with pytest.raises(MediaTypeMismatchError, match="does not start like one"):
        blobs.put(b"MZ\x90\x00", media_type="image/jpeg")
    lenient = MemoryBlobStore(sniff=False)
    assert lenient.put(PDF, media_type="image/png").media_type == "image/png"


def test_detection_knows_the_common_types() -> None:
    assert detect_media_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert detect_media_type(b"GIF89a...") == "image/gif"
    assert detect_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert detect_media_type(b"") is None
    assert normalize_media_type(" Application/PDF ;x=1") == "application/pdf"


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [({"max_size": 0}, "max_size"), ({"max_size": True}, "max_size"),
     ({"media_types": "image/png"}, "media_types"), ({"media_types": []}, "media_types"),
     ({"sniff": "yes"}, "sniff")],
)  # fmt: skip
def test_stores_check_their_settings(kwargs: dict[str, Any], path: str, tmp_path: Path) -> None:
    for make in (
        lambda: MemoryBlobStore(**kwargs),
        lambda: FileSystemBlobStore(tmp_path, **kwargs),
    ):
        with pytest.raises(ValidationError) as raised:
            make()
        assert raised.value.path == path


def test_a_custom_allow_list(tmp_path: Path) -> None:
    blobs = FileSystemBlobStore(tmp_path, media_types=["model/STL"])
    assert blobs.media_types == frozenset({"model/stl"})
    assert blobs.put(b"solid x", media_type="model/stl").size == 7
    with pytest.raises(MediaTypeNotAllowedError):
        blobs.put(PDF, media_type="application/pdf")


# -- the file system ------------------------------------------------------------------------


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_blobs_live_in_sharded_directories_under_the_root(tmp_path: Path) -> None:
    blobs = FileSystemBlobStore(tmp_path / "a" / "b")
    info = blobs.put(b"hello", media_type="text/plain")
    assert blobs.path_for(info.sha256) == (tmp_path / "a" / "b" / "2c" / info.sha256).resolve()
    assert _files(blobs.root) == [f"2c/{info.sha256}"]


def test_a_crash_before_the_rename_leaves_no_partial_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = FileSystemBlobStore(tmp_path)
    sha = hashlib.sha256(b"big content").hexdigest()

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError, match="power cut"):
        blobs.put(b"big content", media_type="text/plain")
    monkeypatch.undo()
    assert not blobs.exists(sha)
    assert _files(tmp_path) == []  # the temporary file is gone too
    assert blobs.put(b"big content", media_type="text/plain").sha256 == sha
    assert blobs.get(sha) == b"big content"


def test_a_crash_mid_write_leaves_no_partial_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = FileSystemBlobStore(tmp_path)
    real_fdopen: Callable[..., Any] = os.fdopen

    class HalfWriter:
        def __init__(self, fd: int, mode: str) -> None:
            self._file = real_fdopen(fd, mode)

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self._file.close()

        def write(self, data: bytes) -> int:
            self._file.write(data[: len(data) // 2])
            self._file.flush()
            raise KeyboardInterrupt  # the process is being killed

    monkeypatch.setattr(os, "fdopen", HalfWriter)
    with pytest.raises(KeyboardInterrupt):
        blobs.put(b"0123456789", media_type="text/plain")
    monkeypatch.undo()
    assert _files(tmp_path) == []
    assert not blobs.exists(hashlib.sha256(b"0123456789").hexdigest())


def test_a_leftover_temporary_file_is_never_a_blob(tmp_path: Path) -> None:
    blobs = FileSystemBlobStore(tmp_path)
    sha = hashlib.sha256(b"x").hexdigest()
    shard = tmp_path / sha[:2]
    shard.mkdir()
    (shard / ".incoming-123.part").write_bytes(b"x")
    assert not blobs.exists(sha)
    with pytest.raises(BlobNotFoundError):
        blobs.get(sha)


def test_damaged_blobs_are_detected_on_read(tmp_path: Path) -> None:
    blobs = FileSystemBlobStore(tmp_path)
    info = blobs.put(b"original", media_type="text/plain")
    blobs.path_for(info.sha256).write_bytes(b"tampered")
    with pytest.raises(BlobCorruptedError) as raised:
        blobs.get(info.sha256)
    assert raised.value.actual == hashlib.sha256(b"tampered").hexdigest()


def test_an_unusable_root_is_a_storage_error(tmp_path: Path) -> None:
    occupied = tmp_path / "file"
    occupied.write_bytes(b"")
    with pytest.raises(StorageError):
        FileSystemBlobStore(occupied)
    with pytest.raises(ValidationError):
        FileSystemBlobStore("  ")


@given(content=st.binary(max_size=2048))
def test_any_content_round_trips_or_is_refused_for_its_size(content: bytes) -> None:
    blobs = MemoryBlobStore(max_size=1024)
    if len(content) > 1024:
        with pytest.raises(BlobTooLargeError):
            blobs.put(content, media_type="text/plain")
        return
    info = blobs.put(content, media_type="text/plain")
    assert blobs.get(info.sha256) == content


@given(key=st.text(max_size=80))
def test_any_other_key_is_refused(key: str) -> None:
    blobs = MemoryBlobStore()
    if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
        assert not blobs.exists(key)
    else:
        with pytest.raises(UnsafePathError):
            blobs.exists(key)
