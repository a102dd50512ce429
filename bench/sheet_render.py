"""Benchmark: time to compute and render the demo's evaluation sheet (平成24年度, 1379).

Run: `.venv/bin/python bench/sheet_render.py [--repeat 10]`. Uses a throwaway MAMORI_HOME with a
fresh SQLite database (or DATABASE_URL if set), runs the evaluation demo, then prints a table.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time

os.environ.setdefault("MAMORI_HOME", tempfile.mkdtemp(prefix="mamori-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from mamori.apps.core.models import Organisation  # noqa: E402
from mamori.apps.evaluation.demo import setup_demo  # noqa: E402
from mamori.apps.evaluation.render_html import sheet_to_html, sheet_to_pdf  # noqa: E402
from mamori.apps.evaluation.render_xlsx import sheet_to_xlsx  # noqa: E402
from mamori.apps.evaluation.selectors import program_get, sheet_get  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    org = Organisation.objects.first() or Organisation.objects.create(name="みなと台市", prefecture="大阪府")
    setup_demo(organisation=org, stdout=io.StringIO())
    program = program_get(reference_number="1379")

    with CaptureQueriesContext(connection) as queries:
        sheet = sheet_get(program=program, fiscal_year=2012)
    steps = {
        "compute (DB → Sheet)": lambda: sheet_get(program=program, fiscal_year=2012),
        "HTML": lambda: sheet_to_html(sheet),
        "XLSX": lambda: sheet_to_xlsx(sheet),
        "PDF (WeasyPrint)": lambda: sheet_to_pdf(sheet),
        "compute + PDF": lambda: sheet_to_pdf(sheet_get(program=program, fiscal_year=2012)),
    }
    sheet_to_pdf(sheet)  # warm up fonts
    print(
        f"evaluation sheet 1379 / 平成24年度, {args.repeat} runs, {len(queries.captured_queries)} queries to compute"
    )
    print(f"{'step':<24}{'median ms':>12}{'min ms':>10}{'max ms':>10}")
    for name, fn in steps.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:<24}{statistics.median(times):>12.1f}{min(times):>10.1f}{max(times):>10.1f}")


if __name__ == "__main__":
    main()
