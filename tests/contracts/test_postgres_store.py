"""The shipped contract suite against PostgresStore, and PostgreSQL specifics.

Needs a server: set ``B2BCORE_POSTGRES_DSN`` (``.ci/run`` starts one and sets it).
Every test works in a schema of its own, created for it and dropped after it.
Without a DSN the server tests skip, saying why; the tests of bad arguments and of
an unreachable server run everywhere.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Company
from b2bcore.accounts.model import BusinessUnit, CompanyUser
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from b2bcore.ids import BusinessUnitId, CompanyId, UserId
from b2bcore.storage._repositories import ALL_COLLECTIONS, USERS
from b2bcore.storage._schema import MIGRATIONS, Migration
from b2bcore.storage.postgres import Isolation, PostgresStore
from b2bcore.testing.contracts import StoreContract

DSN = os.environ.get("B2BCORE_POSTGRES_DSN", "")

needs_server = pytest.mark.skipif(
    not DSN,
    reason="B2BCORE_POSTGRES_DSN is not set: no PostgreSQL server to test against "
    "(.ci/run starts one; or set it to e.g. postgresql://user@127.0.0.1:5432/b2bcore)",
)


def _admin() -> Any:
    import psycopg

    return psycopg.connect(DSN, autocommit=True)


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh schema name; the schema (created by the store) is dropped afterwards."""
    name = f"b2b_test_{uuid.uuid4().hex[:16]}"
    yield name
    with _admin() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@needs_server
@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, schema: str) -> Iterator[PostgresStore]:
        s = PostgresStore(DSN, schema=schema, pool_size=8)
        yield s
        s.close()


@needs_server
@pytest.mark.postgres
class TestPostgresStoreSerializable(StoreContract):
    """The same contract with every unit of work at ``SERIALIZABLE``."""

    @pytest.fixture
    def store(self, schema: str) -> Iterator[PostgresStore]:
        s = PostgresStore(DSN, schema=schema, pool_size=8, isolation="serializable")
        yield s
        s.close()


def _company(cid: str = "acme", name: str = "ACME") -> Company:
    return Company(id=CompanyId(cid), name=name)


# -- schema and migrations ---------------------------------------------------------------
@needs_server
@pytest.mark.postgres
def test_new_schema_is_migrated_and_columns_order_bytewise(schema: str) -> None:
    with PostgresStore(DSN, schema=schema) as store:
        assert store.schema_version() == max(m.version for m in MIGRATIONS)
    with _admin() as conn:
        versions = [
            r[0]
            for r in conn.execute(
                f'SELECT version FROM "{schema}".schema_version ORDER BY version'
            ).fetchall()
        ]
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, collation_name "
            "FROM information_schema.columns WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    assert versions == sorted(m.version for m in MIGRATIONS)
    by_table: dict[str, dict[str, tuple[str, str | None]]] = {}
    for table, column, data_type, collation in columns:
        by_table.setdefault(table, {})[column] = (data_type, collation)
    for c in ALL_COLLECTIONS:
        cols = by_table[c.name]
        assert {"company_id", "id", "version", "doc", *(col.name for col in c.columns)} <= set(
            cols
        ), c.name
        for name, (data_type, collation) in cols.items():
            if data_type == "text":
                assert collation == "C", (c.name, name)
            else:
                assert data_type == "bigint", (c.name, name)


@needs_server
@pytest.mark.postgres
def test_text_ids_page_in_python_string_order_whatever_the_database_collation(
    schema: str,
) -> None:
    # Linguistic collations put "a" before "B" and ignore "_"; Python does not.
    ids = ["b", "B", "a", "A", "z_", "Z_", "Z.", "e", "10", "9", "a-b", "a_b", "ab", "a/b", "a:b"]
    with PostgresStore(DSN, schema=schema) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company())
            uow.business_units.add(
                BusinessUnit(id=BusinessUnitId("hq"), company_id=CompanyId("acme"), name="HQ")
            )
            for uid in ids:
                uow.users.add(
                    CompanyUser(
                        id=UserId(uid),
                        company_id=CompanyId("acme"),
                        email=f"u{ids.index(uid)}@acme.example",
                        name=uid,
                        business_unit_ids=(BusinessUnitId("hq"),),
                    )
                )
            uow.commit()
        seen: list[str] = []
        cursor = None
        with store.unit_of_work() as uow:
            while True:
                page = uow.users.list(company_id=CompanyId("acme"), limit=4, cursor=cursor)
                seen.extend(u.id for u in page)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
    assert seen == sorted(ids)


