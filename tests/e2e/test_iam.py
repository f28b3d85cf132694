"""IAM enforced on the real path: the Lambda handlers on DynamoDB Local, moto's Cognito and S3 and
the real management API client, each invocation running as its function (as the gateway runs
them), with the documents the Pulumi program deploys. The full documents let a whole chat
through without one denial; taking out one permission makes the call that needs it fail with
AccessDenied, as it would in the cloud."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import httpx
import pytest

from dynamotalk.local import iam
from dynamotalk.local.invocation import current_function
from dynamotalk.local.provision import REGION
from tests.support.lambda_stack import Stack


class AsFunction:
    """A handler module invoked the way the gateway invokes it: as its own function."""

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name, self.module = name, module

    def handler(self, event: dict[str, Any], context: object) -> Any:
        token = current_function.set(self.name)
        try:
            return self.module.handler(event, context)
        finally:
            current_function.reset(token)


@pytest.fixture
def stack(lambda_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    for name, module in list(lambda_stack.modules.items()):
        monkeypatch.setitem(lambda_stack.modules, name, AsFunction(name, module))
    return lambda_stack


@pytest.fixture
def policies(stack: Stack) -> iam.StagePolicies:
    r = stack.resources
    return iam.stage_policies(r.stage, REGION, r.table_name, r.bucket_name)


@pytest.fixture(autouse=True)
def no_denials_yet() -> None:
    iam.denials.clear()


def new_denials() -> list[tuple[str, str]]:
    return [(d.function, d.action) for d in iam.denials]


def upload_request(room_id: str, size: int) -> dict[str, Any]:
    return {
        "purpose": "attachment",
        "roomId": room_id,
        "filename": "cat.png",
        "contentType": "image/png",
        "size": size,
    }


def test_a_whole_chat_runs_under_the_deployed_policies_without_one_denial(
    stack: Stack, policies: iam.StagePolicies
) -> None:
    with iam.enforcing(policies):
        alice, bob = stack.user("alice"), stack.user("bob")  # authorizer + post confirmation
        status, created = stack.http(alice, "POST /rooms", body={"name": "Iam", "kind": "public"})
        assert status == 201
        room_id = created["room"]["roomId"]
        assert stack.http(bob, "POST /rooms/{roomId}/join", {"roomId": room_id})[0] == 200
        c_alice = stack.connect(alice)
        ack = stack.send(alice, c_alice, {"action": "subscribe", "roomIds": [room_id]})
        assert ack["type"] == "ack", ack
        content = b"\x89PNG\r\n\x1a\n" + b"pixels" * 50
        upload = upload_request(room_id, len(content))
        status, reply = stack.http(alice, "POST /uploads", body=upload)
        assert status == 201, reply
        form = reply["upload"]
        uploaded = httpx.post(
            form["url"], data=form["fields"], files={"file": ("cat.png", content, "image/png")}
        )
        assert uploaded.status_code in (200, 201, 204)
        attachment = {
            "key": form["key"],
            "name": "cat.png",
            "contentType": "image/png",
            "size": len(content),
        }
        frame = {
            "action": "sendMessage",
            "roomId": room_id,
            "text": "hello under IAM",
            "clientId": "iam-1",
            "attachments": [attachment],
        }
        ack = stack.send(alice, c_alice, frame)  # transactional Put, HeadObject, one-target fan-out
        assert ack["type"] == "ack", ack
        assert stack.events_for(c_alice)  # the management API call went through
        status, page = stack.http(bob, "GET /rooms/{roomId}/messages", {"roomId": room_id})
        assert status == 200
        assert [m["text"] for m in page["messages"]] == ["hello under IAM"]
        status, link = stack.http(bob, "GET /attachments", query={"key": form["key"]})
        assert status == 200
        assert httpx.get(link["url"]).content == content
        assert stack.http(bob, "GET /rooms")[0] == 200  # GSI1 + BatchGetItem
        assert stack.http(bob, "POST /rooms/{roomId}/leave", {"roomId": room_id})[0] == 200
        stack.disconnect(alice, c_alice)
    assert new_denials() == []


def test_ws_default_without_put_item_cannot_post_a_message(
    stack: Stack, policies: iam.StagePolicies
) -> None:
    alice = stack.user("alice")
    room_id = stack.http(alice, "POST /rooms", body={"name": "NoPut"})[1]["room"]["roomId"]
    connection = stack.connect(alice)
    frame = {"action": "sendMessage", "roomId": room_id, "text": "lost?", "clientId": "np-1"}
    with iam.enforcing(policies.without("ws_default", "dynamodb:PutItem")):
        refused = stack.send(alice, connection, {**frame, "requestId": "r-1"})
        # Everything else ws_default does still works.
        typing = stack.send(alice, connection, {"action": "typing", "roomId": room_id})
    assert refused["type"] == "error", refused
    assert refused["error"]["code"] == "internal"
    assert typing["type"] == "ack", typing
    assert new_denials() == [("ws_default", "dynamodb:PutItem")]
    denial = iam.denials[0]
    assert denial.code == "AccessDeniedException"
    assert denial.resource.endswith(f":table/{stack.resources.table_name}")
    assert "is not authorized to perform: dynamodb:PutItem" in denial.message
    # Nothing was stored; with the full policy the same frame goes through.
    history = stack.http(alice, "GET /rooms/{roomId}/messages", {"roomId": room_id})[1]
    assert history["messages"] == []
    with iam.enforcing(policies):
        assert stack.send(alice, connection, frame)["type"] == "ack"
    assert new_denials() == [("ws_default", "dynamodb:PutItem")]


def test_http_api_without_put_object_cannot_hand_out_upload_forms(
    stack: Stack, policies: iam.StagePolicies
) -> None:
    alice = stack.user("alice")
    room_id = stack.http(alice, "POST /rooms", body={"name": "NoUpload"})[1]["room"]["roomId"]
    with iam.enforcing(policies.without("http_api", "s3:PutObject")):
        status, reply = stack.http(alice, "POST /uploads", body=upload_request(room_id, 10))
        assert stack.http(alice, "GET /rooms/{roomId}", {"roomId": room_id})[0] == 200
    assert (status, reply["error"]["code"]) == (500, "internal")
    assert new_denials() == [("http_api", "s3:PutObject")]
    with iam.enforcing(policies):
        status, reply = stack.http(alice, "POST /uploads", body=upload_request(room_id, 10))
    assert status == 201, reply


def test_ws_default_without_manage_connections_cannot_reach_the_room(
    stack: Stack, policies: iam.StagePolicies
) -> None:
    alice, bob = stack.user("alice"), stack.user("bob")
    created = stack.http(alice, "POST /rooms", body={"name": "NoPost", "kind": "public"})[1]
    room_id = created["room"]["roomId"]
    assert stack.http(bob, "POST /rooms/{roomId}/join", {"roomId": room_id})[0] == 200
    c_alice, c_bob = stack.connect(alice), stack.connect(bob)
    stack.send(bob, c_bob, {"action": "subscribe", "roomIds": [room_id]})
    typing = {"action": "typing", "roomId": room_id}
    before = len(stack.events_for(c_bob))
    with iam.enforcing(policies.without("ws_default", "execute-api:ManageConnections")):
        ack = stack.send(alice, c_alice, typing)
    assert ack["type"] == "ack"  # a failed delivery never fails the sender
    assert set(new_denials()) == {("ws_default", "execute-api:ManageConnections")}
    assert len(stack.events_for(c_bob)) == before  # bob never heard of it
    with iam.enforcing(policies):
        assert stack.send(alice, c_alice, typing)["type"] == "ack"
    assert len(stack.events_for(c_bob)) == before + 1
