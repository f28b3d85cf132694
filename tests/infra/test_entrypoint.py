"""infra/__main__.py, the file `pulumi up` runs, under Pulumi's mocks: it reads the stack's
config, builds the zip, creates the stack and exports the outputs; bad config stops it with
Pulumi's clean RunError (a message, no traceback)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from dynamotalk.routes import FUNCTIONS
from dynamotalk.workers import PUSH_SENDER
from tests.infra.stack_runner import OptionsMonitor, Recorder

MAIN = Path(__file__).resolve().parents[2] / "infra" / "__main__.py"


def configure(recorder: Recorder, config: dict[str, str]) -> None:
    pulumi.runtime.set_mocks(
        recorder, project="dynamotalk", stack="dev", preview=False, monitor=OptionsMonitor(recorder)
    )
    pulumi.runtime.set_all_config(config)


def test_bad_config_stops_with_a_clean_message() -> None:
    configure(Recorder(region="eu-west-1"), {"dynamotalk:lambdaMemoryMb": "-5"})
    try:
        with pytest.raises(pulumi.RunError, match="aws:region is not set"):
            runpy.run_path(str(MAIN))
        pulumi.runtime.set_all_config(
            {"aws:region": "eu-west-1", "dynamotalk:lambdaMemoryMb": "-5"}
        )
        with pytest.raises(
            pulumi.RunError, match=re.escape("lambdaMemoryMb must be 128..10240, got -5")
        ):
            runpy.run_path(str(MAIN))
    finally:
        pulumi.runtime.set_all_config({})


def test_pulumi_up_creates_the_stack_from_config() -> None:
    recorder = Recorder(region="eu-west-1")
    configure(recorder, {"aws:region": "eu-west-1", "dynamotalk:lambdaArchitecture": "arm64"})
    namespace: dict[str, Any] = {}
    try:

        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            namespace.update(runpy.run_path(str(MAIN)))
            stack = namespace["stack"]
            return pulumi.Output.all(*stack.outputs.values())

        program()
    finally:
        pulumi.runtime.set_all_config({})
    archives = namespace["archives"]
    assert archives.code.name == "lambda-arm64.zip"
    assert [path.name for path in archives.layers.values()] == [
        "deps-layer-arm64.zip",
        "jwt-layer-arm64.zip",
    ]
    layers = recorder.of("aws:lambda/layerVersion:LayerVersion")
    assert len(layers) == 2
    assert all(layer.inputs["compatibleArchitectures"] == ["arm64"] for layer in layers)
    functions = recorder.of("aws:lambda/function:Function")
    # push_sender only where the stage has `push` on (this config leaves it off).
    assert len(functions) == len([f for f in FUNCTIONS if f.module != PUSH_SENDER])
    assert all(f.inputs["runtime"] == "python3.13" for f in functions)
    assert set(namespace["stack"].outputs) >= {"wsUrl", "httpUrl", "webUrl", "region"}
