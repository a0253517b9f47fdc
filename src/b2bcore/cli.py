"""The ``b2bcore`` command line (also ``python -m b2bcore``).

``b2bcore demo [--db PATH] [--locale en_US|de_DE|vi_VN]`` tells a short story on an
embedded SQLite file and prints what it stored. The demo grows with every context.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from b2bcore import __version__
from b2bcore.accounts import Actor, BusinessUnit, Permission, Resource
from b2bcore.approvals import (
    ApprovalPolicy,
    ApprovalPreview,
    ApprovalRule,
    ApprovalTier,
    Escalation,
    Requirement,
    Subject,
    SubjectLine,
    SubjectRef,
)
from b2bcore.assets import Warranty
from b2bcore.calendar import BusinessCalendar
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
from b2bcore.claims import Priority
from b2bcore.clock import FixedClock
from b2bcore.documents import DocumentKind, DocumentLink, FileSystemBlobStore
from b2bcore.errors import B2BCoreError, ConflictError
from b2bcore.events import DomainEvent
from b2bcore.ids import BusinessUnitId, CategoryId, PriceListId, ProductId, Sku
from b2bcore.l10n import SUPPORTED_LOCALES, format_datetime, format_money
from b2bcore.money import Money
from b2bcore.orders import TrackingStatus
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import (
    CartLineInput,
    Formula,
    PriceItem,
    PriceList,
    PriceRule,
    PriceScope,
    PriceTier,
    RoundingStep,
    RuleTarget,
)
from b2bcore.scheduling import Availability, ServiceType
from b2bcore.scheduling import Resource as ServiceResource
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


def _orders_story(portal: Portal, clock: FixedClock) -> tuple[str, str, list[str]]:
    """Ben orders, the seller ships part of it and invoices it, the carrier reports;
    later a seal gets a new contract price and Ben reorders."""
    op, ben = Actor.operator_for("acme", "op-olga"), Actor.user("acme", "u-ben")
    for sku, on_hand in (("PUMP-200", 2), ("SEAL-7", 40), ("HOSE-2", 10)):
        portal.catalog.set_stock(
            operator_id="op-olga", sku=sku, location="leipzig", on_hand=on_hand
        )
    orders = portal.orders
    cart = orders.create_cart(ben, currency="EUR")
    for sku, quantity in (("PUMP-200", 1), ("SEAL-7", 4), ("HOSE-2", 1)):
        orders.add_to_cart(ben, cart.id, sku, quantity)
    order = orders.checkout(ben, cart.id, idempotency_key="ben-1", po_number="PO-2026-118")
    clock.advance(timedelta(hours=1))
    orders.confirm_order(op, order.id)
    shipment = orders.ship(
        op,
        order.id,
        quantities={"PUMP-200": 1, "SEAL-7": 2},
        carrier="DHL",
        tracking_number="JD014600003",
        shipment_id="S1",
    )
    invoice = orders.issue_invoice(op, order.id, shipment_id=shipment.id)
    clock.advance(timedelta(hours=20))
    orders.record_tracking(op, shipment.id, status=TrackingStatus.IN_TRANSIT, location="Leipzig")
    clock.advance(timedelta(hours=6))
    orders.record_tracking(op, shipment.id, status=TrackingStatus.DELIVERED, location="Dresden")
    portal.pricing.publish_price_list(
        operator_id="op-olga",
        price_list=PriceList(
            id=PriceListId("acme-seals-2027"),
            name="ACME seals",
            currency="EUR",
            valid_from=clock.now(),
            scope=PriceScope(companies={"acme"}),
            rules=[
                PriceRule(id="seal-7", target=RuleTarget.sku("SEAL-7"), price=Money("17.90", "EUR"))
            ],
        ),
    )
    clock.advance(timedelta(minutes=1))
    again = orders.reorder(ben, order.id)
    return order.id, invoice.id, [line.describe() for line in again.report]


def _print_orders(
    portal: Portal, order_id: str, invoice_id: str, reordered: list[str], locale: str
) -> None:
    """Ben's order as he follows it: the timeline, what is still to come, the invoice,
    and the reorder report."""
    print()
    ben = Actor.user("acme", "u-ben")
    tracking = portal.orders.track_order(ben, order_id)
    order = portal.orders.get_order(ben, order_id)
    total = format_money(order.total, locale=locale)
    print(f"Ben's order {order.po_number}: {total}, {tracking.status.value.replace('_', ' ')}")
    for at, text in tracking.timeline:
        when = format_datetime(at, locale=locale, tz=TZ, width="short")
        print(f"  {when:<20} {text.replace(order_id, 'order')}")
    left = ", ".join(f"{t.sku} {t.outstanding} of {t.ordered}" for t in tracking.lines)
    print(f"  still to come: {left}")
    invoice = portal.orders.get_invoice(ben, invoice_id)
    shown = format_money(invoice.total, locale=locale)
    print(f"  invoice {shown}, {invoice.terms.describe()}, due {invoice.due_date.isoformat()}")
    print("Reorder at today's prices:")
    for line in reordered:
        print(f"  {line}")


def _scheduling_story(portal: Portal, clock: FixedClock) -> tuple[str, list[str]]:
    """The seller's pump technicians in Leipzig; Ben finds a slot for a service of
    ACME's PX-200, holds it and confirms it."""
    op, sch = "op-olga", portal.scheduling
    hours = Availability.weekly("MO-FR", [("08:00", "12:00"), ("13:00", "16:00")])
    for rid, name, skills in (("tech-lena", "Lena", {"pumps"}), ("tech-omar", "Omar", {"pumps"})):
        sch.save_resource(
            operator_id=op,
            resource=ServiceResource(
                id=rid, name=name, skills=skills, timezone=TZ, availability=hours
            ),
        )
    sch.save_service_type(
        operator_id=op,
        service_type=ServiceType(
            id="pump-service",
            name="PX-200 pump service",
            duration_minutes=90,
            interval_minutes=30,
            buffer_after_minutes=30,
            required_skills={"pumps"},
            min_notice_minutes=24 * 60,
            cutoff_minutes=24 * 60,
        ),
    )
    ben, now = Actor.user("acme", "u-ben"), clock.now()
    slots = sch.find_slots(ben, "pump-service", start=now, end=now + timedelta(days=2), tz=TZ)
    held = sch.hold(ben, "pump-service", slots[0].start, asset_id="PX-200-0042",
                    notes="Pump in hall 2 rattles")  # fmt: skip
    booking = sch.confirm(ben, held.id)
    return booking.id, [f"{s.local_start:%a %H:%M} ({', '.join(s.choices[0])})" for s in slots[:4]]


