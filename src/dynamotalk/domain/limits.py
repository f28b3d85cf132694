"""Every limit of the chat, once: the domain, the wire, the service, infra, the local stack,
the clients and the docs' tables read them here (per-user rate limits: user_limits.py)."""

from __future__ import annotations

import attrs

# API Gateway refuses WebSocket frames over 128 KB and payloads over 10 MB on HTTP; we stay
# well under the frame limit so a message event with metadata always fits one frame.
MAX_FRAME_BYTES = 32 * 1024
MAX_BODY_BYTES = 64 * 1024
UNREAD_CAP = 100
"""Unread counts stop at this number ("99+"), so a room list costs a bounded read."""

# Delivery v2 (docs/ARCHITECTURE.md, "The delivery path").
FANOUT_PAGE_SIZE = 1000
"""Connections one fan-out worker delivers a change to: a room with more live connections is
split into pages of this many, each handed to a page worker through the fan-out queue."""
FANOUT_POOL = 64
"""Concurrent PostToConnection calls inside one fan-out worker (a bounded thread pool)."""
FANOUT_PAGE_WORKERS = 16
"""Page workers at once (the page queue's maximum concurrency), so one huge room cannot take
the account's whole PostToConnection budget or Lambda concurrency."""
MAX_SEQ = 10**12 - 1
"""The highest seq a room reaches (the feed's keys are 12 digits): a thousand changes a second
for thirty years."""
RECEIPT_AUDIENCE = 200
"""Read receipts go to a room's live connections only while it has at most this many (and
only to members'): in a bigger room every read would cost a fan-out to all of them."""
CHANGE_LOG_DAYS = 30
"""A room's change feed keeps each change this long (DynamoDB TTL); a client further behind
gets `feed_expired` from sync and reloads the room's history."""
RECONNECT_BASE_MS = 500
"""Client reconnect backoff: attempt n waits a random time in [0, min(cap, base * 2**n)]
("full jitter"), so a thousand clients dropped together do not return together."""
RECONNECT_CAP_MS = 30_000


@attrs.frozen
class Limits:
    max_text: int = 4000
    """Characters of message text after trimming."""
    max_room_name: int = 80
    max_display_name: int = 64
    max_attachments: int = 10
    max_upload_bytes: int = 10 * 1024 * 1024
    max_avatar_bytes: int = 2 * 1024 * 1024
    page_size_default: int = 50
    page_size_max: int = 100
    upload_content_types: frozenset[str] = frozenset(
        {
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
            "application/zip",
            "audio/mpeg",
            "video/mp4",
        }
    )
    avatar_content_types: frozenset[str] = frozenset({"image/png", "image/jpeg", "image/webp"})
    connection_ttl_seconds: int = 2 * 3600 + 15 * 60
    """A little over API Gateway's 2-hour WebSocket limit."""
    max_reaction_kinds: int = 20
    """Different emoji on one message (Discord's cap; Slack's `too_many_emoji`)."""
    max_reactions_per_user: int = 10
    """Reactions one user may put on one message (Slack's `too_many_reactions`)."""
    max_message_bytes: int = 30 * 1024
    """A message's JSON, with room reserved for its most reactions: under the 32 KB frame."""
    max_page_bytes: int = 2_000_000
    """Messages' JSON in one history page: x3 for Lambda's re-escaping stays under 6 MB."""
    max_sync_bytes: int = 120 * 1024
    """Messages' JSON in one sync reply: a WebSocket message carries at most 128 KB."""
    max_rooms_per_user: int = 500
    """Memberships of one user (issue 13, M1); pending invites do not count."""
    max_pending_invites: int = 100
    """Pending invites one user holds; further invites are dropped until they decline some."""
    invite_ttl_seconds: int = 14 * 24 * 3600
    """A pending invite not answered in this time expires (DynamoDB TTL)."""
    message_retention_days: int = 0
    """The stage's retention of messages (`messageRetentionDays`; 0: kept forever); a room
    may choose a shorter one (domain/retention.py)."""
    retention_day_s: int = 86_400
    """A retention day in seconds: a day everywhere but in the local stack's tests
    (settings.LOCAL_RETENTION_DAY_S_ENV)."""


