"""The shipped contract suite against MemoryStore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.contracts import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        s = MemoryStore()
        yield s
        s.close()
