"""Auth: the Cognito user pool, a public app client, and the two Cognito triggers.

Sign-in choice: users sign up with a username (what the chat shows, checked by the pre sign-up
trigger) plus an e-mail address; they sign in with either (e-mail is an alias, usable once
verified). The e-mail is verified with a code, except on stages with autoConfirmSignups.
The client has no secret (browsers and the terminal client cannot keep one) and allows the
password, SRP and refresh-token flows those clients use.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import COGNITO_TRIGGERS
from infra.functions import LambdaFunction, Wiring
from infra.settings import StageSettings

CLIENT_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


class Auth(pulumi.ComponentResource):
    """The pool and its client; owns the trigger functions, since the pool needs their ARNs."""

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    triggers: dict[str, LambdaFunction]

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        wiring: Wiring,
        code: pulumi.Archive,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:auth:Auth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.triggers = {
            module: LambdaFunction(module, settings, wiring, code, child)
            for module in COGNITO_TRIGGERS.values()
        }
        self.user_pool = aws.cognito.UserPool(
            f"{name}-users",
            name=f"dynamotalk-{settings.stage}",
            alias_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(
                case_sensitive=False
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=10 if settings.protected else 8,
                require_lowercase=True,
                require_numbers=True,
                require_symbols=False,
                require_uppercase=False,
                temporary_password_validity_days=3,
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name="verified_email", priority=1
                    )
                ]
            ),
            verification_message_template=aws.cognito.UserPoolVerificationMessageTemplateArgs(
                default_email_option="CONFIRM_WITH_CODE",
                email_subject="Your DynamoTalk code",
                email_message="Your DynamoTalk verification code is {####}",
            ),
            deletion_protection="ACTIVE" if settings.deletion_protection else "INACTIVE",
            lambda_config=aws.cognito.UserPoolLambdaConfigArgs(
                pre_sign_up=self.triggers[COGNITO_TRIGGERS["pre_sign_up"]].function.arn,
                post_confirmation=self.triggers[COGNITO_TRIGGERS["post_confirmation"]].function.arn,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=settings.deletion_protection),
        )
        for module in COGNITO_TRIGGERS.values():
            self.triggers[module].allow_invoke(
                f"{module}-invoke", "cognito-idp.amazonaws.com", self.user_pool.arn, self
            )
        self.client = aws.cognito.UserPoolClient(
            f"{name}-web-client",
            name="web",
            user_pool_id=self.user_pool.id,
            generate_secret=False,
            explicit_auth_flows=CLIENT_FLOWS,
            prevent_user_existence_errors="ENABLED",
            access_token_validity=60,
            id_token_validity=60,
            refresh_token_validity=30,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                access_token="minutes",  # noqa: S106 - a unit, not a secret
                id_token="minutes",  # noqa: S106
                refresh_token="days",  # noqa: S106
            ),
            opts=child,
        )
        self.register_outputs({"userPoolId": self.user_pool.id, "userPoolClientId": self.client.id})
