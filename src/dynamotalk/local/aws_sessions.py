"""The local Cognito's part in session lifetime (service/sessions.py, revocation.py).

- Revoking calls reach the chat as they do on AWS: Cognito records the call in CloudTrail and
  EventBridge delivers "AWS API Call via CloudTrail" to the rule's target (docs/DEPLOY.md).
  Here the layer in front of moto notes whose call it is before moto runs it (AdminDeleteUser
  removes the user) and, once moto answered 200, hands the same event to the listeners: the
  local stack invokes lambdas/session_revoked.py with it, asynchronously, as EventBridge does.
- A test knob: with DYNAMOTALK_LOCAL_TOKEN_LIFETIME_S set, the ID and access tokens of a sign-in
  or refresh expire that many seconds after they are issued (re-signed with the pool's own key;
  moto keeps issuing 60-minute tokens whatever the app client says). Nothing else changes: the
  authorizer and API Gateway check `exp` exactly as they do on AWS.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from dynamotalk.local import aws_cognito_users, events
from dynamotalk.revocation import REVOKING_CALLS, cloudtrail_event
from dynamotalk.settings import LOCAL_TOKEN_LIFETIME_ENV

Listener = Callable[[dict[str, Any]], None]
TOKEN_ISSUING = ("InitiateAuth", "AdminInitiateAuth", "RespondToAuthChallenge")

_listeners: list[Listener] = []
_lock = threading.Lock()


def listen(listener: Listener) -> Callable[[], None]:
    """Receive the EventBridge event of every successful revoking call; returns `unlisten`."""
    with _lock:
        _listeners.append(listener)

    def unlisten() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unlisten


@attrs.frozen
class PendingRevocation:
    call: str
    user_pool_id: str | None
    sub: str
    username: str | None
    """None for token-authorised calls: their CloudTrail record names no user."""


def before(operation: str, payload: dict[str, Any]) -> PendingRevocation | None:
    """Whose sessions a revoking call ends, resolved before moto runs it."""
    if operation not in REVOKING_CALLS:
        return None
    if operation in ("GlobalSignOut", "RevokeToken"):
        token_field = "AccessToken" if operation == "GlobalSignOut" else "Token"
        found = _user_by_token(str(payload.get(token_field, "")), operation == "RevokeToken")
        if found is None:
            return None
        pool, user = found
        return PendingRevocation(operation, pool.id, user.id, None)
    pool = aws_cognito_users.pool_by_id(str(payload.get("UserPoolId", "")))
    user = pool and aws_cognito_users.find_user(pool, str(payload.get("Username", "")))
    if not pool or not user:
        return None
    return PendingRevocation(operation, pool.id, user.id, user.username)


def after(pending: PendingRevocation | None) -> None:
    """Moto answered 200: deliver the event to every listener."""
    if pending is None:
        return
    event_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = cloudtrail_event(
        pending.call, events.REGION, events.ACCOUNT, pending.user_pool_id, pending.sub,
        pending.username, event_id, now,
    )  # fmt: skip
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event)


def _user_by_token(token: str, refresh: bool) -> tuple[Any, Any] | None:
    for backend in aws_cognito_users.backends():
        for pool in backend.user_pools.values():
            held = pool.refresh_tokens.get(token) if refresh else pool.access_tokens.get(token)
            if held:
                username = held[1]
                user = pool.users.get(username)
                return (pool, user) if user is not None else None
    return None


def refused(operation: str, payload: dict[str, Any]) -> aws_cognito_users.CognitoReply | None:
    """Cognito refuses a disabled user's refresh ("User is disabled."); moto refreshes it."""
    parameters = payload.get("AuthParameters")
    if operation != "InitiateAuth" or not isinstance(parameters, dict):
        return None
    if payload.get("AuthFlow") not in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        return None
    found = _user_by_token(str(parameters.get("REFRESH_TOKEN", "")), refresh=True)
    if found is not None and not found[1].enabled:
        return aws_cognito_users.CognitoReply.error("NotAuthorizedException", "User is disabled.")
    return None


def token_lifetime_s() -> int | None:
    raw = os.environ.get(LOCAL_TOKEN_LIFETIME_ENV, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def shorten_tokens(operation: str, payload: dict[str, Any], result: dict[str, Any]) -> bool:
    """Re-issue the answer's ID and access tokens with the local lifetime; True if changed."""
    lifetime = token_lifetime_s()
    auth = result.get("AuthenticationResult")
    if lifetime is None or operation not in TOKEN_ISSUING or not isinstance(auth, dict):
        return False
    found = aws_cognito_users.pool_by_client(str(payload.get("ClientId", "")))
    if found is None:
        return False
    pool = found[0]
    from joserfc import jwt

    for field, issued in (("IdToken", pool.id_tokens), ("AccessToken", pool.access_tokens)):
        token = auth.get(field)
        if not isinstance(token, str):
            continue
        decoded = jwt.decode(token, pool.json_web_key)
        claims = dict(decoded.claims)
        claims["exp"] = int(claims["iat"]) + lifetime
        fresh = jwt.encode(dict(decoded.header), claims, pool.json_web_key)
        if token in issued:  # moto finds users by the exact token (GetUser, GlobalSignOut)
            issued[fresh] = issued.pop(token)
        auth[field] = fresh
    auth["ExpiresIn"] = lifetime
    return True
