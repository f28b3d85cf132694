"""Erase my account under `erasePolicy=delete` (its own `dynamotalk dev`, on DynamoDB Local):
X's messages, a thread reply included, are deleted through the normal delete path, so the
change feed tells live members (`messageDeleted`), search drops them, and no GET route of
routes.HTTP_ROUTES shows their text, X's id or X's name."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from dynamotalk.client import frames
from dynamotalk.local.emulators import free_port
from dynamotalk.routes import HTTP_ROUTES
from dynamotalk.settings import ENV
from tests.e2e.client import User, eventually
from tests.e2e.test_erasure import replay, shows_x, signs_in
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {ENV["erase_policy"]: "delete"}
    process = start_dev(port, tmp_path_factory.mktemp("erase-dev"), env=env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    yield url
    stop(process)


def test_messages_are_deleted_everywhere(base: str) -> None:
    tag = uuid.uuid4().hex[:4]
    x, y = User(base, f"xd{tag}"), User(base, f"yd{tag}")
    room = y.room(f"erase delete {tag}")
    x.post(f"/rooms/{room}/join")
    x_socket, y_socket = x.socket(), y.socket()
    y_socket.call(frames.subscribe([room]))
    secrets = [f"narwhal{tag} one", f"narwhal{tag} two"]
    posted = [x_socket.post(room, text) for text in secrets]
    parent = y_socket.post(room, "a question")
    secrets.append(f"narwhal{tag} reply")
    reply = x_socket.call({**frames.send_message(room, secrets[-1]), "parentId": parent["id"]})
    assert reply["type"] == "ack", reply
    eventually(lambda: len(y.get("/search", q=f"narwhal{tag}")["results"]) == 3, what="indexed")
    assert x.request("DELETE", "/me").status_code == 202
    eventually(lambda: not signs_in(x), timeout=60, what="the sign-in deleted")

    def deleted() -> set[str]:
        frames_ = y_socket.events("message.deleted")
        return {f.get("messageId") for f in frames_} | {
            f.get("message", {}).get("id") for f in frames_
        }

    eventually(lambda: {p["id"] for p in posted} <= deleted(), what="message.deleted told")
    eventually(lambda: y.get("/search", q=f"narwhal{tag}")["results"] == [], what="unindexed")
    known = {"roomId": room, "messageId": parent["id"], "userId": x.id}
    known |= {"deviceId": "none", "reportId": "none", "exportId": "none"}
    for route in HTTP_ROUTES:
        if route.method != "GET":
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: known[m.group(1)], route.path)
        params = {"q": f"narwhal{tag}"} if route.path == "/search" else {}
        text = y.request("GET", path, **params).text
        assert not [s for s in secrets if s in text], route.path
        assert x.name not in text, route.path
    feed = str(replay(y, room))  # sync v2 from seq 0: no copy of the text, nor of x
    assert not [s for s in secrets if s in feed]
    assert not shows_x(x, feed)
