"""The Pulumi program under Pulumi's mocks, for the committed dev and prod stage settings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from dynamotalk.domain.events import ROOM_CHANGE_TYPES
from dynamotalk.domain.user_limits import LIMIT_SETTINGS
from dynamotalk.local import provision
from dynamotalk.routes import CLIENT_ACTIONS as ACTIONS
from dynamotalk.routes import (
    COGNITO_TRIGGERS,
    FUNCTION_BY_MODULE,
    FUNCTIONS,
    HTTP_ROUTES,
    WS_AUTHORIZER,
    WS_ROUTES,
)
from dynamotalk.stage_config import client_limits, client_permissions
from dynamotalk.tables import CHAT_TABLE
from dynamotalk.userpool import user_pool_spec
from infra import business_metrics, package
from infra.policies import PERMISSIONS, STREAM_READ, XRAY_ACTIONS
from infra.settings import StageSettings, settings_from
from infra.storage_web import web_files
from tests.infra.stack_runner import ACCOUNT, STREAM_LABEL, Recorder, Resource, run

ROOT = Path(__file__).resolve().parents[2]

# The least-privilege table: what each handler's role may do beyond writing its own logs.
# Written out here (not read from infra/policies.py) so a widened policy fails this test.
EXPECTED_ACTIONS: dict[str, set[str]] = {
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
        "dynamodb:BatchGetItem",  # subscribe: its rooms and the caller's memberships
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",  # a deleted message's pin (issue 17)
        "execute-api:ManageConnections",
        "s3:GetObject",
        "s3:PutObjectTagging",
        "sqs:SendMessage",
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
        "s3:PutObjectTagging",
        "sqs:SendMessage",  # export and erasure jobs (issue 18): permissions_export.py, DELETE /me
    },
    "cognito_pre_signup": set(),
    "cognito_post_confirmation": {"dynamodb:GetItem", "dynamodb:PutItem"},
    "bot_worker": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "bedrock:InvokeModel",
    },
    "session_sweeper": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
    },
    "session_revoked": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
    },
    # The stream's second reader (issue 18): tests/infra/test_search.py.
    "search_indexer": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        *STREAM_READ,
        "sqs:SendMessage",
    },
    # The stream mapping and its on-failure destination act with the function's role.
    "fanout": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "execute-api:ManageConnections",
        "sqs:SendMessage",  # page jobs, and the dead letters (on-failure destination)
        "events:PutEvents",  # only where the stage publishes events
    },
    "fanout_pages": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",  # re-queues what stayed throttled
    },
    # Web Push (issue 18): its queue's mapping acts with its role; its one SSM parameter.
    "push_sender": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "ssm:GetParameter",
    },
    # Export my data (issue 18): its queue's mapping acts with its role; archives on exports/.
    "data_export": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "s3:PutObject",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    },
    # Erase my account (issue 18, erasure_permissions.py).
    "account_erasure": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "cognito-idp:AdminDeleteUser",
        "s3:DeleteObject",
    },
}
# Which handlers Query GSI1, and which S3 prefixes each may touch.
EXPECTED_GSI = {
    "ws_connect",
    "ws_disconnect",
    "http_api",
    "session_sweeper",
    "session_revoked",
    "fanout",  # a mention reaches the member's own connections (USERCONN# on GSI1)
    "push_sender",  # a recipient's live connections (USERCONN# on GSI1): online, no push
    "data_export",  # the user's memberships and each thread's replies (GSI1)
    "account_erasure",  # the user's rooms and connections
}
EXPECTED_S3_PREFIXES = {"ws_default": {"rooms/*"}, "http_api": {"rooms/*", "avatars/*"}}
EXPECTED_S3_PREFIXES["data_export"] = {"exports/*"}
EXPORT_ARCHIVES = ("ExportArchives", {"exports/*"})
"""http_api's own statement for presigning archives (permissions_export.py)."""
EXPECTED_S3_PREFIXES["account_erasure"] = {"avatars/*"}

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}


