"""The delivery path under Pulumi's mocks (infra/delivery.py): the table's stream to `fanout`,
the page queue to `fanout_pages`, every failure kept in a dead-letter queue that alarms, and
the events out only on a stage that publishes them."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from dynamotalk.domain.limits import CHANGE_LOG_DAYS
from dynamotalk.routes import FUNCTION_BY_MODULE, resource_name
from dynamotalk.settings import ENV
from dynamotalk.tables import CHAT_TABLE
from dynamotalk.tables.keys import CHANGE_STREAM_FILTER
from dynamotalk.workers import (
    ACCOUNT_ERASURE,
    EVENT_BUS,
    EVENT_SOURCE,
    FANOUT,
    FANOUT_DLQ,
    FANOUT_PAGES,
    FANOUT_PAGES_QUEUE,
    FANOUT_STREAM_RETRIES,
)
from infra.settings import StageSettings, settings_from
from tests.infra.stack_runner import Recorder, Resource, run
from tests.infra.test_stack import functions_by_module, stage_settings, the_api

MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
STREAM_RETENTION_S = 24 * 3600
"""DynamoDB Streams keeps a record 24 hours, then trims it."""
EVENT_TYPES = (
    "aws:cloudwatch/eventBus:EventBus",
    "aws:cloudwatch/eventArchive:EventArchive",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
)

Deployed = tuple[StageSettings, Recorder]


@pytest.fixture(scope="module", params=["dev", "prod"])
def deployed(request: pytest.FixtureRequest) -> Deployed:
    """The committed stages (both publish events)."""
    settings = stage_settings(request.param)
    recorder, _ = run(settings)
    return settings, recorder


@pytest.fixture(scope="module")
def quiet() -> Deployed:
    """prod with `publishEvents` off."""
    settings = attrs.evolve(stage_settings("prod"), publish_events=False)
    recorder, _ = run(settings)
    return settings, recorder


def queues(recorder: Recorder) -> dict[str, Resource]:
    """Queue ARN -> queue."""
    return {q.inputs["arn"]: q for q in recorder.of("aws:sqs/queue:Queue")}


def queue_named(recorder: Recorder, stage: str, what: str) -> Resource:
    (queue,) = [
        q
        for q in recorder.of("aws:sqs/queue:Queue")
        if q.inputs["name"] == resource_name(stage, what)
    ]
    return queue


def mapping_of(recorder: Recorder, module: str) -> Resource:
    function = functions_by_module(recorder)[module]
    (mapping,) = [
        m for m in recorder.of(MAPPING) if m.inputs["functionName"] == function.inputs["name"]
    ]
    return mapping


def statements(recorder: Recorder) -> dict[str, list[dict[str, Any]]]:
    """Function module -> its role's statements."""
    return {
        p.name.removesuffix("-policy"): json.loads(p.inputs["policy"])["Statement"]
        for p in recorder.of("aws:iam/rolePolicy:RolePolicy")
        if p.name.removesuffix("-policy") in FUNCTION_BY_MODULE
    }


def test_the_table_streams_new_images_and_expires_changes_by_its_ttl(deployed: Deployed) -> None:
    _, recorder = deployed
    (table,) = recorder.of("aws:dynamodb/table:Table")
    assert table.inputs["streamEnabled"] is True
    assert table.inputs["streamViewType"] == "NEW_IMAGE"
    # Change items carry `expires_at`: the table's one TTL attribute (tables/schema.py).
    assert table.inputs["ttl"] == {"attributeName": CHAT_TABLE.ttl_attribute, "enabled": True}
    assert CHAT_TABLE.ttl_attribute == "expires_at"


def test_the_fanout_reads_the_stream_through_the_change_filter(deployed: Deployed) -> None:
    settings, recorder = deployed
    stage = settings.stage
    (table,) = recorder.of("aws:dynamodb/table:Table")
    mapping = mapping_of(recorder, FANOUT).inputs
    spec = FUNCTION_BY_MODULE[FANOUT]
    assert mapping["eventSourceArn"] == table.inputs["streamArn"]
    assert mapping["startingPosition"] == "LATEST"
    assert mapping["batchSize"] == spec.batch_size
    (pattern,) = [json.loads(f["pattern"]) for f in mapping["filterCriteria"]["filters"]]
    assert pattern == CHANGE_STREAM_FILTER, "the filter tables.keys names, nothing else"
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["maximumRetryAttempts"] == FANOUT_STREAM_RETRIES
    # A record given up on goes to the DLQ before the stream trims it unseen.
    assert 60 <= mapping["maximumRecordAgeInSeconds"] < STREAM_RETENTION_S
    # One batch per shard: a room's changes reach clients in seq order.
    assert mapping["parallelizationFactor"] == 1
    dead_letters = queue_named(recorder, stage, FANOUT_DLQ)
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == dead_letters.inputs["arn"]


