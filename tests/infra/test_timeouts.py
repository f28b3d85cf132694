"""Each function's timeout against what it waits on, as deployed (Pulumi mocks):

- behind API Gateway: no longer than API Gateway waits (quotas.INTEGRATION_TIMEOUT_S); a longer
  timeout only keeps a function running for a caller that already got a 504;
- the bot worker: a whole batch of model answers, each cut off at the model timeout, plus a
  margin; otherwise a slow model kills the batch, SQS retries every job in it and they end in
  the dead-letter queue without the apology;
- its queue: visibility at least six times the function timeout (AWS: "Creating and configuring
  an Amazon SQS event source mapping", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html),
  and jobs kept long enough to reach the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from dynamotalk import quotas
from dynamotalk.bot import BotWorker
from dynamotalk.domain.bot import MODEL_TIMEOUT_S
from dynamotalk.routes import (
    COGNITO_TRIGGERS,
    FUNCTION_BY_MODULE,
    HTTP_ROUTES,
    WS_AUTHORIZER,
    WS_ROUTES,
)
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_stack import functions_by_module, stage_settings

BEHIND_API_GATEWAY = {r.module for r in (*WS_ROUTES, *HTTP_ROUTES)} | {WS_AUTHORIZER}


@pytest.fixture(scope="module", params=["dev", "prod"])
def deployed(request: pytest.FixtureRequest) -> Recorder:
    recorder, _ = run(stage_settings(request.param))
    return recorder


def test_functions_behind_api_gateway_stop_when_it_stops_waiting(deployed: Recorder) -> None:
    functions = functions_by_module(deployed)
    assert set(functions) >= BEHIND_API_GATEWAY
    for module in BEHIND_API_GATEWAY:
        timeout = functions[module].inputs["timeout"]
        assert 1 <= timeout <= quotas.INTEGRATION_TIMEOUT_S, module


def test_every_function_has_its_own_timeout_within_lambdas_limit(deployed: Recorder) -> None:
    for module, function in functions_by_module(deployed).items():
        assert function.inputs["timeout"] == FUNCTION_BY_MODULE[module].timeout_s, module
        assert 1 <= function.inputs["timeout"] <= quotas.LAMBDA_MAX_TIMEOUT_S, module


def test_the_bot_worker_outlasts_a_batch_of_model_timeouts(deployed: Recorder) -> None:
    # The worker waits MODEL_TIMEOUT_S per answer (its one home), one job after another.
    assert attrs.fields(BotWorker).timeout_s.default == MODEL_TIMEOUT_S
    mapping = deployed.named("bot-worker")
    batch = mapping.inputs["batchSize"]
    assert batch == FUNCTION_BY_MODULE["bot_worker"].batch_size
    worker = functions_by_module(deployed)["bot_worker"]
    waits_on_the_model = batch * MODEL_TIMEOUT_S
    # A margin per job for the reads, the typing event, storing and fanning out the reply.
    assert worker.inputs["timeout"] >= waits_on_the_model + batch * 1, (
        worker.inputs["timeout"],
        waits_on_the_model,
    )


def test_the_bot_queue_follows_the_worker_timeout(deployed: Recorder) -> None:
    worker = functions_by_module(deployed)["bot_worker"]
    queues = {q.inputs["name"]: q.inputs for q in deployed.of("aws:sqs/queue:Queue")}
    (jobs,) = [q for name, q in queues.items() if name.endswith("-bot-jobs")]
    (dead,) = [q for name, q in queues.items() if name.endswith("-bot-dlq")]
    visibility = jobs["visibilityTimeoutSeconds"]
    assert visibility >= 6 * worker.inputs["timeout"]
    receives = json.loads(jobs["redrivePolicy"])["maxReceiveCount"]
    # Every delivery may wait out a visibility timeout; the job must not expire before the last.
    assert jobs["messageRetentionSeconds"] > receives * visibility
    assert dead["messageRetentionSeconds"] >= jobs["messageRetentionSeconds"]
    assert jobs["messageRetentionSeconds"] <= 14 * 24 * 3600


def test_a_stage_wide_timeout_no_longer_exists() -> None:
    # Regression: one stage-wide timeout (10 s) gave the bot worker less than one model wait.
    settings: Any = stage_settings("dev")
    assert not hasattr(settings, "lambda_timeout_s")


def test_cognito_triggers_stop_when_cognito_stops_waiting(deployed: Recorder) -> None:
    functions = functions_by_module(deployed)
    for module in COGNITO_TRIGGERS.values():
        assert 1 <= functions[module].inputs["timeout"] <= quotas.COGNITO_TRIGGER_TIMEOUT_S, module
