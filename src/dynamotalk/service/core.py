"""What every use case of the chat shares: its ports, the caller's rate limits, and the reads
that find a room, a message or a member (or refuse)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import attrs

from dynamotalk.domain import bot, rules
from dynamotalk.domain.errors import InvalidInput, NotFound, RateLimited, Unauthorized
from dynamotalk.domain.ids import is_ulid
from dynamotalk.domain.limits import MAX_ID, Limits
from dynamotalk.domain.models import Membership, Message, Principal, Room, User
from dynamotalk.domain.user_limits import Action, UserLimits
from dynamotalk.ports import (
    AttachmentStore,
    BotJobs,
    ChangeFeed,
    Clock,
    ConnectionCloser,
    ConnectionRegistry,
    IdGenerator,
    MessageStore,
    Notifier,
    RateLimiter,
    RoomStore,
    UserStore,
)
from dynamotalk.ports_moderation import MessageModeration, ModerationStore
from dynamotalk.ports_reports import BlockList, ReportStore


def check_id(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID or not value.isprintable():
        raise InvalidInput(f"{what} is not valid")
    return value


def check_message_id(value: str) -> str:
    if not is_ulid(value):
        raise InvalidInput("messageId is not a valid message id")
    return value


@attrs.define
class ChatCore:
    """The ports ChatService is built with, and the helpers each of its areas uses."""

    messages: MessageStore
    rooms: RoomStore
    users: UserStore
    connections: ConnectionRegistry
    notifier: Notifier
    attachments: AttachmentStore
    clock: Clock
    ids: IdGenerator
    feed: ChangeFeed
    """Every room's changes, written by the message and room stores with each change."""
    limits: Limits = attrs.Factory(Limits)
    bot_jobs: BotJobs | None = None
    """Given where a bot participant runs: messages for it are queued, never awaited."""
    limiter: RateLimiter | None = None
    """Counts each user's actions against `user_limits`; None (tests) counts nothing."""
    user_limits: UserLimits = attrs.Factory(UserLimits)
    moderation: ModerationStore = attrs.Factory(
        lambda self: cast("ModerationStore", self.rooms), takes_self=True
    )
    """Settings, mutes, bans, slow mode, pins, audit log: the room store's other half."""
    moderated_messages: MessageModeration = attrs.Factory(
        lambda self: cast("MessageModeration", self.messages), takes_self=True
    )
    closer: ConnectionCloser | None = None
    """DeleteConnection: a ban closes the banned user's sockets that followed only that room
    (None: sockets stay open, only their subscriptions end)."""
    block_list: BlockList | None = None
    """Who blocked whom (kept by the room store); None: nobody's messages are hidden."""
    reports: ReportStore | None = None
    """The rooms' reports (their moderation queues); None: reporting is refused."""
    erased: Callable[[str], bool] | None = None
    """Whether a user id's account was erased (erasure_root.erased): a token that outlives
    its account never brings a profile back (asked only when the profile is missing)."""

    def _limit(self, user_id: str, action: Action, amount: int = 1, size: int = 0) -> None:
        """Count one action against the user's limits (one conditional update); the bot's own
        actions are not counted (requests to it are, per user)."""
        if self.limiter is None or user_id == bot.BOT.user_id:
            return
        charges = self.user_limits.charges(action, amount, size)
        retry_after_ms = self.limiter.take(user_id, action, charges, self.clock.now_ms())
        if retry_after_ms is not None:
            raise RateLimited(self.user_limits.refusal(action), retry_after_ms=retry_after_ms)

    def _room(self, room_id: str) -> Room:
        room = self.rooms.get(check_id(room_id, "roomId"))
        if room is None:
            raise NotFound("no such room")
        return room

    def _readable_room(self, principal: Principal, room_id: str) -> tuple[Room, Membership | None]:
        room = self._room(room_id)
        membership = self.rooms.member(room.room_id, principal.user_id)
        rules.require_read(room, membership)
        return room, membership

    def _message(self, room_id: str, message_id: str) -> Message:
        message = self.messages.get(room_id, check_message_id(message_id))
        if message is None or message.deleted:
            raise NotFound("no such message")
        return message

    def _direct_consented(self, room_id: str) -> bool:
        """Whether both members of a direct room took part in it: each posted in it (or marked
        it read). Until then neither sees the other's presence or lastSeen through it, so
        opening a direct room with a stranger reveals nothing about them."""
        members = self.rooms.members(room_id)
        return len(members) == 2 and all(m.last_read_id is not None for m in members)

    def ensure_user(self, principal: Principal) -> User:
        """The caller's profile, created from the token's claims on first sight."""
        user = self.users.get(principal.user_id)
        if user is None and self.erased is not None and self.erased(principal.user_id):
            raise Unauthorized("this account was erased")
        if user is None:
            user = User(
                user_id=principal.user_id,
                username=principal.username,
                display_name=principal.username,
                created_at=self.clock.now_ms(),
            )
            self.users.put(user)
        return user
