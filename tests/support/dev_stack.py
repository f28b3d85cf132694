"""Start and stop the real local stack (`dynamotalk dev`) for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def start_dev(
    port: int,
    data_dir: Path,
    *extra: str,
    web_port: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start `dynamotalk dev` with the API on `port` and the web client on `web_port` (a free
    port when not given; see web_url). Its output is appended to data_dir/dev.log (a pipe nobody
    reads would fill up and stall the server; appending keeps the log of a restart's first run).
    """
    # `env` overrides (tight per-user limits for tests/security/test_limits.py, ...).
    # A quick bot breaker so the end-to-end test can watch it open and close.
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DYNAMOTALK_BOT_BREAKER_THRESHOLD": "2",
        "DYNAMOTALK_BOT_BREAKER_COOLDOWN_S": "2",
        **(env or {}),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "dev.log").open("a")
    web_port = web_port or _free_port_but(port)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dynamotalk.cli",
            "dev",
            "--port",
            str(port),
            "--web-port",
            str(web_port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _free_port_but(taken: int) -> int:
    from dynamotalk.local.emulators import free_port

    while (port := free_port()) == taken:
        pass
    return port


def _arg(process: subprocess.Popen[str], flag: str) -> str:
    args = list(process.args)  # type: ignore[arg-type]
    return str(args[args.index(flag) + 1])


def web_url(process: subprocess.Popen[str]) -> str:
    """The web client's origin of a stack started by start_dev."""
    return f"http://127.0.0.1:{_arg(process, '--web-port')}"


def _log_of(process: subprocess.Popen[str]) -> str:
    return (Path(_arg(process, "--data-dir")) / "dev.log").read_text()


def wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 90) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            output = _log_of(process)
            raise RuntimeError(f"dynamotalk dev exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"dynamotalk dev did not serve /health within {timeout}s")


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(10)
