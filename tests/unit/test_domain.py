"""Ids, cursors and rules that need no service."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamotalk.domain.cursor import decode_cursor, encode_cursor
from dynamotalk.domain.errors import ErrorCode, InvalidInput
from dynamotalk.domain.ids import UlidGenerator, direct_room_id, is_ulid, ulid_time_ms
from dynamotalk.domain.limits import MAX_FRAME_BYTES, Limits
from dynamotalk.domain.rules import clean_page_size
from dynamotalk.edge.replies import HTTP_STATUS


def test_ulids_are_monotonic_within_one_millisecond() -> None:
    ids = UlidGenerator()
    made = [ids.new_id(1_700_000_000_000) for _ in range(1000)]
    assert made == sorted(made)
    assert len(set(made)) == 1000
    assert all(is_ulid(i) and ulid_time_ms(i) == 1_700_000_000_000 for i in made)


@given(st.integers(0, 2**48 - 1), st.integers(0, 2**48 - 1))
def test_ulid_order_follows_time(a: int, b: int) -> None:
    ids = UlidGenerator()
    first, second = ids.new_id(min(a, b)), UlidGenerator().new_id(max(a, b) + 1)
    assert first < second


def test_direct_room_id_is_symmetric_and_distinct() -> None:
    assert direct_room_id("a", "b") == direct_room_id("b", "a")
    assert direct_room_id("a", "b") != direct_room_id("a", "c")
    # No ambiguity from concatenation: ("ab","c") and ("a","bc") differ.
    assert direct_room_id("ab", "c") != direct_room_id("a", "bc")


@given(st.text(min_size=1, max_size=60))
def test_cursor_round_trips_and_is_bound_to_its_room(room_id: str) -> None:
    message_id = UlidGenerator().new_id(5)
    cursor = encode_cursor(room_id, message_id)
    assert decode_cursor(cursor, room_id) == message_id
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, room_id + "x")


@pytest.mark.parametrize("bad", ["", "!!!", "djE=", "x" * 600, encode_cursor("r", "notaulid")])
def test_broken_cursors_are_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(bad, "r")


def test_limits_stay_under_api_gateway_frame_limit() -> None:
    assert MAX_FRAME_BYTES < 128 * 1024
    # A maximal message (4000 chars of 4-byte UTF-8) plus metadata fits one frame.
    assert Limits().max_text * 4 + 2048 < MAX_FRAME_BYTES


def test_every_error_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert all(
        400 <= s < 500
        for c, s in HTTP_STATUS.items()
        if c not in (ErrorCode.INTERNAL, ErrorCode.UNAVAILABLE)
    )


def test_page_size_default_and_bounds() -> None:
    assert clean_page_size(None, Limits()) == 50
    assert clean_page_size(100, Limits()) == 100
    with pytest.raises(InvalidInput):
        clean_page_size(0, Limits())
