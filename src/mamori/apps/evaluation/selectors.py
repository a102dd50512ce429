"""Reads of the evaluation app: program lists, and the plain `SheetInput` a sheet is computed from.

`sheet_input` loads one program's sheet in a fixed number of queries (plus one call per bound KPI),
so rendering cost does not grow with the number of sub-programs or indicators.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, KpiValue, kpi_get, kpi_list
from mamori.apps.core.models import PopulationRecord

from .errors import EvaluationError
from .models import Indicator, IndicatorYear, PersonnelUnitCost, Program, ProgramYear, SheetSettings
from .rules import SheetRules
from .sheet import (
    EvidenceLink,
    IndicatorInput,
    PopulationInput,
    ProgramInput,
    Sheet,
    SheetInput,
    YearInput,
    build_sheet,
)

EVIDENCE_LINKS_SHOWN = 50
MSG_NO_PROGRAM = _("整理番号 {ref} の事業はありません")
MSG_NO_SUB_PROGRAM = _("事業 {ref} に細事業 {sub} はありません")


def default_rules() -> SheetRules:
    """The installation's default (`MAMORI_EVALUATION` in Django settings)."""
    return SheetRules.from_settings(getattr(settings, "MAMORI_EVALUATION", None))


def _plain(value: Decimal) -> Decimal:
    """80.0 from the database reads 80, as the default and the import document write it."""
    value = Decimal(value)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _apply(rules: SheetRules, row: SheetSettings) -> SheetRules:
    return dataclasses.replace(
        rules,
        money_rounding=row.money_rounding,
        per_capita_rounding=row.per_capita_rounding,
        era_style=row.era_style,
        thresholds={"A": _plain(row.threshold_a), "B": _plain(row.threshold_b)},
        footnote=row.footnote,
    )


def sheet_rules(organisation_id: int | None) -> SheetRules:
    """The rules an organisation's sheets are computed under: its own settings (saved on the
    settings page or by an import) over the installation default."""
    rules = default_rules()
    row = SheetSettings.objects.filter(organisation_id=organisation_id).first() if organisation_id else None
    return _apply(rules, row) if row is not None else rules


def sheet_settings_values(organisation_id: int | None) -> dict[str, Any]:
    """The effective settings as the form and the import document spell them."""
    rules = sheet_rules(organisation_id)
    return {
        "money_rounding": rules.money_rounding,
        "per_capita_rounding": rules.per_capita_rounding,
        "era_style": rules.era_style,
        "threshold_a": rules.thresholds["A"],
        "threshold_b": rules.thresholds["B"],
        "footnote": rules.footnote,
    }


def program_list(*, department_ids: set[int] | None = None) -> QuerySet[Program]:
    """Top-level programs (事業) with their hierarchy, optionally limited to some departments."""
    qs = (
        Program.objects.filter(parent__isnull=True)
        .select_related("measure__section__chapter", "department__parent")
        .prefetch_related("sub_programs")
    )
    if department_ids is not None:
        qs = qs.filter(department_id__in=department_ids)
    return qs.order_by("measure__section__chapter__number", "reference_number")


def program_get(*, reference_number: str, sub: str | None = None) -> Program:
    """A 事業 by 整理番号, or one of its 細事業 by its own number."""
    program = (
        Program.objects.filter(parent__isnull=True, reference_number=reference_number)
        .select_related("measure__section__chapter", "department__parent")
        .first()
    )
    if program is None:
        raise EvaluationError(MSG_NO_PROGRAM.format(ref=reference_number), code="not_found", http_status=404)
    if sub is None:
        return program
    child = program.sub_programs.filter(reference_number=sub).first()
    if child is None:
        raise EvaluationError(
            MSG_NO_SUB_PROGRAM.format(ref=reference_number, sub=sub), code="not_found", http_status=404
        )
    return child


def program_get_by_pk(pk: int) -> Program:
    program = (
        Program.objects.select_related("measure__section__chapter", "department__parent")
        .filter(pk=pk)
        .first()
    )
    if program is None:
        raise EvaluationError(f"事業 #{pk} はありません", code="not_found", http_status=404)
    return program


def program_fiscal_years(program: Program) -> list[int]:
    ids = [program.pk, *program.sub_programs.values_list("pk", flat=True)]
    return sorted(set(ProgramYear.objects.filter(program_id__in=ids).values_list("fiscal_year", flat=True)))


def fiscal_years_recorded() -> list[int]:
    """Every fiscal year some program has a record for, newest first."""
    years = ProgramYear.objects.values_list("fiscal_year", flat=True).distinct()
    return sorted(set(years), reverse=True)


def population_list(organisation_id: int) -> QuerySet[PopulationRecord]:
    return PopulationRecord.objects.filter(organisation_id=organisation_id).order_by("-reference_date")


