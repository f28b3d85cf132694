"""Cognito pre sign-up trigger: check the username; auto-confirm only where the stage allows.

Reserved names (the bot's, the stage's, names people trust; see domain/identities.py) are
refused in any case and through look-alike letters. Auto-confirm never verifies the e-mail:
an address counts as verified (and so as a sign-in alias, and for password recovery) only
after its owner enters the code Cognito sends to it.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.domain.identities import USERNAME, USERNAME_RULE, is_reserved
from dynamotalk.edge.events import CognitoTriggerEvent
from dynamotalk.logging import invocation
from lambdas import initialized

AUTO_CONFIRM = bootstrap.settings().auto_confirm


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = CognitoTriggerEvent(event)
    with invocation(route="cognito:pre_signup") as log:
        username = view.username
        if not USERNAME.fullmatch(username):
            log["outcome"] = "invalid_input"
            # Cognito shows this message to the user as "PreSignUp failed with error ...".
            raise ValueError(USERNAME_RULE)
        if is_reserved(username):
            log["outcome"] = "reserved_name"
            raise ValueError("this username is reserved, please choose another")
        view.response.update(autoConfirmUser=AUTO_CONFIRM, autoVerifyEmail=False)
        return event


initialized()
