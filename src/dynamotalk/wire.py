"""The JSON protocol: WebSocket frames and HTTP bodies <-> commands, domain objects -> JSON.

One cattrs converter does both directions. Inbound parsing is strict (no type coercion, no
extra keys) and every malformed input becomes an InvalidInput or TooLarge error naming the
field, never another exception. Outbound objects carry `"v": 1` and a `"type"`; see
docs/PROTOCOL.md for an example of every frame.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from dynamotalk.domain import events as ev
from dynamotalk.domain.budget import reaction_sample
from dynamotalk.domain.errors import ChatError, InvalidInput, TooLarge
from dynamotalk.domain.identities import author_kind
from dynamotalk.domain.limits import MAX_BODY_BYTES, MAX_EMOJI_CHARS, MAX_FRAME_BYTES
from dynamotalk.domain.models import (
    Attachment,
    HistoryPage,
    Invite,
    Membership,
    Message,
    PresenceEntry,
    Room,
    RoomsPage,
    RoomSummary,
    SyncResult,
    UploadForm,
    User,
)
from dynamotalk.domain.text import first_lone_surrogate, replace_lone_surrogates

VERSION = 1
T = TypeVar("T")


def _text(max_len: int, min_len: int = 1, *, content: bool = False) -> Any:
    """A string field with length limits checked after structuring.

    Too long is `too_large` for content (a message's text) and `invalid_input` for every other
    field (ids, names, emoji): a bad field, as docs/PROTOCOL.md's error table says.
    """
    return attrs.field(metadata={"min": min_len, "max": max_len, "content": content})


def _number(min_value: int, max_value: int) -> Any:
    return attrs.field(metadata={"min": min_value, "max": max_value})


def _ids(max_items: int) -> Any:
    return attrs.field(metadata={"min": 1, "max": 128, "items": max_items})


# --- inbound WebSocket commands -----------------------------------------------------------


@attrs.frozen
class AttachmentRef:
    key: str = _text(1024)
    name: str = _text(255)
    content_type: str = _text(128)
    size: int = attrs.field(default=0, metadata={"min": 0, "max": 10**10})


@attrs.frozen
class SendMessage:
    room_id: str = _text(128)
    text: str = _text(16_000, 0, content=True)
    client_id: str = _text(64)
    attachments: tuple[AttachmentRef, ...] = attrs.field(default=(), metadata={"items": 10})


@attrs.frozen
class EditMessage:
    room_id: str = _text(128)
    message_id: str = _text(128)
    text: str = _text(16_000, 0, content=True)


@attrs.frozen
class DeleteMessage:
    room_id: str = _text(128)
    message_id: str = _text(128)


@attrs.frozen
class React:
    room_id: str = _text(128)
    message_id: str = _text(128)
    emoji: str = _text(MAX_EMOJI_CHARS)


@attrs.frozen
class TypingCommand:
    room_id: str = _text(128)


@attrs.frozen
class Subscribe:
    room_ids: tuple[str, ...] = _ids(100)


@attrs.frozen
class Unsubscribe:
    room_ids: tuple[str, ...] = _ids(100)


@attrs.frozen
class Sync:
    room_id: str = _text(128)
    after_id: str | None = attrs.field(default=None, metadata={"min": 1, "max": 128})
    limit: int | None = attrs.field(default=None, metadata={"min": 1, "max": 100})


@attrs.frozen
class MarkRead:
    room_id: str = _text(128)
    message_id: str = _text(128)


@attrs.frozen
class Ping:
    pass


@attrs.frozen
class Reauth:
    """Renew the socket's session with a fresh token of the same user (sessions.py)."""

    token: str = _text(8192)


Command = (
    SendMessage
    | EditMessage
    | DeleteMessage
    | React
    | TypingCommand
    | Subscribe
    | Unsubscribe
    | Sync
    | MarkRead
    | Ping
    | Reauth
)

COMMANDS: dict[str, type[Any]] = {
    "sendMessage": SendMessage,
    "editMessage": EditMessage,
    "deleteMessage": DeleteMessage,
    "react": React,
    "typing": TypingCommand,
    "subscribe": Subscribe,
    "unsubscribe": Unsubscribe,
    "sync": Sync,
    "markRead": MarkRead,
    "ping": Ping,
    "reauth": Reauth,
}
ACTION_OF: dict[type[Any], str] = {cls: action for action, cls in COMMANDS.items()}


@attrs.frozen
class Frame:
    request_id: str | None
    command: Command


# --- inbound HTTP bodies ------------------------------------------------------------------


@attrs.frozen
class CreateRoom:
    name: str = _text(200)
    kind: Literal["public", "private"] = "public"
    members: tuple[str, ...] = attrs.field(default=(), metadata={"max": 128, "items": 100})


@attrs.frozen
class AddMember:
    user_id: str | None = attrs.field(default=None, metadata={"min": 1, "max": 128})
    username: str | None = attrs.field(default=None, metadata={"min": 1, "max": 128})


@attrs.frozen
class OpenDirect:
    user_id: str | None = attrs.field(default=None, metadata={"min": 1, "max": 128})
    username: str | None = attrs.field(default=None, metadata={"min": 1, "max": 128})


@attrs.frozen
class UpdateProfile:
    display_name: str | None = attrs.field(default=None, metadata={"min": 0, "max": 200})
    avatar_key: str | None = attrs.field(default=None, metadata={"min": 1, "max": 1024})


@attrs.frozen
class RequestUpload:
    filename: str = _text(255)
    content_type: str = _text(128)
    size: int = _number(0, 10**10)
    purpose: Literal["attachment", "avatar"] = "attachment"
    room_id: str | None = attrs.field(default=None, metadata={"min": 1, "max": 128})


@attrs.frozen
class MarkReadBody:
    message_id: str = _text(128)


_EXACTLY_ONE = (AddMember, OpenDirect)


# --- the converter ------------------------------------------------------------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_CAMEL_TO_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL_TO_SNAKE.sub("_", name).lower()


def _strict_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _strict_int(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a whole number")
    return value


def _strict_bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _strict_tuple(converter: cattrs.Converter) -> Any:
    def hook(value: object, type_: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise TypeError("expected a list")
        (item_type, _) = get_args(type_)
        return tuple(converter.structure(item, item_type) for item in value)

    return hook


_INBOUND: tuple[Any, ...] = (AttachmentRef, *COMMANDS.values(), CreateRoom, AddMember)
_INBOUND += (OpenDirect, UpdateProfile, RequestUpload, MarkReadBody)
_OUTBOUND: tuple[Any, ...] = (Room, Membership, Attachment, User, PresenceEntry, UploadForm)
_OUTBOUND += (Invite,)


def make_converter() -> cattrs.Converter:
    """The one converter for the wire: strict camelCase in, camelCase out."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook_func(
        lambda t: getattr(t, "__origin__", None) is tuple and len(get_args(t)) == 2,
        _strict_tuple(converter),
    )
    # Hooks are generated on first use of each class (cached by cattrs), not at import: a
    # Lambda invocation touches one or two classes, and generating all of them costs cold start.
    inbound, outbound = frozenset(_INBOUND), frozenset((*_INBOUND, *_OUTBOUND))

    def renames(cls: Any) -> dict[str, Any]:
        return {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}

    converter.register_structure_hook_factory(
        lambda t: t in inbound,
        lambda cls: make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=True, **renames(cls)
        ),
    )
    converter.register_unstructure_hook_factory(
        lambda t: t in outbound,
        lambda cls: make_dict_unstructure_fn(cls, converter, **renames(cls)),
    )
    converter.register_unstructure_hook(frozenset, lambda s: sorted(s))
    converter.register_unstructure_hook(Message, _message_json)
    converter.register_unstructure_hook(RoomSummary, _room_summary_json)
    return converter


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "roomId": message.room_id,
        "authorId": message.author_id,
        # Derived from the author id by the server; no frame field can set it.
        "authorKind": str(author_kind(message.author_id)),
        "text": message.text,
        "clientId": message.client_id,
        "createdAt": message.created_at,
        "editedAt": message.edited_at,
        "deletedAt": message.deleted_at,
        "deleted": message.deleted,
        "attachments": [CONVERTER.unstructure(a) for a in message.attachments],
        # A few reactor ids and the exact count: the JSON does not grow with the room.
        "reactions": {e: reaction_sample(users) for e, users in sorted(message.reactions.items())},
        "reactionCounts": {e: len(users) for e, users in sorted(message.reactions.items())},
    }


def _room_summary_json(summary: RoomSummary) -> dict[str, Any]:
    return {
        "room": CONVERTER.unstructure(summary.room),
        "membership": CONVERTER.unstructure(summary.membership),
        "unread": summary.unread,
    }


CONVERTER = make_converter()


# --- parsing ------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not allowed in JSON")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _load_json(raw: str | bytes | None, limit: int, what: str) -> object:
    if raw is None or raw in ("", b""):
        raise InvalidInput(f"{what} is empty")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise TooLarge(f"{what} is larger than {limit} bytes")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text, parse_constant=_reject_constant)
    except ChatError:
        raise
    except UnicodeError:
        raise InvalidInput(f"{what} is not valid UTF-8") from None
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply") from None
    except ValueError:
        raise InvalidInput(f"{what} is not valid JSON") from None
    # A lone surrogate comes in only as a \uD800..\uDFFF escape (or already in a str body):
    # two C-speed scans of the text spare almost every frame the walk over its values.
    maybe = _SURROGATE_ESCAPE.search(text) or first_lone_surrogate(text) is not None
    bad = lone_surrogate_in(data) if maybe else None
    if bad is not None:  # refused here, the one way in: never stored, never in a reply
        raise InvalidInput(f"{what} must not contain a lone surrogate (found U+{ord(bad):04X})")
    return data


def lone_surrogate_in(data: object) -> str | None:
    """The first lone surrogate in any string (key or value) of decoded JSON, or None.

    JSON's `\\ud800` escape decodes to a code point that is not a Unicode scalar value: no
    UTF-8 encoder takes it, so stored it would break every reply that carries it. The walk is
    iterative (a document json.loads accepted may still be nearly 1,000 levels deep)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            bad = first_lone_surrogate(value)
            if bad is not None:
                return bad
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _field_path(path: str) -> str:
    # "$.room_ids[3]" -> "roomIds[3]"
    parts = path.removeprefix("$").lstrip(".").split(".")
    return ".".join(re.sub(r"^[a-z_]+", lambda m: camel(m.group(0)), p) for p in parts) or "body"


def _explain(error: Exception) -> str:
    messages = cattrs.transform_error(error, format_exception=_format_exception)
    return messages[0] if messages else "invalid input"


def _format_exception(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "is required"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return "has unknown field(s): " + ", ".join(sorted(exc.extra_fields))
    if isinstance(exc, TypeError | ValueError) and str(exc).startswith("expected"):
        return str(exc)
    if type_ is not None and getattr(type_, "__origin__", None) is Literal:
        return "must be one of " + ", ".join(repr(a) for a in get_args(type_))
    return "has an invalid value"


def _structure(data: object, cls: type[T]) -> T:
    if not isinstance(data, dict):
        raise InvalidInput("expected a JSON object")
    try:
        value = CONVERTER.structure(data, cls)
    except cattrs.ClassValidationError as error:
        message = _explain(error)
        field, _, problem = message.partition(" @ ")
        where = _field_path(problem) if problem else "body"
        raise InvalidInput(f"{where}: {field}") from None
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError):
        raise InvalidInput("input does not match the expected shape") from None
    _check_limits(value)
    return value


def _check_limits(value: object) -> None:
    fields: Any = attrs.fields(type(value))  # type: ignore[arg-type]
    for field in fields:
        meta = field.metadata
        current = getattr(value, field.name)
        name = camel(field.name)
        if isinstance(current, str):
            if len(current) > meta.get("max", 10_000):
                too_long = TooLarge if meta.get("content") else InvalidInput
                raise too_long(f"{name}: longer than {meta.get('max')} characters")
            if len(current) < meta.get("min", 0):
                raise InvalidInput(f"{name}: must not be empty")
        elif isinstance(current, int) and not isinstance(current, bool):
            if not meta.get("min", -math.inf) <= current <= meta.get("max", math.inf):
                raise InvalidInput(
                    f"{name}: must be between {meta.get('min')} and {meta.get('max')}"
                )
        elif isinstance(current, tuple):
            if len(current) > meta.get("items", 100):
                raise InvalidInput(f"{name}: at most {meta.get('items')} entries")
            if "items" in meta and meta.get("min", 0) and not current:
                raise InvalidInput(f"{name}: must not be empty")
            for item in current:
                if isinstance(item, str):
                    if not 1 <= len(item) <= meta.get("max", 128):
                        raise InvalidInput(f"{name}: entries must be 1..{meta.get('max')} chars")
                elif attrs.has(type(item)):
                    _check_limits(item)
    if isinstance(value, _EXACTLY_ONE) and (value.user_id is None) == (value.username is None):
        raise InvalidInput("give exactly one of userId or username")
    if isinstance(value, UpdateProfile) and value.display_name is None and not value.avatar_key:
        raise InvalidInput("nothing to update: give displayName or avatarKey")


def parse_frame(raw: str | bytes | None) -> Frame:
    """A WebSocket frame -> Frame(request_id, command). Raises only InvalidInput / TooLarge."""
    data = _load_json(raw, MAX_FRAME_BYTES, "frame")
    if not isinstance(data, dict):
        raise InvalidInput("frame must be a JSON object with an action")
    action = data.get("action")
    cls = COMMANDS.get(action) if isinstance(action, str) else None
    if cls is None:
        raise InvalidInput("unknown action; expected one of: " + ", ".join(COMMANDS))
    request_id = data.get("requestId")
    if request_id is not None and not _valid_request_id(request_id):
        raise InvalidInput("requestId: must be a string of 1..64 characters")
    fields = {k: v for k, v in data.items() if k not in ("action", "requestId")}
    return Frame(request_id=request_id, command=_structure(fields, cls))


def _valid_request_id(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 64 and first_lone_surrogate(value) is None


def request_id_of(raw: str | bytes | None) -> str | None:
    """The frame's requestId when it carried a valid one, else None; never raises.

    For the error reply of a frame that parse_frame refused: a client matches replies to its
    requests by this id, parse and validation errors included. An oversized frame is still read
    here (the gateway bounds what reaches a handler at the WebSocket message limit).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text or "", parse_constant=_reject_constant)
    except (ChatError, ValueError, RecursionError):
        return None
    request_id = data.get("requestId") if isinstance(data, dict) else None
    return request_id if _valid_request_id(request_id) else None


def parse_body(raw: str | bytes | None, cls: type[T]) -> T:
    """An HTTP JSON body -> the body class. Raises only InvalidInput / TooLarge."""
    if raw is None or raw in ("", b""):
        if all(f.default is not attrs.NOTHING for f in attrs.fields(cls)):  # type: ignore[arg-type]
            raw = "{}"
        else:
            raise InvalidInput("request body required")
    return _structure(_load_json(raw, MAX_BODY_BYTES, "body"), cls)


# --- outbound -----------------------------------------------------------------------------


def _dumps(payload: Mapping[str, Any]) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate stored before parse refused them: never crash
        return replace_lone_surrogates(text).encode()


def message_json(message: Message) -> dict[str, Any]:
    return _message_json(message)


def room_json(room: Room) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(room)
    return data


def membership_json(membership: Membership) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(membership)
    return data


def room_summary_json(summary: RoomSummary) -> dict[str, Any]:
    return _room_summary_json(summary)


def invite_json(invite: Invite) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(invite)
    return data


def rooms_page_json(page: RoomsPage) -> dict[str, Any]:
    return {"rooms": [_room_summary_json(r) for r in page.rooms], "nextCursor": page.next_cursor}


def user_json(user: User) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(user)
    return data


def presence_json(entry: PresenceEntry) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(entry)
    return data


def upload_form_json(form: UploadForm) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(form)
    data["fields"] = dict(form.fields)
    return data


def history_page_json(page: HistoryPage) -> dict[str, Any]:
    return {"messages": [_message_json(m) for m in page.messages], "nextCursor": page.next_cursor}


def sync_json(result: SyncResult) -> dict[str, Any]:
    return {"messages": [_message_json(m) for m in result.messages], "hasMore": result.has_more}


def error_json(error: ChatError) -> dict[str, Any]:
    return {"error": {"code": str(error.code), "message": error.message}}


def event_json(event: ev.Event) -> dict[str, Any]:
    """The versioned JSON of an event sent to a room's connections."""
    body: dict[str, Any]
    match event:
        case ev.MessagePosted(message=m):
            body = {"type": "message.posted", "roomId": m.room_id, "message": _message_json(m)}
        case ev.MessageEdited(message=m):
            body = {"type": "message.edited", "roomId": m.room_id, "message": _message_json(m)}
        case ev.MessageDeleted(message=m):
            body = {"type": "message.deleted", "roomId": m.room_id, "message": _message_json(m)}
        case ev.ReactionChanged(message=m, emoji=emoji, user_id=user_id, added=added):
            body = {
                "type": "reaction.changed",
                "roomId": m.room_id,
                "messageId": m.message_id,
                "emoji": emoji,
                "userId": user_id,
                "added": added,
                "message": _message_json(m),
            }
        case ev.Typing(room_id=room_id, user_id=user_id, username=username):
            body = {"type": "typing", "roomId": room_id, "userId": user_id, "username": username}
        case ev.PresenceChanged():
            body = {
                "type": "presence.changed",
                "roomId": event.room_id,
                "userId": event.user_id,
                "username": event.username,
                "online": event.online,
                "lastSeen": event.last_seen,
            }
        case ev.MemberJoined(membership=membership):
            body = {
                "type": "member.joined",
                "roomId": membership.room_id,
                "membership": membership_json(membership),
            }
        case ev.MemberLeft(room_id=room_id, user_id=user_id):
            body = {"type": "member.left", "roomId": room_id, "userId": user_id}
        case ev.InviteReceived(invite=invite):
            body = {
                "type": "invite.received",
                "roomId": invite.room_id,
                "invite": invite_json(invite),
            }
    return {"v": VERSION, **body}


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
