"""Example-based tests of b2bcore.ids: ULID generation and caller id validation."""

from __future__ import annotations

import itertools
import os
import re
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.errors import ValidationError
from b2bcore.ids import _crockford, check_id, new_id

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def _decode(text: str) -> int:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for char in text:
        value = value * 32 + alphabet.index(char)
    return value


def test_new_id_is_26_crockford_characters() -> None:
    for _ in range(100):
        value = new_id()
        assert len(value) == 26
        assert set(value) <= CROCKFORD
        assert not set(value) & set("ILOU")


def test_new_id_starts_with_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    # Monotonicity may carry the previous id's millisecond forward, never backwards.
    assert before - 1 <= _decode(value[:10]) <= after + 1


@given(st.integers(0, 2**128 - 1), st.integers(0, 2**128 - 1))
def test_the_encoding_is_26_characters_that_decode_back_and_sort_like_the_numbers(
    a: int, b: int
) -> None:
    assert len(_crockford(a)) == 26
    assert _decode(_crockford(a)) == a
    assert (_crockford(a) < _crockford(b)) == (a < b)


def test_new_id_passes_check_id() -> None:
    value = new_id()
    assert check_id(value) == value


def test_new_id_strictly_increases_in_a_tight_loop() -> None:
    values = [new_id() for _ in range(20_000)]
    assert all(a < b for a, b in itertools.pairwise(values))


def test_new_id_is_unique_and_ordered_per_thread_across_threads() -> None:
    per_thread: list[list[str]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        mine = [new_id() for _ in range(2_000)]
        with lock:
            per_thread.append(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(per_thread) == 8
    everything = [value for chunk in per_thread for value in chunk]
    assert len(set(everything)) == len(everything) == 16_000
    for chunk in per_thread:
        assert all(a < b for a, b in itertools.pairwise(chunk))


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "0",
        "co-1",
        "acme.de:plant/line_1@eu",
        "A" * 128,
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    ],
)
def test_check_id_accepts_and_returns_valid_ids(value: str) -> None:
    assert check_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        " spaced ",
        "with space",
        "-leading-dash",
        ".leading-dot",
        "_leading",
        "A" * 129,
        "tab\tinside",
        "trailing-newline\n",
        "ümlaut",
        "semi;colon",
        "hash#",
    ],
)
def test_check_id_rejects_bad_strings(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_id(value)
    assert info.value.path == "id"
    assert info.value.value == value
    assert "not a valid identifier" in info.value.reason


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["a"]])
def test_check_id_rejects_non_strings(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_id(value)
    assert info.value.value == value


def test_check_id_names_the_given_path() -> None:
    with pytest.raises(ValidationError) as info:
        check_id("bad id", path="company_id")
    assert info.value.path == "company_id"
    assert str(info.value).startswith("company_id: ")


_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")


def _verdict(value: object) -> bool:
    try:
        check_id(value)
    except ValidationError:
        return False
    return True


@given(st.text(st.sampled_from("ab9._:@/- \n\u00e9"), max_size=130))
def test_check_id_gives_the_rules_verdict_every_time_it_is_asked(value: str) -> None:
    # Accepted ids are remembered (a bounded set): asking again changes nothing.
    expected = _PATTERN.fullmatch(value) is not None
    assert _verdict(value) is expected
    assert _verdict(value) is expected
    assert _verdict(value + "\n") is False  # \Z, not $: no trailing newline sneaks in


def test_check_id_remembers_a_bounded_number_of_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    from b2bcore import ids

    monkeypatch.setattr(ids, "_VALID_IDS_SIZE", 3)
    monkeypatch.setattr(ids, "_VALID_IDS", set())
    for n in range(10):
        assert check_id(f"id-{n}") == f"id-{n}"
        assert len(ids._VALID_IDS) <= 3
    assert _verdict(" id-9") is False


@given(st.integers(1, 2**48 - 1), st.binary(min_size=10, max_size=10))
def test_new_id_is_the_time_and_randomness_it_drew(ms: int, noise: bytes) -> None:
    from b2bcore import ids

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ids, "_last", [0, 0])
        mp.setattr(time, "time_ns", lambda: ms * 1_000_000 + 999_999)
        mp.setattr(os, "urandom", lambda n: noise[:n])
        value = new_id()
    rnd = int.from_bytes(noise, "big") >> 1
    assert value == _crockford((ms << 80) | rnd)
    assert _decode(value) >> 80 == ms
