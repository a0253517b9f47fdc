"""The SQLite store: b2bcore's embedded default (stdlib :mod:`sqlite3`).

* WAL journal, a busy timeout, ``synchronous=FULL`` by default (a committed order
  survives a power cut; pass ``synchronous="NORMAL"`` to trade that for speed);
* a ``schema_version`` table and forward-only migrations, applied when the store
  opens; a database written by a newer b2bcore is refused, never downgraded;
* aggregates as JSON documents with indexed columns; ``(company_id, id)`` primary
  keys; unique indexes per company;
* one connection per thread; a unit of work is one ``BEGIN IMMEDIATE``
  transaction, so writers queue (up to the busy timeout) instead of failing, and a
  stale version is caught by the ``version`` guard of every ``UPDATE``;
* each connection keeps the rows it read and reuses them while the database
  provably did not change them (``PRAGMA data_version`` for other connections and
  processes, its own writes, ``total_changes`` for writes around the store); an
  ``UPDATE`` of a row read in the same transaction sets only the indexed columns
  that changed.

>>> import tempfile, pathlib
>>> from b2bcore.accounts import Company
>>> from b2bcore.storage.sqlite import SQLiteStore
>>> path = pathlib.Path(tempfile.mkdtemp()) / "b2b.sqlite"
>>> with SQLiteStore(path) as store:
...     with store.unit_of_work() as uow:
...         uow.companies.add(Company(id="acme", name="ACME"))
...         uow.commit()
...     with store.unit_of_work() as uow:
...         uow.companies.get("acme").name
'ACME'
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

import attrs

from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from b2bcore.storage._documents import (
    Collection,
    Deferred,
    Query,
    StoredRow,
    Wanted,
    deferred_duplicate,
    fetch_each,
)
from b2bcore.storage._schema import MIGRATIONS, Migration
from b2bcore.storage._uow import DocumentUnitOfWork

__all__ = ["SQLiteStore", "SQLiteUnitOfWork"]

_UNIQUE_RE = re.compile(r"UNIQUE constraint failed: (.+)$")
_OPS = {"eq": "=", "ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _translate(e: sqlite3.Error, action: str) -> Exception:
    message = str(e)
    if isinstance(e, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
        return ConflictError(
            f"the database stayed busy while trying to {action}; another writer holds it "
            "longer than the busy timeout: retry, or raise busy_timeout"
        )
    return StorageError(f"SQLite failed to {action}: {message}")


#: How many rows a connection keeps from its reads (see _Reads); past that, it
#: forgets them all and starts again. Every thread has a connection, so this is per
#: thread: a few MB of what every command reads (authorization, the products and
#: price lists in use), not a copy of the database.
_READS_SIZE = 4096
#: A select with more rows than this is not kept.
_READS_PER_SELECT = 512


class _Reads:
    """The rows a connection read lately, per collection, reused by later units of
    work on that connection while the database cannot have changed them.

    A row may be reused only while nothing changed it. Every change to the
    database comes from one of two places: another connection (any process) —
    ``PRAGMA data_version`` then differs, read inside the unit's transaction, and
    the whole cache is forgotten — or this connection. The session forgets a
    collection before it writes to it, reads it from the database for the rest of
    that unit of work (so nothing that may be rolled back is kept), and notes the
    connection's ``total_changes`` after the write; if ``total_changes`` ever
    differs from the note, a write went around the session and everything is
    forgotten too."""

    __slots__ = ("changes", "data_version", "rows", "size")

    def __init__(self) -> None:
        #: collection -> (company_id, id) or a Query -> rows (a row or None for fetch).
        self.rows: dict[str, dict[Any, Any]] = {}
        self.size = 0
        self.data_version: int | None = None
        self.changes = -1

    def forget(self) -> None:
        self.rows.clear()
        self.size = 0

    def keep(self, collection: str, key: Any, value: Any, size: int) -> None:
        if self.size + size > _READS_SIZE:
            self.forget()
        self.rows.setdefault(collection, {})[key] = value
        self.size += size


class _Connection(sqlite3.Connection):
    """A connection of a :class:`SQLiteStore`, with the rows it read lately."""

    reads: _Reads


def _cacheable(q: Query) -> bool:
    """Whether a select's rows may be kept under the query as key: its values are
    strings, whose equality is the database's (``1 == 1.0 == True`` in Python)."""
    if q.after is not None:
        return False
    for f in q.filters:
        v = f.value
        if type(v) is tuple:
            if any(type(item) is not str for item in v):
                return False
        elif type(v) is not str:
            return False
    return True


