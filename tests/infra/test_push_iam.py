"""Web Push's grants (permissions_push.py), judged under IAM's rules by the local stack's
evaluator on the local stage's documents (the cloud's: test_policies.py, test_push.py):
push_sender may read its one parameter and consume its queue, the fan-out may only send to it,
and nobody else may touch either."""

from __future__ import annotations

import pytest

from dynamotalk.iam_actions import SQS_CONSUME, SSM_GET_PARAMETER
from dynamotalk.local import iam
from dynamotalk.permissions import PERMISSIONS
from dynamotalk.routes import resource_name as named
from dynamotalk.routes import vapid_parameter_name
from dynamotalk.tables import GSI1
from dynamotalk.workers import FANOUT, PUSH_QUEUE, PUSH_SENDER
from tests.infra.test_delivery_iam import decisions, stage
from tests.integration.test_local_iam import POST, REGION, STAGE, Call, batch, get, op, query

ACCOUNT = iam.LOCAL_ACCOUNT
PUSH_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{named(STAGE, PUSH_QUEUE)}"
SEND_PUSH_JOBS = ("sqs", "SendMessageBatch", {"QueueUrl": PUSH_URL, "Entries": []})
RECEIVE_PUSH_JOB = ("sqs", "ReceiveMessage", {"QueueUrl": PUSH_URL})
DELETE_PUSH_JOB = ("sqs", "DeleteMessage", {"QueueUrl": PUSH_URL, "ReceiptHandle": "r"})
READ_KEY = ("ssm", "GetParameter", {"Name": vapid_parameter_name(STAGE), "WithDecryption": True})
READ_OTHER = ("ssm", "GetParameter", {"Name": "/another-app/secret", "WithDecryption": True})
WRITE_KEY = ("ssm", "PutParameter", {"Name": vapid_parameter_name(STAGE), "Value": "x"})

PUSH_ALLOWED: dict[str, list[Call]] = {
    PUSH_SENDER: [
        get("ROOM#r"),  # message, parent, room, author, membership, block, mute
        query(),  # the recipient's subscriptions (USER#u / PUSH#)
        query(GSI1.name),  # the recipient's live connections (USERCONN#u)
        op("UpdateItem"),  # a success recorded
        op("DeleteItem"),  # a gone subscription
        RECEIVE_PUSH_JOB,  # the queue's mapping, with this role
        DELETE_PUSH_JOB,
        READ_KEY,
    ],
}
PUSH_DENIED: dict[str, list[Call]] = {
    PUSH_SENDER: [
        op("PutItem"),  # it creates nothing
        batch("BatchWriteItem"),
        POST,  # never posts to sockets: pushes go to push services over plain HTTPS
        SEND_PUSH_JOBS,
        READ_OTHER,
        WRITE_KEY,
    ],
}


@pytest.fixture(scope="module")
def policies() -> iam.StagePolicies:
    return stage(None)


@pytest.mark.parametrize(
    ("module", "call"), [(m, c) for m, calls in PUSH_ALLOWED.items() for c in calls]
)
def test_push_sender_may_make_its_calls(
    policies: iam.StagePolicies, module: str, call: Call
) -> None:
    assert decisions(policies, module, call) == {"allow"}


@pytest.mark.parametrize(
    ("module", "call"), [(m, c) for m, calls in PUSH_DENIED.items() for c in calls]
)
def test_push_sender_may_not_make_other_calls(
    policies: iam.StagePolicies, module: str, call: Call
) -> None:
    assert "implicit_deny" in decisions(policies, module, call)


def test_only_the_fanout_queues_push_jobs_and_only_push_sender_reads_the_key(
    policies: iam.StagePolicies,
) -> None:
    assert decisions(policies, FANOUT, SEND_PUSH_JOBS) == {"allow"}
    assert "implicit_deny" in decisions(policies, FANOUT, RECEIVE_PUSH_JOB)
    for module in sorted(set(PERMISSIONS) - {PUSH_SENDER}):
        assert "implicit_deny" in decisions(policies, module, READ_KEY), module
        if module != FANOUT:
            assert "implicit_deny" in decisions(policies, module, SEND_PUSH_JOBS), module


def test_the_push_grants_name_no_wildcard() -> None:
    assert PERMISSIONS[PUSH_SENDER].actions >= {SSM_GET_PARAMETER, *SQS_CONSUME}
    document = stage(None).documents[PUSH_SENDER]
    for statement in document["Statement"]:
        actions = statement["Action"]
        assert all("*" not in action for action in actions), statement
        if statement["Sid"] in ("PushQueue", "VapidKey"):
            assert all("*" not in r for r in statement["Resource"]), statement
