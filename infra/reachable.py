"""Which of our modules the functions can import, and what of the code archive ships.

modulefinder (the standard library's) reads the bytecode of every handler in lambdas/ and
follows each import it names, at module level or inside a function (the lazy imports that keep
cold starts short are found too), through `dynamotalk`. It runs under the runtime's Python, so
it reads the code as Lambda will. What it leaves out is code no handler can reach: the modules
only infra or the local stack import (permissions, stage_config, webheaders...). Our code
imports absolutely and never by computed names (tests/infra/test_package.py checks both), so
the walk sees every import. It is not trusted with the dependencies: it misses some of their
relative imports (cattrs' `from ..types import`), so they ship whole in their layers
(infra/package.py) but for the modules package.UNUSED_MODULES names. Data files are not
modules: they are all shipped.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

_WALK = """
import json, modulefinder, pathlib, sys
roots = [pathlib.Path(p) for p in sys.argv[1:]]
finder = modulefinder.ModuleFinder(path=[str(r) for r in roots])
for handler in sorted((roots[0] / "lambdas").glob("*.py")):
    finder.load_file(str(handler))
found = set()
for module in finder.modules.values():
    path = pathlib.Path(module.__file__ or "")
    for root in roots:
        if path.is_relative_to(root):
            found.add(path.relative_to(root).as_posix())
print(json.dumps(sorted(found)))
"""


def reachable_modules(python: Path, staged: Path) -> frozenset[str]:
    """Paths (relative to `staged`) of every module of ours a handler can import."""
    out = subprocess.run(  # noqa: S603 - the runtime's interpreter, our own script
        [str(python), "-c", _WALK, str(staged)],
        capture_output=True,
        text=True,
        check=True,
    )
    return frozenset(json.loads(out.stdout))


def select(
    entries: list[tuple[str, Path]], shipped: Callable[[str], bool], tag: str, sourceless: bool
) -> list[tuple[str, Path]]:
    """The entries (name in the zip, file) to ship: every data file, and the modules
    `shipped` keeps, each with its bytecode (`__pycache__/<name>.<tag>.pyc`).

    `sourceless`: a dependency's module ships as its bytecode alone, in the module's place
    (`b.pyc` beside where `b.py` was, which Python imports without a source): a third of the
    size, and a traceback through it still names the file and line, without the line's text.
    Our own code keeps its source."""
    bytecode = {name: path for name, path in entries if name.endswith(f".{tag}.pyc")}
    selected = []
    for name, path in entries:
        if name in bytecode:
            continue  # goes with its module, below
        if not name.endswith(".py"):
            selected.append((name, path))
            continue
        if not shipped(name):
            continue
        folder, _, file = name.rpartition("/")
        compiled = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc".lstrip("/")
        if sourceless and compiled in bytecode:
            selected.append((f"{name[:-3]}.pyc", bytecode[compiled]))
            continue
        selected.append((name, path))
        if compiled in bytecode:
            selected.append((compiled, bytecode[compiled]))
    return selected
