"""The Lambda zip: deterministic, with the handlers, the package and its runtime dependencies,
and without boto3 (the runtime has it), tests, infra, pulumi or the local stack."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from infra import package


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("zips")
    deps = package.install_dependencies("arm64")
    first = package.build_zip(directory / "first.zip", deps)
    second = package.build_zip(directory / "second.zip", deps)
    return first, second


def test_same_inputs_same_bytes(built: tuple[Path, Path]) -> None:
    first, second = built
    assert first.read_bytes() == second.read_bytes()


def test_contents(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    tops = {name.split("/")[0] for name in names}
    for handler in ("ws_authorizer", "ws_connect", "ws_disconnect", "ws_default", "http_api"):
        assert f"lambdas/{handler}.py" in names
    assert "dynamotalk/service.py" in names
    assert "dynamotalk/adapters/dynamodb.py" in names
    assert {"attr", "attrs", "cattrs", "structlog", "jwt", "cryptography"} <= tops
    assert not tops & {
        "boto3",
        "botocore",
        "s3transfer",
        "tests",
        "infra",
        "pulumi",
        "pulumi_aws",
        "moto",
    }
    assert not any(n.startswith("dynamotalk/local/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_aarch64_wheels_for_arm64(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        native = [n for n in archive.namelist() if n.endswith(".so")]
    assert native, "cryptography ships a native extension"
    assert all("x86_64" not in n for n in native)
