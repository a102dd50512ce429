"""Refused inputs: each a clear one-line error, nothing saved, no audit event."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from mamori.apps.core.models import AuditEvent
from mamori.apps.evaluation import services
from mamori.apps.evaluation.demo import setup_demo
from mamori.apps.evaluation.errors import EvaluationError
from mamori.apps.evaluation.models import (
    Indicator,
    IndicatorYear,
    PolicyChapter,
    Program,
    ProgramYear,
    StaffingLine,
)
from mamori.apps.evaluation.selectors import program_get


@pytest.fixture
def sub(demo):
    return program_get(reference_number="1379", sub="01")


def _snapshot():
    return (
        ProgramYear.objects.count(),
        StaffingLine.objects.count(),
        IndicatorYear.objects.count(),
        Indicator.objects.count(),
        AuditEvent.objects.count(),
        list(ProgramYear.objects.order_by("pk").values_list("program_cost", "general_fund")),
    )


def test_funds_that_do_not_add_up_are_refused(sub):
    before = _snapshot()
    with pytest.raises(EvaluationError) as exc:
        services.program_year_set_money(
            actor="t",
            program=sub,
            fiscal_year=2013,
            program_cost=5_917_000,
            general_fund=5_000_000,
            national_prefectural=900_000,
        )
    assert str(exc.value) == "財源内訳の合計 5,900,000円が事業費 5,917,000円と一致しません"
    assert exc.value.code == "funds_mismatch"
    assert _snapshot() == before


def test_negative_fte_is_refused(sub):
    before = _snapshot()
    with pytest.raises(EvaluationError, match=r"従事職員数（regular）は0以上で入力してください（-0.10）"):
        services.program_year_set_staffing(
            actor="t", program=sub, fiscal_year=2012, fte={"regular": Decimal("-0.10")}
        )
    assert _snapshot() == before
    assert StaffingLine.objects.get(program_year__program=sub, program_year__fiscal_year=2012).fte == Decimal(
        "0.60"
    )


def test_unknown_fiscal_year_is_refused(sub):
    before = _snapshot()
    with pytest.raises(EvaluationError, match=r"^年度を読み取れません: 平成二十四年度。2012、FY2012、"):
        services.program_year_set_money(actor="t", program=sub, fiscal_year="平成二十四年度", program_cost=0)
    assert _snapshot() == before


def test_zero_target_with_upward_direction_is_refused(sub):
    indicator = services.indicator_create(
        actor="t", program=sub, kind="outcome", name="研修受講率", unit="%", direction="up"
    )
    before = _snapshot()
    with pytest.raises(EvaluationError) as exc:
        services.indicator_year_set(actor="t", indicator=indicator, fiscal_year="R7", target=0, actual=0)
    assert (
        str(exc.value)
        == "目指す方向が↑の指標「研修受講率」に目標値0は設定できません（達成率が定義できません）"
    )
    assert _snapshot() == before


def test_turning_a_zero_target_indicator_upward_is_refused(sub):
    indicator = services.indicator_create(
        actor="t", program=sub, kind="outcome", name="事故件数", unit="件", direction="down"
    )
    services.indicator_year_set(actor="t", indicator=indicator, fiscal_year=2025, target=0, actual=0)
    before = _snapshot()
    with pytest.raises(EvaluationError, match="目標値0は設定できません"):
        services.indicator_update(actor="t", indicator=indicator, direction="up")
    assert _snapshot() == before
    indicator.refresh_from_db()
    assert indicator.direction == "down"


def test_rating_override_needs_a_reason_and_is_audited(sub):
    with pytest.raises(EvaluationError, match="提案と異なる評価（有効性）には変更理由が必要です"):
        services.program_year_rate(
            actor="officer",
            program=sub,
            fiscal_year=2012,
            ratings={"effectiveness": "A"},
            suggested={"effectiveness": "B"},
        )
    services.program_year_rate(
        actor="officer",
        program=sub,
        fiscal_year=2012,
        ratings={"effectiveness": "A"},
        suggested={"effectiveness": "B"},
        override_reason="監査で実績を確認した",
    )
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == "evaluation.rating.override"
    assert event.actor == "officer"
    assert event.after["override_reason"] == "監査で実績を確認した"
    assert event.after["suggested"] == {"effectiveness": "B"}
    assert event.before["rating_effectiveness"] == "B"


def test_bad_rating_letter_and_unknown_kpi_are_refused(sub):
    with pytest.raises(EvaluationError, match="妥当性は A・B・C のいずれかで入力してください（'S'）"):
        services.program_year_rate(actor="t", program=sub, fiscal_year=2012, ratings={"relevance": "S"})
    with pytest.raises(EvaluationError, match=r"KPI 'nope\.rate' は登録されていません"):
        services.indicator_create(
            actor="t", program=sub, kind="outcome", name="x", unit="%", direction="up", kpi_code="nope.rate"
        )


def test_duplicate_reference_number_is_a_clear_error(demo):
    program = program_get(reference_number="1379")
    count = Program.objects.count()
    with pytest.raises(EvaluationError, match=r"^整理番号 1379 の事業は既にあります$"):
        services.program_create(
            actor="t",
            measure=program.measure,
            department=program.department,
            reference_number="1379",
            name="重複",
        )
    assert Program.objects.count() == count


@pytest.mark.parametrize(
    ("fields", "code", "label"),
    [({"purpose": "目的\x00"}, "nul_character", "purpose"), ({"name": "長" * 201}, "invalid", "name")],
)
def test_a_bad_program_field_is_refused_naming_it(demo, fields, code, label):
    program = program_get(reference_number="1379")
    before = _snapshot()
    with pytest.raises(EvaluationError) as info:
        services.program_update(actor="t", program=program, **fields)
    assert info.value.code == code
    assert str(Program._meta.get_field(label).verbose_name) in str(info.value)
    assert _snapshot() == before


def test_a_policy_heading_with_nul_is_refused_before_anything_is_saved(organisation):
    """The heading rows may already exist, so only their plain fields are checked (not uniqueness)."""
    with pytest.raises(EvaluationError) as info:
        services.policy_measure_ensure(
            actor="t",
            organisation=organisation,
            chapter=(9, "章"),
            section=("1", "節\x00"),
            measure=("1", "施策"),
        )
    assert info.value.code == "nul_character"
    assert not PolicyChapter.objects.exists() and not AuditEvent.objects.exists()


def test_every_write_is_audited(demo):
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "evaluation.program.create",
        "evaluation.year.money",
        "evaluation.year.staffing",
        "evaluation.year.texts",
        "evaluation.rating.confirm",
        "evaluation.unit_cost.set",
    } <= actions


def test_running_the_demo_again_leaves_no_audit_events_but_a_real_change_is_audited(demo):
    events = AuditEvent.objects.count()
    setup_demo(organisation=demo, stdout=io.StringIO())
    assert AuditEvent.objects.count() == events
    sub = program_get(reference_number="1379", sub="01")
    services.program_year_set_staffing(actor="t", program=sub, fiscal_year=2012, fte={"regular": "0.70"})
    assert AuditEvent.objects.latest("sequence").action == "evaluation.year.staffing"
