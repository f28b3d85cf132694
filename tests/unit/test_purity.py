"""The dependency rule (docs/ARCHITECTURE.md): each layer imports only what sits below it.

The rules are checked on imports as written, module by module; a lazy import inside a function
counts like one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "dynamotalk"
AWS_AND_TOOLS = {"boto3", "botocore", "pulumi", "pulumi_aws", "moto", "mypy_boto3_dynamodb"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(*places: str) -> list[Path]:
    found: list[Path] = []
    for place in places:
        path = ROOT / place
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _project(path: Path) -> set[str]:
    return {
        n for n in imported_modules(path) if n.split(".")[0] in {"dynamotalk", "lambdas", "infra"}
    }


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# layer -> (its files, the project modules it must never import)
NEVER: dict[str, tuple[list[Path], tuple[str, ...]]] = {
    "domain": (
        _files("src/dynamotalk/domain"),
        (
            "dynamotalk.ports",
            "dynamotalk.service",
            "dynamotalk.wire",
            "dynamotalk.edge",
            "dynamotalk.adapters",
            "dynamotalk.tables",
            "dynamotalk.routes",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "dynamotalk.client",
            "dynamotalk.settings",
            "lambdas",
            "infra",
        ),
    ),
    "service": (
        _files("src/dynamotalk/service", "src/dynamotalk/ports.py"),
        (
            "dynamotalk.wire",
            "dynamotalk.edge",
            "dynamotalk.adapters",
            "dynamotalk.tables",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "dynamotalk.client",
            "lambdas",
            "infra",
        ),
    ),
    "wire": (
        _files("src/dynamotalk/wire"),
        (
            "dynamotalk.service",
            "dynamotalk.edge",
            "dynamotalk.adapters",
            "dynamotalk.tables",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "dynamotalk.client",
            "lambdas",
            "infra",
        ),
    ),
    "adapters": (
        _files("src/dynamotalk/adapters"),
        (
            "dynamotalk.service",
            "dynamotalk.wire",
            "dynamotalk.edge",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "dynamotalk.client",
            "lambdas",
            "infra",
        ),
    ),
    "edge": (
        _files("src/dynamotalk/edge"),
        (
            "dynamotalk.service",
            "dynamotalk.adapters",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "dynamotalk.client",
            "lambdas",
            "infra",
        ),
    ),
    "facts": (
        _files(
            "src/dynamotalk/routes.py",
            "src/dynamotalk/tables",
            "src/dynamotalk/settings.py",
            "src/dynamotalk/userpool.py",
            "src/dynamotalk/stage_config.py",
            "src/dynamotalk/permissions.py",
            "src/dynamotalk/iam_actions.py",
            "src/dynamotalk/quotas.py",
        ),
        (
            "dynamotalk.service",
            "dynamotalk.wire",
            "dynamotalk.edge",
            "dynamotalk.adapters",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "dynamotalk.client",
            "lambdas",
            "infra",
        ),
    ),
    "client": (
        _files("src/dynamotalk/client"),
        (
            "dynamotalk.service",
            "dynamotalk.edge",
            "dynamotalk.adapters",
            "dynamotalk.bootstrap",
            "dynamotalk.local",
            "lambdas",
            "infra",
        ),
    ),
    "package": (_files("src/dynamotalk"), ("lambdas", "infra")),
    "lambdas": (_files("lambdas"), ("dynamotalk.local", "infra")),
    "infra": (
        _files("infra"),
        (
            "dynamotalk.service",
            "dynamotalk.adapters",
            "dynamotalk.bootstrap",
            "dynamotalk.edge",
            "dynamotalk.local",
            "dynamotalk.client",
            "lambdas",
        ),
    ),
}

CASES = [
    pytest.param(path, never, id=f"{layer}:{path.relative_to(ROOT)}")
    for layer, (paths, never) in NEVER.items()
    for path in paths
]


@pytest.mark.parametrize(("path", "never"), CASES)
def test_each_layer_imports_only_what_sits_below_it(path: Path, never: tuple[str, ...]) -> None:
    broken = sorted(name for name in _project(path) if _under(name, *never))
    assert not broken, f"{path.relative_to(ROOT)} imports {broken}"


CORE = _files(
    "src/dynamotalk/domain",
    "src/dynamotalk/service",
    "src/dynamotalk/ports.py",
    "src/dynamotalk/wire",
    "src/dynamotalk/resilience.py",
)


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_no_aws_sdk_pulumi_or_moto(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert not roots & AWS_AND_TOOLS, f"{path.name} imports {roots & AWS_AND_TOOLS}"


def test_the_checks_themselves_see_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import boto3.session\nfrom moto import mock_aws\n"
        "def f():\n    from dynamotalk.wire import encode_event\n"
    )
    assert {"boto3.session", "moto", "dynamotalk.wire"} <= imported_modules(sample)
    assert _under("dynamotalk.wire.frames", "dynamotalk.wire")
    assert not _under("dynamotalk.wirefoo", "dynamotalk.wire")
    assert all(paths for paths, _ in NEVER.values()), "a layer matches no file: a path moved"
