"""Labels in the reader's language for what the pure modules and the records hold: a fiscal year is
令和8年度 in Japanese and "FY2026 (Reiwa 8)" in English (`wareki.format_fiscal_year`); a unit of
measure (件, 回, 円, 千円, 名...) is translated in the context "unit" (core's catalogue), so no app's
own 「件」 takes it over. Templates use the `fiscal_year` and `unit` filters (`{% load labels %}`)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import translation
from django.utils.translation import pgettext

from mamori.apps.core.wareki import FiscalYearStyle, format_date, format_fiscal_year


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def fiscal_year_label(fiscal_year: int, style: FiscalYearStyle = "wareki") -> str:
    return format_fiscal_year(int(fiscal_year), style, _language())


def date_label(day: date, style: FiscalYearStyle = "wareki") -> str:
    """平成25年3月31日 / 2013年3月31日 in Japanese, "2013-03-31 (Heisei 25)" / "2013-03-31" in English."""
    return format_date(day, style, _language())


def unit_label(unit: str) -> str:
    """An indicator's or a KPI's unit in the reader's language; a unit nobody translated, as written."""
    return pgettext("unit", unit) if unit else ""


def with_note(text: str, *notes: object) -> str:
    """「text（a・b）」 in Japanese, "text (a·b)" in English: the same brackets and separator as the
    templates' `{% translate '（' context 'parenthesis' %}`."""
    inside = pgettext("separator", "・").join(str(n) for n in notes)
    return f"{text}{pgettext('parenthesis', '（')}{inside}{pgettext('parenthesis', '）')}"
