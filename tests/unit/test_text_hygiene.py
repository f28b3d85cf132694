"""Text hygiene below the stack: lone surrogates refused at the wire's parse and never able to
crash a reply encoder (F1), invisible format characters and noncharacters refused in message
text while emoji sequences stay (F7), and a frame too deep to parse routed and answered (F8).
The same attacks through the real stack: tests/security/test_text_attacks.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamotalk import wire
from dynamotalk.domain import commands as cmd
from dynamotalk.domain.errors import ChatError, InvalidInput
from dynamotalk.domain.models import Message
from dynamotalk.domain.text import (
    escape_for_terminal,
    first_lone_surrogate,
    forbidden_character,
    replace_lone_surrogates,
    require_clean,
)
from dynamotalk.local.gateway.http import _http_reply
from dynamotalk.local.gateway.websocket import route_of

ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"

# Any code point, lone surrogates included (hypothesis leaves category Cs out by default).
any_text = st.text(st.characters(blacklist_categories=()), max_size=40)


# --- F1: lone surrogates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"action": "sendMessage", "roomId": "r", "text": "x\ud800y", "clientId": "c1"},
        {"action": "editMessage", "roomId": "r", "messageId": "m", "text": "x\udfffy"},
        {"action": "subscribe", "roomIds": ["a", "b\udc00"]},
        {"action": "ping", "\ud800": 1},
        {"action": "ping", "requestId": "\ud800"},
        {"action": "\ud800"},
    ],
)
def test_a_lone_surrogate_anywhere_in_a_frame_is_invalid_input(frame: dict[str, Any]) -> None:
    raw = json.dumps(frame)  # escaped, ASCII: what arrives over the wire
    with pytest.raises(InvalidInput, match=r"lone surrogate \(found U\+D[89A-F]"):
        wire.parse_frame(raw)
    with pytest.raises(InvalidInput, match="lone surrogate"):
        wire.parse_frame(raw.encode())


def test_the_request_id_is_echoed_only_when_it_is_clean() -> None:
    dirty_text = {"action": "ping", "requestId": "r1", "x": "\ud800"}
    assert wire.request_id_of(json.dumps(dirty_text)) == "r1"
    assert wire.request_id_of(json.dumps({"action": "ping", "requestId": "r\ud800"})) is None


def test_a_lone_surrogate_in_an_http_body_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="body must not contain a lone surrogate"):
        wire.parse_body(json.dumps({"name": "room\udbff"}), wire.CreateRoom)
    with pytest.raises(InvalidInput, match="lone surrogate"):
        wire.parse_body(
            json.dumps({"displayName": "me", "avatarKey": "\udfff"}), wire.UpdateProfile
        )


def test_a_valid_pair_escaped_in_json_is_one_character_and_kept() -> None:
    frame = wire.parse_frame(
        r'{"action":"react","roomId":"r","messageId":"m","emoji":"\ud83d\ude00"}'
    )
    assert isinstance(frame.command, cmd.React)
    assert frame.command.emoji == "\U0001f600"


def test_the_text_rules_refuse_lone_surrogates_too() -> None:
    assert forbidden_character("x\ud800y") == "\ud800"
    with pytest.raises(InvalidInput, match="lone surrogates"):
        require_clean("x\udfffy", "message text")
    assert first_lone_surrogate("ascii") is None
    assert first_lone_surrogate("é\udc00") == "\udc00"


def message(text: str) -> Message:
    return Message(
        message_id="m1", room_id="r1", author_id="u1", text=text, created_at=1, client_id="c1"
    )


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_no_reply_encoder_crashes_on_any_text(text: str) -> None:
    """Text stored before the wire refused lone surrogates still encodes, as UTF-8 JSON."""
    for encoded in (
        wire.encode_ack(text, "sendMessage", {"message": wire.message_json(message(text))}),
        wire.encode_error(text, InvalidInput(text)),
    ):
        decoded = json.loads(encoded.decode("utf-8"))
        assert first_lone_surrogate(json.dumps(decoded, ensure_ascii=False)) is None
    assert first_lone_surrogate(replace_lone_surrogates(text)) is None


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_any_text_in_a_frame_is_parsed_or_refused_cleanly(text: str) -> None:
    raw = json.dumps({"action": "sendMessage", "roomId": "r", "text": text, "clientId": "c"})
    try:
        frame = wire.parse_frame(raw)
    except ChatError as error:
        assert error.code == "invalid_input"
        assert first_lone_surrogate(text) is not None
    else:
        assert isinstance(frame.command, cmd.SendMessage)
        assert first_lone_surrogate(frame.command.text) is None


def test_the_local_gateway_sends_an_http_body_with_a_lone_surrogate_as_utf8() -> None:
    reply = {"statusCode": 200, "body": '{"text":"x\ud800y"}'}
    response = _http_reply(reply, {})
    assert response.status_code == 200
    assert json.loads(bytes(response.body)) == {"text": "x\ufffdy"}


# --- F7: invisible format characters and noncharacters ---------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "\u2028",
        "\u2029",
        "\ufeff",
        "\ufff9",
        "\ufffa",
        "\ufffb",
        "\ufdd0",
        "\ufdef",
        "\ufffe",
        "\uffff",
        "\U0001fffe",
        "\U0010ffff",
        "\U000e0001",  # LANGUAGE TAG
        "\U000e0067",
        "\U000e007f",
    ],
)
def test_invisible_format_characters_and_noncharacters_are_refused(bad: str) -> None:
    assert forbidden_character(f"ok{bad}ok") == bad
    with pytest.raises(InvalidInput, match=f"invisible .*U\\+{ord(bad):04X}"):
        require_clean(f"ok{bad}ok", "message text")


@pytest.mark.parametrize(
    "bad",
    [
        "\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # no tag base
        "\U0001f3f4\U000e007f",  # no subdivision
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067",  # no cancel tag
        "\U0001f3f4\U000e0047\U000e0042\U000e0065\U000e006e\U000e0067\U000e007f",  # capitals
        "\U0001f600\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # other base
        ENGLAND + "\U000e0067",  # a tag after the flag
    ],
)
def test_tag_characters_outside_a_subdivision_flag_are_refused(bad: str) -> None:
    assert forbidden_character(f"a {bad} b") is not None


def test_emoji_sequences_and_subdivision_flags_are_kept() -> None:
    kept = f"{ENGLAND}{SCOTLAND} {FAMILY} \u2764\ufe0f a\u200cb \u8fba\U000e0100 tab\tline\n"
    assert forbidden_character(kept) is None
    assert require_clean(kept, "message text") == kept


def test_the_terminal_shows_a_flag_but_escapes_stray_tags_and_separators() -> None:
    shown = escape_for_terminal(f"{ENGLAND} \U000e0067\u2028x")
    assert shown == f"{ENGLAND} \\U000e0067\\u2028x"


# --- F8: a frame too deep to parse ------------------------------------------------------------


@pytest.mark.parametrize("raw", ["[" * 10_000 + "]" * 10_000, '{"a":' * 5_000 + "1" + "}" * 5_000])
def test_a_frame_too_deep_is_routed_to_default_and_refused(raw: str) -> None:
    assert route_of(raw) == "$default"
    with pytest.raises(InvalidInput, match="nested too deeply"):
        wire.parse_frame(raw)
    assert wire.request_id_of(raw) is None


def test_scrub_drops_what_text_may_not_carry_and_keeps_flags_and_emoji() -> None:
    from dynamotalk.domain.text import forbidden_character, scrub

    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    dirty = f"a\r\nb\u2028c\x1b[2Jd\u202ee{england}\U000e0041{family}\ufeff\ud800"
    clean = scrub(dirty)
    assert clean == f"a\nbc[2Jde{england}{family}"
    assert forbidden_character(clean) is None


def test_a_model_reply_with_stray_controls_is_posted_scrubbed() -> None:
    """The bot's reply is written by the server from a model it cannot ask again: a CR or a
    U+2028 in it must not turn the whole answer into an apology."""
    from dynamotalk.bot import BotWorker
    from tests.unit.test_bot import Jobs, bot_world
    from tests.unit.world import ALICE

    world, _jobs, room = bot_world()
    assert isinstance(world.service.bot_jobs, Jobs)
    asked = world.service.post_message(ALICE, room, "@bot hi", "c1")

    class Model:
        def reply(self, *args: object) -> str:
            return "line one\r\nline\u2028two \x07done"

    posted = BotWorker(world.service, Model()).answer(room, asked.message_id)
    assert posted is not None
    assert posted.text == "line one\nlinetwo done"
