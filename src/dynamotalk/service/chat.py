"""ChatService: the use cases of the chat, the only entry to the core.

Every method takes the caller's Principal (proven by the identity provider at the edge), checks
the rules, talks to the ports and emits events to the room's subscribed connections. It raises
only ChatError subclasses for refusals; the entrypoints turn them into error frames or 4xx.
Each area lives in its own module of this package; this class puts them behind one door.
"""

from __future__ import annotations

import attrs

from dynamotalk.service.bot import BotUseCases
from dynamotalk.service.presence import Presence
from dynamotalk.service.profiles import Profiles
from dynamotalk.service.reports import Reports
from dynamotalk.service.rooms import Rooms


@attrs.define
class ChatService(BotUseCases, Rooms, Presence, Profiles, Reports):
    """Every area behind one door; its fields (the ports) are ChatCore's."""
