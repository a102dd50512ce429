"""Fiscal years and units in the reader's language: the template filters and the functions views use."""

from __future__ import annotations

from datetime import date

from django.template import Context, Template
from django.utils import translation

from mamori.apps.core.labels import date_label, fiscal_year_label, unit_label, with_note


def _render(text: str, **context: object) -> str:
    return Template("{% load labels %}" + text).render(Context(context))


def test_a_fiscal_year_reads_as_wareki_in_japanese_and_fy_in_english():
    with translation.override("ja"):
        assert _render("{{ fy|fiscal_year }} {{ fy|fiscal_year:'seireki' }}", fy=2026) == "令和8年度 2026年度"
        assert fiscal_year_label(2019) == "令和元年度"
    with translation.override("en"):
        assert (
            _render("{{ fy|fiscal_year }} {{ fy|fiscal_year:'seireki' }}", fy=2026)
            == "FY2026 (Reiwa 8) FY2026"
        )
        assert _render("[{{ fy|fiscal_year }}]", fy=None) == "[]"
        assert date_label(date(2013, 3, 31)) == "2013-03-31 (Heisei 25)"
    with translation.override("ja"):
        assert date_label(date(2013, 3, 31)) == "平成25年3月31日"


def test_units_are_translated_in_their_own_context():
    with translation.override("en"):
        assert [unit_label(u) for u in ("件", "回", "円", "千円", "名", "%", "棟")] == [
            "count",
            "times",
            "yen",
            "thousand yen",
            "people",
            "%",
            "棟",
        ]
        assert _render("{{ u|unit }}", u="点") == "points"
        assert with_note("Backup", "Manual", "officer") == "Backup (Manual·officer)"
    with translation.override("ja"):
        assert (
            unit_label("件") == "件"
            and with_note("バックアップ", "手動", "担当") == "バックアップ（手動・担当）"
        )
