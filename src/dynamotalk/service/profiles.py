"""Profiles: who a user is, what others may see of them, and changing one's own."""

from __future__ import annotations

import attrs

from dynamotalk.domain import files, identities, rules
from dynamotalk.domain.errors import Forbidden, InvalidInput, NotFound
from dynamotalk.domain.ids import DIRECT_PREFIX
from dynamotalk.domain.models import Principal, User
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.core import ChatCore, check_id


class Profiles(ChatCore):
    def get_profile(self, principal: Principal, user_id: str | None = None) -> User:
        if user_id is None or user_id == principal.user_id:
            return self.ensure_user(principal)
        user = self.users.get(check_id(user_id, "userId"))
        if user is None:
            raise NotFound("no such user")
        if user.last_seen is not None and not self._share_a_room(principal.user_id, user_id):
            user = attrs.evolve(user, last_seen=None)
        return user

    def _share_a_room(self, user_a: str, user_b: str) -> bool:
        """Whether two users are members of one room (bounded: each is in at most
        limits.max_rooms_per_user rooms)."""
        rooms_a = {m.room_id for m in self.rooms.rooms_of(user_a)}
        shared = [m.room_id for m in self.rooms.rooms_of(user_b) if m.room_id in rooms_a]
        # At most one of them is the pair's direct room: it counts once both took part in it.
        return any(not r.startswith(DIRECT_PREFIX) or self._direct_consented(r) for r in shared)

    def update_profile(
        self, principal: Principal, display_name: str | None = None, avatar_key: str | None = None
    ) -> User:
        user = self.ensure_user(principal)
        if display_name is None and avatar_key is None:
            raise InvalidInput("nothing to update: give displayName or avatarKey")
        if display_name is not None:
            clean_name = rules.clean_display_name(display_name, self.limits)
            if not identities.may_use_name(principal.user_id, clean_name):
                raise InvalidInput("that display name is reserved")
            user = attrs.evolve(user, display_name=clean_name)
        if avatar_key is not None:
            if not avatar_key.startswith(files.avatars_of(principal.user_id)) or ".." in avatar_key:
                raise Forbidden("an avatar must be uploaded by you")
            if self.attachments.size_of(avatar_key) is None:
                raise InvalidInput("avatar has not been uploaded")
            self.attachments.mark_referenced(avatar_key)
            user = attrs.evolve(user, avatar_key=avatar_key)
        self.users.put(user)
        return user

    def find_user(self, username: str, principal: Principal | None = None) -> User:
        """A user by name; counted against `principal`'s look-ups when given."""
        if principal is not None:
            self._limit(principal.user_id, Action.LOOKUP)
        user = self.users.by_username(username.strip())
        if user is None:
            raise NotFound("no such user")
        return user
