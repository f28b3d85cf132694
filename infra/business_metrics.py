"""The business metrics' alarms and dashboard widgets (the metrics: dynamotalk/metrics.py).

Ratios, not counts, page someone: one failed delivery in two is noise, five in a hundred is a
broken endpoint. Each ratio alarm is metric math over the stage's own series (namespace and
names from metrics.py, so the alarm reads exactly what the functions write), fires only above
a minimum volume in its 5-minute period, and treats a period with no data as fine (a quiet
stage has nothing to fail). docs/METRICS.md explains each threshold.
"""

from __future__ import annotations

import attrs

from dynamotalk.metrics import NAMESPACE, STAGE_DIMENSION, Metric

PERIOD_S = 300
"""Every business alarm looks at 5-minute periods."""
FANOUT_P99_ALARM_MS = 5000
"""A fan-out's p99 above this for 10 of 15 minutes: live delivery is slow (one page of 1,000
connections takes about 2 s in the benchmarks, docs/PERFORMANCE.md); clients see changes late."""
FANOUT_SLOW_PERIODS = (2, 3)
"""(periods over the threshold, periods looked at): a single slow batch does not page."""


@attrs.frozen
class RatioAlarm:
    """Page when `failed` is more than `threshold_pct` of the attempts in a period with at
    least `min_volume` attempts."""

    key: str
    failed: Metric
    succeeded: Metric | None
    """The successes beside `failed` (attempts = both sums); None: `failed` itself is
    recorded once per attempt, 1 or 0, so its SampleCount is the attempts."""
    threshold_pct: float
    min_volume: int
    why: str

    def expression(self) -> str:
        failed = "FILL(failed, 0)"
        attempts = "FILL(attempts, 0)" if self.succeeded is None else f"FILL(ok, 0) + {failed}"
        # The volume is parenthesised: the comparison reads the whole sum without relying on
        # metric math ranking `+` above `>=`.
        return f"IF(({attempts}) >= {self.min_volume}, 100 * {failed} / ({attempts}), 0)"

    def series(self) -> list[tuple[str, Metric, str]]:
        """(query id, metric, statistic) the expression reads."""
        if self.succeeded is None:
            return [("failed", self.failed, "Sum"), ("attempts", self.failed, "SampleCount")]
        return [("ok", self.succeeded, "Sum"), ("failed", self.failed, "Sum")]

    def metrics(self) -> set[Metric]:
        return {metric for _, metric, _ in self.series()}


RATIO_ALARMS = (
    RatioAlarm(
        "delivery-failure-rate",
        Metric.DELIVERY_FAILURES,
        Metric.DELIVERIES,
        threshold_pct=5,
        min_volume=20,
        why="posts to live connections the endpoint failed or refused: clients miss changes "
        "until their next sync",
    ),
    RatioAlarm(
        "push-failure-rate",
        Metric.PUSH_FAILED,
        Metric.PUSH_SENT,
        threshold_pct=10,
        min_volume=20,
        why="Web Push requests the push services failed: offline users are not told",
    ),
    RatioAlarm(
        "bot-failure-rate",
        Metric.BOT_FAILURES,
        None,
        threshold_pct=20,
        min_volume=5,
        why="bot jobs answered with an apology (model errors, timeouts, open breaker)",
    ),
)


def dimensions(stage: str) -> dict[str, str]:
    """The one dimension set metrics.py writes (a series read with another has no data)."""
    return {STAGE_DIMENSION: stage}


def widgets(region: str, stage: str, y: int) -> list[dict[str, object]]:
    """The business row of the dashboard: every Metric on at least one graph."""

    def series(metric: Metric, stat: str = "Sum") -> list[object]:
        return [NAMESPACE, metric.metric_name, STAGE_DIMENSION, stage, {"stat": stat}]

    graphs: list[tuple[str, list[list[object]]]] = [
        ("Messages posted per minute", [series(Metric.MESSAGES_POSTED)]),
        (
            "Deliveries vs failures",
            [
                series(Metric.DELIVERIES),
                series(Metric.DELIVERY_FAILURES),
                series(Metric.GONE_CONNECTIONS),
            ],
        ),
        (
            "Fan-out ms (p50, p99)",
            [series(Metric.FANOUT_MS, "p50"), series(Metric.FANOUT_MS, "p99")],
        ),
        ("Rate-limited requests", [series(Metric.RATE_LIMITED)]),
        (
            "Bot latency p95 and failures",
            [series(Metric.BOT_LATENCY_MS, "p95"), series(Metric.BOT_FAILURES)],
        ),
        ("Web Push sent vs failed", [series(Metric.PUSH_SENT), series(Metric.PUSH_FAILED)]),
    ]
    return [
        {
            "type": "metric",
            "x": 12 * (n % 2),
            "y": y + 6 * (n // 2),
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": "Sum",
                "period": 60,
                "metrics": metrics,
            },
        }
        for n, (title, metrics) in enumerate(graphs)
    ]
