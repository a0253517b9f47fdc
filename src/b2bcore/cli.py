"""The ``b2bcore`` command line (also ``python -m b2bcore``).

``b2bcore demo [--db PATH] [--locale en_US|de_DE|vi_VN]`` tells a short story on an
embedded SQLite file and prints what it stored. The demo grows with every context.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from b2bcore import __version__
from b2bcore.accounts import BusinessUnit, BusinessUnitAdded, CompanyCreated, UserInvited
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError
from b2bcore.events import DomainEvent
from b2bcore.l10n import SUPPORTED_LOCALES, format_datetime
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.storage.sqlite import SQLiteStore

__all__ = ["main"]

DEMO_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _tree_lines(units: Sequence[BusinessUnit]) -> list[str]:
    depth: dict[str, int] = {}
    lines = []
    for unit in units:
        level = 0 if unit.parent_id is None else depth[unit.parent_id] + 1
        depth[unit.id] = level
        cost = f"  [cost center {unit.cost_center}]" if unit.cost_center else ""
        lines.append(f"  {'    ' * level}- {unit.name} ({unit.id}){cost}")
    return lines


def run_demo(db: Path, locale: str) -> int:
    """Run the demo story against the SQLite file ``db``; return the exit code."""
    clock = FixedClock(DEMO_START)
    with SQLiteStore(db) as store:
        portal = Portal(store, clock=clock)
        acme = portal.accounts.create_company(
            company_id="acme", name="ACME Industrial GmbH", country="DE"
        )
        portal.accounts.add_business_unit(company_id=acme.id, name="Headquarters", unit_id="hq")
        portal.accounts.add_business_unit(
            company_id=acme.id,
            name="Plant Leipzig",
            unit_id="leipzig",
            parent_id="hq",
            cost_center="CC-4711",
        )
        portal.accounts.add_business_unit(
            company_id=acme.id, name="Maintenance", unit_id="maint", parent_id="leipzig"
        )
        portal.accounts.add_business_unit(
            company_id=acme.id, name="Purchasing", unit_id="purchasing", parent_id="hq"
        )
        for uid, name, email, bu in [
            ("u-ana", "Ana Weber", "ana.weber@acme.example", "purchasing"),
            ("u-ben", "Ben Okafor", "ben.okafor@acme.example", "maint"),
        ]:
            portal.accounts.invite_user(
                company_id=acme.id, user_id=uid, name=name, email=email, business_unit_ids=[bu]
            )

    # Read everything back from the file with a fresh store: it really was stored.
    with SQLiteStore(db) as store:
        portal = Portal(store, clock=clock)
        company = portal.accounts.get_company(acme.id)
        print(f"b2bcore {__version__} demo — data in {db}")
        print()
        print(f"{company.name} ({company.id}, {company.country})")
        for line in _tree_lines(portal.accounts.business_unit_tree(company_id=company.id)):
            print(line)
        print()
        print("Users:")
        users = iterate(
            lambda cursor: portal.accounts.list_users(
                company_id=company.id, limit=10, cursor=cursor
            )
        )
        for user in users:
            units = ", ".join(user.business_unit_ids)
            print(f"  {user.name:<12} {user.email:<26} {user.status.value:<8} in {units}")
        delivered: list[DomainEvent] = []
        report = portal.dispatch(
            {
                CompanyCreated: [delivered.append],
                BusinessUnitAdded: [delivered.append],
                UserInvited: [delivered.append],
            }
        )
        print()
        print(f"Outbox: {report.delivered} events delivered, {report.failed} failed")
        for event in delivered:
            when = format_datetime(event.occurred_at, locale=locale, tz="Europe/Berlin")
            print(f"  {when}  {event.event_type}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``b2bcore`` console script."""
    parser = argparse.ArgumentParser(
        prog="b2bcore",
        description="b2bcore: an embeddable B2B aftersales commerce domain library.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the demo story on an embedded SQLite file")
    demo.add_argument(
        "--db", type=Path, default=None, help="SQLite file to write (default: a new temp dir)"
    )
    demo.add_argument(
        "--locale",
        default="en_US",
        choices=SUPPORTED_LOCALES,
        help="locale for money and dates (default: en_US)",
    )
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        if args.db is not None:
            return run_demo(args.db, args.locale)
        with tempfile.TemporaryDirectory(prefix="b2bcore-demo-") as tmp:
            return run_demo(Path(tmp) / "demo.sqlite", args.locale)
    except B2BCoreError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