def _population(p: PopulationRecord | None) -> PopulationInput | None:
    if p is None:
        return None
    return PopulationInput(p.reference_date, p.residents, p.households, p.source)


def _year_input(year: ProgramYear | None, unit_costs: dict[tuple[int, str], int]) -> YearInput | None:
    if year is None:
        return None
    staffing = tuple(
        (line.category, line.fte, unit_costs.get((year.fiscal_year, line.category)))
        for line in year.staffing.all()
    )
    keys = ("relevance", "efficiency", "effectiveness", "overall", "contribution")
    return YearInput(
        fiscal_year=year.fiscal_year,
        program_cost=year.program_cost,
        general_fund=year.general_fund,
        national_prefectural=year.national_prefectural,
        municipal_bonds=year.municipal_bonds,
        other_specific=year.other_specific,
        debt_service=year.debt_service,
        staffing=staffing,
        population=_population(year.population),
        outcome=year.outcome,
        glossary=tuple((g["term"], g["text"]) for g in year.glossary),
        direction_label=year.direction_label,
        direction_code=year.direction_code,
        ratings=tuple((k, getattr(year, f"rating_{k}")) for k in keys),
        reasons=tuple((k, getattr(year, f"reason_{k}")) for k in keys),
    )


class _KpiCache:
    """Each bound KPI is computed once per fiscal year per sheet; `departments` is the reader's scope
    (None: every department), which decides which evidence is a link."""

    def __init__(self, departments: set[int] | None = None) -> None:
        self.departments = departments
        self._values: dict[tuple[str, int], KpiValue | None] = {}

    def get(self, code: str, fiscal_year: int) -> KpiValue | None:
        key = (code, fiscal_year)
        if key not in self._values:
            try:
                self._values[key] = kpi_get(code).compute(fiscal_year)
            except KeyError:
                self._values[key] = None  # the app providing it is not installed
        return self._values[key]


def _safe_url(url: str) -> str:
    """Only site-relative or http(s) links reach the sheet (never javascript: and the like)."""
    return url if url.startswith(("/", "http://", "https://")) and not url.startswith("//") else ""


def _evidence_link(e: Evidence, departments: set[int] | None) -> EvidenceLink:
    """A link only where the reader may open it: a department lead gets other departments'
    records (and records of no department) as plain text, not as links to a 404."""
    visible = departments is None or (e.department_id is not None and e.department_id in departments)
    return EvidenceLink(e.label, _safe_url(e.url) if visible else "", e.department_id)


def _indicator_input(ind: Indicator, fy: int, kpis: _KpiCache) -> IndicatorInput:
    by_year = {y.fiscal_year: y for y in ind.years.all()}
    current, previous = by_year.get(fy), by_year.get(fy - 1)
    actual = current.actual if current else None
    previous_actual = previous.actual if previous else None
    evidence: tuple[EvidenceLink, ...] = ()
    count = 0
    if ind.kpi_code:
        value = kpis.get(ind.kpi_code, fy)
        if value is not None:
            actual = value.value
            count = len(value.evidence)
            evidence = tuple(
                _evidence_link(e, kpis.departments) for e in value.evidence[:EVIDENCE_LINKS_SHOWN]
            )
        prev = kpis.get(ind.kpi_code, fy - 1)
        if prev is not None and prev.value is not None:
            previous_actual = prev.value
    return IndicatorInput(
        kind=ind.kind,
        name=ind.name,
        unit=ind.unit,
        direction=ind.direction,
        kpi_code=ind.kpi_code,
        target=current.target if current else None,
        actual=actual,
        previous_actual=previous_actual,
        evidence=evidence,
        evidence_count=count,
    )


def _indicators_with_figures(rows: tuple[IndicatorInput, ...]) -> tuple[IndicatorInput, ...]:
    """A year's sheet lists the indicators that have a figure in it or in the year compared: an
    indicator bound to a KPI whose records start later does not print empty rows on older sheets."""
    return tuple(r for r in rows if (r.target, r.actual, r.previous_actual) != (None, None, None))


def _program_input(
    program: Program,
    fy: int,
    years: dict[tuple[int, int], ProgramYear],
    unit_costs: dict[tuple[int, str], int],
    indicators: dict[int, list[Indicator]],
    subs: Iterable[Program],
    kpis: _KpiCache,
) -> ProgramInput:
    return ProgramInput(
        reference_number=program.reference_number,
        name=program.name,
        priority=program.priority,
        purpose=program.purpose,
        goal=program.goal,
        implementation=program.get_implementation_display(),
        start_fiscal_year=program.start_fiscal_year,
        start_or_earlier=program.start_or_earlier,
        legal_basis=program.legal_basis,
        target_group=program.target_group,
        year=_year_input(years.get((program.pk, fy)), unit_costs),
        previous=_year_input(years.get((program.pk, fy - 1)), unit_costs),
        indicators=_indicators_with_figures(
            tuple(_indicator_input(i, fy, kpis) for i in indicators.get(program.pk, []))
        ),
        sub_programs=tuple(_program_input(s, fy, years, unit_costs, indicators, (), kpis) for s in subs),
    )


