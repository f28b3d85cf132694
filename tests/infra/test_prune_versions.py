"""Pruning SnapStart's old versions (infra/prune_versions.py) against moto's Lambda API: what no
alias calls goes, what an alias calls or may soon call stays."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from dynamotalk.local.emulators import free_port
from dynamotalk.routes import FUNCTIONS, function_name
from infra.prune_versions import main, prune

STAGE = "prod"
REGION = "eu-west-1"


def _zip(n: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", f"def handler(event, context):\n    return {n}\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def moto_lambda() -> Iterator[str]:
    """A moto server of this module's own, in its own process: `mock_aws` in this process would
    reset the backends that the suite's in-process moto (LocalAws) serves to other tests."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(10)


@pytest.fixture
def lambda_api(moto_lambda: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    for service in ("LAMBDA", "IAM"):  # botocore's per-service endpoint variables
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", moto_lambda)
    httpx.post(f"{moto_lambda}/moto-api/reset").raise_for_status()
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="fn", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    client = boto3.client("lambda", region_name=REGION)
    for function in FUNCTIONS:  # every function of the stage, 5 published versions each
        name = function_name(STAGE, function.module)
        client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="h.handler",
            Code={"ZipFile": _zip(0)},
        )
        for n in range(1, 6):
            client.update_function_code(FunctionName=name, ZipFile=_zip(n), Publish=True)
    return client


def versions(client: Any, name: str) -> list[str]:
    listed = client.list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in listed]


def test_keeps_what_an_alias_calls_and_what_is_newer(lambda_api: Any) -> None:
    first, second, *others = (function_name(STAGE, f.module) for f in FUNCTIONS)
    lambda_api.create_alias(FunctionName=first, Name="live", FunctionVersion="3")
    lambda_api.create_alias(
        FunctionName=second,
        Name="live",
        FunctionVersion="4",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},  # a weighted rollout
    )
    for name in others:
        lambda_api.create_alias(FunctionName=name, Name="live", FunctionVersion="5")

    pruned = prune(lambda_api, STAGE)

    assert pruned[first] == ["1", "2"]
    assert versions(lambda_api, first) == ["$LATEST", "3", "4", "5"]  # 4, 5: not yet aliased
    assert pruned[second] == ["1", "3"]
    assert versions(lambda_api, second) == ["$LATEST", "2", "4", "5"]
    for name in others:
        assert versions(lambda_api, name) == ["$LATEST", "5"]


def test_without_an_alias_every_published_version_goes(lambda_api: Any) -> None:
    """SnapStart turned off: the aliases are gone, and the versions' snapshots still cost."""
    prune(lambda_api, STAGE)
    for function in FUNCTIONS:
        assert versions(lambda_api, function_name(STAGE, function.module)) == ["$LATEST"]


def test_a_dry_run_lists_and_deletes_nothing(
    lambda_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--stage", STAGE, "--region", REGION, "--dry-run"])
    name = function_name(STAGE, FUNCTIONS[0].module)
    assert f"{name}: would delete 1, 2, 3, 4, 5" in capsys.readouterr().out
    assert versions(lambda_api, name) == ["$LATEST", "1", "2", "3", "4", "5"]
