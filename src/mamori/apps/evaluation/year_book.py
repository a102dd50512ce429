"""The whole year at once — one workbook (目次 + a worksheet per 事業) or one PDF — made by one function
that both `mamori sheet --all` and the web's background job (`core.progress`) call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.labels import fiscal_year_label
from mamori.apps.core.models import ProgressJob
from mamori.apps.core.permissions import LEADS_AND_READERS, membership_department_ids
from mamori.apps.core.progress import ProgressKind, ProgressResult, Report

from .errors import EvaluationError
from .pdf_book import BookError, PageSet, PageSetError, WorkerLostError, book_pdf
from .render_html import book_index_html, book_sheet_html, stylesheet
from .render_xlsx import year_to_xlsx
from .selectors import default_rules, year_programs, year_sheets
from .sheet import Sheet

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
NO_PROGRAMS = _("{fy}の記録がある事業はありません")
BAD_FORMAT = _("形式は xlsx か pdf です")
RENDERING = {"xlsx": _("ブックを作成しています"), "pdf": _("PDF を作成しています")}
WRITING = _("PDF を書き出しています")
PAGE_SET_FAILED = _(
    "{sheet} の PDF を作成できませんでした（{reason}）。この事業のシートを開いて内容を確かめてください"
)
WORKER_LOST = _("PDF を作成するプロセスが途中で終了しました（メモリ不足など）。もう一度実行してください")
PDF_FAILED = _("PDF を作成できませんでした（{reason}）")


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
    order; `report(done, total, message)` after each sheet, and for a PDF after each page set is laid
    out and before the workers write (the sheets are laid out while the later ones are computed)."""
    if fmt not in FORMATS:
        raise EvaluationError(BAD_FORMAT, code="bad_format")
    total = year_programs(fiscal_year, departments=departments).count()
    if not total:
        raise EvaluationError(NO_PROGRAMS.format(fy=fiscal_year_label(fiscal_year)), code="no_programs")
    tell = report or (lambda done, steps, message: None)
    sheets: list[Sheet] = []
    if fmt == "pdf":
        data = _pdf(year_sheets(fiscal_year, departments=departments), sheets, total, tell)
    else:
        for n, sheet in enumerate(year_sheets(fiscal_year, departments=departments), start=1):
            sheets.append(sheet)
            tell(n, total + 1, f"{sheet.program.reference_number} {sheet.program.name}")
        tell(total, total + 1, str(RENDERING[fmt]))
        data = year_to_xlsx(sheets, font=default_rules().xlsx_font)
    warnings = [f"{s.program.reference_number} {w}" for s in sheets for w in s.warnings]
    return YearBook(data, sheets[0].fiscal_year_label, len(sheets), warnings)


def _pdf(
    source: Iterable[Sheet], sheets: list[Sheet], total: int, tell: Callable[[int, int, str], None]
) -> bytes:
    """The PDF: the 目次, then a page set per 事業 (`pdf_book`); `sheets` collects the sheets. Steps:
    each sheet computed, each sheet laid out, and the workers' writing."""
    steps = 2 * total + 1
    laid = [0]

    def page_sets() -> Iterator[PageSet]:
        for n, sheet in enumerate(source, start=1):
            sheets.append(sheet)
            tell(n + laid[0], steps, f"{sheet.program.reference_number} {sheet.program.name}")
            ref = sheet.program.reference_number
            yield PageSet(n, f"{ref} {sheet.program.name}", f"{ref}-", book_sheet_html(sheet))
        yield PageSet(0, gettext("目次"), gettext("目次") + "-", book_index_html(sheets))

    def on_laid_out(order: int) -> None:
        if order:  # the 目次 is no step of its own
            laid[0] += 1
            message = WRITING if laid[0] == total else RENDERING["pdf"]
            tell(len(sheets) + laid[0], steps, f"{message} {laid[0]}/{total}")

    try:
        return book_pdf(
            page_sets(),
            count=total + 1,
            stylesheet=stylesheet(),
            title=lambda: gettext("%(fy)s 事務事業評価シート") % {"fy": sheets[0].fiscal_year_label},
            on_laid_out=on_laid_out,
        )
    except PageSetError as exc:
        raise EvaluationError(
            PAGE_SET_FAILED.format(sheet=_named(sheets, exc.order), reason=exc.reason), code="pdf_failed"
        ) from exc
    except WorkerLostError as exc:
        raise EvaluationError(WORKER_LOST, code="pdf_failed") from exc
    except BookError as exc:
        raise EvaluationError(PDF_FAILED.format(reason=exc), code="pdf_failed") from exc


def _named(sheets: list[Sheet], order: int) -> str:
    if 0 < order <= len(sheets):
        program = sheets[order - 1].program
        return f"{program.reference_number} {program.name}"
    return gettext("目次")


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
