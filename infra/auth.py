"""Auth: the Cognito user pool, a public app client, and the two Cognito triggers.

The pool's settings come from dynamotalk/userpool.py, which the local stack reads too.
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
from dynamotalk.userpool import user_pool_spec
from infra.functions import Code, LambdaFunction
from infra.policies import Wiring
from infra.settings import THREAT_PROTECTION_SETTINGS, StageSettings


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
        code: Code,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:auth:Auth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.triggers = {
            module: LambdaFunction(module, settings, wiring, code, child)
            for module in COGNITO_TRIGGERS.values()
        }
        spec = user_pool_spec(
            settings.protected, THREAT_PROTECTION_SETTINGS[settings.cognito_threat_protection]
        )
        self.spec = spec
        password = spec.password_policy
        self.user_pool = aws.cognito.UserPool(
            f"{name}-users",
            name=spec.pool_name(settings.stage),
            alias_attributes=list(spec.alias_attributes),
            auto_verified_attributes=list(spec.auto_verified_attributes),
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(
                case_sensitive=spec.case_sensitive_usernames
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=password.minimum_length,
                require_lowercase=password.require_lowercase,
                require_numbers=password.require_numbers,
                require_symbols=password.require_symbols,
                require_uppercase=password.require_uppercase,
                temporary_password_validity_days=password.temporary_password_validity_days,
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name=spec.recovery_mechanism, priority=1
                    )
                ]
            ),
            verification_message_template=aws.cognito.UserPoolVerificationMessageTemplateArgs(
                default_email_option="CONFIRM_WITH_CODE",
                email_subject=spec.email_subject,
                email_message=spec.email_message,
            ),
            mfa_configuration=spec.mfa_configuration,
            software_token_mfa_configuration=(
                aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True)
                if spec.software_token_mfa
                else None
            ),
            user_pool_tier=spec.feature_plan,
            user_pool_add_ons=(
                aws.cognito.UserPoolUserPoolAddOnsArgs(
                    advanced_security_mode=spec.threat_protection
                )
                if spec.threat_protection != "OFF"
                else None
            ),
            deletion_protection="ACTIVE" if settings.deletion_protection else "INACTIVE",
            lambda_config=aws.cognito.UserPoolLambdaConfigArgs(
                pre_sign_up=self.triggers[COGNITO_TRIGGERS["pre_sign_up"]].target_arn,
                post_confirmation=self.triggers[COGNITO_TRIGGERS["post_confirmation"]].target_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=settings.deletion_protection),
        )
        for module in COGNITO_TRIGGERS.values():
            self.triggers[module].allow_invoke(
                f"{module}-invoke", "cognito-idp.amazonaws.com", self.user_pool.arn, self
            )
        web = spec.client
        self.client = aws.cognito.UserPoolClient(
            f"{name}-web-client",
            name=web.name,
            user_pool_id=self.user_pool.id,
            generate_secret=web.generate_secret,
            explicit_auth_flows=list(web.explicit_auth_flows),
            prevent_user_existence_errors=web.prevent_user_existence_errors,
            write_attributes=list(web.write_attributes),
            read_attributes=list(web.read_attributes),
            access_token_validity=web.access_token_minutes,
            id_token_validity=web.id_token_minutes,
            refresh_token_validity=web.refresh_token_days,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                access_token="minutes",  # noqa: S106 - a unit, not a secret
                id_token="minutes",  # noqa: S106
                refresh_token="days",  # noqa: S106
            ),
            opts=child,
        )
        self.register_outputs({"userPoolId": self.user_pool.id, "userPoolClientId": self.client.id})
