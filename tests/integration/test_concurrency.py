"""Races through the portal on the SQL stores (SQLite, and PostgreSQL when
``B2BCORE_POSTGRES_DSN`` is set), from threads of one process and from processes.

Several workers are released together on one thing:

* booking one slot (``scheduling.hold`` of the same time on the same technician),
  and confirming one hold;
* approving one flow (``approvals.decide`` by two approvers, and by the same
  approver twice, on the last tier);
* updating one order (the seller confirming and cancelling it at once);
* reserving the last unit in stock (several buyers checking it out);
* placing one order with one idempotency key.

Each time exactly one worker wins; the others get a
:class:`~b2bcore.errors.ConflictError` (a taken slot, stale version, missing stock),
or the error of the state the winner left (an :class:`InvalidTransitionError`
for an order already cancelled or a flow already decided) — or, with one
idempotency key, the very same order. Afterwards the store
is read back: nothing lost, nothing twice, stock and reservations consistent.

The competing processes are this module run as a script (:func:`child_main`), so
they run exactly the operations the threads run.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from b2bcore.accounts import Actor
from b2bcore.approvals import ApprovalPolicy, ApprovalRule, ApprovalTier, FlowStatus, Requirement
from b2bcore.audit import Outcome
from b2bcore.catalog import Category, Product, ReservationStatus
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError, ConflictError, InvalidTransitionError
from b2bcore.ids import CompanyId, OrderId, PriceListId, Sku
from b2bcore.money import Money
from b2bcore.orders import CartStatus, OrderStatus
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceList, PriceRule, RuleTarget
from b2bcore.scheduling import AppointmentStatus, Availability, Resource, ServiceType
from b2bcore.storage.ports import Store
from tests.integration.test_storage_faults import (
    DSN,
    Backend,
    _send,
    needs_server,
    open_store,
    read_line,
)

NOW = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday, 07:00 in Berlin
SLOT = datetime(2026, 3, 3, 9, tzinfo=UTC)  # Tuesday 10:00 in Berlin
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
OP = "op-olga"
SELLER = Actor.operator_for("acme", OP)
ANA = Actor.user("acme", "ana")
THREADS = 5
PROCESSES = 4
WORKERS = max(THREADS, PROCESSES)
#: The only unit of LAST-1 in stock.
LAST = "LAST-1"


def buyer(i: int) -> Actor:
    return Actor.user("acme", f"buyer-{i}")


def approver(i: int) -> Actor:
    # Two approvers take turns: the same approver decides more than once, and two
    # different approvers decide at the same time.
    return Actor.user("acme", f"approver-{i % 2}")


# -- the world -----------------------------------------------------------------------------
def portal_on(store: Store) -> Portal:
    return Portal(store, clock=FixedClock(NOW))


def build_world(portal: Portal) -> None:
    """ACME with buyers and approvers; a catalog with stock and a price list; a
    technician and a service type to book."""
    accounts = portal.accounts
    accounts.create_company(
        SELLER, name="ACME", admin_email="ana@acme.example", admin_name="Ana", admin_user_id="ana"
    )
    for i in range(WORKERS):
        accounts.invite_user(
            ANA,
            user_id=f"buyer-{i}",
            name=f"Buyer {i}",
            email=f"buyer-{i}@acme.example",
            business_unit_ids=["hq"],
            roles=["buyer"],
        )
    for i in range(2):
        accounts.invite_user(
            ANA,
            user_id=f"approver-{i}",
            name=f"Approver {i}",
            email=f"approver-{i}@acme.example",
            business_unit_ids=["hq"],
            roles=["approver"],
        )
    catalog = portal.catalog
    catalog.save_category(operator_id=OP, category=Category(id="spares", name="Spares"))
    for sku, name, price in (
        ("PUMP-1", "Pump unit", "1250.00"),
        ("SEAL-7", "Shaft seal", "18.40"),
        (LAST, "Last one", "99.00"),
    ):
        catalog.save_product(
            operator_id=OP,
            product=Product(
                sku=sku, name=name, category_id="spares", list_price=Money(price, "EUR")
            ),
        )
    for sku, on_hand in (("PUMP-1", 50), ("SEAL-7", 500), (LAST, 1)):
        catalog.set_stock(operator_id=OP, sku=sku, location="leipzig", on_hand=on_hand)
    portal.pricing.publish_price_list(
        operator_id=OP,
        price_list=PriceList(
            id=PriceListId("list"),
            name="List prices",
            currency="EUR",
            valid_from=YEAR,
            rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
        ),
    )
    week = Availability.weekly("MO-FR", [("08:00", "17:00")])
    portal.scheduling.save_resource(
        operator_id=OP,
        resource=Resource(id="tech-ana", name="Ana", timezone="Europe/Berlin", availability=week),
    )
    portal.scheduling.save_service_type(
        operator_id=OP,
        service_type=ServiceType(id="check", name="Check", duration_minutes=60),
    )


def approval_policy() -> ApprovalPolicy:
    return ApprovalPolicy(
        company_id="acme",
        rules=[
            ApprovalRule(
                id="over-500",
                name="Orders over 500 EUR",
                condition="total > 500 EUR",
                tiers=[ApprovalTier(name="Approvers", approvers=Requirement.role("approver"))],
            )
        ],
    )


def cart_of(portal: Portal, actor: Actor, *lines: tuple[str, int]) -> str:
    cart = portal.orders.create_cart(actor, currency="EUR")
    for sku, quantity in lines:
        portal.orders.add_to_cart(actor, cart.id, sku, quantity)
    return cart.id


# -- the operations the workers race with --------------------------------------------------
# Each takes the portal, the worker's number and the subject the parent prepared, and
# returns the id of what it made or changed.
def op_hold(portal: Portal, i: int, _subject: str) -> str:
    return portal.scheduling.hold(buyer(i), "check", SLOT, resource_ids=["tech-ana"]).id


def op_confirm_hold(portal: Portal, _i: int, booking_id: str) -> str:
    return portal.scheduling.confirm(buyer(0), booking_id).id


def op_decide(portal: Portal, i: int, flow_id: str) -> str:
    return portal.approvals.decide(approver(i), flow_id, approve=True, comment=f"ok {i}").id


def op_confirm_or_cancel(portal: Portal, i: int, order_id: str) -> str:
    if i % 2:
        return portal.orders.cancel_order(SELLER, order_id, reason=f"cancelled by {i}").id
    return portal.orders.confirm_order(SELLER, order_id, note=f"confirmed by {i}").id


def op_checkout_last(portal: Portal, i: int, carts: str) -> str:
    return portal.orders.checkout(buyer(i), carts.split(",")[i]).id


def op_checkout_once(portal: Portal, _i: int, cart_id: str) -> str:
    return portal.orders.checkout(buyer(0), cart_id, idempotency_key="po-4711/1").id


OPERATIONS: dict[str, Callable[[Portal, int, str], str]] = {
    "hold": op_hold,
    "confirm-hold": op_confirm_hold,
    "decide": op_decide,
    "confirm-or-cancel": op_confirm_or_cancel,
    "checkout-last": op_checkout_last,
    "checkout-once": op_checkout_once,
}


def attempt(portal: Portal, operation: str, i: int, subject: str) -> str:
    """Run one operation; its outcome as one line: ``won ID`` or ``lost ERROR``."""
    try:
        return f"won {OPERATIONS[operation](portal, i, subject)}"
    except B2BCoreError as e:
        return f"lost {type(e).__name__} conflict={isinstance(e, ConflictError)}"


# -- racing from threads and from processes -------------------------------------------------
_RUN_THIS_MODULE = (
    "import importlib.util, sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "spec = importlib.util.spec_from_file_location('b2bcore_concurrency', sys.argv[2])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.child_main(sys.argv[3:])\n"
)
_ROOT = str(Path(__file__).resolve().parents[2])


def child_main(argv: list[str]) -> None:
    """Entry point of the child processes: ``OPERATION KIND TARGET SCHEMA I SUBJECT``."""
    operation, kind, target, schema, i, subject = argv
    store = open_store(kind, target, schema)
    try:
        portal = portal_on(store)
        print("ready", flush=True)
        sys.stdin.readline()  # released together by the parent
        print(attempt(portal, operation, int(i), subject), flush=True)
    finally:
        store.close()


def race_threads(store: Store, operation: str, subject: str) -> list[str]:
    portal = portal_on(store)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = [""] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        outcomes[i] = attempt(portal, operation, i, subject)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(outcomes), f"a thread did not finish: {outcomes}"
    return outcomes


def race_processes(backend: Backend, operation: str, subject: str) -> list[str]:
    command = [sys.executable, "-c", _RUN_THIS_MODULE, _ROOT, __file__, operation]
    children = [
        subprocess.Popen(
            [*command, *backend.args(), str(i), subject],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    try:
        for child in children:  # every child has opened the store and built its portal
            assert read_line(child) == "ready"
        for child in children:
            _send(child.stdin, "go")
        outcomes = [read_line(child) for child in children]
        for child in children:
            _, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
    finally:
        for child in children:
            if child.poll() is None:  # pragma: no cover - only when an assertion failed
                child.kill()
                child.communicate(timeout=60)
    return outcomes


Race = Callable[[str, str], list[str]]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[needs_server, pytest.mark.postgres])]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "races.sqlite"))
        return
    name = f"b2b_races_{uuid.uuid4().hex[:16]}"
    yield Backend("postgres", DSN, name)
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    s = backend.open()
    yield s
    s.close()


@pytest.fixture
def portal(store: Store) -> Portal:
    p = portal_on(store)
    build_world(p)
    return p


@pytest.fixture(params=["threads", "processes"])
def race(request: pytest.FixtureRequest, backend: Backend, store: Store) -> Race:
    if request.param == "threads":
        return lambda operation, subject: race_threads(store, operation, subject)
    return lambda operation, subject: race_processes(backend, operation, subject)


# -- what the store holds afterwards -------------------------------------------------------
def winners(outcomes: list[str]) -> list[str]:
    return [o.split()[1] for o in outcomes if o.startswith("won ")]


def losers(outcomes: list[str]) -> list[str]:
    return [o.split()[1] for o in outcomes if o.startswith("lost ")]


def stock(store: Store, sku: str) -> tuple[Decimal, Decimal]:
    """(on hand, reserved) of ``sku`` over every location."""
    with store.unit_of_work() as uow:
        levels = uow.stock_levels.for_sku(Sku(sku))
    return (
        sum((lv.on_hand for lv in levels), Decimal(0)),
        sum((lv.reserved for lv in levels), Decimal(0)),
    )


def reservations(store: Store, reference: str) -> list[tuple[str, Decimal, ReservationStatus]]:
    with store.unit_of_work() as uow:
        found = iterate(
            lambda c: uow.reservations.list(
                company_id=CompanyId("acme"), reference=reference, cursor=c
            )
        )
        return sorted((r.sku, r.quantity, r.status) for r in found)


def allowed(portal: Portal, action: str) -> int:
    entries = iterate(
        lambda c: portal.accounts.audit_trail(ANA, action=action, outcome=Outcome.ALLOWED, cursor=c)
    )
    return sum(1 for _ in entries)


def orders_in_store(store: Store) -> list[tuple[str, OrderStatus]]:
    with store.unit_of_work() as uow:
        every = iterate(lambda c: uow.orders.list(company_id=CompanyId("acme"), cursor=c))
        return [(o.id, o.status) for o in every]


def slot_claims(backend: Backend) -> list[str]:
    """The booking each stored claim on tech-ana's time belongs to, read with the
    raw driver: the rows whose primary key refuses a double booking."""
    sql = "SELECT booking FROM {}slot_claims WHERE resource_id = 'tech-ana' ORDER BY id"
    if backend.kind == "sqlite":
        conn = sqlite3.connect(backend.target)
        try:
            rows = conn.execute(sql.format("")).fetchall()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(backend.target) as pg:
            rows = pg.execute(sql.format(f'"{backend.schema}".')).fetchall()
    return [str(booking) for (booking,) in rows]


# -- booking one slot -----------------------------------------------------------------------
def test_buyers_racing_for_one_slot_one_holds_it(
    portal: Portal, backend: Backend, race: Race
) -> None:
    outcomes = race("hold", "")
    (booking_id,) = winners(outcomes)
    assert all(o.endswith("conflict=True") for o in outcomes if o.startswith("lost ")), outcomes
    assert set(losers(outcomes)) <= {"SlotTakenError", "SlotUnavailableError"}, outcomes
    page = portal.scheduling.appointments(ANA)
    assert [(b.id, b.status, b.start) for b in page.items] == [
        (booking_id, AppointmentStatus.HELD, SLOT)
    ]
    # One hour in 5-minute granules, every one claimed by the winner and nobody else.
    assert slot_claims(backend) == [f"acme#{booking_id}"] * 12
    assert allowed(portal, "appointment.hold") == 1


def test_confirming_one_hold_at_once_confirms_it_once(
    portal: Portal, backend: Backend, race: Race
) -> None:
    held = portal.scheduling.hold(buyer(0), "check", SLOT, resource_ids=["tech-ana"])
    outcomes = race("confirm-hold", held.id)
    assert winners(outcomes) == [held.id]
    assert set(losers(outcomes)) <= {"InvalidTransitionError", "ConcurrencyError"}, outcomes
    booking = portal.scheduling.appointment(buyer(0), held.id)
    assert booking.status is AppointmentStatus.CONFIRMED
    assert booking.version == held.version + 1
    assert slot_claims(backend) == [f"acme#{held.id}"] * 12
    assert allowed(portal, "appointment.confirm") == 1


# -- approving one flow ---------------------------------------------------------------------
def test_approvers_deciding_one_flow_at_once_decide_it_once(
    portal: Portal, store: Store, race: Race
) -> None:
    portal.approvals.save_policy(ANA, approval_policy())
    order = portal.orders.checkout(buyer(0), cart_of(portal, buyer(0), ("PUMP-1", 1)))
    assert order.status is OrderStatus.PENDING_APPROVAL
    assert order.approval_flow_id is not None
    outcomes = race("decide", order.approval_flow_id)
    assert winners(outcomes) == [order.approval_flow_id], outcomes
    # A loser either lost the race on the flow's version (a conflict), or read the
    # flow after the winner's commit: no longer pending.
    assert set(losers(outcomes)) <= {"ConcurrencyError", "InvalidTransitionError"}, outcomes
    flow = portal.approvals.get_flow(ANA, order.approval_flow_id)
    assert flow.status is FlowStatus.APPROVED
    assert len(flow.decisions()) == 1
    assert allowed(portal, "approval.approve") == 1
    portal.dispatch()  # the completed flow places the order, once
    portal.dispatch()
    placed = portal.orders.get_order(buyer(0), order.id)
    assert placed.status is OrderStatus.PLACED
    assert [h.to_status for h in placed.history].count(OrderStatus.PLACED.value) == 1
    assert stock(store, "PUMP-1") == (Decimal(50), Decimal(1))
    with pytest.raises(InvalidTransitionError):  # and nobody can decide it again
        portal.approvals.decide(approver(1), flow.id, approve=False, comment="too late")


# -- updating one order ---------------------------------------------------------------------
def test_confirming_and_cancelling_one_order_at_once_ends_cancelled_once(
    portal: Portal, store: Store, race: Race
) -> None:
    order = portal.orders.checkout(
        buyer(0), cart_of(portal, buyer(0), ("SEAL-7", 4), ("PUMP-1", 2))
    )
    assert order.status is OrderStatus.PLACED
    outcomes = race("confirm-or-cancel", order.id)
    confirms = [o for i, o in enumerate(outcomes) if i % 2 == 0 and o.startswith("won ")]
    cancels = [o for i, o in enumerate(outcomes) if i % 2 == 1 and o.startswith("won ")]
    # Cancelling is allowed from placed and from confirmed: exactly one cancel wins
    # whatever came first; a confirmation wins only before it, at most once.
    assert len(cancels) == 1, outcomes
    assert len(confirms) <= 1, outcomes
    assert set(losers(outcomes)) <= {"InvalidTransitionError", "ConcurrencyError"}, outcomes
    final = portal.orders.get_order(buyer(0), order.id)
    assert final.status is OrderStatus.CANCELLED
    moves = [h.to_status for h in final.history]
    assert moves.count(OrderStatus.CANCELLED.value) == 1
    assert moves.count(OrderStatus.CONFIRMED.value) == len(confirms)
    assert final.version == order.version + 1 + len(confirms)
    # The stock came back exactly once.
    assert stock(store, "SEAL-7") == (Decimal(500), Decimal(0))
    assert stock(store, "PUMP-1") == (Decimal(50), Decimal(0))
    assert reservations(store, order.id) == [
        ("PUMP-1", Decimal(2), ReservationStatus.RELEASED),
        ("SEAL-7", Decimal(4), ReservationStatus.RELEASED),
    ]
    assert allowed(portal, "order.cancel") == 1
    assert allowed(portal, "order.confirm") == len(confirms)


# -- reserving the last stock ---------------------------------------------------------------
def test_buyers_checking_out_the_last_unit_at_once_one_gets_it(
    portal: Portal, store: Store, race: Race
) -> None:
    carts = [cart_of(portal, buyer(i), (LAST, 1)) for i in range(WORKERS)]
    outcomes = race("checkout-last", ",".join(carts))
    (order_id,) = winners(outcomes)
    assert all(o.endswith("conflict=True") for o in outcomes if o.startswith("lost ")), outcomes
    # Out of stock: the cart's line is no longer orderable (or the reservation found
    # too little, or the race on the stock level's version was lost every retry).
    expected = {"NotOrderableCartError", "InsufficientStockError", "ConcurrencyError"}
    assert set(losers(outcomes)) <= expected, outcomes
    assert orders_in_store(store) == [(order_id, OrderStatus.PLACED)]
    assert stock(store, LAST) == (Decimal(1), Decimal(1))
    assert reservations(store, order_id) == [(LAST, Decimal(1), ReservationStatus.ACTIVE)]
    with store.unit_of_work() as uow:
        every = iterate(
            lambda c: uow.reservations.list(company_id=CompanyId("acme"), sku=Sku(LAST), cursor=c)
        )
        assert [r.reference for r in every] == [order_id]
    statuses = [portal.orders.get_cart(buyer(i), carts[i]).status for i in range(WORKERS)]
    assert statuses.count(CartStatus.ORDERED) == 1  # the losers' carts stay open to retry
    assert statuses.count(CartStatus.OPEN) == WORKERS - 1
    assert allowed(portal, "order.place") == 1


# -- placing one order with one idempotency key ----------------------------------------------
def test_one_idempotency_key_from_every_worker_places_one_order(
    portal: Portal, store: Store, race: Race
) -> None:
    cart = cart_of(portal, buyer(0), ("SEAL-7", 4), ("PUMP-1", 1))
    outcomes = race("checkout-once", cart)
    assert [o.split()[0] for o in outcomes] == ["won"] * len(outcomes), outcomes
    (order_id,) = set(winners(outcomes))  # every retry got the same order
    assert orders_in_store(store) == [(order_id, OrderStatus.PLACED)]
    assert stock(store, "SEAL-7") == (Decimal(500), Decimal(4))
    assert stock(store, "PUMP-1") == (Decimal(50), Decimal(1))
    assert len(reservations(store, order_id)) == 2
    assert allowed(portal, "order.place") == len(outcomes)  # each request answered...
    with store.unit_of_work() as uow:  # ...by one order, remembered under its key
        assert uow.orders.get(OrderId(order_id), company_id=CompanyId("acme")).idempotency_key == (
            "po-4711/1"
        )
    assert portal.orders.get_cart(buyer(0), cart).status is CartStatus.ORDERED


def test_the_operations_run_in_this_process_too(portal: Portal) -> None:
    # attempt() is what every worker runs: check it directly, so a failure in a
    # race is not a bug of the helpers.
    assert attempt(portal, "hold", 1, "").startswith("won ")
    assert attempt(portal, "hold", 2, "") == "lost SlotUnavailableError conflict=True"
    order = portal.orders.checkout(buyer(0), cart_of(portal, buyer(0), ("SEAL-7", 2)))
    assert attempt(portal, "confirm-or-cancel", 1, order.id) == f"won {order.id}"
    assert attempt(portal, "confirm-or-cancel", 0, order.id) == (
        "lost InvalidTransitionError conflict=False"
    )
