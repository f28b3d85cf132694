"""The Lambda zip and its layers: deterministic, with the handlers and the package in the code
zip, their runtime dependencies at the locked versions in the layers, bytecode compiled for the
runtime's Python, and without boto3 (the runtime has it), tests, infra, pulumi or the local
stack; the JWT-only distributions in the JWT layer alone, for the functions that verify tokens
alone; every other dependency in the deps layer every function adds. Each function's code zip
is at most 1 MB, its code and layers within Lambda's quotas, and each handler imports from its
zip and its own layers alone.

The dependencies are pip-installed for Lambda once into build/deps/ (keyed by the lock file)
and reused by every later run, so only the first run on a machine downloads wheels.
"""

from __future__ import annotations

import ast
import os
import platform
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bench import lambda_sandbox as sandbox
from bench.p3_cold_start import ARCH, FIRST_USE, function_environment
from dynamotalk.routes import FUNCTION_BY_MODULE, FUNCTIONS
from infra import package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deps() -> Path:
    return package.install_dependencies("arm64")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("zips")
    first = package.build_zip(directory / "first.zip")
    second = package.build_zip(directory / "second.zip")
    return first, second


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory, deps: Path) -> dict[str, tuple[Path, Path]]:
    """Each of package.LAYERS, built twice."""
    directory = tmp_path_factory.mktemp("layers")
    return {
        layer: (
            package.build_layer(directory / f"{layer}-first.zip", deps, layer),
            package.build_layer(directory / f"{layer}-second.zip", deps, layer),
        )
        for layer in package.LAYERS
    }


def test_same_inputs_same_bytes(
    built: tuple[Path, Path], layers: dict[str, tuple[Path, Path]]
) -> None:
    first, second = built
    assert first.read_bytes() == second.read_bytes()
    assert set(layers) == {package.DEPS_LAYER, package.JWT_LAYER}
    for first, second in layers.values():
        assert first.read_bytes() == second.read_bytes()


def names_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def layer_tops(path: Path) -> set[str]:
    return {n.split("/")[1].split(".")[0] for n in names_in(path)}


def test_the_code_zip_fits_1_mb_and_the_layers_hold_the_dependencies(
    built: tuple[Path, Path], layers: dict[str, tuple[Path, Path]]
) -> None:
    assert built[0].stat().st_size <= package.ZIP_LIMIT_BYTES
    assert {n.split("/")[0] for n in names_in(built[0])} == {"dynamotalk", "lambdas"}
    jwt, shared = layers[package.JWT_LAYER][0], layers[package.DEPS_LAYER][0]
    assert jwt.stat().st_size > package.ZIP_LIMIT_BYTES  # why it is not in every function
    for layer in (jwt, shared):
        assert all(n.startswith(f"{package.LAYER_DIR}/") for n in names_in(layer))
    installed = {name for names in package.JWT_ONLY.values() for name in names}
    assert installed <= layer_tops(jwt)
    assert not layer_tops(jwt) & {"dynamotalk", "lambdas", "attr", "cattrs", "structlog", "emoji"}
    assert {"attr", "attrs", "cattrs", "structlog", "emoji", "typing_extensions"} <= layer_tops(
        shared
    )
    assert not layer_tops(shared) & (installed | {"dynamotalk", "lambdas", "jwt"})
    # Lambda merges a function's layers into one /opt: no file may depend on their order.
    assert not set(names_in(jwt)) & set(names_in(shared))
    # Tracebacks name the file where Lambda unpacks a layer.
    code = archive_bytes(jwt, "python/jwt/__pycache__/api_jwt.cpython-313.pyc")
    assert b"/opt/python/jwt/api_jwt.py" in code
    assert b"/opt/python/attr/_make.py" in archive_bytes(shared, "python/attr/_make.pyc")


def test_each_function_adds_its_layers_within_lambdas_quotas(
    built: tuple[Path, Path], layers: dict[str, tuple[Path, Path]]
) -> None:
    def unzipped(path: Path) -> int:
        with zipfile.ZipFile(path) as archive:
            return sum(i.file_size for i in archive.infolist())

    for function in FUNCTIONS:
        added = package.layers_of(function.module)
        assert added[0] == package.DEPS_LAYER
        assert (package.JWT_LAYER in added) == (function.module in package.JWT_FUNCTIONS)
        assert len(added) <= package.MAX_LAYERS
        total = unzipped(built[0]) + sum(unzipped(layers[n][0]) for n in added)
        assert total <= package.UNZIPPED_LIMIT_BYTES, function.module


