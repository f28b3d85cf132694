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
from infra.settings import StageConfigError, settings_from_pulumi  # noqa: E402

try:
    settings = settings_from_pulumi()
except StageConfigError as error:
    # RunError: Pulumi prints the message alone, not a traceback of this file.
    raise pulumi.RunError(str(error)) from None
# Rebuilt on every run: the zip is deterministic, so unchanged sources mean no Lambda update.
archive = package.build(settings.lambda_architecture)
pulumi.log.info(f"Lambda code: {archive.relative_to(ROOT)} ({archive.stat().st_size / 1e6:.2f} MB)")
stack = build(settings, pulumi.FileArchive(str(archive)))
for key, value in stack.outputs.items():
    pulumi.export(key, value)
