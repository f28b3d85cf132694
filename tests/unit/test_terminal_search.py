"""The terminal client's /search (issue 18) against a fake stage: the request the protocol
names, each result printed with its room and #id, and /search alone following the cursor."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dynamotalk.client.commands import run_line
from dynamotalk.client.config import ChatClientError
from tests.unit.test_terminal_commands import chat_on

HIT = {
    "id": "01JD2V7B0000000000000000BB",
    "roomId": "r1",
    "authorId": "u2",
    "text": "the deploy failed",
    "createdAt": 1_700_000_000_000,
    "attachments": [],
    "reactions": {},
}


def test_search_pages_through_its_results() -> None:
    seen: list[dict[str, str]] = []

    def stage(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        more = None if params.get("cursor") else "next-page"
        body: dict[str, Any] = {
            "results": [{"roomId": "r1", "messageId": HIT["id"], "message": HIT}],
            "terms": ["deploy"],
            "nextCursor": more,
        }
        return httpx.Response(200, json=body)

    chat, out = chat_on(stage)

    async def script() -> None:
        with pytest.raises(ChatClientError, match="usage: /search WORDS"):
            await run_line(chat, "/search")
        await run_line(chat, "/search deploy failed")
        await run_line(chat, "/search")
        await run_line(chat, "/search")

    asyncio.run(script())
    assert seen == [
        {"q": "deploy failed", "limit": "10"},
        {"q": "deploy failed", "cursor": "next-page", "limit": "10"},
    ]
    text = out.getvalue()
    assert text.count("the deploy failed") == 2
    assert "lobby" in text
    assert "#0000bb" in text.lower()
    assert "* more results: /search" in text
    assert "* no more results" in text
