"""The layout's own rules: modules a reader can hold, one home per action name, no path hacks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dynamotalk import routes

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("src", "lambdas", "infra")
MAX_LINES = 350
"""Issue 14: no module under src/, lambdas/, infra/ or web/ is longer than this."""


def _python_files() -> list[Path]:
    return sorted(p for top in PRODUCT for p in (ROOT / top).rglob("*.py"))


def _web_files() -> list[Path]:
    return sorted((ROOT / "web").rglob("*.js"))


@pytest.mark.parametrize(
    "path", [*_python_files(), *_web_files()], ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_longer_than_a_reader_can_hold(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_sys_path_edits_and_the_package_never_imports_lambdas() -> None:
    edits = [
        str(path.relative_to(ROOT))
        for path in _python_files()
        if re.search(r"sys\.path\.(insert|append|extend)|sys\.path\s*[+]?=", path.read_text())
    ]
    assert not edits, f"sys.path edited in {edits}"
    into_lambdas = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "src").rglob("*.py"))
        if any(name == "lambdas" or name.startswith("lambdas.") for name in _imports(path))
    ]
    assert not into_lambdas, f"the package imports lambdas/ in {into_lambdas}"


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


# Words the protocol also uses for other facts: an event type (`typing`) is a separate fact.
# For these, only an *action* spelling counts: `"action": "typing"` (Python) or `action: "typing"`
# / `action === "typing"` (JavaScript), or a key of a command table.
_SHARED_WORDS = {"typing", "react", "subscribe", "sync", "ping"}


def _action_spellings(path: Path, action: str) -> bool:
    text = path.read_text()
    quoted = re.escape(action)
    in_action_position = re.search(
        rf"""["']?action["']?\s*(?::|===?|==)\s*["']{quoted}["']|["']{quoted}["']\s*:\s*[A-Z]""",
        text,
    )
    if in_action_position:
        return True
    if action in _SHARED_WORDS:
        return False
    return re.search(rf"""["']{quoted}["']""", text) is not None


@pytest.mark.parametrize("action", sorted(routes.WS_ACTIONS))
def test_each_websocket_action_is_spelled_in_one_source_file(action: str) -> None:
    files = [*_python_files(), *_web_files()]
    spelled = [str(p.relative_to(ROOT)) for p in files if _action_spellings(p, action)]
    assert spelled == ["src/dynamotalk/routes.py"], f"{action!r} is spelled in {spelled}"


def test_the_spelling_check_sees_actions_in_either_language(tmp_path: Path) -> None:
    python = tmp_path / "client.py"
    python.write_text('frame = {"action": "typing", "roomId": room}\n')
    script = tmp_path / "socket.js"
    script.write_text('if (frame.action === "sendMessage") receive(frame);\n')
    event = tmp_path / "events.js"
    event.write_text('case "typing": return showTyping(frame);\n')
    table = tmp_path / "routes.py"
    table.write_text('WS_ACTIONS = {"markRead": MarkRead}\n')
    assert _action_spellings(python, "typing")
    assert _action_spellings(script, "sendMessage")
    assert not _action_spellings(event, "typing"), "an event type is another fact"
    assert _action_spellings(table, "markRead")
