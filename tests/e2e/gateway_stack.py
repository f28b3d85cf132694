"""Start tests/e2e/gateway_server.py (a local gateway with test settings) and wait for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx

from dynamotalk.local.emulators import free_port

ROOT = Path(__file__).resolve().parents[2]


@attrs.frozen
class GatewayStack:
    api: str
    """The API origin (WebSocket at /ws, HTTP API at /api, Cognito at /cognito)."""
    web: str
    """The web client's origin, allowed by the API's CORS."""
    log: Path

    @property
    def ws(self) -> str:
        return self.api.replace("http://", "ws://") + "/ws"

    def recorded(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.api}/_test/recorded", timeout=10).json()
        return answer


def start(
    dynamodb_local: str, moto_server: str, log_dir: Path, **options: Any
) -> Iterator[GatewayStack]:
    api_port, web_port = free_port(), free_port()
    log = log_dir / "gateway.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "tests.e2e.gateway_server", dynamodb_local, moto_server,
                str(api_port), str(web_port), json.dumps(options),
            ],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    stack = GatewayStack(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}", log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gateway server exited:\n{log.read_text()}")
        try:
            if (
                httpx.get(f"{stack.api}/health", timeout=1).status_code == 200
                and httpx.get(f"{stack.web}/config.json", timeout=1).status_code == 200
            ):
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"gateway server did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield stack
    process.send_signal(signal.SIGINT)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
