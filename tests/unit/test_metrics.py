"""Business metrics: every EMF line obeys AWS's specification, and each metric is recorded
where the thing it counts happens (once per stored post, per answered throttle, per fan-out).

The validator below is written from "Specification: Embedded metric format"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html), not from metrics.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamotalk import metrics
from dynamotalk.bot import BotWorker
from dynamotalk.domain.errors import InvalidInput, RateLimited, SlowMode
from dynamotalk.domain.models import Message, RoomKind
from dynamotalk.edge.failures import refusal
from dynamotalk.local.metrics import LocalMetrics
from dynamotalk.metrics import Metric
from tests.unit.world import ALICE, BOB, make_world

# From the specification (and CloudWatch's MetricDatum units, which it points to).
SPEC_MAX_METRICS = 100
SPEC_MAX_DIMENSION_KEYS = 30
SPEC_MAX_ARRAY_VALUES = 100
SPEC_MAX_BYTES = 1024 * 1024  # an EMF document is a CloudWatch Logs event: 1 MB at most
_BASE_UNITS = ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
_BIT_UNITS = ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
CLOUDWATCH_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "None",
    *_BASE_UNITS, *_BIT_UNITS,
    *(f"{u}/Second" for u in (*_BASE_UNITS, *_BIT_UNITS, "Count")),
}  # fmt: skip


def spec_violations(line: str) -> list[str]:
    """What in one log line breaks the EMF specification (empty: a valid document)."""
    wrong: list[str] = []
    if len(line.encode()) > SPEC_MAX_BYTES:
        wrong.append("over the log event size")
    try:  # the message MUST be a JSON object with nothing before or after it
        root = json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError as error:
        return [f"not JSON: {error}"]
    if not isinstance(root, dict) or not isinstance(root.get("_aws"), dict):
        return ["no _aws metadata object on the root node"]
    meta = root["_aws"]
    timestamp = meta.get("Timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        wrong.append("Timestamp MUST be a number of milliseconds since the epoch")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        return [*wrong, "CloudWatchMetrics MUST be an array of MetricDirectives"]
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
            wrong.append("Namespace MUST be a string of 1..255 characters")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list):
            wrong.append("Dimensions MUST be an array of DimensionSets")
            dimension_sets = []
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > SPEC_MAX_DIMENSION_KEYS:
                wrong.append("a DimensionSet is an array of at most 30 keys")
                continue
            for key in dimension_set:
                if not isinstance(root.get(key), str):
                    wrong.append(f"dimension target {key!r} MUST be a string on the root node")
        definitions = directive.get("Metrics")
        if not isinstance(definitions, list) or len(definitions) > SPEC_MAX_METRICS:
            wrong.append("Metrics MUST be an array of at most 100 MetricDefinitions")
            definitions = []
        for definition in definitions:
            name, unit = definition.get("Name"), definition.get("Unit", "None")
            if not isinstance(name, str) or not name:
                wrong.append("a MetricDefinition MUST have a Name")
                continue
            if unit not in CLOUDWATCH_UNITS:
                wrong.append(f"{name}: unit {unit!r} is not a CloudWatch unit")
            if set(definition) - {"Name", "Unit", "StorageResolution"}:
                wrong.append(f"{name}: members the specification does not define")
            target = root.get(name)
            values = target if isinstance(target, list) else [target]
            if isinstance(target, list) and len(target) > SPEC_MAX_ARRAY_VALUES:
                wrong.append(f"{name}: an array of more than 100 values")
            if not values or not all(_is_number(v) for v in values):
                wrong.append(f"{name}: the target MUST be a number or an array of numbers")
    return wrong


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def test_the_validator_refuses_what_the_specification_refuses() -> None:
    good = metrics.emf_line({Metric.MESSAGES_POSTED: [1]}, "dev", 1_700_000_000_000)
    assert spec_violations(good) == []
    document = json.loads(good)
    for broken in (
        {**document, "MessagesPosted": "1"},
        {**document, "MessagesPosted": list(range(101))},
        {k: v for k, v in document.items() if k != "Stage"},
        {**document, "_aws": {**document["_aws"], "Timestamp": "now"}},
    ):
        assert spec_violations(json.dumps(broken)), broken
    assert spec_violations("prefix " + good)


@attrs.define
class Captured:
    lines: list[str] = attrs.Factory(list)

    def sink(self, tally: metrics.Tally) -> None:
        self.lines += metrics.emf_lines(tally, "test", 1_700_000_000_000)

    def values(self, metric: Metric) -> list[float]:
        found: list[float] = []
        for line in self.lines:
            value = json.loads(line).get(metric.metric_name)
            found += value if isinstance(value, list) else [] if value is None else [value]
        return found


@pytest.fixture
def captured() -> Iterator[Captured]:
    capture = Captured()
    previous = metrics.send_to(capture.sink)
    try:
        yield capture
    finally:
        metrics.send_to(previous)


tallies = st.dictionaries(
    st.sampled_from(list(Metric)),
    st.lists(
        st.floats(min_value=0, max_value=1e9, allow_nan=False) | st.integers(0, 10**6),
        min_size=1,
        max_size=350,
    ),
    min_size=1,
)


@given(tallies)
def test_every_line_is_valid_emf_and_keeps_every_value(tally: dict[Metric, list[float]]) -> None:
    lines = metrics.emf_lines(tally, "prod", 1_700_000_000_000)
    for line in lines:
        assert spec_violations(line) == [], line
        document = json.loads(line)
        assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == metrics.NAMESPACE
        assert document[metrics.STAGE_DIMENSION] == "prod"
    for metric, samples in tally.items():
        found = [v for line in lines for v in _as_list(json.loads(line).get(metric.metric_name))]
        if metric.unit is metrics.Unit.COUNT:
            assert found == [pytest.approx(sum(samples), abs=1e-3)], "a count is summed, once"
        else:
            assert found == [pytest.approx(s, abs=1e-3) for s in samples], "every sample kept"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def test_times_over_one_hundred_are_split_over_lines_not_cut() -> None:
    lines = metrics.emf_lines({Metric.FANOUT_MS: [float(n) for n in range(250)]}, "dev", 1)
    assert [len(_as_list(json.loads(line)["FanoutMs"])) for line in lines] == [100, 100, 50]


def test_a_non_finite_value_is_dropped(captured: Captured) -> None:
    with metrics.tallied():
        metrics.record(Metric.BOT_LATENCY_MS, math.nan)
        metrics.record(Metric.BOT_LATENCY_MS, math.inf)
        metrics.record(Metric.BOT_LATENCY_MS, 12.5)
    assert captured.values(Metric.BOT_LATENCY_MS) == [12.5]


def test_one_line_per_invocation_and_none_when_nothing_was_recorded(
    captured: Captured,
) -> None:
    with metrics.tallied():
        pass
    assert captured.lines == []
    with metrics.tallied():
        metrics.record(Metric.DELIVERIES, 3)
        metrics.record(Metric.DELIVERIES, 2)
        metrics.record(Metric.FANOUT_MS, 4)
    assert len(captured.lines) == 1
    assert captured.values(Metric.DELIVERIES) == [5]


def test_the_default_sink_prints_valid_emf(capsys: pytest.CaptureFixture[str]) -> None:
    previous = metrics.send_to(None)
    try:
        metrics.record(Metric.PUSH_SENT, 2)
    finally:
        metrics.send_to(previous)
    (line,) = capsys.readouterr().out.splitlines()
    assert spec_violations(line) == []
    assert json.loads(line)["PushSent"] == 2


def test_a_post_is_counted_once_a_retry_not_at_all(captured: Captured) -> None:
    world = make_world()
    room = world.service.create_room(ALICE, "counted", RoomKind.PUBLIC)
    world.service.post_message(ALICE, room.room_id, "hello", "c1")
    world.service.post_message(ALICE, room.room_id, "hello again", "c1")  # a retry
    with pytest.raises(InvalidInput):
        world.service.post_message(ALICE, room.room_id, "", "c2")
    assert sum(captured.values(Metric.MESSAGES_POSTED)) == 1


def test_a_fan_out_counts_deliveries_gone_connections_and_its_time(captured: Captured) -> None:
    world = make_world()
    room = world.service.create_room(ALICE, "fan", RoomKind.PUBLIC)
    world.service.join_room(BOB, room.room_id)
    world.online(ALICE, "c-alice", room.room_id)
    world.online(BOB, "c-bob", room.room_id)
    world.online(BOB, "c-bob-gone", room.room_id)
    world.notifier.gone.add("c-bob-gone")
    captured.lines.clear()
    world.service.post_message(ALICE, room.room_id, "to all", "f1")
    assert sum(captured.values(Metric.DELIVERIES)) == 2
    assert sum(captured.values(Metric.GONE_CONNECTIONS)) == 1
    assert sum(captured.values(Metric.DELIVERY_FAILURES)) == 0
    assert len(captured.values(Metric.FANOUT_MS)) == 1


@pytest.mark.parametrize(
    ("error", "counted"),
    [
        (RateLimited("too many"), 1),
        (SlowMode("slow mode", retry_after_ms=5000), 1),
        (InvalidInput("bad"), 0),
    ],
)
def test_each_answered_throttle_is_rate_limited(
    captured: Captured, error: Exception, counted: int
) -> None:
    log: dict[str, Any] = {}
    refusal(error, log)
    assert sum(captured.values(Metric.RATE_LIMITED)) == counted


@attrs.define
class Model:
    fails: bool

    def reply(self, context: Sequence[Message], request: Message, names: Mapping[str, str]) -> str:
        if self.fails:
            raise TimeoutError("model timed out")
        return "an answer"


@pytest.mark.parametrize("fails", [False, True])
def test_the_bot_worker_counts_its_latency_and_failures(captured: Captured, fails: bool) -> None:
    from tests.unit.test_bot import bot_world

    world, jobs, room = bot_world()
    world.service.post_message(ALICE, room, "@bot hi", "b1")
    captured.lines.clear()
    with metrics.tallied():  # the bot_worker function's invocation
        BotWorker(world.service, Model(fails)).answer(*jobs.queued[0])
    assert len(captured.values(Metric.BOT_LATENCY_MS)) == 1
    assert captured.values(Metric.BOT_FAILURES) == [1 if fails else 0], "one value a job"
    assert sum(captured.values(Metric.MESSAGES_POSTED)) == 1, "the answer (or apology) is a post"
    assert all(spec_violations(line) == [] for line in captured.lines)


def test_local_totals_sum_counts_and_rank_times() -> None:
    local = LocalMetrics()
    local.record({Metric.DELIVERIES: [2, 3], Metric.FANOUT_MS: [float(n) for n in range(1, 101)]})
    totals = local.totals()
    assert set(totals) == {m.metric_name for m in Metric}
    assert totals["Deliveries"]["sum"] == 5
    # One EMF line carries the tally's counts as one summed number: one value, as CloudWatch's
    # SampleCount (which the bot-failure alarm reads) would count it.
    assert totals["Deliveries"]["values"] == 1
    assert totals["FanoutMs"]["values"] == 100
    assert totals["FanoutMs"]["p50"] == 50
    assert totals["FanoutMs"]["p99"] == 99
    assert totals["FanoutMs"]["max"] == 100
    assert totals["RateLimited"] == {"unit": "Count", "sum": 0, "values": 0}


def test_local_totals_can_also_print_each_line(capsys: pytest.CaptureFixture[str]) -> None:
    LocalMetrics(echo=True).record({Metric.RATE_LIMITED: [1], Metric.FANOUT_MS: [3.5, 4.25]})
    (line,) = capsys.readouterr().out.splitlines()
    assert spec_violations(line) == []
    assert json.loads(line)["FanoutMs"] == [3.5, 4.25]
    LocalMetrics().record({Metric.RATE_LIMITED: [1]})
    assert capsys.readouterr().out == "", "quiet unless asked (--print-metrics)"
