"""The document-store machinery shared by b2bcore's own adapters (private).

Every aggregate kind is a :class:`Collection`: a JSON document per aggregate plus a
few indexed columns that queries filter and sort on. Adapters only implement the
row-level :class:`Session` protocol (fetch, insert, replace, delete, select, and
the transaction); the repositories below are written once, on top of it, for every
adapter. A new context therefore adds a ``Collection``, a repository class here
(or in its own ``_<context>.py``), one attribute in :class:`DocumentUnitOfWork`,
and a schema migration for the SQL adapters.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Generic, Literal, Protocol, TypeVar, cast

import attrs

from b2bcore._json import json_text
from b2bcore.errors import DuplicateError, NotFoundError, StorageError, ValidationError
from b2bcore.events import Aggregate, DomainEvent
from b2bcore.ids import CompanyId
from b2bcore.paging import Page, check_limit, decode_cursor, encode_cursor
from b2bcore.serialization import converter, structure

__all__ = [
    "Collection",
    "Column",
    "Deferred",
    "DocumentRepository",
    "Filter",
    "Query",
    "Scalar",
    "Session",
    "StoredRow",
    "TenantDocuments",
    "UNBOUNDED",
    "UnitOfWorkLike",
    "Wanted",
    "deferred_duplicate",
    "fetch_each",
    "row_value",
    "sortable_datetime",
    "whole_company",
]

T = TypeVar("T")
K = TypeVar("K", bound=str)
Scalar = str | int | None
Op = Literal["eq", "in", "ge", "gt", "le", "lt", "contains"]


def sortable_datetime(value: datetime) -> str:
    """A UTC timestamp string whose text order is its time order (for columns)."""
    global _last_sortable  # noqa: PLW0603 - a one-entry memo, replaced whole
    last = _last_sortable
    if last is not None and last[0] is value:  # a command's one timestamp, again
        return last[1]
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _last_sortable = (value, text)
    return text


_last_sortable: tuple[datetime, str] | None = None


@attrs.frozen
class Column:
    """An indexed column: its SQL type and how to compute it from the aggregate."""

    name: str
    sql_type: Literal["TEXT", "INTEGER"]
    extract: Callable[[Any], Scalar]


@attrs.frozen
class Collection(Generic[T]):
    """How one aggregate kind is stored.

    ``tenant`` extracts the company id (for companies, their own id); the primary
    key is (company_id, id), so equal ids in two companies never collide or leak.
    ``order`` lists the columns that give the stable query order (``id`` is always
    the final tie-breaker); sort columns must never be ``None``.
    """

    name: str
    kind: str
    model: type[T]
    key: Callable[[T], str]
    tenant: Callable[[T], str]
    columns: tuple[Column, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    order: tuple[str, ...] = ()

    def column_values(self, obj: T) -> dict[str, Scalar]:
        """The indexed column values of ``obj``."""
        return {c.name: c.extract(obj) for c in self.columns}

    def stored_names(self) -> tuple[str, ...]:
        """The columns of the collection's table, in the order of ``stored_values``:
        the bookkeeping (``company_id``, ``id``, ``version``, ``doc``), then the
        indexed columns."""
        return ("company_id", "id", "version", "doc", *(c.name for c in self.columns))

    def stored_values(self, row: StoredRow) -> list[Scalar]:
        """``row``'s values in the order of ``stored_names`` (for an INSERT)."""
        columns = row.columns
        return [
            row.company_id,
            row.id,
            row.version,
            row.doc,
            *[columns[c.name] for c in self.columns],
        ]


@attrs.frozen
class StoredRow:
    """One stored document with its bookkeeping."""

    company_id: str
    id: str
    version: int
    columns: Mapping[str, Scalar]
    doc: str


def _contains(actual: Scalar, v: Any) -> bool:
    return isinstance(actual, str) and v in actual


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Scalar, Any], bool]:
    # SQL semantics: NULL never satisfies an ordering comparison.
    return lambda actual, v: actual is not None and bool(compare(actual, v))


