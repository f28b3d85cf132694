"""The terminal client's `/search` (issue 18; docs/PROTOCOL.md "Search"): words found in your
rooms, newest first per room, each with its room and the `#id` other commands take."""

from __future__ import annotations

from dynamotalk.client.chat import Chat
from dynamotalk.client.config import ChatClientError

SEARCH_PAGE = 10
"""Results shown per /search page."""
_NEXT: dict[int, tuple[str, str | None]] = {}
"""Per chat: the words searched last and the cursor of their next page."""


async def search(chat: Chat, rest: str) -> None:
    """`/search WORDS`: messages with every word, in all your rooms; `/search` alone shows the
    next page of the last search."""
    if rest:
        q, cursor = rest, None
    elif id(chat) in _NEXT:
        q, cursor = _NEXT[id(chat)]
        if cursor is None:
            chat.show("* no more results")
            return
    else:
        raise ChatClientError("usage: /search WORDS")
    page = await chat.api.call("GET", "/search", q=q, cursor=cursor, limit=SEARCH_PAGE)
    if not page["results"] and cursor is None and not page.get("nextCursor"):
        chat.show(f"* nothing found for {q!r}")
    for result in page["results"]:
        chat.print_message(result["message"], prefix="  ")
    _NEXT[id(chat)] = (q, page.get("nextCursor"))
    if page.get("nextCursor"):
        chat.show("* more results: /search")
