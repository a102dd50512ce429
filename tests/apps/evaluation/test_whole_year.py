"""The whole year at once: one workbook (目次 + a worksheet per 事業) and one PDF, in report-book order."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from mamori.apps.evaluation import services
from mamori.apps.evaluation.selectors import program_get
from tests.conftest import require_tool


@pytest.fixture
def two_programs(demo):
    """The seed's 事業 (第5章) and another city's one in 第2章, whose 整理番号 has a slash."""
    seed = program_get(reference_number="1379")
    measure = services.policy_measure_ensure(
        actor="t",
        organisation=demo,
        chapter=(2, "安全で安心なまち"),
        section=("04", "防災"),
        measure=("01", "災害に備える"),
    )
    other = services.program_create(
        actor="t",
        measure=measure,
        department=seed.department,
        reference_number="21/50",
        name="防災行政無線デジタル化事業",
    )
    services.program_year_set_money(
        actor="t", program=other, fiscal_year=2012, program_cost=2_500_000, general_fund=2_500_000
    )
    return seed, other


def _run(tmp_path, fmt, *extra):
    path = tmp_path / f"year.{fmt}"
    out = io.StringIO()
    call_command(
        "sheet", "--fiscal-year", "H24", "--all", "--format", fmt, "-o", str(path), *extra, stdout=out
    )
    return path, out.getvalue()


def test_one_workbook_holds_the_index_and_a_worksheet_per_program(two_programs, tmp_path):
    path, out = _run(tmp_path, "xlsx")
    assert "事業 2 件" in out
    book = load_workbook(path)
    assert book.sheetnames == ["目次", "21_50", "1379"]  # 第2章 before 第5章; no "/" in a worksheet name
    index = [[c.value for c in row] for row in book["目次"].iter_rows()]
    assert index[0] == ["章", "節", "施策", "整理番号", "事業名", "総コスト(千円)", "総合評価", "方向性"]
    assert index[1][3:6] == ["21/50", "防災行政無線デジタル化事業", 2_500]
    assert index[2][3:7] == ["1379", "情報化安全対策事業", 10_678, "B"]
    assert any(c.value == "事業：情報化安全対策事業" for row in book["1379"].iter_rows() for c in row)


def test_one_pdf_starts_each_program_on_a_new_page(two_programs, tmp_path):
    path, _ = _run(tmp_path, "pdf")
    text = subprocess.run(
        [require_tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    )
    pages = text.stdout.split("\f")[:-1]
    first = [i for i, p in enumerate(pages) if "防災行政無線デジタル化事業" in p]
    seed = [i for i, p in enumerate(pages) if "情報化安全対策事業" in p]
    assert first and seed and max(first) < min(seed)  # in report-book order, never on one page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fiscal-year", "H24", "--format", "xlsx"], "--program 整理番号 か --all"),
        (["--fiscal-year", "H24", "--all", "--format", "html"], "形式は xlsx か pdf"),
        (["--fiscal-year", "R1", "--all", "--format", "xlsx"], "令和元年度の記録がある事業はありません"),
    ],
)
def test_whole_year_mistakes_are_one_line(demo, tmp_path, argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("sheet", *argv, "-o", str(tmp_path / "x"))
