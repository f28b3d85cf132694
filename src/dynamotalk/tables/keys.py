"""Where each item lives: the key shapes of every item kind, their prefixes, and the names of
the attributes a message's reactions are counted in."""

from __future__ import annotations

# Item key shapes. PK/SK on the table, GSI1PK/GSI1SK on the index.
# user profile        USER#{user_id}        PROFILE
# username claim      USERNAME#{lower name} USERNAME
# room                ROOM#{room_id}        META            GSI1: PUBLIC_ROOMS / ROOM#{room_id}
# membership          ROOM#{room_id}        MEMBER#{user}   GSI1: USER#{user_id} / ROOM#{room_id}
# message             ROOM#{room_id}        MSG#{ulid}
# client id claim     ROOM#{room_id}        CLIENT#{author}#{client_id}
# room change (feed)  ROOM#{room_id}        SEQ#{seq:012d}  TTL: expires_at  (the table's stream
#                     carries each new one to the fan-out: CHANGE_STREAM_FILTER)
# connection          CONN#{conn_id}        META            GSI1: USERCONN#{user} / CONN#{conn_id}
# subscription (conn) CONN#{conn_id}        SUB#{room_id}
# subscription (room) ROOMCONN#{room_id}    CONN#{conn_id}
# per-user counters   LIMIT#{user_id}       {group}#{window_s}#{window}   TTL: expires_at
# pending invite      ROOM#{room_id}        INVITE#{user}   GSI1: USER#{user_id} / INVITE#{room_id}
# block               USER#{user_id}        BLOCK#{blocked user}
# block (reverse)     BLOCKEDBY#{blocked}   USER#{user_id}  (who blocked an author: the fan-out)
# report              ROOM#{room_id}        REPORT#{ulid}
#                     GSI1: REPORTS#{room_id}#{status} / REPORT#{ulid}  (the moderation queue)
# open report claim   ROOM#{room_id}        REPORTED#{message_id}#{reporter}  (while open)
# session due         SESSIONDUE#{minute}   {expires_at:010d}#{conn_id}   TTL: expires_at
# room ban            ROOM#{room_id}        BAN#{user}
# room mute           ROOM#{room_id}        MUTE#{user}     TTL: expires_at (the mute's end)
# slow mode turn      ROOM#{room_id}        MEMBER#{user}   attribute `slow_at` (last post, ms)
# pin                 ROOM#{room_id}        PIN#{message_id}  (the room's META counts `pins`)
# audit log entry     ROOM#{room_id}        AUDIT#{ulid}
# thread reply        ROOM#{room_id}        MSG#{ulid}   GSI1: THREAD#{room}#{parent} / MSG#{ulid}
#                     (a message item like any other; a reply seen only in its thread has
#                     `thread_only`, which history, sync v1 and unread counts filter out)
# mention             ROOM#{room_id}        MENTION#{user}#{ulid}   (written with the post)
# push subscription   USER#{user_id}        PUSH#{device_id}  (endpoint, keys; domain/push.py)
# room notifications  USER#{user_id}        NOTIFY#{room_id}  (muted; `until_ms`: its end)
# search posting      SEARCH#{room_id}#{term}  {ulid}   (keys only; one per word of a message,
#                     written by the search indexer from the stream: SEARCH_STREAM_FILTER)
# search document     SEARCHDOC#{room_id}   {ulid}   attribute `terms`: the words indexed (so an
#                     edit or delete knows which postings to remove)
# export job         USER#{user_id}        EXPORT#{export_id}  status, created_at, finished_at
#                     TTL: expires_at (EXPORT_KEPT_DAYS, as the archive's lifecycle rule)
# running export     USER#{user_id}        EXPORTRUN   export_id, started_at  (one at a time:
#                     a conditional Put with the job; deleted when it finishes; TTL: stale)
# retention (issue 18): a message, its mention items and its pin carry `expires_at` (the
#                     TTL attribute: posted + the room's or stage's retention) when it has one
# A message's reactions: `r#{emoji}` (string set of user ids), `ru#{user}` (that user's
# reactions on it) and `rk` (its distinct emoji), all counted by conditional updates.
# A room's `member_count` (on its META item) moves by an ADD of +1 or -1 in the transaction
# that adds or removes a membership (adapters/dynamodb/member_count.py).

