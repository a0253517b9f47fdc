"""Rule conditions: a small, safe language, parsed into a tree and never ``eval``-ed.

A condition compares facts of the subject with values::

    total > 5000 EUR and (category in ("pumps", "valves") or line_count >= 20)
    not requester_role = "senior_buyer"
    currency = "USD" and total > 5500 USD
    budget_remaining < total

Fields (see :data:`FIELDS`): ``total`` and ``budget_remaining`` are amounts,
``line_count`` a number, ``currency`` and ``cost_center`` text; ``sku``,
``category``, ``business_unit`` and ``requester_role`` are *sets* — a line's SKU, a
line's category or one of its ancestors, the subject's business unit or one above
it, a role the requester holds. On a set, ``=`` means "one of them is" and ``in``
"one of them is among"; ``!=`` and ``not in`` are their negations.

Values: amounts with a currency (``5000 EUR``, ``12.50 USD``), numbers (``20``),
text in double or single quotes (``"pumps"``; ``\\"`` and ``\\\\`` escape), ``true``
and ``false``. ``and`` binds tighter than ``or``; ``not`` tighter than both.

Amounts are never compared across currencies: ``total > 5000 EUR`` raises
:class:`~b2bcore.errors.CurrencyMismatchError` for a subject in USD. Guard
multi-currency policies with ``currency = "EUR" and ...`` — ``and``/``or``
evaluate left to right and stop early. A missing value (no cost center, no budget)
makes every comparison false except ``!=`` and ``not in``.

>>> from b2bcore.approvals.predicate import Facts, parse_predicate
>>> from b2bcore.money import Money
>>> p = parse_predicate('total>5000 EUR AND (category in ("pumps") OR line_count >= 20)')
>>> str(p)  # printed canonically; parsing the printed text gives the same tree
'total > 5000 EUR and (category in ("pumps") or line_count >= 20)'
>>> facts = Facts(total=Money("7657.30", "EUR"), line_count=1, categories={"spares", "pumps"})
>>> p.evaluate(facts)
True
>>> for check in p.explain(facts):
...     print(check)
total > 5000 EUR: total is 7657.30 EUR -> true
category in ("pumps"): category is pumps, spares -> true
line_count >= 20: line_count is 1 -> false
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Final

import attrs

from b2bcore.approvals.errors import PredicateError
from b2bcore.errors import CurrencyMismatchError, ValidationError
from b2bcore.money import Money, is_currency
from b2bcore.serialization import converter

__all__ = [
    "And",
    "Check",
    "Compare",
    "Const",
    "FIELDS",
    "Facts",
    "FieldKind",
    "FieldRef",
    "IsIn",
    "Node",
    "Not",
    "Or",
    "Predicate",
    "parse_predicate",
]

#: Longest condition text accepted, and deepest nesting of parentheses and ``not``.
MAX_LENGTH: Final = 4000
MAX_DEPTH: Final = 64


class FieldKind(enum.Enum):
    """What a field holds, which decides how it compares."""

    MONEY = "money"
    NUMBER = "number"
    TEXT = "text"
    SET = "set"


#: The fields a condition may name, and their kinds.
FIELDS: Final[dict[str, FieldKind]] = {
    "total": FieldKind.MONEY,
    "budget_remaining": FieldKind.MONEY,
    "line_count": FieldKind.NUMBER,
    "currency": FieldKind.TEXT,
    "cost_center": FieldKind.TEXT,
    "sku": FieldKind.SET,
    "category": FieldKind.SET,
    "business_unit": FieldKind.SET,
    "requester_role": FieldKind.SET,
}

_ORDERING: Final = ("<", "<=", ">", ">=")
_OPERATORS: Final = ("=", "!=", *_ORDERING)
_KEYWORDS: Final = frozenset({"and", "or", "not", "in", "true", "false"})

Value = Money | Decimal | str


def _strings(value: object) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a set of strings", path="facts", value=value)
    out = frozenset(value)
    if not all(isinstance(v, str) for v in out):
        raise ValidationError("must be a set of strings", path="facts", value=value)
    return out


@attrs.frozen
class Facts:
    """The values a condition reads, for one subject at one moment.

    :func:`b2bcore.approvals.rules.facts_for` builds them from a subject and what
    the company knows (the requester's roles, the unit tree, budgets).
    """

    total: Money = attrs.field(validator=attrs.validators.instance_of(Money))
    line_count: int = 0
    skus: frozenset[str] = attrs.field(factory=frozenset, converter=_strings)
    categories: frozenset[str] = attrs.field(factory=frozenset, converter=_strings)
    cost_center: str | None = None
    business_units: frozenset[str] = attrs.field(factory=frozenset, converter=_strings)
    requester_roles: frozenset[str] = attrs.field(factory=frozenset, converter=_strings)
    budget_remaining: Money | None = None

    def value(self, field: str) -> Money | Decimal | str | frozenset[str] | None:
        """The value of a condition field."""
        if field == "line_count":
            return Decimal(self.line_count)
        if field == "currency":
            return self.total.currency
        attribute = _ATTRIBUTES.get(field)
        if attribute is None:
            raise ValidationError(f"unknown field {field!r}", path="field", value=field)
        value: Money | str | frozenset[str] | None = getattr(self, attribute)
        return value


_ATTRIBUTES: Final = {
    "total": "total",
    "budget_remaining": "budget_remaining",
    "cost_center": "cost_center",
    "sku": "skus",
    "category": "categories",
    "business_unit": "business_units",
    "requester_role": "requester_roles",
}


# -- the tree -----------------------------------------------------------------------------


@attrs.frozen
class FieldRef:
    """Another field as the right-hand side of a comparison (``budget_remaining < total``)."""

    name: str


@attrs.frozen
class Compare:
    """``field op value``."""

    field: str
    op: str
    value: Value | FieldRef


@attrs.frozen
class IsIn:
    """``field in (v1, v2, ...)`` or, negated, ``field not in (...)``."""

    field: str
    values: tuple[Value, ...]
    negated: bool = False


@attrs.frozen
class Not:
    """``not operand``."""

    operand: Node


@attrs.frozen
class And:
    """``a and b and ...`` (two or more operands)."""

    operands: tuple[Node, ...]


@attrs.frozen
class Or:
    """``a or b or ...`` (two or more operands)."""

    operands: tuple[Node, ...]


@attrs.frozen
class Const:
    """``true`` or ``false``."""

    value: bool


Node = Compare | IsIn | Not | And | Or | Const

_PRECEDENCE: Final[dict[type, int]] = {Or: 1, And: 2, Not: 3}


def _literal_text(value: Value) -> str:
    if isinstance(value, Money):
        return f"{value.amount:f} {value.currency}"
    if isinstance(value, Decimal):
        return f"{value:f}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _text(node: Node) -> str:
    def wrap(child: Node, minimum: int) -> str:
        inner = _text(child)
        return f"({inner})" if _PRECEDENCE.get(type(child), 4) < minimum else inner

    match node:
        case Or(operands):
            return " or ".join(wrap(o, 2) for o in operands)
        case And(operands):
            return " and ".join(wrap(o, 3) for o in operands)
        case Not(operand):
            return f"not {wrap(operand, 3)}"
        case Compare(field, op, value):
            right = value.name if isinstance(value, FieldRef) else _literal_text(value)
            return f"{field} {op} {right}"
        case IsIn(field, values, negated):
            listed = ", ".join(_literal_text(v) for v in values)
            return f"{field} {'not in' if negated else 'in'} ({listed})"
        case Const(value):
            return "true" if value else "false"
    raise TypeError(f"not a condition node: {node!r}")  # pragma: no cover


def _leaves(node: Node) -> Iterator[Compare | IsIn | Const]:
    match node:
        case Or(operands) | And(operands):
            for o in operands:
                yield from _leaves(o)
        case Not(operand):
            yield from _leaves(operand)
        case _:
            yield node


def _compare_money(op: str, left: Money | None, right: Money | None) -> bool:
    if left is None or right is None:
        return op == "!="
    if left.currency != right.currency:
        raise CurrencyMismatchError(left.currency, right.currency, "compare")
    return _ordered(op, left.amount, right.amount)


def _ordered(op: str, left: Decimal, right: Decimal) -> bool:
    match op:
        case "=":
            return left == right
        case "!=":
            return left != right
        case "<":
            return left < right
        case "<=":
            return left <= right
        case ">":
            return left > right
    return left >= right


def _judge(leaf: Compare | IsIn, facts: Facts) -> bool:
    kind = FIELDS[leaf.field]
    actual = facts.value(leaf.field)
    if isinstance(leaf, IsIn):
        if kind is FieldKind.SET:
            assert isinstance(actual, frozenset)
            hit = any(v in actual for v in leaf.values)
        else:
            hit = actual is not None and any(actual == v for v in leaf.values)
        return hit != leaf.negated
    other = facts.value(leaf.value.name) if isinstance(leaf.value, FieldRef) else leaf.value
    if kind is FieldKind.MONEY:
        assert actual is None or isinstance(actual, Money)
        assert other is None or isinstance(other, Money)
        return _compare_money(leaf.op, actual, other)
    if kind is FieldKind.NUMBER:
        assert isinstance(actual, Decimal)
        assert isinstance(other, Decimal)
        return _ordered(leaf.op, actual, other)
    if kind is FieldKind.SET:
        assert isinstance(actual, frozenset)
        return (other in actual) == (leaf.op == "=")
    if actual is None:
        return leaf.op == "!="
    return (actual == other) == (leaf.op == "=")


def _evaluate(node: Node, facts: Facts) -> bool:
    match node:
        case Or(operands):
            return any(_evaluate(o, facts) for o in operands)
        case And(operands):
            return all(_evaluate(o, facts) for o in operands)
        case Not(operand):
            return not _evaluate(operand, facts)
        case Const(value):
            return value
        case Compare() | IsIn():
            return _judge(node, facts)
    raise TypeError(f"not a condition node: {node!r}")  # pragma: no cover


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) if value else "(none)"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


@attrs.frozen
class Check:
    """One comparison of a condition, judged for given facts (see
    :meth:`Predicate.explain`); ``result`` is None when it cannot be judged (amounts
    in two currencies)."""

    condition: str
    field: str
    actual: str
    result: bool | None
    note: str = ""

    def __str__(self) -> str:
        verdict = {True: "true", False: "false", None: "not comparable"}[self.result]
        note = f" ({self.note})" if self.note else ""
        return f"{self.condition}: {self.field} is {self.actual} -> {verdict}{note}"


def _check_node(node: object, depth: int = 0) -> None:
    """Validate a tree built in code (the parser builds valid ones)."""
    if depth > MAX_DEPTH:
        raise ValidationError(f"condition nested deeper than {MAX_DEPTH}", path="condition")
    match node:
        case Or(operands) | And(operands):
            if not isinstance(operands, tuple) or len(operands) < 2:
                raise ValidationError(
                    "and/or need a tuple of two or more operands", path="condition", value=node
                )
            for o in operands:
                _check_node(o, depth + 1)
        case Not(operand):
            _check_node(operand, depth + 1)
        case Const(value):
            if not isinstance(value, bool):
                raise ValidationError("must be true or false", path="condition", value=node)
        case Compare() | IsIn():
            problem = _type_problem(node)
            if problem is not None:
                raise ValidationError(problem, path="condition", value=node)
        case _:
            raise ValidationError("not a condition node", path="condition", value=node)


def _literal_problem(field: str, kind: FieldKind, value: object) -> str | None:
    if kind is FieldKind.MONEY:
        if not isinstance(value, Money):
            return f"{field} is an amount: compare it with an amount such as 5000 EUR"
    elif kind is FieldKind.NUMBER:
        if isinstance(value, Money):
            return f"{field} is a number, not an amount: drop the currency"
        if not isinstance(value, Decimal) or not value.is_finite():
            return f"{field} is a number: compare it with a number such as 20"
    elif not isinstance(value, str):
        return f'{field} is text: compare it with quoted text such as "pumps"'
    return None


def _type_problem(leaf: Compare | IsIn) -> str | None:  # noqa: PLR0911 - one return per problem
    kind = FIELDS.get(leaf.field) if isinstance(leaf.field, str) else None
    if kind is None:
        return f"unknown field {leaf.field!r}; fields: {', '.join(FIELDS)}"
    if isinstance(leaf, IsIn):
        if kind is FieldKind.MONEY:
            return f"{leaf.field} is an amount: use comparisons, not in (...)"
        if not isinstance(leaf.values, tuple) or not leaf.values:
            return "in (...) needs at least one value"
        if not isinstance(leaf.negated, bool):
            return "negated must be a bool"
        for v in leaf.values:
            problem = _literal_problem(leaf.field, kind, v)
            if problem is not None:
                return problem
        return None
    if leaf.op not in _OPERATORS:
        return f"unknown operator {leaf.op!r}; use one of {' '.join(_OPERATORS)}"
    if kind in (FieldKind.TEXT, FieldKind.SET) and leaf.op in _ORDERING:
        return f"{leaf.field} is text: compare it with =, != or in (...)"
    if isinstance(leaf.value, FieldRef):
        other = FIELDS.get(leaf.value.name)
        if other is None:
            return f"unknown field {leaf.value.name!r}; fields: {', '.join(FIELDS)}"
        if kind not in (FieldKind.MONEY, FieldKind.NUMBER) or other is not kind:
            return (
                f"{leaf.field} can be compared with another field only when both are "
                "amounts or both numbers"
            )
        return None
    return _literal_problem(leaf.field, kind, leaf.value)


def _root(value: object) -> Node:
    _check_node(value)
    return value  # type: ignore[return-value]


@attrs.frozen
class Predicate:
    """A parsed condition: evaluate it, explain it, print it back.

    Build one with :func:`parse_predicate`; ``str(p)`` is its canonical text, and
    ``parse_predicate(str(p)) == p``.
    """

    root: Node = attrs.field(converter=_root)

    def __str__(self) -> str:
        return _text(self.root)

    @property
    def text(self) -> str:
        """The canonical text."""
        return _text(self.root)

    def evaluate(self, facts: Facts) -> bool:
        """Whether the condition holds for ``facts`` (CurrencyMismatchError when it
        would have to compare amounts in two currencies)."""
        if not isinstance(facts, Facts):
            raise ValidationError("must be Facts", path="facts", value=facts)
        return _evaluate(self.root, facts)

    def explain(self, facts: Facts) -> tuple[Check, ...]:
        """Every comparison with the value it read and its verdict, in text order."""
        out = []
        for leaf in _leaves(self.root):
            if isinstance(leaf, Const):
                continue
            actual = _show(facts.value(leaf.field))
            try:
                result: bool | None = _judge(leaf, facts)
                note = ""
            except CurrencyMismatchError as e:
                result, note = None, f"{e.left} and {e.right} are never compared"
            out.append(Check(_text(leaf), leaf.field, actual, result, note))
        return tuple(out)

    def fields(self) -> frozenset[str]:
        """The fields the condition reads."""
        names: set[str] = set()
        for leaf in _leaves(self.root):
            if isinstance(leaf, (Compare, IsIn)):
                names.add(leaf.field)
            if isinstance(leaf, Compare) and isinstance(leaf.value, FieldRef):
                names.add(leaf.value.name)
        return frozenset(names)

    def total_floor(self) -> tuple[Money, bool] | None:
        """The least ``total`` the condition can match, as (amount, exclusive), when
        it bounds the total from below (``total > 5000 EUR and ...``); None when any
        total may match. Used by the checks that find rules nobody can approve."""
        return _floor(self.root)


def _floor(node: Node) -> tuple[Money, bool] | None:  # noqa: PLR0911 - one return per shape
    match node:
        case Compare("total", ">" | ">=" | "=", Money() as amount):
            return amount, node.op == ">"
        case And(operands):
            floors = [f for f in (_floor(o) for o in operands) if f is not None]
            if not floors or len({f[0].currency for f in floors}) > 1:
                return None
            return max(floors, key=lambda f: (f[0].amount, f[1]))
        case Or(operands):
            found = [_floor(o) for o in operands]
            if any(f is None for f in found):
                return None
            floors = [f for f in found if f is not None]
            if len({f[0].currency for f in floors}) > 1:
                return None
            return min(floors, key=lambda f: (f[0].amount, f[1]))
    return None


# -- parsing ------------------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?\d{1,40}(?:\.\d{1,40})?)(?![\d.])
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)


@attrs.frozen
class _Token:
    kind: str  # num, str, op, punct, word, end
    text: str
    position: int

    def describe(self) -> str:
        return "the end" if self.kind == "end" else repr(self.text)


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char in "\"'":
                raise PredicateError(
                    "unterminated text: a closing quote is missing", text, position
                )
            raise PredicateError(f"unexpected character {char!r}", text, position)
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            out.append(_Token(kind, match.group(), position))
        position = match.end()
    out.append(_Token("end", "", len(text)))
    return out


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    # -- helpers
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.lower() == word

    def fail(self, reason: str, token: _Token | None = None) -> PredicateError:
        at = token if token is not None else self.peek()
        return PredicateError(reason, self.text, at.position)

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the condition is nested deeper than {MAX_DEPTH} levels", token)

    # -- grammar
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail("empty condition; write true to match every subject")
        node = self.disjunction()
        token = self.peek()
        if token.kind != "end":
            if token.kind == "punct" and token.text == ")":
                raise self.fail("unbalanced ')': no '(' opens it")
            raise self.fail(f"expected and, or or the end, found {token.describe()}")
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.is_word("or"):
            keyword = self.advance()
            items.append(self.conjunction_after(keyword))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.negation()]
        while self.is_word("and"):
            keyword = self.advance()
            items.append(self.negation_after(keyword))
        return items[0] if len(items) == 1 else And(tuple(items))

    def conjunction_after(self, keyword: _Token) -> Node:
        if self.peek().kind == "end":
            raise self.fail(f"expected a condition after {keyword.text.lower()}, found the end")
        return self.conjunction()

    def negation_after(self, keyword: _Token) -> Node:
        if self.peek().kind == "end":
            raise self.fail(f"expected a condition after {keyword.text.lower()}, found the end")
        return self.negation()

    def negation(self) -> Node:
        if self.is_word("not"):
            keyword = self.advance()
            self.nest(keyword)
            if self.peek().kind == "end":
                raise self.fail("expected a condition after not, found the end")
            node = Not(self.negation())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.advance()
            self.nest(token)
            if self.peek().kind == "punct" and self.peek().text == ")":
                raise self.fail("empty parentheses: expected a condition inside")
            node = self.disjunction()
            closing = self.peek()
            if not (closing.kind == "punct" and closing.text == ")"):
                raise self.fail(
                    f"expected ')' to close the '(' at position {token.position}, "
                    f"found {closing.describe()}"
                )
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "word":
            word = token.text.lower()
            if word in ("true", "false"):
                self.advance()
                return Const(word == "true")
            if word in FIELDS:
                return self.comparison()
            if word in _KEYWORDS:
                raise self.fail(f"expected a condition, found the keyword {word}")
            raise self.fail(f"unknown field {token.text!r}; fields: {', '.join(FIELDS)}")
        if token.kind in ("num", "str"):
            raise self.fail(
                f"a condition starts with a field (e.g. total > 5000 EUR), found {token.describe()}"
            )
        raise self.fail(f"expected a condition, found {token.describe()}")

    def comparison(self) -> Node:
        field_token = self.advance()
        field = field_token.text.lower()
        kind = FIELDS[field]
        token = self.peek()
        if self.is_word("in") or self.is_word("not"):
            negated = self.is_word("not")
            self.advance()
            if negated and not self.is_word("in"):
                raise self.fail(f"expected in after {field} not, found {self.peek().describe()}")
            if negated:
                self.advance()
            return self.membership(field, kind, negated, token)
        if token.kind != "op":
            raise self.fail(
                f"expected an operator (= != < <= > >= in) after {field}, found {token.describe()}"
            )
        op = self.advance().text
        if kind in (FieldKind.TEXT, FieldKind.SET) and op in _ORDERING:
            raise self.fail(f"{field} is text: compare it with =, != or in (...)", token)
        value_token = self.peek()
        if value_token.kind == "word" and value_token.text.lower() in FIELDS:
            self.advance()
            node = Compare(field, op, FieldRef(value_token.text.lower()))
        else:
            node = Compare(field, op, self.literal(f"after {op}"))
        problem = _type_problem(node)
        if problem is not None:
            raise self.fail(problem, value_token)
        return node

    def membership(self, field: str, kind: FieldKind, negated: bool, at: _Token) -> Node:
        if kind is FieldKind.MONEY:
            raise self.fail(f"{field} is an amount: use comparisons, not in (...)", at)
        opening = self.peek()
        if not (opening.kind == "punct" and opening.text == "("):
            raise self.fail(f"expected '(' after in, found {opening.describe()}")
        self.advance()
        values: list[Value] = []
        while True:
            value_token = self.peek()
            value = self.literal("in the list")
            problem = _literal_problem(field, kind, value)
            if problem is not None:
                raise self.fail(problem, value_token)
            values.append(value)
            token = self.advance()
            if token.kind == "punct" and token.text == ")":
                break
            if not (token.kind == "punct" and token.text == ","):
                raise self.fail(f"expected ',' or ')' in the list, found {token.describe()}", token)
        return IsIn(field, tuple(values), negated)

    def literal(self, where: str) -> Value:
        token = self.peek()
        if token.kind == "str":
            self.advance()
            return _unquote(token.text)
        if token.kind == "num":
            self.advance()
            number = Decimal(token.text)
            after = self.peek()
            if after.kind == "word" and after.text.lower() not in _KEYWORDS | set(FIELDS):
                code = after.text
                if not is_currency(code):
                    raise self.fail(f"{code!r} is not an ISO 4217 currency code", after)
                self.advance()
                return Money(number, code)
            return number
        raise self.fail(f"expected a value {where}, found {token.describe()}")


def parse_predicate(text: str) -> Predicate:
    """Parse a condition (see the module documentation for the language).

    Raises :class:`~b2bcore.approvals.errors.PredicateError` (a ValidationError)
    naming the position of the first problem.

    >>> parse_predicate("sku in ('A-1', 'B-2') and not cost_center = \\"CC-9\\"").text
    'sku in ("A-1", "B-2") and not cost_center = "CC-9"'
    >>> parse_predicate("total > 5000")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    b2bcore.approvals.errors.PredicateError: condition: total is an amount: compare it ...
    """
    if not isinstance(text, str):
        raise ValidationError("a condition is text", path="condition", value=text)
    if len(text) > MAX_LENGTH:
        raise PredicateError(
            f"the condition is longer than {MAX_LENGTH} characters", text, MAX_LENGTH
        )
    return Predicate(_Parser(text).parse())


def _structure(value: Any, _: type) -> Predicate:
    if not isinstance(value, str):
        raise TypeError(f"expected a condition as text, got {type(value).__name__}")
    return parse_predicate(value)


converter.register_unstructure_hook(Predicate, str)
converter.register_structure_hook(Predicate, _structure)
