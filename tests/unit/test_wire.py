"""The wire protocol: every example in docs/PROTOCOL.md round-trips; malformed input is refused
with its documented code and nothing but a ChatError ever escapes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamotalk import wire
from dynamotalk.domain import events as ev
from dynamotalk.domain.errors import ChatError, Forbidden
from dynamotalk.domain.models import (
    Attachment,
    Invite,
    Membership,
    MentionAll,
    Message,
    Quote,
    Role,
    RoomKind,
    ThreadCount,
)
from dynamotalk.routes import WS_ACTIONS, action_of

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()
EXAMPLES = re.findall(r"<!-- (frame|body): ?(\w*) -->\n```json\n(.*?)\n```", DOC, re.S)
INBOUND = [json.loads(text) for kind, tag, text in EXAMPLES if tag == "inbound"]
OUTBOUND = [json.loads(text) for kind, tag, text in EXAMPLES if tag == "outbound"]
BODIES = [(tag, json.loads(text)) for kind, tag, text in EXAMPLES if kind == "body"]


def test_the_doc_shows_every_action_event_and_body() -> None:
    assert {f["action"] for f in INBOUND} == set(WS_ACTIONS)
    types = {f["type"] for f in OUTBOUND}
    assert types >= {"ack", "error", "message.posted", "message.edited", "message.deleted"}
    assert types >= {"reaction.changed", "typing", "presence.changed"}
    assert types >= {"member.joined", "member.left", "invite.received"}
    assert {tag for tag, _ in BODIES} == {
        "CreateRoom",
        "AddMember",
        "OpenDirect",
        "UpdateProfile",
        "RequestUpload",
        "MarkReadBody",
        "ReportBody",
        "ResolveReportBody",
    }


@pytest.mark.parametrize("example", INBOUND, ids=lambda f: f["action"])
def test_inbound_examples_round_trip(example: dict[str, Any]) -> None:
    frame = wire.parse_frame(json.dumps(example))
    assert frame.request_id == example.get("requestId")
    assert action_of(type(frame.command)) == example["action"]
    again = wire.CONVERTER.unstructure(frame.command)
    for key, value in example.items():
        if key not in ("action", "requestId"):
            assert again[key] == value
    rebuilt = {"action": example["action"], **again}
    assert wire.parse_frame(json.dumps(rebuilt)).command == frame.command


@pytest.mark.parametrize(("name", "example"), BODIES, ids=lambda x: str(x)[:20])
def test_body_examples_round_trip(name: str, example: dict[str, Any]) -> None:
    cls = getattr(wire, name)
    body = wire.parse_body(json.dumps(example).encode(), cls)
    again = wire.CONVERTER.unstructure(body)
    assert {k: again[k] for k in example} == example
    assert wire.parse_body(json.dumps(again), cls) == body


def message_of(data: dict[str, Any]) -> Message:
    return Message(
        message_id=data["id"],
        room_id=data["roomId"],
        author_id=data["authorId"],
        text=data["text"],
        created_at=data["createdAt"],
        client_id=data["clientId"],
        attachments=tuple(
            Attachment(a["key"], a["name"], a["contentType"], a["size"])
            for a in data["attachments"]
        ),
        edited_at=data["editedAt"],
        deleted_at=data["deletedAt"],
        reactions={k: frozenset(v) for k, v in data["reactions"].items()},
        seq=data["seq"],
        hidden=data.get("hidden"),
        **thread_fields_of(data),
    )


def thread_fields_of(data: dict[str, Any]) -> dict[str, Any]:
    """A message's thread, quote and mention fields, from its JSON (absent: the defaults)."""
    quote = data.get("quote")
    everyone = data.get("mentionsAll")
    return {
        "parent_id": data.get("parentId"),
        "also_in_room": data.get("alsoInRoom", False),
        "reply_count": data.get("replyCount", 0),
        "last_reply_at": data.get("lastReplyAt"),
        "quote": Quote(
            quote["messageId"],
            quote["authorId"],
            quote["authorName"],
            quote["createdAt"],
            quote["text"],
        )
        if quote
        else None,
        "mentions": tuple(data.get("mentions", ())),
        "mentions_all": MentionAll(everyone) if everyone else None,
    }


def rebuild(example: dict[str, Any]) -> bytes:
    """Produce the example again from domain objects through the real encoders."""
    kind = example["type"]
    if kind == "ack":
        payload = {
            k: v for k, v in example.items() if k not in ("v", "type", "action", "requestId")
        }
        if "message" in payload:
            payload["message"] = wire.message_json(message_of(payload["message"]))
        if "changes" in payload:  # sync v2: each change rebuilt as an event
            changes = tuple(change_of(c) for c in payload["changes"])
            page = ev.ChangePage(payload["roomId"], changes, payload["seq"], payload["hasMore"])
            payload = wire.changes_json(page)
        return wire.encode_ack(example["requestId"], example["action"], payload)
    if kind == "error":
        error = Forbidden(example["error"]["message"])
        return wire.encode_error(example["requestId"], error)
    return wire.encode_event(event_of(example))


