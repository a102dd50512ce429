"""Writes of the evaluation app. Each service validates first, then saves inside one transaction
together with its audit event, so a refused input leaves nothing behind.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record, snapshot_of
from mamori.apps.core.kpis import kpi_get
from mamori.apps.core.models import Department, EmploymentCategory, Organisation, PopulationRecord
from mamori.apps.core.services import validated
from mamori.apps.core.wareki import parse_fiscal_year

from .errors import EvaluationError
from .models import (
    Direction,
    DirectionCode,
    Implementation,
    Indicator,
    IndicatorKind,
    IndicatorYear,
    Measure,
    PersonnelUnitCost,
    PolicyChapter,
    PolicySection,
    Program,
    ProgramYear,
    SheetSettings,
    StaffingLine,
)
from .selectors import sheet_settings_values
from .sheet import MONEY_LABELS, RATING_KEYS, RATING_LABELS

MSG_FUNDS_MISMATCH = _("財源内訳の合計 {funds:,}円が事業費 {cost:,}円と一致しません")
MSG_NEGATIVE_MONEY = _("{label}は0円以上で入力してください（{value:,}円）")
MSG_NEGATIVE_FTE = _("従事職員数（{category}）は0以上で入力してください（{value}）")
MSG_FTE_PRECISION = _("従事職員数（{category}）は小数第2位までで入力してください（{value}）")
MSG_UNKNOWN_CATEGORY = _("任用区分 {category!r} は不明です（{choices}）")
MSG_ZERO_TARGET_UP = _("目指す方向が↑の指標「{name}」に目標値0は設定できません（達成率が定義できません）")
MSG_DUPLICATE_PROGRAM = _("整理番号 {ref} の事業は既にあります")
MSG_BAD_FISCAL_YEAR = _(
    "年度を読み取れません: {text}。2012、FY2012、2012年度、平成24年度、H24、令和元年度 のように、1912〜2200年度の範囲で書いてください"
)
MSG_BAD_RATING = _("{label}は A・B・C のいずれかで入力してください（{value!r}）")
MSG_OVERRIDE_REASON = _("提案と異なる評価（{labels}）には変更理由が必要です")
MSG_UNKNOWN_KPI = _("KPI {code!r} は登録されていません")
MSG_BAD_NUMBER = _("{label}は数値で入力してください（{value!r}）")
MSG_UNKNOWN_CHOICE = _("{label} {value!r} は不明です（{choices}）")
MSG_BAD_THRESHOLDS = _("評価の基準は 0 ≦ B ≦ A ≦ 100 で入力してください（A {a}・B {b}）")
SETTINGS_FIELDS = (
    "money_rounding",
    "per_capita_rounding",
    "era_style",
    "threshold_a",
    "threshold_b",
    "footnote",
)

FUND_FIELDS = ("general_fund", "national_prefectural", "municipal_bonds", "other_specific")
PROGRAM_TEXT_FIELDS = (
    "name",
    "priority",
    "purpose",
    "goal",
    "implementation",
    "start_fiscal_year",
    "start_or_earlier",
    "legal_basis",
    "target_group",
)


def fiscal_year_from(value: str | int) -> int:
    """A fiscal year from any accepted spelling, or an EvaluationError naming the forms."""
    try:
        return parse_fiscal_year(value)
    except ValueError as exc:
        raise EvaluationError(MSG_BAD_FISCAL_YEAR.format(text=value), code="bad_fiscal_year") from exc


def _audit_change(
    *, before: dict[str, Any] | None, after: dict[str, Any], unchanged: bool = False, **event: Any
) -> None:
    """Audit an update unless it changed nothing (the demo refreshing its data, a form saved as it was)."""
    if unchanged or before == after:
        return
    audit_record(before=before, after=after, **event)


def _decimal(value: Any, label: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise EvaluationError(MSG_BAD_NUMBER.format(label=label, value=value), code="bad_number") from None


def _choice(value: str, choices: type, label: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        raise EvaluationError(
            MSG_UNKNOWN_CHOICE.format(label=label, value=value, choices=", ".join(choices.values)),  # type: ignore[attr-defined]
            code="unknown_choice",
        )
    return value


def policy_measure_ensure(
    *,
    actor: Actor,
    organisation: Organisation,
    chapter: tuple[int, str],
    section: tuple[str, str],
    measure: tuple[str, str],
) -> Measure:
    """章 → 節 → 施策 by number, created when missing, titles updated when changed."""
    for row in (
        PolicyChapter(organisation=organisation, number=chapter[0], title=chapter[1]),
        PolicySection(number=section[0], title=section[1]),
        Measure(number=measure[0], title=measure[1]),
    ):
        validated(row, fields_only=True, error=EvaluationError)
    with transaction.atomic():
        ch, _ = PolicyChapter.objects.get_or_create(
            organisation=organisation, number=chapter[0], defaults={"title": chapter[1]}
        )
        sec, _ = PolicySection.objects.get_or_create(
            chapter=ch, number=section[0], defaults={"title": section[1]}
        )
        mea, created = Measure.objects.get_or_create(
            section=sec, number=measure[0], defaults={"title": measure[1]}
        )
        changed = False
        for obj, title in ((ch, chapter[1]), (sec, section[1]), (mea, measure[1])):
            if obj.title != title:
                obj.title = title
                obj.save(update_fields=["title"])
                changed = True
        if created or changed:
            audit_record(
                actor=actor,
                action="evaluation.measure.ensure",
                obj=mea,
                after={
                    "chapter": [ch.number, ch.title],
                    "section": [sec.number, sec.title],
                    "measure": [mea.number, mea.title],
                },
            )
    return mea


def _clean_program_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PROGRAM_TEXT_FIELDS)
    if unknown:
        raise EvaluationError(f"不明な項目: {', '.join(sorted(unknown))}", code="unknown_field")
    cleaned = dict(fields)
    if "implementation" in cleaned:
        _choice(cleaned["implementation"], Implementation, "事業実施主体")
    if cleaned.get("start_fiscal_year") not in (None, ""):
        cleaned["start_fiscal_year"] = fiscal_year_from(cleaned["start_fiscal_year"])
    elif "start_fiscal_year" in cleaned:
        cleaned["start_fiscal_year"] = None
    return cleaned


def program_create(
    *,
    actor: Actor,
    measure: Measure,
    department: Department,
    reference_number: str,
    parent: Program | None = None,
    **fields: Any,
) -> Program:
    """A 事業 (or a 細事業 when `parent` is given) under a 施策."""
    cleaned = _clean_program_fields(fields)
    siblings = Program.objects.filter(parent=parent, reference_number=reference_number)
    if (siblings if parent is not None else siblings.filter(measure=measure)).exists():
        raise EvaluationError(MSG_DUPLICATE_PROGRAM.format(ref=reference_number), code="duplicate_program")
    program = Program(
        measure=measure, department=department, reference_number=reference_number, parent=parent, **cleaned
    )
    validated(program, error=EvaluationError)
    with transaction.atomic():
        program.save()
        audit_record(actor=actor, action="evaluation.program.create", obj=program, after=snapshot_of(program))
    return program


def program_update(
    *, actor: Actor, program: Program, department: Department | None = None, **fields: Any
) -> Program:
    cleaned = _clean_program_fields(fields)
    before = snapshot_of(program)
    for name, value in cleaned.items():
        setattr(program, name, value)
    if department is not None:
        program.department = department
    validated(program, error=EvaluationError)
    with transaction.atomic():
        program.save()
        _audit_change(
            actor=actor,
            action="evaluation.program.update",
            obj=program,
            before=before,
            after=snapshot_of(program),
        )
    return program


def _year(program: Program, fiscal_year: int) -> ProgramYear:
    year, _ = ProgramYear.objects.get_or_create(program=program, fiscal_year=fiscal_year)
    return year


def program_year_set_money(
    *,
    actor: Actor,
    program: Program,
    fiscal_year: str | int,
    program_cost: int,
    general_fund: int = 0,
    national_prefectural: int = 0,
    municipal_bonds: int = 0,
    other_specific: int = 0,
    debt_service: int = 0,
    population: PopulationRecord | None = None,
) -> ProgramYear:
    """事業費 and its 財源内訳 in whole yen; the funds must add up to the cost."""
    fy = fiscal_year_from(fiscal_year)
    values = {
        "program_cost": program_cost,
        "general_fund": general_fund,
        "national_prefectural": national_prefectural,
        "municipal_bonds": municipal_bonds,
        "other_specific": other_specific,
        "debt_service": debt_service,
    }
    for name, value in values.items():
        if int(value) < 0:
            raise EvaluationError(
                MSG_NEGATIVE_MONEY.format(label=MONEY_LABELS[name], value=int(value)),
                code="negative_money",
                extra={"field": name},
            )
    funds = sum(int(values[k]) for k in FUND_FIELDS)
    if funds != int(program_cost):
        raise EvaluationError(
            MSG_FUNDS_MISMATCH.format(funds=funds, cost=int(program_cost)),
            code="funds_mismatch",
            extra={"funds": funds, "program_cost": int(program_cost)},
        )
    with transaction.atomic():
        year = _year(program, fy)
        before = snapshot_of(year, [*values, "population_id"])
        for name, value in values.items():
            setattr(year, name, int(value))
        year.population = population
        year.save()
        _audit_change(
            actor=actor,
            action="evaluation.year.money",
            obj=year,
            before=before,
            after=snapshot_of(year, [*values, "population_id"]),
        )
    return year


def program_year_set_staffing(
    *, actor: Actor, program: Program, fiscal_year: str | int, fte: dict[str, Any]
) -> ProgramYear:
    """FTE per employment category; a category with 0 or empty is removed."""
    fy = fiscal_year_from(fiscal_year)
    cleaned: dict[str, Decimal] = {}
    for category, raw in fte.items():
        if category not in EmploymentCategory.values:
            raise EvaluationError(
                MSG_UNKNOWN_CATEGORY.format(category=category, choices=", ".join(EmploymentCategory.values)),
                code="unknown_category",
            )
        value = _decimal(raw, "従事職員数") or Decimal(0)
        if value < 0:
            raise EvaluationError(
                MSG_NEGATIVE_FTE.format(category=category, value=value), code="negative_fte"
            )
        if value != value.quantize(Decimal("0.01")):
            raise EvaluationError(
                MSG_FTE_PRECISION.format(category=category, value=value), code="fte_precision"
            )
        cleaned[category] = value
    with transaction.atomic():
        year = _year(program, fy)
        before = {line.category: str(line.fte) for line in year.staffing.all()}
        year.staffing.all().delete()
        StaffingLine.objects.bulk_create(
            [StaffingLine(program_year=year, category=c, fte=v) for c, v in cleaned.items() if v != 0]
        )
        _audit_change(
            actor=actor,
            action="evaluation.year.staffing",
            obj=year,
            before=before,
            after={c: str(v) for c, v in cleaned.items() if v != 0},
        )
    return year


def program_year_set_texts(
    *,
    actor: Actor,
    program: Program,
    fiscal_year: str | int,
    outcome: str = "",
    glossary: list[dict[str, str]] | None = None,
    direction_label: str = "",
    direction_code: str = "",
) -> ProgramYear:
    """成果 narrative with its ※ glossary, and 今後の方向性 (the city's wording + a normalised code)."""
    fy = fiscal_year_from(fiscal_year)
    if direction_code:
        _choice(direction_code, DirectionCode, "方向性区分")
    entries = [{"term": str(g["term"]), "text": str(g["text"])} for g in (glossary or [])]
    fields = ["outcome", "glossary", "direction_label", "direction_code"]
    with transaction.atomic():
        year = _year(program, fy)
        before = snapshot_of(year, fields)
        year.outcome, year.glossary = outcome, entries
        year.direction_label, year.direction_code = direction_label, direction_code
        year.save(update_fields=fields)
        _audit_change(
            actor=actor,
            action="evaluation.year.texts",
            obj=year,
            before=before,
            after=snapshot_of(year, fields),
        )
    return year


def program_year_rate(
    *,
    actor: Actor,
    program: Program,
    fiscal_year: str | int,
    ratings: dict[str, str],
    reasons: dict[str, str] | None = None,
    suggested: dict[str, str | None] | None = None,
    override_reason: str = "",
) -> ProgramYear:
    """The officer's ratings; where one differs from mamori's suggestion a reason is required.

    The audit event keeps the suggestion, the decision and the reason.
    """
    fy = fiscal_year_from(fiscal_year)
    reasons = reasons or {}
    suggested = suggested or {}
    for key, value in ratings.items():
        if key not in RATING_KEYS:
            raise EvaluationError(f"不明な評価項目: {key}", code="unknown_rating")
        if value not in ("", "A", "B", "C"):
            raise EvaluationError(
                MSG_BAD_RATING.format(label=RATING_LABELS[key], value=value), code="bad_rating"
            )
    overridden = [k for k, v in ratings.items() if suggested.get(k) and v and v != suggested[k]]
    if overridden and not override_reason.strip():
        raise EvaluationError(
            MSG_OVERRIDE_REASON.format(labels="・".join(RATING_LABELS[k] for k in overridden)),
            code="override_reason_required",
            extra={"fields": overridden},
        )
    fields = [f"rating_{k}" for k in RATING_KEYS] + [f"reason_{k}" for k in RATING_KEYS]
    with transaction.atomic():
        year = _year(program, fy)
        before = snapshot_of(year, fields)
        for key, value in ratings.items():
            setattr(year, f"rating_{key}", value)
        for key, value in reasons.items():
            if key in RATING_KEYS:
                setattr(year, f"reason_{key}", value)
        year.save(update_fields=fields)
        _audit_change(
            unchanged=before == snapshot_of(year, fields) and not overridden,
            actor=actor,
            action="evaluation.rating.override" if overridden else "evaluation.rating.confirm",
            obj=year,
            before=before,
            after={
                **snapshot_of(year, fields),
                "suggested": suggested,
                "overridden": overridden,
                "override_reason": override_reason,
            },
        )
    return year


def unit_cost_set(
    *, actor: Actor, organisation: Organisation, fiscal_year: str | int, category: str, yen: int
) -> PersonnelUnitCost:
    """人件費単価 (yen per FTE) for a fiscal year and employment category."""
    fy = fiscal_year_from(fiscal_year)
    _choice(category, EmploymentCategory, "任用区分")
    if int(yen) < 0:
        raise EvaluationError(
            MSG_NEGATIVE_MONEY.format(label="人件費単価", value=int(yen)), code="negative_money"
        )
    with transaction.atomic():
        cost, created = PersonnelUnitCost.objects.get_or_create(
            organisation=organisation, fiscal_year=fy, category=category, defaults={"yen": int(yen)}
        )
        before = None if created else snapshot_of(cost)
        cost.yen = int(yen)
        cost.save()
        _audit_change(
            actor=actor, action="evaluation.unit_cost.set", obj=cost, before=before, after=snapshot_of(cost)
        )
    return cost


def _check_kpi(code: str) -> None:
    if code:
        try:
            kpi_get(code)
        except KeyError:
            raise EvaluationError(MSG_UNKNOWN_KPI.format(code=code), code="unknown_kpi") from None


def indicator_create(
    *,
    actor: Actor,
    program: Program,
    kind: str,
    name: str,
    unit: str,
    direction: str,
    kpi_code: str = "",
    order: int = 0,
) -> Indicator:
    """A 活動 / 成果 indicator; `kpi_code` binds its actuals to a registered KPI."""
    _choice(kind, IndicatorKind, "指標種別")
    _choice(direction, Direction, "目指す方向")
    _check_kpi(kpi_code)
    indicator = Indicator(
        program=program, kind=kind, name=name, unit=unit, direction=direction, kpi_code=kpi_code, order=order
    )
    validated(indicator, error=EvaluationError)
    with transaction.atomic():
        indicator.save()
        audit_record(
            actor=actor, action="evaluation.indicator.create", obj=indicator, after=snapshot_of(indicator)
        )
    return indicator


def indicator_update(*, actor: Actor, indicator: Indicator, **fields: Any) -> Indicator:
    allowed = {"kind", "name", "unit", "direction", "kpi_code", "order"}
    if set(fields) - allowed:
        raise EvaluationError(f"不明な項目: {', '.join(sorted(set(fields) - allowed))}", code="unknown_field")
    if "kind" in fields:
        _choice(fields["kind"], IndicatorKind, "指標種別")
    if "direction" in fields:
        _choice(fields["direction"], Direction, "目指す方向")
        if fields["direction"] == Direction.UP and indicator.years.filter(target=0).exists():
            raise EvaluationError(
                MSG_ZERO_TARGET_UP.format(name=fields.get("name", indicator.name)), code="zero_target_up"
            )
    _check_kpi(fields.get("kpi_code", ""))
    before = snapshot_of(indicator)
    for name, value in fields.items():
        setattr(indicator, name, value)
    validated(indicator, error=EvaluationError)
    with transaction.atomic():
        indicator.save()
        _audit_change(
            actor=actor,
            action="evaluation.indicator.update",
            obj=indicator,
            before=before,
            after=snapshot_of(indicator),
        )
    return indicator


def indicator_year_set(
    *, actor: Actor, indicator: Indicator, fiscal_year: str | int, target: Any = None, actual: Any = None
) -> IndicatorYear:
    """Target and typed-in actual of one fiscal year (a KPI-bound indicator takes its actual from the KPI)."""
    fy = fiscal_year_from(fiscal_year)
    t = _decimal(target, "目標値")
    a = _decimal(actual, "実績値")
    if t == 0 and indicator.direction == Direction.UP:
        raise EvaluationError(MSG_ZERO_TARGET_UP.format(name=indicator.name), code="zero_target_up")
    with transaction.atomic():
        row, created = IndicatorYear.objects.get_or_create(indicator=indicator, fiscal_year=fy)
        before = None if created else snapshot_of(row)
        unchanged = not created and (row.target, row.actual) == (t, a)  # 100.00 == 100
        row.target, row.actual = t, a
        validated(row, error=EvaluationError)
        row.save()
        _audit_change(
            unchanged=unchanged,
            actor=actor,
            action="evaluation.indicator.year",
            obj=row,
            before=before,
            after=snapshot_of(row),
        )
    return row


def sheet_settings_set(*, actor: Actor, organisation: Organisation, **values: Any) -> SheetSettings:
    """Save the organisation's sheet settings (keys left out keep their effective value); audited."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise EvaluationError(f"不明な項目: {', '.join(sorted(unknown))}", code="unknown_field")
    merged = {**sheet_settings_values(organisation.pk), **values}
    a, b = _decimal(merged["threshold_a"], "評価Aの基準"), _decimal(merged["threshold_b"], "評価Bの基準")
    if a is None or b is None or not Decimal(0) <= b <= a <= Decimal(100):
        raise EvaluationError(MSG_BAD_THRESHOLDS.format(a=a, b=b), code="bad_thresholds")
    with transaction.atomic():
        row = SheetSettings.objects.select_for_update().filter(organisation=organisation).first()
        before = snapshot_of(row) if row else None
        row = row or SheetSettings(organisation=organisation)
        row.money_rounding, row.per_capita_rounding = merged["money_rounding"], merged["per_capita_rounding"]
        tenth = Decimal("0.1")  # as the column stores it, so an unchanged save compares equal
        row.era_style, row.threshold_a, row.threshold_b = (
            merged["era_style"],
            a.quantize(tenth),
            b.quantize(tenth),
        )
        row.footnote = str(merged["footnote"] or "").strip()
        validated(row, error=EvaluationError)
        row.save()
        _audit_change(
            actor=actor, action="evaluation.settings.set", obj=row, before=before, after=snapshot_of(row)
        )
    return row
