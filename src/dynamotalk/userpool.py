"""The one definition of DynamoTalk's Cognito user pool and its web app client.

Read by the Pulumi program (infra/auth.py) and the local stack (local/provision.py), so the
pool users sign in to on a laptop is the pool a stage deploys. Sign-in: a username (what the
chat shows) or the e-mail address as a verified alias; usernames are case-insensitive; the
e-mail is verified by the code Cognito sends (or by the pre sign-up trigger on stages that
auto-confirm). The client has no secret (browsers and the terminal client cannot keep one),
allows the password, SRP and refresh flows those clients use, and hides whether a user exists.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class PasswordPolicy:
    minimum_length: int
    require_lowercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = False
    require_uppercase: bool = False
    temporary_password_validity_days: int = 3

    def request(self) -> dict[str, Any]:
        """Cognito's `PasswordPolicyType`."""
        return {
            "MinimumLength": self.minimum_length,
            "RequireLowercase": self.require_lowercase,
            "RequireNumbers": self.require_numbers,
            "RequireSymbols": self.require_symbols,
            "RequireUppercase": self.require_uppercase,
            "TemporaryPasswordValidityDays": self.temporary_password_validity_days,
        }


@attrs.frozen
class AppClientSpec:
    name: str = "web"
    generate_secret: bool = False
    explicit_auth_flows: tuple[str, ...] = (
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    )
    prevent_user_existence_errors: str = "ENABLED"
    """Unknown users get the same answer as a wrong password (NotAuthorizedException)."""
    access_token_minutes: int = 60
    id_token_minutes: int = 60
    refresh_token_days: int = 30

    def request(self, user_pool_id: str) -> dict[str, Any]:
        """Arguments for boto3's `create_user_pool_client` (the local stack)."""
        return {
            "UserPoolId": user_pool_id,
            "ClientName": self.name,
            "GenerateSecret": self.generate_secret,
            **self.update_request(user_pool_id),
        }

    def update_request(self, user_pool_id: str) -> dict[str, Any]:
        """The settings `update_user_pool_client` can change (no name, no secret)."""
        return {
            "UserPoolId": user_pool_id,
            "ExplicitAuthFlows": list(self.explicit_auth_flows),
            "PreventUserExistenceErrors": self.prevent_user_existence_errors,
            "AccessTokenValidity": self.access_token_minutes,
            "IdTokenValidity": self.id_token_minutes,
            "RefreshTokenValidity": self.refresh_token_days,
            "TokenValidityUnits": {
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
        }


@attrs.frozen
class UserPoolSpec:
    password_policy: PasswordPolicy
    alias_attributes: tuple[str, ...] = ("email",)
    auto_verified_attributes: tuple[str, ...] = ("email",)
    case_sensitive_usernames: bool = False
    recovery_mechanism: str = "verified_email"
    email_subject: str = "Your DynamoTalk code"
    email_message: str = "Your DynamoTalk verification code is {####}"
    client: AppClientSpec = AppClientSpec()

    @staticmethod
    def pool_name(stage: str) -> str:
        return f"dynamotalk-{stage}"

    def immutable(self) -> dict[str, Any]:
        """Settings Cognito cannot change on an existing pool (a change means a new pool)."""
        return {
            "AliasAttributes": list(self.alias_attributes),
            "UsernameConfiguration": {"CaseSensitive": self.case_sensitive_usernames},
        }

    def request(self, stage: str) -> dict[str, Any]:
        """Arguments for boto3's `create_user_pool` (the local stack)."""
        return {"PoolName": self.pool_name(stage), **self.immutable(), **self.mutable()}

    def mutable(self) -> dict[str, Any]:
        """Settings `update_user_pool` applies to an existing pool."""
        return {
            "Policies": {"PasswordPolicy": self.password_policy.request()},
            "AutoVerifiedAttributes": list(self.auto_verified_attributes),
            "AccountRecoverySetting": {
                "RecoveryMechanisms": [{"Name": self.recovery_mechanism, "Priority": 1}]
            },
            "VerificationMessageTemplate": {
                "DefaultEmailOption": "CONFIRM_WITH_CODE",
                "EmailSubject": self.email_subject,
                "EmailMessage": self.email_message,
            },
        }


def user_pool_spec(protected: bool) -> UserPoolSpec:
    """The pool of a stage; protected stages (prod) ask for longer passwords."""
    return UserPoolSpec(password_policy=PasswordPolicy(minimum_length=10 if protected else 8))
