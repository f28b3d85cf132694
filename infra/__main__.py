"""`pulumi up` entry point: read the stage's settings, build the Lambda zip, create the stack."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import pulumi  # noqa: E402

from infra import package  # noqa: E402
from infra.program import build  # noqa: E402
from infra.settings import settings_from_pulumi  # noqa: E402

settings = settings_from_pulumi()
archive = package.build(settings.lambda_architecture)
pulumi.log.info(f"Lambda code: {archive.relative_to(ROOT)} ({archive.stat().st_size / 1e6:.2f} MB)")
stack = build(settings, pulumi.FileArchive(str(archive)))
for key, value in stack.outputs.items():
    pulumi.export(key, value)
