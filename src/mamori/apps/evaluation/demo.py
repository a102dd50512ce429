"""Demo data: the seed's program 情報化安全対策事業 for 平成24年度 with the seed's figures and texts,
and the current fiscal year with indicators bound to the headline KPIs of the installed apps.

Idempotent: running it again updates the same rows (looked up by number, name and date).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from mamori.apps.core.audit import audit_record, snapshot_of
from mamori.apps.core.kpis import kpi_list
from mamori.apps.core.models import Department, EmploymentCategory, Organisation, PopulationRecord
from mamori.apps.core.wareki import fiscal_year_of, format_fiscal_year

from . import services
from .models import Indicator, Program

ACTOR = "system:demo"
SEED_FY = 2012
SEED_POPULATION = (date(2013, 3, 31), 112_400, 47_247, "住民基本台帳（平成25年3月31日現在）")
SEED_UNIT_COST = 7_935_000

CHAPTER = (5, "自律協働都市")
SECTION = ("03", "情報化")
MEASURE = ("03", "情報資産に対する脅威に対応する")
PROGRAM_NAME = "情報化安全対策事業"

PROGRAM = {
    "name": PROGRAM_NAME,
    "purpose": "行政サービス、内部事務を実施するための情報システムにおける、情報の漏えい・改ざんや非常時のデータの保持等への"
    "安全対策を実施することで、安全、安心な市民サービスの提供と情報資産の安全の確保を図る。",
    "goal": "情報喪失、情報漏えい等の事故の発生を防止、情報システムの安全な運用を図る。",
}
SUB_PROGRAM = {
    "name": PROGRAM_NAME,
    "priority": 1,
    "purpose": "情報システムにおける、技術的・人的な安全対策を実施することで、安全、安心な市民サービスの提供と情報資産の安全の"
    "確保を図る。",
    "goal": "情報喪失、情報漏えい事故の発生を防止、情報システムの安全な運用を図る。",
    "implementation": "direct",
    "start_fiscal_year": 2003,
    "start_or_earlier": True,
    "legal_basis": "",
    "target_group": "庁内組織、職員、委託先等",
}
PROGRAM_OUTCOME = (
    "1. 情報セキュリティの推進\n"
    "行政サービスや内部事務を実施するための情報システムにおいて、情報の漏えい・改ざん防止対策や、非常時のデータの保持等への"
    "安全対策を実施することで、安全、安心な市民サービスの提供と情報資産の安全の確保に努めた。"
)
SUB_OUTCOME = (
    "1. 情報セキュリティ対策の推進\n"
    "人的な対策として、定期的なパスワード変更を行うとともに、情報セキュリティについての全庁的な研修やeラーニング※、"
    "異動時期や年末年始におけるパソコンなどの取り扱いについての注意喚起など、職員への啓発を実施した。\n"
    "技術的な対策として、情報機器へのウイルス対策ソフトの適用や安全な設定更新に努めるとともに、ファイアウォール※やメール、"
    "インターネット接続関連機器の更新を行い、セキュリティ強化を図った。\n"
    "2. 電算データの退避及びバックアップの実施\n"
    "データの消滅防止を図るとともに、事故や災害発生時の被害を最小限に抑えるため、住民情報システム、財務会計システム、"
    "文書管理システム、ファイルサーバなどにおいて日々データのバックアップを実施したほかそれらを定期的に遠隔地へ保管するなどの"
    "対策を行った。\n"
    "3. 使用済み記録媒体の適正な処分\n"
    "不要となったCD-ROMなど、記録媒体の廃棄物からの情報漏えいを防ぐため、専門の事業者へ委託し、市で不要となった記録媒体を"
    "適正に廃棄処分した。"
)
GLOSSARY = [
    {"term": "eラーニング", "text": "主にインターネットを利用して、パソコン等で行う学習形態のこと"},
    {"term": "ファイアウォール", "text": "組織内のコンピュータネットワークへ外部から侵入されるのを防ぐ装置"},
]
PROGRAM_DIRECTION = (
    "情報喪失や情報漏えいなどが発生しないよう技術的、人的な対策について、引き続き取組みを図る。"
)
SUB_DIRECTION = (
    "技術的な対策については、限られた予算、人員の中で、費用対効果が最適となるよう、より最新の技術動向に即した取組みや"
    "データの遠隔地などへのバックアップに引き続き取り組む。人的な対策については、定期的な職員研修とともに、啓発の取組みを"
    "着実に継続する。"
)
REASON_OVERALL = "技術的・人的なセキュリティ対策を予定どおりに実施できた。"
REASON_CONTRIBUTION = (
    "市民サービスの提供及び行政事務の基盤である電算システムに対する脅威に対応するためには、セキュリティ確保は必要不可欠であり、"
    "予定どおり安全対策が推進できている。"
)
SEED_RATINGS = {
    "overall": "B",
    "relevance": "A",
    "efficiency": "A",
    "effectiveness": "B",
    "contribution": "A",
}


def _free_code(code: str) -> str:
    """The wanted department code, or a suffixed one when another department already holds it."""
    candidate, n = code, 1
    while Department.objects.filter(code=candidate).exists():
        n += 1
        candidate = f"{code}-{n}"
    return candidate


def _department(organisation: Organisation) -> Department:
    """総務部 行政改革課, found by name (another demo may have made it), created when missing."""
    with transaction.atomic():
        parent = Department.objects.filter(
            organisation=organisation, name="総務部", parent__isnull=True
        ).first()
        if parent is None:
            parent = Department.objects.create(
                organisation=organisation, code=_free_code("010000"), name="総務部"
            )
            audit_record(actor=ACTOR, action="department.create", obj=parent, after=snapshot_of(parent))
        dept = Department.objects.filter(organisation=organisation, name="行政改革課", parent=parent).first()
        if dept is None:
            code = (
                "010200"
                if not Department.objects.filter(code="010200").exists()
                else f"010200-{organisation.pk}"
            )
            dept = Department.objects.create(
                organisation=organisation, parent=parent, code=code, name="行政改革課"
            )
            audit_record(actor=ACTOR, action="department.create", obj=dept, after=snapshot_of(dept))
    return dept


def _population(organisation: Organisation) -> PopulationRecord:
    ref, residents, households, source = SEED_POPULATION
    with transaction.atomic():
        record = PopulationRecord.objects.filter(organisation=organisation, reference_date=ref).first()
        if record is None:
            record = PopulationRecord.objects.create(
                organisation=organisation,
                reference_date=ref,
                residents=residents,
                households=households,
                source=source,
            )
            audit_record(actor=ACTOR, action="population.create", obj=record, after=snapshot_of(record))
    return record


def _program(
    measure, department: Department, reference: str, parent: Program | None, fields: dict
) -> Program:  # type: ignore[no-untyped-def]
    qs = Program.objects.filter(reference_number=reference, parent=parent)
    existing = qs.filter(measure=measure).first() if parent is None else qs.first()
    if existing is None:
        return services.program_create(
            actor=ACTOR,
            measure=measure,
            department=department,
            reference_number=reference,
            parent=parent,
            **fields,
        )
    return services.program_update(actor=ACTOR, program=existing, department=department, **fields)


def _seed_year(organisation: Organisation, program: Program, sub: Program) -> None:
    population = _population(organisation)
    services.unit_cost_set(
        actor=ACTOR,
        organisation=organisation,
        fiscal_year=SEED_FY,
        category=EmploymentCategory.REGULAR,
        yen=SEED_UNIT_COST,
    )
    services.program_year_set_money(
        actor=ACTOR,
        program=sub,
        fiscal_year=SEED_FY,
        program_cost=5_917_000,
        general_fund=5_917_000,
        population=population,
    )
    services.program_year_set_staffing(
        actor=ACTOR,
        program=sub,
        fiscal_year=SEED_FY,
        fte={"regular": Decimal("0.60"), "reemployed": Decimal("0.00")},
    )
    services.program_year_set_money(
        actor=ACTOR, program=program, fiscal_year=SEED_FY, program_cost=0, population=population
    )
    services.program_year_set_texts(
        actor=ACTOR,
        program=program,
        fiscal_year=SEED_FY,
        outcome=PROGRAM_OUTCOME,
        direction_label=PROGRAM_DIRECTION,
        direction_code="continue",
    )
    services.program_year_set_texts(
        actor=ACTOR,
        program=sub,
        fiscal_year=SEED_FY,
        outcome=SUB_OUTCOME,
        glossary=GLOSSARY,
        direction_label=SUB_DIRECTION,
        direction_code="continue",
    )
    services.program_year_rate(
        actor=ACTOR,
        program=program,
        fiscal_year=SEED_FY,
        ratings=SEED_RATINGS,
        reasons={"overall": REASON_OVERALL, "contribution": REASON_CONTRIBUTION},
    )
    services.program_year_rate(
        actor=ACTOR,
        program=sub,
        fiscal_year=SEED_FY,
        ratings={k: SEED_RATINGS[k] for k in ("relevance", "efficiency", "effectiveness")},
    )


def _default_target(unit: str, direction: str) -> Decimal | None:
    """Demo targets: 100% for rates that should rise, none (0件) for counts that should fall."""
    if unit == "%" and direction == "up":
        return Decimal(100)
    if unit == "件" and direction == "down":
        return Decimal(0)
    return None


# One or two headline KPIs per measure of the seed's program, as a city's sheet would carry: the sheet
# is a page per block, and binding every registered KPI (two dozen) would not fit one.
HEADLINE_KPIS = (
    "backups.success_rate",
    "backups.offsite_compliance",
    "passwords.compliance",
    "training.completion_rate",
    "awareness.ack_rate",
    "devices.av_coverage",
    "devices.eol_in_service",
    "disposal.certified_rate",
    "incidents.count",
)


def _current_year(organisation: Organisation, program: Program, sub: Program, stdout: TextIO) -> int:
    """The current fiscal year: indicators bound to the headline KPIs that are registered, costs
    carried from the seed."""
    fy = fiscal_year_of(timezone.localdate())
    services.unit_cost_set(
        actor=ACTOR,
        organisation=organisation,
        fiscal_year=fy,
        category=EmploymentCategory.REGULAR,
        yen=SEED_UNIT_COST,
    )
    population = (
        PopulationRecord.objects.filter(organisation=organisation).order_by("-reference_date").first()
    )
    services.program_year_set_money(
        actor=ACTOR,
        program=sub,
        fiscal_year=fy,
        program_cost=5_917_000,
        general_fund=5_917_000,
        population=population,
    )
    services.program_year_set_staffing(
        actor=ACTOR, program=sub, fiscal_year=fy, fte={"regular": Decimal("0.60")}
    )
    services.program_year_set_texts(
        actor=ACTOR,
        program=program,
        fiscal_year=fy,
        direction_label=PROGRAM_DIRECTION,
        direction_code="continue",
    )
    services.program_year_set_texts(
        actor=ACTOR, program=sub, fiscal_year=fy, direction_label=SUB_DIRECTION, direction_code="continue"
    )
    existing = {i.kpi_code: i for i in Indicator.objects.filter(program=sub)}
    headline = [kpi for kpi in kpi_list() if kpi.code in HEADLINE_KPIS]
    for order, kpi in enumerate(headline, start=1):
        kind = "outcome" if kpi.unit in {"%", "件"} else "activity"
        indicator = existing.get(kpi.code)
        if indicator is None:
            indicator = services.indicator_create(
                actor=ACTOR,
                program=sub,
                kind=kind,
                name=str(kpi.label),
                unit=kpi.unit,
                direction=kpi.direction,
                kpi_code=kpi.code,
                order=order,
            )
        target = _default_target(kpi.unit, kpi.direction)
        services.indicator_year_set(actor=ACTOR, indicator=indicator, fiscal_year=fy, target=target)
    stdout.write(f"  評価シート: {format_fiscal_year(fy)}（当年度）に KPI 連動指標 {len(headline)} 件\n")
    return fy


def setup_demo(*, organisation: Organisation, stdout: TextIO) -> None:
    """Create or refresh the seed's program (FY2012) and the current fiscal year's sheet."""
    measure = services.policy_measure_ensure(
        actor=ACTOR, organisation=organisation, chapter=CHAPTER, section=SECTION, measure=MEASURE
    )
    department = _department(organisation)
    program = _program(measure, department, "1379", None, PROGRAM)
    sub = _program(measure, department, "01", program, SUB_PROGRAM)
    _seed_year(organisation, program, sub)
    _current_year(organisation, program, sub, stdout)
    stdout.write("  評価シート: 情報化安全対策事業（整理番号1379・細事業01）平成24年度\n")
