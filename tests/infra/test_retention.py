"""Retention's infrastructure (issue 18), with Pulumi's mocks: the stage setting is checked and
reaches every function's environment; the table's TTL is on, on the attribute messages carry;
the attachments bucket has one lifecycle rule per retention choice, each filtered by its tag."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk import attachment_retention
from dynamotalk.domain.retention import RETENTION_CHOICES_DAYS
from dynamotalk.settings import ENV
from dynamotalk.tables import CHAT_TABLE
from dynamotalk.tables.items import EXPIRES_AT
from infra.settings import StageConfigError, settings_from
from tests.infra.stack_runner import run
from tests.infra.test_stack import Stack, stack, stage_settings

__all__ = ["stack"]  # test_stack's fixture: the program run once per stage (dev, prod)


def test_the_stage_setting_is_checked_and_reaches_every_function() -> None:
    with pytest.raises(StageConfigError, match="messageRetentionDays"):
        settings_from("dev", "eu-west-1", {"messageRetentionDays": 14})
    settings = attrs.evolve(stage_settings("dev"), message_retention_days=90)
    recorder, _ = run(settings)
    functions = recorder.of("aws:lambda/function:Function")
    assert functions
    for function in functions:
        variables = function.inputs["environment"]["variables"]
        assert variables[ENV["message_retention_days"]] == "90", function.name


def test_the_tables_ttl_is_the_attribute_messages_carry(stack: Stack) -> None:
    _, recorder, _ = stack
    (table,) = recorder.of("aws:dynamodb/table:Table")
    assert table.inputs["ttl"] == {"attributeName": EXPIRES_AT, "enabled": True}
    assert CHAT_TABLE.ttl_attribute == EXPIRES_AT


def test_each_retention_choice_has_its_lifecycle_rule(stack: Stack) -> None:
    _, recorder, outputs = stack
    (lifecycle,) = recorder.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["bucket"] == outputs["bucketName"]
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    for days in (d for d in RETENTION_CHOICES_DAYS if d):
        key, value = attachment_retention.retention_tag(days)
        rule = rules[f"expire-retention-{days}d"]
        assert rule["status"] == "Enabled"
        # Only objects tagged with this retention: a rule without the filter would expire all.
        assert rule["filter"] == {"tag": {"key": key, "value": value}}
        # A file never goes before its message (S3 counts from the upload, before the post).
        assert rule["expiration"]["days"] == days + attachment_retention.EXPIRY_MARGIN_DAYS