def test_every_queue_consumer_follows_its_function_entry(deployed: Deployed) -> None:
    _, recorder = deployed
    by_arn = queues(recorder)
    by_name = {f.inputs["name"]: m for m, f in functions_by_module(recorder).items()}
    consumed = [m for m in recorder.of(MAPPING) if m.inputs["eventSourceArn"] in by_arn]
    assert {by_name[m.inputs["functionName"]] for m in consumed} == {
        "bot_worker",
        FANOUT_PAGES,
        ACCOUNT_ERASURE,
        *(["push_sender"] if "push_sender" in by_name.values() else []),
    }
    for mapping in consumed:
        module = by_name[mapping.inputs["functionName"]]
        spec = FUNCTION_BY_MODULE[module]
        queue = by_arn[mapping.inputs["eventSourceArn"]].inputs
        assert mapping.inputs["batchSize"] == spec.batch_size, module
        assert mapping.inputs["scalingConfig"] == {"maximumConcurrency": spec.max_concurrency}
        assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"], module
        # AWS: the queue's visibility timeout at least six times the function timeout.
        assert queue["visibilityTimeoutSeconds"] >= 6 * spec.timeout_s, module
        redrive = json.loads(queue["redrivePolicy"])
        assert redrive["deadLetterTargetArn"] in by_arn, module
        # Every receive may wait out a visibility timeout: no job expires before its last.
        receives = redrive["maxReceiveCount"]
        assert queue["messageRetentionSeconds"] > receives * queue["visibilityTimeoutSeconds"]


def test_the_page_queue_redrives_to_the_fanout_dlq_after_five_receives(
    deployed: Deployed,
) -> None:
    settings, recorder = deployed
    stage = settings.stage
    pages = queue_named(recorder, stage, FANOUT_PAGES_QUEUE)
    dead_letters = queue_named(recorder, stage, FANOUT_DLQ)
    assert json.loads(pages.inputs["redrivePolicy"]) == {
        "deadLetterTargetArn": dead_letters.inputs["arn"],
        "maxReceiveCount": 5,
    }
    assert mapping_of(recorder, FANOUT_PAGES).inputs["eventSourceArn"] == pages.inputs["arn"]


