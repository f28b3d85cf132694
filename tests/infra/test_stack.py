"""The Pulumi program under Pulumi's mocks, for the committed dev and prod stage settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynamotalk.routes import FUNCTIONS, HTTP_ROUTES, WS_AUTHORIZER, WS_ROUTES
from infra.policies import PERMISSIONS, XRAY_ACTIONS
from infra.settings import StageSettings, settings_from
from tests.infra.stack_runner import Recorder, Resource, run

ROOT = Path(__file__).resolve().parents[2]

# What each handler's role may do beyond writing its own logs: the least-privilege table.
EXPECTED_ACTIONS = {
    "ws_authorizer": set(),
    "ws_connect": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
    },
    "ws_disconnect": {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
    },
    "ws_default": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
        "s3:GetObject",
    },
    "http_api": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
        "s3:GetObject",
        "s3:PutObject",
    },
    "cognito_pre_signup": set(),
    "cognito_post_confirmation": {"dynamodb:GetItem", "dynamodb:BatchWriteItem"},
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}


def stage_settings(stage: str) -> StageSettings:
    config = yaml.safe_load((ROOT / f"Pulumi.{stage}.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("dynamotalk:")}
    return settings_from(stage, config.get("aws:region"), raw)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[StageSettings, Recorder, dict[str, Any]]:
    settings = stage_settings(request.param)
    recorder, outputs = run(settings)
    return settings, recorder, outputs


def functions_by_module(recorder: Recorder) -> dict[str, Resource]:
    return {
        r.inputs["handler"].split(".")[1]: r for r in recorder.of("aws:lambda/function:Function")
    }


def statements(recorder: Recorder) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for policy in recorder.of("aws:iam/rolePolicy:RolePolicy"):
        found += [(policy.name, s) for s in json.loads(policy.inputs["policy"])["Statement"]]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_one_function_per_lambdas_module(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    settings, recorder, _ = stack
    functions = functions_by_module(recorder)
    assert set(functions) == {f.module for f in FUNCTIONS}
    for module, function in functions.items():
        assert (ROOT / "lambdas" / f"{module}.py").exists()
        assert function.inputs["runtime"] == "python3.13"
        assert function.inputs["architectures"] == [settings.lambda_architecture]
        assert function.inputs["memorySize"] == settings.lambda_memory_mb
        variables = function.inputs["environment"]["variables"]
        assert variables["DYNAMOTALK_TABLE"] == f"dynamotalk-{settings.stage}-chat"
        assert variables["DYNAMOTALK_BUCKET"] == f"dynamotalk-{settings.stage}-attachments"
        if module not in ("cognito_pre_signup", "cognito_post_confirmation"):
            assert variables["DYNAMOTALK_USER_POOL_ID"]
            assert variables["DYNAMOTALK_WS_MANAGEMENT_ENDPOINT"].startswith("https://")


def test_every_websocket_route_goes_to_its_function(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    _, recorder, _ = stack
    ws_api = next(
        a
        for a in recorder.of("aws:apigatewayv2/api:Api")
        if a.inputs["protocolType"] == "WEBSOCKET"
    )
    assert ws_api.inputs["routeSelectionExpression"] == "$request.body.action"
    integrations = {
        r.name.split("-", 1)[1]: r
        for r in recorder.of("aws:apigatewayv2/integration:Integration")
        if r.inputs["apiId"] == ws_api.inputs.get("id", r.inputs["apiId"])
        and r.name.startswith("websocket-")
    }
    functions = functions_by_module(recorder)
    routes = {
        r.inputs["routeKey"]: r
        for r in recorder.of("aws:apigatewayv2/route:Route")
        if r.name.startswith("websocket-")
    }
    assert set(routes) == {r.route_key for r in WS_ROUTES}
    for route in WS_ROUTES:
        target = routes[route.route_key].inputs["target"]
        integration = integrations[route.module]
        assert target == f"integrations/{integration.name}-id"
        assert integration.inputs["integrationUri"] == functions[route.module].inputs["invokeArn"]
    connect = routes["$connect"].inputs
    assert connect["authorizationType"] == "CUSTOM"
    (authorizer,) = [
        a
        for a in recorder.of("aws:apigatewayv2/authorizer:Authorizer")
        if a.inputs["authorizerType"] == "REQUEST"
    ]
    assert connect["authorizerId"] == f"{authorizer.name}-id"
    assert authorizer.inputs["identitySources"] == ["route.request.querystring.token"]
    assert authorizer.inputs["authorizerUri"] == functions[WS_AUTHORIZER].inputs["invokeArn"]
    others = [r for key, r in routes.items() if key != "$connect"]
    assert all(r.inputs["authorizationType"] == "NONE" for r in others)
    # ws_default routes are two-way so the handler's reply reaches the sender.
    responses = recorder.of("aws:apigatewayv2/routeResponse:RouteResponse")
    two_way = [r for r in WS_ROUTES if r.module == "ws_default"]
    assert len(responses) == len(two_way)


def test_http_routes_are_wired_and_all_but_health_need_the_jwt(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    settings, recorder, outputs = stack
    routes = {
        r.inputs["routeKey"]: r
        for r in recorder.of("aws:apigatewayv2/route:Route")
        if r.name.startswith("http-")
    }
    assert set(routes) == {r.route_key for r in HTTP_ROUTES}
    (jwt,) = [
        a
        for a in recorder.of("aws:apigatewayv2/authorizer:Authorizer")
        if a.inputs["authorizerType"] == "JWT"
    ]
    assert (
        jwt.inputs["jwtConfiguration"]["issuer"]
        == f"https://cognito-idp.{settings.region}.amazonaws.com/{outputs['userPoolId']}"
    )
    assert jwt.inputs["jwtConfiguration"]["audiences"] == [outputs["userPoolClientId"]]
    for key, route in routes.items():
        if key == "GET /health":
            assert route.inputs["authorizationType"] == "NONE"
            assert "authorizerId" not in route.inputs
        else:
            assert route.inputs["authorizationType"] == "JWT", key
            assert route.inputs["authorizerId"] == f"{jwt.name}-id", key
    http_api = next(
        a for a in recorder.of("aws:apigatewayv2/api:Api") if a.inputs["protocolType"] == "HTTP"
    )
    assert http_api.inputs["corsConfiguration"]["allowOrigins"] == list(settings.cors_origins)


def test_no_wildcard_actions_and_no_wildcard_resources_where_an_arn_exists(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    for name, statement in statements(stack[1]):
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), (name, actions)
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= set(XRAY_ACTIONS), (name, statement)
        assert statement["Effect"] == "Allow"


def test_each_role_holds_exactly_what_its_handler_needs(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    settings, recorder, outputs = stack
    assert set(EXPECTED_ACTIONS) == set(PERMISSIONS)
    table_arn = f"arn:aws:dynamodb:{settings.region}:123456789012:table/{outputs['tableName']}"
    ws_api = next(
        a
        for a in recorder.of("aws:apigatewayv2/api:Api")
        if a.inputs["protocolType"] == "WEBSOCKET"
    )
    ws_arn = ws_api.inputs["executionArn"]
    for policy in recorder.of("aws:iam/rolePolicy:RolePolicy"):
        module = policy.name.removesuffix("-policy")
        granted: set[str] = set()
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = set(as_list(statement["Action"]))
            granted |= actions
            resources = as_list(statement["Resource"])
            if any(a.startswith("dynamodb:") for a in actions):
                assert resources[0] == table_arn
                assert set(resources) <= {table_arn, f"{table_arn}/index/GSI1"}
            if "execute-api:ManageConnections" in actions:
                assert resources == [f"{ws_arn}/{settings.stage}/POST/@connections/*"]
            if any(a.startswith("s3:") for a in actions):
                bucket = f"arn:aws:s3:::{outputs['bucketName']}"
                assert sorted(resources) == [f"{bucket}/avatars/*", f"{bucket}/rooms/*"]
            if any(a.startswith("logs:") for a in actions):
                assert resources == [
                    f"arn:aws:logs:{settings.region}:123456789012:log-group:/aws/lambda/dynamotalk-{settings.stage}-{module.replace('_', '-')}:*"
                ]
        tracing = set(XRAY_ACTIONS) if settings.xray else set()
        assert granted == EXPECTED_ACTIONS[module] | LOGS | tracing, module


def test_table_follows_tables_py_and_stage_protection(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    settings, recorder, _ = stack
    (table,) = recorder.of("aws:dynamodb/table:Table")
    inputs = table.inputs
    assert (inputs["hashKey"], inputs["rangeKey"]) == ("PK", "SK")
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert inputs["serverSideEncryption"]["enabled"] is True
    assert inputs["globalSecondaryIndexes"][0]["name"] == "GSI1"
    if settings.stage == "prod":
        assert inputs["pointInTimeRecovery"]["enabled"] is True
        assert inputs["deletionProtectionEnabled"] is True
        (pool,) = recorder.of("aws:cognito/userPool:UserPool")
        assert pool.inputs["deletionProtection"] == "ACTIVE"


def test_every_log_group_has_retention(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    settings, recorder, _ = stack
    groups = recorder.of("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == len(FUNCTIONS) + 2  # one per function + one per API's access logs
    assert all(g.inputs.get("retentionInDays") == settings.log_retention_days for g in groups)


def test_both_buckets_block_public_access_and_are_encrypted(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    _, recorder, _ = stack
    buckets = recorder.of("aws:s3/bucket:Bucket")
    blocks = recorder.of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    encryption = recorder.of(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert len(buckets) == 2
    assert {b.inputs["bucket"] for b in blocks} == {f"{b.name}-id" for b in buckets}
    for block in blocks:
        assert all(
            block.inputs[k] is True
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
    assert {e.inputs["bucket"] for e in encryption} == {f"{b.name}-id" for b in buckets}
    assert all("acl" not in b.inputs for b in buckets)
    (policy,) = recorder.of("aws:s3/bucketPolicy:BucketPolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]


def test_alarms_and_dashboard_exist(stack: tuple[StageSettings, Recorder, dict[str, Any]]) -> None:
    settings, recorder, _ = stack
    alarms = {a.inputs["metricName"] for a in recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {"Errors", "Throttles", "5xx", "IntegrationError", "ThrottledRequests"} <= alarms
    assert len(recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")) == 2 * len(FUNCTIONS) + 3
    assert recorder.of("aws:cloudwatch/dashboard:Dashboard")
    subscriptions = recorder.of("aws:sns/topicSubscription:TopicSubscription")
    assert [s.inputs["endpoint"] for s in subscriptions] == (
        [settings.alarm_email] if settings.alarm_email else []
    )


def test_triggers_are_wired_with_invoke_permissions(
    stack: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    _, recorder, _ = stack
    (pool,) = recorder.of("aws:cognito/userPool:UserPool")
    functions = functions_by_module(recorder)
    assert pool.inputs["lambdaConfig"]["preSignUp"] == functions["cognito_pre_signup"].inputs["arn"]
    assert (
        pool.inputs["lambdaConfig"]["postConfirmation"]
        == functions["cognito_post_confirmation"].inputs["arn"]
    )
    cognito_permissions = [
        p
        for p in recorder.of("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "cognito-idp.amazonaws.com"
    ]
    assert len(cognito_permissions) == 2
    (client,) = recorder.of("aws:cognito/userPoolClient:UserPoolClient")
    assert client.inputs["generateSecret"] is False
    assert "ALLOW_USER_PASSWORD_AUTH" in client.inputs["explicitAuthFlows"]


def test_outputs_and_web_config(stack: tuple[StageSettings, Recorder, dict[str, Any]]) -> None:
    settings, recorder, outputs = stack
    assert set(outputs) >= {
        "wsUrl",
        "httpUrl",
        "webUrl",
        "userPoolId",
        "userPoolClientId",
        "bucketName",
        "region",
    }
    assert outputs["wsUrl"].startswith("wss://")
    assert outputs["wsUrl"].endswith(f"/{settings.stage}")
    assert outputs["region"] == settings.region
    config = next(
        o
        for o in recorder.of("aws:s3/bucketObjectv2:BucketObjectv2")
        if o.inputs["key"] == "config.json"
    )
    assert json.loads(config.inputs["content"]) | {} == {
        "wsUrl": outputs["wsUrl"],
        "httpUrl": outputs["httpUrl"],
        "region": settings.region,
        "userPoolId": outputs["userPoolId"],
        "userPoolClientId": outputs["userPoolClientId"],
        "cognitoUrl": f"https://cognito-idp.{settings.region}.amazonaws.com/",
    }