def stage_settings(stage: str) -> StageSettings:
    """The settings `pulumi up` would read from the committed Pulumi.<stage>.yaml."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stage}.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("dynamotalk:")}
    return settings_from(stage, config.get("aws:region"), raw)


Stack = tuple[StageSettings, Recorder, dict[str, Any]]


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> Stack:
    settings = stage_settings(request.param)
    recorder, outputs = run(settings)
    return settings, recorder, outputs


def functions_by_module(recorder: Recorder) -> dict[str, Resource]:
    return {
        r.inputs["handler"].split(".")[1]: r for r in recorder.of("aws:lambda/function:Function")
    }


def lambda_policies(recorder: Recorder) -> dict[str, list[dict[str, Any]]]:
    """Handler module -> statements of its role's inline policy."""
    found = {}
    for policy in recorder.of("aws:iam/rolePolicy:RolePolicy"):
        module = policy.name.removesuffix("-policy")
        if module in EXPECTED_ACTIONS:
            found[module] = json.loads(policy.inputs["policy"])["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def the_api(recorder: Recorder, protocol: str) -> Resource:
    (api,) = [
        a for a in recorder.of("aws:apigatewayv2/api:Api") if a.inputs["protocolType"] == protocol
    ]
    return api


def env_names_read_by_the_functions() -> set[str]:
    source = (ROOT / "src" / "dynamotalk" / "settings.py").read_text()
    # Settings.from_env also reads one variable per per-user limit (domain/user_limits.py).
    return set(re.findall(r'"(DYNAMOTALK_[A-Z_]+)"', source)) | {s.env for s in LIMIT_SETTINGS}


def test_one_function_per_lambdas_module(stack: Stack) -> None:
    settings, recorder, outputs = stack
    functions = functions_by_module(recorder)
    assert set(functions) == {f.module for f in FUNCTIONS}
    readable = env_names_read_by_the_functions()
    for module, function in functions.items():
        assert (ROOT / "lambdas" / f"{module}.py").exists()
        assert function.inputs["runtime"] == "python3.13"
        assert function.inputs["architectures"] == [settings.lambda_architecture]
        # Each function's own needs (routes.py), memory raised to the stage's floor.
        spec = FUNCTION_BY_MODULE[module]
        assert function.inputs["memorySize"] == max(spec.memory_mb, settings.lambda_memory_mb)
        assert function.inputs["memorySize"] >= settings.lambda_memory_mb
        assert function.inputs["timeout"] == spec.timeout_s
        assert function.inputs["tracingConfig"]["mode"] == (
            "Active" if settings.xray else "PassThrough"
        )
        variables = function.inputs["environment"]["variables"]
        assert set(variables) <= readable, set(variables) - readable
        assert variables["DYNAMOTALK_STAGE"] == settings.stage
        assert variables["DYNAMOTALK_TABLE"] == CHAT_TABLE.physical_name(settings.stage)
        assert variables["DYNAMOTALK_BUCKET"] == outputs["bucketName"]
        assert variables["DYNAMOTALK_AUTO_CONFIRM"] == str(settings.auto_confirm_signups).lower()
        if module not in COGNITO_TRIGGERS.values():
            assert variables["DYNAMOTALK_USER_POOL_ID"] == outputs["userPoolId"]
            assert variables["DYNAMOTALK_USER_POOL_CLIENT_ID"] == outputs["userPoolClientId"]
            ws_api = the_api(recorder, "WEBSOCKET").inputs["apiEndpoint"].split("//")[1]
            assert variables["DYNAMOTALK_WS_MANAGEMENT_ENDPOINT"] == (
                f"https://{ws_api}/{settings.stage}"
            )
    # Auto-confirm is a dev convenience only.
    assert settings.auto_confirm_signups == (settings.stage == "dev")


def test_every_function_adds_the_deps_layer_and_only_the_jwt_verifiers_the_jwt_layer(
    stack: Stack,
) -> None:
    settings, recorder, _ = stack
    layers = {
        layer.inputs["layerName"]: layer
        for layer in recorder.of("aws:lambda/layerVersion:LayerVersion")
    }
    assert set(layers) == {f"dynamotalk-{settings.stage}-{name}" for name in package.LAYERS}
    for layer in layers.values():
        assert layer.inputs["compatibleRuntimes"] == ["python3.13"]
        assert layer.inputs["compatibleArchitectures"] == [settings.lambda_architecture]
    deps = layers[f"dynamotalk-{settings.stage}-{package.DEPS_LAYER}"].inputs["arn"]
    jwt = layers[f"dynamotalk-{settings.stage}-{package.JWT_LAYER}"].inputs["arn"]
    functions = functions_by_module(recorder)
    assert set(functions) == {f.module for f in FUNCTIONS}  # the Cognito triggers too
    for module, function in functions.items():
        expected = [deps, jwt] if module in package.JWT_FUNCTIONS else [deps]
        assert function.inputs["layers"] == expected, module
    assert {"ws_authorizer", "ws_default", "push_sender"} == package.JWT_FUNCTIONS


def test_every_websocket_route_goes_to_its_function(stack: Stack) -> None:
    settings, recorder, _ = stack
    ws_api = the_api(recorder, "WEBSOCKET")
    assert ws_api.inputs["routeSelectionExpression"] == "$request.body.action"
    integrations = {
        r.id: r
        for r in recorder.of("aws:apigatewayv2/integration:Integration")
        if r.inputs["apiId"] == ws_api.id
    }
    functions = functions_by_module(recorder)
    routes = {
        r.inputs["routeKey"]: r
        for r in recorder.of("aws:apigatewayv2/route:Route")
        if r.inputs["apiId"] == ws_api.id
    }
    assert set(routes) == {r.route_key for r in WS_ROUTES}
    for route in WS_ROUTES:
        target = routes[route.route_key].inputs["target"]
        integration = integrations[target.removeprefix("integrations/")]
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        assert integration.inputs["integrationUri"] == functions[route.module].inputs["invokeArn"]
    connect = routes["$connect"].inputs
    assert connect["authorizationType"] == "CUSTOM"
    (authorizer,) = [
        a
        for a in recorder.of("aws:apigatewayv2/authorizer:Authorizer")
        if a.inputs["authorizerType"] == "REQUEST"
    ]
    assert connect["authorizerId"] == authorizer.id
    assert authorizer.inputs["apiId"] == ws_api.id
    assert authorizer.inputs["identitySources"] == ["route.request.querystring.token"]
    assert authorizer.inputs["authorizerUri"] == functions[WS_AUTHORIZER].inputs["invokeArn"]
    assert all(
        r.inputs["authorizationType"] == "NONE" for key, r in routes.items() if key != "$connect"
    )
    # ws_default routes are two-way so the handler's reply reaches the sender.
    responses = recorder.of("aws:apigatewayv2/routeResponse:RouteResponse")
    two_way = {routes[r.route_key].id for r in WS_ROUTES if r.module == "ws_default"}
    assert len(two_way) == len(WS_ROUTES) - 2  # all but $connect and $disconnect
    assert {r.inputs["routeId"] for r in responses} == two_way
    assert {r.inputs["routeResponseKey"] for r in responses} == {"$default"}
    for route in WS_ROUTES:
        selection = routes[route.route_key].inputs.get("routeResponseSelectionExpression")
        assert selection == ("$default" if route.module == "ws_default" else None)
    stage = recorder.named("websocket-stage").inputs
    assert stage["apiId"] == ws_api.id
    assert stage["autoDeploy"] is True
    assert stage["name"] == settings.stage
    assert stage["defaultRouteSettings"]["throttlingRateLimit"] == settings.throttle_rate
    assert stage["defaultRouteSettings"]["throttlingBurstLimit"] == settings.throttle_burst
    assert stage["accessLogSettings"]["destinationArn"].endswith(
        f":log-group:/aws/apigateway/dynamotalk-{settings.stage}-ws"
    )
    json.loads(stage["accessLogSettings"]["format"])  # CloudWatch Insights needs valid JSON


def test_api_gateway_may_invoke_exactly_the_integrated_functions(stack: Stack) -> None:
    _, recorder, _ = stack
    functions = functions_by_module(recorder)
    ws_arn = the_api(recorder, "WEBSOCKET").inputs["executionArn"]
    http_arn = the_api(recorder, "HTTP").inputs["executionArn"]
    granted = {
        (p.inputs["function"], p.inputs["sourceArn"])
        for p in recorder.of("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "apigateway.amazonaws.com"
    }
    expected = {(functions[WS_AUTHORIZER].inputs["name"], f"{ws_arn}/*")}
    expected |= {(functions[r.module].inputs["name"], f"{ws_arn}/*") for r in WS_ROUTES}
    expected |= {(functions[r.module].inputs["name"], f"{http_arn}/*") for r in HTTP_ROUTES}
    assert granted == expected


def test_http_routes_are_wired_and_all_but_health_need_the_jwt(stack: Stack) -> None:
    settings, recorder, outputs = stack
    functions = functions_by_module(recorder)
    http_api = the_api(recorder, "HTTP")
    routes = {
        r.inputs["routeKey"]: r
        for r in recorder.of("aws:apigatewayv2/route:Route")
        if r.inputs["apiId"] == http_api.id
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
    integrations = {i.id: i for i in recorder.of("aws:apigatewayv2/integration:Integration")}
    for route in HTTP_ROUTES:
        inputs = routes[route.route_key].inputs
        integration = integrations[inputs["target"].removeprefix("integrations/")]
        assert integration.inputs["apiId"] == http_api.id
        assert integration.inputs["integrationUri"] == functions[route.module].inputs["invokeArn"]
        assert integration.inputs["payloadFormatVersion"] == "2.0"
        if route.route_key == "GET /health":
            assert inputs["authorizationType"] == "NONE"
            assert "authorizerId" not in inputs
        else:
            assert inputs["authorizationType"] == "JWT", route.route_key
            assert inputs["authorizerId"] == jwt.id, route.route_key
    assert [r.route_key for r in HTTP_ROUTES if not r.authorized] == ["GET /health"]
    # Which origins are allowed: tests/infra/test_origins.py.
    cors = http_api.inputs["corsConfiguration"]
    assert {r.method for r in HTTP_ROUTES} <= set(cors["allowMethods"])
    stage = recorder.named("http-stage").inputs
    assert (stage["name"], stage["autoDeploy"]) == ("$default", True)
    assert stage["defaultRouteSettings"]["throttlingRateLimit"] == settings.throttle_rate
    json.loads(stage["accessLogSettings"]["format"])


def test_no_wildcard_actions_and_no_wildcard_resources_where_an_arn_exists(stack: Stack) -> None:
    _, recorder, _ = stack
    policies = recorder.of("aws:iam/rolePolicy:RolePolicy")
    assert len(policies) == len(FUNCTIONS) + 1  # one per function + the API Gateway log role
    for policy in policies:
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = as_list(statement["Action"])
            assert all("*" not in action for action in actions), (policy.name, actions)
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= set(XRAY_ACTIONS), (policy.name, statement)
    # Nothing is attached from AWS's managed policies (AWSLambdaBasicExecutionRole is `*`).
    assert not recorder.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_each_role_holds_exactly_what_its_handler_needs(stack: Stack) -> None:
    settings, recorder, outputs = stack
    assert set(EXPECTED_ACTIONS) == set(PERMISSIONS) == {f.module for f in FUNCTIONS}
    table_arn = f"arn:aws:dynamodb:{settings.region}:{ACCOUNT}:table/{outputs['tableName']}"
    ws_arn = the_api(recorder, "WEBSOCKET").inputs["executionArn"]
    bucket_arn = f"arn:aws:s3:::{outputs['bucketName']}"
    policies = lambda_policies(recorder)
    assert set(policies) == set(EXPECTED_ACTIONS)
    for module, statements in policies.items():
        granted: set[str] = set()
        for statement in statements:
            actions = set(as_list(statement["Action"]))
            granted |= actions
            resources = set(as_list(statement["Resource"]))
            if actions & set(STREAM_READ):
                assert actions == set(STREAM_READ), module
                assert resources == {f"{table_arn}/stream/{STREAM_LABEL}"}, module
            elif any(a.startswith("dynamodb:") for a in actions):
                index = {f"{table_arn}/index/GSI1"} if module in EXPECTED_GSI else set()
                assert resources == {table_arn} | index, module
            if "execute-api:ManageConnections" in actions:
                expected = {f"{ws_arn}/{settings.stage}/POST/@connections/*"}
                # Closing sockets whose session ended (sessions.py): DELETE as well.
                if PERMISSIONS[module].close_connections:
                    expected.add(f"{ws_arn}/{settings.stage}/DELETE/@connections/*")
                assert resources == expected, module
            if any(a.startswith("s3:") for a in actions):
                prefixes = EXPECTED_S3_PREFIXES[module]
                if statement.get("Sid") == EXPORT_ARCHIVES[0]:
                    prefixes = EXPORT_ARCHIVES[1]
                assert resources == {f"{bucket_arn}/{p}" for p in prefixes}, module
            if any(a.startswith("logs:") for a in actions):
                name = f"dynamotalk-{settings.stage}-{module.replace('_', '-')}"
                assert resources == {
                    f"arn:aws:logs:{settings.region}:{ACCOUNT}:log-group:/aws/lambda/{name}:*"
                }
        tracing = set(XRAY_ACTIONS) if settings.xray else set()
        events = set() if settings.publish_events else {"events:PutEvents"}
        assert granted == (EXPECTED_ACTIONS[module] - events) | LOGS | tracing, module


def test_table_follows_tables_py_and_stage_protection(stack: Stack) -> None:
    settings, recorder, _ = stack
    (table,) = recorder.of("aws:dynamodb/table:Table")
    inputs = table.inputs
    assert inputs["name"] == CHAT_TABLE.physical_name(settings.stage)
    assert (inputs["hashKey"], inputs["rangeKey"]) == (CHAT_TABLE.hash_key, CHAT_TABLE.range_key)
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert inputs["serverSideEncryption"]["enabled"] is True
    assert {a["name"]: a["type"] for a in inputs["attributes"]} == CHAT_TABLE.attributes
    (gsi,) = inputs["globalSecondaryIndexes"]
    assert gsi["name"] == "GSI1"
    assert [k["attributeName"] for k in gsi["keySchemas"]] == ["GSI1PK", "GSI1SK"]
    (pool,) = recorder.of("aws:cognito/userPool:UserPool")
    protected = settings.stage == "prod"
    assert inputs["pointInTimeRecovery"]["enabled"] is protected
    assert inputs["deletionProtectionEnabled"] is protected
    assert pool.inputs["deletionProtection"] == ("ACTIVE" if protected else "INACTIVE")
    assert table.protect is protected
    assert pool.protect is protected


def test_every_log_group_has_retention(stack: Stack) -> None:
    settings, recorder, _ = stack
    groups = recorder.of("aws:cloudwatch/logGroup:LogGroup")
    # One per function, the WebSocket API's access and execution logs, the HTTP API's access,
    # and the example rule's group where the stage publishes events.
    assert len(groups) == len(FUNCTIONS) + 3 + settings.publish_events
    assert all(g.inputs.get("retentionInDays") == settings.log_retention_days for g in groups)
    ws_api = the_api(recorder, "WEBSOCKET")
    names = {g.inputs["name"] for g in groups}
    # API Gateway's own group for the stage's error logs, made here so it has retention.
    assert f"API-Gateway-Execution-Logs_{ws_api.id}/{settings.stage}" in names
    for function in recorder.of("aws:lambda/function:Function"):
        assert (
            function.inputs["loggingConfig"]["logGroup"] == f"/aws/lambda/{function.inputs['name']}"
        )
        assert f"/aws/lambda/{function.inputs['name']}" in names


def test_both_buckets_are_private_encrypted_and_named_per_account(stack: Stack) -> None:
    settings, recorder, outputs = stack
    buckets = {b.name: b for b in recorder.of("aws:s3/bucket:Bucket")}
    assert {b.inputs["bucket"] for b in buckets.values()} == {
        f"dynamotalk-{settings.stage}-attachments-{ACCOUNT}",
        f"dynamotalk-{settings.stage}-web-{ACCOUNT}",
    }
    assert outputs["bucketName"] == f"dynamotalk-{settings.stage}-attachments-{ACCOUNT}"
    ids = {b.id for b in buckets.values()}
    blocks = recorder.of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert {b.inputs["bucket"] for b in blocks} == ids
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.inputs[flag] is True for block in blocks for flag in flags)
    encryption = recorder.of(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert {e.inputs["bucket"] for e in encryption} == ids
    assert all(
        e.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
        for e in encryption
    )
    assert all("acl" not in b.inputs for b in buckets.values())
    # dev is destroyed with its uploads; prod's buckets are protected and never emptied.
    for bucket in buckets.values():
        assert bucket.inputs["forceDestroy"] is not settings.deletion_protection
        assert bucket.protect is settings.deletion_protection
    # Attachments: browser uploads from the stage's origins; incomplete uploads cleaned up.
    (cors,) = recorder.of("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
    (rule,) = cors.inputs["corsRules"]
    assert "POST" in rule["allowedMethods"]  # which origins: tests/infra/test_origins.py
    (lifecycle,) = recorder.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["bucket"] == cors.inputs["bucket"] == outputs["bucketName"]
    assert (
        lifecycle.inputs["rules"][0]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
    )
    # Web: readable only by this stage's distribution, through origin access control.
    (policy,) = recorder.of("aws:s3/bucketPolicy:BucketPolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    (distribution,) = recorder.of("aws:cloudfront/distribution:Distribution")
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution.inputs["arn"]
    (origin,) = distribution.inputs["origins"]
    (oac,) = recorder.of("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert origin["originAccessControlId"] == oac.id
    assert (
        distribution.inputs["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    )


def test_web_client_files_and_generated_config(stack: Stack) -> None:
    settings, recorder, outputs = stack
    objects = {o.inputs["key"]: o for o in recorder.of("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert set(objects) == set(web_files()) | {"config.json"}
    for key in web_files():
        assert objects[key].inputs["contentType"], key
    if "index.html" in objects:
        assert objects["index.html"].inputs["contentType"].startswith("text/html")
    config = objects["config.json"].inputs
    assert config["contentType"] == "application/json"
    assert json.loads(config["content"]) == {
        "wsUrl": outputs["wsUrl"],
        "httpUrl": outputs["httpUrl"],
        "region": settings.region,
        "userPoolId": outputs["userPoolId"],
        "userPoolClientId": outputs["userPoolClientId"],
        "cognitoUrl": f"https://cognito-idp.{settings.region}.amazonaws.com/",
        "stage": settings.stage,
        "actions": ACTIONS,
        "limits": client_limits(
            settings.max_message_chars,
            user_pool_spec(settings.protected).password_policy.minimum_length,
        ),
        "changeTypes": list(ROOM_CHANGE_TYPES),
        "permissions": client_permissions(),
    }


def test_alarms_and_dashboard_exist(stack: Stack) -> None:
    settings, recorder, _ = stack
    alarms = recorder.of("aws:cloudwatch/metricAlarm:MetricAlarm")
    (topic,) = recorder.of("aws:sns/topic:Topic")
    by_metric: dict[str, list[Resource]] = {}
    for alarm in alarms:
        by_metric.setdefault(alarm.inputs.get("metricName", "(math)"), []).append(alarm)
        assert alarm.inputs["alarmActions"] == [topic.inputs["arn"]]
    functions = {f.inputs["name"] for f in recorder.of("aws:lambda/function:Function")}
    for metric in ("Errors", "Throttles"):
        assert {a.inputs["dimensions"]["FunctionName"] for a in by_metric[metric]} == functions
    assert len(by_metric["5xx"]) == len(by_metric["IntegrationError"]) == 1
    # DynamoDB throttling is metric math (dimensions: tests/infra/test_metrics.py).
    (throttled,) = [a for a in alarms if a.inputs["name"].endswith("-dynamodb-throttled")]
    assert throttled.inputs["alarmActions"] == [topic.inputs["arn"]]
    # Every dead-letter queue has its alarm (tests/infra/test_delivery.py: each consumed queue
    # has one).
    dead_letters = {
        a.inputs["dimensions"]["QueueName"] for a in by_metric["ApproximateNumberOfMessagesVisible"]
    }
    assert dead_letters == {
        f"dynamotalk-{settings.stage}-bot-dlq",
        f"dynamotalk-{settings.stage}-fanout-dlq",
        *([f"dynamotalk-{settings.stage}-push-dlq"] if settings.push else []),
        f"dynamotalk-{settings.stage}-export-dlq",
        f"dynamotalk-{settings.stage}-erasure-dlq",
    }
    # And the stream consumers' lag (tests/infra/test_delivery.py, test_search.py).
    assert len(by_metric["IteratorAge"]) == 2
    # And the business metrics' ratio alarms plus the fan-out's p99 (test_business_metrics.py).
    business = len(business_metrics.RATIO_ALARMS) + 1
    assert len(alarms) == 2 * len(FUNCTIONS) + 3 + len(dead_letters) + 2 + business
    (dashboard,) = recorder.of("aws:cloudwatch/dashboard:Dashboard")
    assert json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    subscriptions = recorder.of("aws:sns/topicSubscription:TopicSubscription")
    assert [s.inputs["endpoint"] for s in subscriptions] == (
        [settings.alarm_email] if settings.alarm_email else []
    )


def test_user_pool_client_and_triggers(stack: Stack) -> None:
    _, recorder, _ = stack
    (pool,) = recorder.of("aws:cognito/userPool:UserPool")
    functions = functions_by_module(recorder)
    config = pool.inputs["lambdaConfig"]
    assert config["preSignUp"] == functions[COGNITO_TRIGGERS["pre_sign_up"]].inputs["arn"]
    assert (
        config["postConfirmation"] == functions[COGNITO_TRIGGERS["post_confirmation"]].inputs["arn"]
    )
    invokers = {
        (p.inputs["function"], p.inputs["sourceArn"])
        for p in recorder.of("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "cognito-idp.amazonaws.com"
    }
    assert invokers == {
        (functions[m].inputs["name"], pool.inputs["arn"]) for m in COGNITO_TRIGGERS.values()
    }
    # Username sign-in with e-mail as a verified alias, like the local stack's pool.
    assert pool.inputs["aliasAttributes"] == ["email"]
    assert pool.inputs["autoVerifiedAttributes"] == ["email"]
    assert "usernameAttributes" not in pool.inputs
    policy = pool.inputs["passwordPolicy"]
    local = provision.LOCAL_POOL.password_policy.request()
    assert policy["minimumLength"] >= local["MinimumLength"]
    assert policy["requireNumbers"] == local["RequireNumbers"]
    (client,) = recorder.of("aws:cognito/userPoolClient:UserPoolClient")
    assert client.inputs["generateSecret"] is False
    assert client.inputs["explicitAuthFlows"] == list(
        provision.LOCAL_POOL.client.explicit_auth_flows
    )


def test_api_gateway_log_role_is_kept_and_scoped(stack: Stack) -> None:
    settings, recorder, _ = stack
    (account,) = recorder.of("aws:apigateway/account:Account")
    role = recorder.named("apigateway-logs-role")
    policy = recorder.named("apigateway-logs-policy")
    assert account.inputs["cloudwatchRoleArn"] == role.inputs["arn"]
    assert [r.retain_on_delete for r in (account, role, policy)] == [True, True, True]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Resource"] == [f"arn:aws:logs:{settings.region}:{ACCOUNT}:log-group:*"]
    # The WebSocket stage enables logging only once the region's role is set.
    assert account.urn in recorder.named("websocket-stage").dependencies


def test_log_role_can_be_left_to_the_account() -> None:
    settings = attrs.evolve(stage_settings("dev"), manage_api_gateway_log_role=False)
    recorder, _ = run(settings)
    assert not recorder.of("aws:apigateway/account:Account")
    assert len(recorder.of("aws:iam/role:Role")) == len(FUNCTIONS)
    assert recorder.of("aws:apigatewayv2/stage:Stage")


def test_outputs_exist(stack: Stack) -> None:
    settings, _, outputs = stack
    assert set(outputs) == {
        "wsUrl",
        "httpUrl",
        "webUrl",
        "userPoolId",
        "userPoolClientId",
        "bucketName",
        "tableName",
        "region",
        "httpExecuteApiUrl",
        "wsExecuteApiUrl",
    }
    assert all(isinstance(v, str) and v for v in outputs.values())
    assert outputs["wsUrl"].startswith("wss://")
    assert outputs["wsUrl"].endswith(f"/{settings.stage}")
    assert outputs["httpUrl"].startswith("https://")
    assert outputs["webUrl"] == "https://d111111abcdef8.cloudfront.net"
    assert outputs["region"] == settings.region
    assert outputs["tableName"] == CHAT_TABLE.physical_name(settings.stage)


def test_bot_queue_worker_model_scope_and_bot_user(stack: Stack) -> None:
    """#9: the bot's queue with a dead-letter queue, the worker consuming it, Bedrock only on
    the configured model, the sending function only allowed to send, the bot user written."""
    import json as _json

    from dynamotalk.tables.codecs import load
    from dynamotalk.tables.items import user_from_item

    settings, recorder, _ = stack
    queues = {q.inputs["name"]: q for q in recorder.of("aws:sqs/queue:Queue")}
    jobs = queues[f"dynamotalk-{settings.stage}-bot-jobs"]
    dlq = queues[f"dynamotalk-{settings.stage}-bot-dlq"]
    redrive = _json.loads(jobs.inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.inputs["arn"], "maxReceiveCount": 3}
    (mapping,) = [
        m
        for m in recorder.of("aws:lambda/eventSourceMapping:EventSourceMapping")
        if m.inputs["eventSourceArn"] == jobs.inputs["arn"]
    ]
    assert mapping.inputs["functionName"] == f"dynamotalk-{settings.stage}-bot-worker"
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    model_arn = f"arn:aws:bedrock:{settings.region}::foundation-model/{settings.bot_model_id}"
    for policy in recorder.of("aws:iam/rolePolicy:RolePolicy"):
        for statement in _json.loads(policy.inputs["policy"])["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if "bedrock:InvokeModel" in actions:
                assert policy.name == "bot_worker-policy"
                assert statement["Resource"] == [model_arn]
            if any(a.startswith("sqs:") for a in actions) and statement["Sid"] == "BotQueue":
                assert statement["Resource"] == [jobs.inputs["arn"]]
                assert policy.name in ("ws_default-policy", "bot_worker-policy")
    functions = functions_by_module(recorder)
    sender = functions["ws_default"].inputs["environment"]["variables"]
    assert sender["DYNAMOTALK_BOT"] == "sqs"
    assert sender["DYNAMOTALK_BOT_QUEUE_URL"] == jobs.inputs["url"]
    assert jobs.inputs["url"].endswith(f"/dynamotalk-{settings.stage}-bot-jobs")
    worker = functions["bot_worker"].inputs["environment"]["variables"]
    assert worker["DYNAMOTALK_BOT_MODEL_ID"] == settings.bot_model_id
    assert "DYNAMOTALK_BOT" not in worker, "the worker's own replies queue nothing"
    items = [_json.loads(i.inputs["item"]) for i in recorder.of("aws:dynamodb/tableItem:TableItem")]
    profile = next(i for i in items if i["SK"]["S"] == "PROFILE")
    user = user_from_item(load(profile))
    assert (user.user_id, user.username) == ("dynamotalk-bot", "bot")
