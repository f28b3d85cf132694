"""Export my data under Pulumi's mocks (infra/export.py) and the local IAM evaluator: the
export queue only http_api may send to, its dead letters (with an alarm), data_export behind it
writing archives under `exports/` only, http_api reading (presigning) those alone, and the
bucket's lifecycle rule expiring them."""

from __future__ import annotations

import json

import pytest

from dynamotalk.domain.export import EXPORT_KEPT_DAYS, EXPORTS_PREFIX
from dynamotalk.iam_actions import SQS_CONSUME, SQS_SEND
from dynamotalk.local import iam
from dynamotalk.routes import FUNCTION_BY_MODULE, resource_name
from dynamotalk.settings import ENV
from dynamotalk.workers import DATA_EXPORT, EXPORT_DLQ, EXPORT_MAX_RECEIVES, EXPORT_QUEUE
from infra.export import LIFECYCLE_RULE_ID
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_delivery_iam import decisions, stage
from tests.infra.test_push import MAPPING, statements_on, variables
from tests.infra.test_stack import functions_by_module, lambda_policies, stage_settings
from tests.integration.test_local_iam import POST, REGION, STAGE, Call, get, op, query

ACCOUNT = iam.LOCAL_ACCOUNT
EXPORT_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{resource_name(STAGE, EXPORT_QUEUE)}"
SEND_JOB = ("sqs", "SendMessage", {"QueueUrl": EXPORT_URL, "MessageBody": "{}"})
RECEIVE_JOB = ("sqs", "ReceiveMessage", {"QueueUrl": EXPORT_URL})


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    found, _ = run(stage_settings("dev"))
    return found


@pytest.fixture(scope="module")
def policies() -> iam.StagePolicies:
    return stage(None)


def s3(operation: str, key: str) -> Call:
    bucket = resource_name(STAGE, "attachments")
    return (
        "s3",
        operation,
        {"Bucket": bucket, "Key": key, **({"Body": b"{}"} if operation == "PutObject" else {})},
    )


def test_the_export_queue_feeds_data_export_and_dead_letters_alarm(recorder: Recorder) -> None:
    queue, dlq = recorder.named("export-jobs"), recorder.named("export-dead-letters")
    assert queue.inputs["name"] == resource_name("dev", EXPORT_QUEUE)
    assert dlq.inputs["name"] == resource_name("dev", EXPORT_DLQ)
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": dlq.inputs["arn"],
        "maxReceiveCount": EXPORT_MAX_RECEIVES,
    }
    worker = FUNCTION_BY_MODULE[DATA_EXPORT]
    assert queue.inputs["visibilityTimeoutSeconds"] >= 6 * worker.timeout_s
    (mapping,) = [
        m for m in recorder.of(MAPPING) if m.inputs["eventSourceArn"] == queue.inputs["arn"]
    ]
    assert (
        mapping.inputs["functionName"] == functions_by_module(recorder)[DATA_EXPORT].inputs["name"]
    )
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["scalingConfig"]["maximumConcurrency"] == worker.max_concurrency
    alarmed = {
        a.inputs.get("dimensions", {}).get("QueueName")
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert dlq.inputs["name"] in alarmed


def test_only_http_api_sends_jobs_and_only_data_export_consumes(recorder: Recorder) -> None:
    queue = recorder.named("export-jobs").inputs
    assert statements_on(recorder, queue["arn"]) == {
        "http_api": {SQS_SEND},
        DATA_EXPORT: set(SQS_CONSUME),
    }
    env = variables(recorder)
    for module, names in env.items():
        told = names.get(ENV["export_queue_url"])
        assert told == (queue["url"] if module == "http_api" else None), module


def test_archives_are_granted_on_their_prefix_alone_without_wildcard_actions(
    recorder: Recorder,
) -> None:
    grants: dict[str, set[str]] = {}
    for module, statements in lambda_policies(recorder).items():
        for statement in statements:
            assert all("*" not in action for action in statement["Action"]), module
            for resource in statement["Resource"]:
                if resource.endswith(f"/{EXPORTS_PREFIX}*"):
                    grants.setdefault(module, set()).update(statement["Action"])
    assert grants == {"http_api": {"s3:GetObject"}, DATA_EXPORT: {"s3:PutObject"}}


def test_the_bucket_expires_archives(recorder: Recorder) -> None:
    (lifecycle,) = [
        r
        for r in recorder.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if any(rule["id"] == LIFECYCLE_RULE_ID for rule in r.inputs["rules"])
    ]
    (rule,) = [rule for rule in lifecycle.inputs["rules"] if rule["id"] == LIFECYCLE_RULE_ID]
    assert rule["filter"] == {"prefix": EXPORTS_PREFIX}
    assert rule["expiration"]["days"] == EXPORT_KEPT_DAYS
    assert rule["status"] == "Enabled"


EXPORT_ALLOWED: list[Call] = [
    get("USER#u"),  # the job, the profile
    query(),  # the rooms' messages
    query("GSI1"),  # memberships, threads
    op("UpdateItem"),  # the outcome
    op("DeleteItem"),  # the running marker
    s3("PutObject", f"{EXPORTS_PREFIX}u/e.json"),
    RECEIVE_JOB,
]
EXPORT_DENIED: list[Call] = [
    op("PutItem"),
    s3("PutObject", "rooms/r/u/file.png"),  # attachments are not its to write
    s3("GetObject", f"{EXPORTS_PREFIX}u/e.json"),
    POST,
    SEND_JOB,
]


@pytest.mark.parametrize("call", EXPORT_ALLOWED)
def test_data_export_may_make_its_calls(policies: iam.StagePolicies, call: Call) -> None:
    assert decisions(policies, DATA_EXPORT, call) == {"allow"}


@pytest.mark.parametrize("call", EXPORT_DENIED)
def test_data_export_may_not_make_other_calls(policies: iam.StagePolicies, call: Call) -> None:
    assert "implicit_deny" in decisions(policies, DATA_EXPORT, call)


def test_http_api_queues_jobs_and_reads_archives_only(policies: iam.StagePolicies) -> None:
    assert decisions(policies, "http_api", SEND_JOB) == {"allow"}
    assert decisions(policies, "http_api", s3("GetObject", f"{EXPORTS_PREFIX}u/e.json")) == {
        "allow"
    }
    assert "implicit_deny" in decisions(policies, "http_api", RECEIVE_JOB)
    assert "implicit_deny" in decisions(
        policies, "http_api", s3("PutObject", f"{EXPORTS_PREFIX}u/e.json")
    )