@needs_server
@pytest.mark.postgres
def test_reopening_applies_nothing_twice_and_keeps_data(schema: str) -> None:
    with PostgresStore(DSN, schema=schema) as store, store.unit_of_work() as uow:
        uow.companies.add(_company())
        uow.commit()
    with PostgresStore(DSN, schema=schema) as store:
        with store.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("acme")).name == "ACME"
        assert store.schema_version() == max(m.version for m in MIGRATIONS)
    with _admin() as conn:
        count = conn.execute(f'SELECT count(*) FROM "{schema}".schema_version').fetchone()
    assert count == (len(MIGRATIONS),)


@needs_server
@pytest.mark.postgres
def test_a_database_from_a_newer_b2bcore_is_refused(schema: str) -> None:
    PostgresStore(DSN, schema=schema).close()
    with _admin() as conn:
        conn.execute(
            f'INSERT INTO "{schema}".schema_version VALUES (999, %s, %s)',
            ("from the future", "2030-01-01T00:00:00+00:00"),
        )
    with pytest.raises(StorageError, match="newer than this b2bcore knows"):
        PostgresStore(DSN, schema=schema)


@needs_server
@pytest.mark.postgres
def test_a_read_only_store_reads_and_refuses_writes(schema: str) -> None:
    with PostgresStore(DSN, schema=schema) as primary, primary.unit_of_work() as uow:
        uow.companies.add(_company())
        uow.commit()
    with PostgresStore(DSN, schema=schema, read_only=True) as replica:
        assert replica.read_only
        with replica.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("acme")).name == "ACME"
        with replica.unit_of_work() as uow, pytest.raises(StorageError, match="read-only"):
            uow.companies.add(_company("globex", "Globex"))
    with PostgresStore(DSN, schema=schema) as primary, primary.unit_of_work() as uow:
        assert [c.id for c in uow.companies.list(limit=10).items] == ["acme"]


@needs_server
@pytest.mark.postgres
def test_a_read_only_store_migrates_nothing_and_needs_this_schema_version(schema: str) -> None:
    with pytest.raises(StorageError, match="has schema version 0, this b2bcore needs"):
        PostgresStore(DSN, schema=schema, read_only=True)
    with _admin() as conn:
        exists = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (schema,)).fetchone()
    assert exists == (False,)  # not even the schema was created
    PostgresStore(DSN, schema=schema).close()
    latest = max(m.version for m in MIGRATIONS)
    with _admin() as conn:
        conn.execute(f'DELETE FROM "{schema}".schema_version WHERE version = %s', (latest,))
    with pytest.raises(StorageError, match="open a writable store on the primary first"):
        PostgresStore(DSN, schema=schema, read_only=True)


@needs_server
@pytest.mark.postgres
def test_later_migrations_are_applied_forward_only(schema: str) -> None:
    store = PostgresStore(DSN, schema=schema)
    try:
        extra = Migration(
            max(m.version for m in MIGRATIONS) + 1,
            "test: add a table",
            ("CREATE TABLE extra (x TEXT, n INTEGER)",),
        )
        store._migrate([*MIGRATIONS, extra])
        assert store.schema_version() == extra.version
        store._migrate([*MIGRATIONS, extra])  # nothing applied twice
        assert store.schema_version() == extra.version
    finally:
        store.close()


_OPEN_AT_ONCE = """
import sys
from b2bcore.storage.postgres import PostgresStore
sys.stdin.readline()
PostgresStore(sys.argv[1], schema=sys.argv[2]).close()
print("opened")
"""


@needs_server
@pytest.mark.postgres
def test_processes_opening_a_new_database_at_once_migrate_it_once(schema: str) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_AT_ONCE, DSN, schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for child in children:  # all started (importing), then released together
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=120) for child in children]
    assert [out.strip() for out, _ in results] == ["opened"] * 4, [err for _, err in results]
    assert [child.returncode for child in children] == [0] * 4
    with _admin() as conn:
        versions = conn.execute(
            f'SELECT version FROM "{schema}".schema_version ORDER BY version'
        ).fetchall()
    assert [v for (v,) in versions] == sorted(m.version for m in MIGRATIONS)


