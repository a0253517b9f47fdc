"""The ``b2bcore`` command line (also ``python -m b2bcore``).

``b2bcore demo [--db PATH] [--locale en_US|de_DE|vi_VN]`` tells a short story on an
embedded SQLite file and prints what it stored. The demo grows with every context.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from b2bcore import __version__
from b2bcore.accounts import Actor, BusinessUnit, Permission, Resource
from b2bcore.catalog import (
    Assortment,
    AttributeMatch,
    Category,
    Lifecycle,
    Product,
    ProductRelation,
    RelationRule,
    Selection,
)
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError, ConflictError
from b2bcore.events import DomainEvent
from b2bcore.ids import BusinessUnitId, CategoryId, PriceListId, ProductId, Sku
from b2bcore.l10n import SUPPORTED_LOCALES, format_datetime, format_money
from b2bcore.money import Money
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import (
    Formula,
    PriceItem,
    PriceList,
    PriceRule,
    PriceScope,
    PriceTier,
    RoundingStep,
    RuleTarget,
)
from b2bcore.storage.sqlite import SQLiteStore

__all__ = ["main"]

DEMO_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TZ = "Europe/Berlin"


def _tree_lines(units: Sequence[BusinessUnit]) -> list[str]:
    depth: dict[str, int] = {}
    lines = []
    for unit in units:
        level = 0 if unit.parent_id is None else depth[unit.parent_id] + 1
        depth[unit.id] = level
        cost = f"  [cost center {unit.cost_center}]" if unit.cost_center else ""
        lines.append(f"  {'    ' * level}- {unit.name} ({unit.id}){cost}")
    return lines


def _story(portal: Portal, clock: FixedClock, locale: str) -> list[str]:
    """Onboarding, roles with limits, SoD, and an agent's assisted session."""
    notes: list[str] = []
    acme = Actor.operator_for("acme", "op-olga")
    portal.accounts.create_company(
        acme,
        name="ACME Industrial GmbH",
        country="DE",
        admin_email="ana.weber@acme.example",
        admin_name="Ana Weber",
        admin_user_id="u-ana",
    )
    ana = Actor.user("acme", "u-ana")
    accounts = portal.accounts
    accounts.add_business_unit(
        ana, name="Plant Leipzig", unit_id="leipzig", parent_id="hq", cost_center="CC-4711"
    )
    accounts.add_business_unit(ana, name="Maintenance", unit_id="maint", parent_id="leipzig")
    accounts.add_business_unit(ana, name="Purchasing", unit_id="purchasing", parent_id="hq")
    limit = Money("5000.00", "EUR")
    accounts.create_role(ana, name="Buyer up to 5,000 EUR", role_id="buyer-5k", copy_of="buyer")
    accounts.set_role_permission(
        ana, role_id="buyer-5k", permission=Permission.ORDERS_BUY, limit=limit
    )
    accounts.add_sod_rule(ana, role_a="buyer-5k", role_b="approver", reason="no self-approval")
    clock.advance(timedelta(minutes=5))
    accounts.invite_user(
        ana,
        user_id="u-ben",
        name="Ben Okafor",
        email="ben.okafor@acme.example",
        business_unit_ids=["maint"],
        roles=["buyer-5k"],
    )
    accounts.invite_user(
        ana,
        user_id="u-clara",
        name="Clara Nguyen",
        email="clara.nguyen@acme.example",
        business_unit_ids=["leipzig"],
        roles=["approver"],
    )
    try:
        accounts.grant_role(ana, user_id="u-ben", role_id="approver")
    except ConflictError as e:
        notes.append(f"Refused: {e}")

    accounts.register_agent(
        operator_id="op-olga",
        agent_id="agent-sam",
        name="Sam Berg",
        email="sam.berg@seller.example",
    )
    clock.advance(timedelta(hours=1))
    session = accounts.start_assisted_session(
        agent_id="agent-sam",
        company_id="acme",
        customer_user_id="u-ben",
        reason="phone call: urgent spare parts order",
        permissions=[Permission.ORDERS_BUY, Permission.ORDERS_VIEW],
        duration=timedelta(minutes=30),
    )
    sam = Actor.assisted(session)
    cart = Resource("cart", "phone-order", session.company_id, "u-ben", BusinessUnitId("maint"))
    for amount in (Decimal("3200.00"), Decimal("7500.00")):
        money = Money(amount, "EUR")
        answer = accounts.explain(sam, Permission.ORDERS_BUY, resource=cart, amount=money)
        verdict = "yes" if answer.decision else "no"
        shown = format_money(money, locale=locale)
        notes.append(f"May Sam (for Ben) buy {shown}? {verdict} — {answer.decision.reason}")
    approve = accounts.explain(sam, Permission.APPROVALS_APPROVE)
    notes.append(f"May Sam approve? no — {approve.decision.reason}")
    clock.advance(timedelta(minutes=10))
    accounts.end_assisted_session(sam, session_id=session.id)
    return notes


