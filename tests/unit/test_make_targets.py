"""`make unit`, `make integration` and `make e2e` together run every test, each test once."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text()


def _target_dirs(variable: str) -> list[str]:
    match = re.search(rf"^{variable} := (.+)$", MAKEFILE, re.M)
    assert match, f"{variable} is not defined in the Makefile"
    return match.group(1).split()


def test_every_test_folder_is_in_exactly_one_target() -> None:
    parts = [_target_dirs(name) for name in ("UNIT_TESTS", "INTEGRATION_TESTS", "E2E_TESTS")]
    listed = [folder for part in parts for folder in part]
    assert len(listed) == len(set(listed)), "a folder is in two targets: its tests run twice"
    with_tests = {
        str(path.parent.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_*.py")
    }
    nested = {folder for folder in with_tests if folder.count("/") > 1}
    assert not nested, f"tests in nested folders no target names: {nested}"
    assert with_tests <= set(listed), f"no target runs {sorted(with_tests - set(listed))}"
    assert all((ROOT / folder).is_dir() for folder in listed)


def test_make_test_runs_every_target() -> None:
    recipe = MAKEFILE.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    for variable in ("UNIT_TESTS", "INTEGRATION_TESTS", "E2E_TESTS"):
        assert f"$({variable})" in recipe
