"""Erase my account on the HTTP API: DELETE /me queues the caller's erasure job (service/
erasure.py; docs/PROTOCOL.md "Erasing your account"). A user erases only themself."""

from __future__ import annotations

from dynamotalk import erasure_root
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from dynamotalk.service.erasure import job_json
from lambdas.http_handlers import Reply, route


@route
def erase_me(s: ChatService, e: HttpEvent) -> Reply:
    return 202, job_json(erasure_root.eraser().request(e.principal))
