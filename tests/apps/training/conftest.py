"""The training tests' fixtures: core's small city (`world`), a course with a question pool, and a
staff login linked to its staff record."""

from __future__ import annotations

import pytest

from tests.apps.core.conftest import world  # noqa: F401 - the fixture, shared

from .helpers import make_course


@pytest.fixture
def course(db):  # type: ignore[no-untyped-def]
    return make_course()
