"""R1 bad input: generated WebSocket frames and HTTP requests through the real ws_default and
http_api handlers on DynamoDB Local. No unhandled exception, no 5xx, every refusal carries a
documented code, and the stored data still passes the integrity checks afterwards.

`make test` runs a seeded fast variant; `make fuzz` (FUZZ_FULL=1) runs 10,000 of each.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamotalk.routes import HTTP_ROUTES, WS_ACTIONS
from tests.support.lambda_stack import Stack

FULL = os.environ.get("FUZZ_FULL") == "1"
EXAMPLES = 10_000 if FULL else 300
# 10,000 requests through the handlers on DynamoDB Local take minutes, more than the suite's
# default per-test timeout allows on a busy machine.
pytestmark = pytest.mark.timeout(3600 if FULL else 300)
DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()
DOCUMENTED = set(re.findall(r"\| `([a-z_]+)` \| \d{3} \|", DOC)) - {"internal"}
COUNTS: Counter[str] = Counter()
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FULL,
    database=None,
    suppress_health_check=list(HealthCheck),
)

edge_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\u200b",
            "\ufeff",
            "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594",
            "a" * 5000,
            "👍🏽",
            "\ud7ff",
            "'; DROP TABLE x;--",
            "../../etc/passwd",
            "%00",
            "{}",
            "null",
        ]
    ),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So", "Mn"]), max_size=20),
)
json_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | edge_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(edge_text, inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def world(lambda_stack: Stack) -> dict[str, Any]:
    owner = lambda_stack.user("fuzzowner")
    member = lambda_stack.user("fuzzmember")
    _, created = lambda_stack.http(
        owner, "POST /rooms", body={"name": "fuzz room", "kind": "public"}
    )
    room_id = created["room"]["roomId"]
    lambda_stack.http(member, "POST /rooms/{roomId}/join", {"roomId": room_id})
    _, private = lambda_stack.http(
        owner, "POST /rooms", body={"name": "fuzz private", "kind": "private"}
    )
    connection = lambda_stack.connect(member)
    ack = lambda_stack.send(
        member,
        connection,
        {"action": "sendMessage", "roomId": room_id, "text": "seed", "clientId": "seed"},
    )
    owner_connection = lambda_stack.connect(owner)
    reply = lambda_stack.send(
        owner,
        owner_connection,
        {"action": "sendMessage", "roomId": room_id, "text": "reported", "clientId": "seed2",
         "parentId": ack["message"]["id"], "quote": {"messageId": ack["message"]["id"]}},
    )  # fmt: skip
    _, report = lambda_stack.http(
        member,
        "POST /rooms/{roomId}/messages/{messageId}/report",
        {"roomId": room_id, "messageId": reply["message"]["id"]},
        None,
        json.dumps({"reason": "spam"}),
    )
    return {
        "owner": owner, "member": member, "room": room_id, "private": private["room"]["roomId"],
        "connection": connection, "message": ack["message"]["id"],
        "reply": reply["message"]["id"], "report": report["report"]["id"],
    }  # fmt: skip


def frames(world: dict[str, Any]) -> st.SearchStrategy[Any]:
    ids = st.sampled_from(
        [
            world["room"],
            world["private"],
            "no-such-room",
            world["message"],
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            world["reply"],
        ]
    )
    value = st.one_of(ids, json_junk)
    shaped = st.fixed_dictionaries(
        {"action": st.one_of(st.sampled_from(list(WS_ACTIONS)), edge_text)},
        optional={
            k: value
            for k in (
                "roomId",
                "roomIds",
                "text",
                "clientId",
                "messageId",
                "afterId",
                "limit",
                "emoji",
                "attachments",
                "requestId",
                "extra",
                "parentId",
                "alsoInRoom",
                "quote",
            )
        },
    )
    return st.one_of(
        st.binary(max_size=200),
        json_junk.map(json.dumps),
        shaped.map(json.dumps),
        st.builds(
            lambda room, text, cid: json.dumps(
                {"action": "sendMessage", "roomId": room, "text": text, "clientId": cid}
            ),
            ids,
            edge_text,
            edge_text,
        ),
        st.builds(_conversation_post, ids, mention_text(world), value, value, quotes(ids)),
        st.builds(
            _conversation_post,
            st.just(world["room"]),
            mention_text(world).map(lambda t: t + " x"),
            st.sampled_from([world["message"], world["reply"], ""]),
            st.sampled_from([True, False, ""]),
            st.one_of(st.just(""), quotes(st.sampled_from([world["message"], world["reply"]]))),
        ),
    )


def mention_text(world: dict[str, Any]) -> st.SearchStrategy[str]:
    """Text with mentions: real and unknown names, `@room`/`@here`, too many, e-mail-like."""
    names = [world["owner"]["name"], world["member"]["name"], "nobody", "room", "here", ""]
    token = st.sampled_from([f"@{name}" for name in names] + ["a@b.c", "@@", "@"])
    return st.one_of(
        st.lists(st.one_of(token, edge_text), max_size=6).map(" ".join),
        st.integers(min_value=18, max_value=30).map(
            lambda n: " ".join(f"@user{i}" for i in range(n))
        ),
    )


def quotes(ids: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A quote as documented, near-valid and not."""
    return st.one_of(
        st.builds(lambda m: {"messageId": m}, ids),
        st.builds(lambda m, x: {"messageId": m, "text": x}, ids, edge_text),
        st.dictionaries(edge_text, json_junk, max_size=2),
        json_junk,
    )


