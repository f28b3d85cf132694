"""The bot_worker Lambda on an SQS event, with DynamoDB Local and Bedrock's Converse API on a
loopback server: a job is answered once, a malformed record is dropped, a model failure is an
apology (not a retry)."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.domain.bot import APOLOGY, BOT
from tests.integration.test_bedrock import Converse
from tests.support.lambda_stack import Stack


@pytest.fixture(scope="module")
def converse() -> Iterator[Converse]:
    server = Converse()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def worker(lambda_stack: Stack, converse: Converse) -> Any:
    os.environ["DYNAMOTALK_BOT_MODEL_ID"] = "anthropic.claude-3-haiku-20240307-v1:0"
    os.environ["DYNAMOTALK_BEDROCK_ENDPOINT"] = converse.endpoint
    from dynamotalk import bootstrap

    bootstrap.settings.cache_clear()
    bootstrap.bot_worker.cache_clear()
    module = importlib.import_module("lambdas.bot_worker")
    module = importlib.reload(module)
    yield module
    for name in ("DYNAMOTALK_BOT_MODEL_ID", "DYNAMOTALK_BEDROCK_ENDPOINT"):
        os.environ.pop(name, None)


def test_the_cloud_worker_takes_its_breaker_from_the_stage_settings(
    worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynamotalk import bootstrap

    monkeypatch.setenv("DYNAMOTALK_BOT_BREAKER_THRESHOLD", "7")
    monkeypatch.setenv("DYNAMOTALK_BOT_BREAKER_COOLDOWN_S", "42")
    bootstrap.settings.cache_clear()
    bootstrap.bot_worker.cache_clear()
    try:
        built = bootstrap.bot_worker()
        assert (built.breaker.threshold, built.breaker.cooldown_s) == (7, 42.0)
    finally:
        monkeypatch.undo()
        bootstrap.settings.cache_clear()
        bootstrap.bot_worker.cache_clear()


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": "r",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dynamotalk-dev-bot-jobs",
            }
            for n, body in enumerate(bodies)
        ]
    }


def test_jobs_are_answered_once_and_junk_is_dropped(
    lambda_stack: Stack, worker: Any, converse: Converse
) -> None:
    alice = lambda_stack.user("botjob")
    _, created = lambda_stack.http(alice, "POST /rooms", body={"name": "bot job room"})
    room_id = created["room"]["roomId"]
    lambda_stack.modules["http_api"].SERVICE.ensure_user(BOT)
    lambda_stack.http(
        alice, "POST /rooms/{roomId}/members", {"roomId": room_id}, body={"userId": BOT.user_id}
    )
    connection = lambda_stack.connect(alice)
    asked = lambda_stack.send(
        alice,
        connection,
        {"action": "sendMessage", "roomId": room_id, "text": "@bot hello?", "clientId": "a1"},
    )
    job = json.dumps({"roomId": room_id, "messageId": asked["message"]["id"]})
    converse.answer("Hello from Bedrock")
    reply = worker.handler(sqs_event(job, "not json", json.dumps({"roomId": 5})), None)
    assert reply == {"batchItemFailures": []}
    again = worker.handler(sqs_event(job), None)  # SQS delivers at least once
    assert again == {"batchItemFailures": []}
    _, page = lambda_stack.http(alice, "GET /rooms/{roomId}/messages", {"roomId": room_id})
    bot_messages = [m for m in page["messages"] if m["authorId"] == BOT.user_id]
    assert [m["text"] for m in bot_messages] == ["Hello from Bedrock"]
    sent = converse.requests[-1][1]
    assert json.loads(sent["messages"][-1]["content"][-1]["text"])["text"] == "@bot hello?"

    converse.reply = (429, {"x-amzn-ErrorType": "ThrottlingException"}, b'{"message": "slow down"}')
    second = lambda_stack.send(
        alice,
        connection,
        {"action": "sendMessage", "roomId": room_id, "text": "@bot again?", "clientId": "a2"},
    )
    failed = worker.handler(
        sqs_event(json.dumps({"roomId": room_id, "messageId": second["message"]["id"]})), None
    )
    assert failed == {"batchItemFailures": []}
    _, page = lambda_stack.http(
        alice, "GET /rooms/{roomId}/messages", {"roomId": room_id}, {"limit": "1"}
    )
    assert page["messages"][0]["text"] == APOLOGY
