"""Fixtures of the domain unit tests (see world.py)."""

from tests.unit.world import private_room, public_room, world

__all__ = ["private_room", "public_room", "world"]
