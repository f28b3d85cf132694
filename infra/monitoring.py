"""Monitoring: alarms on Lambda errors and throttles, the fan-out falling behind its stream,
HTTP API 5xx, WebSocket integration errors, dead letters and DynamoDB throttling, to an SNS
topic with the stage's e-mail subscription; and a dashboard of the same figures. The business
metrics' ratio alarms and widgets (delivery, push and bot failure rates, fan-out p99) are
defined in infra/business_metrics.py and created here, on the same topic.

Every metric is read with a dimension set its namespace publishes (tests/infra checks them
against AWS's tables): a metric read with any other set has no data, and its alarm never fires.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from dynamotalk.metrics import NAMESPACE, Metric
from dynamotalk.permissions import PERMISSIONS
from dynamotalk.routes import resource_name
from dynamotalk.tables import CHAT_TABLE
from infra import business_metrics
from infra.functions import LambdaFunction
from infra.settings import StageSettings

THROTTLE_EVENTS = ("ReadThrottleEvents", "WriteThrottleEvents")
"""DynamoDB's throttle metrics per TableName (and per TableName + GlobalSecondaryIndexName).
They count every throttled read or write event, batch items included. ThrottledRequests is
published only per TableName *and* Operation, so a TableName-only alarm on it never fires."""
STREAM_LAG_ALARM_S = 60
"""A stream consumer whose newest record waited this long: live delivery has fallen behind
(clients see changes late), well before records age out to the dead-letter queue."""


class Monitoring(pulumi.ComponentResource):
    """An SNS topic for the stage's alarms, one alarm per failure worth waking up for, and a
    dashboard. Every alarm fires on a single occurrence in 5 minutes: a chat backend at rest
    should have none."""

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        functions: Mapping[str, LambdaFunction],
        http_api_id: pulumi.Input[str],
        ws_api_id: pulumi.Input[str],
        table_name: pulumi.Input[str],
        dead_letter_queues: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-alarms", name=resource_name(settings.stage, "alarms"), opts=child
        )
        if settings.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=settings.alarm_email,
                opts=child,
            )
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []

        def alarm(
            key: str,
            namespace: str,
            metric: str,
            dimensions: Mapping[str, pulumi.Input[str]],
            threshold: float = 1,
            statistic: str = "Sum",
        ) -> None:
            self.alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{key}",
                    name=resource_name(settings.stage, key),
                    namespace=namespace,
                    metric_name=metric,
                    dimensions=dimensions,
                    statistic=statistic,
                    period=300,
                    evaluation_periods=1,
                    threshold=threshold,
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    treat_missing_data="notBreaching",
                    alarm_actions=[self.topic.arn],
                    ok_actions=[self.topic.arn],
                    opts=child,
                )
            )

        for module, function in functions.items():
            dims = {"FunctionName": function.function.name}
            alarm(f"{module}-errors", "AWS/Lambda", "Errors", dims)
            alarm(f"{module}-throttles", "AWS/Lambda", "Throttles", dims)
            needs = PERMISSIONS.get(module)
            if needs is not None and needs.reads_change_stream:
                # The age of the last record each invocation got, in milliseconds.
                alarm(
                    f"{module}-lag",
                    "AWS/Lambda",
                    "IteratorAge",
                    dims,
                    threshold=STREAM_LAG_ALARM_S * 1000,
                    statistic="Maximum",
                )
        alarm("http-5xx", "AWS/ApiGateway", "5xx", {"ApiId": http_api_id})
        alarm(
            "ws-integration-errors",
            "AWS/ApiGateway",
            "IntegrationError",
            {"ApiId": ws_api_id, "Stage": settings.stage},
        )
        # Any throttled read or write on the table or one of its indexes: metric math over
        # the per-table and per-index series (AWS "DynamoDB Metrics and dimensions").
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=f"m{n}",
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/DynamoDB",
                    metric_name=metric,
                    dimensions=dimensions,
                    stat="Sum",
                    period=300,
                ),
            )
            for n, (metric, dimensions) in enumerate(
                (metric, dimensions)
                for dimensions in _table_dimension_sets(table_name)
                for metric in THROTTLE_EVENTS
            )
        ]
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="throttled",
                expression="SUM(METRICS())",
                label="DynamoDB throttle events (table and indexes)",
                return_data=True,
            )
        )
        self.alarms.append(
            aws.cloudwatch.MetricAlarm(
                f"{name}-dynamodb-throttled",
                name=resource_name(settings.stage, "dynamodb-throttled"),
                metric_queries=queries,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                opts=child,
            )
        )
        # Any dead letter at all: a bot job that failed three times (someone's @bot went
        # unanswered), or a room change the fan-out gave up on (live clients missed it until
        # their next sync).
        for key, queue_name in (dead_letter_queues or {}).items():
            alarm(
                f"{key}-dead-letters",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": queue_name},
            )

        self._business_alarms(name, settings.stage, child)

        names = [f.function.name for f in functions.values()]
        body = pulumi.Output.all(http_api_id, ws_api_id, table_name, *names).apply(
            lambda values: _dashboard(
                settings.region, values[0], values[1], values[2], values[3:], settings.stage
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=resource_name(settings.stage),
            dashboard_body=body,
            opts=child,
        )
        self.register_outputs({"alarmTopicArn": self.topic.arn})

    def _business_alarms(self, name: str, stage: str, child: pulumi.ResourceOptions) -> None:
        """The ratio alarms (metric math, business_metrics.RATIO_ALARMS) and the fan-out's p99."""
        dims = business_metrics.dimensions(stage)
        period = business_metrics.PERIOD_S
        for ratio in business_metrics.RATIO_ALARMS:
            queries = [
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=query_id,
                    return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=NAMESPACE,
                        metric_name=metric.metric_name,
                        dimensions=dims,
                        stat=stat,
                        period=period,
                    ),
                )
                for query_id, metric, stat in ratio.series()
            ]
            queries.append(
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression=ratio.expression(),
                    label=f"{ratio.failed.metric_name} % (at least {ratio.min_volume} tries)",
                    return_data=True,
                )
            )
            self.alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{ratio.key}",
                    name=resource_name(stage, ratio.key),
                    alarm_description=f"Over {ratio.threshold_pct:g}% in 5 minutes: {ratio.why}",
                    metric_queries=queries,
                    evaluation_periods=1,
                    threshold=ratio.threshold_pct,
                    comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching",
                    alarm_actions=[self.topic.arn],
                    ok_actions=[self.topic.arn],
                    opts=child,
                )
            )
        breaching, looked_at = business_metrics.FANOUT_SLOW_PERIODS
        self.alarms.append(
            aws.cloudwatch.MetricAlarm(
                f"{name}-fanout-slow",
                name=resource_name(stage, "fanout-slow"),
                alarm_description="Fan-out p99 over "
                f"{business_metrics.FANOUT_P99_ALARM_MS} ms: live clients see changes late",
                namespace=NAMESPACE,
                metric_name=Metric.FANOUT_MS.metric_name,
                dimensions=dims,
                extended_statistic="p99",
                period=period,
                evaluation_periods=looked_at,
                datapoints_to_alarm=breaching,
                threshold=business_metrics.FANOUT_P99_ALARM_MS,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                # Too few samples for a p99 says nothing: the alarm keeps its state.
                evaluate_low_sample_count_percentiles="ignore",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                opts=child,
            )
        )


