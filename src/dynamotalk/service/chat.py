"""ChatService: the use cases of the chat, the only entry to the core.

Every method takes the caller's Principal (proven by the identity provider at the edge), checks
the rules, talks to the ports and emits events to the room's subscribed connections. It raises
only ChatError subclasses for refusals; the entrypoints turn them into error frames or 4xx.
Each area lives in its own module of this package; this class puts them behind one door.
"""

from __future__ import annotations

import attrs

from dynamotalk.domain.limits import Limits
from dynamotalk.domain.user_limits import UserLimits
from dynamotalk.ports import (
    AttachmentStore,
    BotJobs,
    Clock,
    ConnectionRegistry,
    IdGenerator,
    MessageStore,
    Notifier,
    RateLimiter,
    RoomStore,
    UserStore,
)
from dynamotalk.service.bot import BotUseCases
from dynamotalk.service.presence import Presence
from dynamotalk.service.profiles import Profiles
from dynamotalk.service.rooms import Rooms


@attrs.define
class ChatService(BotUseCases, Rooms, Presence, Profiles):
    messages: MessageStore
    rooms: RoomStore
    users: UserStore
    connections: ConnectionRegistry
    notifier: Notifier
    attachments: AttachmentStore
    clock: Clock
    ids: IdGenerator
    limits: Limits = attrs.Factory(Limits)
    bot_jobs: BotJobs | None = None
    """Given where a bot participant runs: messages for it are queued, never awaited."""
    limiter: RateLimiter | None = None
    """Counts each user's actions against `user_limits`; None (tests) counts nothing."""
    user_limits: UserLimits = attrs.Factory(UserLimits)
