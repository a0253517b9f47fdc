"""Pages of query results with opaque, stable cursors.

Every repository query returns a :class:`Page`: at most ``limit`` items in a stable
order and, when more exist, a ``next_cursor`` to pass back for the next page.
Cursors are keyset positions (the sort values of the last item), so items added or
removed meanwhile never shift a page; a cursor only works with the query that
made it.

>>> from b2bcore.paging import Page
>>> page = Page(items=("a", "b"), next_cursor=None)
>>> list(page), len(page), page.has_more
(['a', 'b'], 2, False)
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import attrs

from b2bcore.errors import ValidationError

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Page",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
    "iterate",
]

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@attrs.frozen
class Page(Generic[T]):
    """A slice of results and the cursor to the next slice (``None`` at the end)."""

    items: tuple[T, ...]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_more(self) -> bool:
        """Whether another page follows."""
        return self.next_cursor is not None


def check_limit(limit: object) -> int:
    """Validate a page size: an int from 1 to :data:`MAX_LIMIT`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be a whole number from 1 to {MAX_LIMIT}", path="limit", value=limit
        )
    return limit


def _fingerprint(query: str) -> str:
    return hashlib.blake2s(query.encode(), digest_size=6).hexdigest()


def encode_cursor(query: str, position: list[object]) -> str:
    """Encode a keyset ``position`` for ``query`` (a canonical description of the query)."""
    raw = json.dumps([_fingerprint(query), position], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(query: str, cursor: object) -> list[object]:
    """Decode a cursor made by :func:`encode_cursor` for the same ``query``."""
    if not isinstance(cursor, str) or not cursor:
        raise ValidationError("cursor must be a string from a previous page", path="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fingerprint, position = json.loads(raw)
    except (ValueError, TypeError):
        raise ValidationError(
            "cursor is corrupt; pass next_cursor exactly as a previous page returned it",
            path="cursor",
            value=cursor,
        ) from None
    if fingerprint != _fingerprint(query) or not isinstance(position, list):
        raise ValidationError(
            "cursor belongs to a different query; restart without a cursor",
            path="cursor",
            value=cursor,
        )
    return position


def iterate(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a paginated query: ``fetch(cursor)`` returns one page.

    >>> pages = {None: Page(("a", "b"), "c1"), "c1": Page(("c",), None)}
    >>> list(iterate(lambda cursor: pages[cursor]))
    ['a', 'b', 'c']
    """
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