_MATCHERS: dict[str, Callable[[Scalar, Any], bool]] = {
    "eq": lambda actual, v: bool(actual == v),
    "in": lambda actual, v: bool(actual in v),
    "contains": _contains,
    "ge": _ordered(operator.ge),
    "gt": _ordered(operator.gt),
    "le": _ordered(operator.le),
    "lt": _ordered(operator.lt),
}


@attrs.frozen
class Filter:
    """``column op value``; ``contains`` is a case-sensitive substring test."""

    column: str
    op: Op
    value: Any

    def matches(self, actual: Scalar) -> bool:
        """Evaluate the filter in Python (the in-memory adapter)."""
        return _MATCHERS[self.op](actual, self.value)


@attrs.frozen
class Query:
    """A keyset-paginated selection from one collection.

    ``company_id`` None means a cross-tenant query (administration, the outbox
    dispatcher); repositories only pass None where the port says so.
    """

    company_id: str | None
    filters: tuple[Filter, ...]
    order: tuple[str, ...]
    descending: bool
    after: tuple[Scalar, ...] | None
    limit: int

    def sort_key(self, row: StoredRow) -> tuple[Scalar, ...]:
        """The row's position in this query's order."""
        return tuple(row_value(row, c) for c in self.order)


def row_value(row: StoredRow, column: str) -> Scalar:
    """A column's value, including the bookkeeping columns ``id`` and ``company_id``."""
    if column == "id":
        return row.id
    if column == "company_id":
        return row.company_id
    return row.columns[column]


#: One read of :meth:`Session.fetch_all`: (collection, company id, key or None).
Wanted = tuple["Collection[Any]", str, str | None]
#: No limit, for reads of every row of one company (see :meth:`Session.fetch_all`).
UNBOUNDED: Final = 2**62


def whole_company(c: Collection[Any], company_id: str) -> Query:
    """The query of every row of ``company_id`` in ``c``'s order."""
    return Query(
        company_id=company_id,
        filters=(),
        order=(*c.order, "id"),
        descending=False,
        after=None,
        limit=UNBOUNDED,
    )


def fetch_each(session: Session, wanted: Sequence[Wanted]) -> list[list[StoredRow]]:
    """:meth:`Session.fetch_all`, one read at a time."""
    out: list[list[StoredRow]] = []
    for c, company_id, key in wanted:
        if key is None:
            out.append(session.select(c, whole_company(c, company_id)))
        else:
            row = session.fetch(c, company_id, key)
            out.append([] if row is None else [row])
    return out


#: Rows a unit of work holds back until it commits, per collection.
Deferred = Sequence[tuple["Collection[Any]", Sequence[StoredRow]]]


def deferred_duplicate(c: Collection[Any], rows: Sequence[StoredRow]) -> DuplicateError:
    """The error of a commit whose deferred rows of ``c`` collide with stored ones
    (or with each other: that key is named; else the first row's)."""
    seen: set[tuple[str, str]] = set()
    key = rows[0].id
    for row in rows:
        if (row.company_id, row.id) in seen:
            key = row.id
            break
        seen.add((row.company_id, row.id))
    return DuplicateError(
        c.kind,
        key,
        f"a {c.kind} of this unit of work has a key that is taken ({key!r} or another of "
        f"its {len(rows)}; the keys are generated: is an id generator broken?); nothing "
        "was committed",
    )


