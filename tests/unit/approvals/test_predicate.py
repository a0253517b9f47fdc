"""The condition language: parsing, printing, evaluating, explaining, errors with
positions — and never eval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.approvals.errors import PredicateError
from b2bcore.approvals.predicate import (
    And,
    Compare,
    Const,
    Facts,
    FieldRef,
    IsIn,
    Not,
    Or,
    Predicate,
    parse_predicate,
)
from b2bcore.errors import CurrencyMismatchError, ValidationError
from b2bcore.money import Money
from b2bcore.serialization import converter, structure


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


FACTS = Facts(
    total=eur("7657.30"),
    line_count=3,
    skus={"PUMP-200", "SEAL-7"},
    categories={"pumps", "spares", "seals"},
    cost_center="CC-4711",
    business_units={"maint", "leipzig", "hq"},
    requester_roles={"buyer"},
    budget_remaining=eur("5000.00"),
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("total > 5000 EUR", "total > 5000 EUR"),
        ("total>5000.00 EUR", "total > 5000.00 EUR"),
        ("TOTAL >= 5000EUR", "total >= 5000 EUR"),
        ("line_count<=20", "line_count <= 20"),
        ("line_count = 2.5", "line_count = 2.5"),
        ("sku = 'PUMP-200'", 'sku = "PUMP-200"'),
        ('cost_center != "CC \\"9\\""', 'cost_center != "CC \\"9\\""'),
        ("category in ('a','b')", 'category in ("a", "b")'),
        ("category NOT IN ('a')", 'category not in ("a")'),
        ("not category in ('a')", 'not category in ("a")'),
        ("budget_remaining < total", "budget_remaining < total"),
        ("a_field_free_true", None),
        ("true", "true"),
        ("FALSE or true", "false or true"),
        ("(true or false) and true", "(true or false) and true"),
        ("true or (false and true)", "true or false and true"),
        ("not (true and false)", "not (true and false)"),
        ("not not true", "not not true"),
        ("((true))", "true"),
        ("a or b", None),
        ("total < -5 EUR", "total < -5 EUR"),
        ('currency = "USD" and total > 5500 USD', 'currency = "USD" and total > 5500 USD'),
    ],
)
def test_parse_and_print_canonically(text: str, canonical: str | None) -> None:
    if canonical is None:
        with pytest.raises(PredicateError):
            parse_predicate(text)
        return
    p = parse_predicate(text)
    assert str(p) == canonical
    assert p.text == canonical
    assert parse_predicate(canonical) == p
    assert str(parse_predicate(canonical)) == canonical


def test_the_tree_of_a_parsed_condition() -> None:
    p = parse_predicate('total > 5000 EUR and (sku = "A" or not line_count < 3)')
    assert p.root == And(
        (
            Compare("total", ">", eur("5000")),
            Or((Compare("sku", "=", "A"), Not(Compare("line_count", "<", Decimal(3))))),
        )
    )
    assert p.fields() == {"total", "sku", "line_count"}
    chained = parse_predicate("true and false and true")
    assert chained.root == And((Const(True), Const(False), Const(True)))


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty condition"),
        ("total >", 7, "expected a value after >"),
        ("total > 5000 EUR and", 20, "expected a condition after and"),
        ("total > 5000 EUR or", 19, "expected a condition after or"),
        ("not", 3, "expected a condition after not"),
        ("(total > 5 EUR", 14, "expected ')' to close the '(' at position 0"),
        ("total > 5 EUR)", 13, "unbalanced ')'"),
        ("()", 1, "empty parentheses"),
        ("totl > 5 EUR", 0, "unknown field 'totl'"),
        ("total > 5000", 8, "total is an amount"),
        ("total > 5 ABC", 10, "'ABC' is not an ISO 4217 currency code"),
        ("total > 5 eur", 10, "'eur' is not an ISO 4217"),
        ("line_count > 5 EUR", 13, "line_count is a number, not an amount"),
        ('line_count > "5"', 13, "line_count is a number"),
        ('sku < "A"', 4, "sku is text"),
        ("sku = 5", 6, "sku is text"),
        ("total in (5 EUR)", 6, "total is an amount: use comparisons"),
        ("sku in 'A'", 7, "expected '(' after in"),
        ("sku in ('A' 'B')", 12, "expected ',' or ')'"),
        ("sku in ()", 8, "expected a value in the list"),
        ("sku not = 'A'", 8, "expected in after sku not"),
        ("sku 'A'", 4, "expected an operator"),
        ('sku = "A', 6, "unterminated text"),
        ("total > 5 EUR # comment", 14, "unexpected character '#'"),
        ("5000 EUR < total", 0, "a condition starts with a field"),
        ("and", 0, "found the keyword and"),
        ("total = sku", 8, "can be compared with another field only when both are amounts"),
        ("sku = category", 6, "can be compared with another field only"),
        ("true true", 5, "expected and, or or the end"),
        ("total > 5 EUR total", 14, "expected and, or or the end"),
    ],
)
def test_bad_conditions_say_what_and_where(text: str, position: int, reason: str) -> None:
    with pytest.raises(PredicateError) as e:
        parse_predicate(text)
    assert e.value.position == position, e.value
    assert reason in e.value.reason
    assert isinstance(e.value, ValidationError)
    assert e.value.code == "approvals.predicate"
    assert e.value.text == text
    assert e.value.path == "condition"
    marker_line = str(e.value).splitlines()[-1]
    assert marker_line.index("^") == 2 + min(position, len(text))


def test_too_long_or_too_deep_conditions_are_refused() -> None:
    with pytest.raises(PredicateError, match="longer than"):
        parse_predicate("true or " * 600 + "true")
    with pytest.raises(PredicateError, match="nested deeper"):
        parse_predicate("(" * 70 + "true" + ")" * 70)
    with pytest.raises(PredicateError, match="nested deeper"):
        parse_predicate("not " * 70 + "true")
    with pytest.raises(ValidationError):
        parse_predicate(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("total > 5000 EUR", True),
        ("total > 7657.30 EUR", False),
        ("total >= 7657.3 EUR", True),
        ("total = 7657.300 EUR", True),
        ("total != 7657.30 EUR", False),
        ("line_count = 3", True),
        ("line_count in (1, 2)", False),
        ("line_count not in (1, 2)", True),
        ('currency = "EUR"', True),
        ('cost_center = "CC-4711"', True),
        ('cost_center in ("CC-1", "CC-4711")', True),
        # On sets, = means that one of them is.
        ('sku = "SEAL-7"', True),
        ('sku != "SEAL-7"', False),
        ('sku != "HOSE-2"', True),
        ('category in ("valves", "pumps")', True),
        ('category not in ("valves", "pumps")', False),
        ('business_unit = "leipzig"', True),
        ('requester_role = "approver"', False),
        ("budget_remaining < total", True),
        ("budget_remaining >= 5000 EUR", True),
        ('not (sku = "SEAL-7" and line_count > 5)', True),
        ("false or true and false", False),
    ],
)
def test_evaluate(text: str, expected: bool) -> None:
    assert parse_predicate(text).evaluate(FACTS) is expected


def test_missing_values_compare_false_except_not_equal() -> None:
    bare = Facts(total=eur("10"))
    for text, expected in [
        ('cost_center = "CC-1"', False),
        ('cost_center != "CC-1"', True),
        ('cost_center in ("CC-1")', False),
        ('cost_center not in ("CC-1")', True),
        ("budget_remaining < 100 EUR", False),
        ("budget_remaining >= 100 EUR", False),
        ("budget_remaining != 100 EUR", True),
        ("budget_remaining < total", False),
        ('sku = "A"', False),
        ("line_count = 0", True),
    ]:
        assert parse_predicate(text).evaluate(bare) is expected, text


def test_amounts_are_never_compared_across_currencies() -> None:
    usd = Facts(total=Money("9000", "USD"))
    with pytest.raises(CurrencyMismatchError) as e:
        parse_predicate("total > 5000 EUR").evaluate(usd)
    assert (e.value.left, e.value.right) == ("USD", "EUR")
    with pytest.raises(CurrencyMismatchError):
        parse_predicate("total = 5000 EUR").evaluate(usd)
    with pytest.raises(CurrencyMismatchError):
        parse_predicate("budget_remaining < total").evaluate(
            Facts(total=eur("1"), budget_remaining=Money("1", "USD"))
        )
    # A guard on the currency short-circuits: the EUR comparison is never reached.
    guarded = parse_predicate('currency = "EUR" and total > 5000 EUR or total > 5500 USD')
    assert guarded.evaluate(usd) is True
    assert guarded.evaluate(Facts(total=eur("6000"))) is True


def test_explain_judges_every_comparison_and_names_the_values() -> None:
    p = parse_predicate('total > 5000 USD or sku in ("PUMP-200") or cost_center = "X"')
    checks = p.explain(FACTS)
    assert [str(c) for c in checks] == [
        "total > 5000 USD: total is 7657.30 EUR -> not comparable (EUR and USD are never compared)",
        'sku in ("PUMP-200"): sku is PUMP-200, SEAL-7 -> true',
        'cost_center = "X": cost_center is CC-4711 -> false',
    ]
    assert [c.result for c in checks] == [None, True, False]
    bare = parse_predicate('cost_center = "X" and true').explain(Facts(total=eur("1")))
    assert str(bare[0]) == 'cost_center = "X": cost_center is (none) -> false'


@pytest.mark.parametrize(
    ("text", "floor"),
    [
        ("total > 5000 EUR", (eur("5000"), True)),
        ("total >= 5000 EUR", (eur("5000"), False)),
        ("total > 5000 EUR and total > 8000 EUR", (eur("8000"), True)),
        ("total > 5000 EUR and sku = 'A'", (eur("5000"), True)),
        ("total > 5000 EUR or total >= 3000 EUR", (eur("3000"), False)),
        ("total > 5000 EUR or sku = 'A'", None),
        ("not total < 5000 EUR", None),
        ("total < 5000 EUR", None),
        ("total > 5000 EUR and total > 100 USD", None),
        ("true", None),
    ],
)
def test_total_floor(text: str, floor: tuple[Money, bool] | None) -> None:
    assert parse_predicate(text).total_floor() == floor


def test_trees_built_in_code_are_checked() -> None:
    assert str(Predicate(IsIn("sku", ("A", 'B"'), negated=True))) == 'sku not in ("A", "B\\"")'
    assert str(Predicate(Compare("budget_remaining", "<", FieldRef("total")))) == (
        "budget_remaining < total"
    )
    for bad in [
        And((Const(True),)),
        Or(()),
        Compare("sku", "<", "A"),
        Compare("total", ">", Decimal(5)),
        Compare("nope", "=", "A"),
        Compare("total", "~", eur("1")),
        Compare("total", "<", FieldRef("line_count")),
        IsIn("sku", ()),
        IsIn("total", (eur("1"),)),
        Const(1),  # type: ignore[arg-type]
        "true",
    ]:
        with pytest.raises(ValidationError):
            Predicate(bad)


def test_conditions_serialize_as_their_text() -> None:
    p = parse_predicate("total > 5000 EUR and sku = 'X'")
    assert converter.unstructure(p, Predicate) == 'total > 5000 EUR and sku = "X"'
    assert structure('total > 5000 EUR and sku = "X"', Predicate) == p
    with pytest.raises(ValidationError):
        structure("total >", Predicate)
    with pytest.raises(ValidationError):
        structure(5, Predicate)


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_a_predicate_error(text: str) -> None:
    try:
        p = parse_predicate(text)
    except PredicateError as e:
        position = e.position
    else:
        assert parse_predicate(str(p)) == p
        return
    assert 0 <= position <= len(text)


words = st.sampled_from(
    [
        "total",
        "sku",
        "line_count",
        "budget_remaining",
        "category",
        "and",
        "or",
        "not",
        "in",
        "(",
        ")",
        ",",
        "=",
        "!=",
        "<",
        ">=",
        "5000",
        "EUR",
        "USD",
        '"A"',
        "'B'",
        "true",
        "-1.5",
    ]
)


@given(st.lists(words, max_size=12))
def test_token_soup_parses_or_fails_with_a_predicate_error(parts: list[str]) -> None:
    text = " ".join(parts)
    try:
        p = parse_predicate(text)
    except PredicateError as e:
        position = e.position
    else:
        assert str(parse_predicate(str(p))) == str(p)
        return
    assert 0 <= position <= len(text)
