"""Row-level deletes (``Session.delete``), the memory store's hash indexes, and the
SQLite plan of a price-rule lookup."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b2bcore.errors import ConcurrencyError, DuplicateError, NotFoundError
from b2bcore.ids import PriceListId
from b2bcore.money import Money
from b2bcore.pricing.model import PriceList, PriceRule, RuleTarget, TargetKind
from b2bcore.storage._documents import Filter, Query, StoredRow
from b2bcore.storage._repositories import PLATFORM, PRICE_RULES, USERS
from b2bcore.storage._uow import DocumentUnitOfWork
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.sqlite import SQLiteStore

Store = MemoryStore | SQLiteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "db.sqlite")
    yield s
    s.close()


def _row(key: str, value: str | None = "v", *, version: int = 1, doc: str = "{}") -> StoredRow:
    return StoredRow(
        company_id=PLATFORM,
        id=key,
        version=version,
        columns={"list_id": "L", "position": 0, "target_kind": "sku", "target_value": value},
        doc=doc,
    )


def _uow(store: Store) -> DocumentUnitOfWork:
    return store.unit_of_work()


def _select(uow: DocumentUnitOfWork, *filters: Filter) -> list[str]:
    q = Query(PLATFORM, tuple(filters), ("id",), descending=False, after=None, limit=1000)
    return [r.id for r in uow.session.select(PRICE_RULES, q)]


def test_delete_removes_the_row_at_commit(store: Store) -> None:
    with _uow(store) as uow:
        uow.session.insert(PRICE_RULES, _row("a"))
        uow.session.insert(PRICE_RULES, _row("b"))
        uow.commit()
    with _uow(store) as uow:
        uow.session.delete(PRICE_RULES, PLATFORM, "a")
        assert uow.session.fetch(PRICE_RULES, PLATFORM, "a") is None
        assert _select(uow, Filter("target_value", "eq", "v")) == ["b"]
        with pytest.raises(NotFoundError):
            uow.session.delete(PRICE_RULES, PLATFORM, "a")
        with pytest.raises(NotFoundError):
            uow.session.replace(PRICE_RULES, _row("a", version=2), 1)
        uow.commit()
    with _uow(store) as uow:
        assert uow.session.fetch(PRICE_RULES, PLATFORM, "a") is None
        assert _select(uow) == ["b"]
        with pytest.raises(NotFoundError):
            uow.session.delete(PRICE_RULES, PLATFORM, "never")
        with pytest.raises(NotFoundError):
            uow.session.delete(PRICE_RULES, "some-company", "b")  # other tenant


def test_delete_is_rolled_back_with_the_unit(store: Store) -> None:
    with _uow(store) as uow:
        uow.session.insert(PRICE_RULES, _row("a"))
        uow.commit()
    with _uow(store) as uow:
        uow.session.delete(PRICE_RULES, PLATFORM, "a")
        uow.rollback()
        assert uow.session.fetch(PRICE_RULES, PLATFORM, "a") is not None
    with _uow(store) as uow:
        uow.session.delete(PRICE_RULES, PLATFORM, "a")  # left without commit
    with _uow(store) as uow:
        assert _select(uow) == ["a"]


def test_insert_then_delete_in_one_unit_writes_nothing(store: Store) -> None:
    with _uow(store) as uow:
        uow.session.insert(PRICE_RULES, _row("a"))
        uow.session.delete(PRICE_RULES, PLATFORM, "a")
        assert _select(uow) == []
        uow.session.insert(PRICE_RULES, _row("a", doc='{"again":1}'))
        uow.commit()
    with _uow(store) as uow:
        again = uow.session.fetch(PRICE_RULES, PLATFORM, "a")
    assert again is not None
    assert (again.doc, again.version) == ('{"again":1}', 1)


def test_delete_then_insert_of_one_key_overwrites_it(store: Store) -> None:
    with _uow(store) as uow:
        uow.session.insert(PRICE_RULES, _row("a", "old"))
        uow.commit()
    with _uow(store) as uow:
        uow.session.delete(PRICE_RULES, PLATFORM, "a")
        uow.session.insert(PRICE_RULES, _row("a", "new", doc='{"n":2}'))
        with pytest.raises(DuplicateError):
            uow.session.insert(PRICE_RULES, _row("a", "newer"))
        uow.commit()
    with _uow(store) as uow:
        row = uow.session.fetch(PRICE_RULES, PLATFORM, "a")
        assert _select(uow, Filter("target_value", "eq", "old")) == []
        assert _select(uow, Filter("target_value", "eq", "new")) == ["a"]
    assert row is not None
    assert row.doc == '{"n":2}'


def test_memory_delete_of_a_row_changed_meanwhile_fails_the_commit() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.session.insert(PRICE_RULES, _row("a"))
        uow.session.insert(PRICE_RULES, _row("b"))
        uow.commit()
    with store.unit_of_work() as deleter, store.unit_of_work() as changer:
        deleter.session.delete(PRICE_RULES, PLATFORM, "a")
        deleter.session.delete(PRICE_RULES, PLATFORM, "b")
        changer.session.replace(PRICE_RULES, _row("a", "changed", version=2), 1)
        changer.commit()
        with pytest.raises(ConcurrencyError):
            deleter.commit()
    with store.unit_of_work() as uow:
        assert _select(uow) == ["a", "b"]  # nothing of the failed unit was applied
        assert _select(uow, Filter("target_value", "eq", "changed")) == ["a"]


def test_memory_delete_of_a_row_deleted_meanwhile_fails_the_commit() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.session.insert(PRICE_RULES, _row("a"))
        uow.commit()
    with store.unit_of_work() as first, store.unit_of_work() as second:
        first.session.delete(PRICE_RULES, PLATFORM, "a")
        second.session.delete(PRICE_RULES, PLATFORM, "a")
        first.commit()
        with pytest.raises(ConcurrencyError):
            second.commit()


# --- the memory store's hash indexes ----------------------------------------------------

_VALUES = st.sampled_from(["x", "y", "z", None])


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["put", "delete", "commit"]), st.integers(0, 5), _VALUES),
        max_size=40,
    ),
    wanted=st.lists(_VALUES, min_size=1, max_size=3),
)
def test_memory_indexed_select_equals_a_scan(
    steps: list[tuple[str, int, str | None]], wanted: list[str | None]
) -> None:
    store = MemoryStore()
    with store.unit_of_work() as warm:
        _select(warm, Filter("target_value", "eq", "x"))  # build the index before writes
    model: dict[str, str | None] = {}  # the committed state
    with store.unit_of_work() as uow:
        pending = dict(model)
        for op, n, value in steps:
            key = f"k{n}"
            if op == "put":
                current = uow.session.fetch(PRICE_RULES, PLATFORM, key)
                if current is None:
                    uow.session.insert(PRICE_RULES, _row(key, value))
                else:
                    newer = _row(key, value, version=current.version + 1)
                    uow.session.replace(PRICE_RULES, newer, current.version)
                pending[key] = value
            elif op == "delete":
                if key in pending:
                    uow.session.delete(PRICE_RULES, PLATFORM, key)
                    del pending[key]
                else:
                    with pytest.raises(NotFoundError):
                        uow.session.delete(PRICE_RULES, PLATFORM, key)
            else:
                uow.commit()
                model = dict(pending)
            eq = _select(uow, Filter("target_value", "eq", wanted[0]))
            assert eq == sorted(k for k, v in pending.items() if v == wanted[0])
        uow.commit()
        model = pending
    with store.unit_of_work() as uow:
        found = _select(uow, Filter("target_value", "in", wanted), Filter("list_id", "eq", "L"))
        every = _select(uow)
    assert found == sorted(k for k, v in model.items() if v in wanted)
    assert every == sorted(model)


def test_memory_equality_query_reads_only_the_matching_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for n in range(2000):
            uow.session.insert(PRICE_RULES, _row(f"k{n}", f"v{n}"))
        uow.commit()
    calls: list[int] = []
    original = Filter.matches

    def counting(self: Filter, actual: object) -> bool:
        calls.append(1)
        return original(self, actual)  # type: ignore[arg-type]

    monkeypatch.setattr(Filter, "matches", counting)
    with store.unit_of_work() as uow:
        assert _select(uow, Filter("target_value", "eq", "v7")) == ["k7"]
        assert _select(uow, Filter("target_value", "in", ["v1", "v2", "v1"])) == ["k1", "k2"]
    assert len(calls) <= 3


# --- SQLite plans -----------------------------------------------------------------------


def _plans(store: SQLiteStore, work: Callable[[DocumentUnitOfWork], object]) -> list[str]:
    statements: list[str] = []
    with store.unit_of_work() as uow:
        conn, _ = store._acquire()  # the thread's connection, as the unit uses it
        conn.set_trace_callback(statements.append)
        try:
            work(uow)
        finally:
            conn.set_trace_callback(None)
        plans = []
        for sql in statements:
            if sql.startswith("SELECT") and "FROM price_rules" in sql:
                rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
                plans.append(" | ".join(str(r[3]) for r in rows))
    return plans


def test_sqlite_rule_lookup_uses_the_target_index(tmp_path: Path) -> None:
    rules = [
        PriceRule(id=f"r{n}", target=RuleTarget.sku(f"S{n}"), price=Money("1.00", "EUR"))
        for n in range(50)
    ]
    price_list = PriceList(
        id=PriceListId("L"),
        name="L",
        currency="EUR",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        rules=[*rules, PriceRule(id="all", target=RuleTarget.all(), price=Money("2", "EUR"))],
    )
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        with store.unit_of_work() as uow:
            uow.price_lists.add(price_list)
            uow.commit()
        lookups = _plans(
            store,
            lambda uow: uow.price_lists.rules_for(
                [(TargetKind.SKU, "S7"), (TargetKind.ALL, None)], list_ids=[PriceListId("L")]
            ),
        )
        loads = _plans(store, lambda uow: uow.price_lists.get(PriceListId("L")))
    assert len(lookups) == 2
    assert all("price_rules_by_target" in p and "SCAN" not in p for p in lookups), lookups
    assert all("TEMP B-TREE" not in p for p in lookups), lookups
    assert loads
    assert all("price_rules_order" in p and "TEMP B-TREE" not in p for p in loads), loads


def test_sqlite_has_the_price_rule_indexes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite"):
        pass
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    indexes = {
        name: [info[2] for info in conn.execute(f"PRAGMA index_info({name})")]
        for _, name, *_ in conn.execute("PRAGMA index_list(price_rules)")
    }
    conn.close()
    assert indexes["price_rules_by_target"][:3] == ["company_id", "target_kind", "target_value"]
    assert indexes["price_rules_order"] == ["company_id", "list_id", "position", "id"]


def test_a_deleted_rows_unique_value_is_free_in_the_same_unit(store: Store) -> None:
    def user(key: str, email: str) -> StoredRow:
        columns = {"email": email, "bu_ids": "|hq|", "status": "invited", "role_ids": "||"}
        return StoredRow(company_id="co", id=key, version=1, columns=columns, doc="{}")

    with _uow(store) as uow:
        uow.session.insert(USERS, user("u1", "desk@acme.example"))
        uow.commit()
    with _uow(store) as uow:
        with pytest.raises(DuplicateError):
            uow.session.insert(USERS, user("u2", "desk@acme.example"))
        uow.session.delete(USERS, "co", "u1")
        uow.session.insert(USERS, user("u2", "desk@acme.example"))
        uow.commit()
    with _uow(store) as uow:
        found = uow.session.select(
            USERS,
            Query("co", (Filter("email", "eq", "desk@acme.example"),), ("id",), False, None, 10),
        )
    assert [r.id for r in found] == ["u2"]
