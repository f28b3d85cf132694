"""Search within the rooms you can read (issue 18): the words a message is indexed under, the
query a caller may ask, and the opaque cursor of a result page.

Indexing and querying share one tokenizer, so a query term matches exactly the words the
message was indexed under: NFKC normalisation (full-width and compatibility forms fold to their
plain letters), case folding (`Straße` matches `STRASSE`), words as runs of Unicode letters and
digits (any script; `_` and punctuation split words), each cut to SEARCH_MAX_TERM_CHARS. Words
shorter than SEARCH_MIN_TERM_CHARS and a few very common English words are not indexed: they
would make the biggest posting lists and narrow nothing. A message is indexed under at most
SEARCH_MAX_TERMS_PER_MESSAGE distinct words (its first ones), which bounds the writes one post
can cost (one index item per word) whatever its length.

Every query term must match (AND); no prefix or phrase matching (a term is a whole word).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata

import attrs

from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.ids import is_ulid

SEARCH_MIN_TERM_CHARS = 2
"""Shorter words are neither indexed nor accepted as query terms."""
SEARCH_MAX_TERM_CHARS = 32
"""Longer words are indexed (and queried) by their first this many characters."""
SEARCH_MAX_TERMS_PER_MESSAGE = 64
"""Distinct words indexed per message: the most index items (WRU) one post writes."""
SEARCH_MAX_QUERY_CHARS = 200
"""The longest query `q` accepted."""
SEARCH_MAX_QUERY_TERMS = 5
"""The most words a query may have (each must match)."""
SEARCH_PAGE_SIZE = 20
"""Results per page when the caller gives no `limit`."""
SEARCH_MAX_PAGE_SIZE = 50
"""The largest `limit` accepted."""
SEARCH_ROOMS_PER_REQUEST = 20
"""Without `roomId`, the most of the caller's rooms one request looks in (one index Query
each at least); the cursor goes on with the next rooms."""
SEARCH_POSTINGS_PER_REQUEST = 2000
"""Index entries (postings) one request reads at most, all rooms and terms together: with the
rooms cap, what bounds a request's reads (about 2,000 x 70 B = 140 KB: some 18 RRU); a page may
come back short, even empty, with a cursor to go on."""
SEARCH_MESSAGE_READS_PER_REQUEST = 100
"""Messages one request reads from the message store at most (each a consistent GetItem, the
dearest part of a query): a word in many messages that are deleted, blocked or no longer
match cannot make one request read thousands; the cursor goes on."""
SEARCH_WINDOW = 200
"""Postings read per term and step of a query of several terms, whose lists are intersected."""

STOP_WORDS = frozenset(
    {
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "all",
        "any",
        "can",
        "her",
        "was",
        "one",
        "our",
        "out",
        "his",
        "has",
        "had",
        "its",
        "who",
        "him",
        "how",
        "did",
        "get",
        "may",
        "she",
        "use",
        "way",
        "too",
        "via",
        "let",
        "this",
        "that",
        "with",
        "have",
        "from",
        "they",
        "will",
        "what",
        "when",
        "your",
        "there",
        "their",
        "which",
        "would",
        "about",
        "into",
        "than",
        "them",
        "then",
        "these",
        "some",
    }
)
"""Very common English words: not indexed, and dropped from queries."""

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Every word of `text`, normalised (NFKC, case-folded, cut), in order, with repeats."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w[:SEARCH_MAX_TERM_CHARS] for w in _WORD.findall(folded)]


def _kept(word: str) -> bool:
    return len(word) >= SEARCH_MIN_TERM_CHARS and word not in STOP_WORDS


def terms_of(text: str) -> tuple[str, ...]:
    """The distinct words a message is indexed under: first seen first, at most
    SEARCH_MAX_TERMS_PER_MESSAGE."""
    found = dict.fromkeys(w for w in words(text) if _kept(w))
    return tuple(found)[:SEARCH_MAX_TERMS_PER_MESSAGE]


def matches(text: str, query: Query) -> bool:
    """Whether a message's current text has every term of the query (the index may be a step
    behind an edit: results are checked against the message itself)."""
    return set(query.terms) <= set(terms_of(text))


@attrs.frozen
class Query:
    terms: tuple[str, ...]
    """The distinct terms, each required (AND)."""


def parse_query(q: str | None) -> Query:
    """The query `q` as terms; InvalidInput when it is empty, too long, has too many words, or
    has no word that is indexed (all too short or too common)."""
    if q is None or not q.strip():
        raise InvalidInput("q is required: the words to search for")
    if len(q) > SEARCH_MAX_QUERY_CHARS:
        raise InvalidInput(f"q is longer than {SEARCH_MAX_QUERY_CHARS} characters")
    terms = tuple(dict.fromkeys(w for w in words(q) if _kept(w)))
    if len(terms) > SEARCH_MAX_QUERY_TERMS:
        raise InvalidInput(f"q has more than {SEARCH_MAX_QUERY_TERMS} words")
    if not terms:
        raise InvalidInput(
            f"q has no word to search for (words need {SEARCH_MIN_TERM_CHARS} characters or "
            "more, and very common words are not indexed)"
        )
    return Query(terms)


def clean_search_limit(limit: int | None) -> int:
    if limit is None:
        return SEARCH_PAGE_SIZE
    if not 1 <= limit <= SEARCH_MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {SEARCH_MAX_PAGE_SIZE}")
    return limit


@attrs.frozen
class Position:
    """Where a result page ends: in `room_id` after `after_id` (older messages come next), or,
    with no `after_id`, past the whole room (the rooms after it in id order come next)."""

    room_id: str
    after_id: str | None


_CURSOR_VERSION = "s1"


def _scope(user_id: str, room_id: str | None, query: Query) -> str:
    """What a cursor is bound to: the caller, the room filter and the query's terms."""
    return "|".join((user_id, room_id or "*", " ".join(query.terms)))


def encode_search_cursor(
    user_id: str, room_id: str | None, query: Query, position: Position
) -> str:
    raw = json.dumps(
        [_CURSOR_VERSION, _scope(user_id, room_id, query), position.room_id, position.after_id]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_search_cursor(cursor: str, user_id: str, room_id: str | None, query: Query) -> Position:
    """The position a cursor names; InvalidInput for one that does not decode or was issued
    for another caller, room filter or query."""
    if len(cursor) > 1024:
        raise InvalidInput("cursor is not valid")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, scope, at_room, after = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, UnicodeError, ValueError, TypeError):
        raise InvalidInput("cursor is not valid") from None
    if version != _CURSOR_VERSION or not isinstance(at_room, str) or not at_room:
        raise InvalidInput("cursor is not valid")
    if after is not None and not (isinstance(after, str) and is_ulid(after)):
        raise InvalidInput("cursor is not valid")
    if scope != _scope(user_id, room_id, query):
        raise InvalidInput("cursor belongs to another search")
    return Position(at_room, after)
