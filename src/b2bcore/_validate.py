"""Small attrs validators and converters shared by every context (private)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from b2bcore.clock import to_utc
from b2bcore.errors import ValidationError
from b2bcore.ids import check_id
from b2bcore.money import CALCULATION_CONTEXT, to_quantity

__all__ = [
    "bounded_quantity",
    "email",
    "enum_member",
    "identifier",
    "optional_identifier",
    "optional_utc_valid_from",
    "optional_utc_valid_until",
    "text",
    "unique_ids",
    "utc_valid_from",
    "window_end_after_start",
]

_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def identifier(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: a caller-supplied id (see :func:`b2bcore.ids.check_id`)."""
    check_id(value, path=attribute.name)


def optional_identifier(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: ``None`` or a valid id."""
    if value is not None:
        check_id(value, path=attribute.name)


def text(*, max_length: int = 200) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Validator factory: a non-blank string of at most ``max_length`` characters."""

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("must be a non-blank string", path=attribute.name, value=value)
        if len(value) > max_length:
            raise ValidationError(
                f"must be at most {max_length} characters (got {len(value)})",
                path=attribute.name,
                value=value,
            )

    return check


def email(value: object) -> str:
    """Converter: validate and normalise an e-mail address (trimmed, lower case)."""
    if not isinstance(value, str):
        raise ValidationError("must be an e-mail address string", path="email", value=value)
    normalised = value.strip().lower()
    if len(normalised) > 254 or not _EMAIL_RE.match(normalised):
        raise ValidationError(f"{value!r} is not an e-mail address", path="email", value=value)
    return normalised


def unique_ids(value: object, *, path: str = "") -> tuple[str, ...]:
    """Converter: a tuple of valid, distinct ids, order kept (repeats are merged)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("must be a list of ids", path=path, value=value)
    seen: dict[str, None] = {}
    for i, item in enumerate(value):
        seen[check_id(item, path=f"{path}[{i}]")] = None
    return tuple(seen)


def enum_member(kind: type[enum.Enum]) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Validator factory: the value must be a member of ``kind`` (ValidationError if not)."""

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            choices = ", ".join(repr(m.value) for m in kind)
            raise ValidationError(
                f"must be a {kind.__name__} (one of {choices})", path=attribute.name, value=value
            )

    return check


# -- validity windows, shared by every model with valid_from / valid_until ----------------


def utc_valid_from(value: datetime) -> datetime:
    """Converter: an aware ``valid_from``, stored in UTC."""
    return to_utc(value, path="valid_from")


def optional_utc_valid_from(value: object) -> datetime | None:
    """Converter: ``None`` or an aware ``valid_from`` in UTC."""
    return None if value is None else to_utc(value, path="valid_from")


def optional_utc_valid_until(value: object) -> datetime | None:
    """Converter: ``None`` (open-ended) or an aware ``valid_until`` in UTC."""
    return None if value is None else to_utc(value, path="valid_until")


def window_end_after_start(instance: Any, _attribute: object, value: datetime | None) -> None:
    """Validator for ``valid_until``: after ``valid_from`` (windows are half-open)."""
    start = instance.valid_from
    if value is not None and start is not None and value <= start:
        raise ValidationError(
            "valid_until must be after valid_from (the window is half-open)",
            path="valid_until",
            value=value,
        )


def bounded_quantity(
    value: object, *, path: str, positive: bool = True, below: Decimal, places: int = 6
) -> Decimal:
    """A quantity of a model: a Decimal, int or decimal str (never a float) above 0
    (or, with ``positive=False``, from 0) and below ``below``, with at most ``places``
    decimals once trailing zeros are dropped (``2.5000000`` is ``2.5``)."""
    q = to_quantity(value, path=path)
    if q < 0 or (positive and q == 0):
        raise ValidationError(
            "must be positive" if positive else "must not be negative", path=path, value=value
        )
    if q >= below:
        raise ValidationError(f"must be below {below}", path=path, value=value)
    exponent = q.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        normal = q.normalize(CALCULATION_CONTEXT)
        normal_exponent = normal.as_tuple().exponent
        if isinstance(normal_exponent, int) and normal_exponent < -places:
            raise ValidationError(f"has more than {places} decimals", path=path, value=value)
        return normal
    return q
