"""The ``store`` the storage-mechanics tests run on: MemoryStore, a SQLite file and —
with ``B2BCORE_POSTGRES_DSN`` — PostgreSQL in a schema of its own (skipped, saying
why, without a server). A module that defines its own ``store`` uses that one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.postgres import PostgresStore
from b2bcore.storage.sqlite import SQLiteStore
from tests.contracts.test_postgres_store import (  # the PostgreSQL skip and schema helpers
    DSN,
    needs_server,
    schema,  # noqa: F401 - a fixture, used by name
)

Store = MemoryStore | SQLiteStore | PostgresStore

POSTGRES = pytest.param("postgres", marks=[needs_server, pytest.mark.postgres])


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "postgres":
        s = PostgresStore(DSN, schema=request.getfixturevalue("schema"), pool_size=4)
    elif request.param == "sqlite":
        s = SQLiteStore(tmp_path / "b.sqlite")
    else:
        s = MemoryStore()
    yield s
    s.close()
