"""P3 cold start, as Lambda runs it: each function's package unpacked, imported read-only.

infra/package.py builds the packages (the functions' code, the deps layer every function adds
and the JWT layer the token verifiers add) for this machine's architecture;
bench/lambda_sandbox.py unpacks them (each function's layers merged in one /opt) and imports
each handler module in a fresh interpreter of the runtime's Python with Lambda's search path
(/var/task, /opt/python/lib/python3.13/site-packages, /opt/python, /var/runtime with boto3's
family), the function's environment and no bytecode writes. The import includes what each handler builds at import (settings, clients,
adapters): the cold start a user pays. Baseline: `import boto3` in the same setup, same rounds.
Naive row: the message route from the same package without its shipped bytecode (what every
cold start paid before the package compiled for the runtime); and the message route with the
collector left on during init (lambdas/__init__.py turns it off where AWS_EXECUTION_ENV says
Lambda). Package sizes are the stage's
default architecture's (arm64), as deployed: the code zip (<= 1 MB, and its headroom), plus the
layers the function adds.
"""

from __future__ import annotations

import platform
import shutil
import statistics
import tempfile
import zipfile
from pathlib import Path

import attrs

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
SIZE_TARGET_MB = package.ZIP_LIMIT_BYTES / 1e6
"""Issue 16: every function's own code zip ships at most 1 MB (its layers are shared)."""
STAGE = "bench"
REGION = "us-east-1"
FIRST_USE = {"fanout": "delivery", "fanout_pages": "delivery"}
"""Handlers that build their adapters on the first invocation, not at import: the bootstrap
function each calls first is timed with the import (the cold start an invocation pays)."""
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


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def _sizes(archive: Path) -> tuple[float, float]:
    with zipfile.ZipFile(archive) as opened:
        unpacked = sum(i.file_size for i in opened.infolist())
    return archive.stat().st_size / 1e6, unpacked / 1e6


@attrs.frozen
class Probe:
    """One row's measurement: `code` in a fresh interpreter with this path, env and cwd."""

    code: str
    path: list[Path]
    env: dict[str, str]
    cwd: Path
    forbidden: frozenset[str] = frozenset()


def _probes(
    task: Path, opts: dict[tuple[str, ...], Path], sourced: Path, runtime: Path
) -> dict[str, Probe]:
    """The baseline, the naive rows, then every function as Lambda runs it, each with the
    layers it adds (`opts`: package.layers_of -> those layers unpacked in one /opt)."""
    base = function_environment(WS_DEFAULT)
    collecting = {k: v for k, v in base.items() if k != "AWS_EXECUTION_ENV"}
    handler = f"import lambdas.{WS_DEFAULT}"
    opt = opts[package.layers_of(WS_DEFAULT)]
    probes = {
        "import boto3 (baseline)": Probe(
            "import boto3", sandbox.search_path(task, None, runtime), base, task
        ),
        f"naive: {WS_DEFAULT}, no shipped bytecode": Probe(
            handler, sandbox.search_path(sourced, opt, runtime), base, sourced
        ),
        f"before: {WS_DEFAULT}, GC on during init": Probe(
            handler, sandbox.search_path(task, opt, runtime), collecting, task
        ),
    }
    jwt_tops = frozenset(n for names in package.JWT_ONLY.values() for n in names)
    for function in FUNCTIONS:
        jwt = function.module in package.JWT_FUNCTIONS
        first = FIRST_USE.get(function.module)
        probes[function.module] = Probe(
            f"import lambdas.{function.module}"
            + (f"\nfrom dynamotalk import bootstrap\nbootstrap.{first}()" if first else ""),
            sandbox.search_path(task, opts[package.layers_of(function.module)], runtime),
            function_environment(function.module),
            task,
            frozenset() if jwt else jwt_tops,
        )
    return probes


