"""The client dashboard never shows a record the actor may not see (tenant and view
scope), and its figures equal a brute-force recomputation from the store."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.clock import FixedClock
from b2bcore.errors import PermissionDeniedError
from b2bcore.ids import CompanyId
from b2bcore.insights import Period, client_dashboard, spend_report
from b2bcore.insights.rules import OPEN_ORDER_STATUSES, SPEND_STATUSES
from b2bcore.money import Money
from b2bcore.orders import Order
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from tests.unit.orders.conftest import NOW, OP, build_world

BUYERS = ("ben", "clara")
VIEWERS = ("ana", "ben", "clara", "dora", "finn")

orders = st.lists(
    st.tuples(
        st.sampled_from(BUYERS),
        st.just("SEAL-7"),
        st.integers(min_value=1, max_value=3),
        st.integers(min_value=0, max_value=45),  # days after NOW
        st.sampled_from(["keep", "confirm", "cancel"]),
    ),
    max_size=4,
)


def _visible(portal: Portal, actor: Actor, order: Order) -> bool:
    try:
        portal.orders.get_order(actor, order.id)
    except PermissionDeniedError:
        return False
    return True


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders, st.integers(min_value=0, max_value=60))
def test_dashboard_shows_exactly_what_the_actor_may_see(
    placed: list[tuple[str, str, int, int, str]], look_after: int
) -> None:
    clock = FixedClock(NOW)
    portal = Portal(MemoryStore(), clock=clock)
    build_world(portal)
    for n, (buyer, sku, quantity, day, fate) in enumerate(sorted(placed, key=lambda p: p[3])):
        clock.set(NOW + timedelta(days=day, minutes=n))
        actor = Actor.user("acme", buyer)
        cart = portal.orders.create_cart(actor, currency="EUR")
        portal.orders.add_to_cart(actor, cart.id, sku, quantity * 2)
        order = portal.orders.checkout(actor, cart.id)
        if fate == "confirm":
            portal.orders.confirm_order(OP, order.id)
        elif fate == "cancel":
            portal.orders.cancel_order(OP, order.id)
    at = NOW + timedelta(days=look_after, hours=1)
    clock.set(at)
    with portal.store.unit_of_work() as uow:
        stored = list(
            iterate(lambda c: uow.orders.list(company_id=CompanyId("acme"), limit=100, cursor=c))
        )
    this_month = Period.month_of(at)
    last_month = this_month.previous_month()
    for uid in VIEWERS:
        actor = Actor.user("acme", uid)
        board = client_dashboard(portal, actor, at, tz="UTC")
        seen = [o for o in stored if _visible(portal, actor, o)]
        open_ids = {o.id for o in seen if o.status in OPEN_ORDER_STATUSES}
        assert {o.order_id for o in board.orders.orders} == open_ids
        assert board.orders.count == len(open_ids)
        for period, pick in ((this_month, 0), (last_month, 1)):
            expected = sum(
                (
                    o.total
                    for o in seen
                    if o.status in SPEND_STATUSES and period.start <= o.created_at < period.end
                ),
                Money.zero("EUR"),
            )
            got = [(s.this_month, s.last_month)[pick] for s in board.spend]
            assert sum(got, Money.zero("EUR")) == expected
        if board.spend or seen:
            report = spend_report(portal, actor, this_month, "business_unit")
            assert sum((r.amount for r in report.rows), Money.zero("EUR")) == sum(
                (s.this_month for s in board.spend), Money.zero("EUR")
            )
    # Another tenant sees none of ACME's orders.
    gia = client_dashboard(portal, Actor.user("globex", "gia"), at)
    assert gia.orders.orders == ()
    assert gia.spend == ()
