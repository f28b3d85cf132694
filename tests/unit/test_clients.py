"""The Python clients without a stack: the API client's refresh on 401, the terminal client's
command table and event lines, and the MCP server's refusals (HTTP through httpx's mock)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mcp.server.mcpserver.exceptions import ToolError

from dynamotalk.client.api import Api, ApiError, TokenAuth
from dynamotalk.client.chat import Chat
from dynamotalk.client.commands import run_line
from dynamotalk.client.config import ChatClientError
from dynamotalk.client.live import on_frame
from dynamotalk.client.mcp_server import AssistantChat
from dynamotalk.client.session import Session

Handler = Callable[[httpx.Request], httpx.Response]
CONFIG = {"wsUrl": "ws://x/ws", "httpUrl": "http://api", "userPoolClientId": "c", "region": "r"}


class Refreshing(Session):
    def refresh(self) -> None:
        self.id_token = "fresh"


def api(handler: Handler, retry: bool = True) -> Api:
    session = Refreshing(dict(CONFIG), "me", id_token="stale", refresh_token="r")
    http = httpx.AsyncClient(
        base_url="http://api",
        transport=httpx.MockTransport(handler),
        auth=TokenAuth(session, retry=retry),
    )
    return Api(session, http)


def tokens_seen(seen: list[str]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer stale":
            return httpx.Response(401, json={"message": "Unauthorized"})
        return httpx.Response(200, json={"ok": True, "query": dict(request.url.params)})

    return handle


def test_a_401_refreshes_the_token_and_retries_once() -> None:
    seen: list[str] = []
    reply = asyncio.run(api(tokens_seen(seen)).call("GET", "/me", cursor=None, limit=5))
    assert seen == ["Bearer stale", "Bearer fresh"]
    assert reply == {"ok": True, "query": {"limit": "5"}}


def test_without_retry_a_401_comes_back_as_the_gateway_said_it() -> None:
    seen: list[str] = []
    with pytest.raises(ApiError) as refused:
        asyncio.run(api(tokens_seen(seen), retry=False).call("GET", "/me"))
    assert seen == ["Bearer stale"]
    assert (refused.value.status, refused.value.code, str(refused.value)) == (
        401,
        None,
        "401: Unauthorized",
    )


def refusing(status: int, body: dict[str, Any]) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def test_an_api_refusal_carries_its_code_to_both_clients() -> None:
    not_found = {"error": {"code": "not_found", "message": "no such room"}}
    with pytest.raises(ChatClientError, match=r"^not_found: no such room$"):
        asyncio.run(api(refusing(404, not_found)).call("GET", "/rooms/x"))
    assistant = AssistantChat(Session(dict(CONFIG), "me"))
    assistant.client = api(refusing(404, not_found))
    with pytest.raises(ToolError, match=r"^not_found: no such room$"):
        asyncio.run(assistant.api("GET", "/rooms/x/messages"))
    assistant.client = api(refusing(403, {"message": "Forbidden"}))
    with pytest.raises(ToolError, match=r"^unauthorized: Forbidden$"):
        asyncio.run(assistant.api("GET", "/rooms"))


class Socket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, raw: str) -> None:
        self.sent.append(json.loads(raw))


ROOM = {"roomId": "r1", "name": "lobby", "kind": "public"}


def stage(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/rooms" and request.method == "GET":
        return httpx.Response(200, json={"rooms": [{"room": ROOM, "unread": 2}]})
    if path == "/rooms" and request.method == "POST":
        return httpx.Response(201, json={"room": {**ROOM, **json.loads(request.content)}})
    if path == "/rooms/r1/presence":
        return httpx.Response(200, json={"members": [{"userId": "u1", "username": "ann"}]})
    if path == "/rooms/r1/members":
        return httpx.Response(200, json={"members": [{"userId": "u1", "role": "owner"}]})
    if path == "/rooms/r1/messages":
        return httpx.Response(200, json={"messages": [], "nextCursor": None})
    if path == "/invites":
        invite = {"roomId": "r1", "roomName": "lobby", "roomKind": "public", "inviterName": "ann"}
        return httpx.Response(200, json={"invites": [invite]})
    return httpx.Response(200, json={})


def terminal() -> tuple[Chat, Socket, io.StringIO]:
    out, socket = io.StringIO(), Socket()
    return Chat(api(stage), out=out, socket=socket), socket, out


def test_the_command_table_runs_each_command_as_the_parser_did() -> None:
    chat, socket, out = terminal()

    async def script() -> None:
        with pytest.raises(ChatClientError, match="open a room first"):
            await run_line(chat, "hello")
        assert await run_line(chat, "/typing")  # no open room: unknown, as before
        await run_line(chat, "/rooms")
        await run_line(chat, "/open lobby")
        await run_line(chat, "hello")
        await run_line(chat, "/typing")
        await run_line(chat, "/react m1 👍")
        await run_line(chat, "/edit m1 new text")
        await run_line(chat, "/delete m1")
        await run_line(chat, "/history")
        await run_line(chat, "/decline lobby")
        await run_line(chat, "/blockinviter r1")
        await run_line(chat, "/nope")
        assert not await run_line(chat, "/quit now")

    asyncio.run(script())
    message = socket.sent[1]
    assert message["action"] == "sendMessage"
    assert len(message["clientId"]) == 32
    assert [{k: v for k, v in f.items() if k != "clientId"} for f in socket.sent] == [
        {"action": "subscribe", "roomIds": ["r1"]},
        {"action": "sendMessage", "roomId": "r1", "text": "hello"},
        {"action": "typing", "roomId": "r1"},
        {"action": "react", "roomId": "r1", "messageId": "m1", "emoji": "👍"},
        {"action": "editMessage", "roomId": "r1", "messageId": "m1", "text": "new text"},
        {"action": "deleteMessage", "roomId": "r1", "messageId": "m1"},
    ]
    assert out.getvalue().splitlines() == [
        "! unknown command /typing; /help lists them",
        "  lobby [public] r1 (2 unread)",
        "* room lobby (1 members)",
        "* no older messages",
        "* invite declined",
        "* invite declined, inviter blocked",
        "! unknown command /nope; /help lists them",
    ]


def test_create_private_posts_the_kind_and_opens_the_room() -> None:
    chat, socket, _ = terminal()
    asyncio.run(run_line(chat, "/create team room private"))
    assert chat.current == "r1"
    assert socket.sent == [{"action": "subscribe", "roomIds": ["r1"]}]


def test_events_print_one_line_each_and_a_sync_reply_prints_what_was_missed() -> None:
    chat, _, out = terminal()
    chat.rooms = {"r1": {**ROOM, "unread": 0}}
    message = {"id": "m2", "roomId": "r1", "authorId": "u1", "text": "hi", "deleted": False}
    on_frame(chat, {"type": "ack", "action": "sync", "messages": [message]})
    on_frame(chat, {"type": "message.posted", "message": message})  # already shown
    on_frame(chat, {"type": "typing", "userId": "u1", "username": "ann"})
    on_frame(chat, {"type": "ack", "action": "typing"})
    on_frame(chat, {"type": "error", "error": {"code": "forbidden", "message": "no"}})
    assert out.getvalue().splitlines() == [
        "(missed) [lobby] u1: hi  #m2",
        "* ann is typing…",
        "! forbidden: no",
    ]
    assert chat.last_seen == {"r1": "m2"}
