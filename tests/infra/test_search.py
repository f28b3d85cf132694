"""Search's infra under Pulumi's mocks (infra/search.py): the search indexer is the table
stream's second and last reader, through the message-change filter, with partial batch
responses, bisection, retries and the fan-out's dead-letter queue; its role may do what its
row of permissions says and nothing with a wildcard."""

from __future__ import annotations

import json

from dynamotalk.routes import FUNCTION_BY_MODULE
from dynamotalk.search_function import SEARCH_INDEXER, SEARCH_INDEXER_STREAM_RETRIES
from dynamotalk.tables.keys import SEARCH_STREAM_FILTER
from dynamotalk.workers import FANOUT_DLQ
from tests.infra.test_delivery import (
    MAPPING,
    STREAM_RETENTION_S,
    Deployed,
    deployed,
    mapping_of,
    queue_named,
    statements,
)
from tests.infra.test_stack import functions_by_module

__all__ = ["deployed"]  # the fixture


def test_the_indexer_reads_the_stream_through_the_message_filter(deployed: Deployed) -> None:
    settings, recorder = deployed
    (table,) = recorder.of("aws:dynamodb/table:Table")
    mapping = mapping_of(recorder, SEARCH_INDEXER).inputs
    assert mapping["eventSourceArn"] == table.inputs["streamArn"]
    assert mapping["batchSize"] == FUNCTION_BY_MODULE[SEARCH_INDEXER].batch_size
    (pattern,) = [json.loads(f["pattern"]) for f in mapping["filterCriteria"]["filters"]]
    assert pattern == SEARCH_STREAM_FILTER
    assert pattern["dynamodb"]["NewImage"]["kind"]["S"] == ["posted", "edited", "deleted"]
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["maximumRetryAttempts"] == SEARCH_INDEXER_STREAM_RETRIES
    assert 60 <= mapping["maximumRecordAgeInSeconds"] < STREAM_RETENTION_S
    assert mapping["parallelizationFactor"] == 1  # an edit is indexed after its post
    dead_letters = queue_named(recorder, settings.stage, FANOUT_DLQ)
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == dead_letters.inputs["arn"]


def test_the_stream_has_two_readers_at_most(deployed: Deployed) -> None:
    _, recorder = deployed
    (table,) = recorder.of("aws:dynamodb/table:Table")
    readers = [
        m for m in recorder.of(MAPPING) if m.inputs["eventSourceArn"] == table.inputs["streamArn"]
    ]
    assert len(readers) == 2  # AWS: no more than two processes per shard


def test_the_indexers_role_is_least_privilege(deployed: Deployed) -> None:
    settings, recorder = deployed
    found = {s["Sid"]: s for s in statements(recorder)[SEARCH_INDEXER]}
    assert set(found) >= {"Logs", "Table", "ChangeStream", "DeadLetters"}
    assert set(found) <= {"Logs", "Table", "ChangeStream", "DeadLetters", "Tracing"}
    (table,) = recorder.of("aws:dynamodb/table:Table")
    assert found["Table"]["Resource"] == [table.inputs["arn"]]  # the table, not its index
    assert sorted(found["Table"]["Action"]) == [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    ]
    assert found["ChangeStream"]["Resource"] == [table.inputs["streamArn"]]
    dead_letters = queue_named(recorder, settings.stage, FANOUT_DLQ)
    assert found["DeadLetters"] == {
        "Sid": "DeadLetters",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [dead_letters.inputs["arn"]],
    }
    for statement in found.values():
        if statement["Sid"] != "Tracing":
            assert not any("*" in a for a in statement["Action"])


def test_the_indexer_falling_behind_alarms(deployed: Deployed) -> None:
    _, recorder = deployed
    indexer = functions_by_module(recorder)[SEARCH_INDEXER].inputs["name"]
    (lag,) = [
        a.inputs
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs.get("metricName") == "IteratorAge"
        and a.inputs["dimensions"] == {"FunctionName": indexer}
    ]
    assert lag["statistic"] == "Maximum"
