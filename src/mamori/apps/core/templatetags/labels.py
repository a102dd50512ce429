"""`{{ fy|fiscal_year }}` (令和8年度 / FY2026 (Reiwa 8)), `{{ fy|fiscal_year:"seireki" }}`
(2026年度 / FY2026) and `{{ indicator.unit|unit }}` (件 / items): in the reader's language
(`mamori.apps.core.labels`)."""

from __future__ import annotations

from typing import Any

from django import template

from mamori.apps.core.labels import fiscal_year_label, unit_label

register = template.Library()


@register.filter
def fiscal_year(value: Any, style: str = "wareki") -> str:
    if value in (None, ""):
        return ""
    return fiscal_year_label(int(value), style)  # type: ignore[arg-type]


@register.filter
def unit(value: Any) -> str:
    return unit_label(str(value or ""))
