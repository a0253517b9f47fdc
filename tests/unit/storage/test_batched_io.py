"""The storage mechanics of the speed work, on MemoryStore, SQLiteStore and PostgresStore.

- ``read_only_many``: several reads at once (one pipeline on PostgreSQL) that give what
  the ports' ``get`` / ``list`` give, as objects shared between units of work while
  their row is unchanged — and never an object of a rolled-back write;
- deferred outbox and audit rows: inserted with the commit, all or nothing;
- ``load_access`` on shared objects, and callers getting objects of their own;
- PostgreSQL: the pool still replaces a connection that died while idle.

The PostgreSQL cases need a server (``B2BCORE_POSTGRES_DSN``) and skip, saying why,
without one; each works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2bcore._command import load_access
from b2bcore.accounts import Actor, Permission
from b2bcore.accounts.model import BusinessUnit, Company, CompanyCreated, CompanyUser, Role
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError, DuplicateError, NotFoundError, StorageError
from b2bcore.ids import BusinessUnitId, CompanyId, RoleId, UserId, new_id
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.storage import postgres as postgres_module
from b2bcore.storage._reads import read_only_get, read_only_many
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.postgres import PostgresStore
from b2bcore.storage.sqlite import SQLiteStore
from b2bcore.testing.contracts import _company, _unit
from tests.contracts.test_postgres_store import (  # the PostgreSQL skip and schema helpers
    DSN,
    _admin,
    needs_server,
    schema,  # noqa: F401 - a fixture, used by name
)
from tests.unit.storage.conftest import Store

AT = datetime(2026, 4, 7, 8, 30, tzinfo=UTC)


# -- objects -------------------------------------------------------------------------------
def _role(company: Company, role_id: str, name: str, *permissions: Permission) -> Role:
    return Role(id=RoleId(role_id), company_id=company.id, name=name, permissions=permissions)


def _user(company: Company, user_id: str) -> CompanyUser:
    return CompanyUser(
        id=UserId(user_id),
        company_id=company.id,
        email=f"{user_id}@acme.example",
        name=f"User {user_id}",
        business_unit_ids=(BusinessUnitId("hq"),),
    )


def _entry(company: Company, action: str, entry_id: str) -> AuditEntry:
    return AuditEntry(
        company_id=company.id,
        at=AT,
        acted_by="u1",
        on_behalf_of="u1",
        action=action,
        target=f"company:{company.id}",
        outcome=Outcome.ALLOWED,
        id=entry_id,
    )


def _seed(store: Store, *roles: Role) -> Company:
    """A company with unit ``hq``, user ``u1`` and ``roles`` (made for the company)."""
    company = _company()
    with store.unit_of_work() as uow:
        uow.companies.add(company)
        uow.business_units.add(_unit(company, "hq"))
        uow.users.add(_user(company, "u1"))
        for r in roles:
            uow.roles.add(_role(company, r.id, r.name, *(rp.permission for rp in r.permissions)))
        uow.commit()
    return company


def _roles(uow: Any, company_id: CompanyId) -> list[Role]:
    return list(iterate(lambda c: uow.roles.list(company_id=company_id, limit=500, cursor=c)))


def _units(uow: Any, company_id: CompanyId) -> list[BusinessUnit]:
    return list(
        iterate(lambda c: uow.business_units.list(company_id=company_id, limit=500, cursor=c))
    )


# -- read_only_many gives what the ports give ------------------------------------------------
_ROLE_IDS = ["B", "a", "r10", "r2", "Z-1", "m.x"]  # upper case first: bytewise order
_PERMISSIONS = sorted(Permission, key=lambda p: p.value)

roles_strategy = st.lists(
    st.tuples(
        st.sampled_from(_ROLE_IDS),
        st.sampled_from(["Buyer", "Approver", "Viewer", "Einkäufer 株"]),
        st.sets(st.sampled_from(_PERMISSIONS), max_size=4),
    ),
    max_size=4,
    unique_by=lambda t: t[0],
)
# Unit k (1-based) hangs below the (p % k)-th of hq, u1, ..., u(k-1).
parents_strategy = st.lists(st.integers(min_value=0, max_value=20), max_size=5)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(roles=roles_strategy, parents=parents_strategy)
def test_read_only_many_gives_what_get_and_list_give(
    store: Store,
    roles: list[tuple[str, str, set[Permission]]],
    parents: list[int],
) -> None:
    company = _company()
    other = _company()  # equal role and unit ids in another company must not leak in
    with store.unit_of_work() as uow:
        for co in (company, other):
            uow.companies.add(co)
            uow.users.add(_user(co, "u1"))
            uow.business_units.add(_unit(co, "hq"))
            for k, p in enumerate(parents, start=1):
                ids = ["hq", *(f"u{i}" for i in range(1, k))]
                uow.business_units.add(_unit(co, f"u{k}", ids[p % k]))
        for rid, name, permissions in roles:
            uow.roles.add(_role(company, rid, name, *permissions))
            uow.roles.add(_role(other, rid, f"{name} (other)"))
        uow.commit()
    cid = company.id
    with store.unit_of_work() as uow:
        found = uow.read_only_many(
            [
                (uow.companies, cid, cid),
                (uow.roles, cid, None),
                (uow.business_units, cid, None),
                (uow.users, cid, "u1"),
                (uow.users, cid, "nobody"),
                (uow.roles, cid, "no-such-role"),
                (uow.companies, "no-such-company", "no-such-company"),
                (uow.roles, "no-such-company", None),
            ]
        )
        expected: list[tuple[Any, ...]] = [
            (uow.companies.get(cid),),
            tuple(_roles(uow, cid)),
            tuple(_units(uow, cid)),
            (uow.users.get(UserId("u1"), company_id=cid),),
            (),
            (),
            (),
            (),
        ]
        one_by_one = [
            _many(uow, [wanted])[0]
            for wanted in [
                (uow.roles, cid, None),
                (uow.business_units, cid, None),
                (uow.users, cid, "u1"),
                (uow.users, cid, "nobody"),
            ]
        ]
    assert found == expected
    assert one_by_one == [expected[1], expected[2], expected[3], ()]
    assert [r.id for r in expected[1]] == sorted(rid for rid, _n, _p in roles)
    assert {(r.name, frozenset(rp.permission for rp in r.permissions)) for r in expected[1]} == {
        (name, frozenset(permissions)) for _rid, name, permissions in roles
    }
    assert len(expected[2]) == len(parents) + 1


def test_read_only_helpers_fall_back_without_the_capability(store: Store) -> None:
    company = _seed(store, _role(_company(), "buyer", "Buyer", Permission.ORDERS_BUY))
    cid = company.id

    class Plain:  # a repository / unit of work of somebody else's adapter
        pass

    with store.unit_of_work() as uow:
        shared: Role = read_only_get(uow.roles, "buyer", cid, lambda: pytest.fail("fallback"))
        assert shared == uow.roles.get(RoleId("buyer"), company_id=cid)
        assert read_only_get(Plain(), "buyer", cid, lambda: "fallback") == "fallback"
        assert read_only_many(uow, [(uow.roles, cid, None)], list) == [(shared,)]
        assert read_only_many(Plain(), [(uow.roles, cid, None)], lambda: [("f",)]) == [("f",)]
        # One repository that is not b2bcore's own: the whole batch falls back.
        assert uow.read_only_many([(uow.roles, cid, None), (Plain(), cid, None)]) is None
        assert read_only_many(uow, [(Plain(), cid, None)], lambda: [("f",)]) == [("f",)]


# -- shared objects ----------------------------------------------------------------------
def _many(uow: Any, wanted: list[tuple[object, str | None, str | None]]) -> list[tuple[Any, ...]]:
    found = uow.read_only_many(wanted)
    assert found is not None
    return cast(list[tuple[Any, ...]], found)


def _access_reads(uow: Any, cid: CompanyId) -> list[tuple[Any, ...]]:
    return _many(
        uow,
        [
            (uow.companies, cid, cid),
            (uow.roles, cid, None),
            (uow.business_units, cid, None),
            (uow.users, cid, "u1"),
        ],
    )


def test_unchanged_rows_give_the_very_same_objects(store: Store) -> None:
    template = _company()
    company = _seed(
        store,
        _role(template, "buyer", "Buyer", Permission.ORDERS_BUY),
        _role(template, "viewer", "Viewer", Permission.ORDERS_VIEW),
    )
    cid = company.id
    with store.unit_of_work() as uow:
        first = _access_reads(uow, cid)
    with store.unit_of_work() as uow:
        second = _access_reads(uow, cid)
        by_key = (
            uow.roles.read_only_get("buyer", cid),
            read_only_many(uow, [(uow.roles, cid, None)], lambda: pytest.fail("fallback"))[0],
            uow.companies.read_only_get(cid, cid),
        )
        own = uow.roles.get(RoleId("buyer"), company_id=cid)  # the port: a copy of one's own
    assert [len(f) for f in first] == [1, 2, 1, 1]
    for a, b in zip(first, second, strict=True):
        assert len(a) == len(b)
        assert all(x is y for x, y in zip(a, b, strict=True))
    buyer, viewer = first[1]
    assert by_key[0] is buyer
    assert by_key[1][0] is buyer
    assert by_key[1][1] is viewer
    assert by_key[2] is first[0][0]
    assert own == buyer
    assert own is not buyer

    with store.unit_of_work() as uow:  # another unit changes one role
        role = uow.roles.get(RoleId("buyer"), company_id=cid)
        role.name = "Purchaser"
        role.with_permission(Permission.QUOTES_REQUEST)
        uow.roles.update(role)
        uow.commit()
    with store.unit_of_work() as uow:
        third = _access_reads(uow, cid)
    new_buyer, same_viewer = third[1]
    assert new_buyer is not buyer
    assert (new_buyer.name, new_buyer.version) == ("Purchaser", 2)
    assert Permission.QUOTES_REQUEST in {rp.permission for rp in new_buyer.permissions}
    assert (buyer.name, buyer.version) == ("Buyer", 1)  # the old object was not changed
    assert same_viewer is viewer
    assert third[0][0] is first[0][0]
    assert third[2][0] is first[2][0]
    assert third[3][0] is first[3][0]


@pytest.mark.parametrize("undo", ["rollback", "leave the with block"])
def test_a_rolled_back_write_is_never_read_back(store: Store, undo: str) -> None:
    """Unit A writes version 2 of a role, reads it back (caching it), then rolls back;
    unit B commits a different version 2. Every later read is B's."""
    company = _seed(store, _role(_company(), "buyer", "Buyer", Permission.ORDERS_BUY))
    cid = company.id
    with store.unit_of_work() as uow:
        ((original,),) = read_only_many(
            uow, [(uow.roles, cid, None)], lambda: pytest.fail("fallback")
        )

    with store.unit_of_work() as uow:  # unit A
        role = uow.roles.get(RoleId("buyer"), company_id=cid)
        role.name = "Written by A"
        role.with_permission(Permission.ORDERS_VIEW)
        uow.roles.update(role)
        # Two reads, so that PostgreSQL runs them in one pipeline.
        (a_all, (a_one,)) = _many(uow, [(uow.roles, cid, None), (uow.roles, cid, "buyer")])
        assert a_all == (a_one,)
        assert (a_one.name, a_one.version) == ("Written by A", 2)
        assert uow.roles.read_only_get("buyer", cid) is a_one
        if undo == "rollback":
            uow.rollback()
            # (Through the port: a shared read here would replace A's cached object.)
            assert uow.roles.get(RoleId("buyer"), company_id=cid) == original

    with store.unit_of_work() as uow:  # unit B
        role = uow.roles.get(RoleId("buyer"), company_id=cid)
        assert role.version == 1
        role.name = "Written by B"
        role.without_permission(Permission.ORDERS_BUY)
        uow.roles.update(role)
        uow.commit()

    with store.unit_of_work() as uow:
        (b_all, (b_one,)) = _many(uow, [(uow.roles, cid, None), (uow.roles, cid, "buyer")])
        single = uow.roles.read_only_get("buyer", cid)
        access = load_access(uow, Actor.user(cid, "u1"))
        stored = uow.roles.get(RoleId("buyer"), company_id=cid)
    assert (stored.name, stored.version, stored.permissions) == ("Written by B", 2, ())
    for seen in (b_one, *b_all, single, access.roles["buyer"]):
        assert seen is not a_one
        assert seen == stored


