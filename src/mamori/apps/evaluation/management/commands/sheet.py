"""`mamori sheet --program 1379 --fiscal-year 平成24 --format xlsx|html|pdf -o FILE`, or the whole year
at once: `mamori sheet --fiscal-year 2024 --all --format xlsx|pdf -o FILE`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from mamori.apps.evaluation.errors import EvaluationError
from mamori.apps.evaluation.management.output import write_output
from mamori.apps.evaluation.render_html import sheet_to_html, sheet_to_pdf
from mamori.apps.evaluation.render_xlsx import sheet_to_xlsx
from mamori.apps.evaluation.selectors import default_rules, program_get, sheet_get
from mamori.apps.evaluation.services import fiscal_year_from
from mamori.apps.evaluation.year_book import year_book


class Command(BaseCommand):
    help = "事務事業評価シートを XLSX / HTML / PDF で出力します (fiscal year: 2012, 平成24, H24, 平成24年度)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", help="整理番号 of the 事業, e.g. 1379")
        parser.add_argument(
            "--all",
            action="store_true",
            help="every 事業 of the year: one workbook (目次 + a worksheet per 整理番号) or one PDF",
        )
        parser.add_argument("--sub-program", help="limit the sheet to one 細事業, e.g. 01")
        parser.add_argument("--fiscal-year", required=True, help="2012, FY2012, 平成24, H24, 平成24年度 ...")
        parser.add_argument("--format", choices=["xlsx", "html", "pdf"], default="xlsx")
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--language", choices=["ja", "en"], default="ja", help="labels of the sheet")

    def handle(self, *args: object, **opts: str) -> None:
        if opts["all"]:
            self._whole_year(opts)
            return
        if not opts["program"]:
            raise CommandError(MSG_PROGRAM_OR_ALL)
        try:
            fy = fiscal_year_from(opts["fiscal_year"])
            program = program_get(reference_number=opts["program"])
            sub = (
                program_get(reference_number=opts["program"], sub=opts["sub_program"])
                if opts["sub_program"]
                else None
            )
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        fmt = opts["format"]
        data: bytes
        with translation.override(opts["language"]):
            sheet = sheet_get(program=program, fiscal_year=fy, sub_program=sub)
            if fmt == "xlsx":
                data = sheet_to_xlsx(sheet, font=default_rules().xlsx_font)
            elif fmt == "pdf":
                data = sheet_to_pdf(sheet)
            else:
                data = sheet_to_html(sheet).encode("utf-8")
        out = Path(opts["output"])
        write_output(out, data)
        self.stdout.write(f"{out} ({sheet.fiscal_year_label} {sheet.program.name}, {len(data):,} bytes)")
        for warning in sheet.warnings:
            self.stderr.write(f"注意: {warning}")

    def _whole_year(self, opts: dict[str, str]) -> None:
        if opts["program"] or opts["sub_program"] or opts["format"] == "html":
            raise CommandError(MSG_ALL_ALONE)
        tty = self.stderr.isatty()

        def progress_line(done: int, total: int, message: str) -> None:
            if tty:
                self.stderr.write(f"\r\033[K{done}/{total} {message}", ending="")

        try:
            with translation.override(opts["language"]):
                book = year_book(
                    fiscal_year=fiscal_year_from(opts["fiscal_year"]),
                    fmt=opts["format"],
                    report=progress_line,
                )
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if tty:
                self.stderr.write("")
        out = Path(opts["output"])
        write_output(out, book.data)
        self.stdout.write(
            f"{out} ({book.fiscal_year_label} 事業 {book.programs} 件, {len(book.data):,} bytes)"
        )
        for warning in book.warnings:
            self.stderr.write(f"注意: {warning}")


MSG_PROGRAM_OR_ALL = "--program 整理番号 か --all を指定してください"
MSG_ALL_ALONE = "--all は --program・--sub-program と併用できず、形式は xlsx か pdf です"
