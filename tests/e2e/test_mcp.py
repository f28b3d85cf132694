"""The MCP server over stdio, driven by the official SDK's own client, against the local stack."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.e2e.client import PASSWORD, User
from tests.support.dev_stack import ROOT

pytestmark = pytest.mark.timeout(120)


def server(stack_url: str, user: User) -> StdioServerParameters:
    env = {**os.environ, "DYNAMOTALK_USER": user.name, "DYNAMOTALK_PASSWORD": PASSWORD}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "dynamotalk.cli", "mcp", "--url", stack_url],
        env=env,
        cwd=str(ROOT),
    )


def text_of(result: Any) -> str:
    return "".join(block.text for block in result.content if getattr(block, "text", None))


def test_an_assistant_lists_posts_reads_and_is_refused(stack_url: str) -> None:
    agent, human, owner = (
        User(stack_url, "agent"),
        User(stack_url, "human"),
        User(stack_url, "keeper"),
    )
    room_id = human.room("mcp room")
    agent.post(f"/rooms/{room_id}/join")
    secret = owner.room("mcp secret", kind="private")
    watcher = human.socket()
    watcher.call({"action": "subscribe", "roomIds": [room_id]})

    async def session() -> None:
        async with (
            stdio_client(server(stack_url, agent)) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools >= {
                "list_rooms",
                "read_history",
                "post_message",
                "open_direct",
                "wait_for_messages",
            }

            rooms = await client.call_tool("list_rooms", {})
            assert not rooms.is_error
            assert room_id in text_of(rooms)

            posted = await client.call_tool(
                "post_message", {"room_id": room_id, "text": "hello from an assistant"}
            )
            assert not posted.is_error, text_of(posted)
            message_id = json.loads(text_of(posted))["id"]
            arrived = watcher.wait(
                lambda f: f["type"] == "message.posted" and f["message"]["id"] == message_id
            )
            assert arrived["message"]["text"] == "hello from an assistant"

            human.socket().post(room_id, "welcome, assistant")
            waited = await client.call_tool(
                "wait_for_messages",
                {"room_id": room_id, "after_id": message_id, "timeout_s": 10},
            )
            assert "welcome, assistant" in text_of(waited)

            history = await client.call_tool("read_history", {"room_id": room_id, "limit": 5})
            assert "hello from an assistant" in text_of(history)

            for _ in range(100):  # issue 18: found once the search indexer has run
                found = await client.call_tool("search", {"words": "welcome assistant"})
                if "welcome, assistant" in text_of(found):
                    break
                await asyncio.sleep(0.1)
            assert json.loads(text_of(found))["messages"][0]["roomId"] == room_id

            transcript = await client.read_resource(f"dynamotalk://rooms/{room_id}/transcript")
            lines = json.loads(transcript.contents[0].text)
            assert lines["untrusted"] is True
            said = [(m["author"], m["authorKind"], m["text"]) for m in lines["messages"]]
            assert (human.name, "user", "welcome, assistant") in said

            refused = await client.call_tool("read_history", {"room_id": secret})
            assert refused.is_error
            assert "not_found" in text_of(refused)
            refused_post = await client.call_tool(
                "post_message", {"room_id": secret, "text": "let me in"}
            )
            assert refused_post.is_error
            assert "not_found" in text_of(refused_post)

            direct = await client.call_tool("open_direct", {"username": human.name})
            assert not direct.is_error

    asyncio.run(session())
    watcher.close()
