"""Each app test starts in Japanese: a request in English (LocaleMiddleware activates the language
in the test's thread and leaves it) must not change the messages later tests assert."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _japanese_first() -> Iterator[None]:
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
