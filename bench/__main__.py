"""`make bench`: run every benchmark and print one table each. `--quick` checks correctness fast."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from bench.table import RESULTS
from dynamotalk.domain.user_limits import unlimited_env
from dynamotalk.local.emulators import DUMMY_CREDENTIALS

BENCHMARKS = [
    "bench.p1_fanout",
    "bench.p2_recipients",
    "bench.write_units",
    "bench.cost_model",
    "bench.export_cost",
    "bench.metrics_cost",
    "bench.local_cognito",
    "bench.p3_cold_start",
    "bench.p4_local_load",
    "bench.p5_slow_reader",
    "bench.p6_noisy_neighbour",
    "bench.p7_membership",
    "bench.p8_room_size",
    "bench.p9_room_writes",
    "bench.p10_search",
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes; checks, not timings")
    parser.add_argument("only", nargs="*", help="benchmark module names to run (default: all)")
    args = parser.parse_args()
    for name, value in DUMMY_CREDENTIALS.items():  # loopback only; never real AWS
        os.environ.setdefault(name, value)
    # P4/P5 measure throughput with scripted users that post back to back: per-user limits
    # raised to their highest (P6 starts its stacks with the real limits; docs/PERFORMANCE.md).
    for name, value in unlimited_env().items():
        os.environ.setdefault(name, value)
    failed = []
    for name in BENCHMARKS:
        if args.only and not any(o in name for o in args.only):
            continue
        started = time.perf_counter()
        table = importlib.import_module(name).run(args.quick)
        RESULTS[name] = table
        print(table.render())
        print(f"  ({name}: {time.perf_counter() - started:.1f}s)\n", flush=True)
        if not table.ok:
            failed.append(name)
    if failed:
        print(f"FAILED correctness checks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
