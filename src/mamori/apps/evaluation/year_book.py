"""The whole year at once — one workbook (目次 + a worksheet per 事業) or one PDF — made by one function
that both `mamori sheet --all` and the web's background job (`core.progress`) call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import ProgressJob
from mamori.apps.core.permissions import LEADS_AND_READERS, membership_department_ids
from mamori.apps.core.progress import ProgressKind, ProgressResult, Report
from mamori.apps.core.wareki import format_fiscal_year

from .errors import EvaluationError
from .render_html import year_to_pdf
from .render_xlsx import year_to_xlsx
from .selectors import default_rules, year_programs, year_sheets

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
NO_PROGRAMS = _("{fy}の記録がある事業はありません")
BAD_FORMAT = _("形式は xlsx か pdf です")
RENDERING = {"xlsx": _("ブックを作成しています"), "pdf": _("PDF を作成しています")}


@dataclass(frozen=True)
class YearBook:
    data: bytes
    fiscal_year_label: str
    programs: int
    warnings: list[str]  # "整理番号 warning", one per line


def year_book(
    *,
    fiscal_year: int,
    fmt: str,
    departments: set[int] | None = None,
    report: Callable[[int, int, str], None] | None = None,
) -> YearBook:
    """Every 事業 of the year (within `departments`, None = all) in one file, in the report book's
    order; `report(done, total, message)` after each sheet and before the file is rendered."""
    if fmt not in FORMATS:
        raise EvaluationError(BAD_FORMAT, code="bad_format")
    total = year_programs(fiscal_year, departments=departments).count()
    if not total:
        raise EvaluationError(NO_PROGRAMS.format(fy=format_fiscal_year(fiscal_year)), code="no_programs")
    steps = total + 1  # rendering the file is the last step (most of the time for a PDF)
    sheets = []
    for n, sheet in enumerate(year_sheets(fiscal_year, departments=departments), start=1):
        sheets.append(sheet)
        if report:
            report(n, steps, f"{sheet.program.reference_number} {sheet.program.name}")
    if report:
        report(len(sheets), steps, str(RENDERING[fmt]))
    if fmt == "pdf":
        data = year_to_pdf(sheets)
    else:
        data = year_to_xlsx(sheets, font=default_rules().xlsx_font)
    warnings = [f"{s.program.reference_number} {w}" for s in sheets for w in s.warnings]
    return YearBook(data, sheets[0].fiscal_year_label, len(sheets), warnings)


def year_book_job(job: ProgressJob, report: Report) -> ProgressResult:
    """The background job: the owner's departments as they are when it runs (leads: their own)."""
    fy, fmt = int(job.params["fiscal_year"]), str(job.params["format"])
    book = year_book(fiscal_year=fy, fmt=fmt, departments=membership_department_ids(job.owner), report=report)
    message = gettext("{fy} 事業 {n} 件").format(fy=book.fiscal_year_label, n=book.programs)
    if book.warnings:
        message += " / " + gettext("注意 {n} 件: {first}").format(
            n=len(book.warnings), first=book.warnings[0]
        )
    return ProgressResult(f"evaluation-FY{fy}-all.{fmt}", book.data, FORMATS[fmt], message)


YEAR_BOOK_KIND = ProgressKind(
    key="evaluation.year_book",
    label=_("年度の全事業の評価シート"),
    run=year_book_job,
    roles=LEADS_AND_READERS,
    back=lambda job: reverse("evaluation:program_list"),
)
