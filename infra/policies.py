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
    EVENTS_PUT,
    GSI,
    LOG_ACTIONS,
    PERMISSIONS,
    ROOM_FILES,
    SQS_CONSUME,
    SQS_SEND,
    STREAM_READ,
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
    "EVENTS_PUT",
    "GSI",
    "LOG_ACTIONS",
    "PERMISSIONS",
    "ROOM_FILES",
    "SQS_CONSUME",
    "SQS_SEND",
    "STREAM_READ",
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
    stream_arn: pulumi.Input[str] | None = None
    fanout_pages_queue_url: pulumi.Input[str] | None = None
    fanout_pages_queue_arn: pulumi.Input[str] | None = None
    fanout_dlq_arn: pulumi.Input[str] | None = None
    event_bus_name: pulumi.Input[str] | None = None
    """None where the stage does not publish events (`publishEvents` off)."""
    event_bus_arn: pulumi.Input[str] | None = None
    push_queue_url: pulumi.Input[str] | None = None
    """None where the stage has push off (no queue, no push_sender)."""
    push_queue_arn: pulumi.Input[str] | None = None
    push_public_key: pulumi.Input[str] | None = None
    vapid_parameter_name: pulumi.Input[str] | None = None
    vapid_parameter_arn: pulumi.Input[str] | None = None
    export_queue_url: pulumi.Input[str] | None = None
    """The export queue (infra/export.py): http_api sends jobs, data_export consumes them."""
    export_queue_arn: pulumi.Input[str] | None = None

    erasure_queue_url: pulumi.Input[str] | None = None
    erasure_queue_arn: pulumi.Input[str] | None = None
    user_pool_arn: pulumi.Input[str] | None = None


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
    for needed, arn, what in (
        (needs.reads_change_stream, wiring.stream_arn, "the table's stream"),
        (
            needs.sends_fanout_pages or needs.consumes_fanout_pages,
            wiring.fanout_pages_queue_arn,
            "the fan-out page queue",
        ),
        (needs.fails_to_fanout_dlq, wiring.fanout_dlq_arn, "the fan-out dead-letter queue"),
    ):
        if needed and arn is None:
            raise ValueError(f"{module} uses {what} but none is wired")

    def render(values: list[Any]) -> str:
        table_arn, bucket_arn, connections_arn, queue_arn, log_group, *delivery = values
        stream_arn, pages_arn, dlq_arn, bus_arn, push_queue_arn, vapid_arn, *jobs = delivery
        export_arn, erasure_queue_arn, user_pool_arn = jobs
        arns = StageArns(
            region=settings.region,
            table_arn=table_arn,
            bucket_arn=bucket_arn,
            connections_arn=connections_arn,
            bot_queue_arn=queue_arn,
            bot_model_id=settings.bot_model_id,
            stream_arn=stream_arn,
            fanout_pages_queue_arn=pages_arn,
            fanout_dlq_arn=dlq_arn,
            event_bus_arn=bus_arn,
            xray=settings.xray,
            push_queue_arn=push_queue_arn,
            vapid_parameter_arn=vapid_arn,
            export_queue_arn=export_arn,
            erasure_queue_arn=erasure_queue_arn,
            user_pool_arn=user_pool_arn,
        )
        return json.dumps(build_policy(module, arns, log_group))

    return pulumi.Output.all(
        wiring.table_arn,
        wiring.bucket_arn,
        wiring.connections_arn,
        wiring.bot_queue_arn,
        log_group_arn,
        wiring.stream_arn,
        wiring.fanout_pages_queue_arn,
        wiring.fanout_dlq_arn,
        wiring.event_bus_arn,
        wiring.push_queue_arn,
        wiring.vapid_parameter_arn,
        wiring.export_queue_arn,
        wiring.erasure_queue_arn,
        wiring.user_pool_arn,
    ).apply(render)
