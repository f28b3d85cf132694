"""The authorization matrix's world: one in-memory `dynamotalk dev`, eight users, and a public,
a private and a direct room where each user holds one part (owner, admin, moderator, member, a
target to act on, a non-member, a banned user, a guest to invite).

Every act is performed through the real interfaces (HTTP, and the WebSocket for posting,
reacting and deleting); `perform` answers whether it was allowed, `restore` undoes an allowed
act, and `snapshot` is the room's whole visible state, to prove a refused act changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from dynamotalk.client import frames
from dynamotalk.domain.authz import Act
from dynamotalk.domain.models import Role, RoomKind
from tests.e2e.client import Socket, User

PEOPLE = ("owner", "admin", "moderator", "member", "target", "nonmember", "banned", "guest")
ROLES_OF: dict[RoomKind, tuple[str, ...]] = {
    RoomKind.PUBLIC: ("owner", "admin", "moderator", "member", "nonmember", "banned"),
    RoomKind.PRIVATE: ("owner", "admin", "moderator", "member", "nonmember", "banned"),
    # A direct room has two members (both `member`) and no moderation: nobody is banned.
    RoomKind.DIRECT: ("member", "nonmember"),
}
"""Who acts in a room of each kind; the other member of the direct room is the target."""
OK = (200, 201, 202)
REFUSED = (403, 404)
HIDDEN_CODE = "not_found"
UNKNOWN_REPORT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
"""A well-formed report id for the direct room, which has no reports (refused before lookup)."""


class World:
    def __init__(self, base: str) -> None:
        self.users = {name: User(base, f"az{name[:5]}") for name in PEOPLE}
        self.sockets: dict[str, Socket] = {}
        owner = self.users["owner"]
        self.rooms: dict[RoomKind, str] = {
            RoomKind.PUBLIC: owner.room("authz public"),
            RoomKind.PRIVATE: owner.room("authz private", "private"),
        }
        for kind in (RoomKind.PUBLIC, RoomKind.PRIVATE):
            for name in ("admin", "moderator", "member", "target", "banned"):
                self.enter(kind, name)
            for name, role in (("admin", "admin"), ("moderator", "moderator")):
                self.as_owner(kind, "PUT", f"/members/{self.id(name)}/role", {"role": role})
            self.as_owner(kind, "POST", "/bans", {"userId": self.id("banned")})
        direct = self.users["member"].post("/direct", {"userId": self.id("target")})
        self.rooms[RoomKind.DIRECT] = direct["room"]["roomId"]
        self.messages: dict[RoomKind, str] = {}
        self.consent: dict[RoomKind, str] = {}
        self.last: Any = None
        """The JSON of the last HTTP answer (an allowed report's id, to undo it)."""
        for kind in RoomKind:
            self.fresh_message(kind)
            # the direct room's two members both took part
            self.consent[kind] = self.post("member", kind, "consent")
        self.reports: dict[RoomKind, str] = {RoomKind.DIRECT: UNKNOWN_REPORT}
        for kind in (RoomKind.PUBLIC, RoomKind.PRIVATE):
            self.fresh_report(kind)

    # --- plumbing -----------------------------------------------------------------------------

    def id(self, name: str) -> str:
        return self.users[name].id

    def socket(self, name: str) -> Socket:
        if name not in self.sockets:
            self.sockets[name] = self.users[name].socket()
        return self.sockets[name]

    def path(self, kind: RoomKind, tail: str = "") -> str:
        return f"/rooms/{self.rooms[kind]}{tail}"

    def http(self, name: str, kind: RoomKind, method: str, tail: str, body: Any = None) -> int:
        reply: httpx.Response = self.users[name].request(method, self.path(kind, tail), body)
        assert reply.status_code < 500, reply.text
        self.last = reply.json() if reply.content else None
        if reply.status_code >= 400:
            assert reply.json()["error"]["code"] in ("forbidden", "not_found"), reply.text
        return reply.status_code

    def frame(self, name: str, frame: dict[str, Any]) -> int:
        reply = self.socket(name).call(frame)
        if reply["type"] == "ack":
            self.last = reply
            return 200
        code = reply["error"]["code"]
        assert code in ("forbidden", "not_found"), reply
        return 404 if code == HIDDEN_CODE else 403

    def restorer(self, kind: RoomKind) -> str:
        return "member" if kind is RoomKind.DIRECT else "owner"

    def as_owner(self, kind: RoomKind, method: str, tail: str, body: Any = None) -> None:
        status = self.http(self.restorer(kind), kind, method, tail, body)
        assert status in OK, (method, tail, status)

    def enter(self, kind: RoomKind, name: str) -> None:
        """Make `name` a member again (a plain `member`)."""
        if kind is RoomKind.PUBLIC:
            self.users[name].post(f"/rooms/{self.rooms[kind]}/join")
        else:
            self.as_owner(kind, "POST", "/members", {"userId": self.id(name)})
            self.users[name].post(f"/invites/{self.rooms[kind]}/accept")

    def post(self, name: str, kind: RoomKind, text: str) -> str:
        message: str = self.socket(name).post(self.rooms[kind], text)["id"]
        return message

    def fresh_message(self, kind: RoomKind) -> None:
        """A message of the target's to act on (react, pin, delete)."""
        self.messages[kind] = self.post("target", kind, "a message to act on")

    def fresh_report(self, kind: RoomKind) -> None:
        """An open report (the target's, on the member's message) for moderators to resolve."""
        tail = f"/messages/{self.consent[kind]}/report"
        assert self.http("target", kind, "POST", tail, {"reason": "spam"}) in OK
        self.reports[kind] = self.last["report"]["id"]

    def all_same(self, statuses: list[int]) -> int:
        """One act through several routes answers alike on each."""
        assert len(set(statuses)) == 1, statuses
        return statuses[0]

    def mention_all(self, name: str, kind: RoomKind) -> int:
        """`@room` and `@here` in a post: allowed alike, and an allowed one carries it."""
        statuses = []
        for word in ("room", "here"):
            frame = frames.send_message(self.rooms[kind], f"@{word} matrix call")
            status = self.frame(name, frame)
            if status == 200:
                assert self.last["message"]["mentionsAll"] == word, self.last
            statuses.append(status)
        return self.all_same(statuses)

    def moderate(self, name: str, kind: RoomKind) -> int:
        """Read the audit log and the reports queue, and resolve the open report."""
        resolve = f"/reports/{self.reports[kind]}/resolve"
        return self.all_same(
            [
                self.http(name, kind, "GET", "/audit"),
                self.http(name, kind, "GET", "/reports"),
                self.http(name, kind, "POST", resolve, {"outcome": "dismissed"}),
            ]
        )

    def snapshot(self, kind: RoomKind) -> dict[str, Any]:
        """Everything the room's owner (the direct room's member) can read of it."""
        viewer = self.users[self.restorer(kind)]
        state = {
            "room": viewer.get(self.path(kind)),
            "members": viewer.get(self.path(kind, "/members")),
            "pins": viewer.get(self.path(kind, "/pins")),
            "messages": viewer.get(self.path(kind, "/messages"), limit=20),
        }
        if kind is not RoomKind.DIRECT:
            state["audit"] = viewer.get(self.path(kind, "/audit"), limit=100)
            state["bans"] = viewer.get(self.path(kind, "/bans"))
            state["reports"] = viewer.get(self.path(kind, "/reports"))
        return state

    # --- the acts -----------------------------------------------------------------------------

    def perform(self, act: Act, kind: RoomKind, name: str) -> int:
        """Do `act` as `name`: the HTTP status (200 for a WebSocket ack)."""
        room, message, target = self.rooms[kind], self.messages[kind], self.id("target")
        do: dict[Act, Callable[[], int]] = {
            Act.POST: lambda: self.frame(name, frames.send_message(room, "matrix post")),
            Act.REACT: lambda: self.frame(name, frames.react(room, message, "👍")),
            Act.INVITE: lambda: self.http(
                name, kind, "POST", "/members", {"userId": self.id("guest")}
            ),
            Act.REMOVE: lambda: self.http(name, kind, "DELETE", f"/members/{target}"),
            Act.BAN: lambda: self.http(name, kind, "POST", "/bans", {"userId": target}),
            Act.MUTE: lambda: self.http(
                name, kind, "POST", "/mutes", {"userId": target, "seconds": 60}
            ),
            Act.DELETE_OTHERS: lambda: self.frame(name, frames.delete_message(room, message)),
            Act.PIN: lambda: self.http(name, kind, "POST", "/pins", {"messageId": message}),
            Act.SLOW_MODE: lambda: self.http(name, kind, "PATCH", "", {"slowModeSeconds": 5}),
            Act.CHANGE_ROLES: lambda: self.http(
                name, kind, "PUT", f"/members/{target}/role", {"role": "moderator"}
            ),
            Act.RENAME: lambda: self.http(name, kind, "PATCH", "", {"name": "matrix renamed"}),
            Act.ARCHIVE: lambda: self.http(name, kind, "PATCH", "", {"archived": True}),
            Act.MENTION_ALL: lambda: self.mention_all(name, kind),
            Act.REPORT: lambda: self.http(
                name, kind, "POST", f"/messages/{message}/report", {"reason": "spam"}
            ),
            Act.MODERATE: lambda: self.moderate(name, kind),
            Act.BAN_LIST: lambda: self.http(name, kind, "GET", "/bans"),
            Act.RETENTION: lambda: self.http(name, kind, "PATCH", "", {"retentionDays": 7}),
        }
        return do[act]()

    def restore(self, act: Act, kind: RoomKind, name: str) -> None:
        """Undo an allowed `act` (so every case starts from the same room)."""
        target = self.id("target")
        if act is Act.REACT:
            assert self.perform(Act.REACT, kind, name) == 200  # a reaction toggles
        elif act is Act.INVITE:
            self.as_owner(kind, "DELETE", f"/members/{self.id('guest')}")  # withdraws it
        elif act is Act.REMOVE:
            self.enter(kind, "target")
        elif act is Act.BAN:
            self.as_owner(kind, "DELETE", f"/bans/{target}")
            self.enter(kind, "target")
        elif act is Act.MUTE:
            self.as_owner(kind, "DELETE", f"/mutes/{target}")
        elif act is Act.DELETE_OTHERS:
            self.fresh_message(kind)
        elif act is Act.PIN:
            self.as_owner(kind, "DELETE", f"/pins/{self.messages[kind]}")
        elif act is Act.SLOW_MODE:
            self.as_owner(kind, "PATCH", "", {"slowModeSeconds": 0})
        elif act is Act.CHANGE_ROLES:
            self.as_owner(kind, "PUT", f"/members/{target}/role", {"role": str(Role.MEMBER)})
        elif act is Act.RENAME:
            self.as_owner(kind, "PATCH", "", {"name": f"authz {kind}"})
        elif act is Act.ARCHIVE:
            self.as_owner(kind, "PATCH", "", {"archived": False})
        elif act is Act.RETENTION:
            self.as_owner(kind, "PATCH", "", {"retentionDays": 0})
        elif act is Act.REPORT:
            resolve = f"/reports/{self.last['report']['id']}/resolve"
            self.as_owner(kind, "POST", resolve, {"outcome": "dismissed"})
        elif act is Act.MODERATE:
            self.fresh_report(kind)

    def close(self) -> None:
        for socket in self.sockets.values():
            socket.close()
