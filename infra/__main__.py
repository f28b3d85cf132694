"""`pulumi up` entry point: read the stage's settings, build the Lambda zips, create the stack.

Pulumi runs this file in the project's virtualenv (Pulumi.yaml: runtime options
`toolchain: pip`, `virtualenv: .venv`). That virtualenv holds the project itself as an
editable install (requirements.txt's `-e .`, which `pulumi install` runs; or `make deps`), so
`dynamotalk` (src/) and `infra` import like any installed package: nothing here edits sys.path.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra import package
from infra.program import build
from infra.settings import StageConfigError, settings_from_pulumi

ROOT = Path(__file__).resolve().parents[1]

try:
    settings = settings_from_pulumi()
except StageConfigError as error:
    # RunError: Pulumi prints the message alone, not a traceback of this file.
    raise pulumi.RunError(str(error)) from None
# Rebuilt on every run: the zip is deterministic, so unchanged sources mean no Lambda update.
archives = package.build(settings.lambda_architecture)
for archive in (archives.code, *archives.layers.values()):
    pulumi.log.info(f"Lambda: {archive.relative_to(ROOT)} ({archive.stat().st_size / 1e6:.2f} MB)")
stack = build(
    settings,
    pulumi.FileArchive(str(archives.code)),
    {name: pulumi.FileArchive(str(path)) for name, path in archives.layers.items()},
)
for key, value in stack.outputs.items():
    pulumi.export(key, value)
