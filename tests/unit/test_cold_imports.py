"""What a cold start imports: JWT verification (pyjwt, cryptography) belongs to the authorizer
and to a `reauth`, never to the import of $connect or the message route."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.p3_cold_start import function_environment

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("jwt", "cryptography")


@pytest.mark.parametrize("module", ["ws_connect", "ws_default", "session_sweeper"])
def test_importing_the_handler_loads_no_jwt_verification(module: str) -> None:
    env = {**os.environ, **function_environment(module), "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    code = f"import json, sys, lambdas.{module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & set(HEAVY)
    assert "botocore" in loaded  # the probe really imported the handler and its adapters
