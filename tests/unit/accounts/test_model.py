"""Example-based tests of the accounts model and its tree rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from b2bcore.accounts import (
    BusinessUnit,
    BusinessUnitAdded,
    Company,
    CompanyCreated,
    CompanyUser,
    UserInvited,
    UserStatus,
)
from b2bcore.accounts.rules import ancestors, check_tree, descendants
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.events import Aggregate, DomainEvent
from b2bcore.ids import BusinessUnitId, CompanyId, UserId

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
ACME = CompanyId("acme")


def _untyped(value: object) -> Any:
    """Hide a deliberately wrong argument from mypy so the runtime check can be tested."""
    return value


def _unit(unit_id: str, parent: str | None = None, company: str = "acme") -> BusinessUnit:
    return BusinessUnit(
        id=BusinessUnitId(unit_id),
        company_id=CompanyId(company),
        name=unit_id.upper(),
        parent_id=None if parent is None else BusinessUnitId(parent),
    )


def _user(**changes: Any) -> CompanyUser:
    fields: dict[str, Any] = {
        "id": "u-ana",
        "company_id": "acme",
        "email": "ana@acme.example",
        "name": "Ana",
        "business_unit_ids": ["hq"],
    }
    fields.update(changes)
    return CompanyUser(**fields)


# -- Company ----------------------------------------------------------------------------


def test_company_holds_its_fields() -> None:
    company = Company(id=ACME, name="ACME Industrial GmbH", country="DE")
    assert (company.id, company.name, company.country) == ("acme", "ACME Industrial GmbH", "DE")
    assert company.version == 0
    assert Company(id=ACME, name="ACME").country is None


@pytest.mark.parametrize("bad_id", ["", " acme", "ac me", "-acme", "a" * 129, None, 7])
def test_company_rejects_bad_ids(bad_id: object) -> None:
    with pytest.raises(ValidationError) as info:
        Company(id=_untyped(bad_id), name="ACME")
    assert info.value.path == "id"
    assert info.value.value == bad_id


@pytest.mark.parametrize("bad_name", ["", "   ", "\t\n", None, 42, "x" * 201])
def test_company_rejects_blank_or_long_names(bad_name: object) -> None:
    with pytest.raises(ValidationError) as info:
        Company(id=ACME, name=_untyped(bad_name))
    assert info.value.path == "name"


def test_company_accepts_a_name_of_200_characters() -> None:
    assert len(Company(id=ACME, name="x" * 200).name) == 200


@pytest.mark.parametrize("country", ["de", "DEU", "D", "", "D1", "DE\n", 49])
def test_company_rejects_bad_country_codes(country: object) -> None:
    with pytest.raises(ValidationError) as info:
        Company(id=ACME, name="ACME", country=_untyped(country))
    assert info.value.path == "country"
    assert info.value.value == country


def test_company_rename_validates_and_keeps_old_name_on_error() -> None:
    company = Company(id=ACME, name="ACME")
    company.rename("ACME Holding")
    assert company.name == "ACME Holding"
    with pytest.raises(ValidationError) as info:
        company.rename("  ")
    assert info.value.path == "name"
    assert company.name == "ACME Holding"


def test_company_assignment_is_validated() -> None:
    company = Company(id=ACME, name="ACME")
    with pytest.raises(ValidationError):
        company.name = ""
    with pytest.raises(ValidationError):
        company.country = "deu"
    assert (company.name, company.country) == ("ACME", None)


# -- BusinessUnit -----------------------------------------------------------------------


def test_business_unit_defaults_to_a_root() -> None:
    unit = BusinessUnit(id=BusinessUnitId("hq"), company_id=ACME, name="HQ")
    assert unit.parent_id is None
    assert unit.cost_center is None


@pytest.mark.parametrize("field", ["id", "company_id", "parent_id"])
def test_business_unit_rejects_bad_ids(field: str) -> None:
    fields: dict[str, Any] = {"id": "plant", "company_id": "acme", "name": "P", "parent_id": "hq"}
    fields[field] = "not valid"
    with pytest.raises(ValidationError) as info:
        BusinessUnit(**fields)
    assert info.value.path == field


def test_business_unit_rejects_blank_name() -> None:
    with pytest.raises(ValidationError) as info:
        BusinessUnit(id=BusinessUnitId("hq"), company_id=ACME, name=" ")
    assert info.value.path == "name"


def test_business_unit_cannot_be_its_own_parent() -> None:
    with pytest.raises(ValidationError) as info:
        _unit("hq", parent="hq")
    assert info.value.path == "parent_id"
    assert "'hq' cannot be its own parent" in info.value.reason


def test_business_unit_evolve_to_own_parent_is_rejected() -> None:
    with pytest.raises(ValidationError):
        attrs.evolve(_unit("hq"), parent_id=BusinessUnitId("hq"))


def test_business_unit_assignment_to_own_parent_is_rejected() -> None:
    unit = _unit("hq")
    with pytest.raises(ValidationError):
        unit.parent_id = BusinessUnitId("hq")


def test_business_unit_assignment_of_a_bad_parent_id_is_rejected() -> None:
    unit = _unit("plant", "hq")
    with pytest.raises(ValidationError) as info:
        unit.parent_id = BusinessUnitId("not valid")
    assert info.value.path == "parent_id"
    assert unit.parent_id == "hq"


# -- CompanyUser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (" Ana@ACME.example ", "ana@acme.example"),
        ("BOB@Example.COM", "bob@example.com"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
    ],
)
def test_user_email_is_trimmed_and_lower_cased(given: str, stored: str) -> None:
    assert _user(email=given).email == stored


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ana",
        "ana@",
        "@acme.example",
        "ana@acme",
        "ana@@acme.example",
        "ana smith@acme.example",
        "ana@acme.example.",
        "ana@acme..",
        "a" * 250 + "@x.de",
        None,
        42,
    ],
)
def test_user_rejects_bad_emails(email: object) -> None:
    with pytest.raises(ValidationError) as info:
        _user(email=email)
    assert info.value.path == "email"
    assert info.value.value == email


def test_user_email_assignment_is_normalised() -> None:
    user = _user()
    user.email = "  NEW@acme.example"
    assert user.email == "new@acme.example"


def test_user_defaults_to_invited() -> None:
    assert _user().status is UserStatus.INVITED
    assert _user(status=UserStatus.ACTIVE).status is UserStatus.ACTIVE


def test_user_rejects_a_status_string() -> None:
    # attrs' instance_of raises TypeError today; a ValidationError would suit the design.
    with pytest.raises((TypeError, ValidationError)):
        _user(status="active")


def test_user_business_units_become_a_tuple_in_order() -> None:
    assert _user(business_unit_ids=["plant", "hq"]).business_unit_ids == ("plant", "hq")
    assert _user(business_unit_ids=("hq",)).business_unit_ids == ("hq",)


def test_user_duplicate_business_units_collapse_keeping_first_order() -> None:
    user = _user(business_unit_ids=["plant", "hq", "plant", "hq"])
    assert user.business_unit_ids == ("plant", "hq")


@pytest.mark.parametrize("empty", [[], (), set()])
def test_user_needs_at_least_one_business_unit(empty: object) -> None:
    with pytest.raises(ValidationError) as info:
        _user(business_unit_ids=empty)
    assert info.value.path == "business_unit_ids"


def test_user_rejects_a_bad_business_unit_id() -> None:
    with pytest.raises(ValidationError) as info:
        _user(business_unit_ids=["hq", "not valid"])
    assert info.value.value == "not valid"
    assert "[1]" in info.value.path


@pytest.mark.parametrize("value", ["hq", None, 5, {"hq": 1}])
def test_user_rejects_business_units_that_are_not_a_list(value: object) -> None:
    with pytest.raises(ValidationError):
        _user(business_unit_ids=value)


@pytest.mark.parametrize("field", ["id", "company_id"])
def test_user_rejects_bad_ids(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        _user(**{field: "bad id"})
    assert info.value.path == field


def test_user_rejects_blank_name() -> None:
    with pytest.raises(ValidationError) as info:
        _user(name="")
    assert info.value.path == "name"


# -- Aggregate events -------------------------------------------------------------------


def test_aggregates_start_at_version_zero_without_events() -> None:
    for aggregate in (Company(id=ACME, name="ACME"), _unit("hq"), _user()):
        assert isinstance(aggregate, Aggregate)
        assert aggregate.version == 0
        assert aggregate.pull_events() == []


def test_record_and_pull_events_in_order_then_forget() -> None:
    company = Company(id=ACME, name="ACME")
    created = CompanyCreated(company_id=ACME, occurred_at=AT, name="ACME")
    added = BusinessUnitAdded(
        company_id=ACME, occurred_at=AT, business_unit_id=BusinessUnitId("hq"), parent_id=None
    )
    company.record(created)
    company.record(added)
    events: list[DomainEvent] = company.pull_events()
    assert events == [created, added]
    assert company.pull_events() == []


def test_pending_events_do_not_affect_equality() -> None:
    a = Company(id=ACME, name="ACME")
    b = Company(id=ACME, name="ACME")
    a.record(CompanyCreated(company_id=ACME, occurred_at=AT, name="ACME"))
    assert a == b


def test_events_of_different_aggregates_are_separate() -> None:
    a, b = _user(id="u-1"), _user(id="u-2")
    a.record(
        UserInvited(company_id=ACME, occurred_at=AT, user_id=UserId("u-1"), email="a@acme.example")
    )
    assert b.pull_events() == []
    assert len(a.pull_events()) == 1


def test_events_get_unique_ids_and_utc_time() -> None:
    berlin = datetime.fromisoformat("2026-05-04T11:30:00+02:00")
    e1 = CompanyCreated(company_id=ACME, occurred_at=berlin, name="ACME")
    e2 = CompanyCreated(company_id=ACME, occurred_at=berlin, name="ACME")
    assert e1.event_id != e2.event_id
    assert e1.occurred_at == AT
    assert e1.occurred_at.tzinfo is UTC


def test_events_reject_naive_time() -> None:
    with pytest.raises(ValidationError) as info:
        CompanyCreated(company_id=ACME, occurred_at=datetime(2026, 1, 1), name="ACME")  # noqa: DTZ001
    assert info.value.path == "occurred_at"


# -- tree rules -------------------------------------------------------------------------

TREE = [
    _unit("hq"),
    _unit("plant", "hq"),
    _unit("line-1", "plant"),
    _unit("line-2", "plant"),
    _unit("sales", "hq"),
    _unit("other-root"),
]


def test_check_tree_accepts_a_forest() -> None:
    check_tree(TREE)
    check_tree(reversed(TREE))  # order does not matter to the check
    check_tree([])


def test_check_tree_names_every_unit_of_a_cycle() -> None:
    units = [_unit("a", "c"), _unit("b", "a"), _unit("c", "b"), _unit("root")]
    with pytest.raises(ValidationError) as info:
        check_tree(units)
    assert info.value.path == "parent_id"
    loop = info.value.value
    assert isinstance(loop, list)
    assert loop[0] == loop[-1]
    assert set(loop) == {"a", "b", "c"}
    assert "would form a cycle" in info.value.reason
    assert " -> ".join(loop) in info.value.reason


def test_check_tree_detects_a_two_cycle() -> None:
    with pytest.raises(ValidationError) as info:
        check_tree([_unit("a", "b"), _unit("b", "a")])
    assert "a -> b -> a" in str(info.value) or "b -> a -> b" in str(info.value)


def test_check_tree_detects_a_cycle_below_a_valid_chain() -> None:
    units = [*TREE, _unit("x", "y"), _unit("y", "x"), _unit("leaf", "x")]
    with pytest.raises(ValidationError) as info:
        check_tree(units)
    loop = info.value.value
    assert isinstance(loop, list)
    assert set(loop) == {"x", "y"}


def test_check_tree_missing_parent_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        check_tree([_unit("hq"), _unit("plant", "ghost")])
    assert info.value.kind == "business unit"
    assert info.value.key == "ghost"


def test_check_tree_refuses_several_companies() -> None:
    with pytest.raises(ValidationError) as info:
        check_tree([_unit("hq"), _unit("plant", "hq", company="globex")])
    assert info.value.path == "company_id"
    assert "['acme', 'globex']" in info.value.reason


def test_check_tree_reparenting_under_a_descendant_is_a_cycle() -> None:
    moved = [
        attrs.evolve(u, parent_id=BusinessUnitId("line-1")) if u.id == "plant" else u for u in TREE
    ]
    with pytest.raises(ValidationError):
        check_tree(moved)


def test_ancestors_nearest_first() -> None:
    assert ancestors(TREE, "line-1") == ["plant", "hq"]
    assert ancestors(TREE, "sales") == ["hq"]
    assert ancestors(TREE, "hq") == []


def test_ancestors_of_unknown_unit_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        ancestors(TREE, "ghost")
    assert info.value.key == "ghost"


def test_ancestors_stop_at_a_missing_parent() -> None:
    assert ancestors([_unit("plant", "ghost")], "plant") == ["ghost"]


def test_ancestors_terminate_on_a_cycle() -> None:
    chain = ancestors([_unit("a", "b"), _unit("b", "a")], "a")
    assert chain[0] == "b"
    assert len(chain) <= 2


def test_descendants_include_the_unit_itself() -> None:
    assert descendants(TREE, "hq") == {"hq", "plant", "line-1", "line-2", "sales"}
    assert descendants(TREE, "plant") == {"plant", "line-1", "line-2"}
    assert descendants(TREE, "line-2") == {"line-2"}
    assert descendants(TREE, "other-root") == {"other-root"}


def test_descendants_of_unknown_unit_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        descendants(TREE, "ghost")
    assert info.value.key == "ghost"


def test_descendants_terminate_on_a_cycle() -> None:
    assert descendants([_unit("a", "b"), _unit("b", "a")], "a") == {"a", "b"}
