"""The use cases of the chat behind one door, ChatService (service/chat.py)."""

from dynamotalk.service.bot import BotRequest
from dynamotalk.service.chat import ChatService
from dynamotalk.service.files import safe_filename

__all__ = ["BotRequest", "ChatService", "safe_filename"]
