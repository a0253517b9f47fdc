"""The demo's approvals section: an order over a buying limit needs two approvers,
one of whom approves by delegation; what Ben saw before submitting is printed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from b2bcore.cli import main


def test_demo_approves_an_order_over_the_limit_with_a_delegate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db), "--locale", "de_DE"]) == 0
    out = capsys.readouterr().out
    section = out.split("Approval of Ben's cart of 7 PUMP-200")[1]
    lines = section.strip().splitlines()
    assert lines[0] == "(7.657,30\xa0€; Ben may buy up to 5,000 EUR):"
    assert lines[1] == "  Orders over 5,000 EUR: total > 5000 EUR: total is 7657.30 EUR -> true"
    assert lines[2] == (
        "  tier 1 Plant approval (role approver): Clara Nguyen; Dev Patel; Ana Weber for u-dev"
    )
    assert lines[3] == "  tier 2 Plant manager (user u-dev): Dev Patel; Ana Weber for u-dev"
    assert lines[4].endswith("u-clara approved: needed for line 3")
    assert lines[5].endswith("u-ana for u-dev (delegated) approved")
    assert lines[6] == "  approved after 1 h 15 min, 1 h 15 min of business hours"
    assert "u-ana for u-dev       approval.approve         allowed" in out
    conn = sqlite3.connect(db)
    flows = conn.execute("SELECT id, status FROM approval_flows").fetchall()
    policies = conn.execute("SELECT count(*) FROM approval_policies").fetchone()[0]
    conn.close()
    assert (flows, policies) == ([("approval-ben-pumps", "approved")], 1)
