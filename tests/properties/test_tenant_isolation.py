"""Tenant isolation, driven by a Hypothesis state machine.

Random companies, business units, users and role grants are created through the
portal with ids drawn from small pools *shared by all companies*, so the same ids
exist in several tenants. After every step the store must hold, per company,
exactly what the model expects; every read returns only the reading company's
data; and a command of one company that names another company's ids fails with
NotFoundError (or PermissionDeniedError) without touching anything.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from b2bcore.accounts import Actor
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import CompanyId
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

UNIT_IDS = st.sampled_from(["hq", "plant", "line", "sales"])
USER_IDS = st.sampled_from(["u-1", "u-2", "u-3"])
ROLE_IDS = st.sampled_from(["buyer", "approver", "viewer"])


def admin_of(company: str) -> Actor:
    return Actor.user(company, f"admin-{company}")


class TenantMachine(RuleBasedStateMachine):
    """Model: for each company, its unit ids, user ids and (user, role) grants."""

    companies = Bundle("companies")

    def make_store(self) -> Store:
        return MemoryStore()

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.clock = FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
        self.portal = Portal(self.store, clock=self.clock)
        self.units: dict[str, set[str]] = {}
        self.users: dict[str, set[str]] = {}
        self.grants: dict[str, set[tuple[str, str]]] = {}

    def teardown(self) -> None:
        self.store.close()

    # -- commands -----------------------------------------------------------------------
    @initialize(target=companies)
    def first_company(self) -> str:
        return self._create("co-a")

    @precondition(lambda self: len(self.units) < 4)
    @rule(target=companies, suffix=st.sampled_from(["b", "c", "d"]))
    def create_company(self, suffix: str) -> str:
        cid = f"co-{suffix}"
        if cid in self.units:
            try:
                self.portal.accounts.create_company(Actor.operator_for(cid, "op"), name="Again")
            except DuplicateError:
                return cid
            raise AssertionError("a second company with the same id was created")
        return self._create(cid)

    def _create(self, cid: str) -> str:
        self.portal.accounts.create_company(
            Actor.operator_for(cid, "op"),
            name=f"Company {cid}",
            admin_email=f"admin@{cid}.example",
            admin_user_id=f"admin-{cid}",
        )
        self.units[cid] = {"hq"}
        self.users[cid] = {f"admin-{cid}"}
        self.grants[cid] = {(f"admin-{cid}", "company_admin")}
        return cid

    @rule(company=companies, unit=UNIT_IDS, parent=UNIT_IDS)
    def add_unit(self, company: str, unit: str, parent: str) -> None:
        self.clock.advance(timedelta(minutes=1))
        try:
            self.portal.accounts.add_business_unit(
                admin_of(company), name=unit.title(), unit_id=unit, parent_id=parent
            )
        except NotFoundError:
            assert parent not in self.units[company]
        except DuplicateError:
            assert unit in self.units[company]
        except ValidationError:
            assert unit == parent  # a unit cannot be its own parent
        else:
            assert parent in self.units[company]
            assert unit not in self.units[company]
            self.units[company].add(unit)

    @rule(company=companies, user=USER_IDS, unit=UNIT_IDS)
    def invite_user(self, company: str, user: str, unit: str) -> None:
        try:
            self.portal.accounts.invite_user(
                admin_of(company),
                user_id=user,
                email=f"{user}@people.example",  # the same e-mail in every company
                name=user.upper(),
                business_unit_ids=[unit],
            )
        except NotFoundError:
            assert unit not in self.units[company]
        except DuplicateError:
            assert user in self.users[company]
        else:
            assert unit in self.units[company]
            assert user not in self.users[company]
            self.users[company].add(user)

    @rule(company=companies, user=USER_IDS, role=ROLE_IDS)
    def grant(self, company: str, user: str, role: str) -> None:
        try:
            self.portal.accounts.grant_role(admin_of(company), user_id=user, role_id=role)
        except NotFoundError:
            assert user not in self.users[company]
        except DuplicateError:
            assert (user, role) in self.grants[company]
        else:
            assert user in self.users[company]
            self.grants[company].add((user, role))

    @rule(actor_company=companies, target_company=companies, user=USER_IDS, unit=UNIT_IDS)
    def reach_across(self, actor_company: str, target_company: str, user: str, unit: str) -> None:
        """An admin names ids that exist only in another company: never found."""
        if actor_company == target_company:
            return
        admin = admin_of(actor_company)
        if user in self.users[target_company] and user not in self.users[actor_company]:
            try:
                self.portal.accounts.get_user(admin, user_id=user)
            except NotFoundError:
                pass
            else:
                raise AssertionError(f"{actor_company} read {target_company}'s {user}")
            try:
                self.portal.accounts.grant_role(admin, user_id=user, role_id="buyer")
            except NotFoundError:
                pass
            else:
                raise AssertionError(f"{actor_company} granted to {target_company}'s {user}")
        if unit in self.units[target_company] and unit not in self.units[actor_company]:
            try:
                self.portal.accounts.move_business_unit(
                    admin_of(actor_company), unit_id=unit, new_parent_id=None
                )
            except NotFoundError:
                pass
            else:
                raise AssertionError(f"{actor_company} moved {target_company}'s unit {unit}")

    @rule(actor_company=companies, target_company=companies)
    def act_as_another_companys_admin(self, actor_company: str, target_company: str) -> None:
        """An actor claiming a company it does not belong to is denied."""
        if actor_company == target_company:
            return
        impostor = Actor.user(target_company, f"admin-{actor_company}")
        reason = ""
        try:
            self.portal.accounts.list_users(impostor)
        except PermissionDeniedError as e:
            reason = e.decision_code
        assert reason == "unknown_user", "a user of one company read another company's users"

    # -- invariants ---------------------------------------------------------------------
    @invariant()
    def every_company_holds_exactly_its_model(self) -> None:
        for company in self.units:
            actor = admin_of(company)
            users = self.portal.accounts.list_users(actor, limit=1000).items
            tree = self.portal.accounts.business_unit_tree(actor)
            roles = self.portal.accounts.list_roles(actor)
            trail = self.portal.accounts.audit_trail(actor, limit=1000).items
            assert {u.id for u in users} == self.users[company]
            assert {u.id for u in tree} == self.units[company]
            assert {(u.id, g.role_id) for u in users for g in u.grants} == self.grants[company]
            owners = {
                *(u.company_id for u in users),
                *(u.company_id for u in tree),
                *(r.company_id for r in roles),
                *(e.company_id for e in trail),
            }
            assert owners == {CompanyId(company)}


class SQLiteTenantMachine(TenantMachine):
    """The same machine on a SQLite file."""

    def make_store(self) -> Store:
        self.tmp = Path(tempfile.mkdtemp(prefix="b2bcore-tenants-"))
        return SQLiteStore(self.tmp / "tenants.sqlite", synchronous="OFF")

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.tmp, ignore_errors=True)


TestTenantIsolationMemory = TenantMachine.TestCase
TestTenantIsolationMemory.settings = settings(
    TestTenantIsolationMemory.settings, max_examples=60, stateful_step_count=30, deadline=None
)
TestTenantIsolationSQLite = SQLiteTenantMachine.TestCase
TestTenantIsolationSQLite.settings = settings(
    TestTenantIsolationSQLite.settings, max_examples=20, stateful_step_count=20, deadline=None
)
