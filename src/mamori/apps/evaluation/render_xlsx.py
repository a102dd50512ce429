"""The sheet as an XLSX workbook laid out like the city's 事務事業評価シート (A4 portrait).

Figures are written as numbers (千円, 円, 人) with number formats, so the workbook can be re-used
for calculation; every label of the original sheet sits left of its figure. Every cell goes through
`xlsx_set`, so a name or narrative that starts like a formula stays text.
"""

from __future__ import annotations

import io
import math
import re
from copy import copy
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from mamori.apps.core.spreadsheet import xlsx_append, xlsx_set

from .render_html import cost_right_rows, cost_source_rows, detail_kind, narrative_blocks
from .sheet import Costs, ProgramBlock, Sheet, year_index_rows

DEFAULT_FONT = "MS Gothic"
WIDTHS = [11, 9, 13, 10, 9, 9, 13, 10, 9, 9, 9, 8]  # columns A..L
LAST_COL = len(WIDTHS)
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
MONEY = "#,##0"
FTE = "0.00"
PERCENT = "0.0"


class _Grid:
    """Writes boxed, merged cells on one worksheet with the sheet's font.

    Speed (a whole year is hundreds of worksheets): openpyxl hashes a Font / Border / Alignment on
    every assignment, and `merge_cells` rebuilds the range's cells; so each look is built once and its
    style array copied to the next cell, and a merge only records its range (the cells inside already
    carry their borders).
    """

    def __init__(self, ws: Worksheet, font: str) -> None:
        self.ws = ws
        self.font = font
        self.row = 1
        self._looks: dict[tuple[object, ...], StyleArray] = {}

    def _style(self, cell: Cell, look: tuple[float, bool, str, bool, str | None, bool]) -> None:
        prepared = self._looks.get(look)
        if prepared is not None:
            cell._style = copy(prepared)
            return
        size, bold, align, head, fmt, border = look
        cell.font = Font(name=self.font, size=size, bold=bold)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        if head:
            cell.fill = HEAD_FILL
        if fmt:
            cell.number_format = fmt
        if border:
            cell.border = BOX
        self._looks[look] = copy(cell._style)

    def _box(self, cell: Cell) -> None:
        prepared = self._looks.get(("box",))
        if prepared is None:
            cell.border = BOX
            self._looks[("box",)] = copy(cell._style)
        else:
            cell._style = copy(prepared)

    def put(
        self,
        row: int,
        col: int,
        value: object,
        *,
        to_col: int | None = None,
        to_row: int | None = None,
        head: bool = False,
        fmt: str | None = None,
        align: str = "left",
        size: float = 9,
        bold: bool = False,
        border: bool = True,
    ) -> None:
        to_col = to_col or col
        to_row = to_row or row
        cell = self.ws.cell(row=row, column=col)
        self._style(cell, (size, bold or head, "center" if head else align, head, fmt, border))
        xlsx_set(cell, value)  # after the look: its quote prefix (formula-like text) is part of the style
        if border:
            for r in range(row, to_row + 1):
                for c in range(col, to_col + 1):
                    if (r, c) != (row, col):
                        self._box(self.ws.cell(row=r, column=c))
        if to_col != col or to_row != row:
            self.ws.merged_cells.add(CellRange(min_col=col, min_row=row, max_col=to_col, max_row=to_row))

    def text_row(self, label: str, text: str, *, min_lines: int = 1) -> None:
        """A label in column A and a wrapped text across B..L, sized to the text."""
        self.put(self.row, 1, label, head=True)
        self.put(self.row, 2, text, to_col=LAST_COL)
        self.height(self.row, text, sum(WIDTHS[1:]), min_lines)
        self.row += 1

    def height(self, row: int, text: str, width_units: float, min_lines: int = 1) -> None:
        lines = sum(
            max(1, math.ceil(_display_width(part) / max(width_units - 1, 1))) for part in text.split("\n")
        )
        self.ws.row_dimensions[row].height = 13.5 * max(lines, min_lines) + 2


def _display_width(text: str) -> int:
    """Column units a text needs: full-width characters count double."""
    return sum(1 if ord(ch) < 0x2E80 else 2 for ch in text)


