"""The documents model: safe file names, access scopes, versions and links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from b2bcore.documents import (
    AccessScope,
    Document,
    DocumentKind,
    DocumentLink,
    DocumentVersion,
    LinkKind,
    ScopeKind,
    UnsafePathError,
    check_filename,
)
from b2bcore.errors import ValidationError
from b2bcore.serialization import dumps, loads

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
SHA = "ab" * 32


def _version(number: int = 1, **kw: object) -> DocumentVersion:
    args: dict[str, object] = {"number": number, "sha256": SHA, "size": 10,
                               "media_type": "application/pdf", "filename": "a.pdf",
                               "uploaded_at": AT, "uploaded_by": "ben", **kw}  # fmt: skip
    return DocumentVersion(**args)  # type: ignore[arg-type]


def _document(**kw: object) -> Document:
    args: dict[str, object] = {"id": "d-1", "company_id": "acme", "title": "Manual",
                               "kind": DocumentKind.MANUAL, "access": AccessScope.company(),
                               "versions": [_version()], "created_at": AT, "created_by": "ben",
                               **kw}  # fmt: skip
    return Document(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "\\\\server\\share", "C:\\boot.ini", "c:evil",
     "a/b.pdf", "a\\b.pdf", "..", ".", "bad\x00name", "line\nbreak"],
)  # fmt: skip
def test_file_names_that_are_paths_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError) as raised:
        check_filename(name)
    assert raised.value.path == "filename"


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, 7])
def test_file_names_are_1_to_255_characters(name: object) -> None:
    with pytest.raises(ValidationError):
        check_filename(name)


def test_ordinary_file_names_are_kept() -> None:
    assert check_filename(" Prüfbericht 2026 (v2).pdf ") == "Prüfbericht 2026 (v2).pdf"
    assert check_filename("..hidden") == "..hidden"


def test_scopes_take_exactly_what_their_kind_needs() -> None:
    assert AccessScope.role("approver").describe() == "holders of role 'approver'"
    assert AccessScope.buyers_of("PX-9").describe() == "everyone who can buy PX-9"
    assert AccessScope.company().describe() == "the whole company"
    with pytest.raises(ValidationError, match="takes role_id"):
        AccessScope(ScopeKind.ROLE)
    with pytest.raises(ValidationError, match="takes no unit"):
        AccessScope(ScopeKind.COMPANY, sku="PX-9")
    with pytest.raises(ValidationError, match="takes sku"):
        AccessScope(ScopeKind.BUYERS_OF_PRODUCT, role_id="r")


def test_versions_are_numbered_and_looked_up() -> None:
    doc = _document()
    doc.add_version(sha256="cd" * 32, size=20, media_type="application/pdf", filename="b.pdf",
                    at=AT, by="ben", note="fixed page 3")  # fmt: skip
    assert [v.number for v in doc.versions] == [1, 2]
    assert doc.latest.sha256 == "cd" * 32
    assert doc.revision(1).filename == "a.pdf"
    assert doc.revision() == doc.latest
    for bad in (0, 3, True, "1"):
        with pytest.raises(ValidationError, match="version"):
            doc.revision(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="numbered"):
        _document(versions=[_version(2)])
    with pytest.raises(ValidationError, match="at least one"):
        _document(versions=[])
    assert [e.event_type for e in doc.pull_events()] == ["documents.document_version_added"]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [({"sha256": "xyz"}, "sha256"), ({"size": -1}, "size"), ({"media_type": "pdf"}, "media_type"),
     ({"filename": "../a"}, "filename"),
     ({"uploaded_at": datetime(2026, 1, 1)}, "uploaded_at"),  # noqa: DTZ001
     ({"note": "n" * 501}, "note")],
)  # fmt: skip
def test_bad_versions_are_refused(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _version(1, **kwargs)
    assert raised.value.path == path


def test_platform_documents_are_for_the_buyers_of_a_product() -> None:
    with pytest.raises(ValidationError, match="buyers_of"):
        _document(company_id=None)
    manual = _document(company_id=None, access=AccessScope.buyers_of("PX-9"))
    assert manual.platform


def test_links_are_kept_once_and_found() -> None:
    doc = _document(links=[DocumentLink.asset("a-1"), DocumentLink(LinkKind.ASSET, "a-1"),
                           DocumentLink.order("o-1")])  # fmt: skip
    assert [link.key for link in doc.links] == ["asset:a-1", "order:o-1"]
    assert doc.links_to(DocumentLink.order("o-1"))
    assert not doc.links_to(DocumentLink.invoice("o-1"))
    with pytest.raises(ValidationError):
        DocumentLink(LinkKind.CLAIM, "bad id!")


def test_documents_round_trip_through_json() -> None:
    doc = _document(links=[DocumentLink.claim("c-1")], access=AccessScope.business_unit("line"),
                    business_unit_id="line", kind=DocumentKind.PHOTO)  # fmt: skip
    assert loads(dumps(doc), Document) == doc
