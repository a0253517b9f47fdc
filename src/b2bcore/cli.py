"""The ``b2bcore`` command line (also ``python -m b2bcore``).

``b2bcore demo [--db PATH] [--locale en_US|de_DE|vi_VN]`` tells a short story on an
embedded SQLite file and prints what it stored. The demo grows with every context.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import closing
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
from b2bcore.documents import BlobStore, DocumentKind, DocumentLink, FileSystemBlobStore
from b2bcore.errors import B2BCoreError, ConflictError
from b2bcore.events import DomainEvent
from b2bcore.ids import BusinessUnitId, CategoryId, PriceListId, ProductId, Sku
from b2bcore.l10n import SUPPORTED_LOCALES, format_date, format_datetime, format_money, get_zone
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
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

__all__ = ["main", "run_demo", "run_demo_on"]

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


def _orders_story(portal: Portal, clock: FixedClock) -> tuple[str, str]:
    """Globex buys two PX-200 machines with parts; Ben orders, the seller ships part
    of it and invoices it, the carrier reports; later a seal gets a new contract
    price (Ben's reorder, in the agent chapter, meets it)."""
    op, ben = Actor.operator_for("acme", "op-olga"), Actor.user("acme", "u-ben")
    stock = (("PX-200", 5), ("PUMP-200", 20), ("SEAL-7", 40), ("HOSE-2", 10), ("GAUGE-1", 10))
    for sku, on_hand in stock:
        portal.catalog.set_stock(
            operator_id="op-olga", sku=sku, location="leipzig", on_hand=on_hand
        )
    orders = portal.orders
    gia = Actor.user("globex", "u-gia")
    portal.accounts.grant_role(gia, user_id="u-gia", role_id="buyer")
    for key, lines in (
        ("gia-1", (("PX-200", 1), ("SEAL-7", 2), ("GAUGE-1", 1))),
        ("gia-2", (("PX-200", 1), ("SEAL-7", 2), ("HOSE-2", 1))),
    ):
        basket = orders.create_cart(gia, currency="EUR")
        for sku, quantity in lines:
            orders.add_to_cart(gia, basket.id, sku, quantity)
        orders.checkout(gia, basket.id, idempotency_key=key)
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
    return order.id, invoice.id


def _print_orders(portal: Portal, order_id: str, invoice_id: str, locale: str) -> None:
    """Ben's order as he follows it: the timeline, what is still to come, the invoice."""
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
    older = portal.assets.register(
        ben, serial_number="PX200-0017", sku="PX-200", business_unit_id="maint",
        site="Leipzig, hall 1", installed_on=date(2025, 1, 31),
    )  # fmt: skip
    portal.assets.verify(kim, older.id, warranty=Warranty(until=date(2027, 1, 31)))
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


def _approvals_story(portal: Portal, clock: FixedClock) -> tuple[str, ApprovalPreview, str]:
    """Ben's order of four pumps is over the 2,500 EUR approval limit: it waits in
    pending_approval until the plant's approver and its manager approve; the manager
    is on leave and has delegated to Ana. Delivering the flow's completion from the
    outbox places the order."""
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
                    id="over-2500",
                    name="Orders over 2,500 EUR",
                    condition="total > 2500 EUR",
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
    priced = portal.pricing.price_cart(ben, [CartLineInput(PUMP, 4)], currency="EUR")
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
    basket = portal.orders.create_cart(ben, currency="EUR")
    portal.orders.add_to_cart(ben, basket.id, "PUMP-200", 4)
    order = portal.orders.checkout(
        ben, basket.id, idempotency_key="ben-pumps", po_number="PO-2026-131"
    )
    flow_id = order.approval_flow_id
    assert flow_id is not None, order.status
    clock.advance(timedelta(minutes=30))
    portal.approvals.decide(
        Actor.user("acme", "u-clara"), flow_id, approve=True, comment="needed for line 3"
    )
    clock.advance(timedelta(minutes=45))
    portal.approvals.decide(ana, flow_id, approve=True, on_behalf_of="u-dev")
    portal.dispatch()  # the flow's completion places the order
    return flow_id, preview, order.id


def _print_approval(
    portal: Portal, flow_id: str, preview: ApprovalPreview, order_id: str, locale: str
) -> None:
    """The preview Ben saw (why approval is needed, who can give it), the decisions,
    and the order the approval placed."""
    ben = Actor.user("acme", "u-ben")
    flow = portal.approvals.get_flow(ben, flow_id)
    total = format_money(flow.subject.total, locale=locale)
    print()
    print(f"Approval of Ben's order of 4 PUMP-200 ({total}; over the 2,500 EUR approval limit):")
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
    order = portal.orders.get_order(ben, order_id)
    print(f"  order {order.po_number}: {order.status.value} (was pending_approval)")


def _maintenance_story(portal: Portal, clock: FixedClock) -> tuple[str, list[str]]:
    """Ben books the PX-200's annual maintenance for the week Europe/Berlin moves to
    summer time (Sunday 28 March 2027): the technicians' hours stay 08:00 local on
    both sides of the change, one hour earlier in UTC after it."""
    sch, ben = portal.scheduling, Actor.user("acme", "u-ben")
    sch.save_service_type(
        operator_id="op-olga",
        service_type=ServiceType(
            id="px200-annual",
            name="PX-200 annual maintenance",
            duration_minutes=120,
            interval_minutes=60,
            required_skills={"pumps"},
            min_notice_minutes=24 * 60,
            horizon_days=180,
        ),
    )
    zone = get_zone(TZ)
    start, end = datetime(2027, 3, 26, tzinfo=zone), datetime(2027, 3, 30, tzinfo=zone)
    slots = sch.find_slots(ben, "px200-annual", start=start, end=end, tz=TZ)
    friday = next(s for s in slots if s.local_start.day == 26)
    monday = next(s for s in slots if s.local_start.day == 29)
    shown = [
        f"{s.local_start:%a %d.%m. %H:%M} local = {s.start.astimezone(UTC):%H:%M} UTC"
        for s in (friday, monday)
    ]
    pump = portal.assets.find_by_serial(ben, "PX200-0042")
    held = sch.hold(ben, "px200-annual", monday.start, asset_id=pump.id,
                    notes="annual maintenance, hall 2")  # fmt: skip
    return sch.confirm(ben, held.id).id, shown


def _print_maintenance(portal: Portal, booking_id: str, slots: list[str], locale: str) -> None:
    """The annual maintenance booked across the change to summer time."""
    ben = Actor.user("acme", "u-ben")
    booking = portal.scheduling.appointment(ben, booking_id)
    print()
    print("Annual maintenance, booked across the clock change (Europe/Berlin, 28 March 2027):")
    print(f"  first slots: {'; '.join(slots)}")
    when = format_datetime(booking.start, locale=locale, tz=TZ, width="short")
    utc = f"{booking.start:%H:%M} UTC"
    print(f"  {booking.status.value}: {when} ({utc}) with {', '.join(booking.resource_ids)}")
    ical = portal.scheduling.ical(ben, booking_id)
    shown = [line for line in ical.splitlines() if line.startswith("DTSTART;")]
    print(f"  iCalendar: {'  '.join(shown)}")


def _assisted_story(portal: Portal, clock: FixedClock, order_id: str) -> tuple[str, list[str], str]:
    """A week later Ben calls: agent Sam, in an assisted session, reorders his first
    order (the seal's new contract price applies). Ben then orders three more pumps,
    which wait for approval."""
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    session = portal.accounts.start_assisted_session(
        agent_id="agent-sam",
        company_id="acme",
        customer_user_id="u-ben",
        reason="phone call: reorder PO-2026-118",
        permissions=[Permission.ORDERS_BUY, Permission.ORDERS_VIEW],
        duration=timedelta(minutes=30),
    )
    sam, orders = Actor.assisted(session), portal.orders
    filled = orders.reorder(sam, order_id)
    again = orders.checkout(sam, filled.cart.id, idempotency_key="sam-reorder",
                            po_number="PO-2026-140")  # fmt: skip
    clock.advance(timedelta(minutes=5))
    portal.accounts.end_assisted_session(sam, session_id=session.id)
    clock.advance(timedelta(hours=2))
    ben = Actor.user("acme", "u-ben")
    basket = orders.create_cart(ben, currency="EUR")
    orders.add_to_cart(ben, basket.id, "PUMP-200", 3)
    orders.checkout(ben, basket.id, idempotency_key="ben-pumps-2", po_number="PO-2026-141")
    portal.dispatch()
    return again.id, [line.describe() for line in filled.report], session.id


def _print_assisted(portal: Portal, order_id: str, report: list[str], locale: str) -> None:
    """The agent's reorder: the report per line and the order placed for Ben."""
    ben = Actor.user("acme", "u-ben")
    order = portal.orders.get_order(ben, order_id)
    when = format_datetime(order.created_at, locale=locale, tz=TZ, width="short")
    print()
    print(f"Agent Sam, in an assisted session for Ben, reorders PO-2026-118 ({when}):")
    for line in report:
        print(f"  {line}")
    total = format_money(order.total, locale=locale)
    session = "assisted session" if order.assisted_session_id else "self-service"
    print(f"  order {order.po_number}: {total}, {order.status.value}, "
          f"by {order.placed_by} for {order.requester_id} ({session})")  # fmt: skip


def _print_bought_together(portal: Portal) -> None:
    """What other buyers bought with the PX-200 — only what ACME may buy."""
    ben = Actor.user("acme", "u-ben")
    print()
    print("Frequently bought together with the PX-200 (all buyers' orders, ACME's assortment):")
    for s in portal.frequently_bought_together(ben, "PX-200"):
        print(f"  {s.sku:<9} {s.reason}")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: str = "") -> list[str]:
    """Rows under headers, columns padded; columns whose index is in ``right`` are
    right-aligned."""
    if not rows:
        return ["  (none)"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if str(i) in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return ("  " + "  ".join(parts)).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(r) for r in rows)]


