"""The REST API (HTTP API, payload 2.0): rooms, history, members, profile, uploads.

Every route of routes.HTTP_ROUTES handled by this module has one small function here; the JWT
authorizer has already checked the token, its claims arrive in the event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dynamotalk import bootstrap, wire
from dynamotalk.apigw import HttpEvent, http_error, http_json
from dynamotalk.domain.errors import ChatError, InvalidInput, NotFound
from dynamotalk.domain.models import Invite, RoomKind
from dynamotalk.logging import invocation
from dynamotalk.service import ChatService
from lambdas import _failures

SERVICE = bootstrap.service()

Reply = tuple[int, object]
Route = Callable[[ChatService, HttpEvent], Reply]


def health(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"status": "ok"}


def list_my_rooms(s: ChatService, e: HttpEvent) -> Reply:
    page = s.rooms_page(e.principal, e.query("cursor"), e.query_int("limit"))
    return 200, wire.rooms_page_json(page)


def create_room(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.CreateRoom)
    room = s.create_room(e.principal, body.name, RoomKind(body.kind), body.members)
    return 201, {"room": wire.room_json(room)}


def list_public_rooms(s: ChatService, e: HttpEvent) -> Reply:
    rooms = s.public_rooms(e.principal, e.query_int("limit"))
    return 200, {"rooms": [wire.room_json(r) for r in rooms]}


def get_room(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"room": wire.room_json(s.get_room(e.principal, e.path("roomId")))}


def join_room(s: ChatService, e: HttpEvent) -> Reply:
    membership = s.join_room(e.principal, e.path("roomId"))
    return 200, {"membership": wire.membership_json(membership)}


def leave_room(s: ChatService, e: HttpEvent) -> Reply:
    s.leave_room(e.principal, e.path("roomId"))
    return 200, {"left": True}


def list_members(s: ChatService, e: HttpEvent) -> Reply:
    members = s.members(e.principal, e.path("roomId"))
    return 200, {"members": [wire.membership_json(m) for m in members]}


def add_member(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.AddMember)
    user_id = body.user_id or s.find_user(body.username or "", e.principal).user_id
    added = s.invite(e.principal, e.path("roomId"), user_id)
    if isinstance(added, Invite):
        return 202, {"invite": wire.invite_json(added), "pending": True}
    return 200, {"membership": wire.membership_json(added)}


def list_invites(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"invites": [wire.invite_json(i) for i in s.invites(e.principal)]}


def accept_invite(s: ChatService, e: HttpEvent) -> Reply:
    membership = s.accept_invite(e.principal, e.path("roomId"))
    return 200, {"membership": wire.membership_json(membership)}


def decline_invite(s: ChatService, e: HttpEvent) -> Reply:
    s.decline_invite(e.principal, e.path("roomId"))
    return 200, {"declined": True}


def block_inviter(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"blocked": s.block_inviter(e.principal, e.path("roomId"))}


def decline_all_invites(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"declined": s.decline_all_invites(e.principal)}


def block_user(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"blocked": s.block_user(e.principal, e.path("userId"))}


def unblock(s: ChatService, e: HttpEvent) -> Reply:
    s.unblock(e.principal, e.path("userId"))
    return 200, {"unblocked": True}


def remove_member(s: ChatService, e: HttpEvent) -> Reply:
    s.remove_member(e.principal, e.path("roomId"), e.path("userId"))
    return 200, {"removed": True}


def history(s: ChatService, e: HttpEvent) -> Reply:
    page = s.history(e.principal, e.path("roomId"), e.query("cursor"), e.query_int("limit"))
    return 200, wire.history_page_json(page)


def presence(s: ChatService, e: HttpEvent) -> Reply:
    entries = s.presence(e.principal, e.path("roomId"))
    return 200, {"members": [wire.presence_json(p) for p in entries]}


def mark_read(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.MarkReadBody)
    s.mark_read(e.principal, e.path("roomId"), body.message_id)
    return 200, {"read": body.message_id}


def open_direct(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.OpenDirect)
    if body.user_id:
        room = s.open_direct(e.principal, body.user_id)
    else:
        room = s.open_direct_by_username(e.principal, body.username or "")
    return 200, {"room": wire.room_json(room)}


def get_me(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"user": wire.user_json(s.get_profile(e.principal))}


def update_me(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.UpdateProfile)
    user = s.update_profile(e.principal, body.display_name, body.avatar_key)
    return 200, {"user": wire.user_json(user)}


def get_user(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"user": wire.user_json(s.get_profile(e.principal, e.path("userId")))}


def request_upload(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.RequestUpload)
    form = s.request_upload(
        e.principal, body.purpose, body.filename, body.content_type, body.size, body.room_id
    )
    return 201, {"upload": wire.upload_form_json(form)}


def attachment_url(s: ChatService, e: HttpEvent) -> Reply:
    key = e.query("key")
    if not key:
        raise InvalidInput("query parameter key is required")
    return 200, {"url": s.download_url(e.principal, key)}


ROUTES: dict[str, Route] = {
    "GET /health": health,
    "GET /rooms": list_my_rooms,
    "POST /rooms": create_room,
    "GET /rooms/public": list_public_rooms,
    "GET /rooms/{roomId}": get_room,
    "POST /rooms/{roomId}/join": join_room,
    "POST /rooms/{roomId}/leave": leave_room,
    "GET /rooms/{roomId}/members": list_members,
    "POST /rooms/{roomId}/members": add_member,
    "DELETE /rooms/{roomId}/members/{userId}": remove_member,
    "GET /rooms/{roomId}/messages": history,
    "GET /rooms/{roomId}/presence": presence,
    "POST /rooms/{roomId}/read": mark_read,
    "POST /direct": open_direct,
    "GET /invites": list_invites,
    "POST /invites/{roomId}/accept": accept_invite,
    "POST /invites/{roomId}/decline": decline_invite,
    "POST /invites/decline-all": decline_all_invites,
    "POST /invites/{roomId}/block": block_inviter,
    "POST /blocks/{userId}": block_user,
    "DELETE /blocks/{userId}": unblock,
    "GET /me": get_me,
    "PATCH /me": update_me,
    "GET /users/{userId}": get_user,
    "POST /uploads": request_upload,
    "GET /attachments": attachment_url,
}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = HttpEvent(event)
    with invocation(route=view.route_key, request_id=view.request_id) as log:
        try:
            route = ROUTES.get(view.route_key)
            if route is None:
                raise NotFound("no such route")
            if view.claims:
                log["user_id"] = view.claims.get("sub")
            status, payload = route(SERVICE, view)
            log["status"] = status
            return http_json(status, payload)
        except ChatError as error:
            log.update(outcome=str(error.code))
            return _error_reply(error)
        except Exception as error:  # noqa: BLE001 - the edge must answer, whatever broke
            return _error_reply(_failures.unexpected(error, log))


def _error_reply(error: ChatError) -> dict[str, Any]:
    reply = http_error(error)
    retry_after_ms = error.retry_after_ms
    if retry_after_ms is not None:
        body = json.loads(reply["body"])
        body["error"]["retryAfterMs"] = retry_after_ms
        reply["body"] = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        reply["headers"]["retry-after"] = str(max(1, -(-retry_after_ms // 1000)))
    return reply