# -- errors ------------------------------------------------------------------------------
@needs_server
@pytest.mark.postgres
def test_a_duplicate_add_leaves_the_unit_usable(schema: str) -> None:
    with PostgresStore(DSN, schema=schema) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company())
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(DuplicateError) as info:
                uow.companies.add(_company(name="Twin"))
            assert info.value.key == "acme"
            uow.companies.add(_company("globex", "Globex"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("globex")).name == "Globex"
            assert uow.companies.get(CompanyId("acme")).name == "ACME"


@needs_server
@pytest.mark.postgres
def test_a_taken_unique_value_on_update_is_a_duplicate_and_the_unit_goes_on(
    schema: str,
) -> None:
    def user(uid: str, email: str) -> CompanyUser:
        return CompanyUser(
            id=UserId(uid),
            company_id=CompanyId("acme"),
            email=email,
            name=uid,
            business_unit_ids=(BusinessUnitId("hq"),),
        )

    with PostgresStore(DSN, schema=schema) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company())
            uow.users.add(user("u1", "one@acme.example"))
            uow.users.add(user("u2", "two@acme.example"))
            uow.commit()
        with store.unit_of_work() as uow:
            u2 = uow.users.get(UserId("u2"), company_id=CompanyId("acme"))
            u2.email = "one@acme.example"
            with pytest.raises(DuplicateError) as info:
                uow.users.update(u2)
            assert (info.value.kind, info.value.key) == (USERS.kind, "one@acme.example")
            with pytest.raises(DuplicateError) as again:
                uow.users.add(user("u3", "two@acme.example"))
            assert again.value.key == "two@acme.example"
            uow.companies.add(_company("globex", "Globex"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("globex")).version == 1
            assert uow.users.get(UserId("u2"), company_id=CompanyId("acme")).email == (
                "two@acme.example"
            )


@needs_server
@pytest.mark.postgres
def test_a_conflict_ends_the_unit_and_nothing_of_it_is_committed(schema: str) -> None:
    with PostgresStore(DSN, schema=schema) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company())
            uow.commit()
        with store.unit_of_work() as slow:
            stale = slow.companies.get(CompanyId("acme"))  # the snapshot is taken here
            slow.companies.add(_company("initech", "Initech"))
            with store.unit_of_work() as fast:
                fresh = fast.companies.get(CompanyId("acme"))
                fresh.name = "ACME Industrial"
                fast.companies.update(fresh)
                fast.commit()
            stale.name = "ACME Old"
            with pytest.raises(ConcurrencyError) as info:
                slow.companies.update(stale)
            assert info.value.expected_version == 1
            # The transaction is gone: nothing more may happen in this unit, not even
            # a commit that would keep "initech" without the failed update.
            with pytest.raises(ConflictError, match="failed earlier"):
                slow.companies.get(CompanyId("acme"))
            with pytest.raises(ConflictError, match="failed earlier"):
                slow.commit()
        with store.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("acme")).name == "ACME Industrial"
            with pytest.raises(NotFoundError):
                uow.companies.get(CompanyId("initech"))


@needs_server
@pytest.mark.postgres
def test_rollback_makes_a_failed_unit_usable_again(schema: str) -> None:
    with PostgresStore(DSN, schema=schema, lock_timeout=0.1) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company())
            uow.commit()
        with store.unit_of_work() as holder:
            held = holder.companies.get(CompanyId("acme"))
            holder.companies.update(held)  # holds the row lock until it ends
            with store.unit_of_work() as waiter:
                other = waiter.companies.get(CompanyId("acme"))
                other.name = "Waiter"
                with pytest.raises(ConflictError, match="lock_timeout"):
                    waiter.companies.update(other)
                waiter.rollback()
                waiter.companies.add(_company("globex", "Globex"))
                waiter.commit()
        with store.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("globex")).name == "Globex"
            assert uow.companies.get(CompanyId("acme")).name == "ACME"


