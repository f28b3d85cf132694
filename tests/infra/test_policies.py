"""The deployed role policies (Pulumi's mocks, committed dev and prod settings) are the shared
builder's output on the stage's real ARNs, and under IAM's rules (the local stack's evaluator)
they allow each function's real calls on those ARNs and refuse the ones it does not need."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dynamotalk.local import iam
from dynamotalk.permissions import PERMISSIONS, StageArns, policy_document
from dynamotalk.search_function import SEARCH_INDEXER
from dynamotalk.workers import DATA_EXPORT
from infra.settings import StageSettings
from tests.infra.stack_runner import ACCOUNT, Recorder, run
from tests.infra.test_delivery_iam import DELIVERY_ALLOWED, DELIVERY_DENIED
from tests.infra.test_erasure import ERASURE_ALLOWED, ERASURE_DENIED, POOL
from tests.infra.test_export import EXPORT_ALLOWED, EXPORT_DENIED
from tests.infra.test_push_iam import PUSH_ALLOWED, PUSH_DENIED
from tests.infra.test_search_iam import ALLOWED as SEARCH_ALLOWED
from tests.infra.test_search_iam import DENIED as SEARCH_DENIED
from tests.infra.test_stack import stage_settings
from tests.integration.test_local_iam import ALLOWED, DENIED, Call

# The delivery functions' calls live beside their grants' tests (test_delivery_iam.py) until
# tests/integration/test_local_iam.py lists them with the others.
REAL_CALLS = {**DELIVERY_ALLOWED, **ALLOWED, **PUSH_ALLOWED, SEARCH_INDEXER: SEARCH_ALLOWED}
NEEDLESS_CALLS = {**DELIVERY_DENIED, **DENIED, **PUSH_DENIED, SEARCH_INDEXER: SEARCH_DENIED}
REAL_CALLS[DATA_EXPORT] = EXPORT_ALLOWED  # tests/infra/test_export.py
NEEDLESS_CALLS[DATA_EXPORT] = EXPORT_DENIED

REAL_CALLS.update(ERASURE_ALLOWED)  # account_erasure (issue 18)
NEEDLESS_CALLS.update(ERASURE_DENIED)


@pytest.fixture(scope="module", params=["dev", "prod"])
def deployed(request: pytest.FixtureRequest) -> tuple[StageSettings, Recorder]:
    settings = stage_settings(request.param)
    recorder, _outputs = run(settings)
    return settings, recorder


def documents(recorder: Recorder) -> dict[str, Any]:
    return {
        policy.name.removesuffix("-policy"): json.loads(policy.inputs["policy"])
        for policy in recorder.of("aws:iam/rolePolicy:RolePolicy")
        if policy.name.removesuffix("-policy") in PERMISSIONS
    }


def stage_arns(settings: StageSettings, recorder: Recorder) -> StageArns:
    (api,) = [
        a
        for a in recorder.of("aws:apigatewayv2/api:Api")
        if a.inputs["protocolType"] == "WEBSOCKET"
    ]
    return StageArns(
        region=settings.region,
        table_arn=recorder.named("data-chat").inputs["arn"],
        bucket_arn=f"arn:aws:s3:::{recorder.named('attachments-bucket').inputs['bucket']}",
        connections_arn=f"{api.inputs['executionArn']}/{settings.stage}/POST/@connections/*",
        bot_queue_arn=recorder.named("bot-jobs").inputs["arn"],
        bot_model_id=settings.bot_model_id,
        stream_arn=recorder.named("data-chat").inputs["streamArn"],
        fanout_pages_queue_arn=recorder.named("delivery-pages").inputs["arn"],
        fanout_dlq_arn=recorder.named("delivery-dead-letters").inputs["arn"],
        event_bus_arn=(
            recorder.named("delivery-events-bus").inputs["arn"] if settings.publish_events else None
        ),
        xray=settings.xray,
        push_queue_arn=recorder.named("push-jobs").inputs["arn"] if settings.push else None,
        vapid_parameter_arn=(
            recorder.named("push-vapid-parameter").inputs["arn"] if settings.push else None
        ),
        export_queue_arn=recorder.named("export-jobs").inputs["arn"],
        erasure_queue_arn=recorder.named("erasure-jobs").inputs["arn"],
        user_pool_arn=recorder.of("aws:cognito/userPool:UserPool")[0].inputs["arn"],
    )


def test_each_deployed_policy_is_the_shared_builders_document(
    deployed: tuple[StageSettings, Recorder],
) -> None:
    settings, recorder = deployed
    arns = stage_arns(settings, recorder)
    found = documents(recorder)
    assert set(found) == set(PERMISSIONS)
    for module, document in found.items():
        log_group = recorder.named(f"{module}-logs").inputs["arn"]
        assert document == policy_document(module, arns, log_group), module


def cloud_requests(call: Call, settings: StageSettings, recorder: Recorder) -> list[iam.Request]:
    """The call with the test's local names swapped for the stage's real table, bucket, queue."""
    (api,) = [
        a
        for a in recorder.of("aws:apigatewayv2/api:Api")
        if a.inputs["protocolType"] == "WEBSOCKET"
    ]
    cloud = iam.LocalAccount(
        stage=settings.stage, region=settings.region, account=ACCOUNT, api_id=api.id
    )
    names = {
        "dynamotalk-local-chat": recorder.named("data-chat").inputs["name"],
        "dynamotalk-local-attachments": recorder.named("attachments-bucket").inputs["bucket"],
        "dynamotalk-local-bot-jobs": recorder.named("bot-jobs").inputs["name"],
        "dynamotalk-local-fanout-pages": recorder.named("delivery-pages").inputs["name"],
        "dynamotalk-local-fanout-dlq": recorder.named("delivery-dead-letters").inputs["name"],
        "dynamotalk-local-push-jobs": recorder.named("push-jobs").inputs["name"],
        "dynamotalk-local-export-jobs": recorder.named("export-jobs").inputs["name"],
        "dynamotalk-local-erasure-jobs": recorder.named("erasure-jobs").inputs["name"],
        POOL: recorder.of("aws:cognito/userPool:UserPool")[0].id,
        "/dynamotalk-local/": f"/dynamotalk-{settings.stage}/",
        "us-east-1": settings.region,
        iam.LOCAL_ACCOUNT: ACCOUNT,
        "anthropic.claude-3-haiku-20240307-v1:0": settings.bot_model_id,
    }
    text = json.dumps(call[2], default=str)
    for local, real in names.items():
        text = text.replace(local, real)
    prefix, operation, _ = call
    return iam.requests_for(prefix, operation, json.loads(text), cloud)


@pytest.mark.parametrize("module", sorted(PERMISSIONS))
def test_the_deployed_policies_allow_the_real_calls_and_nothing_else(
    deployed: tuple[StageSettings, Recorder], module: str
) -> None:
    settings, recorder = deployed
    document = documents(recorder)[module]
    for call in REAL_CALLS[module]:
        for request in cloud_requests(call, settings, recorder):
            decision = iam.evaluate(document, request.action, request.resource)
            assert decision == "allow", (module, request)
    for call in NEEDLESS_CALLS[module]:
        requests = cloud_requests(call, settings, recorder)
        decisions = {iam.evaluate(document, r.action, r.resource) for r in requests}
        assert "implicit_deny" in decisions, (module, call)
