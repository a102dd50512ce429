"""Flat export for analysis: one row per program-year (事業 and 細事業) and one per indicator-year.

Built from the same computed sheets as the printed form, so the figures always agree. CSV is
UTF-8 with a BOM so that Excel opens it in Japanese without asking. Text that a spreadsheet would
read as a formula is written as text (`apps.core.spreadsheet`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.utils.translation import get_language, gettext, gettext_noop
from openpyxl import Workbook
from openpyxl.styles import Font

from mamori.apps.core.spreadsheet import csv_rows, xlsx_append
from mamori.apps.core.wareki import era_of_fiscal_year, format_fiscal_year

from .selectors import program_fiscal_years, program_list, sheet_get
from .sheet import ProgramBlock, Sheet

PROGRAM_COLUMNS = [  # msgids: the header is translated when the rows are built
    gettext_noop("年度"),
    gettext_noop("年度(和暦)"),
    gettext_noop("整理番号"),
    gettext_noop("細事業番号"),
    gettext_noop("事業名"),
    gettext_noop("章"),
    gettext_noop("節"),
    gettext_noop("施策"),
    gettext_noop("所管課"),
    gettext_noop("事業実施主体"),
    gettext_noop("事業開始年度"),
    gettext_noop("事業費(円)"),
    gettext_noop("一般財源(円)"),
    gettext_noop("国府支出金(円)"),
    gettext_noop("地方債(円)"),
    gettext_noop("その他特定財源(円)"),
    gettext_noop("人件費(円)"),
    gettext_noop("公債費(円)"),
    gettext_noop("総コスト(円)"),
    gettext_noop("総コスト(千円)"),
    gettext_noop("一人あたり(円)"),
    gettext_noop("世帯あたり(円)"),
    gettext_noop("職員数(人)"),
    gettext_noop("再任用職員数(人)"),
    gettext_noop("会計年度任用職員数(人)"),
    gettext_noop("妥当性"),
    gettext_noop("効率性"),
    gettext_noop("有効性"),
    gettext_noop("総合評価"),
    gettext_noop("貢献度"),
    gettext_noop("方向性区分"),
    gettext_noop("今後の方向性"),
]
INDICATOR_COLUMNS = [
    gettext_noop("年度"),
    gettext_noop("年度(和暦)"),
    gettext_noop("整理番号"),
    gettext_noop("細事業番号"),
    gettext_noop("事業名"),
    gettext_noop("種別"),
    gettext_noop("指標名"),
    gettext_noop("単位"),
    gettext_noop("目指す方向"),
    gettext_noop("目標値"),
    gettext_noop("実績値"),
    gettext_noop("達成率(%)"),
    gettext_noop("KPI"),
    gettext_noop("根拠件数"),
]
#: the amount columns, by position, whatever the language of the header
AMOUNT_COLUMNS = [i for i, c in enumerate(PROGRAM_COLUMNS, start=1) if c.endswith(("(円)", "(千円)"))]


def _era_label(fiscal_year: int) -> str:
    """平成24年度 in Japanese; H24 (the era's letter, as English texts on Japan write it) otherwise."""
    if (get_language() or "ja").startswith("ja"):
        return format_fiscal_year(fiscal_year)
    era = era_of_fiscal_year(fiscal_year)
    return f"{era.letter}{fiscal_year - era.offset}"


def _program_row(sheet: Sheet, block: ProgramBlock, sub: str) -> list[Any]:
    c = block.costs
    y = c.yen if c else {}
    return [
        sheet.fiscal_year,
        _era_label(sheet.fiscal_year),
        sheet.program.reference_number,
        sub,
        block.name,
        sheet.chapter,
        sheet.section,
        sheet.measure,
        sheet.department,
        block.implementation,
        block.start_label,
        y.get("program_cost"),
        y.get("general_fund"),
        y.get("national_prefectural"),
        y.get("municipal_bonds"),
        y.get("other_specific"),
        y.get("personnel"),
        y.get("debt_service"),
        y.get("total"),
        c.thousands["total"] if c else None,
        c.per_resident if c else None,
        c.per_household if c else None,
        c.fte_regular if c else None,
        c.fte_reemployed if c else None,
        c.fte_by_category.get("fiscal_year", 0) if c else None,
        *(block.ratings[k] for k in ("relevance", "efficiency", "effectiveness", "overall", "contribution")),
        gettext(block.direction_code_label) if block.direction_code_label else "",
        block.direction_label,
    ]


def _sheets(fiscal_year: int | None) -> Iterator[Sheet]:
    for program in program_list():
        years = program_fiscal_years(program)
        for fy in years if fiscal_year is None else [y for y in years if y == fiscal_year]:
            yield sheet_get(program=program, fiscal_year=fy)


def flat_rows(*, fiscal_year: int | None = None) -> tuple[list[list[Any]], list[list[Any]]]:
    """(program rows, indicator rows), header first, over every 事業 and year (or one year); the
    header and the labels among the values in the active language."""
    programs: list[list[Any]] = [[gettext(c) for c in PROGRAM_COLUMNS]]
    indicators: list[list[Any]] = [[gettext(c) for c in INDICATOR_COLUMNS]]
    for sheet in _sheets(fiscal_year):
        for block, sub in [(sheet.program, ""), *((s, s.reference_number) for s in sheet.sub_programs)]:
            if block.costs is not None:
                programs.append(_program_row(sheet, block, sub))
            if sub or not sheet.sub_programs:  # a 事業 with 細事業: their indicators, not a second copy
                for row in block.indicators:
                    indicators.append(
                        [
                            sheet.fiscal_year,
                            _era_label(sheet.fiscal_year),
                            sheet.program.reference_number,
                            sub,
                            block.name,
                            row.kind_label,
                            row.name,
                            row.unit,
                            row.direction_mark,
                            row.target,
                            row.actual,
                            row.attainment,
                            row.kpi_code,
                            row.evidence_count if row.kpi_code else None,
                        ]
                    )
    return programs, indicators


def rows_to_csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(csv_rows(rows))
    return buf.getvalue().encode("utf-8-sig")


def rows_to_xlsx(programs: list[list[Any]], indicators: list[list[Any]]) -> bytes:
    wb = Workbook()
    sheets = (
        (wb.active, programs, gettext("事業"), AMOUNT_COLUMNS),
        (wb.create_sheet(), indicators, gettext("指標"), []),
    )
    for ws, rows, title, amounts in sheets:
        assert ws is not None
        ws.title = title
        for row in rows:
            xlsx_append(ws, [float(v) if hasattr(v, "as_tuple") else v for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in amounts:  # amounts read as 5,917,000, not 5917000
            for (amount,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                amount.number_format = "#,##0"
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
