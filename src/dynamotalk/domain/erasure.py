"""Account erasure's facts (issue 18): the job's steps in order, the stage policies for
messages, the tombstone author and the per-invocation bounds (service/erasure.py runs it)."""

from __future__ import annotations

import enum

import attrs


class Step(enum.StrEnum):
    """What the job does, in this order; each is recorded once done, so a re-run skips it."""

    SOCKETS = "sockets"
    """Close the user's WebSockets and drop their connections and subscriptions."""
    MESSAGES = "messages"
    """Their messages, room by room: anonymised or deleted (ErasePolicy), paged."""
    MEMBERSHIPS = "memberships"
    """Leave every room (member counts, hand-over of owned rooms) and drop pending invites."""
    CHANGES = "changes"
    """The rooms' change feed (sync v2) and mention items: the user taken out of each change
    (domain/erasure_scrub.py), after MEMBERSHIPS so their leaving is scrubbed too; paged."""
    BLOCKS = "blocks"
    """Their blocks and everyone's blocks of them (both items of each)."""
    AVATAR = "avatar"
    USERNAME = "username"
    """The username claim: the name is free again."""
    PARTITION = "partition"
    """Every item left under `USER#{id}` (profile, push subscriptions, notification prefs)."""
    ACCOUNT = "account"
    """The Cognito user (AdminDeleteUser): last, so a failure before it leaves a sign-in
    whose next DELETE /me resumes the job."""


STEPS: tuple[Step, ...] = tuple(Step)


class ErasePolicy(enum.StrEnum):
    """What erasure does to a user's messages (stage setting `erasePolicy`)."""

    ANONYMISE = "anonymise"
    """Kept, shown as by ERASED_AUTHOR (the conversation stays readable)."""
    DELETE = "delete"
    """Deleted through the normal delete path (the change feed and search see it)."""


DEFAULT_POLICY = ErasePolicy.ANONYMISE

ERASED_AUTHOR = "deleted-user"
"""The author id an anonymised message shows (never a real user id: ids are Cognito subs)."""
ERASED_NAME = "deleted user"
"""The author name an anonymised message shows."""

MESSAGES_PER_RUN = 500
"""Messages looked at per invocation; then the job is re-queued (a user with 100k messages
finishes in a few hundred short invocations, each far inside the function's timeout)."""
ITEMS_PER_RUN = 500
"""Items of the user's partition deleted per invocation (25 per BatchWriteItem)."""
CHANGES_PER_RUN = 500
"""Room changes looked at per invocation in the CHANGES step (then re-queued)."""
PAGE = 100
"""Messages per Query while paging a room."""


class Status(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"


@attrs.frozen
class ErasureJob:
    """One user's erasure: who, what to delete outside the partition, and progress."""

    user_id: str
    erasure_id: str
    sign_in: str
    """The Cognito username (AdminDeleteUser)."""
    username: str
    """The claimed display username (its USERNAME# claim is freed)."""
    avatar_key: str | None
    policy: ErasePolicy
    created_at: int
    steps_done: tuple[Step, ...] = ()
    room_cursor: str | None = None
    """MESSAGES: the room being paged (rooms are taken in id order)."""
    message_cursor: str | None = None
    """MESSAGES: the oldest message id looked at in that room (paging goes back in time)."""
    rooms: tuple[str, ...] = ()
    """The user's rooms when MESSAGES began: CHANGES pages them after the user has left."""
    seq_cursor: int | None = None
    """CHANGES: the last change seq looked at in `room_cursor` (paging goes forward)."""

    @property
    def status(self) -> Status:
        return Status.DONE if set(STEPS) <= set(self.steps_done) else Status.PENDING

    def next_step(self) -> Step | None:
        return next((s for s in STEPS if s not in self.steps_done), None)
