"""Benchmark: the basket model against efficient-apriori on the same order history.

A seeded history of 100 000 orders, each of 1 to 9 distinct SKUs drawn from 10 000
products with a Zipf-like popularity (weight 1/rank), is counted two ways in the same
process:

* ``build_s``: :meth:`b2bcore.catalog.recommendations.BasketModel.from_history` over
  the orders (item and pair counts for every SKU; no threshold is involved, since
  thresholds are applied when asking), the best of ``repeat`` runs;
* ``apriori_s``: ``efficient_apriori.apriori(transactions, min_support,
  min_confidence, max_length=2)`` over the same baskets, one run (it finds the
  frequent items and pairs for that support, then the rules for that confidence);
* ``rules_s``: enumerating every pair rule from our model with
  :func:`~b2bcore.catalog.recommendations.association_rules` at the same thresholds,
  so ``build_and_rules_vs_apriori`` compares the same output;
* ``rules_identical``: both found exactly the same 1 → 1 rules, with support,
  confidence and lift equal within 1e-9 (``max_abs_difference``);
* ``query_us``: microseconds per :func:`frequently_bought_together` call (limit 10,
  the same thresholds) for SKUs drawn by popularity, as shoppers would view them;
  ``query_us_filtered`` with an assortment filter that refuses one SKU in five;
  ``query_us_top_sku`` for the most popular SKU (the longest row);
* ``add_order_us``: microseconds per :meth:`BasketModel.add_order` for the last 10%
  of the orders added one by one to a model of the rest.

Apriori's cost grows as the minimum support falls (more frequent items, more
candidate pairs), while the model's does not, so the run repeats both at ten times
the minimum support (``*_10x_support``) to show where the two meet. Timings are CPU
time of this process (:func:`time.process_time`).

    python bench/recommendations.py           # full size (about half a minute)
    python bench/recommendations.py --smoke   # tiny size, same JSON shape, seconds
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from importlib.metadata import version
from itertools import accumulate
from typing import Any

from efficient_apriori import apriori

from b2bcore.catalog.recommendations import (
    BasketModel,
    HistoricOrder,
    association_rules,
    frequently_bought_together,
)
from b2bcore.ids import CompanyId, OrderId, Sku

SEED = 20260505
START = datetime(2025, 1, 1, tzinfo=UTC)

FULL: dict[str, Any] = {
    "orders": 100_000,
    "products": 10_000,
    "min_support": "0.0002",
    "min_confidence": "0.05",
    "repeat": 3,
    "queries": 2_000,
}
SMOKE: dict[str, Any] = {
    "orders": 2_000,
    "products": 300,
    "min_support": "0.005",
    "min_confidence": "0.05",
    "repeat": 1,
    "queries": 100,
}
TARGET_BUILD_VS_APRIORI = 10.0
TOLERANCE = 1e-9
LIMIT = 10


def sku_name(i: int) -> Sku:
    return Sku(f"SKU-{i:05d}")


def make_history(n_orders: int, n_products: int, rng: random.Random) -> list[HistoricOrder]:
    """Orders of 1-9 distinct SKUs; SKU i is drawn with weight 1/(i+1)."""
    cumulative = list(accumulate(1 / (i + 1) for i in range(n_products)))
    total = cumulative[-1]
    skus = [sku_name(i) for i in range(n_products)]
    companies = [CompanyId(f"co-{i}") for i in range(200)]
    orders = []
    for n in range(n_orders):
        size = rng.randint(1, 9)
        basket: set[Sku] = set()
        while len(basket) < size:
            basket.add(skus[bisect.bisect(cumulative, rng.random() * total)])
        orders.append(
            HistoricOrder(
                order_id=OrderId(f"o-{n:07d}"),
                company_id=rng.choice(companies),
                placed_at=START + timedelta(minutes=5 * n),
                lines=[(sku, rng.randint(1, 12)) for sku in sorted(basket)],
            )
        )
    return orders


def cpu_seconds(run: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    """The best CPU time of ``repeat`` runs, and the last result."""
    best = float("inf")
    result: object = None
    for _ in range(repeat):
        result = None  # drop the previous result before timing the next run
        gc.collect()
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


_Stats = dict[tuple[str, str], tuple[float, float, float]]


def ours(model: BasketModel, min_support: Fraction, min_confidence: Fraction) -> _Stats:
    return {
        (s.for_sku, s.sku): (float(s.support), float(s.confidence), float(s.lift))
        for s in association_rules(model, min_support=min_support, min_confidence=min_confidence)
    }


def theirs(rules: Sequence[Any]) -> _Stats:
    return {
        (rule.lhs[0], rule.rhs[0]): (rule.support, rule.confidence, rule.lift) for rule in rules
    }


def compare(a: _Stats, b: _Stats) -> tuple[bool, float]:
    """Same rules, and the largest difference of any measure (inf if not the same set)."""
    if a.keys() != b.keys():
        return False, float("inf")
    worst = max((abs(x - y) for key in a for x, y in zip(a[key], b[key], strict=True)), default=0.0)
    return worst <= TOLERANCE, worst


def at_support(
    model: BasketModel,
    transactions: Sequence[tuple[str, ...]],
    min_support: Fraction,
    min_confidence: Fraction,
) -> dict[str, Any]:
    rules_s, mine = cpu_seconds(lambda: ours(model, min_support, min_confidence))
    apriori_s, result = cpu_seconds(
        lambda: apriori(
            transactions,
            min_support=float(min_support),
            min_confidence=float(min_confidence),
            max_length=2,
        )
    )
    assert isinstance(result, tuple)
    their_rules: list[Any] = list(result[1])
    assert isinstance(mine, dict)
    identical, worst = compare(mine, theirs(their_rules))
    return {
        "apriori_s": round(apriori_s, 4),
        "rules_s": round(rules_s, 4),
        "rules": len(mine),
        "apriori_rules": len(their_rules),
        "rules_identical": identical,
        "max_abs_difference": worst,
    }


def time_queries(
    model: BasketModel,
    skus: Sequence[Sku],
    min_support: Fraction,
    min_confidence: Fraction,
    allowed: Callable[[Sku], bool] | None = None,
) -> float:
    def run() -> None:
        for sku in skus:
            frequently_bought_together(
                model,
                sku,
                limit=LIMIT,
                min_support=min_support,
                min_confidence=min_confidence,
                allowed=allowed,
            )

    seconds, _ = cpu_seconds(run, repeat=3)
    return round(seconds / len(skus) * 1e6, 2)


def run(*, smoke: bool) -> dict[str, Any]:
    params = SMOKE if smoke else FULL
    rng = random.Random(SEED)
    min_support = Fraction(params["min_support"])
    min_confidence = Fraction(params["min_confidence"])
    orders = make_history(params["orders"], params["products"], rng)
    transactions = [tuple(sorted(order.skus)) for order in orders]

    build_s, built = cpu_seconds(lambda: BasketModel.from_history(orders), params["repeat"])
    assert isinstance(built, BasketModel)
    model = built
    main = at_support(model, transactions, min_support, min_confidence)
    higher = at_support(model, transactions, min(min_support * 10, Fraction(1)), min_confidence)

    # queries: SKUs drawn by popularity, as product pages are viewed
    weights = [model.count(sku) for sku in model.skus()]
    viewed = rng.choices(model.skus(), weights=weights, k=params["queries"])
    refused = {sku for sku in model.skus() if rng.random() < 0.2}
    top = max(model.skus(), key=model.count)

    # incremental: the last 10% of the orders added one by one
    split = len(orders) * 9 // 10
    partial = BasketModel.from_history(orders[:split])
    start = time.process_time()
    for order in orders[split:]:
        partial.add_order(order)
    add_order_us = (time.process_time() - start) / (len(orders) - split) * 1e6
    assert partial == model

    figures = {
        "baskets": model.baskets,
        "skus": len(model.skus()),
        "distinct_pairs": model.pairs,
        "build_s": round(build_s, 4),
        "apriori_s": main["apriori_s"],
        "build_vs_apriori": round(main["apriori_s"] / build_s, 1),
        "rules_s": main["rules_s"],
        "build_and_rules_vs_apriori": round(main["apriori_s"] / (build_s + main["rules_s"]), 1),
        "rules": main["rules"],
        "apriori_rules": main["apriori_rules"],
        "rules_identical": main["rules_identical"],
        "max_abs_difference": main["max_abs_difference"],
        "query_us": time_queries(model, viewed, min_support, min_confidence),
        "query_us_filtered": time_queries(
            model, viewed, min_support, min_confidence, lambda sku: sku not in refused
        ),
        "query_us_top_sku": time_queries(model, [top] * 20, min_support, min_confidence),
        "add_order_us": round(add_order_us, 2),
        "apriori_s_10x_support": higher["apriori_s"],
        "build_vs_apriori_10x_support": round(higher["apriori_s"] / build_s, 1),
        "rules_10x_support": higher["rules"],
        "rules_identical_10x_support": higher["rules_identical"],
    }
    return {
        "benchmark": "recommendations",
        "params": {
            "orders": params["orders"],
            "products": params["products"],
            "lines_per_order": "1-9 distinct SKUs, uniform",
            "popularity": "Zipf-like, weight 1/rank",
            "min_support": params["min_support"],
            "min_confidence": params["min_confidence"],
            "max_length": 2,
            "seed": SEED,
            "repeat": params["repeat"],
            "queries": params["queries"],
            "timer": "time.process_time (CPU seconds of this process)",
            "versions": {
                "python": platform.python_version(),
                "efficient-apriori": version("efficient-apriori"),
            },
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        },
        "figures": figures,
        "targets": [
            {
                "name": "build_vs_efficient_apriori",
                "value": figures["build_vs_apriori"],
                "op": ">=",
                "limit": TARGET_BUILD_VS_APRIORI,
            },
            {
                "name": "rules_identical",
                "value": int(main["rules_identical"] and higher["rules_identical"]),
                "op": "==",
                "limit": 1,
            },
        ],
    }


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny size (for tests)")
    args = parser.parse_args(argv)
    out(json.dumps(run(smoke=args.smoke)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
