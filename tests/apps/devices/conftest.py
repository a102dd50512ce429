"""The devices tests' fixtures: core's small city (`world`); the real SMTP server (`smtp_sink`) comes
from tests/apps/conftest.py."""

from __future__ import annotations

from tests.apps.core.conftest import world  # noqa: F401 - the fixture, shared
