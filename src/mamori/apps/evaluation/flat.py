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

from openpyxl import Workbook
from openpyxl.styles import Font

from mamori.apps.core.spreadsheet import csv_rows, xlsx_append
from mamori.apps.core.wareki import format_fiscal_year

from .selectors import program_fiscal_years, program_list, sheet_get
from .sheet import ProgramBlock, Sheet

PROGRAM_COLUMNS = [
    "年度",
    "年度(和暦)",
    "整理番号",
    "細事業番号",
    "事業名",
    "章",
    "節",
    "施策",
    "所管課",
    "事業実施主体",
    "事業開始年度",
    "事業費(円)",
    "一般財源(円)",
    "国府支出金(円)",
    "地方債(円)",
    "その他特定財源(円)",
    "人件費(円)",
    "公債費(円)",
    "総コスト(円)",
    "総コスト(千円)",
    "一人あたり(円)",
    "世帯あたり(円)",
    "職員数(人)",
    "再任用職員数(人)",
    "会計年度任用職員数(人)",
    "妥当性",
    "効率性",
    "有効性",
    "総合評価",
    "貢献度",
    "方向性区分",
    "今後の方向性",
]
INDICATOR_COLUMNS = [
    "年度",
    "年度(和暦)",
    "整理番号",
    "細事業番号",
    "事業名",
    "種別",
    "指標名",
    "単位",
    "目指す方向",
    "目標値",
    "実績値",
    "達成率(%)",
    "KPI",
    "根拠件数",
]


def _program_row(sheet: Sheet, block: ProgramBlock, sub: str) -> list[Any]:
    c = block.costs
    y = c.yen if c else {}
    return [
        sheet.fiscal_year,
        format_fiscal_year(sheet.fiscal_year),
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
        block.direction_code_label,
        block.direction_label,
    ]


def _sheets(fiscal_year: int | None) -> Iterator[Sheet]:
    for program in program_list():
        years = program_fiscal_years(program)
        for fy in years if fiscal_year is None else [y for y in years if y == fiscal_year]:
            yield sheet_get(program=program, fiscal_year=fy)


def flat_rows(*, fiscal_year: int | None = None) -> tuple[list[list[Any]], list[list[Any]]]:
    """(program rows, indicator rows), header first, over every 事業 and year (or one year)."""
    programs: list[list[Any]] = [PROGRAM_COLUMNS]
    indicators: list[list[Any]] = [INDICATOR_COLUMNS]
    for sheet in _sheets(fiscal_year):
        for block, sub in [(sheet.program, ""), *((s, s.reference_number) for s in sheet.sub_programs)]:
            if block.costs is not None:
                programs.append(_program_row(sheet, block, sub))
            if sub or not sheet.sub_programs:  # a 事業 with 細事業: their indicators, not a second copy
                for row in block.indicators:
                    indicators.append(
                        [
                            sheet.fiscal_year,
                            format_fiscal_year(sheet.fiscal_year),
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
    for ws, rows, title in ((wb.active, programs, "事業"), (wb.create_sheet(), indicators, "指標")):
        assert ws is not None
        ws.title = title
        for row in rows:
            xlsx_append(ws, [float(v) if hasattr(v, "as_tuple") else v for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            if str(cell.value).endswith(("(円)", "(千円)")):  # amounts read as 5,917,000, not 5917000
                for (amount,) in ws.iter_rows(min_row=2, min_col=cell.column, max_col=cell.column):
                    amount.number_format = "#,##0"
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
