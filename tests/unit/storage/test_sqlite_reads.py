"""The read cache of SQLite connections (``b2bcore.storage.sqlite._Reads``).

A connection keeps the rows it read (``fetch`` by key, cacheable ``select`` results
by query) and later units of work on it reuse them without a SELECT while the
database cannot have changed them. Authorization is read through it, so these
tests change rows every way a row can change — another store on the same file, a
raw ``sqlite3`` connection, a write around the session on the store's own
connection, the store's own units (committed, raised, rolled back), other threads —
and check that every read afterwards equals what a store with an empty cache reads
(and, where it matters, the value expected). They also check that the cache is
really used (no SELECT on the table for an unchanged row), so they are not vacuous.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

import b2bcore.storage.sqlite as sqlite_module
from b2bcore.accounts import Actor, BusinessUnit, Company, Role
from b2bcore.accounts.model import Permission, RolePermission, UserStatus
from b2bcore.catalog import Category, Product
from b2bcore.clock import FixedClock
from b2bcore.errors import ConcurrencyError, DuplicateError, NotFoundError, PermissionDeniedError
from b2bcore.ids import BusinessUnitId, CompanyId, PriceListId, RoleId, Sku
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceList, PriceRule, RuleTarget
from b2bcore.storage._documents import Filter, Query, StoredRow
from b2bcore.storage._repositories import (
    BUSINESS_UNITS,
    ROLES,
    BusinessUnitDocuments,
    RoleDocuments,
)
from b2bcore.storage.sqlite import SQLiteStore, SQLiteUnitOfWork, _cacheable

ACME = CompanyId("acme")
GLOBEX = CompanyId("globex")
HQ = BusinessUnitId("hq")
SKU1 = Sku("SKU-1")
BUYER = RoleId("buyer")
ADMIN = RoleId("admin")
CLERK = RoleId("clerk")
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)

#: The tables the read helpers below read.
TABLES = ("companies", "roles", "business_units", "products")


# -- helpers ---------------------------------------------------------------------------------------
def _role(company: str, role_id: str, name: str, *permissions: Permission) -> Role:
    return Role(
        id=RoleId(role_id),
        company_id=CompanyId(company),
        name=name,
        permissions=tuple(RolePermission(p) for p in permissions),
    )


def _unit(company: str, unit_id: str, parent: str | None = None) -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=CompanyId(company),
        name=unit_id.upper(),
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


def _role_row(role: Role) -> StoredRow:
    """The row a store would write for ``role`` (for raw inserts)."""
    return RoleDocuments(cast(Any, None))._to_row(role, 1)


def _unit_row(unit: BusinessUnit) -> StoredRow:
    return BusinessUnitDocuments(cast(Any, None))._to_row(unit, 1)


def _seed(store: SQLiteStore) -> None:
    """Two companies with equal role and unit ids, and one product."""
    with store.unit_of_work() as uow:
        uow.companies.add(Company(id=ACME, name="ACME"))
        uow.companies.add(Company(id=GLOBEX, name="Globex"))
        uow.roles.add(_role("acme", "buyer", "ACME buyer", Permission.ORDERS_BUY))
        uow.roles.add(_role("acme", "admin", "ACME admin", Permission.USERS_MANAGE))
        uow.roles.add(_role("globex", "buyer", "Globex buyer", Permission.QUOTES_REQUEST))
        uow.business_units.add(_unit("acme", "hq"))
        uow.business_units.add(_unit("acme", "plant", "hq"))
        uow.business_units.add(_unit("globex", "hq"))
        uow.business_units.add(_unit("globex", "depot", "hq"))
        uow.products.add(Product(sku=SKU1, name="Part 1", list_price=Money(Decimal("5.90"), "EUR")))
        uow.commit()


def _role_view(role: Role) -> tuple[str, str, str, tuple[str, ...]]:
    return (
        role.company_id,
        role.id,
        role.name,
        tuple(p.permission.value for p in role.permissions),
    )


def _read_all(uow: SQLiteUnitOfWork) -> dict[str, Any]:
    """Everything the tests compare: fetches (found and not found, two tenants with
    equal ids), list reads (selects with and without a string filter) and the
    read-only path authorization takes."""
    out: dict[str, Any] = {}
    for cid in (ACME, GLOBEX):
        out[f"company {cid}"] = uow.companies.get(cid).name
        for rid in (BUYER, ADMIN, CLERK):
            try:
                out[f"role {cid}/{rid}"] = _role_view(uow.roles.get(rid, company_id=cid))
            except NotFoundError:
                out[f"role {cid}/{rid}"] = None
        out[f"roles of {cid}"] = [_role_view(r) for r in uow.roles.list(company_id=cid)]
        out[f"units of {cid}"] = [u.id for u in uow.business_units.list(company_id=cid)]
        out[f"units under hq of {cid}"] = [
            u.id for u in uow.business_units.list(company_id=cid, parent_id=HQ)
        ]
        found = uow.read_only_many([(uow.companies, cid, cid), (uow.roles, cid, None)])
        assert found is not None
        out[f"read-only {cid}"] = (
            [c.name for c in found[0]],
            [_role_view(r) for r in found[1]],
        )
    try:
        product = uow.products.get(SKU1)
        out["price"] = None if product.list_price is None else str(product.list_price.amount)
    except NotFoundError:
        out["price"] = None
    return out


def _read(store: SQLiteStore) -> dict[str, Any]:
    with store.unit_of_work() as uow:
        return _read_all(uow)


def _truth(path: Path) -> dict[str, Any]:
    """What a store with an empty cache reads."""
    with SQLiteStore(path) as fresh:
        return _read(fresh)


@contextmanager
def _statements(store: SQLiteStore) -> Iterator[list[str]]:
    """The SQL the store's connection of this thread runs inside the block."""
    conn, release = store._acquire()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    release()
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def _selects(seen: Sequence[str], *tables: str) -> list[str]:
    """The statements of ``seen`` that read one of ``tables``."""
    pattern = re.compile(rf"\bFROM ({'|'.join(tables or TABLES)})\b")
    return [s for s in seen if pattern.search(s)]