def run(quick: bool) -> Table:
    runs = 1 if quick else 11  # quick: the checks (imports, no JWT leak, no bytecode written)
    try:
        python, version = sandbox.runtime_interpreter()
    except package.RuntimePythonMissing as missing:
        table = Table("P3 cold start as Lambda runs it: not measured", ["function"])
        table.notes.append(f"No Python {package.PYTHON_VERSION} on this machine: {missing}")
        return table
    runtime = sandbox.runtime_boto3(python)
    here = ARCH.get(platform.machine().lower(), "x86_64")
    columns = ["function", "import ms", "over boto3 ms", f"met: <= +{TARGET_MS:.0f} ms"]
    columns += [
        "cpu over boto3 ms",
        "package MB (zip/unpacked)",
        f"met: zip <= {SIZE_TARGET_MB:.0f} MB",
        "zip headroom KB",
    ]
    table = Table(
        f"P3 cold start as Lambda runs it: unpacked package, read-only, Python {version} "
        f"(median of {runs})",
        columns,
    )
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        deps = package.install_dependencies(here)
        task = sandbox.unpack(package.build_zip(root / "code.zip"), root / "var" / "task")
        layers = {n: package.build_layer(root / f"{n}.zip", deps, n) for n in package.LAYERS}
        sets = {package.layers_of(f.module) for f in FUNCTIONS}
        opts = {
            names: sandbox.unpack_layers([layers[n] for n in names], root / "-".join(names))
            for names in sorted(sets)
        }
        sourced = sandbox.unpack(root / "code.zip", root / "sources" / "task")
        for cache in sorted(sourced.rglob("__pycache__"), reverse=True):
            shutil.rmtree(cache)
        before = {d: sandbox.files_under(d) for d in (task, *opts.values(), sourced)}
        probes = _probes(task, opts, sourced, runtime)
        for _ in range(runs):  # rounds: each row sees the machine's load alike
            for label, probe in probes.items():
                ms, cpu_ms, leaked = sandbox.time_import(
                    python, probe.code, probe.path, probe.env, probe.cwd, probe.forbidden
                )
                wall.setdefault(label, []).append(ms)
                cpu.setdefault(label, []).append(cpu_ms)
                if leaked:
                    table.ok = False
                    table.notes.append(f"{label} imported JWT-only modules: {leaked[:5]}")
        written = {d.name: sorted(sandbox.files_under(d) - files) for d, files in before.items()}
        # The code zip is the same on both architectures (our sources, no native code).
        code_mb = _sizes(root / "code.zip")
        headroom_kb = (package.ZIP_LIMIT_BYTES - (root / "code.zip").stat().st_size) / 1e3
        if here != "arm64":  # only a layer with native code differs on arm64
            arm = package.install_dependencies("arm64")
            native = [n for n, p in layers.items() if any(".so" in f for f in _names(p))]
            layers |= {n: package.build_layer(root / f"{n}-arm64.zip", arm, n) for n in native}
        layer_mb = {n: _sizes(layers[n]) for n in package.LAYERS}
    boto3_ms, boto3_cpu = (statistics.median(d["import boto3 (baseline)"]) for d in (wall, cpu))
    for label in probes:
        ms, over_cpu = statistics.median(wall[label]), statistics.median(cpu[label]) - boto3_cpu
        if label not in {f.module for f in FUNCTIONS}:
            table.add(label, ms, ms - boto3_ms, "", over_cpu, "", "", "")
            continue
        size = f"{code_mb[0]:.2f}/{code_mb[1]:.2f}" + "".join(
            f" + {n} {layer_mb[n][0]:.2f}/{layer_mb[n][1]:.2f}" for n in package.layers_of(label)
        )
        fits = met(code_mb[0] <= SIZE_TARGET_MB)
        table.add(
            label,
            ms,
            ms - boto3_ms,
            met(ms - boto3_ms <= TARGET_MS),
            over_cpu,
            size,
            fits,
            f"{headroom_kb:.0f}",
        )
    if any(written.values()):
        table.ok = False
        table.notes.append(f"bytecode written into the unpacked packages: {written}")
    table.notes += [
        f"Interpreter: {python} ({version}), the runtime's Python {package.PYTHON_VERSION}.",
        f"/var/runtime: {runtime.name} (the venv's versions, compiled); timed on {here}; "
        "sizes for arm64: the code zip (every function's own, <= 1 MB; headroom = 1 MB minus "
        f"it) + the deps layer (every function) + the JWT layer "
        f"({', '.join(sorted(package.JWT_FUNCTIONS))}).",
        "cpu: the import's process CPU time, steadier than the wall clock on a shared machine.",
        f"{', '.join(sorted(FIRST_USE))}: the import and the first invocation's "
        "bootstrap.delivery() (built lazily).",
        "No bytecode written into the unpacked trees (checked after every run)."
        if not any(written.values())
        else "Bytecode WAS written (see above).",
    ]
    return table
