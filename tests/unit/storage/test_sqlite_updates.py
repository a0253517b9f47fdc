"""SQLite UPDATEs set only the indexed columns that changed — when the transaction
read (or wrote) the row at the version it updates — and the columns always match
the document afterwards, whatever mix of updates, rollbacks and outside writes."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import BusinessUnit, Company
from b2bcore.accounts.model import CompanyUser, RoleGrant, UserStatus
from b2bcore.errors import ConcurrencyError
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId, UserId
from b2bcore.serialization import structure, unstructure
from b2bcore.storage._documents import Scalar
from b2bcore.storage._repositories import USERS
from b2bcore.storage.sqlite import SQLiteStore

ACME = CompanyId("acme")
BEN = UserId("ben")
COLUMNS = [col.name for col in USERS.columns]
_SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def _seed(store: SQLiteStore) -> None:
    with store.unit_of_work() as uow:
        uow.companies.add(Company(id=ACME, name="ACME"))
        for unit in ("hq", "plant"):
            uow.business_units.add(
                BusinessUnit(id=BusinessUnitId(unit), company_id=ACME, name=unit.upper())
            )
        uow.users.add(
            CompanyUser(
                id=BEN,
                company_id=ACME,
                email="ben@acme.example",
                name="Ben",
                business_unit_ids=(BusinessUnitId("hq"),),
            )
        )
        uow.commit()


def _stored(path: Path) -> tuple[dict[str, object], dict[str, Scalar], int]:
    """The user's indexed columns as stored, as its stored document says they
    should be, and its version — read with a connection of its own."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            f"SELECT version, doc, {', '.join(COLUMNS)} FROM users WHERE company_id = ? AND id = ?",
            (ACME, BEN),
        ).fetchone()
    finally:
        conn.close()
    data = json.loads(row[1])
    data["version"] = row[0]
    user = structure(data, CompanyUser)
    return dict(zip(COLUMNS, row[2:], strict=True)), USERS.column_values(user), int(row[0])


@contextmanager
def _updates_seen(store: SQLiteStore) -> Iterator[list[str]]:
    conn, release = store._acquire()
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: seen.append(sql) if sql.startswith("UPDATE") else None)
    release()
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def _set(sql: str) -> list[str]:
    """The columns an UPDATE statement (as traced, values inlined) sets."""
    sets = re.sub(r"'(?:[^']|'')*'", "?", sql).split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    return [part.split(" = ", 1)[0].strip() for part in sets.split(",")]


def _changed(user: CompanyUser, change: str) -> CompanyUser:
    if change == "email":
        return attrs.evolve(user, email=f"ben+{user.version}@acme.example")
    if change == "status":
        other = UserStatus.ACTIVE if user.status is not UserStatus.ACTIVE else UserStatus.DISABLED
        return attrs.evolve(user, status=other)
    if change == "units":
        units = ("hq",) if user.business_unit_ids != ("hq",) else ("hq", "plant")
        return attrs.evolve(user, business_unit_ids=tuple(map(BusinessUnitId, units)))
    if change == "roles":
        grants = () if user.grants else (RoleGrant(role_id=RoleId("buyer"), valid_from=_SINCE),)
        return attrs.evolve(user, grants=grants)
    return attrs.evolve(user, name=f"Ben {user.version}")  # "name": no indexed column


def test_an_update_sets_only_the_columns_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "u.sqlite"
    with SQLiteStore(path) as store:
        _seed(store)
        with _updates_seen(store) as seen, store.unit_of_work() as uow:
            user = uow.users.get(BEN, company_id=ACME)
            uow.users.update(_changed(user, "name"))
            user = uow.users.get(BEN, company_id=ACME)
            uow.users.update(_changed(user, "status"))
            uow.commit()
        assert [_set(sql) for sql in seen] == [["version", "doc"], ["version", "doc", "status"]]
        stored, expected, version = _stored(path)
        assert stored == expected
        assert version == 3


def test_an_update_of_a_row_not_read_in_the_transaction_sets_every_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "u.sqlite"
    with SQLiteStore(path) as store:
        _seed(store)
        with store.unit_of_work() as uow:
            user = uow.users.get(BEN, company_id=ACME)
        with _updates_seen(store) as seen, store.unit_of_work() as uow:
            uow.users.update(_changed(user, "name"))  # read in an earlier unit
            uow.commit()
        assert [_set(sql) for sql in seen] == [["version", "doc", *COLUMNS]]


