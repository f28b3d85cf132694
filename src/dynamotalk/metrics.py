"""Business metrics as CloudWatch Embedded Metric Format (EMF) log lines: no client, no call.

A Lambda function's stdout goes to CloudWatch Logs; a JSON line with an `_aws` member is turned
into metrics by CloudWatch itself (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html). So recording a metric costs one line of
output per invocation, and nothing on the hot path waits on a network call.

`record()` adds to the current invocation's tally (`logging.invocation` opens one per handler
invocation and flushes it when the invocation ends: one EMF line holding every metric it
recorded). Outside an invocation, `record()` writes its line at once. Every metric is named
once, in `Metric`: the dashboard and the alarms (infra/monitoring.py) read the names here, and
docs/METRICS.md documents each one.

Where a line goes is the sink's business (`send_to`): stdout in Lambda, the local stack's
in-memory totals under `dynamotalk dev` (local/metrics.py, read at GET /_local/metrics).
"""

from __future__ import annotations

import contextvars
import enum
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from dynamotalk.settings import ENV

NAMESPACE = "DynamoTalk"
"""The CloudWatch namespace every business metric is in."""
STAGE_DIMENSION = "Stage"
"""The one dimension: a metric per stage (each dimension set is a billed custom metric)."""
STAGE_ENV = ENV["stage"]
"""Read for the dimension's value."""
MAX_METRICS_PER_LINE = 100
"""EMF: a directive's Metrics array holds at most 100 metric definitions."""
MAX_VALUES_PER_METRIC = 100
"""EMF: a metric's array of values holds at most 100 numbers. More samples than that are
split over several lines (each value kept: percentiles need every sample)."""
MAX_DIMENSIONS_PER_SET = 30
"""EMF: a dimension set names at most 30 dimension keys (we use one)."""


class Unit(enum.StrEnum):
    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


class Metric(enum.Enum):
    """Every business metric: its CloudWatch name and unit (docs/METRICS.md says what each
    counts, where it is recorded and which alarm reads it)."""

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


Tally = Mapping[Metric, Sequence[float]]
"""What one invocation recorded: each metric's values in the order recorded."""
Sink = Callable[[Tally], None]
"""Where a finished tally goes."""

_tally: contextvars.ContextVar[dict[Metric, list[float]] | None] = contextvars.ContextVar(
    "dynamotalk_metrics", default=None
)


def record(metric: Metric, value: float = 1.0) -> None:
    """Add `value` to the current invocation's `metric` (a count adds up; a time is one more
    sample of its distribution). Call it on the invocation's own thread: worker threads do
    not share its context, so they tally into what they return and the caller records.
    A value that is not a finite number is dropped (JSON has no NaN; EMF wants numbers)."""
    if not math.isfinite(value):
        return
    tally = _tally.get()
    if tally is None:
        write_line({metric: [value]})
        return
    tally.setdefault(metric, []).append(value)


def record_sends(delivered: int, failed: int, gone: int) -> None:
    """One fan-out's outcome: posts delivered, posts the endpoint failed or refused, and
    connections found gone. Zeros are recorded too, so the failure ratio's denominator exists
    in every period the fan-out ran."""
    record(Metric.DELIVERIES, delivered)
    record(Metric.DELIVERY_FAILURES, failed)
    record(Metric.GONE_CONNECTIONS, gone)


@contextmanager
def timed(metric: Metric) -> Iterator[None]:
    """Record how long the block took, in milliseconds, when it ends without an error."""
    started = time.perf_counter()
    yield
    record(metric, (time.perf_counter() - started) * 1000)


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


def emf_line(tally: Tally, stage: str, timestamp_ms: int) -> str:
    """One EMF document: counts summed, times as a list of samples (EMF's array values).
    The caller keeps within EMF's limits (`emf_lines` does)."""
    values: dict[str, object] = {}
    for metric, samples in tally.items():
        if metric.unit is Unit.COUNT:
            values[metric.metric_name] = _number(sum(samples))
        else:
            numbers = [_number(s) for s in samples]
            values[metric.metric_name] = numbers if len(numbers) > 1 else numbers[0]
    definitions = [{"Name": m.metric_name, "Unit": m.unit.value} for m in tally]
    document = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [[STAGE_DIMENSION]],
                    "Metrics": definitions,
                }
            ],
        },
        STAGE_DIMENSION: stage,
        **values,
    }
    return json.dumps(document, separators=(",", ":"), allow_nan=False)


def emf_lines(tally: Tally, stage: str, timestamp_ms: int) -> list[str]:
    """The tally as EMF documents within EMF's limits: at most MAX_METRICS_PER_LINE metrics a
    line, at most MAX_VALUES_PER_METRIC samples a metric (the rest follow on more lines)."""
    chunks: list[dict[Metric, Sequence[float]]] = []
    for metric, samples in tally.items():
        if not samples:
            continue
        parts = (
            [samples]
            if metric.unit is Unit.COUNT
            else [
                samples[i : i + MAX_VALUES_PER_METRIC]
                for i in range(0, len(samples), MAX_VALUES_PER_METRIC)
            ]
        )
        for n, part in enumerate(parts):
            while len(chunks) <= n:
                chunks.append({})
            chunks[n][metric] = part
    lines = []
    for chunk in chunks:
        metrics = list(chunk.items())
        for i in range(0, len(metrics), MAX_METRICS_PER_LINE):
            lines.append(emf_line(dict(metrics[i : i + MAX_METRICS_PER_LINE]), stage, timestamp_ms))
    return lines


def _number(value: float) -> float | int:
    """Whole numbers as JSON integers (shorter lines); others rounded to microseconds."""
    return int(value) if float(value).is_integer() else round(value, 3)


def print_lines(tally: Tally) -> None:
    """The default sink: EMF lines on stdout, which Lambda sends to CloudWatch Logs."""
    stage = os.environ.get(STAGE_ENV, "local")
    for line in emf_lines(tally, stage, int(time.time() * 1000)):
        sys.stdout.write(line + "\n")


_sink: Sink = print_lines


def send_to(sink: Sink | None) -> Sink:
    """Send finished tallies to `sink` (None: back to stdout); returns the sink it replaces."""
    global _sink
    previous = _sink
    _sink = sink if sink is not None else print_lines
    return previous


def write_line(tally: Tally) -> None:
    _sink(tally)
