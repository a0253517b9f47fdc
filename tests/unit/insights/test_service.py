"""The insights service: bad input is a specific error and writes nothing; the CSV
export; sections hidden from actors without the view permission."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError, NotFoundError, PermissionDeniedError, ValidationError
from b2bcore.insights import GroupBy, Period, Section, client_dashboard, spend_report
from b2bcore.insights.service import CSV_HEADER, to_csv
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from tests.unit.orders.conftest import NOW, build_world

BEN = Actor.user("acme", "ben")


@pytest.fixture(scope="module")
def portal() -> Portal:
    clock = FixedClock(NOW)
    p = Portal(MemoryStore(), clock=clock)
    build_world(p)
    for uid in ("ben", "clara"):
        actor = Actor.user("acme", uid)
        cart = p.orders.create_cart(actor, currency="EUR")
        p.orders.add_to_cart(actor, cart.id, "SEAL-7", 4)
        p.orders.add_to_cart(actor, cart.id, "PUMP-1", 1)
        p.orders.checkout(actor, cart.id)
    return p


def _audit_size(portal: Portal) -> int:
    ana = Actor.user("acme", "ana")
    return len(portal.accounts.audit_trail(ana, limit=1000).items)


def test_ana_sees_the_company_and_the_report_groups_exactly(portal: Portal) -> None:
    ana = Actor.user("acme", "ana")
    board = client_dashboard(portal, ana)
    assert board.orders.count == 2
    assert [(s.this_month, s.last_month) for s in board.spend] == [
        (Money("2397.20", "EUR"), Money("0", "EUR"))  # 2 x (4 x 18.40 + 1125.00)
    ]
    report = spend_report(portal, ana, Period.month(2026, 6), GroupBy.CATEGORY)
    assert [(r.key, r.amount, r.orders, r.lines) for r in report.rows] == [
        ("pumps", Money("2250.00", "EUR"), 2, 2),
        ("seals", Money("147.20", "EUR"), 2, 2),
    ]
    assert report.totals == (sum((r.amount for r in report.rows), Money.zero("EUR")),)
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert tuple(rows[0]) == CSV_HEADER
    assert [r[3] for r in rows[1:]] == ["pumps", "seals"]
    assert [r[5] for r in rows[1:]] == [str(r.amount.amount) for r in report.rows]


def test_dora_sees_her_own_orders_only_and_ben_not_claras(portal: Portal) -> None:
    dora = client_dashboard(portal, Actor.user("acme", "dora"))
    assert dora.orders.count == 0
    ben = client_dashboard(portal, BEN)
    assert {o.requester_id for o in ben.orders.orders} == {"ben"}


def test_an_operator_sees_every_section(portal: Portal) -> None:
    board = client_dashboard(portal, Actor.operator_for("acme", "op-olga"))
    assert Section.ORDERS not in board.hidden
    assert board.orders.count == 2


def test_a_stranger_is_refused(portal: Portal) -> None:
    with pytest.raises(PermissionDeniedError):
        client_dashboard(portal, Actor.user("acme", "nobody"))
    with pytest.raises(NotFoundError):
        client_dashboard(portal, Actor.user("no-such-company", "x"))


bad_calls = st.sampled_from(
    [
        lambda p: p.insights.client_dashboard("ben"),
        lambda p: p.insights.client_dashboard(BEN, datetime(2026, 6, 1)),  # noqa: DTZ001
        lambda p: p.insights.client_dashboard(BEN, tz="Mars/Olympus"),
        lambda p: p.insights.client_dashboard(BEN, limit=0),
        lambda p: p.insights.spend_report(BEN, "2026-06"),
        lambda p: p.insights.spend_report(BEN, Period.month(2026, 6), "colour"),
        lambda p: p.insights.spend_report(BEN, Period.month(2026, 6), tz="nowhere"),
        lambda p: to_csv("not a report"),  # type: ignore[arg-type]
    ]
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad_calls)
def test_bad_input_is_a_validation_error_and_writes_nothing(portal: Portal, call: object) -> None:
    before = _audit_size(portal)
    with pytest.raises(ValidationError) as e:
        call(portal)  # type: ignore[operator]
    assert isinstance(e.value, B2BCoreError)
    assert e.value.path
    assert _audit_size(portal) == before
