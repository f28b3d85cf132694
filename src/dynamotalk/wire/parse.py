"""Inbound: a WebSocket frame or an HTTP body -> a command or a body, strictly.

Every malformed input becomes an InvalidInput or TooLarge error naming the field, never
another exception.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal, TypeVar, get_args

import attrs
import cattrs

from dynamotalk import routes
from dynamotalk.domain.commands import Command
from dynamotalk.domain.errors import ChatError, InvalidInput, TooLarge
from dynamotalk.domain.limits import MAX_BODY_BYTES, MAX_FRAME_BYTES, MAX_REQUEST_ID
from dynamotalk.domain.text import first_lone_surrogate
from dynamotalk.wire.bodies import EXACTLY_ONE_USER, UpdateProfile, UpdateRoom
from dynamotalk.wire.convert import CONVERTER, camel

T = TypeVar("T")


@attrs.frozen
class Frame:
    request_id: str | None
    command: Command


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
    """Each field within the bounds its metadata gives (domain/commands.py), then the few
    rules that span fields."""
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
    if isinstance(value, EXACTLY_ONE_USER) and (value.user_id is None) == (value.username is None):
        raise InvalidInput("give exactly one of userId or username")
    if isinstance(value, UpdateProfile) and value.display_name is None and not value.avatar_key:
        raise InvalidInput("nothing to update: give displayName or avatarKey")
    if isinstance(value, UpdateRoom) and attrs.asdict(value) == attrs.asdict(UpdateRoom()):
        raise InvalidInput("nothing to update: give name, slowModeSeconds or archived")


def parse_frame(raw: str | bytes | None) -> Frame:
    """A WebSocket frame -> Frame(request_id, command). Raises only InvalidInput / TooLarge."""
    data = _load_json(raw, MAX_FRAME_BYTES, "frame")
    if not isinstance(data, dict):
        raise InvalidInput("frame must be a JSON object with an action")
    action = data.get(routes.ACTION_FIELD)
    cls = routes.WS_ACTIONS.get(action) if isinstance(action, str) else None
    if cls is None:
        raise InvalidInput("unknown action; expected one of: " + ", ".join(routes.WS_ACTIONS))
    request_id = data.get("requestId")
    if request_id is not None and not _valid_request_id(request_id):
        raise InvalidInput(f"requestId: must be a string of 1..{MAX_REQUEST_ID} characters")
    fields = {k: v for k, v in data.items() if k not in (routes.ACTION_FIELD, "requestId")}
    command: Command = _structure(fields, cls)
    return Frame(request_id=request_id, command=command)


def _valid_request_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_REQUEST_ID
        and first_lone_surrogate(value) is None
    )


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
