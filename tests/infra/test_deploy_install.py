"""`pulumi install` / `pulumi up` on a fresh machine: Pulumi's pip toolchain creates the
project's virtualenv and installs requirements.txt, nothing else (pyproject.toml is read only
through that file's `-e .`, the editable install of the project).
This runs the same steps with the same files, without the CLI, then runs infra/__main__.py in
that virtualenv under Pulumi's mocks.

Pulumi's steps (sdk/python/toolchain/pip.go, InstallDependencies; the Python language page:
https://www.pulumi.com/docs/iac/languages-sdks/python/):
  python3 -m venv <virtualenv>
  <virtualenv>/bin/python -m pip install --upgrade pip setuptools wheel
  <virtualenv>/bin/python -m pip install -r requirements.txt     (in the project directory)
The test adds --no-compile to both installs: pip's byte-compilation of pulumi-aws's thousands of
modules was most of this test's time (40 of 47 s of CPU) and changes nothing that is installed;
Python compiles the modules the program imports when it imports them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import yaml

from dynamotalk.routes import FUNCTIONS
from dynamotalk.workers import PUSH_SENDER

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements.txt"

# Runs inside the fresh virtualenv: `pulumi up`'s program under mocks, then reports which
# installed distributions the program actually imported.
# It runs as Pulumi's exec script does: a file outside the project (so neither the project root
# nor src/ is on sys.path), running the program directory `main: infra/` names. `dynamotalk` and
# `infra` come from requirements.txt's editable install of the project, or not at all.
RUN_PROGRAM = """
import importlib.util, json, runpy, sys
from importlib import metadata
from pathlib import Path
root = Path.cwd()
assert str(root) not in sys.path and str(root / "src") not in sys.path, sys.path
import pulumi
spec = importlib.util.spec_from_file_location("stack_runner", root / "tests/infra/stack_runner.py")
stack_runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stack_runner)
OptionsMonitor, Recorder = stack_runner.OptionsMonitor, stack_runner.Recorder
recorder = Recorder(region="eu-west-1")
pulumi.runtime.set_mocks(
    recorder, project="dynamotalk", stack="dev", preview=False, monitor=OptionsMonitor(recorder)
)
pulumi.runtime.set_all_config({"aws:region": "eu-west-1"})
namespace = {}

@pulumi.runtime.test
def program():
    namespace.update(runpy.run_path(str(root / "infra")))
    return pulumi.Output.all(*namespace["stack"].outputs.values())

program()
owners = metadata.packages_distributions()
used = sorted({d for m in list(sys.modules) for d in owners.get(m.split(".")[0], [])})
print(json.dumps({
    "dynamotalk": sys.modules["dynamotalk"].__file__,
    "functions": len(recorder.of("aws:lambda/function:Function")),
    "archives": [namespace["archives"].code.name]
    + [path.name for path in namespace["archives"].layers.values()],
    "used": used,
}))
"""


PROJECT = "-e ."
"""requirements.txt's one line that is not a pin: the project itself, editable, so the program
imports `dynamotalk` and `infra` as installed packages (pyproject.toml lists both)."""


def pins() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    assert PROJECT in lines, "requirements.txt installs the project: -e ."
    found = {}
    for line in filter(None, lines):
        if line == PROJECT:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"requirements.txt pins exactly (name==version): {line!r}"
        found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_pulumi_yaml_uses_the_pip_toolchain_and_requirements_txt_pins_what_venv_runs() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["toolchain"] == "pip"
    assert project["main"] == "infra/"
    pinned = pins()
    assert {"pulumi", "pulumi-aws", "attrs"} <= set(pinned)
    # The versions `make test` runs the program with, so pulumi up runs what was tested.
    assert pinned == {name: metadata.version(name) for name in pinned}


def test_pulumis_install_step_gives_a_virtualenv_that_runs_the_program(tmp_path: Path) -> None:
    python = os.environ.get("PULUMI_PYTHON_CMD") or "python3"  # what Pulumi looks for
    executable = shutil.which(python) or sys.executable
    venv = tmp_path / "venv"
    subprocess.run([executable, "-m", "venv", str(venv)], check=True)
    venv_python = str(venv / "bin" / "python")
    for args in (
        ["--upgrade", "pip", "setuptools", "wheel"],
        ["-r", "requirements.txt"],
    ):
        subprocess.run(
            [venv_python, "-m", "pip", "install", "--quiet", "--no-compile", *args],
            cwd=ROOT,
            check=True,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
    script = tmp_path / "pulumi_exec.py"
    script.write_text(RUN_PROGRAM)
    ran = subprocess.run(
        [venv_python, str(script)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert Path(report["dynamotalk"]).is_relative_to(ROOT / "src")
    # push_sender only where the stage has `push` on (this config leaves it off).
    assert report["functions"] == len([f for f in FUNCTIONS if f.module != PUSH_SENDER])
    # The stage's architecture (dev: arm64) names the zips `pulumi up` uploads.
    assert report["archives"] == ["lambda-arm64.zip", "deps-layer-arm64.zip", "jwt-layer-arm64.zip"]
    # Exactly the program's imports: every pinned distribution is one the program loaded.
    used = {name.lower().replace("_", "-") for name in report["used"]}
    assert set(pins()) <= used, set(pins()) - used
