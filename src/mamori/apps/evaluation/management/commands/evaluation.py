"""`mamori evaluation import FILE`, `mamori evaluation export [--program N] -o FILE`,
`mamori evaluation flat [--fiscal-year FY] [--table programs|indicators] [--language en] -o FILE.xlsx|.csv`."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from mamori.apps.evaluation.errors import EvaluationError
from mamori.apps.evaluation.flat import flat_rows, rows_to_csv, rows_to_xlsx
from mamori.apps.evaluation.interchange import dump, evaluation_export, evaluation_import, load
from mamori.apps.evaluation.management.output import write_output
from mamori.apps.evaluation.services import fiscal_year_from


class Command(BaseCommand):
    help = "評価データの一括取込・書き出し（YAML / JSON、docs/evaluation-format.md）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="load a YAML/JSON document (all or nothing)")
        imp.add_argument("file")
        exp = sub.add_parser("export", help="write every program (or one) as a document")
        exp.add_argument("--program", help="整理番号 of one 事業")
        exp.add_argument("--format", choices=["yaml", "json"], help="default: from the file name, else yaml")
        exp.add_argument("-o", "--output", required=True)
        flat = sub.add_parser(
            "flat", help="flat table for analysis: one row per program-year / indicator-year"
        )
        flat.add_argument("--fiscal-year", help="only this fiscal year (any spelling)")
        flat.add_argument("--table", choices=["programs", "indicators"], default="programs", help="for CSV")
        flat.add_argument("-o", "--output", required=True, help="FILE.xlsx (both tables) or FILE.csv")
        flat.add_argument("--language", choices=["ja", "en"], default="ja", help="headers and labels")

    def handle(self, *args: object, **opts: str) -> None:
        try:
            if opts["action"] == "import":
                document = load(Path(opts["file"]))
                counts = evaluation_import(actor=f"cli:{getpass.getuser()}", document=document)
                self.stdout.write(
                    f"取込: 事業 {counts['programs']} 件・細事業 {counts['sub_programs']} 件・年度 {counts['years']} 件"
                )
                return
            out = Path(opts["output"])
            if opts["action"] == "flat":
                fy = fiscal_year_from(opts["fiscal_year"]) if opts["fiscal_year"] else None
                with translation.override(opts["language"]):
                    programs, indicators = flat_rows(fiscal_year=fy)
                    if out.suffix.lower() == ".csv":
                        data = rows_to_csv(programs if opts["table"] == "programs" else indicators)
                    else:
                        data = rows_to_xlsx(programs, indicators)
                write_output(out, data)
                self.stdout.write(f"{out}: 事業 {len(programs) - 1} 行・指標 {len(indicators) - 1} 行")
                return
            fmt = opts["format"] or ("json" if out.suffix.lower() == ".json" else "yaml")
            document = evaluation_export(reference_number=opts["program"])
            if opts["program"] and not document["programs"]:
                raise EvaluationError(f"整理番号 {opts['program']} の事業はありません", code="not_found")
            write_output(out, dump(document, fmt).encode("utf-8"))
            self.stdout.write(f"{out}: 事業 {len(document['programs'])} 件")
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
