"""A WebSocket client by hand on a raw socket: one that subscribes, then never reads again.

Libraries keep reading in the background; a reader that stalls (a frozen tab, a phone in a
tunnel) needs a socket nobody drains, with a tiny receive window so the server's writes back up.
"""

from __future__ import annotations

import base64
import json
import os
import socket


def masked_text_frame(text: str) -> bytes:
    """One client-to-server text frame (clients must mask)."""
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81]) + (
        bytes([0x80 | len(payload)])
        if len(payload) < 126
        else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def stalled_socket(api: str, token: str, room_id: str) -> socket.socket:
    """Connect to `api`'s /ws, subscribe to `room_id`, read the ack, then never read again."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = api.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.settimeout(20)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    seen = b""
    while b"\r\n\r\n" not in seen:
        seen += sock.recv(1)
    assert seen.startswith(b"HTTP/1.1 101"), seen
    frame = {"action": "subscribe", "roomIds": [room_id], "requestId": "stall"}
    sock.sendall(masked_text_frame(json.dumps(frame)))
    while b'"stall"' not in seen:
        seen += sock.recv(4096)
    return sock  # from here on nobody reads it
