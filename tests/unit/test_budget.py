"""Bounded items: real emoji only, reaction caps, and byte budgets proven with the real wire code.

The worst cases are built from the largest value each part can take (text in its most expensive
UTF-8 and JSON escaping, ids at their length limits, ten attachments with the longest keys and
names, every reaction the caps allow with thousands of reactors each) and encoded with
`dynamotalk.wire`, the code that writes every frame.
"""

from __future__ import annotations

import itertools
import json
import uuid

import attrs
import emoji as unicode_emoji
import pytest

from dynamotalk import quotas, wire
from dynamotalk.domain import budget, events
from dynamotalk.domain.errors import InvalidInput, TooLarge
from dynamotalk.domain.limits import MAX_FRAME_BYTES, Limits
from dynamotalk.domain.models import Attachment, HistoryPage, Message, SyncResult
from dynamotalk.domain.rules import clean_emoji
from tests.unit.world import ALICE, BOB, CAROL, World

LIMITS = Limits()
ULID = "01JD2V7B0000000000000000BB"
LONG_ID = "😀" * 128  # ids are checked as 1..128 printable characters: 4 bytes each at worst
TEXTS = {
    "astral": "😀" * LIMITS.max_text,  # 4 bytes of UTF-8 per character
    "quotes": '"' * LIMITS.max_text,  # 2 bytes of JSON per character
    "two-byte": "é" * LIMITS.max_text,
    "controls": "\x01" * LIMITS.max_text,  # 6 bytes each (\u0001) if anything let them through
}
LONGEST_EMOJI = sorted(
    (
        e
        for e, d in unicode_emoji.EMOJI_DATA.items()
        if d["status"] == unicode_emoji.STATUS["fully_qualified"]
    ),
    key=lambda e: len(e.encode()),
    reverse=True,
)[: LIMITS.max_reaction_kinds]


def attachments(room_id: str, author_id: str) -> tuple[Attachment, ...]:
    """Ten attachments as request_upload names them, with the longest safe file names."""
    longest_type = max(LIMITS.upload_content_types, key=len)
    return tuple(
        Attachment(
            key=f"rooms/{room_id}/{author_id}/{ULID}/{'n' * 100}",
            name="n" * 100,
            content_type=longest_type,
            size=LIMITS.max_upload_bytes,
        )
        for _ in range(LIMITS.max_attachments)
    )


def candidates() -> list[tuple[str, Message]]:
    found = []
    for (text_kind, text), ids, with_files in itertools.product(
        TEXTS.items(), ("plain", "long"), (False, True)
    ):
        room_id = ULID if ids == "plain" else LONG_ID
        author_id = str(uuid.uuid4()) if ids == "plain" else LONG_ID
        message = Message(
            message_id=ULID,
            room_id=room_id,
            author_id=author_id,
            text=text,
            created_at=1_732_467_600_000,
            client_id="c" * 64,
            attachments=attachments(room_id, author_id) if with_files else (),
        )
        found.append((f"{text_kind}-{ids}-{'files' if with_files else 'text'}", message))
    return found


def with_most_reactions(message: Message, reactors: int = 500) -> Message:
    """Every emoji the cap allows, the longest ones, each from `reactors` users and LONG_ID."""
    users = frozenset(str(uuid.uuid4()) for _ in range(reactors)) | {LONG_ID}
    reactions = {e: users for e in LONGEST_EMOJI}
    return attrs.evolve(message, edited_at=1_732_467_700_000, reactions=reactions)


def frames_of(message: Message) -> dict[str, bytes]:
    """Every frame a message travels in, with the longest ids and request id."""
    request_id = "r" * 64
    return {
        "message.posted": wire.encode_event(events.MessagePosted(message)),
        "message.edited": wire.encode_event(events.MessageEdited(message)),
        "message.deleted": wire.encode_event(events.MessageDeleted(message)),
        "reaction.changed": wire.encode_event(
            events.ReactionChanged(message, LONGEST_EMOJI[0], LONG_ID, False)
        ),
        "ack": wire.encode_ack(request_id, "sendMessage", {"message": wire.message_json(message)}),
    }


def test_the_frame_limit_is_aws_s() -> None:
    assert MAX_FRAME_BYTES == quotas.WS_FRAME_BYTES


@pytest.mark.parametrize(("name", "message"), candidates(), ids=[n for n, _ in candidates()])
def test_every_message_the_budget_accepts_fits_one_frame_in_every_event(
    name: str, message: Message
) -> None:
    try:
        budget.check_message(message, LIMITS)
    except TooLarge:
        assert budget.message_bytes(message) + budget.reactions_reserve(LIMITS) > (
            LIMITS.max_message_bytes
        )
        return
    full = with_most_reactions(message)
    encoded = json.dumps(wire.message_json(full), separators=(",", ":"), ensure_ascii=False)
    assert len(encoded.encode()) <= budget.message_bytes(full) <= LIMITS.max_message_bytes
    for kind, frame in frames_of(full).items():
        assert len(frame) < quotas.WS_FRAME_BYTES, (kind, len(frame))


