"""The thread view on the HTTP API: a thread's first message and a page of its replies."""

from __future__ import annotations

from dynamotalk import wire
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from lambdas.http_handlers import Reply, route


@route
def thread(s: ChatService, e: HttpEvent) -> Reply:
    page = s.thread(
        e.principal, e.path("roomId"), e.path("messageId"), e.query("cursor"), e.query_int("limit")
    )
    return 200, {
        "parent": wire.message_json(page.parent),
        "replies": [wire.message_json(m) for m in page.replies],
        "nextCursor": page.next_cursor,
    }
