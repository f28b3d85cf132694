"""Threads, quotes and mentions end to end (issue 17) on a real `dynamotalk dev` with DynamoDB
Local: real sockets and HTTP, the fan-out behind the table's stream, and the MCP tools.

The stack is this module's own, started with its log on, so a test can read which DynamoDB
Local it uses and give a member a role through the room store itself (moderation's routes are
another part of the issue)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from mcp import ClientSession
from mcp.client.stdio import stdio_client

from dynamotalk.adapters.dynamodb import DynamoRoomStore
from dynamotalk.domain.limits import QUOTE_CHARS
from dynamotalk.domain.models import Role
from dynamotalk.local.emulators import free_port
from tests.e2e.client import Socket, User, eventually
from tests.e2e.test_mcp import server, text_of
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(180)

_TABLE_LINE = re.compile(r"DynamoDB\s+(http://\S+) \(table (\S+)\)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DynamoRoomStore]]:
    """(base URL, the stack's own room store on its DynamoDB Local)."""
    data = tmp_path_factory.mktemp("threads-dev")
    port = free_port()
    process = start_dev(port, data)
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process)
    found = _TABLE_LINE.search(Path(data / "dev.log").read_text())
    assert found, "the stack did not say which DynamoDB it uses"
    endpoint, table = found.groups()
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    yield base, DynamoRoomStore(client, table)
    stop(process)


def send(socket: Socket, room_id: str, text: str, **fields: Any) -> dict[str, Any]:
    """A sendMessage frame with thread/quote fields: the reply frame (ack or error)."""
    frame = {"action": "sendMessage", "roomId": room_id, "text": text, **fields}
    return socket.call({"clientId": f"c{abs(hash((room_id, text, str(fields))))}", **frame})


def posted(socket: Socket, room_id: str, text: str, **fields: Any) -> dict[str, Any]:
    reply = send(socket, room_id, text, **fields)
    assert reply["type"] == "ack", reply
    message: dict[str, Any] = reply["message"]
    return message


def refused(socket: Socket, room_id: str, text: str, **fields: Any) -> tuple[str, str]:
    reply = send(socket, room_id, text, **fields)
    assert reply["type"] == "error", reply
    return reply["error"]["code"], reply["error"]["message"]


def pair(base: str, room_kind: str = "public") -> tuple[User, User, str]:
    """Alice's new room with Bob in it (a private room's invite accepted)."""
    alice, bob = User(base, "alice"), User(base, "bob")
    if room_kind == "public":
        room_id = alice.room("threads")
        bob.post(f"/rooms/{room_id}/join")
    else:
        room_id = alice.room("threads", kind="private", members=[bob.id])
        bob.post(f"/invites/{room_id}/accept")
    return alice, bob, room_id


