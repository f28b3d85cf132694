"""The bot's use cases: reading a request it was asked to answer, and posting its answer.

A bot job (bot.py's BotWorker) calls these two and the model in between; the worker never
reaches past them into the stores.
"""

from __future__ import annotations

import attrs

from dynamotalk.domain.bot import APOLOGY, BOT
from dynamotalk.domain.models import Message
from dynamotalk.domain.text import scrub
from dynamotalk.service.messages import Messages


@attrs.frozen
class BotRequest:
    """A message the bot was asked to answer, with what the model is shown beside it."""

    message: Message
    context: tuple[Message, ...]
    """The room's messages just before it, oldest first."""
    names: dict[str, str]
    """Username of each author of `message` and `context`, by user id."""


class BotUseCases(Messages):
    def open_bot_request(
        self, room_id: str, message_id: str, context_size: int
    ) -> BotRequest | None:
        """The request behind a bot job, with the bot shown typing in its room; None when
        there is nothing to answer (gone, deleted, or the bot's own message)."""
        request = self.messages.get(room_id, message_id)
        if request is None or request.deleted or request.author_id == BOT.user_id:
            return None
        self.typing(BOT, room_id)
        context = tuple(reversed(self.messages.before(room_id, message_id, context_size)))
        authors = {m.author_id for m in [*context, request]}
        names = {u.user_id: u.username for u in self.users.get_many(sorted(authors))}
        return BotRequest(request, context, names)

    def post_bot_answer(self, room_id: str, message_id: str, text: str) -> Message:
        """The bot's answer to one request, posted as an ordinary message: the model's text
        scrubbed and cut to the message limit (an apology when nothing is left). Its client id
        comes from the request's, so a job delivered twice still yields one answer."""
        answer = scrub(text).strip()[: self.limits.max_text] or APOLOGY
        return self.post_message(BOT, room_id, answer, f"bot-reply-{message_id}")
