"""The Lambda runtime's Python (3.13) on this machine, and bytecode compiled by it, reproducibly.

Lambda unpacks the code zip in /var/task and the layers in /opt, both read-only: a module
shipped without bytecode compiled by the runtime's own Python is compiled again on every cold
start. infra/package.py compiles everything it ships here, in `unchecked-hash` mode: no
timestamps in the .pyc (the archives stay reproducible), never re-checked against the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PYTHON_VERSION = "3.13"
"""The Lambda runtime's Python (functions.RUNTIME): wheels and bytecode are made for it."""
BYTECODE_TAG = f"cpython-{PYTHON_VERSION.replace('.', '')}"
TASK_ROOT = "/var/task"
"""Where Lambda unpacks the zip: the path tracebacks show for shipped bytecode."""


class RuntimePythonMissing(RuntimeError):
    """No Python 3.13 on this machine to compile the bytecode Lambda's runtime loads."""


def runtime_python() -> Path:
    """This machine's Python 3.13: on PATH as python3.13, or under `pyenv root`."""
    candidates = [shutil.which(f"python{PYTHON_VERSION}")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run(  # noqa: S603 - fixed argv
            [pyenv, "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if root:
            versions = sorted(Path(root, "versions").glob(f"{PYTHON_VERSION}*"), reverse=True)
            candidates += [str(v / "bin" / f"python{PYTHON_VERSION}") for v in versions]
    for candidate in candidates:
        if candidate and _is_runtime_python(candidate):
            return Path(candidate)
    raise RuntimePythonMissing(
        f"the Lambda runtime is Python {PYTHON_VERSION} and its bytecode must be compiled by "
        f"that version: install it (e.g. `pyenv install {PYTHON_VERSION}` or your package "
        f"manager's python{PYTHON_VERSION}) so python{PYTHON_VERSION} is on PATH"
    )


def _is_runtime_python(executable: str) -> bool:
    probe = subprocess.run(  # noqa: S603 - a candidate interpreter, fixed arguments
        [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == PYTHON_VERSION


def compile_bytecode(directory: Path, prefix: str = TASK_ROOT) -> None:
    """Compile every module under `directory` with the runtime's Python, reproducibly.

    unchecked-hash: no source timestamps in the .pyc, and the runtime never re-checks the
    source (it is read-only anyway). PYTHONHASHSEED=0 fixes the order of set constants; one
    process, sorted walk: the same files always yield the same bytes. `prefix` is where Lambda
    unpacks `directory` (/var/task, or /opt/python for a layer): the path tracebacks show.
    """
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(  # noqa: S603 - fixed argv, the runtime's interpreter
        [
            str(runtime_python()), "-m", "compileall", "-q", "-f",
            "--invalidation-mode", "unchecked-hash",
            "-s", str(directory), "-p", prefix, str(directory),
        ],
        check=True,
        env=environment,
    )  # fmt: skip
