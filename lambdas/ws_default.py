"""Every WebSocket action: the frame is parsed, the service called, an ack or error sent back.

The reply is this function's return body; the route's route response delivers it to the sender.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynamotalk import bootstrap, wire
from dynamotalk.apigw import WebSocketEvent
from dynamotalk.domain.errors import ChatError
from dynamotalk.domain.models import Attachment, Principal
from dynamotalk.logging import invocation
from dynamotalk.service import ChatService
from lambdas import _failures

SERVICE = bootstrap.service()
SESSIONS = bootstrap.sessions()


def _send_message(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    attachments = [Attachment(a.key, a.name, a.content_type, a.size) for a in cmd.attachments]
    message = s.post_message(p, cmd.room_id, cmd.text, cmd.client_id, attachments)
    return {"message": wire.message_json(message)}


def _edit_message(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {"message": wire.message_json(s.edit_message(p, cmd.room_id, cmd.message_id, cmd.text))}


def _delete_message(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {"message": wire.message_json(s.delete_message(p, cmd.room_id, cmd.message_id))}


def _react(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {"message": wire.message_json(s.react(p, cmd.room_id, cmd.message_id, cmd.emoji))}


def _typing(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    s.typing(p, cmd.room_id, connection_id=c)
    return {}


def _subscribe(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {"roomIds": s.subscribe(p, c, cmd.room_ids)}


def _unsubscribe(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {"roomIds": s.unsubscribe(p, c, cmd.room_ids)}


def _sync(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return wire.sync_json(s.sync(p, cmd.room_id, cmd.after_id, cmd.limit))


def _mark_read(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    s.mark_read(p, cmd.room_id, cmd.message_id)
    return {}


def _ping(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {}


def _reauth(s: ChatService, p: Principal, c: str, cmd: Any) -> dict[str, Any]:
    return {"expiresAt": SESSIONS.reauth(p, c, cmd.token)}


Action = Callable[[ChatService, Principal, str, Any], dict[str, Any]]

ACTIONS: dict[type[Any], tuple[str, Action]] = {
    wire.SendMessage: ("sendMessage", _send_message),
    wire.EditMessage: ("editMessage", _edit_message),
    wire.DeleteMessage: ("deleteMessage", _delete_message),
    wire.React: ("react", _react),
    wire.TypingCommand: ("typing", _typing),
    wire.Subscribe: ("subscribe", _subscribe),
    wire.Unsubscribe: ("unsubscribe", _unsubscribe),
    wire.Sync: ("sync", _sync),
    wire.MarkRead: ("markRead", _mark_read),
    wire.Ping: ("ping", _ping),
    wire.Reauth: ("reauth", _reauth),
}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = WebSocketEvent(event)
    with invocation(route=view.route_key, request_id=view.request_id) as log:
        request_id: str | None = None
        try:
            connection_id = view.connection_id
            principal = view.principal
            log.update(connection_id=connection_id, user_id=principal.user_id)
            if not SESSIONS.is_live(connection_id, principal, view.token_expires_at):
                # The token behind the socket expired: say so and close it (sessions.py).
                log["outcome"] = "session_expired"
                SESSIONS.end(connection_id, wire.request_id_of(view.body), forget=False)
                return {"statusCode": 200}
            frame = wire.parse_frame(view.body)
            request_id = frame.request_id
            action, run = ACTIONS[type(frame.command)]
            log["action"] = action
            payload = run(SERVICE, principal, connection_id, frame.command)
            body = wire.encode_ack(request_id, action, payload)
        except ChatError as error:
            log["outcome"] = str(error.code)
            if request_id is None:  # refused while parsing: echo the id if the frame had one
                request_id = wire.request_id_of(view.body)
            body = wire.encode_error(request_id, error)
        except Exception as error:  # noqa: BLE001 - the edge must answer, whatever broke
            # A bug or a dead dependency must still answer the sender with a well-formed error.
            body = wire.encode_error(request_id, _failures.unexpected(error, log))
        return {"statusCode": 200, "body": body.decode()}
