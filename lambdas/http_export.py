"""Export my data on the HTTP API (issue 18): `POST /me/exports` starts a job,
`GET /me/exports/{exportId}` reads its status and, once ready, a short-lived download link
(service/exports.py). Only the caller's own jobs exist for them: another id is a 404."""

from __future__ import annotations

from typing import Any

from dynamotalk import export_root
from dynamotalk.domain.export import EXPORT_LINK_TTL_S
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from lambdas.http_handlers import Reply, route


@route
def request_export(s: ChatService, e: HttpEvent) -> Reply:
    job = export_root.exports().request(e.principal)
    return 202, {"exportId": job.export_id, "status": str(job.status)}


@route
def export_status(s: ChatService, e: HttpEvent) -> Reply:
    job, url = export_root.exports().status(e.principal, e.path("exportId"))
    body: dict[str, Any] = {"exportId": job.export_id, "status": str(job.status)}
    if url is not None:
        body["url"] = url
        body["expiresAt"] = s.clock.now_ms() + EXPORT_LINK_TTL_S * 1000
    return 200, body
