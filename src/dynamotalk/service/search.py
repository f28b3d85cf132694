"""Search within the rooms you can read (issue 18), and the indexer the table's stream feeds.

A query reads each term's posting list in a room, newest first, a window at a time, and
intersects them (postings are keys only); each message in every list is read from the message
store and checked: still there, not deleted (nor expired or erased: the store hides those), by
no one the caller blocked, and still having every term (the index may lag an edit).

Without a room, the caller's rooms are searched in room id order, at most
SEARCH_ROOMS_PER_REQUEST of them and SEARCH_POSTINGS_PER_REQUEST postings per request; the
cursor goes on where it stopped, so a page may be short (even empty) and still have a next
cursor.
"""

from __future__ import annotations

import attrs

from dynamotalk.domain import blocking
from dynamotalk.domain import search as s
from dynamotalk.domain.events import MessageDeleted, MessageEdited, MessagePosted, RoomChange
from dynamotalk.domain.models import Message, Principal
from dynamotalk.search_ports import SearchIndex
from dynamotalk.service.chat import ChatService


@attrs.frozen
class SearchPage:
    results: tuple[Message, ...]
    """Matching messages: newest first within a room, rooms in id order."""
    terms: tuple[str, ...]
    """The query's terms as matched (normalised): what a client may highlight."""
    next_cursor: str | None
    """Opaque; pass back with the same q and roomId for more. None: nothing more."""


@attrs.define
class Search:
    chat: ChatService
    index: SearchIndex

    def search(
        self,
        principal: Principal,
        q: str | None,
        room_id: str | None,
        cursor: str | None,
        limit: int | None,
    ) -> SearchPage:
        query = s.parse_query(q)
        size = s.clean_search_limit(limit)
        user_id = principal.user_id
        if room_id is not None:
            room, _ = self.chat._readable_room(principal, room_id)  # 404/403 as history
            room_id = room.room_id
        at = s.decode_search_cursor(cursor, user_id, room_id, query) if cursor else None
        rooms, more_rooms = self._rooms(user_id, room_id, at)
        blocks = [] if self.chat.block_list is None else self.chat.block_list.blocks_of(user_id)
        blocked = blocking.blocked_ids(blocks)
        found: list[Message] = []
        budget, reads = s.SEARCH_POSTINGS_PER_REQUEST, 0
        stop: s.Position | None = None
        for index, current in enumerate(rooms):
            spent = budget <= 0 or reads >= s.SEARCH_MESSAGE_READS_PER_REQUEST
            if len(found) >= size or spent:  # index > 0: the first room always reads
                stop = s.Position(rooms[index - 1], None)
                break
            after = at.after_id if at is not None and current == at.room_id else None
            done = stopped = False
            while not (done or stopped) and len(found) < size and budget > 0:
                # One term: a page's worth of its list. More: a window of each term's list,
                # intersected (postings are keys only: a read of hundreds costs an RRU or two).
                want = size - len(found) + 4 if len(query.terms) == 1 else s.SEARCH_WINDOW
                want = min(want, max(1, budget // len(query.terms)))
                lists = [self.index.postings(current, t, after, want) for t in query.terms]
                budget -= sum(len(ids) for ids in lists)
                ended = [n for n, ids in enumerate(lists) if len(ids) < want]
                if ended and len(lists) > 1:
                    # A list that ended holds all its word's ids below `after`: check them in
                    # the other words' lists (BatchGetItem) rather than page through those.
                    pivot = min(ended, key=lambda n: len(lists[n]))
                    others = [t for n, t in enumerate(query.terms) if n != pivot]
                    ids, bound = self._in_all(current, lists[pivot], others), None
                    budget -= len(lists[pivot]) * len(others)
                else:
                    # Below the oldest id of a list that filled its window, it is unknown.
                    bound = max((ids[-1] for ids in lists if len(ids) == want), default=None)
                    both = set.intersection(*(set(ids) for ids in lists))
                    ids = sorted((i for i in both if bound is None or i >= bound), reverse=True)
                for message_id in ids:
                    if reads >= s.SEARCH_MESSAGE_READS_PER_REQUEST:
                        stopped = True  # go on from the last one read
                        break
                    reads += 1
                    after = message_id
                    message = self.chat.messages.get(current, message_id)
                    if message is not None and _shown(message, query, blocked):
                        found.append(message)
                        if len(found) == size:
                            stopped = True
                            break
                if not stopped:
                    after, done = bound, bound is None
            if not done:  # stopped inside this room: go on from the last one read
                stop = s.Position(current, after)
                break
        else:
            if more_rooms:
                stop = s.Position(rooms[-1], None)  # more of the caller's rooms follow
        next_cursor = s.encode_search_cursor(user_id, room_id, query, stop) if stop else None
        return SearchPage(tuple(found), query.terms, next_cursor)

    def _in_all(self, room_id: str, ids: list[str], terms: list[str]) -> list[str]:
        """The ids (newest first) that every one of `terms` also indexes."""
        kept = set(ids)
        for term in terms:
            kept &= self.index.present(room_id, term, [i for i in ids if i in kept])
        return [i for i in ids if i in kept]

    def _rooms(
        self, user_id: str, room_id: str | None, at: s.Position | None
    ) -> tuple[list[str], bool]:
        """The rooms this request looks in, in order, and whether more of the caller's rooms
        follow them: the one asked for; else the caller's, from the cursor's room (if still a
        member and not done with it) on (one GetItem, one Query of GSI1)."""
        if room_id is not None:
            return [room_id], False
        first: list[str] = []
        going_on = at is not None and at.after_id is not None
        if at is not None and going_on and self.chat.rooms.member(at.room_id, user_id):
            first = [at.room_id]
        start = at.room_id if at is not None else None
        more = s.SEARCH_ROOMS_PER_REQUEST - len(first)
        page = self.chat.rooms.rooms_page(user_id, start, more)
        return first + [m.room_id for m in page], len(page) >= more


def _shown(message: Message, query: s.Query, blocked: frozenset[str]) -> bool:
    """A result the caller sees: not deleted, by no one they blocked, and still with every term
    (the index may be a step behind an edit)."""
    return (
        not message.deleted and message.author_id not in blocked and s.matches(message.text, query)
    )


@attrs.define
class SearchIndexer:
    """What the indexer function does with each message change from the stream."""

    index: SearchIndex

    def apply(self, change: RoomChange) -> None:
        if isinstance(change, MessagePosted | MessageEdited):
            message = change.message
            if message.deleted:
                self.index.remove(message.room_id, message.message_id)
            else:
                self.index.index(message.room_id, message.message_id, s.terms_of(message.text))
        elif isinstance(change, MessageDeleted):
            self.index.remove(change.message.room_id, change.message.message_id)
