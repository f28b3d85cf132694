"""The business metrics' dashboard and alarms under Pulumi's mocks: every metric the code
writes is graphed, every ratio alarm reads only metrics the code writes (by the names and the
dimension metrics.py gives them), with its threshold and minimum volume, and pages the
stage's existing alarm topic."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dynamotalk import metrics
from dynamotalk.metrics import Metric
from infra import business_metrics
from tests.infra.stack_runner import Recorder, Resource, run
from tests.infra.test_stack import stage_settings

WRITTEN = {m.metric_name for m in Metric}


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, Recorder]:
    recorder, _ = run(stage_settings(request.param))
    return request.param, recorder


def alarms(recorder: Recorder) -> dict[str, Resource]:
    return {a.inputs["name"]: a for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")}


def ours(recorder: Recorder) -> dict[str, Resource]:
    """The alarms that read the business namespace."""
    return {
        name: alarm
        for name, alarm in alarms(recorder).items()
        if alarm.inputs.get("namespace") == metrics.NAMESPACE
        or any(
            q.get("metric", {}).get("namespace") == metrics.NAMESPACE
            for q in alarm.inputs.get("metricQueries") or []
        )
    }


def read_series(alarm: Resource) -> list[dict[str, Any]]:
    if "metricName" in alarm.inputs:
        return [alarm.inputs]
    return [q["metric"] for q in alarm.inputs["metricQueries"] if "metric" in q]


def test_every_metric_is_on_the_dashboard(stack: tuple[str, Recorder]) -> None:
    stage, recorder = stack
    (dashboard,) = recorder.of("aws:cloudwatch/dashboard:Dashboard")
    graphed = {
        series[1]
        for widget in json.loads(dashboard.inputs["dashboardBody"])["widgets"]
        for series in widget["properties"]["metrics"]
        if series[0] == metrics.NAMESPACE
    }
    assert graphed == WRITTEN
    for widget in json.loads(dashboard.inputs["dashboardBody"])["widgets"]:
        for series in widget["properties"]["metrics"]:
            if series[0] == metrics.NAMESPACE:
                assert series[2:4] == [metrics.STAGE_DIMENSION, stage]


def test_alarms_read_only_metrics_the_code_writes(stack: tuple[str, Recorder]) -> None:
    stage, recorder = stack
    found = ours(recorder)
    assert len(found) == len(business_metrics.RATIO_ALARMS) + 1  # + the fan-out's p99
    for name, alarm in found.items():
        for series in read_series(alarm):
            assert series["namespace"] == metrics.NAMESPACE, name
            assert series["metricName"] in WRITTEN, name
            assert series["dimensions"] == {metrics.STAGE_DIMENSION: stage}, name
        assert alarm.inputs["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("ratio", business_metrics.RATIO_ALARMS, ids=lambda r: r.key)
def test_each_ratio_alarm_is_metric_math_with_a_minimum_volume(
    stack: tuple[str, Recorder], ratio: business_metrics.RatioAlarm
) -> None:
    stage, recorder = stack
    alarm = alarms(recorder)[f"dynamotalk-{stage}-{ratio.key}"]
    queries = alarm.inputs["metricQueries"]
    (expression,) = [q for q in queries if "expression" in q]
    assert expression["returnData"] is True
    assert all(q["returnData"] is False for q in queries if "metric" in q)
    ids = {q["id"] for q in queries if "metric" in q}
    referenced = set(re.findall(r"\b[a-z][a-z_]*\b", expression["expression"])) - {"FILL", "IF"}
    assert referenced == ids, "the expression reads exactly its series"
    assert f">= {ratio.min_volume}" in expression["expression"]
    assert {q["metric"]["metricName"] for q in queries if "metric" in q} == {
        m.metric_name for m in ratio.metrics()
    }
    assert alarm.inputs["threshold"] == ratio.threshold_pct
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert all(q["metric"]["period"] == 300 for q in queries if "metric" in q)


def test_the_delivery_alarm_is_five_percent_over_five_minutes() -> None:
    (delivery,) = [r for r in business_metrics.RATIO_ALARMS if r.key == "delivery-failure-rate"]
    assert (delivery.threshold_pct, business_metrics.PERIOD_S) == (5, 300)
    assert delivery.metrics() == {Metric.DELIVERIES, Metric.DELIVERY_FAILURES}
    assert delivery.min_volume > 2, "one failure in two posts does not page"


def test_the_fan_out_alarm_is_its_p99(stack: tuple[str, Recorder]) -> None:
    stage, recorder = stack
    alarm = alarms(recorder)[f"dynamotalk-{stage}-fanout-slow"]
    assert alarm.inputs["metricName"] == Metric.FANOUT_MS.metric_name
    assert alarm.inputs["extendedStatistic"] == "p99"
    assert alarm.inputs["threshold"] == business_metrics.FANOUT_P99_ALARM_MS
    assert alarm.inputs["evaluateLowSampleCountPercentiles"] == "ignore"


def test_business_alarms_page_the_stage_alarm_topic(stack: tuple[str, Recorder]) -> None:
    stage, recorder = stack
    everything = alarms(recorder)
    topic = everything[f"dynamotalk-{stage}-http-5xx"].inputs["alarmActions"]
    (sns,) = recorder.of("aws:sns/topic:Topic")
    assert sns.inputs["name"] == f"dynamotalk-{stage}-alarms"
    for name, alarm in ours(recorder).items():
        assert alarm.inputs["alarmActions"] == topic, name
        assert alarm.inputs["okActions"] == topic, name


def test_a_ratio_expression_fires_only_past_its_volume_and_threshold() -> None:
    """The expression, evaluated as CloudWatch's metric math would for one period."""
    (delivery,) = [r for r in business_metrics.RATIO_ALARMS if r.key == "delivery-failure-rate"]
    # The volume is one parenthesised term: `ok + failed >= 20` would otherwise hang on metric
    # math's operator precedence (read as `ok + (failed >= 20)` it pages at 1 failure in 2).
    shape = re.fullmatch(r"IF\((\(.*\)) >= (\d+), (.*), 0\)", delivery.expression())
    assert shape is not None
    volume, minimum, ratio = shape.group(1), int(shape.group(2)), shape.group(3)
    assert minimum == delivery.min_volume

    def rate(ok: float | None, failed: float | None) -> float:
        values = {"ok": ok or 0.0, "failed": failed or 0.0}  # FILL(x, 0): a missing sum is 0

        def evaluate(text: str) -> float:
            text = re.sub(r"FILL\((\w+), 0\)", lambda m: repr(values[m.group(1)]), text)
            return float(eval(text, {"__builtins__": {}}))  # noqa: S307 - numbers only

        return evaluate(ratio) if evaluate(volume) >= minimum else 0.0

    assert rate(1, 1) == 0, "one of two: below the minimum volume"
    assert rate(None, None) == 0
    assert rate(None, 30) == 100
    assert rate(95, 5) == 5
    assert not rate(95, 5) > delivery.threshold_pct
    assert rate(90, 10) > delivery.threshold_pct