@attrs.frozen
class _Statements:
    """The SQL text of one collection's reads and writes, made once."""

    columns: str  # the select list
    fetch: str
    insert: str
    replace: str

    @classmethod
    def of(cls, c: Collection[Any]) -> _Statements:
        names = c.stored_names()
        columns = ", ".join(names)
        return cls(
            columns=columns,
            fetch=f"SELECT {columns} FROM {c.name} WHERE company_id = ? AND id = ?",
            insert=f"INSERT INTO {c.name} ({columns}) VALUES ({', '.join('?' * len(names))})",
            replace=_update_sql(c.name, tuple(col.name for col in c.columns)),
        )


def _update_sql(table: str, columns: tuple[str, ...]) -> str:
    """An UPDATE of ``table`` guarded by the version it replaces, setting the
    version, the document and ``columns``."""
    sets = ", ".join(["version = ?", "doc = ?", *(f"{name} = ?" for name in columns)])
    return f"UPDATE {table} SET {sets} WHERE company_id = ? AND id = ? AND version = ?"


#: Per table: the collection and its statements (made again for another collection
#: object of the same name).
_STATEMENTS: dict[str, tuple[Collection[Any], _Statements]] = {}
#: UPDATE statements setting only some indexed columns: (table, columns) -> SQL.
_PARTIAL_UPDATES: dict[tuple[str, tuple[str, ...]], str] = {}


def _partial_update(c: Collection[Any], columns: tuple[str, ...]) -> str:
    """An UPDATE of ``c`` setting the version, the document and only ``columns``
    (an index whose columns are not set is not rewritten)."""
    key = (c.name, columns)
    sql = _PARTIAL_UPDATES.get(key)
    if sql is None:
        sql = _update_sql(c.name, columns)
        if len(_PARTIAL_UPDATES) < 4096:
            _PARTIAL_UPDATES[key] = sql
    return sql


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _statements(c: Collection[Any]) -> _Statements:
    made = _STATEMENTS.get(c.name)
    if made is None or made[0] is not c:
        made = _STATEMENTS[c.name] = (c, _Statements.of(c))
    return made[1]


