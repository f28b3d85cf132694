"""Stage settings: the committed stage files are valid and agree with Pulumi.yaml; bad values
fail with a clear message that names the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pulumi
import pytest
import yaml

from dynamotalk.domain.user_limits import LIMIT_BY_KEY
from infra.settings import (
    CONFIG_KEYS,
    StageConfigError,
    StageSettings,
    settings_from,
    settings_from_pulumi,
)
from tests.infra.stack_runner import Recorder
from tests.infra.test_stack import stage_settings

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
STAGES = ("dev", "prod")
PULUMI_TYPES = {bool: "boolean", int: "integer", float: "integer", str: "string", tuple: "array"}


def stage_config(stage: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / f"Pulumi.{stage}.yaml").read_text())["config"]
    return config


def test_committed_stage_files_are_valid() -> None:
    dev, prod = stage_settings("dev"), stage_settings("prod")
    assert dev.auto_confirm_signups
    assert not prod.auto_confirm_signups
    assert prod.point_in_time_recovery
    assert prod.deletion_protection
    assert prod.alarm_email
    assert all(o.startswith("https://") for o in prod.cors_origins)


def test_pulumi_yaml_declares_exactly_the_settings_with_their_defaults() -> None:
    declared = PROJECT["config"]
    assert set(declared) == set(CONFIG_KEYS) | set(LIMIT_BY_KEY)
    for key, limit in LIMIT_BY_KEY.items():  # per-user limits: one UserLimits field each
        assert declared[key]["type"] == "integer", key
        assert declared[key]["description"], key
        chosen = settings_from("defaults", "eu-west-1", {key: declared[key]["default"]})
        assert getattr(chosen.user_limits, limit.field) == limit.default, key
    defaults = StageSettings(stage="defaults", region="eu-west-1")
    for key, (field, kind) in CONFIG_KEYS.items():
        assert declared[key]["type"] == PULUMI_TYPES[kind], key
        assert declared[key]["description"], key
        # What `pulumi config` shows as the default is what the program uses when unset.
        default = settings_from("defaults", "eu-west-1", {key: declared[key]["default"]})
        assert getattr(default, field) == getattr(defaults, field), key


@pytest.mark.parametrize("stage", STAGES)
def test_stage_files_pass_pulumis_own_config_check(stage: str) -> None:
    # Pulumi refuses a stack that lacks a declared key with no default ("Stack 'dev' is
    # missing configuration value ...") and validates set values against the declared type.
    declared = PROJECT["config"]
    config = stage_config(stage)
    ours = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("dynamotalk:")}
    missing = [k for k, spec in declared.items() if "default" not in spec and k not in ours]
    assert not missing
    assert set(ours) <= set(declared)
    python_types = {"boolean": bool, "integer": int, "string": str, "array": list}
    for key, value in ours.items():
        assert isinstance(value, python_types[declared[key]["type"]]), key
    assert config["aws:region"]


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ({"lambdaMemoryMb": "-5"}, "eu-west-1", "lambdaMemoryMb must be 128..10240, got -5"),
        ({"lambdaMemoryMb": "lots"}, "eu-west-1", "lambdaMemoryMb must be an integer, got 'lots'"),
        ({}, None, "aws:region is not set for stage 'dev'"),
        ({}, "", "aws:region is not set"),
        ({}, "mars-north-1", "is not an AWS region"),
        ({"lambdaArchitecture": "sparc"}, "eu-west-1", "arm64 or x86_64"),
        # Timeouts are per function now (routes.py): the old stage-wide key is refused.
        ({"lambdaTimeoutSeconds": 10}, "eu-west-1", "unknown setting"),
        ({"logRetentionDays": 8}, "eu-west-1", "logRetentionDays must be one of"),
        ({"xray": "maybe"}, "eu-west-1", "xray must be true or false"),
        ({"corsOrigins": ["chat.example.com"]}, "eu-west-1", "corsOrigins"),
        ({"corsOrigins": ["https://chat.example.com/app"]}, "eu-west-1", "corsOrigins"),
        ({"corsOrigins": ["https://Chat.example.com"]}, "eu-west-1", "corsOrigins"),
        (
            {"customDomain": "chat.example.com/x", "certificateArn": "arn:aws:acm:x"},
            "eu-west-1",
            "customDomain",
        ),
        ({"alarmEmail": "nobody"}, "eu-west-1", "alarmEmail"),
        ({"customDomain": "chat.example.com"}, "eu-west-1", "certificateArn"),
        ({"throttleRate": 0}, "eu-west-1", "throttle"),
        ({"maxMessageChars": 5000}, "eu-west-1", "maxMessageChars"),
        ({"lambdaMemorySize": 512}, "eu-west-1", "unknown setting"),
    ],
)
def test_invalid_settings_fail_clearly(
    raw: dict[str, object], region: str | None, message: str
) -> None:
    with pytest.raises(StageConfigError, match=message):
        settings_from("dev", region, raw)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(StageConfigError) as caught:
        settings_from("dev", "eu-west-1", {"lambdaMemoryMb": 64, "maxMessageChars": 0})
    assert "lambdaMemoryMb" in str(caught.value)
    assert "maxMessageChars" in str(caught.value)


def test_auto_confirm_is_refused_on_prod() -> None:
    with pytest.raises(
        StageConfigError, match="autoConfirmSignups must not be on for the prod stage"
    ):
        settings_from("prod", "eu-west-1", {"autoConfirmSignups": True})
    # The committed prod file with auto-confirm switched on: refused the same way.
    with pytest.raises(StageConfigError, match="autoConfirmSignups"):
        attrs.evolve(stage_settings("prod"), auto_confirm_signups=True)


def test_settings_are_read_from_pulumi_config() -> None:
    pulumi.runtime.set_mocks(Recorder(region="eu-central-1"), project="dynamotalk", stack="dev")
    try:
        # As the CLI hands them over: strings, arrays as JSON, project defaults applied ("").
        pulumi.runtime.set_all_config(
            {
                "aws:region": "eu-central-1",
                "dynamotalk:lambdaMemoryMb": "1024",
                "dynamotalk:xray": "true",
                "dynamotalk:alarmEmail": "",
                "dynamotalk:corsOrigins": '["https://a.example.com","https://b.example.com"]',
            }
        )
        settings = settings_from_pulumi()
        assert settings.stage == "dev"
        assert settings.region == "eu-central-1"
        assert settings.lambda_memory_mb == 1024
        assert settings.xray is True
        assert settings.alarm_email is None
        assert settings.cors_origins == ("https://a.example.com", "https://b.example.com")
        pulumi.runtime.set_all_config(
            {"aws:region": "eu-central-1", "dynamotalk:lambdaMemoryMb": "-1"}
        )
        with pytest.raises(StageConfigError, match="lambdaMemoryMb"):
            settings_from_pulumi()
        pulumi.runtime.set_all_config({"dynamotalk:lambdaMemoryMb": "1024"})
        with pytest.raises(StageConfigError, match="aws:region is not set"):
            settings_from_pulumi()
    finally:
        pulumi.runtime.set_all_config({})