def _conversation_post(room: Any, text: str, parent: Any, also: Any, quote: Any) -> str:
    """A sendMessage with the issue-17 keys (parentId, alsoInRoom, quote), each maybe absent."""
    frame: dict[str, Any] = {"action": "sendMessage", "roomId": room, "text": text}
    frame["clientId"] = f"fz{zlib.crc32(repr((text, parent, quote)).encode())}"
    for key, v in (("parentId", parent), ("alsoInRoom", also), ("quote", quote)):
        if not (isinstance(v, str) and v == ""):
            frame[key] = v
    return json.dumps(frame)


def test_generated_frames_through_ws_default(lambda_stack: Stack, world: dict[str, Any]) -> None:
    @FUZZ
    @given(frames(world))
    def one(frame: Any) -> None:
        body = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        reply = lambda_stack.send(world["member"], world["connection"], body)  # raises on a crash
        COUNTS["frames"] += 1
        assert reply["type"] in ("ack", "error")
        if reply["type"] == "ack":
            COUNTS[f"frame ack: {reply.get('action')}"] += 1
        if reply["type"] == "error":
            assert reply["error"]["code"] in DOCUMENTED, reply
            assert reply["error"]["message"]
            COUNTS[f"frame refused: {reply['error']['code']}"] += 1

    one()
    assert COUNTS["frames"] >= EXAMPLES


report_bodies = st.fixed_dictionaries(
    {},
    optional={
        "reason": st.one_of(st.sampled_from(["spam", "other"]), edge_text),
        "outcome": st.one_of(st.sampled_from(["dismissed", "actioned"]), edge_text),
        "note": st.one_of(edge_text, json_junk),
    },
).map(json.dumps)
"""Report and resolve bodies (issue 17), near-valid and not."""


def moderation_bodies(world: dict[str, Any]) -> st.SearchStrategy[str]:
    """PATCH room, role, mute, ban and pin bodies (issue 17), near-valid and not."""
    ids = st.sampled_from(
        [world["member"]["id"], world["owner"]["id"], world["message"], world["reply"], "x"]
    )
    number = st.one_of(
        st.integers(min_value=-10, max_value=10**6),
        st.sampled_from([0, 1, 5, 21600, 21601, 2419200, 2419201, 2**63]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        edge_text,
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(edge_text, json_junk),
            "archived": st.one_of(st.booleans(), json_junk),
            "slowModeSeconds": number,
            "role": st.one_of(
                st.sampled_from(["owner", "admin", "moderator", "member", "OWNER"]), json_junk
            ),
            "userId": st.one_of(ids, json_junk),
            "messageId": st.one_of(ids, json_junk),
            "seconds": number,
            "reason": st.one_of(edge_text, json_junk),
        },
    ).map(json.dumps)


CONVERSATION_ROUTES = [
    r.route_key
    for r in HTTP_ROUTES
    if any(
        part in r.path
        for part in ("mutes", "bans", "pins", "audit", "role", "thread", "report", "blocks")
    )
    or r.route_key == "PATCH /rooms/{roomId}"
]
"""The HTTP routes of issue 17 (moderation, threads, blocks, reports)."""


