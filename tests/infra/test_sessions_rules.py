"""The stage's EventBridge rules for sessions (infra/sessions.py): the sweeper on its schedule,
the revoking Cognito calls to session_revoked, each target allowed to be invoked by its rule
only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dynamotalk.revocation import REVOKING_CALLS
from dynamotalk.routes import function_name
from infra.settings import settings_from
from tests.infra.stack_runner import Recorder, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("dynamotalk:")}
    recorder, _ = run(settings_from("dev", config.get("aws:region"), raw))
    return recorder


def test_the_sweeper_runs_every_minute(recorder: Recorder) -> None:
    rule = recorder.named("session_sweeper-schedule")
    assert rule.inputs["scheduleExpression"] == "rate(1 minute)"
    target = recorder.named("session_sweeper-target")
    assert target.inputs["rule"] == rule.inputs["name"]
    assert function_name("dev", "session_sweeper") in target.inputs["arn"]


def test_revoking_cognito_calls_reach_session_revoked(recorder: Recorder) -> None:
    rule = recorder.named("session-revocations")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["source"] == ["aws.cognito-idp"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert set(pattern["detail"]["eventName"]) == set(REVOKING_CALLS)
    assert pattern["detail"]["errorCode"] == [{"exists": False}]  # refused calls revoke nothing
    target = recorder.named("session_revoked-target")
    assert function_name("dev", "session_revoked") in target.inputs["arn"]


def test_each_target_may_be_invoked_by_its_own_rule_only(recorder: Recorder) -> None:
    for module, rule in (
        ("session_sweeper", "session_sweeper-schedule"),
        ("session_revoked", "session-revocations"),
    ):
        permission = recorder.named(f"{module}-from-events")
        assert permission.inputs["principal"] == "events.amazonaws.com"
        assert permission.inputs["sourceArn"] == recorder.named(rule).inputs["arn"]
