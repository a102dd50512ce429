"""A second city's program, not the seed's: another name and number, 国府支出金 and その他特定財源,
公債費, two staff categories, no 細事業, a 令和 year, and the rounding rule set by the document.
Its XLSX, HTML and PDF carry every figure a 細事業 block has, truncated or rounded as told."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from mamori.apps.evaluation.models import Program
from tests.apps.evaluation.test_sheet_outputs import right_of
from tests.conftest import require_tool

DOCUMENT = """\
format: mamori-evaluation
version: 1
organisation: {{name: 桜川町, prefecture: 茨城県}}
settings:
  money_rounding: {rule}
  per_capita_rounding: {rule}
unit_costs:
- {{fiscal_year: 令和5年度, category: regular, yen: 8000000}}
- {{fiscal_year: 令和5年度, category: fiscal_year, yen: 3001000}}
populations:
- {{reference_date: "2024-03-31", residents: 50000, households: 20000, source: 住民基本台帳}}
programs:
- reference_number: "2150"
  chapter: {{number: 2, title: 安全で安心なまち}}
  section: {{number: "04", title: 防災}}
  measure: {{number: "01", title: 災害に備える}}
  department: {{code: "0310", name: 危機管理課, parent: {{code: "0300", name: 総務部}}}}
  name: 防災行政無線デジタル化事業
  purpose: 災害時に住民へ確実に情報を伝える。
  implementation: contracted
  start_fiscal_year: 令和3年度
  years:
  - fiscal_year: 令和5年度
    program_cost: 12345678
    general_fund: 6000000
    national_prefectural: 4345678
    other_specific: 2000000
    debt_service: 1234567
    population_date: "2024-03-31"
    staffing: {{regular: "1.50", fiscal_year: "0.50"}}
    ratings: {{overall: B}}
"""
# 人件費 = 1.5 × 8,000,000 + 0.5 × 3,001,000 = 13,500,500; 総コスト = 12,345,678 + 13,500,500 + 1,234,567
TOTAL = 27_080_745
FLOOR = {"事業費": 12_345, "人件費": 13_500, "公債費": 1_234, "総コスト(千円)": 27_080, "一人あたり(円)": 541}
HALF_UP = {
    "事業費": 12_346,
    "人件費": 13_501,
    "公債費": 1_235,
    "総コスト(千円)": 27_081,
    "一人あたり(円)": 542,
}


def _import(tmp_path, rule):
    path = tmp_path / f"{rule}.yaml"
    path.write_text(DOCUMENT.format(rule=rule), encoding="utf-8")
    call_command("evaluation", "import", str(path), stdout=io.StringIO())
    assert not Program.objects.get(reference_number="2150").sub_programs.exists()


def _sheet(tmp_path, fmt):
    path = tmp_path / f"sheet.{fmt}"
    call_command(
        "sheet",
        "--program",
        "2150",
        "--fiscal-year",
        "R5",
        "--format",
        fmt,
        "-o",
        str(path),
        stdout=io.StringIO(),
    )
    return path


@pytest.mark.parametrize(("rule", "figures"), [("floor", FLOOR), ("half_up", HALF_UP)])
def test_a_single_level_program_prints_every_figure_under_the_documents_rule(db, tmp_path, rule, figures):
    assert TOTAL // 1000 == FLOOR["総コスト(千円)"] and TOTAL // 50_000 == FLOOR["一人あたり(円)"]
    _import(tmp_path, rule)
    ws = load_workbook(_sheet(tmp_path, "xlsx")).active
    block = 1  # the detail block below the 事業's own box: its 比較 table has 職員数 and the rest
    for label, value in figures.items():
        assert right_of(ws, label, block if label != "総コスト(千円)" else 1) == value, label
    assert right_of(ws, "国府支出金", 1) == (4_345 if rule == "floor" else 4_346)
    assert right_of(ws, "職員数(人)") == 1.5 and right_of(ws, "会計年度任用職員数(人)") == 0.5
    assert right_of(ws, "再任用職員数(人)") == 0
    html = _sheet(tmp_path, "html").read_text(encoding="utf-8")
    assert "令和5年度 事務事業評価シート" in html and "事業：防災行政無線デジタル化事業" in html
    for value in figures.values():
        assert f">{value:,}<" in html, value
    assert "職員数(人)" in html and ">1.50<" in html and ">0.50<" in html
    text = subprocess.run(
        [require_tool("pdftotext"), str(_sheet(tmp_path, "pdf")), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for value in figures.values():
        assert f"{value:,}" in text, value
    assert "会計年度任用職員数" in text.replace("\n", "") and "1.50" in text  # the label wraps in its cell
