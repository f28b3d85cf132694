"""Data export's grants (issue 18; permissions.py builds every function's document and
calls export_statements): data_export consumes the export queue, reads the user's items and
their rooms' messages, and writes archives under `exports/` only; http_api sends jobs to that
queue and presigns GETs of archives (a presigned URL carries its signer's rights: s3:GetObject
on `exports/*`). No function may read another prefix through these grants."""

from __future__ import annotations

from typing import Any

from dynamotalk.domain.export import EXPORTS_PREFIX
from dynamotalk.iam_actions import SQS_CONSUME, SQS_SEND, Needs
from dynamotalk.workers import DATA_EXPORT

EXPORTS = f"{EXPORTS_PREFIX}*"
REQUESTER = "http_api"
"""The function that starts exports and hands out their links (lambdas/http_export.py)."""

EXPORT_NEEDS: dict[str, Needs] = {
    # A job: its item and the profile (Get), memberships (GSI1 Query) and rooms (BatchGet),
    # every room's messages and threads (Query, GSI1 for threads), the outcome (Update) and
    # the running marker released (Delete); the archive's one PutObject.
    DATA_EXPORT: Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ),
        uses_gsi=True,
        s3=("s3:PutObject",),
        s3_prefixes=(EXPORTS,),
    ),
}
"""data_export's row of permissions.PERMISSIONS."""


def export_statements(module: str, bucket_arn: str, queue_arn: str | None) -> list[dict[str, Any]]:
    """The export queue's grants and http_api's read of archives; none where the stage has no
    export queue wired (a document built without it)."""
    if module == DATA_EXPORT:
        if queue_arn is None:
            raise ValueError(f"{module} consumes the export queue but none is wired")
        return [_allow("ExportQueue", SQS_CONSUME, queue_arn)]
    if module == REQUESTER and queue_arn is not None:
        return [
            _allow("ExportQueue", [SQS_SEND], queue_arn),
            _allow("ExportArchives", ["s3:GetObject"], f"{bucket_arn}/{EXPORTS}"),
        ]
    return []


def _allow(sid: str, actions: Any, resource: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": [resource]}