def test_every_dead_letter_queue_alarms_on_a_single_message(deployed: Deployed) -> None:
    _, recorder = deployed
    by_arn = queues(recorder)
    targets = {
        json.loads(q.inputs["redrivePolicy"])["deadLetterTargetArn"]
        for q in by_arn.values()
        if q.inputs.get("redrivePolicy")
    }
    for mapping in recorder.of(MAPPING):
        if "destinationConfig" in mapping.inputs:
            targets.add(mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"])
    # The bot's, the fan-out's, erasure's, and push's where push is on (issue 18).
    assert len(targets) == 3 + ("push_sender" in functions_by_module(recorder))
    (topic,) = recorder.of("aws:sns/topic:Topic")
    alarmed = {
        a.inputs["dimensions"]["QueueName"]: a.inputs
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs.get("metricName") == "ApproximateNumberOfMessagesVisible"
    }
    for arn in targets:
        alarm = alarmed[by_arn[arn].inputs["name"]]
        assert alarm["namespace"] == "AWS/SQS"
        assert alarm["threshold"] == 1
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["alarmActions"] == [topic.inputs["arn"]]


def test_the_fanout_falling_behind_alarms_before_records_age_out(deployed: Deployed) -> None:
    _, recorder = deployed
    (topic,) = recorder.of("aws:sns/topic:Topic")
    fanout = functions_by_module(recorder)[FANOUT].inputs["name"]
    max_age_ms = mapping_of(recorder, FANOUT).inputs["maximumRecordAgeInSeconds"] * 1000
    (lag,) = [
        a.inputs
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs.get("metricName") == "IteratorAge"
        and a.inputs["dimensions"] == {"FunctionName": fanout}  # the search indexer has its own
    ]
    assert (lag["namespace"], lag["dimensions"]) == ("AWS/Lambda", {"FunctionName": fanout})
    assert lag["statistic"] == "Maximum"  # a sum of ages means nothing
    assert 0 < lag["threshold"] < max_age_ms
    assert lag["alarmActions"] == [topic.inputs["arn"]]


def test_the_delivery_functions_environment(deployed: Deployed) -> None:
    settings, recorder = deployed
    stage = settings.stage
    pages = queue_named(recorder, stage, FANOUT_PAGES_QUEUE)
    endpoint = the_api(recorder, "WEBSOCKET").inputs["apiEndpoint"].split("//")[1]
    for module, function in functions_by_module(recorder).items():
        variables = function.inputs["environment"]["variables"]
        if module not in (FANOUT, FANOUT_PAGES):
            assert ENV["fanout_pages_queue_url"] not in variables, module
            continue
        assert variables[ENV["stage"]] == stage
        assert variables[ENV["table_name"]] == CHAT_TABLE.physical_name(stage)
        assert variables[ENV["management_endpoint"]] == f"https://{endpoint}/{stage}"
        assert variables[ENV["fanout_pages_queue_url"]] == pages.inputs["url"]
        # Lambda sets the region itself: AWS_REGION is reserved, setting it fails the deploy.
        assert ENV["region"] not in variables


def test_the_fanout_posts_only_on_this_apis_connections(deployed: Deployed) -> None:
    settings, recorder = deployed
    api = the_api(recorder, "WEBSOCKET").inputs["executionArn"]
    stage = settings.stage
    for module in (FANOUT, FANOUT_PAGES):
        granted = [
            s
            for s in statements(recorder)[module]
            if "execute-api:ManageConnections" in s["Action"]
        ]
        assert [s["Resource"] for s in granted] == [[f"{api}/{stage}/POST/@connections/*"]]


def test_publishing_stages_get_a_bus_an_archive_and_a_logged_rule(deployed: Deployed) -> None:
    assert deployed[0].publish_events
    settings, recorder = deployed
    stage = settings.stage
    (bus,) = recorder.of("aws:cloudwatch/eventBus:EventBus")
    assert bus.inputs["name"] == resource_name(stage, EVENT_BUS)
    (archive,) = recorder.of("aws:cloudwatch/eventArchive:EventArchive")
    assert archive.inputs["eventSourceArn"] == bus.inputs["arn"]
    # Bounded (0 would keep events forever), as long as the change feed.
    assert archive.inputs["retentionDays"] == CHANGE_LOG_DAYS
    (rule,) = [
        r
        for r in recorder.of("aws:cloudwatch/eventRule:EventRule")
        if r.inputs.get("eventBusName") == bus.inputs["name"]
    ]
    assert json.loads(rule.inputs["eventPattern"])["source"] == [EVENT_SOURCE]
    (target,) = [
        t
        for t in recorder.of("aws:cloudwatch/eventTarget:EventTarget")
        if t.inputs["rule"] == rule.inputs["name"]
    ]
    assert target.inputs["eventBusName"] == bus.inputs["name"]
    assert "roleArn" not in target.inputs  # CloudWatch Logs takes a resource policy, not a role
    (group,) = [
        g
        for g in recorder.of("aws:cloudwatch/logGroup:LogGroup")
        if g.inputs["arn"] == target.inputs["arn"]
    ]
    assert group.inputs["name"].startswith("/aws/events/")
    (policy,) = recorder.of("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    (statement,) = json.loads(policy.inputs["policyDocument"])["Statement"]
    assert "events.amazonaws.com" in statement["Principal"]["Service"]
    assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert statement["Resource"] == [f"{group.inputs['arn']}:*"]
    assert policy.urn in target.dependencies, "the target waits for the policy"
    # The fan-out alone is told the bus, and alone may put events, on that bus only.
    for module, function in functions_by_module(recorder).items():
        variables = function.inputs["environment"]["variables"]
        expected = bus.inputs["name"] if module == FANOUT else None
        assert variables.get(ENV["event_bus_name"]) == expected, module
    for module, granted in statements(recorder).items():
        puts = [s["Resource"] for s in granted if "events:PutEvents" in s["Action"]]
        assert puts == ([[bus.inputs["arn"]]] if module == FANOUT else []), module


def test_with_publishing_off_no_bus_exists_and_no_function_can_put_events(quiet: Deployed) -> None:
    settings, recorder = quiet
    assert not settings.publish_events
    for typ in EVENT_TYPES:
        assert recorder.of(typ) == [], typ
    assert all(
        "eventBusName" not in r.inputs for r in recorder.of("aws:cloudwatch/eventRule:EventRule")
    )
    for function in recorder.of("aws:lambda/function:Function"):
        assert ENV["event_bus_name"] not in function.inputs["environment"]["variables"]
    for module, granted in statements(recorder).items():
        assert not any(a.startswith("events:") for s in granted for a in s["Action"]), module


def test_publish_events_is_a_stage_setting_off_by_default() -> None:
    assert settings_from("dev", "eu-west-1", {}).publish_events is False
    assert settings_from("dev", "eu-west-1", {"publishEvents": "true"}).publish_events is True
