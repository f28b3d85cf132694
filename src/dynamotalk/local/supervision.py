"""How `dynamotalk dev` keeps its processes in hand: the data directory's lock, the watchdog
that restarts DynamoDB Local, and the stop signals that end the stack in order.

The data directory is locked while a stack uses it (a second `dynamotalk dev` on it refuses); a
watchdog restarts DynamoDB Local if it dies and stops the stack (exit code 3) after
--max-restarts; SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) all stop the servers,
DynamoDB Local and moto in order, at any point, starting included; a second one while stopping
cuts the servers' graceful wait short.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

import attrs

from dynamotalk.local.emulators import DynamoDBLocal, EmulatorError, stop_orphans

LOCK_FILE = "dev.lock"
FRESH_ENTRIES = ("dynamodb", "aws")
"""What --fresh removes from the data directory: DynamoDB Local's files and the emulated
AWS services' state. Nothing else there is touched (logs, or a user's own files)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Each stops the stack the same way, cleanly (see Control.on_signal)."""


class DataDirInUse(Exception):
    """Another `dynamotalk dev` holds the data directory's lock."""


@contextlib.contextmanager
def locked(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on data_dir for as long as the stack runs (released by the
    kernel if the process dies, so a crash never leaves a stale lock)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = (data_dir / LOCK_FILE).open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise DataDirInUse(
                f"{data_dir} is in use by another dynamotalk dev (pid {holder}); stop it, "
                f"or give this one its own --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def wipe(data_dir: Path) -> list[str]:
    """--fresh: remove the stack's state (with the lock held); returns what was removed."""
    removed = []
    engine_dir = data_dir / "dynamodb"
    if engine_dir.is_dir():
        stop_orphans(engine_dir)  # an engine still writing there would undo the wipe
    for name in FRESH_ENTRIES:
        path = data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(name)
        elif path.exists():
            path.unlink()
            removed.append(name)
    return removed


class StopWhileStarting(BaseException):
    """Raised by the signal handler while the stack is still starting."""


@attrs.define
class Control:
    """What the signal handlers and the watchdog act on: the running servers, the exit code."""

    servers: list[Any] = attrs.Factory(list)
    exit_code: int = 0
    stopping: bool = False
    cleaning_up: bool = False
    lock: threading.Lock = attrs.Factory(threading.Lock)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.cleaning_up:
            return
        if self.stopping:  # asked twice: don't wait for open connections to finish
            for server in self.servers:
                server.force_exit = True
        self.stop()
        if not self.servers:
            raise StopWhileStarting

    def stop(self, exit_code: int = 0) -> None:
        with self.lock:
            self.stopping = True
            self.exit_code = self.exit_code or exit_code
            for server in self.servers:
                server.should_exit = True


def _how_it_ended(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


@attrs.define
class Watchdog:
    """Watches DynamoDB Local while the stack runs: says at once when it dies, restarts it on
    the same port and data directory, and gives up after `max_restarts` restarts."""

    engine: DynamoDBLocal
    say: Callable[[str], None]
    give_up: Callable[[str], None]
    max_restarts: int = 3
    poll_s: float = 0.25
    restarts: int = 0
    _stopping: threading.Event = attrs.Factory(threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(90)

    def _run(self) -> None:
        while not self._stopping.wait(self.poll_s):
            process = self.engine.process
            code = process.poll()
            if code is None:
                continue
            if self._stopping.is_set():
                return
            where = f"port {self.engine.port}"
            ended = f"DynamoDB Local (pid {process.pid}) {_how_it_ended(code)}"
            if self.restarts >= self.max_restarts:
                self.give_up(
                    f"{ended}; it was restarted {self.restarts} time(s) already "
                    f"(--max-restarts {self.max_restarts}), so the stack stops"
                )
                return
            self.say(f"{ended}; restarting it on {where}")
            self.restarts += 1
            try:
                self.engine.restart()
            except EmulatorError as error:
                self.give_up(f"DynamoDB Local could not be restarted on {where}: {error}")
                return
            self.say(f"DynamoDB Local is back (pid {self.engine.process.pid}) on {where}")
