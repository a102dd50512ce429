"""Training KPIs per fiscal year with the attempts as evidence, and `mamori kpi --json` showing them."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.core.wareki import fiscal_year_of, format_fiscal_year
from mamori.apps.training import assignments, kpis, quiz, selectors, sessions
from mamori.apps.training.models import Assignment, RuleKind

from .helpers import answers, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(world, course, clock):  # type: ignore[no-untyped-def]
    """Three people assigned; one fails (25) then passes (100), one fails (50); a session 1 of 2 attended.

    At noon today (Japan time): a session two hours before a clock at 00:30 on 1 April was last year's."""
    today = timezone.localdate()
    clock(timezone.make_aware(datetime.combine(today, time(12))))
    people = [staff_member(world.gyokaku, number=f"80000{n}") for n in range(3)]
    assignments.rule_create(actor="test", course=course, kind=RuleKind.DEPARTMENT, department=world.gyokaku,
                            due_on=today)  # fmt: skip
    for (user, staff), scores in zip(people, [(1, 4), (2,), ()], strict=True):
        for right in scores:
            attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
            quiz.attempt_submit(
                actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=right)
            )
    session = sessions.session_create(actor="test", title="集合研修", starts_at=timezone.now() - timedelta(hours=2),
                                      place="会議室", capacity=10)  # fmt: skip
    data = (
        f"職員番号,出欠\n{people[0][1].employee_number},出席\n{people[1][1].employee_number},欠席\n".encode()
    )
    sessions.attendance_import(actor="test", session=session, data=data)
    return fiscal_year_of(today)


def test_the_kpis_of_the_year_and_their_evidence(year):
    # 佐藤 (world) is in 行政改革課 too: 4 assigned, 1 completed
    rate = kpis.kpi_completion_rate(year)
    assert rate.value == Decimal("25.0") and rate.detail == {"asked": 4, "completed": 1}
    assert [e.object_type for e in rate.evidence] == ["training.attempt"]
    assert rate.evidence[0].label.startswith("修了 800000 ") and "100点" in rate.evidence[0].label
    score = kpis.kpi_average_score(year)
    assert score.value == Decimal("58.3") and len(score.evidence) == 3  # (25 + 100 + 50) / 3
    attendance = kpis.kpi_classroom_attendance(year)
    assert attendance.value == Decimal("50.0") and len(attendance.evidence) == 2


def test_another_year_has_nothing(year):
    assert kpis.kpi_completion_rate(year - 1).value is None
    assert kpis.kpi_average_score(year + 1).value is None


def test_mamori_kpi_json_shows_the_training_kpis(year):
    out = StringIO()
    call_command("kpi", "--fiscal-year", str(year), "--json", stdout=out)
    rows = {row["code"]: row for row in json.loads(out.getvalue())}
    assert rows["training.completion_rate"]["value"] == "25.0"
    assert rows["training.average_score"]["unit"] == "点"
    assert rows["training.classroom_attendance"]["evidence_count"] == 2


def test_each_kpi_costs_the_sheet_one_query_a_year(year, django_assert_num_queries):
    for compute in (kpis.kpi_completion_rate, kpis.kpi_average_score, kpis.kpi_classroom_attendance):
        with django_assert_num_queries(1):
            compute(year)


def test_a_person_asked_twice_for_a_course_counts_once_on_the_sheet_and_the_card(year, world, course):
    """Everyone, and again 行政改革課: the card and the KPI say the same figures, one evidence per pass."""
    today = timezone.localdate()
    assignments.rule_create(actor="test", course=course, kind=RuleKind.ALL, due_on=today)
    rate = kpis.kpi_completion_rate(year)
    asked = selectors.asked_in_year(fiscal_year=year)
    people = Assignment.objects.values("staff").distinct().count()
    assert len(asked) == people < Assignment.objects.count()  # the four of 行政改革課 are asked twice
    assert rate.detail == {"asked": len(asked), "completed": 1} and len(rate.evidence) == 1
    client = Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    card = (
        client.get(reverse("dashboard"))
        .content.decode()
        .split('data-card="training"')[1]
        .split("</section>")[0]
    )
    assert f"{format_fiscal_year(year)} 修了 1 / 対象 {len(asked)}（職員×研修）" in card
