"""Bad input to the accounts use-cases: a B2BCoreError, and nothing half-written.

An administrator runs random commands with plausible and junk arguments; each one
either succeeds and changes the store, or raises a B2BCoreError and leaves every
repository (and the outbox) exactly as it was.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError
from b2bcore.ids import CompanyId
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.strategies import aware_datetimes

# Values a careless caller might pass: good-looking ids, junk, wrong types.
junk: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["acme", "hq", "plant", "u-1", "ana@acme.example", "DE", "Plant"]),
    st.text(max_size=12),
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.lists(st.sampled_from(["hq", "plant", "nope", ""]), max_size=3),
    st.binary(max_size=4),
)


def field(*good: object) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes junk: both paths get exercised."""
    plausible = st.sampled_from(good)
    return st.integers(min_value=0, max_value=5).flatmap(lambda n: junk if n == 0 else plausible)


unit_ids = field("hq", "plant", "line", None)
names = field("Plant Leipzig", "ACME", "Ana")
emails = field("ana@acme.example", "ben@acme.example", "ANA@acme.example")
unit_lists = field(["hq"], ["plant"], ["hq", "plant"], ["line"])
role_ids = field("buyer", "approver", "company_admin", "boss")
user_ids = field("u-1", "u-2", "u-admin", None)

commands = st.lists(
    st.one_of(
        st.tuples(
            st.just("add_business_unit"),
            st.fixed_dictionaries(
                {"name": names, "unit_id": unit_ids, "parent_id": field("hq", "plant", "line")}
            ),
        ),
        st.tuples(
            st.just("invite_user"),
            st.fixed_dictionaries(
                {
                    "email": emails,
                    "name": names,
                    "business_unit_ids": unit_lists,
                    "user_id": user_ids,
                    "roles": field([], ["buyer"], ["approver"], ["buyer", "approver"]),
                }
            ),
        ),
        st.tuples(
            st.just("move_business_unit"),
            st.fixed_dictionaries(
                {"unit_id": field("hq", "plant", "line"), "new_parent_id": unit_ids}
            ),
        ),
        st.tuples(
            st.just("grant_role"),
            st.fixed_dictionaries(
                {
                    "user_id": user_ids,
                    "role_id": role_ids,
                    "business_unit_id": unit_ids,
                }
            ),
        ),
        st.tuples(
            st.just("revoke_role"),
            st.fixed_dictionaries({"user_id": user_ids, "role_id": role_ids}),
        ),
        st.tuples(
            st.just("add_sod_rule"),
            st.fixed_dictionaries({"role_a": role_ids, "role_b": role_ids}),
        ),
        st.tuples(
            st.just("create_role"),
            st.fixed_dictionaries(
                {"name": names, "role_id": field("r1", "buyer", None), "copy_of": role_ids}
            ),
        ),
    ),
    max_size=12,
)


def _snapshot(portal: Portal) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    with portal.store.unit_of_work() as uow:
        companies = list(iterate(lambda c: uow.companies.list(cursor=c)))
        out["companies"] = [(c.id, c.version) for c in companies]
        for c in companies:
            units = uow.business_units.list(company_id=c.id, limit=1000)
            users = uow.users.list(company_id=c.id, limit=1000)
            roles = uow.roles.list(company_id=c.id, limit=1000)
            out[f"units:{c.id}"] = [(u.id, u.version) for u in units]
            out[f"users:{c.id}"] = [(u.id, u.version) for u in users]
            out[f"roles:{c.id}"] = [(r.id, r.version) for r in roles]
            pending = uow.outbox.list(company_id=c.id, limit=1000)
            out[f"outbox:{c.id}"] = [(r.id, r.version) for r in pending]
    return out


def _audit_outcomes(portal: Portal) -> list[str]:
    with portal.store.unit_of_work() as uow:
        return [e.outcome.value for e in uow.audit.list(company_id=CompanyId("acme"), limit=1000)]


@settings(max_examples=80)
@given(script=commands, start=aware_datetimes())
def test_any_input_either_succeeds_or_fails_cleanly(
    script: list[tuple[str, dict[str, Any]]], start: Any
) -> None:
    portal = Portal(MemoryStore(), clock=FixedClock(start))
    portal.accounts.create_company(
        Actor.operator_for("acme", "op"),
        name="ACME",
        admin_email="a@acme.example",
        admin_user_id="u-admin",
    )
    admin = Actor.user("acme", "u-admin")
    for name, kwargs in script:
        before = _snapshot(portal)
        audited = len(_audit_outcomes(portal))
        try:
            getattr(portal.accounts, name)(admin, **kwargs)
        except B2BCoreError as e:
            event(f"{name}: {e.code}")
            assert _snapshot(portal) == before, f"{name} failed but changed the store"
            # Refused before the command ran (argument checks): no line; refused or
            # failed inside it: exactly one line, and it says so.
            new = _audit_outcomes(portal)[audited:]
            assert new in ([], ["failed"], ["denied"]), new
        else:
            event(f"{name}: ok")
            assert _snapshot(portal) != before, f"{name} succeeded but stored nothing"
            assert _audit_outcomes(portal)[audited:] == ["allowed"]
