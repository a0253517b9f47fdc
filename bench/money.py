"""Benchmark: b2bcore Money against py-moneyed and Saleor's ``prices``, side by side.

Measures nanoseconds per operation for

* ``add``: ``a + b`` of two amounts in one currency;
* ``mul_round``: multiply by a Decimal, then round to minor units half-up;
* ``allocate``: split 100.00 into 3 equal parts so the parts sum exactly.

Each operation is timed with :mod:`timeit` (statement strings, so no extra call
layer is measured), best of several repeats. Prints one JSON object::

    python bench/money.py           # full run (~10-30 s)
    python bench/money.py --smoke   # a handful of iterations, same JSON shape
"""

from __future__ import annotations

import argparse
import decimal
import json
import platform
import sys
import timeit
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import version
from typing import Any

from moneyed import Money as MoneyedMoney
from prices import Money as PricesMoney

from b2bcore.money import Money, RoundingMode, RoundingPolicy, allocate

CURRENCY = "EUR"
DIGITS = 2  # EUR minor units; fixed up front for the peers (the cheapest way for them)
A, B = "19.99", "5.01"
FACTOR = Decimal("1.19")
TOTAL = "100.00"
WEIGHTS = (1, 1, 1)
OPS = ("add", "mul_round", "allocate")
LIBS = ("b2bcore", "py_moneyed", "prices")
TARGET_ADD_VS_PY_MONEYED = 0.8

# Loop counts per repeat for the full run; --smoke uses SMOKE_NUMBER for all.
FULL_NUMBER = {"add": 200_000, "mul_round": 100_000, "allocate": 20_000}
FULL_REPEAT = 7
SMOKE_NUMBER = 20
SMOKE_REPEAT = 1

HALF_UP = RoundingPolicy(RoundingMode.HALF_UP)


def largest_remainder(units: int, weights: Sequence[int]) -> list[int]:
    """Split ``units`` (an int of minor units) by int ``weights``; parts sum to ``units``.

    The same largest-remainder rule as :func:`b2bcore.money.allocate` (earlier parts
    first on ties), for the peers that have no allocation of their own.
    """
    total = sum(weights)
    sign = -1 if units < 0 else 1
    units = abs(units)
    floors: list[int] = []
    remainders: list[tuple[int, int]] = []
    for i, w in enumerate(weights):
        q, r = divmod(units * w, total)
        floors.append(q)
        remainders.append((-r, i))
    for _, i in sorted(remainders)[: units - sum(floors)]:
        floors[i] += 1
    return [sign * f for f in floors]


def moneyed_allocate(amount: Any, weights: Sequence[int], digits: int) -> list[Any]:
    """Largest-remainder allocation built on py-moneyed's Money (it has none)."""
    units = int(amount.amount.scaleb(digits))
    return [
        MoneyedMoney(Decimal(f).scaleb(-digits), amount.currency)
        for f in largest_remainder(units, weights)
    ]


def prices_allocate(amount: Any, weights: Sequence[int], digits: int) -> list[Any]:
    """Largest-remainder allocation built on prices' Money (it has none)."""
    units = int(amount.amount.scaleb(digits))
    return [
        PricesMoney(Decimal(f).scaleb(-digits), amount.currency)
        for f in largest_remainder(units, weights)
    ]


def _namespaces() -> dict[str, dict[str, Any]]:
    """Operands and callables per library, as timeit globals."""
    b2b_a, b2b_b, b2b_total = Money(A, CURRENCY), Money(B, CURRENCY), Money(TOTAL, CURRENCY)
    m_a, m_b = MoneyedMoney(A, CURRENCY), MoneyedMoney(B, CURRENCY)
    m_total = MoneyedMoney(TOTAL, CURRENCY)
    p_a, p_b = PricesMoney(Decimal(A), CURRENCY), PricesMoney(Decimal(B), CURRENCY)
    p_total = PricesMoney(Decimal(TOTAL), CURRENCY)
    weights = list(WEIGHTS)
    return {
        "b2bcore": {
            "a": b2b_a,
            "b": b2b_b,
            "k": FACTOR,
            "total": b2b_total,
            "w": weights,
            "policy": HALF_UP,
            "allocate": allocate,
        },
        "py_moneyed": {
            "a": m_a,
            "b": m_b,
            "k": FACTOR,
            "total": m_total,
            "w": weights,
            "digits": DIGITS,
            "allocate": moneyed_allocate,
        },
        "prices": {
            "a": p_a,
            "b": p_b,
            "k": FACTOR,
            "total": p_total,
            "w": weights,
            "digits": DIGITS,
            "allocate": prices_allocate,
            "ROUND_HALF_UP": ROUND_HALF_UP,
        },
    }


