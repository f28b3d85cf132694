"""A revoking Cognito call (global sign-out, disable, delete, revoke) reached EventBridge
through CloudTrail: close every socket of that user (revocation.py, sessions.py)."""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.edge.failures import unexpected
from dynamotalk.logging import invocation
from dynamotalk.revocation import revoked_user
from lambdas import initialized

SESSIONS = bootstrap.sessions()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    with invocation(route="event:session_revoked", request_id=str(event.get("id", ""))) as log:
        revoked = revoked_user(event)
        if revoked is None:
            log["outcome"] = "no_user_in_event"
            return {"closed": 0}
        log["call"] = revoked.call
        pool = bootstrap.settings().user_pool_id
        if revoked.user_pool_id is not None and pool and revoked.user_pool_id != pool:
            log["outcome"] = "other_pool"
            return {"closed": 0}
        try:
            user_id = revoked.sub
            if user_id is None and revoked.username is not None:
                user = SESSIONS.chat.users.by_username(revoked.username)
                user_id = user.user_id if user is not None else None
            if user_id is None:
                log["outcome"] = "unknown_user"
                return {"closed": 0}
            log["user_id"] = user_id
            closed = SESSIONS.revoke(user_id)
        except Exception as error:  # EventBridge retries a failed invocation
            unexpected(error, log)
            raise
        log["closed"] = closed
        return {"closed": closed}


initialized()
