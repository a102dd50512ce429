"""The disposal tests' fixtures: core's small city (`world`) and a private MEDIA_ROOT."""

from __future__ import annotations

import pytest

from tests.apps.core.conftest import world  # noqa: F401 - the fixture, shared


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT
