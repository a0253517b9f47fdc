"""The shipped contract suite against SQLiteStore: a file, and ``:memory:``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from b2bcore.storage.sqlite import SQLiteStore
from b2bcore.testing.contracts import StoreContract


class TestSQLiteFileStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "contract.sqlite", synchronous="NORMAL")
        yield s
        s.close()


class TestSQLiteMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[SQLiteStore]:
        s = SQLiteStore(":memory:")
        yield s
        s.close()
