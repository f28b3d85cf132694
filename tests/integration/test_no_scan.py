"""No runtime module reads DynamoDB with Scan: every read's cost grows with its answer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = sorted([*(ROOT / "src" / "dynamotalk").rglob("*.py"), *(ROOT / "lambdas").glob("*.py")])


def scan_calls(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"scan", "parallel_scan"}:
                found.append(name)
            # client.get_paginator("scan") and friends
            if name == "get_paginator" and any(
                isinstance(a, ast.Constant) and a.value == "scan" for a in node.args
            ):
                found.append("get_paginator('scan')")
        if isinstance(node, ast.Constant) and node.value in ("Scan", "dynamodb:Scan"):
            found.append(repr(node.value))
    return found


@pytest.mark.parametrize("path", RUNTIME, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_runtime_module_calls_scan(path: Path) -> None:
    assert scan_calls(path.read_text()) == []


def test_the_check_finds_scans() -> None:
    sample = 'c.scan(TableName="t")\nc.get_paginator("scan")\nx = "Scan"\n'
    assert len(scan_calls(sample)) == 3
