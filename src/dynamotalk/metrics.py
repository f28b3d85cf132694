"""Business metrics as CloudWatch Embedded Metric Format (EMF) log lines: no client, no call.

A Lambda function's stdout goes to CloudWatch Logs; a JSON line with an `_aws` member is turned
into metrics by CloudWatch itself (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html). So recording a metric costs one line of
output per invocation, and nothing on the hot path waits on a network call.

`record()` adds to the current invocation's tally (`logging.invocation` opens one per handler
invocation and flushes it when the invocation ends: one EMF line holding every metric it
recorded). Outside an invocation, `record()` writes its line at once. Every metric is named
once, in `Metric`: the dashboard and the alarms (infra/monitoring.py) read the names here, and
docs/DEPLOY.md documents each one.
"""

from __future__ import annotations

import contextvars
import enum
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from dynamotalk.settings import ENV

NAMESPACE = "DynamoTalk"
"""The CloudWatch namespace every business metric is in."""
STAGE_DIMENSION = "Stage"
"""The one dimension: a metric per stage (each dimension set is a billed custom metric)."""
STAGE_ENV = ENV["stage"]
"""Read for the dimension's value."""
MAX_METRICS_PER_LINE = 100
"""EMF's limit: at most 100 metric definitions in one directive."""


class Unit(enum.StrEnum):
    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


class Metric(enum.Enum):
    """Every business metric: its CloudWatch name and unit."""

    MESSAGES_POSTED = ("MessagesPosted", Unit.COUNT)
    DELIVERIES = ("Deliveries", Unit.COUNT)
    DELIVERY_FAILURES = ("DeliveryFailures", Unit.COUNT)
    GONE_CONNECTIONS = ("GoneConnections", Unit.COUNT)
    FANOUT_MS = ("FanoutMs", Unit.MILLISECONDS)
    RATE_LIMITED = ("RateLimited", Unit.COUNT)
    BOT_LATENCY_MS = ("BotLatencyMs", Unit.MILLISECONDS)
    BOT_FAILURES = ("BotFailures", Unit.COUNT)
    PUSH_SENT = ("PushSent", Unit.COUNT)
    PUSH_FAILED = ("PushFailed", Unit.COUNT)

    @property
    def metric_name(self) -> str:
        return self.value[0]

    @property
    def unit(self) -> Unit:
        return self.value[1]


_tally: contextvars.ContextVar[dict[Metric, list[float]] | None] = contextvars.ContextVar(
    "dynamotalk_metrics", default=None
)


def record(metric: Metric, value: float = 1.0) -> None:
    """Add `value` to the current invocation's `metric` (a count adds up; a time is one more
    sample of its distribution). Call it on the invocation's own thread: worker threads do
    not share its context, so they tally into what they return and the caller records."""
    tally = _tally.get()
    if tally is None:
        write_line({metric: [value]})
        return
    tally.setdefault(metric, []).append(value)


@contextmanager
def tallied() -> Iterator[None]:
    """Collect what the block records, and write it as one EMF line when the block ends."""
    tally: dict[Metric, list[float]] = {}
    token = _tally.set(tally)
    try:
        yield
    finally:
        _tally.reset(token)
        if tally:
            write_line(tally)


def emf_line(tally: Mapping[Metric, list[float]], stage: str, timestamp_ms: int) -> str:
    """One EMF document: counts summed, times as a list of samples (EMF's array values)."""
    values: dict[str, object] = {}
    for metric, samples in tally.items():
        if metric.unit is Unit.COUNT:
            values[metric.metric_name] = sum(samples)
        else:
            values[metric.metric_name] = samples if len(samples) > 1 else samples[0]
    definitions = [{"Name": m.metric_name, "Unit": m.unit.value} for m in tally]
    document = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [[STAGE_DIMENSION]],
                    "Metrics": definitions[:MAX_METRICS_PER_LINE],
                }
            ],
        },
        STAGE_DIMENSION: stage,
        **values,
    }
    return json.dumps(document, separators=(",", ":"))


def write_line(tally: Mapping[Metric, list[float]]) -> None:
    stage = os.environ.get(STAGE_ENV, "local")
    sys.stdout.write(emf_line(tally, stage, int(time.time() * 1000)) + "\n")
