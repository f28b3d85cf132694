"""`dynamotalk dev` and `dynamotalk chat` as a user runs them: start, serve, chat, stop cleanly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from dynamotalk.local.emulators import free_port
from tests.e2e.client import User
from tests.support.bad_frames import BAD_FRAMES
from tests.support.dev_stack import ROOT, start_dev, stop, wait_healthy, web_url

pytestmark = pytest.mark.timeout(180)


def java_processes_for(path: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", str(path)], capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if "java" in line]


def test_dev_starts_from_clean_state_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "fresh"
    process = start_dev(port, data_dir)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, timeout=90)
        assert java_processes_for(data_dir), "DynamoDB Local runs as a child process"
        user = User(base, "starter")
        with connect(f"ws://127.0.0.1:{port}/ws?token={user.token}", open_timeout=10) as ws:
            ws.send('{"action": "ping", "requestId": "p1"}')
            assert '"type":"ack"' in ws.recv(timeout=10)
        assert httpx.get(f"{base}/api/health").json() == {"status": "ok"}
        page = httpx.get(f"{web_url(process)}/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        config = httpx.get(f"{base}/config.json").json()
    finally:
        code = stop(process)
    assert code == 0
    log = (data_dir / "dev.log").read_text()
    assert "Traceback" not in log
    assert f"web client  {web_url(process)}/" in log
    assert f"HTTP API    {base}/api" in log
    assert f"WebSocket   ws://127.0.0.1:{port}/ws" in log
    assert f"Cognito     {base}/cognito" in log
    assert f"user pool   {config['userPoolId']}" in log
    assert f"app client  {config['userPoolClientId']}" in log
    assert "S3          http://127.0.0.1:" in log
    assert "DynamoDB    http://127.0.0.1:" in log
    assert "stopped" in log
    deadline = time.monotonic() + 10
    while java_processes_for(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert java_processes_for(data_dir) == [], "Ctrl-C stops DynamoDB Local too"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/health", timeout=2)


def test_a_port_in_use_is_a_clear_message_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "dynamotalk.cli", "dev", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"port {port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_terminal_client_chats_with_a_websocket_user(stack_url: str) -> None:
    alice = User(stack_url, "termalice")
    room_name = f"term-{alice.name}"
    room_id = alice.room(room_name)
    a = alice.socket()
    a.call({"action": "subscribe", "roomIds": [room_id]})
    bob_name = f"termbob{alice.name[-6:]}"
    chat = subprocess.Popen(
        [
            sys.executable, "-m", "dynamotalk.cli", "chat", "--url", stack_url,
            "--user", bob_name, "--password", "terminal-pass-1", "--email", f"{bob_name}@example.com",
            "--room", room_name, "--script",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert chat.stdin is not None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # bob joins the room through --room
            members = alice.get(f"/rooms/{room_id}/members")["members"]
            if len(members) == 2:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the terminal client never joined the room")
        a.post(room_id, "ping from alice")
        chat.stdin.write(
            "/wait ping from alice\nhello from the terminal\n/history 5\n/sleep 1\n/quit\n"
        )
        chat.stdin.flush()
        got = a.wait(
            lambda f: (
                f["type"] == "message.posted" and f["message"]["text"] == "hello from the terminal"
            ),
            timeout=30,
        )
        assert got["message"]["authorId"] != alice.id
        output, _ = chat.communicate(timeout=60)
    finally:
        if chat.poll() is None:
            chat.kill()
        a.close()
    assert chat.returncode == 0, output
    assert f"[{room_name}] {alice.name}: ping from alice" in output
    assert f"signed in as {bob_name}" in output


def test_the_lobby_welcome_gets_no_bot_reply(stack_url: str) -> None:
    from dynamotalk.domain.bot import mentions_bot
    from dynamotalk.local.stack import WELCOME

    assert not mentions_bot(WELCOME)
    user = User(stack_url, "greeter")
    rooms = user.get("/rooms/public", limit=100)["rooms"]
    lobby = next(r["roomId"] for r in rooms if r["name"] == "lobby")
    user.post(f"/rooms/{lobby}/join")
    socket = user.socket()
    try:
        socket.call({"action": "subscribe", "roomIds": [lobby]})
        asked = socket.post(lobby, "@bot are you there?")
        socket.wait(
            lambda f: (
                f["type"] == "message.posted"
                and f["message"]["clientId"] == f"bot-reply-{asked['id']}"
            ),
            timeout=30,
        )
    finally:
        socket.close()
    # The local bot answers its jobs one at a time, in order: had the welcome (posted when the
    # stack started) asked for a reply, that reply would be in the lobby before this one.
    messages, cursor = [], None
    while True:
        page = user.get(f"/rooms/{lobby}/messages", **({"cursor": cursor} if cursor else {}))
        messages += page["messages"]
        if not (cursor := page["nextCursor"]):
            break
    (welcome,) = [m for m in messages if m["clientId"] == "welcome"]
    assert welcome["text"] == WELCOME
    assert not [m for m in messages if m["clientId"] == f"bot-reply-{welcome['id']}"]


@pytest.mark.parametrize(("frame", "code"), list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
def test_parse_and_validation_errors_echo_the_request_id_over_a_real_socket(
    stack_url: str, frame: dict[str, object], code: str
) -> None:
    user = User(stack_url, "echo")
    with connect(f"{user.ws_url}?token={user.token}", open_timeout=10) as ws:
        ws.send(json.dumps({**frame, "requestId": "rid-7"}))
        reply = json.loads(ws.recv(timeout=15))
    assert (reply["type"], reply["requestId"], reply["error"]["code"]) == ("error", "rid-7", code)
