"""Web Push's grants (permissions.py builds every function's document and calls this): the
fan-out sends to the push queue, push_sender consumes it and reads the VAPID key's parameter.
Where the stage has push off no queue is wired and no statement is made."""

from __future__ import annotations

from typing import Any

from dynamotalk.iam_actions import SQS_CONSUME, SQS_SEND, SSM_GET_PARAMETER, Needs
from dynamotalk.workers import PUSH_SENDER

PUSH_NEEDS: dict[str, Needs] = {
    # A push job: the message, its parent, the room, the author (Get), each recipient's
    # membership, block, mute (Get), connections (GSI1) and subscriptions (Query); a gone
    # subscription deleted, a success recorded (Update).
    PUSH_SENDER: Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ),
        uses_gsi=True,
        sends_push=True,
    ),
}
"""push_sender's row of permissions.PERMISSIONS."""


def push_statements(
    module: str, needs: Needs, queue_arn: str | None, parameter_arn: str | None
) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    if needs.sends_push_jobs and queue_arn is not None:
        statements.append(
            {"Sid": "PushQueue", "Effect": "Allow", "Action": [SQS_SEND], "Resource": [queue_arn]}
        )
    if needs.sends_push:
        if queue_arn is None or parameter_arn is None:
            raise ValueError(f"{module} sends pushes but no push queue or VAPID key is wired")
        statements.append(
            {
                "Sid": "PushQueue",
                "Effect": "Allow",
                "Action": sorted(SQS_CONSUME),
                "Resource": [queue_arn],
            }
        )
        statements.append(
            {
                "Sid": "VapidKey",
                "Effect": "Allow",
                "Action": [SSM_GET_PARAMETER],
                "Resource": [parameter_arn],
            }
        )
    return statements
