"""The one rule every export follows: formula-like text becomes text, numbers stay numbers."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

import mamori
from mamori.apps.core.spreadsheet import csv_rows, formula_like, xlsx_append, xlsx_set

FORMULAS = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")']
FULL_WIDTH_FORMULAS = ["＝1+1", "＋1", "－2+3", "＠SUM(A1)", '＝HYPERLINK("x")']  # Japanese Excel: formulas


@pytest.mark.parametrize("text", [*FORMULAS, *FULL_WIDTH_FORMULAS])
def test_formula_like_text_is_neutralised(text):
    assert formula_like(text)
    assert csv_rows([[text]]) == [["'" + text]]
    cell = xlsx_set(Workbook().active.cell(row=1, column=1), text)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)


@pytest.mark.parametrize(
    "value", [-2, -2.5, Decimal("-3.00"), 0, "情報化安全対策事業", "a=b", "", None, "ー（長音）", "（＝注）"]
)
def test_numbers_and_plain_text_are_left_alone(value):
    assert not formula_like(value)
    assert csv_rows([[value]]) == [["" if value is None else value]]


def test_append_writes_a_row_of_text_and_numbers():
    ws = Workbook().active
    xlsx_append(ws, ["年度", "名"])
    xlsx_append(ws, [-2, "=1+1"])
    assert [(c.value, c.data_type) for c in ws[2]] == [(-2, "n"), ("=1+1", "s")]
    assert ws.max_row == 2


# Modules that write CSV/XLSX of made-up data, never of user records (demo inputs).
NOT_EXPORTS = {
    "apps/core/demo_city.py": "writes the demo city's staff CSV from fixed name lists",
    "apps/backups/demo.py": "writes made-up finance CSVs as files for the demo backups",
}


def test_every_module_that_writes_a_spreadsheet_uses_the_shared_cell_rule():
    """A future export (CSV or XLSX, any app) must write its cells through apps.core.spreadsheet."""
    root = Path(mamori.__file__).parent
    writers = []
    for path in sorted((root / "apps").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel == "apps/core/spreadsheet.py" or rel in NOT_EXPORTS:
            continue
        if re.search(r"csv\.(writer|DictWriter)\(|^\s*(from|import) openpyxl", text, re.MULTILINE):
            writers.append(rel)
            assert "mamori.apps.core.spreadsheet" in text, (
                f"{rel} writes CSV/XLSX without apps.core.spreadsheet (csv_rows / xlsx_set / xlsx_append)"
            )
    assert {"apps/evaluation/flat.py", "apps/evaluation/render_xlsx.py"} <= set(writers)
    for rel in NOT_EXPORTS:
        assert (root / rel).exists(), f"{rel} is gone: drop it from NOT_EXPORTS"
