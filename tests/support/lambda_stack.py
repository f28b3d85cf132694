"""The Lambda handlers wired to the loopback emulators, driven with real-shaped events.

Session-wide: the handlers build their adapters once per process, as in a Lambda container.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.exceptions import ClientError

from dynamotalk.edge.records import is_change
from dynamotalk.local.provision import client, provision
from dynamotalk.local.stream import DynamoSource
from tests.support.cognito import sign_up, unique
from tests.support.management_api import ManagementApi

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(data)


class Stack:
    """The handlers wired to the emulators, plus helpers that build their events."""

    def __init__(self, resources: Any, api: ManagementApi, modules: dict[str, ModuleType]) -> None:
        self.resources = resources
        self.api = api
        self.modules = modules
        endpoint = resources.dynamodb_endpoint
        self.stream = DynamoSource(
            client("dynamodb", endpoint), client("dynamodbstreams", endpoint), resources.table_name
        )
        self.stream.start()
        self.cognito = client("cognito-idp", resources.aws_endpoint)
        self.connections = 0

    def fan_out(self) -> int:
        """Hand every change the table's stream holds so far to lambdas/fanout.py, as the
        event source mapping does (the sender's handler never posts room changes itself)."""
        handed = 0
        while records := [r for r in self._read() if is_change(r)]:
            reply = self.modules["fanout"].handler({"Records": records}, None)
            assert reply == {"batchItemFailures": []}
            handed += len(records)
        return handed

    def _read(self) -> list[dict[str, Any]]:
        """The stream's new records. A shard iterator unused for 15 minutes expires (DynamoDB
        Streams' GetShardIterator), and this stack lives the whole session: a reader then
        resumes each shard after its last record, as the local stack's does."""
        try:
            return self.stream.read()
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExpiredIteratorException":
                raise
            self.stream.recover()
            return self.stream.read()

    def user(self, prefix: str = "user") -> dict[str, Any]:
        name = unique(prefix)
        tokens = sign_up(
            self.cognito, self.resources.user_pool_client_id, self.resources.user_pool_id, name
        )
        context = self.authorize(tokens["IdToken"])["context"]
        # Cognito runs the post confirmation trigger in the cloud; moto does not, so we do.
        trigger = load("cognito_post_confirmation")
        trigger["userName"] = name
        trigger["request"]["userAttributes"]["sub"] = context["userId"]
        self.modules["cognito_post_confirmation"].handler(trigger, None)
        return {"name": name, "tokens": tokens, "context": context, "id": context["userId"]}

    def authorize(self, token: str | None, via_protocol: bool = False) -> dict[str, Any]:
        event = load("ws_authorizer_request")
        if via_protocol:
            event["queryStringParameters"] = {}
            event["headers"]["Sec-WebSocket-Protocol"] = f"dynamotalk, {token}"
        elif token is None:
            event["queryStringParameters"] = {}
        else:
            event["queryStringParameters"]["token"] = token
        result: dict[str, Any] = self.modules["ws_authorizer"].handler(event, None)
        return result

    def ws_event(self, name: str, user: dict[str, Any], connection_id: str) -> dict[str, Any]:
        event = load(name)
        event["requestContext"]["connectionId"] = connection_id
        event["requestContext"]["authorizer"].update(
            principalId=user["id"], userId=user["id"], username=user["context"]["username"]
        )
        return event

    def connect(self, user: dict[str, Any]) -> str:
        self.connections += 1
        connection_id = f"conn-{self.connections}-{user['name']}"
        reply = self.modules["ws_connect"].handler(
            self.ws_event("ws_connect", user, connection_id), None
        )
        assert reply["statusCode"] == 200
        return connection_id

    def send(self, user: dict[str, Any], connection_id: str, frame: Any) -> dict[str, Any]:
        event = self.ws_event("ws_message", user, connection_id)
        event["body"] = frame if isinstance(frame, str) else json.dumps(frame)
        if isinstance(frame, dict):
            event["requestContext"]["routeKey"] = frame.get("action", "$default")
        reply = self.modules["ws_default"].handler(event, None)
        assert reply["statusCode"] == 200
        body: dict[str, Any] = json.loads(reply["body"])
        return body

    def disconnect(self, user: dict[str, Any], connection_id: str) -> None:
        event = self.ws_event("ws_disconnect", user, connection_id)
        assert self.modules["ws_disconnect"].handler(event, None)["statusCode"] == 200

    def http(
        self,
        user: dict[str, Any] | None,
        route: str,
        path: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        event = load("http_api_v2")
        method, _template = route.split(" ", 1)
        event["routeKey"] = event["requestContext"]["routeKey"] = route
        event["requestContext"]["http"]["method"] = method
        event["pathParameters"] = path or {}
        event["queryStringParameters"] = query
        event["body"] = body if body is None or isinstance(body, str) else json.dumps(body)
        if user is None:
            del event["requestContext"]["authorizer"]
        else:
            claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
            claims.update(sub=user["id"], **{"cognito:username": user["context"]["username"]})
        reply = self.modules["http_api"].handler(event, None)
        assert reply["headers"]["content-type"] == "application/json"
        return reply["statusCode"], json.loads(reply["body"])

    def events_for(self, connection_id: str) -> list[dict[str, Any]]:
        self.fan_out()
        return [json.loads(body) for body in self.api.received.get(connection_id, [])]


class QueuedJobs:
    """Stands in for the export and erasure queues: keeps each job sent."""

    def __init__(self) -> None:
        self.exports: list[tuple[str, str]] = []
        self.erasures: list[str] = []

    def enqueue(self, user_id: str, export_id: str | None = None) -> None:
        if export_id is None:
            self.erasures.append(user_id)
        else:
            self.exports.append((user_id, export_id))


def start(dynamodb_local: str, moto_server: str) -> Iterator[Stack]:
    resources = provision(unique("handlers-"), dynamodb_local, moto_server)
    api = ManagementApi.start()
    saved = dict(os.environ)
    os.environ.update(resources.environment(api.endpoint, auto_confirm=True))
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "dynamotalk-test"  # JSON logs, as in Lambda
    from dynamotalk import bootstrap
    from dynamotalk.logging import configure

    configure(json_logs=True, again=True)  # whatever configured this process's logs before

    for cached in (
        bootstrap.settings,
        bootstrap.service,
        bootstrap.identity,
        bootstrap._session,
        bootstrap._management,
        bootstrap.delivery,
    ):
        cached.cache_clear()
    # Issue 18's job queues: the harness keeps what the handlers queue (the local stack's
    # in-process queues run the workers; these tests drive the request handlers only).
    from dynamotalk import erasure_root, export_root

    queued = QueuedJobs()
    export_root.use_local_queue(queued)
    erasure_root.use_local_erasure_jobs(queued)
    modules = {}
    for name in ("ws_authorizer", "ws_connect", "ws_disconnect", "ws_default", "http_api"):
        modules[name] = importlib.reload(importlib.import_module(f"lambdas.{name}"))
    for name in ("cognito_pre_signup", "cognito_post_confirmation", "fanout"):
        modules[name] = importlib.reload(importlib.import_module(f"lambdas.{name}"))
    yield Stack(resources, api, modules)
    export_root._LOCAL_QUEUE.clear()
    erasure_root._LOCAL_JOBS.clear()
    api.stop()
    os.environ.clear()
    os.environ.update(saved)
