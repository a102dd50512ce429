"""The sheet as print-ready HTML (A4 portrait) and as PDF through WeasyPrint.

The web page and the PDF share one template (`evaluation/_sheet.html`) and one stylesheet, so
what an officer sees on screen is what gets printed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from weasyprint import HTML

from .sheet import Costs, ProgramBlock, Sheet, staff_rows, year_index_rows

STYLESHEET = Path(__file__).resolve().parent / "static" / "evaluation" / "sheet.css"
COLS = range(12)
HEADING = re.compile(r"^\d+\.\s")


def _fmt(value: object, fte: bool = False) -> str | None:
    if value is None:
        return None
    if fte:
        return f"{value:.2f}"
    return f"{value:,}"


def cost_source_rows() -> list[tuple[str, str]]:
    """(label, field) of the 事業費・財源 column, in the language now active (HTML and XLSX)."""
    return [
        (_("事業費(決算額)(千円)"), "program_cost"),
        (_("一般財源"), "general_fund"),
        (_("国府支出金"), "national_prefectural"),
        (_("地方債"), "municipal_bonds"),
        (_("その他特定財源"), "other_specific"),
    ]


def cost_right_rows(cur: Costs | None, prev: Costs | None) -> list[tuple[str, object, object, bool]]:
    """(label, this year, 比較, is FTE) of the コスト情報・従事職員数 column (HTML and XLSX)."""

    def money(c: Costs | None, key: str) -> object:
        if c is None:
            return None
        return c.thousands[key] if key in c.thousands else getattr(c, key)

    rows: list[tuple[str, object, object, bool]] = [
        (label, money(cur, key), money(prev, key), False)
        for label, key in [
            (_("総コスト(千円)"), "total"),
            (_("事業費"), "program_cost"),
            (_("人件費"), "personnel"),
            (_("公債費"), "debt_service"),
            (_("一人あたり(円)"), "per_resident"),
            (_("世帯あたり(円)"), "per_household"),
        ]
    ]
    for category, label in staff_rows(cur, prev):
        fte = [c.fte_by_category.get(category, Decimal(0)) if c else None for c in (cur, prev)]
        rows.append((_(label), fte[0], fte[1], True))
    return rows


def cost_rows(cur: Costs | None, prev: Costs | None) -> list[dict[str, Any]]:
    """The rows of a 細事業's 事業費・財源 / コスト情報 box, current year and 比較 (previous year)."""
    left = cost_source_rows()

    def value(c: Costs | None, key: str) -> str | None:
        return _fmt(c.thousands[key]) if c is not None and key else None

    rows = []
    for i, (label, now, before, fte) in enumerate(cost_right_rows(cur, prev)):
        lk = left[i] if i < len(left) else ("", "")
        rows.append(
            {
                "left_label": lk[0],
                "left": value(cur, lk[1]),
                "left_prev": value(prev, lk[1]),
                "right_label": label,
                "right": _fmt(now, fte=fte),
                "right_prev": _fmt(before, fte=fte),
            }
        )
    return rows


def _narrative(block: ProgramBlock) -> dict[str, Any]:
    paragraphs = [
        {"text": p, "heading": bool(HEADING.match(p))} for p in block.outcome.split("\n") if p.strip()
    ]
    return {"name": block.name, "paragraphs": paragraphs, "glossary": block.glossary}


def narrative_blocks(sheet: Sheet) -> list[tuple[str, ProgramBlock]]:
    """(事業 / 細事業, block) of the 成果 part: only blocks with a narrative or glossary (no empty headings)."""
    blocks = [(_("事業"), sheet.program), *((_("細事業"), b) for b in sheet.sub_programs)]
    return [(title, b) for title, b in blocks if b.outcome.strip() or b.glossary]


def detail_kind(sheet: Sheet) -> str:
    """細事業, or 事業 when a program without 細事業 prints its own detail block."""
    return _("細事業") if sheet.sub_programs else _("事業")


def sheet_context(sheet: Sheet) -> dict[str, Any]:
    blocks = [sheet.program, *sheet.sub_programs]
    return {
        "sheet": sheet,
        "cols": COLS,
        "subs": [
            {"block": b, "kind": detail_kind(sheet), "cost_rows": cost_rows(b.costs, b.previous_costs)}
            for b in sheet.detail_blocks
        ],
        "narratives": [(title, _narrative(b)) for title, b in narrative_blocks(sheet)],
        "population_note": next((b.costs.population_note for b in blocks if b.costs), ""),
    }


def sheet_to_html(sheet: Sheet) -> str:
    """A standalone A4 HTML document (stylesheet inlined), for files and for the PDF."""
    return _document(_sheet_body(sheet), f"{sheet.fiscal_year_label} {sheet.program.name}", inline_css=True)


def book_sheet_html(sheet: Sheet) -> str:
    """One 事業's page set of the year's PDF: the sheet as a document of its own (so its pages are
    numbered within it); the book's renderer brings the stylesheet, parsed once."""
    return _document(_sheet_body(sheet), f"{sheet.program.reference_number} {sheet.program.name}")


def book_index_html(sheets: list[Sheet]) -> str:
    """The 目次 page set of the year's PDF: the index rows the workbook's 目次 has."""
    header, *rows = year_index_rows(sheets)
    label = sheets[0].fiscal_year_label if sheets else ""
    body = render_to_string("evaluation/_year_index.html", {"label": label, "header": header, "rows": rows})
    return _document(body, f"{label} {_('目次')}")


def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def stylesheet_hash() -> str:
    """The CSP source that allows the inlined stylesheet (`sha256-…` of the <style> element's text)."""
    digest = hashlib.sha256(stylesheet().encode("utf-8")).digest()
    return f"sha256-{base64.b64encode(digest).decode('ascii')}"


def _sheet_body(sheet: Sheet) -> str:
    return render_to_string("evaluation/_sheet.html", sheet_context(sheet))


def _document(body: str, title_text: str, *, inline_css: bool = False) -> str:
    style = f"<style>{stylesheet()}</style>" if inline_css else ""
    return (
        f'<!doctype html><html lang="{get_language() or "ja"}"><head><meta charset="utf-8">'
        f"<title>{escape(title_text)}</title>{style}</head><body>{body}</body></html>"
    )


def sheet_to_pdf(sheet: Sheet) -> bytes:
    """The PDF of the A4 HTML sheet (WeasyPrint; needs a Japanese font such as Noto Sans CJK JP)."""
    return HTML(string=sheet_to_html(sheet)).write_pdf()  # type: ignore[no-any-return]
