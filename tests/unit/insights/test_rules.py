"""The insights rules: exact sums per currency, nearest-rank percentiles, periods,
spend grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.errors import ValidationError
from b2bcore.insights import GroupBy, Period, cycle_times, percentile
from b2bcore.insights.rules import sum_by_currency
from b2bcore.money import Money

durations = st.lists(
    st.integers(min_value=0, max_value=10**7).map(lambda s: timedelta(seconds=s)),
    min_size=1,
    max_size=40,
)


@given(durations, st.integers(min_value=1, max_value=100))
def test_percentile_is_a_value_with_at_least_q_percent_at_or_below(
    values: list[timedelta], q: int
) -> None:
    p = percentile(values, q)
    assert p in values
    at_or_below = sum(1 for v in values if v <= p)
    below = sum(1 for v in values if v < p)
    assert at_or_below * 100 >= q * len(values)
    assert below * 100 < q * len(values)  # the smallest such value


@given(durations)
def test_median_sits_between_the_middle_values_and_p90_above_it(values: list[timedelta]) -> None:
    times = cycle_times(values)
    ordered = sorted(values)
    assert times.count == len(values)
    assert times.median is not None
    assert times.p90 is not None
    assert ordered[(len(values) - 1) // 2] <= times.median <= ordered[len(values) // 2]
    assert times.median <= times.p90 <= ordered[-1]


def test_no_cycle_times_give_none() -> None:
    assert cycle_times([]).median is None


@given(st.integers(min_value=-5, max_value=0) | st.integers(min_value=101, max_value=200))
def test_percentile_outside_1_to_100_is_a_validation_error(q: int) -> None:
    with pytest.raises(ValidationError) as e:
        percentile([timedelta(1)], q)
    assert e.value.path == "q"


amounts = st.tuples(
    st.decimals(min_value=-1000, max_value=1000, places=2), st.sampled_from(["EUR", "USD", "JPY"])
)


@given(st.lists(amounts, max_size=30))
def test_sums_per_currency_are_exact_and_never_mixed(items: list[tuple[Decimal, str]]) -> None:
    sums = sum_by_currency(Money(a, c) for a, c in items)
    assert [m.currency for m in sums] == sorted({c for _, c in items})
    for m in sums:
        assert m.amount == sum((a for a, c in items if c == m.currency), Decimal(0))


def test_sum_of_something_else_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        sum_by_currency([Decimal(1)])  # type: ignore[list-item]


@given(st.integers(min_value=1901, max_value=9998), st.integers(min_value=1, max_value=12))
def test_months_follow_each_other(year: int, month: int) -> None:
    period = Period.month(year, month, tz="Europe/Berlin")
    assert period.previous_month(tz="Europe/Berlin").end == period.start
    assert Period.month_of(period.start, tz="Europe/Berlin") == period
    assert period.start in period
    assert period.end not in period


@given(st.integers(min_value=13, max_value=99) | st.integers(max_value=0))
def test_a_bad_month_is_a_validation_error(month: int) -> None:
    with pytest.raises(ValidationError) as e:
        Period.month(2026, month)
    assert e.value.path == "month"


def test_a_period_ends_after_it_starts_and_is_timezone_aware() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError):
        Period(at, at)
    with pytest.raises(ValidationError):
        Period(datetime(2026, 1, 1), datetime(2026, 2, 1))  # noqa: DTZ001 - naive on purpose


@given(st.text(max_size=12).filter(lambda t: t not in {g.value for g in GroupBy}))
def test_an_unknown_grouping_is_a_validation_error(name: str) -> None:
    with pytest.raises(ValidationError) as e:
        GroupBy.parse(name)
    assert e.value.path == "group_by"
