"""Benchmark: b2bcore's price resolution against its floor and a brute-force oracle.

10 000 random order lines are priced against 10 price lists totalling N rules, for
N in 10k, 100k and 1M. For each N, in the same process:

* ``resolve_us``: microseconds per line for :func:`b2bcore.pricing.resolve_price`
  with a prebuilt :class:`~b2bcore.pricing.PriceIndex`; the explanation is built on
  first read, so ``resolve_us_explained`` also times reading it on every line (what a
  caller that shows every explanation pays);
* ``resolve_us_first_pass``: one pass over the lines on the freshly built index,
  before anything else: the index judges each context's lists once and makes a
  SKU's plan (which rules match it, in precedence order) the second time it meets
  the SKU, so this is what lines pay before those are made (the timed figures above
  are the best of passes over lines the index has met before);
* ``floor_us``: the floor for the same lines: a dict lookup of the SKU's price, a
  Decimal multiply by the quantity and a quantize to cents;
* at N = 10k only, ``brute_force_us``: the same engine with an index that scans
  every rule of every list for each line (the oracle the property tests compare
  against), timed on the first lines and checked to agree with the indexed result;
* memory: ``peak_rss_mib`` is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of a
  fresh process per N (so it includes the interpreter, the catalog, the lines, the
  price lists and the index); ``lists_and_index_mib`` is the growth of the resident
  set (``/proc/self/statm``) while the lists and the index were built.

The catalogue grows with N (N/5 SKUs, N/20 products, about N/160 categories in a
three-level tree) so that a line meets about the same number of candidate rules at
every N: growth from 10k to 1M measures the cost of scale, not of more candidates.
Each N runs in its own subprocess. Timings are CPU time of that process
(:func:`time.process_time`, so other load on the machine disturbs them less than
wall time), the best of ``repeat`` passes over all lines, with the garbage collector
left on as in an application and each quote dropped after its line;
``resolve_us_gc_frozen`` repeats the measurement after ``gc.freeze()`` (what a
service that builds its index once can do), and ``resolve_us_keeping_quotes`` keeps
all the lines' quotes alive, as one huge order would (their explanations are many
small objects, and the garbage collector walks them).

    python bench/pricing.py           # full run: N = 10k, 100k, 1M (a few minutes)
    python bench/pricing.py --smoke   # tiny sizes, same JSON shape, a few seconds
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from b2bcore.ids import BusinessUnitId, CategoryId, CompanyId, PriceListId, ProductId, Sku
from b2bcore.money import Money
from b2bcore.pricing.errors import NoPriceError
from b2bcore.pricing.model import (
    BaseKind,
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PriceRule,
    PriceScope,
    PriceTier,
    RoundingStep,
    RuleTarget,
)
from b2bcore.pricing.resolve import PriceIndex, PriceQuote, check_price_lists, resolve_price

SEED = 20260504
CURRENCY = "EUR"
AT = datetime(2026, 5, 4, 12, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)
LISTS = 10
CENT = Decimal("0.01")
QUANTITIES = (1, 1, 1, 2, 3, 5, 10, 12, 24, 50, 100)

FULL = {"sizes": (10_000, 100_000, 1_000_000), "lines": 10_000, "repeat": 5, "brute": 500}
SMOKE = {"sizes": (500, 1_000, 2_000), "lines": 200, "repeat": 1, "brute": 20}

TARGET_VS_FLOOR = 5.0
TARGET_GROWTH = 1.5
TARGET_VS_BRUTE = 50.0
TARGET_MEMORY_MIB = 1024.0

_Line = tuple[PriceContext, PriceItem, int]


def label(n: int) -> str:
    """``10k``, ``1M``, ``500``."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# --- the synthetic catalogue, price lists and lines -------------------------------------


