"""Local Cognito: sign-up, confirm and sign-in through LocalAws as the pool grows.

LocalAws (`python -m dynamotalk.local.aws --data-dir ...`, its own process as in `dynamotalk
dev`) keeps Cognito on disk before it answers. Every test that creates users goes through it,
so its cost per user must not grow with the number of users already in the pool. One client
signs users up one after another (SignUp, AdminConfirmSignUp, InitiateAuth: three writes),
then 8 clients sign 100 more up at once; reported: milliseconds per user for the first 100,
the last 100 and the concurrent 100, and the state's size on disk; met when the last 100 cost
at most GROWTH_LIMIT times the first. `python -m bench local_cognito`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.table import Table, met
from dynamotalk.local.emulators import free_port
from dynamotalk.local.provision import client, ensure_user_pool

PASSWORD = "bench-password-1"  # noqa: S105 - loopback test users only


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = ["--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "dynamotalk.local.aws", *args],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    endpoint = process.stdout.readline().decode().strip()
    return process, endpoint


def _size(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def _user(cognito: Any, pool_id: str, client_id: str, name: str) -> None:
    cognito.sign_up(
        ClientId=client_id, Username=name, Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )  # fmt: skip
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=name)
    cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )  # fmt: skip


def measure(users: int, block: int = 100, parallel: int = 8) -> dict[str, float]:
    """Milliseconds per user: the first and the last `block` of `users` signed up one after
    another, then `block` more by `parallel` clients at once; and the state's size."""
    data_dir = Path(tempfile.mkdtemp(prefix="cognito-bench-"))
    process, endpoint = _start(data_dir)
    try:
        cognito = client("cognito-idp", endpoint)
        pool_id, client_id = ensure_user_pool(cognito, "bench")
        blocks: list[float] = []
        for first in range(0, users, block):
            started = time.perf_counter()
            for n in range(first, min(users, first + block)):
                _user(cognito, pool_id, client_id, f"bench{n}")
            blocks.append((time.perf_counter() - started) * 1000 / min(block, users - first))
        started = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            list(
                pool.map(
                    lambda n: _user(cognito, pool_id, client_id, f"bench{n}"),
                    range(users, users + block),
                )
            )
        concurrent = (time.perf_counter() - started) * 1000 / block
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    return {
        "first": blocks[0],
        "last": blocks[-1],
        "concurrent": concurrent,
        "bytes": _size(data_dir),
    }


GROWTH_LIMIT = 1.5
"""Target: a user costs at most this many times more in the last block than in the first (the
cost per user must not grow with the pool)."""


def run(quick: bool) -> Table:
    sizes = (10,) if quick else (100, 400)
    table = Table(
        "LocalAws Cognito: sign-up + confirm + sign-in per user, state kept on disk "
        f"(target: last 100 <= {GROWTH_LIMIT:g}x first 100)",
        [
            "users",
            "ms/user first 100",
            "ms/user last 100",
            "ms/user next 100, 8 clients",
            "state on disk KB",
            f"met (<= {GROWTH_LIMIT:g}x)",
        ],
    )
    for users in sizes:
        r = measure(users, block=10 if quick else 100)
        within = r["last"] <= GROWTH_LIMIT * r["first"]
        table.add(users, r["first"], r["last"], r["concurrent"], r["bytes"] / 1024, met(within))
    return table


if __name__ == "__main__":
    print(run("--quick" in sys.argv).render())
