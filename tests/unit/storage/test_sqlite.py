"""SQLite-specific behaviour: schema migrations, connections, pragmas, errors."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from b2bcore.accounts import Company
from b2bcore.errors import ConflictError, StorageError, ValidationError
from b2bcore.ids import CompanyId
from b2bcore.storage._repositories import ALL_COLLECTIONS
from b2bcore.storage._schema import MIGRATIONS, Migration
from b2bcore.storage.sqlite import SQLiteStore


def test_new_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        assert store.schema_version() == max(m.version for m in MIGRATIONS)
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    rows = conn.execute("SELECT version, description FROM schema_version").fetchall()
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
    assert mode == "wal"


def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with SQLiteStore(path) as store, store.unit_of_work() as uow:
        uow.companies.add(Company(id=CompanyId("acme"), name="ACME"))
        uow.commit()
    with SQLiteStore(path) as store:
        with store.unit_of_work() as uow:
            assert uow.companies.get(CompanyId("acme")).name == "ACME"
        assert store.schema_version() == len(MIGRATIONS)


def test_a_database_from_a_newer_b2bcore_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO schema_version VALUES (999, 'from the future', '2030-01-01T00:00:00+00:00')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer than this b2bcore knows"):
        SQLiteStore(path)


def test_later_migrations_are_applied_forward_only(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    SQLiteStore(path).close()
    extra = Migration(len(MIGRATIONS) + 1, "test: add a table", ("CREATE TABLE extra (x TEXT)",))
    store = SQLiteStore.__new__(SQLiteStore)
    SQLiteStore.__init__(store, path)
    store._migrate([*MIGRATIONS, extra])
    assert store.schema_version() == extra.version
    store._migrate([*MIGRATIONS, extra])  # idempotent: nothing applied twice
    store.close()


def test_every_collection_has_its_table_and_columns(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite"):
        pass
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    for c in ALL_COLLECTIONS:
        cols = {row[1] for row in conn.execute(f"PRAGMA table_info({c.name})")}
        assert {"company_id", "id", "version", "doc"} <= cols, c.name
        assert {col.name for col in c.columns} <= cols, c.name
    conn.close()


def test_unique_constraints_of_collections_exist_as_unique_indexes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite"):
        pass
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    for c in ALL_COLLECTIONS:
        uniques = [
            [info[2] for info in conn.execute(f"PRAGMA index_info({idx[1]})")]
            for idx in conn.execute(f"PRAGMA index_list({c.name})")
            if idx[2] == 1 and idx[3] == "c"
        ]
        for cols in c.unique:
            assert ["company_id", *cols] in uniques, (c.name, cols)
    conn.close()


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        SQLiteStore(tmp_path / "missing-dir" / "db.sqlite")
    with pytest.raises(ValidationError, match="synchronous"):
        SQLiteStore(tmp_path / "db.sqlite", synchronous="SOMETIMES")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="busy_timeout"):
        SQLiteStore(tmp_path / "db.sqlite", busy_timeout=-1)


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.unit_of_work()


def test_nested_unit_of_work_in_one_thread_is_refused(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store, store.unit_of_work() as outer:
        outer.companies.add(Company(id=CompanyId("a"), name="A"))
        with pytest.raises(StorageError, match="already open in this thread"):
            store.unit_of_work().__enter__()


def test_a_writer_held_past_the_busy_timeout_gives_conflict(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    with SQLiteStore(path, busy_timeout=0.05) as store:
        holder.execute("BEGIN IMMEDIATE")
        try:
            with store.unit_of_work() as uow, pytest.raises(ConflictError, match="busy"):
                uow.companies.add(Company(id=CompanyId("a"), name="A"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_connections_from_other_threads_are_closed_with_the_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with store.unit_of_work() as uow:
                uow.companies.add(Company(id=CompanyId(threading.current_thread().name), name="T"))
                uow.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, name=f"t{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store.close()  # must not raise although the connections were made in other threads
