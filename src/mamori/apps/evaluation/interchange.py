"""Export and import of evaluation data as one YAML/JSON document (`docs/evaluation-format.md`).

The document holds everything a sheet shows, so a city can load past years in bulk. An import runs
through the services (same validation, same audit events) inside one transaction: a bad document
loads nothing and the error names where in the document it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal

import yaml
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor
from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import Department, Organisation, PopulationRecord
from mamori.apps.core.services import department_create, organisation_upsert, population_record_set
from mamori.apps.core.wareki import parse_date

from . import services
from .document import MAX_NODES, DocumentTooLargeError, parse, preview
from .errors import EvaluationError
from .models import Indicator, PersonnelUnitCost, Program, ProgramYear
from .selectors import sheet_settings_values
from .services import PROGRAM_TEXT_FIELDS, fiscal_year_from
from .sheet import MONEY_FIELDS, RATING_KEYS

FORMAT = "mamori-evaluation"
VERSION = 1
TEXT_FIELDS = ("outcome", "glossary", "direction_label", "direction_code")
MAX_ERRORS = 100

MSG_TOO_LARGE = _(
    "{path}: 読み込めません: {line}行目: 別名（&・*）を展開すると大きすぎます（{limit:,} 項目まで）。"
    "別名を使わずに書いてください"
)
MSG_NOT_TEXT = _("{key} は文字列で書いてください（{value}）")
MSG_EMPTY_DEPARTMENT = _("所管課の code と name は空にできません")
MSG_NOT_A_LIST = _("{key} は一覧（- で始まる行）で書いてください（{value}）")
MSG_NOT_A_MAPPING = _("項目が不正です: キーと値の組（key: value）ではありません（{value}）")
MSG_MISSING_KEY = _("項目 {key} がありません")
MSG_BAD_ENTRY = _("項目が不正です: {error}")
MSG_MORE_ERRORS = _("…ほか {n} 件の誤り（最初の100件を表示）")


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


def _settings_doc(organisation_id: int | None) -> dict[str, Any]:
    values = sheet_settings_values(organisation_id)
    return {k: _num(v) if isinstance(v, Decimal) else v for k, v in values.items()}


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
        "settings": _settings_doc(org.pk if org else None),
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
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(
            f"{path}: 読み込めません: {str(exc).splitlines()[0]}", code="unreadable"
        ) from None
    return load_text(text, name=str(path))


def load_text(text: str, *, name: str) -> dict[str, Any]:
    """The document in `text` (an uploaded file, a file's contents); errors start with `name`."""
    try:
        data = parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}行目 {mark.column + 1}文字目: " if mark is not None else ""
        raise EvaluationError(
            f"{name}: 読み込めません: {where}{exc.problem or exc.context}", code="unreadable"
        ) from None
    except DocumentTooLargeError as exc:
        raise EvaluationError(
            MSG_TOO_LARGE.format(path=name, line=exc.args[0], limit=MAX_NODES), code="too_large"
        ) from None
    except yaml.YAMLError as exc:
        raise EvaluationError(
            f"{name}: 読み込めません: {str(exc).splitlines()[0]}", code="unreadable"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise EvaluationError(f"{name}: format: {FORMAT} の文書ではありません", code="bad_format")
    if data.get("version") != VERSION:
        raise EvaluationError(
            f"{name}: version {preview(data.get('version'))} には対応していません（{VERSION}）",
            code="bad_version",
        )
    return data


# ---------------------------------------------------------------- import


def _organisation(actor: Actor, doc: Any) -> Organisation:
    org = Organisation.objects.first()
    if org is None:
        with _where("organisation", doc or {}, getattr(doc, "line", None)):
            doc = doc or {}
            org = organisation_upsert(
                actor=actor,
                name=_text(doc.get("name") or "未設定", "name"),
                prefecture=_text(doc.get("prefecture") or "", "prefecture"),
            )
    return org


def _text(value: Any, key: str) -> str:
    """A text field of the document: a string (or a number written without quotes)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EvaluationError(MSG_NOT_TEXT.format(key=key, value=preview(value)), code="bad_document")
    return str(value).strip()


def _department(actor: Actor, org: Organisation, doc: Any, path: str = "department") -> Department:
    """The 所管課 by code; an unknown code is created (validated, audited) with its parent."""
    with _where(path, doc, getattr(doc, "line", None)):
        code, name = _text(doc["code"], "code"), _text(doc["name"], "name")
        if not code or not name:
            raise EvaluationError(MSG_EMPTY_DEPARTMENT, code="bad_department")
        found = Department.objects.filter(code=code).first()
        if found is not None:
            return found
        parent = _department(actor, org, doc["parent"], "parent") if doc.get("parent") else None
        return department_create(actor=actor, organisation=org, code=code, name=name, parent=parent)


def _population(actor: Actor, org: Organisation, doc: dict[str, Any]) -> PopulationRecord:
    ref = parse_date(str(doc["reference_date"]))
    record = PopulationRecord.objects.filter(organisation=org, reference_date=ref).first()
    if record is None:
        record = population_record_set(
            actor=actor,
            organisation=org,
            reference_date=ref,
            residents=int(doc["residents"]),
            households=int(doc["households"]),
            source=_text(doc["source"], "source"),
        )
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
    for path, year, line in _items(doc, "years"):
        with _where(path, year, line):
            _import_year(actor, org, program, year)
    for path, ind, line in _items(doc, "indicators"):
        with _where(path, ind, line):
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


def _items(doc: dict[str, Any], key: str) -> Iterator[tuple[str, Any, int | None]]:
    """(path, entry, line) of each entry of the list `doc[key]` (absent or null: none)."""
    entries = doc.get(key) or []
    if not isinstance(entries, list):
        raise EvaluationError(MSG_NOT_A_LIST.format(key=key, value=preview(entries)), code="bad_document")
    lines = getattr(entries, "lines", [])
    for i, entry in enumerate(entries):
        yield f"{key}[{i}]", entry, lines[i] if i < len(lines) else getattr(entry, "line", None)


def _locate(err: EvaluationError, path: str, line: int | None) -> EvaluationError:
    """Prefix the error's place with `path`; the innermost known line is kept: `a[0].b[1]（12行目）: …`."""
    extra = err.extra
    if "detail" not in extra:
        extra.update(detail=err.message, where=path, line=line)
    else:
        extra["where"] = f"{path}.{extra['where']}"
        extra["line"] = extra["line"] or line
    at = f"（{extra['line']}行目）" if extra["line"] else ""
    err.message = f"{extra['where']}{at}: {extra['detail']}"
    return err


class _where:
    """Errors raised inside name their place in the document, e.g. `programs[0].years[1]（41行目）: ...`.

    Given the entry itself, it first checks that the entry is a mapping (a list of numbers is not).
    """

    def __init__(self, path: str, entry: Any = dict, line: int | None = None) -> None:
        self.path = path
        self.entry = entry
        self.line = line if line is not None else getattr(entry, "line", None)

    def __enter__(self) -> None:
        if not isinstance(self.entry, dict | type):
            raise _locate(
                EvaluationError(MSG_NOT_A_MAPPING.format(value=preview(self.entry)), code="bad_document"),
                self.path,
                self.line,
            )
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None:
            return False
        if isinstance(exc, EvaluationError):
            _locate(exc, self.path, self.line)
            return False
        if isinstance(exc, ApplicationError):  # a core service refused it (e.g. a department name)
            err = EvaluationError(exc.message, code=exc.code, extra=dict(exc.extra))
        elif isinstance(exc, KeyError):
            err = EvaluationError(MSG_MISSING_KEY.format(key=exc), code="bad_document")
        elif isinstance(exc, ValueError | TypeError | AttributeError):
            err = EvaluationError(MSG_BAD_ENTRY.format(error=_cut(str(exc))), code="bad_document")
        else:
            return False
        raise _locate(err, self.path, self.line) from None


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Errors:
    """Refused entries of one import: every one counted, the first MAX_ERRORS kept (each cut short)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def attempt(self, path: str, entry: Any, line: int | None, load: Callable[[], object]) -> bool:
        """Run `load` in a savepoint; a refusal is recorded and the next entry is tried."""
        try:
            with transaction.atomic(), _where(path, entry, line):
                load()
        except EvaluationError as exc:
            self.count += 1
            if len(self.messages) < MAX_ERRORS:
                self.messages.append(_cut(exc.message))
            return False
        return True

    def raise_if_any(self) -> None:
        if self.count:
            lines = list(self.messages)
            if self.count > len(lines):
                lines.append(MSG_MORE_ERRORS.format(n=self.count - len(lines)))
            raise EvaluationError(
                "\n".join(lines),
                code="bad_document",
                extra={"errors": self.messages, "count": self.count},
            )


def evaluation_import(*, actor: Actor, document: dict[str, Any]) -> dict[str, int]:
    """Load a document; all or nothing. Every entry is tried, so one run reports every refused one
    (the first MAX_ERRORS and a count). Returns counts of what it held."""
    counts = {"programs": 0, "sub_programs": 0, "years": 0}
    errors = _Errors()
    with transaction.atomic():
        org = _organisation(actor, document.get("organisation"))
        if document.get("settings") is not None:
            settings_doc = document["settings"]
            errors.attempt(
                "settings",
                settings_doc,
                getattr(settings_doc, "line", None),
                lambda: services.sheet_settings_set(actor=actor, organisation=org, **settings_doc),
            )

        def unit_cost(cost: dict[str, Any]) -> None:
            services.unit_cost_set(
                actor=actor,
                organisation=org,
                fiscal_year=cost["fiscal_year"],
                category=cost["category"],
                yen=int(cost["yen"]),
            )

        def program(doc: dict[str, Any]) -> None:
            measure = services.policy_measure_ensure(
                actor=actor,
                organisation=org,
                chapter=(int(doc["chapter"]["number"]), _text(doc["chapter"]["title"], "title")),
                section=(_text(doc["section"]["number"], "number"), _text(doc["section"]["title"], "title")),
                measure=(_text(doc["measure"]["number"], "number"), _text(doc["measure"]["title"], "title")),
            )
            top = _import_program(actor, org, doc, None, measure)
            for path, sub, line in _items(doc, "sub_programs"):
                with _where(path, sub, line):
                    _import_program(actor, org, sub, top, measure)
                counts["sub_programs"] += 1
                counts["years"] += len(sub.get("years") or [])
            counts["programs"] += 1
            counts["years"] += len(doc.get("years") or [])

        for key, load_one in (
            ("unit_costs", unit_cost),
            ("populations", partial(_population, actor, org)),
            ("programs", program),
        ):
            try:
                entries = list(_items(document, key))
            except EvaluationError as exc:
                errors.count += 1
                errors.messages.append(exc.message)
                continue
            for path, entry, line in entries:
                errors.attempt(path, entry, line, partial(load_one, entry))
        errors.raise_if_any()
    return counts
