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
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
EXCLUDED_DIRS = frozenset({"__pycache__", "local"})
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    keep = []
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
        if name not in PROVIDED_BY_RUNTIME:
            keep.append(requirement)
    return sorted(keep)


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
    for provided in PROVIDED_BY_RUNTIME:  # pulled in transitively? the runtime has them
        shutil.rmtree(target / provided, ignore_errors=True)
    (target / ".complete").touch()
    return target


def _files(base: Path, prefix: str) -> list[tuple[str, Path]]:
    found = []
    for path in base.rglob("*"):
        relative = path.relative_to(base)
        if EXCLUDED_DIRS & set(relative.parts):
            continue
        if path.is_file() and not path.name.endswith((".pyc", ".pyo")) and path.name != ".complete":
            found.append((f"{prefix}{relative.as_posix()}", path))
    return found


def build_zip(output: Path, deps: Path) -> Path:
    entries = _files(ROOT / "src" / "dynamotalk", "dynamotalk/")
    entries += [(f"lambdas/{p.name}", p) for p in sorted((ROOT / "lambdas").glob("*.py"))]
    entries += _files(deps, "")
    entries.sort(key=lambda entry: entry[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return output


def build(architecture: str = "arm64", output: Path | None = None) -> Path:
    deps = install_dependencies(architecture)
    return build_zip(output or BUILD / f"lambda-{architecture}.zip", deps)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.package")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    args = parser.parse_args()
    path = build(args.arch)
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
        count = len(archive.infolist())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    print(
        f"{path.relative_to(ROOT)}: {path.stat().st_size / 1e6:.2f} MB zipped, "
        f"{unpacked / 1e6:.2f} MB unpacked, {count} files, sha256 {digest}"
    )


if __name__ == "__main__":
    main()