PROFILE = "PROFILE"
META = "META"
PUBLIC_ROOMS = "PUBLIC_ROOMS"
USERNAME_SK = "USERNAME"
USER_PREFIX = "USER#"
USERNAME_PREFIX = "USERNAME#"
ROOM_PREFIX = "ROOM#"
MSG_PREFIX = "MSG#"
MSG_END = "MSG$"
"""Sorts after every message key of a room (`$` follows `#`): the top of a history range."""
SEQ_PREFIX = "SEQ#"
SEQ_END = "SEQ$"
"""Sorts after every change key of a room: the top of a feed range."""
MEMBER_PREFIX = "MEMBER#"
CLIENT_PREFIX = "CLIENT#"
CONN_PREFIX = "CONN#"
USERCONN_PREFIX = "USERCONN#"
ROOMCONN_PREFIX = "ROOMCONN#"
SUB_PREFIX = "SUB#"
INVITE_PREFIX = "INVITE#"
BLOCK_PREFIX = "BLOCK#"
BLOCKED_BY_PREFIX = "BLOCKEDBY#"
REPORT_PREFIX = "REPORT#"
REPORTS_PREFIX = "REPORTS#"
REPORTED_PREFIX = "REPORTED#"
LIMIT_PREFIX = "LIMIT#"
SESSION_DUE_PREFIX = "SESSIONDUE#"
REACTION_PREFIX = "r#"
REACTOR_PREFIX = "ru#"
REACTION_KINDS = "rk"
BAN_PREFIX = "BAN#"
MUTE_PREFIX = "MUTE#"
PIN_PREFIX = "PIN#"
AUDIT_PREFIX = "AUDIT#"
PUSH_PREFIX = "PUSH#"
NOTIFY_PREFIX = "NOTIFY#"
AUDIT_END = "AUDIT$"
"""Sorts after every audit key of a room: the top of an audit range."""
SLOW_AT = "slow_at"
"""On a membership item: when the member last posted in slow mode (epoch ms)."""
PIN_COUNT = "pins"
"""On a room's META item: how many pins it has (capped atomically with each pin)."""
MEMBER_COUNT = "member_count"
"""The room item's count of members, kept by ADD in each membership write."""

THREAD_PREFIX = "THREAD#"
MENTION_PREFIX = "MENTION#"
MENTION_AUTHOR = "author_id"
"""On a mention item: who wrote the mention (a member who blocked them does not count it)."""
THREAD_ONLY = "thread_only"
"""On a reply's message item seen only in its thread: history's FilterExpression skips it."""
LAST_CHANGE = "lseq"
"""On a message item: the seq of its last change (compare-and-set by each change)."""


def user_pk(user_id: str) -> str:
    return f"{USER_PREFIX}{user_id}"


def username_pk(username: str) -> str:
    return f"{USERNAME_PREFIX}{username.casefold()}"


def room_pk(room_id: str) -> str:
    return f"{ROOM_PREFIX}{room_id}"


def room_of_pk(pk: str) -> str:
    return pk.removeprefix(ROOM_PREFIX)


