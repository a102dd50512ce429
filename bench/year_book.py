"""Benchmark: a city's whole evaluation year — 300 programs × 3 fiscal years imported, then the whole
year's workbook and PDF (`year_book`, what `mamori sheet --all` and the web's job run).

Run by `make bench` (or `.venv/bin/python bench/year_book.py [--programs 300]`). Uses a throwaway
MAMORI_HOME with a fresh SQLite database (or DATABASE_URL if set). The document is synthetic but
shaped like a city's: 5 章 × 3 節 × 4 施策, a third of the 事業 with two 細事業, two staff categories,
財源 with national and specific funds, 公債費, two indicators each, a 成果 narrative with a glossary.
Prints wall and CPU seconds per step — the CPU of the whole process tree: the PDF is laid out in
worker processes (`pdf_book`) —, the tree's peak memory and the queries each step made, and writes
the table into docs/benchmarks.md. The issue's targets are the workbook under 10 s and the PDF under
60 s. A reference step first makes the PDF the way it was made before the workers, one WeasyPrint
document in this process, so the ratio is measured on the same run (`--no-before` skips it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Nothing here sets up Django at import: the PDF's worker processes run this script again (as
# multiprocessing runs a caller's main script in each worker) and need none of it; `main()` does.

YEARS = (2022, 2023, 2024)
TARGETS = {"workbook (XLSX)": 10.0, "PDF": 60.0}


def _year(n: int, fy: int, *, parent: bool) -> dict[str, Any]:
    """One fiscal-year record; a 事業 with 細事業 carries only the texts and ratings."""
    record: dict[str, Any] = {
        "fiscal_year": fy,
        "population_date": f"{fy + 1}-03-31",
        "ratings": {
            "relevance": "A",
            "efficiency": "B",
            "effectiveness": "AB"[n % 2],
            "overall": "B",
            "contribution": "A",
        },
        "reasons": {"overall": f"計画どおり実施した（{n}）。"},
        "direction_code": ["continue", "improve", "expand"][n % 3],
        "direction_label": "継続して実施する",
    }
    if parent:
        return record
    cost = 1_000_000 + 37_111 * n + 5_003 * (fy - 2020)
    national = cost // 4 if n % 3 == 0 else 0
    other = cost // 10 if n % 5 == 0 else 0
    return record | {
        "program_cost": cost,
        "general_fund": cost - national - other,
        "national_prefectural": national,
        "other_specific": other,
        "debt_service": 120_000 if n % 7 == 0 else 0,
        "staffing": {"regular": f"{0.2 + (n % 9) / 10:.2f}", "reemployed": "0.10" if n % 2 else "0.00"},
        "outcome": f"1. 事業の成果\n第{n}号事業として研修※を{n % 12 + 1}回実施し、対象者の理解が進んだ。" * 3,
        "glossary": [{"term": "研修", "text": "職員を対象とした集合研修とeラーニング"}],
    }


def _indicators(n: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "name": f"{name}{n}",
            "unit": unit,
            "direction": "up",
            "kpi_code": "",
            "order": order,
            "years": [
                {"fiscal_year": fy, "target": "100", "actual": str(80 + (n + fy) % 25)} for fy in YEARS
            ],
        }
        for order, (kind, name, unit) in enumerate(
            [("activity", "実施回数", "回"), ("outcome", "達成率", "%")]
        )
    ]


def document(programs: int) -> dict[str, Any]:
    items = []
    for n in range(programs):
        chapter, section, measure = 1 + n % 5, 1 + (n // 5) % 3, 1 + (n // 15) % 4
        has_subs = n % 3 == 0
        program: dict[str, Any] = {
            "reference_number": str(1000 + n),
            "chapter": {"number": chapter, "title": f"まちづくりの目標{chapter}"},
            "section": {"number": f"{section:02d}", "title": f"施策分野{chapter}-{section}"},
            "measure": {"number": f"{measure:02d}", "title": f"施策{chapter}-{section}-{measure}"},
            "department": {
                "code": f"D{n % 20:03d}",
                "name": f"第{n % 20}課",
                "parent": {"code": "P1", "name": "総務部"},
            },
            "name": f"事務事業{n}",
            "purpose": "市民サービスの向上と事務の効率化を図る。",
            "implementation": "direct",
            "start_fiscal_year": 2015,
            "years": [_year(n, fy, parent=has_subs) for fy in YEARS],
            "indicators": [] if has_subs else _indicators(n),
        }
        if has_subs:
            program["sub_programs"] = [
                {
                    "reference_number": f"{s:02d}",
                    "name": f"事務事業{n}の細事業{s}",
                    "implementation": "contracted",
                    "years": [_year(n + s, fy, parent=False) for fy in YEARS],
                    "indicators": _indicators(n + s),
                }
                for s in (1, 2)
            ]
        items.append(program)
    return {
        "format": "mamori-evaluation",
        "version": 1,
        "organisation": {"name": "みなと台市", "prefecture": "大阪府"},
        "unit_costs": [
            {"fiscal_year": fy, "category": c, "yen": yen}
            for fy in YEARS
            for c, yen in (("regular", 7_935_000), ("reemployed", 4_200_000), ("fiscal_year", 2_600_000))
        ],
        "populations": [
            {
                "reference_date": f"{fy + 1}-03-31",
                "residents": 112_400 - fy,
                "households": 47_247,
                "source": "住民基本台帳",
            }
            for fy in YEARS
        ],
        "programs": items,
    }


class TreeSampler(threading.Thread):
    """Samples this process and its descendants (the PDF's workers and their fork server) from /proc:
    the CPU each descendant has used and the memory of the whole tree as PSS (forked workers share
    pages with their server; RSS would count those twice). A worker's last 0.1 s may go unseen."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval, self.done = interval, threading.Event()
        self.start_cpu = self._sample()[0]
        self.cpu: dict[int, float] = {}
        self.peak_pss = 0
        self.own_cpu = 0.0  # this thread's, to leave out of the process's CPU time

    @staticmethod
    def _descendants(pid: int) -> list[int]:
        found, todo = [], [pid]
        while todo:
            parent = todo.pop()
            for task in os.listdir(f"/proc/{parent}/task") if os.path.isdir(f"/proc/{parent}/task") else ():
                try:
                    with open(f"/proc/{parent}/task/{task}/children") as f:
                        children = [int(c) for c in f.read().split()]
                except OSError:
                    continue
                found += children
                todo += children
        return found

    def _sample(self) -> tuple[dict[int, float], int]:
        cpu, pss = {}, 0
        for pid in [os.getpid(), *self._descendants(os.getpid())]:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    pss += next(int(line.split()[1]) for line in f if line.startswith("Pss:")) * 1024
            except (OSError, StopIteration):
                continue  # ended since
            if pid != os.getpid():
                cpu[pid] = (int(fields[11]) + int(fields[12])) / self.TICK
        return cpu, pss

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self._once()
        self._once()
        self.own_cpu = time.thread_time()

    def _once(self) -> None:
        cpu, pss = self._sample()
        self.peak_pss = max(self.peak_pss, pss)
        for pid, seconds in cpu.items():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), seconds)

    def children_cpu(self) -> float:
        return sum(seconds - self.start_cpu.get(pid, 0.0) for pid, seconds in self.cpu.items())