def _print_dashboard(portal: Portal, locale: str) -> None:  # noqa: PLR0915 - one table per section
    """Ben's client dashboard as tidy text tables, and what waits on Clara."""
    ben = Actor.user("acme", "u-ben")
    board = portal.insights.client_dashboard(ben, tz=TZ)
    money = functools.partial(format_money, locale=locale)

    def when(at: datetime) -> str:
        return format_datetime(at, locale=locale, tz=TZ, width="short")

    def po(order_id: str) -> str:
        return portal.orders.get_order(ben, order_id).po_number or order_id

    print()
    print(f"Ben's dashboard, {when(board.at)} ({TZ}):")
    print()
    counts = ", ".join(f"{c.count} {c.status.value}" for c in board.orders.by_status)
    print(f"Open orders: {board.orders.count} ({counts})")
    rows = []
    for o in board.orders.orders:
        t = o.tracking
        track = "" if t is None else f"{t.status.value} {t.location} {when(t.at)} ({t.carrier})"
        rows.append([o.po_number, o.status.value, money(o.total), track])
    for text in _table(["PO", "Status", "Total", "Latest tracking"], rows, right="2"):
        print(text)
    print()
    owed = ", ".join(money(m) for m in board.invoices.outstanding) or money(Money("0", "EUR"))
    print(f"Invoices: {len(board.invoices.open)} open, {board.invoices.overdue_count} overdue, "
          f"outstanding {owed}")  # fmt: skip
    rows = [
        [po(i.order_id), money(i.total), money(i.balance),
         format_date(i.due_date, locale=locale), "overdue" if i.overdue else "open"]
        for i in board.invoices.open
    ]  # fmt: skip
    for text in _table(["Order", "Total", "Balance", "Due", "State"], rows, right="12"):
        print(text)
    print()
    print(f"Open claims: {len(board.claims.open)}")
    rows = [
        [c.title, c.status.value, c.priority.value, c.sla.value,
         when(c.eta) if c.eta else "-"]
        for c in board.claims.open
    ]  # fmt: skip
    for text in _table(["Claim", "Status", "Priority", "SLA", "ETA"], rows):
        print(text)
    print()
    print(f"Upcoming appointments: {len(board.appointments)}")
    rows = [
        [when(a.start), a.title, ", ".join(a.resource_ids), a.status.value]
        for a in board.appointments
    ]
    for text in _table(["When", "Service", "With", "Status"], rows):
        print(text)
    print()
    print(f"Warranties ending within 90 days: {len(board.warranties)}")
    rows = [
        [w.serial_number, w.sku, format_date(w.until, locale=locale), str(w.days_left)]
        for w in board.warranties
    ]
    for text in _table(["Serial", "SKU", "Until", "Days left"], rows, right="3"):
        print(text)
    print()
    approvals = board.approvals
    print(f"Approvals: {len(approvals.waiting_on_me)} waiting on me, "
          f"{len(approvals.mine_waiting)} of mine waiting on others")  # fmt: skip
    rows = [
        [po(a.subject_id), money(a.total), when(a.submitted_at), a.tier_name]
        for a in approvals.mine_waiting
    ]
    for text in _table(["Order", "Total", "Submitted", "Waiting on"], rows, right="1"):
        print(text)
    print()
    print("Suggestions:")
    rows = [
        ["buy again", s.sku, f"{s.status.value}, every {s.cadence.days} days"]
        for s in board.suggestions.buy_again
    ] + [
        ["bought together", s.sku, f"{float(s.confidence):.0%} of orders with {s.for_sku}"]
        for s in board.suggestions.bought_together
    ]
    for text in _table(["Kind", "SKU", "Why"], rows):
        print(text)
    print()
    print("Spend:")
    this, last = board.this_month.start, board.last_month.start
    zone = get_zone(TZ)
    rows = [
        [s.currency, money(s.this_month), money(s.last_month), money(s.change)] for s in board.spend
    ]
    headers = ["Currency", f"{this.astimezone(zone):%Y-%m}", f"{last.astimezone(zone):%Y-%m}",
               "Change"]  # fmt: skip
    for text in _table(headers, rows, right="123"):
        print(text)
    clara = portal.insights.client_dashboard(Actor.user("acme", "u-clara"), tz=TZ)
    for a in clara.approvals.waiting_on_me:
        print()
        print(f"Waiting on Clara: {po(a.subject_id)} by {a.requester_id}, {money(a.total)} "
              f"({a.tier_name})")  # fmt: skip


