"""The demo's orders section: Ben's order placed, shipped in part, tracked, invoiced,
and reordered after a price change — read back from the SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from b2bcore.cli import main


def test_demo_follows_an_order_from_cart_to_reorder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db), "--locale", "de_DE"]) == 0
    out = capsys.readouterr().out
    section = out.split("Ben's order PO-2026-118:")[1].split("\n\n")[0]  # to the next section
    head, *lines = section.strip().splitlines()
    assert head == "1.212,50\xa0€, partially shipped"  # 1093.90 + 4 x 18.40 + 45.00
    texts = [line.split(maxsplit=2)[2] for line in lines[:6]]
    assert texts == [
        "order placed",
        "order confirmed",
        "shipment S1 handed to DHL (JD014600003)",
        "order partially shipped",
        "shipment S1 in transit at Leipzig",
        "shipment S1 delivered at Dresden",
    ]
    assert "still to come: PUMP-200 0 of 1, SEAL-7 2 of 4, HOSE-2 1 of 1" in section
    assert "invoice 1.130,70\xa0€, net 30, due 2026-12-23" in section  # 1093.90 + 2 x 18.40
    agent = out.split("Agent Sam, in an assisted session for Ben, reorders PO-2026-118")[1]
    head, *report = [r.strip() for r in agent.split("\n\n")[0].splitlines()]
    assert head == "(02.12.26, 09:00):"
    assert report == [
        "PUMP-200 x 1: unchanged at 1093.90 EUR",
        "SEAL-7 x 4: price changed 18.40 EUR -> 17.90 EUR",
        "HOSE-2 x 1: unchanged at 45.00 EUR",
        # 1093.90 + 4 x 17.90 + 45.00, placed by the agent for Ben
        "order PO-2026-140: 1.210,50\xa0€, placed, by agent-sam for u-ben (assisted session)",
    ]
    conn = sqlite3.connect(db)
    counts = [
        conn.execute(f"SELECT count(*) FROM {table} WHERE company_id = 'acme'").fetchone()[0]
        for table in ("orders", "shipments", "invoices", "carts")
    ]
    reserved = conn.execute(
        "SELECT count(*) FROM reservations WHERE status = 'active' AND reference = ?",
        (
            conn.execute(
                "SELECT id FROM orders WHERE json_extract(doc, '$.po_number') = 'PO-2026-118'"
            ).fetchone()[0],
        ),
    ).fetchone()
    conn.close()
    # ACME: PO-118, the four approved pumps, the agent's reorder, three pumps waiting
    # for approval; one cart each.
    assert counts == [4, 1, 1, 4]
    assert reserved[0] == 3  # partly shipped: the stock stays reserved until all of it ships
