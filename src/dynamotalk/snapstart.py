"""After a SnapStart restore: what one snapshot must not hand to every environment it starts.

With SnapStart on (the stage's `snapStart`, docs/DEPLOY.md), Lambda runs a function's init
once, when a version is published, and restores that one memory snapshot into every execution
environment it starts afterwards. Whatever init left in memory, every environment shares.

What our init leaves, and what a restore does to it:
- `random`'s generator, seeded once at import: every restored environment would draw the
  same numbers, so the jitter of botocore's retries, of the management API's backoff and of
  the change feed's conflict pause would be the same everywhere, and the retries of one
  throttled burst would collide again. `after_restore` reseeds it from the OS.
- Ids (domain/ids.py) draw from `secrets`, the OS's generator, which Lambda keeps unique
  across restores; the ULID generator's monotonic floor is only set by ids made after init.
- boto3 clients are built at init but connect on first use; their credentials come from
  Lambda's container endpoint under SnapStart, and botocore refreshes them once expired.
- The circuit breakers start closed and read the clock only after a failure (no init calls).

The runtime's `snapshot_restore_py` exists only on Lambda: elsewhere nothing is registered.
"""

from __future__ import annotations

import random


def after_restore() -> None:
    """Run by Lambda in each environment restored from the snapshot, before its first event."""
    random.seed()  # from os.urandom: unique per environment


def register() -> bool:
    """Register the hook with Lambda's runtime; False where there is no such runtime."""
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True


REGISTERED = register()
"""Whether this process runs on Lambda's Python runtime (which runs the hook on a restore)."""
