"""The JSON of blocks and reports (issue 17, "Block and report"; docs/PROTOCOL.md).

Two views of a report: the moderator's (`report_json`: snapshots, reporter, resolution) and
the reporter's own receipt (`receipt_json`: what they sent, nothing about others' reports).
"""

from __future__ import annotations

from typing import Any

from dynamotalk.domain.models import Block
from dynamotalk.domain.reports import MessageSnapshot, Report, ReportsPage


def block_json(block: Block) -> dict[str, Any]:
    return {"userId": block.blocked_user_id, "blockedAt": block.blocked_at}


def _snapshot_json(m: MessageSnapshot) -> dict[str, Any]:
    return {
        "id": m.message_id,
        "authorId": m.author_id,
        "text": m.text,
        "createdAt": m.created_at,
        "editedAt": m.edited_at,
        "attachments": [{"name": a.name, "key": a.key} for a in m.attachments],
    }


def receipt_json(report: Report) -> dict[str, Any]:
    """What the reporter sees of their own report."""
    return {
        "id": report.report_id,
        "roomId": report.room_id,
        "messageId": report.message_id,
        "reason": str(report.reason),
        "note": report.note,
        "createdAt": report.created_at,
    }


def report_json(report: Report) -> dict[str, Any]:
    """A report as the room's moderators see it in the queue."""
    resolution = report.resolution
    return {
        **receipt_json(report),
        "status": str(report.status),
        "reporterId": report.reporter_id,
        "message": _snapshot_json(report.message),
        "context": [_snapshot_json(m) for m in report.context],
        "resolution": None
        if resolution is None
        else {
            "outcome": str(resolution.outcome),
            "resolvedBy": resolution.resolved_by,
            "resolvedAt": resolution.resolved_at,
            "note": resolution.note,
        },
    }


def reports_page_json(page: ReportsPage) -> dict[str, Any]:
    return {"reports": [report_json(r) for r in page.reports], "nextCursor": page.next_cursor}