def test_equal_keys_in_two_stores_keep_their_own_content(tmp_path: Path) -> None:
    """The shared objects are process-wide: equal (collection, company, id, version) in
    two stores must still give each store's own content."""
    company = _company()
    with MemoryStore() as one, SQLiteStore(tmp_path / "two.sqlite") as two:
        for s, name in ((one, "One"), (two, "Two")):
            with s.unit_of_work() as uow:
                uow.companies.add(company)
                uow.roles.add(_role(company, "buyer", name))
                uow.commit()
        for _ in range(2):
            for s, name in ((one, "One"), (two, "Two")):
                with s.unit_of_work() as uow:
                    role = uow.roles.read_only_get("buyer", company.id)
                    assert (role.name, role.version) == (name, 1)


# -- deferred outbox and audit rows ----------------------------------------------------------
@pytest.mark.parametrize("first_copy", ["held back", "read back", "committed before"])
def test_a_duplicate_deferred_row_fails_the_whole_commit(store: Store, first_copy: str) -> None:
    company = _seed(store)
    newcomer = _company()
    entry = _entry(company, "company.rename", f"audit-{new_id()}")
    if first_copy == "committed before":
        with store.unit_of_work() as uow:
            uow.audit.append(entry)
            uow.commit()
    with store.unit_of_work() as uow:
        uow.companies.add(newcomer)
        uow.business_units.add(_unit(newcomer, "hq"))
        uow.audit.append(_entry(company, "other", f"audit-{new_id()}"))
        if first_copy != "committed before":
            uow.audit.append(entry)
        if first_copy == "read back":
            assert entry in uow.audit.list(company_id=company.id).items
        uow.audit.append(entry)
        uow.outbox.add(CompanyCreated(company_id=newcomer.id, occurred_at=AT, name="New"))
        with pytest.raises(DuplicateError) as info:
            uow.commit()
        assert isinstance(info.value, B2BCoreError)
        # The unit stays usable and holds nothing of what failed.
        uow.commit()
    with store.unit_of_work() as uow:
        with pytest.raises(NotFoundError):
            uow.companies.get(newcomer.id)
        assert _units(uow, newcomer.id) == []
        stored = list(uow.audit.list(company_id=company.id).items)
        assert uow.outbox.list(company_id=newcomer.id).items == ()
    assert stored == ([entry] if first_copy == "committed before" else [])


