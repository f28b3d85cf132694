"""Shared fixtures: the AWS emulators on loopback, started once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from dynamotalk.domain.user_limits import unlimited_env
from dynamotalk.local.emulators import DUMMY_CREDENTIALS, DynamoDBLocal

for _name, _value in DUMMY_CREDENTIALS.items():
    os.environ.setdefault(_name, _value)
# The suite's users post hundreds of messages and create a hundred rooms back to back on
# purpose (paging, load): its stacks run with the per-user limits raised to their highest.
# tests/security/test_limits.py starts a stack with tight limits and floods them.
for _name, _value in unlimited_env().items():
    os.environ.setdefault(_name, _value)
# Never reach real AWS from tests, whatever the machine's configuration says.
os.environ.pop("AWS_PROFILE", None)
# Property tests draw the same examples on every run, so `make test` is never red by chance;
# `make fuzz` explores new ones (HYPOTHESIS_PROFILE=explore) and prints any failure to replay.
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Endpoint URL of moto on loopback (S3, Cognito, DynamoDB, ...), behind the layer that
    refuses what AWS refuses (dynamotalk.local.aws)."""
    from dynamotalk.local.aws import LocalAws

    server = LocalAws.start()
    yield server.endpoint
    server.stop()


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    """Endpoint URL of DynamoDB Local (the official engine). `make test` installs it."""
    ddb = DynamoDBLocal.start()
    yield ddb.endpoint
    ddb.stop()


@pytest.fixture(scope="session")
def lambda_stack(dynamodb_local: str, moto_server: str) -> Iterator[Any]:
    """The Lambda handlers wired to DynamoDB Local, moto and a loopback management API."""
    from tests.support import lambda_stack as support

    yield from support.start(dynamodb_local, moto_server)


@pytest.fixture(scope="session")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real `dynamotalk dev` (DynamoDB Local + moto + gateway) on loopback."""
    from dynamotalk.local.emulators import free_port
    from tests.support.dev_stack import start_dev, stop, wait_healthy, web_url

    port = free_port()
    process = start_dev(port, tmp_path_factory.mktemp("dev-data"), "--quiet")
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process)
    _WEB_ORIGINS[base] = web_url(process)
    yield base
    stop(process)


_WEB_ORIGINS: dict[str, str] = {}


@pytest.fixture(scope="session")
def stack_web_url(stack_url: str) -> str:
    """The web client's origin of the shared `dynamotalk dev` (its own port, as CloudFront's)."""
    return _WEB_ORIGINS[stack_url]