def _print_appointment(portal: Portal, booking_id: str, slots: list[str], locale: str) -> None:
    """Ben's appointment as stored, and the lines of its calendar file that matter."""
    ben = Actor.user("acme", "u-ben")
    booking = portal.scheduling.appointment(ben, booking_id)
    print()
    print("Service appointment for ACME's PX-200 (first free slots, Europe/Berlin):")
    print(f"  {'; '.join(slots)}")
    when = format_datetime(booking.start, locale=locale, tz=TZ, width="short")
    who = ", ".join(booking.resource_ids)
    print(f"  {booking.status.value}: {when} with {who}, asset {booking.asset_id}")
    ical = portal.scheduling.ical(ben, booking_id)
    shown = [line for line in ical.splitlines() if line.startswith(("DTSTART;", "STATUS"))]
    print(f"  iCalendar: {'  '.join(shown)}")


def _claims_story(portal: Portal, clock: FixedClock) -> str:
    """Ben registers ACME's PX-200 (the seller verifies it, with its warranty), files a
    warranty claim with a photo, answers the agent's question, the agent approves it
    and links the repair appointment Ben books for it."""
    ben, kim = Actor.user("acme", "u-ben"), Actor.operator_for("acme", "agent-kim")
    pump = portal.assets.register(
        ben, serial_number="PX200-0042", sku="PX-200", business_unit_id="maint",
        site="Leipzig, hall 2", installed_on=date(2026, 9, 14),
    )  # fmt: skip
    cover = Warranty(until=date(2028, 9, 14), terms="2 years parts and labour")
    portal.assets.verify(kim, pump.id, warranty=cover)
    photo = portal.documents.upload(
        ben, title="Rattling bearing, hall 2", kind=DocumentKind.PHOTO,
        content=b"\x89PNG\r\n\x1a\n" + bytes(64), media_type="image/png",
        filename="px200-bearing.png", links=[DocumentLink.asset(pump.id)],
    )  # fmt: skip
    claims = portal.claims
    claim = claims.open_claim(ben, type_id="warranty", title="PX-200 rattles under load",
                              description="Loud rattling from the bearing since Monday.",
                              priority=Priority.HIGH)  # fmt: skip
    claims.add_asset_line(ben, claim.id, asset_id=pump.id, reason="bearing noise")
    claims.attach(ben, claim.id, photo.id)
    claims.submit(ben, claim.id)
    clock.advance(timedelta(hours=1))
    claims.start_review(kim, claim.id)
    claims.request_info(kim, claim.id, "Does it rattle under load only, or also idling?")
    clock.advance(timedelta(hours=20))
    claims.provide_info(ben, claim.id, "Only under load, from about 60 % on.")
    clock.advance(timedelta(minutes=30))
    claims.approve(kim, claim.id, note="bearing under warranty")
    sch, now = portal.scheduling, clock.now()
    slots = sch.find_slots(ben, "pump-service", start=now, end=now + timedelta(days=3), tz=TZ)
    held = sch.hold(ben, "pump-service", slots[0].start, asset_id=pump.id, claim_id=claim.id,
                    notes="warranty repair of the bearing")  # fmt: skip
    booking = sch.confirm(ben, held.id)
    claims.schedule_repair(kim, claim.id, booking.id, note="technician replaces the bearing")
    return claim.id


