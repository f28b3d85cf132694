"""The terminal client's issue 17 parts without a stack: argument parsing (durations, roles,
reasons, outcomes, `#id` references), how a message is printed (replies, quotes, mentions,
stubs, a moderator's delete), the live lines of room and membership changes, the reply count a
reply sets on its parent, and the commands' requests against a fake stage."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import httpx
import pytest

from dynamotalk.client import arguments as args
from dynamotalk.client.chat import Chat
from dynamotalk.client.commands import COMMANDS, HELP, ROOM_COMMANDS, run_line
from dynamotalk.client.config import ChatClientError
from dynamotalk.client.feed import RoomFeed
from dynamotalk.client.live import on_frame
from dynamotalk.client.render import BLOCKED_STUB, message_lines
from dynamotalk.domain.limits import MAX_MUTE_S, MAX_SLOW_MODE_S
from dynamotalk.domain.models import Role
from tests.unit.test_clients import Socket, api

NAMES = {"u1": "ann", "u2": "bob", "u3": "cat"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45", 45), ("45s", 45), ("10m", 600), ("2h", 7200), ("1d", 86400), (" 3H ", 10800)],
)
def test_durations_read_their_unit(text: str, seconds: int) -> None:
    assert args.duration(text, MAX_MUTE_S) == seconds


@pytest.mark.parametrize("text", ["forever", "10x", "-5m", "1.5h", "m", ""])
def test_a_malformed_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ChatClientError, match="a number with s, m, h or d"):
        args.duration(text, MAX_MUTE_S)


def test_mute_and_slow_mode_bounds_come_from_the_limits() -> None:
    assert args.mute_seconds("") == args.DEFAULT_MUTE_S
    assert args.mute_seconds("28d") == MAX_MUTE_S
    with pytest.raises(ChatClientError, match="at most 28 d"):
        args.mute_seconds("29d")
    with pytest.raises(ChatClientError, match="at least 1 s"):
        args.mute_seconds("0")
    assert args.slow_seconds("off") == 0
    assert args.slow_seconds("0") == 0
    assert args.slow_seconds("6h") == MAX_SLOW_MODE_S
    with pytest.raises(ChatClientError, match="at most 6 h"):
        args.slow_seconds("7h")
    assert [args.spoken(s) for s in (0, 45, 90, 600, 7200, 86400)] == [
        "0 s", "45 s", "90 s", "10 m", "2 h", "1 d",
    ]  # fmt: skip


def test_roles_reasons_and_outcomes_are_the_domains_values() -> None:
    assert [args.role(r.value.upper()) for r in Role] == list(Role)
    with pytest.raises(ChatClientError, match="one of owner, admin, moderator, member"):
        args.role("king")
    assert args.reason("Spam").value == "spam"
    with pytest.raises(ChatClientError, match="reason 'rude'"):
        args.reason("rude")
    assert args.outcome("actioned").value == "actioned"
    with pytest.raises(ChatClientError, match="dismissed, actioned"):
        args.outcome("done")


def test_words_and_short_ids() -> None:
    assert args.words("bob 10m", 1, "u") == ["bob", "10m"]
    assert args.words("bob", 1, "u") == ["bob", ""]
    assert args.words("#A spam a long note", 2, "u") == ["#A", "spam", "a long note"]
    with pytest.raises(ChatClientError, match="usage: /report"):
        args.words("#A", 2, "/report ID REASON [NOTE]")
    ids = ["01JD2V7B0000000000000000BB", "01JD2V7B00000000000000ZZCC"]
    assert args.short(ids[0]) == "#0000BB"
    assert args.pick("#0000bb", ids, "message") == ids[0]
    assert args.pick(ids[1], ids, "message") == ids[1]
    with pytest.raises(ChatClientError, match="#cc names"):
        args.pick("cc", [*ids, "01JD2V7B00000000000000XXCC"], "message")
    with pytest.raises(ChatClientError, match="no message #nope here"):
        args.pick("#nope", ids, "message")


def message(**fields: Any) -> dict[str, Any]:
    base = {"id": "m0000001", "roomId": "r1", "authorId": "u2", "text": "hi", "deleted": False}
    return {**base, **fields}


def lines(item: dict[str, Any], thread_count: int | None = None) -> list[str]:
    return message_lines(item, "lobby", "u1", lambda u: NAMES.get(u, u), "", thread_count)


def test_messages_print_their_thread_quote_mention_stub_and_deleter() -> None:
    assert lines(message()) == ["[lobby] bob: hi  #000001"]
    assert lines(message(replyCount=1)) == ["[lobby] bob: hi [1 reply]  #000001"]
    reply = message(parentId="p0000009", alsoInRoom=True)
    assert lines(reply, 3) == ["[lobby] ↳ bob in thread of #000009 (3 replies): hi  #000001"]
    assert lines(message(parentId="p0000009")) == [
        "[lobby] ↳ bob in thread of #000009 (thread only): hi  #000001"
    ]
    quoted = message(quote={"authorId": "u3", "authorName": "cat", "text": "x" * 100})
    assert lines(quoted) == [f"    > cat: {'x' * 80}…", "[lobby] bob: hi  #000001"]
    assert lines(message(mentions=["u1"]))[0].startswith("(@you) [lobby]")
    assert lines(message(mentionsAll="here"))[0].startswith("(@you) ")
    assert not lines(message(mentions=["u3"]))[0].startswith("(@you)")
    stub = message(text="", hidden="blocked", mentions=["u1"], quote={"text": "q"})
    assert lines(stub) == [f"[lobby] bob: {BLOCKED_STUB}  #000001"]
    assert lines(message(deleted=True, deletedBy="u3")) == [
        "[lobby] bob: (deleted by cat)  #000001"
    ]
    assert lines(message(deleted=True, deletedBy="u2")) == ["[lobby] bob: (deleted)  #000001"]


def test_a_reply_sets_its_parents_count_and_a_repeat_counts_once() -> None:
    feed = RoomFeed("r1")
    feed.follow_from(5, [message(id="p1")])
    reply = {
        "type": "message.posted",
        "roomId": "r1",
        "seq": 6,
        "message": message(id="p2", parentId="p1"),
        "thread": {"parentId": "p1", "replyCount": 4, "lastReplyAt": 99},
    }
    feed.receive(reply)
    feed.apply(reply)  # applied again (a sync bringing it): set, not added
    assert (feed.messages["p1"]["replyCount"], feed.messages["p1"]["lastReplyAt"]) == (4, 99)


def chat_on(stage: Any = None) -> tuple[Chat, io.StringIO]:
    out = io.StringIO()
    chat = Chat(api(stage or (lambda r: httpx.Response(200, json={}))), out=out, socket=Socket())
    chat.names.update(NAMES)
    chat.me = "u1"
    chat.rooms = {"r1": {"roomId": "r1", "name": "lobby", "kind": "public", "unread": 0}}
    return chat, out


def test_room_pin_and_membership_changes_print_what_changed() -> None:
    chat, out = chat_on()
    room = {"roomId": "r1", "name": "lobby", "kind": "public"}
    member = {"roomId": "r1", "userId": "u2", "role": "member"}
    later = int(time.time() * 1000) + 600_000
    frames = [
        {"type": "room.updated", "seq": 1, "room": {**room, "slowModeSeconds": 30}},
        {"type": "room.updated", "seq": 2, "room": {**room, "name": "hall", "archived": True}},
        {"type": "message.pinned", "seq": 3, "pin": {"messageId": "m00042", "pinnedBy": "u3", "text": "rules"}},
        {"type": "message.unpinned", "seq": 4, "messageId": "m00042"},
        {"type": "member.joined", "seq": 5, "membership": member},
        {"type": "member.joined", "seq": 6, "membership": {**member, "role": "moderator"}},
        {"type": "member.joined", "seq": 7, "membership": {**member, "role": "moderator", "mutedUntil": later}},
        {"type": "member.joined", "seq": 8, "membership": {**member, "role": "moderator"}},
        {"type": "member.left", "seq": 9, "userId": "u1"},
        {"type": "message.deleted", "seq": 10, "message": message(deleted=True, deletedBy="u3")},
    ]  # fmt: skip
    for frame in frames:
        on_frame(chat, {"roomId": "r1", **frame})
    assert out.getvalue().splitlines() == [
        "* room lobby: slow mode: one message per 30 s",
        "* room lobby: renamed to hall, slow mode off, archived (read-only)",
        "* cat pinned #m00042 in hall: rules",
        "* #m00042 unpinned in hall",
        "* bob joined hall",
        "* bob is now moderator in hall",
        "* bob is muted in hall for 10 m",
        "* bob is no longer muted in hall",
        "* you are no longer a member of hall",
        "* message #000001 was deleted by cat",
    ]
    on_frame(chat, {"type": "typing", "roomId": "r1", "userId": "u2", "username": "bob"})
    chat.blocked.add("u2")
    on_frame(chat, {"type": "typing", "roomId": "r1", "userId": "u2", "username": "bob"})
    assert out.getvalue().count("bob is typing") == 1


def recording(sent: list[tuple[str, str, Any]]) -> Any:
    """A stage for the moderation commands: bob is a member of r1; every write is answered and
    recorded in `sent` (method, path, body)."""

    def stage(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rooms/r1/presence":
            return httpx.Response(200, json={"members": [{"userId": "u2", "username": "bob"}]})
        body = json.loads(request.content) if request.content else None
        sent.append((request.method, request.url.path, body))
        return httpx.Response(200, json={"report": {"reason": "spam"}})

    return stage


def test_commands_send_the_requests_the_protocol_names() -> None:
    sent: list[tuple[str, str, Any]] = []
    chat, out = chat_on(recording(sent))
    chat.current = "r1"
    chat.remember("01JD2V7B0000000000000000BB", "r1")

    async def script() -> None:
        for line in (
            "/mute bob 2h", "/mute @BOB", "/unmute bob", "/kick bob", "/ban bob spam links",
            "/role bob admin", "/pin #0000bb", "/unpin 0000BB", "/slow 2m", "/slow off",
            "/rename hall", "/archive", "/unarchive", "/report #0000BB spam same link",
            "/block bob", "/unblock bob",
        ):  # fmt: skip
            await run_line(chat, line)
        with pytest.raises(ChatClientError, match="no user called 'eve' in lobby"):
            await run_line(chat, "/kick eve")
        await run_line(chat, "/reply #0000BB in the thread")
        await run_line(chat, "/reply+ #0000BB and the room")
        await run_line(chat, "/quote #0000BB as said")

    asyncio.run(script())
    bb = "01JD2V7B0000000000000000BB"
    assert sent == [
        ("POST", "/rooms/r1/mutes", {"userId": "u2", "seconds": 7200}),
        ("POST", "/rooms/r1/mutes", {"userId": "u2", "seconds": args.DEFAULT_MUTE_S}),
        ("DELETE", "/rooms/r1/mutes/u2", None),
        ("DELETE", "/rooms/r1/members/u2", None),
        ("POST", "/rooms/r1/bans", {"userId": "u2", "reason": "spam links"}),
        ("PUT", "/rooms/r1/members/u2/role", {"role": "admin"}),
        ("POST", "/rooms/r1/pins", {"messageId": bb}),
        ("DELETE", f"/rooms/r1/pins/{bb}", None),
        ("PATCH", "/rooms/r1", {"slowModeSeconds": 120}),
        ("PATCH", "/rooms/r1", {"slowModeSeconds": 0}),
        ("PATCH", "/rooms/r1", {"name": "hall"}),
        ("PATCH", "/rooms/r1", {"archived": True}),
        ("PATCH", "/rooms/r1", {"archived": False}),
        ("POST", f"/rooms/r1/messages/{bb}/report", {"reason": "spam", "note": "same link"}),
        ("POST", "/blocks/u2", None),
        ("DELETE", "/blocks/u2", None),
    ]
    frames = chat.socket.sent
    assert [(f.get("parentId"), f.get("alsoInRoom"), f.get("quote")) for f in frames] == [
        (bb, None, None),
        (bb, True, None),
        (None, None, {"messageId": bb}),
    ]
    assert "* muted bob for 2 h" in out.getvalue()


def test_help_names_every_command() -> None:
    for name in [*COMMANDS, *ROOM_COMMANDS, "quit"]:
        assert f"/{name} " in HELP or f"/{name}\n" in HELP or HELP.endswith(f"/{name}"), name
