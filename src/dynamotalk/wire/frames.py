"""Outbound: domain objects -> JSON, and the bytes of every frame the server sends.

Frames carry `"v": 1` and a `"type"`; see docs/PROTOCOL.md for an example of every frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dynamotalk import routes
from dynamotalk.domain import events as ev
from dynamotalk.domain.commands import Command
from dynamotalk.domain.errors import ChatError
from dynamotalk.domain.models import (
    HistoryPage,
    Invite,
    Membership,
    Message,
    PresenceEntry,
    Room,
    RoomsPage,
    SyncResult,
    UploadForm,
    User,
)
from dynamotalk.domain.text import replace_lone_surrogates
from dynamotalk.wire.convert import CONVERTER, VERSION


def _dumps(payload: Mapping[str, Any]) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate stored before parse refused them: never crash
        return replace_lone_surrogates(text).encode()


def _json(value: object) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(value)
    return data


def message_json(message: Message) -> dict[str, Any]:
    return _json(message)


def room_json(room: Room) -> dict[str, Any]:
    return _json(room)


def membership_json(membership: Membership) -> dict[str, Any]:
    return _json(membership)


def invite_json(invite: Invite) -> dict[str, Any]:
    return _json(invite)


def rooms_page_json(page: RoomsPage) -> dict[str, Any]:
    return _json(page)


def user_json(user: User) -> dict[str, Any]:
    return _json(user)


def presence_json(entry: PresenceEntry) -> dict[str, Any]:
    return _json(entry)


def upload_form_json(form: UploadForm) -> dict[str, Any]:
    data = _json(form)
    data["fields"] = dict(form.fields)
    return data


def history_page_json(page: HistoryPage) -> dict[str, Any]:
    return _json(page)


def sync_json(result: SyncResult) -> dict[str, Any]:
    return _json(result)


def changes_json(page: ev.ChangePage) -> dict[str, Any]:
    """A sync v2 reply: the changes' frames, where the page ends, and whether more follow."""
    return _json(page)


def event_json(event: ev.Event) -> dict[str, Any]:
    """The versioned JSON of an event sent to a room's connections."""
    return _json(event)


def encode_event(event: ev.Event) -> bytes:
    return _dumps(event_json(event))


def encode_ack(request_id: str | None, action: str, payload: Mapping[str, Any] | None) -> bytes:
    return _dumps(
        {"v": VERSION, "type": "ack", "action": action, "requestId": request_id, **(payload or {})}
    )


def encode_error(request_id: str | None, error: ChatError) -> bytes:
    detail: dict[str, Any] = {
        "code": str(error.code),
        "message": error.message,
        "retryable": error.retryable,
    }
    if error.retry_after_ms is not None:
        detail["retryAfterMs"] = error.retry_after_ms
    return _dumps({"v": VERSION, "type": "error", "requestId": request_id, "error": detail})


def command_frame(command: Command, request_id: str | None = None) -> dict[str, Any]:
    """The JSON object a client sends for `command`: optional fields left unset (None, no
    attachments) are not sent."""
    frame: dict[str, Any] = {routes.ACTION_FIELD: routes.action_of(type(command))}
    if request_id is not None:
        frame["requestId"] = request_id
    frame.update((key, value) for key, value in _json(command).items() if value not in (None, []))
    return frame