def test_replies_count_on_the_parent_page_in_the_thread_and_stay_out_of_history(
    stack: tuple[str, DynamoRoomStore],
) -> None:
    base, _ = stack
    alice, bob, room_id = pair(base)
    a, b = alice.socket(), bob.socket()
    a.call({"action": "subscribe", "roomIds": [room_id]})
    parent = posted(a, room_id, "what shall we build?")
    replies = [posted(b, room_id, f"idea {n}", parentId=parent["id"]) for n in range(4)]
    also = posted(b, room_id, "threads!", parentId=parent["id"], alsoInRoom=True)
    assert [r["parentId"] for r in replies] == [parent["id"]] * 4
    assert (replies[0]["alsoInRoom"], also["alsoInRoom"]) == (False, True)
    # Every reply is a room change: its post carries the parent's counts as it left them.
    last = a.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == also["id"])
    assert last["thread"] == {
        "parentId": parent["id"],
        "replyCount": 5,
        "lastReplyAt": also["createdAt"],
    }
    counts = sorted(f["thread"]["replyCount"] for f in a.events("message.posted") if "thread" in f)
    assert counts == [1, 2, 3, 4, 5]
    # History: the parent (with its counts) and the reply also sent to the room, nothing else.
    history = alice.get(f"/rooms/{room_id}/messages")["messages"]
    assert [m["id"] for m in history] == [also["id"], parent["id"]]
    assert (history[1]["replyCount"], history[1]["lastReplyAt"]) == (5, also["createdAt"])
    # The thread view: the parent on every page, replies oldest first, two at a time.
    path = f"/rooms/{room_id}/messages/{parent['id']}/thread"
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        page = bob.get(path, limit=2, **({"cursor": cursor} if cursor else {}))
        assert page["parent"]["id"] == parent["id"]
        assert page["parent"]["replyCount"] == 5
        seen += [m["id"] for m in page["replies"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [r["id"] for r in replies] + [also["id"]]
    # A reply is a message like any other: edited, reacted to and deleted by its id.
    edited = b.call(
        {"action": "editMessage", "roomId": room_id, "messageId": replies[0]["id"], "text": "x"}
    )
    assert edited["message"]["text"] == "x"
    assert edited["message"]["parentId"] == parent["id"]
    # Refusals: a reply to a reply, to nothing, alsoInRoom alone, a cursor of another thread.
    assert refused(b, room_id, "deeper", parentId=replies[0]["id"])[0] == "invalid_input"
    assert refused(b, room_id, "void", parentId="01ARZ3NDEKTSV4RRFFQ69G5FAV")[0] == "not_found"
    assert refused(b, room_id, "where?", alsoInRoom=True)[0] == "invalid_input"
    other = posted(a, room_id, "another topic")
    foreign = bob.request(
        "GET",
        f"/rooms/{room_id}/messages/{other['id']}/thread",
        cursor=bob.get(path, limit=1)["nextCursor"],
    )
    assert foreign.status_code == 400, foreign.text
    assert (
        bob.request("GET", f"/rooms/{room_id}/messages/{replies[1]['id']}/thread").status_code
        == 400
    )
    # A private room's thread is hidden from a stranger like the room itself.
    eve = User(base, "eve")
    secret = alice.room("secret", kind="private")
    hidden = posted(a, secret, "hush")
    assert eve.request("GET", f"/rooms/{secret}/messages/{hidden['id']}/thread").status_code == 404
    # A deleted parent takes no more replies, and keeps its thread readable.
    a.call({"action": "deleteMessage", "roomId": room_id, "messageId": parent["id"]})
    assert refused(b, room_id, "late", parentId=parent["id"])[0] == "not_found"
    assert len(bob.get(path, limit=50)["replies"]) == 5
    a.close()
    b.close()


def test_a_quote_keeps_its_snapshot_through_edit_and_delete(
    stack: tuple[str, DynamoRoomStore],
) -> None:
    base, _ = stack
    alice, bob, room_id = pair(base)
    a, b = alice.socket(), bob.socket()
    long_text = "quoted " + "y" * (QUOTE_CHARS * 2)
    original = posted(a, room_id, long_text)
    quoting = posted(b, room_id, "as she said", quote={"messageId": original["id"]})
    snapshot = quoting["quote"]
    assert snapshot["messageId"] == original["id"]
    assert snapshot["authorId"] == alice.id
    assert snapshot["authorName"] == alice.name
    assert snapshot["createdAt"] == original["createdAt"]
    assert snapshot["text"] == long_text[:QUOTE_CHARS]
    a.call({"action": "editMessage", "roomId": room_id, "messageId": original["id"], "text": "no"})
    a.call({"action": "deleteMessage", "roomId": room_id, "messageId": original["id"]})
    history = {m["id"]: m for m in bob.get(f"/rooms/{room_id}/messages")["messages"]}
    assert history[original["id"]]["deleted"] is True
    assert history[quoting["id"]]["quote"] == snapshot
    # A deleted message, or one of another room, cannot be quoted.
    assert refused(b, room_id, "gone", quote={"messageId": original["id"]})[0] == "not_found"
    elsewhere = alice.room("elsewhere")
    there = posted(a, elsewhere, "over here")
    assert refused(b, room_id, "far", quote={"messageId": there["id"]})[0] == "not_found"
    a.close()
    b.close()


def test_a_mention_reaches_the_member_and_only_members_resolve(
    stack: tuple[str, DynamoRoomStore],
) -> None:
    base, _ = stack
    alice, bob, room_id = pair(base)
    carol = User(base, "carol")  # exists, not a member
    b, c = bob.socket(), carol.socket()  # bob is not subscribed to the room: told all the same
    a = alice.socket()
    message = posted(a, room_id, f"@{bob.name.upper()} and @{carol.name}, see this")
    assert message["mentions"] == [bob.id]
    event = b.wait(lambda f: f["type"] == "mention" and f["messageId"] == message["id"])
    assert event == {
        "v": 2,
        "type": "mention",
        "roomId": room_id,
        "messageId": message["id"],
        "seq": message["seq"],
        "authorId": alice.id,
    }
    # A non-member is not resolved, and the sender cannot tell an existing non-member from
    # nobody: both answers have the same shape, without `mentions`.
    known = posted(a, room_id, f"hello @{carol.name}")
    unknown = posted(a, room_id, "hello @nobody-by-that-name")
    assert "mentions" not in known
    assert sorted(known) == sorted(unknown)
    assert [f for f in c.frames if f.get("type") == "mention"] == []
    # Beyond MAX_MENTIONS distinct names: refused, whoever they are.
    crowd = " ".join(f"@user{n}" for n in range(30))
    assert refused(a, room_id, crowd)[0] == "invalid_input"
    for s in (a, b, c):
        s.close()


def test_room_and_here_only_for_roles_allowed(stack: tuple[str, DynamoRoomStore]) -> None:
    base, rooms = stack
    alice, bob, room_id = pair(base)
    b = bob.socket()
    code, text = refused(b, room_id, "@room wake up")
    assert (code, text) == ("forbidden", "you may not mention everyone in this room")
    rooms.set_role(room_id, bob.id, Role.MODERATOR)
    here = posted(b, room_id, "@here standup in 5")
    assert here["mentionsAll"] == "here"
    # The owner may too; in a private room every member may (domain/authz.py's table).
    assert posted(alice.socket(), room_id, "@room hi")["mentionsAll"] == "room"
    _, carl, private = pair(base, "private")
    assert posted(carl.socket(), private, "@room lunch?")["mentionsAll"] == "room"
    b.close()


def test_unread_mentions_count_and_reset_with_the_read_marker(
    stack: tuple[str, DynamoRoomStore],
) -> None:
    base, _ = stack
    alice, bob, room_id = pair(base)
    a = alice.socket()
    first = posted(a, room_id, f"@{bob.name} one")
    posted(a, room_id, "no mention")
    parent = posted(a, room_id, f"@{bob.name} two")
    third = posted(a, room_id, f"in a thread, @{bob.name}", parentId=parent["id"])
    posted(a, room_id, "@room does not count")

    def summary() -> dict[str, Any]:
        rooms = bob.get("/rooms")["rooms"]
        found: dict[str, Any] = next(r for r in rooms if r["room"]["roomId"] == room_id)
        return found

    assert summary()["unreadMentions"] == 3
    assert summary()["unread"] == 4  # the thread-only reply is not in the timeline's count
    bob.post(f"/rooms/{room_id}/read", {"messageId": first["id"]})
    assert summary()["unreadMentions"] == 2
    bob.post(f"/rooms/{room_id}/read", {"messageId": third["id"]})
    assert summary()["unreadMentions"] == 0
    assert alice.get("/rooms")["rooms"][0]["unreadMentions"] == 0
    a.close()


def test_mcp_reads_a_thread_and_replies(stack: tuple[str, DynamoRoomStore]) -> None:
    base, _ = stack
    human, agent, room_id = pair(base)
    h = human.socket()
    question = posted(h, room_id, "what is a thread?")
    posted(h, room_id, "a reply to start with", parentId=question["id"])

    async def session() -> None:
        async with (
            stdio_client(server(base, agent)) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools >= {"read_thread", "reply"}
            answered = await client.call_tool(
                "reply",
                {"room_id": room_id, "message_id": question["id"], "text": "replies in a row"},
            )
            assert not answered.is_error, text_of(answered)
            thread = await client.call_tool(
                "read_thread", {"room_id": room_id, "message_id": question["id"], "limit": 1}
            )
            page = json.loads(text_of(thread))
            assert page["untrusted"] is True
            assert page["parent"]["text"] == "what is a thread?"
            assert [m["text"] for m in page["messages"]] == ["a reply to start with"]
            rest = await client.call_tool(
                "read_thread",
                {"room_id": room_id, "message_id": question["id"], "cursor": page["nextCursor"]},
            )
            assert [m["text"] for m in json.loads(text_of(rest))["messages"]] == [
                "replies in a row"
            ]
            deeper = await client.call_tool(
                "reply",
                {"room_id": room_id, "message_id": page["messages"][0]["id"], "text": "no"},
            )
            assert deeper.is_error
            assert "invalid_input" in text_of(deeper)

    asyncio.run(session())
    eventually(
        lambda: human.get(f"/rooms/{room_id}/messages")["messages"][0]["replyCount"] == 2,
        what="the parent's count",
    )
    h.close()
