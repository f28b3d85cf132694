"""docs/PROTOCOL.md's "Roles and moderation" section against the code: its permission table is
the one authz.LOWEST_ROLE renders (one home: regenerate it with
`python -m tests.unit.test_moderation_docs`), every event example is what the encoders produce,
every body example parses, and every route, error code and limit of the area is shown."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from dynamotalk import routes, wire
from dynamotalk.domain import authz
from dynamotalk.domain import events as ev
from dynamotalk.domain.authz import LOWEST_ROLE, ON_OTHERS
from dynamotalk.domain.errors import ErrorCode
from dynamotalk.domain.limits import MAX_MUTE_S, MAX_PINS, MAX_SLOW_MODE_S
from dynamotalk.domain.models import Membership, Message, Pin, Role, Room, RoomKind

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
BEGIN = "<!-- permissions: generated from domain/authz.py LOWEST_ROLE -->"
END = "<!-- /permissions -->"
EVENTS = re.compile(r"<!-- moderation frame -->\n```json\n(.*?)\n```", re.S)
BODIES = re.compile(r"<!-- moderation body: (\w+) -->\n```json\n(.*?)\n```", re.S)
MODERATION_ROUTES = [r for r in routes.HTTP_ROUTES if r.handler in {
    "update_room", "change_role", "mute_member", "unmute_member", "ban_user", "unban_user",
    "list_bans", "pin_message", "unpin_message", "list_pins", "audit_log",
}]  # fmt: skip


def _cell(lowest: Role | None) -> str:
    if lowest is None:
        return "nobody"
    return "owner" if lowest is Role.OWNER else f"{lowest}+"


def permission_table() -> str:
    """The markdown table of authz.LOWEST_ROLE: each act's lowest role per room kind."""
    kinds = list(RoomKind)
    lines = [
        "| act | " + " | ".join(str(k) for k in kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for act, cells in LOWEST_ROLE.items():
        name = f"`{act}`" + (" (over a lower role)" if act in ON_OTHERS else "")
        lines.append(f"| {name} | " + " | ".join(_cell(cells[k]) for k in kinds) + " |")
    return "\n".join(lines)


def _documented_table(doc: str) -> str:
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    return doc[start:end].strip()


def test_the_permission_table_in_the_doc_is_the_code_s() -> None:
    assert _documented_table(DOC_PATH.read_text()) == permission_table(), (
        "docs/PROTOCOL.md's permission table is stale: "
        "run `python -m tests.unit.test_moderation_docs`"
    )


def _rebuild(frame: dict[str, Any]) -> Any:
    kind, seq = frame["type"], frame.get("seq", 0)
    if kind == "room.updated":
        r = frame["room"]
        room = Room(r["roomId"], r["name"], RoomKind(r["kind"]), r["createdBy"], r["createdAt"])
        room = Room(
            room.room_id,
            room.name,
            room.kind,
            room.created_by,
            room.created_at,
            archived=r.get("archived", False),
            slow_mode_seconds=r.get("slowModeSeconds", 0),
            member_count=r.get("memberCount", 0),
        )
        return ev.RoomUpdated(room, seq)
    if kind == "message.pinned":
        p = frame["pin"]
        pin = Pin(
            p["roomId"],
            p["messageId"],
            p["pinnedBy"],
            p["pinnedAt"],
            p["authorId"],
            p["text"],
            p["createdAt"],
        )
        return ev.MessagePinned(pin, seq)
    if kind == "message.unpinned":
        return ev.MessageUnpinned(frame["roomId"], frame["messageId"], seq)
    if kind == "member.joined":
        m = frame["membership"]
        membership = Membership(
            m["roomId"],
            m["userId"],
            Role(m["role"]),
            m["joinedAt"],
            m["lastReadId"],
            muted_until=m.get("mutedUntil"),
        )
        return ev.MemberJoined(membership, seq)
    if kind == "message.deleted":
        m = frame["message"]
        message = Message(
            m["id"],
            m["roomId"],
            m["authorId"],
            m["text"],
            m["createdAt"],
            m["clientId"],
            deleted_at=m["deletedAt"],
            seq=m["seq"],
            deleted_by=m.get("deletedBy"),
        )
        return ev.MessageDeleted(message, seq)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "example", [json.loads(t) for t in EVENTS.findall(DOC_PATH.read_text())], ids=str
)
def test_event_examples_are_what_the_encoders_produce(example: dict[str, Any]) -> None:
    if example["type"] == "error":
        assert example["error"]["code"] in {str(c) for c in ErrorCode}
        return
    assert json.loads(wire.encode_event(_rebuild(example))) == example


def test_every_new_event_body_route_code_and_limit_is_shown() -> None:
    doc = DOC_PATH.read_text()
    shown = {json.loads(t)["type"] for t in EVENTS.findall(doc)}
    assert {"room.updated", "message.pinned", "message.unpinned", "error"} <= shown
    bodies = {name for name, _ in BODIES.findall(doc)}
    assert bodies == {"UpdateRoom", "ChangeRole", "MuteBody", "BanBody", "PinBody"}
    for name, text in BODIES.findall(doc):
        wire.parse_body(text, getattr(wire, name))
    for route in MODERATION_ROUTES:
        assert f"`{route.method} {route.path}" in doc, route
    for code in ("room_archived", "muted", "slow_mode"):
        assert f"| `{code}` |" in doc
    for limit in (MAX_SLOW_MODE_S, MAX_MUTE_S, MAX_PINS):
        assert f"{limit:,}" in doc or str(limit) in doc
    assert all(act in LOWEST_ROLE for act in authz.Act)


if __name__ == "__main__":  # regenerate the doc's table from the code
    text = DOC_PATH.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC_PATH.write_text(text[:start] + "\n" + permission_table() + "\n" + text[end:])
    sys.exit(0)
