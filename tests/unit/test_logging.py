"""Every line an invocation logs carries who and what it is about, not only the canonical one."""

from __future__ import annotations

import structlog
from structlog.testing import capture_logs

from dynamotalk.logging import invocation


def test_fields_a_handler_learns_are_bound_for_every_later_line() -> None:
    with (
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines,
        invocation(route="$default", request_id="req-1") as log,
    ):
        structlog.get_logger("dynamotalk.adapter").info("before")
        log.update(connection_id="c-1", user_id="u-1")
        log["action"] = "sendMessage"
        log["outcome"] = "rate_limited"  # the canonical line's own field, not context
        structlog.get_logger("dynamotalk.adapter").info("after")
    before, after, canonical = lines
    assert before["request_id"] == "req-1"
    assert before["route"] == "$default"
    assert "user_id" not in before
    assert after["connection_id"] == "c-1"
    assert after["user_id"] == "u-1"
    assert after["action"] == "sendMessage"
    assert "outcome" not in after
    assert canonical["event"] == "invocation"
    assert canonical["outcome"] == "rate_limited"
    assert canonical["user_id"] == "u-1"


def test_the_next_invocation_starts_from_a_clean_context() -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        with invocation(route="a") as log:
            log["user_id"] = "u-1"
        with invocation(route="b"):
            structlog.get_logger().info("inside b")
    assert "user_id" not in lines[-2]
    assert lines[-2]["route"] == "b"
