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
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Iterator
from typing import Any

import attrs

VERIFIED_FLAG = {"email": "email_verified", "phone_number": "phone_number_verified"}
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


@attrs.frozen
class CognitoReply:
    status: int
    body: dict[str, Any]

    @classmethod
    def error(cls, kind: str, message: str) -> CognitoReply:
        return cls(400, {"__type": kind, "message": message})

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode()


def mutates(operation: str) -> bool:
    return not operation.startswith(READ_ONLY_PREFIXES)


def _backends() -> Iterator[Any]:
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in list(cognitoidp_backends.values()):
        yield from list(regions.values())


def pool_by_id(pool_id: str) -> Any | None:
    for backend in _backends():
        pool = backend.user_pools.get(pool_id)
        if pool is not None:
            return pool
    return None


def pool_by_client(client_id: str) -> tuple[Any, Any] | None:
    for backend in _backends():
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return pool, pool.clients[client_id]
    return None


def _case_insensitive(pool: Any) -> bool:
    config = pool.extended_config.get("UsernameConfiguration") or {}
    return config.get("CaseSensitive") is False


def _attributes(user: Any) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.attributes}


def _status(user: Any) -> str:
    return str(getattr(user.status, "value", user.status))


def _same(pool: Any, left: str, right: str) -> bool:
    return left.lower() == right.lower() if _case_insensitive(pool) else left == right


def user_by_username(pool: Any, name: str) -> Any | None:
    user = pool.users.get(name)
    if user is None and _case_insensitive(pool):
        user = next((u for u in pool.users.values() if u.username.lower() == name.lower()), None)
    return user


def alias_owner(pool: Any, attribute: str, value: str) -> Any | None:
    """The user who can sign in with this attribute value: it must be verified."""
    flag = VERIFIED_FLAG.get(attribute)
    for user in pool.users.values():
        attributes = _attributes(user)
        held = attributes.get(attribute)
        if held is None or not _same(pool, held, value):
            continue
        if (attributes.get(flag) == "true") if flag else _status(user) == "CONFIRMED":
            return user
    return None


def _pool_of_access_token(token: str) -> Any | None:
    """The pool whose access token this is (moto keeps them per pool); None if unknown."""
    for backend in _backends():
        for pool in backend.user_pools.values():
            if token in getattr(pool, "access_tokens", {}):
                return pool
    return None


def find_user(pool: Any, name: str) -> Any | None:
    """By username (any case in a case-insensitive pool), then by a verified alias."""
    user = user_by_username(pool, name)
    for attribute in pool.extended_config.get("AliasAttributes") or []:
        if user is not None:
            break
        user = alias_owner(pool, attribute, name)
    return user


def _set_attribute(user: Any, name: str, value: str) -> None:
    kept = [a for a in user.attributes if a["Name"] != name]
    user.attributes = [*kept, {"Name": name, "Value": value}]


def new_signing_key(pool: Any) -> None:
    """Replace moto's shared, published key with a key of this pool's own."""
    from joserfc.jwk import RSAKey

    pool.json_web_key = RSAKey.generate_key(2048)


def jwks(pool_id: str) -> CognitoReply:
    pool = pool_by_id(pool_id)
    if pool is None:
        return CognitoReply(404, {"message": f"User pool {pool_id} does not exist."})
    public = pool.json_web_key.as_dict(private=False)
    # moto's tokens name the key "dummy" (its create_jwt); one key per pool, so it is unique.
    return CognitoReply(200, {"keys": [{**public, "kid": "dummy", "alg": "RS256", "use": "sig"}]})