def _measure(name: str, fn: Callable[[], Any], programs: int) -> tuple[Any, list[str]]:
    from django.db import connection

    queries = [0]

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    sampler = TreeSampler()
    sampler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sampler.done.set()
    sampler.join()
    cpu += sampler.children_cpu() - sampler.own_cpu
    target = f" (target < {TARGETS[name]:.0f} s)" if name in TARGETS else ""
    row = (
        f"| {name}{target} | {wall:.1f} | {cpu:.1f} | {cpu / programs:.3f} | "
        f"{sampler.peak_pss / 2**20:,.0f} | {queries[0]:,} |"
    )
    return (result, cpu), [row]


def one_process_pdf(fiscal_year: int) -> bytes:
    """The PDF as `year_book` made it before the workers: every sheet in one WeasyPrint document,
    laid out and drawn in this process (the reference for the before/after ratio)."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from mamori.apps.evaluation.render_html import sheet_context, stylesheet
    from mamori.apps.evaluation.selectors import year_sheets

    body = "".join(
        render_to_string("evaluation/_sheet.html", sheet_context(s)) for s in year_sheets(fiscal_year)
    )
    html = f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><style>{stylesheet()}</style></head><body>{body}</body></html>'
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=300)
    parser.add_argument("--no-before", action="store_true", help="skip the one-process reference PDF")
    args = parser.parse_args()
    if "MAMORI_HOME" not in os.environ:
        os.environ["MAMORI_HOME"] = tempfile.mkdtemp(prefix="mamori-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from mamori.apps.evaluation.interchange import evaluation_import
    from mamori.apps.evaluation.year_book import year_book

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import load_note, write_block

    call_command("migrate", verbosity=0)
    doc = document(args.programs)
    n = args.programs
    rows = [
        "| step | wall s | CPU s (process tree) | CPU s per 事業 | peak memory MiB (tree, PSS) | queries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    (counts, _), lines = _measure(
        "import (3 years)", lambda: evaluation_import(actor="bench", document=doc), n
    )
    rows += lines
    (xlsx, _), lines = _measure("workbook (XLSX)", lambda: year_book(fiscal_year=YEARS[-1], fmt="xlsx"), n)
    rows += lines
    (pdf, after_cpu), lines = _measure("PDF", lambda: year_book(fiscal_year=YEARS[-1], fmt="pdf"), n)
    rows += lines
    before_cpu = None
    if not args.no_before:  # after the PDF: memory this process keeps from it would count against that
        (_, before_cpu), lines = _measure("PDF before: one process", lambda: one_process_pdf(YEARS[-1]), n)
        rows += lines
    summary = (
        f"{n} 事業 ({counts['sub_programs']} 細事業) × {len(YEARS)} fiscal years; FY{YEARS[-1]}: "
        f"workbook {len(xlsx.data) / 1e6:.1f} MB, PDF {len(pdf.data) / 1e6:.1f} MB"
    )
    if before_cpu:
        summary += f"; PDF CPU after / before {after_cpu / before_cpu:.2f}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"Run {stamp} on {os.cpu_count()} CPUs, {connection.vendor}; {load_note()}.\n{summary}\n\n"
        + "\n".join(rows)
    )
    print(text)
    print(f"written to {write_block('year-book', text)}")


if __name__ == "__main__":
    main()
