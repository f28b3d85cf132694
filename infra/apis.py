"""The two API Gateway APIs, wired from routes.py so the cloud and the local gateway agree.

WebSocket: route selection on `$request.body.action`, a route per WS_ROUTES entry, the REQUEST
authorizer on `$connect` (identity source: the `token` query parameter), two-way routes for
ws_default so its reply reaches the sender. HTTP: routes from HTTP_ROUTES, the Cognito JWT
authorizer on every route but /health, CORS per stage.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import HTTP_ROUTES, WS_AUTHORIZER, WS_ROUTES
from infra.functions import LambdaFunction
from infra.settings import StageSettings

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","routeKey":"$context.routeKey",'
    '"status":"$context.status","connectionId":"$context.connectionId",'
    '"integrationError":"$context.integrationErrorMessage",'
    '"latencyMs":"$context.integrationLatency","ip":"$context.identity.sourceIp"}'
)


def _invoke_permission(
    name: str, function: LambdaFunction, execution_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.lambda_.Permission:
    return aws.lambda_.Permission(
        name,
        action="lambda:InvokeFunction",
        function=function.function.name,
        principal="apigateway.amazonaws.com",
        source_arn=pulumi.Output.concat(execution_arn, "/*"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


class WebSocketApi(pulumi.ComponentResource):
    """Created in two steps: the API first (functions need its @connections ARN), then routes."""

    api: aws.apigatewayv2.Api
    stage_name: str

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:api:WebSocketApi", name, None, opts)
        self.name = name
        self.settings = settings
        self.stage_name = settings.stage
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=f"dynamotalk-{settings.stage}-ws",
            protocol_type="WEBSOCKET",
            route_selection_expression="$request.body.action",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.concat(self.api.api_endpoint, "/", self.stage_name)
        self.management_endpoint = pulumi.Output.concat(
            "https://",
            self.api.id,
            ".execute-api.",
            settings.region,
            ".amazonaws.com/",
            self.stage_name,
        )
        self.connections_arn = pulumi.Output.concat(
            self.api.execution_arn, "/", self.stage_name, "/POST/@connections/*"
        )

    def wire(self, functions: Mapping[str, LambdaFunction]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        settings, name = self.settings, self.name
        authorizer_fn = functions[WS_AUTHORIZER]
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-authorizer",
            api_id=self.api.id,
            authorizer_type="REQUEST",
            authorizer_uri=authorizer_fn.function.invoke_arn,
            identity_sources=["route.request.querystring.token"],
            name="cognito-token",
            opts=child,
        )
        _invoke_permission(
            f"{name}-invoke-{WS_AUTHORIZER}", authorizer_fn, self.api.execution_arn, self
        )
        integrations: dict[str, aws.apigatewayv2.Integration] = {}
        routes = []
        for route in WS_ROUTES:
            module = route.module
            if module not in integrations:
                integrations[module] = aws.apigatewayv2.Integration(
                    f"{name}-{module}",
                    api_id=self.api.id,
                    integration_type="AWS_PROXY",
                    integration_uri=functions[module].function.invoke_arn,
                    integration_method="POST",
                    content_handling_strategy="CONVERT_TO_TEXT",
                    opts=child,
                )
                _invoke_permission(
                    f"{name}-invoke-{module}", functions[module], self.api.execution_arn, self
                )
            slug = route.route_key.strip("$")
            is_connect = route.route_key == "$connect"
            two_way = module == "ws_default"
            created = aws.apigatewayv2.Route(
                f"{name}-route-{slug}",
                api_id=self.api.id,
                route_key=route.route_key,
                target=integrations[module].id.apply(lambda i: f"integrations/{i}"),
                authorization_type="CUSTOM" if is_connect else "NONE",
                authorizer_id=authorizer.id if is_connect else None,
                route_response_selection_expression="$default" if two_way else None,
                opts=child,
            )
            routes.append(created)
            if two_way:
                aws.apigatewayv2.RouteResponse(
                    f"{name}-response-{slug}",
                    api_id=self.api.id,
                    route_id=created.id,
                    route_response_key="$default",
                    opts=child,
                )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/dynamotalk-{settings.stage}-ws",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=self.api.id,
            name=self.stage_name,
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=settings.throttle_rate,
                throttling_burst_limit=settings.throttle_burst,
                data_trace_enabled=False,
                logging_level="ERROR",
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.log_group.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        self.register_outputs({"wsUrl": self.url})


class HttpApi(pulumi.ComponentResource):
    api: aws.apigatewayv2.Api

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        functions: Mapping[str, LambdaFunction],
        user_pool_id: pulumi.Input[str],
        client_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:api:HttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=f"dynamotalk-{settings.stage}-http",
            protocol_type="HTTP",
            cors_configuration=aws.apigatewayv2.ApiCorsConfigurationArgs(
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["authorization", "content-type"],
                max_age=3600,
            ),
            opts=child,
        )
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt",
            api_id=self.api.id,
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            name="cognito",
            jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                audiences=[client_id],
                issuer=pulumi.Output.concat(
                    "https://cognito-idp.", settings.region, ".amazonaws.com/", user_pool_id
                ),
            ),
            opts=child,
        )
        integrations: dict[str, aws.apigatewayv2.Integration] = {}
        routes = []
        for route in HTTP_ROUTES:
            if route.module not in integrations:
                integrations[route.module] = aws.apigatewayv2.Integration(
                    f"{name}-{route.module}",
                    api_id=self.api.id,
                    integration_type="AWS_PROXY",
                    integration_uri=functions[route.module].function.invoke_arn,
                    payload_format_version="2.0",
                    opts=child,
                )
                _invoke_permission(
                    f"{name}-invoke-{route.module}",
                    functions[route.module],
                    self.api.execution_arn,
                    self,
                )
            slug = (
                route.route_key.replace(" ", "").replace("/", "-").replace("{", "").replace("}", "")
            )
            routes.append(
                aws.apigatewayv2.Route(
                    f"{name}-route-{slug}",
                    api_id=self.api.id,
                    route_key=route.route_key,
                    target=integrations[route.module].id.apply(lambda i: f"integrations/{i}"),
                    authorization_type="JWT" if route.authorized else "NONE",
                    authorizer_id=authorizer.id if route.authorized else None,
                    opts=child,
                )
            )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/dynamotalk-{settings.stage}-http",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=settings.throttle_rate,
                throttling_burst_limit=settings.throttle_burst,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.log_group.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        self.url = self.api.api_endpoint
        self.register_outputs({"httpUrl": self.url})
