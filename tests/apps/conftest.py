"""Each app test starts in Japanese: a request in English (LocaleMiddleware activates the language
in the test's thread and leaves it) must not change the messages later tests assert. Each test keeps
its audit checkpoints to itself."""

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _japanese_first() -> Iterator[None]:
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _private_audit_checkpoints(settings, tmp_path_factory) -> None:
    """Each test's audit chain starts empty, so its checkpoints may not outlive it."""
    settings.MAMORI_AUDIT_CHECKPOINT_DIR = tmp_path_factory.mktemp("audit-checkpoints")
