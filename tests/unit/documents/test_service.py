"""The documents service on every store: uploads checked end to end, versions,
authorized and audited downloads, the seller's product documents."""

from __future__ import annotations

import pytest

from b2bcore.accounts import Actor
from b2bcore.audit import Outcome
from b2bcore.catalog import Assortment, Selection
from b2bcore.documents import (
    AccessScope,
    BlobTooLargeError,
    DocumentKind,
    DocumentLink,
    MediaTypeMismatchError,
    UnsafePathError,
)
from b2bcore.errors import NotFoundError, PermissionDeniedError, ValidationError
from b2bcore.paging import iterate
from tests.unit.claims.conftest import AGENT, ANA, BEN, CLARA, DORA, GIA, PDF, PNG, World


def _upload(w: World, actor: Actor = BEN, **kw: object) -> str:
    args: dict[str, object] = {"title": "Drawing", "kind": DocumentKind.DRAWING, "content": PDF,
                               "media_type": "application/pdf", "filename": "d.pdf",
                               **kw}  # fmt: skip
    return w.portal.documents.upload(actor, **args).id  # type: ignore[arg-type]


def _trail(w: World) -> list:  # type: ignore[type-arg]
    return list(iterate(lambda c: w.portal.accounts.audit_trail(ANA, cursor=c)))


def test_upload_and_download_with_integrity(world: World) -> None:
    docs = world.portal.documents
    doc_id = _upload(world, links=[DocumentLink.order(world.order.id)])
    download = docs.download(BEN, doc_id)
    assert (download.content, download.version.number) == (PDF, 1)
    assert download.document.created_by == "ben"
    assert docs.get(ANA, doc_id).links == (DocumentLink.order(world.order.id),)
    downloads = [e for e in _trail(world) if e.action == "document.download"]
    assert [(e.acted_by, e.outcome) for e in downloads] == [("ben", Outcome.ALLOWED)]


def test_uploads_check_links_scope_and_content_before_storing(world: World) -> None:
    docs = world.portal.documents
    bad = [
        ({"links": [DocumentLink.order("nope")]}, NotFoundError),
        ({"links": [DocumentLink.product("NOPE")]}, NotFoundError),
        ({"access": AccessScope.business_unit("mars")}, NotFoundError),
        ({"access": AccessScope.role("pilot")}, NotFoundError),
        ({"filename": "../../etc/passwd"}, UnsafePathError),
        ({"content": PNG}, MediaTypeMismatchError),
        ({"content": b"x" * (26 * 1024 * 1024)}, BlobTooLargeError),
        ({"kind": "scroll"}, ValidationError),
        ({"title": ""}, ValidationError),
        ({"links": "order:o-1"}, ValidationError),
    ]
    for kwargs, error in bad:
        with pytest.raises(error):
            _upload(world, **kwargs)  # type: ignore[arg-type]
    assert docs.documents(BEN).items == ()
    failed = [e.outcome for e in _trail(world) if e.action == "document.upload"]
    assert set(failed) == {Outcome.FAILED}
    assert len(failed) == 8  # the bad kind and the bad links fail before the command runs


def test_who_may_read_follows_the_scope(world: World) -> None:
    docs = world.portal.documents
    company = _upload(world, title="For all")
    unit = _upload(world, title="For the line", content=PDF + b"u",
                   access=AccessScope.business_unit("line"))  # fmt: skip
    approvers = _upload(world, title="For approvers", content=PDF + b"a",
                        access=AccessScope.role("approver"))  # fmt: skip
    assert [d.title for d in docs.documents(BEN).items] == ["For approvers", "For the line",
                                                            "For all"]  # fmt: skip
    assert [d.title for d in docs.documents(CLARA).items] == ["For all"]
    assert [d.title for d in docs.documents(DORA).items] == ["For all"]
    assert len(docs.documents(AGENT).items) == 3
    docs.get(CLARA, company)
    for doc_id in (unit, approvers):
        with pytest.raises(PermissionDeniedError):
            docs.download(CLARA, doc_id)
    with pytest.raises(NotFoundError):
        docs.get(GIA, company)
    denied = [e for e in _trail(world) if e.outcome is Outcome.DENIED]
    assert [e.action for e in denied] == ["document.download", "document.download"]


def test_versions_of_a_company_document(world: World) -> None:
    docs = world.portal.documents
    doc_id = _upload(world)
    doc = docs.add_version(BEN, doc_id, content=PDF + b"v2", media_type="application/pdf",
                           filename="d-v2.pdf", note="revised")  # fmt: skip
    assert [v.filename for v in doc.versions] == ["d.pdf", "d-v2.pdf"]
    assert docs.download(BEN, doc_id).content == PDF + b"v2"
    assert docs.download(BEN, doc_id, version=1).content == PDF
    with pytest.raises(ValidationError):
        docs.download(BEN, doc_id, version=3)
    with pytest.raises(PermissionDeniedError):
        docs.add_version(DORA, doc_id, content=PDF, media_type="application/pdf", filename="x.pdf")
    with pytest.raises(ValidationError):
        docs.add_version(BEN, doc_id, content=PDF, media_type="application/pdf", filename="x.pdf",
                         note="n" * 501)  # fmt: skip
    assert len(docs.get(BEN, doc_id).versions) == 2


def test_the_sellers_product_documents_follow_the_assortment(world: World) -> None:
    docs = world.portal.documents
    manual = docs.publish(operator_id="op-olga", sku="PX-9", title="PX-9 manual",
                          kind=DocumentKind.MANUAL, content=PDF, media_type="application/pdf",
                          filename="px9.pdf")  # fmt: skip
    assert manual.platform
    assert manual.access == AccessScope.buyers_of("PX-9")
    assert [d.id for d in docs.product_documents(BEN, "PX-9")] == [manual.id]
    assert docs.download(GIA, manual.id).content == PDF  # Globex may buy it too
    world.portal.catalog.save_assortment(
        Actor.operator_for("acme", "op-olga"),
        Assortment(company_id="acme", exclude=Selection(skus={"PX-9"})),
    )
    assert docs.product_documents(BEN, "PX-9") == []
    with pytest.raises(PermissionDeniedError):
        docs.get(BEN, manual.id)
    again = docs.publish_version(operator_id="op-olga", document_id=manual.id, content=PDF + b"2",
                                 media_type="application/pdf", filename="px9-v2.pdf")  # fmt: skip
    assert again.latest.number == 2
    with pytest.raises(ValidationError, match="link to products only"):
        docs.publish(operator_id="op-olga", sku="PX-9", title="t", kind=DocumentKind.MANUAL,
                     content=PDF, media_type="application/pdf", filename="t.pdf",
                     links=[DocumentLink.order(world.order.id)])  # fmt: skip


def test_documents_filter_by_link_and_kind(world: World) -> None:
    docs = world.portal.documents
    claim = world.portal.claims.open_claim(BEN, type_id="return", title="t")
    photo = world.photo(claim_id=claim.id)
    _upload(world)
    linked = docs.documents(BEN, link=DocumentLink.claim(claim.id))
    assert [d.id for d in linked.items] == [photo]
    assert [d.id for d in docs.documents(BEN, kind=DocumentKind.PHOTO).items] == [photo]
    with pytest.raises(ValidationError):
        docs.documents(BEN, link="claim:x")  # type: ignore[arg-type]
