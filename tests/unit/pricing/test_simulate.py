"""Worked examples of the what-if: which (context, SKU, quantity) a change of price
lists would reprice, with both quotes and both explanations."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from b2bcore.errors import ValidationError
from b2bcore.ids import CategoryId, CompanyId, PriceListId, Sku
from b2bcore.money import Money, RoundingMode, RoundingPolicy, RoundingStage
from b2bcore.pricing import (
    ChangeKind,
    Formula,
    PriceContext,
    PriceIndex,
    PriceItem,
    PriceList,
    PricePolicy,
    PriceRule,
    PriceScope,
    PriceTier,
    RuleTarget,
    simulate_change,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
ACME = PriceContext(company_id=CompanyId("acme"), currency="EUR", at=MAY)
BETA = PriceContext(company_id=CompanyId("beta"), currency="EUR", at=MAY)

PUMP = PriceItem(
    sku=Sku("P-100"), category_path=[CategoryId("pumps")], list_price=Money("200.00", "EUR")
)
VALVE = PriceItem(
    sku=Sku("V-7"), category_path=[CategoryId("valves")], list_price=Money("9.00", "EUR")
)

PUBLIC = PriceList(
    id=PriceListId("list"),
    name="List prices",
    currency="EUR",
    valid_from=JAN,
    rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
)


def _acme(rule_id: str = "pumps", percent: str = "-12.5", **rule: Any) -> PriceList:
    return PriceList(
        id=PriceListId("acme"),
        name="ACME contract",
        currency="EUR",
        valid_from=JAN,
        scope=PriceScope(companies={"acme"}),
        rules=[
            PriceRule(
                id=rule_id,
                target=RuleTarget.category("pumps"),
                formula=Formula(percent=Decimal(percent)),
                **rule,
            )
        ],
    )


def test_a_new_rule_that_wins_with_another_price() -> None:
    [change] = simulate_change(
        [PUBLIC, _acme()], [PUBLIC, _acme("pumps-v2", "-16")], [ACME], [PUMP, VALVE]
    )
    assert change.describe() == (
        "acme P-100 x1: 175.00 EUR (acme/pumps) -> 168.00 EUR (acme/pumps-v2)"
    )
    assert change.kind is ChangeKind.CHANGED
    assert change.winner_changed
    assert change.price_changed
    assert change.old is not None
    assert change.new is not None
    assert change.old.unit_price == Money("175.00", "EUR")
    assert change.new.unit_price == Money("168.00", "EUR")
    assert change.old_explanation is not None
    assert change.new_explanation is not None
    assert change.old_explanation.summary() == "175.00000 EUR from acme/pumps"
    assert change.new_explanation.summary() == "168.0000 EUR from acme/pumps-v2"


def test_same_winner_new_price() -> None:
    [change] = simulate_change([PUBLIC, _acme()], [PUBLIC, _acme(percent="-15")], [ACME], [PUMP])
    assert not change.winner_changed
    assert change.price_changed
    assert change.describe() == "acme P-100 x1: 175.00 EUR (acme/pumps) -> 170.00 EUR (acme/pumps)"


def test_new_winner_same_price_is_listed_too() -> None:
    [change] = simulate_change([PUBLIC, _acme()], [PUBLIC, _acme("renamed")], [ACME], [PUMP, VALVE])
    assert change.winner_changed
    assert not change.price_changed
    assert change.describe() == (
        "acme P-100 x1: 175.00 EUR (acme/pumps) -> 175.00 EUR (acme/renamed)"
    )


def test_nothing_changes_nothing_is_listed() -> None:
    assert simulate_change([PUBLIC, _acme()], [PUBLIC, _acme()], [ACME, BETA], [PUMP]) == []
    # a list that loses everywhere changes no winner and no price
    loser = PriceList(
        id=PriceListId("loser"),
        name="Loser",
        currency="EUR",
        valid_from=JAN,
        priority=-1,
        rules=[PriceRule(id="all", target=RuleTarget.all(), price=Money("1.00", "EUR"))],
    )
    assert simulate_change([PUBLIC], [PUBLIC, loser], [ACME, BETA], [PUMP, VALVE]) == []


def test_gaining_and_losing_a_price_carries_both_explanations() -> None:
    changes = simulate_change([_acme()], [PUBLIC], [ACME, BETA], [PUMP, VALVE])
    assert [c.describe() for c in changes] == [
        "acme P-100 x1: 175.00 EUR (acme/pumps) -> 200.00 EUR (list/all)",
        "acme V-7 x1: no price -> 9.00 EUR (list/all)",
        "beta P-100 x1: no price -> 200.00 EUR (list/all)",
        "beta V-7 x1: no price -> 9.00 EUR (list/all)",
    ]
    assert [c.kind for c in changes] == [ChangeKind.CHANGED] + [ChangeKind.GAINED] * 3
    gained = changes[2]
    assert gained.old is None
    assert gained.old_explanation is not None
    assert (
        gained.old_explanation.candidates[0].reason == "list is for companies ['acme'], not 'beta'"
    )
    assert gained.winner_changed
    assert gained.price_changed

    [lost] = simulate_change([_acme()], [], [ACME], [PUMP])
    assert lost.kind is ChangeKind.LOST
    assert lost.new is None
    assert lost.new_explanation is not None
    assert lost.new_explanation.summary() == "no price list has a rule for this item"
    assert lost.describe() == "acme P-100 x1: 175.00 EUR (acme/pumps) -> no price"


def test_items_without_a_price_on_either_side_are_not_listed() -> None:
    assert simulate_change([_acme()], [_acme(percent="-20")], [BETA], [PUMP, VALVE]) == []


def test_quantities_find_tier_changes_and_output_is_sorted() -> None:
    tiered = _acme(tiers=[PriceTier(min_quantity=10, price=Money("150.00", "EUR"))])
    changes = simulate_change(
        [PUBLIC, _acme()],
        [PUBLIC, tiered],
        [BETA, ACME, ACME],
        [VALVE, PUMP, PUMP],
        quantities=[20, 1, "10", Decimal("10.0")],
    )
    assert [c.describe() for c in changes] == [
        "acme P-100 x10: 175.00 EUR (acme/pumps) -> 150.00 EUR (acme/pumps)",
        "acme P-100 x20: 175.00 EUR (acme/pumps) -> 150.00 EUR (acme/pumps)",
    ]
    assert changes[0].new is not None
    assert changes[0].new.line_total == Money("1500.00", "EUR")


def test_contexts_sort_by_company_then_time() -> None:
    later = PriceContext(
        company_id=CompanyId("acme"), currency="EUR", at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    changes = simulate_change([], [PUBLIC], [later, BETA, ACME], [VALVE])
    assert [(c.context.company_id, c.context.at) for c in changes] == [
        ("acme", MAY),
        ("acme", later.at),
        ("beta", MAY),
    ]


def test_indexes_policy_and_rounding_are_passed_through() -> None:
    cheap = PriceList(
        id=PriceListId("cheap"),
        name="Cheap",
        currency="EUR",
        valid_from=JAN,
        rules=[PriceRule(id="pumps", target=RuleTarget.sku("P-100"), price=Money("99.995", "EUR"))],
    )
    current = PriceIndex([PUBLIC, _acme()])
    proposed = PriceIndex([PUBLIC, _acme(), cheap])
    down = RoundingPolicy(RoundingMode.DOWN, RoundingStage.UNIT)
    # most specific: the SKU rule of the unscoped list loses to ACME's company scope
    assert simulate_change(current, proposed, [ACME], [PUMP]) == []
    [change] = simulate_change(
        current, proposed, [ACME], [PUMP], policy=PricePolicy.LOWEST, rounding=down
    )
    assert change.describe() == "acme P-100 x1: 175.00 EUR (acme/pumps) -> 99.99 EUR (cheap/pumps)"


def test_repeated_identical_items_count_once_but_conflicting_ones_are_rejected() -> None:
    changes = simulate_change([], [PUBLIC], [ACME], [VALVE, VALVE])
    assert len(changes) == 1
    other_valve = PriceItem(sku=Sku("V-7"), list_price=Money("1.00", "EUR"))
    with pytest.raises(ValidationError, match="given twice with different data") as caught:
        simulate_change([], [PUBLIC], [ACME], [VALVE, other_valve])
    assert caught.value.path == "items[1]"


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"current": "list"}, "current"),
        ({"proposed": [PUBLIC, PUBLIC]}, "proposed"),
        ({"contexts": ACME}, "contexts"),
        ({"contexts": ["acme"]}, "contexts[0]"),
        ({"items": [Sku("P-100")]}, "items[0]"),
        ({"items": "P-100"}, "items"),
        ({"quantities": [0]}, "quantities[0]"),
        ({"quantities": [1, -2]}, "quantities[1]"),
        ({"quantities": [1.5]}, "quantities[0]"),
        ({"quantities": ["many"]}, "quantities[0]"),
        ({"quantities": []}, "quantities"),
        ({"quantities": "1"}, "quantities"),
        ({"policy": "lowest"}, "policy"),
        ({"rounding": None}, "rounding"),
    ],
)
def test_bad_input_is_a_validation_error_with_a_path(changes: dict[str, Any], path: str) -> None:
    kwargs: dict[str, Any] = {
        "current": [PUBLIC],
        "proposed": [PUBLIC],
        "contexts": [ACME],
        "items": [PUMP],
        **changes,
    }
    args = [kwargs.pop(name) for name in ("current", "proposed", "contexts", "items")]
    with pytest.raises(ValidationError) as caught:
        simulate_change(*args, **kwargs)
    assert caught.value.path == path


def test_generators_of_quantities_are_accepted() -> None:
    changes = simulate_change([], [PUBLIC], [ACME], [VALVE], quantities=(q for q in (2, 1)))
    assert [c.quantity for c in changes] == [Decimal(1), Decimal(2)]
