"""Documents model: titled, versioned files linked to what they are about.

A :class:`Document` has a title, a :class:`DocumentKind` (manual, certificate,
drawing, invoice, photo …), links to what it concerns (products, assets, orders,
claims, invoices — by id), an :class:`AccessScope` saying who may read it, and one
or more :class:`DocumentVersion` s, each naming its content by SHA-256 with its
size and media type (the bytes live in a :class:`~b2bcore.documents.blobs.BlobStore`).

A document belongs to one buyer company, or — ``company_id`` None — to the seller,
platform-wide (a product manual, a certificate): those are read by everyone who can
buy the product (:meth:`AccessScope.buyers_of`).

>>> from datetime import datetime, timezone
>>> from b2bcore.documents import (AccessScope, Document, DocumentKind, DocumentLink,
...                                DocumentVersion)
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> v1 = DocumentVersion(number=1, sha256="ab" * 32, size=2048, media_type="image/jpeg",
...                      filename="crack.jpg", uploaded_at=at, uploaded_by="u-ben")
>>> photo = Document(id="d-1", company_id="acme", title="Cracked housing",
...                  kind=DocumentKind.PHOTO, access=AccessScope.company(), versions=[v1],
...                  created_at=at, created_by="u-ben", links=[DocumentLink.asset("a-1")])
>>> photo.latest.filename, [link.key for link in photo.links]
('crack.jpg', ['asset:a-1'])
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime
from typing import Any, Final

import attrs

from b2bcore._validate import enum_member, identifier, text
from b2bcore.audit import PLATFORM_AUDIT
from b2bcore.clock import to_utc
from b2bcore.documents.blobs import check_sha256, normalize_media_type
from b2bcore.documents.errors import UnsafePathError
from b2bcore.errors import ValidationError
from b2bcore.events import Aggregate, DomainEvent, register_event
from b2bcore.ids import BusinessUnitId, CompanyId, DocumentId, RoleId, Sku, check_id

__all__ = [
    "AccessScope",
    "Document",
    "DocumentKind",
    "DocumentLink",
    "DocumentUploaded",
    "DocumentVersion",
    "DocumentVersionAdded",
    "LinkKind",
    "MAX_VERSIONS",
    "ScopeKind",
    "check_filename",
]


# -- ids given as plain strings, checked and typed ------------------------------------------


def _business_unit_id_opt(value: str | None) -> BusinessUnitId | None:
    return None if value is None else BusinessUnitId(check_id(value, path="business_unit_id"))


def _id(value: str) -> DocumentId:
    return DocumentId(check_id(value, path="id"))


def _role_id_opt(value: str | None) -> RoleId | None:
    return None if value is None else RoleId(check_id(value, path="role_id"))


def _sku_opt(value: str | None) -> Sku | None:
    return None if value is None else Sku(check_id(value, path="sku"))


#: How many versions one document keeps at most.
MAX_VERSIONS: Final = 200
_DRIVE_RE: Final = re.compile(r"^[A-Za-z]:")


def check_filename(value: object, *, path: str = "filename") -> str:
    """A file name as given by an uploader: a plain name, never a path.

    Refused with :class:`~b2bcore.documents.errors.UnsafePathError`: separators
    (``/``, ``\\``), ``.`` and ``..``, absolute paths, drive letters, control
    characters; names over 255 characters are a ValidationError.

    >>> check_filename("manual-v2.pdf")
    'manual-v2.pdf'
    >>> check_filename("../../etc/passwd")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    b2bcore.documents.errors.UnsafePathError: filename: '../../etc/passwd' is refused: ...
    """
    if not isinstance(value, str):
        raise ValidationError("must be a file name", path=path, value=value)
    name = value.strip()
    if not name or len(name) > 255:
        raise ValidationError("must be a file name of 1-255 characters", path=path, value=value)
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name):
        raise UnsafePathError(value, "an absolute path is not a file name", path=path)
    if "/" in name or "\\" in name:
        raise UnsafePathError(value, "a file name has no directory separators", path=path)
    if name in (".", ".."):
        raise UnsafePathError(value, "'.' and '..' are not file names", path=path)
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise UnsafePathError(value, "a file name has no control characters", path=path)
    return name


class DocumentKind(enum.Enum):
    """What a document is."""

    MANUAL = "manual"
    CERTIFICATE = "certificate"
    DRAWING = "drawing"
    DATASHEET = "datasheet"
    INVOICE = "invoice"
    DELIVERY_NOTE = "delivery_note"
    PHOTO = "photo"
    REPORT = "report"
    OTHER = "other"


class LinkKind(enum.Enum):
    """What a document can be linked to."""

    PRODUCT = "product"
    ASSET = "asset"
    ORDER = "order"
    CLAIM = "claim"
    INVOICE = "invoice"


@attrs.frozen
class DocumentLink:
    """A link from a document to one product (by SKU), asset, order, claim or invoice.

    >>> DocumentLink.product("PUMP-1").key
    'product:PUMP-1'
    """

    kind: LinkKind = attrs.field(validator=enum_member(LinkKind))
    target: str = attrs.field(validator=identifier)

    @property
    def key(self) -> str:
        """``kind:target``, as indexed."""
        return f"{self.kind.value}:{self.target}"

    @classmethod
    def product(cls, sku: str) -> DocumentLink:
        """A link to a product."""
        return cls(LinkKind.PRODUCT, sku)

    @classmethod
    def asset(cls, asset_id: str) -> DocumentLink:
        """A link to an asset."""
        return cls(LinkKind.ASSET, asset_id)

    @classmethod
    def order(cls, order_id: str) -> DocumentLink:
        """A link to an order."""
        return cls(LinkKind.ORDER, order_id)

    @classmethod
    def claim(cls, claim_id: str) -> DocumentLink:
        """A link to a claim."""
        return cls(LinkKind.CLAIM, claim_id)

    @classmethod
    def invoice(cls, invoice_id: str) -> DocumentLink:
        """A link to an invoice."""
        return cls(LinkKind.INVOICE, invoice_id)


class ScopeKind(enum.Enum):
    """Who may read a document (always together with the ``documents.view``
    permission; the seller's staff read everything)."""

    COMPANY = "company"  # every user of the company who may view documents
    BUSINESS_UNIT = "business_unit"  # those whose view scope reaches the unit
    ROLE = "role"  # holders of one role
    BUYERS_OF_PRODUCT = "buyers_of_product"  # whoever's assortment admits the product


@attrs.frozen
class AccessScope:
    """A document's access scope; build one with :meth:`company`,
    :meth:`business_unit`, :meth:`role` or :meth:`buyers_of`.

    >>> AccessScope.business_unit("plant").describe()
    "business unit 'plant' (and whoever's view scope reaches it)"
    """

    kind: ScopeKind = attrs.field(validator=enum_member(ScopeKind))
    business_unit_id: BusinessUnitId | None = attrs.field(
        default=None, converter=_business_unit_id_opt
    )
    role_id: RoleId | None = attrs.field(default=None, converter=_role_id_opt)
    sku: Sku | None = attrs.field(default=None, converter=_sku_opt)

    def __attrs_post_init__(self) -> None:
        needs = {
            ScopeKind.COMPANY: None,
            ScopeKind.BUSINESS_UNIT: "business_unit_id",
            ScopeKind.ROLE: "role_id",
            ScopeKind.BUYERS_OF_PRODUCT: "sku",
        }[self.kind]
        for name in ("business_unit_id", "role_id", "sku"):
            given = getattr(self, name) is not None
            if given != (name == needs):
                what = f"takes {needs}" if needs else "takes no unit, role or SKU"
                raise ValidationError(
                    f"a {self.kind.value} scope {what}", path=name, value=getattr(self, name)
                )

    @classmethod
    def company(cls) -> AccessScope:
        """Every user of the company who may view documents."""
        return cls(ScopeKind.COMPANY)

    @classmethod
    def business_unit(cls, business_unit_id: str) -> AccessScope:
        """Those whose ``documents.view`` scope reaches ``business_unit_id``."""
        return cls(ScopeKind.BUSINESS_UNIT, business_unit_id=BusinessUnitId(business_unit_id))

    @classmethod
    def role(cls, role_id: str) -> AccessScope:
        """Holders of ``role_id`` (with ``documents.view``)."""
        return cls(ScopeKind.ROLE, role_id=RoleId(role_id))

    @classmethod
    def buyers_of(cls, sku: str) -> AccessScope:
        """Everyone whose assortment admits the product ``sku``."""
        return cls(ScopeKind.BUYERS_OF_PRODUCT, sku=Sku(sku))

    def describe(self) -> str:
        """Who may read, in words."""
        if self.kind is ScopeKind.BUSINESS_UNIT:
            return f"business unit {self.business_unit_id!r} (and whoever's view scope reaches it)"
        if self.kind is ScopeKind.ROLE:
            return f"holders of role {self.role_id!r}"
        if self.kind is ScopeKind.BUYERS_OF_PRODUCT:
            return f"everyone who can buy {self.sku}"
        return "the whole company"


def _uploaded_at(value: datetime) -> datetime:
    return to_utc(value, path="uploaded_at")


def _created_at(value: datetime) -> datetime:
    return to_utc(value, path="created_at")


def _positive_number(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSIONS:
        raise ValidationError(
            f"must be a whole number from 1 to {MAX_VERSIONS}", path=attribute.name, value=value
        )


def _size(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("must be a non-negative number of bytes", path=attribute.name)


def _sha(value: object) -> str:
    return check_sha256(value)


def _filename(value: object) -> str:
    return check_filename(value)


@attrs.frozen
class DocumentVersion:
    """One version of a document's content: its SHA-256 (the blob key), size in
    bytes, media type and file name, who uploaded it and when."""

    number: int = attrs.field(validator=_positive_number)
    sha256: str = attrs.field(converter=_sha)
    size: int = attrs.field(validator=_size)
    media_type: str = attrs.field(converter=normalize_media_type)
    filename: str = attrs.field(converter=_filename)
    uploaded_at: datetime = attrs.field(converter=_uploaded_at)
    uploaded_by: str = attrs.field(validator=identifier)
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.note, str) or len(self.note) > 500:
            raise ValidationError("must be a string of at most 500 characters", path="note")


def _versions(value: object) -> tuple[DocumentVersion, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of DocumentVersion", path="versions", value=value)
    if not value:
        raise ValidationError("a document has at least one version", path="versions")
    if len(value) > MAX_VERSIONS:
        raise ValidationError(f"a document keeps at most {MAX_VERSIONS} versions", path="versions")
    for i, v in enumerate(value):
        if not isinstance(v, DocumentVersion):
            raise ValidationError("must be a DocumentVersion", path=f"versions[{i}]", value=v)
        if v.number != i + 1:
            raise ValidationError(
                f"versions are numbered 1, 2, 3 …: version {i + 1} says {v.number}",
                path=f"versions[{i}].number",
                value=v.number,
            )
    return tuple(value)


def _links(value: object) -> tuple[DocumentLink, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError("must be a list of DocumentLink", path="links", value=value)
    seen: dict[str, DocumentLink] = {}
    for i, link in enumerate(value):
        if not isinstance(link, DocumentLink):
            raise ValidationError("must be a DocumentLink", path=f"links[{i}]", value=link)
        seen.setdefault(link.key, link)
    if len(seen) > 50:
        raise ValidationError("a document has at most 50 links", path="links")
    return tuple(seen.values())


def _access(_inst: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, AccessScope):
        raise ValidationError("must be an AccessScope", path="access", value=value)


def _optional_company(value: object) -> CompanyId | None:
    return None if value is None else CompanyId(check_id(value, path="company_id"))


@attrs.define
class Document(Aggregate):
    """A document of a buyer company (or of the seller, ``company_id`` None).

    ``business_unit_id`` is the unit it was filed for (view scopes of a
    ``business_unit`` access scope read the scope's own unit). The seller's
    platform-wide documents are readable by buyers of a product only
    (:meth:`AccessScope.buyers_of`).
    """

    id: DocumentId = attrs.field(converter=_id)
    company_id: CompanyId | None = attrs.field(converter=_optional_company)
    title: str = attrs.field(validator=text(max_length=200))
    kind: DocumentKind = attrs.field(validator=enum_member(DocumentKind))
    access: AccessScope = attrs.field(validator=_access)
    versions: tuple[DocumentVersion, ...] = attrs.field(converter=_versions)
    created_at: datetime = attrs.field(converter=_created_at)
    created_by: str = attrs.field(validator=identifier)
    links: tuple[DocumentLink, ...] = attrs.field(factory=tuple, converter=_links)
    business_unit_id: BusinessUnitId | None = attrs.field(
        default=None, converter=_business_unit_id_opt
    )

    def __attrs_post_init__(self) -> None:
        if self.company_id is None and self.access.kind is not ScopeKind.BUYERS_OF_PRODUCT:
            raise ValidationError(
                "a platform-wide document is read by the buyers of a product: "
                "use AccessScope.buyers_of(sku)",
                path="access",
                value=self.access,
            )

    @property
    def platform(self) -> bool:
        """Whether it is the seller's, platform-wide."""
        return self.company_id is None

    @property
    def latest(self) -> DocumentVersion:
        """The newest version."""
        return self.versions[-1]

    def revision(self, number: int | None = None) -> DocumentVersion:
        """Version ``number`` (default: the latest); ValidationError naming the
        versions there are when it does not exist."""
        if number is None:
            return self.latest
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValidationError("must be a version number", path="version", value=number)
        if not 1 <= number <= len(self.versions):
            raise ValidationError(
                f"document {self.id!r} has versions 1 to {len(self.versions)}",
                path="version",
                value=number,
            )
        return self.versions[number - 1]

    def links_to(self, link: DocumentLink) -> bool:
        """Whether the document is linked to ``link``'s target."""
        return any(own.key == link.key for own in self.links)

    def uploaded(self) -> None:
        """Record :class:`DocumentUploaded` for a new document (its first version)."""
        self.record(
            DocumentUploaded(
                company_id=self.company_id or PLATFORM_AUDIT,
                occurred_at=self.created_at,
                document_id=self.id,
                title=self.title,
                kind=self.kind.value,
                sha256=self.latest.sha256,
                links=tuple(link.key for link in self.links),
            )
        )

    def add_version(
        self,
        *,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        at: datetime,
        by: str,
        note: str = "",
    ) -> DocumentVersion:
        """Append a new version (records :class:`DocumentVersionAdded`)."""
        version = DocumentVersion(
            number=len(self.versions) + 1,
            sha256=sha256,
            size=size,
            media_type=media_type,
            filename=filename,
            uploaded_at=at,
            uploaded_by=by,
            note=note,
        )
        self.versions = _versions([*self.versions, version])
        self.record(
            DocumentVersionAdded(
                company_id=self.company_id or PLATFORM_AUDIT,
                occurred_at=version.uploaded_at,
                document_id=self.id,
                number=version.number,
                sha256=version.sha256,
            )
        )
        return version


@register_event
@attrs.frozen(kw_only=True)
class DocumentUploaded(DomainEvent):
    """A document was uploaded (the seller's own are events of the platform trail,
    :data:`~b2bcore.audit.PLATFORM_AUDIT`)."""

    event_type = "documents.document_uploaded"
    document_id: DocumentId
    title: str
    kind: str
    sha256: str
    links: tuple[str, ...]


@register_event
@attrs.frozen(kw_only=True)
class DocumentVersionAdded(DomainEvent):
    """A new version of a document was uploaded."""

    event_type = "documents.document_version_added"
    document_id: DocumentId
    number: int
    sha256: str
