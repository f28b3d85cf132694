"""Web Push on the HTTP API: the VAPID public key, the caller's push subscriptions (one per
device) and their per-room notification mute (service/push.py; docs/PROTOCOL.md)."""

from __future__ import annotations

from dynamotalk import push_root
from dynamotalk.edge.events import HttpEvent
from dynamotalk.service import ChatService
from dynamotalk.service.push import notify_json, subscription_json
from lambdas.http_handlers import Reply, route


@route
def push_key(s: ChatService, e: HttpEvent) -> Reply:
    return 200, {"publicKey": push_root.push_settings().vapid_key()}


@route
def put_push_subscription(s: ChatService, e: HttpEvent) -> Reply:
    new = push_root.push_settings().subscribe(e.principal, e.path("deviceId"), e.body)
    return (201 if new else 200), {"deviceId": e.path("deviceId"), "subscribed": True}


@route
def delete_push_subscription(s: ChatService, e: HttpEvent) -> Reply:
    push_root.push_settings().unsubscribe(e.principal, e.path("deviceId"))
    return 200, {"deviceId": e.path("deviceId"), "subscribed": False}


@route
def list_push_subscriptions(s: ChatService, e: HttpEvent) -> Reply:
    found = push_root.push_settings().subscriptions(e.principal)
    return 200, {"subscriptions": [subscription_json(x) for x in found]}


@route
def put_room_notifications(s: ChatService, e: HttpEvent) -> Reply:
    room_id = e.path("roomId")
    setting = push_root.push_settings().set_room_notify(e.principal, room_id, e.body)
    return 200, {"notifications": notify_json(room_id, setting)}


@route
def get_room_notifications(s: ChatService, e: HttpEvent) -> Reply:
    room_id = e.path("roomId")
    setting = push_root.push_settings().room_notify(e.principal, room_id)
    return 200, {"notifications": notify_json(room_id, setting)}
