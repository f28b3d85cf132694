"""The lean PostToConnection path through the real local gateway (`dynamotalk dev`).

The stack's handlers are told to post over the lean transport explicitly (it is the default;
settings.MANAGEMENT_TRANSPORT_ENV), and a message posted on one socket reaches every socket in
the room, each once, through the gateway's own @connections API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dynamotalk.local.emulators import free_port
from dynamotalk.settings import MANAGEMENT_TRANSPORT_ENV
from tests.e2e.client import User, eventually
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(180)


def test_a_message_reaches_every_socket_over_the_lean_path(tmp_path: Path) -> None:
    port = free_port()
    process = start_dev(port, tmp_path, "--in-memory", env={MANAGEMENT_TRANSPORT_ENV: "lean"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, timeout=90)
        alice, bob = User(base, "leanalice"), User(base, "leanbob")
        room_id = alice.room("lean path")
        bob.post(f"/rooms/{room_id}/join")
        sockets = [alice.socket(), bob.socket(), bob.socket()]
        for socket in sockets:
            assert socket.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
        message = sockets[0].post(room_id, "over the lean path")

        def arrived(socket: object) -> list[str]:
            return [
                f["message"]["id"]
                for f in socket.events("message.posted")  # type: ignore[attr-defined]
                if f["message"]["id"] == message["id"]
            ]

        eventually(lambda: all(arrived(s) for s in sockets), what="every socket got it")
        assert [arrived(s) for s in sockets] == [[message["id"]]] * 3
        for socket in sockets:
            socket.close()
    finally:
        code = stop(process)
    assert code == 0
    assert "Traceback" not in (tmp_path / "dev.log").read_text()
