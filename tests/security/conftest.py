"""One `dynamotalk dev` with tight per-user limits, shared by the security modules that flood
(starting a stack costs seconds; users are new per test, so counters never collide).

It runs only while this folder's tests run: the last of them stops it (`pytest_runtest_teardown`)
rather than the end of the session, so an idle stack and its DynamoDB Local do not share the
machine with every later test. A later test that needs it again starts a new one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dynamotalk.domain.user_limits import limits_env, unlimited_env
from dynamotalk.local.emulators import free_port
from tests.support.dev_stack import start_dev, stop, wait_healthy

HERE = Path(__file__).parent


class _TightStack:
    """The running tight stack, if any: started on first use, stopped when no longer needed."""

    process: subprocess.Popen[str] | None = None
    url = ""

    @classmethod
    def url_for(cls, data: Path) -> str:
        if cls.process is None:
            from tests.security.test_limits import TIGHT

            port = free_port()
            env = {**unlimited_env(), **limits_env(TIGHT)}
            cls.process = start_dev(port, data, "--quiet", env=env)
            cls.url = f"http://127.0.0.1:{port}"
            wait_healthy(cls.url, cls.process)
        return cls.url

    @classmethod
    def stop(cls) -> None:
        if cls.process is not None:
            process, cls.process = cls.process, None
            assert stop(process) == 0


@pytest.fixture(scope="module")
def tight_stack_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _TightStack.url_for(tmp_path_factory.mktemp("tight"))


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of this folder (the suite runs it as one block)."""
    if nextitem is None or HERE not in nextitem.path.parents:
        _TightStack.stop()