def change_of(example: dict[str, Any]) -> ev.RoomChange:
    change = event_of(example)
    assert isinstance(change, ev.RoomChange)
    return change


def event_of(example: dict[str, Any]) -> ev.Event:
    kind = example["type"]
    room = example["roomId"]
    seq = example.get("seq", 0)
    event: ev.Event
    match kind:
        case "message.posted":
            thread = example.get("thread")
            counts = (
                ThreadCount(thread["parentId"], thread["replyCount"], thread["lastReplyAt"])
                if thread
                else None
            )
            event = ev.MessagePosted(message_of(example["message"]), seq, counts)
        case "mention":
            event = ev.Mentioned(
                room, example["messageId"], seq, example["authorId"], "the-mentioned-member"
            )
        case "message.edited":
            event = ev.MessageEdited(message_of(example["message"]), seq)
        case "message.deleted":
            event = ev.MessageDeleted(message_of(example["message"]), seq)
        case "reaction.changed":
            event = ev.ReactionChanged(
                message_of(example["message"]),
                example["emoji"],
                example["userId"],
                example["added"],
                seq,
            )
        case "typing":
            event = ev.Typing(room, example["userId"], example["username"])
        case "presence.changed":
            event = ev.PresenceChanged(
                room, example["userId"], example["username"], example["online"], example["lastSeen"]
            )
        case "member.joined":
            m = example["membership"]
            event = ev.MemberJoined(
                Membership(
                    m["roomId"], m["userId"], Role(m["role"]), m["joinedAt"], m["lastReadId"]
                ),
                seq,
            )
        case "member.left":
            event = ev.MemberLeft(room, example["userId"], seq)
        case "read":
            event = ev.ReadMoved(room, example["userId"], example["messageId"], example["upTo"])
        case "invite.received":
            i = example["invite"]
            event = ev.InviteReceived(
                Invite(
                    i["roomId"],
                    i["userId"],
                    i["invitedBy"],
                    i["inviterName"],
                    i["roomName"],
                    RoomKind(i["roomKind"]),
                    i["invitedAt"],
                    i["expiresAt"],
                )
            )
        case _:
            raise AssertionError(kind)
    return event


@pytest.mark.parametrize("example", OUTBOUND, ids=lambda f: f["type"])
def test_outbound_examples_are_what_the_encoders_produce(example: dict[str, Any]) -> None:
    assert json.loads(rebuild(example)) == example


ROOM = "01JD2V5N3Q8Z8Y7X6W5V4T3S2R"
OK = {"action": "sendMessage", "roomId": ROOM, "text": "hi", "clientId": "c1"}

