"""Files: presigned uploads and downloads, and checking a message's attachments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from dynamotalk.domain import files, rules
from dynamotalk.domain.errors import Forbidden, InvalidInput, TooLarge
from dynamotalk.domain.limits import (
    DOWNLOAD_URL_EXPIRES_S,
    MAX_KEY_CHARS,
    UPLOAD_URL_EXPIRES_S,
)
from dynamotalk.domain.models import Attachment, Principal, UploadForm
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.core import ChatCore


class Files(ChatCore):
    def request_upload(
        self,
        principal: Principal,
        purpose: Literal["attachment", "avatar"],
        filename: str,
        content_type: str,
        size: int,
        room_id: str | None = None,
    ) -> UploadForm:
        """A presigned POST for one file: type and size enforced by the storage itself."""
        now = self.clock.now_ms()
        if purpose == "avatar":
            allowed, max_bytes = self.limits.avatar_content_types, self.limits.max_avatar_bytes
            key = files.avatar_key(principal.user_id, self.ids.new_id(now), filename)
        else:
            if room_id is None:
                raise InvalidInput("roomId is required for an attachment")
            room = self._room(room_id)
            rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
            allowed, max_bytes = self.limits.upload_content_types, self.limits.max_upload_bytes
            key = files.attachment_key(
                room.room_id, principal.user_id, self.ids.new_id(now), filename
            )
        if content_type not in allowed:
            raise InvalidInput(f"content type {content_type!r} is not allowed")
        if size < 1:
            raise InvalidInput("size must be at least 1 byte")
        if size > max_bytes:
            raise TooLarge(f"files are limited to {max_bytes} bytes")
        self._limit(principal.user_id, Action.UPLOAD, size=size)
        return self.attachments.upload_form(key, content_type, size, UPLOAD_URL_EXPIRES_S)

    def download_url(self, principal: Principal, key: str) -> str:
        """A short-lived URL for an attachment (readers of its room) or an avatar (anyone)."""
        if ".." in key.split("/") or len(key) > MAX_KEY_CHARS:
            raise InvalidInput("key is not valid")
        found = files.parse_key(key)
        if found is None:
            raise InvalidInput("key is not an attachment or avatar key")
        if found.room_id is not None:
            self._readable_room(principal, found.room_id)
        return self.attachments.download_url(key, DOWNLOAD_URL_EXPIRES_S)

    def _check_attachments(
        self,
        principal: Principal,
        room_id: str,
        attachments: Sequence[Attachment],
        retention_days: int = 0,
    ) -> tuple[Attachment, ...]:
        if len(attachments) > self.limits.max_attachments:
            raise InvalidInput(f"at most {self.limits.max_attachments} attachments per message")
        prefix = files.attachments_of(room_id, principal.user_id)
        checked = []
        for attachment in attachments:
            if not attachment.key.startswith(prefix) or ".." in attachment.key:
                raise Forbidden("attachments must be uploaded by you to this room")
            size = self.attachments.size_of(attachment.key)
            if size is None:
                raise InvalidInput("attachment has not been uploaded")
            checked.append(
                attrs.evolve(attachment, name=files.safe_filename(attachment.name), size=size)
            )
        for attachment in checked:  # before the message is stored: a stored one never expires
            self.attachments.mark_referenced(attachment.key, retention_days)
        return tuple(checked)
