"""Local Cognito: sign-up, confirm and sign-in through LocalAws as the pool grows.

LocalAws (`python -m dynamotalk.local.aws --data-dir ...`, its own process as in `dynamotalk
dev`) keeps Cognito on disk before it answers. Every test that creates users goes through it,
so its cost per user must not grow with the number of users already in the pool. One client
signs users up one after another (SignUp, AdminConfirmSignUp, InitiateAuth: three writes);
reported: milliseconds per user for the first 100 and for the last 100, and the state's size
on disk. Figures only: `python -m bench local_cognito`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.table import Table
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


def measure(users: int) -> dict[str, float]:
    """Milliseconds per user (sign-up, confirm, sign-in) in blocks of 100, and the state size."""
    data_dir = Path(tempfile.mkdtemp(prefix="cognito-bench-"))
    process, endpoint = _start(data_dir)
    try:
        cognito = client("cognito-idp", endpoint)
        pool_id, client_id = ensure_user_pool(cognito, "bench")
        blocks: list[float] = []
        started = time.perf_counter()
        for n in range(users):
            name = f"bench{n}"
            cognito.sign_up(
                ClientId=client_id, Username=name, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
            )  # fmt: skip
            cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=name)
            cognito.initiate_auth(
                ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
            )  # fmt: skip
            if (n + 1) % 100 == 0 or n + 1 == users:
                now = time.perf_counter()
                blocks.append((now - started) * 1000 / (100 if (n + 1) % 100 == 0 else users % 100))
                started = now
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    return {"first": blocks[0], "last": blocks[-1], "bytes": _size(data_dir)}


def run(quick: bool) -> Table:
    sizes = (20,) if quick else (100, 400)
    table = Table(
        "LocalAws Cognito: sign-up + confirm + sign-in, one client, state kept on disk",
        ["users", "ms/user first 100", "ms/user last 100", "state on disk KB"],
    )
    for users in sizes:
        r = measure(users)
        table.add(users, r["first"], r["last"], r["bytes"] / 1024)
    return table


if __name__ == "__main__":
    print(run("--quick" in sys.argv).render())