MALFORMED: list[tuple[str | bytes, str]] = [
    ("", "invalid_input"),
    ("   ", "invalid_input"),
    ("not json", "invalid_input"),
    ("{", "invalid_input"),
    (b"\xff\xfe\x00", "invalid_input"),
    ("[]", "invalid_input"),
    ("[1, 2]", "invalid_input"),
    ("42", "invalid_input"),
    ('"sendMessage"', "invalid_input"),
    ("null", "invalid_input"),
    ("true", "invalid_input"),
    ("{}", "invalid_input"),
    ('{"action": null}', "invalid_input"),
    ('{"action": 7}', "invalid_input"),
    ('{"action": ["sendMessage"]}', "invalid_input"),
    ('{"action": "launchMissiles"}', "invalid_input"),
    ('{"action": "SENDMESSAGE"}', "invalid_input"),
    ('{"action": "$connect"}', "invalid_input"),
    (json.dumps({**OK, "roomId": 1}), "invalid_input"),
    (json.dumps({**OK, "roomId": None}), "invalid_input"),
    (json.dumps({**OK, "text": ["hi"]}), "invalid_input"),
    (json.dumps({**OK, "text": {"$gt": ""}}), "invalid_input"),
    (json.dumps({**OK, "clientId": 12}), "invalid_input"),
    (json.dumps({**OK, "clientId": ""}), "invalid_input"),
    (json.dumps({**OK, "roomId": ""}), "invalid_input"),
    (json.dumps({k: v for k, v in OK.items() if k != "clientId"}), "invalid_input"),
    (json.dumps({k: v for k, v in OK.items() if k != "roomId"}), "invalid_input"),
    (json.dumps({**OK, "extra": 1}), "invalid_input"),
    (json.dumps({**OK, "room_id": ROOM}), "invalid_input"),
    (json.dumps({**OK, "requestId": 5}), "invalid_input"),
    (json.dumps({**OK, "requestId": ""}), "invalid_input"),
    (json.dumps({**OK, "requestId": "r" * 65}), "invalid_input"),
    (json.dumps({**OK, "attachments": "cat.png"}), "invalid_input"),
    (json.dumps({**OK, "attachments": [{"key": "k"}]}), "invalid_input"),
    (
        json.dumps({**OK, "attachments": [{"key": 1, "name": "n", "contentType": "t", "size": 1}]}),
        "invalid_input",
    ),
    (
        json.dumps(
            {**OK, "attachments": [{"key": "k", "name": "n", "contentType": "t", "size": True}]}
        ),
        "invalid_input",
    ),
    (
        json.dumps(
            {**OK, "attachments": [{"key": "k", "name": "n", "contentType": "t", "size": -1}]}
        ),
        "invalid_input",
    ),
    # An over-long id is a bad field; only content (text) is too_large (PROTOCOL.md errors).
    (json.dumps({**OK, "roomId": "r" * 129}), "invalid_input"),
    (json.dumps({**OK, "clientId": "c" * 65}), "invalid_input"),
    (json.dumps({**OK, "text": "x" * 16_001}), "too_large"),
    (json.dumps({**OK, "text": "x" * 40_000}), "too_large"),
    ('{"action": "sync", "roomId": "r", "limit": true}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": "10"}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": 1.5}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": 0}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": 101}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": NaN}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": Infinity}', "invalid_input"),
    ('{"action": "sync", "roomId": "r", "limit": 1' + "0" * 5000 + "}", "invalid_input"),
    ('{"action": "subscribe", "roomIds": "abc"}', "invalid_input"),
    ('{"action": "subscribe", "roomIds": []}', "invalid_input"),
    ('{"action": "subscribe", "roomIds": [1]}', "invalid_input"),
    ('{"action": "subscribe", "roomIds": [""]}', "invalid_input"),
    (
        json.dumps({"action": "subscribe", "roomIds": [f"r{n}" for n in range(101)]}),
        "invalid_input",
    ),
    (
        '{"action": "react", "roomId": "r", "messageId": "m", "emoji": "' + "😀" * 17 + '"}',
        "invalid_input",
    ),
    ('{"action": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}", "invalid_input"),
    (
        '{"action": "typing", "roomId": {"nested": {"deeper": [1, 2, {"x": null}]}}}',
        "invalid_input",
    ),
]


@pytest.mark.parametrize(("raw", "code"), MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_frames_yield_their_documented_code(raw: str | bytes, code: str) -> None:
    with pytest.raises(ChatError) as refused:
        wire.parse_frame(raw)
    assert refused.value.code == code
    assert refused.value.message
    assert f"`{code}`" in DOC


def test_error_messages_name_the_field() -> None:
    with pytest.raises(ChatError, match="roomId"):
        wire.parse_frame(json.dumps({**OK, "roomId": 5}))
    with pytest.raises(ChatError, match="clientId"):
        wire.parse_frame(json.dumps({k: v for k, v in OK.items() if k != "clientId"}))
    with pytest.raises(ChatError, match="extra"):
        wire.parse_frame(json.dumps({**OK, "extra": 1}))


@pytest.mark.parametrize(
    ("cls", "raw"),
    [
        (wire.CreateRoom, None),
        (wire.CreateRoom, '{"name": "x", "kind": "direct"}'),
        (wire.CreateRoom, '{"name": "x", "members": "u-1"}'),
        (wire.AddMember, "{}"),
        (wire.AddMember, '{"userId": "a", "username": "b"}'),
        (wire.OpenDirect, '{"userId": 3}'),
        (wire.UpdateProfile, "{}"),
        (wire.RequestUpload, '{"filename": "a", "contentType": "image/png", "size": "9"}'),
        (
            wire.RequestUpload,
            '{"filename": "a", "contentType": "image/png", "size": 9, "purpose": "x"}',
        ),
        (wire.MarkReadBody, "[]"),
    ],
)
def test_malformed_bodies_are_invalid_input(cls: type[Any], raw: str | None) -> None:
    with pytest.raises(ChatError) as refused:
        wire.parse_body(raw, cls)
    assert refused.value.code == "invalid_input"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
frame_like = st.fixed_dictionaries(
    {"action": st.sampled_from([*WS_ACTIONS, "bogus"])},
    optional={
        "roomId": json_values,
        "roomIds": json_values,
        "text": json_values,
        "clientId": json_values,
        "messageId": json_values,
        "afterId": json_values,
        "limit": json_values,
        "emoji": json_values,
        "attachments": json_values,
        "requestId": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, frame_like))
def test_any_json_value_is_parsed_or_refused_cleanly(value: object) -> None:
    try:
        wire.parse_frame(json.dumps(value))
    except ChatError as error:
        assert error.code in ("invalid_input", "too_large")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_parsed_or_refused_cleanly(raw: bytes) -> None:
    for parse in (wire.parse_frame, lambda r: wire.parse_body(r, wire.CreateRoom)):
        try:
            parse(raw)
        except ChatError as error:
            assert error.code in ("invalid_input", "too_large")