class _SQLiteSession:
    def __init__(self, conn: sqlite3.Connection, release: Any) -> None:
        self._conn = conn
        self._release = release
        self._in_tx = False
        self._reads: _Reads | None = getattr(conn, "reads", None)
        self._checked = False  # the reads were checked against this transaction
        self._dirty: set[str] = set()  # collections this unit of work wrote to
        # Rows as they stand in this transaction, read or written by it, by
        # (table, company, id): an UPDATE then sets only the columns that changed.
        self._current: dict[tuple[str, str, str], StoredRow] = {}

    def _kept(self, collection: str) -> dict[Any, Any] | None:
        """The rows of ``collection`` this connection keeps, valid in this unit of
        work's transaction (None: read it from the database)."""
        reads = self._reads
        if reads is None or collection in self._dirty:
            return None
        if not self._checked:
            self._begin()
            try:
                (version,) = self._conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as e:
                raise _translate(e, "run a statement") from e
            if version != reads.data_version or self._conn.total_changes != reads.changes:
                reads.forget()
                reads.data_version = version
                reads.changes = self._conn.total_changes
            self._checked = True
        kept = reads.rows.get(collection)
        if kept is None:
            kept = reads.rows[collection] = {}
        return kept

    def _writing(self, collection: str) -> None:
        """Before a write to ``collection``: forget its kept rows (from now on this
        unit reads it from the database); :meth:`_written` after it."""
        reads = self._reads
        if reads is None:
            return
        self._dirty.add(collection)
        if self._conn.total_changes != reads.changes:
            reads.forget()
        else:
            reads.rows.pop(collection, None)

    def _written(self) -> None:
        """After a write (whether it failed or not): note the connection's changes."""
        if self._reads is not None:
            self._reads.changes = self._conn.total_changes

    def _begin(self) -> None:
        if not self._in_tx:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise _translate(e, "start a transaction") from e
            self._in_tx = True

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._begin()
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as e:
            raise _translate(e, "run a statement") from e

    @staticmethod
    def _row(c: Collection[Any], r: Sequence[Any]) -> StoredRow:
        return StoredRow(
            company_id=r[0],
            id=r[1],
            version=r[2],
            doc=r[3],
            columns={col.name: r[4 + i] for i, col in enumerate(c.columns)},
        )

    def fetch(self, c: Collection[Any], company_id: str, key: str) -> StoredRow | None:
        kept = self._kept(c.name)
        if kept is None:
            row = self._fetch(c, company_id, key)
        else:
            try:
                row = cast("StoredRow | None", kept[company_id, key])
            except KeyError:
                row = self._fetch(c, company_id, key)
                assert self._reads is not None
                self._reads.keep(c.name, (company_id, key), row, 1)
        if row is not None:
            self._current[c.name, company_id, key] = row
        return row

    def _fetch(self, c: Collection[Any], company_id: str, key: str) -> StoredRow | None:
        r = self._execute(_statements(c).fetch, (company_id, key)).fetchone()
        return None if r is None else self._row(c, r)

    def _duplicate(
        self, c: Collection[Any], row: StoredRow, e: sqlite3.IntegrityError
    ) -> DuplicateError:
        m = _UNIQUE_RE.search(str(e))
        cols = [part.split(".")[-1] for part in m.group(1).split(", ")] if m else []
        unique_cols = [col for col in cols if col not in ("company_id", "id")]
        if unique_cols:
            values = tuple(row.columns[col] for col in unique_cols)
            return DuplicateError(c.kind, values[0] if len(values) == 1 else values)
        return DuplicateError(c.kind, row.id)

    def insert(self, c: Collection[Any], row: StoredRow) -> None:
        self._writing(c.name)
        try:
            self._execute(_statements(c).insert, c.stored_values(row))
        except sqlite3.IntegrityError as e:
            raise self._duplicate(c, row, e) from e
        finally:
            self._written()
        self._current[c.name, row.company_id, row.id] = row

    def _update_of(
        self, c: Collection[Any], row: StoredRow, before: StoredRow | None, expected_version: int
    ) -> tuple[str, list[Any]]:
        """The UPDATE of ``row`` and its values: all columns, or — when this
        transaction read or wrote the row at ``expected_version`` and no write went
        around the session since — only those whose value changed."""
        columns = row.columns
        reads = self._reads
        if (
            before is None
            or before.version != expected_version
            or (reads is not None and self._conn.total_changes != reads.changes)
        ):
            return _statements(c).replace, [
                row.version,
                row.doc,
                *[columns[col.name] for col in c.columns],
            ]
        old = before.columns
        changed = tuple(
            col.name for col in c.columns if not _same(columns[col.name], old[col.name])
        )
        return _partial_update(c, changed), [
            row.version,
            row.doc,
            *[columns[name] for name in changed],
        ]

    def replace(self, c: Collection[Any], row: StoredRow, expected_version: int) -> None:
        key = (c.name, row.company_id, row.id)
        sql, values = self._update_of(c, row, self._current.pop(key, None), expected_version)
        self._writing(c.name)
        try:
            cur = self._execute(sql, [*values, row.company_id, row.id, expected_version])
        except sqlite3.IntegrityError as e:
            raise self._duplicate(c, row, e) from e
        finally:
            self._written()
        if cur.rowcount == 1:
            self._current[key] = row
        if cur.rowcount == 1:
            return
        found = self._execute(
            f"SELECT version FROM {c.name} WHERE company_id = ? AND id = ?",
            (row.company_id, row.id),
        ).fetchone()
        if found is None:
            raise NotFoundError(c.kind, row.id)
        raise ConcurrencyError(
            c.kind, row.id, expected_version=expected_version, actual_version=found[0]
        )

    def delete(self, c: Collection[Any], company_id: str, key: str) -> None:
        self._current.pop((c.name, company_id, key), None)
        self._writing(c.name)
        try:
            cur = self._execute(
                f"DELETE FROM {c.name} WHERE company_id = ? AND id = ?", (company_id, key)
            )
        finally:
            self._written()
        if cur.rowcount != 1:
            raise NotFoundError(c.kind, key)

    def fetch_all(self, wanted: Sequence[Wanted]) -> list[list[StoredRow]]:
        return fetch_each(self, wanted)

    def select(self, c: Collection[Any], q: Query) -> list[StoredRow]:
        kept = self._kept(c.name) if _cacheable(q) else None
        if kept is None:
            rows = self._select(c, q)
        else:
            try:
                rows = list(kept[q])
            except KeyError:
                rows = self._select(c, q)
                if len(rows) <= _READS_PER_SELECT:
                    assert self._reads is not None
                    self._reads.keep(c.name, q, tuple(rows), len(rows) or 1)
        current = self._current
        for row in rows:
            current[c.name, row.company_id, row.id] = row
        return rows

    def _select(self, c: Collection[Any], q: Query) -> list[StoredRow]:
        where: list[str] = []
        params: list[Any] = []
        if q.company_id is not None:
            where.append("company_id = ?")
            params.append(q.company_id)
        for f in q.filters:
            if f.op == "eq" and f.value is None:
                where.append(f"{f.column} IS NULL")
            elif f.op == "in":
                values = list(f.value)
                if not values:
                    where.append("0")
                else:
                    where.append(f"{f.column} IN ({', '.join('?' * len(values))})")
                    params.extend(values)
            elif f.op == "contains":
                where.append(f"instr({f.column}, ?) > 0")
                params.append(f.value)
            else:
                where.append(f"{f.column} {_OPS[f.op]} ?")
                params.append(f.value)
        cols = ", ".join(q.order)
        if q.after is not None:
            marks = ", ".join("?" * len(q.order))
            where.append(f"({cols}) {'<' if q.descending else '>'} ({marks})")
            params.extend(q.after)
        direction = " DESC" if q.descending else ""
        order_by = ", ".join(f"{col}{direction}" for col in q.order)
        sql = f"SELECT {_statements(c).columns} FROM {c.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order_by} LIMIT ?"
        params.append(q.limit)
        return [self._row(c, r) for r in self._execute(sql, params).fetchall()]

    def commit(self, deferred: Deferred = ()) -> None:
        for c, rows in deferred:
            if not rows:
                continue
            self._begin()
            self._writing(c.name)
            try:
                self._conn.executemany(_statements(c).insert, [c.stored_values(r) for r in rows])
            except sqlite3.IntegrityError as e:
                raise deferred_duplicate(c, rows) from e
            except sqlite3.Error as e:
                raise _translate(e, "commit") from e
            finally:
                self._written()
        if not self._in_tx:
            return
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise _translate(e, "commit") from e
        self._in_tx = False
        self._checked = False  # the next transaction checks the kept rows again
        self._current.clear()

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._in_tx = False
        self._checked = False
        self._current.clear()

    def close(self) -> None:
        try:
            self.rollback()
        finally:
            self._release()


