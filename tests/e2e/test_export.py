"""Export my data end to end on the local stack (issue 18): real HTTP and sockets, the real
handlers, the export queue invoking data_export, the archive in the local S3 (moto), on
DynamoDB Local.

A user with rooms and messages (some deleted, some in a room they left, others' messages
around theirs) requests an export, polls until it is ready (never a bare sleep), downloads the
archive through the presigned link and finds exactly their profile, memberships and own
messages. Another user can read neither the status nor the archive; a second export while one
runs is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dynamotalk.client import frames
from dynamotalk.domain.export import EXPORT_LINK_TTL_S, EXPORTS_PER_DAY
from tests.e2e.client import User, eventually

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def world(stack_url: str) -> dict[str, Any]:
    """ana posts in a public room with bob (one message deleted, a reaction on bob's), in a
    private room, and in a room she then left; bob and eve post too."""
    tag = uuid.uuid4().hex[:4]
    ana, bob, eve = (User(stack_url, f"{p}{tag}") for p in ("ana", "bob", "eve"))
    public = ana.room(f"export public {tag}")
    bob.post(f"/rooms/{public}/join")
    private = ana.room(f"export private {tag}", "private")
    left = bob.room(f"export left {tag}")
    ana.post(f"/rooms/{left}/join")
    mine, theirs = ana.socket(), bob.socket()
    kept = [
        mine.post(public, f"ana public one {tag}"),
        mine.post(private, f"ana private {tag}"),
        mine.post(public, f"ana public two {tag}"),
    ]
    deleted = mine.post(public, f"ana deleted {tag}")
    assert mine.call(frames.delete_message(public, deleted["id"]))
    other = theirs.post(public, f"bob secret {tag}")
    assert mine.call(frames.react(public, other["id"], "👍"))
    mine.post(left, f"ana in a left room {tag}")
    ana.post(f"/rooms/{left}/leave")
    mine.close()
    theirs.close()
    return {"ana": ana, "bob": bob, "eve": eve, "public": public, "private": private,
            "kept": kept, "other": other, "tag": tag}  # fmt: skip


def ready(user: User, export_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def done() -> bool:
        found.update(user.get(f"/me/exports/{export_id}"))
        return bool(found["status"] != "pending")

    eventually(done, timeout=60, what="the export finished")
    return found


def test_export_archive_has_exactly_my_data(world: dict[str, Any]) -> None:
    ana: User = world["ana"]
    started = ana.request("POST", "/me/exports")
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "pending"
    export_id = body["exportId"]
    world["ana_export"] = export_id
    status = ready(ana, export_id)
    assert status["status"] == "ready", status
    assert status["expiresAt"] > 0
    assert f"X-Amz-Expires={EXPORT_LINK_TTL_S}" in status["url"]
    download = httpx.get(status["url"], timeout=10)
    assert download.status_code == 200, download.text
    archive = download.json()

    assert archive["profile"]["userId"] == ana.id
    assert archive["profile"]["username"] == ana.name
    rooms = {m["roomId"]: m for m in archive["memberships"]}
    assert set(rooms) == {world["public"], world["private"]}
    assert rooms[world["private"]]["role"] == "owner"
    texts = sorted(m["text"] for m in archive["messages"])
    assert texts == sorted(m["text"] for m in world["kept"])
    assert all(world["tag"] in t for t in texts)
    dumped = download.text
    assert "bob secret" not in dumped
    assert "ana deleted" not in dumped
    assert archive["reactions"] == [
        {"roomId": world["public"], "messageId": world["other"]["id"], "emoji": "👍"}
    ]
    assert archive["truncated"] is False


def test_others_cannot_read_my_export(world: dict[str, Any]) -> None:
    bob: User = world["bob"]
    eve: User = world["eve"]
    started = bob.request("POST", "/me/exports")
    assert started.status_code == 202, started.text
    export_id = started.json()["exportId"]
    refused = eve.request("GET", f"/me/exports/{export_id}")
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"]["code"] == "not_found"
    link = ready(bob, export_id)["url"]
    assert eve.request("GET", f"/me/exports/{export_id}").status_code == 404
    # The link is bob's alone: altered to name ana's archive (which exists), its SigV4
    # signature no longer matches.
    ana: User = world["ana"]
    forged = link.replace(
        f"exports/{bob.id}/{export_id}", f"exports/{ana.id}/{world['ana_export']}"
    )
    assert forged != link
    assert httpx.get(forged, timeout=10).status_code == 403
    archive = httpx.get(link, timeout=10).json()
    assert [m["text"] for m in archive["messages"]] == [world["other"]["text"]]
    bad = eve.request("GET", "/me/exports/not-an-id")
    assert bad.status_code == 404, bad.text


def test_exports_are_limited_per_user(world: dict[str, Any]) -> None:
    """One at a time and EXPORTS_PER_DAY a day: eve asks until refused (each job finishes or
    runs when she asks again; either way a refusal comes, and never past the daily limit)."""
    eve: User = world["eve"]
    accepted = 0
    while True:
        reply = eve.request("POST", "/me/exports")
        if reply.status_code != 202:
            break
        accepted += 1
        assert accepted <= EXPORTS_PER_DAY
    assert reply.status_code == 429, reply.text
    assert reply.json()["error"]["code"] == "rate_limited"
    assert reply.headers.get("Retry-After")
