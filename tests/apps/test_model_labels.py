"""Every field and model of an app has a Japanese label with its English in the app's .po: the label
is what a refused write names (`validated()`), and what Django's own messages show."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation

LATIN_LABELS = {"URL", "KPI", "DN", "SHA-256", "OS"}  # the same word in both languages


def _unlabelled(app: str) -> list[str]:
    problems = []
    for model in apps.get_app_config(app).get_models():
        fields = [f for f in model._meta.concrete_fields if not f.auto_created]
        for name, label in [(model.__name__, model._meta.verbose_name)] + [
            (f"{model.__name__}.{f.name}", f.verbose_name) for f in fields
        ]:
            with translation.override("ja"):
                ja = str(label)
            with translation.override("en"):
                en = str(label)
            if ja in LATIN_LABELS:
                continue
            if ja.isascii():
                problems.append(f"{name}: no Japanese label ({ja!r})")
            elif en == ja:
                problems.append(f"{name}: {ja} has no English in the app's .po")
    return problems


@pytest.mark.parametrize(
    "app",
    [
        "core",
        "backups",
        "passwords",
        "disposal",
        "incidents",
        "evaluation",
        "devices",
        "training",
        "awareness",
    ],
)
def test_every_field_and_model_has_a_japanese_label_and_its_english(app):
    assert _unlabelled(app) == []