def test_a_duplicate_deferred_row_is_named_by_its_kind(store: Store) -> None:
    company = _seed(store)
    entry = _entry(company, "company.rename", f"audit-{new_id()}")
    with store.unit_of_work() as uow:
        # As in a command: the changed aggregate's event first, then the audit line.
        uow.outbox.add(CompanyCreated(company_id=company.id, occurred_at=AT, name="ACME"))
        uow.audit.append(entry)
        uow.audit.append(entry)
        with pytest.raises(DuplicateError) as info:
            uow.commit()
    assert (info.value.kind, info.value.key) == ("audit entry", entry.id)


def test_a_failed_flush_loses_no_later_row(store: Store) -> None:
    """A held-back row refused when a read inserts it does not take later rows with it."""
    company = _seed(store)
    with store.unit_of_work() as uow:
        uow.audit.append(_entry(company, "first", "dup"))
        uow.audit.append(_entry(company, "duplicate", "dup"))
        uow.audit.append(_entry(company, "third", "other"))
        with contextlib.suppress(DuplicateError):  # the caller handles it and goes on
            uow.audit.list(company_id=company.id)  # inserts the held-back rows
        try:
            uow.commit()
            committed = True
        except DuplicateError:
            committed = False
    with store.unit_of_work() as uow:
        stored = sorted(e.action for e in uow.audit.list(company_id=company.id).items)
    # Either the unit fails as a whole, or every row that did not collide is stored.
    assert stored == (["first", "third"] if committed else [])


