"""Erase my account under Pulumi's mocks (infra/erasure.py) and the local IAM evaluator
(erasure_permissions.py): the erasure queue feeds account_erasure with partial batch
responses, its dead letters alarm; only http_api and account_erasure may send jobs, only
account_erasure consumes them, deletes sign-ins (on the stage's pool only) and avatars (on
avatars/ only); no wildcard action anywhere."""

from __future__ import annotations

import json

import pytest

from dynamotalk.erasure_permissions import ADMIN_DELETE_USER, S3_DELETE
from dynamotalk.iam_actions import SQS_CONSUME, SQS_SEND
from dynamotalk.local import iam
from dynamotalk.routes import FUNCTION_BY_MODULE, resource_name
from dynamotalk.settings import ENV
from dynamotalk.tables import GSI1
from dynamotalk.workers import ACCOUNT_ERASURE, ERASURE_DLQ, ERASURE_QUEUE
from dynamotalk.workers import ERASURE_MAX_RECEIVES as MAX_RECEIVES
from infra.settings import StageSettings
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_delivery_iam import decisions
from tests.infra.test_push import MAPPING, statements_on, variables
from tests.infra.test_stack import functions_by_module, lambda_policies, stage_settings
from tests.integration.test_local_iam import (
    BUCKET,
    POST,
    REGION,
    STAGE,
    TABLE,
    Call,
    batch,
    get,
    op,
    query,
)

POOL = "us-east-1_LOCALPOOL"


@pytest.fixture(scope="module")
def deployed() -> tuple[StageSettings, Recorder]:
    settings = stage_settings("dev")
    recorder, _ = run(settings)
    return settings, recorder


def test_the_queue_feeds_account_erasure_and_dead_letters_alarm(
    deployed: tuple[StageSettings, Recorder],
) -> None:
    settings, recorder = deployed
    queue, dlq = recorder.named("erasure-jobs"), recorder.named("erasure-dead-letters")
    assert queue.inputs["name"] == resource_name(settings.stage, ERASURE_QUEUE)
    assert dlq.inputs["name"] == resource_name(settings.stage, ERASURE_DLQ)
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.inputs["arn"], "maxReceiveCount": MAX_RECEIVES}
    worker = FUNCTION_BY_MODULE[ACCOUNT_ERASURE]
    assert queue.inputs["visibilityTimeoutSeconds"] >= 6 * worker.timeout_s
    (mapping,) = [
        m for m in recorder.of(MAPPING) if m.inputs["eventSourceArn"] == queue.inputs["arn"]
    ]
    function = functions_by_module(recorder)[ACCOUNT_ERASURE]
    assert mapping.inputs["functionName"] == function.inputs["name"]
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["batchSize"] == worker.batch_size
    alarmed = {
        a.inputs.get("dimensions", {}).get("QueueName")
        for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert dlq.inputs["name"] in alarmed


def test_least_privilege_on_the_queue_the_pool_and_avatars(
    deployed: tuple[StageSettings, Recorder],
) -> None:
    settings, recorder = deployed
    queue = recorder.named("erasure-jobs")
    assert statements_on(recorder, queue.inputs["arn"]) == {
        "http_api": {SQS_SEND},
        ACCOUNT_ERASURE: {SQS_SEND, *SQS_CONSUME},
    }
    (pool,) = recorder.of("aws:cognito/userPool:UserPool")
    assert statements_on(recorder, pool.inputs["arn"]) == {ACCOUNT_ERASURE: {ADMIN_DELETE_USER}}
    policies = lambda_policies(recorder)
    granted = {
        module: {a for s in statements for a in s["Action"]}
        for module, statements in policies.items()
    }
    assert [m for m, actions in granted.items() if S3_DELETE in actions] == [ACCOUNT_ERASURE]
    (avatars,) = [s["Resource"] for s in policies[ACCOUNT_ERASURE] if S3_DELETE in s["Action"]]
    assert len(avatars) == 1
    assert avatars[0].endswith("/avatars/*")
    for module, actions in granted.items():
        assert not any("*" in a for a in actions), module
    env = variables(recorder)
    for module, names in env.items():
        sends = module in ("http_api", ACCOUNT_ERASURE)
        assert (ENV["erasure_queue_url"] in names) == sends, module
    assert env[ACCOUNT_ERASURE][ENV["erase_policy"]] == settings.erase_policy


CALLS = f"https://sqs.{REGION}.amazonaws.com/{iam.LOCAL_ACCOUNT}/"
SEND: Call = ("sqs", "SendMessage", {"QueueUrl": CALLS + resource_name(STAGE, ERASURE_QUEUE)})
RECEIVE: Call = ("sqs", "ReceiveMessage", {"QueueUrl": CALLS + resource_name(STAGE, ERASURE_QUEUE)})
DELETE_USER: Call = ("cognito-idp", "AdminDeleteUser", {"UserPoolId": POOL, "Username": "x"})
OTHER_POOL: Call = (
    "cognito-idp",
    "AdminDeleteUser",
    {"UserPoolId": "us-east-1_other", "Username": "x"},
)
DISABLE: Call = ("cognito-idp", "AdminDisableUser", {"UserPoolId": POOL, "Username": "x"})
AVATAR: Call = ("s3", "DeleteObject", {"Bucket": BUCKET, "Key": "avatars/u/me.png"})
ROOM_FILE: Call = ("s3", "DeleteObject", {"Bucket": BUCKET, "Key": "rooms/r/f.png"})


ERASURE_ALLOWED: dict[str, list[Call]] = {
    ACCOUNT_ERASURE: [
        get("USER#u"),  # the job, the profile, rooms, messages
        query(),  # the user's partition, a room's messages (keys and author)
        query(GSI1.name),  # the user's rooms and live connections
        op("PutItem"),  # the job's progress
        op("UpdateItem"),  # a message's author anonymised
        op("DeleteItem"),  # the username claim
        batch("BatchWriteItem"),  # the partition, 25 items a request
        POST,  # a leave told to the user's own sockets
        SEND,  # the job re-queued to continue
        RECEIVE,
        DELETE_USER,
        AVATAR,
    ],
}
ERASURE_DENIED: dict[str, list[Call]] = {ACCOUNT_ERASURE: [OTHER_POOL, DISABLE, ROOM_FILE]}


@pytest.fixture(scope="module")
def local() -> iam.StagePolicies:
    return iam.stage_policies(STAGE, REGION, TABLE, BUCKET, bot_model_id="m", user_pool_id=POOL)


@pytest.mark.parametrize("call", [SEND, RECEIVE, DELETE_USER, AVATAR])
def test_account_erasure_may_make_its_calls(local: iam.StagePolicies, call: Call) -> None:
    assert decisions(local, ACCOUNT_ERASURE, call) == {"allow"}


@pytest.mark.parametrize("call", [OTHER_POOL, DISABLE, ROOM_FILE])
def test_account_erasure_may_not_make_other_calls(local: iam.StagePolicies, call: Call) -> None:
    assert "implicit_deny" in decisions(local, ACCOUNT_ERASURE, call)


def test_only_http_api_sends_and_nobody_else_deletes_users(local: iam.StagePolicies) -> None:
    assert decisions(local, "http_api", SEND) == {"allow"}
    assert "implicit_deny" in decisions(local, "http_api", RECEIVE)
    for module in local.documents:
        if module != ACCOUNT_ERASURE:
            assert "implicit_deny" in decisions(local, module, DELETE_USER), module
            assert "implicit_deny" in decisions(local, module, AVATAR), module
