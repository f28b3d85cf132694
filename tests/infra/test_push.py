"""Web Push under Pulumi's mocks (infra/push.py): on a stage with `push` on, the push queue
the fan-out alone may send to, its dead letters (with an alarm), push_sender behind it, and
the VAPID key made by Pulumi into an SSM SecureString only push_sender may read; with `push`
off, none of it, and no function is told of a push queue or key."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from dynamotalk.iam_actions import SQS_CONSUME, SQS_SEND, SSM_GET_PARAMETER
from dynamotalk.routes import FUNCTION_BY_MODULE, resource_name, vapid_parameter_name
from dynamotalk.settings import ENV
from dynamotalk.workers import FANOUT, PUSH_DLQ, PUSH_QUEUE, PUSH_SENDER
from dynamotalk.workers import PUSH_MAX_RECEIVES as MAX_RECEIVES
from infra.settings import StageConfigError, StageSettings
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_stack import functions_by_module, lambda_policies, stage_settings

MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
PUSH_ENV = {
    ENV[k] for k in ("push_queue_url", "push_public_key", "vapid_parameter", "vapid_subject")
}


@pytest.fixture(scope="module")
def on() -> tuple[StageSettings, Recorder]:
    settings = stage_settings("dev")
    assert settings.push
    recorder, _ = run(settings)
    return settings, recorder


@pytest.fixture(scope="module")
def off() -> tuple[StageSettings, Recorder]:
    settings = attrs.evolve(stage_settings("dev"), push=False)
    recorder, _ = run(settings)
    return settings, recorder


def variables(recorder: Recorder) -> dict[str, dict[str, Any]]:
    return {
        module: function.inputs["environment"]["variables"]
        for module, function in functions_by_module(recorder).items()
    }


def statements_on(recorder: Recorder, arn: str) -> dict[str, set[str]]:
    """Module -> the actions its role is granted on `arn`."""
    found: dict[str, set[str]] = {}
    for module, statements in lambda_policies(recorder).items():
        for statement in statements:
            resources = statement["Resource"]
            if arn in (resources if isinstance(resources, list) else [resources]):
                found.setdefault(module, set()).update(statement["Action"])
    return found


def test_the_push_queue_feeds_push_sender_and_dead_letters_alarm(
    on: tuple[StageSettings, Recorder],
) -> None:
    settings, recorder = on
    queue, dlq = recorder.named("push-jobs"), recorder.named("push-dead-letters")
    assert queue.inputs["name"] == resource_name(settings.stage, PUSH_QUEUE)
    assert dlq.inputs["name"] == resource_name(settings.stage, PUSH_DLQ)
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.inputs["arn"], "maxReceiveCount": MAX_RECEIVES}
    assert queue.inputs["sqsManagedSseEnabled"] is True
    sender = FUNCTION_BY_MODULE[PUSH_SENDER]
    assert queue.inputs["visibilityTimeoutSeconds"] >= 6 * sender.timeout_s
    (mapping,) = [
        m for m in recorder.of(MAPPING) if m.inputs["eventSourceArn"] == queue.inputs["arn"]
    ]
    assert (
        mapping.inputs["functionName"] == functions_by_module(recorder)[PUSH_SENDER].inputs["name"]
    )
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["batchSize"] == sender.batch_size
    assert mapping.inputs["scalingConfig"]["maximumConcurrency"] == sender.max_concurrency
    alarmed = {
        a.inputs.get("dimensions", {}).get("QueueName")
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert dlq.inputs["name"] in alarmed


def test_the_vapid_key_is_made_by_pulumi_into_a_secure_parameter(
    on: tuple[StageSettings, Recorder],
) -> None:
    settings, recorder = on
    (key,) = recorder.of("tls:index/privateKey:PrivateKey")
    assert (key.inputs["algorithm"], key.inputs["ecdsaCurve"]) == ("ECDSA", "P256")
    (parameter,) = recorder.of("aws:ssm/parameter:Parameter")
    assert parameter.inputs["name"] == vapid_parameter_name(settings.stage)
    assert parameter.inputs["type"] == "SecureString"
    assert "keyId" not in parameter.inputs  # aws/ssm: no CMK, so no kms:Decrypt grant needed


def test_only_push_sender_reads_the_key_and_only_the_fanout_sends_jobs(
    on: tuple[StageSettings, Recorder],
) -> None:
    settings, recorder = on
    parameter = recorder.named("push-vapid-parameter").inputs["arn"]
    queue = recorder.named("push-jobs").inputs["arn"]
    assert statements_on(recorder, parameter) == {PUSH_SENDER: {SSM_GET_PARAMETER}}
    assert statements_on(recorder, queue) == {
        FANOUT: {SQS_SEND},
        PUSH_SENDER: set(SQS_CONSUME),
    }
    env = variables(recorder)
    assert env[FANOUT][ENV["push_queue_url"]] == recorder.named("push-jobs").inputs["url"]
    assert env[PUSH_SENDER][ENV["vapid_parameter"]] == vapid_parameter_name(settings.stage)
    assert env[PUSH_SENDER][ENV["vapid_subject"]] == settings.vapid_subject
    assert ENV["push_public_key"] in env["http_api"]
    for module, names in env.items():
        expected = {
            FANOUT: {ENV["push_queue_url"]},
            PUSH_SENDER: {ENV["vapid_parameter"], ENV["vapid_subject"]},
            "http_api": {ENV["push_public_key"]},
        }.get(module, set())
        assert set(names) & PUSH_ENV == expected, module
        assert not any("PRIVATE" in v or "BEGIN" in str(v) for v in names.values()), module


def test_with_push_off_nothing_of_push_exists(off: tuple[StageSettings, Recorder]) -> None:
    _, recorder = off
    assert PUSH_SENDER not in functions_by_module(recorder)
    assert not recorder.of("tls:index/privateKey:PrivateKey")
    assert not recorder.of("aws:ssm/parameter:Parameter")
    queues = {q.inputs["name"] for q in recorder.of("aws:sqs/queue:Queue")}
    assert not any("push" in name for name in queues)
    for module, names in variables(recorder).items():
        assert not set(names) & PUSH_ENV, module
    for module, statements in lambda_policies(recorder).items():
        assert not any(s.get("Sid") in ("PushQueue", "VapidKey") for s in statements), module


def test_push_needs_a_contact_for_the_push_services() -> None:
    with pytest.raises(StageConfigError, match="vapidSubject"):
        attrs.evolve(stage_settings("dev"), vapid_subject=None)
    with pytest.raises(StageConfigError, match="vapidSubject"):
        attrs.evolve(stage_settings("dev"), vapid_subject="ops@example.com")
    assert attrs.evolve(stage_settings("dev"), push=False, vapid_subject=None).push is False
