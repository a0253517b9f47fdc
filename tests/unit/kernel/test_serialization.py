"""Example-based tests of b2bcore.serialization: JSON round trips and error paths."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore import _json
from b2bcore._json import json_text
from b2bcore.accounts import (
    BusinessUnit,
    BusinessUnitAdded,
    BusinessUnitMoved,
    Company,
    CompanyCreated,
    CompanyUser,
    UserInvited,
    UserStatus,
)
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.errors import ValidationError
from b2bcore.events import DomainEvent, OutboxRecord, OutboxStatus
from b2bcore.ids import BusinessUnitId, CompanyId, UserId
from b2bcore.money import Money
from b2bcore.serialization import (
    dumps,
    event_from_record,
    event_to_record,
    loads,
    structure,
    unstructure,
)

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
ACME = CompanyId("acme")


def _user_json(**changes: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "u-ana",
        "company_id": "acme",
        "email": "ana@acme.example",
        "name": "Ana",
        "business_unit_ids": ["hq", "plant"],
    }
    data.update(changes)
    return data


def _invalid(data: object, cls: type[object]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        structure(data, cls)
    return info.value


# -- Money, Decimal and time values ---------------------------------------------------


def test_money_dumps_amount_as_string_and_round_trips() -> None:
    m = Money("12.50", "EUR")
    assert dumps(m) == '{"amount":"12.50","currency":"EUR"}'
    back = loads(dumps(m), Money)
    assert back == m
    assert str(back.amount) == "12.50"  # the exponent survives, not just the value


@pytest.mark.parametrize(
    "m", [Money("-0.005", "KWD"), Money("1234567", "VND"), Money("0", "JPY"), Money("1E+3", "USD")]
)
def test_money_round_trips_exactly(m: Money) -> None:
    back = loads(dumps(m), Money)
    assert back == m
    assert back.amount.as_tuple() == m.amount.as_tuple()


def test_decimal_round_trips_as_string() -> None:
    assert unstructure(Decimal("0.10")) == "0.10"
    assert structure("0.10", Decimal) == Decimal("0.10")
    assert structure(3, Decimal) == Decimal(3)


def test_datetime_keeps_its_offset_and_instant() -> None:
    value = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    assert dumps(value) == '"2026-03-29T03:30:00+02:00"'
    back = loads(dumps(value), datetime)
    assert back == value
    assert back.utcoffset() == timedelta(hours=2)
    assert back.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_dumps_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValidationError, match="naive"):
        dumps(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point


def test_date_and_time_round_trip_as_iso() -> None:
    assert dumps(date(2026, 2, 28)) == '"2026-02-28"'
    assert loads('"2026-02-28"', date) == date(2026, 2, 28)
    assert loads(dumps(time(9, 30)), time) == time(9, 30)


# -- models -----------------------------------------------------------------------------


def test_company_round_trips() -> None:
    company = Company(id=ACME, name="ACME Industrial GmbH", country="DE", version=3)
    text = dumps(company)
    assert json.loads(text) == {
        "version": 3,
        "id": "acme",
        "name": "ACME Industrial GmbH",
        "country": "DE",
        "sod_rules": [],
    }
    assert loads(text, Company) == company


def test_pending_events_are_not_serialized() -> None:
    company = Company(id=ACME, name="ACME")
    company.record(CompanyCreated(company_id=ACME, occurred_at=AT, name="ACME"))
    assert "pending" not in dumps(company)
    assert loads(dumps(company), Company).pull_events() == []


def test_business_unit_round_trips() -> None:
    unit = BusinessUnit(
        id=BusinessUnitId("plant"),
        company_id=ACME,
        name="Plant Süd",
        parent_id=BusinessUnitId("hq"),
        cost_center="CC-4711",
    )
    assert loads(dumps(unit), BusinessUnit) == unit
    assert json.loads(dumps(unit))["parent_id"] == "hq"


def test_company_user_round_trips_with_status_by_value() -> None:
    user = CompanyUser(
        id=UserId("u-ana"),
        company_id=ACME,
        email="Ana@ACME.example",
        name="Ana",
        business_unit_ids=(BusinessUnitId("hq"), BusinessUnitId("plant")),
        status=UserStatus.ACTIVE,
    )
    data = json.loads(dumps(user))
    assert data["status"] == "active"
    assert data["email"] == "ana@acme.example"
    assert data["business_unit_ids"] == ["hq", "plant"]
    assert loads(dumps(user), CompanyUser) == user


def test_audit_entry_round_trips_in_utc() -> None:
    entry = AuditEntry(
        company_id=ACME,
        at=datetime(2026, 5, 4, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        acted_by="agent-7",
        on_behalf_of="u-1",
        action="cart.reorder",
        target="order:o-9",
        outcome=Outcome.DENIED,
        detail="missing permission order.place",
        assisted_session_id="as-3",
    )
    data = json.loads(dumps(entry))
    assert data["at"] == "2026-05-04T09:30:00+00:00"
    assert data["outcome"] == "denied"
    assert loads(dumps(entry), AuditEntry) == entry


def test_outbox_record_round_trips() -> None:
    record = OutboxRecord(
        id="ob-1",
        event_type="accounts.company_created",
        company_id=ACME,
        occurred_at=AT,
        payload={"name": "ACME", "nested": {"list": [1, "two", None]}},
        status=OutboxStatus.DELIVERED,
        attempts=2,
        delivered_at=AT + timedelta(seconds=5),
        last_error="timeout",
        version=4,
    )
    back = loads(dumps(record), OutboxRecord)
    assert back == record
    assert back.delivered_at == AT + timedelta(seconds=5)


# -- bad input --------------------------------------------------------------------------


def test_float_amount_is_rejected_with_path() -> None:
    e = _invalid({"amount": 12.5, "currency": "EUR"}, Money)
    assert e.path == "$.amount"
    assert "floats are not accepted" in e.reason


def test_loads_float_amount_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        loads('{"amount":0.1,"currency":"EUR"}', Money)
    assert info.value.path == "$.amount"


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"amount": "ten", "currency": "EUR"}, "$.amount", "not a decimal number"),
        ({"amount": "NaN", "currency": "EUR"}, "$.amount", "not a finite number"),
        ({"amount": "1", "currency": "eur"}, "$.currency", "did you mean 'EUR'"),
        ({"amount": "1", "currency": 978}, "$.currency", "ISO 4217"),
        ({"amount": "1"}, "$", "missing key 'currency'"),
        ({"amount": "1", "currency": "EUR", "cents": 100}, "$", "unexpected keys ['cents']"),
        ("12.50 EUR", "$", "expected an object"),
    ],
)
def test_bad_money_names_the_field(data: object, path: str, fragment: str) -> None:
    e = _invalid(data, Money)
    assert e.path == path
    assert fragment in str(e)


def test_nested_money_error_names_the_full_path() -> None:
    e = _invalid(
        [{"amount": "1", "currency": "EUR"}, {"amount": "1", "currency": "XXY"}], list[Money]
    )
    assert e.path == "$[1].currency"


def test_bad_email_names_the_field() -> None:
    e = _invalid(_user_json(email="not-an-address"), CompanyUser)
    assert e.path == "$.email"
    assert e.value == _user_json(email="not-an-address")
    assert "'not-an-address' is not an e-mail address" in str(e)


def test_wrong_type_inside_a_list_names_the_index() -> None:
    e = _invalid(_user_json(business_unit_ids=["hq", 5]), CompanyUser)
    assert e.path == "$.business_unit_ids[1]"
    assert "expected str" in e.reason


def test_invalid_id_inside_a_list_names_field_and_index() -> None:
    e = _invalid(_user_json(business_unit_ids=["hq", " plant"]), CompanyUser)
    assert e.path == "$.business_unit_ids[1]"


def test_invalid_id_inside_a_list_is_still_a_validation_error() -> None:
    e = _invalid(_user_json(business_unit_ids=["hq", " plant"]), CompanyUser)
    assert "' plant' is not a valid identifier" in e.reason


def test_string_where_a_list_is_expected_is_rejected() -> None:
    _invalid(_user_json(business_unit_ids="hq"), CompanyUser)


def test_empty_business_unit_list_is_rejected() -> None:
    e = _invalid(_user_json(business_unit_ids=[]), CompanyUser)
    assert e.path == "$.business_unit_ids"


def test_missing_field_is_named() -> None:
    data = _user_json()
    del data["name"]
    e = _invalid(data, CompanyUser)
    assert e.path == "$.name"
    assert e.reason == "required field is missing"


def test_unknown_enum_value_is_named() -> None:
    e = _invalid(_user_json(status="gone"), CompanyUser)
    assert e.path == "$.status"


def test_strict_scalars_are_not_coerced() -> None:
    e = _invalid({"id": "acme", "name": "ACME", "version": "1"}, Company)
    assert e.path == "$.version"
    e = _invalid({"id": 42, "name": "ACME"}, Company)
    assert e.path == "$.id"


def test_extra_keys_are_rejected() -> None:
    e = _invalid(_user_json(role="admin"), CompanyUser)
    assert e.path == "$"
    assert "unexpected keys ['role']" in str(e)


def test_several_type_problems_are_all_listed() -> None:
    e = _invalid({"id": 1, "name": 2, "version": "x"}, Company)
    assert e.path in {"$.id", "$.name", "$.version"}
    message = str(e)
    for fragment in ("$.id: expected str", "$.name: expected str", "$.version: expected int"):
        assert fragment in message


def test_first_failing_validator_is_reported() -> None:
    # attrs validators stop at the first bad field, so only that one is named.
    e = _invalid({"id": " bad", "name": " ", "country": "de"}, Company)
    assert e.path == "$.id"


def test_naive_datetime_string_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        loads('"2026-01-01T00:00:00"', datetime)
    assert info.value.path == "$"
    assert "naive" in info.value.reason


def test_naive_datetime_inside_a_model_names_the_field() -> None:
    data = json.loads(dumps(AuditEntry(
        company_id=ACME, at=AT, acted_by="u-1", on_behalf_of="u-1",
        action="order.place", target="order:o-1", outcome=Outcome.ALLOWED,
    )))  # fmt: skip
    data["at"] = "2026-05-04T09:30:00"
    e = _invalid(data, AuditEntry)
    assert e.path == "$.at"


def test_garbled_datetime_string_is_rejected() -> None:
    e = _invalid("yesterday at noon", datetime)
    assert e.path == "$"


@pytest.mark.parametrize("text", ['{"id": "acme", ', "", "nope", "{'id': 'acme'}"])
def test_malformed_json_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        loads(text, Company)
    assert info.value.path == "$"
    assert "not valid JSON" in info.value.reason


@pytest.mark.parametrize("data", [None, [], "acme", 42])
def test_non_object_for_a_model_is_a_validation_error(data: object) -> None:
    e = _invalid(data, Company)
    assert e.path == "$"


# -- events -----------------------------------------------------------------------------

EVENTS: list[DomainEvent] = [
    CompanyCreated(company_id=ACME, occurred_at=AT, name="ACME"),
    BusinessUnitAdded(
        company_id=ACME,
        occurred_at=AT,
        business_unit_id=BusinessUnitId("plant"),
        parent_id=BusinessUnitId("hq"),
    ),
    BusinessUnitAdded(
        company_id=ACME, occurred_at=AT, business_unit_id=BusinessUnitId("hq"), parent_id=None
    ),
    BusinessUnitMoved(
        company_id=ACME,
        occurred_at=AT,
        business_unit_id=BusinessUnitId("plant"),
        old_parent_id=BusinessUnitId("hq"),
        new_parent_id=None,
    ),
    UserInvited(
        company_id=ACME,
        occurred_at=datetime(2026, 5, 4, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        user_id=UserId("u-ana"),
        email="ana@acme.example",
    ),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_event_record_round_trip(event: DomainEvent) -> None:
    record = event_to_record(event)
    assert record.event_type == type(event).event_type
    assert record.company_id == event.company_id
    assert record.occurred_at == event.occurred_at
    assert record.status is OutboxStatus.PENDING
    assert record.attempts == 0
    assert record.payload["event_id"] == event.event_id
    back = event_from_record(record)
    assert type(back) is type(event)
    assert back == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_event_survives_the_outbox_as_json(event: DomainEvent) -> None:
    record = loads(dumps(event_to_record(event)), OutboxRecord)
    assert event_from_record(record) == event


def test_event_records_get_distinct_ids() -> None:
    assert event_to_record(EVENTS[0]).id != event_to_record(EVENTS[0]).id


def test_unknown_event_type_is_a_validation_error() -> None:
    record = event_to_record(EVENTS[0])
    record.event_type = "nobody.knows"
    with pytest.raises(ValidationError) as info:
        event_from_record(record)
    assert info.value.path == "event_type"
    assert info.value.value == "nobody.knows"


def test_corrupt_event_payload_names_the_field() -> None:
    record = event_to_record(EVENTS[0])
    record.payload["occurred_at"] = "2026-05-04T09:30:00"
    with pytest.raises(ValidationError) as info:
        event_from_record(record)
    assert info.value.path == "$.occurred_at"


_ANY_TEXT = st.text(st.characters(exclude_categories=()))
#: JSON-shaped data as the converter makes it (no floats: money and quantities are
#: strings), with integers past 64 bits and any text, surrogates included.
_JSON_SHAPED = st.recursive(
    st.none() | st.booleans() | st.integers() | _ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _json_dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@given(_JSON_SHAPED)
def test_json_text_writes_what_json_dumps_writes(data: object) -> None:
    assert json_text(data) == _json_dumps(data)
    assert json.loads(json_text(data)) == data


@given(_JSON_SHAPED)
def test_json_text_without_orjson_is_the_json_module(data: object) -> None:
    expected = _json_dumps(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_json, "orjson", None)
        assert json_text(data) == expected


def test_json_text_falls_back_where_orjson_cannot_write() -> None:
    # Past 64 bits, a non-string key: orjson refuses, the json module writes them.
    assert json_text({"n": 2**70}) == '{"n":1180591620717411303424}'
    assert json_text({1: "a"}) == '{"1":"a"}'


class _Opaque:
    """Something the converter hands back as it is, and JSON cannot hold."""


#: What neither the converter nor JSON can write.
_NOT_JSON = st.one_of(
    st.builds(_Opaque),
    st.binary(),
    st.complex_numbers(allow_nan=False),
)


@given(st.recursive(_NOT_JSON, lambda inner: st.lists(inner, min_size=1, max_size=3), max_leaves=5))
def test_dumps_of_what_json_cannot_hold_is_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationError, match="cannot be written as JSON") as info:
        dumps(value)
    assert info.value.path == "$"


@pytest.mark.parametrize("with_orjson", [True, False])
@given(value=_NOT_JSON | st.datetimes(timezones=st.just(UTC)))  # raw: not the converter's
def test_json_text_refuses_what_the_json_module_refuses(with_orjson: bool, value: object) -> None:
    with pytest.MonkeyPatch.context() as mp:
        if not with_orjson:
            mp.setattr(_json, "orjson", None)
        with pytest.raises(TypeError):
            json_text({"x": value})
