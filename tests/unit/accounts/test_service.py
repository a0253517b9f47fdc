"""Accounts use-cases through the portal, on MemoryStore and SQLiteStore."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from b2bcore.accounts import BusinessUnitAdded, BusinessUnitMoved, CompanyCreated, UserInvited
from b2bcore.clock import FixedClock
from b2bcore.errors import DuplicateError, NotFoundError, ValidationError
from b2bcore.events import DomainEvent
from b2bcore.ids import CompanyId
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "a.sqlite")
    yield s
    s.close()


@pytest.fixture
def portal(store: Store) -> Portal:
    p = Portal(store, clock=FixedClock(AT))
    p.accounts.create_company(company_id="acme", name="ACME", country="DE")
    p.accounts.add_business_unit(company_id="acme", name="HQ", unit_id="hq")
    p.accounts.add_business_unit(company_id="acme", name="Plant", unit_id="plant", parent_id="hq")
    return p


def _company_count(portal: Portal) -> int:
    with portal.store.unit_of_work() as uow:
        return len(uow.companies.list(limit=1000))


def test_create_company_generates_an_id_when_none_given(portal: Portal) -> None:
    company = portal.accounts.create_company(name="Beta AG")
    assert len(company.id) == 26
    assert portal.accounts.get_company(company.id).name == "Beta AG"


def test_create_company_with_taken_id_is_a_duplicate(portal: Portal) -> None:
    with pytest.raises(DuplicateError):
        portal.accounts.create_company(company_id="acme", name="Again")
    assert portal.accounts.get_company("acme").name == "ACME"


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"company_id": "bad id", "name": "X"}, "company_id"),
        ({"company_id": "ok", "name": "  "}, "name"),
        ({"company_id": "ok", "name": "X", "country": "Germany"}, "country"),
    ],
)
def test_create_company_bad_input_names_the_field(
    portal: Portal, kwargs: dict[str, str], path: str
) -> None:
    before = _company_count(portal)
    with pytest.raises(ValidationError) as info:
        portal.accounts.create_company(**kwargs)
    assert info.value.path == path
    assert _company_count(portal) == before


def test_business_unit_under_unknown_parent_or_company_is_not_found(portal: Portal) -> None:
    with pytest.raises(NotFoundError) as info:
        portal.accounts.add_business_unit(company_id="acme", name="X", parent_id="nope")
    assert (info.value.kind, info.value.key) == ("business unit", "nope")
    with pytest.raises(NotFoundError) as info2:
        portal.accounts.add_business_unit(company_id="ghost", name="X")
    assert info2.value.kind == "company"


def test_business_unit_of_another_company_cannot_be_a_parent(portal: Portal) -> None:
    portal.accounts.create_company(company_id="beta", name="Beta")
    with pytest.raises(NotFoundError):
        portal.accounts.add_business_unit(company_id="beta", name="X", parent_id="hq")


def test_tree_lists_parents_before_children(portal: Portal) -> None:
    portal.accounts.add_business_unit(company_id="acme", name="L1", unit_id="l1", parent_id="plant")
    portal.accounts.add_business_unit(company_id="acme", name="Sales", unit_id="a-sales")
    tree = portal.accounts.business_unit_tree(company_id="acme")
    order = [u.id for u in tree]
    assert order == ["a-sales", "hq", "plant", "l1"]


def test_moving_a_unit_under_its_descendant_is_rejected_naming_the_loop(portal: Portal) -> None:
    portal.accounts.add_business_unit(company_id="acme", name="L1", unit_id="l1", parent_id="plant")
    with pytest.raises(ValidationError, match="cycle") as info:
        portal.accounts.move_business_unit(company_id="acme", unit_id="hq", new_parent_id="l1")
    loop = info.value.value
    assert isinstance(loop, list)
    assert set(loop) >= {"hq", "plant", "l1"}
    tree = {u.id: u.parent_id for u in portal.accounts.business_unit_tree(company_id="acme")}
    assert tree == {"hq": None, "plant": "hq", "l1": "plant"}


def test_moving_a_unit_records_an_event_and_bumps_the_version(portal: Portal) -> None:
    portal.accounts.add_business_unit(company_id="acme", name="Other", unit_id="other")
    moved = portal.accounts.move_business_unit(
        company_id="acme", unit_id="plant", new_parent_id="other"
    )
    assert (moved.parent_id, moved.version) == ("other", 2)
    events: list[DomainEvent] = []
    portal.dispatch({BusinessUnitMoved: [events.append]})
    assert len(events) == 1
    assert isinstance(events[0], BusinessUnitMoved)
    assert (events[0].old_parent_id, events[0].new_parent_id) == ("hq", "other")


def test_invite_user_checks_units_and_email_uniqueness(portal: Portal) -> None:
    ana = portal.accounts.invite_user(
        company_id="acme", email="Ana@ACME.example", name="Ana", business_unit_ids=["plant"]
    )
    assert ana.email == "ana@acme.example"
    with pytest.raises(DuplicateError, match="already exists in company 'acme'"):
        portal.accounts.invite_user(
            company_id="acme", email="ANA@acme.example", name="Ana 2", business_unit_ids=["hq"]
        )
    with pytest.raises(NotFoundError) as info:
        portal.accounts.invite_user(
            company_id="acme", email="bo@acme.example", name="Bo", business_unit_ids=["hq", "x"]
        )
    assert info.value.key == "x"
    page = portal.accounts.list_users(company_id="acme")
    assert [u.email for u in page] == ["ana@acme.example"]


def test_list_users_by_business_unit(portal: Portal) -> None:
    portal.accounts.invite_user(
        company_id="acme", email="a@acme.example", name="A", business_unit_ids=["hq"], user_id="a"
    )
    portal.accounts.invite_user(
        company_id="acme",
        email="b@acme.example",
        name="B",
        business_unit_ids=["plant", "hq"],
        user_id="b",
    )
    in_plant = portal.accounts.list_users(company_id="acme", business_unit_id="plant")
    in_hq = portal.accounts.list_users(company_id="acme", business_unit_id="hq")
    assert [u.id for u in in_plant] == ["b"]
    assert [u.id for u in in_hq] == ["a", "b"]
    with pytest.raises(NotFoundError):
        portal.accounts.list_users(company_id="ghost")


def test_every_command_emits_its_event_once(portal: Portal) -> None:
    portal.accounts.invite_user(
        company_id="acme", email="a@acme.example", name="A", business_unit_ids=["hq"]
    )
    seen: list[DomainEvent] = []
    report = portal.dispatch({DomainEvent: [seen.append]})
    assert [type(e) for e in seen] == [
        CompanyCreated,
        BusinessUnitAdded,
        BusinessUnitAdded,
        UserInvited,
    ]
    assert all(e.occurred_at == AT for e in seen)
    assert all(e.company_id == CompanyId("acme") for e in seen)
    assert report.delivered == 4
