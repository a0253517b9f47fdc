"""One call for a product page's price: ``portal.catalog.quote`` — the buyer's
contract price for a product in their assortment, its quantity rule applied, and an
explanation that names no other buyer's lists (the orders test world)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2bcore.accounts import Actor
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.pricing import QuantityRuleError

BEN = Actor.user("acme", "ben")
GIA = Actor.user("globex", "gia")


def test_the_buyers_contract_price_explained_without_other_buyers(portal: Portal) -> None:
    quote = portal.catalog.quote(BEN, "PUMP-1", 2, currency="EUR")
    assert (quote.unit_price, quote.line_total) == (
        Money("1125.00", "EUR"),
        Money("2250.00", "EUR"),
    )
    assert (quote.price_list_id, quote.quantity) == ("acme-2026", Decimal(2))
    assert "globex" not in quote.explanation.text()
    seal = portal.catalog.quote(GIA, "SEAL-7", 2, currency="EUR")
    assert (seal.price_list_id, seal.unit_price) == ("globex-secret", Money("1.00", "EUR"))
    assert "acme" not in seal.explanation.text()


def test_outside_the_assortment_is_not_found_and_quantity_rules_apply(portal: Portal) -> None:
    with pytest.raises(NotFoundError):
        portal.catalog.quote(BEN, "VALVE-2", 1, currency="EUR")  # excluded for ACME
    assert portal.catalog.quote(GIA, "VALVE-2", 1, currency="EUR").unit_price == Money(
        "40.00", "EUR"
    )
    with pytest.raises(QuantityRuleError) as e:
        portal.catalog.quote(BEN, "SEAL-7", 3, currency="EUR")
    assert (e.value.lower, e.value.higher) == (Decimal(2), Decimal(4))
    with pytest.raises(ValidationError, match="ISO 4217"):
        portal.catalog.quote(BEN, "SEAL-7", 2, currency="EURO")
