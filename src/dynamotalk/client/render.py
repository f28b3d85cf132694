"""How the terminal client prints a message (docs/PROTOCOL.md "Threads, quotes and mentions",
"Blocking and reports", "Roles and moderation"): its short `#id` to type in commands, a reply
with the thread it belongs to, a thread's reply count, a quote above the message, a mention of
the reader marked, a blocked author's stub, and who deleted a message when a moderator did.
Pure: the lines are built from the message and the names the chat knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynamotalk.client.arguments import short

BLOCKED_STUB = "[message from a blocked user]"
"""A message of someone the reader blocked (the server sends it with `hidden: "blocked"`)."""
MENTION_MARK = "(@you) "
"""Leads a message that mentions the reader (`mentions` holds their id, or `@room`/`@here`)."""
QUOTE_SNIPPET = 80
"""Characters of a quote's snapshot the terminal shows above the quoting message."""

Names = Callable[[str], str]
"""user id -> the name to print."""


def mentions_me(message: dict[str, Any], me: str) -> bool:
    return bool(me and me in message.get("mentions", ())) or bool(message.get("mentionsAll"))


def replies(count: int) -> str:
    return f"{count} {'reply' if count == 1 else 'replies'}"


def body(message: dict[str, Any], name_of: Names) -> str:
    """The message's text as printed: a stub, a deletion (by whom, if not the author), or the
    text with its attachments' names."""
    if message.get("hidden") == "blocked":
        return BLOCKED_STUB
    if message.get("deleted"):
        by = message.get("deletedBy")
        return f"(deleted by {name_of(by)})" if by and by != message["authorId"] else "(deleted)"
    files = " ".join(f"[{a['name']}]" for a in message.get("attachments", []))
    return f"{message['text']} {files}".rstrip()


def message_lines(
    message: dict[str, Any],
    room: str,
    me: str,
    name_of: Names,
    prefix: str = "",
    thread_count: int | None = None,
) -> list[str]:
    """The lines of one message: its quote (when it quotes one), then the message itself. A
    reply says its thread's reply count when the post brought it (`thread_count`)."""
    lines = []
    quote = message.get("quote")
    if quote and message.get("hidden") != "blocked":
        text = quote["text"]
        snippet = text[:QUOTE_SNIPPET] + ("…" if len(text) > QUOTE_SNIPPET else "")
        lines.append(f"    > {quote.get('authorName') or name_of(quote['authorId'])}: {snippet}")
    author = name_of(message["authorId"])
    kind = message.get("authorKind", "user")
    if kind != "user":  # set by the server from the author id, never by the sender
        author = f"{author} [{kind}]"
    mark = MENTION_MARK if mentions_me(message, me) and not message.get("hidden") else ""
    said = f"{author}: "
    if message.get("parentId"):
        notes = [] if message.get("alsoInRoom") else ["thread only"]
        notes += [replies(thread_count)] if thread_count else []
        where = f" ({', '.join(notes)})" if notes else ""
        said = f"↳ {author} in thread of {short(message['parentId'])}{where}: "
    count = message.get("replyCount") or 0
    counted = f" [{replies(count)}]" if count else ""
    lines.append(
        f"{prefix}{mark}[{room}] {said}{body(message, name_of)}{counted}  {short(message['id'])}"
    )
    return lines
