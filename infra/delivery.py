"""Delivery: the path from a stored room change to live connections and to the event bus.

    table stream --CHANGE_STREAM_FILTER--> fanout --(a big room's pages)--> page queue
                                             |                                  |
                                             +--> event bus (publishEvents)     +--> fanout_pages

A stream record that still fails after FANOUT_STREAM_RETRIES (its batch bisected), or grows
older than MAX_RECORD_AGE_S, goes to FANOUT_DLQ (the mapping's on-failure destination); so does
a page job received MAX_PAGE_RECEIVES times (the page queue's redrive). Monitoring alarms on
any message there. With `publishEvents` the stage also gets its bus, an archive of it and one
example rule; without it, none of these and no function may put events.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from dynamotalk.domain.limits import CHANGE_LOG_DAYS
from dynamotalk.routes import FUNCTION_BY_MODULE, resource_name
from dynamotalk.tables.keys import CHANGE_STREAM_FILTER
from dynamotalk.workers import (
    EVENT_BUS,
    EVENT_SOURCE,
    FANOUT,
    FANOUT_DLQ,
    FANOUT_PAGES,
    FANOUT_PAGES_QUEUE,
    FANOUT_STREAM_RETRIES,
)
from infra import queues
from infra.functions import LambdaFunction
from infra.settings import StageSettings

FANOUT_FUNCTION = FUNCTION_BY_MODULE[FANOUT]
PAGES_FUNCTION = FUNCTION_BY_MODULE[FANOUT_PAGES]

MAX_PAGE_RECEIVES = 5
"""Deliveries of a page job before it goes to the dead-letter queue. The worker retries
throttled posts itself and re-queues what is left as a new job, so a receive that fails is a
worker error, not throttling."""
PARALLELIZATION_FACTOR = 1
"""One batch per shard at a time. With more, Lambda keeps order only per item key, and every
change is its own item (SEQ#n): a room's changes could reach clients out of seq order, and
each client that sees a gap syncs; in a big room that is a burst of Queries on one partition.
Shards, not this factor, carry the table's write rate (DynamoDB adds them as it grows)."""
MAX_RECORD_AGE_S = 6 * 3600
"""A change not delivered within six hours goes to the dead-letter queue (and alarms) rather
than wait for the stream's 24-hour retention to trim it unseen; connected clients catch up by
seq (sync) at their next change or reconnect. Long enough to ride out an outage of hours."""
ARCHIVE_RETENTION_DAYS = CHANGE_LOG_DAYS
"""The archive replays what the change feed still holds, and keeps a room's content (a
deleted message's text included) no longer than the table's own feed does."""


class EventsOut(pulumi.ComponentResource):
    """The stage's EventBridge bus, an archive of everything on it, and one example rule that
    logs every DynamoTalk event to a CloudWatch Logs group (a start for webhooks or analytics)."""

    bus: aws.cloudwatch.EventBus
    archive: aws.cloudwatch.EventArchive
    rule: aws.cloudwatch.EventRule
    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:delivery:EventsOut", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bus_name = resource_name(settings.stage, EVENT_BUS)
        self.bus = aws.cloudwatch.EventBus(f"{name}-bus", name=bus_name, opts=child)
        self.archive = aws.cloudwatch.EventArchive(
            f"{name}-archive",
            name=bus_name,
            event_source_arn=self.bus.arn,
            retention_days=ARCHIVE_RETENTION_DAYS,
            opts=child,
        )
        # EventBridge's console lists only groups under /aws/events/ as log targets.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/events/{bus_name}",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        # EventBridge writes to CloudWatch Logs under the group's resource policy, not a role.
        self.log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-policy",
            policy_name=f"{bus_name}-to-logs",
            policy_document=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
                            },
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [pulumi.Output.concat(self.log_group.arn, ":*")],
                        }
                    ],
                }
            ),
            opts=child,
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=f"{bus_name}-to-logs",
            description="Every DynamoTalk room change, logged (an example rule)",
            event_bus_name=self.bus.name,
            event_pattern=json.dumps({"source": [EVENT_SOURCE]}),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            event_bus_name=self.bus.name,
            arn=self.log_group.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_policy]),
        )
        self.register_outputs({"eventBusName": self.bus.name, "eventBusArn": self.bus.arn})


class Delivery(pulumi.ComponentResource):
    """The fan-out's queues (pages, dead letters), its event sources, and the events out."""

    dead_letters: aws.sqs.Queue
    pages: aws.sqs.Queue
    events: EventsOut | None

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        stream_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:delivery:Delivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.stream_arn = stream_arn
        self.dead_letters = queues.dead_letter_queue(
            f"{name}-dead-letters", settings.stage, FANOUT_DLQ, child
        )
        self.pages = queues.work_queue(
            f"{name}-pages",
            settings.stage,
            FANOUT_PAGES_QUEUE,
            PAGES_FUNCTION,
            self.dead_letters,
            MAX_PAGE_RECEIVES,
            child,
        )
        self.events = (
            EventsOut(f"{name}-events", settings, child) if settings.publish_events else None
        )

    @property
    def event_bus_name(self) -> pulumi.Output[str] | None:
        return self.events.bus.name if self.events else None

    @property
    def event_bus_arn(self) -> pulumi.Output[str] | None:
        return self.events.bus.arn if self.events else None

    def consume(self, fanout: LambdaFunction, pages: LambdaFunction) -> None:
        """Wire the stream to `fanout` and the page queue to `fanout_pages`."""
        child = pulumi.ResourceOptions(parent=self)
        aws.lambda_.EventSourceMapping(
            f"{self._name}-stream-worker",
            event_source_arn=self.stream_arn,
            function_name=fanout.mapping_target,
            starting_position="LATEST",
            batch_size=FANOUT_FUNCTION.batch_size,
            filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                filters=[
                    aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(
                        pattern=json.dumps(CHANGE_STREAM_FILTER)
                    )
                ]
            ),
            function_response_types=["ReportBatchItemFailures"],
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=FANOUT_STREAM_RETRIES,
            maximum_record_age_in_seconds=MAX_RECORD_AGE_S,
            parallelization_factor=PARALLELIZATION_FACTOR,
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.dead_letters.arn
                )
            ),
            opts=child,
        )
        queues.consume(
            f"{self._name}-pages-worker", self.pages, pages.mapping_target, PAGES_FUNCTION, child
        )
        self.register_outputs(
            {"fanoutPagesQueueUrl": self.pages.url, "fanoutDlqName": self.dead_letters.name}
        )