def sheet_input(
    *,
    program: Program,
    fiscal_year: int,
    sub_program: Program | None = None,
    departments: set[int] | None = None,
) -> SheetInput:
    """Everything one sheet shows, as plain data; `sub_program` limits the 細事業 part to one;
    `departments` is the reader's scope (a lead's evidence links to other departments become text)."""
    measure = program.measure
    section = measure.section
    chapter = section.chapter
    subs = (
        [sub_program] if sub_program is not None else list(program.sub_programs.order_by("reference_number"))
    )
    ids = [program.pk, *(s.pk for s in subs)]
    fys = (fiscal_year, fiscal_year - 1)
    year_rows = (
        ProgramYear.objects.filter(program_id__in=ids, fiscal_year__in=fys)
        .select_related("population")
        .prefetch_related("staffing")
    )
    years = {(y.program_id, y.fiscal_year): y for y in year_rows}
    unit_costs = {
        (c.fiscal_year, c.category): c.yen
        for c in PersonnelUnitCost.objects.filter(
            organisation_id=chapter.organisation_id, fiscal_year__in=fys
        )
    }
    indicators: dict[int, list[Indicator]] = defaultdict(list)
    for ind in Indicator.objects.filter(program_id__in=ids).prefetch_related(
        Prefetch("years", queryset=IndicatorYear.objects.filter(fiscal_year__in=fys))
    ):
        indicators[ind.program_id].append(ind)
    kpis = _KpiCache(departments)
    department = program.department
    return SheetInput(
        fiscal_year=fiscal_year,
        department=f"{department.parent.name}{department.name}" if department.parent_id else department.name,
        chapter=gettext("第%(number)s章 %(title)s") % {"number": chapter.number, "title": chapter.title},
        section=f"{section.number} {section.title}",
        measure=f"{measure.number} {measure.title}",
        program=_program_input(program, fiscal_year, years, unit_costs, indicators, subs, kpis),
    )


def sheet_get(
    *,
    program: Program,
    fiscal_year: int,
    sub_program: Program | None = None,
    rules: SheetRules | None = None,
    departments: set[int] | None = None,
) -> Sheet:
    """The computed sheet of a 事業 (a 細事業 is shown within its 事業's sheet), for a reader whose
    scope is `departments` (None: every department)."""
    if program.parent_id is not None:
        sub_program, program = program, program_get_by_pk(program.parent_id)
    data = sheet_input(
        program=program, fiscal_year=fiscal_year, sub_program=sub_program, departments=departments
    )
    return build_sheet(data, rules or sheet_rules(program.measure.section.chapter.organisation_id))


def kpi_values(fiscal_year: int) -> list[dict[str, object]]:
    """Every registered KPI for a fiscal year: code, label, value, unit, the evidence (each record
    with its label and page) and the provider's detail figures."""
    out: list[dict[str, object]] = []
    for kpi in kpi_list():
        value = kpi.compute(fiscal_year)
        out.append(
            {
                "code": kpi.code,
                "label": str(kpi.label),
                "value": None if value.value is None else str(Decimal(value.value)),
                "unit": kpi.unit,
                "direction": kpi.direction,
                "evidence_count": len(value.evidence),
                "evidence": [
                    {"label": e.label, "object_type": e.object_type, "object_id": e.object_id, "url": e.url}
                    for e in value.evidence
                ],
                "detail": value.detail,
            }
        )
    return out


def year_programs(fiscal_year: int, *, departments: set[int] | None = None) -> QuerySet[Program]:
    """Every 事業 with a record in the fiscal year (its own or a 細事業's), as the city's report book
    orders them: 章, 節, 施策, 整理番号."""
    with_year = ProgramYear.objects.filter(fiscal_year=fiscal_year)
    return (
        program_list(department_ids=departments)
        .filter(Q(pk__in=with_year.values("program_id")) | Q(sub_programs__in=with_year.values("program_id")))
        .distinct()
        .order_by(
            "measure__section__chapter__number",
            "measure__section__number",
            "measure__number",
            "reference_number",
        )
    )


def year_sheets(fiscal_year: int, *, departments: set[int] | None = None) -> Iterator[Sheet]:
    """The sheets of `year_programs`, one at a time, so that a caller can report progress."""
    for program in year_programs(fiscal_year, departments=departments):
        yield sheet_get(program=program, fiscal_year=fiscal_year, departments=departments)
