"""The one circuit breaker: closed, open, half-open with exactly one trial call."""

from __future__ import annotations

import threading

from dynamotalk.resilience import CircuitBreaker


def test_opens_after_threshold_failures_in_a_row_and_closes_on_success() -> None:
    now = [0.0]
    opened: list[int] = []
    breaker = CircuitBreaker(
        threshold=2, cooldown_s=10, clock=lambda: now[0], on_open=opened.append
    )
    breaker.record(False)
    breaker.record(True)  # a success resets the count
    breaker.record(False)
    assert breaker.state == "closed"
    assert breaker.allows()
    breaker.record(False)
    assert breaker.state == "open"
    assert opened == [2]
    assert not breaker.allows()
    now[0] += 10
    assert breaker.state == "half-open"
    assert breaker.allows()
    breaker.record(True)
    assert breaker.state == "closed"
    assert breaker.allows()
    assert breaker.allows()


def test_a_failed_trial_opens_it_again_and_a_neutral_one_lets_the_next_caller_try() -> None:
    now = [0.0]
    opened: list[int] = []
    breaker = CircuitBreaker(threshold=1, cooldown_s=5, clock=lambda: now[0], on_open=opened.append)
    breaker.record(False)
    now[0] += 5
    assert breaker.allows()
    assert not breaker.allows(), "one trial at a time"
    breaker.record(None)  # the dependency answered about this call only
    assert breaker.allows(), "the next caller takes the trial"
    breaker.record(False)
    assert breaker.state == "open"
    assert opened == [1, 2]
    assert not breaker.allows()


def test_half_open_lets_exactly_one_of_many_concurrent_callers_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, cooldown_s=1, clock=lambda: now[0])
    breaker.record(False)
    now[0] += 1
    callers = 32
    start = threading.Barrier(callers)
    allowed: list[bool] = []
    lock = threading.Lock()

    def call() -> None:
        start.wait()
        verdict = breaker.allows()
        with lock:
            allowed.append(verdict)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == callers
    assert allowed.count(True) == 1, "every caller but the trial is refused fast"
    assert breaker.state == "half-open"
    breaker.record(True)
    assert breaker.state == "closed"
