"""Erase my account (issue 18): a job, queued by DELETE /me and run by `account_erasure`,
that removes a user's sockets, messages (per the stage's ErasePolicy), memberships, their
traces in others' messages and in the rooms' change feed (domain/erasure_scrub.py), blocks,
avatar, username claim, every item under `USER#{id}` and finally their Cognito sign-in.

Idempotent and resumable: the job item records each step once done and, within the message
step, the room and message it reached; every step is safe to repeat (deleting what is gone
is done), so a run that dies anywhere is finished by the next one, and the work of one
invocation is bounded (MESSAGES_PER_RUN, ITEMS_PER_RUN) with the job re-queued to continue.
"""

from __future__ import annotations

import attrs

from dynamotalk.domain import authz, files
from dynamotalk.domain.erasure import (
    CHANGES_PER_RUN,
    ITEMS_PER_RUN,
    MESSAGES_PER_RUN,
    PAGE,
    ErasePolicy,
    ErasureJob,
    Status,
    Step,
)
from dynamotalk.domain.models import Principal
from dynamotalk.erasure_ports import AccountDeleter, ErasureJobs, ErasureStore, ObjectDeleter
from dynamotalk.service import ChatService
from dynamotalk.service.moderation import after_delete


@attrs.define
class Eraser:
    chat: ChatService
    store: ErasureStore
    jobs: ErasureJobs
    accounts: AccountDeleter
    objects: ObjectDeleter
    policy: ErasePolicy

    def request(self, principal: Principal) -> ErasureJob:
        """DELETE /me: a user erases only themself (the principal). A second call answers
        with the same job (and re-queues it, which resumes one whose queue message died)."""
        profile = self.chat.users.get(principal.user_id)
        now = self.chat.clock.now_ms()
        job = self.store.create(
            ErasureJob(
                user_id=principal.user_id,
                erasure_id=self.chat.ids.new_id(now),
                sign_in=principal.username,
                username=profile.username if profile else principal.username,
                avatar_key=profile.avatar_key if profile else None,
                policy=self.policy,
                created_at=now,
            )
        )
        if job.status is Status.PENDING:
            self.jobs.enqueue(principal.user_id)
        return job

    def run(self, user_id: str) -> bool:
        """Advance the user's job as far as one invocation's bounds allow: True when it is
        done, False when it was re-queued to continue."""
        job = self.store.get(user_id)
        if job is None:
            return True
        while (step := job.next_step()) is not None:
            finished, job = self._do(step, job)
            if not finished:
                self.store.save(job)
                self.jobs.enqueue(user_id)
                return False
            job = attrs.evolve(job, steps_done=(*job.steps_done, step))
            self.store.save(job)
        return True

    def _do(self, step: Step, job: ErasureJob) -> tuple[bool, ErasureJob]:
        if step is Step.MESSAGES:
            return self._messages(job)
        if step is Step.CHANGES:
            return self._changes(job)
        if step is Step.PARTITION:
            return self.store.wipe_user(job.user_id, ITEMS_PER_RUN), job
        if step is Step.SOCKETS:
            self._sockets(job)
        elif step is Step.MEMBERSHIPS:
            self._memberships(job)
        elif step is Step.BLOCKS:
            self._blocks(job)
        elif step is Step.AVATAR and job.avatar_key:
            # Only the user's own upload (PATCH /me checks it too): never another's object.
            if job.avatar_key.startswith(files.avatars_of(job.user_id)):
                self.objects.delete_object(job.avatar_key)
        elif step is Step.USERNAME:
            self.store.free_username(job.username, job.user_id)
        elif step is Step.ACCOUNT:
            self.accounts.delete_account(job.sign_in)
        return True, job

    def _now_s(self) -> int:
        return self.chat.clock.now_ms() // 1000

    def _sockets(self, job: ErasureJob) -> None:
        for connection in self.chat.connections.connections_of_user(job.user_id, self._now_s()):
            if self.chat.closer is not None:
                self.chat.closer.close(connection.connection_id)
            self.chat.connections.unregister(connection.connection_id)

    def _messages(self, job: ErasureJob) -> tuple[bool, ErasureJob]:
        """Page each of the user's rooms back in time (no author index: the cost is the rooms'
        history, docs/ARCHITECTURE.md), handling the user's messages as the policy says."""
        if job.room_cursor is None or not job.rooms:  # the rooms CHANGES pages later
            rooms_of = self.chat.rooms.rooms_of(job.user_id)
            job = attrs.evolve(job, rooms=tuple(sorted(m.room_id for m in rooms_of)))
        rooms = [r for r in job.rooms if job.room_cursor is None or r >= job.room_cursor]
        looked = 0
        for room_id in rooms:
            cursor = job.message_cursor if room_id == job.room_cursor else None
            while True:
                page = self.store.scrub_messages(room_id, cursor, PAGE, job.user_id)
                for message_id, author_id in page:
                    if author_id == job.user_id:
                        self._erase_message(job, room_id, message_id)
                looked += len(page)
                if len(page) < PAGE:
                    break
                cursor = page[-1][0]
                if looked >= MESSAGES_PER_RUN:
                    return False, attrs.evolve(job, room_cursor=room_id, message_cursor=cursor)
        return True, attrs.evolve(job, room_cursor=None, message_cursor=None)

    def _changes(self, job: ErasureJob) -> tuple[bool, ErasureJob]:
        """Each room's mention items of the user, then its change feed from the start, the
        user taken out of each change, so sync v2 replays to what history shows."""
        rooms = [r for r in job.rooms if job.room_cursor is None or r >= job.room_cursor]
        looked = 0
        for room_id in rooms:
            seq = job.seq_cursor if room_id == job.room_cursor else None
            if seq is None:
                self.store.drop_mentions(room_id, job.user_id)
            at: int | None = seq or 0
            while at is not None:
                if looked >= CHANGES_PER_RUN:
                    return False, attrs.evolve(job, room_cursor=room_id, seq_cursor=at)
                at = self.store.scrub_changes(room_id, at, PAGE, job.user_id, job.policy)
                looked += PAGE
        return True, attrs.evolve(job, room_cursor=None, seq_cursor=None)

    def _erase_message(self, job: ErasureJob, room_id: str, message_id: str) -> None:
        if job.policy is ErasePolicy.ANONYMISE:
            self.store.anonymise(room_id, message_id, job.user_id)
            return
        message = self.chat.messages.get(room_id, message_id)
        room = self.chat.rooms.get(room_id)
        if message is None or message.deleted or room is None:
            return
        # The author's own delete (not the route: no per-user rate limit for the job), then
        # what a delete does after (unpin); the feed carries it to sockets and search.
        deleted = self.chat.moderated_messages.soft_delete_by(
            room_id, message_id, self.chat.clock.now_ms(), None
        )
        after_delete(self.chat, room, Principal(job.user_id, job.username), deleted)

    def _memberships(self, job: ErasureJob) -> None:
        """Leave each room through the membership path (member counts, the room's feed, the
        hand-over of an owned room to the next-ranked member; an owned room nobody is left in
        stays empty, its invites withdrawn). Pending invites to the user are withdrawn."""
        for membership in self.chat.rooms.rooms_of(job.user_id):
            room = self.chat.rooms.get(membership.room_id)
            if room is None:
                continue
            if room.created_by == job.user_id:
                self.store.anonymise_room(room.room_id, job.user_id)
            self.chat._remove(room, job.user_id)
            if authz.keeps_room(membership.role):
                self.chat._hand_over(room)
        for invite in self.chat.rooms.invites_of(job.user_id, self._now_s()):
            self.chat.rooms.remove_invite(invite.room_id, job.user_id)

    def _blocks(self, job: ErasureJob) -> None:
        blocks = self.chat.block_list
        if blocks is None:
            return
        for block in blocks.blocks_of(job.user_id):
            self.chat.rooms.unblock(job.user_id, block.blocked_user_id)
        for blocker in blocks.blockers_of(job.user_id):
            self.chat.rooms.unblock(blocker, job.user_id)


def job_json(job: ErasureJob) -> dict[str, object]:
    """The body of DELETE /me's 202."""
    return {"erasureId": job.erasure_id, "status": str(job.status)}