@needs_server
@pytest.mark.postgres
def test_serializable_units_prevent_write_skew(schema: str) -> None:
    # Two units each read both rows and change one: at repeatable read both commit
    # (write skew); at serializable one of them fails with a ConflictError.
    with PostgresStore(DSN, schema=schema) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company("a", "A"))
            uow.companies.add(_company("b", "B"))
            uow.commit()
        committed: dict[str, int] = {}
        levels: tuple[Isolation, ...] = ("repeatable read", "serializable")
        for isolation in levels:
            first = store.unit_of_work(isolation=isolation)
            second = store.unit_of_work(isolation=isolation)
            committed[isolation] = 0
            with first, second:
                for uow in (first, second):
                    uow.companies.get(CompanyId("a"))
                    uow.companies.get(CompanyId("b"))
                for uow, cid in ((first, "a"), (second, "b")):
                    try:
                        company = uow.companies.get(CompanyId(cid))
                        company.name = f"{company.name}+"
                        uow.companies.update(company)
                    except ConflictError:
                        continue
                for uow in (first, second):
                    try:
                        uow.commit()
                        committed[isolation] += 1
                    except ConflictError:
                        continue
    assert committed == {"repeatable read": 2, "serializable": 1}


@needs_server
@pytest.mark.postgres
@pytest.mark.parametrize("isolation", ["repeatable read", "serializable"])
def test_begin_travels_with_the_first_query_string(schema: str, isolation: Isolation) -> None:
    # The pool's connections are in autocommit mode; a unit of work begins its own
    # transaction — in the same round trip as its first reads when they go as one
    # query string (authorization's reads in every command), else just before its
    # first statement. Either way every statement of the unit runs in it.
    import psycopg

    sent: list[str] = []
    real = psycopg.Cursor.execute

    def spy(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return real(cur, query, *args, **kwargs)

    with PostgresStore(DSN, schema=schema, isolation=isolation) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company("a", "A"))
            uow.commit()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(psycopg.Cursor, "execute", spy)
            with store.unit_of_work() as uow:
                found = uow.read_only_many(
                    [(uow.companies, "a", "a"), (uow.business_units, "a", None)]
                )
                level = uow.session._cur.execute(  # type: ignore[attr-defined]
                    "SHOW transaction_isolation"
                ).fetchone()
                uow.rollback()
            with store.unit_of_work() as uow:  # a write first: BEGIN, then the INSERT
                uow.companies.add(_company("b", "B"))
                status = uow.session._conn.info.transaction_status.name  # type: ignore[attr-defined]
                uow.rollback()
        assert found is not None
        assert [c.name for c in found[0]] == ["A"]
        assert level == (isolation,)
        assert sent[0].startswith(f"BEGIN ISOLATION LEVEL {isolation.upper()}; SELECT")
        begin = f"BEGIN ISOLATION LEVEL {isolation.upper()}"
        assert sent[1:3] == ["SHOW transaction_isolation", begin]
        assert sent[3].startswith("INSERT INTO companies")
        assert len(sent) == 4
        assert status == "INTRANS"
        with store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.companies.get(CompanyId("b"))  # rolled back: the INSERT was in the transaction


@needs_server
@pytest.mark.postgres
def test_text_with_nul_characters_is_a_validation_error(schema: str) -> None:
    entry = AuditEntry(
        company_id=CompanyId("acme"),
        at=datetime(2026, 1, 5, tzinfo=UTC),
        acted_by="u1\x00",
        on_behalf_of="u1",
        action="company.rename",
        target="company:acme",
        outcome=Outcome.ALLOWED,
    )
    with PostgresStore(DSN, schema=schema) as store:
        # SQLite keeps NUL characters in indexed columns; PostgreSQL text cannot.
        # Audit lines go to the database with the commit, so the commit says so...
        with store.unit_of_work() as uow, pytest.raises(ValidationError, match="NUL"):
            uow.audit.append(entry)
            uow.commit()
        # ... and so does a read of the audit log in the same unit of work.
        with store.unit_of_work() as uow, pytest.raises(ValidationError, match="NUL"):
            uow.audit.append(entry)
            uow.audit.list(company_id=CompanyId("acme"))
        with store.unit_of_work() as uow:
            assert uow.audit.list(company_id=CompanyId("acme")).items == ()


