"""The incident tests' fixtures: core's small city (`world`)."""

from tests.apps.core.conftest import world  # noqa: F401 - the fixture, shared
