"""Hypothesis properties of b2bcore.serialization, using b2bcore.testing.strategies.

Round trips: ``loads(dumps(x), type(x)) == x`` for values and models. Robustness:
arbitrary JSON-shaped garbage never escapes as anything but a ValidationError.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.accounts import BusinessUnit, Company, CompanyUser
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.errors import ValidationError
from b2bcore.ids import BusinessUnitId, CompanyId, UserId, check_id
from b2bcore.money import Money, minor_units
from b2bcore.serialization import dumps, loads, structure, unstructure
from b2bcore.testing.strategies import (
    DEFAULT_TIMEZONES,
    aware_datetimes,
    business_unit_trees,
    companies,
    company_users,
    currencies,
    decimals_for,
    emails,
    identifiers,
    money,
)

_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)

audit_entries = st.builds(
    AuditEntry,
    company_id=identifiers().map(CompanyId),
    at=aware_datetimes(),
    acted_by=identifiers(),
    on_behalf_of=identifiers(),
    action=st.sampled_from(["order.place", "cart.reorder", "claim.open", "user.invite"]),
    target=_TEXT,
    outcome=st.sampled_from(Outcome),
    detail=_TEXT,
    assisted_session_id=st.none() | identifiers(),
    id=identifiers(),
)

users = business_unit_trees(max_size=5).flatmap(
    lambda units: company_users(units[0].company_id, [u.id for u in units])
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "acme", "u-1", "hq", "ana@acme.example", "invited", "12.50"])
)
json_garbage = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _decimals(value: Decimal) -> int:
    """How many digits ``value`` carries after the point (as written, not as valued)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return max(0, -exponent)


# -- the strategies give what they promise ----------------------------------------------


@given(money())
def test_money_strategy_is_rounded_to_minor_units(m: Money) -> None:
    assert m.is_rounded()
    assert _decimals(m.amount) <= minor_units(m.currency)


@given(money(rounded=False, min_amount=0, max_amount=10))
def test_unrounded_money_strategy_stays_in_range(m: Money) -> None:
    assert 0 <= m.amount <= 10
    assert m.is_rounded(minor_units(m.currency) + 4)


currency_and_decimal = currencies(codes="all").flatmap(
    lambda c: st.tuples(st.just(c), decimals_for(c, min_value="-1.5", max_value="2.5"))
)


@given(currency_and_decimal)
def test_decimals_for_respects_bounds_and_places(case: tuple[str, Decimal]) -> None:
    currency, value = case
    assert Decimal("-1.5") <= value <= Decimal("2.5")
    assert _decimals(value) <= minor_units(currency)


@given(aware_datetimes())
def test_datetime_strategy_gives_real_aware_times(value: datetime) -> None:
    assert value.utcoffset() is not None
    assert str(value.tzinfo) in DEFAULT_TIMEZONES
    # Not an imaginary wall time: a UTC round trip lands on the same wall clock.
    assert value.astimezone(UTC).astimezone(value.tzinfo).replace(fold=0) == value.replace(fold=0)


@given(identifiers())
def test_identifier_strategy_passes_check_id(value: str) -> None:
    assert check_id(value) == value


@given(emails())
def test_email_strategy_is_normalised(value: str) -> None:
    user = CompanyUser(
        id=UserId("u"),
        company_id=CompanyId("acme"),
        email=value,
        name="N",
        business_unit_ids=(BusinessUnitId("hq"),),
    )
    assert user.email == value


# -- round trips ------------------------------------------------------------------------


@given(money(rounded=False))
def test_money_round_trips_exactly(m: Money) -> None:
    back = loads(dumps(m), Money)
    assert back == m
    assert back.amount.as_tuple() == m.amount.as_tuple()


@given(aware_datetimes())
def test_datetime_round_trips_as_the_same_instant_and_offset(value: datetime) -> None:
    back = loads(dumps(value), datetime)
    assert back.utcoffset() == value.utcoffset()
    assert back.astimezone(UTC) == value.astimezone(UTC)
    # Python's inter-zone == is False for a wall time whose offset depends on
    # ``fold`` (PEP 495), so plain equality only holds outside DST folds.
    if value.replace(fold=1 - value.fold).utcoffset() == value.utcoffset():
        assert back == value


@given(companies())
def test_company_round_trips(company: Company) -> None:
    assert loads(dumps(company), Company) == company


@given(business_unit_trees())
def test_business_units_round_trip(units: list[BusinessUnit]) -> None:
    for unit in units:
        assert loads(dumps(unit), BusinessUnit) == unit
    assert structure(json.loads(dumps(units)), list[BusinessUnit]) == units


@given(users)
def test_company_user_round_trips(user: CompanyUser) -> None:
    assert loads(dumps(user), CompanyUser) == user


@given(audit_entries)
def test_audit_entry_round_trips(entry: AuditEntry) -> None:
    back = loads(dumps(entry), AuditEntry)
    assert back == entry
    assert back.at.utcoffset() is not None
    assert back.at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


# -- garbage in, ValidationError out ----------------------------------------------------


def _structure_user(data: object) -> CompanyUser | ValidationError:
    try:
        return structure(data, CompanyUser)
    except ValidationError as e:  # any other exception fails the test
        return e


def _check_structure(data: object) -> None:
    user = _structure_user(data)
    if isinstance(user, ValidationError):
        assert user.path.startswith("$")
        return
    attrs.validate(user)
    assert structure(unstructure(user), CompanyUser) == user


@given(json_garbage)
def test_garbage_is_a_user_or_a_validation_error(data: object) -> None:
    _check_structure(data)


@given(users, st.data())
def test_one_garbled_field_is_a_user_or_a_validation_error(
    user: CompanyUser, data: st.DataObject
) -> None:
    fields: dict[str, Any] = unstructure(user)
    key = data.draw(st.sampled_from([*fields, "extra"]), label="key")
    fields[key] = data.draw(json_garbage, label="value")
    if data.draw(st.booleans(), label="drop a field"):
        fields.pop(data.draw(st.sampled_from(sorted(fields)), label="dropped"))
    _check_structure(fields)
