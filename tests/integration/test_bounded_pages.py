"""History and sync pages of the biggest messages the budget lets in, through the real handlers.

A hundred messages each at the edge of the per-message budget (4,000 emoji of text, ten
attachments, twenty reactions from many users), stored in DynamoDB Local; the HTTP handler's
reply must stay under Lambda's 6 MB response as its runtime serialises it (ASCII escapes), and
the WebSocket sync reply under one 128 KB message. Following the cursor visits every message.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import attrs
import pytest

from dynamotalk import quotas
from dynamotalk.domain import budget
from dynamotalk.domain.ids import encode_ulid
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import Attachment, Message
from dynamotalk.tables.codecs import dump
from dynamotalk.tables.items import message_item
from dynamotalk.tables.keys import reaction_attribute
from tests.support.lambda_stack import Stack, load

LIMITS = Limits()
BIG_EMOJI = [
    "👨🏻\u200d❤\ufe0f\u200d💋\u200d👨🏼",
    "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
]


def biggest(room_id: str, author_id: str, n: int) -> Message:
    message_id = encode_ulid(((1_732_467_600_000 + n) << 80) | n)
    files = tuple(
        Attachment(
            f"rooms/{room_id}/{author_id}/{message_id}/{'n' * 100}", "n" * 100, "image/png", 1
        )
        for _ in range(LIMITS.max_attachments)
    )
    message = Message(
        message_id=message_id,
        room_id=room_id,
        author_id=author_id,
        text="😀" * LIMITS.max_text,
        created_at=1_732_467_600_000 + n,
        client_id=uuid.uuid4().hex,
        attachments=files,
    )
    budget.check_message(message, LIMITS)  # the service would have let it in
    reactors = frozenset(str(uuid.uuid4()) for _ in range(5))
    kinds = [chr(0x1F600 + k) for k in range(LIMITS.max_reaction_kinds - 2)] + BIG_EMOJI
    return attrs.evolve(message, reactions={e: reactors for e in kinds})


@pytest.fixture(scope="module")
def crowded(lambda_stack: Stack) -> tuple[Stack, dict[str, Any], str, list[Message]]:
    stack = lambda_stack
    alice = stack.user("pages")
    status, created = stack.http(alice, "POST /rooms", body={"name": "Big", "kind": "public"})
    assert status == 201
    room_id = created["room"]["roomId"]
    store = stack.modules["http_api"].SERVICE.messages
    messages = [biggest(room_id, alice["id"], n) for n in range(100)]
    for message in messages:
        item = message_item(message) | {
            reaction_attribute(e): set(u) for e, u in message.reactions.items()
        }
        store.client.put_item(TableName=store.table_name, Item=dump(item))
    return stack, alice, room_id, messages


def history_reply(stack: Stack, user: dict[str, Any], room_id: str, cursor: str | None) -> Any:
    event = load("http_api_v2")
    route = "GET /rooms/{roomId}/messages"
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    event["requestContext"]["http"]["method"] = "GET"
    event["pathParameters"] = {"roomId": room_id}
    event["queryStringParameters"] = {"limit": "100", **({"cursor": cursor} if cursor else {})}
    event["body"] = None
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims.update(sub=user["id"], **{"cognito:username": user["context"]["username"]})
    return stack.modules["http_api"].handler(event, None)


def test_history_pages_stay_under_lambdas_response_limit(
    crowded: tuple[Stack, dict[str, Any], str, list[Message]],
) -> None:
    stack, alice, room_id, messages = crowded
    seen: list[str] = []
    pages: list[int] = []
    cursor = None
    while True:
        reply = history_reply(stack, alice, room_id, cursor)
        assert reply["statusCode"] == 200, reply["body"][:200]
        # What Lambda's runtime does with the handler's result: json.dumps, ASCII escapes.
        assert len(json.dumps(reply).encode()) <= quotas.LAMBDA_SYNC_RESPONSE_BYTES
        page = json.loads(reply["body"])
        assert 1 <= len(page["messages"]) <= 100
        pages.append(len(page["messages"]))
        seen += [m["id"] for m in page["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "no message twice"
    assert seen == [m.message_id for m in reversed(messages)]
    # 100 of these would pass the page budget (3x of it must fit 6 MB): the first page stopped.
    assert pages[0] < 100


def test_sync_replies_fit_one_websocket_message(
    crowded: tuple[Stack, dict[str, Any], str, list[Message]],
) -> None:
    stack, alice, room_id, messages = crowded
    connection = stack.connect(alice)
    seen: list[str] = []
    after = None
    while True:
        event = stack.ws_event("ws_message", alice, connection)
        frame = {
            "action": "sync",
            "roomId": room_id,
            "limit": 100,
            **({"afterId": after} if after else {}),
        }
        event["body"] = json.dumps(frame)
        event["requestContext"]["routeKey"] = "sync"
        reply = stack.modules["ws_default"].handler(event, None)
        assert len(reply["body"].encode()) <= quotas.WS_MESSAGE_BYTES
        ack = json.loads(reply["body"])
        assert ack["type"] == "ack", ack
        assert ack["messages"]
        seen += [m["id"] for m in ack["messages"]]
        if not ack["hasMore"]:
            break
        after = seen[-1]
    assert seen == [m.message_id for m in messages]
    stack.disconnect(alice, connection)
