"""moto's Cognito objects looked up as Cognito looks them up, and the reply of a correction.

Pools and users are moto's own (same process); usernames compare case-insensitively in a
case-insensitive pool, and an alias (a verified e-mail) finds its user like the username.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs

VERIFIED_FLAG = {"email": "email_verified", "phone_number": "phone_number_verified"}


@attrs.frozen
class CognitoReply:
    status: int
    body: dict[str, Any]

    @classmethod
    def error(cls, kind: str, message: str) -> CognitoReply:
        return cls(400, {"__type": kind, "message": message})

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode()


def backends() -> Iterator[Any]:
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in list(cognitoidp_backends.values()):
        yield from list(regions.values())


def pool_by_id(pool_id: str) -> Any | None:
    for backend in backends():
        pool = backend.user_pools.get(pool_id)
        if pool is not None:
            return pool
    return None


def pool_by_client(client_id: str) -> tuple[Any, Any] | None:
    for backend in backends():
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return pool, pool.clients[client_id]
    return None


def case_insensitive(pool: Any) -> bool:
    config = pool.extended_config.get("UsernameConfiguration") or {}
    return config.get("CaseSensitive") is False


def attributes_of(user: Any) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.attributes}


def user_status(user: Any) -> str:
    return str(getattr(user.status, "value", user.status))


def same_name(pool: Any, left: str, right: str) -> bool:
    return left.lower() == right.lower() if case_insensitive(pool) else left == right


def user_by_username(pool: Any, name: str) -> Any | None:
    user = pool.users.get(name)
    if user is None and case_insensitive(pool):
        user = next((u for u in pool.users.values() if u.username.lower() == name.lower()), None)
    return user


def alias_owner(pool: Any, attribute: str, value: str) -> Any | None:
    """The user who can sign in with this attribute value: it must be verified."""
    flag = VERIFIED_FLAG.get(attribute)
    for user in pool.users.values():
        attributes = attributes_of(user)
        held = attributes.get(attribute)
        if held is None or not same_name(pool, held, value):
            continue
        if (attributes.get(flag) == "true") if flag else user_status(user) == "CONFIRMED":
            return user
    return None


def pool_of_access_token(token: str) -> Any | None:
    """The pool whose access token this is (moto keeps them per pool); None if unknown."""
    for backend in backends():
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


def set_attribute(user: Any, name: str, value: str) -> None:
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


def signed_in(payload: dict[str, Any]) -> tuple[Any, Any] | CognitoReply:
    """The pool and user of the request's AccessToken, or Cognito's refusal."""
    token = payload.get("AccessToken")
    for backend in backends():
        for pool in backend.user_pools.values():
            held = pool.access_tokens.get(token) if isinstance(token, str) else None
            if held is not None and held[1] in pool.users:
                return pool, pool.users[held[1]]
    return CognitoReply.error("NotAuthorizedException", "Invalid Access Token")


def alias_taken(pool: Any, user: Any) -> CognitoReply | None:
    """AliasExistsException when another user holds this user's e-mail as a verified alias."""
    aliases = pool.extended_config.get("AliasAttributes") or []
    email = attributes_of(user).get("email")
    if "email" not in aliases or email is None:
        return None
    owner = alias_owner(pool, "email", email)
    if owner is None or owner is user:
        return None
    return CognitoReply.error(
        "AliasExistsException", "An account with the given email already exists."
    )


def verify_delivery_attribute(pool: Any, user: Any) -> None:
    """The code went to the e-mail: confirming proves it. A forced alias moves to this user."""
    email = attributes_of(user).get("email")
    if email is None or "email" not in (pool.extended_config.get("AutoVerifiedAttributes") or []):
        return
    for other in pool.users.values():
        held = attributes_of(other).get("email")
        if other is not user and held is not None and same_name(pool, held, email):
            set_attribute(other, "email_verified", "false")
    set_attribute(user, "email_verified", "true")
