"""The REST API (HTTP API, payload 2.0): rooms, history, members, profile, uploads.

Every route of routes.HTTP_ROUTES handled by this function names one small function, here or in
an area's module beside it (`http_*.py`, registered through http_handlers.py; checked at
import); the JWT authorizer has already checked the token, its claims arrive in the event.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap, routes, wire
from dynamotalk.domain.errors import InvalidInput, NotFound
from dynamotalk.domain.models import Invite, RoomKind
from dynamotalk.edge.events import HttpEvent
from dynamotalk.edge.failures import refusal
from dynamotalk.edge.replies import http_error, http_json
from dynamotalk.logging import invocation
from dynamotalk.service import ChatService
from lambdas import (
    http_erasure,  # noqa: F401 - registers its handler (erase my account)
    http_export,  # noqa: F401 - registers its handlers (export my data)
    http_moderation,  # noqa: F401 - registers the moderation routes
    http_push,  # noqa: F401 - registers its handlers (Web Push)
    http_reports,  # noqa: F401 - registers its handlers (blocks, reports)
    http_search,  # noqa: F401 - registers its handler (search)
    http_threads,  # noqa: F401 - registers its handlers (thread view)
    initialized,
)
from lambdas.http_handlers import HANDLERS, Reply, Route, route

SERVICE = bootstrap.service()


@route
def health(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"status": "ok"}


@route
def list_my_rooms(s: ChatService, e: HttpEvent) -> Reply:
    page = s.rooms_page(e.principal, e.query("cursor"), e.query_int("limit"))
    return 200, wire.rooms_page_json(page)


@route
def create_room(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.CreateRoom)
    room = s.create_room(e.principal, body.name, RoomKind(body.kind), body.members)
    return 201, {"room": wire.room_json(room)}


@route
def list_public_rooms(s: ChatService, e: HttpEvent) -> Reply:
    rooms = s.public_rooms(e.principal, e.query_int("limit"))
    return 200, {"rooms": [wire.room_json(r) for r in rooms]}


@route
def get_room(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"room": wire.room_json(s.get_room(e.principal, e.path("roomId")))}


@route
def join_room(s: ChatService, e: HttpEvent) -> Reply:
    membership = s.join_room(e.principal, e.path("roomId"))
    return 200, {"membership": wire.membership_json(membership)}


@route
def leave_room(s: ChatService, e: HttpEvent) -> Reply:
    s.leave_room(e.principal, e.path("roomId"))
    return 200, {"left": True}


@route
def list_members(s: ChatService, e: HttpEvent) -> Reply:
    members = s.members(e.principal, e.path("roomId"))
    return 200, {"members": [wire.membership_json(m) for m in members]}


@route
def add_member(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.AddMember)
    user_id = body.user_id or s.find_user(body.username or "", e.principal).user_id
    added = s.invite(e.principal, e.path("roomId"), user_id)
    if isinstance(added, Invite):
        return 202, {"invite": wire.invite_json(added), "pending": True}
    return 200, {"membership": wire.membership_json(added)}


@route
def list_invites(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"invites": [wire.invite_json(i) for i in s.invites(e.principal)]}


@route
def accept_invite(s: ChatService, e: HttpEvent) -> Reply:
    membership = s.accept_invite(e.principal, e.path("roomId"))
    return 200, {"membership": wire.membership_json(membership)}


@route
def decline_invite(s: ChatService, e: HttpEvent) -> Reply:
    s.decline_invite(e.principal, e.path("roomId"))
    return 200, {"declined": True}


@route
def block_inviter(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"blocked": s.block_inviter(e.principal, e.path("roomId"))}


@route
def decline_all_invites(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"declined": s.decline_all_invites(e.principal)}


@route
def block_user(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"blocked": s.block_user(e.principal, e.path("userId"))}


@route
def unblock(s: ChatService, e: HttpEvent) -> Reply:
    s.unblock(e.principal, e.path("userId"))
    return 200, {"unblocked": True}


@route
def remove_member(s: ChatService, e: HttpEvent) -> Reply:
    s.remove_member(e.principal, e.path("roomId"), e.path("userId"))
    return 200, {"removed": True}


@route
def history(s: ChatService, e: HttpEvent) -> Reply:
    page = s.history(e.principal, e.path("roomId"), e.query("cursor"), e.query_int("limit"))
    return 200, wire.history_page_json(page)


@route
def presence(s: ChatService, e: HttpEvent) -> Reply:
    entries = s.presence(e.principal, e.path("roomId"))
    return 200, {"members": [wire.presence_json(p) for p in entries]}


@route
def mark_read(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.MarkReadBody)
    s.mark_read(e.principal, e.path("roomId"), body.message_id)
    return 200, {"read": body.message_id}


@route
def open_direct(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.OpenDirect)
    if body.user_id:
        room = s.open_direct(e.principal, body.user_id)
    else:
        room = s.open_direct_by_username(e.principal, body.username or "")
    return 200, {"room": wire.room_json(room)}


@route
def get_me(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"user": wire.user_json(s.get_profile(e.principal))}


@route
def update_me(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.UpdateProfile)
    user = s.update_profile(e.principal, body.display_name, body.avatar_key)
    return 200, {"user": wire.user_json(user)}


@route
def get_user(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"user": wire.user_json(s.get_profile(e.principal, e.path("userId")))}


@route
def request_upload(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.RequestUpload)
    form = s.request_upload(
        e.principal, body.purpose, body.filename, body.content_type, body.size, body.room_id
    )
    return 201, {"upload": wire.upload_form_json(form)}


@route
def attachment_url(s: ChatService, e: HttpEvent) -> Reply:
    key = e.query("key")
    if not key:
        raise InvalidInput("query parameter key is required")
    return 200, {"url": s.download_url(e.principal, key)}


MODULE = "http_api"
OWN_ROUTES = tuple(r for r in routes.HTTP_ROUTES if r.module == MODULE)
routes.check_handlers(MODULE, (r.handler for r in OWN_ROUTES), HANDLERS)
ROUTES: dict[str, Route] = {r.route_key: HANDLERS[r.handler] for r in OWN_ROUTES}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = HttpEvent(event)
    with invocation(route=view.route_key, request_id=view.request_id) as log:
        try:
            answer = ROUTES.get(view.route_key)
            if answer is None:
                raise NotFound("no such route")
            if view.claims:
                log["user_id"] = view.claims.get("sub")
            status, payload = answer(SERVICE, view)
            log["status"] = status
            return http_json(status, payload)
        except Exception as error:  # noqa: BLE001 - the edge must answer, whatever broke
            return http_error(refusal(error, log))


initialized()
