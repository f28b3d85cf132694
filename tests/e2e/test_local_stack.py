"""End to end on the real local stack: real sockets, real HTTP, DynamoDB Local, moto's Cognito
and S3, the real handlers behind the local gateway."""

from __future__ import annotations

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.client import User, eventually

pytestmark = pytest.mark.timeout(120)


def test_two_users_sign_up_join_and_chat_live(stack_url: str) -> None:
    alice, bob = User(stack_url, "alice"), User(stack_url, "bob")
    room_id = alice.room("e2e general")
    assert bob.post(f"/rooms/{room_id}/join")["membership"]["role"] == "member"
    a, b = alice.socket(), bob.socket()
    assert a.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
    assert b.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
    sent = a.post(room_id, "hello bob")
    got = b.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == sent["id"])
    assert got["message"]["text"] == "hello bob"
    assert got["message"]["authorId"] == alice.id
    reply = b.post(room_id, "hi alice")
    a.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == reply["id"])
    summary = {r["room"]["roomId"]: r["unread"] for r in alice.get("/rooms")["rooms"]}
    assert summary[room_id] == 1  # bob's reply; her own message is read
    a.close()
    b.close()


def test_history_pages_back_through_250_messages(stack_url: str) -> None:
    alice = User(stack_url, "pager")
    room_id = alice.room("e2e history")
    socket = alice.socket()
    posted = [socket.post(room_id, f"message {n}", client_id=f"h{n}")["id"] for n in range(250)]
    seen: list[str] = []
    cursor = None
    while True:
        page = alice.get(
            f"/rooms/{room_id}/messages", limit=100, **({"cursor": cursor} if cursor else {})
        )
        seen += [m["id"] for m in page["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(posted))
    other = alice.room("e2e other")
    first = alice.get(f"/rooms/{room_id}/messages", limit=10)
    foreign = alice.request("GET", f"/rooms/{other}/messages", cursor=first["nextCursor"])
    assert foreign.status_code == 400
    assert foreign.json()["error"]["code"] == "invalid_input"
    socket.close()


def test_direct_room_works_and_a_third_user_is_refused(stack_url: str) -> None:
    alice, bob, eve = User(stack_url, "dma"), User(stack_url, "dmb"), User(stack_url, "eve")
    room = alice.post("/direct", {"username": bob.name})["room"]
    assert bob.post("/direct", {"userId": alice.id})["room"]["roomId"] == room["roomId"]
    a, b = alice.socket(), bob.socket()
    b.call({"action": "subscribe", "roomIds": [room["roomId"]]})
    sent = a.post(room["roomId"], "just between us")
    b.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == sent["id"])
    e = eve.socket()
    refused = e.call({"action": "subscribe", "roomIds": [room["roomId"]]})
    assert refused["error"]["code"] == "not_found"  # hidden: answered like a missing room
    reply = eve.request("GET", f"/rooms/{room['roomId']}/messages")
    assert reply.status_code == 404
    assert "just between us" not in reply.text
    assert eve.request("POST", f"/rooms/{room['roomId']}/join").status_code == 404
    for s in (a, b, e):
        s.close()


def test_private_room_refuses_a_non_member(stack_url: str) -> None:
    owner, stranger = User(stack_url, "owner"), User(stack_url, "stranger")
    room_id = owner.room("e2e secret", kind="private")
    owner.socket().post(room_id, "classified")
    s = stranger.socket()
    # A room the caller may not see is answered like one that does not exist (404).
    assert s.call({"action": "subscribe", "roomIds": [room_id]})["error"]["code"] == "not_found"
    posted = s.call(
        {"action": "sendMessage", "roomId": room_id, "text": "let me in", "clientId": "x"}
    )
    assert posted["error"]["code"] == "not_found"
    history = stranger.request("GET", f"/rooms/{room_id}/messages")
    assert history.status_code == 404
    assert "classified" not in history.text
    members = stranger.request("GET", f"/rooms/{room_id}/members")
    assert members.status_code == 404
    assert owner.id not in members.text
    s.close()


def test_edit_delete_react_typing_and_presence_reach_the_other_user(stack_url: str) -> None:
    alice, bob = User(stack_url, "eda"), User(stack_url, "edb")
    room_id = alice.room("e2e edits")
    bob.post(f"/rooms/{room_id}/join")
    b = bob.socket()
    b.call({"action": "subscribe", "roomIds": [room_id]})
    a = alice.socket()
    # Alice is announced online in the rooms her connection follows, once it subscribes.
    a.call({"action": "subscribe", "roomIds": [room_id]})
    b.wait(lambda f: f["type"] == "presence.changed" and f["userId"] == alice.id and f["online"])
    message = a.post(room_id, "draft")
    assert (
        a.call(
            {
                "action": "editMessage",
                "roomId": room_id,
                "messageId": message["id"],
                "text": "final",
            }
        )["type"]
        == "ack"
    )
    edited = b.wait(lambda f: f["type"] == "message.edited")
    assert edited["message"]["text"] == "final"
    b.call({"action": "react", "roomId": room_id, "messageId": message["id"], "emoji": "🎉"})
    reaction = a.wait(lambda f: f["type"] == "reaction.changed")
    assert (reaction["emoji"], reaction["userId"], reaction["added"]) == ("🎉", bob.id, True)
    a.call({"action": "typing", "roomId": room_id})
    typing = b.wait(lambda f: f["type"] == "typing")
    assert typing["username"] == alice.name
    a.call({"action": "deleteMessage", "roomId": room_id, "messageId": message["id"]})
    deleted = b.wait(lambda f: f["type"] == "message.deleted")
    assert deleted["message"]["deleted"] is True
    assert deleted["message"]["text"] == ""
    a.close()
    offline = b.wait(
        lambda f: f["type"] == "presence.changed" and f["userId"] == alice.id and not f["online"]
    )
    assert offline["lastSeen"] > 0
    b.close()


def test_reconnect_and_sync_returns_exactly_the_missed_messages(stack_url: str) -> None:
    alice, bob = User(stack_url, "sya"), User(stack_url, "syb")
    room_id = alice.room("e2e sync")
    bob.post(f"/rooms/{room_id}/join")
    a, b = alice.socket(), bob.socket()
    b.call({"action": "subscribe", "roomIds": [room_id]})
    last = a.post(room_id, "before")
    b.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == last["id"])
    b.close()
    missed = [a.post(room_id, f"while away {n}")["id"] for n in range(5)]
    again = bob.socket()
    again.call({"action": "subscribe", "roomIds": [room_id]})
    synced = again.call({"action": "sync", "roomId": room_id, "afterId": last["id"]})
    assert [m["id"] for m in synced["messages"]] == missed
    assert synced["hasMore"] is False
    a.close()
    again.close()


