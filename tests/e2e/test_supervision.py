"""`dynamotalk dev` supervises what it starts: DynamoDB Local stops with the stack however the
stack ends (SIGINT, SIGTERM, SIGHUP, kill -9, while serving or still starting), never outlives
it on its data directory, is restarted when it dies (with a plain message, and frames answering
`unavailable` meanwhile), and the stack exits non-zero when it cannot be kept alive. One data
directory, one stack; a stop by signal leaves its process group empty and its lock free."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dynamotalk.local.emulators import PID_FILE, find_dynamodb_local_jar, free_port
from dynamotalk.local.supervision import locked
from tests.e2e.client import PASSWORD, User, cognito
from tests.support.dev_stack import ROOT, start_dev, stop, wait_healthy

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        shutil.which("java") is None or find_dynamodb_local_jar() is None,
        reason="needs DynamoDB Local (make tools)",
    ),
]


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]


def java_child(dev: subprocess.Popen[str]) -> int:
    """The DynamoDB Local process of a running `dynamotalk dev`."""
    for pid in children(dev.pid):
        if "DynamoDBLocal.jar" in cmdline(pid):
            return pid
    raise AssertionError(f"no DynamoDB Local among the children of {dev.pid}")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has exited: its cmdline is empty)."""
    return cmdline(pid) != ""