@needs_server
@pytest.mark.postgres
def test_a_pool_that_stays_busy_gives_a_storage_error(schema: str) -> None:
    failures: list[BaseException] = []
    with (
        PostgresStore(DSN, schema=schema, pool_size=1, pool_timeout=0.2) as store,
        store.unit_of_work() as uow,
    ):
        uow.companies.add(_company())

        def other() -> None:
            try:
                with store.unit_of_work() as second:
                    second.companies.get(CompanyId("acme"))
            except StorageError as e:
                failures.append(e)

        t = threading.Thread(target=other)
        t.start()
        t.join(timeout=30)
        uow.commit()
    assert len(failures) == 1
    assert "pool_size" in str(failures[0])


@needs_server
@pytest.mark.postgres
def test_a_killed_connection_gives_a_storage_error_and_the_pool_recovers(schema: str) -> None:
    with PostgresStore(DSN, schema=schema, pool_size=1) as store:
        with store.unit_of_work() as uow:
            uow.companies.add(_company())
            uow.commit()
        with store.unit_of_work() as uow:
            uow.companies.get(CompanyId("acme"))
            session: Any = uow.session
            (pid,) = session._cur.execute("SELECT pg_backend_pid()").fetchone()
            with _admin() as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(StorageError, match="check that the server is running"):
                uow.companies.get(CompanyId("acme"))
        with store.unit_of_work() as uow:  # a new connection replaces the dead one
            assert uow.companies.get(CompanyId("acme")).name == "ACME"


@needs_server
@pytest.mark.postgres
def test_closed_store_refuses_work(schema: str) -> None:
    store = PostgresStore(DSN, schema=schema)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StorageError, match="closed"):
        store.unit_of_work()


# -- without a server --------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_server_gives_an_actionable_storage_error() -> None:
    port = _free_port()
    dsn = f"postgresql://someone:s3cret@127.0.0.1:{port}/b2bcore"
    with pytest.raises(StorageError) as info:
        PostgresStore(dsn, connect_timeout=2)
    message = str(info.value)
    assert f"someone@127.0.0.1:{port}/b2bcore" in message
    assert "check that the server is running" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"dsn": 42}, "dsn"),
        ({"dsn": "host=localhost port=5432 nonsense_option=1"}, "dsn"),
        ({"dsn": "postgresql://u:pw@h/db", "schema": "no spaces"}, "schema"),
        ({"dsn": "postgresql://u:pw@h/db", "schema": "x" * 64}, "schema"),
        ({"dsn": "postgresql://u:pw@h/db", "pool_size": 0}, "pool_size"),
        ({"dsn": "postgresql://u:pw@h/db", "pool_size": True}, "pool_size"),
        ({"dsn": "postgresql://u:pw@h/db", "isolation": "chaos"}, "isolation"),
        ({"dsn": "postgresql://u:pw@h/db", "lock_timeout": -1}, "lock_timeout"),
        ({"dsn": "postgresql://u:pw@h/db", "pool_timeout": "soon"}, "pool_timeout"),
        ({"dsn": "postgresql://u:pw@h/db", "connect_timeout": 1}, "connect_timeout"),
    ],
)
def test_bad_arguments_are_validation_errors(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        PostgresStore(**kwargs)
    assert info.value.path == path
    assert "pw" not in str(info.value)


_DSN_OK = "postgresql://u:pw@h/db"


@settings(max_examples=50, deadline=None)
@given(
    arguments=st.one_of(
        st.fixed_dictionaries(
            {"pool_size": st.one_of(st.integers(max_value=0), st.floats(), st.booleans())}
        ),
        st.fixed_dictionaries(
            {
                "isolation": st.one_of(
                    st.text().filter(lambda s: s not in ("repeatable read", "serializable")),
                    st.none(),
                    st.integers(),
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "schema": st.one_of(
                    st.text().filter(lambda s: re.fullmatch(r"[A-Za-z_]\w{0,62}", s) is None),
                    st.integers(),
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "lock_timeout": st.one_of(
                    st.floats(max_value=-0.001), st.text(), st.booleans(), st.none()
                )
            }
        ),
        st.fixed_dictionaries({"connect_timeout": st.one_of(st.integers(max_value=1), st.text())}),
    )
)
def test_any_bad_argument_is_refused_before_connecting(arguments: dict[str, Any]) -> None:
    # The host "h" does not exist: a check that connected first would fail otherwise.
    with pytest.raises(ValidationError) as info:
        PostgresStore(_DSN_OK, **arguments)
    assert info.value.path == next(iter(arguments))
    assert "pw" not in str(info.value)
