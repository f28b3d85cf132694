"""Issue 17's conversation features attacked by a malicious member, through the real WebSocket
and HTTP interfaces of a local stack on DynamoDB Local: mentions, threads, quotes, blocks,
reports, ranks, bans, mutes, archived rooms and slow mode.

Each test is a scenario an attacker would try; it asserts the attack gets nothing (no change,
no leak, no way to tell a block or a hidden room from nothing) and the refusal is the
documented one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.client import frames
from dynamotalk.domain.limits import MAX_MENTIONS, MAX_PINS
from dynamotalk.domain.user_limits import UserLimits, unlimited_env
from dynamotalk.local.emulators import free_port
from tests.e2e.client import Socket, User
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(300)
UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = unlimited_env()
    process = start_dev(port, tmp_path_factory.mktemp("abuse"), "--quiet", env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        stop(process)


class Cast:
    """An owner's public and private rooms with an admin, a moderator, a member and an
    attacker in them, and an outsider in none. Sockets open on first use."""

    def __init__(self, base: str) -> None:
        self.people = {
            n: User(base, n[:4]) for n in ("owner", "admin", "mod", "member", "evil", "outer")
        }
        self.sockets: dict[str, Socket] = {}
        owner = self.people["owner"]
        self.public = owner.room("abuse public")
        self.private = owner.room("abuse private", "private")
        for room in (self.public, self.private):
            for name in ("admin", "mod", "member", "evil"):
                if room == self.public:
                    self.people[name].post(f"/rooms/{room}/join")
                    continue
                self.http("owner", "POST", f"/rooms/{room}/members", userId=self.id(name))
                self.people[name].post(f"/invites/{room}/accept")
            for name, role in (("admin", "admin"), ("mod", "moderator")):
                self.http("owner", "PUT", f"/rooms/{room}/members/{self.id(name)}/role", role=role)

    def id(self, name: str) -> str:
        return self.people[name].id

    def ws(self, name: str) -> Socket:
        if name not in self.sockets:
            self.sockets[name] = self.people[name].socket()
        return self.sockets[name]

    def http(self, name: str, method: str, path: str, **body: Any) -> tuple[int, Any]:
        reply = self.people[name].request(method, path, body or None)
        assert reply.status_code < 500, reply.text
        return reply.status_code, reply.json() if reply.content else None

    def send(self, name: str, room: str, text: str, **extra: Any) -> dict[str, Any]:
        return self.ws(name).call(frames.send_message(room, text, **extra))

    def close(self) -> None:
        for socket in self.sockets.values():
            socket.close()


@pytest.fixture
def cast(base: str) -> Iterator[Cast]:
    built = Cast(base)
    yield built
    built.close()


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["type"] == "error", reply
    error: dict[str, Any] = reply["error"]
    return error


def without_ids(reply: dict[str, Any]) -> dict[str, Any]:
    """An error reply without its request id (what differs between two requests)."""
    return {k: v for k, v in reply.items() if k != "requestId"}


# --- mentions ---------------------------------------------------------------------------------


def test_a_mention_tells_nothing_about_who_exists_or_is_a_member(cast: Cast) -> None:
    """`@outsider` (exists, not a member) and `@nobody` (no such user) answer alike: the same
    keys, no `mentions`, and the outsider hears nothing."""
    outer = cast.ws("outer")
    acks = [
        cast.send("evil", cast.public, f"hi @{cast.people['outer'].name}")["message"],
        cast.send("evil", cast.public, "hi @nobodyatallxyz")["message"],
    ]
    assert sorted(acks[0]) == sorted(acks[1])
    assert "mentions" not in acks[0]
    member = cast.send("evil", cast.public, f"hi @{cast.people['member'].name}")["message"]
    assert member["mentions"] == [cast.id("member")]
    assert not [f for f in outer.frames if f.get("type") == "mention"]


def test_mention_spam_is_bounded_per_message_and_counted_once_per_person(cast: Cast) -> None:
    """Naming more than MAX_MENTIONS people is refused outright; naming one person a hundred
    times calls them once (one mention event, one unread mention)."""
    many = " ".join(f"@someone{i}" for i in range(MAX_MENTIONS + 1))
    assert error_of(cast.send("evil", cast.public, many))["code"] == "invalid_input"
    target = cast.people["member"].name
    ack = cast.send("evil", cast.public, " ".join([f"@{target}"] * 100))
    assert ack["message"]["mentions"] == [cast.id("member")]
    rooms = cast.people["member"].get("/rooms")["rooms"]
    [room] = [r for r in rooms if r["room"]["roomId"] == cast.public]
    assert room["unreadMentions"] == 1


def test_at_room_from_a_member_of_a_public_room_is_refused_and_stores_nothing(cast: Cast) -> None:
    before = cast.people["owner"].get(f"/rooms/{cast.public}/messages")["messages"]
    assert error_of(cast.send("evil", cast.public, "@room free stuff"))["code"] == "forbidden"
    assert error_of(cast.send("evil", cast.public, "hey @here"))["code"] == "forbidden"
    assert cast.people["owner"].get(f"/rooms/{cast.public}/messages")["messages"] == before


# --- threads and quotes -----------------------------------------------------------------------


def test_replies_and_quotes_cannot_reach_a_room_the_attacker_cannot_read(cast: Cast) -> None:
    """From a room the attacker is in, a parentId or quote naming a message of a private room
    they are not in answers exactly like an id that names nothing, and the private message's
    reply count does not move."""
    secret_room = cast.people["owner"].room("abuse secret", "private")
    secret = cast.send("owner", secret_room, "the launch code is 1234")["message"]["id"]
    for extra in ({"parent_id": secret}, {"quote_id": secret}):
        leaked = cast.send("evil", cast.public, "show me", **extra)
        unknown_extra = {k: UNKNOWN_ID for k in extra}
        unknown = cast.send("evil", cast.public, "show me", **unknown_extra)
        assert without_ids(leaked) == without_ids(unknown)
        assert error_of(leaked)["code"] == "not_found"
    hidden = cast.send("evil", secret_room, "in", parent_id=secret)
    missing = cast.send("evil", UNKNOWN_ID, "in", parent_id=secret)
    assert without_ids(hidden) == without_ids(missing)
    thread = cast.people["owner"].get(f"/rooms/{secret_room}/messages/{secret}/thread")
    assert "replyCount" not in thread["parent"]
    assert thread["replies"] == []
    status, body = cast.http("evil", "GET", f"/rooms/{secret_room}/messages/{secret}/thread")
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_a_deleted_message_can_be_neither_quoted_nor_replied_to(cast: Cast) -> None:
    gone = cast.send("member", cast.public, "regret this")["message"]["id"]
    assert cast.ws("member").call(frames.delete_message(cast.public, gone))["type"] == "ack"
    for extra in ({"parent_id": gone}, {"quote_id": gone}):
        assert error_of(cast.send("evil", cast.public, "dig", **extra))["code"] == "not_found"


def test_a_thread_is_one_level_deep_and_its_count_only_counts_real_replies(cast: Cast) -> None:
    parent = cast.send("member", cast.public, "topic")["message"]["id"]
    reply = cast.send("evil", cast.public, "r1", parent_id=parent)["message"]["id"]
    nested = cast.send("evil", cast.public, "r2", parent_id=reply)
    assert error_of(nested)["code"] == "invalid_input"
    stray = cast.send("evil", cast.public, "x", also_in_room=True)
    assert error_of(stray)["code"] == "invalid_input"
    view = cast.people["member"].get(f"/rooms/{cast.public}/messages/{parent}/thread")
    assert view["parent"]["replyCount"] == 1


# --- blocking ---------------------------------------------------------------------------------


def test_a_blocked_user_cannot_tell_they_are_blocked_in_a_shared_room(cast: Cast) -> None:
    """Every answer the blocked user gets (post, mention, reply, quote, react) has the same
    shape before and after the block."""
    victim = cast.people["member"]

    def attempt(tag: str) -> list[Any]:
        topic = cast.send("member", cast.public, f"topic {tag}")["message"]["id"]
        answers = [
            cast.send("evil", cast.public, f"@{victim.name} {tag}"),
            cast.send("evil", cast.public, tag, parent_id=topic),
            cast.send("evil", cast.public, tag, quote_id=topic),
            cast.ws("evil").call(frames.react(cast.public, topic, "👍")),
        ]
        return [(a["type"], sorted(a.get("message", {})), a.get("message", {}).get("mentions"))
                for a in answers]  # fmt: skip

    before = attempt("a")
    assert victim.post(f"/blocks/{cast.id('evil')}") is not None
    assert attempt("b") == before


def test_the_thread_view_hides_a_blocked_authors_replies_like_history(cast: Cast) -> None:
    """A reply by someone the reader blocked is a stub in the thread view too (history, sync
    and events already give stubs)."""
    parent = cast.send("member", cast.public, "topic")["message"]["id"]
    cast.send("evil", cast.public, "abuse in a thread", parent_id=parent)
    own = cast.send("evil", cast.public, "abuse at the top")["message"]["id"]
    cast.send("evil", cast.public, "more", parent_id=own)
    cast.people["member"].post(f"/blocks/{cast.id('evil')}")
    view = cast.people["member"].get(f"/rooms/{cast.public}/messages/{parent}/thread")
    [reply] = view["replies"]
    assert (reply["text"], reply["hidden"]) == ("", "blocked")
    view = cast.people["member"].get(f"/rooms/{cast.public}/messages/{own}/thread")
    assert view["parent"]["text"] == ""
    assert view["parent"]["hidden"] == "blocked"
    assert [r["text"] for r in view["replies"]] == [""]
    other = cast.people["owner"].get(f"/rooms/{cast.public}/messages/{parent}/thread")
    assert other["replies"][0]["text"] == "abuse in a thread"


# --- reports ----------------------------------------------------------------------------------


def test_reporting_one_message_over_and_over_keeps_one_open_report(cast: Cast) -> None:
    target = cast.send("member", cast.public, "an opinion")["message"]["id"]
    path = f"/rooms/{cast.public}/messages/{target}/report"
    ids = {cast.http("evil", "POST", path, reason="spam")[1]["report"]["id"] for _ in range(5)}
    assert len(ids) == 1
    queue = cast.people["owner"].get(f"/rooms/{cast.public}/reports")["reports"]
    assert [r["messageId"] for r in queue].count(target) == 1


def test_a_report_cannot_reach_a_room_or_message_the_reporter_cannot_read(cast: Cast) -> None:
    secret_room = cast.people["owner"].room("abuse report secret", "private")
    secret = cast.send("owner", secret_room, "classified")["message"]["id"]
    hidden = cast.http("evil", "POST", f"/rooms/{secret_room}/messages/{secret}/report",
                       reason="spam")  # fmt: skip
    missing = cast.http("evil", "POST", f"/rooms/{UNKNOWN_ID}/messages/{secret}/report",
                        reason="spam")  # fmt: skip
    assert hidden[0] == missing[0] == 404
    assert hidden[1]["error"]["code"] == missing[1]["error"]["code"] == "not_found"
    across = cast.http("evil", "POST", f"/rooms/{cast.public}/messages/{secret}/report",
                       reason="spam")  # fmt: skip
    assert across[0] == 404


# --- ranks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "method", "tail", "body"),
    [
        ("mod", "POST", "/bans", {"userId": "admin"}),
        ("mod", "POST", "/mutes", {"userId": "owner", "seconds": 60}),
        ("mod", "DELETE", "/members/admin", None),
        ("mod", "PUT", "/members/member/role", {"role": "moderator"}),
        ("admin", "PUT", "/members/member/role", {"role": "owner"}),
        ("admin", "PUT", "/members/member/role", {"role": "admin"}),
        ("admin", "PUT", "/members/admin/role", {"role": "owner"}),
        ("admin", "PUT", "/members/owner/role", {"role": "member"}),
        ("admin", "POST", "/bans", {"userId": "owner"}),
        ("mod", "PUT", "/members/mod/role", {"role": "admin"}),
        ("evil", "PUT", "/members/evil/role", {"role": "owner"}),
        ("evil", "POST", "/mutes", {"userId": "member", "seconds": 60}),
    ],
)
def test_nobody_acts_above_their_rank(
    cast: Cast, actor: str, method: str, tail: str, body: dict[str, Any] | None
) -> None:
    def real(value: str) -> str:
        return cast.id(value) if value in cast.people else value

    path = f"/rooms/{cast.public}" + "/".join(real(p) for p in tail.split("/"))
    payload = {k: real(v) if isinstance(v, str) and k == "userId" else v
               for k, v in (body or {}).items()}  # fmt: skip
    before = cast.people["owner"].get(f"/rooms/{cast.public}/members")
    status, answer = cast.http(actor, method, path, **payload)
    assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    assert cast.people["owner"].get(f"/rooms/{cast.public}/members") == before


def test_a_moderator_cannot_delete_an_admins_message(cast: Cast) -> None:
    message = cast.send("admin", cast.public, "admin says")["message"]["id"]
    reply = cast.ws("mod").call(frames.delete_message(cast.public, message))
    assert error_of(reply)["code"] == "forbidden"


# --- bans, mutes, archive ---------------------------------------------------------------------


def test_a_banned_user_gets_back_in_by_no_door(cast: Cast) -> None:
    for room in (cast.public, cast.private):
        cast.http("mod", "POST", f"/rooms/{room}/bans", userId=cast.id("evil"))
        assert cast.http("evil", "POST", f"/rooms/{room}/join")[0] in (403, 404)
        assert cast.http("evil", "POST", f"/invites/{room}/accept")[0] == 404
        # An invite to a banned user is dropped quietly (a member cannot probe bans with it).
        invited = cast.http("owner", "POST", f"/rooms/{room}/members", userId=cast.id("evil"))
        assert (invited[0], invited[1]["pending"]) == (202, True), invited
        assert room not in [i["roomId"] for i in cast.people["evil"].get("/invites")["invites"]]
        assert cast.http("evil", "POST", f"/invites/{room}/accept")[0] == 404
        reply = cast.send("evil", room, "still here?")
        assert error_of(reply)["code"] in ("forbidden", "not_found")
        members = cast.people["owner"].get(f"/rooms/{room}/members")["members"]
        assert cast.id("evil") not in [m["userId"] for m in members]


def test_a_muted_user_writes_through_no_other_frame(cast: Cast) -> None:
    topic = cast.send("member", cast.public, "topic")["message"]["id"]
    own = cast.send("evil", cast.public, "before the mute")["message"]["id"]
    cast.http("mod", "POST", f"/rooms/{cast.public}/mutes", userId=cast.id("evil"), seconds=600)
    attempts = [
        cast.send("evil", cast.public, "plain"),
        cast.send("evil", cast.public, "reply", parent_id=topic),
        cast.send("evil", cast.public, "quote", quote_id=topic),
        cast.ws("evil").call(frames.edit_message(cast.public, own, "edited while muted")),
        cast.ws("evil").call(frames.react(cast.public, topic, "👎")),
    ]
    assert {error_of(a)["code"] for a in attempts} == {"muted"}
    cast.http("mod", "POST", f"/rooms/{cast.public}/pins", messageId=topic)
    # Leaving and joining again keeps the mute.
    cast.http("evil", "POST", f"/rooms/{cast.public}/leave")
    cast.http("evil", "POST", f"/rooms/{cast.public}/join")
    assert error_of(cast.send("evil", cast.public, "fresh start"))["code"] == "muted"


def test_an_archived_room_refuses_every_write_route(cast: Cast) -> None:
    room = cast.public
    topic = cast.send("member", room, "topic")["message"]["id"]
    own = cast.send("evil", room, "mine")["message"]["id"]
    cast.http("owner", "POST", f"/rooms/{room}/pins", messageId=own)
    cast.http("owner", "PATCH", f"/rooms/{room}", archived=True)
    frames_sent = [
        cast.send("evil", room, "post"),
        cast.send("evil", room, "reply", parent_id=topic),
        cast.send("evil", room, "quote", quote_id=topic),
        cast.ws("evil").call(frames.edit_message(room, own, "edit")),
        cast.ws("evil").call(frames.react(room, topic, "👍")),
    ]
    assert {error_of(f)["code"] for f in frames_sent} == {"room_archived"}
    http_sent = [
        cast.http("owner", "POST", f"/rooms/{room}/pins", messageId=topic),
        cast.http("owner", "DELETE", f"/rooms/{room}/pins/{own}"),
        cast.http("owner", "POST", f"/rooms/{room}/members", userId=cast.id("outer")),
        cast.http("outer", "POST", f"/rooms/{room}/join"),
    ]
    assert {(s, b["error"]["code"]) for s, b in http_sent} == {(403, "room_archived")}


def test_the_pin_cap_holds(cast: Cast) -> None:
    room = cast.people["owner"].room("abuse pins")
    socket = cast.ws("owner")
    for i in range(MAX_PINS):
        message = socket.post(room, f"pin {i}")["id"]
        assert cast.http("owner", "POST", f"/rooms/{room}/pins", messageId=message)[0] == 200
    extra = socket.post(room, "one too many")["id"]
    status, body = cast.http("owner", "POST", f"/rooms/{room}/pins", messageId=extra)
    assert (status, body["error"]["code"]) == (413, "too_large"), body
    assert len(cast.people["owner"].get(f"/rooms/{room}/pins")["pins"]) == MAX_PINS


def test_slow_mode_lets_one_of_many_concurrent_posts_through(cast: Cast) -> None:
    """N posts sent at once on N sockets, on DynamoDB Local: the slow mode turn is taken
    atomically, so exactly one is stored."""
    room = cast.people["owner"].room("abuse slow")
    cast.http("evil", "POST", f"/rooms/{room}/join")
    cast.http("owner", "PATCH", f"/rooms/{room}", slowModeSeconds=600)
    sockets = [cast.people["evil"].socket() for _ in range(4)]
    answers: list[dict[str, Any]] = []
    start = threading.Barrier(len(sockets))

    def race(socket: Socket, i: int) -> None:
        start.wait()
        answers.append(socket.call(frames.send_message(room, f"race {i}")))

    threads = [threading.Thread(target=race, args=(s, i)) for i, s in enumerate(sockets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for socket in sockets:
        socket.close()
    assert sorted(a["type"] for a in answers) == ["ack", "error", "error", "error"], answers
    assert {a["error"]["code"] for a in answers if a["type"] == "error"} == {"slow_mode"}
    texts = [m["text"] for m in cast.people["owner"].get(f"/rooms/{room}/messages")["messages"]]
    assert sum(t.startswith("race") for t in texts) == 1


def test_a_blocked_user_cannot_ping_the_blocker(cast: Cast) -> None:
    """Calling someone who blocked you sends them no mention event and leaves their
    unreadMentions alone; your own ack still lists them (it must not tell you of the block)."""
    victim = cast.people["member"]
    watcher = cast.ws("member")

    def unread_mentions() -> int:
        rooms = victim.get("/rooms")["rooms"]
        return int(next(r for r in rooms if r["room"]["roomId"] == cast.public)["unreadMentions"])

    before = unread_mentions()
    cast.http("member", "POST", f"/blocks/{cast.id('evil')}")
    ack = cast.send("evil", cast.public, f"@{victim.name} look at me")
    assert ack["message"]["mentions"] == [cast.id("member")]
    cast.send("owner", cast.public, f"@{victim.name} a real call")  # delivered after evil's
    watcher.wait(lambda f: f.get("type") == "mention" and f["authorId"] == cast.id("owner"))
    called_by = [f["authorId"] for f in watcher.frames if f.get("type") == "mention"]
    assert called_by == [cast.id("owner")]
    assert unread_mentions() == before + 1  # the owner's call counts, the blocked one's not


def test_report_and_mention_floods_end_at_the_per_user_limits(tight_stack_url: str) -> None:
    """On the stack with tight limits: a post calling people is a post (the message limit
    bounds mention events), and reporting past reports_per_hour is 429 with nothing stored."""
    owner, evil = User(tight_stack_url, "ownr"), User(tight_stack_url, "evil")
    room = owner.room("flood")
    evil.post(f"/rooms/{room}/join")
    target = owner.socket()
    message = target.post(room, "report me")["id"]
    target.close()
    socket = evil.socket()
    for i in range(8):  # sent at once, not one after another's ack
        frame = frames.send_message(room, f"@{owner.name} {i}", request_id=f"flood{i}")
        socket.connection.send(json.dumps(frame))
    answers = [socket.wait(lambda f, i=i: f.get("requestId") == f"flood{i}") for i in range(8)]
    socket.close()
    assert "rate_limited" in [a["error"]["code"] for a in answers if a["type"] == "error"]
    path = f"/rooms/{room}/messages/{message}/report"
    statuses = [evil.request("POST", path, {"reason": "spam"}).status_code for _ in range(31)]
    assert statuses.count(429) >= 31 - UserLimits().reports_per_hour
    assert set(statuses) <= {200, 201, 429}
    assert len(owner.get(f"/rooms/{room}/reports")["reports"]) == 1


def test_an_admin_of_one_room_cannot_resolve_a_report_of_another(cast: Cast) -> None:
    """The reporter knows their report's id; owning a room of their own does not let them
    close it (or anyone's) through that room."""
    target = cast.send("member", cast.public, "reported")["message"]["id"]
    path = f"/rooms/{cast.public}/messages/{target}/report"
    report = cast.http("evil", "POST", path, reason="spam")[1]["report"]["id"]
    own = cast.people["evil"].room("evil's own")
    status, body = cast.http("evil", "POST", f"/rooms/{own}/reports/{report}/resolve",
                             outcome="dismissed")  # fmt: skip
    assert (status, body["error"]["code"]) == (404, "not_found")
    queue = cast.people["owner"].get(f"/rooms/{cast.public}/reports")["reports"]
    assert report in [r["id"] for r in queue]
