"""Every benchmark script runs with ``--smoke`` and prints the agreed JSON shape.

No timing is asserted: this only keeps the scripts from rotting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p for p in BENCH_DIR.glob("*.py") if not p.name.startswith("_"))
OPS = {"<=", "<", ">=", ">", "=="}


def test_there_are_benchmarks() -> None:
    assert BENCH_DIR.is_dir()
    assert any(p.name == "money.py" for p in SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_bench_smoke_run_prints_one_json_object(script: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=BENCH_DIR.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    assert {"benchmark", "params", "figures", "targets"} <= report.keys()
    assert report["benchmark"] == script.stem
    assert isinstance(report["params"], dict)
    assert isinstance(report["figures"], dict)
    assert report["figures"]
    assert isinstance(report["targets"], list)
    for target in report["targets"]:
        assert {"name", "value", "op", "limit"} <= target.keys(), target
        assert isinstance(target["name"], str)
        assert target["name"]
        assert isinstance(target["value"], int | float)
        assert isinstance(target["limit"], int | float)
        assert target["op"] in OPS
