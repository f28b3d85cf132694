"""The SnapStart restore hook: two environments restored from one snapshot draw different
jitter, and the hook is registered wherever Lambda's runtime offers its registry."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator

import pytest

from dynamotalk import snapstart


@pytest.fixture
def saved_random() -> Iterator[None]:
    state = random.getstate()
    yield
    random.setstate(state)


def test_environments_restored_from_one_snapshot_draw_different_numbers(
    saved_random: None,
) -> None:
    random.seed(16)
    snapshot = random.getstate()  # what init leaves in memory, shared by every restore
    draws = []
    for _ in range(2):
        random.setstate(snapshot)  # a restore
        cloned = random.random()
        random.setstate(snapshot)  # the same restore, with the hook
        snapstart.after_restore()
        draws.append((cloned, random.random()))
    (cloned_a, hooked_a), (cloned_b, hooked_b) = draws
    assert cloned_a == cloned_b  # without the hook, the clones agree
    assert hooked_a != hooked_b


def test_the_hook_is_registered_with_lambdas_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.register()
    assert registered == [snapstart.after_restore]


def test_without_lambdas_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert not snapstart.register()


def test_every_handler_registers_it_by_importing_its_package() -> None:
    import lambdas

    assert lambdas.snapstart is snapstart
