"""Messages: posting, editing, deleting, reacting, reading history and typing."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dynamotalk import metrics
from dynamotalk.domain import blocking, bot, budget, retention, rules
from dynamotalk.domain.authz import Act
from dynamotalk.domain.cursor import decode_cursor, encode_cursor
from dynamotalk.domain.errors import FeedExpired, InvalidInput, NotFound
from dynamotalk.domain.events import ChangePage, Typing
from dynamotalk.domain.limits import MAX_CLIENT_ID
from dynamotalk.domain.models import Attachment, HistoryPage, Message, Principal, SyncResult
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.access import Access
from dynamotalk.service.core import check_message_id
from dynamotalk.service.fanout import BotAsked
from dynamotalk.service.files import Files
from dynamotalk.service.moderation import after_delete, require_may_delete, require_may_write
from dynamotalk.service.threads import Threads


class Messages(Access, Files, Threads):
    def post_message(
        self,
        principal: Principal,
        room_id: str,
        text: str,
        client_id: str,
        attachments: Sequence[Attachment] = (),
        parent_id: str | None = None,
        also_in_room: bool = False,
        quote_id: str | None = None,
    ) -> Message:
        """Store a message exactly once per client id; the sender's ack needs nothing more.

        Storing it numbers it in the room's change feed in the same step, and the feed drives
        its delivery (service/delivery.py), whatever the room's size. A retry with the same
        client id returns the message stored the first time, whose delivery is already under way.

        A reply (`parent_id`) is counted on its parent in the same step; a quote keeps a
        snapshot of the quoted message; `@name`s resolve to the room's members
        (service/threads.py).
        """
        self._limit(principal.user_id, Action.MESSAGE)
        room = self._room(room_id)
        membership = require_may_write(self, principal, room, Act.POST, slow=True)
        self._require_not_blocked_in_direct(principal, room)
        if not client_id or len(client_id) > MAX_CLIENT_ID or not client_id.isprintable():
            raise InvalidInput(f"clientId must be 1..{MAX_CLIENT_ID} printable characters")
        # Attachments may go without words; any text follows the one rule for message text.
        blank = bool(attachments) and not text.strip()
        clean_text = "" if blank else rules.clean_text(text, self.limits)
        keep_days = retention.effective_days(
            room.retention_days, self.limits.message_retention_days
        )
        stored_attachments = self._check_attachments(
            principal, room.room_id, attachments, keep_days
        )
        parent = self._parent_for(room, parent_id, also_in_room)
        quote = self._quote_of(room, quote_id)
        mentions, mentions_all = self._called(room, membership, clean_text)
        now = self.clock.now_ms()
        expires_at = retention.expires_at(now, keep_days, self.limits.retention_day_s)
        if quote is not None:  # a quote's copy of the text goes no later than the text itself
            quoted = self._message(room.room_id, quote.message_id)
            expires_at = retention.earliest(expires_at, quoted.expires_at)
        message = Message(
            message_id=self.ids.new_id(now),
            room_id=room.room_id,
            author_id=principal.user_id,
            text=clean_text,
            created_at=now,
            client_id=client_id,
            attachments=stored_attachments,
            parent_id=parent,
            also_in_room=also_in_room and parent is not None,
            quote=quote,
            mentions=mentions,
            mentions_all=mentions_all,
            expires_at=expires_at,
        )
        budget.check_message(message, self.limits)
        # A request to the bot is counted before anything is stored: refused, nothing happened.
        for_bot = self.bot_jobs is not None and bot.wants_reply(
            room, message, lambda: self.rooms.member(room.room_id, bot.BOT.user_id) is not None
        )
        if for_bot:
            self._limit(principal.user_id, Action.BOT)
        stored, created = self.messages.append(message)
        if created:
            metrics.record(metrics.Metric.MESSAGES_POSTED)  # a retry stores nothing: not counted
            self.rooms.mark_read(room.room_id, principal.user_id, stored.message_id)
            asked = [BotAsked(room.room_id, stored.message_id)] if for_bot else []
            self._publish(*asked)
        return stored

    def edit_message(
        self, principal: Principal, room_id: str, message_id: str, text: str
    ) -> Message:
        """Only the author edits, and only while still a member and not deleted."""
        self._limit(principal.user_id, Action.MESSAGE)  # an edit re-sends the whole message
        room = self._room(room_id)
        require_may_write(self, principal, room, Act.POST)
        message = self._message(room.room_id, message_id)
        rules.require_author(message, principal.user_id)
        clean_text = rules.clean_text(text, self.limits)
        budget.check_message(attrs.evolve(message, text=clean_text), self.limits)
        return self.messages.edit(room.room_id, message.message_id, clean_text, self.clock.now_ms())

    def delete_message(self, principal: Principal, room_id: str, message_id: str) -> Message:
        """The author deletes, or a moderator who outranks the author (Act.DELETE_OTHERS; an
        author who left is outranked by all), recorded as `deletedBy` and in the audit log. The
        slot stays in history (soft delete); a pin of it goes."""
        self._limit(principal.user_id, Action.MESSAGE)
        room = self._room(room_id)
        membership = rules.require_member_of(
            room, self.rooms.member(room.room_id, principal.user_id)
        )
        message = self.messages.get(room.room_id, check_message_id(message_id))
        if message is None:
            raise NotFound("no such message")
        by = require_may_delete(self, room, membership, message)
        if message.deleted:
            return message
        deleted = self.moderated_messages.soft_delete_by(
            room.room_id, message.message_id, self.clock.now_ms(), by
        )
        after_delete(self, room, principal, deleted)
        return deleted

    def react(self, principal: Principal, room_id: str, message_id: str, emoji: str) -> Message:
        """Toggle the caller's reaction with `emoji` on a message, within the reaction caps.

        The caps are checked here for a clear early refusal and again, atomically, by the store.
        """
        self._limit(principal.user_id, Action.REACTION)
        room = self._room(room_id)
        require_may_write(self, principal, room, Act.REACT)
        clean_emoji = rules.clean_emoji(emoji)
        message = self._message(room.room_id, message_id)
        on = principal.user_id not in message.reactions.get(clean_emoji, frozenset())
        if on:
            rules.check_reaction_caps(message, clean_emoji, principal.user_id, self.limits)
        return self.messages.set_reaction(
            room.room_id, message.message_id, clean_emoji, principal.user_id, on, self.limits
        )

    def history(
        self, principal: Principal, room_id: str, cursor: str | None, limit: int | None
    ) -> HistoryPage:
        """A page of messages, newest first; `next_cursor` pages further back."""
        room, _ = self._readable_room(principal, room_id)
        size = rules.clean_page_size(limit, self.limits)
        before = decode_cursor(cursor, room.room_id) if cursor else None
        # The feed's position first: whatever changes after it, the feed from it has.
        seq = self.feed.head(room.room_id)
        found = self.messages.before(room.room_id, before, size + 1)
        page = budget.within(found[:size], self.limits.max_page_bytes)
        more = len(found) > len(page)
        next_cursor = encode_cursor(room.room_id, page[-1].message_id) if more else None
        shown = blocking.hide_messages(tuple(page), self._hidden_authors(principal))
        return HistoryPage(messages=shown, next_cursor=next_cursor, seq=seq)

    def sync(
        self, principal: Principal, room_id: str, after_id: str | None, limit: int | None
    ) -> SyncResult:
        """Exactly the messages after `after_id` (oldest first): catch-up after a reconnect."""
        room, _ = self._readable_room(principal, room_id)
        size = rules.clean_page_size(limit, self.limits)
        after = check_message_id(after_id) if after_id else None
        found = self.messages.after(room.room_id, after, size + 1)
        page = budget.within(found[:size], self.limits.max_sync_bytes)
        shown = blocking.hide_messages(tuple(page), self._hidden_authors(principal))
        return SyncResult(messages=shown, has_more=len(found) > len(page))

    def changes(
        self, principal: Principal, room_id: str, after_seq: int, limit: int | None
    ) -> ChangePage:
        """Every change of the room after `after_seq`, oldest first (sync v2): a client that
        applies them in order, from any seq it holds, converges to the room's state."""
        room, _ = self._readable_room(principal, room_id)
        if after_seq < 0:
            raise InvalidInput("afterSeq must be 0 or more")
        size = rules.clean_page_size(limit, self.limits)
        found = self.feed.after(room.room_id, after_seq, size + 1)
        if (found and found[0].seq != after_seq + 1) or (not found and after_seq > 0):
            head = self.feed.head(room.room_id)
            if after_seq > head:
                raise InvalidInput("afterSeq is past the room's last change")
            if found or after_seq < head:
                raise FeedExpired("the room's feed no longer holds that seq: reload the history")
        page = budget.within_changes(found[:size], self.limits.max_sync_bytes)
        seq = page[-1].seq if page else after_seq
        shown = blocking.hide_changes(tuple(page), self._hidden_authors(principal))
        shown = retention.hide_expired_changes(shown, self.clock.now_ms() / 1000)
        return ChangePage(room.room_id, shown, seq, has_more=len(found) > len(page))

    def typing(self, principal: Principal, room_id: str, connection_id: str | None = None) -> None:
        """Tell the room's other connections the caller is typing. Never stored."""
        self._limit(principal.user_id, Action.TYPING)
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        event = Typing(room.room_id, principal.user_id, principal.username)
        self._broadcast(room.room_id, event, exclude=connection_id)
