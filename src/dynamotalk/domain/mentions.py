"""`@username`, `@room` and `@here` in a message's text: which names it calls.

The tokens are found here; the service resolves names to the room's members (never to anyone
else, so an answer never tells whether a non-member exists) and asks domain/authz.py whether
the author may call everyone.
"""

from __future__ import annotations

import re

import attrs

from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.events import Mentioned, MessagePosted
from dynamotalk.domain.identities import USERNAME_MAX
from dynamotalk.domain.limits import MAX_MENTIONS
from dynamotalk.domain.models import MentionAll

TOKEN = re.compile(rf"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{{0,{USERNAME_MAX - 1}}})(?![\w@-])")
"""`@name` not inside a word or an e-mail address; a trailing '.' is the sentence's, not the
name's (`@alice.` calls alice)."""


@attrs.frozen
class Called:
    """The names a text calls."""

    usernames: tuple[str, ...]
    """Distinct, case folded, in order of first appearance; neither `room` nor `here`."""
    everyone: MentionAll | None


def called_in(text: str) -> Called:
    """The `@` tokens of `text`; InvalidInput past MAX_MENTIONS distinct names (counted from
    the text alone, so the refusal says nothing about who exists)."""
    names: dict[str, None] = {}
    everyone: MentionAll | None = None
    for match in TOKEN.finditer(text):
        name = match.group(1).rstrip(".").casefold()
        if name in (MentionAll.ROOM, MentionAll.HERE):
            # @room outranks @here when a message has both.
            if everyone is not MentionAll.ROOM:
                everyone = MentionAll(name)
        elif name:
            names[name] = None
    if len(names) > MAX_MENTIONS:
        raise InvalidInput(f"a message may mention at most {MAX_MENTIONS} people")
    return Called(tuple(names), everyone)


def mentions_of(change: MessagePosted) -> list[Mentioned]:
    """The mention event for each member a post calls by name (the fan-out sends them)."""
    m = change.message
    return [Mentioned(m.room_id, m.message_id, change.seq, m.author_id, u) for u in m.mentions]
