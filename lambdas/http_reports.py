"""The HTTP routes of blocks and reports (issue 17, "Block and report"): the caller's block
list, reporting a message, and the room's moderation queue. Registered through
http_handlers.py and served by the http_api function (routes.HTTP_ROUTES)."""

from __future__ import annotations

from dynamotalk import wire
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from dynamotalk.wire.bodies import ReportBody, ResolveReportBody
from dynamotalk.wire.reports import block_json, receipt_json, report_json, reports_page_json
from lambdas.http_handlers import Reply, route


@route
def list_blocks(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"blocks": [block_json(b) for b in s.blocks(e.principal)]}


@route
def report_message(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, ReportBody)
    report, created = s.report_message(
        e.principal, e.path("roomId"), e.path("messageId"), body.reason, body.note
    )
    return (201 if created else 200), {"report": receipt_json(report)}


@route
def list_reports(s: ChatService, e: HttpEvent) -> Reply:
    page = s.reports_page(
        e.principal, e.path("roomId"), e.query("status"), e.query("cursor"), e.query_int("limit")
    )
    return 200, reports_page_json(page)


@route
def resolve_report(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, ResolveReportBody)
    report = s.resolve_report(
        e.principal, e.path("roomId"), e.path("reportId"), body.outcome, body.note
    )
    return 200, {"report": report_json(report)}
