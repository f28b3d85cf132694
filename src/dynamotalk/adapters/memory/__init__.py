"""In-memory implementations of every port: for unit tests and `dynamotalk dev --in-memory`.

They keep the exact promises of ports.py (the same contract suite runs against them and the
DynamoDB adapters), and a lock per store so the local gateway's threads can share them.
"""

from dynamotalk.adapters.memory.connections import MemoryConnectionRegistry
from dynamotalk.adapters.memory.fakes import (
    ManualClock,
    MemoryAttachmentStore,
    RecordingNotifier,
    SequentialIds,
)
from dynamotalk.adapters.memory.feed import MemoryChangeFeed
from dynamotalk.adapters.memory.messages import MemoryMessageStore
from dynamotalk.adapters.memory.reports import MemoryReportStore
from dynamotalk.adapters.memory.rooms import MemoryRoomStore
from dynamotalk.adapters.memory.users import MemoryUserStore

__all__ = [
    "ManualClock",
    "MemoryAttachmentStore",
    "MemoryChangeFeed",
    "MemoryConnectionRegistry",
    "MemoryMessageStore",
    "MemoryReportStore",
    "MemoryRoomStore",
    "MemoryUserStore",
    "RecordingNotifier",
    "SequentialIds",
]
