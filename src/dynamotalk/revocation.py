"""The Cognito calls that end a user's sessions, as EventBridge delivers them from CloudTrail.

One home for the facts the cloud rule (infra/sessions.py), the local Cognito layer
(local/aws.py) and the handler (lambdas/session_revoked.py) share: which calls, the event
pattern, and how the user is read from an event.

Cognito's ID and access tokens are JWTs verified offline (by the authorizer here, by API
Gateway's JWT authorizer on the HTTP API): a sign-out cannot recall them, it only stops refresh
and Cognito's own APIs. So the server acts on the call itself: CloudTrail records it, and
EventBridge delivers "AWS API Call via CloudTrail" events only where a trail is logging
(docs/DEPLOY.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

REVOKING_CALLS: tuple[str, ...] = (
    "GlobalSignOut",
    "AdminUserGlobalSignOut",
    "AdminDisableUser",
    "AdminDeleteUser",
    "RevokeToken",
)
"""Cognito API calls after which none of the user's sockets may stay open."""
SOURCE = "aws.cognito-idp"
DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_SOURCE = "cognito-idp.amazonaws.com"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
"""What CloudTrail writes in place of a value Cognito keeps out of its logs."""


def event_pattern() -> dict[str, Any]:
    """The EventBridge rule's pattern: successful revoking calls only (no errorCode)."""
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "eventSource": [EVENT_SOURCE],
            "eventName": list(REVOKING_CALLS),
            "errorCode": [{"exists": False}],
        },
    }


@attrs.frozen
class RevokedUser:
    """Whose sessions end: the user's `sub` when the event names it, else the username."""

    call: str
    user_pool_id: str | None
    sub: str | None
    username: str | None


def revoked_user(event: Mapping[str, Any]) -> RevokedUser | None:
    """The user a revoking call's event names, or None (not such an event, or no user in it)."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping) or detail.get("eventName") not in REVOKING_CALLS:
        return None
    if detail.get("errorCode"):
        return None
    request = detail.get("requestParameters")
    request = request if isinstance(request, Mapping) else {}
    extra = detail.get("additionalEventData")
    extra = extra if isinstance(extra, Mapping) else {}

    def named(value: object) -> str | None:
        return value if isinstance(value, str) and value and value != HIDDEN else None

    sub = named(extra.get("sub"))
    username = named(request.get("username"))
    if sub is None and username is None:
        return None
    return RevokedUser(
        call=str(detail["eventName"]),
        user_pool_id=named(request.get("userPoolId")),
        sub=sub,
        username=username,
    )


def cloudtrail_event(
    call: str,
    region: str,
    account: str,
    user_pool_id: str | None,
    sub: str | None,
    username: str | None,
    event_id: str,
    time_iso: str,
) -> dict[str, Any]:
    """The event EventBridge delivers for one successful call (the local stack builds it)."""
    request: dict[str, Any] = {}
    if user_pool_id is not None:
        request["userPoolId"] = user_pool_id
    # Token-authorised calls carry no username; the token itself is never logged.
    request["username" if username is not None else "accessToken"] = username or HIDDEN
    detail: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventTime": time_iso,
        "eventSource": EVENT_SOURCE,
        "eventName": call,
        "awsRegion": region,
        "requestParameters": request,
        "responseElements": None,
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if sub is not None:
        detail["additionalEventData"] = {"sub": sub}
    return {
        "version": "0",
        "id": event_id,
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": time_iso,
        "region": region,
        "resources": [],
        "detail": detail,
    }
