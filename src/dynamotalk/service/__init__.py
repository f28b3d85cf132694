"""The use cases of the chat behind one door, ChatService (service/chat.py)."""

from dynamotalk.service.bot import BotRequest
from dynamotalk.service.chat import ChatService

__all__ = ["BotRequest", "ChatService"]
