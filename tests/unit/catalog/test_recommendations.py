"""Recommendations: the basket model, frequently bought together and buy again."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from efficient_apriori import apriori

from b2bcore.catalog import recommendations as recs
from b2bcore.catalog.recommendations import (
    BasketModel,
    BuyAgainStatus,
    BuyAgainSuggestion,
    HistoricLine,
    HistoricOrder,
    OrderHistory,
    Suggestion,
    association_rules,
    buy_again,
    frequently_bought_together,
)
from b2bcore.errors import DuplicateError, ValidationError
from b2bcore.ids import CompanyId, OrderId, Sku
from b2bcore.serialization import converter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def order(
    order_id: str,
    *skus: str,
    day: float = 0,
    company: str = "acme",
    quantity: int = 1,
) -> HistoricOrder:
    return HistoricOrder(
        order_id=OrderId(order_id),
        company_id=CompanyId(company),
        placed_at=T0 + timedelta(days=day),
        lines=[(sku, quantity) for sku in skus],
    )


def baskets(*groups: Iterable[str]) -> list[HistoricOrder]:
    return [order(f"o{i}", *group) for i, group in enumerate(groups)]


# --- orders ----------------------------------------------------------------------------


def test_historic_order_keeps_each_sku_once_and_adds_quantities() -> None:
    o = HistoricOrder(
        order_id=OrderId("o-1"),
        company_id=CompanyId("acme"),
        placed_at=datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=2))),
        lines=[("A", 2), HistoricLine(sku=Sku("B"), quantity=Decimal("0.5")), ("A", "1.5")],
    )
    assert o.skus == frozenset({"A", "B"})
    assert o.quantities() == {"A": Decimal("3.5"), "B": Decimal("0.5")}
    assert o.placed_at == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert o.placed_at.tzinfo is UTC


def test_historic_order_round_trips_through_the_converter() -> None:
    o = order("o-1", "A", "B", quantity=3)
    data = converter.unstructure(o)
    assert "skus" not in data
    back = converter.structure(data, HistoricOrder)
    assert back == o
    assert back.skus == o.skus


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"placed_at": datetime(2026, 1, 1)}, "placed_at"),  # noqa: DTZ001 - naive on purpose
        ({"lines": []}, "lines"),
        ({"lines": "A"}, "lines"),
        ({"lines": [("A", 1, 2)]}, "lines[0]"),
        ({"lines": [("bad sku", 1)]}, "lines[0].sku"),
        ({"lines": [("A", 0)]}, "quantity"),
        ({"lines": [("A", -1)]}, "quantity"),
        ({"lines": [("A", 1.5)]}, "lines[0].quantity"),
        ({"order_id": ""}, "order_id"),
        ({"company_id": None}, "company_id"),
    ],
)
def test_historic_order_refuses_bad_input(kwargs: dict[str, Any], path: str) -> None:
    fields: dict[str, Any] = {
        "order_id": "o-1",
        "company_id": "acme",
        "placed_at": T0,
        "lines": [("A", 1)],
    } | kwargs
    with pytest.raises(ValidationError) as caught:
        HistoricOrder(**fields)
    assert caught.value.path == path


def test_a_list_is_an_order_history() -> None:
    class ListHistory:
        def __init__(self, orders: list[HistoricOrder]) -> None:
            self._orders = orders

        def orders(self, *, company_id: CompanyId | None = None) -> list[HistoricOrder]:
            return [o for o in self._orders if company_id in (None, o.company_id)]

    history: OrderHistory = ListHistory([order("o1", "A", "B"), order("o2", "A", company="other")])
    assert BasketModel.from_history(history.orders()).count("A") == 2
    assert len(list(history.orders(company_id=CompanyId("other")))) == 1


# --- the basket model ------------------------------------------------------------------


def test_counts_items_pairs_and_baskets() -> None:
    model = BasketModel.from_history(baskets("AB", "ABC", "A", "C", "BB"))
    assert model.baskets == 5
    assert (model.count("A"), model.count("B"), model.count("C")) == (3, 3, 2)
    assert model.together("A", "B") == model.together("B", "A") == 2
    assert model.together("A", "C") == 1
    assert model.together("B", "B") == model.count("B")  # a SKU twice in one order counts once
    assert model.count("Z") == model.together("Z", "A") == model.together("A", "Z") == 0
    assert model.pairs == 3
    assert model.skus() == ["A", "B", "C"]
    assert model.has_order("o0")
    assert not model.has_order("o9")
    assert repr(model) == "<BasketModel: 5 orders, 3 SKUs>"


def test_add_order_is_idempotent_per_order_id() -> None:
    model = BasketModel()
    assert model.add_order(order("o1", "A", "B"))
    assert not model.add_order(order("o1", "B", "A", quantity=7, day=3))  # same SKUs
    assert model == BasketModel.from_history([order("o1", "A", "B")])
    assert model.count("A") == 1


def test_an_order_id_counted_with_other_skus_is_refused_and_changes_nothing() -> None:
    model = BasketModel.from_history([order("o1", "A", "B")])
    with pytest.raises(DuplicateError) as caught:
        model.add_order(order("o1", "A", "C"))
    assert caught.value.key == "o1"
    assert "remove_order" in str(caught.value)
    assert model == BasketModel.from_history([order("o1", "A", "B")])
    with pytest.raises(DuplicateError):
        BasketModel.from_history([order("o1", "A"), order("o1", "B")])
    # the same order given twice to from_history counts once
    assert BasketModel.from_history([order("o1", "A"), order("o1", "A")]).count("A") == 1


def test_remove_order_undoes_add_order() -> None:
    model = BasketModel.from_history(baskets("AB", "BC"))
    before = BasketModel.from_history(baskets("AB", "BC"))
    model.add_order(order("new", "A", "C", "D"))
    assert model != before
    assert model.remove_order("new")
    assert model == before
    assert not model.remove_order("new")  # a second cancellation changes nothing
    assert model == before
    for o in baskets("AB", "BC"):
        assert model.remove_order(o.order_id)
    assert model == BasketModel()
    assert model.skus() == []
    assert model.pairs == 0


def test_the_pure_python_counter_matches_the_c_helper() -> None:
    rng = random.Random(5)
    items = [Sku(rng.choice("ABCDE")) for _ in range(200)]
    c_counts: dict[Sku, int] = {Sku("A"): 3}
    py_counts: dict[Sku, int] = {Sku("A"): 3}
    recs._count_elements(c_counts, items)
    recs._count_into(py_counts, items)
    assert c_counts == py_counts
    assert sum(py_counts.values()) == 203


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda m: m.add_order(("o1", ["A"])), "order"),
        (lambda m: m.remove_order(""), "order_id"),
        (lambda m: m.remove_order(None), "order_id"),
        (lambda m: m.count(["A"]), "sku"),
        (lambda m: m.together("A", 3), "other"),
        (lambda m: m.has_order(" "), "order_id"),
    ],
)
def test_model_methods_refuse_bad_input(call: Any, path: str) -> None:
    model = BasketModel.from_history(baskets("AB"))
    with pytest.raises(ValidationError) as caught:
        call(model)
    assert caught.value.path == path
    assert model == BasketModel.from_history(baskets("AB"))


def test_from_history_refuses_what_is_not_orders() -> None:
    with pytest.raises(ValidationError) as caught:
        BasketModel.from_history([order("o1", "A"), {"order_id": "o2"}])  # type: ignore[list-item]
    assert caught.value.path == "orders[1]"
    with pytest.raises(ValidationError):
        BasketModel.from_history(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        BasketModel.from_history("o1")  # type: ignore[arg-type]


def test_a_model_is_not_hashable_and_not_equal_to_other_things() -> None:
    with pytest.raises(TypeError):
        hash(BasketModel())
    assert BasketModel() != {}


# --- frequently bought together ----------------------------------------------------------


def test_worked_example_with_exact_measures() -> None:
    # 10 orders: PUMP in 5, SEAL in 4 (3 with PUMP), OIL in 6 (2 with PUMP).
    history = baskets(
        ["PUMP", "SEAL"],
        ["PUMP", "SEAL", "OIL"],
        ["PUMP", "SEAL"],
        ["PUMP", "OIL"],
        ["PUMP"],
        ["SEAL", "OIL"],
        ["OIL"],
        ["OIL"],
        ["OIL"],
        ["GLOVES"],
    )
    model = BasketModel.from_history(history)
    seal, oil = frequently_bought_together(model, "PUMP")
    assert (seal.sku, seal.for_sku, seal.together) == ("SEAL", "PUMP", 3)
    assert (seal.for_sku_orders, seal.sku_orders, seal.orders) == (5, 4, 10)
    assert seal.support == Fraction(3, 10)
    assert seal.confidence == Fraction(3, 5)
    assert seal.lift == Fraction(3, 2)
    assert oil.confidence == Fraction(2, 5)
    assert oil.lift == Fraction(2, 3)
    assert seal.reason == (
        "bought together in 3 of 5 orders containing PUMP (60%), 1.5 times as often as chance"
    )
    assert oil.reason.endswith("(40%), 0.7 times as often as chance")


def test_ranking_is_confidence_then_lift_then_count_then_sku() -> None:
    # With X: B and C together 2 times each; C is rarer than B (higher lift);
    # D and E are together once each, equally common: code-point order decides.
    history = baskets("XBC", "XBC", "XDE", "X", "B", "B", "C", "D", "E")
    model = BasketModel.from_history(history)
    ranked = frequently_bought_together(model, "X")
    assert [s.sku for s in ranked] == ["C", "B", "D", "E"]
    assert ranked[0].confidence == ranked[1].confidence
    assert ranked[0].lift > ranked[1].lift
    assert ranked[2].confidence == ranked[3].confidence
    assert ranked[2].lift == ranked[3].lift
    # the same answer whatever order the orders came in
    assert frequently_bought_together(BasketModel.from_history(history[::-1]), "X") == ranked


def test_thresholds_are_exact_and_inclusive() -> None:
    # 4 orders; A and B together in 1 (support 1/4), A in 2 (confidence 1/2).
    model = BasketModel.from_history(baskets("AB", "A", "B", "C"))
    assert [s.sku for s in frequently_bought_together(model, "A", min_support="0.25")] == ["B"]
    assert frequently_bought_together(model, "A", min_support=Decimal("0.2500001")) == []
    assert [s.sku for s in frequently_bought_together(model, "A", min_confidence="0.5")] == ["B"]
    assert frequently_bought_together(model, "A", min_confidence=Fraction(50001, 100000)) == []
    assert [s.sku for s in frequently_bought_together(model, "A", min_confidence=0)] == ["B"]
    assert frequently_bought_together(model, "A", min_confidence=1) == []


def test_filter_applies_before_the_limit() -> None:
    model = BasketModel.from_history(baskets("XABCD", "XABC", "XAB", "XA"))
    assert [s.sku for s in frequently_bought_together(model, "X", limit=2)] == ["A", "B"]
    refuse_a = frequently_bought_together(model, "X", limit=2, allowed=lambda sku: sku != "A")
    assert [s.sku for s in refuse_a] == ["B", "C"]
    assert frequently_bought_together(model, "X", allowed=lambda sku: False) == []


def test_the_filter_is_asked_only_as_far_as_needed_but_ties_are_ranked() -> None:
    # X with A (3 times), B and C (2 times each, C rarer), D (once).
    model = BasketModel.from_history(baskets("XABC", "XABC", "XAD", "B", "B"))
    asked: list[str] = []

    def allowed(sku: Sku) -> bool:
        asked.append(sku)
        return True

    top = frequently_bought_together(model, "X", limit=2, allowed=allowed)
    assert [s.sku for s in top] == ["A", "C"]  # C beats B on lift
    assert "D" not in asked


def test_unknown_sku_gets_nothing() -> None:
    model = BasketModel.from_history(baskets("AB"))
    assert frequently_bought_together(model, "ZZZ") == []
    assert frequently_bought_together(BasketModel(), "A") == []
    assert frequently_bought_together(BasketModel.from_history(baskets("A")), "A") == []


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"min_support": 0.1}, "min_support"),
        ({"min_support": "-0.1"}, "min_support"),
        ({"min_support": Fraction(3, 2)}, "min_support"),
        ({"min_support": "lots"}, "min_support"),
        ({"min_confidence": Decimal("NaN")}, "min_confidence"),
        ({"min_confidence": 2}, "min_confidence"),
        ({"min_confidence": True}, "min_confidence"),
        ({"min_confidence": None}, "min_confidence"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"allowed": {"A"}}, "allowed"),
        ({"sku": "not a sku"}, "sku"),
        ({"model": {}}, "model"),
    ],
)
def test_frequently_bought_together_refuses_bad_input(kwargs: dict[str, Any], path: str) -> None:
    args: dict[str, Any] = {"model": BasketModel.from_history(baskets("AB")), "sku": "A"} | kwargs
    model, sku = args.pop("model"), args.pop("sku")
    with pytest.raises(ValidationError) as caught:
        frequently_bought_together(model, sku, **args)
    assert caught.value.path == path


def test_float_thresholds_are_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="floats"):
        frequently_bought_together(BasketModel(), "A", min_support=0.01)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"sku": "A", "for_sku": "A"}, "sku"),
        ({"together": 0}, "together"),
        ({"together": 5}, "together"),
        ({"together": True}, "together"),
        ({"orders": 3}, "orders"),
        ({"sku_orders": "4"}, "sku_orders"),
    ],
)
def test_suggestion_checks_its_counts(kwargs: dict[str, Any], path: str) -> None:
    fields: dict[str, Any] = {
        "for_sku": "B",
        "sku": "A",
        "together": 2,
        "for_sku_orders": 3,
        "sku_orders": 4,
        "orders": 10,
    } | kwargs
    with pytest.raises(ValidationError) as caught:
        Suggestion(**fields)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("together", "for_sku_orders", "sku_orders", "orders", "text"),
    [
        (1, 1000, 1, 1000, "(<1%), 1.0 times"),
        (999, 1000, 999, 1000, "(>99%), 1.0 times"),
        (1840, 1840, 1840, 1840, "(100%), 1.0 times"),
        (1, 3, 3, 9, "(33%), 1.0 times"),
        (2, 2, 2, 40_000, "(100%), 20000.0 times"),
    ],
)
def test_reason_rounds_for_reading(
    together: int, for_sku_orders: int, sku_orders: int, orders: int, text: str
) -> None:
    s = Suggestion(
        for_sku=Sku("X"),
        sku=Sku("Y"),
        together=together,
        for_sku_orders=for_sku_orders,
        sku_orders=sku_orders,
        orders=orders,
    )
    assert text in s.reason
    assert f"containing X {text}" in s.reason


def test_association_rules_are_grouped_by_antecedent_and_ranked() -> None:
    model = BasketModel.from_history(baskets("AB", "AB", "AC", "BC", "D"))
    rules = list(association_rules(model, min_support="0.2", min_confidence="0.5"))
    assert [(r.for_sku, r.sku) for r in rules] == [
        ("A", "B"),
        ("B", "A"),
        ("C", "A"),
        ("C", "B"),
    ]
    assert [r.for_sku for r in association_rules(model, min_support=1, min_confidence=0)] == []
    refused = association_rules(model, min_support=0, min_confidence=0, allowed=lambda s: s != "A")
    assert all(r.sku != "A" for r in refused)


def _generated_history(seed: int, n_orders: int, n_products: int) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(n_products)]
    products = [f"P{i:03d}" for i in range(n_products)]
    return [
        tuple(sorted(set(rng.choices(products, weights=weights, k=rng.randint(1, 9)))))
        for _ in range(n_orders)
    ]


@pytest.mark.parametrize(
    ("min_support", "min_confidence"),
    [("0.002", "0.05"), ("0.01", "0"), ("0.0005", "0.3"), ("0.02", "0.5")],
)
def test_pair_rules_are_those_of_efficient_apriori(min_support: str, min_confidence: str) -> None:
    transactions = _generated_history(7, 2_000, 150)
    model = BasketModel.from_history(
        order(f"o{i}", *basket) for i, basket in enumerate(transactions)
    )
    _, rules = apriori(
        transactions,
        min_support=float(min_support),
        min_confidence=float(min_confidence),
        max_length=2,
    )
    theirs = {(r.lhs[0], r.rhs[0]): r for r in rules}
    ours = {
        (s.for_sku, s.sku): s
        for s in association_rules(model, min_support=min_support, min_confidence=min_confidence)
    }
    assert ours.keys() == theirs.keys()
    assert len(ours) > 10
    for key, s in ours.items():
        r = theirs[key]
        assert (s.together, s.for_sku_orders, s.sku_orders, s.orders) == (
            r.count_full,
            r.count_lhs,
            r.count_rhs,
            r.num_transactions,
        )
        assert float(s.support) == pytest.approx(r.support, abs=1e-9, rel=0)
        assert float(s.confidence) == pytest.approx(r.confidence, abs=1e-9, rel=0)
        assert float(s.lift) == pytest.approx(r.lift, abs=1e-9, rel=0)


# --- buy again ---------------------------------------------------------------------------


def test_cadence_is_the_median_interval_and_sets_the_expected_date() -> None:
    # FILTER every 30 days (with one 90-day gap: the median ignores it), OIL twice.
    history = [
        order("o1", "FILTER", "OIL", day=0),
        order("o2", "FILTER", day=30),
        order("o3", "FILTER", day=60),
        order("o4", "FILTER", "OIL", day=150, quantity=4),
        order("o5", "FILTER", day=180, quantity=6),
        order("o6", "GLOVES", day=181),
    ]
    filter_, oil = buy_again(history, at=T0 + timedelta(days=200))
    assert filter_ == BuyAgainSuggestion(
        sku=Sku("FILTER"),
        orders=5,
        last_ordered_at=T0 + timedelta(days=180),
        cadence=timedelta(days=30),
        expected_at=T0 + timedelta(days=210),
        status=BuyAgainStatus.UPCOMING,
        last_quantity=Decimal(6),
        at=T0 + timedelta(days=200),
    )
    assert oil.cadence == timedelta(days=150)
    assert oil.expected_at == T0 + timedelta(days=300)
    assert oil.last_quantity == Decimal(4)
    assert filter_.reason == (
        "ordered 5 times, about every 30 days; last on 2026-06-30, "
        "next expected on 2026-07-30 (in 10 days)"
    )


def test_with_an_even_number_of_intervals_the_cadence_is_the_mean_of_the_middle_two() -> None:
    history = [order(f"o{d}", "A", day=d) for d in (0, 10, 30, 60.5)]  # gaps 10, 20, 30.5
    (a,) = buy_again(history, at=T0 + timedelta(days=61))
    assert a.cadence == timedelta(days=20)
    history = [order(f"o{d}", "A", day=d) for d in (0, 10, 31)]  # gaps 10, 21
    (a,) = buy_again(history, at=T0 + timedelta(days=31))
    assert a.cadence == timedelta(days=15, hours=12)


def test_status_against_the_cadence() -> None:
    history = [order("o1", "A", day=0), order("o2", "A", day=10)]  # expected on day 20
    cases = [
        (19.9, BuyAgainStatus.UPCOMING, "(in less than a day)"),
        (20, BuyAgainStatus.DUE, "(due since less than a day)"),
        (21, BuyAgainStatus.DUE, "(due since 1 day)"),
        (29.99, BuyAgainStatus.DUE, "(due since 10 days)"),
        (30, BuyAgainStatus.OVERDUE, "(overdue by 10 days, a whole cycle missed)"),
        (100, BuyAgainStatus.OVERDUE, "(overdue by 80 days, a whole cycle missed)"),
    ]
    for day, status, text in cases:
        (a,) = buy_again(history, at=T0 + timedelta(days=day))
        assert a.status is status, day
        assert a.reason.endswith(text), (day, a.reason)


def test_a_sku_ordered_once_or_at_one_instant_has_no_cadence() -> None:
    history = [
        order("o1", "ONCE", "TWICE-SAME-TIME", day=0),
        order("o2", "TWICE-SAME-TIME", day=0),
    ]
    assert buy_again(history, at=T0 + timedelta(days=5)) == []


def test_orders_after_at_are_not_read() -> None:
    history = [order("o1", "A", day=0), order("o2", "A", day=10), order("o3", "A", day=12)]
    (a,) = buy_again(history, at=T0 + timedelta(days=11))
    assert (a.orders, a.expected_at) == (2, T0 + timedelta(days=20))
    assert buy_again(history, at=T0 + timedelta(days=9)) == []
    (a,) = buy_again(history, at=T0 + timedelta(days=10))  # placed exactly at `at`: read
    assert a.orders == 2


def test_sorted_by_expected_date_then_sku_and_filtered_before_the_limit() -> None:
    history = [
        order("o1", "C", "B", "A", day=0),
        order("o2", "C", "B", day=5),
        order("o3", "A", day=10),
    ]
    at = T0 + timedelta(days=10)
    # B and C expected on day 10, A on day 20
    assert [s.sku for s in buy_again(history, at=at)] == ["B", "C", "A"]
    assert [s.sku for s in buy_again(history, at=at, limit=2)] == ["B", "C"]
    filtered = buy_again(history, at=at, limit=2, allowed=lambda sku: sku != "B")
    assert [s.sku for s in filtered] == ["C", "A"]
    assert [s.sku for s in buy_again(history, at=at, within=timedelta(0))] == ["B", "C"]
    assert [s.sku for s in buy_again(history, at=at, within=timedelta(days=9))] == ["B", "C"]
    assert len(buy_again(history, at=at, within=timedelta(days=10))) == 3
    assert buy_again([], at=at) == []


def test_a_repeated_order_counts_once_and_a_changed_one_is_refused() -> None:
    history = [order("o1", "A", day=0), order("o2", "A", day=10)]
    (a,) = buy_again([*history, history[1]], at=T0 + timedelta(days=12))
    assert a.orders == 2
    with pytest.raises(DuplicateError) as caught:
        buy_again([*history, order("o2", "A", day=11)], at=T0 + timedelta(days=12))
    assert caught.value.key == "o2"


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"at": datetime(2026, 1, 1)}, "at"),  # noqa: DTZ001 - naive on purpose
        ({"at": "2026-01-01"}, "at"),
        ({"limit": -1}, "limit"),
        ({"within": timedelta(days=-1)}, "within"),
        ({"within": 3}, "within"),
        ({"allowed": "A"}, "allowed"),
        ({"orders": [order("o1", "A"), order("o2", "A", company="other")]}, "orders[1].company_id"),
        ({"orders": [order("o1", "A"), "o2"]}, "orders[1]"),
        ({"orders": None}, "orders"),
    ],
)
def test_buy_again_refuses_bad_input(kwargs: dict[str, Any], path: str) -> None:
    args: dict[str, Any] = {"orders": [order("o1", "A")], "at": T0} | kwargs
    with pytest.raises(ValidationError) as caught:
        buy_again(**args)
    assert caught.value.path == path


def test_a_next_order_after_the_year_9999_is_a_validation_error() -> None:
    history = [
        HistoricOrder(
            order_id=OrderId(f"o{i}"),
            company_id=CompanyId("acme"),
            placed_at=datetime(9999, 1, 1, tzinfo=UTC) + timedelta(days=300 * i),
            lines=[("A", 1)],
        )
        for i in range(2)
    ]
    with pytest.raises(ValidationError, match="9999"):
        buy_again(history, at=datetime(9999, 12, 31, tzinfo=UTC))
