"""A Lambda execution environment on this machine, for timing cold starts the way Lambda runs them.

The function's code zip unpacked in a temporary /var/task, the layers it adds (package.layers_of)
unpacked one over the other in a temporary /opt, as Lambda does, and boto3's family as the
runtime ships it (/var/runtime: the versions this project's venv pins, installed for and
compiled by the runtime's Python). Each sample is a fresh interpreter of the runtime's Python
with Lambda's search path (task, the two layer directories, runtime: `search_path`), the
function's environment, cwd /var/task, and no bytecode writes (-B): /var/task and /opt are
read-only on Lambda, so whatever the packages do not ship compiled is compiled again on every
cold start.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from infra import package

RUNTIME_DIR = package.BUILD / f"runtime-{package.PYTHON_VERSION}"
TIMER = """
import time, sys
started, cpu = time.perf_counter(), time.process_time()
{code}
elapsed = (time.perf_counter() - started) * 1000
cpu = (time.process_time() - cpu) * 1000
leaked = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})
import json
sys.stdout.write(json.dumps([elapsed, cpu, leaked]))
"""


def runtime_interpreter() -> tuple[Path, str]:
    """The runtime's Python (3.13) and its exact version. Without it nothing can be measured
    honestly: the package's bytecode is compiled by it (package.RuntimePythonMissing)."""
    executable = package.runtime_python()
    version = subprocess.run(
        [str(executable), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return executable, version


def runtime_boto3(python: Path) -> Path:
    """boto3's family as Lambda's /var/runtime has it: the venv's versions, compiled by `python`."""
    pins = sorted(
        f"{name}=={importlib.metadata.version(name)}" for name in package.PROVIDED_BY_RUNTIME
    )
    target = RUNTIME_DIR / "-".join(pin.replace("==", "") for pin in pins[:2])
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(
        [
            str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-compile", "--target", str(target), *pins,
        ],
        check=True,
    )  # fmt: skip
    subprocess.run([str(python), "-m", "compileall", "-q", str(target)], check=True)
    (target / ".complete").touch()
    return target


def unpack(archive: Path, into: Path) -> Path:
    """Extract a zip as Lambda does (read-only afterwards: nothing may write bytecode there)."""
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(into)
    return into


def unpack_layers(archives: list[Path], into: Path) -> Path:
    """Extract a function's layers in its order into one /opt, as Lambda merges them."""
    for archive in archives:
        unpack(archive, into)
    return into


def search_path(task: Path, opt: Path | None, runtime: Path) -> list[Path]:
    """Lambda's sys.path for a Python function, before the standard library: the task root,
    the two layer directories it puts on the path (`python/lib/python3.13/site-packages` and
    `python/`, whether a layer fills them or not), then /var/runtime. `opt` None: no layers."""
    if opt is None:
        return [task, runtime]
    python = opt / package.LAYER_DIR
    site = python / "lib" / f"python{package.PYTHON_VERSION}" / "site-packages"
    return [task, site, python, runtime]


def files_under(directory: Path) -> frozenset[str]:
    return frozenset(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


def time_import(
    python: Path,
    code: str,
    search_path: list[Path],
    environment: dict[str, str],
    cwd: Path,
    forbidden: frozenset[str] = frozenset(),
) -> tuple[float, float, list[str]]:
    """Milliseconds `code` takes in a fresh interpreter set up as Lambda's (wall clock, and
    the process's CPU time: steadier on a shared machine), and which of the `forbidden`
    top-level packages it imported."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(str(p) for p in search_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }
    out = subprocess.run(
        [str(python), "-B", "-P", "-s", "-c", TIMER.format(code=code, forbidden=sorted(forbidden))],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed, cpu, leaked = json.loads(out.stdout)
    return float(elapsed), float(cpu), list(leaked)
