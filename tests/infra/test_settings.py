"""Stage settings: the committed stage files are valid; bad values fail with a clear message."""

from __future__ import annotations

import pulumi
import pytest

from infra.settings import StageConfigError, settings_from, settings_from_pulumi
from tests.infra.stack_runner import Recorder
from tests.infra.test_stack import stage_settings


def test_committed_stage_files_are_valid() -> None:
    dev, prod = stage_settings("dev"), stage_settings("prod")
    assert dev.auto_confirm_signups
    assert not prod.auto_confirm_signups
    assert prod.point_in_time_recovery
    assert prod.deletion_protection
    assert prod.alarm_email


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ({"lambdaMemoryMb": "-5"}, "eu-west-1", "lambdaMemoryMb must be 128..10240"),
        ({"lambdaMemoryMb": "lots"}, "eu-west-1", "lambdaMemoryMb must be a int"),
        ({}, None, "aws:region is not set"),
        ({}, "mars-north-1", "is not an AWS region"),
        ({"lambdaArchitecture": "sparc"}, "eu-west-1", "arm64 or x86_64"),
        ({"lambdaTimeoutSeconds": 60}, "eu-west-1", "1..29"),
        ({"logRetentionDays": 8}, "eu-west-1", "logRetentionDays must be one of"),
        ({"xray": "maybe"}, "eu-west-1", "xray must be a bool"),
        ({"corsOrigins": ["chat.example.com"]}, "eu-west-1", "corsOrigins"),
        ({"alarmEmail": "nobody"}, "eu-west-1", "alarmEmail"),
        ({"customDomain": "chat.example.com"}, "eu-west-1", "certificateArn"),
        ({"throttleRate": 0}, "eu-west-1", "throttle"),
        ({"lambdaMemorySize": 512}, "eu-west-1", "unknown setting"),
    ],
)
def test_invalid_settings_fail_clearly(
    raw: dict[str, object], region: str | None, message: str
) -> None:
    with pytest.raises(StageConfigError, match=message):
        settings_from("dev", region, raw)


def test_auto_confirm_is_refused_on_prod() -> None:
    with pytest.raises(
        StageConfigError, match="autoConfirmSignups must not be on for the prod stage"
    ):
        settings_from("prod", "eu-west-1", {"autoConfirmSignups": True})


def test_settings_are_read_from_pulumi_config() -> None:
    pulumi.runtime.set_mocks(Recorder(region="eu-central-1"), project="dynamotalk", stack="dev")
    pulumi.runtime.set_all_config(
        {
            "aws:region": "eu-central-1",
            "dynamotalk:lambdaMemoryMb": "1024",
            "dynamotalk:corsOrigins": '["https://a.example.com","https://b.example.com"]',
        }
    )
    try:
        settings = settings_from_pulumi()
        assert settings.region == "eu-central-1"
        assert settings.lambda_memory_mb == 1024
        assert settings.cors_origins == ("https://a.example.com", "https://b.example.com")
        pulumi.runtime.set_all_config(
            {"aws:region": "eu-central-1", "dynamotalk:lambdaMemoryMb": "-1"}
        )
        with pytest.raises(StageConfigError, match="lambdaMemoryMb"):
            settings_from_pulumi()
    finally:
        pulumi.runtime.set_all_config({})
