"""Spreadsheet cells that hold user data as data: text that looks like a formula stays text.

A program named `=HYPERLINK("http://x","y")` would otherwise become a live formula when the sheet
is opened (CSV injection, OWASP): Excel, LibreOffice and Google Sheets read a cell starting with
`=`, `+`, `-`, `@`, tab or CR as a formula or a DDE call. Japanese Excel also takes their
full-width forms `＝` `＋` `－` `＠` as a formula start, as it does when they are typed (reported to
OWASP: OWASP/www-community#1088), and a city's data is full of full-width text. Every export writes
its cells through `csv_value` or `xlsx_set` so that numbers stay numbers and only such text is
neutralised.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def formula_like(value: object) -> bool:
    """Text a spreadsheet would evaluate; numbers (even negative ones) never are."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_value(value: Any) -> Any:
    """A CSV field: None is empty; formula-like text gets OWASP's leading apostrophe."""
    if value is None:
        return ""
    return "'" + value if formula_like(value) else value


def csv_rows(rows: Iterable[Iterable[Any]]) -> list[list[Any]]:
    return [[csv_value(v) for v in row] for row in rows]


def xlsx_set(cell: Cell, value: Any) -> Cell:
    """Put `value` into an openpyxl cell; formula-like text is stored as a string, not a formula.

    The text is kept exactly; `quotePrefix` is what Excel sets for a typed leading apostrophe, so
    editing the cell later does not turn it into a formula either.
    """
    cell.value = value
    if formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def xlsx_append(ws: Worksheet, row: Iterable[Any]) -> None:
    """`Worksheet.append`, then every cell of the new row written again through `xlsx_set`."""
    values = list(row)
    ws.append(values)
    for cell, value in zip(ws[ws.max_row], values, strict=False):
        xlsx_set(cell, value)
