"""The demo's claims chapter: a warranty claim on an installed asset with a photo, an
information request, the approval and the repair appointment, read back from SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from b2bcore.cli import main


def test_the_demo_files_a_warranty_claim_through_to_the_repair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db), "--locale", "de_DE"]) == 0
    out = capsys.readouterr().out.split('Warranty claim "PX-200 rattles under load"')[1]
    out = out.split("\n\n")[0]  # to the next chapter
    assert out.startswith(" (high): resolution in progress")
    assert "warranty: asset PX200-0042: warranty until 2028-09-14" in out
    moves = [line.split(None, 3)[2:] for line in out.splitlines() if " -> " in line]
    assert moves == [
        ["customer", "draft -> submitted"],
        ["agent", "submitted -> in_review"],
        ["agent", "in_review -> info_requested"],
        ["customer", "info_requested -> in_review"],
        ["agent", "in_review -> approved"],
        ["agent", "approved -> resolution_in_progress"],
    ]
    assert "agent     says: Does it rattle under load only" in out
    assert "evidence: px200-bearing.png (image/png)" in out
    assert "repair: confirmed 26.11.26, 13:00 with tech-lena" in out
    # Read back on 2 December, past the resolution target: the service clock says so.
    assert "service clock: overdue; we are on it" in out
    conn = sqlite3.connect(db)
    counts = [
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("assets", "claims", "claim_messages", "documents")
    ]
    linked = conn.execute("SELECT count(*) FROM bookings WHERE claim_id IS NOT NULL").fetchone()
    conn.close()
    assert counts == [2, 1, 2, 1]  # the claimed pump and the older one in hall 1
    assert linked == (1,)  # the repair; the service and the annual maintenance are not
    blobs = [p for p in db.with_name(db.name + ".blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
