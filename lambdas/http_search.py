"""Search on the HTTP API: `GET /search?q=&roomId=&cursor=&limit=` (service/search.py)."""

from __future__ import annotations

from dynamotalk import search_root, wire
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from lambdas.http_handlers import Reply, route


@route
def search(s: ChatService, e: HttpEvent) -> Reply:
    page = search_root.search().search(
        e.principal, e.query("q"), e.query("roomId"), e.query("cursor"), e.query_int("limit")
    )
    return 200, {
        "results": [
            {"roomId": m.room_id, "messageId": m.message_id, "message": wire.message_json(m)}
            for m in page.results
        ],
        "terms": list(page.terms),
        "nextCursor": page.next_cursor,
    }
