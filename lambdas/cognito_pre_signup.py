"""Cognito pre sign-up trigger: check the username; auto-confirm only where the stage allows."""

from __future__ import annotations

import re
from typing import Any

from dynamotalk.logging import invocation
from lambdas import _wiring

AUTO_CONFIRM = _wiring.settings().auto_confirm
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    with invocation(route="cognito:pre_signup") as log:
        username = str(event.get("userName", ""))
        if not USERNAME.fullmatch(username):
            log["outcome"] = "invalid_input"
            # Cognito shows this message to the user as "PreSignUp failed with error ...".
            raise ValueError("username must be 3..32 characters: letters, digits, '.', '_' or '-'")
        response = event.setdefault("response", {})
        response["autoConfirmUser"] = AUTO_CONFIRM
        attributes = (event.get("request") or {}).get("userAttributes") or {}
        response["autoVerifyEmail"] = AUTO_CONFIRM and "email" in attributes
        return event