def conversation_requests(world: dict[str, Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Issue 17's routes on the real room, message, reply, user and report, so the fuzz gets
    past the path and reaches each body's checks and the store."""
    return st.tuples(
        st.sampled_from(CONVERSATION_ROUTES),
        st.fixed_dictionaries(
            {
                "roomId": st.sampled_from([world["room"], world["room"], world["private"]]),
                "userId": st.sampled_from(
                    [world["member"]["id"], world["owner"]["id"], "nobody", "x" * 200]
                ),
                "messageId": st.sampled_from(
                    [world["message"], world["reply"], "01ARZ3NDEKTSV4RRFFQ69G5FAV", "m"]
                ),
                "reportId": st.sampled_from([world["report"], "01ARZ3NDEKTSV4RRFFQ69G5FAV", "r"]),
            }
        ),
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "status": st.sampled_from(["open", "resolved", "closed", ""]),
                    "limit": st.sampled_from(["0", "1", "20", "21", "101", "-1", "x"]),
                    "cursor": st.one_of(edge_text, st.just("eyJ4IjoxfQ")),
                },
            ),
        ),
        st.one_of(
            report_bodies, moderation_bodies(world), json_junk.map(json.dumps), valid_bodies(world)
        ),
        st.sampled_from(["owner", "member"]),
    )


def valid_bodies(world: dict[str, Any]) -> st.SearchStrategy[str]:
    """Bodies each of issue 17's routes accepts, so the fuzz reaches their stores too."""
    member, message = world["member"]["id"], world["message"]
    return st.sampled_from(
        [
            {"slowModeSeconds": 0},
            {"slowModeSeconds": 5},
            {"name": "fuzz renamed"},
            {"archived": False},
            {"role": "moderator"},
            {"role": "member"},
            {"userId": member, "seconds": 60},
            {"userId": member, "reason": "fuzz"},
            {"messageId": message},
            {"reason": "spam", "note": "fuzz"},
            {"outcome": "dismissed"},
        ]
    ).map(json.dumps)


def requests(world: dict[str, Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(any_requests(world), conversation_requests(world))


def any_requests(world: dict[str, Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    params = st.sampled_from(
        [
            world["room"],
            world["private"],
            "nope",
            world["member"]["id"],
            world["message"],
            "",
            "a" * 300,
            "%2e%2e",
            "\u0000",
        ]
    )
    return st.tuples(
        st.sampled_from(
            [r.route_key for r in HTTP_ROUTES] + ["GET /nope", "PUT /rooms", "POST /health"]
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "roomId": params,
                "userId": params,
                "messageId": st.one_of(params, st.just(world["message"])),
                "reportId": st.one_of(
                    params, st.sampled_from(["01ARZ3NDEKTSV4RRFFQ69G5FAV", world["report"]])
                ),
            },
        ),
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["limit", "cursor", "key", "status", "x"]), edge_text, max_size=3
            ),
            st.fixed_dictionaries(
                {},
                optional={
                    "status": st.sampled_from(["open", "resolved", "closed", ""]),
                    "limit": st.sampled_from(["0", "1", "20", "21", "-1", "1e3"]),
                    "cursor": st.one_of(edge_text, st.just("eyJ4IjoxfQ")),
                },
            ),
        ),
        st.one_of(
            st.none(),
            edge_text,
            json_junk.map(json.dumps),
            report_bodies,
            moderation_bodies(world),
        ),
        st.sampled_from(["owner", "member", None]),
    )


def test_generated_http_requests_through_http_api(
    lambda_stack: Stack, world: dict[str, Any]
) -> None:
    @FUZZ
    @given(requests(world))
    def one(request: tuple[Any, ...]) -> None:
        route, path, query, body, who = request
        user = world[who] if who else None
        status, reply = lambda_stack.http(user, route, path, query, body)
        COUNTS["requests"] += 1
        assert status < 500, (route, reply)
        if status < 400:
            COUNTS[f"request ok: {route}"] += 1
        if status >= 400:
            assert reply["error"]["code"] in DOCUMENTED, reply
            COUNTS[f"request refused: {status} {reply['error']['code']}"] += 1

    one()
    assert COUNTS["requests"] >= EXAMPLES


def test_stored_data_is_intact_afterwards(lambda_stack: Stack, world: dict[str, Any]) -> None:
    """Read the stores directly (the fuzz may well have made the owner leave a room): history
    is strictly ordered without duplicates, every message is well formed, the seed message is
    there, and every room-side subscription has its connection (no orphans)."""
    service = lambda_stack.modules["ws_default"].SERVICE
    for room in (world["room"], world["private"]):
        seen: list[str] = []
        before = None
        while page := service.messages.before(room, before, 100):
            seen += [m.message_id for m in page]
            assert all(
                m.room_id == room and (m.deleted or m.text.strip() or m.attachments) for m in page
            )
            before = page[-1].message_id
        assert seen == sorted(set(seen), reverse=True)
        if room == world["room"]:
            assert world["message"] in seen
        for subscription in service.connections.connections_in_room(room, 0):
            assert service.connections.get(subscription.connection_id, 0) is not None
    print(f"\nfuzz counts: {dict(sorted(COUNTS.items()))}")
