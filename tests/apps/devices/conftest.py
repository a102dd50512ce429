"""The devices tests' fixtures: core's small city (`world`) and the real SMTP server of the backups tests."""

from __future__ import annotations

from tests.apps.backups.conftest import smtp_sink  # noqa: F401 - the fixture, shared
from tests.apps.core.conftest import world  # noqa: F401 - the fixture, shared
