"""Lambda entrypoints: one small module per function, wired once per container.

On Lambda, garbage collection is off while a handler module initializes (importing this
package comes first) and each module calls `initialized()` as its last statement: init only
allocates (modules, classes, botocore's service models and clients), so the collector's passes
there find nothing to free and cost 15-20% of the cold start (P3, docs/PERFORMANCE.md). The
objects of init are then frozen out of every later collection. Elsewhere (tests, the local
stack) nothing changes.
"""

import gc
import os

ON_LAMBDA = os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")
"""Set by Lambda's runtime (AWS_Lambda_python3.13), never by the local stack."""

if ON_LAMBDA:
    gc.disable()

# Every handler's import runs this first: the SnapStart restore hook is registered once here.
from dynamotalk import snapstart  # noqa: E402, F401


def initialized() -> None:
    """A handler module's init is done: freeze what it built, collect again from now on."""
    if ON_LAMBDA:
        gc.freeze()
        gc.enable()
