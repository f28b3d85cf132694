"""Lambda entrypoints: one small module per function, wired once per container."""

# Every handler's import runs this first: the SnapStart restore hook is registered once here.
from dynamotalk import snapstart  # noqa: F401
