"""Frames that fail while parsing or validating, with the error code each must get; shared by
the handler-level and the real-socket requestId tests."""

from __future__ import annotations

from typing import Any

from dynamotalk.domain.limits import MAX_RAW_TEXT

OVER_TEXT_LIMIT = "x" * (MAX_RAW_TEXT + 1)
"""Longer than any message text the wire format takes."""

BAD_FRAMES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-action": ({"action": "fly"}, "invalid_input"),
    "missing-field": ({"action": "sendMessage", "roomId": "r", "text": "x"}, "invalid_input"),
    "wrong-type": (
        {"action": "sendMessage", "roomId": 5, "text": "x", "clientId": "c"},
        "invalid_input",
    ),
    "oversized-text": (
        {"action": "sendMessage", "roomId": "r", "text": OVER_TEXT_LIMIT, "clientId": "c"},
        "too_large",
    ),
    "bad-limit": ({"action": "sync", "roomId": "r", "limit": "ten"}, "invalid_input"),
    "extra": ({"action": "ping", "extra": True}, "invalid_input"),
}
