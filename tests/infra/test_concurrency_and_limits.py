"""Stage-level abuse limits under Pulumi mocks: reserved concurrency per function (a stage
setting, off on dev), the bot queue's maximum concurrency, and the per-user limits reaching
every function's environment."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk.domain.user_limits import LIMIT_SETTINGS, UserLimits
from dynamotalk.routes import FUNCTION_BY_MODULE
from dynamotalk.settings import Settings
from dynamotalk.workers import BOT_MAX_CONCURRENCY
from infra.settings import StageConfigError, settings_from
from tests.infra.stack_runner import run
from tests.infra.test_stack import functions_by_module, stage_settings


def test_dev_reserves_nothing_and_prod_reserves_each_functions_share() -> None:
    dev, prod = stage_settings("dev"), stage_settings("prod")
    assert (dev.reserved_concurrency, prod.reserved_concurrency) == (False, True)
    for stage, reserving in ((dev, False), (prod, True)):
        recorder, _ = run(stage)
        for module, function in functions_by_module(recorder).items():
            wanted = FUNCTION_BY_MODULE[module].reserved_concurrency
            reserved = function.inputs.get("reservedConcurrentExecutions")
            assert reserved == (wanted if reserving and wanted else None), (stage.stage, module)
    total = sum(f.reserved_concurrency for f in FUNCTION_BY_MODULE.values())
    assert total <= 1000 - 100, "Lambda keeps 100 of the default 1,000 unreserved"


def test_the_bot_queue_runs_at_most_a_few_batches_at_once() -> None:
    recorder, _ = run(stage_settings("dev"))
    mapping = recorder.named("bot-worker")
    assert mapping.inputs["scalingConfig"] == {"maximumConcurrency": BOT_MAX_CONCURRENCY}
    assert 2 <= BOT_MAX_CONCURRENCY <= FUNCTION_BY_MODULE["bot_worker"].reserved_concurrency


def test_per_user_limits_reach_every_function_and_back_into_settings() -> None:
    stage = settings_from(
        "dev", "eu-west-1", {"limitMessagesPerSecond": 3, "limitRoomsPerHour": "7"}
    )
    assert stage.user_limits == UserLimits(messages_per_second=3, rooms_per_hour=7)
    recorder, _ = run(attrs.evolve(stage_settings("dev"), user_limits=stage.user_limits))
    for function in recorder.of("aws:lambda/function:Function"):
        variables = function.inputs["environment"]["variables"]
        assert {s.env for s in LIMIT_SETTINGS} <= set(variables), function.name
        env = {
            "DYNAMOTALK_STAGE": "dev",
            "AWS_REGION": "eu-west-1",
            "DYNAMOTALK_TABLE": "t",
            "DYNAMOTALK_BUCKET": "b",
            **{k: v for k, v in variables.items() if k.startswith("DYNAMOTALK_LIMIT_")},
        }
        assert Settings.from_env(env).user_limits == stage.user_limits


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"limitMessagesPerSecond": 0}, "limitMessagesPerSecond must be 1.."),
        ({"limitMessagesBurst": "lots"}, "limitMessagesBurst must be an integer"),
        ({"limitTypingPerSecond": 1, "limitTypingBurst": 11}, "typing: the burst must not"),
        ({"limitMessagesPerMinute": 5}, "unknown setting"),
    ],
)
def test_bad_limits_fail_clearly(raw: dict[str, object], message: str) -> None:
    with pytest.raises(StageConfigError, match=message):
        settings_from("dev", "eu-west-1", raw)
