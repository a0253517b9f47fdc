"""The in-memory store: a real, thread-safe adapter for tests and embedding.

Each unit of work buffers its writes privately (reads see the committed state plus
its own writes) and applies them atomically on commit, after checking under a lock
that every row it changed or deleted still has the version it read and that no
unique value was taken meanwhile. So two threads that update the same aggregate
from the same version cannot both win: the second commit raises
:class:`~b2bcore.errors.ConcurrencyError` and nothing of it is applied.

Queries that filter a column by equality (``eq``/``in``) use a hash index of that
column, built on first use and kept up to date by every commit, so looking up a
few rows of a large table (price rules by target) does not scan the table.

>>> from b2bcore.accounts import Company
>>> from b2bcore.storage.memory import MemoryStore
>>> store = MemoryStore()
>>> with store.unit_of_work() as uow:
...     uow.companies.add(Company(id="acme", name="ACME"))
...     uow.commit()
>>> with store.unit_of_work() as uow:
...     uow.companies.get("acme").version
1
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import attrs

from b2bcore.errors import ConcurrencyError, DuplicateError, NotFoundError, StorageError
from b2bcore.storage._documents import (
    Collection,
    Deferred,
    Query,
    Scalar,
    StoredRow,
    Wanted,
    fetch_each,
)
from b2bcore.storage._uow import DocumentUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]

_Pk = tuple[str, str]  # (company_id, id)
# column value -> the one primary key holding it, or the set of them (saves memory on
# columns whose values are mostly distinct, such as price rules' target values)
_Index = dict[Scalar, _Pk | set[_Pk]]


def _index_add(index: _Index, value: Scalar, pk: _Pk) -> None:
    held = index.get(value)
    if held is None:
        index[value] = pk
    elif isinstance(held, set):
        held.add(pk)
    elif held != pk:
        index[value] = {held, pk}


def _index_remove(index: _Index, value: Scalar, pk: _Pk) -> None:
    held = index.get(value)
    if isinstance(held, set):
        held.discard(pk)
        if len(held) == 1:
            index[value] = next(iter(held))
    elif held == pk:
        del index[value]


def _index_get(index: _Index, value: Scalar) -> set[_Pk] | tuple[_Pk, ...]:
    held = index.get(value)
    if held is None:
        return ()
    return held if isinstance(held, set) else (held,)


@attrs.define
class _Table:
    rows: dict[_Pk, StoredRow] = attrs.Factory(dict)
    # unique column set -> (company_id, values) -> primary key holding them
    uniques: dict[tuple[str, ...], dict[tuple[Any, ...], _Pk]] = attrs.Factory(dict)
    # column -> hash index, built when a query first filters on the column by equality
    indexes: dict[str, _Index] = attrs.Factory(dict)

    def index(self, column: str) -> _Index:
        """The hash index of ``column`` (the caller holds the lock)."""
        found = self.indexes.get(column)
        if found is None:
            found = {}
            for pk, row in self.rows.items():
                _index_add(found, row.columns[column], pk)
            self.indexes[column] = found
        return found

    def put(self, pk: _Pk, row: StoredRow | None) -> None:
        """Store or (``row`` None) remove a row, keeping the indexes (lock held)."""
        old = self.rows.get(pk)
        if old is not None:
            for column, index in self.indexes.items():
                _index_remove(index, old.columns[column], pk)
        if row is None:
            self.rows.pop(pk, None)
            return
        self.rows[pk] = row
        for column, index in self.indexes.items():
            _index_add(index, row.columns[column], pk)

    def candidates(self, q: Query) -> list[StoredRow] | None:
        """The committed rows that can match ``q``'s most selective equality filter,
        or None when ``q`` has no equality filter to use an index for (lock held)."""
        best: list[set[_Pk] | tuple[_Pk, ...]] | None = None
        best_size = 0
        for f in q.filters:
            if f.op not in ("eq", "in"):
                continue
            try:
                values = {f.value} if f.op == "eq" else set(f.value)
            except TypeError:  # an unhashable value: no index, the scan decides
                continue
            index = self.index(f.column)
            found = [_index_get(index, v) for v in values]
            size = sum(len(pks) for pks in found)
            if best is None or size < best_size:
                best, best_size = found, size
        if best is None:
            return None
        return [self.rows[pk] for pks in best for pk in pks]


@attrs.define
class _Write:
    row: StoredRow | None  # None: a delete
    base_version: int | None  # None: an insert


def _unique_values(
    c: Collection[Any], cols: tuple[str, ...], row: StoredRow
) -> tuple[Any, ...] | None:
    values = tuple(row.columns[col] for col in cols)
    if any(v is None for v in values):
        return None  # like SQL: NULLs never collide
    return (row.company_id, *values)


class _MemoryData:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tables: dict[str, _Table] = {}
        self.closed = False

    def table(self, c: Collection[Any]) -> _Table:
        t = self.tables.get(c.name)
        if t is None:
            t = self.tables[c.name] = _Table(uniques={cols: {} for cols in c.unique})
        return t


class _MemorySession:
    def __init__(self, data: _MemoryData) -> None:
        self._data = data
        self._writes: dict[str, dict[_Pk, _Write]] = {}
        self._collections: dict[str, Collection[Any]] = {}

    # -- reads --------------------------------------------------------------------------
    def _committed(self, c: Collection[Any], pk: _Pk) -> StoredRow | None:
        with self._data.lock:
            return self._data.table(c).rows.get(pk)

    def fetch(self, c: Collection[Any], company_id: str, key: str) -> StoredRow | None:
        pk = (company_id, key)
        w = self._writes.get(c.name, {}).get(pk)
        if w is not None:
            return w.row
        return self._committed(c, pk)

    def fetch_all(self, wanted: Sequence[Wanted]) -> list[list[StoredRow]]:
        return fetch_each(self, wanted)

    def select(self, c: Collection[Any], q: Query) -> list[StoredRow]:
        with self._data.lock:
            table = self._data.table(c)
            candidates = table.candidates(q)
            if candidates is None:
                merged = dict(table.rows)
            else:
                merged = {(r.company_id, r.id): r for r in candidates}
        for pk, w in self._writes.get(c.name, {}).items():
            if w.row is None:
                merged.pop(pk, None)
            else:
                merged[pk] = w.row
        rows = [
            r
            for r in merged.values()
            if (q.company_id is None or r.company_id == q.company_id)
            and all(f.matches(r.columns[f.column]) for f in q.filters)
        ]
        rows.sort(key=q.sort_key, reverse=q.descending)
        if q.after is not None:
            after = q.after
            if q.descending:
                rows = [r for r in rows if _lt(q.sort_key(r), after)]
            else:
                rows = [r for r in rows if _lt(after, q.sort_key(r))]
        return rows[: q.limit]

    # -- writes -------------------------------------------------------------------------
    def _check_unique(self, c: Collection[Any], row: StoredRow) -> None:
        pk = (row.company_id, row.id)
        mine = self._writes.get(c.name, {})
        for cols in c.unique:
            values = _unique_values(c, cols, row)
            if values is None:
                continue
            for other_pk, w in mine.items():
                if (
                    other_pk != pk
                    and w.row is not None
                    and _unique_values(c, cols, w.row) == values
                ):
                    raise DuplicateError(c.kind, values[1:] if len(cols) > 1 else values[1])
            with self._data.lock:
                holder = self._data.table(c).uniques[cols].get(values)
            if holder is not None and holder != pk:
                rewritten = mine.get(holder)
                if rewritten is None or (
                    rewritten.row is not None and _unique_values(c, cols, rewritten.row) == values
                ):
                    raise DuplicateError(c.kind, values[1:] if len(cols) > 1 else values[1])

    def insert(self, c: Collection[Any], row: StoredRow) -> None:
        pk = (row.company_id, row.id)
        self._collections[c.name] = c
        mine = self._writes.setdefault(c.name, {})
        previous = mine.get(pk)
        if previous is not None:
            if previous.row is not None:
                raise DuplicateError(c.kind, row.id)
            # Deleted earlier in this unit: the insert overwrites the row it deleted.
            self._check_unique(c, row)
            mine[pk] = _Write(row, previous.base_version)
            return
        if self._committed(c, pk) is not None:
            raise DuplicateError(c.kind, row.id)
        self._check_unique(c, row)
        mine[pk] = _Write(row, None)

    def replace(self, c: Collection[Any], row: StoredRow, expected_version: int) -> None:
        pk = (row.company_id, row.id)
        self._collections[c.name] = c
        mine = self._writes.setdefault(c.name, {})
        previous = mine.get(pk)
        current = previous.row if previous is not None else self._committed(c, pk)
        if current is None:
            raise NotFoundError(c.kind, row.id)
        if current.version != expected_version:
            raise ConcurrencyError(
                c.kind, row.id, expected_version=expected_version, actual_version=current.version
            )
        self._check_unique(c, row)
        base = previous.base_version if previous is not None else current.version
        mine[pk] = _Write(row, base)

    def delete(self, c: Collection[Any], company_id: str, key: str) -> None:
        pk = (company_id, key)
        self._collections[c.name] = c
        mine = self._writes.setdefault(c.name, {})
        previous = mine.get(pk)
        if previous is not None:
            if previous.row is None:
                raise NotFoundError(c.kind, key)
            if previous.base_version is None:
                del mine[pk]  # inserted by this unit: as if it never was
            else:
                mine[pk] = _Write(None, previous.base_version)
            return
        current = self._committed(c, pk)
        if current is None:
            raise NotFoundError(c.kind, key)
        mine[pk] = _Write(None, current.version)

    # -- transaction --------------------------------------------------------------------
    def commit(self, deferred: Deferred = ()) -> None:
        for c, rows in deferred:
            for row in rows:
                self.insert(c, row)
        if not any(self._writes.values()):
            return
        with self._data.lock:
            if self._data.closed:
                raise StorageError("the store is closed")
            plans = [self._plan(name, writes) for name, writes in self._writes.items() if writes]
            for table, writes, new_uniques in plans:
                for pk, w in writes.items():
                    table.put(pk, w.row)
                table.uniques = new_uniques
        self._writes.clear()

    def _plan(
        self, name: str, writes: dict[_Pk, _Write]
    ) -> tuple[_Table, dict[_Pk, _Write], dict[tuple[str, ...], dict[tuple[Any, ...], _Pk]]]:
        # Called with the lock held: validate everything before anything is applied.
        c = self._collections[name]
        table = self._data.table(c)
        for pk, w in writes.items():
            committed = table.rows.get(pk)
            if w.base_version is None:
                if committed is not None:
                    raise DuplicateError(c.kind, pk[1])
            elif committed is None or committed.version != w.base_version:
                raise ConcurrencyError(
                    c.kind,
                    pk[1],
                    expected_version=w.base_version,
                    actual_version=None if committed is None else committed.version,
                )
        new_uniques: dict[tuple[str, ...], dict[tuple[Any, ...], _Pk]] = {}
        for cols, index in table.uniques.items():
            updated = dict(index)
            for pk in writes:
                old = table.rows.get(pk)
                old_values = None if old is None else _unique_values(c, cols, old)
                if old_values is not None and updated.get(old_values) == pk:
                    del updated[old_values]
            for pk, w in writes.items():
                if w.row is None:
                    continue
                values = _unique_values(c, cols, w.row)
                if values is None:
                    continue
                holder = updated.get(values)
                if holder is not None and holder != pk:
                    raise DuplicateError(c.kind, values[1:] if len(cols) > 1 else values[1])
                updated[values] = pk
            new_uniques[cols] = updated
        return table, writes, new_uniques

    def rollback(self) -> None:
        self._writes.clear()

    def close(self) -> None:
        self._writes.clear()


def _lt(a: tuple[Scalar, ...], b: tuple[Scalar, ...]) -> bool:
    return a < b


class MemoryUnitOfWork(DocumentUnitOfWork):
    """A unit of work on a :class:`MemoryStore`."""

    def __init__(self, data: _MemoryData) -> None:
        self._data = data
        super().__init__()

    def _open_session(self) -> _MemorySession:
        if self._data.closed:
            raise StorageError("the store is closed")
        return _MemorySession(self._data)


class MemoryStore:
    """A thread-safe store held in this process's memory (lost when it exits)."""

    def __init__(self) -> None:
        self._data = _MemoryData()

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work; use it in a ``with`` block and call ``commit()``."""
        return MemoryUnitOfWork(self._data)

    def close(self) -> None:
        """Forget nothing, but refuse further units of work."""
        self._data.closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "MemoryStore()"
