"""The apps' English catalogues are merged into one: where two apps give the same Japanese text
different English, the app installed first wins and the other's English is never shown (the devices
page 「取込」 read "Imported", the audit log's word, instead of "Imports"). A text that needs other
English in another app takes a context (`pgettext`, `{% translate ... context ... %}`)."""

from __future__ import annotations

import gettext
import subprocess
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


def test_every_committed_catalogue_is_compiled_from_its_po(tmp_path):
    """The .mo files are committed (running mamori needs no gettext): each must be what its .po
    compiles to — a .po edited without `make messages`, or a .mo touched by a text substitution,
    shows English pages other than the .po says (or none: a broken .mo fails every English page)."""
    stale = []
    for config in apps.get_app_configs():
        po = Path(config.path) / "locale" / "en" / "LC_MESSAGES" / "django.po"
        if not (config.name.startswith("mamori.") and po.exists()):
            continue
        fresh = tmp_path / f"{config.label}.mo"
        subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)
        with fresh.open("rb") as a, (po.with_suffix(".mo")).open("rb") as b:
            if gettext.GNUTranslations(a)._catalog != gettext.GNUTranslations(b)._catalog:  # type: ignore[attr-defined]
                stale.append(config.label)
    assert stale == [], f"run `make messages`: the .mo of {stale} is not compiled from its .po"