class SQLiteUnitOfWork(DocumentUnitOfWork):
    """A unit of work on a :class:`SQLiteStore`."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        super().__init__()

    def _open_session(self) -> _SQLiteSession:
        conn, release = self._store._acquire()
        return _SQLiteSession(conn, release)


Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


class SQLiteStore:
    """A store in one SQLite file (``":memory:"`` for a private in-memory database).

    ``busy_timeout`` is how long, in seconds, a unit of work waits for another
    writer before failing with :class:`~b2bcore.errors.ConflictError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 10.0,
        synchronous: Synchronous = "FULL",
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValidationError(
                "synchronous must be OFF, NORMAL, FULL or EXTRA",
                path="synchronous",
                value=synchronous,
            )
        if (
            isinstance(busy_timeout, bool)
            or not isinstance(busy_timeout, (int, float))
            or busy_timeout < 0
        ):
            raise ValidationError(
                "busy_timeout must be a non-negative number of seconds",
                path="busy_timeout",
                value=busy_timeout,
            )
        self._memory = str(path) == ":memory:"
        self.path = str(path) if self._memory else str(Path(path))
        self._busy_ms = int(busy_timeout * 1000)
        self._synchronous = synchronous
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._shared_lock = threading.RLock()  # the one connection of a :memory: store
        self._closed = False
        if not self._memory and not Path(self.path).parent.is_dir():
            raise ValidationError(
                f"directory {str(Path(self.path).parent)!r} does not exist", path="path", value=path
            )
        self._migrate()

    # -- connections --------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_ms / 1000,
                isolation_level=None,
                check_same_thread=False,  # we keep one connection per thread ourselves
                factory=_Connection,
            )
            conn.reads = _Reads()
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            if not self._memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as e:
            raise StorageError(f"cannot open SQLite database {self.path!r}: {e}") from e
        with self._lock:
            self._connections.append(conn)
        return conn

    def _acquire(self) -> tuple[sqlite3.Connection, Any]:
        if self._closed:
            raise StorageError("the store is closed")
        if self._memory:
            self._shared_lock.acquire()
            conn: sqlite3.Connection | None = getattr(self, "_shared", None)
            if conn is None:
                conn = self._shared = self._connect()
            release = self._shared_lock.release
        else:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._connect()

            def release() -> None:
                return None

        if conn.in_transaction:
            if self._memory:
                self._shared_lock.release()
            raise StorageError(
                "a unit of work of this store is already open in this thread; "
                "finish it before opening another"
            )
        return conn, release

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn, release = self._acquire()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            release()

    # -- schema -------------------------------------------------------------------------
    def _migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        latest = max(m.version for m in migrations)
        with self._connection() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                current = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
                if current > latest:
                    conn.execute("ROLLBACK")
                    raise StorageError(
                        f"database {self.path!r} has schema version {current}, newer than this "
                        f"b2bcore knows ({latest}); upgrade b2bcore instead of downgrading data"
                    )
                for m in sorted(migrations, key=lambda m: m.version):
                    if m.version <= current:
                        continue
                    for statement in m.statements:
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version (version, description, applied_at) "
                        "VALUES (?, ?, ?)",
                        (m.version, m.description, datetime.now(UTC).isoformat()),
                    )
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                raise _translate(e, "migrate the schema") from e

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._connection() as conn:
            return int(conn.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    # -- public -------------------------------------------------------------------------
    def unit_of_work(self) -> SQLiteUnitOfWork:
        """A new unit of work; use it in a ``with`` block and call ``commit()``."""
        if self._closed:
            raise StorageError("the store is closed")
        return SQLiteUnitOfWork(self)

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        self._closed = True
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