class Session(Protocol):
    """What an adapter implements: row operations inside one transaction."""

    def fetch(self, c: Collection[Any], company_id: str, key: str) -> StoredRow | None:
        """The row, or None."""
        ...

    def insert(self, c: Collection[Any], row: StoredRow) -> None:
        """Insert; DuplicateError on an existing key or unique value."""
        ...

    def replace(self, c: Collection[Any], row: StoredRow, expected_version: int) -> None:
        """Overwrite the row whose stored version is ``expected_version``.

        NotFoundError when it is gone, ConcurrencyError when its version differs,
        DuplicateError when the new unique values collide.
        """
        ...

    def delete(self, c: Collection[Any], company_id: str, key: str) -> None:
        """Remove the row; NotFoundError when there is none.

        An adapter that defers writes to the commit checks a delete like a replace:
        when another unit changed or removed the row meanwhile, the commit raises
        ConcurrencyError and applies nothing.
        """
        ...

    def select(self, c: Collection[Any], q: Query) -> list[StoredRow]:
        """At most ``q.limit`` rows matching ``q`` in ``q.order``, after ``q.after``."""
        ...

    def fetch_all(self, wanted: Sequence[Wanted]) -> list[list[StoredRow]]:
        """Several reads at once — in one round trip where the database allows: per
        ``(collection, company_id, key)`` the row with that key (a list of none or
        one), or with key None every row of the company in the collection's order
        (:func:`fetch_each` does it one read at a time)."""
        ...

    def commit(self, deferred: Deferred = ()) -> None:
        """Insert the ``deferred`` rows (append-only records with generated keys,
        see ``DocumentRepository.deferred``), then make every change durable —
        all or nothing: a deferred row that collides is a DuplicateError and
        nothing is committed."""
        ...

    def rollback(self) -> None:
        """Discard the changes."""
        ...

    def close(self) -> None:
        """End the session (rolling back anything uncommitted)."""
        ...


class _EventSink(Protocol):
    def add(self, event: DomainEvent, /) -> object: ...


class UnitOfWorkLike(Protocol):
    """What repositories need from their unit of work."""

    @property
    def session(self) -> Session: ...

    @property
    def outbox(self) -> _EventSink: ...

    def defer(self, c: Collection[Any], row: StoredRow, /) -> None:
        """Hold ``row`` back until the commit (see ``DocumentRepository.deferred``)."""
        ...

    def flush_deferred(self) -> None:
        """Insert the rows held back so far (before reading their collections)."""
        ...


_VERSIONED: dict[type, bool] = {}


def _versioned(model: type) -> bool:
    known = _VERSIONED.get(model)
    if known is None:
        known = _VERSIONED[model] = attrs.has(model) and "version" in attrs.fields_dict(model)
    return known


_set_attribute: Final = object.__setattr__

#: Documents structured for reads that only look (see
#: :meth:`DocumentRepository._from_row_shared`): (collection, company, id) ->
#: (version, document text, object). Keyed by content, so one cache serves every
#: store of the process; cleared when full.
_SHARED: dict[tuple[str, str, str], tuple[int, str, Any]] = {}
_SHARED_SIZE: Final = 4096


