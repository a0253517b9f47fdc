"""The command line: ``b2bcore demo`` end to end on SQLite, and ``--help``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from b2bcore.cli import main


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
    # approvals chapter) and Globex's admin.
    assert (units, users, sessions, pending, agent_lines) == (5, 5, 1, 0, 2)
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
