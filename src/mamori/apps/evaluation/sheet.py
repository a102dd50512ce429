"""The evaluation sheet as plain data: inputs read from the database, the computed sheet the
XLSX, HTML and PDF renderers all draw. Pure functions, so every figure is testable without Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext, gettext_noop, pgettext

from mamori.apps.core.labels import date_label, fiscal_year_label

from . import rules as r

REGULAR = "regular"
REEMPLOYED = "reemployed"
#: employment categories (core's EmploymentCategory) in sheet order, with the sheet's row label
STAFF_ROWS = {
    REGULAR: gettext_noop("職員数(人)"),
    REEMPLOYED: gettext_noop("再任用職員数(人)"),
    "fiscal_year": gettext_noop("会計年度任用職員数(人)"),
}
CATEGORY_LABELS = {
    REGULAR: gettext_noop("正職員"),
    REEMPLOYED: gettext_noop("再任用"),
    "fiscal_year": gettext_noop("会計年度任用"),
}
MONEY_LABELS = {
    "program_cost": "事業費",
    "general_fund": "一般財源",
    "national_prefectural": "国府支出金",
    "municipal_bonds": "地方債",
    "other_specific": "その他特定財源",
    "debt_service": "公債費",
}
MONEY_FIELDS = tuple(MONEY_LABELS)
RATING_LABELS = {
    "relevance": "妥当性",
    "efficiency": "効率性",
    "effectiveness": "有効性",
    "overall": "総合評価",
    "contribution": "貢献度",
}
RATING_KEYS = tuple(RATING_LABELS)

DIRECTION_LABELS = {
    "expand": gettext_noop("拡充"),
    "continue": gettext_noop("継続"),
    "improve": gettext_noop("改善"),
    "restructure": gettext_noop("再構築"),
    "reduce": gettext_noop("縮小"),
    "merge": gettext_noop("統合"),
    "suspend": gettext_noop("休止・廃止"),
    "complete": gettext_noop("完了"),
}
ROUNDING_TEXT = {
    "half_up": gettext_noop("四捨五入"),
    "floor": gettext_noop("切り捨て"),
    "ceiling": gettext_noop("切り上げ"),
}


@dataclass(frozen=True)
class EvidenceLink:
    label: str
    url: str = ""
    department_id: int | None = None  # whose record it is: a lead sees other departments' as text


@dataclass(frozen=True)
class PopulationInput:
    reference_date: date
    residents: int
    households: int
    source: str


@dataclass(frozen=True)
class YearInput:
    """One fiscal year of one program, in whole yen and FTE."""

    fiscal_year: int
    program_cost: int = 0
    general_fund: int = 0
    national_prefectural: int = 0
    municipal_bonds: int = 0
    other_specific: int = 0
    debt_service: int = 0
    staffing: tuple[tuple[str, Decimal, int | None], ...] = ()  # (category, FTE, unit cost yen or None)
    population: PopulationInput | None = None
    outcome: str = ""
    glossary: tuple[tuple[str, str], ...] = ()
    direction_label: str = ""
    direction_code: str = ""
    ratings: tuple[tuple[str, str], ...] = ()  # (key, A/B/C)
    reasons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class IndicatorInput:
    kind: str  # activity / outcome
    name: str
    unit: str
    direction: str  # up / down
    kpi_code: str = ""
    target: Decimal | None = None
    actual: Decimal | None = None
    previous_actual: Decimal | None = None
    evidence: tuple[EvidenceLink, ...] = ()
    evidence_count: int = 0


@dataclass(frozen=True)
class ProgramInput:
    reference_number: str
    name: str
    priority: int | None = None
    purpose: str = ""
    goal: str = ""
    implementation: str = ""  # display label: 直営 / 委託
    start_fiscal_year: int | None = None
    start_or_earlier: bool = False
    legal_basis: str = ""
    target_group: str = ""
    year: YearInput | None = None
    previous: YearInput | None = None
    indicators: tuple[IndicatorInput, ...] = ()
    sub_programs: tuple[ProgramInput, ...] = ()


@dataclass(frozen=True)
class SheetInput:
    fiscal_year: int
    department: str
    chapter: str  # 第5章 自立・協働のまち
    section: str  # 03 情報化
    measure: str  # 03 情報資産への脅威への対応
    program: ProgramInput


@dataclass(frozen=True)
class Costs:
    """Figures of the 事業費・財源 and コスト情報 boxes: yen, and 千円 as shown."""

    fiscal_year: int
    yen: dict[str, int]
    thousands: dict[str, int]
    per_resident: int | None
    per_household: int | None
    fte_regular: Decimal
    fte_reemployed: Decimal
    fte_total: Decimal
    population_note: str
    fte_by_category: dict[str, Decimal] = field(default_factory=dict)  # every category with staff
    unpriced: tuple[tuple[str, Decimal], ...] = ()  # (category, FTE) without a unit cost that year


@dataclass(frozen=True)
class IndicatorRow:
    kind: str  # activity / outcome
    kind_label: str
    name: str
    unit: str
    direction_mark: str
    target: Decimal | None
    actual: Decimal | None
    previous_actual: Decimal | None
    attainment: Decimal | None
    kpi_code: str
    evidence: tuple[EvidenceLink, ...]
    evidence_count: int

    @property
    def evidence_more(self) -> int:
        """Records counted but not listed (the list is cut at EVIDENCE_LINKS_SHOWN)."""
        return max(self.evidence_count - len(self.evidence), 0)

    @property
    def kind_short(self) -> str:
        """活動 / 成果 (translated), for the narrow indicator column."""
        return gettext("活動") if self.kind == "activity" else gettext("成果")


@dataclass(frozen=True)
class ProgramBlock:
    reference_number: str
    name: str
    priority: int | None
    purpose: str
    goal: str
    implementation: str
    start_label: str
    legal_basis: str
    target_group: str
    costs: Costs | None
    previous_costs: Costs | None
    ratings: dict[str, str]
    reasons: dict[str, str]
    suggestion: r.Suggestion
    outcome: str
    glossary: tuple[tuple[str, str], ...]
    direction_label: str
    direction_code: str
    indicators: tuple[IndicatorRow, ...]

    @property
    def direction_code_label(self) -> str:
        return DIRECTION_LABELS.get(self.direction_code, "")


@dataclass(frozen=True)
class Sheet:
    fiscal_year: int
    fiscal_year_label: str
    previous_label: str
    department: str
    chapter: str
    section: str
    measure: str
    program: ProgramBlock
    sub_programs: tuple[ProgramBlock, ...]
    rules_note: str
    footnote: str = ""  # the organisation's own note under the rules
    warnings: tuple[str, ...] = ()  # figures the officer should fix (a missing unit cost)

    @property
    def detail_blocks(self) -> tuple[ProgramBlock, ...]:
        """The blocks printed with staffing, ratings and indicators: the 細事業, or a 事業 without
        細事業 itself (a single-level program's sheet carries every figure a 細事業 block has)."""
        return self.sub_programs or (self.program,)


MONEY_KEYS = (
    "program_cost",
    "general_fund",
    "national_prefectural",
    "municipal_bonds",
    "other_specific",
    "personnel",
    "debt_service",
    "total",
)


def combine_years(years: list[YearInput], own: YearInput | None) -> YearInput | None:
    """A 事業's money and staffing = the sum of its 細事業; its texts and ratings stay its own."""
    if not years:
        return own
    fy = years[0].fiscal_year
    base = own or YearInput(fiscal_year=fy)
    sums = {k: sum(getattr(y, k) for y in years) for k in MONEY_FIELDS}
    staffing = tuple(s for y in years for s in y.staffing)
    population = base.population or next((y.population for y in years if y.population), None)
    return YearInput(
        fiscal_year=fy,
        **sums,
        staffing=staffing,
        population=population,
        outcome=base.outcome,
        glossary=base.glossary,
        direction_label=base.direction_label,
        direction_code=base.direction_code,
        ratings=base.ratings,
        reasons=base.reasons,
    )


def staff_rows(cur: Costs | None, prev: Costs | None) -> list[tuple[str, str]]:
    """(category, row label) of the 職員数 rows: 職員数 and 再任用職員数 always (the form's rows),
    then every other category staffed in either year, so no FTE is left off the sheet."""
    staffed = {c for costs in (cur, prev) if costs for c in costs.fte_by_category}
    return [(c, label) for c, label in STAFF_ROWS.items() if c in (REGULAR, REEMPLOYED) or c in staffed] + [
        (c, c) for c in sorted(staffed - set(STAFF_ROWS))
    ]


def compute_costs(year: YearInput, rules: r.SheetRules) -> Costs:
    """総コスト = 事業費 + 人件費 + 公債費, totalled in yen, then shown in 千円 under one rule."""
    personnel = r.personnel_cost((fte, unit or 0) for _, fte, unit in year.staffing)
    yen = {
        "program_cost": year.program_cost,
        "general_fund": year.general_fund,
        "national_prefectural": year.national_prefectural,
        "municipal_bonds": year.municipal_bonds,
        "other_specific": year.other_specific,
        "personnel": personnel,
        "debt_service": year.debt_service,
    }
    yen["total"] = year.program_cost + personnel + year.debt_service
    thousands = {k: r.thousand_yen(v, rules.money_rounding) for k, v in yen.items()}
    pop = year.population
    fte = {cat: Decimal(0) for cat in (REGULAR, REEMPLOYED)}
    total_fte = Decimal(0)
    unpriced: dict[str, Decimal] = {}
    for cat, value, unit in year.staffing:
        fte[cat] = fte.get(cat, Decimal(0)) + Decimal(value)
        total_fte += Decimal(value)
        if unit is None and value:
            unpriced[cat] = unpriced.get(cat, Decimal(0)) + Decimal(value)
    note = ""
    if pop is not None:
        note = gettext("%(date)s現在 %(residents)s人・%(households)s世帯（%(source)s）") % {
            "date": date_label(pop.reference_date, rules.era_style),  # type: ignore[arg-type]
            "residents": f"{pop.residents:,}",
            "households": f"{pop.households:,}",
            "source": pop.source,
        }
    return Costs(
        fiscal_year=year.fiscal_year,
        yen=yen,
        thousands=thousands,
        per_resident=r.per_head(yen["total"], pop.residents if pop else None, rules.per_capita_rounding),
        per_household=r.per_head(yen["total"], pop.households if pop else None, rules.per_capita_rounding),
        fte_regular=fte[REGULAR].quantize(Decimal("0.01")),
        fte_reemployed=fte[REEMPLOYED].quantize(Decimal("0.01")),
        fte_total=total_fte.quantize(Decimal("0.01")),
        population_note=note,
        fte_by_category={c: v.quantize(Decimal("0.01")) for c, v in fte.items() if v},
        unpriced=tuple((c, v.quantize(Decimal("0.01"))) for c, v in unpriced.items()),
    )


def start_label(program: ProgramInput, era_style: str) -> str:
    if program.start_fiscal_year is None:
        return ""
    label = fiscal_year_label(program.start_fiscal_year, era_style)  # type: ignore[arg-type]
    return gettext("%(year)s以前") % {"year": label} if program.start_or_earlier else label


def _indicator_row(ind: IndicatorInput) -> IndicatorRow:
    return IndicatorRow(
        kind=ind.kind,
        kind_label=gettext("活動指標") if ind.kind == "activity" else gettext("成果指標"),
        name=ind.name,
        unit=ind.unit,
        direction_mark="↑" if ind.direction == "up" else "↓",
        target=ind.target,
        actual=ind.actual,
        previous_actual=ind.previous_actual,
        attainment=r.attainment(ind.target, ind.actual, ind.direction),
        kpi_code=ind.kpi_code,
        evidence=ind.evidence,
        evidence_count=ind.evidence_count,
    )


def build_block(program: ProgramInput, rules: r.SheetRules) -> ProgramBlock:
    year = combine_years([s.year for s in program.sub_programs if s.year], program.year)
    previous = combine_years([s.previous for s in program.sub_programs if s.previous], program.previous)
    rows = tuple(_indicator_row(i) for i in program.indicators)
    if not rows:  # a 事業 is judged on the indicators of its 細事業
        rows = tuple(_indicator_row(i) for s in program.sub_programs for i in s.indicators)
    ratings = dict(year.ratings) if year else {}
    suggestion = r.suggest_ratings(
        activity=[x.attainment for x in rows if x.kind == "activity" and x.attainment is not None],
        outcome=[x.attainment for x in rows if x.kind == "outcome" and x.attainment is not None],
        relevance=ratings.get("relevance") or None,
        thresholds=rules.thresholds,
    )
    return ProgramBlock(
        reference_number=program.reference_number,
        name=program.name,
        priority=program.priority,
        purpose=program.purpose,
        goal=program.goal,
        implementation=program.implementation,
        start_label=start_label(program, rules.era_style),
        legal_basis=program.legal_basis,
        target_group=program.target_group,
        costs=compute_costs(year, rules) if year else None,
        previous_costs=compute_costs(previous, rules) if previous else None,
        ratings={k: ratings.get(k, "") for k in RATING_KEYS},
        reasons={k: dict(year.reasons).get(k, "") if year else "" for k in RATING_KEYS},
        suggestion=suggestion,
        outcome=year.outcome if year else "",
        glossary=year.glossary if year else (),
        direction_label=year.direction_label if year else "",
        direction_code=year.direction_code if year else "",
        indicators=rows,
    )


def _warnings(blocks: list[ProgramBlock], fy_label: str) -> tuple[str, ...]:
    """A staffed category without a unit cost that year adds 0 yen to 人件費: say so, per block."""
    return tuple(
        gettext(
            "%(name)s: %(category)s %(fte)s人の人件費単価（%(fy)s）が未登録のため、人件費に含まれていません。"
        )
        % {
            "name": b.name,
            "category": pgettext("staff category", CATEGORY_LABELS.get(c, c)),
            "fte": f"{v:.2f}",
            "fy": fy_label,
        }
        for b in blocks
        if b.costs
        for c, v in b.costs.unpriced
    )


def build_sheet(data: SheetInput, rules: r.SheetRules) -> Sheet:
    """Compute every figure of one program's sheet for one fiscal year."""
    style = rules.era_style
    program = build_block(data.program, rules)
    subs = tuple(build_block(s, rules) for s in data.program.sub_programs)
    fy_label = fiscal_year_label(data.fiscal_year, style)  # type: ignore[arg-type]
    return Sheet(
        fiscal_year=data.fiscal_year,
        fiscal_year_label=fy_label,
        previous_label=fiscal_year_label(data.fiscal_year - 1, style),  # type: ignore[arg-type]
        department=data.department,
        chapter=data.chapter,
        section=data.section,
        measure=data.measure,
        program=program,
        sub_programs=subs,
        rules_note=gettext(
            "金額は円単位で集計し千円未満を%(money)s、一人あたり・世帯あたりは円未満を%(per_head)s。"
        )
        % {
            "money": gettext(ROUNDING_TEXT[rules.money_rounding]),
            "per_head": gettext(ROUNDING_TEXT[rules.per_capita_rounding]),
        },
        footnote=rules.footnote,
        warnings=_warnings(list(subs) or [program], fy_label),
    )


def year_index_rows(sheets: list[Sheet]) -> list[list[object]]:
    """The 目次 of a whole year: one row per 事業, in the order of the sheets (the report book's)."""
    rows: list[list[object]] = [
        [
            gettext("章"),
            gettext("節"),
            gettext("施策"),
            gettext("整理番号"),
            gettext("事業名"),
            gettext("総コスト(千円)"),
            gettext("総合評価"),
            gettext("方向性"),
        ]
    ]
    for sheet in sheets:
        b = sheet.program
        rows.append(
            [
                sheet.chapter,
                sheet.section,
                sheet.measure,
                b.reference_number,
                b.name,
                b.costs.thousands["total"] if b.costs else None,
                b.ratings["overall"],
                gettext(b.direction_code_label) if b.direction_code_label else "",
            ]
        )
    return rows
