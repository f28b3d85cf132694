"""The one definition of DynamoTalk's Cognito user pool and its web app client.

Read by the Pulumi program (infra/auth.py) and the local stack (local/provision.py), so the
pool users sign in to on a laptop is the pool a stage deploys. Sign-in: a username (what the
chat shows) or the e-mail address as a verified alias; usernames are case-insensitive; the
e-mail is verified by the code Cognito sends (or by the pre sign-up trigger on stages that
auto-confirm). The client has no secret (browsers and the terminal client cannot keep one),
allows the password, SRP and refresh flows those clients use, hides whether a user exists, and
lets a user write only their e-mail address (never `email_verified`: only Cognito's code sets it).

Stages differ in three settings (user_pool_spec): protected stages (prod) ask for passwords of
at least 12 characters and let users turn on TOTP MFA (an authenticator app; MFA stays
optional), while dev keeps 8 characters and no MFA so test accounts are quick to make. Cognito's
threat protection (compromised-credential checks, adaptive authentication) is a stage setting,
off by default: it needs the pool on the Plus feature plan, which AWS bills per monthly active
user at several times the Essentials price (docs/DEPLOY.md).
"""

from __future__ import annotations

import string
from typing import Any, Literal

import attrs

PROTECTED_MIN_PASSWORD = 12
"""Shortest password on protected stages (prod)."""
DEV_MIN_PASSWORD = 8
"""Shortest password on other stages: Cognito's own default, kept for quick test accounts."""
ThreatProtection = Literal["OFF", "AUDIT", "ENFORCED"]
THREAT_PROTECTION_MODES: tuple[ThreatProtection, ...] = ("OFF", "AUDIT", "ENFORCED")
"""Cognito's AdvancedSecurityMode: off, log risky sign-ins only, or also block them."""


PASSWORD_SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")
"""The characters Cognito counts as symbols in a password policy (not the space)."""
PASSWORD_MAX_LENGTH = 256
VERIFIED_ATTRIBUTES = ("email_verified", "phone_number_verified")
"""Set by Cognito when its code comes back; never by the user (they would verify an address
they do not own, which then signs in as an alias)."""


@attrs.frozen
class PasswordPolicy:
    minimum_length: int
    require_lowercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = False
    require_uppercase: bool = False
    temporary_password_validity_days: int = 3

    @classmethod
    def from_request(cls, policy: dict[str, Any]) -> PasswordPolicy:
        """From Cognito's `PasswordPolicyType` (what DescribeUserPool shows)."""
        return cls(
            minimum_length=int(policy.get("MinimumLength", 8)),
            require_lowercase=bool(policy.get("RequireLowercase", False)),
            require_numbers=bool(policy.get("RequireNumbers", False)),
            require_symbols=bool(policy.get("RequireSymbols", False)),
            require_uppercase=bool(policy.get("RequireUppercase", False)),
            temporary_password_validity_days=int(policy.get("TemporaryPasswordValidityDays", 7)),
        )

    def refusal(self, password: str) -> str | None:
        """Why Cognito refuses `password` (its InvalidPasswordException message), or None."""
        if not self.minimum_length <= len(password) <= PASSWORD_MAX_LENGTH:
            problem = "Password not long enough"
            if len(password) > PASSWORD_MAX_LENGTH:
                problem = "Password is too long"
        elif self.require_lowercase and not any(c in string.ascii_lowercase for c in password):
            problem = "Password must have lowercase characters"
        elif self.require_uppercase and not any(c in string.ascii_uppercase for c in password):
            problem = "Password must have uppercase characters"
        elif self.require_numbers and not any(c in string.digits for c in password):
            problem = "Password must have numeric characters"
        elif self.require_symbols and not any(c in PASSWORD_SYMBOLS for c in password):
            problem = "Password must have symbol characters"
        else:
            return None
        return f"Password did not conform with policy: {problem}"

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
    write_attributes: tuple[str, ...] = ("email",)
    """What a user may set on their own account (SignUp, UpdateUserAttributes). Set explicitly:
    without it Cognito lets users write every standard attribute. Never VERIFIED_ATTRIBUTES."""
    read_attributes: tuple[str, ...] = ("email", "email_verified")
    """What a user may read of their own account, and the attributes the ID token carries."""

    def __attrs_post_init__(self) -> None:
        if set(self.write_attributes) & set(VERIFIED_ATTRIBUTES):
            raise ValueError(f"users must never write {VERIFIED_ATTRIBUTES}")

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
            "WriteAttributes": list(self.write_attributes),
            "ReadAttributes": list(self.read_attributes),
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
    mfa_configuration: Literal["OFF", "OPTIONAL"] = "OFF"
    """OPTIONAL: each user may turn MFA on for their account; ON would force it on everyone."""
    software_token_mfa: bool = False
    """TOTP (an authenticator app) is the MFA factor offered; no SMS, which needs an SNS role."""
    threat_protection: ThreatProtection = "OFF"

    @property
    def feature_plan(self) -> str | None:
        """PLUS where threat protection is on (it requires it); else the pool's default."""
        return "PLUS" if self.threat_protection != "OFF" else None

    def mfa_request(self, user_pool_id: str) -> dict[str, Any]:
        """Arguments for boto3's `set_user_pool_mfa_config` (the local stack)."""
        return {
            "UserPoolId": user_pool_id,
            "SoftwareTokenMfaConfiguration": {"Enabled": self.software_token_mfa},
            "MfaConfiguration": self.mfa_configuration,
        }

    @staticmethod
    def pool_name(stage: str) -> str:
        from dynamotalk.routes import resource_name  # the route table: not at import

        return resource_name(stage)

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


def cognito_host(region: str) -> str:
    """Cognito's regional endpoint host."""
    return f"cognito-idp.{region}.amazonaws.com"


def cognito_url(region: str) -> str:
    """Cognito's JSON API, where the clients sign up and sign in (config.json `cognitoUrl`)."""
    return f"https://{cognito_host(region)}/"


def issuer(region: str, user_pool_id: str) -> str:
    """The `iss` of the pool's tokens (and the base of its JWKS URL)."""
    return f"{cognito_url(region)}{user_pool_id}"


def user_pool_spec(protected: bool, threat_protection: ThreatProtection = "OFF") -> UserPoolSpec:
    """The pool of a stage: protected stages (prod) ask for longer passwords and offer TOTP."""
    if threat_protection not in THREAT_PROTECTION_MODES:
        raise ValueError(f"threat protection must be one of {THREAT_PROTECTION_MODES}")
    if not protected:
        return UserPoolSpec(
            password_policy=PasswordPolicy(minimum_length=DEV_MIN_PASSWORD),
            threat_protection=threat_protection,
        )
    return UserPoolSpec(
        password_policy=PasswordPolicy(minimum_length=PROTECTED_MIN_PASSWORD),
        mfa_configuration="OPTIONAL",
        software_token_mfa=True,
        threat_protection=threat_protection,
    )
