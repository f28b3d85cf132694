"""SnapStart as a stage setting: on, every function publishes a snapshotted version behind one
alias and everything that invokes a function invokes that alias; off, the stack is what it
was (no versions, no aliases, every invoker on $LATEST)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from infra.functions import LIVE_ALIAS
from tests.infra.stack_runner import Recorder, Resource, run
from tests.infra.test_stack import stage_settings

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
PERMISSION = "aws:lambda/permission:Permission"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
USER_POOL = "aws:cognito/userPool:UserPool"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SNAPSTART_PYTHON = (3, 12)
"""The oldest Python runtime SnapStart supports (Lambda Developer Guide, "Improving startup
performance with Lambda SnapStart": Supported features and limitations)."""
MAX_EPHEMERAL_MB = 512
"""SnapStart refuses more /tmp than this (same page), and EFS and provisioned concurrency."""


@pytest.fixture(scope="module")
def off() -> Recorder:
    settings = stage_settings("dev")
    assert not settings.snap_start  # the committed stage keeps the default
    return run(settings)[0]


@pytest.fixture(scope="module", params=["dev", "prod"])
def on(request: pytest.FixtureRequest) -> Recorder:
    return run(attrs.evolve(stage_settings(request.param), snap_start=True))[0]


@pytest.fixture(scope="module")
def dev_on() -> Recorder:
    return run(attrs.evolve(stage_settings("dev"), snap_start=True))[0]


def strings(value: Any) -> Iterator[str]:
    """Every string inside a resource's inputs (nested dicts and lists, JSON text included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def lambda_arns(value: Any) -> set[str]:
    return {s for s in strings(value) if re.fullmatch(r"arn:aws:lambda:[^/]+", s)}


def aliases(recorder: Recorder) -> dict[str, Resource]:
    """Function name -> its alias."""
    return {a.inputs["functionName"]: a for a in recorder.of(ALIAS)}


def test_on_every_function_is_snapshotted_on_publish_and_can_be(on: Recorder) -> None:
    functions = on.of(FUNCTION)
    assert functions
    for function in functions:
        assert function.inputs["snapStart"] == {"applyOn": "PublishedVersions"}, function.name
        assert function.inputs["publish"] is True, function.name
        runtime = re.fullmatch(r"python(\d+)\.(\d+)", function.inputs["runtime"])
        assert runtime
        assert tuple(map(int, runtime.groups())) >= SNAPSTART_PYTHON
        assert function.inputs.get("ephemeralStorage", {}).get("size", 512) <= MAX_EPHEMERAL_MB
        assert "fileSystemConfig" not in function.inputs
    assert not on.of("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")


def test_on_every_function_has_one_alias_on_its_published_version(on: Recorder) -> None:
    by_function = aliases(on)
    assert len(by_function) == len(on.of(ALIAS))  # one alias per function, no more
    for function in on.of(FUNCTION):
        alias = by_function[function.inputs["name"]]
        assert alias.inputs["name"] == LIVE_ALIAS
        assert alias.inputs["functionVersion"] == function.inputs["version"] != "$LATEST"


def test_on_every_invoker_calls_an_alias(on: Recorder) -> None:
    alias_arns = {a.inputs["arn"] for a in on.of(ALIAS)}
    alias_invoke_arns = {a.inputs["invokeArn"] for a in on.of(ALIAS)}
    integrations = on.of(INTEGRATION)
    assert integrations
    for integration in integrations:
        assert integration.inputs["integrationUri"] in alias_invoke_arns, integration.name
    lambda_authorizers = [a for a in on.of(AUTHORIZER) if a.inputs.get("authorizerUri")]
    assert lambda_authorizers  # the WebSocket $connect authorizer
    for authorizer in lambda_authorizers:
        assert authorizer.inputs["authorizerUri"] in alias_invoke_arns, authorizer.name
    mappings = on.of(MAPPING)
    assert mappings  # the stream and the queues
    for mapping in mappings:
        assert mapping.inputs["functionName"] in alias_arns, mapping.name
    (pool,) = on.of(USER_POOL)
    triggers = lambda_arns(pool.inputs["lambdaConfig"])
    assert triggers
    assert triggers <= alias_arns
    targets = [t for t in on.of(EVENT_TARGET) if lambda_arns(t.inputs["arn"])]
    assert targets  # the sweeper's schedule and the revocations rule
    for target in targets:
        assert target.inputs["arn"] in alias_arns, target.name


def test_on_every_permission_is_granted_on_the_alias(on: Recorder) -> None:
    by_function = aliases(on)
    permissions = on.of(PERMISSION)
    assert permissions
    for permission in permissions:
        alias = by_function[permission.inputs["function"]]
        assert permission.inputs["qualifier"] == alias.inputs["name"], permission.name


def test_on_no_resource_names_a_functions_latest(on: Recorder) -> None:
    """Whatever invokes a function, listed above or added later, reaches it through its alias:
    no input anywhere holds an unqualified function ARN (nor its API Gateway invoke ARN)."""
    unqualified = {f.inputs["arn"]: f.name for f in on.of(FUNCTION)}  # "...:function:NAME"
    for resource in on.resources:
        if resource.typ == FUNCTION:
            continue
        for text in strings(resource.inputs):
            for arn, function in unqualified.items():
                latest = re.search(re.escape(arn) + r"(?![\w:-])", text)
                assert not latest, f"{resource.typ} {resource.name} calls {function}'s $LATEST"


def test_off_no_version_no_alias_every_invoker_on_the_function(off: Recorder) -> None:
    assert not off.of(ALIAS)
    for function in off.of(FUNCTION):
        assert "snapStart" not in function.inputs
        assert not function.inputs.get("publish")
    assert all("qualifier" not in p.inputs for p in off.of(PERMISSION))
    function_arns = {f.inputs["arn"] for f in off.of(FUNCTION)}
    invoke_arns = {f.inputs["invokeArn"] for f in off.of(FUNCTION)}
    names = {f.inputs["name"] for f in off.of(FUNCTION)}
    assert {i.inputs["integrationUri"] for i in off.of(INTEGRATION)} <= invoke_arns
    assert {m.inputs["functionName"] for m in off.of(MAPPING)} <= names
    (pool,) = off.of(USER_POOL)
    assert lambda_arns(pool.inputs["lambdaConfig"]) <= function_arns


def test_snapstart_adds_only_the_aliases(off: Recorder, dev_on: Recorder) -> None:
    """The same stage with SnapStart on has the same resources plus one alias per function."""
    before = {(r.typ, r.name) for r in off.resources}
    after = {(r.typ, r.name) for r in dev_on.resources}
    assert before <= after
    added = after - before
    assert {typ for typ, _ in added} == {ALIAS}
    assert len(added) == len(dev_on.of(FUNCTION))
