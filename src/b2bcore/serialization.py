"""JSON round-tripping of every model, with errors that name the bad field.

:data:`converter` is a :class:`cattrs.Converter` configured for b2bcore's types:

* ``Decimal`` as a string (``"12.50"``), never a float; ``Money`` as
  ``{"amount": "12.50", "currency": "EUR"}``;
* ``datetime`` as ISO 8601 with its UTC offset; a naive one is rejected;
  ``date`` and ``time`` as ISO 8601;
* enums by value; strict scalars (no silent ``1`` → ``"1"`` or ``"3"`` → ``3``).

:func:`structure` wraps cattrs so that bad input raises one
:class:`~b2bcore.errors.ValidationError` whose ``path`` names the first bad field
(``$.lines[1].quantity``) and whose message lists all of them.

>>> from b2bcore.money import Money
>>> from b2bcore.serialization import dumps, loads
>>> dumps(Money("12.50", "EUR"))
'{"amount":"12.50","currency":"EUR"}'
>>> loads('{"amount":"12.50","currency":"EUR"}', Money)
Money('12.50', 'EUR')
>>> loads('{"amount":12.5,"currency":"EUR"}', Money)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
b2bcore.errors.ValidationError: $.amount: floats are not accepted for money or quantities ...
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar, get_args, get_origin

import cattrs
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_any_set,
    is_frozenset,
    is_sequence,
    list_structure_factory,
)
from cattrs.errors import ClassValidationError, IterableValidationError

from b2bcore._json import json_text
from b2bcore.clock import require_aware
from b2bcore.errors import B2BCoreError, ValidationError
from b2bcore.events import DomainEvent, OutboxRecord, event_class
from b2bcore.ids import new_id
from b2bcore.money import Money, to_decimal

__all__ = [
    "converter",
    "dumps",
    "event_from_record",
    "event_to_record",
    "loads",
    "structure",
    "unstructure",
]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True)
"""The shared converter. Contexts register hooks for their own special types here."""


def _structure_decimal(value: object, _: type) -> Decimal:
    if isinstance(value, float):
        raise TypeError(
            f"floats are not accepted for money or quantities (use Decimal('{value!r}') "
            f"or '{value!r}')"
        )
    return to_decimal(value, path="")


def _structure_money(value: object, _: type) -> Money:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object with amount and currency, got {type(value).__name__}")
    extra = set(value) - {"amount", "currency"}
    if extra:
        raise ValueError(f"unexpected keys {sorted(extra)}")
    try:
        amount, currency = value["amount"], value["currency"]
    except KeyError as e:
        raise ValueError(f"missing key {e.args[0]!r}") from None
    try:
        value_amount = _structure_decimal(amount, Decimal)
    except (TypeError, ValidationError) as e:
        raise ValidationError(_leaf_message(e), path="amount", value=amount) from None
    if not isinstance(currency, str):
        raise ValidationError(
            "expected an ISO 4217 code as a string", path="currency", value=currency
        )
    return Money(value_amount, currency)


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, datetime):
        return require_aware(value, path="")
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return require_aware(datetime.fromisoformat(value), path="")


def _structure_date(value: object, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    return date.fromisoformat(value)


def _structure_time(value: object, _: type) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 time string, got {type(value).__name__}")
    return time.fromisoformat(value)


def _is_homogeneous_collection(t: Any) -> bool:
    if is_any_set(t):
        return True
    if not is_sequence(t):
        return False
    args = get_args(t)
    return get_origin(t) is not tuple or (len(args) == 2 and args[1] is Ellipsis)


def _collection_not_text(t: Any, conv: cattrs.Converter) -> Any:
    # cattrs would iterate a str ("hq" -> ("h", "q")) or a dict's keys: refuse those.
    base: Callable[[Any, Any], Any]
    if is_any_set(t):
        (element,) = get_args(t) or (Any,)
        kind = frozenset if is_frozenset(t) else set

        def structure_set(value: Any, _typ: Any) -> Any:
            return kind(conv.structure(v, element) for v in value)

        base = structure_set
    elif get_origin(t) is tuple:
        base = homogenous_tuple_structure_factory(t, conv)
    else:
        base = list_structure_factory(t, conv)

    def hook(value: object, typ: Any) -> Any:
        if isinstance(value, (str, bytes, bytearray, Mapping)):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return base(value, typ)

    return hook


def _strict(kind: type) -> Any:
    def hook(value: object, _: type) -> object:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        return value

    return hook


converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, _structure_decimal)
converter.register_unstructure_hook(
    Money, lambda m: {"amount": str(m.amount), "currency": m.currency}
)
converter.register_structure_hook(Money, _structure_money)
#: The last datetime written and its text: the timestamps of one command are
#: usually one object (its ``at``), written once per document.
_last_datetime: tuple[datetime, str] | None = None


def _datetime_text(d: datetime) -> str:
    global _last_datetime  # noqa: PLW0603 - a one-entry memo, replaced whole
    last = _last_datetime
    if last is not None and last[0] is d:
        return last[1]
    text = require_aware(d).isoformat()
    _last_datetime = (d, text)
    return text


converter.register_unstructure_hook(datetime, _datetime_text)
converter.register_structure_hook(datetime, _structure_datetime)
# Enums by value (cattrs' own hook reads ``.value``, a slow property on Python 3.11).
converter.register_unstructure_hook_factory(
    lambda t: isinstance(t, type) and issubclass(t, Enum), lambda _t: attrgetter("_value_")
)
converter.register_unstructure_hook(date, lambda d: d.isoformat())
converter.register_structure_hook(date, _structure_date)
converter.register_unstructure_hook(time, lambda t: t.isoformat())
converter.register_structure_hook(time, _structure_time)


def _set_unstructure(t: Any, conv: cattrs.Converter) -> Callable[[Any], list[Any]]:
    # JSON has no sets: a sorted list keeps documents (and their diffs) stable.
    (element,) = get_args(t) or (Any,)

    def unstructure_set(value: Any) -> list[Any]:
        items = [conv.unstructure(v, element) for v in value]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))

    return unstructure_set


converter.register_structure_hook_factory(_is_homogeneous_collection, _collection_not_text)
converter.register_unstructure_hook_factory(is_any_set, _set_unstructure)
converter.register_structure_hook(str, _strict(str))
converter.register_structure_hook(int, _strict(int))
converter.register_structure_hook(bool, _strict(bool))


def _flatten(exc: BaseException, path: str) -> list[tuple[str, BaseException]]:
    """Walk cattrs' exception groups, yielding (json path, leaf exception)."""
    if isinstance(exc, ClassValidationError):
        out: list[tuple[str, BaseException]] = []
        for sub, attr_note in exc.group_exceptions()[0]:
            out.extend(_flatten(sub, f"{path}.{attr_note.name}"))
        for sub in exc.group_exceptions()[1]:
            out.extend(_flatten(sub, path))
        return out
    if isinstance(exc, IterableValidationError):
        out = []
        for sub, index_note in exc.group_exceptions()[0]:
            out.extend(_flatten(sub, f"{path}[{index_note.index!r}]"))
        for sub in exc.group_exceptions()[1]:
            out.extend(_flatten(sub, path))
        return out
    if isinstance(exc, ExceptionGroup):
        out = []
        for sub in exc.exceptions:
            out.extend(_flatten(sub, path))
        return out
    if isinstance(exc, ValidationError) and exc.path:
        return [(f"{path}.{exc.path}", exc)]
    return [(path, exc)]