def _print_claim(portal: Portal, claim_id: str, locale: str) -> None:
    """Ben's warranty claim as he follows it: the warranty decision, every move, the
    conversation, the evidence, the repair and the service clock."""
    ben = Actor.user("acme", "u-ben")
    claim = portal.claims.get(ben, claim_id)
    print()
    print(f"Warranty claim \"{claim.title}\" ({claim.priority.value}): "
          f"{claim.status.value.replace('_', ' ')}")  # fmt: skip
    line = claim.lines[0]
    if line.warranty is not None:
        print(f"  warranty: {line.warranty.reason}")
    for change in claim.history[1:]:
        when = format_datetime(change.at, locale=locale, tz=TZ, width="short")
        moved = f"{change.from_status.value if change.from_status else ''} -> "
        print(f"  {when:<20} {change.party.value:<9} {moved}{change.to_status.value}")
    for message in portal.claims.messages(ben, claim_id):
        print(f"  {message.party.value:<9} says: {message.body}")
    print(f"  evidence: {', '.join(f'{a.name} ({a.media_type})' for a in claim.attachments)}")
    repair = claim.resolutions[-1]
    if repair.booking_id is not None:
        booking = portal.scheduling.appointment(ben, repair.booking_id)
        when = format_datetime(booking.start, locale=locale, tz=TZ, width="short")
        print(f"  repair: {booking.status.value} {when} with {', '.join(booking.resource_ids)}")
    sla = portal.claims.sla(ben, claim_id)
    if sla.eta is not None and sla.resolution is not None and sla.resolution.running:
        eta = format_datetime(sla.eta, locale=locale, tz=TZ, width="short")
        used = _minutes(sla.resolution.elapsed)
        print(f"  service clock: {used} of business hours used, resolution expected by {eta}")
    else:
        print(f"  service clock: {sla.describe()}")


