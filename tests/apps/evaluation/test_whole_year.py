"""The whole year at once: one workbook (目次 + a worksheet per 事業) and one PDF, in report-book order,
from the command line and as a background job started on the web (leads: their departments only)."""

from __future__ import annotations

import fcntl
import io
import re
import subprocess

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image, ImageChops
from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from mamori.apps.core.models import AuditEvent, Department, ProgressJob, Role
from mamori.apps.evaluation import pdf_book, services
from mamori.apps.evaluation.models import Program
from mamori.apps.evaluation.render_html import book_index_html, book_sheet_html, sheet_to_pdf, stylesheet
from mamori.apps.evaluation.selectors import program_get, sheet_get
from mamori.apps.evaluation.year_book import year_book
from tests.apps.core.factories import user_with_role
from tests.apps.evaluation import pdf_faults
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


@pytest.fixture
def five_programs(demo, two_programs):
    """Three more 事業, made in an order that is not the report book's (第3章 before 第1章)."""
    seed, _ = two_programs
    for chapter, ref in [(3, "3001"), (1, "1002"), (1, "1001")]:
        measure = services.policy_measure_ensure(
            actor="t",
            organisation=demo,
            chapter=(chapter, f"第{chapter}章の目標"),
            section=("01", "節"),
            measure=("01", "施策"),
        )
        program = services.program_create(
            actor="t", measure=measure, department=seed.department, reference_number=ref, name=f"事業{ref}"
        )
        services.program_year_set_money(
            actor="t", program=program, fiscal_year=2012, program_cost=1_000_000, general_fund=1_000_000
        )


FOOTER = re.compile(r"^(\d+) / (\d+)$", re.MULTILINE)  # the page footer: pdftotext puts it anywhere