@attrs.define
class CognitoCorrections:
    """Checks and rewrites a Cognito JSON request before moto sees it, and fixes up after."""

    _kept_settings: dict[str, Any] = attrs.field(factory=dict, init=False)
    _codes: dict[tuple[str, str, str], str] = attrs.field(factory=dict, init=False)
    """(pool id, username, attribute) -> the verification code last sent."""
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
            return self._send_code(payload)
        if operation == "VerifyUserAttribute":
            return self._verify_attribute(payload)
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
        if operation in ("ConfirmSignUp", "AdminConfirmSignUp") and _status(user) != "UNCONFIRMED":
            return CognitoReply.error(
                "NotAuthorizedException",
                f"User cannot be confirmed. Current status is {_status(user)}",
            )
        if operation == "ConfirmSignUp" and not payload.get("ForceAliasCreation"):
            return self._alias_taken(pool, user)
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
            _set_attribute(self._email_changed, "email_verified", "false")
            self._email_changed = None
        elif operation == "ConfirmSignUp":
            found = self._pool_of(payload)
            user = found and user_by_username(found[0], str(payload.get("Username", "")))
            if found and user:
                self._verify_delivery_attribute(found[0], user)

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
            signed_in = self._signed_in(payload)
            if isinstance(signed_in, CognitoReply):
                return signed_in
            pool, user = signed_in
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
                and attribute.get("Value") != _attributes(user).get("email")
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
        if _case_insensitive(pool):
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
            pool = _pool_of_access_token(str(payload.get("AccessToken", "")))
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

    @staticmethod
    def _alias_taken(pool: Any, user: Any) -> CognitoReply | None:
        aliases = pool.extended_config.get("AliasAttributes") or []
        email = _attributes(user).get("email")
        if "email" not in aliases or email is None:
            return None
        owner = alias_owner(pool, "email", email)
        if owner is None or owner is user:
            return None
        return CognitoReply.error(
            "AliasExistsException", "An account with the given email already exists."
        )

    @staticmethod
    def _verify_delivery_attribute(pool: Any, user: Any) -> None:
        """The code went to the e-mail: confirming proves it. A forced alias moves to this user."""
        email = _attributes(user).get("email")
        if email is None or "email" not in (
            pool.extended_config.get("AutoVerifiedAttributes") or []
        ):
            return
        for other in pool.users.values():
            held = _attributes(other).get("email")
            if other is not user and held is not None and _same(pool, held, email):
                _set_attribute(other, "email_verified", "false")
        _set_attribute(user, "email_verified", "true")

    # --- attribute verification (moto has none) ------------------------------------------------

    @staticmethod
    def _signed_in(payload: dict[str, Any]) -> tuple[Any, Any] | CognitoReply:
        token = payload.get("AccessToken")
        for backend in _backends():
            for pool in backend.user_pools.values():
                held = pool.access_tokens.get(token) if isinstance(token, str) else None
                if held is not None and held[1] in pool.users:
                    return pool, pool.users[held[1]]
        return CognitoReply.error("NotAuthorizedException", "Invalid Access Token")

    def _send_code(self, payload: dict[str, Any]) -> CognitoReply:
        found = self._signed_in(payload)
        if isinstance(found, CognitoReply):
            return found
        pool, user = found
        attribute = str(payload.get("AttributeName", ""))
        value = _attributes(user).get(attribute)
        if attribute != "email" or value is None:
            return CognitoReply.error(
                "InvalidParameterException", f"User has no attribute {attribute!r} to verify."
            )
        code = f"{secrets.randbelow(10**6):06d}"
        self._codes[(pool.id, user.username, attribute)] = code
        # No e-mail leaves a laptop: the code "arrives" in the dev log, for its owner to read.
        print(
            f"local cognito: verification code for {user.username} ({attribute}): {code}",
            file=sys.stderr,
            flush=True,
        )
        local, _, domain = value.partition("@")
        destination = f"{local[:1]}***@{domain[:1]}***"
        delivery = {"Destination": destination, "DeliveryMedium": "EMAIL"}
        return CognitoReply(200, {"CodeDeliveryDetails": {**delivery, "AttributeName": attribute}})

    def _verify_attribute(self, payload: dict[str, Any]) -> CognitoReply:
        found = self._signed_in(payload)
        if isinstance(found, CognitoReply):
            return found
        pool, user = found
        attribute = str(payload.get("AttributeName", ""))
        key = (pool.id, user.username, attribute)
        expected = self._codes.get(key)
        if expected is None or not secrets.compare_digest(expected, str(payload.get("Code", ""))):
            return CognitoReply.error(
                "CodeMismatchException", "Invalid verification code provided, please try again."
            )
        taken = self._alias_taken(pool, user)
        if taken is not None:
            return taken
        del self._codes[key]
        _set_attribute(user, VERIFIED_FLAG[attribute], "true")
        return CognitoReply(200, {})