def wait_gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def group_gone(pgid: int) -> bool:
    """No process is left in the process group (start_dev gives the stack its own)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def assert_all_stopped(dev: subprocess.Popen[str], java: int, data_dir: Path) -> None:
    """The stack exited 0 and cleanly, left no process behind, and freed its data dir."""
    assert dev.wait(60) == 0
    assert wait_gone(java), "DynamoDB Local stops with the stack"
    assert group_gone(dev.pid), "nothing is left in the stack's process group"
    with locked(data_dir):  # raises DataDirInUse while any holder of the lock lives
        pass
    log = (data_dir / "dev.log").read_text()
    assert "DynamoTalk local stack stopped." in log
    assert "Traceback" not in log


def wait_for_log(data_dir: Path, pattern: str, timeout: float = 60) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, (data_dir / "dev.log").read_text())
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not in dev.log:\n{(data_dir / 'dev.log').read_text()}")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """A fresh `dynamotalk dev` (data on disk); stopped at the end if a test left it running."""
    port, data_dir = free_port(), tmp_path / "data"
    dev = start_dev(port, data_dir)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, dev)
        yield dev, base, data_dir
    finally:
        if dev.poll() is None:
            stop(dev)


def test_sigterm_stops_dynamodb_local_and_a_restart_finds_the_data(
    started: tuple[subprocess.Popen[str], str, Path],
) -> None:
    dev, base, data_dir = started
    java = java_child(dev)
    alice = User(base, "keeper")
    lobby = next(r for r in alice.get("/rooms/public")["rooms"] if r["name"] == "lobby")
    alice.post(f"/rooms/{lobby['roomId']}/join")
    socket = alice.socket()
    kept = socket.post(lobby["roomId"], "written before SIGTERM")
    socket.close()

    dev.send_signal(signal.SIGTERM)
    assert_all_stopped(dev, java, data_dir)

    port = free_port()
    again = start_dev(port, data_dir)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", again)
        assert "left running" not in (data_dir / "dev.log").read_text(), "no orphan was found"
        base = f"http://127.0.0.1:{port}"
        bob = User(base, "reader")
        bob.post(f"/rooms/{lobby['roomId']}/join")
        history = bob.get(f"/rooms/{lobby['roomId']}/messages")["messages"]
        assert kept["id"] in [m["id"] for m in history]
        # Alice signs in again (users are kept with the chat data): same identity, same rooms,
        # and the token she held before the restart still verifies.
        config = httpx.get(f"{base}/config.json").json()
        tokens = cognito(base).initiate_auth(
            ClientId=config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": alice.name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        for token in (tokens["IdToken"], alice.token):
            headers = {"authorization": f"Bearer {token}"}
            me = httpx.get(f"{config['httpUrl']}/me", headers=headers, timeout=15)
            assert me.status_code == 200, me.text
            assert me.json()["user"]["userId"] == alice.id
            rooms = httpx.get(f"{config['httpUrl']}/rooms", headers=headers, timeout=15).json()
            assert lobby["roomId"] in [r["room"]["roomId"] for r in rooms["rooms"]]
    finally:
        assert stop(again) == 0


def test_sigterm_while_dynamodb_local_starts_stops_it_too(tmp_path: Path) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    dev = start_dev(port, data_dir)
    try:
        pid_file = data_dir / "dynamodb" / PID_FILE  # written as soon as the JVM is forked
        deadline = time.monotonic() + 60
        while not pid_file.exists() and dev.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        java = int(pid_file.read_text())
        dev.send_signal(signal.SIGTERM)
        assert_all_stopped(dev, java, data_dir)
    finally:
        if dev.poll() is None:
            stop(dev)


def test_kill_9_of_the_stack_takes_dynamodb_local_with_it(
    started: tuple[subprocess.Popen[str], str, Path],
) -> None:
    dev, _, data_dir = started
    java = java_child(dev)
    os.kill(dev.pid, signal.SIGKILL)  # the stack's process only, not its group
    dev.wait(10)
    assert wait_gone(java), "DynamoDB Local dies with its parent (PR_SET_PDEATHSIG)"
    port = free_port()
    again = start_dev(port, data_dir)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", again)  # the lock died with the process
    finally:
        assert stop(again) == 0


def test_a_second_stack_on_the_same_data_dir_refuses_clearly(
    started: tuple[subprocess.Popen[str], str, Path],
) -> None:
    dev, _, data_dir = started
    result = subprocess.run(
        [
            sys.executable, "-m", "dynamotalk.cli", "dev", "--port", str(free_port()),
            "--web-port", str(free_port()), "--data-dir", str(data_dir),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"is in use by another dynamotalk dev (pid {dev.pid})" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    java = java_child(dev)  # the first stack is untouched
    # SIGHUP (its terminal was closed) stops it as Ctrl-C does, and frees the data dir.
    dev.send_signal(signal.SIGHUP)
    assert_all_stopped(dev, java, data_dir)


def test_an_orphan_from_an_older_crash_is_stopped_before_starting(tmp_path: Path) -> None:
    jar = find_dynamodb_local_jar()
    assert jar is not None
    data_dir = tmp_path / "data"
    engine_dir = data_dir / "dynamodb"
    engine_dir.mkdir(parents=True)
    # What the old stack left behind: an engine in its own session, no parent-death signal,
    # no pid file.
    orphan = subprocess.Popen(
        [
            "java", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
            "-port", str(free_port()), "-dbPath", str(engine_dir), "-sharedDb",
        ],
        cwd=jar.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    port = free_port()
    dev = start_dev(port, data_dir)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", dev)
        log = (data_dir / "dev.log").read_text()
        assert f"stopped DynamoDB Local (pid {orphan.pid}) left running on {data_dir}" in log
        assert orphan.wait(30) is not None
        assert java_child(dev) != orphan.pid
    finally:
        if orphan.poll() is None:
            orphan.kill()
        assert stop(dev) == 0


def test_fresh_wipes_the_data_and_keeps_the_lock(
    started: tuple[subprocess.Popen[str], str, Path],
) -> None:
    dev, base, data_dir = started
    alice = User(base, "fresh")
    alice.room("to be wiped")
    assert stop(dev) == 0
    (data_dir / "mine.txt").write_text("not the stack's")
    port = free_port()
    again = start_dev(port, data_dir, "--fresh")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", again)
        assert "--fresh: removed dynamodb" in (data_dir / "dev.log").read_text()
        names = [
            r["name"]
            for r in User(f"http://127.0.0.1:{port}", "after").get("/rooms/public")["rooms"]
        ]
        assert "to be wiped" not in names
        assert "lobby" in names
        assert (data_dir / "mine.txt").read_text() == "not the stack's"
    finally:
        assert stop(again) == 0


def test_a_dead_dynamodb_local_is_reported_answered_unavailable_and_recovered(
    started: tuple[subprocess.Popen[str], str, Path],
) -> None:
    dev, base, data_dir = started
    alice = User(base, "survivor")
    room_id = alice.room("through the outage")
    socket = alice.socket()
    assert socket.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
    socket.post(room_id, "before")

    java = java_child(dev)
    os.kill(java, signal.SIGKILL)
    # The engine is down until the watchdog has restarted it (a JVM start: seconds).
    refused = socket.call(
        {"action": "sendMessage", "roomId": room_id, "text": "during", "clientId": "during-1"},
        timeout=30,
    )
    assert refused["type"] == "error", refused
    assert refused["error"]["code"] == "unavailable"
    assert refused["error"]["retryable"] is False
    assert refused["error"]["retryAfterMs"] > 0

    found = wait_for_log(
        data_dir,
        rf"DynamoDB Local \(pid {java}\) was killed by SIGKILL; restarting it on port (\d+)",
    )
    wait_for_log(data_dir, rf"DynamoDB Local is back \(pid (\d+)\) on port {found.group(1)}")
    after = socket.post(room_id, "after the restart", client_id="during-1")
    assert after["text"] == "after the restart"
    socket.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == after["id"])
    socket.close()
    assert dev.poll() is None, "the stack kept serving"
    log = (data_dir / "dev.log").read_text()
    assert "Traceback" not in log
    assert "outcome=ok" not in "\n".join(line for line in log.splitlines() if "during" in line)


def test_the_stack_exits_non_zero_when_dynamodb_local_cannot_be_kept_alive(
    tmp_path: Path,
) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    dev = start_dev(port, data_dir, "--max-restarts", "0")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", dev)
        java = java_child(dev)
        os.kill(java, signal.SIGKILL)
        assert dev.wait(60) == 3
    finally:
        if dev.poll() is None:
            stop(dev)
    log = (data_dir / "dev.log").read_text()
    assert f"DynamoDB Local (pid {java}) was killed by SIGKILL" in log
    assert "the stack stops" in log
    assert "DynamoTalk local stack stopped." in log
    assert not any("DynamoDBLocal.jar" in cmdline(pid) for pid in children(dev.pid))
