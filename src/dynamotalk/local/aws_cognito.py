"""Cognito user pools as the deployed pool behaves, where moto is more lenient.

moto ignores a pool's alias attributes and its case-insensitive usernames, reveals unknown
users, confirms a user twice, ignores the client's allowed auth flows, and signs every pool's
tokens with the one private key published in its source. This layer runs in front of moto's
Cognito API (same process: it reads moto's pool objects) and corrects that:

- Usernames of a case-insensitive pool are stored lower-cased, as Cognito outputs them (AWS
  docs "User pool case sensitivity"); any capitalisation finds the user.
- A verified e-mail (or other alias attribute) signs in like the username ("Customizing
  sign-in attributes"); an unverified one does not. With an e-mail alias, a username in
  e-mail format is refused. Confirming with an e-mail another user holds as alias fails with
  AliasExistsException unless ForceAliasCreation moves it.
- A client with PreventUserExistenceErrors=ENABLED never says UserNotFoundException ("Managing
  user existence error responses"): sign-in answers "Incorrect username or password.",
  confirmation answers a code mismatch, code deliveries answer a simulated delivery.
- ConfirmSignUp confirms an UNCONFIRMED user only; ConfirmSignUp verifies the e-mail the code
  went to (AdminConfirmSignUp does not).
- InitiateAuth honours the client's ExplicitAuthFlows.
- Each pool signs with its own RSA key, served by its own JWKS URL.
- Every request that sets a password is checked against the pool's password policy with
  Cognito's InvalidPasswordException and message ("Password did not conform with policy: ..."):
  moto checks SignUp, ChangePassword and AdminSetUserPassword, but not ConfirmForgotPassword
  or AdminCreateUser's temporary password (AWS docs "PasswordPolicyType").
- GetUserAttributeVerificationCode and VerifyUserAttribute (moto has neither): a signed-in
  user asks for a code, which "arrives by e-mail" as a line in the dev log (stderr); only that
  code verifies the address, once, and not while another user holds it as a verified alias.
- SignUp and UpdateUserAttributes write only the app client's WriteAttributes, else
  NotAuthorizedException "A client attempted to write unauthorized attribute" (moto writes
  anything). A client without WriteAttributes may write the standard attributes, but here never
  `email_verified`, `phone_number_verified` or `custom:` ones (AWS docs
  "UserPoolClientType.WriteAttributes"). An e-mail changed by UpdateUserAttributes is
  unverified until its code comes back (moto keeps it verified).

The look-ups on moto's objects live in aws_cognito_users.py, the attribute verification codes
in aws_cognito_codes.py.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from dynamotalk.local.aws_cognito_codes import AttributeCodes
from dynamotalk.local.aws_cognito_users import (
    CognitoReply,
    alias_taken,
    attributes_of,
    case_insensitive,
    find_user,
    new_signing_key,
    pool_by_client,
    pool_by_id,
    pool_of_access_token,
    set_attribute,
    signed_in,
    user_by_username,
    user_status,
    verify_delivery_attribute,
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
SIGN_IN_FLOWS = ("USER_PASSWORD_AUTH", "USER_SRP_AUTH")
NOT_FOUND_ANSWERS = {
    "ConfirmSignUp": "code_mismatch",
    "ConfirmForgotPassword": "code_mismatch",
    "ResendConfirmationCode": "simulated_delivery",
    "ForgotPassword": "simulated_delivery",
}
NEW_PASSWORD_FIELDS = {
    "SignUp": "Password",
    "ConfirmForgotPassword": "Password",
    "ChangePassword": "ProposedPassword",
    "AdminSetUserPassword": "Password",
    "AdminCreateUser": "TemporaryPassword",
}
"""Operations that set a password, and the field that carries it (RespondToAuthChallenge's
NEW_PASSWORD is in its ChallengeResponses)."""
UNAUTHORIZED_ATTRIBUTE = "A client attempted to write unauthorized attribute"
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "AdminGet", "AdminList")
IMMUTABLE_POOL_SETTINGS = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration")
"""UpdateUserPool resets what it is not given, except these, which Cognito never changes."""


def mutates(operation: str) -> bool:
    return not operation.startswith(READ_ONLY_PREFIXES)


@attrs.define
class CognitoCorrections:
    """Checks and rewrites a Cognito JSON request before moto sees it, and fixes up after."""

    _kept_settings: dict[str, Any] = attrs.field(factory=dict, init=False)
    _codes: AttributeCodes = attrs.field(factory=AttributeCodes, init=False)
    _email_changed: Any | None = attrs.field(default=None, init=False)
    """The user whose e-mail UpdateUserAttributes is changing: unverified once moto has it."""

    def before(self, operation: str, payload: dict[str, Any]) -> CognitoReply | None:
        """A reply of our own (moto is not called), or None with `payload` rewritten."""
        weak = self._weak_password(operation, payload)
        if weak is not None:
            return weak
        if operation == "UpdateUserPool":
            pool = pool_by_id(str(payload.get("UserPoolId", "")))
            config = pool.extended_config if pool is not None else {}
            self._kept_settings = {k: config[k] for k in IMMUTABLE_POOL_SETTINGS if k in config}
            return None
        if operation in ("SignUp", "UpdateUserAttributes"):
            refused = self._unauthorized_write(operation, payload)
            if refused is not None:
                return refused
        if operation in ("SignUp", "AdminCreateUser"):
            return self._new_user(operation, payload)
        if operation == "UpdateUserAttributes":
            return None
        if operation == "InitiateAuth":
            return self._sign_in(payload)
        if operation == "GetUserAttributeVerificationCode":
            return self._codes.send(payload)
        if operation == "VerifyUserAttribute":
            return self._codes.verify(payload)
        found = self._pool_of(payload)
        if found is None:
            return None  # moto answers ResourceNotFoundException
        pool, client = found
        parameters = payload.get("ChallengeResponses")
        field, holder = ("USERNAME", parameters) if isinstance(parameters, dict) else ("", None)
        if isinstance(payload.get("Username"), str):
            field, holder = "Username", payload
        if holder is None or not isinstance(holder.get(field), str):
            return None
        user = find_user(pool, holder[field])
        if user is None:
            return self._unknown_user(operation, client)
        holder[field] = user.username
        if (
            operation in ("ConfirmSignUp", "AdminConfirmSignUp")
            and user_status(user) != "UNCONFIRMED"
        ):
            return CognitoReply.error(
                "NotAuthorizedException",
                f"User cannot be confirmed. Current status is {user_status(user)}",
            )
        if operation == "ConfirmSignUp" and not payload.get("ForceAliasCreation"):
            return alias_taken(pool, user)
        return None

    def after(self, operation: str, payload: dict[str, Any], reply: dict[str, Any]) -> None:
        """Moto answered 200: finish what Cognito does besides."""
        if operation == "CreateUserPool":
            pool = pool_by_id(str(reply.get("UserPool", {}).get("Id", "")))
            if pool is not None:
                new_signing_key(pool)
        elif operation == "UpdateUserPool":
            pool = pool_by_id(str(payload.get("UserPoolId", "")))
            if pool is not None:  # moto forgets them; Cognito cannot change them
                pool.extended_config.update(self._kept_settings)
        elif operation == "UpdateUserAttributes" and self._email_changed is not None:
            set_attribute(self._email_changed, "email_verified", "false")
            self._email_changed = None
        elif operation == "ConfirmSignUp":
            found = self._pool_of(payload)
            user = found and user_by_username(found[0], str(payload.get("Username", "")))
            if found and user:
                verify_delivery_attribute(found[0], user)

    # --- the corrections ----------------------------------------------------------------------

    @staticmethod
    def _pool_of(payload: dict[str, Any]) -> tuple[Any, Any | None] | None:
        if isinstance(payload.get("ClientId"), str):
            return pool_by_client(payload["ClientId"])
        pool = pool_by_id(str(payload.get("UserPoolId", "")))
        return None if pool is None else (pool, None)

    def _unauthorized_write(self, operation: str, payload: dict[str, Any]) -> CognitoReply | None:
        """Refuse attributes the app client may not write; note an e-mail about to change."""
        from dynamotalk.userpool import VERIFIED_ATTRIBUTES

        self._email_changed = None
        user = None
        if operation == "SignUp":
            found = pool_by_client(str(payload.get("ClientId", "")))
            client = found[1] if found else None
        else:
            found_user = signed_in(payload)
            if isinstance(found_user, CognitoReply):
                return found_user
            pool, user = found_user
            client = pool.clients.get(pool.access_tokens[payload["AccessToken"]][0])
        if client is None:
            return None  # moto answers for an unknown client
        allowed = client.extended_config.get("WriteAttributes")
        attributes = payload.get("UserAttributes") or []
        for attribute in attributes:
            name = str(attribute.get("Name", "")) if isinstance(attribute, dict) else ""
            if (
                name not in allowed
                if allowed
                else name in VERIFIED_ATTRIBUTES or name.startswith("custom:")
            ):
                return CognitoReply.error("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE)
            if (
                user is not None
                and name == "email"
                and attribute.get("Value") != attributes_of(user).get("email")
            ):
                self._email_changed = user
        return None

    def _new_user(self, operation: str, payload: dict[str, Any]) -> CognitoReply | None:
        found = self._pool_of(payload)
        name = payload.get("Username")
        if found is None or not isinstance(name, str):
            return None
        pool = found[0]
        aliases = pool.extended_config.get("AliasAttributes") or []
        if "email" in aliases and EMAIL.match(name):
            return CognitoReply.error(
                "InvalidParameterException",
                "Username cannot be of email format, since user pool is configured for email "
                "alias.",
            )
        if user_by_username(pool, name) is not None:
            return CognitoReply.error("UsernameExistsException", "User already exists")
        if case_insensitive(pool):
            payload["Username"] = name.lower()
        return None

    def _sign_in(self, payload: dict[str, Any]) -> CognitoReply | None:
        found = pool_by_client(str(payload.get("ClientId", "")))
        if found is None:
            return None
        pool, client = found
        flow = str(payload.get("AuthFlow", ""))
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        wanted = "ALLOW_REFRESH_TOKEN_AUTH" if flow == "REFRESH_TOKEN" else f"ALLOW_{flow}"
        if allowed and wanted not in allowed:
            return CognitoReply.error(
                "InvalidParameterException", f"{flow} flow not enabled for this client"
            )
        parameters = payload.get("AuthParameters")
        if flow not in SIGN_IN_FLOWS or not isinstance(parameters, dict):
            return None
        user = find_user(pool, str(parameters.get("USERNAME", "")))
        if user is None:
            return self._unknown_user("InitiateAuth", client)
        parameters["USERNAME"] = user.username
        return None

    def _weak_password(self, operation: str, payload: dict[str, Any]) -> CognitoReply | None:
        from dynamotalk.userpool import PasswordPolicy

        if operation == "RespondToAuthChallenge":
            answers = payload.get("ChallengeResponses")
            password = answers.get("NEW_PASSWORD") if isinstance(answers, dict) else None
        else:
            password = payload.get(NEW_PASSWORD_FIELDS.get(operation, ""))
        if not isinstance(password, str):
            return None
        if operation == "ChangePassword":
            pool = pool_of_access_token(str(payload.get("AccessToken", "")))
        else:
            found = self._pool_of(payload)
            pool = found[0] if found else None
        policy = pool.extended_config.get("Policies", {}).get("PasswordPolicy") if pool else None
        if not isinstance(policy, dict):
            return None  # moto answers for an unknown pool or client
        refusal = PasswordPolicy.from_request(policy).refusal(password)
        return None if refusal is None else CognitoReply.error("InvalidPasswordException", refusal)

    @staticmethod
    def _unknown_user(operation: str, client: Any | None) -> CognitoReply | None:
        hides = client is not None and (
            client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"
        )
        if not hides:
            return None  # moto answers UserNotFoundException, as a LEGACY client does
        answer = NOT_FOUND_ANSWERS.get(operation, "incorrect")
        if answer == "code_mismatch":
            return CognitoReply.error(
                "CodeMismatchException", "Invalid verification code provided, please try again."
            )
        if answer == "simulated_delivery":
            delivery = {"Destination": "u***@e***", "DeliveryMedium": "EMAIL"}
            return CognitoReply(
                200, {"CodeDeliveryDetails": {**delivery, "AttributeName": "email"}}
            )
        return CognitoReply.error("NotAuthorizedException", "Incorrect username or password.")