def _around(store: SQLiteStore, sql: str, params: Sequence[Any] = ()) -> None:
    """Run ``sql`` on the store's own connection (of this thread), around any session:
    the connection is in autocommit mode, so it is committed at once."""
    conn, release = store._acquire()
    try:
        conn.execute(sql, params)
    finally:
        release()


def _raw(path: Path, sql: str, params: Sequence[Any] = ()) -> None:
    """Run ``sql`` on a connection of its own (as another process would)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def _warm(store: SQLiteStore) -> dict[str, Any]:
    """Read everything twice; the second time must come from the cache (no SELECT on
    the tables read), which is what makes the staleness checks meaningful."""
    first = _read(store)
    with _statements(store) as seen:
        second = _read(store)
    assert second == first
    assert _selects(seen) == [], seen
    assert any("data_version" in s for s in seen)
    return first


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "reads.sqlite"


@pytest.fixture
def a(path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(path) as store:
        _seed(store)
        yield store


@pytest.fixture
def b(path: Path, a: SQLiteStore) -> Iterator[SQLiteStore]:
    with SQLiteStore(path) as store:
        yield store


# -- the changes, each as a unit of work and as SQL ------------------------------------------------
def _rename_company(uow: SQLiteUnitOfWork) -> None:
    company = uow.companies.get(ACME)
    company.rename("ACME renamed")
    uow.companies.update(company)


def _drop_permission(uow: SQLiteUnitOfWork) -> None:
    role = uow.roles.get(BUYER, company_id=ACME)
    role.without_permission(Permission.ORDERS_BUY)
    uow.roles.update(role)


def _reprice(uow: SQLiteUnitOfWork) -> None:
    product = uow.products.get(SKU1)
    product.list_price = Money(Decimal("9.90"), "EUR")
    uow.products.update(product)


CLERK_ROLE = _role("acme", "clerk", "ACME clerk", Permission.ORDERS_VIEW)
LAB_UNIT = _unit("acme", "lab", "hq")


def _add_role(uow: SQLiteUnitOfWork) -> None:
    uow.roles.add(_role("acme", "clerk", "ACME clerk", Permission.ORDERS_VIEW))


def _add_unit(uow: SQLiteUnitOfWork) -> None:
    uow.business_units.add(_unit("acme", "lab", "hq"))


def _remove_role(uow: SQLiteUnitOfWork) -> None:
    uow.session.delete(ROLES, ACME, ADMIN)


_clerk = _role_row(CLERK_ROLE)
_lab = _unit_row(LAB_UNIT)

#: name -> (the change as a unit of work, the same change as SQL, what must be read after it).
CHANGES: dict[str, tuple[Callable[[SQLiteUnitOfWork], None], str, tuple[Any, ...], str, Any]] = {
    "company name": (
        _rename_company,
        (
            "UPDATE companies SET doc = json_set(doc, '$.name', 'ACME renamed'), "
            "version = version + 1 WHERE company_id = 'acme' AND id = 'acme'"
        ),
        (),
        "company acme",
        "ACME renamed",
    ),
    "role permissions": (
        _drop_permission,
        (
            "UPDATE roles SET doc = json_set(doc, '$.permissions', json('[]')), "
            "version = version + 1 WHERE company_id = 'acme' AND id = 'buyer'"
        ),
        (),
        "role acme/buyer",
        ("acme", "buyer", "ACME buyer", ()),
    ),
    "product price": (
        _reprice,
        (
            "UPDATE products SET doc = json_set(doc, '$.list_price.amount', '9.90'), "
            "version = version + 1 WHERE company_id = '' AND id = 'SKU-1'"
        ),
        (),
        "price",
        "9.90",
    ),
    "role added": (
        _add_role,
        "INSERT INTO roles (company_id, id, version, doc) VALUES (?, ?, 1, ?)",
        (_clerk.company_id, _clerk.id, _clerk.doc),
        "role acme/clerk",
        ("acme", "clerk", "ACME clerk", ("orders.view",)),
    ),
    "unit added under hq": (
        _add_unit,
        (
            "INSERT INTO business_units (company_id, id, version, doc, parent_id) "
            "VALUES (?, ?, 1, ?, ?)"
        ),
        (_lab.company_id, _lab.id, _lab.doc, _lab.columns["parent_id"]),
        "units under hq of acme",
        ["lab", "plant"],
    ),
    "role removed": (
        _remove_role,
        "DELETE FROM roles WHERE company_id = 'acme' AND id = 'admin'",
        (),
        "role acme/admin",
        None,
    ),
}


def _check_after(store: SQLiteStore, path: Path, before: dict[str, Any], change: str) -> None:
    *_, key, expected = CHANGES[change]
    after = _read(store)
    truth = _truth(path)
    assert truth[key] == expected  # the change happened ...
    assert truth != before
    assert after == truth  # ... and the cached store reads it, everything else unchanged
    again = _read(store)  # and keeps reading it (cached again, now the new value)
    assert again == truth


# -- 1, 2, 3, 6: changes from another store, another connection, around the session ----------------
@pytest.mark.parametrize("change", list(CHANGES))
def test_another_store_on_the_same_file(
    change: str, a: SQLiteStore, b: SQLiteStore, path: Path
) -> None:
    before = _warm(a)
    with b.unit_of_work() as uow:
        CHANGES[change][0](uow)
        uow.commit()
    _check_after(a, path, before, change)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_raw_connection_of_its_own(change: str, a: SQLiteStore, path: Path) -> None:
    before = _warm(a)
    _, sql, params, *_ = CHANGES[change]
    _raw(path, sql, params)
    _check_after(a, path, before, change)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_write_around_the_session_on_the_stores_own_connection(
    change: str, a: SQLiteStore, path: Path
) -> None:
    before = _warm(a)
    _, sql, params, *_ = CHANGES[change]
    _around(a, sql, params)
    _check_after(a, path, before, change)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_write_around_the_session_then_a_unit_that_writes_first(
    change: str, a: SQLiteStore, path: Path
) -> None:
    """The unit's own first write (to a collection not read here) must not take the
    write around the session for its own and keep the other collections."""
    before = _warm(a)
    _, sql, params, *_ = CHANGES[change]
    _around(a, sql, params)
    with a.unit_of_work() as uow:
        uow.categories.add(Category(id="spares", name="Spares"))
        inside = _read_all(uow)
        uow.commit()
    truth = _truth(path)
    assert inside == truth != before
    _check_after(a, path, before, change)


@pytest.mark.parametrize("write", ["raw", "around"])
def test_a_document_changed_without_a_new_version_is_read_anew(
    write: str, a: SQLiteStore, path: Path
) -> None:
    """Neither cache (rows, structured objects) may trust the version number alone."""
    _warm(a)
    sql = (
        "UPDATE roles SET doc = json_set(doc, '$.name', 'Sneaky') "
        "WHERE company_id = 'acme' AND id = 'buyer'"
    )
    if write == "raw":
        _raw(path, sql)
    else:
        _around(a, sql)
    after = _read(a)
    assert after["role acme/buyer"] == ("acme", "buyer", "Sneaky", ("orders.buy",))
    assert after["read-only acme"][1][1][2] == "Sneaky"
    assert after == _truth(path)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM roles",  # no WHERE: SQLite's truncate optimization
        (
            "INSERT OR REPLACE INTO roles (company_id, id, version, doc) "
            "SELECT company_id, id, version, json_set(doc, '$.name', 'Replaced') FROM roles"
        ),
        "UPDATE roles SET version = version WHERE company_id = 'acme'",  # same values
    ],
)
def test_other_kinds_of_writes_around_the_session(sql: str, a: SQLiteStore, path: Path) -> None:
    _warm(a)
    _around(a, sql)
    assert _read(a) == _truth(path)


def test_a_write_around_the_session_in_a_transaction_rolled_back_changes_nothing(
    a: SQLiteStore, path: Path
) -> None:
    before = _warm(a)
    conn, release = a._acquire()
    conn.execute("BEGIN")
    conn.execute("DELETE FROM roles")
    conn.execute("ROLLBACK")
    release()
    assert _read(a) == before == _truth(path)


def _row3() -> tuple[str, str, str]:
    """The raw values of the role ACME/clerk."""
    return (_clerk.company_id, _clerk.id, _clerk.doc)


def test_not_found_is_cached_per_company_and_never_hides_a_later_row(
    a: SQLiteStore, b: SQLiteStore, path: Path
) -> None:
    def clerk(store: SQLiteStore, cid: CompanyId) -> str | None:
        with store.unit_of_work() as uow:
            try:
                return uow.roles.get(CLERK, company_id=cid).name
            except NotFoundError:
                return None

    assert clerk(a, GLOBEX) is None
    with _statements(a) as seen:
        assert clerk(a, GLOBEX) is None
    assert _selects(seen, "roles") == []  # the miss is kept
    # Another store adds it for GLOBEX: found next unit.
    with b.unit_of_work() as uow:
        uow.roles.add(_role("globex", "clerk", "Globex clerk"))
        uow.commit()
    assert clerk(a, GLOBEX) == "Globex clerk"
    # A miss for ACME, kept; then a row for ACME by a raw connection, then by A itself.
    assert clerk(a, ACME) is None
    assert clerk(a, ACME) is None
    _raw(path, "INSERT INTO roles (company_id, id, version, doc) VALUES (?, ?, 1, ?)", _row3())
    assert clerk(a, ACME) == "ACME clerk"
    _raw(path, "DELETE FROM roles WHERE company_id = 'acme' AND id = 'clerk'")
    assert clerk(a, ACME) is None
    with a.unit_of_work() as uow:
        uow.roles.add(_role("acme", "clerk", "ACME clerk 2"))
        uow.commit()
    assert clerk(a, ACME) == "ACME clerk 2"
    assert clerk(a, GLOBEX) == "Globex clerk"
    _around(a, "DELETE FROM roles WHERE id = 'clerk'")
    assert clerk(a, ACME) is None
    assert clerk(a, GLOBEX) is None
    _around(a, "INSERT INTO roles (company_id, id, version, doc) VALUES (?, ?, 1, ?)", _row3())
    assert clerk(a, ACME) == "ACME clerk"
    assert clerk(a, GLOBEX) is None


# -- 5: tenants ------------------------------------------------------------------------------------
def test_equal_ids_in_two_companies_read_their_own_rows_cached_or_not(a: SQLiteStore) -> None:
    for _ in range(3):  # first read from the database, then from the cache
        with a.unit_of_work() as uow:
            assert uow.roles.get(BUYER, company_id=ACME).name == "ACME buyer"
            assert uow.roles.get(BUYER, company_id=GLOBEX).name == "Globex buyer"
            assert uow.business_units.get(HQ, company_id=GLOBEX).company_id == GLOBEX
            assert [r.name for r in uow.roles.list(company_id=GLOBEX)] == ["Globex buyer"]
            assert [r.name for r in uow.roles.list(company_id=ACME)] == [
                "ACME admin",
                "ACME buyer",
            ]
            assert [u.id for u in uow.business_units.list(company_id=GLOBEX, parent_id=HQ)] == [
                "depot"
            ]
            assert [u.id for u in uow.business_units.list(company_id=ACME, parent_id=HQ)] == [
                "plant"
            ]
            with pytest.raises(NotFoundError):
                uow.roles.get(ADMIN, company_id=GLOBEX)
            assert uow.roles.get(ADMIN, company_id=ACME).company_id == ACME
    # A change to one company's row leaves the other's as it is, and vice versa.
    with a.unit_of_work() as uow:
        role = uow.roles.get(BUYER, company_id=GLOBEX)
        role.name = "Globex buyer 2"
        uow.roles.update(role)
        uow.commit()
    with a.unit_of_work() as uow:
        assert uow.roles.get(BUYER, company_id=ACME).name == "ACME buyer"
        assert uow.roles.get(BUYER, company_id=GLOBEX).name == "Globex buyer 2"


# -- 4: the store's own units ----------------------------------------------------------------------
@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("end", ["raise", "rollback"])
def test_own_writes_are_read_in_the_unit_and_forgotten_when_rolled_back(
    change: str, end: str, a: SQLiteStore, path: Path
) -> None:
    class BoomError(Exception):
        pass

    before = _warm(a)
    write, *_, key, expected = CHANGES[change]
    with pytest.raises(BoomError), a.unit_of_work() as uow:
        _read_all(uow)  # cached reads first, in the same unit
        write(uow)
        inside = _read_all(uow)  # read-your-writes
        assert inside[key] == expected
        assert _read_all(uow) == inside
        if end == "rollback":
            uow.rollback()
            assert _read_all(uow) == before
        raise BoomError
    assert _read(a) == before == _truth(path)
    # The same change committed: read at once, by this store and by anyone.
    with a.unit_of_work() as uow:
        write(uow)
        uow.commit()
    _check_after(a, path, before, change)


def test_a_failed_write_leaves_the_cache_right(a: SQLiteStore, b: SQLiteStore, path: Path) -> None:
    before = _warm(a)
    with a.unit_of_work() as uow:
        stale = uow.roles.get(BUYER, company_id=ACME)
    with b.unit_of_work() as uow:
        _drop_permission(uow)
        uow.commit()
    with a.unit_of_work() as uow:
        stale.name = "Lost update"
        with pytest.raises(ConcurrencyError):
            uow.roles.update(stale)
        with pytest.raises(DuplicateError):
            uow.roles.add(_role("acme", "admin", "Dup"))
    after = _read(a)
    assert after == _truth(path)
    assert after != before
    assert after["role acme/buyer"] == ("acme", "buyer", "ACME buyer", ())


def test_the_cache_is_used_and_only_the_written_collection_is_read_again(a: SQLiteStore) -> None:
    _warm(a)
    with a.unit_of_work() as uow:
        _reprice(uow)
        uow.commit()
    with _statements(a) as seen:
        after = _read(a)
    assert after["price"] == "9.90"
    assert _selects(seen, "products") != []
    assert _selects(seen, "companies", "roles", "business_units") == []


# -- a unit of work that goes on after commit() or rollback() --------------------------------------
# The kept rows are checked once per transaction, not once per unit of work: after
# ``uow.commit()`` or ``uow.rollback()`` the unit may go on (the port: "discard every change made
# since the last commit"; the contract test_explicit_rollback_discards_and_the_unit_stays_usable)
# and its next reads start a new transaction, which checks ``PRAGMA data_version`` /
# ``total_changes`` again (this test found the first version checking once per unit).
@pytest.mark.parametrize("end", ["commit", "rollback"])
@pytest.mark.parametrize("other", ["store", "raw", "around"])
def test_reads_after_commit_or_rollback_in_the_same_unit_see_changes_made_meanwhile(
    end: str, other: str, a: SQLiteStore, b: SQLiteStore, path: Path
) -> None:
    _warm(a)
    with a.unit_of_work() as uow:
        assert uow.companies.get(ACME).name == "ACME"
        assert [r.name for r in uow.roles.list(company_id=ACME)] == ["ACME admin", "ACME buyer"]
        if end == "commit":
            uow.commit()
        else:
            uow.rollback()
        _, sql, params, *_ = CHANGES["company name"]
        _, role_sql, role_params, *_ = CHANGES["role removed"]
        if other == "store":
            with b.unit_of_work() as other_uow:
                _rename_company(other_uow)
                _remove_role(other_uow)
                other_uow.commit()
        elif other == "raw":
            _raw(path, sql, params)
            _raw(path, role_sql, role_params)
        else:
            _around(a, sql, params)
            _around(a, role_sql, role_params)
        assert uow.companies.get(ACME).name == "ACME renamed"
        assert [r.name for r in uow.roles.list(company_id=ACME)] == ["ACME buyer"]


# -- 7: bounds -------------------------------------------------------------------------------------
def test_small_bounds_still_read_right(
    monkeypatch: pytest.MonkeyPatch, a: SQLiteStore, b: SQLiteStore, path: Path
) -> None:
    monkeypatch.setattr(sqlite_module, "_READS_SIZE", 3)
    monkeypatch.setattr(sqlite_module, "_READS_PER_SELECT", 1)
    conn, release = a._acquire()
    release()
    reads = cast(Any, conn).reads

    before = _read(a)
    assert before == _truth(path)
    assert reads.size <= 3
    # A single row, kept: no SELECT the second time.
    with a.unit_of_work() as uow:
        uow.companies.get(ACME)
    with _statements(a) as seen, a.unit_of_work() as uow:
        uow.companies.get(ACME)
    assert _selects(seen) == []
    # A select of two rows (more than 1) is not kept: read again each time.
    for _ in range(2):
        with _statements(a) as seen, a.unit_of_work() as uow:
            assert len(uow.roles.list(company_id=ACME)) == 2
        assert _selects(seen, "roles") != []
    # Everything read again and again with changes in between: always right, never over 3.
    for change in CHANGES:
        with b.unit_of_work() as uow:
            CHANGES[change][0](uow)
            uow.commit()
        for _ in range(2):
            assert _read(a) == _truth(path)
            assert reads.size <= 3


# -- 8: which selects may be kept ------------------------------------------------------------------
def _query(*filters: Filter, after: tuple[Any, ...] | None = None) -> Query:
    return Query(
        company_id="acme",
        filters=filters,
        order=("id",),
        descending=False,
        after=after,
        limit=10,
    )


class _Text(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        1,
        0,
        True,
        False,
        1.0,
        None,
        ("a", 1),
        (1,),
        ("a", None),
        ["a"],
        _Text("a"),
        ("a", _Text("b")),
    ],
)
def test_a_select_with_a_value_other_than_text_is_not_kept(value: Any) -> None:
    assert not _cacheable(_query(Filter("x", "eq", value)))
    assert not _cacheable(_query(Filter("x", "eq", "a"), Filter("y", "in", value)))


@pytest.mark.parametrize("after", [("a",), (1,), ()])
def test_a_select_after_a_position_is_not_kept(after: tuple[Any, ...]) -> None:
    assert not _cacheable(_query(after=after))
    assert not _cacheable(_query(Filter("x", "eq", "a"), after=after))


@pytest.mark.parametrize(
    "filters",
    [
        (),
        (Filter("x", "eq", "a"),),
        (Filter("x", "eq", ""),),
        (Filter("x", "in", ("a", "b")),),
        (Filter("x", "in", ()),),
        (Filter("x", "contains", "|a|"), Filter("y", "ge", "2026")),
    ],
)
def test_a_select_with_text_values_is_kept(filters: tuple[Filter, ...]) -> None:
    assert _cacheable(_query(*filters))


def test_equal_python_values_the_database_tells_apart_are_never_confused(
    a: SQLiteStore,
) -> None:
    """``1 == 1.0 == True`` in Python, but on a TEXT column ``= 1`` matches '1' and
    ``= 1.0`` does not: such selects are read from the database every time."""
    with a.unit_of_work() as uow:
        uow.business_units.add(_unit("acme", "one", "1"))
        uow.commit()
    units = BUSINESS_UNITS
    for values in ([1, 1.0, True, "1"], [1.0, 1, "1", True]):
        with _statements(a) as seen, a.unit_of_work() as uow:
            got = [
                [r.id for r in uow.session.select(units, _query(Filter("parent_id", "eq", v)))]
                for v in values
            ]
        assert got == [[] if isinstance(v, float) else ["one"] for v in values]
        assert len(_selects(seen, "business_units")) >= 3


# -- 9: threads ------------------------------------------------------------------------------------
def test_a_change_committed_in_another_thread_is_seen(a: SQLiteStore, path: Path) -> None:
    # Two single-thread executors: each keeps its own thread, so its own connection.
    with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(1) as two:
        before = one.submit(_warm, a).result()
        conn_one = one.submit(lambda: a._acquire()[0]).result()
        conn_two = two.submit(lambda: a._acquire()[0]).result()
        assert conn_one is not conn_two
        for change in CHANGES:

            def write(change: str = change) -> None:
                with a.unit_of_work() as uow:
                    CHANGES[change][0](uow)
                    uow.commit()

            two.submit(write).result()
            after = one.submit(_read, a).result()
            assert after == _truth(path)
            assert after[CHANGES[change][3]] == CHANGES[change][4]
            assert after == two.submit(_read, a).result()
        assert after != before


# -- one store in memory (one connection for every thread) -----------------------------------------
def test_a_memory_store() -> None:
    with SQLiteStore(":memory:") as store:
        _seed(store)
        before = _warm(store)
        _around(
            store,
            "UPDATE companies SET doc = json_set(doc, '$.name', 'Around') WHERE id = 'acme'",
        )
        assert _read(store)["company acme"] == "Around"
        with pytest.raises(ZeroDivisionError), store.unit_of_work() as uow:
            _drop_permission(uow)
            assert _read_all(uow)["role acme/buyer"][3] == ()
            raise ZeroDivisionError
        assert _read(store)["role acme/buyer"] == before["role acme/buyer"]
        with ThreadPoolExecutor(1) as other:

            def write() -> None:
                with store.unit_of_work() as uow:
                    _drop_permission(uow)
                    uow.commit()

            other.submit(write).result()
        assert _read(store)["role acme/buyer"] == ("acme", "buyer", "ACME buyer", ())


# -- 10: authorization end to end ------------------------------------------------------------------
OPERATOR = "op-olga"
ANA = Actor.user("acme", "ana")
BEN = Actor.user("acme", "ben")


def _build_world(portal: Portal) -> None:
    """ACME with its admin Ana and its buyer Ben, one product with stock and a price."""
    operator = Actor.operator_for("acme", OPERATOR)
    portal.accounts.create_company(
        operator, name="ACME", admin_email="ana@acme.example", admin_user_id="ana"
    )
    portal.accounts.invite_user(
        ANA,
        user_id="ben",
        name="Ben",
        email="ben@acme.example",
        business_unit_ids=["hq"],
        roles=["buyer"],
    )
    portal.catalog.save_category(operator_id=OPERATOR, category=Category(id="spares", name="S"))
    portal.catalog.save_product(
        operator_id=OPERATOR,
        product=Product(
            sku="SKU-1", name="Part", category_id="spares", list_price=Money("5.90", "EUR")
        ),
    )
    portal.catalog.set_stock(operator_id=OPERATOR, sku="SKU-1", location="leipzig", on_hand=1000)
    portal.pricing.publish_price_list(
        operator_id=OPERATOR,
        price_list=PriceList(
            id=PriceListId("list"),
            name="List prices",
            currency="EUR",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
    )


def _place(portal: Portal) -> None:
    portal.orders.place_order(BEN, [("SKU-1", 1)], currency="EUR")


def _revoke(portal: Portal) -> None:
    portal.accounts.revoke_role(ANA, user_id="ben", role_id="buyer")


def _disable(portal: Portal) -> None:
    portal.accounts.set_user_status(ANA, user_id="ben", status=UserStatus.DISABLED)


def _strip_role(portal: Portal) -> None:
    portal.accounts.set_role_permission(
        ANA, role_id="buyer", permission=Permission.ORDERS_BUY, remove=True
    )


REVOCATIONS = {
    "revoke the role": _revoke,
    "disable the user": _disable,
    "strip the permission": _strip_role,
}


@pytest.mark.parametrize("by", ["another portal", "the same portal"])
@pytest.mark.parametrize("revocation", list(REVOCATIONS))
def test_a_revoked_buyer_is_denied_at_once(by: str, revocation: str, path: Path) -> None:
    clock = FixedClock(NOW)
    with SQLiteStore(path) as first, SQLiteStore(path) as second:
        portal = Portal(first, clock=clock)
        _build_world(portal)
        _place(portal)
        with _statements(first) as seen:
            _place(portal)  # authorization read from the cache: no SELECT of the user
        assert _selects(seen, "users", "roles", "companies", "business_units") == []
        revoker = portal if by == "the same portal" else Portal(second, clock=clock)
        REVOCATIONS[revocation](revoker)
        with pytest.raises(PermissionDeniedError):
            _place(portal)
        with pytest.raises(PermissionDeniedError):
            _place(portal)
        # Given back by the other side: allowed again at once.
        restorer = Portal(second, clock=clock) if by == "the same portal" else portal
        if revocation == "revoke the role":
            restorer.accounts.grant_role(ANA, user_id="ben", role_id="buyer")
        elif revocation == "disable the user":
            restorer.accounts.set_user_status(ANA, user_id="ben", status=UserStatus.ACTIVE)
        else:
            restorer.accounts.set_role_permission(
                ANA, role_id="buyer", permission=Permission.ORDERS_BUY
            )
        _place(portal)


def test_a_raw_write_to_the_user_is_seen_by_authorization(path: Path) -> None:
    with SQLiteStore(path) as store:
        portal = Portal(store, clock=FixedClock(NOW))
        _build_world(portal)
        _place(portal)
        _place(portal)
        _raw(
            path,
            "UPDATE users SET doc = json_set(doc, '$.status', 'disabled'), status = 'disabled' "
            "WHERE company_id = 'acme' AND id = 'ben'",
        )
        with pytest.raises(PermissionDeniedError):
            _place(portal)


# -- 11: a property: random interleavings against a model of the committed state -------------------
class _AbortError(Exception):
    """Raised inside a unit of work to leave it without committing."""


KEYS = [(ACME, RoleId("r0")), (ACME, RoleId("r1")), (GLOBEX, RoleId("r0")), (GLOBEX, RoleId("r1"))]
NAMES = ["n0", "n1", "n2"]


class CacheMachine(RuleBasedStateMachine):
    """Stores A and B on one file, a raw connection; reads must equal the model."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="b2b-reads-"))
        self.path = self.dir / "m.sqlite"
        self.a = SQLiteStore(self.path)
        self.b = SQLiteStore(self.path)
        self.model: dict[tuple[CompanyId, RoleId], str] = {}
        self.categories = 0
        with self.a.unit_of_work() as uow:
            uow.companies.add(Company(id=ACME, name="ACME"))
            uow.companies.add(Company(id=GLOBEX, name="Globex"))
            uow.commit()

    def teardown(self) -> None:
        self.a.close()
        self.b.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _store(self, which: str) -> SQLiteStore:
        return self.a if which == "a" else self.b

    @staticmethod
    def _put(uow: SQLiteUnitOfWork, key: tuple[CompanyId, RoleId], name: str) -> None:
        cid, rid = key
        try:
            role = uow.roles.get(rid, company_id=cid)
        except NotFoundError:
            uow.roles.add(_role(cid, rid, name))
        else:
            role.name = name
            uow.roles.update(role)

    @rule(which=st.sampled_from("ab"), key=st.sampled_from(KEYS), name=st.sampled_from(NAMES))
    def put(self, which: str, key: tuple[CompanyId, RoleId], name: str) -> None:
        with self._store(which).unit_of_work() as uow:
            self._put(uow, key, name)
            uow.commit()
        self.model[key] = name

    @rule(which=st.sampled_from("ab"), key=st.sampled_from(KEYS))
    def remove(self, which: str, key: tuple[CompanyId, RoleId]) -> None:
        with self._store(which).unit_of_work() as uow:
            try:
                uow.session.delete(ROLES, *key)
            except NotFoundError:
                assert key not in self.model
                return
            uow.commit()
        del self.model[key]

    @rule(
        around=st.booleans(),
        key=st.sampled_from(KEYS),
        name=st.sampled_from([*NAMES, None]),
        bump=st.booleans(),
    )
    def raw_write(
        self, around: bool, key: tuple[CompanyId, RoleId], name: str | None, bump: bool
    ) -> None:
        """A write outside any session: by another connection, or by A's own."""
        cid, rid = key
        if name is None:
            sql, params = "DELETE FROM roles WHERE company_id = ? AND id = ?", [cid, rid]
        elif key in self.model:
            sql = (
                "UPDATE roles SET doc = json_set(doc, '$.name', ?)"
                f"{', version = version + 1' if bump else ''} WHERE company_id = ? AND id = ?"
            )
            params = [name, cid, rid]
        else:
            row = _role_row(_role(cid, rid, name))
            sql = "INSERT INTO roles (company_id, id, version, doc) VALUES (?, ?, 1, ?)"
            params = [row.company_id, row.id, row.doc]
        if around:
            _around(self.a, sql, params)
        else:
            _raw(self.path, sql, params)
        if name is None:
            self.model.pop(key, None)
        else:
            self.model[key] = name

    @rule(
        key=st.sampled_from(KEYS),
        name=st.sampled_from(NAMES),
        remove=st.booleans(),
        end=st.sampled_from(["raise", "rollback"]),
    )
    def write_then_roll_back(
        self, key: tuple[CompanyId, RoleId], name: str, remove: bool, end: str
    ) -> None:
        with pytest.raises(_AbortError), self.a.unit_of_work() as uow:
            self._check(uow, self.model)
            changed = dict(self.model)
            if remove and key in changed:
                uow.session.delete(ROLES, *key)
                del changed[key]
            else:
                self._put(uow, key, name)
                changed[key] = name
            self._check(uow, changed)  # read-your-writes
            if end == "rollback":
                uow.rollback()
                self._check(uow, self.model)
            raise _AbortError

    @staticmethod
    def _check(uow: SQLiteUnitOfWork, model: dict[tuple[CompanyId, RoleId], str]) -> None:
        for cid, rid in KEYS:
            try:
                got: str | None = uow.roles.get(rid, company_id=cid).name
            except NotFoundError:
                got = None
            assert got == model.get((cid, rid)), (cid, rid)
        for cid in (ACME, GLOBEX):
            listed = {(r.company_id, r.id): r.name for r in uow.roles.list(company_id=cid)}
            assert listed == {k: v for k, v in model.items() if k[0] == cid}
            found = uow.read_only_many([(uow.roles, cid, None)])
            assert found is not None
            assert {(r.company_id, r.id): r.name for r in found[0]} == listed

    @rule()
    def write_elsewhere_then_read(self) -> None:
        """A's unit writes another collection first (no read before), then reads."""
        self.categories += 1
        with self.a.unit_of_work() as uow:
            uow.categories.add(Category(id=f"c{self.categories}", name="C"))
            self._check(uow, self.model)
            uow.commit()

    @rule(which=st.sampled_from("ab"))
    def read(self, which: str) -> None:
        with self._store(which).unit_of_work() as uow:
            self._check(uow, self.model)


CacheMachine.TestCase.settings = settings(
    max_examples=50,
    database=None,  # files of its own per example; nothing to replay
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCacheMachine = CacheMachine.TestCase
