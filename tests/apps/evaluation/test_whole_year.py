"""The whole year at once: one workbook (目次 + a worksheet per 事業) and one PDF, in report-book order,
from the command line and as a background job started on the web (leads: their departments only)."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from mamori.apps.core.models import AuditEvent, Department, ProgressJob, Role
from mamori.apps.evaluation import services
from mamori.apps.evaluation.models import Program
from mamori.apps.evaluation.selectors import program_get
from mamori.apps.evaluation.year_book import year_book
from tests.apps.core.factories import user_with_role
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


def test_a_pdf_job_reports_rendering_as_its_last_step(two_programs):
    steps: list[tuple[int, int, str]] = []
    book = year_book(fiscal_year=2012, fmt="pdf", report=lambda d, t, m: steps.append((d, t, m)))
    assert book.data.startswith(b"%PDF") and book.programs == 2
    assert [s[:2] for s in steps] == [(1, 3), (2, 3), (2, 3)] and steps[-1][2] == "PDF を作成しています"
    assert steps[0][2] == "21/50 防災行政無線デジタル化事業"


def test_the_job_writes_in_the_language_of_the_page_that_started_it(
    two_programs, client, django_capture_on_commit_callbacks
):
    officer = user_with_role(Role.SECURITY_OFFICER, username="officer")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    job, page, data = _web_book(client, officer, django_capture_on_commit_callbacks)
    assert job.language == "en" and "平成24年度: 2 programs" in page  # the year in the sheet's era style
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Contents"
    assert [c.value for c in book["Contents"][1]][3:6] == ["Ref. no.", "Program", "Total cost (¥1,000)"]