def member_sk(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def message_sk(message_id: str) -> str:
    return f"{MSG_PREFIX}{message_id}"


def client_sk(author_id: str, client_id: str) -> str:
    return f"{CLIENT_PREFIX}{author_id}#{client_id}"


def thread_gsi_pk(room_id: str, parent_id: str) -> str:
    """A thread's replies on GSI1, sorted by their message key."""
    return f"{THREAD_PREFIX}{room_id}#{parent_id}"


def mention_sk(user_id: str, message_id: str) -> str:
    """A mention of a member, sorted by message: counting theirs after the read marker is one
    Query."""
    return f"{MENTION_PREFIX}{user_id}#{message_id}"


def mentions_end(user_id: str) -> str:
    """Sorts after every mention key of the member (`$` follows `#`)."""
    return f"{MENTION_PREFIX}{user_id}$"


def connection_pk(connection_id: str) -> str:
    return f"{CONN_PREFIX}{connection_id}"


def user_connections_pk(user_id: str) -> str:
    return f"{USERCONN_PREFIX}{user_id}"


def room_connections_pk(room_id: str) -> str:
    return f"{ROOMCONN_PREFIX}{room_id}"


def subscription_sk(room_id: str) -> str:
    return f"{SUB_PREFIX}{room_id}"


def limit_pk(user_id: str) -> str:
    return f"{LIMIT_PREFIX}{user_id}"


def limit_sk(group: str, window_s: int, window: int) -> str:
    """One item per user, counted action group and window (domain/user_limits.py)."""
    return f"{group}#{window_s}#{window}"


def invite_sk(user_id: str) -> str:
    return f"{INVITE_PREFIX}{user_id}"


def invite_gsi_sk(room_id: str) -> str:
    return f"{INVITE_PREFIX}{room_id}"


def block_sk(blocked_user_id: str) -> str:
    return f"{BLOCK_PREFIX}{blocked_user_id}"


def ban_sk(user_id: str) -> str:
    return f"{BAN_PREFIX}{user_id}"


def mute_sk(user_id: str) -> str:
    return f"{MUTE_PREFIX}{user_id}"


def pin_sk(message_id: str) -> str:
    return f"{PIN_PREFIX}{message_id}"


def audit_sk(entry_id: str) -> str:
    return f"{AUDIT_PREFIX}{entry_id}"


def blocked_by_pk(blocked_user_id: str) -> str:
    """The reverse items of blocks: who blocked this user (a table Query, no index)."""
    return f"{BLOCKED_BY_PREFIX}{blocked_user_id}"


def blocked_of_sk(sk: str) -> str:
    return sk.removeprefix(BLOCK_PREFIX)


def report_sk(report_id: str) -> str:
    return f"{REPORT_PREFIX}{report_id}"


def reports_gsi_pk(room_id: str, status: str) -> str:
    """A room's reports in one status (open, resolved): the moderation queue's Query."""
    return f"{REPORTS_PREFIX}{room_id}#{status}"


def report_claim_sk(message_id: str, reporter_id: str) -> str:
    """One open report per reporter and message: its report id, while the report is open."""
    return f"{REPORTED_PREFIX}{message_id}#{reporter_id}"


def reaction_attribute(emoji: str) -> str:
    return f"{REACTION_PREFIX}{emoji}"


def reactor_attribute(user_id: str) -> str:
    return f"{REACTOR_PREFIX}{user_id}"


def session_due_pk(expires_at_s: int) -> str:
    """The bucket of sessions ending in the same minute: the sweeper Queries a few of these."""
    return f"{SESSION_DUE_PREFIX}{expires_at_s // 60}"


def session_due_sk(expires_at_s: int, connection_id: str) -> str:
    """Sorted by expiry inside the bucket, so `SK < {now+1:010d}` selects the ones due."""
    return f"{expires_at_s:010d}#{connection_id}"


def session_due_of(sk: str) -> tuple[str, int]:
    """(connection id, expires_at) of a session-due sort key."""
    expires, _, connection_id = sk.partition("#")
    return connection_id, int(expires)


def seq_sk(seq: int) -> str:
    """A room change's sort key: zero-padded, so key order is sequence order."""
    return f"{SEQ_PREFIX}{seq:012d}"


def seq_of(sk: str) -> int:
    return int(sk.removeprefix(SEQ_PREFIX))


CHANGE_STREAM_FILTER: dict[str, object] = {
    "eventName": ["INSERT"],
    "dynamodb": {"Keys": {"SK": {"S": [{"prefix": SEQ_PREFIX}]}}},
}
"""The fan-out's event filter on the table's stream (Lambda event filtering syntax): new room
changes only. The Pulumi program sets it on the event source mapping; the local stream applies
the same pattern."""


SEARCH_PREFIX = "SEARCH#"
SEARCH_DOC_PREFIX = "SEARCHDOC#"


def search_pk(room_id: str, term: str) -> str:
    """One room's posting list of one word: its messages' ids, newest first by sort key."""
    return f"{SEARCH_PREFIX}{room_id}#{term}"


def search_doc_pk(room_id: str) -> str:
    return f"{SEARCH_DOC_PREFIX}{room_id}"


SEARCH_STREAM_FILTER: dict[str, object] = {
    "eventName": ["INSERT"],
    "dynamodb": {
        "Keys": {"SK": {"S": [{"prefix": SEQ_PREFIX}]}},
        "NewImage": {"kind": {"S": ["posted", "edited", "deleted"]}},
    },
}
"""The search indexer's event filter on the table's stream: new message changes only (posts,
edits, deletes; not reactions, pins or membership). The Pulumi program sets it on the indexer's
event source mapping; the local stream applies the same pattern (local/indexing.py)."""

EXPORT_PREFIX = "EXPORT#"
"""A user's export jobs (issue 18), under their own partition (erasure takes them too)."""
EXPORT_RUNNING = "EXPORTRUN"
"""The user's running-export marker: not under EXPORT_PREFIX, so the jobs' Query skips it."""


# Account erasure (issue 18): the job, outside the user's partition so wiping `USER#{id}`
# leaves it, kept once done as the record that the account was erased.
# erasure job         ERASURE#{user_id}     JOB   (steps_done, room/message cursor, policy)
ERASURE_PREFIX = "ERASURE#"
ERASURE_SK = "JOB"


def erasure_pk(user_id: str) -> str:
    return f"{ERASURE_PREFIX}{user_id}"