class DocumentRepository(Generic[T]):
    """Generic repository over a :class:`Collection`; typed ports subclass it."""

    collection: ClassVar[Collection[Any]]
    #: Whether new rows wait for the commit: append-only records with generated
    #: keys (outbox events, audit lines) go to the database with the commit, in one
    #: batch, instead of one statement each. Reads of such a collection first
    #: insert what the unit of work holds back, so it always sees its own rows.
    deferred: ClassVar[bool] = False

    def __init__(self, uow: UnitOfWorkLike) -> None:
        self._uow = uow

    @property
    def _session(self) -> Session:
        return self._uow.session

    def _to_row(self, obj: T, version: int) -> StoredRow:
        c = self.collection
        if not isinstance(obj, c.model):
            raise TypeError(f"expected a {c.model.__name__}, got {type(obj).__name__}")
        doc = converter.unstructure(obj, c.model)
        doc.pop("version", None)
        return StoredRow(
            company_id=c.tenant(obj),
            id=c.key(obj),
            version=version,
            columns=c.column_values(obj),
            doc=json_text(doc),
        )

    def _from_row(self, row: StoredRow) -> T:
        data = json.loads(row.doc)
        if _versioned(self.collection.model):
            data["version"] = row.version
        try:
            obj: T = structure(data, self.collection.model)
        except ValidationError as e:
            raise StorageError(
                f"stored {self.collection.kind} {row.id!r} cannot be read back ({e}); "
                "was it written by an incompatible version?"
            ) from e
        return obj

    def _from_row_shared(self, row: StoredRow) -> T:
        """:meth:`_from_row` for a read that only looks (what authorization reads
        in every unit of work): the object may be shared with other units of work
        and threads, so nobody may change it. Reused only while the stored row is
        the same — same version *and* same document text (a version number alone
        could come back with other content after a rolled-back write)."""
        key = (self.collection.name, row.company_id, row.id)
        hit = _SHARED.get(key)
        if hit is not None and hit[0] == row.version and hit[1] == row.doc:
            return cast(T, hit[2])
        obj = self._from_row(row)
        if len(_SHARED) >= _SHARED_SIZE:
            _SHARED.clear()
        _SHARED[key] = (row.version, row.doc, obj)
        return obj

    def _get(self, key: str, company_id: str, *, shared: bool = False) -> T:
        if not isinstance(key, str) or not isinstance(company_id, str):
            raise NotFoundError(self.collection.kind, key)
        if self.deferred:
            self._uow.flush_deferred()
        row = self._session.fetch(self.collection, company_id, key)
        if row is None:
            raise NotFoundError(self.collection.kind, key)
        return self._from_row_shared(row) if shared else self._from_row(row)

    def read_only_get(self, key: str, company_id: str | None, /) -> T:
        """The object ``key`` of ``company_id`` (None: a platform-wide one) for a
        read that only looks (see ``_from_row_shared`` and
        ``b2bcore.storage._reads``)."""
        return self._get(key, "" if company_id is None else company_id, shared=True)

    def _add(self, obj: T) -> None:
        version = 1
        if self.deferred:
            self._uow.defer(self.collection, self._to_row(obj, version))
        else:
            self._session.insert(self.collection, self._to_row(obj, version))
        self._after_write(obj, version)

    def _update(self, obj: T) -> None:
        current = getattr(obj, "version", None)
        if not isinstance(current, int) or current < 1:
            raise ValidationError(
                f"{self.collection.kind} {self.collection.key(obj)!r} was never stored "
                f"(version {current!r}); use add() for new aggregates",
                path="version",
                value=current,
            )
        if self.deferred:
            self._uow.flush_deferred()
        self._session.replace(self.collection, self._to_row(obj, current + 1), current)
        self._after_write(obj, current + 1)

    def _after_write(self, obj: T, version: int) -> None:
        if _versioned(type(obj)):
            # The stored version, an int: set without the model's setattr hooks
            # (``version`` has no converter or validator to run).
            _set_attribute(obj, "version", version)
        if isinstance(obj, Aggregate):
            for event in obj.pull_events():
                self._uow.outbox.add(event)

    def _page(
        self,
        *,
        company_id: str | None,
        filters: Sequence[Filter] = (),
        limit: int,
        cursor: str | None,
        descending: bool = False,
    ) -> Page[T]:
        c = self.collection
        check_limit(limit)
        if self.deferred:
            self._uow.flush_deferred()
        # Cross-tenant queries break id ties between companies by company id.
        order = (*c.order, "id") if company_id is not None else (*c.order, "id", "company_id")
        fs = tuple(filters)
        describe = repr((c.name, company_id, fs, order, descending))
        after: tuple[Scalar, ...] | None = None
        if cursor is not None:
            position = decode_cursor(describe, cursor)
            if len(position) != len(order):
                raise ValidationError("cursor does not match this query", path="cursor")
            after = tuple(position)  # type: ignore[arg-type]
        rows = self._session.select(
            c,
            Query(
                company_id=company_id,
                filters=fs,
                order=order,
                descending=descending,
                after=after,
                limit=limit + 1,
            ),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple(self._from_row(r) for r in rows)
        next_cursor = None
        if more:
            last = rows[-1]
            next_cursor = encode_cursor(describe, [row_value(last, o) for o in order])
        return Page(items=items, next_cursor=next_cursor)


class TenantDocuments(DocumentRepository[T], Generic[K, T]):
    """A repository of one company's aggregates keyed by a typed id: the typed
    ``get`` / ``add`` / ``update`` of a port, written once."""

    def get(self, key: K, /, *, company_id: CompanyId) -> T:
        """The aggregate ``key`` of ``company_id``; NotFoundError if there is none."""
        return self._get(key, company_id)

    def add(self, obj: T, /) -> None:
        """Store a new aggregate; DuplicateError if its key is taken."""
        self._add(obj)

    def update(self, obj: T, /) -> None:
        """Store a changed aggregate read at its version; ConcurrencyError if stale."""
        self._update(obj)
