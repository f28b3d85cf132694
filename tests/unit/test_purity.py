"""The dependency rule: the core imports no AWS SDK, Pulumi or moto; domain imports only itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "dynamotalk"
FORBIDDEN = {"boto3", "botocore", "pulumi", "pulumi_aws", "moto", "mypy_boto3_dynamodb"}
CORE = [
    *sorted((SRC / "domain").glob("*.py")),
    *sorted((SRC / "service").glob("*.py")),
    SRC / "resilience.py",
    SRC / "ports.py",
    *sorted((SRC / "wire").glob("*.py")),
]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_no_aws_sdk_pulumi_or_moto(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"


@pytest.mark.parametrize("path", sorted((SRC / "domain").glob("*.py")), ids=lambda p: p.name)
def test_domain_imports_nothing_else_from_the_project(path: Path) -> None:
    project = {n for n in imported_modules(path) if n.startswith("dynamotalk")}
    assert all(n.startswith("dynamotalk.domain") for n in project), project


def test_the_check_itself_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import boto3.session\nfrom moto import mock_aws\n")
    assert {"boto3.session", "moto"} <= imported_modules(sample)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_the_package_never_imports_the_lambda_handlers(path: Path) -> None:
    """lambdas/ use the package (its composition root is dynamotalk.bootstrap), never the
    other way round."""
    assert not any(n.split(".")[0] == "lambdas" for n in imported_modules(path))
