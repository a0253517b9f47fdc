"""The demo's catalog section: a machine model's spare parts and accessories for one
buyer — only their assortment, at their prices, each with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2bcore.cli import main


def test_demo_shows_spare_parts_and_accessories_of_the_assortment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "demo.sqlite"), "--locale", "de_DE"]) == 0
    out = capsys.readouterr().out
    section = out.split("Spare parts and accessories for Ben's PX-200")[1].split("\n\n")[0]
    lines = [line.split() for line in section.strip().splitlines()[1:]]
    assert [(words[0], words[2] if words[1] == "part" else words[1]) for words in lines] == [
        ("spare", "SEAL-7"),
        ("spare", "PUMP-200"),
        ("accessory", "HOSE-2"),
    ]
    assert "SEAL-6 is discontinued, SEAL-7 replaces it" in section
    assert "1.093,90\xa0€" in section  # ACME's contract price for pumps, not the list price
    assert "by rule spares-by-model" in section
    for absent in ("GAUGE-1", "SEAL-4", "globex"):  # excluded; other model; other buyer
        assert absent not in section
    assert "0 failed" in out
