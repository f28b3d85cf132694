"""The HTTP API (payload 2.0), wired from routes.HTTP_ROUTES.

The Cognito JWT authorizer guards every route marked `authorized` (all but GET /health); CORS
allows the web client's own origins plus the stage's extra ones (dynamotalk.origins); the
$default stage auto-deploys with throttling and access logs.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import (
    HTTP_CORS_HEADERS,
    HTTP_CORS_MAX_AGE_S,
    HTTP_CORS_METHODS,
    HTTP_ROUTES,
    resource_name,
)
from dynamotalk.userpool import issuer
from infra.functions import LambdaFunction
from infra.settings import StageSettings

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","routeKey":"$context.routeKey",'
    '"status":"$context.status","responseLength":"$context.responseLength",'
    '"error":"$context.error.message","authorizerError":"$context.authorizer.error",'
    '"integrationError":"$context.integrationErrorMessage",'
    '"integrationLatencyMs":"$context.integration.latency","ip":"$context.identity.sourceIp"}'
)


def _slug(route_key: str) -> str:
    """`GET /rooms/{roomId}` -> `GET-rooms-roomId`: a stable Pulumi resource name."""
    return route_key.replace(" ", "").replace("/", "-").replace("{", "").replace("}", "")


class HttpApi(pulumi.ComponentResource):
    """The REST side of the chat: rooms, history, members, profile, uploads."""

    api: aws.apigatewayv2.Api

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        functions: Mapping[str, LambdaFunction],
        user_pool_id: pulumi.Input[str],
        client_id: pulumi.Input[str],
        allowed_origins: pulumi.Input[list[str]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:api:HttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=resource_name(settings.stage, "http"),
            protocol_type="HTTP",
            cors_configuration=aws.apigatewayv2.ApiCorsConfigurationArgs(
                allow_origins=allowed_origins,
                allow_methods=list(HTTP_CORS_METHODS),
                allow_headers=list(HTTP_CORS_HEADERS),
                max_age=HTTP_CORS_MAX_AGE_S,
            ),
            opts=child,
        )
        # Cognito access tokens carry the app client in `client_id` (no `aud`); API Gateway
        # checks either claim against the audience list.
        self.authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt",
            api_id=self.api.id,
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            name="cognito",
            jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                audiences=[client_id],
                issuer=pulumi.Output.from_input(user_pool_id).apply(
                    lambda pool: issuer(settings.region, pool)
                ),
            ),
            opts=child,
        )
        every_route = pulumi.Output.concat(self.api.execution_arn, "/*")
        integrations: dict[str, aws.apigatewayv2.Integration] = {}
        routes: list[pulumi.Resource] = []
        for route in HTTP_ROUTES:
            if route.module not in integrations:
                integrations[route.module] = aws.apigatewayv2.Integration(
                    f"{name}-{route.module}",
                    api_id=self.api.id,
                    integration_type="AWS_PROXY",
                    integration_uri=functions[route.module].invoke_arn,
                    payload_format_version="2.0",
                    opts=child,
                )
                functions[route.module].allow_invoke(
                    f"{name}-invoke-{route.module}", "apigateway.amazonaws.com", every_route, self
                )
            routes.append(
                aws.apigatewayv2.Route(
                    f"{name}-route-{_slug(route.route_key)}",
                    api_id=self.api.id,
                    route_key=route.route_key,
                    target=integrations[route.module].id.apply(lambda i: f"integrations/{i}"),
                    authorization_type="JWT" if route.authorized else "NONE",
                    authorizer_id=self.authorizer.id if route.authorized else None,
                    opts=child,
                )
            )
        self.access_logs = aws.cloudwatch.LogGroup(
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
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        self.url = self.api.api_endpoint
        self.register_outputs({"httpUrl": self.url})
