"""One `dynamotalk dev` with tight per-user limits, shared by the security modules that flood
(starting a stack costs seconds; users are new per test, so counters never collide)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynamotalk.domain.user_limits import limits_env, unlimited_env
from dynamotalk.local.emulators import free_port
from tests.support.dev_stack import start_dev, stop, wait_healthy


@pytest.fixture(scope="session")
def tight_stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.security.test_limits import TIGHT

    port = free_port()
    env = {**unlimited_env(), **limits_env(TIGHT)}
    process = start_dev(port, tmp_path_factory.mktemp("tight"), "--quiet", env=env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    yield url
    assert stop(process) == 0
