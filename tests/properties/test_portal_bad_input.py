"""Bad input to the accounts use-cases: a B2BCoreError, and nothing half-written."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError
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


company_ids = field("acme", "beta", None)
unit_ids = field("hq", "plant", "line", None)
names = field("Plant Leipzig", "ACME", "Ana")
emails = field("ana@acme.example", "ben@acme.example", "ANA@acme.example")
unit_lists = field(["hq"], ["plant"], ["hq", "plant"], ["line"])

commands = st.lists(
    st.one_of(
        st.tuples(
            st.just("create_company"),
            st.fixed_dictionaries(
                {"company_id": company_ids, "name": names, "country": field("DE", "VN", None)}
            ),
        ),
        st.tuples(
            st.just("add_business_unit"),
            st.fixed_dictionaries(
                {
                    "company_id": field("acme", "beta"),
                    "name": names,
                    "unit_id": unit_ids,
                    "parent_id": unit_ids,
                }
            ),
        ),
        st.tuples(
            st.just("invite_user"),
            st.fixed_dictionaries(
                {
                    "company_id": field("acme", "beta"),
                    "email": emails,
                    "name": names,
                    "business_unit_ids": unit_lists,
                    "user_id": field("u-1", "u-2", None),
                }
            ),
        ),
        st.tuples(
            st.just("move_business_unit"),
            st.fixed_dictionaries(
                {
                    "company_id": field("acme", "beta"),
                    "unit_id": field("hq", "plant", "line"),
                    "new_parent_id": unit_ids,
                }
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
            out[f"units:{c.id}"] = [(u.id, u.version) for u in units]
            out[f"users:{c.id}"] = [(u.id, u.version) for u in users]
    return out


@settings(max_examples=80)
@given(script=commands, start=aware_datetimes())
def test_any_input_either_succeeds_or_fails_cleanly(
    script: list[tuple[str, dict[str, Any]]], start: Any
) -> None:
    portal = Portal(MemoryStore(), clock=FixedClock(start))
    portal.accounts.create_company(company_id="acme", name="ACME")
    portal.accounts.add_business_unit(company_id="acme", name="HQ", unit_id="hq")
    for name, kwargs in script:
        before = _snapshot(portal)
        try:
            getattr(portal.accounts, name)(**kwargs)
        except B2BCoreError as e:
            event(f"{name}: {e.code}")
            assert _snapshot(portal) == before, f"{name} failed but changed the store"
        else:
            event(f"{name}: ok")
            assert _snapshot(portal) != before, f"{name} succeeded but stored nothing"
