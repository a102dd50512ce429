"""Hostile text in every spreadsheet export: names and narratives that start like a formula.

The hostile values are written straight into the records (as a careless import or a malicious
officer would leave them), then the files are downloaded as a user would and opened with openpyxl
and the csv module: no cell may be a formula, every text must read back exactly, and numbers
(including genuine negative ones) must stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from mamori.apps.core.models import Role
from mamori.apps.core.spreadsheet import FORMULA_STARTS
from mamori.apps.evaluation.models import Indicator, IndicatorYear, ProgramYear
from mamori.apps.evaluation.selectors import program_get
from tests.apps.evaluation.test_views import login

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
def hostile(demo):
    """The seed's program with a hostile value in every free-text field a sheet shows."""
    program = program_get(reference_number="1379")
    sub = program_get(reference_number="1379", sub="01")
    sub.name, sub.purpose, sub.goal = HOSTILE[0], HOSTILE[1], HOSTILE[2]
    sub.legal_basis, sub.target_group = HOSTILE[3], HOSTILE[4]
    sub.save()
    parent = program.department.parent  # the sheet's 所管課 is 部 + 課: the cell starts with the 部
    parent.name = HOSTILE[5]
    parent.save()
    year = ProgramYear.objects.get(program=sub, fiscal_year=2012)
    year.outcome = "\n".join(HOSTILE)
    year.direction_label = HOSTILE[2]
    year.reason_overall = HOSTILE[3]
    year.save()
    indicator = Indicator.objects.filter(program=sub).first()
    indicator.name = HOSTILE[1]
    indicator.unit = HOSTILE[3]
    indicator.save()
    IndicatorYear.objects.update_or_create(
        indicator=indicator, fiscal_year=2012, defaults={"target": Decimal(-2)}
    )
    return program


def program_department(program):
    return program.department.name


def _book(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def _cells(book):
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


def test_a_name_like_a_formula_is_text_in_the_sheet_xlsx(client, hostile):
    login(client, Role.SECURITY_OFFICER)
    book = _book(client.get(reverse("evaluation:sheet_download", args=[hostile.pk, 2012, "xlsx"])))
    cells = _cells(book)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = {c.value for c in cells}
    for text in HOSTILE:  # XML reads a CR back as LF, and a cell starting with LF is plain text
        assert text.replace("\r", "\n") in values, f"{text!r} does not read back as text"
    assert any(str(v).startswith("\n=1") and str(v).endswith(program_department(hostile)) for v in values)
    assert all(
        c.quotePrefix for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)
    )
    targets = [c for c in cells if c.value == -2]
    assert targets and all(c.data_type == "n" for c in targets)  # a genuine negative number stays one


def test_a_name_like_a_formula_is_text_in_the_flat_xlsx(client, hostile):
    login(client, Role.AUDITOR)
    book = _book(client.get(reverse("evaluation:export", args=["xlsx"])))
    cells = _cells(book)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = {c.value for c in cells}
    assert {HOSTILE[0], HOSTILE[1], HOSTILE[3], "\n=1" + program_department(hostile)} <= values
    indicators = book["指標"]
    header = [c.value for c in indicators[1]]
    row = next(r for r in indicators.iter_rows(min_row=2) if r[header.index("指標名")].value == HOSTILE[1])
    target = row[header.index("目標値")]
    assert (target.value, target.data_type) == (-2, "n")


@pytest.mark.parametrize("table", ["programs", "indicators"])
def test_a_name_like_a_formula_is_quoted_text_in_the_csv(client, hostile, table):
    login(client, Role.AUDITOR)
    response = client.get(reverse("evaluation:export", args=["csv"]) + f"?table={table}")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    fields = [f for row in rows for f in row]
    for field in fields:
        if field.startswith(FORMULA_STARTS):
            float(field)  # only a number may start like a formula: "-2.00", never "-2+3"
    if table == "programs":
        assert {"'" + HOSTILE[0], "'" + HOSTILE[5] + program_department(hostile)} <= set(fields)
    else:
        header = rows[0]
        row = next(r for r in rows if r[header.index("指標名")] == "'" + HOSTILE[1])
        assert (row[header.index("単位")], row[header.index("目標値")]) == ("'" + HOSTILE[3], "-2.00")
