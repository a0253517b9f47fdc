"""Properties of the recommendations: the basket model and both engines.

* the incremental model equals the model rebuilt from scratch, for any sequence and
  any permutation of orders; removing undoes adding; re-adding changes nothing;
* the counts are those of a brute-force recount, every measure is exact and in
  range, the thresholds keep exactly the qualifying pairs, and the ranking is total;
* the pair rules are exactly those of ``efficient-apriori`` (``max_length=2``);
* a filter is applied before the limit and a refused SKU is never suggested;
* buy again is independent of the order of its input, reads nothing after ``at``,
  and its dates, cadences and statuses agree with each other;
* bad input raises a ``B2BCoreError`` and leaves the model as it was.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import combinations, pairwise
from typing import Any

from efficient_apriori import apriori
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.catalog.recommendations import (
    BasketModel,
    BuyAgainStatus,
    HistoricOrder,
    Suggestion,
    association_rules,
    buy_again,
    frequently_bought_together,
)
from b2bcore.errors import B2BCoreError
from b2bcore.ids import CompanyId, OrderId, Sku
from b2bcore.testing.strategies import aware_datetimes, identifiers

T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: Mostly a few SKUs (so that pairs repeat), sometimes any valid id.
skus = st.one_of(
    st.sampled_from(["A", "B", "C", "D", "E", "F"]),
    st.sampled_from(["A", "B", "C"]),
    identifiers(max_length=6),
).map(Sku)


@st.composite
def histories(
    draw: st.DrawFn, *, min_size: int = 0, max_size: int = 30, company: str | None = None
) -> list[HistoricOrder]:
    """Orders with distinct ids, placed within about a year."""
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    return [
        HistoricOrder(
            order_id=OrderId(f"o{i}"),
            company_id=CompanyId(company or draw(st.sampled_from(["acme", "globex"]))),
            placed_at=T0 + timedelta(hours=draw(st.integers(0, 400 * 24))),
            lines=[(sku, draw(st.integers(1, 9))) for sku in draw(st.lists(skus, min_size=1))],
        )
        for i in range(n)
    ]


def ratios(*, positive: bool = False) -> st.SearchStrategy[Fraction]:
    return st.builds(
        Fraction,
        st.integers(1 if positive else 0, 20),
        st.integers(20, 20),
    ) | st.builds(Fraction, st.integers(1 if positive else 0, 7), st.just(7))


def everything(model: BasketModel, sku: Sku, **kwargs: Any) -> list[Suggestion]:
    return frequently_bought_together(model, sku, limit=1000, **kwargs)


def rank_key(s: Suggestion) -> tuple[Any, ...]:
    return (-s.confidence, -s.lift, -s.together, s.sku)


# --- the incremental model ----------------------------------------------------------


@given(histories(), st.data())
def test_incremental_equals_rebuilt_for_any_order(
    orders: list[HistoricOrder], data: st.DataObject
) -> None:
    rebuilt = BasketModel.from_history(orders)
    shuffled = data.draw(st.permutations(orders))
    incremental = BasketModel()
    for order in shuffled:
        assert incremental.add_order(order)
    assert incremental == rebuilt
    assert BasketModel.from_history(shuffled) == rebuilt


@given(histories())
def test_counts_are_a_recount(orders: list[HistoricOrder]) -> None:
    model = BasketModel.from_history(orders)
    items: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for order in orders:
        basket = sorted({line.sku for line in order.lines})
        items.update(basket)
        pairs.update(combinations(basket, 2))
    assert model.baskets == len(orders)
    assert model.skus() == sorted(items)
    assert model.pairs == len(pairs)
    for sku, count in items.items():
        assert model.count(sku) == count
    for (a, b), count in pairs.items():
        assert model.together(a, b) == model.together(b, a) == count


@given(histories(), histories(min_size=1, max_size=5), st.data())
def test_remove_undoes_add(
    orders: list[HistoricOrder], extra: list[HistoricOrder], data: st.DataObject
) -> None:
    extra = [
        HistoricOrder(
            order_id=OrderId(f"x{o.order_id}"),
            company_id=o.company_id,
            placed_at=o.placed_at,
            lines=o.lines,
        )
        for o in extra
    ]
    model = BasketModel.from_history(orders)
    for order in extra:
        model.add_order(order)
    for order in data.draw(st.permutations(extra)):
        assert model.remove_order(order.order_id)
        assert not model.remove_order(order.order_id)
    assert model == BasketModel.from_history(orders)
    for order in data.draw(st.permutations(orders)):
        model.remove_order(order.order_id)
    assert model == BasketModel()


@given(histories(min_size=1), st.data())
def test_re_adding_an_order_changes_nothing(
    orders: list[HistoricOrder], data: st.DataObject
) -> None:
    model = BasketModel.from_history(orders)
    again = data.draw(st.sampled_from(orders))
    same_basket = HistoricOrder(
        order_id=again.order_id,
        company_id=CompanyId("someone-else"),
        placed_at=again.placed_at + timedelta(days=1),
        lines=[(sku, 1) for sku in sorted(again.skus, reverse=True)],
    )
    assert not model.add_order(again)
    assert not model.add_order(same_basket)
    assert model == BasketModel.from_history(orders)
    assert BasketModel.from_history([*orders, again, same_basket]) == model


# --- frequently bought together ------------------------------------------------------


@given(histories(min_size=1), ratios(), ratios())
def test_measures_are_exact_in_range_and_thresholds_keep_exactly_the_qualifying_pairs(
    orders: list[HistoricOrder], min_support: Fraction, min_confidence: Fraction
) -> None:
    model = BasketModel.from_history(orders)
    n = model.baskets
    for sku in model.skus():
        found = everything(model, sku, min_support=min_support, min_confidence=min_confidence)
        expected = {
            other
            for other in model.skus()
            if other != sku
            and model.together(sku, other) >= 1
            and Fraction(model.together(sku, other), n) >= min_support
            and Fraction(model.together(sku, other), model.count(sku)) >= min_confidence
        }
        assert {s.sku for s in found} == expected
        assert found == sorted(found, key=rank_key)
        assert len({rank_key(s) for s in found}) == len(found)  # the ranking is total
        for s in found:
            assert s.for_sku == sku
            assert (s.together, s.for_sku_orders) == (model.together(sku, s.sku), model.count(sku))
            assert (s.sku_orders, s.orders) == (model.count(s.sku), n)
            assert 0 < s.support <= 1
            assert s.support >= min_support
            assert 0 < s.confidence <= 1
            assert s.confidence >= min_confidence
            assert 0 < s.lift <= Fraction(n, max(s.for_sku_orders, s.sku_orders))
            assert s.lift == s.confidence / Fraction(s.sku_orders, n)
            assert s.reason.startswith(f"bought together in {s.together:,} of ")


@given(histories(min_size=1), st.data(), st.integers(1, 5))
def test_filter_applies_before_limit_and_refused_skus_never_appear(
    orders: list[HistoricOrder], data: st.DataObject, limit: int
) -> None:
    model = BasketModel.from_history(orders)
    refused = data.draw(st.sets(st.sampled_from(model.skus())))
    sku = data.draw(st.sampled_from(model.skus()))

    def allowed(candidate: Sku) -> bool:
        return candidate not in refused

    filtered = frequently_bought_together(model, sku, limit=limit, allowed=allowed)
    assert all(s.sku not in refused for s in filtered)
    assert filtered == [s for s in everything(model, sku) if s.sku not in refused][:limit]
    rules = association_rules(model, min_support=0, min_confidence=0, allowed=allowed)
    assert all(s.sku not in refused for s in rules)


@given(histories(min_size=1), ratios(positive=True), ratios())
def test_pair_rules_are_those_of_efficient_apriori(
    orders: list[HistoricOrder], min_support: Fraction, min_confidence: Fraction
) -> None:
    model = BasketModel.from_history(orders)
    _, rules = apriori(
        [tuple(order.skus) for order in orders],
        min_support=float(min_support),
        min_confidence=float(min_confidence),
        max_length=2,
    )
    theirs = {(r.lhs[0], r.rhs[0]): (r.support, r.confidence, r.lift) for r in rules}
    ours = {
        (s.for_sku, s.sku): (s.support, s.confidence, s.lift)
        for s in association_rules(model, min_support=min_support, min_confidence=min_confidence)
    }
    assert ours.keys() == theirs.keys()
    for key, measures in ours.items():
        for exact, approximate in zip(measures, theirs[key], strict=True):
            assert abs(float(exact) - approximate) <= 1e-9


# --- buy again -------------------------------------------------------------------------


@given(histories(company="acme"), st.data())
def test_buy_again_is_consistent_and_independent_of_input_order(
    orders: list[HistoricOrder], data: st.DataObject
) -> None:
    at = T0 + timedelta(hours=data.draw(st.integers(0, 450 * 24)))
    found = buy_again(orders, at=at, limit=1000)
    assert buy_again(data.draw(st.permutations(orders)), at=at, limit=1000) == found
    assert buy_again([o for o in orders if o.placed_at <= at], at=at, limit=1000) == found
    assert found == sorted(found, key=lambda s: (s.expected_at, s.sku))
    for s in found:
        placed = sorted({o.placed_at for o in orders if s.sku in o.skus and o.placed_at <= at})
        gaps = [b - a for a, b in pairwise(placed)]
        assert len(placed) >= 2
        assert s.orders == sum(1 for o in orders if s.sku in o.skus and o.placed_at <= at)
        assert s.last_ordered_at == placed[-1] <= at
        assert min(gaps) <= s.cadence <= max(gaps)
        assert s.expected_at == s.last_ordered_at + s.cadence
        if s.status is BuyAgainStatus.UPCOMING:
            assert at < s.expected_at
        elif s.status is BuyAgainStatus.DUE:
            assert s.expected_at <= at < s.expected_at + s.cadence
        else:
            assert s.expected_at + s.cadence <= at
    # every SKU ordered at two instants or more is there
    instants: dict[str, set[datetime]] = {}
    for o in orders:
        if o.placed_at <= at:
            for sku in o.skus:
                instants.setdefault(sku, set()).add(o.placed_at)
    assert {s.sku for s in found} == {sku for sku, when in instants.items() if len(when) >= 2}


@given(histories(company="acme"), st.data(), st.integers(1, 5))
def test_buy_again_filters_before_the_limit(
    orders: list[HistoricOrder], data: st.DataObject, limit: int
) -> None:
    at = T0 + timedelta(days=450)
    every = buy_again(orders, at=at, limit=1000)
    refused = data.draw(st.sets(st.sampled_from(["A", "B", "C", "D"])))
    found = buy_again(orders, at=at, limit=limit, allowed=lambda sku: sku not in refused)
    assert found == [s for s in every if s.sku not in refused][:limit]


# --- bad input -------------------------------------------------------------------------

junk: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.fractions(),
    st.lists(st.integers(), max_size=2),
    st.binary(max_size=3),
    aware_datetimes(),
    st.datetimes(),
    st.timedeltas(),
)


def call_or_error(call: Any) -> object:
    """The result, or the B2BCoreError raised; any other exception fails the test."""
    try:
        return call()
    except B2BCoreError as e:
        return e


@given(histories(min_size=1), junk, junk, junk, junk)
def test_bad_arguments_to_frequently_bought_together_raise_b2bcore_errors(
    orders: list[HistoricOrder], sku: Any, limit: Any, support: Any, confidence: Any
) -> None:
    good = BasketModel.from_history(orders)
    for args, kwargs in [
        ((good, sku), {}),
        ((good, "A"), {"limit": limit}),
        ((good, "A"), {"min_support": support}),
        ((good, "A"), {"min_confidence": confidence}),
        ((good, "A"), {"allowed": limit}),
        ((limit, "A"), {}),
    ]:
        call_or_error(lambda: frequently_bought_together(*args, **kwargs))  # noqa: B023
    call_or_error(lambda: list(association_rules(good, min_support=support, min_confidence=0)))
    assert good == BasketModel.from_history(orders)


@given(histories(min_size=1), junk, junk, junk)
def test_bad_input_to_the_model_raises_b2bcore_errors_and_changes_nothing(
    orders: list[HistoricOrder], order_id: Any, sku: Any, thing: Any
) -> None:
    model = BasketModel.from_history(orders)
    unknown: Any = None if order_id in [o.order_id for o in orders] else order_id
    for call in [
        lambda: model.add_order(thing),
        lambda: model.remove_order(unknown),
        lambda: model.count(sku),
        lambda: model.together("A", sku),
        lambda: model.has_order(order_id),
        lambda: BasketModel.from_history(thing),
        lambda: BasketModel.from_history([*orders, thing]),
        lambda: HistoricOrder(
            order_id=order_id, company_id=CompanyId("acme"), placed_at=T0, lines=[("A", 1)]
        ),
        lambda: HistoricOrder(
            order_id=OrderId("o"), company_id=CompanyId("acme"), placed_at=thing, lines=[("A", 1)]
        ),
        lambda: HistoricOrder(
            order_id=OrderId("o"), company_id=CompanyId("acme"), placed_at=T0, lines=thing
        ),
        lambda: HistoricOrder(
            order_id=OrderId("o"), company_id=CompanyId("acme"), placed_at=T0, lines=[(sku, 1)]
        ),
        lambda: HistoricOrder(
            order_id=OrderId("o"), company_id=CompanyId("acme"), placed_at=T0, lines=[("A", thing)]
        ),
    ]:
        call_or_error(call)
    assert model == BasketModel.from_history(orders)


@given(histories(company="acme"), junk, junk, junk, junk)
def test_bad_arguments_to_buy_again_raise_b2bcore_errors(
    orders: list[HistoricOrder], at: Any, limit: Any, within: Any, thing: Any
) -> None:
    for kwargs in [
        {"at": at},
        {"at": T0, "limit": limit},
        {"at": T0, "within": within},
        {"at": T0, "allowed": thing},
    ]:
        call_or_error(lambda: buy_again(orders, **kwargs))  # noqa: B023
    call_or_error(lambda: buy_again(thing, at=T0))
    call_or_error(lambda: buy_again([*orders, thing], at=T0))