# -- load_access ---------------------------------------------------------------------------
def _onboard(store: Store) -> tuple[Portal, CompanyId, Actor]:
    cid = CompanyId(f"acme-{new_id()}")
    portal = Portal(store, clock=FixedClock(AT))
    portal.accounts.create_company(
        Actor.operator_for(cid, "op-1"),
        name="ACME",
        country="DE",
        admin_email="admin@acme.example",
        admin_user_id="u-admin",
    )
    portal.accounts.add_business_unit(
        Actor.user(cid, "u-admin"), name="Plant", unit_id="plant", parent_id="hq"
    )
    return portal, cid, Actor.user(cid, "u-admin")


def _permissions(role: Role) -> set[Permission]:
    return {rp.permission for rp in role.permissions}


def test_load_access_sees_a_role_change_at_once(store: Store) -> None:
    _portal, cid, admin = _onboard(store)
    with store.unit_of_work() as uow:
        before = load_access(uow, admin)
    assert Permission.ORDERS_BUY in _permissions(before.roles["buyer"])
    assert before.user is not None
    assert before.company is not None
    with store.unit_of_work() as uow:  # another unit changes the role
        role = uow.roles.get(RoleId("buyer"), company_id=cid)
        role.without_permission(Permission.ORDERS_BUY)
        uow.roles.update(role)
        uow.commit()
    with store.unit_of_work() as uow:
        after = load_access(uow, admin)
        stored = {r.id: r for r in _roles(uow, cid)}
        units = tuple(_units(uow, cid))
        user = uow.users.get(UserId("u-admin"), company_id=cid)
        company = uow.companies.get(cid)
    assert Permission.ORDERS_BUY not in _permissions(after.roles["buyer"])
    assert after.roles["buyer"].version == before.roles["buyer"].version + 1
    assert Permission.ORDERS_BUY in _permissions(before.roles["buyer"])  # not changed
    assert dict(after.roles) == stored
    assert (after.units, after.user, after.company) == (units, user, company)
    assert after.sod_rules == company.sod_rules
    assert after.company is before.company  # unchanged: shared
    assert after.roles["viewer"] is before.roles["viewer"]
    with store.unit_of_work() as uow:
        stranger = load_access(uow, Actor.user(cid, "nobody"))
        operator = load_access(uow, Actor.operator_for(cid, "op-1"))
        with pytest.raises(NotFoundError):
            load_access(uow, Actor.user(CompanyId("no-such-company"), "u-admin"))
    assert stranger.user is None
    assert operator.user is None
    assert dict(stranger.roles) == dict(operator.roles) == stored