MAX_ID = 128
"""Characters of a room, message or user id taken from a client."""
MAX_CLIENT_ID = 64
"""Characters of a message's client id (the idempotency key of a post)."""
UPLOAD_URL_EXPIRES_S = 300
"""A presigned upload URL (PUT) lives this long."""
DOWNLOAD_URL_EXPIRES_S = 900
"""A presigned download URL (GET) lives this long."""

MAX_EMOJI_CHARS = 16
"""Code points of the longest reaction accepted (the longest emoji has 10)."""
MAX_ROOM_IDS = 100
"""Rooms one subscribe or unsubscribe frame may name."""
MAX_MEMBERS_AT_CREATION = 100
"""People a room may be created with (each gets an invite)."""
MAX_FILENAME_OUT = 100
"""Characters kept of an attachment's file name in its S3 key."""
MAX_RAW_TEXT = 4 * Limits().max_text
"""Characters of message text a frame may carry before trimming (the service then checks
Limits.max_text): generous for surrounding whitespace, yet bounded before any work."""
MAX_RAW_NAME = 200
"""Characters of a room or display name before the service trims and checks it."""
MAX_TOKEN_CHARS = 8192
"""Characters of a token offered to sign in a socket or renew its session (any longer token
is refused before it is decoded)."""
MAX_KEY_CHARS = 1024
"""Characters of an S3 object key a client names (an attachment or an avatar): S3's own limit."""
MAX_FILENAME_CHARS = 255
"""Characters of an upload's file name as the client sends it."""
MAX_CONTENT_TYPE_CHARS = 128
"""Characters of an upload's content type as the client sends it."""
MAX_SIZE_BYTES = 10**10
"""Sizes beyond this are nonsense, refused before the service's own upload limits."""
MAX_REQUEST_ID = 64
"""Characters of a frame's requestId."""
SESSION_SWEEP_INTERVAL_S = 60
"""How often idle sockets whose session ended are closed (the sweeper's schedule; EventBridge's
finest rate is one minute): a socket outlives its token by at most this, and any frame it sends
after its token's expiry is refused at once."""

# Moderation (issue 17, docs/PROTOCOL.md "Roles and moderation").
MAX_SLOW_MODE_S = 6 * 3600
"""The longest slow mode interval a room may have (Slack's and Discord's is 6 hours)."""
MAX_MUTE_S = 28 * 24 * 3600
"""The longest mute (Discord's timeout cap): longer than that is a ban."""
MAX_PINS = 50
"""Pinned messages one room holds at most (Slack's and Discord's cap is 50 or 100)."""
MAX_BAN_REASON = 500
"""Characters of a ban's reason."""
AUDIT_PAGE_DEFAULT = 50
"""Audit log entries per page unless `limit` says otherwise (at most Limits.page_size_max)."""
MAX_PIN_TEXT = 500
"""Characters of a pinned message's text the pin keeps (the message as it was when pinned)."""
# Reports (issue 17, "Block and report").
MAX_REPORT_NOTE = 500
"""Characters of a report's optional note, and of a resolution's."""
REPORT_CONTEXT = 2
"""Messages before the reported one kept with the report (as snapshots), for the moderators."""
REPORTS_PAGE_MAX = 20
"""Reports per page of the moderation queue (also its default): each carries the snapshots of
up to REPORT_CONTEXT + 1 messages, so a page stays well under max_page_bytes."""

# Threads, quotes and mentions (issue 17; docs/PROTOCOL.md "Threads, quotes and mentions").
QUOTE_CHARS = 280
"""Characters of the quoted message's text a quote keeps (its snapshot is cut there)."""
MAX_MENTIONS = 20
"""Distinct `@username` tokens one message may carry: more is refused (invalid_input). Each
resolved mention costs one small write in the post's transaction (docs/ARCHITECTURE.md)."""
