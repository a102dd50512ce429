"""Benchmark: a city's whole evaluation year — 300 programs × 3 fiscal years imported, then the whole
year's workbook and PDF (`year_book`, what `mamori sheet --all` and the web's job run).

Run by `make bench` (or `.venv/bin/python bench/year_book.py [--programs 300]`). Uses a throwaway
MAMORI_HOME with a fresh SQLite database (or DATABASE_URL if set). The document is synthetic but
shaped like a city's: 5 章 × 3 節 × 4 施策, a third of the 事業 with two 細事業, two staff categories,
財源 with national and specific funds, 公債費, two indicators each, a 成果 narrative with a glossary.
Prints wall and CPU seconds per step and the queries each step made; the issue's targets are the
workbook under 10 s and the PDF under 60 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MAMORI_HOME", tempfile.mkdtemp(prefix="mamori-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from mamori.apps.evaluation.interchange import evaluation_import  # noqa: E402
from mamori.apps.evaluation.year_book import year_book  # noqa: E402

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


def _measure(name: str, fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    queries = [0]

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    target = f" (target < {TARGETS[name]:.0f} s)" if name in TARGETS else ""
    return result, [f"| {name}{target} | {wall:.1f} | {cpu:.1f} | {queries[0]:,} |"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    doc = document(args.programs)
    rows = ["| step | wall s | CPU s | queries |", "|---|---|---|---|"]
    counts, lines = _measure("import (3 years)", lambda: evaluation_import(actor="bench", document=doc))
    rows += lines
    xlsx, lines = _measure("workbook (XLSX)", lambda: year_book(fiscal_year=YEARS[-1], fmt="xlsx"))
    rows += lines
    pdf, lines = _measure("PDF", lambda: year_book(fiscal_year=YEARS[-1], fmt="pdf"))
    rows += lines
    print(
        f"{args.programs} 事業 ({counts['sub_programs']} 細事業) × {len(YEARS)} fiscal years; "
        f"FY{YEARS[-1]}: workbook {len(xlsx.data) / 1e6:.1f} MB, PDF {len(pdf.data) / 1e6:.1f} MB"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
