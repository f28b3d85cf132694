"""Account erasure's grants (issue 18; permissions.py builds every document and calls this):
http_api sends erasure jobs; account_erasure consumes and re-sends them, reads and writes the
table (Get/Query/Put/Update/Delete/BatchGet/BatchWrite, GSI1 for the user's rooms and
connections), posts and closes connections (a leave is told to the user's sockets, then
they are closed), deletes avatars (s3:DeleteObject on avatars/ only) and the user's Cognito
sign-in (cognito-idp:AdminDeleteUser on the stage's user pool only)."""

from __future__ import annotations

from typing import Any

from dynamotalk.iam_actions import SQS_CONSUME, SQS_SEND, Needs
from dynamotalk.workers import ACCOUNT_ERASURE

ADMIN_DELETE_USER = "cognito-idp:AdminDeleteUser"
S3_DELETE = "s3:DeleteObject"

ERASURE_NEEDS: dict[str, Needs] = {
    ACCOUNT_ERASURE: Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ),
        uses_gsi=True,
        manage_connections=True,
        close_connections=True,
        erases_accounts=True,
    ),
}
"""account_erasure's row of permissions.PERMISSIONS (its S3, SQS and Cognito grants come
from erasure_statements: they name resources of their own)."""

ERASURE_SENDERS = frozenset({"http_api", ACCOUNT_ERASURE})
"""Who puts jobs on the erasure queue: DELETE /me, and the job re-queuing itself."""


def erasure_actions(module: str) -> frozenset[str]:
    """The actions erasure_statements grants `module` (for Needs.actions' callers)."""
    actions: set[str] = {SQS_SEND} if module in ERASURE_SENDERS else set()
    if module == ACCOUNT_ERASURE:
        actions |= {*SQS_CONSUME, ADMIN_DELETE_USER, S3_DELETE}
    return frozenset(actions)


def erasure_statements(
    module: str,
    queue_arn: str | None,
    user_pool_arn: str | None,
    avatars_arn: str,
) -> list[dict[str, Any]]:
    """The queue, pool and avatar statements; none where the stage wires no erasure queue."""
    if queue_arn is None or module not in ERASURE_SENDERS:
        return []
    queue_actions = {SQS_SEND}
    statements: list[dict[str, Any]] = []
    if module == ACCOUNT_ERASURE:
        queue_actions |= set(SQS_CONSUME)
        statements.append(_allow("ErasureAvatars", [S3_DELETE], avatars_arn))
        # No pool wired (a policy built before the pool exists, a test's stage): no grant, so
        # AdminDeleteUser is denied and the job waits in the queue rather than skip the step.
        if user_pool_arn is not None:
            statements.append(_allow("ErasureAccounts", [ADMIN_DELETE_USER], user_pool_arn))
    return [_allow("ErasureQueue", sorted(queue_actions), queue_arn), *statements]


def _allow(sid: str, actions: list[str], resource: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": [resource]}
