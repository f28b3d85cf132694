"""The JSON protocol: WebSocket frames and HTTP bodies <-> commands, domain objects -> JSON.

convert.py holds the one converter; parse.py reads frames and bodies, frames.py writes them;
bodies.py declares the HTTP bodies (the commands live in domain/commands.py).
"""

from dynamotalk.wire import moderation as _moderation  # noqa: F401 - its hooks
from dynamotalk.wire.bodies import (
    AddMember,
    BanBody,
    ChangeRole,
    CreateRoom,
    MarkReadBody,
    MuteBody,
    OpenDirect,
    PinBody,
    ReportBody,
    RequestUpload,
    ResolveReportBody,
    UpdateProfile,
    UpdateRoom,
)
from dynamotalk.wire.convert import CONVERTER, EVENT_TYPE, attachments_of
from dynamotalk.wire.frames import (
    changes_json,
    command_frame,
    encode_ack,
    encode_error,
    encode_event,
    event_json,
    history_page_json,
    invite_json,
    membership_json,
    message_json,
    presence_json,
    room_json,
    rooms_page_json,
    sync_json,
    upload_form_json,
    user_json,
)
from dynamotalk.wire.parse import Frame, parse_body, parse_frame, request_id_of

__all__ = [
    "CONVERTER",
    "EVENT_TYPE",
    "AddMember",
    "BanBody",
    "ChangeRole",
    "CreateRoom",
    "Frame",
    "MarkReadBody",
    "MuteBody",
    "OpenDirect",
    "PinBody",
    "ReportBody",
    "RequestUpload",
    "ResolveReportBody",
    "UpdateProfile",
    "UpdateRoom",
    "attachments_of",
    "changes_json",
    "command_frame",
    "encode_ack",
    "encode_error",
    "encode_event",
    "event_json",
    "history_page_json",
    "invite_json",
    "membership_json",
    "message_json",
    "parse_body",
    "parse_frame",
    "presence_json",
    "request_id_of",
    "room_json",
    "rooms_page_json",
    "sync_json",
    "upload_form_json",
    "user_json",
]