def _minutes(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def run_demo(db: Path, locale: str) -> int:
    """Run the demo story against the SQLite file ``db``; return the exit code."""
    blobs = FileSystemBlobStore(db.with_name(db.name + ".blobs"))  # document contents
    return run_demo_on(lambda: SQLiteStore(db), where=str(db), blobs=blobs, locale=locale)


def run_demo_on(  # noqa: PLR0915 - one statement per chapter
    open_store: Callable[[], Store], *, where: str, blobs: BlobStore, locale: str
) -> int:
    """Run the demo story on the stores ``open_store()`` opens (twice: once to write
    the story, once to read it back), in the order of the aftersales story: accounts,
    the catalog's spare parts, two companies' contract prices, an order approved by
    two approvers (one delegated), partial shipment, tracking and invoice, a warranty
    claim with a photo, the technician slots (one across a DST change), an agent's
    assisted reorder at a changed price, suggestions, and Ben's client dashboard."""
    clock = FixedClock(DEMO_START)
    with closing(open_store()) as store:
        portal = Portal(store, clock=clock, blobs=blobs)
        notes = _story(portal, clock, locale)
        prices = _pricing_story(portal, clock)
        _catalog_story(portal)
        order_id, invoice_id = _orders_story(portal, clock)
        booking_id, free_slots = _scheduling_story(portal, clock)
        approval_id, approval_preview, approved_order = _approvals_story(portal, clock)
        claim_id = _claims_story(portal, clock)
        maintenance_id, dst_slots = _maintenance_story(portal, clock)
        reorder_id, reordered, _session = _assisted_story(portal, clock, order_id)

    # Read everything back with a fresh store: it really was stored.
    with closing(open_store()) as store:
        portal = Portal(store, clock=clock, blobs=blobs)
        ana = Actor.user("acme", "u-ana")
        company = portal.accounts.get_company(ana)
        print(f"b2bcore {__version__} demo — data in {where}")
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
        print("Spare parts and accessories for Ben's PX-200 (ACME's assortment and prices):")
        related = portal.catalog.related_products(
            Actor.user("acme", "u-ben"), "PX-200", currency="EUR", types=["spare_part", "accessory"]
        )
        for item in related:
            shown = format_money(item.quote.unit_price, locale=locale)
            print(f"  {item.type.label:<10} {item.sku:<9} {shown:>12}  {item.reason}")
        print()
        print("The same spare part, two contracts:")
        for explanation in prices:
            print(explanation)
        _print_approval(portal, approval_id, approval_preview, approved_order, locale)
        _print_orders(portal, order_id, invoice_id, locale)
        _print_claim(portal, claim_id, locale)
        _print_appointment(portal, booking_id, free_slots, locale)
        _print_maintenance(portal, maintenance_id, dst_slots, locale)
        _print_assisted(portal, reorder_id, reordered, locale)
        _print_bought_together(portal)
        _print_dashboard(portal, locale)
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
