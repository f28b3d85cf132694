"""What the business metrics cost: the EMF lines' bytes (measured: the very lines metrics.py
writes for each kind of invocation) priced as CloudWatch Logs ingestion, and the custom metrics
and alarm metrics priced per month.

Prices: Amazon CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/ (us-east-1,
standard log class): logs ingested $0.50/GB; custom metrics $0.30 per metric-month (first
10,000; metrics extracted from EMF are custom metrics, with no PutMetricData request charge);
standard-resolution alarms $0.10 per alarm metric-month (a metric math alarm pays for each
metric it reads). The cost model (cost_model.py) adds the per-message figure to its notes.
"""

from __future__ import annotations

import math

from bench.table import Table
from dynamotalk.domain.limits import FANOUT_PAGE_SIZE
from dynamotalk.metrics import Metric, Tally, emf_lines
from infra.business_metrics import RATIO_ALARMS

LOG_GB = 0.50  # CloudWatch Logs ingestion, standard class, per GB
CUSTOM_METRIC_MONTH = 0.30  # per metric (name + dimension set) and month, first 10,000
ALARM_METRIC_MONTH = 0.10  # standard resolution, per metric an alarm reads
STAGE = "prod"
TIMESTAMP_MS = 1_764_300_000_000  # a 13-digit epoch in ms, as every real line has

INVOCATIONS: dict[str, Tally] = {
    "ws_default: a post stored": {Metric.MESSAGES_POSTED: [1]},
    "fanout: one change delivered": {
        Metric.DELIVERIES: [1000],
        Metric.DELIVERY_FAILURES: [0],
        Metric.GONE_CONNECTIONS: [0],
        Metric.FANOUT_MS: [1234.567],
    },
    "fanout_pages: one page": {
        Metric.DELIVERIES: [1000],
        Metric.DELIVERY_FAILURES: [0],
        Metric.GONE_CONNECTIONS: [0],
        Metric.FANOUT_MS: [1234.567],
    },
    "any function: a request refused rate_limited": {Metric.RATE_LIMITED: [1]},
    "bot_worker: one answer": {
        Metric.BOT_LATENCY_MS: [850.25],
        Metric.BOT_FAILURES: [0],
        Metric.MESSAGES_POSTED: [1],
    },
}


def line_bytes(tally: Tally) -> int:
    """Bytes CloudWatch Logs ingests for the tally's lines (each with its newline)."""
    return sum(len(line.encode()) + 1 for line in emf_lines(tally, STAGE, TIMESTAMP_MS))


def per_message_usd(members: int) -> float:
    """The EMF bytes one posted message costs: the sender's line, the fan-out's, and one line
    per page worker in a room over FANOUT_PAGE_SIZE live connections."""
    pages = math.ceil(members / FANOUT_PAGE_SIZE) if members > FANOUT_PAGE_SIZE else 0
    sender = line_bytes(INVOCATIONS["ws_default: a post stored"])
    fanout = line_bytes(INVOCATIONS["fanout: one change delivered"])
    page = line_bytes(INVOCATIONS["fanout_pages: one page"])
    return (sender + fanout + pages * page) / 1e9 * LOG_GB


def monthly_fixed_usd() -> tuple[float, float]:
    """(custom metrics, alarm metrics) per stage and month: every Metric under one dimension
    set; each ratio alarm's metrics plus the fan-out p99 alarm's one."""
    alarm_metrics = sum(len(r.series()) for r in RATIO_ALARMS) + 1
    return len(Metric) * CUSTOM_METRIC_MONTH, alarm_metrics * ALARM_METRIC_MONTH


def run(quick: bool) -> Table:
    table = Table(
        "Business metrics (EMF): bytes per invocation line and what they cost",
        ["invocation", "EMF bytes", "USD per million invocations", "met (no target)"],
    )
    for name, tally in INVOCATIONS.items():
        size = line_bytes(tally)
        table.add(name, size, size * 1e6 / 1e9 * LOG_GB, "-")
        table.extra[name] = size
    for members in (10, 1000, 10_000):
        table.add(f"a message in a room of {members:,}", "-", per_message_usd(members) * 1e6, "-")
    metrics_month, alarms_month = monthly_fixed_usd()
    table.notes.append(
        f"fixed, per stage: {len(Metric)} custom metrics (one dimension set, Stage) "
        f"${metrics_month:.2f}/month; {len(RATIO_ALARMS) + 1} business alarms reading "
        f"{round(alarms_month / ALARM_METRIC_MONTH)} metrics ${alarms_month:.2f}/month"
    )
    table.notes.append(
        "prices: https://aws.amazon.com/cloudwatch/pricing/ (us-east-1): logs ingested "
        "$0.50/GB, custom metrics $0.30/metric-month, alarms $0.10/alarm metric-month"
    )
    table.ok = all(0 < size < 1024 for size in table.extra.values())
    return table
