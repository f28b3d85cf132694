"""Threads, quotes and mentions: what a post adds to its message (a parent, a quote's
snapshot, the members it calls) and the thread view.

A reply's count on its parent is kept by the message store, in the post's own transaction
(ports.MessageStore.append); the mention events go out from the fan-out (service/delivery.py),
never from the sender's invocation.
"""

from __future__ import annotations

from dynamotalk.domain import authz, blocking, budget, rules
from dynamotalk.domain.cursor import decode_cursor, encode_cursor
from dynamotalk.domain.errors import InvalidInput, NotFound
from dynamotalk.domain.limits import QUOTE_CHARS
from dynamotalk.domain.mentions import called_in
from dynamotalk.domain.models import (
    Membership,
    MentionAll,
    Principal,
    Quote,
    Room,
    ThreadPage,
)
from dynamotalk.ports import MessageStore
from dynamotalk.service.core import ChatCore, check_message_id
from dynamotalk.thread_ports import ThreadStore


def threads_of(messages: MessageStore) -> ThreadStore:
    """The message store's thread and mention reads (every MessageStore has them)."""
    assert isinstance(messages, ThreadStore), "a MessageStore without thread reads"
    return messages


def thread_scope(room_id: str, parent_id: str) -> str:
    """What a thread's cursor is bound to: one thread of one room."""
    return f"{room_id}#thread#{parent_id}"


class Threads(ChatCore):
    def _parent_for(self, room: Room, parent_id: str | None, also_in_room: bool) -> str | None:
        """The id a reply's `parentId` names, checked: a live message of the room that is not
        itself a reply (threads are one level deep). The store checks again, atomically."""
        if parent_id is None:
            if also_in_room:
                raise InvalidInput("alsoInRoom is for replies: give parentId too")
            return None
        parent = self.messages.get(room.room_id, check_message_id(parent_id))
        if parent is None or parent.deleted:
            raise NotFound("no such message to reply to")
        if parent.parent_id is not None:
            raise InvalidInput("cannot reply to a reply: reply to its thread's first message")
        return parent.message_id

    def _quote_of(self, room: Room, message_id: str | None) -> Quote | None:
        """A snapshot of a live message of the same room, its text cut to QUOTE_CHARS."""
        if message_id is None:
            return None
        quoted = self._message(room.room_id, message_id)
        author = self.users.get(quoted.author_id)
        return Quote(
            message_id=quoted.message_id,
            author_id=quoted.author_id,
            author_name=author.display_name if author else quoted.author_id,
            created_at=quoted.created_at,
            text=quoted.text[:QUOTE_CHARS],
        )

    def _called(
        self, room: Room, membership: Membership, text: str
    ) -> tuple[tuple[str, ...], MentionAll | None]:
        """(member ids the text calls by name, `@room`/`@here`). A name resolves only to a
        member of the room (never the author), so the answer is the same whether a non-member
        exists or not: one look-up per name, then one batch read of the room's memberships.
        `@room`/`@here` from a role authz.Act.MENTION_ALL does not allow is refused."""
        called = called_in(text)
        if called.everyone is not None:
            authz.require(membership, authz.Act.MENTION_ALL, room.kind)
        if not called.usernames:
            return (), called.everyone
        order: dict[str, int] = {}
        for position, name in enumerate(called.usernames):
            user = self.users.by_username(name)
            if user is not None and user.user_id != membership.user_id:
                order.setdefault(user.user_id, position)
        members = self.rooms.members_among(room.room_id, sorted(order)) if order else []
        ids = sorted((m.user_id for m in members), key=lambda u: order[u])
        return tuple(ids), called.everyone

    def thread(
        self,
        principal: Principal,
        room_id: str,
        message_id: str,
        cursor: str | None,
        limit: int | None,
    ) -> ThreadPage:
        """A thread's first message and a page of its replies, oldest first; `next_cursor`
        pages on to newer replies. One GetItem (the parent, with its counts) and one Query, and the
        reader's blocks (one Query) so a blocked author's messages are stubs as in history."""
        room, _ = self._readable_room(principal, room_id)
        parent = self.messages.get(room.room_id, check_message_id(message_id))
        if parent is None:
            raise NotFound("no such message")
        if parent.parent_id is not None:
            raise InvalidInput("this message is a reply: open its thread's first message")
        size = rules.clean_page_size(limit, self.limits)
        scope = thread_scope(room.room_id, parent.message_id)
        after = decode_cursor(cursor, scope) if cursor else None
        found = threads_of(self.messages).thread(room.room_id, parent.message_id, after, size + 1)
        room_left = self.limits.max_page_bytes - budget.message_bytes(parent)
        page = budget.within(found[:size], room_left) if found else []
        more = len(found) > len(page)
        next_cursor = encode_cursor(scope, page[-1].message_id) if more and page else None
        # Those the reader blocked are stubs here too, as in history (domain/blocking.py).
        hidden = (
            blocking.blocked_ids(self.block_list.blocks_of(principal.user_id))
            if self.block_list is not None
            else frozenset[str]()
        )
        [shown_parent] = blocking.hide_messages((parent,), hidden)
        return ThreadPage(
            parent=shown_parent,
            replies=blocking.hide_messages(tuple(page), hidden),
            next_cursor=next_cursor,
        )
