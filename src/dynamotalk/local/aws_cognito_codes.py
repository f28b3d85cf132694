"""GetUserAttributeVerificationCode and VerifyUserAttribute, which moto has neither of.

A signed-in user asks for a code, which "arrives by e-mail" as a line in the dev log (stderr);
only that code verifies the address, once, and not while another user holds it as a verified
alias.
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

import attrs

from dynamotalk.local.aws_cognito_users import (
    VERIFIED_FLAG,
    CognitoReply,
    alias_taken,
    attributes_of,
    set_attribute,
    signed_in,
)


@attrs.define
class AttributeCodes:
    """The verification codes sent and not yet used."""

    _codes: dict[tuple[str, str, str], str] = attrs.field(factory=dict, init=False)
    """(pool id, username, attribute) -> the verification code last sent."""

    def send(self, payload: dict[str, Any]) -> CognitoReply:
        found = signed_in(payload)
        if isinstance(found, CognitoReply):
            return found
        pool, user = found
        attribute = str(payload.get("AttributeName", ""))
        value = attributes_of(user).get(attribute)
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

    def verify(self, payload: dict[str, Any]) -> CognitoReply:
        found = signed_in(payload)
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
        taken = alias_taken(pool, user)
        if taken is not None:
            return taken
        del self._codes[key]
        set_attribute(user, VERIFIED_FLAG[attribute], "true")
        return CognitoReply(200, {})
