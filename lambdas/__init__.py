"""Lambda entrypoints: one small module per function, wired once per container."""