class Catalog:
    """SKUs, their products and category paths, list prices and costs (as ints of
    cents, so that building it costs little)."""

    def __init__(self, n_rules: int, rng: random.Random) -> None:
        self.n_skus = max(50, n_rules // 5)
        self.n_products = max(10, self.n_skus // 4)
        self.n_leaves = max(6, n_rules // 200)
        self.n_mids = max(3, self.n_leaves // 5)
        self.n_roots = max(2, self.n_mids // 5)
        self.product_of = [rng.randrange(self.n_products) for _ in range(self.n_skus)]
        self.leaf_of_product = [rng.randrange(self.n_leaves) for _ in range(self.n_products)]
        self.list_cents = [rng.randrange(100, 100_000) for _ in range(self.n_skus)]

    @staticmethod
    def sku(i: int) -> str:
        return f"SKU-{i:07d}"

    @staticmethod
    def product(i: int) -> str:
        return f"P-{i:06d}"

    def categories(self) -> list[str]:
        return (
            [f"root-{i}" for i in range(self.n_roots)]
            + [f"mid-{i}" for i in range(self.n_mids)]
            + [f"leaf-{i}" for i in range(self.n_leaves)]
        )

    def path(self, sku: int) -> tuple[CategoryId, ...]:
        leaf = self.leaf_of_product[self.product_of[sku]]
        mid = leaf % self.n_mids
        return (
            CategoryId(f"root-{mid % self.n_roots}"),
            CategoryId(f"mid-{mid}"),
            CategoryId(f"leaf-{leaf}"),
        )

    def item(self, sku: int) -> PriceItem:
        cents = self.list_cents[sku]
        return PriceItem(
            sku=Sku(self.sku(sku)),
            product_id=ProductId(self.product(self.product_of[sku])),
            category_path=self.path(sku),
            list_price=Money(Decimal(cents).scaleb(-2), CURRENCY),
            cost=Money(Decimal(cents * 6 // 10).scaleb(-2), CURRENCY),
        )


COMPANIES = [f"co-{i}" for i in range(40)]
UNITS = [f"bu-{i}" for i in range(12)]
GROUPS = ["gold", "silver", "bronze", "dealer"]
CHANNELS = ["web", "edi", "phone"]
COUNTRIES = ["DE", "AT", "CH", "FR"]

#: (scope, priority, window) of the 10 lists: public list prices, then lists for a
#: country, a channel, customer groups, business units, companies, a promotion.
SCOPES: list[tuple[PriceScope, int, tuple[datetime, datetime | None]]] = [
    (PriceScope(), 0, (START, None)),
    (PriceScope(countries={"DE", "AT"}), 0, (START, None)),
    (PriceScope(channels={"web"}), 0, (START, None)),
    (PriceScope(customer_groups={"gold"}), 0, (START, None)),
    (PriceScope(customer_groups={"dealer"}), 1, (START, None)),
    (PriceScope(business_units=set(UNITS[:4])), 0, (START, None)),
    (PriceScope(companies=set(COMPANIES[:10])), 0, (START, None)),
    (PriceScope(companies=set(COMPANIES[5:8])), 1, (START, None)),
    (
        PriceScope(companies=set(COMPANIES[::3])),
        2,
        (AT - timedelta(days=7), AT + timedelta(days=7)),
    ),
    (PriceScope(channels={"edi"}, countries={"FR", "CH"}), 0, (START, AT + timedelta(days=90))),
]


def _money(cents: int) -> Money:
    return Money(Decimal(cents).scaleb(-2), CURRENCY)


def _formula(rng: random.Random, list_no: int) -> Formula:
    roll = rng.random()
    rounding = None
    if roll < 0.2:
        rounding = RoundingStep(multiple=Decimal("0.05"))
    elif roll < 0.3:
        rounding = RoundingStep(ending=Decimal("0.99"))
    if list_no == 3 and rng.random() < 0.3:  # gold prices derive from the public list
        return Formula(
            base=BaseKind.PRICE_LIST,
            base_list_id=PriceListId("list-0"),
            percent=Decimal(-rng.randrange(1, 15)),
            rounding=rounding,
        )
    base = BaseKind.COST if rng.random() < 0.1 else BaseKind.LIST_PRICE
    percent = (
        Decimal(rng.randrange(20, 60)) if base is BaseKind.COST else Decimal(-rng.randrange(1, 30))
    )
    return Formula(base=base, percent=percent, rounding=rounding)


def _rule(rng: random.Random, rule_id: str, target: RuleTarget, list_no: int) -> PriceRule:
    roll = rng.random()
    min_quantity = Decimal(5) if rng.random() < 0.05 else Decimal(1)
    valid_until = AT - timedelta(days=1) if list_no == 9 and rng.random() < 0.2 else None
    if roll < 0.6:
        return PriceRule(
            id=rule_id,
            target=target,
            price=_money(rng.randrange(100, 90_000)),
            min_quantity=min_quantity,
            valid_until=valid_until,
            valid_from=START if valid_until is not None else None,
        )
    if roll < 0.9:
        return PriceRule(
            id=rule_id, target=target, formula=_formula(rng, list_no), min_quantity=min_quantity
        )
    base = rng.randrange(1_000, 90_000)
    return PriceRule(
        id=rule_id,
        target=target,
        price=_money(base),
        tiers=(
            PriceTier(min_quantity=Decimal(10), price=_money(base * 95 // 100)),
            PriceTier(min_quantity=Decimal(50), formula=Formula(percent=Decimal(-12))),
        ),
    )


def build_lists(n_rules: int, catalog: Catalog, rng: random.Random) -> list[PriceList]:
    """10 lists of n_rules/10 rules each: ~94% SKU, 5% product, 0.5% category rules
    with distinct targets per list, plus an "all" rule in the public and web lists."""
    per_list = n_rules // LISTS
    categories = catalog.categories()
    lists = []
    for list_no, (scope, priority, (valid_from, valid_until)) in enumerate(SCOPES):
        n_all = 1 if list_no in (0, 2) else 0
        n_cat = min(len(categories), max(1, per_list // 200))
        n_prod = min(catalog.n_products, max(1, per_list // 20))
        n_sku = per_list - n_all - n_cat - n_prod
        targets = [RuleTarget.sku(catalog.sku(i)) for i in rng.sample(range(catalog.n_skus), n_sku)]
        targets += [
            RuleTarget.product(catalog.product(i))
            for i in rng.sample(range(catalog.n_products), n_prod)
        ]
        targets += [RuleTarget.category(c) for c in rng.sample(categories, n_cat)]
        rules = [_rule(rng, f"r{i}", t, list_no) for i, t in enumerate(targets)]
        if n_all:
            percent = Decimal(0) if list_no == 0 else Decimal(-5)
            rules.append(
                PriceRule(id="all", target=RuleTarget.all(), formula=Formula(percent=percent))
            )
        lists.append(
            PriceList(
                id=PriceListId(f"list-{list_no}"),
                name=f"List {list_no}",
                currency=CURRENCY,
                valid_from=valid_from,
                valid_until=valid_until,
                scope=scope,
                priority=priority,
                rules=rules,
            )
        )
    return lists


def build_lines(n_lines: int, catalog: Catalog, rng: random.Random) -> list[_Line]:
    contexts = [
        PriceContext(
            company_id=CompanyId(company),
            currency=CURRENCY,
            at=AT,
            business_unit_ids={BusinessUnitId(u) for u in rng.sample(UNITS, rng.randrange(3))},
            customer_groups=set(rng.sample(GROUPS, rng.randrange(3))),
            channel=rng.choice(CHANNELS),
            country=rng.choice(COUNTRIES),
        )
        for company in COMPANIES
    ]
    items: dict[int, PriceItem] = {}
    lines = []
    for _ in range(n_lines):
        sku = rng.randrange(catalog.n_skus)
        item = items.get(sku) or items.setdefault(sku, catalog.item(sku))
        lines.append((rng.choice(contexts), item, rng.choice(QUANTITIES)))
    return lines


# --- what is timed ---------------------------------------------------------------------


class ScanIndex(PriceIndex):
    """The brute-force oracle: the same engine, but every lookup scans every rule."""

    def entries_for(
        self, item: PriceItem, *, only_list: str | None = None
    ) -> list[tuple[PriceList, PriceRule]]:
        return [
            (pl, rule)
            for pl in self.lists.values()
            if only_list is None or pl.id == only_list
            for rule in pl.rules
            if rule.target.match_depth(item) is not None
        ]


def price_lines(index: PriceIndex, lines: Sequence[_Line]) -> list[PriceQuote | None]:
    """Every line's quote (None: no price), kept to check results."""
    out: list[PriceQuote | None] = []
    for context, item, quantity in lines:
        try:
            out.append(resolve_price(context, item, quantity, lists=index))
        except NoPriceError:
            out.append(None)
    return out


def time_resolve(index: PriceIndex, lines: Sequence[_Line]) -> None:
    """What is timed: price every line; like an application pricing carts, the quotes
    are not all kept alive (keeping 10k explained quotes would time the GC walking
    them)."""
    for context, item, quantity in lines:
        try:  # noqa: SIM105 - a try costs nothing here; contextlib.suppress would be timed
            resolve_price(context, item, quantity, lists=index)
        except NoPriceError:
            pass


def time_resolve_explained(index: PriceIndex, lines: Sequence[_Line]) -> None:
    """Like :func:`time_resolve`, and read every quote's explanation (built lazily)."""
    for context, item, quantity in lines:
        try:  # noqa: SIM105 - a try costs nothing here; contextlib.suppress would be timed
            _ = resolve_price(context, item, quantity, lists=index).explanation.candidates
        except NoPriceError:
            pass


def time_floor(prices: dict[str, Decimal], lines: Sequence[_Line]) -> None:
    """The floor, timed the same way: look up, multiply, quantize, per line."""
    for _context, item, quantity in lines:
        (prices[item.sku] * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def best_us(run: Callable[[], object], n_lines: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best / n_lines * 1e6


def _rss_mib() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def _key(q: PriceQuote | None) -> tuple[object, ...] | None:
    return None if q is None else (q.unit_price, q.line_total, q.price_list_id, q.rule_id)


def measure_one(n_rules: int, *, n_lines: int, repeat: int, brute: int) -> dict[str, Any]:
    """Everything for one N (run in a fresh process)."""
    rng = random.Random(SEED + n_rules)
    catalog = Catalog(n_rules, rng)
    lines = build_lines(n_lines, catalog, rng)
    prices = {catalog.sku(i): Decimal(c).scaleb(-2) for i, c in enumerate(catalog.list_cents)}
    rss_before = _rss_mib()
    start = time.process_time()
    lists = build_lists(n_rules, catalog, rng)
    build_lists_s = time.process_time() - start
    start = time.process_time()
    index = PriceIndex(lists)
    build_index_s = time.process_time() - start
    rss_after = _rss_mib()
    if n_rules <= 100_000:
        check_price_lists(lists)  # the generated lists are publishable
    gc.collect()  # what building left for the collector is not the first pass's work
    first_pass_us = best_us(lambda: time_resolve(index, lines), n_lines, 1)
    quotes = price_lines(index, lines)
    priced = sum(q is not None for q in quotes)
    candidates = sum(len(q.explanation.candidates) for q in quotes if q is not None)

    del quotes
    resolve_us = best_us(lambda: time_resolve(index, lines), n_lines, repeat)
    keeping_us = best_us(lambda: price_lines(index, lines), n_lines, repeat)
    explained_us = best_us(lambda: time_resolve_explained(index, lines), n_lines, repeat)
    floor_us = best_us(lambda: time_floor(prices, lines), n_lines, repeat)
    gc.freeze()
    resolve_frozen_us = best_us(lambda: time_resolve(index, lines), n_lines, repeat)
    gc.unfreeze()
    out: dict[str, Any] = {
        "rules": sum(len(pl.rules) for pl in lists),
        "skus": catalog.n_skus,
        "lines_priced": priced,
        "candidates_per_line": round(candidates / max(priced, 1), 2),
        "resolve_us": round(resolve_us, 2),
        "floor_us": round(floor_us, 3),
        "resolve_vs_floor": round(resolve_us / floor_us, 1),
        "resolve_us_gc_frozen": round(resolve_frozen_us, 2),
        "resolve_us_keeping_quotes": round(keeping_us, 2),
        "resolve_us_explained": round(explained_us, 2),
        "resolve_us_first_pass": round(first_pass_us, 2),
        "build_lists_s": round(build_lists_s, 2),
        "build_index_s": round(build_index_s, 2),
        "lists_and_index_mib": None
        if rss_before is None or rss_after is None
        else round(rss_after - rss_before, 1),
    }
    if brute:
        head = lines[:brute]
        oracle = ScanIndex(lists)
        want = [_key(q) for q in price_lines(index, head)]
        got = [_key(q) for q in price_lines(oracle, head)]
        if got != want:
            sys.exit(f"bench/pricing.py: brute force and index disagree at N={n_rules}")
        out["brute_force_lines"] = len(head)
        out["brute_force_us"] = round(best_us(lambda: time_resolve(oracle, head), len(head), 1), 1)
        out["resolve_us_same_lines"] = round(
            best_us(lambda: time_resolve(index, head), len(head), repeat), 2
        )
    out["peak_rss_mib"] = round(_maxrss_mib(), 1)
    return out


def _child(n_rules: int, n_lines: int, repeat: int, brute: int) -> dict[str, Any]:
    proc = subprocess.run(  # noqa: S603 - this script, run by this interpreter
        [
            sys.executable,
            __file__,
            "--one",
            str(n_rules),
            "--lines",
            str(n_lines),
            "--repeat",
            str(repeat),
            "--brute",
            str(brute),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"bench/pricing.py: N={n_rules} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run(*, smoke: bool) -> dict[str, Any]:
    cfg = SMOKE if smoke else FULL
    sizes: tuple[int, ...] = cfg["sizes"]  # type: ignore[assignment]
    n_lines, repeat, brute = int(cfg["lines"]), int(cfg["repeat"]), int(cfg["brute"])  # type: ignore[call-overload]
    figures = {label(n): _child(n, n_lines, repeat, brute if n == sizes[0] else 0) for n in sizes}
    small, large = figures[label(sizes[0])], figures[label(sizes[-1])]
    return {
        "benchmark": "pricing",
        "params": {
            "smoke": smoke,
            "sizes": list(sizes),
            "lists": LISTS,
            "lines": n_lines,
            "repeat": repeat,
            "statistic": "best of repeats, microseconds of process CPU time per line",
            "seed": SEED,
            "catalog": "N/5 SKUs, N/20 products, ~N/160 categories (3 levels); per list "
            "~94% SKU, 5% product, 0.5% category rules, an 'all' rule in 2 lists; 60% fixed "
            "prices, 30% formulas (some derived from another list), 10% tiers",
            "contexts": f"{len(COMPANIES)} buyers with random units, groups, channel, country",
            "resolve": "resolve_price(context, item, quantity, lists=prebuilt PriceIndex), "
            "explanation built lazily and not read, quotes dropped after each line, GC on "
            "(resolve_us); reading every explanation too (resolve_us_explained); "
            "the same after gc.freeze() (resolve_us_gc_frozen); keeping all 10k quotes "
            "alive (resolve_us_keeping_quotes: their explanations make the GC work); "
            "one pass on the fresh index, before its per-SKU plans and per-context "
            "verdicts are made (resolve_us_first_pass)",
            "floor": "prices[item.sku] * quantity, quantize(0.01, ROUND_HALF_UP), same lines",
            "brute_force": f"same engine, every rule scanned per line; first {brute} lines, "
            f"at N={label(sizes[0])}, one pass; results checked equal to the index",
            "memory": "peak_rss_mib = getrusage(RUSAGE_SELF).ru_maxrss of a fresh process "
            "per N; lists_and_index_mib = RSS growth while building lists and index",
            "versions": {"python": platform.python_version()},
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        },
        "figures": figures,
        "targets": [
            {
                "name": f"per_line_vs_floor_{label(sizes[-1])}",
                "value": large["resolve_vs_floor"],
                "op": "<=",
                "limit": TARGET_VS_FLOOR,
            },
            {
                "name": f"growth_{label(sizes[0])}_to_{label(sizes[-1])}",
                "value": round(large["resolve_us"] / small["resolve_us"], 2),
                "op": "<=",
                "limit": TARGET_GROWTH,
            },
            {
                "name": f"vs_brute_force_{label(sizes[0])}",
                "value": round(small["brute_force_us"] / small["resolve_us_same_lines"], 1),
                "op": ">=",
                "limit": TARGET_VS_BRUTE,
            },
            {
                "name": f"peak_memory_mib_{label(sizes[-1])}",
                "value": large["peak_rss_mib"],
                "op": "<=",
                "limit": TARGET_MEMORY_MIB,
            },
        ],
    }


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for tests)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lines", type=int, default=FULL["lines"], help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=FULL["repeat"], help=argparse.SUPPRESS)
    parser.add_argument("--brute", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        out(
            json.dumps(
                measure_one(args.one, n_lines=args.lines, repeat=args.repeat, brute=args.brute)
            )
        )
        return 0
    out(json.dumps(run(smoke=args.smoke)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
