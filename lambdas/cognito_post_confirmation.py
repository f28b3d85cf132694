"""Cognito post confirmation trigger: create the user's chat profile."""

from __future__ import annotations

from typing import Any

from dynamotalk.domain.models import Principal
from dynamotalk.logging import invocation
from lambdas import _wiring

SERVICE = _wiring.service()


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
        return event