def live_connections(stack_url: str) -> set[str]:
    return set(httpx.get(f"{stack_url}/_local/connections").json()["connections"])


def test_a_socket_killed_without_disconnect_is_cleaned_up_on_the_next_fan_out(
    stack_url: str,
) -> None:
    alice, bob = User(stack_url, "gna"), User(stack_url, "gnb")
    room_id = alice.room("e2e gone")
    bob.post(f"/rooms/{room_id}/join")
    before = live_connections(stack_url)
    b = bob.socket()
    b.call({"action": "subscribe", "roomIds": [room_id]})
    (bob_connection,) = live_connections(stack_url) - before
    a = alice.socket()
    # Cut bob's socket the way a lost $disconnect leaves it: the registry still lists him.
    assert httpx.post(f"{stack_url}/_local/connections/{bob_connection}/drop").status_code == 204
    presence = {
        m["userId"]: m["online"] for m in alice.get(f"/rooms/{room_id}/presence")["members"]
    }
    assert presence[bob.id] is True
    a.post(room_id, "is anyone there?")  # the fan-out gets 410 Gone for bob and removes him

    def bob_offline() -> bool:
        members = alice.get(f"/rooms/{room_id}/presence")["members"]
        return {m["userId"]: m["online"] for m in members}[bob.id] is False

    eventually(bob_offline, what="bob offline after the fan-out found his socket gone")
    a.close()


def test_management_api_answers_410_for_a_closed_connection(stack_url: str) -> None:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=stack_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    with pytest.raises(ClientError) as gone:
        client.post_to_connection(ConnectionId="no-such-connection", Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"


def test_upload_through_presigned_post_then_download(stack_url: str) -> None:
    alice = User(stack_url, "files")
    room_id = alice.room("e2e files")
    content = b"%PDF-1.4 tiny test file"
    form = alice.post(
        "/uploads",
        {
            "purpose": "attachment",
            "roomId": room_id,
            "filename": "notes.pdf",
            "contentType": "application/pdf",
            "size": len(content),
        },
    )["upload"]
    upload = httpx.post(
        form["url"], data=form["fields"], files={"file": ("notes.pdf", content, "application/pdf")}
    )
    assert upload.status_code in (200, 201, 204)
    s = alice.socket()
    reply = s.call(
        {
            "action": "sendMessage",
            "roomId": room_id,
            "text": "see attached",
            "clientId": "f1",
            "attachments": [
                {
                    "key": form["key"],
                    "name": "notes.pdf",
                    "contentType": "application/pdf",
                    "size": len(content),
                }
            ],
        }
    )
    assert reply["type"] == "ack", reply
    assert reply["message"]["attachments"][0]["size"] == len(content)
    url = alice.get("/attachments", key=form["key"])["url"]
    assert httpx.get(url).content == content
    s.close()


def test_connect_without_a_valid_token_is_refused_with_401(stack_url: str) -> None:
    config = httpx.get(f"{stack_url}/config.json").json()
    for suffix in ("", "?token=garbage"):
        with pytest.raises(InvalidStatus) as refused:
            connect(config["wsUrl"] + suffix, open_timeout=10)
        assert refused.value.response.status_code == 401


def test_demo_room_exists(stack_url: str) -> None:
    visitor = User(stack_url, "visitor")
    names = [r["name"] for r in visitor.get("/rooms/public", limit=100)["rooms"]]
    assert "lobby" in names
