"""Every WebSocket action: the frame is parsed, the service called, an ack or error sent back.

The reply is this function's return body; the route's route response delivers it to the sender.
Each command type has one handler below; routes.WS_ACTIONS names its action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from dynamotalk import bootstrap, routes, wire
from dynamotalk.domain import commands as cmd
from dynamotalk.domain.errors import ChatError, InvalidInput
from dynamotalk.domain.models import Principal
from dynamotalk.edge.events import WebSocketEvent
from dynamotalk.edge.failures import refusal
from dynamotalk.edge.replies import error_frame
from dynamotalk.logging import invocation
from lambdas import initialized

SERVICE = bootstrap.service()
SESSIONS = bootstrap.sessions()

Payload = dict[str, Any]
"""The ack's fields besides v, type, action and requestId."""


@attrs.frozen
class Sender:
    """Who sent the frame: the socket's user and the socket."""

    principal: Principal
    connection_id: str


C = TypeVar("C", bound=cmd.Command)
Handler = Callable[[C, Sender], Payload]
HANDLERS: dict[type[object], Handler[Any]] = {}
"""Command type -> the function that runs it for its sender."""


def handles(command: type[C]) -> Callable[[Handler[C]], Handler[C]]:
    """Register the decorated function as the handler of `command` (typed: it takes one)."""

    def register(run: Handler[C]) -> Handler[C]:
        HANDLERS[command] = run
        return run

    return register


@handles(cmd.SendMessage)
def _send_message(command: cmd.SendMessage, sender: Sender) -> Payload:
    attachments = wire.attachments_of(command.attachments)
    message = SERVICE.post_message(
        sender.principal,
        command.room_id,
        command.text,
        command.client_id,
        attachments,
        parent_id=command.parent_id,
        also_in_room=bool(command.also_in_room),
        quote_id=command.quote.message_id if command.quote else None,
    )
    return {"message": wire.message_json(message)}


@handles(cmd.EditMessage)
def _edit_message(command: cmd.EditMessage, sender: Sender) -> Payload:
    edited = SERVICE.edit_message(
        sender.principal, command.room_id, command.message_id, command.text
    )
    return {"message": wire.message_json(edited)}


@handles(cmd.DeleteMessage)
def _delete_message(command: cmd.DeleteMessage, sender: Sender) -> Payload:
    deleted = SERVICE.delete_message(sender.principal, command.room_id, command.message_id)
    return {"message": wire.message_json(deleted)}


@handles(cmd.React)
def _react(command: cmd.React, sender: Sender) -> Payload:
    reacted = SERVICE.react(sender.principal, command.room_id, command.message_id, command.emoji)
    return {"message": wire.message_json(reacted)}


@handles(cmd.TypingCommand)
def _typing(command: cmd.TypingCommand, sender: Sender) -> Payload:
    SERVICE.typing(sender.principal, command.room_id, connection_id=sender.connection_id)
    return {}


@handles(cmd.Subscribe)
def _subscribe(command: cmd.Subscribe, sender: Sender) -> Payload:
    return {"roomIds": SERVICE.subscribe(sender.principal, sender.connection_id, command.room_ids)}


@handles(cmd.Unsubscribe)
def _unsubscribe(command: cmd.Unsubscribe, sender: Sender) -> Payload:
    left = SERVICE.unsubscribe(sender.principal, sender.connection_id, command.room_ids)
    return {"roomIds": left}


@handles(cmd.Sync)
def _sync(command: cmd.Sync, sender: Sender) -> Payload:
    if command.after_seq is not None:  # v2: the room's change feed
        if command.after_id is not None:
            raise InvalidInput("give afterSeq (v2) or afterId (v1), not both")
        page = SERVICE.changes(sender.principal, command.room_id, command.after_seq, command.limit)
        return wire.changes_json(page)
    result = SERVICE.sync(sender.principal, command.room_id, command.after_id, command.limit)
    return wire.sync_json(result)


@handles(cmd.MarkRead)
def _mark_read(command: cmd.MarkRead, sender: Sender) -> Payload:
    SERVICE.mark_read(sender.principal, command.room_id, command.message_id)
    return {}


@handles(cmd.Ping)
def _ping(command: cmd.Ping, sender: Sender) -> Payload:
    return {}


@handles(cmd.Reauth)
def _reauth(command: cmd.Reauth, sender: Sender) -> Payload:
    return {"expiresAt": SESSIONS.reauth(sender.principal, sender.connection_id, command.token)}


routes.check_handlers("ws_default", routes.WS_ACTIONS.values(), HANDLERS)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = WebSocketEvent(event)
    with invocation(route=view.route_key, request_id=view.request_id) as log:
        request_id: str | None = None
        try:
            sender = Sender(connection_id=view.connection_id, principal=view.principal)
            log.update(connection_id=sender.connection_id, user_id=sender.principal.user_id)
            if not SESSIONS.is_live(sender.connection_id, sender.principal, view.token_expires_at):
                # The token behind the socket expired: say so and close it (sessions.py).
                log["outcome"] = "session_expired"
                SESSIONS.end(sender.connection_id, wire.request_id_of(view.body), forget=False)
                return {"statusCode": 200}
            frame = wire.parse_frame(view.body)
            request_id = frame.request_id
            action = log["action"] = routes.action_of(type(frame.command))
            body = wire.encode_ack(
                request_id, action, HANDLERS[type(frame.command)](frame.command, sender)
            )
        except Exception as error:  # noqa: BLE001 - the edge must answer, whatever broke
            if request_id is None and isinstance(error, ChatError):
                # Refused while parsing: echo the id if the frame had one.
                request_id = wire.request_id_of(view.body)
            body = error_frame(request_id, refusal(error, log))
        return {"statusCode": 200, "body": body.decode()}


initialized()