def test_the_worst_case_a_person_can_send_is_accepted_and_the_rest_refused() -> None:
    by_name = dict(candidates())
    # 4,000 emoji, ten attachments with the longest names: a real, if odd, message.
    budget.check_message(by_name["astral-plain-files"], LIMITS)
    # What only a broken client or an attacker builds is refused, never sent past the frame.
    with pytest.raises(TooLarge, match="message is too large"):
        budget.check_message(by_name["controls-long-files"], LIMITS)


def test_reactions_json_does_not_grow_with_the_number_of_reactors() -> None:
    message = dict(candidates())["two-byte-plain-text"]
    few, many = with_most_reactions(message, 1000), with_most_reactions(message, 8000)
    few_json, many_json = wire.message_json(few), wire.message_json(many)
    assert len(json.dumps(many_json)) == len(json.dumps(few_json))
    assert set(many_json["reactionCounts"].values()) == {8001}
    assert all(len(sample) == budget.REACTION_SAMPLE for sample in many_json["reactions"].values())


def test_a_page_fits_lambdas_response_and_a_sync_reply_one_websocket_message() -> None:
    # Lambda's runtime serialises the handler's result with json.dumps (ASCII escapes): the
    # page's body string grows at most 3x (4 UTF-8 bytes -> 12 bytes of \ud83d\ude00).
    reply_overhead = 4096  # statusCode, headers, the body's own quotes
    assert 3 * LIMITS.max_page_bytes + reply_overhead < quotas.LAMBDA_SYNC_RESPONSE_BYTES
    ack_overhead = len(wire.encode_ack("r" * 64, "sync", {"messages": [], "hasMore": True}))
    assert LIMITS.max_sync_bytes + ack_overhead < quotas.WS_MESSAGE_BYTES
    # A page always makes progress: one message always fits.
    assert LIMITS.max_message_bytes + budget.PAGE_FIXED_BYTES <= LIMITS.max_sync_bytes


def test_pages_stop_at_their_byte_budget_and_say_there_is_more() -> None:
    big = with_most_reactions(dict(candidates())["astral-plain-files"], reactors=100)
    page = budget.within([big] * 100, LIMITS.max_sync_bytes)
    assert 1 <= len(page) < 100
    sync = wire.encode_ack("r1", "sync", wire.sync_json(SyncResult(tuple(page), True)))
    assert len(sync) < quotas.WS_MESSAGE_BYTES
    history = budget.within([big] * 100, LIMITS.max_page_bytes)
    assert 1 <= len(history) < 100
    body = json.dumps(
        wire.history_page_json(HistoryPage(tuple(history), "cursor")), ensure_ascii=False
    )
    assert len(json.dumps({"statusCode": 200, "body": body})) < quotas.LAMBDA_SYNC_RESPONSE_BYTES


# --- emoji ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("👍", "👍"),
        ("👍🏽", "👍🏽"),  # skin-tone modifier
        ("👨\u200d👩\u200d👧\u200d👦", "👨\u200d👩\u200d👧\u200d👦"),  # ZWJ sequence
        ("🇫🇷", "🇫🇷"),  # flag
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", None),  # tag sequence
        ("#\ufe0f\u20e3", "#\ufe0f\u20e3"),  # keycap
        ("#\u20e3", "#\ufe0f\u20e3"),  # keycap, unqualified: one reaction with the one above
        ("❤", "❤\ufe0f"),  # "❤" and "❤️" are one reaction
    ],
)
def test_real_emoji_are_accepted_in_their_fully_qualified_form(
    given: str, stored: str | None
) -> None:
    assert clean_emoji(given) == (stored or given)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        ":+1:",
        "ok",
        "1",
        "#",
        "👍👍",
        "👍 ",
        "🏻",
        "🇦",
        "\u200d",
        "a\u200db",
        "\ufe0f",
        "😀" * 17,
    ],
)
def test_anything_but_one_emoji_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="exactly one emoji"):
        clean_emoji(bad)


# --- the caps in the service ------------------------------------------------------------------


def test_reaction_caps_refuse_early_with_a_clear_error(world: World, public_room: str) -> None:
    service = world.service
    message = service.post_message(ALICE, public_room, "react to me", "c-1")
    world.online(ALICE, "c-alice", public_room)
    emoji = LONGEST_EMOJI[: LIMITS.max_reaction_kinds]
    for e in emoji[: LIMITS.max_reactions_per_user]:
        service.react(BOB, public_room, message.message_id, e)
    with pytest.raises(TooLarge, match="at most 10 reactions on one message"):
        service.react(BOB, public_room, message.message_id, emoji[-1])
    for e in emoji[LIMITS.max_reactions_per_user :]:
        service.react(ALICE, public_room, message.message_id, e)
    with pytest.raises(TooLarge, match="at most 20 different reactions"):
        service.react(ALICE, public_room, message.message_id, "👍")
    changes = [e for e in world.events("c-alice") if isinstance(e, events.ReactionChanged)]
    assert len(changes) == LIMITS.max_reaction_kinds, "a refused reaction is never broadcast"
    # Taking back the only reaction with an emoji frees its slot for another one.
    service.react(BOB, public_room, message.message_id, emoji[0])
    service.join_room(CAROL, public_room)
    again = service.react(CAROL, public_room, message.message_id, "👍")
    assert len(again.reactions) == LIMITS.max_reaction_kinds
    assert again.reactions["👍"] == {CAROL.user_id}
