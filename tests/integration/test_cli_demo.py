"""The command line: ``b2bcore demo`` end to end on SQLite (and PostgreSQL when
``B2BCORE_POSTGRES_DSN`` is set), the client dashboard's figures checked against the
story, and ``--help``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from b2bcore.accounts import Actor
from b2bcore.cli import main, run_demo_on
from b2bcore.clock import FixedClock
from b2bcore.documents import FileSystemBlobStore
from b2bcore.insights import Period, client_dashboard, spend_report
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore


def test_demo_runs_end_to_end_and_stores_what_it_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db), "--locale", "de_DE"]) == 0
    out = capsys.readouterr().out
    assert "ACME Industrial GmbH (acme, DE)" in out
    assert "- Plant Leipzig (leipzig)  [cost center CC-4711]" in out
    assert out.index("Headquarters") < out.index("Plant Leipzig") < out.index("Maintenance")
    assert "ben.okafor@acme.example" in out
    assert "roles: buyer-5k" in out
    assert "Refused: user 'u-ben' may not hold both 'buyer-5k' and 'approver'" in out
    assert "buy 3.200,00\xa0€? yes" in out  # de_DE money
    assert "buy 7.500,00\xa0€? no" in out
    assert "can never approve" in out
    assert "23.11.26, 09:00" in out  # de_DE short date, Europe/Berlin
    assert "agent-sam for u-ben   assisted_session.start   allowed  (assisted session)" in out
    assert "role.grant               failed" in out
    conn = sqlite3.connect(db)
    units = conn.execute("SELECT count(*) FROM business_units").fetchone()[0]
    users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    sessions = conn.execute("SELECT count(*) FROM assisted_sessions").fetchone()[0]
    pending = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    agent_lines = conn.execute(
        "SELECT count(*) FROM audit WHERE acted_by = 'agent-sam'"
    ).fetchone()[0]
    conn.close()
    # ACME's four units and Globex's root; ACME's four users (Dev approves in the
    # approvals chapter) and Globex's admin; Sam's two sessions (the explanation, the
    # reorder) and his six audited acts.
    assert (units, users, sessions, pending, agent_lines) == (5, 5, 2, 0, 6)
    assert "PUMP-200 x 3 for acme in EUR: 1093.90 EUR from acme-2026/pumps-12.5" in out
    assert "PUMP-200 x 3 for globex in EUR: 1180.00 EUR from globex-2026/pump-fixed" in out
    acme_block = out.split("for acme in EUR")[1].split("for globex in EUR")[0]
    assert "globex" not in acme_block.replace("for globex", "")


def test_demo_output_is_deterministic_apart_from_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for name in ("one", "two"):
        assert main(["demo", "--db", str(tmp_path / f"{name}.sqlite")]) == 0
        outputs.append(capsys.readouterr().out.split("\n", 1)[1])
    assert outputs[0] == outputs[1]


def test_demo_on_an_existing_database_reports_the_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["demo", "--db", str(db)]) == 1
    assert "error [conflict.duplicate]" in capsys.readouterr().err


def test_python_dash_m_help_and_default_temp_db() -> None:
    helped = subprocess.run(
        [sys.executable, "-m", "b2bcore", "--help"], capture_output=True, text=True, check=False
    )
    assert helped.returncode == 0
    assert "demo" in helped.stdout
    ran = subprocess.run(
        [sys.executable, "-m", "b2bcore", "demo"], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert "b2bcore-demo-" in ran.stdout.splitlines()[0]


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: b2bcore" in capsys.readouterr().out


# -- the dashboard's figures against the story (SQLite; PostgreSQL with a DSN) ---------
DSN = os.environ.get("B2BCORE_POSTGRES_DSN", "")
STORY_END = datetime(2026, 12, 2, 10, 5, tzinfo=UTC)  # after Ben's second pump order


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.skipif(not DSN, reason="B2BCORE_POSTGRES_DSN is not set"),
                pytest.mark.postgres,
            ],
        ),
    ]
)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    if request.param == "sqlite":
        db = tmp_path / "demo.sqlite"
        yield lambda: SQLiteStore(db)
        return
    from b2bcore.storage.postgres import PostgresStore

    schema = f"b2b_demo_{uuid.uuid4().hex[:16]}"
    yield lambda: PostgresStore(DSN, schema=schema)
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_dashboard_adds_up_to_the_story(
    open_store: Callable[[], Store], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    assert run_demo_on(open_store, where="test", blobs=blobs, locale="de_DE") == 0
    out = capsys.readouterr().out
    with closing(open_store()) as store:
        portal = Portal(store, clock=FixedClock(STORY_END))
        ben = Actor.user("acme", "u-ben")
        board = client_dashboard(portal, ben, tz="Europe/Berlin")
        clara = client_dashboard(portal, Actor.user("acme", "u-clara"), tz="Europe/Berlin")
        gia = client_dashboard(portal, Actor.user("globex", "u-gia"), tz="Europe/Berlin")
        ana = Actor.user("acme", "u-ana")
        report = spend_report(portal, ana, Period.month(2026, 11, tz="Europe/Berlin"), "sku")

    def eur(amount: str) -> Money:
        return Money(amount, "EUR")

    # Open orders: PO-118 partly shipped (delivered at Dresden), the four approved
    # pumps and the agent's reorder placed, three pumps waiting for approval.
    assert [(o.po_number, o.status.value, o.total) for o in board.orders.orders] == [
        ("PO-2026-141", "pending_approval", eur("3281.70")),
        ("PO-2026-140", "placed", eur("1210.50")),
        ("PO-2026-131", "placed", eur("4375.60")),
        ("PO-2026-118", "partially_shipped", eur("1212.50")),
    ]
    tracking = board.orders.orders[-1].tracking
    assert tracking is not None
    assert (tracking.carrier, tracking.status.value, tracking.location) == (
        "DHL",
        "delivered",
        "Dresden",
    )
    # One invoice, for the shipped part of PO-118, due 23 December: open, not overdue.
    assert board.invoices.outstanding == (eur("1130.70"),)
    assert (len(board.invoices.open), board.invoices.overdue, board.invoices.overdue_count) == (
        1,
        (),
        0,
    )
    # The warranty claim: repair done on 26 November, still in progress: SLA breached.
    assert [(c.title, c.sla.value, c.eta) for c in board.claims.open] == [
        ("PX-200 rattles under load", "breached", None)
    ]
    # Upcoming: only the annual maintenance after the clock change (06:00 UTC).
    assert [(a.title, a.start) for a in board.appointments] == [
        ("PX-200 annual maintenance", datetime(2027, 3, 29, 6, 0, tzinfo=UTC))
    ]
    # The older pump's warranty ends on 31 January 2027, 60 days after 2 December.
    assert [(w.serial_number, w.days_left) for w in board.warranties] == [("PX200-0017", 60)]
    # Ben's second pump order waits on the plant approvers; Clara may decide it.
    assert [(a.total, a.tier_name) for a in board.approvals.mine_waiting] == [
        (eur("3281.70"), "Plant approval")
    ]
    assert board.approvals.waiting_on_me == ()
    assert [a.total for a in clara.approvals.waiting_on_me] == [eur("3281.70")]
    # Spend: December the agent's reorder (the pending order does not count yet);
    # November PO-118 and the approved pumps.
    (spend,) = board.spend
    assert (spend.this_month, spend.last_month) == (eur("1210.50"), eur("5588.10"))
    assert {s.sku for s in board.suggestions.bought_together} == {"SEAL-7", "HOSE-2"}
    # Tenant scoping: Globex sees its own two orders and nothing of ACME's.
    assert gia.orders.count == 2
    assert all(o.po_number == "" for o in gia.orders.orders)
    assert gia.warranties == ()
    assert gia.claims.open == ()
    # Ana's November spend by SKU: 1 + 4 pumps, 4 seals, 1 hose.
    assert [(r.key, r.amount, r.quantity) for r in report.rows] == [
        ("HOSE-2", eur("45.00"), Decimal(1)),
        ("PUMP-200", eur("5469.50"), Decimal(5)),
        ("SEAL-7", eur("73.60"), Decimal(4)),
    ]
    assert report.totals == (eur("5588.10"),)
    assert report.approval_cycle_times is not None
    assert report.approval_cycle_times.median == timedelta(hours=1, minutes=15)
    # The printed dashboard says the same, in de_DE.
    board_text = out.split("Ben's dashboard")[1]
    assert "Open orders: 4 (1 pending_approval, 2 placed, 1 partially_shipped)" in board_text
    assert "outstanding 1.130,70\xa0€" in board_text
    assert "PX200-0017" in board_text
    assert "60" in board_text
    assert "EUR       1.210,50\xa0€  5.588,10\xa0€" in board_text
