"""Recommendations through the portal: frequently bought together counted over every
company's orders, kept current by ``portal.dispatch()`` as orders are placed and
cancelled; buy-again from the company's own cadence; both limited to what the buyer
may buy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from b2bcore.accounts import Actor
from b2bcore.catalog.recommendations import BuyAgainStatus
from b2bcore.clock import FixedClock
from b2bcore.orders import Order
from b2bcore.portal import Portal

BEN = Actor.user("acme", "ben")
CLARA = Actor.user("acme", "clara")
GIA = Actor.user("globex", "gia")
OP = Actor.operator_for("acme", "op-olga")


@pytest.fixture(autouse=True)
def _more_world(portal: Portal) -> None:
    portal.catalog.set_stock(operator_id="op-olga", sku="HOSE-3", location="leipzig", on_hand=50)
    portal.accounts.grant_role(GIA, user_id="gia", role_id="buyer")


def _place(portal: Portal, actor: Actor, *lines: tuple[str, int]) -> Order:
    cart = portal.orders.create_cart(actor, currency="EUR")
    for sku, quantity in lines:
        portal.orders.add_to_cart(actor, cart.id, sku, quantity)
    return portal.orders.checkout(actor, cart.id)


def _together(portal: Portal, actor: Actor, sku: str) -> dict[str, tuple[int, int]]:
    """``{suggested sku: (orders together, orders with the asked sku)}``."""
    return {
        s.sku: (s.together, s.for_sku_orders)
        for s in portal.frequently_bought_together(actor, sku, limit=10)
    }


def test_bought_together_across_companies_within_the_buyers_assortment(portal: Portal) -> None:
    _place(portal, BEN, ("PUMP-1", 1), ("SEAL-7", 2))
    _place(portal, CLARA, ("PUMP-1", 1), ("SEAL-7", 4), ("HOSE-3", 1))
    _place(portal, GIA, ("PUMP-1", 1), ("VALVE-2", 1))  # VALVE-2: outside ACME's assortment
    assert _together(portal, BEN, "PUMP-1") == {"SEAL-7": (2, 3), "HOSE-3": (1, 3)}
    assert _together(portal, GIA, "PUMP-1") == {
        "SEAL-7": (2, 3),
        "HOSE-3": (1, 3),
        "VALVE-2": (1, 3),
    }
    best = portal.frequently_bought_together(BEN, "PUMP-1", limit=1)[0]
    assert best.sku == "SEAL-7"
    assert "2 of 3 orders containing PUMP-1" in best.reason


def test_counts_follow_placed_and_cancelled_orders_through_dispatch(portal: Portal) -> None:
    _place(portal, BEN, ("PUMP-1", 1), ("SEAL-7", 2))
    assert _together(portal, BEN, "PUMP-1") == {"SEAL-7": (1, 1)}  # counted from the store
    second = _place(portal, CLARA, ("PUMP-1", 1), ("HOSE-3", 1))
    assert _together(portal, BEN, "PUMP-1") == {"SEAL-7": (1, 1)}  # not delivered yet
    portal.dispatch()
    assert _together(portal, BEN, "PUMP-1") == {"SEAL-7": (1, 2), "HOSE-3": (1, 2)}
    portal.orders.cancel_order(CLARA, second.id, reason="changed my mind")
    portal.dispatch()
    portal.dispatch()  # redelivery changes nothing
    assert _together(portal, BEN, "PUMP-1") == {"SEAL-7": (1, 1)}
    portal.refresh_recommendations()  # a recount from the store agrees
    assert _together(portal, BEN, "PUMP-1") == {"SEAL-7": (1, 1)}


def test_buy_again_from_the_companys_own_cadence(portal: Portal, clock: FixedClock) -> None:
    for _ in range(3):
        _place(portal, BEN, ("SEAL-7", 2))
        clock.advance(timedelta(days=10))
    _place(portal, GIA, ("SEAL-7", 2))  # another company's orders do not count
    clock.advance(timedelta(days=5))
    suggestions = portal.buy_again(BEN)
    assert [(s.sku, s.orders, s.cadence) for s in suggestions] == [
        ("SEAL-7", 3, timedelta(days=10))
    ]
    assert suggestions[0].status is BuyAgainStatus.DUE
    assert portal.buy_again(GIA) == []  # one order: no cadence yet
