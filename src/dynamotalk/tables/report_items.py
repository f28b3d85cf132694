"""The codecs of a room's reports (issue 17): the report item and its open-report claim.

Kept beside items.py (every other item's codec) so the reports area is one module per layer.
A report lives under its room (ROOM#{room} / REPORT#{ulid}) and, on GSI1, in its room's queue
of its status (REPORTS#{room}#{status} / REPORT#{ulid}): resolving it moves it to the resolved
queue by rewriting GSI1PK. The claim (ROOM#{room} / REPORTED#{message}#{reporter}) makes a
reporter's open report on a message unique; it goes when the report is resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynamotalk.domain.reports import (
    AttachmentSnapshot,
    MessageSnapshot,
    Outcome,
    Reason,
    Report,
    Resolution,
)
from dynamotalk.tables import keys as k

Item = dict[str, Any]


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def _snapshot_map(m: MessageSnapshot) -> Item:
    return {
        "message_id": m.message_id,
        "author_id": m.author_id,
        "text": m.text,
        "created_at": m.created_at,
        "edited_at": m.edited_at,
        "attachments": [{"name": a.name, "key": a.key} for a in m.attachments],
    }


def _snapshot_of(item: Mapping[str, Any]) -> MessageSnapshot:
    return MessageSnapshot(
        message_id=str(item["message_id"]),
        author_id=str(item["author_id"]),
        text=str(item["text"]),
        created_at=int(item["created_at"]),
        edited_at=_int_or_none(item.get("edited_at")),
        attachments=tuple(
            AttachmentSnapshot(str(a["name"]), str(a["key"])) for a in item.get("attachments", [])
        ),
    )


def resolution_attributes(resolution: Resolution) -> Item:
    """What resolving sets on a report item (its GSI1PK moves it to the resolved queue)."""
    return {
        "outcome": resolution.outcome.value,
        "resolved_by": resolution.resolved_by,
        "resolved_at": resolution.resolved_at,
        "resolution_note": resolution.note,
    }


def report_item(report: Report) -> Item:
    item: Item = {
        "PK": k.room_pk(report.room_id),
        "SK": k.report_sk(report.report_id),
        "GSI1PK": k.reports_gsi_pk(report.room_id, report.status.value),
        "GSI1SK": k.report_sk(report.report_id),
        "kind": "report",
        "report_id": report.report_id,
        "room_id": report.room_id,
        "message_id": report.message_id,
        "reporter_id": report.reporter_id,
        "reason": report.reason.value,
        "note": report.note,
        "created_at": report.created_at,
        "message": _snapshot_map(report.message),
        "context": [_snapshot_map(m) for m in report.context],
    }
    if report.resolution is not None:
        item.update(resolution_attributes(report.resolution))
    return item


def report_from_item(item: Mapping[str, Any]) -> Report:
    resolution = None
    if item.get("outcome") is not None:
        resolution = Resolution(
            outcome=Outcome(item["outcome"]),
            resolved_by=str(item["resolved_by"]),
            resolved_at=int(item["resolved_at"]),
            note=item.get("resolution_note"),
        )
    return Report(
        report_id=str(item["report_id"]),
        room_id=str(item["room_id"]),
        message_id=str(item["message_id"]),
        reporter_id=str(item["reporter_id"]),
        reason=Reason(item["reason"]),
        created_at=int(item["created_at"]),
        message=_snapshot_of(item["message"]),
        context=tuple(_snapshot_of(m) for m in item.get("context", [])),
        note=item.get("note"),
        resolution=resolution,
    )


def report_claim_item(report: Report) -> Item:
    return {
        "PK": k.room_pk(report.room_id),
        "SK": k.report_claim_sk(report.message_id, report.reporter_id),
        "kind": "report_claim",
        "report_id": report.report_id,
    }