def test_the_pdf_is_the_index_then_each_programs_page_set_in_report_book_order(five_programs, tmp_path):
    path, out = _run(tmp_path, "pdf")
    assert "事業 5 件" in out
    text = subprocess.run(
        [require_tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    )
    pages = text.stdout.split("\f")[:-1]
    footers = []
    for page in pages:
        (footer,) = FOOTER.findall(page)
        footers.append(tuple(int(n) for n in footer))
    sets = [(i, m) for i, (k, m) in enumerate(footers) if k == 1]  # (first page, pages) of each page set
    assert footers == [(k, m) for _, m in sets for k in range(1, m + 1)]  # each numbered within itself
    order = ["1001", "1002", "21/50", "3001", "1379"]  # 章, 節, 施策, 整理番号
    reader = PdfReader(path)
    outline = reader.outline
    assert [entry.title for entry in outline] == [
        "目次",
        *(f"{r} {program_get(reference_number=r).name}" for r in order),
    ]
    assert [reader.get_destination_page_number(entry) for entry in outline] == [first for first, _ in sets]
    assert sets[0] == (0, 1) and all(ref in pages[0] for ref in order)  # the 目次 first
    for (first, count), ref in zip(sets[1:], order, strict=True):
        program = program_get(reference_number=ref)
        assert program.name in pages[first] and ref in pages[first]
        alone = PdfReader(io.BytesIO(sheet_to_pdf(sheet_get(program=program, fiscal_year=2012))))
        assert count == len(alone.pages)  # as many pages as the sheet printed on its own
        assert reader.page_labels[first : first + count] == [f"{ref}-{k}" for k in range(1, count + 1)]
    assert sum(count for _, count in sets) == len(reader.pages) and sets[-1][1] > 1  # the seed's runs over


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            pdf_faults.raise_on_one_sheet,
            "21/50 防災行政無線デジタル化事業 の PDF を作成できませんでした（ValueError: no glyph for U+20B9F）",
        ),
        (
            pdf_faults.die_on_one_sheet,
            "PDF を作成するプロセスが途中で終了しました（メモリ不足など）。もう一度実行してください",
        ),
    ],
    ids=["raises", "dies"],
)
def test_a_sheet_failing_in_a_worker_is_one_line_and_writes_no_file(
    two_programs, tmp_path, monkeypatch, fault, message
):
    monkeypatch.setattr(pdf_book, "render_page_set", fault)
    path = tmp_path / "year.pdf"
    with pytest.raises(CommandError) as caught:
        call_command("sheet", "--fiscal-year", "H24", "--all", "--format", "pdf", "-o", str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not path.exists()


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


def _web_book(client, user, django_capture_on_commit_callbacks, fmt="xlsx", fy="2012"):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):  # the worker's part: run the queued job
        response = client.post(reverse("evaluation:year_book"), {"fiscal_year": fy, "format": fmt})
    assert response.status_code == 302, response.content.decode()[:500]
    job = ProgressJob.objects.get()
    assert response["Location"] == reverse("progress_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    download = client.get(reverse("progress_download", args=[job.pk]))
    return job, page, b"".join(download.streaming_content)


def test_the_web_starts_the_year_as_a_job_and_downloads_the_same_workbook(
    two_programs, client, tmp_path, django_capture_on_commit_callbacks
):
    officer = user_with_role(Role.SECURITY_OFFICER, username="officer")
    client.force_login(officer)
    page = client.get(reverse("evaluation:program_list")).content.decode()
    assert 'action="/evaluation/year-book/"' in page and '<option value="2012">平成24年度</option>' in page
    job, page, data = _web_book(client, officer, django_capture_on_commit_callbacks)
    assert job.state == "succeeded" and (job.done, job.total) == (3, 3)  # 2 sheets + the workbook
    assert "平成24年度 全事業の評価シート（XLSX）" in page and "平成24年度 事業 2 件" in page
    assert job.result_name == "evaluation-FY2012-all.xlsx"
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["目次", "21_50", "1379"]
    cli_path, _ = _run(tmp_path, "xlsx")  # one function makes both: the same index rows
    web_index = [[c.value for c in row] for row in book["目次"].iter_rows()]
    assert web_index == [[c.value for c in row] for row in load_workbook(cli_path)["目次"].iter_rows()]
    assert AuditEvent.objects.filter(action="core.progress.start", actor="officer").count() == 1


def test_a_department_lead_gets_only_the_programs_of_their_departments(
    two_programs, client, django_capture_on_commit_callbacks
):
    seed, other = two_programs
    elsewhere = Department.objects.create(
        organisation=seed.department.organisation, code="9100", name="防災課"
    )
    Program.objects.filter(pk=other.pk).update(department=elsewhere)
    lead = user_with_role(Role.DEPARTMENT_LEAD, department=elsewhere, username="bousai")
    _job, _page, data = _web_book(client, lead, django_capture_on_commit_callbacks)
    assert load_workbook(io.BytesIO(data)).sheetnames == ["目次", "21_50"]


def test_a_year_without_records_or_a_forged_format_starts_nothing(two_programs, client):
    client.force_login(user_with_role(Role.SECURITY_OFFICER))
    for fields in ({"fiscal_year": "2019", "format": "xlsx"}, {"fiscal_year": "2012", "format": "html"}):
        response = client.post(reverse("evaluation:year_book"), fields, follow=True)
        assert response.redirect_chain[-1][0] == reverse("evaluation:program_list")
        assert "正しく選択してください" in response.content.decode()
    assert not ProgressJob.objects.exists()
    client.force_login(user_with_role(Role.STAFF, username="staff"))
    assert client.post(reverse("evaluation:year_book"), {"fiscal_year": "2012"}).status_code == 403


def _pixels(pdf: bytes, path) -> list[Image.Image]:
    path.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(
        [require_tool("pdftoppm"), "-r", "50", "-png", str(path.with_suffix(".pdf")), str(path)], check=True
    )
    return [Image.open(png).convert("RGB") for png in sorted(path.parent.glob(f"{path.name}-*.png"))]


def test_a_page_set_is_drawn_exactly_as_weasyprint_draws_it_with_its_whole_stylesheet(
    drill_kpi_for_flat, demo, tmp_path
):
    """The book's workers leave WeasyPrint's footnote and note rules out (a sixth of the CPU time):
    the seed's H24 sheet (its 成果 pages), its current year (KPI evidence behind <details>) and a
    目次 come out pixel for pixel as WeasyPrint draws them by default."""
    program = program_get(reference_number="1379")
    current = max(program.years.values_list("fiscal_year", flat=True))
    sheets = [sheet_get(program=program, fiscal_year=fy) for fy in (2012, current)]
    fonts = FontConfiguration()
    css = CSS(string=stylesheet(), font_config=fonts)
    for n, html in enumerate([*(book_sheet_html(s) for s in sheets), book_index_html(sheets)]):
        book = _pixels(pdf_book.render_page_set(html, css, fonts).write_pdf(), tmp_path / f"book{n}")
        plain = HTML(string=html).render(stylesheets=[css], font_config=fonts).write_pdf()
        default = _pixels(plain, tmp_path / f"default{n}")
        assert len(book) == len(default) > 0
        assert all(ImageChops.difference(a, b).getbbox() is None for a, b in zip(book, default, strict=True))


def test_a_page_set_given_last_but_first_in_the_book_is_not_left_to_the_end(monkeypatch, tmp_path):
    """The 目次 is made after all the sheets; the workers take it before the sheets still waiting, so
    the year does not end with one worker laying out the 目次 while the other has nothing to do.
    Nothing is laid out before all 13 page sets are given (a gate), so what the workers take first
    does not depend on how fast they run: the 6 queued ahead (AHEAD × 2 workers), then the 目次."""
    queued: list[int] = []

    class Recorded(pdf_book._Backlog):
        def __init__(self, tasks, limit):
            super().__init__(_Recording(tasks, queued), limit)

    monkeypatch.setattr(pdf_book, "cpu_count", lambda: 2)
    monkeypatch.setattr(pdf_book, "_Backlog", Recorded)
    monkeypatch.setattr(pdf_book, "render_page_set", pdf_faults.render_after_the_gate)
    gate = tmp_path / "gate"
    gate.touch()
    laid: list[int] = []

    def page_sets():
        with gate.open("rb") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            for order in [*range(1, 13), 0]:
                yield pdf_book.PageSet(order, f"{order}", f"{order}-", f"<!-- gate: {gate} --><p>{order}</p>")
        # the lock goes with the file: the workers lay out from here on

    data = pdf_book.book_pdf(page_sets(), count=13, stylesheet="", title=lambda: "t", on_laid_out=laid.append)
    assert sorted(laid) == list(range(13)) and len(PdfReader(io.BytesIO(data)).pages) == 13
    assert queued == [*range(1, 7), 0, *range(7, 13)]  # taken in this order: one queue, first in first out


class _Recording:
    """The workers' queue, noting the order of each page set put in it."""

    def __init__(self, tasks, queued):
        self.tasks, self.queued = tasks, queued

    def put(self, task):
        self.queued.append(task[0])
        self.tasks.put(task)


def test_a_pdf_reports_each_sheet_each_page_set_and_the_writing(two_programs):
    steps: list[tuple[int, int, str]] = []
    book = year_book(fiscal_year=2012, fmt="pdf", report=lambda d, t, m: steps.append((d, t, m)))
    assert book.data.startswith(b"%PDF") and book.programs == 2
    assert {t for _, t, _ in steps} == {5}  # 2 sheets computed, 2 laid out, the workers' writing
    done = [d for d, _, _ in steps]
    assert done == sorted(done) and len(steps) == 4
    assert [m for _, _, m in steps if "PDF" not in m] == [
        "21/50 防災行政無線デジタル化事業",
        "1379 情報化安全対策事業",
    ]
    assert steps[-1] == (4, 5, "PDF を書き出しています 2/2")


def test_the_job_writes_in_the_language_of_the_page_that_started_it(
    two_programs, client, django_capture_on_commit_callbacks
):
    officer = user_with_role(Role.SECURITY_OFFICER, username="officer")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    job, page, data = _web_book(client, officer, django_capture_on_commit_callbacks)
    assert job.language == "en" and "FY2012 (Heisei 24): 2 programs" in page  # the era style, in English
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Contents"
    assert [c.value for c in book["Contents"][1]][3:6] == ["Ref. no.", "Program", "Total cost (¥1,000)"]
