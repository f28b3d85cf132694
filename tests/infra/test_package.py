"""The Lambda zip: deterministic, with the handlers, the package and its runtime dependencies,
and without boto3 (the runtime has it), tests, infra, pulumi or the local stack.

The dependencies are pip-installed for Lambda once into build/deps/ (keyed by the requirement
list) and reused by every later run, so only the first run on a machine downloads wheels.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from infra import package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deps() -> Path:
    return package.install_dependencies("arm64")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, deps: Path) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("zips")
    first = package.build_zip(directory / "first.zip", deps)
    second = package.build_zip(directory / "second.zip", deps)
    return first, second


def test_same_inputs_same_bytes(built: tuple[Path, Path]) -> None:
    first, second = built
    assert first.read_bytes() == second.read_bytes()


def test_bytes_do_not_depend_on_file_times_modes_or_creation_order(tmp_path: Path) -> None:
    # Two copies of the sources, made in opposite orders with different mtimes and modes
    # (no dependencies, to keep it fast: they go through the same code path).
    deps = tmp_path / "deps"
    (deps / "somedep").mkdir(parents=True)
    (deps / "somedep" / "__init__.py").write_text("VALUE = 1\n")
    copies = []
    for n, order in enumerate((sorted, lambda files: sorted(files, reverse=True))):
        root = tmp_path / f"copy{n}"
        for relative in order(["src/dynamotalk", "lambdas"]):
            shutil.copytree(ROOT / relative, root / relative, copy_function=shutil.copy)
        for path in root.rglob("*"):
            if path.is_file():
                os.utime(path, (1_000_000 * (n + 1), 1_000_000 * (n + 1)))
                path.chmod(0o600 if n else 0o755)
        copies.append(package.build_zip(tmp_path / f"copy{n}.zip", deps, root=root))
    assert copies[0].read_bytes() == copies[1].read_bytes()


def test_contents(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    tops = {name.split("/")[0] for name in names}
    handlers = {f"lambdas/{p.name}" for p in (ROOT / "lambdas").glob("*.py")}
    assert {"lambdas/ws_default.py", "lambdas/http_api.py"} <= handlers <= set(names)
    for module in ("__init__", "routes", "tables", "service", "wire", "settings"):
        assert f"dynamotalk/{module}.py" in names
    assert "dynamotalk/adapters/dynamodb.py" in names
    assert {"attr", "attrs", "cattrs", "structlog", "jwt", "cryptography"} <= tops
    assert not tops & {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "urllib3",
        "dateutil",
        "six.py",
        "tests",
        "infra",
        "pulumi",
        "pulumi_aws",
        "moto",
        "bin",
    }
    assert not any(n.startswith("dynamotalk/local/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 & 0o777 for i in infos} <= {0o644, 0o755}


def test_aarch64_wheels_for_python_3_13(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        native = [n for n in archive.namelist() if n.endswith(".so")]
    assert native, "cryptography ships a native extension"
    assert all("x86_64" not in n for n in native)
    assert any("aarch64" in n or "abi3" in n for n in native)
    assert not any("cpython-311" in n for n in native)  # not this machine's Python


def test_runtime_requirements_leave_boto3_to_lambda() -> None:
    requirements = package.runtime_requirements()
    assert not any(r.lower().startswith(("boto3", "botocore")) for r in requirements)
    assert any(r.startswith("attrs") for r in requirements)
    assert any(r.startswith("pyjwt[crypto]") for r in requirements)


def test_command_prints_the_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "lambda.zip"
    package.main(["--arch", "arm64", "--output", str(output)])
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{output}: ")
    megabytes = float(line.split(": ")[1].split(" MB")[0])
    assert megabytes == round(output.stat().st_size / 1e6, 2)
    assert "files, sha256" in line
