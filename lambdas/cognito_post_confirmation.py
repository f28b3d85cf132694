"""Cognito post confirmation trigger: create the user's chat profile.

The username claim never moves from its first holder (the user store writes it with a
condition). Cognito keeps live usernames unique, so a claim held by another id means a name
reserved for the stage (the bot's) or a user deleted from the pool and signed up again: the
new user gets a profile but the name keeps pointing to its holder, and the conflict is logged
(`username_taken`) for an operator, who may delete the stale claim item.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.domain.models import Principal
from dynamotalk.logging import invocation
from lambdas import initialized

SERVICE = bootstrap.service()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    with invocation(route="cognito:post_confirmation") as log:
        attributes = (event.get("request") or {}).get("userAttributes") or {}
        user_id = str(attributes.get("sub", ""))
        username = str(event.get("userName", ""))
        if not user_id or not username:
            log["outcome"] = "invalid_input"
            raise ValueError("post confirmation event lacks sub or userName")
        log["user_id"] = user_id
        SERVICE.ensure_user(Principal(user_id=user_id, username=username))
        holder = SERVICE.users.by_username(username)
        if holder is not None and holder.user_id != user_id:
            log["outcome"] = "username_taken"
            log["claim_holder"] = holder.user_id
        return event


initialized()
