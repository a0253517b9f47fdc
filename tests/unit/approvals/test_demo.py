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
    section = out.split("Approval of Ben's order of 4 PUMP-200")[1]
    lines = section.strip().splitlines()
    assert lines[0] == "(4.375,60\xa0€; over the 2,500 EUR approval limit):"
    assert lines[1] == "  Orders over 2,500 EUR: total > 2500 EUR: total is 4375.60 EUR -> true"
    assert lines[2] == (
        "  tier 1 Plant approval (role approver): Clara Nguyen; Dev Patel; Ana Weber for u-dev"
    )
    assert lines[3] == "  tier 2 Plant manager (user u-dev): Dev Patel; Ana Weber for u-dev"
    assert lines[4].endswith("u-clara approved: needed for line 3")
    assert lines[5].endswith("u-ana for u-dev (delegated) approved")
    assert lines[6] == "  approved after 1 h 15 min, 1 h 15 min of business hours"
    assert lines[7] == "  order PO-2026-131: placed (was pending_approval)"  # by the outbox
    assert "u-ana for u-dev       approval.approve         allowed" in out
    conn = sqlite3.connect(db)
    flows = conn.execute("SELECT status FROM approval_flows ORDER BY status").fetchall()
    policies = conn.execute("SELECT count(*) FROM approval_policies").fetchone()[0]
    conn.close()
    # The four pumps approved; the three Ben orders on 2 December still wait.
    assert (flows, policies) == ([("approved",), ("pending",)], 1)
