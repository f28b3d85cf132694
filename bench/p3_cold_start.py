"""P3 cold start, as Lambda runs it: each function's package unpacked, imported read-only.

infra/package.py builds the packages (the functions' code, and the JWT layer the token verifiers
add) for this machine's architecture; bench/lambda_sandbox.py unpacks them and imports each
handler module in a fresh interpreter of the runtime's Python with Lambda's search path
(/var/task, /opt/python, /var/runtime with boto3's family), the function's environment and no
bytecode writes. The import includes what each handler builds at import (settings, clients,
adapters): the cold start a user pays. Baseline: `import boto3` in the same setup, same rounds.
Naive row: the message route from the same package without its shipped bytecode (what every
cold start paid before the package compiled for the runtime); and the message route with the
collector left on during init (lambdas/__init__.py turns it off where AWS_EXECUTION_ENV says
Lambda). Package sizes are the stage's
default architecture's (arm64), as deployed.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import zipfile
from pathlib import Path

from bench import lambda_sandbox as sandbox
from bench.table import Table, met
from dynamotalk.permissions import PERMISSIONS
from dynamotalk.routes import FUNCTIONS, function_name
from dynamotalk.settings import environment
from infra import package

WS_DEFAULT = "ws_default"
"""The message route: the heaviest handler, timed without bytecode as the naive row."""
TARGET_MS = 60.0
"""Issue 16: every handler <= `import boto3` + 60 ms."""
SIZE_TARGET_MB = 1.0
"""Issue 16: every function that does not verify JWTs ships at most 1 MB."""
STAGE = "bench"
REGION = "us-east-1"
ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def function_environment(module: str) -> dict[str, str]:
    """What Lambda sets, and what infra/functions.py gives this function (its needs only)."""
    needs = PERMISSIONS[module]
    queue = f"https://sqs.{REGION}.amazonaws.com/123456789012/dynamotalk-{STAGE}"
    variables = environment(
        stage=STAGE,
        table_name=f"dynamotalk-{STAGE}-chat",
        bucket_name=f"dynamotalk-{STAGE}-attachments",
        user_pool_id=f"{REGION}_bench",
        user_pool_client_id="benchclient",
        management_endpoint=f"https://example.execute-api.{REGION}.amazonaws.com/{STAGE}",
        bot="sqs" if needs.queues_bot_jobs else None,
        bot_queue_url=f"{queue}-bot" if needs.queues_bot_jobs else None,
        bot_model_id="anthropic.claude-3-haiku-20240307-v1:0" if needs.answers_bot_jobs else None,
        fanout_pages_queue_url=f"{queue}-pages" if needs.sends_fanout_pages else None,
        event_bus_name=f"dynamotalk-{STAGE}" if needs.publishes_events else None,
    )
    return {
        **{name: str(value) for name, value in variables.items()},
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": function_name(STAGE, module),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{package.PYTHON_VERSION}",
        "LAMBDA_TASK_ROOT": package.TASK_ROOT,
        "_HANDLER": f"lambdas.{module}.handler",
    }


def _sizes(archive: Path) -> tuple[float, float]:
    with zipfile.ZipFile(archive) as opened:
        unpacked = sum(i.file_size for i in opened.infolist())
    return archive.stat().st_size / 1e6, unpacked / 1e6


def run(quick: bool) -> Table:
    runs = 2 if quick else 11
    python, version = sandbox.runtime_interpreter()
    runtime = sandbox.runtime_boto3(python)
    here = ARCH.get(platform.machine().lower(), "x86_64")
    columns = ["function", "import ms", "over boto3 ms", f"met: <= +{TARGET_MS:.0f} ms"]
    columns += ["package MB (zip/unpacked)", f"met: <= {SIZE_TARGET_MB:.0f} MB"]
    table = Table(
        f"P3 cold start as Lambda runs it: unpacked package, read-only, Python {version} "
        f"(median of {runs})",
        columns,
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        deps = package.install_dependencies(here)
        code = package.build_zip(root / "code.zip", deps)
        layer = package.build_layer(root / "layer.zip", deps)
        task = sandbox.unpack(code, root / "var" / "task")
        opt = sandbox.unpack(layer, root / "opt") / package.LAYER_DIR
        sourced = sandbox.unpack(code, root / "sources" / "task")
        for cache in sorted(sourced.rglob("__pycache__"), reverse=True):
            for pyc in cache.iterdir():
                pyc.unlink()
            cache.rmdir()
        before = {d: sandbox.files_under(d) for d in (task, opt, sourced)}
        samples: dict[str, list[float]] = {}
        leaks: dict[str, list[str]] = {}
        jwt_tops = frozenset(n for names in package.JWT_ONLY.values() for n in names)
        modules = [f.module for f in FUNCTIONS]
        for _ in range(runs):
            base_env = function_environment(WS_DEFAULT)
            ms, _leaked = sandbox.time_import(
                python, "import boto3", [task, runtime], base_env, task
            )
            samples.setdefault("boto3", []).append(ms)
            ms, _leaked = sandbox.time_import(
                python, f"import lambdas.{WS_DEFAULT}", [sourced, opt, runtime], base_env, sourced
            )
            samples.setdefault("naive", []).append(ms)
            collecting = {k: v for k, v in base_env.items() if k != "AWS_EXECUTION_ENV"}
            ms, _leaked = sandbox.time_import(
                python, f"import lambdas.{WS_DEFAULT}", [task, opt, runtime], collecting, task
            )
            samples.setdefault("gc", []).append(ms)
            for module in modules:
                jwt = module in package.JWT_FUNCTIONS
                ms, leaked = sandbox.time_import(
                    python,
                    f"import lambdas.{module}",
                    [task, opt, runtime] if jwt else [task, runtime],
                    function_environment(module),
                    task,
                    forbidden=frozenset() if jwt else jwt_tops,
                )
                samples.setdefault(module, []).append(ms)
                leaks[module] = leaked
        written = {d.name: sorted(sandbox.files_under(d) - files) for d, files in before.items()}
        arm = package.install_dependencies("arm64") if here != "arm64" else deps
        code_mb = _sizes(package.build_zip(root / "code-arm64.zip", arm))
        layer_mb = _sizes(package.build_layer(root / "layer-arm64.zip", arm))
    boto3_ms = statistics.median(samples["boto3"])
    table.add("import boto3 (baseline)", boto3_ms, 0.0, "", "", "")
    naive = statistics.median(samples["naive"])
    table.add(f"naive: {WS_DEFAULT}, no shipped bytecode", naive, naive - boto3_ms, "", "", "")
    collecting = statistics.median(samples["gc"])
    table.add(f"{WS_DEFAULT}, GC on during init", collecting, collecting - boto3_ms, "", "", "")
    for module in modules:
        ms = statistics.median(samples[module])
        jwt = module in package.JWT_FUNCTIONS
        size = f"{code_mb[0]:.2f}/{code_mb[1]:.2f}"
        if jwt:
            size += f" + layer {layer_mb[0]:.2f}/{layer_mb[1]:.2f}"
        fits = "" if jwt else met(code_mb[0] <= SIZE_TARGET_MB)
        table.add(module, ms, ms - boto3_ms, met(ms - boto3_ms <= TARGET_MS), size, fits)
        if leaks[module]:
            table.ok = False
            table.notes.append(f"{module} imported JWT-only modules: {leaks[module][:5]}")
    if any(written.values()):
        table.ok = False
        table.notes.append(f"bytecode written into the unpacked packages: {written}")
    table.notes += [
        f"Interpreter: {python} ({version}); the runtime's is {package.PYTHON_VERSION}."
        + ("" if version.startswith(package.PYTHON_VERSION + ".") else " NOT the runtime's."),
        f"/var/runtime: {runtime.name} (the venv's versions, compiled); timed on {here}; "
        f"sizes for arm64 (code zip + the JWT layer for {', '.join(sorted(package.JWT_FUNCTIONS))}).",
        "No bytecode written into the unpacked trees (checked after every run)."
        if not any(written.values())
        else "Bytecode WAS written (see above).",
    ]
    return table
