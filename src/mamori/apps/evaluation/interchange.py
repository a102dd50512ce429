"""Export and import of evaluation data as one YAML/JSON document (`docs/evaluation-format.md`).

The document holds everything a sheet shows, so a city can load past years in bulk. An import runs
through the services (same validation, same audit events) inside one transaction: a bad document
loads nothing and the error names where in the document it is.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from mamori.apps.core.audit import Actor, audit_record, snapshot_of
from mamori.apps.core.models import Department, Organisation, PopulationRecord
from mamori.apps.core.wareki import parse_date

from . import services
from .errors import EvaluationError
from .models import Indicator, PersonnelUnitCost, Program, ProgramYear
from .services import PROGRAM_TEXT_FIELDS, fiscal_year_from
from .sheet import MONEY_FIELDS, RATING_KEYS

FORMAT = "mamori-evaluation"
VERSION = 1
TEXT_FIELDS = ("outcome", "glossary", "direction_label", "direction_code")


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# ---------------------------------------------------------------- export


def _year_doc(year: ProgramYear) -> dict[str, Any]:
    doc: dict[str, Any] = {"fiscal_year": year.fiscal_year}
    doc.update({k: getattr(year, k) for k in MONEY_FIELDS})
    doc["population_date"] = year.population.reference_date.isoformat() if year.population else None
    doc["staffing"] = {line.category: format(line.fte, "f") for line in year.staffing.all()}
    doc["outcome"] = year.outcome
    doc["glossary"] = [{"term": g["term"], "text": g["text"]} for g in year.glossary]
    doc["direction_label"] = year.direction_label
    doc["direction_code"] = year.direction_code
    doc["ratings"] = {k: getattr(year, f"rating_{k}") for k in RATING_KEYS}
    doc["reasons"] = {k: getattr(year, f"reason_{k}") for k in RATING_KEYS}
    return doc


def _program_doc(program: Program, *, top: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"reference_number": program.reference_number}
    if top:
        m = program.measure
        doc["chapter"] = {"number": m.section.chapter.number, "title": m.section.chapter.title}
        doc["section"] = {"number": m.section.number, "title": m.section.title}
        doc["measure"] = {"number": m.number, "title": m.title}
    d = program.department
    doc["department"] = {"code": d.code, "name": d.name}
    if d.parent_id:
        doc["department"]["parent"] = {"code": d.parent.code, "name": d.parent.name}  # type: ignore[union-attr]
    doc.update({k: getattr(program, k) for k in PROGRAM_TEXT_FIELDS})
    doc["years"] = [_year_doc(y) for y in program.years.all()]
    doc["indicators"] = [
        {
            "kind": i.kind,
            "name": i.name,
            "unit": i.unit,
            "direction": i.direction,
            "kpi_code": i.kpi_code,
            "order": i.order,
            "years": [
                {"fiscal_year": y.fiscal_year, "target": _num(y.target), "actual": _num(y.actual)}
                for y in i.years.all()
            ],
        }
        for i in program.indicators.all()
    ]
    if top:
        doc["sub_programs"] = [_program_doc(s, top=False) for s in program.sub_programs.all()]
    return doc


def evaluation_export(*, reference_number: str | None = None) -> dict[str, Any]:
    """The document for every 事業 (or one), with the unit costs and population records they use."""
    programs = (
        Program.objects.filter(parent__isnull=True)
        .select_related("measure__section__chapter", "department__parent")
        .prefetch_related(
            "years__staffing",
            "years__population",
            "indicators__years",
            "sub_programs__years__staffing",
            "sub_programs__years__population",
            "sub_programs__indicators__years",
            "sub_programs__department__parent",
        )
        .order_by("reference_number")
    )
    if reference_number is not None:
        programs = programs.filter(reference_number=reference_number)
    org_ids = {p.measure.section.chapter.organisation_id for p in programs}
    org = Organisation.objects.filter(pk__in=org_ids).first() or Organisation.objects.first()
    return {
        "format": FORMAT,
        "version": VERSION,
        "organisation": {"name": org.name, "prefecture": org.prefecture} if org else None,
        "unit_costs": [
            {"fiscal_year": c.fiscal_year, "category": c.category, "yen": c.yen}
            for c in PersonnelUnitCost.objects.filter(organisation_id__in=org_ids)
        ],
        "populations": [
            {
                "reference_date": p.reference_date.isoformat(),
                "residents": p.residents,
                "households": p.households,
                "source": p.source,
            }
            for p in PopulationRecord.objects.filter(organisation_id__in=org_ids).order_by("reference_date")
        ],
        "programs": [_program_doc(p, top=True) for p in programs],
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line texts (成果 narratives) as literal blocks, so the file reads like the sheet."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and value == value.strip() and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2)
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def load(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON document (JSON is YAML), with a one-line error for unreadable files."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}行目 {mark.column + 1}文字目: " if mark is not None else ""
        raise EvaluationError(
            f"{path}: 読み込めません: {where}{exc.problem or exc.context}", code="unreadable"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EvaluationError(
            f"{path}: 読み込めません: {str(exc).splitlines()[0]}", code="unreadable"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise EvaluationError(f"{path}: format: {FORMAT} の文書ではありません", code="bad_format")
    if data.get("version") != VERSION:
        raise EvaluationError(
            f"{path}: version {data.get('version')!r} には対応していません（{VERSION}）", code="bad_version"
        )
    return data


# ---------------------------------------------------------------- import


def _organisation(actor: Actor, doc: dict[str, Any] | None) -> Organisation:
    org = Organisation.objects.first()
    if org is None:
        doc = doc or {}
        org = Organisation.objects.create(
            name=doc.get("name", "未設定"), prefecture=doc.get("prefecture", "")
        )
        audit_record(actor=actor, action="organisation.create", obj=org, after=snapshot_of(org))
    return org


def _department(actor: Actor, org: Organisation, doc: dict[str, Any]) -> Department:
    found = Department.objects.filter(code=doc["code"]).first()
    if found is not None:
        return found
    parent = _department(actor, org, doc["parent"]) if doc.get("parent") else None
    dept = Department.objects.create(organisation=org, parent=parent, code=doc["code"], name=doc["name"])
    audit_record(actor=actor, action="department.create", obj=dept, after=snapshot_of(dept))
    return dept


def _population(actor: Actor, org: Organisation, doc: dict[str, Any]) -> PopulationRecord:
    ref = parse_date(str(doc["reference_date"]))
    record = PopulationRecord.objects.filter(organisation=org, reference_date=ref).first()
    values = {
        "residents": int(doc["residents"]),
        "households": int(doc["households"]),
        "source": doc["source"],
    }
    if record is None:
        record = PopulationRecord.objects.create(organisation=org, reference_date=ref, **values)
        audit_record(actor=actor, action="population.create", obj=record, after=snapshot_of(record))
    return record


def _import_program(
    actor: Actor, org: Organisation, doc: dict[str, Any], parent: Program | None, measure: Any
) -> Program:
    fields = {k: doc[k] for k in PROGRAM_TEXT_FIELDS if k in doc}
    for k in ("purpose", "goal", "legal_basis", "target_group"):
        if k in fields and fields[k] is None:
            fields[k] = ""
    department = _department(actor, org, doc["department"]) if doc.get("department") else parent.department  # type: ignore[union-attr]
    ref = str(doc["reference_number"])
    existing = Program.objects.filter(parent=parent, reference_number=ref)
    program = (existing if parent is not None else existing.filter(measure=measure)).first()
    if program is None:
        program = services.program_create(
            actor=actor, measure=measure, department=department, reference_number=ref, parent=parent, **fields
        )
    else:
        program = services.program_update(actor=actor, program=program, department=department, **fields)
    for i, year in enumerate(doc.get("years") or []):
        with _where(f"years[{i}]", year):
            _import_year(actor, org, program, year)
    for i, ind in enumerate(doc.get("indicators") or []):
        with _where(f"indicators[{i}]", ind):
            _import_indicator(actor, program, ind)
    return program


def _import_year(actor: Actor, org: Organisation, program: Program, doc: dict[str, Any]) -> None:
    """One fiscal-year record; a key the record leaves out keeps what is stored (a cut file blanks nothing)."""
    fy = doc["fiscal_year"]
    stored = ProgramYear.objects.filter(program=program, fiscal_year=fiscal_year_from(fy)).first()
    population = stored.population if stored is not None else None
    if "population_date" in doc:
        population = None
    if doc.get("population_date"):
        ref = parse_date(str(doc["population_date"]))
        population = PopulationRecord.objects.filter(organisation=org, reference_date=ref).first()
        if population is None:
            raise EvaluationError(
                f"基準日 {ref} の人口記録が populations にありません", code="unknown_population"
            )
    services.program_year_set_money(
        actor=actor,
        program=program,
        fiscal_year=fy,
        population=population,
        **{k: int((doc[k] if k in doc else getattr(stored, k, 0)) or 0) for k in MONEY_FIELDS},
    )
    if "staffing" in doc:
        services.program_year_set_staffing(
            actor=actor, program=program, fiscal_year=fy, fte=doc.get("staffing") or {}
        )
    if any(k in doc for k in TEXT_FIELDS):
        texts = {k: (doc[k] if k in doc else getattr(stored, k, None)) for k in TEXT_FIELDS}
        services.program_year_set_texts(
            actor=actor,
            program=program,
            fiscal_year=fy,
            outcome=texts["outcome"] or "",
            glossary=texts["glossary"] or [],
            direction_label=texts["direction_label"] or "",
            direction_code=texts["direction_code"] or "",
        )
    ratings = {k: v or "" for k, v in (doc.get("ratings") or {}).items()}
    reasons = {k: v or "" for k, v in (doc.get("reasons") or {}).items()}
    services.program_year_rate(actor=actor, program=program, fiscal_year=fy, ratings=ratings, reasons=reasons)


def _import_indicator(actor: Actor, program: Program, doc: dict[str, Any]) -> None:
    fields = {
        "kind": doc["kind"],
        "unit": doc["unit"],
        "direction": doc["direction"],
        "kpi_code": doc.get("kpi_code") or "",
        "order": int(doc.get("order") or 0),
    }
    indicator = Indicator.objects.filter(program=program, name=doc["name"]).first()
    if indicator is None:
        indicator = services.indicator_create(actor=actor, program=program, name=doc["name"], **fields)
    else:
        indicator = services.indicator_update(actor=actor, indicator=indicator, **fields)
    for y in doc.get("years") or []:
        services.indicator_year_set(
            actor=actor,
            indicator=indicator,
            fiscal_year=y["fiscal_year"],
            target=y.get("target"),
            actual=y.get("actual"),
        )


class _where:
    """Prefix errors raised inside with the document path, e.g. `programs[0].years[1]: ...`.

    Given the entry itself, it first checks that the entry is a mapping (a list of numbers is not).
    """

    def __init__(self, path: str, entry: Any = dict) -> None:
        self.path = path
        self.entry = entry

    def __enter__(self) -> None:
        if not isinstance(self.entry, dict | type):
            raise EvaluationError(
                f"{self.path}: 項目が不正です: キーと値の組（key: value）ではありません（{self.entry!r}）",
                code="bad_document",
            )
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        if exc is None:
            return False
        if isinstance(exc, EvaluationError):
            sep = (
                "."
                if exc.message.startswith(("programs[", "years[", "indicators[", "sub_programs["))
                else ": "
            )
            exc.message = f"{self.path}{sep}{exc.message}"
            return False
        if isinstance(exc, KeyError):
            raise EvaluationError(f"{self.path}: 項目 {exc} がありません", code="bad_document") from None
        if isinstance(exc, ValueError | TypeError | AttributeError):
            raise EvaluationError(f"{self.path}: 項目が不正です: {exc}", code="bad_document") from None
        return False


def evaluation_import(*, actor: Actor, document: dict[str, Any]) -> dict[str, int]:
    """Load a document; all or nothing. Returns counts of what it held."""
    counts = {"programs": 0, "sub_programs": 0, "years": 0}
    with transaction.atomic():
        org = _organisation(actor, document.get("organisation"))
        for i, cost in enumerate(document.get("unit_costs") or []):
            with _where(f"unit_costs[{i}]", cost):
                services.unit_cost_set(
                    actor=actor,
                    organisation=org,
                    fiscal_year=cost["fiscal_year"],
                    category=cost["category"],
                    yen=int(cost["yen"]),
                )
        for i, pop in enumerate(document.get("populations") or []):
            with _where(f"populations[{i}]", pop):
                _population(actor, org, pop)
        for i, doc in enumerate(document.get("programs") or []):
            with _where(f"programs[{i}]", doc):
                measure = services.policy_measure_ensure(
                    actor=actor,
                    organisation=org,
                    chapter=(int(doc["chapter"]["number"]), doc["chapter"]["title"]),
                    section=(str(doc["section"]["number"]), doc["section"]["title"]),
                    measure=(str(doc["measure"]["number"]), doc["measure"]["title"]),
                )
                program = _import_program(actor, org, doc, None, measure)
                counts["programs"] += 1
                counts["years"] += len(doc.get("years") or [])
                for j, sub in enumerate(doc.get("sub_programs") or []):
                    with _where(f"sub_programs[{j}]", sub):
                        _import_program(actor, org, sub, program, measure)
                    counts["sub_programs"] += 1
                    counts["years"] += len(sub.get("years") or [])
    return counts