def test_a_stale_update_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "u.sqlite"
    with SQLiteStore(path) as store, SQLiteStore(path) as other:
        _seed(store)
        with store.unit_of_work() as uow:
            stale = uow.users.get(BEN, company_id=ACME)
        with other.unit_of_work() as uow:
            uow.users.update(_changed(uow.users.get(BEN, company_id=ACME), "email"))
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            uow.users.update(_changed(stale, "name"))
        stored, expected, _ = _stored(path)
        assert stored == expected


_CHANGES = st.sampled_from(["email", "status", "units", "roles", "name"])
_STEP = st.one_of(
    st.tuples(st.just("update"), _CHANGES),
    st.tuples(st.just("update_kept"), _CHANGES),  # the object read in an earlier step
    st.tuples(st.just("commit"), st.none()),
    st.tuples(st.just("rollback"), st.none()),
    st.tuples(st.just("outside"), _CHANGES),  # another connection, new version
    st.tuples(st.just("around"), st.sampled_from(["email", "status"])),  # same version
    st.tuples(st.just("raw"), st.sampled_from(["email", "status"])),  # same version
    st.tuples(st.just("midway"), st.sampled_from(["email", "status"])),
)


def _rewrite_keeping_version(conn: sqlite3.Connection, path: Path, change: str) -> None:
    """Change the user's document and columns on ``conn`` without a new version (a
    write b2bcore did not make, e.g. a repair script)."""
    version, doc = conn.execute(
        "SELECT version, doc FROM users WHERE company_id = ? AND id = ?", (ACME, BEN)
    ).fetchone()
    data = json.loads(doc)
    data["version"] = version
    user = _changed(structure(data, CompanyUser), change)
    text = json.dumps({k: v for k, v in unstructure(user).items() if k != "version"})
    cols = USERS.column_values(user)
    conn.execute(
        f"UPDATE users SET doc = ?, {', '.join(f'{c} = ?' for c in cols)} "
        "WHERE company_id = ? AND id = ?",
        [text, *cols.values(), ACME, BEN],
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(_STEP, min_size=1, max_size=14))
@example([("update", "name"), ("around", "email"), ("update_kept", "name")])
@example([("update", "email"), ("commit", None), ("update_kept", "status")])
@example([("update", "name"), ("raw", "email"), ("update_kept", "name")])
@example([("midway", "email")])
def test_columns_always_match_the_document(steps: list[tuple[str, str | None]]) -> None:
    folder = Path(tempfile.mkdtemp())
    path = folder / "u.sqlite"
    with SQLiteStore(path) as store, SQLiteStore(path) as other:
        _seed(store)
        uow = store.unit_of_work().__enter__()
        kept: CompanyUser | None = None
        try:
            for kind, change in steps:
                if kind == "update":
                    assert change is not None
                    kept = _changed(uow.users.get(BEN, company_id=ACME), change)
                    uow.users.update(kept)
                elif kind == "update_kept":
                    assert change is not None
                    if kept is None:
                        kept = uow.users.get(BEN, company_id=ACME)
                    try:
                        kept = _changed(kept, change)
                        uow.users.update(kept)
                    except ConcurrencyError:
                        uow.rollback()  # a stale object: refused, nothing written
                        kept = None
                elif kind == "commit":
                    uow.commit()
                elif kind == "rollback":
                    uow.rollback()
                elif kind == "midway":
                    # Read, then a write around the session inside this very
                    # transaction (same connection), then update what was read.
                    assert change is not None
                    kept = uow.users.get(BEN, company_id=ACME)
                    _rewrite_keeping_version(uow.session._conn, path, change)  # type: ignore[attr-defined]
                    kept = _changed(kept, "name")
                    uow.users.update(kept)
                else:
                    uow.commit()  # let the other writer in
                    assert change is not None
                    if kind == "outside":
                        with other.unit_of_work() as o:
                            o.users.update(_changed(o.users.get(BEN, company_id=ACME), change))
                            o.commit()
                    elif kind == "around":
                        conn, release = store._acquire()
                        try:
                            _rewrite_keeping_version(conn, path, change)
                        finally:
                            release()
                    else:  # "raw": another connection, version kept
                        conn = sqlite3.connect(path, isolation_level=None)
                        try:
                            _rewrite_keeping_version(conn, path, change)
                        finally:
                            conn.close()
                stored, expected, _ = _stored(path)
                # Uncommitted updates of this unit are not visible to _stored's own
                # connection; what is committed always agrees with itself.
                assert stored == expected
            uow.commit()
        finally:
            uow.__exit__(None, None, None)
        stored, expected, _ = _stored(path)
        assert stored == expected
