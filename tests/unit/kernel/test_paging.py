"""Example-based tests of b2bcore.paging: pages, limits and keyset cursors."""

from __future__ import annotations

import base64
import json

import attrs
import pytest

from b2bcore.errors import ValidationError
from b2bcore.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
)

QUERY = "orders?company=acme&status=placed&order=placed_at,id"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- Page -------------------------------------------------------------------------------


def test_last_page_iterates_and_has_no_more() -> None:
    page = Page(items=("a", "b"))
    assert list(page) == ["a", "b"]
    assert len(page) == 2
    assert page.next_cursor is None
    assert page.has_more is False


def test_page_with_cursor_has_more() -> None:
    page = Page(items=(1, 2, 3), next_cursor="abc")
    assert page.has_more is True
    assert [x * 2 for x in page] == [2, 4, 6]


def test_empty_page() -> None:
    page: Page[str] = Page(items=())
    assert len(page) == 0
    assert list(page) == []
    assert not page.has_more


def test_page_is_frozen_and_compares_by_value() -> None:
    page = Page(items=("a",), next_cursor="c")
    assert page == Page(items=("a",), next_cursor="c")
    assert page != Page(items=("a",))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        page.next_cursor = None  # type: ignore[misc]


# -- limits -----------------------------------------------------------------------------


def test_limit_constants() -> None:
    assert 1 <= DEFAULT_LIMIT <= MAX_LIMIT
    assert check_limit(DEFAULT_LIMIT) == DEFAULT_LIMIT


@pytest.mark.parametrize("limit", [1, 2, 50, MAX_LIMIT])
def test_check_limit_accepts_the_range(limit: int) -> None:
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, 10**9, True, False, 1.0, "10", None])
def test_check_limit_rejects_everything_else(limit: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_limit(limit)
    assert info.value.path == "limit"
    assert info.value.value == limit
    assert str(MAX_LIMIT) in info.value.reason


# -- cursors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "position",
    [
        [],
        ["2026-05-04T09:30:00+00:00", "01ARZ3NDEKTSV4RRFFQ69G5FAV"],
        [1, "two", None, True, 3.5],
        ["ümlaut ✓", {"nested": [1]}],
    ],
)
def test_cursor_round_trips(position: list[object]) -> None:
    cursor = encode_cursor(QUERY, position)
    assert decode_cursor(QUERY, cursor) == position


def test_cursor_is_url_safe_text() -> None:
    cursor = encode_cursor(QUERY, ["a/b+c?d=e", "x" * 100])
    assert cursor.isascii()
    assert not set(cursor) & set("+/=?&")


def test_cursor_from_another_query_is_rejected() -> None:
    cursor = encode_cursor(QUERY, ["2026-05-04", "o-1"])
    with pytest.raises(ValidationError) as info:
        decode_cursor(QUERY.replace("placed", "shipped"), cursor)
    assert info.value.path == "cursor"
    assert info.value.value == cursor
    assert "different query" in info.value.reason


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!not-base64!!!",
        "abc",
        "é",
        _b64(b"not json"),
        _b64(b"\xff\xfe"),
        _b64(b"null"),
        _b64(b"1"),
        _b64(b"[1]"),
        _b64(b'["a", [], "extra"]'),
    ],
)
def test_corrupt_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_cursor(QUERY, cursor)
    assert info.value.path == "cursor"
    assert "corrupt" in info.value.reason


def test_truncated_cursor_is_rejected() -> None:
    cursor = encode_cursor(QUERY, ["2026-05-04T09:30:00+00:00", "o-1"])
    with pytest.raises(ValidationError) as info:
        decode_cursor(QUERY, cursor[:-7])
    assert info.value.path == "cursor"


def test_cursor_whose_position_is_not_a_list_is_rejected() -> None:
    genuine = encode_cursor(QUERY, [])
    fingerprint = json.loads(base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4)))[0]
    forged = _b64(json.dumps([fingerprint, {"id": "o-1"}]).encode())
    with pytest.raises(ValidationError) as info:
        decode_cursor(QUERY, forged)
    assert info.value.path == "cursor"


@pytest.mark.parametrize("cursor", ["", None, 42, b"abc"])
def test_cursor_must_be_a_non_empty_string(cursor: object) -> None:
    with pytest.raises(ValidationError) as info:
        decode_cursor(QUERY, cursor)
    assert info.value.path == "cursor"
