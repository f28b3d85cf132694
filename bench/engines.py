"""DynamoDB Local for the benchmarks that talk to it in process (P2, write units, P7, P8, P9).

A full run gives each benchmark an engine of its own, so its figures never depend on what ran
before. A quick run (`make test`'s, checks only) shares one engine between them all: starting
the JVM is the longest step of each quick benchmark (24 s measured on this loaded 2-core VM),
and their tables never collide (each names its own). The shared engine stops at exit.
"""

from __future__ import annotations

import atexit

from dynamotalk.local.emulators import DynamoDBLocal

_shared: DynamoDBLocal | None = None


def start(quick: bool) -> DynamoDBLocal:
    """An engine for one benchmark: a new one, or in a quick run the process's shared one."""
    global _shared
    if not quick:
        return DynamoDBLocal.start()
    if _shared is None or _shared.process.poll() is not None:
        _shared = DynamoDBLocal.start()
        atexit.register(_shared.stop)
    return _shared


def release(engine: DynamoDBLocal) -> None:
    """What the benchmark's `finally` calls: stop its own engine, keep the shared one."""
    if engine is not _shared:
        engine.stop()
