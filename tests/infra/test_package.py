"""The Lambda zip and the JWT layer: deterministic, with the handlers, the package and its
runtime dependencies at the locked versions, bytecode compiled for the runtime's Python, and
without boto3 (the runtime has it), tests, infra, pulumi or the local stack; the JWT-only
distributions in the layer alone, for the functions that verify tokens alone.

The dependencies are pip-installed for Lambda once into build/deps/ (keyed by the lock file)
and reused by every later run, so only the first run on a machine downloads wheels.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

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


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory, deps: Path) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("layers")
    first = package.build_layer(directory / "first.zip", deps)
    second = package.build_layer(directory / "second.zip", deps)
    return first, second


def test_same_inputs_same_bytes(built: tuple[Path, Path], layers: tuple[Path, Path]) -> None:
    first, second = built
    assert first.read_bytes() == second.read_bytes()
    assert layers[0].read_bytes() == layers[1].read_bytes()


def test_the_code_zip_fits_1_mb_and_the_layer_holds_the_jwt_only_distributions(
    built: tuple[Path, Path], layers: tuple[Path, Path]
) -> None:
    assert built[0].stat().st_size <= 1_000_000 < layers[0].stat().st_size
    with zipfile.ZipFile(layers[0]) as archive:
        names = archive.namelist()
    assert all(n.startswith(f"{package.LAYER_DIR}/") for n in names)
    tops = {n.split("/")[1].split(".")[0] for n in names}
    installed = {name for names in package.JWT_ONLY.values() for name in names}
    assert installed <= tops
    assert not tops & {"dynamotalk", "lambdas", "attr", "cattrs", "structlog", "emoji"}
    # Tracebacks name the file where Lambda unpacks a layer.
    code = archive_bytes(layers[0], "python/jwt/__pycache__/api_jwt.cpython-313.pyc")
    assert b"/opt/python/jwt/api_jwt.py" in code


def archive_bytes(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_every_module_our_shipped_code_imports_is_shipped(built: tuple[Path, Path]) -> None:
    # infra/reachable.py's walk, checked another way: every import statement in the shipped
    # sources (module level or not) names a shipped module, imports are absolute, and nothing
    # imports by a computed name.
    with zipfile.ZipFile(built[0]) as archive:
        names = set(archive.namelist())
        sources = {n: archive.read(n) for n in names if n.endswith(".py")}
    modules = {n.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for n in sources}
    assert {"dynamotalk.bootstrap", "dynamotalk.adapters.cognito", "lambdas.ws_default"} <= modules
    assert not {"dynamotalk.permissions", "dynamotalk.stage_config"} & modules  # infra's only
    source_tree = {
        p.relative_to(ROOT / "src").with_suffix("").as_posix().removesuffix("/__init__")
        for p in (ROOT / "src" / "dynamotalk").rglob("*.py")
    }
    source_tree = {m.replace("/", ".") for m in source_tree}
    local_only = tuple(
        p.removesuffix("/").removesuffix(".py").replace("/", ".") for p in package.LOCAL_ONLY
    )
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            imported: list[str] = []
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, name
                imported = [node.module or ""]
                imported += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            for module in imported:
                if module in source_tree and not module.startswith(local_only):
                    assert module in modules, (name, module)
        assert b"import_module(" not in source, name
        assert b"__import__(" not in source, name


def test_the_jwt_functions_are_those_that_verify_tokens() -> None:
    # The authorizer builds the identity adapter; `reauth` on the message route verifies the
    # new token with it (bootstrap.sessions()). No other handler reaches either.
    verifying = {
        path.stem
        for path in (ROOT / "lambdas").glob("*.py")
        if re.search(r"bootstrap\.identity\(\)|SESSIONS\.reauth\(", path.read_text())
    }
    assert verifying == package.JWT_FUNCTIONS


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
    for module in (
        *(
            "__init__",
            "routes",
            "tables/__init__",
            "wire/__init__",
            "settings",
            "bootstrap",
            "resilience",
        ),
        *("service/__init__", "service/chat", "service/messages"),
    ):
        assert f"dynamotalk/{module}.py" in names
    assert "dynamotalk/adapters/dynamodb/__init__.py" in names
    assert {"attr", "attrs", "cattrs", "structlog", "emoji"} <= tops
    assert not tops & {"jwt", "cryptography", "cffi", "pycparser"}
    assert "emoji/unicode_codes/emoji.json" in names
    assert not any(re.fullmatch(r"emoji/unicode_codes/emoji_..\.json", n) for n in names)
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
    assert not any(n.startswith(package.LOCAL_ONLY) for n in names)
    # Bytecode for the runtime only, beside every module (none of this machine's Python).
    pycs = {n for n in names if n.endswith(".pyc")}
    ours = {n for n in pycs if n.startswith(("dynamotalk/", "lambdas/"))}
    assert all(re.fullmatch(r"(.+/)?__pycache__/[^/]+\.cpython-313\.pyc", n) for n in ours)
    # The dependencies ship their bytecode alone, in each module's place (no source).
    assert {"attr/_make.pyc", "cattrs/converters.pyc", "structlog/__init__.pyc"} <= pycs
    assert not any(
        n.endswith(".py") and not n.startswith(("dynamotalk/", "lambdas/")) for n in names
    )
    assert not any("__pycache__" in n for n in pycs - ours)
    assert not any(n.startswith(package.UNUSED_MODULES) for n in names)
    for module in (n for n in names if n.endswith(".py")):
        folder, _, stem = module.rpartition("/")
        cached = f"{folder}/__pycache__/{stem[:-3]}.cpython-313.pyc".lstrip("/")
        assert cached in pycs, module
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 & 0o777 for i in infos} <= {0o644, 0o755}


def test_aarch64_wheels_for_python_3_13(layers: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(layers[0]) as archive:
        native = [n for n in archive.namelist() if n.endswith(".so")]
    assert native, "cryptography ships a native extension"
    assert all("x86_64" not in n for n in native)
    assert any("aarch64" in n or "abi3" in n for n in native)
    assert not any("cpython-311" in n for n in native)  # not this machine's Python


def test_bytecode_is_for_python_3_13_and_never_checks_its_source(
    built: tuple[Path, Path],
) -> None:
    runtime = package.runtime_python()
    magic = subprocess.run(
        [
            str(runtime),
            "-c",
            "import importlib.util,sys;sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert magic == "f30d0d0a"  # CPython 3.13's (3571); Lambda's python3.13 runtime loads it
    with zipfile.ZipFile(built[0]) as archive:
        pycs = [n for n in archive.namelist() if n.endswith(".pyc")]
        assert len(pycs) > 100
        for name in pycs:
            header = archive.read(name)[:16]
            assert header[:4].hex() == magic, name
            # PEP 552 flags: 0b01 = hash-based, source never checked (unchecked-hash).
            assert int.from_bytes(header[4:8], "little") == 0b01, name
        # Tracebacks name the file where Lambda unpacks it, not this machine's path.
        code = archive.read("dynamotalk/__pycache__/routes.cpython-313.pyc")
        assert b"/var/task/dynamotalk/routes.py" in code
        assert str(Path.cwd()).encode() not in code


def test_only_locked_versions_are_shipped(
    built: tuple[Path, Path], layers: tuple[Path, Path]
) -> None:
    locked = package.locked_versions()
    shipped = {}
    for path, prefix in ((built[0], ""), (layers[0], f"{package.LAYER_DIR}/")):
        with zipfile.ZipFile(path) as archive:
            shipped.update(
                {
                    package._distribution(m.group(1)): m.group(2)
                    for n in archive.namelist()
                    if (m := re.fullmatch(rf"{prefix}([^/]+)-([^-/]+)\.dist-info/METADATA", n))
                }
            )
    assert shipped == locked
    assert set(package.JWT_ONLY) <= set(locked)


def test_the_lock_pins_every_runtime_requirement_with_hashes() -> None:
    locked = package.locked_versions()
    for line in package.runtime_requirements():
        requirement = Requirement(line)
        version = locked[package._distribution(requirement.name)]
        assert requirement.specifier.contains(version), (line, version)
    text = package.LOCK.read_text()
    pins = re.findall(r"^\S+==\S+", text, re.MULTILINE)
    assert len(pins) == len(locked)
    for block in re.split(r"\n(?=\S)", text.split("\n", 4)[-1].strip()):
        assert "--hash=sha256:" in block, block


def test_a_wheel_that_does_not_match_the_lock_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "lambda-requirements.txt"
    lock.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, package.LOCK.read_text()))
    try:
        with pytest.raises(subprocess.CalledProcessError):
            package.install_dependencies("arm64", lock=lock)
    finally:
        for partial in (package.BUILD / "deps").glob("arm64-*"):
            if not (partial / ".complete").exists():
                shutil.rmtree(partial, ignore_errors=True)


def test_no_python_3_13_stops_the_build_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(package.shutil, "which", lambda name: None)
    with pytest.raises(package.RuntimePythonMissing, match=r"install it .*python3\.13"):
        package.compile_bytecode(tmp_path)


def test_runtime_requirements_leave_boto3_to_lambda() -> None:
    requirements = package.runtime_requirements()
    assert not any(r.lower().startswith(("boto3", "botocore")) for r in requirements)
    assert any(r.startswith("attrs") for r in requirements)
    assert any(r.startswith("pyjwt[crypto]") for r in requirements)


def test_command_prints_the_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "lambda.zip"
    package.main(["--arch", "arm64", "--output", str(output)])
    line, layer = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(f"{output}: ")
    assert layer.startswith(f"{output.with_name('jwt-layer-arm64.zip')}: ")
    megabytes = float(line.split(": ")[1].split(" MB")[0])
    assert megabytes == round(output.stat().st_size / 1e6, 2)
    assert "files, sha256" in line
