"""SQS work queues consumed by a Lambda: the queue sized from its consumer's timeout, its
dead-letter queue, and the event source mapping. The bot's jobs and the fan-out's pages both
follow this one pattern."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import Function, resource_name

DEAD_LETTER_RETENTION_S = 14 * 24 * 3600
"""SQS's longest retention: time to look at what failed before it is gone."""


def visibility_timeout_s(consumer: Function) -> int:
    """Lambda's advice for SQS sources: at least six times the function timeout, so a batch
    retried after throttling is not redelivered while still running."""
    return 6 * consumer.timeout_s


def retention_s(consumer: Function, max_receives: int) -> int:
    """Long enough for every delivery (each may wait out a visibility timeout) with room to
    spare, so a job reaches the dead-letter queue instead of expiring unseen."""
    return 2 * max_receives * visibility_timeout_s(consumer)


def dead_letter_queue(
    name: str, stage: str, what: str, opts: pulumi.ResourceOptions
) -> aws.sqs.Queue:
    """A queue that keeps what failed as long as SQS allows (`resource_name(stage, what)`)."""
    return aws.sqs.Queue(
        name,
        name=resource_name(stage, what),
        message_retention_seconds=DEAD_LETTER_RETENTION_S,
        sqs_managed_sse_enabled=True,
        opts=opts,
    )


def work_queue(
    name: str,
    stage: str,
    what: str,
    consumer: Function,
    dead_letters: aws.sqs.Queue,
    max_receives: int,
    opts: pulumi.ResourceOptions,
) -> aws.sqs.Queue:
    """A queue `consumer` reads, redriven to `dead_letters` after `max_receives` deliveries."""
    return aws.sqs.Queue(
        name,
        name=resource_name(stage, what),
        visibility_timeout_seconds=visibility_timeout_s(consumer),
        message_retention_seconds=retention_s(consumer, max_receives),
        sqs_managed_sse_enabled=True,
        redrive_policy=dead_letters.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives})
        ),
        opts=opts,
    )


def consume(
    name: str,
    queue: aws.sqs.Queue,
    function: pulumi.Input[str],
    consumer: Function,
    opts: pulumi.ResourceOptions,
) -> aws.lambda_.EventSourceMapping:
    """Wire the queue to its function (its name, or its alias's ARN with SnapStart: what
    LambdaFunction.mapping_target gives), reporting failed jobs one by one, at most
    `consumer.max_concurrency` batches at once however long the queue."""
    return aws.lambda_.EventSourceMapping(
        name,
        event_source_arn=queue.arn,
        function_name=function,
        batch_size=consumer.batch_size,
        function_response_types=["ReportBatchItemFailures"],
        scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
            maximum_concurrency=consumer.max_concurrency
        ),
        opts=opts,
    )
