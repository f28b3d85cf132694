"""P3 cold start: import time of each Lambda module in a fresh interpreter, minus `import boto3`.

Adapters are built at import (that is the cold start a user pays), so the figure includes the
boto3 clients each handler creates. Naive baseline: the same handler importing boto3's resource
API (`boto3.resource("dynamodb")`), which most samples use.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

from bench.table import Table
from dynamotalk.routes import FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "DYNAMOTALK_STAGE": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "DYNAMOTALK_TABLE": "dynamotalk-bench-chat",
    "DYNAMOTALK_BUCKET": "dynamotalk-bench-attachments",
    "DYNAMOTALK_USER_POOL_ID": "us-east-1_bench",
    "DYNAMOTALK_USER_POOL_CLIENT_ID": "benchclient",
    "DYNAMOTALK_WS_MANAGEMENT_ENDPOINT": "https://example.execute-api.us-east-1.amazonaws.com/b",
    "DYNAMOTALK_BOT_MODEL_ID": "anthropic.claude-3-haiku-20240307-v1:0",
}

_TIMER = """
import time, sys
t = time.perf_counter()
{code}
sys.stdout.write(repr((time.perf_counter() - t) * 1000))
"""


def _time(code: str, runs: int) -> float:
    env = {**os.environ, **ENV, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _TIMER.format(code=code)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(out.stdout))
    return statistics.median(samples)


def run(quick: bool) -> Table:
    runs = 1 if quick else 10
    table = Table(
        f"P3 cold start: import time in a fresh interpreter (median of {runs})",
        ["module", "import ms", "over boto3 ms", "target <= 60 ms"],
    )
    boto3_ms = _time("import boto3", runs)
    table.add("import boto3 (baseline)", boto3_ms, 0.0, "")
    naive = _time("import boto3; boto3.resource('dynamodb'); boto3.client('s3')", runs)
    table.add("naive: boto3.resource + s3 client", naive, naive - boto3_ms, "")
    for function in FUNCTIONS:
        ms = _time(f"import lambdas.{function.module}", runs)
        over = ms - boto3_ms
        table.add(f"lambdas.{function.module}", ms, over, "yes" if over <= 60 else "NO")
    zip_path = ROOT / "build" / "lambda-arm64.zip"
    if zip_path.exists():
        with zipfile.ZipFile(zip_path) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
        size_mb = zip_path.stat().st_size / 1e6
        table.notes.append(
            f"Lambda zip: {size_mb:.2f} MB zipped, {unpacked / 1e6:.2f} MB unpacked "
            f"(target <= 5 MB without boto3): build/lambda-arm64.zip from `make package`"
        )
    else:
        table.notes.append("Lambda zip size: run `make package` first (build/lambda-arm64.zip)")
    return table