PUMP = PriceItem(
    sku=Sku("PUMP-200"),
    product_id=ProductId("pump-200"),
    category_path=[CategoryId("spares"), CategoryId("pumps")],
    list_price=Money("1250.00", "EUR"),
    cost=Money("640.00", "EUR"),
)


def _pricing_story(portal: Portal, clock: FixedClock) -> list[str]:
    """Two buyer companies, one SKU, two contract prices — each explained."""
    year = datetime(2026, 1, 1, tzinfo=UTC)
    portal.accounts.create_company(
        Actor.operator_for("globex", "op-olga"),
        name="Globex Maschinenbau AG",
        country="AT",
        admin_email="gia@globex.example",
        admin_name="Gia Rossi",
        admin_user_id="u-gia",
    )
    lists = [
        PriceList(
            id=PriceListId("list-eur"),
            name="List prices EUR",
            currency="EUR",
            valid_from=year,
            rules=[PriceRule(id="list", target=RuleTarget.all(), formula=Formula())],
        ),
        PriceList(
            id=PriceListId("acme-2026"),
            name="ACME frame contract 2026",
            currency="EUR",
            valid_from=year,
            scope=PriceScope(companies={"acme"}),
            rules=[
                PriceRule(
                    id="pumps-12.5",
                    target=RuleTarget.category("pumps"),
                    formula=Formula(
                        percent=Decimal("-12.5"),
                        rounding=RoundingStep(ending=Decimal("0.90")),
                    ),
                ),
            ],
        ),
        PriceList(
            id=PriceListId("globex-2026"),
            name="Globex service contract",
            currency="EUR",
            valid_from=year,
            scope=PriceScope(companies={"globex"}),
            rules=[
                PriceRule(
                    id="pump-fixed",
                    target=RuleTarget.sku("PUMP-200"),
                    price=Money("1180.00", "EUR"),
                    tiers=[PriceTier(min_quantity=5, price=Money("1120.00", "EUR"))],
                ),
            ],
        ),
    ]
    for price_list in lists:
        portal.pricing.publish_price_list(operator_id="op-olga", price_list=price_list)
    clock.advance(timedelta(minutes=1))
    lines = []
    for actor in (Actor.user("acme", "u-ben"), Actor.user("globex", "u-gia")):
        quote = portal.pricing.quote(actor, PUMP, 3, currency="EUR")
        lines.append(quote.explanation.text())
    return lines


