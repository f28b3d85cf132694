"""What each Lambda may do: the Pulumi side of the function -> IAM permissions table.

The table (PERMISSIONS) and the document builder live in `dynamotalk.permissions`, so the local
stack enforces the very documents deployed here (`dynamotalk.local.iam`). This module resolves
the stage's ARNs (Pulumi outputs) and hands them to that builder.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs
import pulumi

from dynamotalk.permissions import (
    API_GATEWAY_LOG_ACTIONS,
    AVATARS,
    BEDROCK_INVOKE,
    GSI,
    LOG_ACTIONS,
    PERMISSIONS,
    ROOM_FILES,
    SQS_CONSUME,
    SQS_SEND,
    XRAY_ACTIONS,
    Needs,
    StageArns,
)
from dynamotalk.permissions import policy_document as build_policy

if TYPE_CHECKING:
    from infra.settings import StageSettings

__all__ = [
    "API_GATEWAY_LOG_ACTIONS",
    "AVATARS",
    "BEDROCK_INVOKE",
    "GSI",
    "LOG_ACTIONS",
    "PERMISSIONS",
    "ROOM_FILES",
    "SQS_CONSUME",
    "SQS_SEND",
    "XRAY_ACTIONS",
    "Needs",
    "policy_document",
]


@attrs.frozen
class Wiring:
    """The ARNs and names a function's policy and environment are built from."""

    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    connections_arn: pulumi.Input[str] | None = None
    """arn:aws:execute-api:{region}:{account}:{api}/{stage}/POST/@connections/*"""
    management_endpoint: pulumi.Input[str] | None = None
    user_pool_id: pulumi.Input[str] | None = None
    user_pool_client_id: pulumi.Input[str] | None = None
    bot_queue_url: pulumi.Input[str] | None = None
    bot_queue_arn: pulumi.Input[str] | None = None


def policy_document(
    module: str, settings: StageSettings, wiring: Wiring, log_group_arn: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The inline policy of one function's role: the shared builder applied to real ARNs."""
    needs = PERMISSIONS[module]
    # Refuse a missing ARN now, at program time, not inside an apply during `pulumi up`.
    if needs.manage_connections and wiring.connections_arn is None:
        raise ValueError(f"{module} posts to connections but no @connections ARN is wired")
    if (needs.queues_bot_jobs or needs.answers_bot_jobs) and wiring.bot_queue_arn is None:
        raise ValueError(f"{module} uses the bot queue but no queue is wired")

    def render(values: list[Any]) -> str:
        table_arn, bucket_arn, connections_arn, queue_arn, log_group = values
        arns = StageArns(
            region=settings.region,
            table_arn=table_arn,
            bucket_arn=bucket_arn,
            connections_arn=connections_arn,
            bot_queue_arn=queue_arn,
            bot_model_id=settings.bot_model_id,
            xray=settings.xray,
        )
        return json.dumps(build_policy(module, arns, log_group))

    return pulumi.Output.all(
        wiring.table_arn,
        wiring.bucket_arn,
        wiring.connections_arn,
        wiring.bot_queue_arn,
        log_group_arn,
    ).apply(render)
