"""The apps' English catalogues are merged into one: where two apps give the same Japanese text
different English, the app installed first wins and the other's English is never shown (the devices
page 「取込」 read "Imported", the audit log's word, instead of "Imports"). A text that needs other
English in another app takes a context (`pgettext`, `{% translate ... context ... %}`)."""

from __future__ import annotations

import gettext
from pathlib import Path

from django.apps import apps


def _catalogues() -> dict[str, dict[str, str]]:
    """Each app's compiled English catalogue: {msgid (with its context as "ctx\\x04id"): English}."""
    found = {}
    for config in apps.get_app_configs():
        mo = Path(config.path) / "locale" / "en" / "LC_MESSAGES" / "django.mo"
        if config.name.startswith("mamori.") and mo.exists():
            with mo.open("rb") as handle:
                catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
            found[config.label] = {k: v for k, v in catalogue.items() if isinstance(k, str) and k}
    return found


def test_the_catalogues_are_found():
    assert {"core", "training", "devices", "awareness"} <= set(_catalogues())


def test_a_japanese_text_has_the_same_english_in_every_app():
    english: dict[str, dict[str, str]] = {}
    for app, catalogue in _catalogues().items():
        for msgid, msgstr in catalogue.items():
            english.setdefault(msgid, {})[app] = msgstr
    clashes = {
        msgid.replace("\x04", " | "): by_app
        for msgid, by_app in english.items()
        if len(set(by_app.values())) > 1
    }
    assert clashes == {}