def test_what_the_accounts_service_returns_is_the_callers_own(store: Store) -> None:
    portal, cid, admin = _onboard(store)
    with store.unit_of_work() as uow:
        before = load_access(uow, admin)  # the rows' objects are shared from here on
    roles = portal.accounts.list_roles(admin)
    units = portal.accounts.business_unit_tree(admin)
    company = portal.accounts.get_company(admin)
    user = portal.accounts.get_user(admin, user_id="u-admin")
    assert {r.id for r in roles} == set(before.roles)
    assert [u.id for u in units] == ["hq", "plant"]
    for r in roles:
        r.name = "Changed"
        r.permissions = ()
        r.version = 99
    for u in units:
        u.name = "Changed"
        u.cost_center = "changed"
        u.version = 99
    company.name = "Changed"
    company.version = 99
    user.name = "Changed"
    user.grants = ()
    with store.unit_of_work() as uow:
        after = load_access(uow, admin)
        stored_roles = {r.id: r for r in _roles(uow, cid)}
        stored_units = tuple(_units(uow, cid))
        stored_user = uow.users.get(UserId("u-admin"), company_id=cid)
        stored_company = uow.companies.get(cid)
    assert all(r.name != "Changed" and r.permissions for r in stored_roles.values())
    assert dict(after.roles) == dict(before.roles) == stored_roles
    assert after.units == before.units == stored_units
    assert after.user == before.user == stored_user
    assert after.company == before.company == stored_company
    assert stored_user.grants
    assert stored_company.name == "ACME"


# -- PostgreSQL: the pool's connection test ------------------------------------------------
def _backend_pid(uow: Any) -> int:
    """The server process of the unit's connection (the adapter's private session)."""
    return int(uow.session._conn.info.backend_pid)


def _terminate(pid: int) -> None:
    """End the server process ``pid`` of a b2bcore pool, and wait until it is gone."""
    with _admin() as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'b2bcore' AND pid <> pg_backend_pid() AND pid = %s",
            (pid,),
        ).fetchall()
        assert killed == [(True,)]
        for _ in range(200):
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                time.sleep(0.05)
            else:
                break
        else:
            pytest.fail(f"backend {pid} did not end")


@needs_server
@pytest.mark.postgres
@pytest.mark.slow
def test_a_connection_that_died_while_idle_is_replaced(schema: str) -> None:  # noqa: F811
    with PostgresStore(DSN, schema=schema, pool_size=1) as store:
        company = _company()
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.commit()
            pid = _backend_pid(uow)
        # Idle longer than the window in which the pool skips its test of a connection.
        time.sleep(postgres_module._CHECK_AFTER_IDLE + 0.2)
        _terminate(pid)
        with store.unit_of_work() as uow:
            assert uow.companies.get(company.id) == company
            assert _backend_pid(uow) != pid


@needs_server
@pytest.mark.postgres
def test_a_connection_that_died_within_the_window_fails_one_unit(
    schema: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Within the window the pool hands the connection out untested: that unit fails
    with a StorageError, and the pool replaces the connection for the next one."""
    monkeypatch.setattr(postgres_module, "_CHECK_AFTER_IDLE", 3600.0)
    with PostgresStore(DSN, schema=schema, pool_size=1) as store:
        company = _company()
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.commit()
            pid = _backend_pid(uow)
        _terminate(pid)
        with pytest.raises(StorageError), store.unit_of_work() as uow:
            uow.companies.get(company.id)
        with store.unit_of_work() as uow:
            assert uow.companies.get(company.id) == company
            assert _backend_pid(uow) != pid
