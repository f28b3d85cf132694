"""The wire of roles and moderation (issue 17), registered on the one converter when the wire
package loads: the room changes' hooks (their frame types are spelled in
domain/events.FRAME_TYPE), the outbound moderation objects, and the room and membership fields
shown only when set (absent: not archived, no slow mode, not muted),
so older examples keep their shape."""

from __future__ import annotations

from typing import Any

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from dynamotalk.domain import events as ev
from dynamotalk.domain.models import AuditEntry, AuditPage, Ban, Membership, Pin, Room
from dynamotalk.wire.convert import CONVERTER, EVENT_TYPE, VERSION, camel

OMIT_IF_DEFAULT = frozenset(
    {"archived", "slow_mode_seconds", "muted_until", "retention_days", "expires_at"}
)


def _moderation_event(event: ev.RoomUpdated | ev.MessagePinned | ev.MessageUnpinned) -> Any:
    body: dict[str, Any]
    if isinstance(event, ev.RoomUpdated):
        body = {"room": CONVERTER.unstructure(event.room)}
    elif isinstance(event, ev.MessagePinned):
        body = {"pin": CONVERTER.unstructure(event.pin)}
    else:
        body = {"messageId": event.message_id}
    head = {"v": VERSION, "type": EVENT_TYPE[type(event)], "roomId": ev.room_of(event)}
    return {**head, "seq": event.seq, **body}


def _camel_hook(cls: Any) -> Any:
    renames: dict[str, Any] = {
        a.name: override(rename=camel(a.name), omit_if_default=a.name in OMIT_IF_DEFAULT)
        for a in attrs.fields(cls)
    }
    return make_dict_unstructure_fn(cls, CONVERTER, **renames)


for _event in (ev.RoomUpdated, ev.MessagePinned, ev.MessageUnpinned):
    CONVERTER.register_unstructure_hook(_event, _moderation_event)
# Generated on first use, like the converter's own (a cold start pays only for what it shows);
# registered after them, so these win for the room and the membership.
CONVERTER.register_unstructure_hook_factory(
    lambda t: t in (Room, Membership, Pin, Ban, AuditEntry, AuditPage), _camel_hook
)
