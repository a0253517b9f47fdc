"""Orders and approvals wired by the portal: an order over the company's approval
policy waits in pending_approval with its flow, started in the checkout's unit of
work; the flow's completion, delivered from the outbox by ``portal.dispatch()``,
places the order or cancels it and gives its stock back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2bcore.accounts import Actor
from b2bcore.approvals import ApprovalPolicy, ApprovalRule, ApprovalTier, FlowStatus, Requirement
from b2bcore.approvals.errors import UnapprovableError
from b2bcore.errors import InvalidTransitionError, ValidationError
from b2bcore.ids import CompanyId, Sku
from b2bcore.orders import Order, OrderStatus
from b2bcore.portal import Portal
from b2bcore.storage.ports import Store

ANA = Actor.user("acme", "ana")
BEN = Actor.user("acme", "ben")
OP = Actor.operator_for("acme", "op-olga")


@pytest.fixture(autouse=True)
def _ana_approves(portal: Portal) -> None:
    portal.accounts.grant_role(ANA, user_id="ana", role_id="approver")


def _policy(approver: str = "ana") -> ApprovalPolicy:
    return ApprovalPolicy(
        company_id="acme",
        rules=[
            ApprovalRule(
                id="over-500",
                name="Orders over 500 EUR",
                condition="total > 500 EUR",
                tiers=[ApprovalTier(name="Admin", approvers=Requirement.user(approver))],
            )
        ],
    )


def _place(portal: Portal, *lines: tuple[str, int]) -> Order:
    cart = portal.orders.create_cart(BEN, currency="EUR")
    for sku, quantity in lines:
        portal.orders.add_to_cart(BEN, cart.id, sku, quantity)
    return portal.orders.checkout(BEN, cart.id)


def _reserved(store: Store, sku: str) -> Decimal:
    with store.unit_of_work() as uow:
        return sum((lv.reserved for lv in uow.stock_levels.for_sku(Sku(sku))), Decimal(0))


def test_without_a_policy_every_order_is_placed(portal: Portal) -> None:
    order = _place(portal, ("PUMP-1", 1))
    assert (order.status, order.approval_flow_id) == (OrderStatus.PLACED, None)


def test_an_order_under_the_policy_is_placed_without_a_flow(portal: Portal) -> None:
    portal.approvals.save_policy(ANA, _policy())
    order = _place(portal, ("SEAL-7", 4))  # 73.60 EUR
    assert (order.status, order.approval_flow_id) == (OrderStatus.PLACED, None)
    assert portal.approvals.flow_for(ANA, "order", order.id) is None


def test_approval_places_the_waiting_order_once(portal: Portal, store: Store) -> None:
    portal.approvals.save_policy(ANA, _policy())
    order = _place(portal, ("PUMP-1", 1))  # 1,125.00 EUR at ACME's contract price
    assert order.status is OrderStatus.PENDING_APPROVAL
    flow = portal.approvals.flow_for(ANA, "order", order.id)
    assert flow is not None
    assert (flow.id, flow.status) == (order.approval_flow_id, FlowStatus.PENDING)
    assert _reserved(store, "PUMP-1") == 1  # held while it waits
    with pytest.raises(InvalidTransitionError):
        portal.orders.confirm_order(OP, order.id)

    portal.approvals.decide(ANA, flow.id, approve=True, comment="fine")
    # The flow is approved; the order follows when the outbox is delivered.
    assert portal.orders.get_order(BEN, order.id).status is OrderStatus.PENDING_APPROVAL
    portal.dispatch()
    placed = portal.orders.get_order(BEN, order.id)
    assert placed.status is OrderStatus.PLACED
    assert placed.history[-1].by == "ana"
    portal.dispatch()  # nothing left to deliver, nothing changes
    assert portal.orders.get_order(BEN, order.id).version == placed.version
    assert portal.orders.confirm_order(OP, order.id).status is OrderStatus.CONFIRMED


def test_rejection_cancels_the_waiting_order_and_gives_its_stock_back(
    portal: Portal, store: Store
) -> None:
    portal.approvals.save_policy(ANA, _policy())
    order = _place(portal, ("PUMP-1", 2))
    flow_id = order.approval_flow_id
    assert flow_id is not None
    portal.approvals.decide(ANA, flow_id, approve=False, comment="not this quarter")
    portal.dispatch()
    cancelled = portal.orders.get_order(BEN, order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert "not this quarter" in cancelled.history[-1].reason
    assert _reserved(store, "PUMP-1") == 0


def test_an_order_nobody_could_approve_is_refused_and_nothing_is_kept(
    portal: Portal, store: Store
) -> None:
    # Ben may approve, but not his own order, and he is the only approver named.
    portal.accounts.grant_role(ANA, user_id="ben", role_id="approver")
    portal.approvals.save_policy(ANA, _policy(approver="ben"))
    cart = portal.orders.create_cart(BEN, currency="EUR")
    portal.orders.add_to_cart(BEN, cart.id, "PUMP-1", 1)
    with pytest.raises(UnapprovableError):
        portal.orders.checkout(BEN, cart.id)
    assert _reserved(store, "PUMP-1") == 0
    with store.unit_of_work() as uow:
        assert not uow.orders.list(company_id=CompanyId("acme"), limit=10).items


def test_dispatch_refuses_handlers_that_are_not_a_mapping(portal: Portal) -> None:
    with pytest.raises(ValidationError, match="handlers must map event classes"):
        portal.dispatch([print])  # type: ignore[arg-type]
