"""Every metric an alarm or a dashboard widget reads uses a dimension set its namespace
publishes. CloudWatch accepts any dimensions without complaint; a metric read with a set AWS
does not publish simply has no data, so its alarm never fires and its graph stays empty.

The table below is written from AWS's documentation, not from infra/monitoring.py:
- Lambda: "Types of metrics for Lambda functions"
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
- HTTP API: "Monitor CloudWatch metrics for HTTP APIs in API Gateway"
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
- WebSocket API: "Monitor WebSocket API execution with CloudWatch metrics"
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html
- DynamoDB: "DynamoDB Metrics and dimensions"
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
- SQS: "Available CloudWatch metrics for Amazon SQS"
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dynamotalk import metrics
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_stack import stage_settings

Dims = frozenset[str]
LAMBDA: set[Dims] = {
    frozenset(),
    frozenset({"FunctionName"}),
    frozenset({"FunctionName", "Resource"}),
    frozenset({"FunctionName", "Resource", "ExecutedVersion"}),
}
HTTP_API: set[Dims] = {
    frozenset({"ApiId"}),
    frozenset({"ApiId", "Stage"}),
    frozenset({"ApiId", "Stage", "Route"}),  # detailed metrics only
}
WEBSOCKET_API: set[Dims] = {
    frozenset({"ApiId"}),
    frozenset({"ApiId", "Stage"}),
    frozenset({"ApiId", "Method", "Resource", "Stage"}),  # detailed metrics only
}
TABLE_OR_INDEX: set[Dims] = {
    frozenset({"TableName"}),
    frozenset({"TableName", "GlobalSecondaryIndexName"}),
}
PUBLISHED: dict[str, dict[str, set[Dims]]] = {
    "AWS/Lambda": {
        m: LAMBDA for m in ("Errors", "Throttles", "Duration", "Invocations", "IteratorAge")
    },
    "AWS/ApiGateway": {
        **{m: HTTP_API for m in ("4xx", "5xx", "Count", "Latency", "IntegrationLatency")},
        **{
            m: WEBSOCKET_API
            for m in ("ConnectCount", "MessageCount", "IntegrationError", "ClientError")
        },
    },
    "AWS/DynamoDB": {
        "ThrottledRequests": {frozenset({"TableName", "Operation"})},
        "SystemErrors": {frozenset({"TableName", "Operation"})},
        "ReadThrottleEvents": TABLE_OR_INDEX,
        "WriteThrottleEvents": TABLE_OR_INDEX,
        "ConsumedReadCapacityUnits": TABLE_OR_INDEX,
        "ConsumedWriteCapacityUnits": TABLE_OR_INDEX,
    },
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible": {frozenset({"QueueName"})}},
    # Our own namespace: what the functions' EMF lines publish (one dimension set, metrics.py).
    metrics.NAMESPACE: {
        m.metric_name: {frozenset({metrics.STAGE_DIMENSION})} for m in metrics.Metric
    },
}


def published(namespace: str, metric: str, dimensions: dict[str, Any]) -> bool:
    return frozenset(dimensions) in PUBLISHED.get(namespace, {}).get(metric, set())


def metrics_read(recorder: Recorder) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(where, namespace, metric, dimensions) for every alarm and every dashboard series."""
    read = []
    for alarm in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm"):
        where = f"alarm {alarm.inputs['name']}"
        if "metricName" in alarm.inputs:
            inputs = alarm.inputs
            read.append((where, inputs["namespace"], inputs["metricName"], inputs["dimensions"]))
        for query in alarm.inputs.get("metricQueries") or []:
            if "metric" in query:
                metric = query["metric"]
                read.append(
                    (where, metric["namespace"], metric["metricName"], metric["dimensions"])
                )
    for dashboard in recorder.of("aws:cloudwatch/dashboard:Dashboard"):
        for widget in json.loads(dashboard.inputs["dashboardBody"])["widgets"]:
            for series in widget["properties"]["metrics"]:
                names = [p for p in series if not isinstance(p, dict)]
                namespace, metric, pairs = names[0], names[1], names[2:]
                dims = dict(zip(pairs[::2], pairs[1::2], strict=True))
                read.append((f"widget {widget['properties']['title']}", namespace, metric, dims))
    return read


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_metric_read_is_one_aws_publishes(stage: str) -> None:
    recorder, _ = run(stage_settings(stage))
    read = metrics_read(recorder)
    assert read
    for where, namespace, metric, dimensions in read:
        assert published(namespace, metric, dimensions), (where, namespace, metric, dimensions)
        assert all(isinstance(v, str) and v for v in dimensions.values()), where


def test_the_dynamodb_throttle_alarm_covers_the_table_and_its_indexes() -> None:
    from dynamotalk.tables import CHAT_TABLE

    recorder, _ = run(stage_settings("dev"))
    (alarm,) = [
        a
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["name"].endswith("dynamodb-throttled")
    ]
    series = {
        (q["metric"]["metricName"], frozenset(q["metric"]["dimensions"].items()))
        for q in alarm.inputs["metricQueries"]
        if "metric" in q
    }
    table = CHAT_TABLE.physical_name("dev")
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert (metric, frozenset({("TableName", table)})) in series
        for index in CHAT_TABLE.indexes:
            key = frozenset({("TableName", table), ("GlobalSecondaryIndexName", index.name)})
            assert (metric, key) in series
    (expression,) = [q for q in alarm.inputs["metricQueries"] if "expression" in q]
    assert expression["returnData"] is True
    assert all(q.get("returnData") is False for q in alarm.inputs["metricQueries"] if "metric" in q)


def test_the_old_table_only_throttled_requests_alarm_is_what_this_check_refuses() -> None:
    # The defect this file guards against: ThrottledRequests is per TableName *and* Operation.
    assert not published("AWS/DynamoDB", "ThrottledRequests", {"TableName": "t"})
    assert published("AWS/DynamoDB", "ThrottledRequests", {"TableName": "t", "Operation": "Query"})
