"""The ports of account erasure (service/erasure.py): where a job's progress is kept, where
erasure jobs are queued, and the two outside services it deletes from (Cognito, S3)."""

from __future__ import annotations

from typing import Protocol

from dynamotalk.domain.erasure import ErasePolicy, ErasureJob


class ErasureStore(Protocol):
    def create(self, job: ErasureJob) -> ErasureJob:
        """Store a new job unless the user has one already; the stored one either way (so a
        second DELETE /me answers with the first job: one conditional put)."""
        ...

    def get(self, user_id: str) -> ErasureJob | None: ...

    def save(self, job: ErasureJob) -> None:
        """Record progress (steps done, the message cursor): one PutItem."""
        ...

    def wipe_user(self, user_id: str, limit: int) -> bool:
        """Delete up to `limit` items of the user's own partition (`USER#{id}`: profile,
        blocks, push subscriptions, notification prefs...); True when none are left."""
        ...

    def free_username(self, username: str, user_id: str) -> None:
        """Delete the username claim if it is still this user's."""
        ...

    def anonymise(self, room_id: str, message_id: str, user_id: str) -> None:
        """Rewrite a message's author to the tombstone (domain/erasure.ERASED_AUTHOR) if it is
        still by `user_id` (idempotent)."""
        ...

    def authors(self, room_id: str, before_id: str | None, limit: int) -> list[tuple[str, str]]:
        """(message id, author id) of up to `limit` messages of the room older than
        `before_id`, newest first: every message item, thread-only replies included (the
        timeline's reads leave those out), keys and author only."""
        ...

    def anonymise_room(self, room_id: str, user_id: str) -> None:
        """Rewrite a room's `created_by` to the tombstone if it is still `user_id`."""
        ...

    def scrub_messages(
        self, room_id: str, before_id: str | None, limit: int, user_id: str
    ) -> list[tuple[str, str]]:
        """What `authors` answers, and each of those messages rewritten without the user
        (domain/erasure_scrub.scrub_others: their reactions, with the counts; a quote of them;
        their mention): one Query of whole items, one UpdateItem per message that names them."""
        ...

    def drop_mentions(self, room_id: str, user_id: str) -> None:
        """Delete the room's mention items of the user (`MENTION#{user}#`): Query + batch."""
        ...

    def scrub_changes(
        self, room_id: str, after_seq: int, limit: int, user_id: str, policy: ErasePolicy
    ) -> int | None:
        """Rewrite up to `limit` of the room's changes after `after_seq` without the user
        (domain/erasure_scrub.scrub_change; their expiry kept, never re-created once expired):
        the last seq looked at when more may follow, None when the feed's end was reached."""
        ...


class ErasureJobs(Protocol):
    def enqueue(self, user_id: str) -> None:
        """Queue (or re-queue, to continue) the user's erasure job."""
        ...


class AccountDeleter(Protocol):
    def delete_account(self, username: str) -> None:
        """Delete the sign-in (Cognito AdminDeleteUser); a user already gone is done."""
        ...


class ObjectDeleter(Protocol):
    def delete_object(self, key: str) -> None:
        """Delete an object of the attachments bucket (the avatar); absent is done."""
        ...
