"""`mamori kpi --fiscal-year 2026 [--json]`: every registered KPI with value and unit; the JSON adds
the evidence records and the detail figures behind each value."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.wareki import format_fiscal_year
from mamori.apps.evaluation.errors import EvaluationError
from mamori.apps.evaluation.selectors import kpi_values
from mamori.apps.evaluation.services import fiscal_year_from


class Command(BaseCommand):
    help = "登録済みの KPI を年度ごとに表示します"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fiscal-year", required=True, help="2026, 令和8年度, R8 ...")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: object, **opts: object) -> None:
        try:
            fy = fiscal_year_from(str(opts["fiscal_year"]))
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        rows = kpi_values(fy)
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        self.stdout.write(f"{format_fiscal_year(fy)} (FY{fy}): {len(rows)} KPI")
        for row in rows:
            value = "—" if row["value"] is None else f"{row['value']}{row['unit']}"
            self.stdout.write(
                f"  {row['code']:<32} {row['label']:<20} {value:>10}  根拠 {row['evidence_count']}件"
            )
