"""The edge: typed views of the events a handler receives (events.py), what a handler answers
for a refusal (replies.py) and for a failure it did not expect (failures.py)."""

from dynamotalk.edge.events import CognitoTriggerEvent, HttpEvent, WebSocketEvent
from dynamotalk.edge.failures import refusal, unexpected
from dynamotalk.edge.replies import (
    HTTP_STATUS,
    connect_refusal,
    error_frame,
    http_error,
    http_json,
)

__all__ = [
    "HTTP_STATUS",
    "CognitoTriggerEvent",
    "HttpEvent",
    "WebSocketEvent",
    "connect_refusal",
    "error_frame",
    "http_error",
    "http_json",
    "refusal",
    "unexpected",
]
