"""Build the Lambda code archive: deterministic (same inputs -> same bytes) and lean.

Contents: `dynamotalk/` (without the local stack), `lambdas/`, and the runtime dependencies from
pyproject.toml installed for the Lambda platform and architecture as manylinux wheels. boto3
and its family are left to the Lambda runtime. `python -m infra.package` (or `make package`)
writes build/lambda-<arch>.zip and prints its size.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
PYTHON_VERSION = "3.13"
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
SKIPPED_PARTS = frozenset({"__pycache__"})
SKIPPED_DEPS_TOP = frozenset({"bin"})
"""pip's console scripts: nothing runs them on Lambda."""
LOCAL_ONLY = "dynamotalk/local/"
"""The local stack (gateway, emulators, terminal client) never runs on Lambda."""
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def _distribution(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def runtime_requirements() -> list[str]:
    """pyproject's [project].dependencies minus what the Lambda runtime already has."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(r for r in project["dependencies"] if _distribution(r) not in PROVIDED_BY_RUNTIME)


def install_dependencies(architecture: str) -> Path:
    """pip-install the runtime deps for Lambda into a cache keyed by what is installed."""
    requirements = runtime_requirements()
    key = hashlib.sha256(
        "\n".join([architecture, PYTHON_VERSION, *requirements]).encode()
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
            "--only-binary=:all:", "--no-compile", *requirements,
        ],
        check=True,
    )  # fmt: skip
    _drop_runtime_provided(target)
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
    found = []
    for path in base.rglob("*"):
        relative = path.relative_to(base)
        if SKIPPED_PARTS & set(relative.parts) or not path.is_file():
            continue
        if path.name.endswith((".pyc", ".pyo")) or path.name == ".complete":
            continue
        found.append((f"{prefix}{relative.as_posix()}", path))
    return found


def zip_entries(deps: Path, root: Path = ROOT) -> list[tuple[str, Path]]:
    """(name in the zip, file) for the package, the handlers and the dependencies, sorted."""
    entries = [
        (name, path)
        for name, path in _files(root / "src" / "dynamotalk", "dynamotalk/")
        if not name.startswith(LOCAL_ONLY)
    ]
    entries += [(f"lambdas/{p.name}", p) for p in sorted((root / "lambdas").glob("*.py"))]
    entries += [
        (name, path)
        for name, path in _files(deps, "")
        if name.split("/", 1)[0] not in SKIPPED_DEPS_TOP
    ]
    return sorted(entries, key=lambda entry: entry[0])


def build_zip(output: Path, deps: Path, root: Path = ROOT) -> Path:
    """Write the archive: fixed timestamps and modes, sorted names, so same inputs -> same bytes."""
    entries = zip_entries(deps, root)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            # The mode follows the name, never the checkout's umask or pip's choices.
            mode = 0o755 if name.endswith(".so") or ".so." in name else 0o644
            info.external_attr = (mode | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return output


def build(architecture: str = "arm64", output: Path | None = None) -> Path:
    """Install (or reuse) the dependencies and write build/lambda-<arch>.zip (or `output`)."""
    deps = install_dependencies(architecture)
    return build_zip(output or BUILD / f"lambda-{architecture}.zip", deps)


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
    args = parser.parse_args(argv)
    print(describe(build(args.arch, args.output)))


if __name__ == "__main__":
    main()
