"""The core tests' fixtures: the small city of `world.py`."""

from __future__ import annotations

import pytest

from .world import World, build_world


@pytest.fixture
def world(db: None) -> World:
    return build_world()
