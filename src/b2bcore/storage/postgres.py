"""The PostgreSQL store: for when one machine's SQLite is not enough (psycopg 3).

Needs the extra ``b2bcore[postgres]`` (psycopg 3 and psycopg_pool)::

    from b2bcore.storage.postgres import PostgresStore

    with PostgresStore("postgresql://b2bcore@db.internal/b2bcore", schema="b2bcore") as store:
        with store.unit_of_work() as uow:
            uow.companies.add(Company(id="acme", name="ACME"))
            uow.commit()

What it uses the database for:

* a pool of connections (``pool_size``) shared by the threads of the process,
  checked before use and replaced when broken; a unit of work holds one
  connection, and one transaction, from its first statement to its end;
* transactions at ``REPEATABLE READ`` by default: everything a unit of work reads
  comes from one snapshot (a price list's header and its rules always match), and
  a row changed by another transaction since that snapshot cannot be overwritten;
  ``isolation="serializable"`` is there for use-cases that need it, per store or
  per unit of work;
* optimistic concurrency by the ``version`` guard of every ``UPDATE``, as in the
  SQLite store; unique constraints (primary keys ``(company_id, id)``, unique values
  per company) decide duplicates, also between concurrent transactions;
* text columns ``COLLATE "C"``: ids and other sort keys order bytewise, exactly like
  Python strings and the other stores, whatever the database's own collation;
* the forward-only migrations of the SQLite store (``b2bcore.storage._schema``) and
  a ``schema_version`` table, applied when the store opens under an advisory lock,
  so processes opening the same database at once do not race; a database written
  by a newer b2bcore is refused, never downgraded. ``schema="name"`` keeps
  b2bcore's tables in a schema of their own (created if missing).

Driver errors become b2bcore errors:

=============================================================  ============================
PostgreSQL / psycopg                                            b2bcore
=============================================================  ============================
unique violation (an existing key or unique value)              DuplicateError
a row changed since it was read (version guard)                 ConcurrencyError
serialization failure or deadlock on an update                  ConcurrencyError
serialization failure on an add (a concurrent insert won)       DuplicateError
serialization failure or deadlock elsewhere, lock timeout       ConflictError (retry)
text with NUL characters, numbers out of range                  ValidationError
no connection, a lost connection, pool exhausted, others        StorageError
=============================================================  ============================

A statement that fails on the server ends its transaction: everything the unit of
work did is rolled back, and further use of it (including ``commit``) raises a
:class:`~b2bcore.errors.ConflictError` or :class:`~b2bcore.errors.StorageError`
until it is rolled back or left, so a half-done unit is never committed.
Duplicates found by an ``add`` (or by an update taking a unique value) are the
exception: they leave the unit usable, as in the other stores.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from b2bcore.errors import (
    B2BCoreError,
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
    whole_company,
)
from b2bcore.storage._schema import MIGRATIONS, Migration
from b2bcore.storage._uow import DocumentUnitOfWork

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["Isolation", "PostgresStore", "PostgresUnitOfWork"]

#: Transaction isolation of a unit of work.
Isolation = Literal["repeatable read", "serializable"]

_ISOLATIONS: tuple[str, ...] = ("repeatable read", "serializable")
_OPS = {"eq": "=", "ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
#: Seconds a connection given back to the pool may be handed out again without a
#: test query (see ``PostgresStore._check_connection``).
_CHECK_AFTER_IDLE: Final = 1.0
_SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TABLE_DDL = re.compile(r"^\s*(CREATE|ALTER)\s+TABLE\b", re.IGNORECASE)
_TEXT = re.compile(r"\bTEXT\b")
_INTEGER = re.compile(r"\bINTEGER\b")


def _import_psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise StorageError(
            "PostgresStore needs psycopg 3 and psycopg_pool: pip install 'b2bcore[postgres]'"
        ) from e
    return psycopg, psycopg_pool


def _ddl(statement: str) -> str:
    """A migration statement in PostgreSQL's dialect.

    The shared migrations use only ``TEXT`` and ``INTEGER``: text columns get the
    bytewise ``"C"`` collation (ordering like Python strings) and integers are
    64-bit, like SQLite's.

    >>> _ddl("CREATE TABLE t (id TEXT NOT NULL, n INTEGER)")
    'CREATE TABLE t (id TEXT COLLATE "C" NOT NULL, n BIGINT)'
    >>> _ddl("CREATE INDEX t_by_n ON t (n, id)")
    'CREATE INDEX t_by_n ON t (n, id)'
    """
    if not _TABLE_DDL.match(statement):
        return statement
    return _INTEGER.sub("BIGINT", _TEXT.sub('TEXT COLLATE "C"', statement))


def _db(value: Any) -> Any:
    """A column value as PostgreSQL gets it: booleans as integers, as SQLite stores them."""
    return int(value) if isinstance(value, bool) else value


def _describe(params: dict[str, Any]) -> str:
    """Where a DSN points, without its password."""
    host = params.get("host") or params.get("hostaddr") or "the default socket"
    port = params.get("port") or "5432"
    db = params.get("dbname") or params.get("user") or "the default database"
    user = params.get("user")
    return f"{f'{user}@' if user else ''}{host}:{port}/{db}"


#: A write held back in a batch: (kind, collection, row, expected version, SQL, params).
_Queued = tuple[Literal["insert", "replace"], Collection[Any], StoredRow, int, str, list[Any]]


class _PostgresSession:
    def __init__(
        self, store: PostgresStore, conn: psycopg.Connection[Any], isolation: Isolation
    ) -> None:
        self._store = store
        self._conn = conn
        self._cur = conn.cursor()
        # The pool's connections are in autocommit mode: the session starts its
        # transaction itself, so that BEGIN can travel with the first query string.
        self._begin_sql = f"BEGIN ISOLATION LEVEL {isolation.upper()}"
        # The translated error that aborted the current transaction, if any.
        self._aborted: B2BCoreError | None = None
        # Writes held back while batching (see begin_batch); None: not batching.
        self._queued: list[_Queued] | None = None
        self._client: Any = None  # a ClientCursor for _many, made when first needed

    # -- statements ---------------------------------------------------------------------
    def _translate(self, e: Exception, action: str) -> B2BCoreError:
        translated = self._store._translate(e, action)
        if self._in_error():
            self._aborted = translated
        return translated

    def _in_error(self) -> bool:
        from psycopg.pq import TransactionStatus

        status = self._conn.info.transaction_status
        return status in (TransactionStatus.INERROR, TransactionStatus.UNKNOWN)

    def _check_usable(self) -> None:
        if self._aborted is not None:
            error = self._aborted
            again = ConflictError if isinstance(error, ConflictError) else StorageError
            raise again(
                f"this unit of work failed earlier ({error}) and its transaction was rolled "
                "back; leave the with block (or call rollback()) and retry in a new unit of work"
            )

    def _idle(self) -> bool:
        """No transaction is open on the connection (the next statement starts one)."""
        return bool(self._conn.info.transaction_status == self._store._idle_status)

    def _tx(self) -> Any:
        """The cursor, in a transaction (begun here when none is open)."""
        if self._idle():
            self._cur.execute(self._begin_sql)
        return self._cur

    def _execute(self, sql: str, params: Sequence[Any] = (), action: str = "run a query") -> Any:
        if self._queued:
            self._flush_queued()
        self._check_usable()
        psycopg = self._store._psycopg
        try:
            return self._tx().execute(sql, params)
        except psycopg.Error as e:
            raise self._translate(e, action) from e

    def _many(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[tuple[int, list[Any]]]:
        """Run ``statements`` in one round trip — one query string, parameters bound
        on the client (psycopg's ``ClientCursor`` quotes them) — and return each
        one's row count and rows. On a local server this costs less than a pipeline
        as well as fewer round trips. psycopg errors propagate to the caller."""
        if self._client is None:
            self._client = self._store._psycopg.ClientCursor(self._conn)
        cur = self._client
        begin = self._idle()  # the transaction starts in the same round trip
        text = "; ".join(sql for sql, _ in statements)
        cur.execute(
            f"{self._begin_sql}; {text}" if begin else text,
            [p for _, ps in statements for p in ps],
        )
        if begin:
            cur.nextset()
        results: list[tuple[int, list[Any]]] = []
        while True:
            results.append((cur.rowcount, cur.fetchall() if cur.description else []))
            if not cur.nextset():
                return results

    @staticmethod
    def _row(c: Collection[Any], r: Sequence[Any]) -> StoredRow:
        return StoredRow(
            company_id=r[0],
            id=r[1],
            version=r[2],
            doc=r[3],
            columns={col.name: r[4 + i] for i, col in enumerate(c.columns)},
        )

    @staticmethod
    def _select_list(c: Collection[Any]) -> str:
        return ", ".join(c.stored_names())

    # -- the Session protocol -----------------------------------------------------------
    def fetch(self, c: Collection[Any], company_id: str, key: str) -> StoredRow | None:
        r = self._execute(
            f"SELECT {self._select_list(c)} FROM {c.name} WHERE company_id = %s AND id = %s",
            (company_id, key),
            f"read the {c.kind}",
        ).fetchone()
        return None if r is None else self._row(c, r)

    def _duplicate(self, c: Collection[Any], row: StoredRow) -> DuplicateError:
        """Which key or unique value of ``row`` is taken (the insert did nothing)."""
        found = self._execute(
            f"SELECT 1 FROM {c.name} WHERE company_id = %s AND id = %s",
            (row.company_id, row.id),
            f"check for a duplicate {c.kind}",
        ).fetchone()
        if found is None:
            for cols in c.unique:
                values = tuple(row.columns[col] for col in cols)
                if any(v is None for v in values):
                    continue
                where = " AND ".join(f"{col} = %s" for col in cols)
                taken = self._execute(
                    f"SELECT 1 FROM {c.name} WHERE company_id = %s AND {where}",
                    (row.company_id, *values),
                    f"check for a duplicate {c.kind}",
                ).fetchone()
                if taken is not None:
                    return DuplicateError(c.kind, values[0] if len(values) == 1 else values)
        return DuplicateError(c.kind, row.id)

    def _unique_violation(self, c: Collection[Any], row: StoredRow, e: Any) -> DuplicateError:
        constraint = getattr(e.diag, "constraint_name", None) or ""
        for cols in c.unique:
            if constraint == f"{c.name}_unique_{'_'.join(cols)}":
                values = tuple(row.columns[col] for col in cols)
                return DuplicateError(c.kind, values[0] if len(values) == 1 else values)
        return DuplicateError(c.kind, row.id)

    @staticmethod
    def _insert_sql(c: Collection[Any], row: StoredRow) -> tuple[str, list[Any]]:
        names = c.stored_names()
        values = [_db(value) for value in c.stored_values(row)]
        marks = ", ".join(["%s"] * len(names))
        # ON CONFLICT DO NOTHING: a duplicate leaves the transaction usable (no savepoint).
        sql = f"INSERT INTO {c.name} ({', '.join(names)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        return sql, values

    @staticmethod
    def _replace_sql(
        c: Collection[Any], row: StoredRow, expected_version: int
    ) -> tuple[str, list[Any]]:
        sets = ", ".join(["version = %s", "doc = %s", *(f"{col.name} = %s" for col in c.columns)])
        values = [row.version, row.doc, *(_db(row.columns[col.name]) for col in c.columns)]
        sql = f"UPDATE {c.name} SET {sets} WHERE company_id = %s AND id = %s AND version = %s"
        return sql, [*values, row.company_id, row.id, expected_version]

    def insert(self, c: Collection[Any], row: StoredRow) -> None:
        sql, values = self._insert_sql(c, row)
        if self._queued is not None:
            self._check_usable()
            self._queued.append(("insert", c, row, 0, sql, values))
            return
        self._check_usable()
        psycopg = self._store._psycopg
        try:
            cur = self._tx().execute(sql, values)
        except psycopg.errors.SerializationFailure as e:
            # The key or a unique value was taken by a transaction that committed
            # after this one's snapshot: a duplicate, found by the database.
            error = DuplicateError(
                c.kind,
                row.id,
                f"{c.kind} {row.id!r} (or one of its unique values) was just added by a "
                "concurrent transaction",
            )
            self._aborted = error
            raise error from e
        except psycopg.Error as e:
            raise self._translate(e, f"add the {c.kind}") from e
        if cur.rowcount != 1:
            raise self._duplicate(c, row)

    def replace(self, c: Collection[Any], row: StoredRow, expected_version: int) -> None:
        sql, params = self._replace_sql(c, row, expected_version)
        if self._queued is not None:
            self._check_usable()
            self._queued.append(("replace", c, row, expected_version, sql, params))
            return
        self._check_usable()
        psycopg = self._store._psycopg
        # A new unique value may collide: in a savepoint, so a DuplicateError leaves
        # the unit usable as an insert's does. Collections without unique values skip
        # the extra round trips.
        guarded = bool(c.unique)
        try:
            self._tx()
            if guarded:
                self._cur.execute("SAVEPOINT b2bcore_replace")
            try:
                updated = self._cur.execute(sql, params).rowcount
            except psycopg.errors.UniqueViolation as e:
                duplicate = self._unique_violation(c, row, e)
                if guarded:
                    self._cur.execute("ROLLBACK TO SAVEPOINT b2bcore_replace")
                elif self._in_error():
                    self._aborted = duplicate
                raise duplicate from e
            if guarded:
                self._cur.execute("RELEASE SAVEPOINT b2bcore_replace")
        except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as e:
            error = ConcurrencyError(
                c.kind,
                row.id,
                expected_version=expected_version,
                message=(
                    f"{c.kind} {row.id!r} was changed by a concurrent transaction since this "
                    f"unit of work read it (version {expected_version}); reload it and retry"
                ),
            )
            if self._in_error():
                self._aborted = error
            raise error from e
        except psycopg.Error as e:
            raise self._translate(e, f"update the {c.kind}") from e
        if updated == 1:
            return
        raise self._not_replaced(c, row, expected_version)

    def _not_replaced(
        self, c: Collection[Any], row: StoredRow, expected_version: int
    ) -> NotFoundError | ConcurrencyError:
        """Why an update of ``row`` at ``expected_version`` changed no row."""
        found = self._execute(
            f"SELECT version FROM {c.name} WHERE company_id = %s AND id = %s",
            (row.company_id, row.id),
            f"read the {c.kind}",
        ).fetchone()
        if found is None:
            return NotFoundError(c.kind, row.id)
        return ConcurrencyError(
            c.kind, row.id, expected_version=expected_version, actual_version=found[0]
        )

    # -- batches of writes ---------------------------------------------------------------
    def begin_batch(self) -> None:
        """Hold inserts and updates back until :meth:`end_batch` (or the next read):
        then they go to the server in one query string — one round trip — and are
        checked as one. A write of the batch that fails (a duplicate, a stale
        version) fails the whole unit of work: it cannot be committed."""
        if self._queued is None:
            self._queued = []

    def end_batch(self, *, apply: bool) -> None:
        """Send what the batch holds (``apply``) or drop it (the unit failed)."""
        queued, self._queued = self._queued, None
        if apply and queued:
            self._run_queued(queued)

    def _flush_queued(self) -> None:
        queued, self._queued = self._queued or [], []
        self._run_queued(queued)

    def _run_queued(self, queued: list[_Queued]) -> None:
        self._check_usable()
        psycopg = self._store._psycopg
        try:
            counts = [count for count, _rows in self._many([(q[4], q[5]) for q in queued])]
        except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as e:
            error: B2BCoreError = ConcurrencyError(
                "record",
                "?",
                message="a concurrent transaction changed what this unit of work writes; "
                "retry in a new unit of work",
            )
            self._aborted = error
            raise error from e
        except psycopg.Error as e:
            error = self._store._translate(e, "write records")
            self._aborted = error
            raise error from e
        for (op, c, row, expected, _sql, _params), count in zip(queued, counts, strict=True):
            if count == 1:
                continue
            error = (
                self._duplicate(c, row) if op == "insert" else self._not_replaced(c, row, expected)
            )
            self._aborted = error  # later writes of the batch were applied: no commit
            raise error

    def delete(self, c: Collection[Any], company_id: str, key: str) -> None:
        cur = self._execute(
            f"DELETE FROM {c.name} WHERE company_id = %s AND id = %s",
            (company_id, key),
            f"delete the {c.kind}",
        )
        if cur.rowcount != 1:
            raise NotFoundError(c.kind, key)

    def fetch_all(self, wanted: Sequence[Wanted]) -> list[list[StoredRow]]:
        """The reads in one query string: one round trip to the server for all."""
        if self._queued:
            self._flush_queued()
        if len(wanted) < 2:
            return fetch_each(self, wanted)
        statements = [
            (
                f"SELECT {self._select_list(c)} FROM {c.name} WHERE company_id = %s AND id = %s",
                (company_id, key),
            )
            if key is not None
            else self._select_sql(c, whole_company(c, company_id))
            for c, company_id, key in wanted
        ]
        self._check_usable()
        psycopg = self._store._psycopg
        try:
            found = [rows for _count, rows in self._many(statements)]
        except psycopg.Error as e:
            raise self._translate(e, "read records") from e
        return [
            [self._row(c, r) for r in rows]
            for (c, _co, _key), rows in zip(wanted, found, strict=True)
        ]

    def select(self, c: Collection[Any], q: Query) -> list[StoredRow]:
        sql, params = self._select_sql(c, q)
        rows = self._execute(sql, params, f"query {c.kind} records").fetchall()
        return [self._row(c, r) for r in rows]

    def _select_sql(self, c: Collection[Any], q: Query) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if q.company_id is not None:
            where.append("company_id = %s")
            params.append(q.company_id)
        for f in q.filters:
            if f.op == "eq" and f.value is None:
                where.append(f"{f.column} IS NULL")
            elif f.op == "in":
                values = list(f.value)
                if not values:
                    where.append("FALSE")
                else:
                    where.append(f"{f.column} IN ({', '.join(['%s'] * len(values))})")
                    params.extend(map(_db, values))
            elif f.op == "contains":
                where.append(f"strpos({f.column}, %s) > 0")
                params.append(_db(f.value))
            else:
                where.append(f"{f.column} {_OPS[f.op]} %s")
                params.append(_db(f.value))
        cols = ", ".join(q.order)
        if q.after is not None:
            marks = ", ".join(["%s"] * len(q.order))
            where.append(f"({cols}) {'<' if q.descending else '>'} ({marks})")
            params.extend(map(_db, q.after))
        direction = " DESC" if q.descending else ""
        order_by = ", ".join(f"{col}{direction}" for col in q.order)
        sql = f"SELECT {self._select_list(c)} FROM {c.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order_by} LIMIT %s"
        params.append(q.limit)
        return sql, params

    # -- the transaction ----------------------------------------------------------------
    def _commit_with(self, deferred: Deferred) -> None:
        """Insert the deferred rows (one multi-row INSERT per collection) and commit,
        in one query string: one round trip."""
        statements: list[tuple[str, Sequence[Any]]] = []
        for c, rows in deferred:
            if not rows:
                continue
            names = c.stored_names()
            marks = "(" + ", ".join(["%s"] * len(names)) + ")"
            values = [_db(value) for r in rows for value in c.stored_values(r)]
            statements.append(
                (
                    f"INSERT INTO {c.name} ({', '.join(names)}) VALUES "
                    + ", ".join([marks] * len(rows)),
                    values,
                )
            )
        self._many([*statements, ("COMMIT", ())])

    def commit(self, deferred: Deferred = ()) -> None:
        if self._queued:
            self._flush_queued()
        self._check_usable()
        if self._in_error():  # pragma: no cover - every failure is recorded in _aborted
            raise StorageError("the transaction failed earlier; nothing was committed")
        psycopg = self._store._psycopg
        try:
            if any(rows for _c, rows in deferred):
                try:
                    self._commit_with(deferred)
                except psycopg.errors.UniqueViolation as e:
                    table = getattr(e.diag, "table_name", None)
                    c, rows = next(
                        ((c, rows) for c, rows in deferred if rows and c.name == table),
                        next((c, rows) for c, rows in deferred if rows),
                    )
                    raise deferred_duplicate(c, rows) from e
            else:
                self._conn.commit()
        except psycopg.OperationalError as e:
            translated = self._store._translate(e, "commit")
            if isinstance(translated, StorageError) and self._conn.closed:
                raise StorageError(
                    f"the connection to PostgreSQL was lost while committing ({e}); the unit "
                    "of work may or may not have been applied: check before retrying"
                ) from e
            raise translated from e
        except psycopg.Error as e:
            raise self._store._translate(e, "commit") from e

    def rollback(self) -> None:
        self._aborted = None
        self._queued = None
        if self._conn.closed:
            return
        psycopg = self._store._psycopg
        try:
            self._conn.rollback()
        except psycopg.Error as e:
            raise self._store._translate(e, "roll back") from e

    def close(self) -> None:
        try:
            if not self._conn.closed:
                self._conn.rollback()
        except Exception:  # noqa: BLE001, S110 - a broken connection is discarded by the pool
            pass
        finally:
            self._aborted = None
            self._store._release(self._conn)


class PostgresUnitOfWork(DocumentUnitOfWork):
    """A unit of work on a :class:`PostgresStore`: one connection, one transaction."""

    def __init__(self, store: PostgresStore, isolation: Isolation) -> None:
        self._store = store
        self._isolation = isolation
        super().__init__()

    def _open_session(self) -> _PostgresSession:
        return _PostgresSession(self._store, self._store._acquire(), self._isolation)


class PostgresStore:
    """A store in a PostgreSQL database, given by a libpq DSN or URL.

    ``schema`` is the schema holding b2bcore's tables (created when missing; None:
    the connection's ``search_path``, usually ``public``). ``pool_size`` is the most
    connections the store opens; a unit of work waits up to ``pool_timeout`` seconds
    for one. ``isolation`` is the default isolation of a unit of work.
    ``lock_timeout`` is how long, in seconds, a statement waits for a row another
    transaction holds before failing with :class:`~b2bcore.errors.ConflictError`.
    ``connect_timeout`` bounds each connection attempt. ``read_only=True`` opens a
    store on a read replica (or for a reporting role): it applies no migration — the
    database must already be at this b2bcore's schema version — and every unit of
    work runs in a read-only transaction, so a write fails with
    :class:`~b2bcore.errors.StorageError` instead of reaching the server's data.

    The store checks out a connection when a unit of work opens and returns it when
    the unit closes; connections found broken are replaced.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        pool_size: int = 10,
        isolation: Isolation = "repeatable read",
        lock_timeout: float = 10.0,
        pool_timeout: float = 30.0,
        connect_timeout: int = 10,
        read_only: bool = False,
    ) -> None:
        self._psycopg, self._pool_module = _import_psycopg()
        self._idle_status = self._psycopg.pq.TransactionStatus.IDLE
        if not isinstance(read_only, bool):
            raise ValidationError(
                "read_only must be True or False", path="read_only", value=read_only
            )
        self.read_only = read_only
        self._params = self._check_dsn(dsn)
        if schema is not None and (not isinstance(schema, str) or not _SCHEMA_RE.fullmatch(schema)):
            raise ValidationError(
                "schema must be a plain identifier (letters, digits, _; at most 63)",
                path="schema",
                value=schema,
            )
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValidationError(
                "pool_size must be a whole number of at least 1", path="pool_size", value=pool_size
            )
        self._check_isolation(isolation)
        for name, value, low in (
            ("lock_timeout", lock_timeout, 0.0),
            ("pool_timeout", pool_timeout, 0.0),
            ("connect_timeout", connect_timeout, 2),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
                raise ValidationError(
                    f"{name} must be a number of seconds of at least {low}", path=name, value=value
                )
        self._dsn = dsn
        self.schema = schema
        self.isolation: Isolation = isolation
        self._lock_timeout_ms = int(lock_timeout * 1000)
        self._pool_timeout = float(pool_timeout)
        self._connect_kwargs: dict[str, Any] = {"connect_timeout": int(connect_timeout)}
        if "application_name" not in self._params:
            self._connect_kwargs["application_name"] = "b2bcore"
        self._closed = False
        self._close_lock = threading.Lock()
        # When each pooled connection was last given back (see _check_connection).
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        if read_only:
            self._check_schema()
        else:
            self._migrate()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = self._pool_module.ConnectionPool(
            dsn,
            kwargs=self._connect_kwargs,
            min_size=1,
            max_size=pool_size,
            open=False,
            configure=self._configure,
            check=self._check_connection,
            timeout=self._pool_timeout,
            name=f"b2bcore-{id(self):x}",
        )
        # Wait for the first connection: the store is ready when it is returned, and no
        # pool thread is still connecting in the background (psycopg_pool draws the
        # jitter of a connection's lifetime from the global ``random``, which
        # Hypothesis, rightly, refuses to see change while it generates data).
        try:
            self._pool.open(wait=True, timeout=max(float(connect_timeout), self._pool_timeout))
        except self._pool_module.PoolTimeout as e:
            self._pool.close()
            raise StorageError(
                f"the connection pool to PostgreSQL at {self.target} could not open its first "
                "connection; check that the server is running and accepts connections"
            ) from e

    # -- arguments ----------------------------------------------------------------------
    def _check_dsn(self, dsn: object) -> dict[str, Any]:
        if not isinstance(dsn, str):
            raise ValidationError(
                "dsn must be a libpq connection string or URL, e.g. "
                "'postgresql://user@localhost:5432/b2bcore'",
                path="dsn",
                value=type(dsn).__name__,
            )
        try:
            params: dict[str, Any] = self._psycopg.conninfo.conninfo_to_dict(dsn)
        except self._psycopg.Error as e:
            # The DSN may hold a password: neither it nor the DSN goes into the message.
            raise ValidationError(
                f"dsn is not a valid libpq connection string or URL ({type(e).__name__}); e.g. "
                "'postgresql://user@localhost:5432/b2bcore'",
                path="dsn",
            ) from None
        return params

    @staticmethod
    def _check_isolation(isolation: object) -> None:
        if isolation not in _ISOLATIONS:
            raise ValidationError(
                "isolation must be 'repeatable read' or 'serializable'",
                path="isolation",
                value=isolation,
            )

    @property
    def target(self) -> str:
        """Where the store connects, without the password: ``user@host:port/dbname``."""
        return _describe(self._params)

    # -- errors -------------------------------------------------------------------------
    def _translate(  # noqa: PLR0911 - one return per family of driver errors
        self, e: Exception, action: str
    ) -> B2BCoreError:
        errors = self._psycopg.errors
        if isinstance(e, (errors.SerializationFailure, errors.DeadlockDetected)):
            return ConflictError(
                f"a concurrent transaction changed the same data while trying to {action} "
                f"({e.sqlstate}); nothing of this unit of work was kept: retry it"
            )
        if isinstance(e, errors.ReadOnlySqlTransaction):
            return StorageError(
                f"this store is read-only (a replica or a reporting connection) and cannot "
                f"{action}: write through a store opened on the primary"
            )
        if isinstance(e, errors.LockNotAvailable):
            return ConflictError(
                f"waited longer than lock_timeout ({self._lock_timeout_ms / 1000:g}s) for a row "
                f"another transaction holds, while trying to {action}: retry, or raise "
                "lock_timeout"
            )
        if isinstance(e, errors.UniqueViolation):
            return DuplicateError("row", getattr(e.diag, "constraint_name", None) or "?")
        if isinstance(e, self._psycopg.DataError):
            return ValidationError(f"PostgreSQL cannot store a value while trying to {action}: {e}")
        if isinstance(e, self._psycopg.OperationalError):
            return StorageError(
                f"PostgreSQL at {self.target} failed while trying to {action}: {e}".rstrip()
                + "; check that the server is running and reachable, and the DSN"
            )
        return StorageError(f"PostgreSQL failed to {action}: {e}")

    # -- connections --------------------------------------------------------------------
    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Session settings of every pooled connection (run once, when it is made).
        The connection stays in autocommit mode: a unit of work's session starts its
        transaction with an explicit ``BEGIN ISOLATION LEVEL ...``."""
        conn.autocommit = True
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{self._lock_timeout_ms}",))
        if self.schema is not None:
            conn.execute("SELECT set_config('search_path', %s, false)", (f'"{self.schema}"',))
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")

    def _acquire(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise StorageError("the store is closed")
        try:
            conn = self._pool.getconn()
        except self._pool_module.PoolClosed as e:
            raise StorageError("the store is closed") from e
        except self._pool_module.PoolTimeout as e:
            raise StorageError(
                f"no PostgreSQL connection to {self.target} within {self._pool_timeout:g}s: "
                "either all pool_size connections stay in use (raise pool_size, keep units "
                "of work short) or the server cannot be reached (check that it runs)"
            ) from e
        return conn

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        self._returned[conn] = time.monotonic()
        self._pool.putconn(conn)

    def _check_connection(self, conn: psycopg.Connection[Any]) -> None:
        """The pool's test of a connection it hands out: a round trip to the server,
        unless the connection came back less than :data:`_CHECK_AFTER_IDLE` seconds
        ago (a connection that just worked almost surely still does; HikariCP skips
        its test the same way). Without the window every unit of work would pay a
        round trip for it; a connection that broke within the window fails its unit
        of work with a StorageError and the pool replaces it."""
        returned = self._returned.get(conn)
        if returned is not None and time.monotonic() - returned < _CHECK_AFTER_IDLE:
            return
        self._pool_module.ConnectionPool.check_connection(conn)

    # -- schema -------------------------------------------------------------------------
    def _lock_key(self) -> int:
        # One advisory lock per schema: migrations of different schemas do not wait.
        return zlib.crc32(f"b2bcore.migrate:{self.schema or ''}".encode())

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = self._psycopg.connect(
                self._dsn, autocommit=False, **self._connect_kwargs
            )
        except self._psycopg.Error as e:
            raise StorageError(
                f"cannot connect to PostgreSQL at {self.target}: {str(e).strip()}; check that "
                "the server is running, that it accepts TCP connections there, and the DSN's "
                "user, password and database"
            ) from e
        return conn

    def _check_schema(self, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        """A read-only store migrates nothing: the schema must be this version's."""
        latest = max(m.version for m in migrations)
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                if self.schema is not None:
                    cur.execute("SELECT set_config('search_path', %s, true)", (f'"{self.schema}"',))
                cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
                row = cur.fetchone()
                current = 0
                if row is not None and row[0]:
                    cur.execute("SELECT max(version) FROM schema_version")
                    row = cur.fetchone()
                    current = int(row[0]) if row is not None and row[0] is not None else 0
            conn.rollback()
        except self._psycopg.Error as e:
            raise self._translate(e, "read the schema version") from e
        finally:
            conn.close()
        if current != latest:
            raise StorageError(
                f"database {self.target}{f' (schema {self.schema})' if self.schema else ''} "
                f"has schema version {current}, this b2bcore needs {latest}; a read-only store "
                "migrates nothing: open a writable store on the primary first (or upgrade "
                "b2bcore if the database is newer)"
            )

    def _migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        latest = max(m.version for m in migrations)
        conn = self._connect()
        try:
            conn.isolation_level = self._psycopg.IsolationLevel.READ_COMMITTED
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key(),))
                if self.schema is not None:
                    cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                    cur.execute("SELECT set_config('search_path', %s, true)", (f'"{self.schema}"',))
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                cur.execute("SELECT max(version) FROM schema_version")
                row = cur.fetchone()
                current = int(row[0]) if row is not None and row[0] is not None else 0
                if current > latest:
                    raise StorageError(
                        f"database {self.target}"
                        f"{f' (schema {self.schema})' if self.schema else ''} has schema "
                        f"version {current}, newer than this b2bcore knows ({latest}); upgrade "
                        "b2bcore instead of downgrading data"
                    )
                for m in sorted(migrations, key=lambda m: m.version):
                    if m.version <= current:
                        continue
                    for statement in m.statements:
                        cur.execute(_ddl(statement))
                    cur.execute(
                        "INSERT INTO schema_version (version, description, applied_at) "
                        "VALUES (%s, %s, %s)",
                        (m.version, m.description, datetime.now(UTC).isoformat()),
                    )
            conn.commit()
        except self._psycopg.Error as e:
            raise self._translate(e, "migrate the schema") from e
        finally:
            conn.close()

    def schema_version(self) -> int:
        """The schema version of the database."""
        conn = self._acquire()
        try:
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        except self._psycopg.Error as e:
            raise self._translate(e, "read the schema version") from e
        finally:
            self._release(conn)
        return 0 if row is None or row[0] is None else int(row[0])

    # -- public -------------------------------------------------------------------------
    def unit_of_work(self, *, isolation: Isolation | None = None) -> PostgresUnitOfWork:
        """A new unit of work; use it in a ``with`` block and call ``commit()``.

        ``isolation`` overrides the store's default for this unit only.
        """
        if self._closed:
            raise StorageError("the store is closed")
        if isolation is None:
            isolation = self.isolation
        self._check_isolation(isolation)
        return PostgresUnitOfWork(self, isolation)

    def close(self) -> None:
        """Close the pool and its connections; the store cannot be used afterwards."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        schema = f", schema={self.schema!r}" if self.schema else ""
        return f"PostgresStore({self.target!r}{schema})"
