"""The HTTP API's roles and moderation routes (issue 17): room settings, roles, mutes, bans,
pins and the audit log. Registered in http_handlers' registry; `http_api` imports this module,
so these run in the same function (routes.HTTP_ROUTES, module "http_api")."""

from __future__ import annotations

from dynamotalk import wire
from dynamotalk.domain.models import Role
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from lambdas.http_handlers import Reply, route


@route
def update_room(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.UpdateRoom)
    room = s.update_room(
        e.principal,
        e.path("roomId"),
        body.name,
        body.slow_mode_seconds,
        body.archived,
        body.retention_days,
    )
    return 200, {"room": wire.room_json(room)}


@route
def change_role(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.ChangeRole)
    membership = s.change_role(e.principal, e.path("roomId"), e.path("userId"), Role(body.role))
    return 200, {"membership": wire.membership_json(membership)}


@route
def mute_member(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.MuteBody)
    membership = s.mute(e.principal, e.path("roomId"), body.user_id, body.seconds)
    return 200, {"membership": wire.membership_json(membership)}


@route
def unmute_member(s: ChatService, e: HttpEvent) -> Reply:
    membership = s.unmute(e.principal, e.path("roomId"), e.path("userId"))
    return 200, {"membership": wire.membership_json(membership)}


@route
def ban_user(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.BanBody)
    ban = s.ban(e.principal, e.path("roomId"), body.user_id, body.reason)
    return 200, {"ban": wire.CONVERTER.unstructure(ban)}


@route
def unban_user(s: ChatService, e: HttpEvent) -> Reply:
    s.unban(e.principal, e.path("roomId"), e.path("userId"))
    return 200, {"unbanned": True}


@route
def list_bans(s: ChatService, e: HttpEvent) -> Reply:
    bans = s.bans(e.principal, e.path("roomId"))
    return 200, {"bans": [wire.CONVERTER.unstructure(b) for b in bans]}


@route
def pin_message(s: ChatService, e: HttpEvent) -> Reply:
    body = wire.parse_body(e.body, wire.PinBody)
    pin = s.pin(e.principal, e.path("roomId"), body.message_id)
    return 200, {"pin": wire.CONVERTER.unstructure(pin)}


@route
def unpin_message(s: ChatService, e: HttpEvent) -> Reply:
    s.unpin(e.principal, e.path("roomId"), e.path("messageId"))
    return 200, {"unpinned": True}


@route
def list_pins(s: ChatService, e: HttpEvent) -> Reply:
    pins = s.pins(e.principal, e.path("roomId"))
    return 200, {"pins": [wire.CONVERTER.unstructure(p) for p in pins]}


@route
def audit_log(s: ChatService, e: HttpEvent) -> Reply:
    page = s.audit_log(e.principal, e.path("roomId"), e.query("cursor"), e.query_int("limit"))
    return 200, wire.CONVERTER.unstructure(page)
