"""M2: one user floods each limited action through the real interface and is refused.

A real `dynamotalk dev` (DynamoDB Local, LocalAws) started for this module with tight per-user
limits (TIGHT) so each flood is a few requests; the stages' defaults are in
domain/user_limits.py. Each flood ends in `rate_limited` with retryAfterMs (frames) or 429 with
Retry-After and the same JSON error (HTTP); other users are unaffected; nothing is stored for a
refused request; the short windows recover once retryAfterMs has passed. The last test is the
noisy neighbour: one user floods messages at 50x their limit while 50 users chat.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from bench.p6_noisy_neighbour import chat, sign_up_all
from dynamotalk.domain.bot import BOT
from dynamotalk.domain.user_limits import UserLimits
from tests.e2e.client import Socket, User

pytestmark = pytest.mark.timeout(300)

TIGHT = UserLimits(
    messages_per_second=1,
    messages_burst=3,
    reactions_per_second=1,
    reactions_burst=3,
    typing_per_second=1,
    typing_burst=2,
    rooms_per_hour=3,
    joins_per_hour=3,
    invites_per_hour=3,
    uploads_per_day=3,
    upload_bytes_per_day=2500,
    connections_per_user=2,
    bot_requests_per_day=2,
    username_lookups_per_hour=3,
)


@pytest.fixture(scope="module")
def base(tight_stack_url: str) -> str:
    """The shared stack with TIGHT limits (tests/security/conftest.py)."""
    return tight_stack_url


@pytest.fixture(scope="module")
def users(base: str) -> dict[str, User]:
    names = ["flood", "peer", "rooms", "joiner", "owner", "target", "finder", "conns", "bots"]
    names += ["uploads"]
    with ThreadPoolExecutor(8) as pool:  # LocalAws's sign-up is slowish: in parallel
        made = list(pool.map(lambda n: User(base, n), names))
    return dict(zip(names, made, strict=True))


def refused_frame(reply: dict[str, Any]) -> int:
    """The retryAfterMs of a rate_limited error frame (fails on anything else)."""
    assert reply["type"] == "error", reply
    error = reply["error"]
    assert (error["code"], error["retryable"]) == ("rate_limited", True), reply
    assert error["message"]
    assert 0 < error["retryAfterMs"] <= 3_600_000 * 24
    return int(error["retryAfterMs"])


def refused_http(reply: httpx.Response) -> int:
    """The retryAfterMs of a 429 reply; Retry-After is the same wait in whole seconds."""
    assert reply.status_code == 429, reply.text
    error = reply.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]
    retry_after_ms = int(error["retryAfterMs"])
    assert retry_after_ms > 0
    assert int(reply.headers["retry-after"]) == -(-retry_after_ms // 1000)
    return retry_after_ms


def flood(socket: Socket, frames: list[dict[str, Any]]) -> tuple[int, list[int], float]:
    """Send every frame at once, then read every reply: (acks, retryAfterMs of each refusal,
    seconds it took). Anything but an ack or a rate_limited error fails."""
    ids = [uuid.uuid4().hex[:12] for _ in frames]
    started = time.monotonic()
    for request_id, frame in zip(ids, frames, strict=True):
        socket.connection.send(json.dumps({**frame, "requestId": request_id}))
    replies = [
        socket.wait(lambda f, r=r: f.get("requestId") == r and f["type"] in ("ack", "error"))
        for r in ids
    ]
    elapsed = time.monotonic() - started
    refusals = [refused_frame(r) for r in replies if r["type"] == "error"]
    return sum(1 for r in replies if r["type"] == "ack"), refusals, elapsed


def most_in(seconds: float, burst: int) -> int:
    """The most a per-second burst lets through in `seconds` (each second touched admits one)."""
    return burst * (int(seconds) + 2)


def test_a_message_flood_is_refused_others_unaffected_and_the_window_recovers(
    users: dict[str, User],
) -> None:
    flooder, peer = users["flood"], users["peer"]
    room = flooder.room("flooded")
    peer.post(f"/rooms/{room}/join")
    mine, theirs = flooder.socket(), peer.socket()
    try:
        tag = uuid.uuid4().hex[:6]

        frames = [
            {"action": "sendMessage", "roomId": room, "text": f"m{n}", "clientId": f"{tag}-{n}"}
            for n in range(20)
        ]
        accepted, refusals, seconds = flood(mine, frames)
        assert refusals, "20 messages at once and none refused"
        assert 1 <= accepted <= min(most_in(seconds, TIGHT.messages_burst), 10)
        assert all(wait_ms <= 10_000 for wait_ms in refusals)  # at most the 10-second window
        # Another user is not affected: their message goes through at once.
        assert theirs.post(room, "still here")["text"] == "still here"
        # Nothing refused was stored: history holds the accepted ones and peer's.
        texts = {m["text"] for m in flooder.get(f"/rooms/{room}/messages")["messages"]}
        assert len(texts) == accepted + 1
        assert "still here" in texts
        # After the hint, the flooder may post again (with a refused message's clientId).
        refused = next(f for f in frames if f["text"] not in texts)
        retry = mine.call({**refused, "text": "again"})
        while retry["type"] == "error":
            time.sleep(refused_frame(retry) / 1000 + 0.05)
            retry = mine.call({**refused, "text": "again"})
        assert retry["message"]["text"] == "again"
    finally:
        mine.close()
        theirs.close()


def test_reaction_and_typing_floods_are_refused_separately(users: dict[str, User]) -> None:
    user = users["peer"]
    room = user.room("reactions")
    socket = user.socket()
    try:
        message = socket.post(room, "react to me")

        frames = [
            {"action": "react", "roomId": room, "messageId": message["id"],
             "emoji": "👍" if n % 2 == 0 else "🎉"}
            for n in range(12)
        ]  # fmt: skip
        accepted, refusals, seconds = flood(socket, frames)
        assert refusals
        assert 1 <= accepted <= most_in(seconds, TIGHT.reactions_burst)
        accepted, refusals, seconds = flood(socket, [{"action": "typing", "roomId": room}] * 12)
        assert refusals
        assert 1 <= accepted <= most_in(seconds, TIGHT.typing_burst)
        # Messages are counted on their own: posting still works.
        assert socket.post(room, "text is fine")["text"] == "text is fine"
    finally:
        socket.close()


def test_rooms_joins_invites_and_lookups_answer_429_with_retry_after(
    users: dict[str, User],
) -> None:
    creator, joiner, owner, target, finder = (
        users[n] for n in ("rooms", "joiner", "owner", "target", "finder")
    )
    made = [
        creator.request("POST", "/rooms", {"name": f"r{n}"})
        for n in range(TIGHT.rooms_per_hour + 1)
    ]
    assert [r.status_code for r in made[:-1]] == [201] * TIGHT.rooms_per_hour
    assert refused_http(made[-1]) > 1000  # an hourly window
    assert (
        len(creator.get("/rooms")["rooms"]) == TIGHT.rooms_per_hour
    )  # the refused one is not there

    public = made[0].json()["room"]["roomId"]
    joins = [
        joiner.request("POST", f"/rooms/{public}/join") for _ in range(TIGHT.joins_per_hour + 1)
    ]
    assert [r.status_code for r in joins[:-1]] == [200] * TIGHT.joins_per_hour
    refused_http(joins[-1])

    private = owner.room("private", kind="private")
    adds = [
        owner.request("POST", f"/rooms/{private}/members", {"userId": target.id})
        for _ in range(TIGHT.invites_per_hour + 1)
    ]
    # Adding someone is an invite they must accept: 202, pending.
    assert [r.status_code for r in adds[:-1]] == [202] * TIGHT.invites_per_hour
    refused_http(adds[-1])

    lookups = [
        finder.request("POST", "/direct", {"username": target.name})
        for _ in range(TIGHT.username_lookups_per_hour + 1)
    ]
    assert [r.status_code for r in lookups[:-1]] == [200] * TIGHT.username_lookups_per_hour
    refused_http(lookups[-1])
    # A look-up by name through add-member is counted too; by id it is not a look-up.
    room = finder.room("adds by name")
    by_name = finder.request("POST", f"/rooms/{room}/members", {"username": target.name})
    refused_http(by_name)
    assert finder.request("POST", "/direct", {"userId": target.id}).status_code == 200
    # Each refusal was the flooder's alone: others still create, join and look up.
    assert target.request("POST", "/direct", {"username": owner.name}).status_code == 200
    assert target.request("POST", f"/rooms/{public}/join").status_code == 200


def test_uploads_are_limited_by_count_and_bytes_per_day(users: dict[str, User]) -> None:
    user = users["uploads"]
    room = user.room("files")

    def upload(size: int) -> httpx.Response:
        body = {"purpose": "attachment", "roomId": room, "filename": "a.png",
                "contentType": "image/png", "size": size}  # fmt: skip
        return user.request("POST", "/uploads", body)

    assert upload(1000).status_code == 201
    assert upload(1000).status_code == 201
    refused_http(upload(1000))  # 3000 bytes > 2500 a day
    assert upload(500).status_code == 201  # fits the bytes left; the third upload today
    refused_http(upload(1))  # a fourth upload: over the count


def test_connections_per_user_are_capped_at_the_handshake(users: dict[str, User]) -> None:
    user = users["conns"]
    sockets = [user.socket() for _ in range(TIGHT.connections_per_user)]
    try:
        with pytest.raises(InvalidStatus) as refused:
            Socket(f"{user.ws_url}?token={user.token}")
        assert refused.value.response.status_code == 429
        # The open ones still work, and closing one makes room again.
        assert sockets[0].call({"action": "ping"})["type"] == "ack"
        sockets.pop().close()
        deadline = time.monotonic() + 15
        while True:  # $disconnect runs after the close
            try:
                sockets.append(user.socket())
                break
            except InvalidStatus:
                assert time.monotonic() < deadline, "a closed connection was never forgotten"
                time.sleep(0.2)
        assert sockets[-1].call({"action": "ping"})["type"] == "ack"
    finally:
        for socket in sockets:
            socket.close()


def test_requests_to_the_bot_are_limited_per_day_before_anything_is_stored(
    users: dict[str, User],
) -> None:
    user = users["bots"]
    room = user.post("/direct", {"userId": BOT.user_id})["room"]["roomId"]
    socket = user.socket()
    try:
        for n in range(TIGHT.bot_requests_per_day):
            socket.post(room, f"question {n}")
        refused_frame(socket.call({"action": "sendMessage", "roomId": room,
                                   "text": "one too many", "clientId": "extra"}))  # fmt: skip
        texts = [m["text"] for m in user.get(f"/rooms/{room}/messages")["messages"]]
        assert "one too many" not in texts
    finally:
        socket.close()


@pytest.mark.timeout(600)
def test_noisy_neighbour_normal_users_lose_nothing(base: str) -> None:
    """50 users chat in 10 rooms (two messages each, under their limit) while one floods the
    first room at 50x the messages limit. Every normal message reaches every member, history is
    exactly what was acknowledged, the abuser is refused with retryAfterMs, nothing else fails.
    The latency comparison is a figure: `python -m bench p6` (docs/RELIABILITY.md)."""
    started = time.monotonic()
    tokens = asyncio.run(sign_up_all(base, 51, uuid.uuid4().hex[:6]))
    signed_up = time.monotonic()
    result = asyncio.run(chat(base, tokens, rooms=10, per_user=2, abuser=True))
    print(f"\nnoisy neighbour: sign-up {signed_up - started:.1f}s, chat {result['seconds']:.1f}s,"
          f" abuser {result['abuse']}")  # fmt: skip
    assert result["other_errors"] == []
    assert result["normal_sent"] == result["normal_expected"] == 100
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["history_exact"]
    abuse = result["abuse"]
    assert abuse["refused"] > 0
    assert "refused without retryAfterMs" not in abuse
    assert result["abuser_failures"] == []
    assert abuse["accepted"] + abuse["refused"] == abuse["sent"]
    # The 10-second windows bound what the abuser got through.
    windows = result["abuse_seconds"] // 10 + 2
    assert abuse["accepted"] <= windows * TIGHT.messages_per_second * 10
    assert httpx.get(f"{base}/health").status_code == 200
