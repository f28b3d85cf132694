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


def start_dev(port: int, data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    """Start `dynamotalk dev`; its output goes to data_dir/dev.log (a pipe nobody reads would
    fill up and stall the server)."""
    # A quick bot breaker so the end-to-end test can watch it open and close.
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DYNAMOTALK_BOT_BREAKER_THRESHOLD": "2",
        "DYNAMOTALK_BOT_BREAKER_COOLDOWN_S": "2",
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "dev.log").open("w")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dynamotalk.cli",
            "dev",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _log_of(process: subprocess.Popen[str]) -> str:
    args = list(process.args)  # type: ignore[arg-type]
    data_dir = Path(args[args.index("--data-dir") + 1])
    return (data_dir / "dev.log").read_text()


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
