"""The assets tests share the claims tests' world (see ``tests/unit/claims/conftest``)."""

from __future__ import annotations

from tests.unit.claims.conftest import store, world

__all__ = ["store", "world"]