def _approvals_story(portal: Portal, clock: FixedClock) -> tuple[str, ApprovalPreview]:
    """Ben's cart of seven pumps is over his 5,000 EUR buying limit: the plant's
    approver and its manager must approve; the manager is on leave and has delegated
    to Ana."""
    ana, ben = Actor.user("acme", "u-ana"), Actor.user("acme", "u-ben")
    portal.accounts.invite_user(
        ana,
        user_id="u-dev",
        name="Dev Patel",
        email="dev.patel@acme.example",
        business_unit_ids=["leipzig"],
        roles=["approver"],
    )
    office = BusinessCalendar.uniform(
        TZ, [("08:00", "12:00"), ("13:00", "17:00")], holidays=["2026-12-24", "2026-12-25"]
    )
    portal.approvals.save_policy(
        ana,
        ApprovalPolicy(
            company_id="acme",
            calendar=office,
            rules=[
                ApprovalRule(
                    id="over-5k",
                    name="Orders over 5,000 EUR",
                    condition="total > 5000 EUR",
                    tiers=[
                        ApprovalTier(
                            name="Plant approval",
                            approvers=Requirement.role("approver"),
                            timeout=timedelta(hours=8),
                            escalate_to=Escalation.to_parent_unit(),
                        ),
                        ApprovalTier(name="Plant manager", approvers=Requirement.user("u-dev")),
                    ],
                )
            ],
        ),
    )
    priced = portal.pricing.price_cart(ben, [CartLineInput(PUMP, 7)], currency="EUR")
    cart = Subject(
        ref=SubjectRef("cart", "ben-pumps"),
        company_id="acme",
        requester_id="u-ben",
        total=priced.total,
        business_unit_id="maint",
        cost_center="CC-4711",
        lines=[
            SubjectLine(
                sku=line.item.sku,
                amount=line.net,
                categories=line.item.category_path,
                quantity=line.quote.quantity,
            )
            for line in priced.lines
        ],
    )
    portal.approvals.delegate(
        Actor.user("acme", "u-dev"),
        delegate_id="u-ana",
        valid_from=clock.now(),
        valid_until=clock.now() + timedelta(days=4),
        reason="on leave until Friday",
    )
    preview = portal.approvals.preview(ben, cart)
    flow = portal.approvals.submit(ben, cart, flow_id="approval-ben-pumps")
    clock.advance(timedelta(minutes=30))
    portal.approvals.decide(
        Actor.user("acme", "u-clara"), flow.id, approve=True, comment="needed for line 3"
    )
    clock.advance(timedelta(minutes=45))
    portal.approvals.decide(ana, flow.id, approve=True, on_behalf_of="u-dev")
    return flow.id, preview


def _print_approval(portal: Portal, flow_id: str, preview: ApprovalPreview, locale: str) -> None:
    """The preview Ben saw (why approval is needed, who can give it), the decisions."""
    ben = Actor.user("acme", "u-ben")
    flow = portal.approvals.get_flow(ben, flow_id)
    total = format_money(flow.subject.total, locale=locale)
    print()
    print(f"Approval of Ben's cart of 7 PUMP-200 ({total}; Ben may buy up to 5,000 EUR):")
    (rule,) = (r for r in preview.rules if r.matched)
    print(f"  {rule.name}: {'; '.join(str(c) for c in rule.checks)}")
    for tier in rule.tiers:
        who = "; ".join(
            c.name + (f" for {c.on_behalf_of}" if c.on_behalf_of else "") for c in tier.candidates
        )
        print(f"  tier {tier.index + 1} {tier.name} ({tier.needs}): {who or 'nobody yet'}")
    for d in flow.decisions():
        when = format_datetime(d.at, locale=locale, tz=TZ, width="short")
        how = f"{d.acted_by} for {d.on_behalf_of} (delegated)" if d.delegated else d.acted_by
        note = f": {d.comment}" if d.comment else ""
        print(f"  {when:<20} {how} {d.verdict.value}{note}")
    elapsed, business = flow.cycle_time, flow.business_cycle_time
    assert elapsed is not None
    hours = "" if business is None else f", {_minutes(business)} of business hours"
    print(f"  {flow.status.value} after {_minutes(elapsed)}{hours}")


def _minutes(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def run_demo(db: Path, locale: str) -> int:  # noqa: PLR0915 - one statement per chapter
    """Run the demo story against the SQLite file ``db``; return the exit code."""
    clock = FixedClock(DEMO_START)
    blobs = FileSystemBlobStore(db.with_name(db.name + ".blobs"))  # document contents
    with SQLiteStore(db) as store:
        portal = Portal(store, clock=clock, blobs=blobs)
        notes = _story(portal, clock, locale)
        prices = _pricing_story(portal, clock)
        _catalog_story(portal)
        order_id, invoice_id, reordered = _orders_story(portal, clock)
        booking_id, free_slots = _scheduling_story(portal, clock)
        approval_id, approval_preview = _approvals_story(portal, clock)
        claim_id = _claims_story(portal, clock)

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
        _print_orders(portal, order_id, invoice_id, reordered, locale)
        _print_appointment(portal, booking_id, free_slots, locale)
        _print_approval(portal, approval_id, approval_preview, locale)
        _print_claim(portal, claim_id, locale)
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
