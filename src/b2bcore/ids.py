"""Typed identifiers.

Every aggregate is referred to by a ``NewType`` of ``str`` so that mypy keeps an
order id from being passed where a claim id is expected, while storage and JSON
see plain strings. Contexts refer to each other's aggregates by these ids only.

:func:`new_id` makes identifiers that sort in creation order (a ULID: 48 bits of
milliseconds, then 80 random bits, Crockford base 32, monotonic within a process),
so "order by id" is a stable, meaningful order for pagination.

>>> from b2bcore.ids import CompanyId, new_id
>>> a, b = new_id(), new_id()
>>> len(a), a < b
(26, True)
>>> CompanyId("acme")
'acme'
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from typing import Final, NewType, TypeVar

from b2bcore.errors import ValidationError

__all__ = [
    "AgentId",
    "AssetId",
    "AssistedSessionId",
    "BookingId",
    "BudgetId",
    "BusinessUnitId",
    "CartId",
    "CategoryId",
    "ClaimId",
    "ClaimTypeId",
    "CompanyId",
    "DelegationId",
    "DocumentId",
    "EventId",
    "FlowId",
    "InvoiceId",
    "LocationId",
    "OrderId",
    "PolicyId",
    "PriceListId",
    "ProductId",
    "QuoteId",
    "RelationRuleId",
    "ReservationId",
    "ResourceId",
    "RoleId",
    "ServiceTypeId",
    "ShipmentId",
    "ShoppingListId",
    "Sku",
    "UserId",
    "as_id",
    "as_ids",
    "check_id",
    "new_id",
]

CompanyId = NewType("CompanyId", str)
BusinessUnitId = NewType("BusinessUnitId", str)
UserId = NewType("UserId", str)
RoleId = NewType("RoleId", str)
AgentId = NewType("AgentId", str)
AssistedSessionId = NewType("AssistedSessionId", str)
Sku = NewType("Sku", str)
ProductId = NewType("ProductId", str)
CategoryId = NewType("CategoryId", str)
PriceListId = NewType("PriceListId", str)
CartId = NewType("CartId", str)
OrderId = NewType("OrderId", str)
QuoteId = NewType("QuoteId", str)
ShipmentId = NewType("ShipmentId", str)
ShoppingListId = NewType("ShoppingListId", str)
InvoiceId = NewType("InvoiceId", str)
PolicyId = NewType("PolicyId", str)
FlowId = NewType("FlowId", str)
ClaimId = NewType("ClaimId", str)
ClaimTypeId = NewType("ClaimTypeId", str)
AssetId = NewType("AssetId", str)
DocumentId = NewType("DocumentId", str)
ServiceTypeId = NewType("ServiceTypeId", str)
ResourceId = NewType("ResourceId", str)
BookingId = NewType("BookingId", str)
EventId = NewType("EventId", str)
LocationId = NewType("LocationId", str)
ReservationId = NewType("ReservationId", str)
RelationRuleId = NewType("RelationRuleId", str)
BudgetId = NewType("BudgetId", str)
DelegationId = NewType("DelegationId", str)

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}\Z")
_lock = threading.Lock()
_last: list[int] = [0, 0]  # [milliseconds, randomness] of the previous id


#: Every 10-bit value as its two Crockford characters (a ULID is 13 of them).
_PAIRS: Final = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)
_PAIR_SHIFTS: Final = tuple(range(120, -1, -10))


def new_id() -> str:
    """A new ULID: unique, 26 characters, sorting in creation order within a process."""
    ms = time.time_ns() // 1_000_000
    with _lock:
        if ms <= _last[0]:
            ms = _last[0]
            rnd = _last[1] + 1
        else:
            rnd = int.from_bytes(os.urandom(10), "big") >> 1  # leave room to increment
        _last[0], _last[1] = ms, rnd
    # 48 bits of time (the first 10 characters: the same all millisecond long), 80 of
    # randomness (the last 16).
    prefix = _prefix
    if prefix[0] != ms:
        prefix = _prefix_of(ms)
    return prefix[1] + "".join([_PAIRS[(rnd >> shift) & 1023] for shift in _RANDOM_SHIFTS])


_RANDOM_SHIFTS: Final = _PAIR_SHIFTS[5:]


def _prefix_of(ms: int) -> tuple[int, str]:
    global _prefix  # noqa: PLW0603 - replaced whole, read without the lock
    _prefix = (ms, _crockford(ms << 80)[:10])
    return _prefix


_prefix: tuple[int, str] = (-1, "")


def _crockford(n: int) -> str:
    """The 128-bit ``n`` as 26 Crockford base32 characters (130 bits, the first two
    zeros), two characters (10 bits) at a time."""
    return "".join([_PAIRS[(n >> shift) & 1023] for shift in _PAIR_SHIFTS])


def check_id(value: object, *, path: str = "id") -> str:
    """Validate an identifier given by a caller: 1-128 chars of ``[A-Za-z0-9._:@/-]``.

    >>> check_id("co-1")
    'co-1'
    >>> check_id(" spaced ")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    b2bcore.errors.ValidationError: id: ' spaced ' is not a valid identifier (1-128 characters: ...
    """
    if type(value) is str and value in _VALID_IDS:
        return value
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValidationError(
            f"{value!r} is not a valid identifier (1-128 characters: letters, digits and "
            ". _ : @ / -, starting with a letter or digit)",
            path=path,
            value=value,
        )
    if type(value) is str:
        if len(_VALID_IDS) >= _VALID_IDS_SIZE:
            _VALID_IDS.clear()
        _VALID_IDS.add(value)
    return value


#: Identifiers :func:`check_id` accepted lately (the same ids are checked again and
#: again: every model checks its ids when it is made or read); cleared when full.
_VALID_IDS: set[str] = set()
_VALID_IDS_SIZE: Final = 65_536


T = TypeVar("T")


def as_id(kind: Callable[[str], T], value: object, *, path: str) -> T:
    """Validate a caller's id (:func:`check_id`) and type it as ``kind``.

    >>> as_id(CompanyId, "acme", path="company_id")
    'acme'
    """
    return kind(check_id(value, path=path))


def as_ids(kind: Callable[[str], T], values: object, *, path: str) -> list[T]:
    """Validate a list (or tuple/set) of caller ids and type each as ``kind``.

    >>> as_ids(RoleId, ["buyer", "approver"], path="roles")
    ['buyer', 'approver']
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, set, frozenset)):
        raise ValidationError("must be a list of ids", path=path, value=values)
    return [as_id(kind, v, path=f"{path}[{i}]") for i, v in enumerate(values)]
