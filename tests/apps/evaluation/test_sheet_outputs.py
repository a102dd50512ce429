"""Acceptance: the seed's sheet reproduced from the demo's records as XLSX, HTML and PDF."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from openpyxl import load_workbook

from mamori.apps.core.models import AuditEvent
from mamori.apps.evaluation import services
from mamori.apps.evaluation.demo import setup_demo
from mamori.apps.evaluation.models import Indicator, Program, ProgramYear, StaffingLine
from mamori.apps.evaluation.render_html import sheet_to_pdf
from mamori.apps.evaluation.selectors import program_get, sheet_get
from tests.conftest import require_tool

SEED_FIGURES = ["5,917", "4,761", "10,678", "95", "226", "0.60", "0.00"]
SEED_LABELS = [
    "所管課",
    "総務部行政改革課",
    "施策の大綱",
    "第5章 自律協働都市",
    "03 情報化",
    "03 情報資産に対する脅威に対応する",
    "事業：情報化安全対策事業",
    "整理番号",
    "1379",
    "事業費(決算額)(千円)",
    "一般財源",
    "国府支出金",
    "地方債",
    "その他特定財源",
    "総コスト(千円)",
    "人件費",
    "公債費",
    "一人あたり(円)",
    "世帯あたり(円)",
    "総合評価",
    "妥当性",
    "効率性",
    "有効性",
    "施策に対する事業貢献度",
    "根拠",
    "今後の方向性",
    "事業優先順位",
    "細事業：情報化安全対策事業",
    "事業実施主体",
    "直営",
    "事業開始年度",
    "平成15年度以前",
    "根拠法令",
    "職員数(人)",
    "再任用職員数(人)",
    "対象者",
    "庁内組織、職員、委託先等",
    "平成24年度",
    "比較",
    "成果",
]


def _cells(ws):
    return [(c.row, c.column, c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def right_of(ws, label, occurrence=0):
    """The first non-empty cell right of the n-th cell whose text is `label`, as a user reads the sheet."""
    hits = [(r, c) for r, c, v in _cells(ws) if v == label]
    assert len(hits) > occurrence, f"label {label!r} not on the sheet"
    r, c = hits[occurrence]
    for col in range(c + 1, ws.max_column + 1):
        v = ws.cell(row=r, column=col).value
        if v is not None and v != "":
            return v
    raise AssertionError(f"nothing right of {label!r}")


@pytest.fixture
def xlsx(demo, tmp_path):
    path = tmp_path / "sheet.xlsx"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--fiscal-year",
        "平成24",
        "--format",
        "xlsx",
        "-o",
        str(path),
        stdout=io.StringIO(),
    )
    return load_workbook(path)


def test_xlsx_cells_hold_the_seed_figures(xlsx):
    ws = xlsx.active
    assert right_of(ws, "事業費(決算額)(千円)") == 5917
    assert right_of(ws, "一般財源") == 5917
    assert right_of(ws, "国府支出金") == 0
    assert right_of(ws, "人件費") == 4761
    assert right_of(ws, "総コスト(千円)") == 10678
    assert right_of(ws, "一人あたり(円)") == 95
    assert right_of(ws, "世帯あたり(円)") == 226
    assert right_of(ws, "職員数(人)") == 0.6
    fte_row = next(r for r, _, v in _cells(ws) if v == "職員数(人)")
    assert ws.cell(fte_row, 9).number_format == "0.00"  # shown as 0.60
    assert right_of(ws, "再任用職員数(人)") == 0
    assert right_of(ws, "総合評価") == "B"
    assert right_of(ws, "妥当性") == "A"
    assert right_of(ws, "効率性") == "A"
    assert right_of(ws, "有効性") == "B"
    assert right_of(ws, "施策に対する事業貢献度") == "A"
    assert right_of(ws, "整理番号") == "1379"
    assert right_of(ws, "整理番号", 1) == "01"
    assert right_of(ws, "事業開始年度") == "平成15年度以前"
    # the 細事業 block repeats the figures under 平成24年度
    assert right_of(ws, "事業費(決算額)(千円)", 1) == 5917
    assert right_of(ws, "総コスト(千円)", 1) == 10678


def test_xlsx_is_an_a4_portrait_sheet_with_japanese_font(xlsx):
    ws = xlsx.active
    texts = {v for _, _, v in _cells(ws)}
    for label in SEED_LABELS:
        assert any(label == t or (isinstance(t, str) and label in t) for t in texts), label
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.orientation == "portrait"
    assert ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_area
    assert ws["A2"].font.name == "MS Gothic"


def test_xlsx_boxes_are_merged_and_bordered_to_their_edges(xlsx):
    """Merges only record their range (for speed): the box must still run round the merged cell."""
    ws = xlsx.active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:L1", "B2:L2", "A3:A4", "B3:E3"} <= merged

    def sides(coordinate: str) -> tuple[object, ...]:
        b = ws[coordinate].border
        return (b.left.style, b.right.style, b.top.style, b.bottom.style)

    assert sides("B2") == ("thin",) * 4  # the anchor
    assert sides("G2") == (None, None, "thin", "thin")  # inside B2:L2: top and bottom
    assert sides("L2") == (None, "thin", "thin", "thin")  # its right edge
    assert sides("A4") == ("thin", "thin", None, "thin")  # the bottom of A3:A4
    assert sides("A1") == (None,) * 4 and ws["A1"].font.size == 13  # the title has no box
    assert ws["A3"].fill.fgColor.rgb.endswith("E8EEF4") and not ws["B2"].fill.fgColor.rgb.endswith("E8EEF4")


def test_pdf_text_holds_the_seed_figures_and_labels(demo, tmp_path, artifacts_dir):
    pdftotext = require_tool("pdftotext")
    pdftoppm = require_tool("pdftoppm")
    pdf = tmp_path / "sheet.pdf"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--fiscal-year",
        "H24",
        "--format",
        "pdf",
        "-o",
        str(pdf),
        stdout=io.StringIO(),
    )
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for figure in SEED_FIGURES:
        assert figure in text, figure
    for label in SEED_LABELS:
        assert label in text.replace(" \n", "\n"), label
    assert "eラーニング…主にインターネットを利用して" in text
    info = subprocess.run(
        [require_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info  # A4 portrait
    subprocess.run(
        [pdftoppm, "-r", "80", "-png", "-singlefile", str(pdf), str(artifacts_dir / "evaluation-sheet-h24")],
        check=True,
    )
    assert (artifacts_dir / "evaluation-sheet-h24.png").stat().st_size > 10_000


def test_html_document_is_a4_and_same_for_every_spelling(demo, tmp_path):
    outputs = []
    for spelling in ["2012", "平成24", "H24", "平成24年度", "FY2012"]:
        path = tmp_path / f"{len(outputs)}.html"
        call_command(
            "sheet",
            "--program",
            "1379",
            "--fiscal-year",
            spelling,
            "--format",
            "html",
            "-o",
            str(path),
            stdout=io.StringIO(),
        )
        outputs.append(path.read_text(encoding="utf-8"))
    assert len(set(outputs)) == 1
    assert "size: A4 portrait" in outputs[0]
    assert "10,678" in outputs[0]


def test_sub_program_option_limits_the_sheet(demo, tmp_path):
    path = tmp_path / "sub.html"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--sub-program",
        "01",
        "--fiscal-year",
        "2012",
        "--format",
        "html",
        "-o",
        str(path),
        stdout=io.StringIO(),
    )
    assert "細事業：情報化安全対策事業" in path.read_text(encoding="utf-8")
    with pytest.raises(CommandError, match="事業 1379 に細事業 99 はありません"):
        call_command(
            "sheet", "--program", "1379", "--sub-program", "99", "--fiscal-year", "2012", "-o", str(path)
        )


def test_unknown_fiscal_year_or_program_is_a_clear_command_error(demo, tmp_path):
    with pytest.raises(CommandError, match="年度を読み取れません: 来年度。2012、"):
        call_command("sheet", "--program", "1379", "--fiscal-year", "来年度", "-o", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="整理番号 9999 の事業はありません"):
        call_command("sheet", "--program", "9999", "--fiscal-year", "2012", "-o", str(tmp_path / "x.xlsx"))
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["sheet", "--program", "1379", "--fiscal-year", "H24", "--format", "xlsx", "-o"],
        ["evaluation", "export", "-o"],
        ["evaluation", "flat", "-o"],
    ],
)
def test_an_output_path_that_cannot_be_written_is_a_one_line_error(demo, tmp_path, argv):
    target = tmp_path / "no-such-folder" / "out.xlsx"
    with pytest.raises(CommandError) as exc:
        call_command(*argv, str(target), stdout=io.StringIO())
    assert str(exc.value) == f"{target}: 書き込めません（No such file or directory）"


def test_demo_is_idempotent(demo):
    counts = [m.objects.count() for m in (Program, ProgramYear, StaffingLine, Indicator)]
    setup_demo(organisation=demo, stdout=io.StringIO())
    assert [m.objects.count() for m in (Program, ProgramYear, StaffingLine, Indicator)] == counts
    assert AuditEvent.objects.filter(action="evaluation.program.create").count() == 2


@override_settings(MAMORI_EVALUATION={"era_style": "seireki", "money_rounding": "floor"})
def test_seireki_setting_and_rounding_rule_reach_the_sheet(demo, tmp_path):
    path = tmp_path / "s.html"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--fiscal-year",
        "H24",
        "--format",
        "html",
        "-o",
        str(path),
        stdout=io.StringIO(),
    )
    html = path.read_text(encoding="utf-8")
    assert "2012年度 事務事業評価シート" in html
    assert "2003年度以前" in html
    assert "千円未満を切り捨て" in html
    assert "10,678" in html


def test_comparison_column_shows_the_previous_year_where_it_exists(demo, tmp_path):
    sub = program_get(reference_number="1379", sub="01")
    services.program_year_set_money(
        actor="t",
        program=sub,
        fiscal_year="平成23年度",
        program_cost=6_100_000,
        general_fund=6_000_000,
        other_specific=100_000,
    )
    services.program_year_set_staffing(actor="t", program=sub, fiscal_year=2011, fte={"regular": "0.80"})
    path = tmp_path / "cmp.xlsx"
    call_command("sheet", "--program", "1379", "--fiscal-year", "2012", "-o", str(path), stdout=io.StringIO())
    ws = load_workbook(path).active
    header_row = next(r for r, c, v in _cells(ws) if v == "比較")
    cost_row = [r for r, _, v in _cells(ws) if v == "事業費(決算額)(千円)"][1]
    other_row = [r for r, _, v in _cells(ws) if v == "その他特定財源"][1]
    fte_row = next(r for r, _, v in _cells(ws) if v == "職員数(人)")
    assert ws.cell(header_row, 4).value == "平成24年度" and ws.cell(header_row, 5).value == "比較"
    assert (ws.cell(cost_row, 4).value, ws.cell(cost_row, 5).value) == (5917, 6100)
    assert (ws.cell(other_row, 4).value, ws.cell(other_row, 5).value) == (0, 100)
    assert (ws.cell(fte_row, 9).value, ws.cell(fte_row, 10).value) == (0.6, 0.8)


@pytest.mark.parametrize("fmt", ["xlsx", "html"])
def test_a_year_without_records_renders_an_empty_sheet(demo, tmp_path, fmt):
    path = tmp_path / f"empty.{fmt}"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--fiscal-year",
        "令和12年度",
        "--format",
        fmt,
        "-o",
        str(path),
        stdout=io.StringIO(),
    )
    if fmt == "xlsx":
        ws = load_workbook(path).active
        assert ws["A1"].value == "令和12年度 事務事業評価シート"
        row = next(r for r, _, v in _cells(ws) if v == "事業費(決算額)(千円)")
        assert ws.cell(row, 4).value is None  # no figure where nothing was recorded
    else:
        assert "令和12年度 事務事業評価シート" in path.read_text(encoding="utf-8")


def test_english_labels_are_available(demo, tmp_path):
    path = tmp_path / "en.xlsx"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--fiscal-year",
        "H24",
        "--language",
        "en",
        "-o",
        str(path),
        stdout=io.StringIO(),
    )
    ws = load_workbook(path).active
    assert right_of(ws, "Total cost (¥1,000)") == 10678
    assert right_of(ws, "Per resident (yen)") == 95
    assert right_of(ws, "Overall") == "B"
    html = tmp_path / "en.html"
    call_command(
        "sheet",
        "--program",
        "1379",
        "--fiscal-year",
        "H24",
        "--format",
        "html",
        "--language",
        "en",
        "-o",
        str(html),
        stdout=io.StringIO(),
    )
    text = html.read_text(encoding="utf-8")
    assert '<article class="sheet" lang="en" data-document>' in text and "Contribution to the measure" in text
    # the sheet's own labels of years and dates in English too (the city's texts stay as written)
    assert re.search(r'<h1 class="sheet-title">FY2012 \(Heisei 24\) ', text)
    assert "FY2003 (Heisei 15) or earlier" in text and re.search(
        r"as of 20\d\d-\d\d-\d\d \(Heisei \d+\)", text
    )


def test_pdf_keeps_the_indicators_with_their_block_and_leaves_out_empty_outcome(
    drill_kpi_for_flat, demo, tmp_path, artifacts_dir
):
    """The current year of the demo: KPI indicators, no 成果 written yet. No page may hold only the
    indicator table, and no page of empty 成果 headings."""
    pdftotext = require_tool("pdftotext")
    program = program_get(reference_number="1379")
    fy = max(program.years.values_list("fiscal_year", flat=True))
    sheet = sheet_get(program=program, fiscal_year=fy)
    assert sheet.sub_programs[0].indicators and not any(
        b.outcome for b in [sheet.program, *sheet.sub_programs]
    )
    pdf = tmp_path / "current.pdf"
    pdf.write_bytes(sheet_to_pdf(sheet))
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    with_indicators = [p for p in pages if "根拠記録" in p]
    assert len(with_indicators) == 1 and "細事業：" in with_indicators[0] and "対象者" in with_indicators[0]
    assert not any(re.search(r"^成果$", p, re.MULTILINE) for p in pages)
    assert len(pages) == 2  # the 事業 block, then the 細事業 block with its indicators
    subprocess.run(
        [
            require_tool("pdftoppm"),
            "-r",
            "60",
            "-png",
            str(pdf),
            str(artifacts_dir / f"evaluation-sheet-fy{fy}"),
        ],
        check=True,
    )