def archive_bytes(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def runtime_stdlib() -> frozenset[str]:
    out = subprocess.run(
        [str(package.runtime_python()), "-c", "import sys; print(*sys.stdlib_module_names)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return frozenset(out.stdout.split())


def test_every_module_our_shipped_code_imports_is_shipped(
    built: tuple[Path, Path], layers: dict[str, tuple[Path, Path]]
) -> None:
    # infra/reachable.py's walk, checked another way: every import statement in the shipped
    # sources (module level or not) names a shipped module, imports are absolute, and nothing
    # imports by a computed name. Every other import is the runtime's (its standard library,
    # boto3's family) or a layer's: the deps layer's, or the JWT layer's.
    outside = runtime_stdlib() | {
        name.removesuffix(".py") for names in package.PROVIDED_BY_RUNTIME.values() for name in names
    }
    outside |= {"snapshot_restore_py"}  # the runtime's SnapStart hooks (dynamotalk/snapstart.py)
    in_layers = {top for pair in layers.values() for top in layer_tops(pair[0])}
    third_party: set[str] = set()
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
        tree = ast.parse(source)
        typing_only = {  # `if TYPE_CHECKING:` imports: for mypy, never run
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for statement in node.body
            for inner in ast.walk(statement)
        }
        for node in ast.walk(tree):
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
                top = module.split(".")[0]
                if id(node) not in typing_only and top not in {
                    *("dynamotalk", "lambdas", "__future__"),
                    *outside,
                }:
                    third_party.add(top)
                    assert top in in_layers, (name, module)
        assert b"import_module(" not in source, name
        assert b"__import__(" not in source, name
    assert {"attrs", "cattrs", "structlog", "emoji", "jwt"} <= third_party  # the walk saw them


@pytest.mark.parametrize("layered", [True, False], ids=["with its layers", "zip alone"])
def test_every_handler_imports_from_its_zip_and_its_layers_alone(
    built: tuple[Path, Path],
    layers: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    layered: bool,
) -> None:
    # Lambda's search path (the code zip in /var/task, the function's layers merged in /opt,
    # boto3's family in /var/runtime), as bench p3 times it: each handler's import, and the
    # first call of those that build their adapters lazily, find every module. Without the
    # layers the message route cannot start (one handler as the control, to keep it short):
    # the dependencies really live there.
    python = package.runtime_python()
    runtime = sandbox.runtime_boto3(python)
    task = sandbox.unpack(built[0], tmp_path / "task")
    here = ARCH.get(platform.machine().lower(), "x86_64")
    if layered and here != "arm64":  # the JWT layer's native code must load here
        deps = package.install_dependencies(here)
        jwt = package.build_layer(tmp_path / "jwt.zip", deps, package.JWT_LAYER)
        layers = {**layers, package.JWT_LAYER: (jwt, jwt)}
    for function in FUNCTIONS if layered else [FUNCTION_BY_MODULE["ws_default"]]:
        added = package.layers_of(function.module)
        opt = tmp_path / "-".join(added)
        if layered and not opt.exists():
            sandbox.unpack_layers([layers[n][0] for n in added], opt)
        first = FIRST_USE.get(function.module)
        code = f"import lambdas.{function.module}" + (
            f"\nfrom dynamotalk import bootstrap\nbootstrap.{first}()" if first else ""
        )
        path = sandbox.search_path(task, opt if layered else None, runtime)
        env = {
            "PYTHONPATH": os.pathsep.join(map(str, path)),
            **function_environment(function.module),
        }
        ran = subprocess.run(
            [str(python), "-B", "-P", "-s", "-c", code],
            env=env,
            cwd=task,
            capture_output=True,
            text=True,
            check=False,
        )
        if layered:
            assert ran.returncode == 0, (function.module, ran.stderr[-2000:])
        else:
            assert "ModuleNotFoundError" in ran.stderr, function.module


def test_the_jwt_functions_are_those_that_verify_tokens() -> None:
    # The authorizer builds the identity adapter; `reauth` on the message route verifies the
    # new token with it (bootstrap.sessions()). No other handler reaches either.
    # push_sender signs VAPID JWTs and encrypts Web Push with the same two (push_root).
    verifying = {
        path.stem
        for path in (ROOT / "lambdas").glob("*.py")
        if re.search(
            r"bootstrap\.identity\(\)|SESSIONS\.reauth\(|push_root\.push_sender\(\)",
            path.read_text(),
        )
    }
    assert verifying == package.JWT_FUNCTIONS


def test_bytes_do_not_depend_on_file_times_modes_or_creation_order(tmp_path: Path) -> None:
    # Two copies of the sources, made in opposite orders with different mtimes and modes.
    copies = []
    for n, order in enumerate((sorted, lambda files: sorted(files, reverse=True))):
        root = tmp_path / f"copy{n}"
        for relative in order(["src/dynamotalk", "lambdas"]):
            shutil.copytree(ROOT / relative, root / relative, copy_function=shutil.copy)
        for path in root.rglob("*"):
            if path.is_file():
                os.utime(path, (1_000_000 * (n + 1), 1_000_000 * (n + 1)))
                path.chmod(0o600 if n else 0o755)
        copies.append(package.build_zip(tmp_path / f"copy{n}.zip", root=root))
    assert copies[0].read_bytes() == copies[1].read_bytes()


NOT_SHIPPED = {
    *("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six"),
    *("tests", "infra", "pulumi", "pulumi_aws", "moto", "bin"),
}


def test_contents(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        names = archive.namelist()
        infos = archive.infolist()
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
    assert not any(n.startswith(package.LOCAL_ONLY) for n in names)
    # Bytecode for the runtime only, beside every module (none of this machine's Python).
    pycs = {n for n in names if n.endswith(".pyc")}
    assert all(re.fullmatch(r"(.+/)?__pycache__/[^/]+\.cpython-313\.pyc", n) for n in pycs)
    for module in (n for n in names if n.endswith(".py")):
        folder, _, stem = module.rpartition("/")
        cached = f"{folder}/__pycache__/{stem[:-3]}.cpython-313.pyc".lstrip("/")
        assert cached in pycs, module
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 & 0o777 for i in infos} <= {0o644, 0o755}


def test_deps_layer_contents(layers: dict[str, tuple[Path, Path]]) -> None:
    with zipfile.ZipFile(layers[package.DEPS_LAYER][0]) as archive:
        names = [n.removeprefix(f"{package.LAYER_DIR}/") for n in archive.namelist()]
        infos = archive.infolist()
    assert "emoji/unicode_codes/emoji.json" in names
    assert not any(re.fullmatch(r"emoji/unicode_codes/emoji_..\.json", n) for n in names)
    assert not {n.split("/")[0].removesuffix(".py") for n in names} & NOT_SHIPPED
    for layer in layers.values():
        assert not layer_tops(layer[0]) & NOT_SHIPPED
    # The dependencies ship their bytecode alone, in each module's place (no source).
    pycs = {n for n in names if n.endswith(".pyc")}
    assert {"attr/_make.pyc", "cattrs/converters.pyc", "structlog/__init__.pyc"} <= pycs
    assert {"typing_extensions.pyc", "emoji/__init__.pyc"} <= pycs
    assert not any(n.endswith(".py") for n in names)
    assert not any("__pycache__" in n for n in names)
    assert not any(n.startswith(package.UNUSED_MODULES) for n in names)
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 & 0o777 for i in infos} <= {0o644, 0o755}


def test_aarch64_wheels_for_python_3_13(layers: dict[str, tuple[Path, Path]]) -> None:
    with zipfile.ZipFile(layers[package.JWT_LAYER][0]) as archive:
        native = [n for n in archive.namelist() if n.endswith(".so")]
    assert native, "cryptography ships a native extension"
    assert all("x86_64" not in n for n in native)
    assert any("aarch64" in n or "abi3" in n for n in native)
    assert not any("cpython-311" in n for n in native)  # not this machine's Python


def test_bytecode_is_for_python_3_13_and_never_checks_its_source(
    built: tuple[Path, Path], layers: dict[str, tuple[Path, Path]]
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
    for path in (built[0], *(pair[0] for pair in layers.values())):
        with zipfile.ZipFile(path) as archive:
            pycs = [n for n in archive.namelist() if n.endswith(".pyc")]
            assert len(pycs) > 50, path
            for name in pycs:
                header = archive.read(name)[:16]
                assert header[:4].hex() == magic, name
                # PEP 552 flags: 0b01 = hash-based, source never checked (unchecked-hash).
                assert int.from_bytes(header[4:8], "little") == 0b01, name
    with zipfile.ZipFile(built[0]) as archive:
        # Tracebacks name the file where Lambda unpacks it, not this machine's path.
        code = archive.read("dynamotalk/__pycache__/routes.cpython-313.pyc")
        assert b"/var/task/dynamotalk/routes.py" in code
        assert str(Path.cwd()).encode() not in code


def test_only_locked_versions_are_shipped(
    built: tuple[Path, Path], layers: dict[str, tuple[Path, Path]]
) -> None:
    locked = package.locked_versions()
    shipped = {}
    assert not any(".dist-info/" in n for n in names_in(built[0]))
    for path, prefix in ((pair[0], f"{package.LAYER_DIR}/") for pair in layers.values()):
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
    line, *layer_lines = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(f"{output}: ")
    assert [layer.split(": ")[0] for layer in layer_lines] == [
        str(output.with_name(f"{layer}-layer-arm64.zip")) for layer in ("deps", "jwt")
    ]
    megabytes = float(line.split(": ")[1].split(" MB")[0])
    assert megabytes == round(output.stat().st_size / 1e6, 2)
    assert "files, sha256" in line
