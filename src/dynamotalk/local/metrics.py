"""The local stack's CloudWatch: the business metrics the handlers record, kept in memory.

In Lambda each invocation prints one EMF line and CloudWatch Logs turns it into metrics
(dynamotalk/metrics.py). Under `dynamotalk dev` every function runs in one process, so those
lines would double the console's noise and nobody would read them: the stack sends the tallies
here instead, and GET /_local/metrics answers the totals since the stack started (per metric:
its unit, the sum, the number of values and, for times, p50/p99/max over the latest samples).
`dynamotalk dev --print-metrics` also prints each EMF line, as Lambda would write it.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import attrs

from dynamotalk import metrics
from dynamotalk.metrics import Metric, Tally, Unit

KEPT_SAMPLES = 1000
"""Samples of a time kept for its percentiles (the latest ones); sums and counts cover all."""


@attrs.define
class _Series:
    total: float = 0.0
    values: int = 0
    samples: list[float] = attrs.Factory(list)


@attrs.define
class LocalMetrics:
    """Totals of every metric recorded in this process: the sink `metrics.send_to` takes."""

    echo: bool = False
    """Also print each EMF line to stdout (--print-metrics)."""
    _series: dict[Metric, _Series] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def record(self, tally: Tally) -> None:
        with self._lock:
            for metric, values in tally.items():
                if not values:
                    continue
                series = self._series.setdefault(metric, _Series())
                series.total += sum(values)
                # As CloudWatch counts them (its SampleCount): a count is one summed number per
                # EMF line (metrics.emf_line), a time one value per sample.
                series.values += 1 if metric.unit is Unit.COUNT else len(values)
                if metric.unit is Unit.MILLISECONDS:
                    series.samples = [*series.samples, *values][-KEPT_SAMPLES:]
        if self.echo:
            stage = os.environ.get(metrics.STAGE_ENV, "local")
            for line in metrics.emf_lines(tally, stage, int(time.time() * 1000)):
                sys.stdout.write(line + "\n")

    def totals(self) -> dict[str, dict[str, object]]:
        """Every metric by its CloudWatch name, recorded or not (zero)."""
        with self._lock:
            return {m.metric_name: self._summary(m) for m in Metric}

    def _summary(self, metric: Metric) -> dict[str, object]:
        series = self._series.get(metric, _Series())
        summary: dict[str, object] = {
            "unit": metric.unit.value,
            "sum": series.total,
            "values": series.values,
        }
        if metric.unit is Unit.MILLISECONDS:
            ordered = sorted(series.samples)
            summary.update(
                p50=_percentile(ordered, 50),
                p99=_percentile(ordered, 99),
                max=ordered[-1] if ordered else None,
            )
        return summary


def _percentile(ordered: list[float], p: int) -> float | None:
    """Nearest rank, as CloudWatch's pNN reads a period's samples."""
    if not ordered:
        return None
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[rank - 1]
