"""Rendering cost stays bounded, and indicators bound to registered KPIs show value and evidence."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from mamori.apps.core import kpis
from mamori.apps.core.kpis import Evidence, Kpi, KpiValue
from mamori.apps.evaluation import services
from mamori.apps.evaluation.models import Indicator
from mamori.apps.evaluation.render_html import sheet_to_html
from mamori.apps.evaluation.render_xlsx import sheet_to_xlsx
from mamori.apps.evaluation.selectors import program_get, sheet_get

MAX_SHEET_QUERIES = (
    9  # measured: 6-7 (program, years, staffing, unit costs, indicators, their years, settings)
)


def kpi_allowance() -> int:
    """Queries the KPI providers may make: one per bound indicator and year shown (this year and 比較),
    two for the offsite rate (it also looks for systems that need a copy and had none)."""
    bound = Indicator.objects.exclude(kpi_code="")
    return 2 * bound.count() + 2 * bound.filter(kpi_code="backups.offsite_compliance").count()


@pytest.fixture
def drill_kpi():
    """A KPI as an app would register it: two evidence records in FY2025, none before."""

    def compute(fy: int) -> KpiValue:
        if fy == 2025:
            return KpiValue(
                Decimal("97.5"),
                [
                    Evidence("訓練 2025-06", "drill", "1", "/drills/1/"),
                    Evidence("訓練 2025-11", "drill", "2", "/drills/2/"),
                ],
            )
        return KpiValue(None)

    kpi = Kpi("test.drill_rate", "訓練合格率", "%", "up", compute)
    kpis.register_kpi(kpi)
    yield kpi
    kpis._registry.pop("test.drill_rate", None)


def test_sheet_rendering_issues_a_bounded_number_of_queries(demo, django_assert_max_num_queries):
    program = program_get(reference_number="1379")
    with django_assert_max_num_queries(MAX_SHEET_QUERIES + kpi_allowance()):
        sheet = sheet_get(program=program, fiscal_year=2012)
        sheet_to_html(sheet)
        sheet_to_xlsx(sheet)


def test_query_count_does_not_grow_with_sub_programs_and_indicators(demo, django_assert_max_num_queries):
    program = program_get(reference_number="1379")
    for n in range(2, 7):
        sub = services.program_create(
            actor="t",
            measure=program.measure,
            department=program.department,
            reference_number=f"{n:02d}",
            parent=program,
            name=f"細事業{n}",
        )
        services.program_year_set_money(
            actor="t", program=sub, fiscal_year=2012, program_cost=1000, general_fund=1000
        )
        services.program_year_set_staffing(actor="t", program=sub, fiscal_year=2012, fte={"regular": "0.10"})
        ind = services.indicator_create(
            actor="t", program=sub, kind="activity", name="研修回数", unit="回", direction="up"
        )
        services.indicator_year_set(actor="t", indicator=ind, fiscal_year=2012, target=2, actual=2)
    with django_assert_max_num_queries(MAX_SHEET_QUERIES + kpi_allowance()):
        sheet = sheet_get(program=program, fiscal_year=2012)
    assert len(sheet.sub_programs) == 6


def test_indicator_bound_to_a_kpi_shows_value_and_evidence(demo, drill_kpi):
    sub = program_get(reference_number="1379", sub="01")
    ind = services.indicator_create(
        actor="t",
        program=sub,
        kind="outcome",
        name="訓練合格率",
        unit="%",
        direction="up",
        kpi_code="test.drill_rate",
    )
    services.indicator_year_set(actor="t", indicator=ind, fiscal_year=2025, target=100)
    sheet = sheet_get(program=program_get(reference_number="1379"), fiscal_year=2025)
    row = next(i for i in sheet.sub_programs[0].indicators if i.kpi_code == "test.drill_rate")
    assert (row.actual, row.attainment, row.evidence_count) == (Decimal("97.5"), Decimal("97.5"), 2)
    html = sheet_to_html(sheet)
    assert '<summary>2件</summary><ul><li><a href="/drills/1/">訓練 2025-06</a></li>' in html
    assert sheet.sub_programs[0].suggestion.effectiveness == "B"


def test_a_kpi_indicator_without_figures_in_a_year_is_left_off_that_years_sheet(demo, drill_kpi):
    """The seed's 平成24年度 sheet stays as it was when mamori's own records start later."""
    sub = program_get(reference_number="1379", sub="01")
    services.indicator_create(
        actor="t", program=sub, kind="outcome", name="訓練合格率", unit="%", direction="up",
        kpi_code="test.drill_rate",
    )  # fmt: skip
    program = program_get(reference_number="1379")
    names = lambda fy: [i.name for i in sheet_get(program=program, fiscal_year=fy).sub_programs[0].indicators]  # noqa: E731
    assert "訓練合格率" not in names(2012)
    assert "訓練合格率" in names(2025) and "訓練合格率" in names(2026)  # 2026 compares with 2025


def test_kpi_command_lists_every_registered_kpi(db, drill_kpi):
    out = io.StringIO()
    call_command("kpi", "--fiscal-year", "令和7年度", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    row = next(r for r in rows if r["code"] == "test.drill_rate")
    assert row == {
        "code": "test.drill_rate",
        "label": "訓練合格率",
        "value": "97.5",
        "unit": "%",
        "direction": "up",
        "evidence_count": 2,
        "evidence": [
            {"label": "訓練 2025-06", "object_type": "drill", "object_id": "1", "url": "/drills/1/"},
            {"label": "訓練 2025-11", "object_type": "drill", "object_id": "2", "url": "/drills/2/"},
        ],
        "detail": {},
    }
    table = io.StringIO()
    call_command("kpi", "--fiscal-year", "2025", stdout=table)
    assert "test.drill_rate" in table.getvalue() and "97.5" in table.getvalue()
