"""CloudWatch RUM for the web client (`rum: true`): an app monitor for the client's domains, a
Cognito identity pool whose unauthenticated (guest) identities may assume one role, and that
role, allowed only `rum:PutRumEvents` on this app monitor.

Why a guest role at all: the RUM web client signs PutRumEvents with AWS credentials, and a
visitor has none before signing in (and RUM records the sign-in page too). AWS's "Authorize
your web application to send data to AWS" sets up exactly this: an identity pool with
unauthenticated identities and a role allowed PutRumEvents on the app monitor
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-RUM-get-started-authorization.html).
The role trusts only this pool's unauthenticated identities (`aud` = the pool, `amr` =
unauthenticated). The basic (classic) flow is on because the RUM web client uses it when
handed `guestRoleArn` (GetOpenIdToken, then STS AssumeRoleWithWebIdentity).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from dynamotalk import rum
from dynamotalk.iam_actions import RUM_PUT_EVENTS
from dynamotalk.routes import resource_name
from infra.settings import StageSettings

COGNITO_IDENTITY = "cognito-identity.amazonaws.com"


class WebRum(pulumi.ComponentResource):
    """The app monitor and its guest credentials."""

    app_monitor: aws.rum.AppMonitor
    identity_pool: aws.cognito.IdentityPool
    guest_role: aws.iam.Role

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        web_domains: pulumi.Input[list[str]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`web_domains`: the host names the web client is served from (CloudFront's and the
        custom one): RUM accepts events only from pages on these."""
        super().__init__("dynamotalk:web:WebRum", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.identity_pool = aws.cognito.IdentityPool(
            f"{name}-identities",
            # Identity pool names allow letters, digits, spaces and underscores only.
            identity_pool_name=f"dynamotalk_{settings.stage.replace('-', '_')}_rum",
            allow_unauthenticated_identities=True,
            allow_classic_flow=True,
            opts=child,
        )
        self.guest_role = aws.iam.Role(
            f"{name}-guest",
            description="RUM web client guests: PutRumEvents on this stage's app monitor only",
            assume_role_policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": COGNITO_IDENTITY},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {f"{COGNITO_IDENTITY}:aud": self.identity_pool.id},
                                "ForAnyValue:StringLike": {
                                    f"{COGNITO_IDENTITY}:amr": "unauthenticated"
                                },
                            },
                        }
                    ],
                }
            ),
            opts=child,
        )
        self.app_monitor = aws.rum.AppMonitor(
            f"{name}-monitor",
            name=resource_name(settings.stage, "web"),
            domain_lists=web_domains,
            cw_log_enabled=False,
            app_monitor_configuration=aws.rum.AppMonitorAppMonitorConfigurationArgs(
                allow_cookies=rum.RUM_ALLOW_COOKIES,
                enable_xray=False,
                session_sample_rate=settings.rum_sample_percent / 100,
                telemetries=list(rum.RUM_TELEMETRIES),
                identity_pool_id=self.identity_pool.id,
                guest_role_arn=self.guest_role.arn,
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-guest-policy",
            role=self.guest_role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SendRumEvents",
                            "Effect": "Allow",
                            "Action": RUM_PUT_EVENTS,
                            "Resource": self.app_monitor.arn,
                        }
                    ],
                }
            ),
            opts=child,
        )
        aws.cognito.IdentityPoolRoleAttachment(
            f"{name}-roles",
            identity_pool_id=self.identity_pool.id,
            roles={"unauthenticated": self.guest_role.arn},
            opts=child,
        )
        self.register_outputs({"appMonitorId": self.app_monitor.app_monitor_id})

    def client_config(self, settings: StageSettings) -> dict[str, object]:
        """config.json's `rum` block for this monitor."""
        return rum.client_rum_config(
            app_monitor_id=self.app_monitor.app_monitor_id,
            identity_pool_id=self.identity_pool.id,
            guest_role_arn=self.guest_role.arn,
            region=settings.region,
            sample_percent=settings.rum_sample_percent,
            script_integrity=settings.rum_script_integrity,
        )
