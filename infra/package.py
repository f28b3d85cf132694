"""Build the Lambda code archive and its two layers: deterministic (same inputs, same bytes).

The code archive, one for every function: our modules a handler can import (infra/reachable.py)
and nothing else, so the 1 MB a function may ship (issue 16) is all ours to grow into. The
runtime dependencies come from the lock file (infra/lambda-requirements.txt: exact versions,
hash-checked) as manylinux wheels for the stage's architecture, in two layers built by one
code path (`LAYERS`): "deps" (attrs, cattrs, structlog, emoji, typing_extensions), which every
function adds, and "jwt" (pyjwt, cryptography, cffi, pycparser: 5.6 MB), which only the token
verifiers (`JWT_FUNCTIONS`) add. boto3's family is left to the Lambda runtime. Every module
ships with bytecode compiled by the runtime's own Python (3.13, infra/bytecode.py). `python -m
infra.package` (`make package`) writes build/lambda-<arch>.zip, build/deps-layer-<arch>.zip and
build/jwt-layer-<arch>.zip; `--lock` rewrites the lock file from pyproject.toml.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Mapping
from pathlib import Path

import attrs

from infra.bytecode import BYTECODE_TAG as BYTECODE_TAG
from infra.bytecode import PYTHON_VERSION as PYTHON_VERSION
from infra.bytecode import TASK_ROOT as TASK_ROOT
from infra.bytecode import RuntimePythonMissing as RuntimePythonMissing
from infra.bytecode import compile_bytecode as compile_bytecode
from infra.bytecode import runtime_python as runtime_python

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
LOCK = ROOT / "infra" / "lambda-requirements.txt"
LAYER_DIR = "python"
"""A Python layer's folder: Lambda unpacks layers in /opt and puts /opt/python on sys.path."""
LAYER_ROOT = f"/opt/{LAYER_DIR}"
PROVIDED_BY_RUNTIME: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "urllib3": ("urllib3",),
    "python-dateutil": ("dateutil",),
    "six": ("six.py",),
}
"""Distributions the Lambda Python runtime ships (boto3 and its family) -> what they install."""
JWT_ONLY: dict[str, tuple[str, ...]] = {
    "pyjwt": ("jwt",),
    "cryptography": ("cryptography",),
    "cffi": ("cffi", "_cffi_backend"),
    "pycparser": ("pycparser",),
}
"""Distributions only token verification needs (adapters/cognito.py) -> the top-level names
they install (a native module by its name before the first dot): shipped in the JWT layer."""
JWT_FUNCTIONS = frozenset({"ws_authorizer", "ws_default", "push_sender"})
"""The functions that verify JWTs, and so add the JWT layer: the authorizer (every $connect),
and the message route, whose `reauth` verifies the new token (bootstrap.identity()); and
push_sender, which signs VAPID JWTs and encrypts Web Push with cryptography (RFC 8291/8292)."""
DEPS_LAYER = "deps"
JWT_LAYER = "jwt"
LAYERS: dict[str, str] = {
    DEPS_LAYER: "attrs, cattrs, structlog, emoji, typing_extensions: every function adds it",
    JWT_LAYER: "pyjwt and cryptography: only the functions that verify tokens add it",
}
"""The layers, in the order a function lists them -> what each holds (its description)."""
SOURCELESS_LAYERS = frozenset({DEPS_LAYER})
"""Layers whose modules ship as bytecode alone (reachable.select): the deps layer, as the deps
did in the code zip before they moved out (a third of the size). The JWT layer keeps its
sources, as it always has."""
ZIP_LIMIT_BYTES = 1_000_000
"""Issue 16: a function's own code archive ships at most 1 MB."""
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
"""Lambda's quota: a function's code and all its layers, unzipped, at most 250 MB."""
MAX_LAYERS = 5
"""Lambda's quota: at most five layers per function."""
SKIPPED_DEPS_TOP = frozenset({"bin"})
"""pip's console scripts: nothing runs them on Lambda."""
LOCAL_ONLY = ("dynamotalk/local/", "dynamotalk/client/", "dynamotalk/cli.py")
"""The local stack (gateway, emulators), the terminal client and the CLI never run on Lambda."""
UNUSED_MODULES = ("cattr/", "cattrs/preconf/")
"""Dependencies' modules nothing imports unless asked by name, and we never ask: `cattr`
(cattrs' old name) and cattrs' converters for other formats (msgpack, bson, YAML...)."""
UNREAD_DATA = re.compile(
    r"emoji/unicode_codes/emoji_[a-z]{2}\.json|[^/]+\.dist-info/(RECORD|INSTALLER|REQUESTED|WHEEL)"
)
"""Files nothing reads on Lambda: the emoji names in other languages (4 MB; only English is
looked up, domain/emoji_set.py, and `emoji` loads a language only when asked), and pip's
install records (RECORD would list the sources the code zip leaves out; METADATA stays)."""
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def _distribution(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def runtime_requirements() -> list[str]:
    """pyproject's [project].dependencies minus what the Lambda runtime already has."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(r for r in project["dependencies"] if _distribution(r) not in PROVIDED_BY_RUNTIME)


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """Distribution -> exact version, as the lock file pins them."""
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", lock.read_text(), re.MULTILINE)
    return {_distribution(name): version for name, version in pins}


def install_dependencies(architecture: str, lock: Path = LOCK) -> Path:
    """pip-install the locked deps for Lambda (hash-checked) and compile them, into a cache
    keyed by the lock file, the architecture and the Python version."""
    key = hashlib.sha256(
        "\n".join([architecture, PYTHON_VERSION, BYTECODE_TAG, lock.read_text()]).encode()
    ).hexdigest()[:16]
    target = BUILD / "deps" / f"{architecture}-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(target), "--platform", PLATFORMS[architecture],
            "--implementation", "cp", "--python-version", PYTHON_VERSION,
            "--only-binary=:all:", "--no-compile", "--require-hashes", "-r", str(lock),
        ],
        check=True,
    )  # fmt: skip
    _drop_runtime_provided(target)
    for top in SKIPPED_DEPS_TOP:
        shutil.rmtree(target / top, ignore_errors=True)
    compile_bytecode(target)
    (target / ".complete").touch()
    return target


def _drop_runtime_provided(target: Path) -> None:
    """Anything of boto3's family a dependency pulled in: the runtime's copy wins anyway."""
    for distribution, installed in PROVIDED_BY_RUNTIME.items():
        for name in installed:
            path = target / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        for info in target.glob(f"{distribution.replace('-', '_')}-*.dist-info"):
            shutil.rmtree(info)


def _files(base: Path, prefix: str) -> list[tuple[str, Path]]:
    """Every file under `base` but stray bytecode (only the runtime's own is shipped) and
    data no function reads."""
    found = []
    for path in base.rglob("*"):
        relative = path.relative_to(base)
        if not path.is_file() or path.name == ".complete":
            continue
        if UNREAD_DATA.fullmatch(relative.as_posix()):
            continue
        if path.suffix in (".pyc", ".pyo") or "__pycache__" in relative.parts:
            runtime_bytecode = relative.parent.name == "__pycache__" and path.name.endswith(
                f".{BYTECODE_TAG}.pyc"
            )
            if not runtime_bytecode:
                continue
        found.append((f"{prefix}{relative.as_posix()}", path))
    return found


def _jwt_only(name: str) -> bool:
    """Whether an entry of the dependencies belongs to a JWT-only distribution."""
    top = name.split("/", 1)[0]
    installed = {n for names in JWT_ONLY.values() for n in names}
    if top.split(".", 1)[0] in installed:
        return True
    dist_info = re.fullmatch(r"([^-]+)-[^-]+\.dist-info", top)
    return dist_info is not None and _distribution(dist_info.group(1)) in JWT_ONLY


def in_layer(layer: str, name: str) -> bool:
    """Whether an entry of the installed dependencies ships in `layer`: the JWT-only
    distributions in the JWT layer, every other one in the deps layer (but pip's scripts and
    UNUSED_MODULES, which ship nowhere)."""
    if layer == JWT_LAYER:
        return _jwt_only(name)
    return (
        name.split("/", 1)[0] not in SKIPPED_DEPS_TOP
        and not _jwt_only(name)
        and not name.startswith(UNUSED_MODULES)
    )


def layers_of(module: str) -> tuple[str, ...]:
    """The layers the function `module` adds, in order: the deps layer, and the JWT layer
    for the token verifiers."""
    return (DEPS_LAYER, JWT_LAYER) if module in JWT_FUNCTIONS else (DEPS_LAYER,)


def stage_sources(root: Path, into: Path) -> Path:
    """Copy the package (without the local-only parts) and the handlers' sources, then compile."""
    package = root / "src" / "dynamotalk"
    sources = [
        (f"dynamotalk/{path.relative_to(package).as_posix()}", path)
        for path in [*package.rglob("*.py"), package / "py.typed"]
        if path.is_file() and "__pycache__" not in path.parts
    ]
    sources += [(f"lambdas/{path.name}", path) for path in (root / "lambdas").glob("*.py")]
    for name, path in sorted(sources):
        if not name.startswith(LOCAL_ONLY):
            _copy(path, into / name)
    compile_bytecode(into)
    return into


def stage_layer(deps: Path, into: Path, layer: str) -> Path:
    """Copy the layer's files of the installed dependencies under python/ (without their
    bytecode, compiled for /var/task) and compile them for /opt/python, where Lambda has them."""
    for name, path in _files(deps, ""):
        if in_layer(layer, name) and "__pycache__" not in name:
            _copy(path, into / LAYER_DIR / name)
    compile_bytecode(into / LAYER_DIR, prefix=LAYER_ROOT)
    return into


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(source.read_bytes())


def zip_entries(staged: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file), sorted: of our modules those a handler can import, each with
    its source and bytecode (infra/reachable.py). The dependencies are the layers'."""
    from infra.reachable import reachable_modules, select

    reachable = reachable_modules(runtime_python(), staged)
    entries = select(_files(staged, ""), reachable.__contains__, BYTECODE_TAG, sourceless=False)
    return sorted(entries, key=lambda entry: entry[0])


def layer_entries(staged: Path, layer: str) -> list[tuple[str, Path]]:
    """(name in the zip, file), sorted: a staged layer's files, its modules as bytecode alone
    where the layer is sourceless (SOURCELESS_LAYERS)."""
    from infra.reachable import select

    entries = select(
        _files(staged, ""), lambda name: True, BYTECODE_TAG, sourceless=layer in SOURCELESS_LAYERS
    )
    return sorted(entries, key=lambda entry: entry[0])


def _write_zip(output: Path, entries: list[tuple[str, Path]]) -> Path:
    """Fixed timestamps and modes, sorted names: the same entries always give the same bytes."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted(entries, key=lambda entry: entry[0]):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            # The mode follows the name, never the checkout's umask or pip's choices.
            mode = 0o755 if name.endswith(".so") or ".so." in name else 0o644
            info.external_attr = (mode | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return output


def build_zip(output: Path, root: Path = ROOT) -> Path:
    """Write the functions' code archive: our code alone (the dependencies are the layers')."""
    with tempfile.TemporaryDirectory() as scratch:
        return _write_zip(output, zip_entries(stage_sources(root, Path(scratch))))


def build_layer(output: Path, deps: Path, layer: str) -> Path:
    """Write one of `LAYERS`: python/<its distributions>, bytecode for /opt/python."""
    with tempfile.TemporaryDirectory() as scratch:
        return _write_zip(output, layer_entries(stage_layer(deps, Path(scratch), layer), layer))


def layer_name(layer: str, architecture: str) -> str:
    """The layer's archive: deps-layer-arm64.zip, jwt-layer-x86_64.zip."""
    return f"{layer}-layer-{architecture}.zip"


@attrs.frozen
class Archives:
    """What `build` wrote: the functions' code, and each of `LAYERS` by name."""

    code: Path
    layers: Mapping[str, Path]


def build(architecture: str = "arm64", output: Path | None = None) -> Archives:
    """Install (or reuse) the dependencies; write build/lambda-<arch>.zip (or `output`) and,
    beside it, each layer (layer_name)."""
    deps = install_dependencies(architecture)
    code = build_zip(output or BUILD / f"lambda-{architecture}.zip", ROOT)
    layers = {
        layer: build_layer(code.with_name(layer_name(layer, architecture)), deps, layer)
        for layer in LAYERS
    }
    return Archives(code, layers)


def describe(path: Path) -> str:
    """One line: where the zip is, its size zipped and unpacked, file count and digest."""
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
        count = len(archive.infolist())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return (
        f"{shown}: {path.stat().st_size / 1e6:.2f} MB zipped, "
        f"{unpacked / 1e6:.2f} MB unpacked, {count} files, sha256 {digest}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--output", type=Path, default=None, help="default build/lambda-<arch>.zip")
    parser.add_argument(
        "--lock", action="store_true", help=f"rewrite {LOCK.relative_to(ROOT)} and stop"
    )
    args = parser.parse_args(argv)
    if args.lock:
        from infra.lock import write_lock

        print(f"wrote {write_lock().relative_to(ROOT)}")
        return
    try:
        archives = build(args.arch, args.output)
        for archive in (archives.code, *archives.layers.values()):
            print(describe(archive))
    except RuntimePythonMissing as missing:
        raise SystemExit(f"error: {missing}") from None


if __name__ == "__main__":
    main()
