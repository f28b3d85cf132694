"""Session lifetime equals token lifetime: a socket lives only as long as the token behind it.

API Gateway checks the token once, at `$connect` (the authorizer), and then keeps the socket up
to its 2-hour maximum whatever the token's `exp`. So the server does it:

- `$connect` records the token's `exp` on the connection (`session_expires_at`) and tracks it
  in a bucket by expiry minute (SessionStore).
- A `reauth` frame with a fresh token of the same user moves that expiry forward.
- A frame on a connection whose session has ended is answered `unauthorized` and the socket is
  closed (DeleteConnection). The authorizer's `exp` travels with every frame, so a live
  session costs no read; only frames after that first `exp` read the record (a reauth may have
  moved it).
- The sweeper (lambdas/session_sweeper.py, every SWEEP_INTERVAL_S) closes idle sockets whose
  session ended, found by Query on the due buckets, never a Scan.
- A revoking Cognito call (global sign-out, disable, delete, revoke) closes every socket of
  the user (lambdas/session_revoked.py, revocation.py).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import structlog

from dynamotalk.domain.errors import ChatError, Unauthorized
from dynamotalk.domain.models import Principal
from dynamotalk.ports import ConnectionCloser, SessionStore, SessionVerifier
from dynamotalk.service.chat import ChatService

_log = structlog.get_logger("dynamotalk.sessions")

SWEEP_LOOKBACK_S = 15 * 60
"""How far back the sweeper looks for sessions due: a sweep missed for up to this long (a
failed run, a throttled function) is caught up by the next one."""
EXPIRED_MESSAGE = "your session has expired: sign in again"


@attrs.define
class SessionKeeper:
    chat: ChatService
    sessions: SessionStore
    closer: ConnectionCloser
    encode_error: Callable[[str | None, ChatError], bytes]
    """The error frame a closing socket is told why with (the wire's, handed in by bootstrap)."""
    verifier: SessionVerifier | None = None
    """Needed by `reauth` only."""
    lookback_s: int = SWEEP_LOOKBACK_S

    def _now_s(self) -> int:
        return self.chat.clock.now_ms() // 1000

    def started(self, connection_id: str, session_expires_at: int | None) -> None:
        """`$connect` registered the connection: track when its session ends."""
        if session_expires_at is not None:
            self.sessions.track(connection_id, session_expires_at)

    def is_live(
        self, connection_id: str, principal: Principal, token_expires_at: int | None
    ) -> bool:
        """Whether a frame may run. The authorizer's `exp` answers without a read while it is
        ahead; after it, the record decides (a reauth may have moved the session on)."""
        now_s = self._now_s()
        if token_expires_at is None or token_expires_at > now_s:
            return True
        connection = self.chat.connections.get(connection_id, now_s)
        return (
            connection is not None
            and connection.user_id == principal.user_id
            and connection.session_expires_at is not None
            and connection.session_expires_at > now_s
        )

    def end(self, connection_id: str, request_id: str | None = None, forget: bool = True) -> None:
        """Close a socket whose session is over: say why, then DeleteConnection, whose
        $disconnect forgets the connection. With `forget`, forget it now as well (a lost
        socket never gets its $disconnect)."""
        last_words = self.encode_error(request_id, Unauthorized(EXPIRED_MESSAGE))
        self.closer.close(connection_id, last_words)
        if forget:
            self.chat.disconnect(connection_id)

    def reauth(self, principal: Principal, connection_id: str, token: str) -> int:
        """Renew the socket's session with a fresh token of the same user; its new expiry."""
        if self.verifier is None:
            raise Unauthorized("reauth is not available")
        proven, expires_at = self.verifier.verify_session(token)
        if proven.user_id != principal.user_id:
            _log.warning("reauth_other_user", connection_id=connection_id)
            raise Unauthorized("the token belongs to another user")
        now_s = self._now_s()
        if expires_at <= now_s or not self.sessions.renew(
            connection_id, principal.user_id, expires_at, now_s
        ):
            raise Unauthorized(EXPIRED_MESSAGE)
        return expires_at

    def sweep(self) -> int:
        """Close every socket whose session ended; returns how many were closed."""
        now_s = self._now_s()
        closed = 0
        for connection_id, expires_at in self.sessions.due(now_s, self.lookback_s):
            connection = self.chat.connections.get(connection_id, now_s)
            renewed = (
                connection is not None
                and connection.session_expires_at is not None
                and connection.session_expires_at > now_s
            )
            if connection is not None and not renewed:
                try:
                    self.end(connection_id)
                except Exception as error:  # noqa: BLE001 - one socket never stops the sweep
                    # Kept in its bucket: the next sweeps retry it within the look-back.
                    _log.warning(
                        "sweep_close_failed", connection_id=connection_id, error=str(error)
                    )
                    continue
                closed += 1
            self.sessions.forget(connection_id, expires_at)
        return closed

    def revoke(self, user_id: str) -> int:
        """Close every socket of the user (sign-out, disabled, deleted); how many."""
        connections = self.chat.connections.connections_of_user(user_id, self._now_s())
        for connection in connections:
            self.end(connection.connection_id)
        return len(connections)
