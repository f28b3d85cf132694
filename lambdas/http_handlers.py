"""The HTTP API's handler registry, shared by `http_api` (the function) and the modules that
hold one area's handlers each (`http_*.py` beside it): a handler is registered under its name,
the name routes.HTTP_ROUTES gives it, and `http_api` checks the two agree when it loads."""

from __future__ import annotations

from collections.abc import Callable

from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService

Reply = tuple[int, object]
Route = Callable[[ChatService, HttpEvent], Reply]
HANDLERS: dict[str, Route] = {}


def route(answer: Route) -> Route:
    """Register a function as the handler routes.HTTP_ROUTES names (by its name)."""
    HANDLERS[answer.__name__] = answer
    return answer
