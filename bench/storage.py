"""Benchmark: placing orders through the portal against raw-driver inserts of the
same rows, on SQLite and PostgreSQL.

One company with one buyer, a catalog of 40 products with stock at one location and
a list price list. The buyer places N orders (N = 10 000) of 1 to 3 lines, two ways,
each in a fresh database of its own:

* ``quick_order``: ``portal.orders.place_order`` with an idempotency key — one unit
  of work per order (check every line, price, authorize the total, reserve stock,
  ask the approval gate, store the order, its events and its audit line), as an
  ERP/EDI integration, a punch-out return or a quick-order form places orders;
* ``cart_flow``: ``create_cart``, ``add_to_cart`` per line and ``checkout`` with an
  idempotency key — a person at a web shop: 2 to 4 units of work per order, each
  authorized, audited and committed on its own (``checkout_ops_s`` counts the
  checkouts' time alone).

For each, per store, in the same process:

* ``portal_ops_s``: orders placed per second (wall time of the whole placement);
* ``floor_ops_s``: the floor: every row those placements added to the store's tables
  (orders, reservations, idempotency keys, outbox events, audit lines; carts),
  read back after the run and inserted with the raw driver (``sqlite3`` /
  ``psycopg``) into a fresh database of the same schema (migrated by the store: same
  tables, keys and indexes), one transaction per order (the rows split evenly into N
  transactions, ``executemany`` per table), with the same durability settings. The
  stock levels the placements updated in place are not in the floor, so the floor
  is, if anything, too fast. Placing and floor-inserting alternate in 10 rounds of
  N / 10 orders, so that both see the (shared) machine in the same state;
* ``ratio``: portal_ops_s / floor_ops_s (target: at least 0.3). The target is
  judged on the quick order: one transaction per order, like the floor. The cart
  flow commits 2 to 4 times per order where the floor commits once; its ratio is
  reported, not judged.

Stores: ``SQLiteStore`` on a file in WAL mode with ``synchronous=NORMAL`` (the usual
setting for WAL: a commit survives a crash of the process, not of the machine) and
with ``synchronous=FULL`` (the store's default: every commit is synced to disk);
``PostgresStore`` when ``B2BCORE_POSTGRES_DSN`` is set (a fresh schema, dropped
afterwards; the server's own ``synchronous_commit``), else null with the reason.

    python bench/storage.py           # full size: 10 000 orders per store and way (minutes)
    python bench/storage.py --smoke   # 40 orders per store and way, same JSON shape, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from b2bcore.accounts import Actor
from b2bcore.catalog import Category, Product
from b2bcore.clock import FixedClock
from b2bcore.ids import PriceListId
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceList, PriceRule, RuleTarget
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

SEED = 20261010
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
OP = "op-olga"
BUYER = Actor.user("acme", "ben")
PRODUCTS = 40
FULL: dict[str, Any] = {"orders": 10_000}
SMOKE: dict[str, Any] = {"orders": 40}
TARGET_RATIO = 0.3
#: Rounds of placing and floor-inserting, alternated (see measure_way).
CHUNKS = 10
DSN_VAR = "B2BCORE_POSTGRES_DSN"

Row = tuple[Any, ...]
#: Per table: its column names and the rows the placements added.
Added = dict[str, tuple[list[str], list[Row]]]


# -- the world and the placements -------------------------------------------------------------
def build_world(portal: Portal) -> list[str]:
    """ACME with its buyer Ben, a catalog with stock, a price list; returns the SKUs."""
    operator = Actor.operator_for("acme", OP)
    portal.accounts.create_company(
        operator, name="ACME", admin_email="ana@acme.example", admin_user_id="ana"
    )
    portal.accounts.invite_user(
        Actor.user("acme", "ana"),
        user_id="ben",
        name="Ben",
        email="ben@acme.example",
        business_unit_ids=["hq"],
        roles=["buyer"],
    )
    catalog = portal.catalog
    catalog.save_category(operator_id=OP, category=Category(id="spares", name="Spares"))
    skus = [f"SKU-{n:03d}" for n in range(PRODUCTS)]
    for n, sku in enumerate(skus):
        catalog.save_product(
            operator_id=OP,
            product=Product(
                sku=sku,
                name=f"Part {n}",
                category_id="spares",
                list_price=Money(f"{5 + n * 3}.90", "EUR"),
            ),
        )
        catalog.set_stock(operator_id=OP, sku=sku, location="leipzig", on_hand=10_000_000)
    portal.pricing.publish_price_list(
        operator_id=OP,
        price_list=PriceList(
            id=PriceListId("list"),
            name="List prices",
            currency="EUR",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
    )
    return skus


def plan_orders(skus: Sequence[str], n: int) -> list[list[tuple[str, int]]]:
    rng = random.Random(SEED)
    return [
        [(sku, rng.randint(1, 9)) for sku in rng.sample(skus, rng.randint(1, 3))] for _ in range(n)
    ]


def place_orders(
    portal: Portal, plan: Sequence[Sequence[tuple[str, int]]], start: int = 0
) -> dict[str, float]:
    """The cart flow: place every planned order through a cart (idempotency keys
    numbered from ``start``); wall seconds of the whole and of the checkouts."""
    checkout_s = 0.0
    began = time.perf_counter()
    for i, lines in enumerate(plan, start):
        cart = portal.orders.create_cart(BUYER, currency="EUR")
        for sku, quantity in lines:
            portal.orders.add_to_cart(BUYER, cart.id, sku, quantity)
        t = time.perf_counter()
        portal.orders.checkout(BUYER, cart.id, idempotency_key=f"bench-{i}")
        checkout_s += time.perf_counter() - t
    return {"total_s": time.perf_counter() - began, "checkout_s": checkout_s}


def quick_orders(
    portal: Portal, plan: Sequence[Sequence[tuple[str, int]]], start: int = 0
) -> dict[str, float]:
    """The quick order: place every planned order in one call; wall seconds."""
    began = time.perf_counter()
    for i, lines in enumerate(plan, start):
        portal.orders.place_order(BUYER, lines, currency="EUR", idempotency_key=f"bench-{i}")
    return {"total_s": time.perf_counter() - began}


Placement = Callable[[Portal, Sequence[Sequence[tuple[str, int]]], int], dict[str, float]]


# -- the databases, through their raw drivers -------------------------------------------------
class Database:
    """One database the bench runs in: how to open b2bcore's store on it, and a raw
    connection (a DB-API connection in autocommit mode, transactions by hand)."""

    name: str
    placeholder: str

    def store(self) -> Store:
        raise NotImplementedError

    def raw(self) -> Any:
        raise NotImplementedError

    def tables(self, conn: Any) -> list[str]:
        raise NotImplementedError

    def drop(self) -> None:
        """Remove what the bench created."""

    def settings(self) -> dict[str, Any]:
        return {}


class SQLiteDatabase(Database):
    placeholder = "?"

    def __init__(self, folder: str, synchronous: str, label: str, /) -> None:
        self.path = str(Path(folder) / f"{label}-{uuid.uuid4().hex[:8]}.sqlite")
        self.synchronous = synchronous
        self.name = f"sqlite_{synchronous.lower()}"

    def store(self) -> Store:
        return SQLiteStore(self.path, synchronous=self.synchronous)  # type: ignore[arg-type]

    def raw(self) -> sqlite3.Connection:
        # The same settings as SQLiteStore's connections.
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def tables(self, conn: Any) -> list[str]:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        return sorted(name for (name,) in found)

    def settings(self) -> dict[str, Any]:
        return {"journal_mode": "WAL", "synchronous": self.synchronous}


class PostgresDatabase(Database):
    placeholder = "%s"
    name = "postgres"

    def __init__(self, dsn: str, label: str) -> None:
        self.dsn = dsn
        self.schema = f"b2b_bench_{label}_{uuid.uuid4().hex[:8]}"

    def store(self) -> Store:
        from b2bcore.storage.postgres import PostgresStore

        return PostgresStore(self.dsn, schema=self.schema)

    def raw(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True)
        conn.execute(f'SET search_path TO "{self.schema}"')
        return conn

    def tables(self, conn: Any) -> list[str]:
        found = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (self.schema,),
        ).fetchall()
        return sorted(name for (name,) in found)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def settings(self) -> dict[str, Any]:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            commit = conn.execute("SHOW synchronous_commit").fetchone()
            fsync = conn.execute("SHOW fsync").fetchone()
        return {
            "server_version": version[0] if version else None,
            "synchronous_commit": commit[0] if commit else None,
            "fsync": fsync[0] if fsync else None,
            "isolation": "repeatable read (the store's default)",
        }


def _keys(db: Database) -> dict[str, set[tuple[str, str]]]:
    conn = db.raw()
    try:
        return {
            table: {(c, i) for c, i in conn.execute(f"SELECT company_id, id FROM {table}")}
            for table in db.tables(conn)
            if table != "schema_version"
        }
    finally:
        conn.close()


def added_rows(db: Database, before: dict[str, set[tuple[str, str]]]) -> Added:
    """Every row of every table that was not there ``before``, in insertion order
    where the database knows it (SQLite's rowid), else by key."""
    conn = db.raw()
    try:
        out: Added = {}
        for table, known in before.items():
            order = "rowid" if isinstance(db, SQLiteDatabase) else "company_id, id"
            cur = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
            columns = [d[0] for d in cur.description]
            rows = [tuple(r) for r in cur.fetchall() if (r[0], r[1]) not in known]
            if rows:
                out[table] = (columns, rows)
        return out
    finally:
        conn.close()


def insert_floor(db: Database, added: Added, transactions: int) -> float:
    """Insert ``added`` into ``db`` (same schema, empty of them) in ``transactions``
    transactions of about equal share of every table; wall seconds."""
    conn = db.raw()
    try:
        plan = []
        for table, (columns, rows) in added.items():
            marks = ", ".join(db.placeholder for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            plan.append((sql, rows))
        began = time.perf_counter()
        for k in range(transactions):
            conn.execute("BEGIN")
            for sql, rows in plan:
                lo, hi = len(rows) * k // transactions, len(rows) * (k + 1) // transactions
                if hi > lo:
                    _executemany(conn, sql, rows[lo:hi])
            conn.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        conn.close()


def _executemany(conn: Any, sql: str, rows: list[Row]) -> None:
    if isinstance(conn, sqlite3.Connection):
        conn.executemany(sql, rows)
    else:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)


@contextmanager
def _opened(db: Database) -> Iterator[Store]:
    store = db.store()
    try:
        yield store
    finally:
        store.close()


# -- one store ----------------------------------------------------------------------------------
def measure_way(
    make: Callable[[str], Database], n: int, place: Placement, label: str
) -> dict[str, Any]:
    """Place ``n`` orders one way in a database from ``make`` and insert the rows
    they added into a second one with the raw driver, side by side: in ``CHUNKS``
    rounds of n / CHUNKS orders each, the portal's round then the floor's, so that
    both see the machine in the same state."""
    main, fresh = make(f"{label}_portal"), make(f"{label}_floor")
    try:
        with _opened(fresh):
            pass  # migrated: the same tables, keys and indexes, empty
        added: Added = {}
        timed = {"total_s": 0.0, "checkout_s": 0.0}
        floor_s = 0.0
        with _opened(main) as store:
            portal = Portal(store, clock=FixedClock(NOW))
            skus = build_world(portal)
            plan = plan_orders(skus, n)
            known = _keys(main)
            for k in range(CHUNKS):
                lo, hi = n * k // CHUNKS, n * (k + 1) // CHUNKS
                if hi == lo:
                    continue
                for key, value in place(portal, plan[lo:hi], lo).items():
                    timed[key] += value
                part = added_rows(main, known)
                for table, (columns, new_rows) in part.items():
                    known[table].update((r[0], r[1]) for r in new_rows)
                    added.setdefault(table, (columns, []))[1].extend(new_rows)
                floor_s += insert_floor(fresh, part, hi - lo)
        rows = sum(len(r) for _, r in added.values())
        portal_ops = n / timed["total_s"]
        floor_ops = n / floor_s
        figures: dict[str, Any] = {
            "orders": n,
            "lines": sum(len(lines) for lines in plan),
            "portal_s": round(timed["total_s"], 3),
            "portal_ops_s": round(portal_ops, 1),
        }
        if timed["checkout_s"]:
            figures["checkout_ops_s"] = round(n / timed["checkout_s"], 1)
        figures.update(
            {
                "rows_added_per_order": round(rows / n, 2),
                "rows_added_by_table": {t: len(r) for t, (_, r) in sorted(added.items())},
                "doc_bytes_per_order": round(
                    sum(len(str(r[3])) for _, rs in added.values() for r in rs) / n, 1
                ),
                "floor_s": round(floor_s, 3),
                "floor_ops_s": round(floor_ops, 1),
                "ratio": round(portal_ops / floor_ops, 3),
            }
        )
        return figures
    finally:
        main.drop()
        fresh.drop()


def measure(make: Callable[[str], Database], n: int) -> dict[str, Any]:
    """Both ways of placing orders on one kind of store, and its settings."""
    return {
        "quick_order": measure_way(make, n, quick_orders, "quick"),
        "cart_flow": measure_way(make, n, place_orders, "cart"),
        "settings": make("settings").settings(),  # reads settings only, creates nothing
    }


def run(*, smoke: bool, orders: int | None = None) -> dict[str, Any]:
    n = orders or int((SMOKE if smoke else FULL)["orders"])
    dsn = os.environ.get(DSN_VAR, "")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="b2bcore-bench-") as folder:
        for sync in ("NORMAL", "FULL"):
            figures[f"sqlite_{sync.lower()}"] = measure(partial(SQLiteDatabase, folder, sync), n)
    if dsn:
        figures["postgres"] = measure(lambda label: PostgresDatabase(dsn, label), n)
    else:
        figures["postgres"] = None
        figures["postgres_skipped"] = f"{DSN_VAR} is not set: no PostgreSQL server to run on"
    targets = [
        {
            "name": f"ratio_{name}",
            "value": entry["quick_order"]["ratio"],
            "op": ">=",
            "limit": TARGET_RATIO,
        }
        for name, entry in figures.items()
        if isinstance(entry, dict)
    ]
    return {
        "benchmark": "storage",
        "params": {
            "smoke": smoke,
            "orders": n,
            "products": PRODUCTS,
            "lines_per_order": "1 to 3, quantities 1 to 9",
            "placement": {
                "quick_order": "place_order(lines, idempotency_key): one unit of work, "
                "one thread (the target is judged on this way)",
                "cart_flow": "create_cart + add_to_cart per line + checkout(idempotency_key), "
                "each its own unit of work, one thread (reported, not judged)",
            },
            "floor": "the rows the placements added, raw-driver executemany per table into a "
            "fresh database of the same schema, one transaction per order, same durability",
            "statistic": "wall time, one pass",
            "seed": SEED,
            "versions": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        },
        "figures": figures,
        "targets": targets,
    }


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for tests)")
    parser.add_argument("--orders", type=int, help=argparse.SUPPRESS)  # to try a size
    args = parser.parse_args(argv)
    out(json.dumps(run(smoke=args.smoke, orders=args.orders)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