def _leaf_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return exc.reason
    if isinstance(exc, KeyError):
        return "required field is missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unexpected keys {sorted(exc.extra_fields)}"
    return str(exc) or type(exc).__name__


def structure(data: object, cls: type[T]) -> T:
    """Build a ``cls`` from JSON-shaped ``data``; bad input → ValidationError with its path."""
    try:
        return converter.structure(data, cls)
    except (
        ClassValidationError,
        IterableValidationError,
        ExceptionGroup,
        B2BCoreError,
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
        cattrs.BaseValidationError,
    ) as group:
        problems = _flatten(group, "$")
        first_path, first = problems[0]
        listed = "; ".join(f"{p}: {_leaf_message(e)}" for p, e in problems)
        message = _leaf_message(first) if len(problems) == 1 else listed
        raise ValidationError(message, path=first_path, value=data) from group


def unstructure(obj: object) -> Any:
    """The JSON-shaped (dicts, lists, str, int, bool, None) form of ``obj``."""
    return converter.unstructure(obj)


def dumps(obj: object) -> str:
    """Compact, key-order-stable JSON text of ``obj``; ValidationError if it is not
    something the converter turns into JSON."""
    try:
        return json_text(unstructure(obj))
    except (TypeError, ValueError) as e:
        raise ValidationError(f"cannot be written as JSON ({e})", path="$", value=obj) from e


def loads(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text into a ``cls``; malformed JSON or bad fields → ValidationError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationError(
            f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})", path="$"
        ) from e
    return structure(data, cls)


def event_to_record(event: DomainEvent) -> OutboxRecord:
    """Wrap an event in a pending outbox record."""
    return OutboxRecord(
        id=new_id(),
        event_type=type(event).event_type,
        company_id=event.company_id,
        occurred_at=event.occurred_at,
        payload=converter.unstructure(event, type(event)),
    )


def event_from_record(record: OutboxRecord) -> DomainEvent:
    """Rebuild the event stored in an outbox record (its class must be registered)."""
    return structure(record.payload, event_class(record.event_type))
