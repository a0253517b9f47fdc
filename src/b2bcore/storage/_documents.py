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
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

import attrs

from b2bcore.errors import NotFoundError, StorageError, ValidationError
from b2bcore.events import Aggregate, DomainEvent
from b2bcore.ids import CompanyId
from b2bcore.paging import Page, check_limit, decode_cursor, encode_cursor
from b2bcore.serialization import converter, structure

__all__ = [
    "Collection",
    "Column",
    "DocumentRepository",
    "Filter",
    "Query",
    "Scalar",
    "Session",
    "StoredRow",
    "TenantDocuments",
    "UnitOfWorkLike",
    "row_value",
    "sortable_datetime",
]

T = TypeVar("T")
K = TypeVar("K", bound=str)
Scalar = str | int | None
Op = Literal["eq", "in", "ge", "gt", "le", "lt", "contains"]


def sortable_datetime(value: datetime) -> str:
    """A UTC timestamp string whose text order is its time order (for columns)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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

    def commit(self) -> None:
        """Make the changes durable."""
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


_VERSIONED: dict[type, bool] = {}


def _versioned(model: type) -> bool:
    known = _VERSIONED.get(model)
    if known is None:
        known = _VERSIONED[model] = attrs.has(model) and "version" in attrs.fields_dict(model)
    return known


class DocumentRepository(Generic[T]):
    """Generic repository over a :class:`Collection`; typed ports subclass it."""

    collection: ClassVar[Collection[Any]]

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
            doc=json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
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

    def _get(self, key: str, company_id: str) -> T:
        if not isinstance(key, str) or not isinstance(company_id, str):
            raise NotFoundError(self.collection.kind, key)
        row = self._session.fetch(self.collection, company_id, key)
        if row is None:
            raise NotFoundError(self.collection.kind, key)
        return self._from_row(row)

    def _add(self, obj: T) -> None:
        version = 1
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
        self._session.replace(self.collection, self._to_row(obj, current + 1), current)
        self._after_write(obj, current + 1)

    def _after_write(self, obj: T, version: int) -> None:
        if _versioned(type(obj)):
            obj.version = version  # type: ignore[attr-defined]
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
