"""One circuit breaker, for every dependency the chat stops calling while it fails (the
management API of the fan-out, the bot's model)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import attrs


def _quiet(failures: int) -> None:
    """Opening says nothing by default; the notifier logs it."""


@attrs.define
class CircuitBreaker:
    """Stops calling a failing dependency, then tries it again with one call.

    Closed: calls go through; `threshold` failures in a row open it.
    Open: calls are refused fast for `cooldown_s`.
    Half-open: exactly one caller is let through as a trial, and every other caller is refused
    fast until that trial resolves: success closes the breaker, failure opens it again, and an
    outcome that says nothing about the dependency (`record(None)`) lets the next caller try.
    Thread-safe: callers share one breaker per container.
    """

    threshold: int = 3
    cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    on_open: Callable[[int], None] = _quiet
    """Told the number of failures in a row each time the breaker opens."""
    failures: int = 0
    opened_at: float | None = None
    _trial: bool = attrs.field(default=False, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    @property
    def state(self) -> Literal["closed", "open", "half-open"]:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown_s else "open"

    def allows(self) -> bool:
        """Whether this call may go ahead; when half-open, the first caller takes the trial."""
        if self.opened_at is None:  # closed, the common case: no lock on the hot path
            return True
        with self._lock:
            state = self.state
            if state == "closed":
                return True
            if state == "open" or self._trial:
                return False
            self._trial = True
            return True

    def record(self, ok: bool | None) -> None:
        """A call's outcome: True succeeded, False failed, None said nothing either way (the
        dependency answered, about this call only)."""
        if ok and self.failures == 0 and self.opened_at is None and not self._trial:
            return  # a success while healthy changes nothing: no lock on the hot path
        with self._lock:
            if ok is None:
                self._trial = False
            elif ok:
                self.failures, self.opened_at, self._trial = 0, None, False
            else:
                self.failures += 1
                if self.failures >= self.threshold or self.opened_at is not None:
                    if self.state != "open":  # closed or half-open: it opens now
                        self.on_open(self.failures)
                    self.opened_at = self.clock()
                    self._trial = False