def _dashboard(
    region: str, http_api: str, ws_api: str, table: str, functions: list[str], stage: str
) -> str:
    import json

    def widget(title: str, metrics: list[list[object]], x: int, y: int) -> dict[str, object]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": "Sum",
                "period": 60,
                "metrics": metrics,
            },
        }

    return json.dumps(
        {
            "widgets": [
                widget(
                    "Lambda errors",
                    [["AWS/Lambda", "Errors", "FunctionName", f] for f in functions],
                    0,
                    0,
                ),
                widget(
                    "Lambda duration p99",
                    [
                        ["AWS/Lambda", "Duration", "FunctionName", f, {"stat": "p99"}]
                        for f in functions
                    ],
                    12,
                    0,
                ),
                widget(
                    "HTTP API",
                    [["AWS/ApiGateway", m, "ApiId", http_api] for m in ("Count", "4xx", "5xx")],
                    0,
                    6,
                ),
                widget(
                    "WebSocket API",
                    [
                        ["AWS/ApiGateway", m, "ApiId", ws_api]
                        for m in ("MessageCount", "ConnectCount", "IntegrationError")
                    ],
                    12,
                    6,
                ),
                widget(
                    "DynamoDB",
                    [
                        ["AWS/DynamoDB", m, *_flat(dimensions)]
                        for dimensions in _table_dimension_sets(table)
                        for m in (
                            "ConsumedReadCapacityUnits",
                            "ConsumedWriteCapacityUnits",
                            *THROTTLE_EVENTS,
                        )
                    ],
                    0,
                    12,
                ),
                *business_metrics.widgets(region, stage, 18),
            ]
        }
    )


def _table_dimension_sets(table: pulumi.Input[str]) -> list[dict[str, pulumi.Input[str]]]:
    """The table itself, then each of its global secondary indexes (tables/schema.py)."""
    return [
        {"TableName": table},
        *({"TableName": table, "GlobalSecondaryIndexName": i.name} for i in CHAT_TABLE.indexes),
    ]


def _flat(dimensions: dict[str, pulumi.Input[str]]) -> list[object]:
    """{"TableName": "t"} -> ["TableName", "t"]: a dashboard metric's dimension pairs."""
    return [part for pair in dimensions.items() for part in pair]