#: The statement timed per library and operation.
STATEMENTS: dict[str, dict[str, str]] = {
    "b2bcore": {
        "add": "a + b",
        "mul_round": "(a * k).round(policy)",
        "allocate": "allocate(total, w)",
    },
    "py_moneyed": {
        "add": "a + b",
        "mul_round": "(a * k).round(2)",
        "allocate": "allocate(total, w, digits)",
    },
    "prices": {
        "add": "a + b",
        "mul_round": "(a * k).quantize(rounding=ROUND_HALF_UP)",
        "allocate": "allocate(total, w, digits)",
    },
}


def _results(ns: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Run every statement once and return the amounts, to check the libraries agree."""
    out: dict[str, dict[str, list[str]]] = {}
    for lib, stmts in STATEMENTS.items():
        out[lib] = {}
        with decimal.localcontext(rounding=ROUND_HALF_UP):
            for op, stmt in stmts.items():
                value = eval(stmt, dict(ns[lib]))  # noqa: S307 -- our own constant statements
                values = value if isinstance(value, list) else [value]
                out[lib][op] = [str(v.amount) for v in values]
    return out


def _check_agreement(results: dict[str, dict[str, list[str]]]) -> None:
    for op in OPS:
        reference = [Decimal(x) for x in results["b2bcore"][op]]
        for lib in LIBS[1:]:
            got = [Decimal(x) for x in results[lib][op]]
            if got != reference:
                sys.exit(f"bench/money.py: {lib} {op} gave {got}, b2bcore gave {reference}")


def _best_ns(timer: timeit.Timer, number: int, repeat: int) -> float:
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def _measure(lib: str, op: str, ns: dict[str, Any], number: int, repeat: int) -> float:
    timer = timeit.Timer(STATEMENTS[lib][op], globals=ns)
    if lib == "py_moneyed":
        # py-moneyed rounds with the thread's decimal context: set it half-up once.
        with decimal.localcontext(rounding=ROUND_HALF_UP):
            return _best_ns(timer, number, repeat)
    return _best_ns(timer, number, repeat)


def run(*, smoke: bool) -> dict[str, Any]:
    ns = _namespaces()
    _check_agreement(_results(ns))
    repeat = SMOKE_REPEAT if smoke else FULL_REPEAT
    figures: dict[str, dict[str, float]] = {}
    for lib in LIBS:
        figures[lib] = {}
        for op in OPS:
            number = SMOKE_NUMBER if smoke else FULL_NUMBER[op]
            figures[lib][f"{op}_ns"] = round(_measure(lib, op, ns[lib], number, repeat), 1)
    ratios = {
        f"{op}_vs_{peer}": round(figures["b2bcore"][f"{op}_ns"] / figures[peer][f"{op}_ns"], 3)
        for op in OPS
        for peer in LIBS[1:]
    }
    return {
        "benchmark": "money",
        "params": {
            "smoke": smoke,
            "currency": CURRENCY,
            "add": f"{A} + {B}",
            "mul_round": f"{A} * {FACTOR}, rounded to {DIGITS} decimals half-up",
            "allocate": f"{TOTAL} by weights {list(WEIGHTS)}",
            "number": {op: SMOKE_NUMBER if smoke else FULL_NUMBER[op] for op in OPS},
            "repeat": repeat,
            "statistic": "best of repeats, ns per operation",
            "peers": {
                "py_moneyed": (
                    "Money.round(2) under a decimal.localcontext(rounding=ROUND_HALF_UP) "
                    "entered once around the timing loop (moneyed rounds with the context); "
                    "no allocate in py-moneyed, so a largest-remainder split on its Money "
                    "(int weights, no validation) is timed"
                ),
                "prices": (
                    "Money.quantize(rounding=ROUND_HALF_UP) (looks up babel's precision "
                    "per call); no allocate in prices, so the same largest-remainder split "
                    "on its Money is timed"
                ),
                "b2bcore": "Money.round(RoundingPolicy(HALF_UP)); allocate() validates weights",
            },
            "versions": {
                "python": platform.python_version(),
                "py-moneyed": version("py-moneyed"),
                "prices": version("prices"),
            },
        },
        "figures": {**figures, "ratios": ratios},
        "targets": [
            {
                "name": "add_vs_py_moneyed",
                "value": ratios["add_vs_py_moneyed"],
                "op": "<=",
                "limit": TARGET_ADD_VS_PY_MONEYED,
            }
        ],
    }


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--smoke", action="store_true", help="run a tiny number of iterations (for tests)"
    )
    args = parser.parse_args(argv)
    out(json.dumps(run(smoke=args.smoke)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
