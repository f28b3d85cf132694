"""The WebSocket API, wired from routes.py so the cloud and the local gateway cannot drift.

Route selection on `$request.body.action`, one route per WS_ROUTES entry to its function's
Lambda proxy integration, the REQUEST authorizer on `$connect` (identity source: the `token`
query parameter), two-way routes for ws_default so its return body reaches the sender, and a
stage with auto-deploy, throttling, access and error logs (both with retention).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import ROUTE_SELECTION, TOKEN_PARAM, WS_AUTHORIZER, WS_ROUTES, resource_name
from infra.functions import LambdaFunction
from infra.policies import API_GATEWAY_LOG_ACTIONS
from infra.settings import StageSettings

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","eventType":"$context.eventType",'
    '"routeKey":"$context.routeKey","connectionId":"$context.connectionId",'
    '"status":"$context.status","error":"$context.error.message",'
    '"authorizerError":"$context.authorizer.error",'
    '"integrationError":"$context.integration.error",'
    '"integrationLatencyMs":"$context.integration.latency","ip":"$context.identity.sourceIp"}'
)
TWO_WAY_MODULE = "ws_default"
"""The handler whose return body is the reply frame to the sender."""


class WebSocketApi(pulumi.ComponentResource):
    """Created in two steps: the API first (functions need its @connections ARN), then `wire`."""

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
            name=resource_name(settings.stage, "ws"),
            protocol_type="WEBSOCKET",
            route_selection_expression=ROUTE_SELECTION,
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

    def wire(
        self,
        functions: Mapping[str, LambdaFunction],
        logging_ready: Sequence[pulumi.Resource] = (),
    ) -> None:
        """Routes, integrations, the authorizer and the stage. `logging_ready`: resources the
        stage must wait for (the region's API Gateway log role) before it can enable logs."""
        child = pulumi.ResourceOptions(parent=self)
        settings, name = self.settings, self.name
        every_route = pulumi.Output.concat(self.api.execution_arn, "/*")
        authorizer_fn = functions[WS_AUTHORIZER]
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-authorizer",
            api_id=self.api.id,
            authorizer_type="REQUEST",
            authorizer_uri=authorizer_fn.invoke_arn,
            identity_sources=[f"route.request.querystring.{TOKEN_PARAM}"],
            name="cognito-token",
            opts=child,
        )
        authorizer_fn.allow_invoke(
            f"{name}-invoke-{WS_AUTHORIZER}", "apigateway.amazonaws.com", every_route, self
        )
        integrations: dict[str, aws.apigatewayv2.Integration] = {}
        routes: list[pulumi.Resource] = []
        for route in WS_ROUTES:
            module = route.module
            if module not in integrations:
                integrations[module] = aws.apigatewayv2.Integration(
                    f"{name}-{module}",
                    api_id=self.api.id,
                    integration_type="AWS_PROXY",
                    integration_uri=functions[module].invoke_arn,
                    integration_method="POST",
                    content_handling_strategy="CONVERT_TO_TEXT",
                    opts=child,
                )
                functions[module].allow_invoke(
                    f"{name}-invoke-{module}", "apigateway.amazonaws.com", every_route, self
                )
            slug = route.route_key.strip("$")
            is_connect = route.route_key == "$connect"
            two_way = module == TWO_WAY_MODULE
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
                routes.append(
                    aws.apigatewayv2.RouteResponse(
                        f"{name}-response-{slug}",
                        api_id=self.api.id,
                        route_id=created.id,
                        route_response_key="$default",
                        opts=child,
                    )
                )
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/dynamotalk-{settings.stage}-ws",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        # API Gateway would create this group itself, without retention; create it first.
        self.execution_logs = aws.cloudwatch.LogGroup(
            f"{name}-execution-logs",
            name=pulumi.Output.concat(
                "API-Gateway-Execution-Logs_", self.api.id, "/", self.stage_name
            ),
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
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*routes, self.execution_logs, *logging_ready],
            ),
        )
        self.register_outputs({"wsUrl": self.url})


class ApiGatewayLogRole(pulumi.ComponentResource):
    """The region's API Gateway CloudWatch role: WebSocket (and REST) APIs cannot log without it.

    It is an account-wide, per-region setting shared by every stage in the account, so it is
    kept on `pulumi destroy` (retain_on_delete): destroying dev must not break prod's logs.
    Stages in an account whose role is managed elsewhere set manageApiGatewayLogRole: false.
    """

    def __init__(
        self,
        name: str,
        log_groups_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`log_groups_arn`: arn:{partition}:logs:{region}:{account}:log-group:*"""
        super().__init__("dynamotalk:api:ApiGatewayLogRole", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        self.role = aws.iam.Role(
            f"{name}-role",
            description="API Gateway writes execution and access logs of this region's APIs",
            assume_role_policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=kept,
        )
        # Any API of the account in this region may log through it: log groups of this region
        # and account only, never `*`.
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "RegionLogs",
                            "Effect": "Allow",
                            "Action": list(API_GATEWAY_LOG_ACTIONS),
                            "Resource": [log_groups_arn],
                        }
                    ],
                }
            ),
            opts=kept,
        )
        self.account = aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=self.role.arn,
            opts=pulumi.ResourceOptions(
                parent=self, retain_on_delete=True, depends_on=[self.policy]
            ),
        )
        self.register_outputs({"roleArn": self.role.arn})
