"""Build the Lambda code archive and the JWT layer: deterministic (same inputs -> same bytes), lean.

The code archive, one for every function: our modules a handler can import (infra/reachable.py),
and the runtime dependencies from the lock file (infra/lambda-requirements.txt: exact versions,
hash-checked) as manylinux wheels for the stage's architecture, but the JWT-only ones (pyjwt,
cryptography, cffi, pycparser: 5.6 MB) in a layer only the token verifiers (`JWT_FUNCTIONS`)
add, so every other function ships under 1 MB. boto3's family is left to the Lambda runtime.
Every module ships with bytecode compiled by the runtime's own Python (3.13) in
`unchecked-hash` mode: /var/task is read-only, so without it each cold start compiles
everything again, and unchecked-hash bytecode carries no timestamps, so the zips stay
reproducible. `python -m infra.package` (`make package`) writes build/lambda-<arch>.zip and
build/jwt-layer-<arch>.zip; `--lock` rewrites the lock file from pyproject.toml.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
LOCK = ROOT / "infra" / "lambda-requirements.txt"
PYTHON_VERSION = "3.13"
"""The Lambda runtime's Python (functions.RUNTIME): wheels and bytecode are made for it."""
BYTECODE_TAG = f"cpython-{PYTHON_VERSION.replace('.', '')}"
TASK_ROOT = "/var/task"
"""Where Lambda unpacks the zip: the path tracebacks show for shipped bytecode."""
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
JWT_FUNCTIONS = frozenset({"ws_authorizer", "ws_default"})
"""The functions that verify JWTs, and so add the JWT layer: the authorizer (every $connect),
and the message route, whose `reauth` verifies the new token (bootstrap.identity())."""
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


def stage_layer(deps: Path, into: Path) -> Path:
    """Copy the JWT-only distributions' files under python/ and compile them for /opt/python."""
    layer = into / LAYER_DIR
    for name, path in _files(deps, ""):
        if _jwt_only(name) and "__pycache__" not in name:
            _copy(path, layer / name)
    compile_bytecode(layer, prefix=LAYER_ROOT)
    return into


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(source.read_bytes())


def zip_entries(deps: Path, staged: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file), sorted: of our modules those a handler can import, and the
    deps but the JWT-only ones and UNUSED_MODULES, as bytecode alone (infra/reachable.py)."""
    from infra.reachable import reachable_modules, select

    reachable = reachable_modules(runtime_python(), staged)
    entries = select(_files(staged, ""), reachable.__contains__, BYTECODE_TAG, sourceless=False)
    deps_files = [
        (name, path)
        for name, path in _files(deps, "")
        if name.split("/", 1)[0] not in SKIPPED_DEPS_TOP
        and not _jwt_only(name)
        and not name.startswith(UNUSED_MODULES)
    ]
    entries += select(deps_files, lambda name: True, BYTECODE_TAG, sourceless=True)
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


def build_zip(output: Path, deps: Path, root: Path = ROOT) -> Path:
    """Write the functions' code archive (everything but the JWT layer's distributions)."""
    with tempfile.TemporaryDirectory() as scratch:
        return _write_zip(output, zip_entries(deps, stage_sources(root, Path(scratch))))


def build_layer(output: Path, deps: Path) -> Path:
    """Write the JWT layer: python/<the JWT-only distributions>, bytecode for /opt/python."""
    with tempfile.TemporaryDirectory() as scratch:
        return _write_zip(output, _files(stage_layer(deps, Path(scratch)), ""))


@attrs.frozen
class Archives:
    """What `build` wrote: the functions' code, and the layer the JWT verifiers add."""

    code: Path
    jwt_layer: Path


def build(architecture: str = "arm64", output: Path | None = None) -> Archives:
    """Install (or reuse) the dependencies; write build/lambda-<arch>.zip (or `output`) and,
    beside it, jwt-layer-<arch>.zip."""
    deps = install_dependencies(architecture)
    code = build_zip(output or BUILD / f"lambda-{architecture}.zip", deps)
    layer = build_layer(code.with_name(f"jwt-layer-{architecture}.zip"), deps)
    return Archives(code, layer)


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
        print(describe(archives.code))
        print(describe(archives.jwt_layer))
    except RuntimePythonMissing as missing:
        raise SystemExit(f"error: {missing}") from None


if __name__ == "__main__":
    main()