def _number(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _header(g: _Grid, sheet: Sheet) -> None:
    g.put(
        1,
        1,
        _("%(fy)s 事務事業評価シート") % {"fy": sheet.fiscal_year_label},
        to_col=LAST_COL,
        size=13,
        bold=True,
        border=False,
        align="center",
    )
    g.ws.row_dimensions[1].height = 22
    g.put(2, 1, _("所管課"), head=True)
    g.put(2, 2, sheet.department, to_col=LAST_COL)
    g.put(3, 1, _("施策の大綱"), head=True, to_row=4)
    g.put(3, 2, _("まちづくりの目標(章)"), head=True, to_col=5)
    g.put(3, 6, _("施策分野(節)"), head=True, to_col=8)
    g.put(3, 9, _("施 策"), head=True, to_col=LAST_COL)
    g.put(4, 2, sheet.chapter, to_col=5)
    g.put(4, 6, sheet.section, to_col=8)
    g.put(4, 9, sheet.measure, to_col=LAST_COL)
    g.ws.row_dimensions[4].height = 28
    g.row = 5


def _title(g: _Grid, block: ProgramBlock, col: int, kind: str) -> None:
    """The name row (from `col`) with the reference number, then the 目的 and 目標 rows."""
    r = g.row
    g.put(r, col, f"{kind}：{block.name}", to_col=9, bold=True, size=10)
    g.put(r, 10, _("整理番号"), head=True)
    g.put(r, 11, block.reference_number, to_col=LAST_COL, align="center", bold=True)
    g.row += 1
    g.text_row(_("目的"), block.purpose, min_lines=2)
    g.text_row(_("目標"), block.goal)


def _program(g: _Grid, block: ProgramBlock) -> None:
    _title(g, block, 1, _("事業"))
    r = g.row
    c = block.costs
    t = c.thousands if c else {}
    g.put(r, 1, _("事業費・財源"), head=True, to_row=r + 5)
    g.put(r, 2, _("事業費(決算額)(千円)"), head=True, to_col=3)
    g.put(r, 4, t.get("program_cost"), fmt=MONEY, align="right")
    g.put(r + 1, 2, _("財源内訳"), head=True, to_row=r + 5)
    for i, (label, key) in enumerate(cost_source_rows()[1:]):  # the funding sources
        g.put(r + 1 + i, 3, label)
        g.put(r + 1 + i, 4, t.get(key), fmt=MONEY, align="right")
    g.put(r + 5, 3, "")
    g.put(r + 5, 4, "")
    g.put(r, 5, _("コスト情報・評価 内訳"), head=True, to_row=r + 5)
    rows = [
        (_("総コスト(千円)"), t.get("total")),
        (_("事業費"), t.get("program_cost")),
        (_("人件費"), t.get("personnel")),
        (_("公債費"), t.get("debt_service")),
        (_("一人あたり(円)"), c.per_resident if c else None),
        (_("世帯あたり(円)"), c.per_household if c else None),
    ]
    for i, (label, value) in enumerate(rows):
        g.put(r + i, 6, label, to_col=7, head=i == 0)
        g.put(r + i, 8, value, fmt=MONEY, align="right")
    g.put(r, 9, _("総合評価"), head=True)
    g.put(r, 10, block.ratings["overall"], align="center", size=14, bold=True)
    g.put(r + 1, 9, _("評価理由"), head=True, to_col=10)
    g.put(r + 2, 9, block.reasons["overall"], to_col=10, to_row=r + 5, size=8)
    for i, (label, key) in enumerate(
        [(_("妥当性"), "relevance"), (_("効率性"), "efficiency"), (_("有効性"), "effectiveness")]
    ):
        g.put(r + i, 11, label, head=True)
        g.put(r + i, 12, block.ratings[key], align="center", bold=True)
    for i in range(3, 6):
        g.put(r + i, 11, "", to_col=12)
    g.row = r + 6
    r = g.row
    g.put(r, 1, _("貢献度"), head=True)
    g.put(r, 2, _("施策に対する事業貢献度"), head=True, to_col=3)
    g.put(r, 4, block.ratings["contribution"], align="center", bold=True, size=11)
    g.put(r, 5, _("根拠"), head=True)
    g.put(r, 6, block.reasons["contribution"], to_col=LAST_COL, size=8)
    g.height(r, block.reasons["contribution"], sum(WIDTHS[5:]) * 9 / 8, 2)
    g.row += 1
    _direction(g, block)


def _direction(g: _Grid, block: ProgramBlock) -> None:
    r = g.row
    g.put(r, 1, _("今後の方向性"), head=True)
    g.put(r, 2, block.direction_label, to_col=10)
    g.put(r, 11, _("区分"), head=True)
    g.put(r, 12, _(block.direction_code_label) if block.direction_code_label else "", align="center")
    g.height(r, block.direction_label, sum(WIDTHS[1:10]), 2)
    g.row += 1


def _costs_table(g: _Grid, cur: Costs | None, prev: Costs | None, fy_label: str) -> None:
    r = g.row
    tc = cur.thousands if cur else {}
    tp = prev.thousands if prev else {}
    right = cost_right_rows(cur, prev)
    n = len(right)  # 8 on the city's form; more when other employment categories are staffed
    g.put(r, 1, _("事業費・財源"), head=True, to_row=r + n)
    g.put(r, 2, _("財源内訳"), head=True, to_row=r + n)
    g.put(r, 3, _("(千円)"), head=True)
    g.put(r, 4, fy_label, head=True)
    g.put(r, 5, _("比較"), head=True)
    g.put(r, 6, _("コスト情報・従事職員数"), head=True, to_row=r + n)
    g.put(r, 7, "", head=True, to_col=8)
    g.put(r, 9, fy_label, head=True)
    g.put(r, 10, _("比較"), head=True)
    left = cost_source_rows()
    for i in range(n):
        label, key = left[i] if i < len(left) else ("", "")
        g.put(r + 1 + i, 3, label, size=8 if i == 0 else 9)
        g.put(r + 1 + i, 4, tc.get(key) if key else None, fmt=MONEY, align="right")
        g.put(r + 1 + i, 5, tp.get(key) if key else None, fmt=MONEY, align="right")
    for i, (label, value, previous, fte) in enumerate(right):
        g.put(r + 1 + i, 7, label, to_col=8)
        g.put(r + 1 + i, 9, _number(value), fmt=FTE if fte else MONEY, align="right")
        g.put(r + 1 + i, 10, _number(previous), fmt=FTE if fte else MONEY, align="right")
    g.put(r, 11, "", to_col=LAST_COL, to_row=r + n, border=False)
    g.row = r + n + 1


def _sub_program(g: _Grid, block: ProgramBlock, sheet: Sheet) -> None:
    g.put(g.row, 1, _("事業優先順位"), head=True, size=8)
    g.put(g.row, 2, block.priority, align="center")
    _title(g, block, 3, detail_kind(sheet))
    r = g.row
    g.put(r, 1, _("事業実施主体"), head=True, size=8)
    g.put(r, 2, block.implementation, align="center")
    g.put(r, 3, _("事業開始年度"), head=True)
    g.put(r, 4, block.start_label, to_col=5, align="center", size=8)
    g.put(r, 6, _("根拠法令"), head=True)
    g.put(r, 7, block.legal_basis, to_col=LAST_COL)
    g.row += 1
    _costs_table(g, block.costs, block.previous_costs, sheet.fiscal_year_label)
    _direction(g, block)
    r = g.row
    g.put(r, 1, _("評価"), head=True, to_row=r + 1)
    for i, (label, key) in enumerate(
        [(_("妥当性"), "relevance"), (_("効率性"), "efficiency"), (_("有効性"), "effectiveness")]
    ):
        g.put(r, 2 + i, label, head=True)
        g.put(r + 1, 2 + i, block.ratings[key], align="center", bold=True, size=11)
    g.put(r, 5, _("対象者"), head=True, to_row=r + 1)
    g.put(r, 6, block.target_group, to_col=LAST_COL, to_row=r + 1)
    g.row = r + 2
    _indicators(g, block, sheet)


def _indicators(g: _Grid, block: ProgramBlock, sheet: Sheet) -> None:
    if not block.indicators:
        return
    r = g.row
    g.put(r, 1, _("指標"), head=True, to_row=r + len(block.indicators))
    heads = [
        (2, 5, _("指標名")),
        (6, 6, _("単位")),
        (7, 7, _("目標値")),
        (8, 8, _("実績値")),
        (9, 9, _("達成率") + "(%)"),
        (10, 10, f"{_('比較')}({sheet.previous_label})"),
        (11, 12, _("根拠記録")),
    ]
    for col, to, label in heads:
        g.put(r, col, label, head=True, to_col=to, size=8)
    for i, row in enumerate(block.indicators, start=1):
        g.put(r + i, 2, f"［{row.kind_short}］{row.name} {row.direction_mark}", to_col=5, size=8)
        g.put(r + i, 6, row.unit, align="center")
        g.put(r + i, 7, _number(row.target), align="right")
        g.put(r + i, 8, _number(row.actual), align="right")
        g.put(r + i, 9, _number(row.attainment), fmt=PERCENT, align="right")
        g.put(r + i, 10, _number(row.previous_actual), align="right")
        n = row.evidence_count
        evidence = (ngettext("%(n)s件", "%(n)s件", n) % {"n": n}) if row.kpi_code else _("入力値")
        g.put(r + i, 11, evidence, to_col=LAST_COL, size=8, align="center")
        first = next((e.url for e in row.evidence if e.url), "")
        if first:
            g.ws.cell(row=r + i, column=11).hyperlink = first
    g.row = r + len(block.indicators) + 1


def _narrative(g: _Grid, sheet: Sheet) -> None:
    blocks = narrative_blocks(sheet)
    if not blocks:  # no 成果 written yet: no page of empty headings
        return
    g.row += 1
    g.ws.row_breaks.append(Break(id=g.row - 1))
    g.put(g.row, 1, _("成果"), to_col=LAST_COL, size=12, bold=True, border=False)
    g.row += 1
    width = sum(WIDTHS)
    for title, block in blocks:
        g.put(g.row, 1, f"{title}：{block.name}", to_col=LAST_COL, bold=True, size=10, border=False)
        g.row += 1
        for para in [p for p in block.outcome.split("\n") if p.strip()]:
            g.put(g.row, 1, para, to_col=LAST_COL, border=False)
            g.height(g.row, para, width)
            g.row += 1
        for term, text in block.glossary:
            line = f"※ {term}…{text}"
            g.put(g.row, 1, line, to_col=LAST_COL, border=False, size=8)
            g.height(g.row, line, width * 9 / 8)
            g.row += 1
        g.row += 1


def _notes(g: _Grid, sheet: Sheet) -> None:
    notes = [f"※ {w}" for w in sheet.warnings] + [sheet.rules_note, *sheet.footnote.splitlines()]
    pop = next((b.costs.population_note for b in [sheet.program, *sheet.sub_programs] if b.costs), "")
    if pop:
        notes.append(f"{_('一人あたり・世帯あたりの基準人口')}: {pop}")
    for note in notes:
        g.put(g.row, 1, note, to_col=LAST_COL, border=False, size=8)
        g.row += 1


def _fill(ws: Worksheet, sheet: Sheet, font: str) -> None:
    """One sheet on one worksheet: A4 portrait, fit to one page wide, print area set."""
    for i, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    g = _Grid(ws, font)
    _header(g, sheet)
    _program(g, sheet.program)
    g.row += 1
    for block in sheet.detail_blocks:
        _sub_program(g, block, sheet)
        g.row += 1
    _narrative(g, sheet)
    _notes(g, sheet)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_area = f"A1:{get_column_letter(LAST_COL)}{g.row}"
    ws.oddFooter.center.text = "&P / &N"


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sheet_to_xlsx(sheet: Sheet, *, font: str = DEFAULT_FONT) -> bytes:
    """The workbook's bytes: one worksheet holding the sheet."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{sheet.program.reference_number}_{sheet.fiscal_year}"
    _fill(ws, sheet, font)
    return _save(wb)


def _worksheet_title(reference_number: str, taken: set[str]) -> str:
    """整理番号 as a worksheet name: Excel allows 31 characters and none of []:*?/\\."""
    base = re.sub(r"[\[\]:*?/\\]", "_", reference_number)[:28] or "_"
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        title = f"{base}~{n}"
    taken.add(title.lower())
    return title


def year_to_xlsx(sheets: list[Sheet], *, font: str = DEFAULT_FONT) -> bytes:
    """A whole year in one workbook: the 目次, then one worksheet per 事業 named by its 整理番号."""
    wb = Workbook()
    index = wb.active
    assert index is not None
    index.title = _("目次")
    for row in year_index_rows(sheets):
        xlsx_append(index, row)
    for cell in index[1]:
        cell.font = Font(name=font, bold=True)
    for (total,) in index.iter_rows(min_row=2, min_col=6, max_col=6):
        total.number_format = MONEY
    for letter, width in zip("ABCDEFGH", [22, 16, 28, 10, 36, 14, 9, 10], strict=True):
        index.column_dimensions[letter].width = width
    index.freeze_panes = "A2"
    taken = {index.title.lower()}
    for sheet in sheets:
        _fill(wb.create_sheet(_worksheet_title(sheet.program.reference_number, taken)), sheet, font)
    return _save(wb)