def _catalog_story(portal: Portal) -> None:
    """The seller's catalog around the PX-200 pump, and ACME's assortment."""
    op, cat = "op-olga", portal.catalog
    for category in (
        Category(id="machines", name="Machines"),
        Category(id="spares", name="Spare parts"),
        Category(id="pumps", name="Pumps", parent_id="spares"),
        Category(id="seals", name="Seals", parent_id="spares"),
        Category(id="accessories", name="Accessories"),
    ):
        cat.save_category(operator_id=op, category=category)
    eur = Money
    for product in (
        Product(
            sku="PX-200",
            name="Pump PX-200",
            category_id="machines",
            attributes={"model": "PX-200"},
            list_price=eur("9800.00", "EUR"),
        ),
        Product(
            sku="PUMP-200",
            name="Pump unit PX-200",
            category_id="pumps",
            attributes={"fits_model": "PX-200"},
            list_price=eur("1250.00", "EUR"),
        ),
        Product(
            sku="SEAL-7",
            name="Shaft seal",
            category_id="seals",
            attributes={"fits_model": "PX-200"},
            list_price=eur("18.40", "EUR"),
        ),
        Product(
            sku="SEAL-4",
            name="Shaft seal PX-100",
            category_id="seals",
            attributes={"fits_model": "PX-100"},
            list_price=eur("16.10", "EUR"),
        ),
        Product(
            sku="HOSE-2",
            name="Suction hose 2 m",
            category_id="accessories",
            list_price=eur("45.00", "EUR"),
        ),
        Product(
            sku="GAUGE-1",
            name="Pressure gauge",
            category_id="accessories",
            list_price=eur("120.00", "EUR"),
        ),
    ):
        cat.save_product(operator_id=op, product=product)
    cat.save_product(
        operator_id=op,
        product=Product(
            sku="SEAL-6",
            name="Shaft seal (old)",
            category_id="seals",
            lifecycle=Lifecycle.DISCONTINUED,
            successor_sku="SEAL-7",
        ),
    )
    for target, kind in (
        ("HOSE-2", "accessory"),
        ("GAUGE-1", "accessory"),
        ("SEAL-6", "spare_part"),
    ):
        cat.save_relation(
            operator_id=op,
            relation=ProductRelation(source_sku="PX-200", target_sku=target, type=kind),
        )
    cat.save_relation_rule(
        operator_id=op,
        rule=RelationRule(
            id="spares-by-model",
            type="spare_part",
            source_category="machines",
            target_category="spares",
            match=[AttributeMatch(source="model", target="fits_model")],
        ),
    )
    cat.save_assortment(
        Actor.operator_for("acme", op),
        Assortment(company_id="acme", exclude=Selection(skus={"GAUGE-1"})),
    )


def run_demo(db: Path, locale: str) -> int:
    """Run the demo story against the SQLite file ``db``; return the exit code."""
    clock = FixedClock(DEMO_START)
    with SQLiteStore(db) as store:
        portal = Portal(store, clock=clock)
        notes = _story(portal, clock, locale)
        prices = _pricing_story(portal, clock)
        _catalog_story(portal)

    # Read everything back from the file with a fresh store: it really was stored.
    with SQLiteStore(db) as store:
        portal = Portal(store, clock=clock)
        ana = Actor.user("acme", "u-ana")
        company = portal.accounts.get_company(ana)
        print(f"b2bcore {__version__} demo — data in {db}")
        print()
        print(f"{company.name} ({company.id}, {company.country})")
        for line in _tree_lines(portal.accounts.business_unit_tree(ana)):
            print(line)
        print()
        print("Users:")
        users = iterate(lambda cursor: portal.accounts.list_users(ana, limit=10, cursor=cursor))
        for user in users:
            roles = ", ".join(g.role_id for g in user.grants)
            units = ", ".join(user.business_unit_ids)
            print(f"  {user.name:<13} {user.email:<27} in {units:<9} roles: {roles}")
        print()
        for note in notes:
            print(note)
        print()
        print("The same spare part, two contracts:")
        for explanation in prices:
            print(explanation)
        print()
        print("Spare parts and accessories for Ben's PX-200 (ACME's assortment and prices):")
        related = portal.catalog.related_products(
            Actor.user("acme", "u-ben"), "PX-200", currency="EUR", types=["spare_part", "accessory"]
        )
        for item in related:
            shown = format_money(item.quote.unit_price, locale=locale)
            print(f"  {item.type.label:<10} {item.sku:<9} {shown:>12}  {item.reason}")
        print()
        print("Audit trail:")
        trail = iterate(lambda cursor: portal.accounts.audit_trail(ana, cursor=cursor))
        for entry in trail:
            when = format_datetime(entry.at, locale=locale, tz=TZ, width="short")
            who = entry.acted_by
            if entry.on_behalf_of != entry.acted_by:
                who += f" for {entry.on_behalf_of}"
            assisted = "  (assisted session)" if entry.by_agent else ""
            print(f"  {when:<20} {who:<21} {entry.action:<24} {entry.outcome.value}{assisted}")
        delivered: list[DomainEvent] = []
        report = portal.dispatch({DomainEvent: [delivered.append]})
        print()
        print(f"Outbox: {report.delivered} events delivered, {report.failed} failed")
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
