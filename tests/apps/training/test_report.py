"""The completion report: by department with a bar per 課 (lowest first), drill-down to people, the
overdue list and the XLSX export, each limited to a lead's own departments."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from mamori.apps.core.models import Role
from mamori.apps.training import assignments, quiz
from mamori.apps.training.models import Attempt, RuleKind
from tests.apps.core.factories import StaffFactory
from tests.apps.lights import dashboard_light

from .helpers import answers, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(world, course):  # type: ignore[no-untyped-def]
    """gyokaku: 佐藤 (not done) + s1 (passed); kosodate: 鈴木 and a hostile-named person, overdue."""
    user, staff = staff_member(world.gyokaku, number="500001")
    StaffFactory(department=world.kosodate, employee_number="500009", family_name='=HYPERLINK("http://x")')
    today = timezone.localdate()
    assignments.rule_create(actor="test", course=course, kind=RuleKind.DEPARTMENT, department=world.soumu,
                            due_on=today + timedelta(days=10))  # fmt: skip
    assignments.rule_create(actor="test", course=course, kind=RuleKind.DEPARTMENT, department=world.fukushi,
                            due_on=today - timedelta(days=1))  # fmt: skip
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=4))
    return staff


def client_for(world, role):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users[role])
    return client


def test_the_officer_sees_every_department_lowest_rate_first(world, assigned):
    page = client_for(world, Role.SECURITY_OFFICER).get(reverse("training:report")).content.decode()
    assert page.index('data-department="4004" data-rate="0"') < page.index(
        'data-department="1002" data-rate="50"'
    )
    assert 'id="overall">25%' in page and "期限超過（2件）" in page


def test_the_lead_sees_only_their_departments_and_cannot_drill_into_others(world, assigned):
    lead = client_for(world, Role.DEPARTMENT_LEAD)
    page = lead.get(reverse("training:report")).content.decode()
    assert 'data-department="1002"' in page and 'data-department="4004"' not in page
    people = lead.get(reverse("training:report-department", args=[world.gyokaku.pk])).content.decode()
    assert 'data-staff="500001"' in people and 'data-staff="100001"' in people
    assert lead.get(reverse("training:report-department", args=[world.kosodate.pk])).status_code == 404
    assert "500009" not in lead.get(reverse("training:overdue")).content.decode()


def test_the_overdue_list_names_who_is_late(world, assigned):
    page = client_for(world, Role.AUDITOR).get(reverse("training:overdue")).content.decode()
    assert "400001" in page and "500009" in page and "100001" not in page


def test_the_xlsx_has_departments_people_and_keeps_a_formula_name_as_text(world, assigned):
    response = client_for(world, Role.SECURITY_OFFICER).get(reverse("training:report-export"))
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert ("1002", "総務部 行政改革課", 2, 1, 50, 0) in rows
    people = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(people) == 4
    hostile = next(c for row in book.worksheets[1].iter_rows(min_row=2) for c in row
                   if str(c.value).startswith("=HYPERLINK"))  # fmt: skip
    assert hostile.data_type == "s"


def test_the_dashboard_card_shows_the_rate_to_the_officer_and_the_lead_of_assigned_people(world, assigned):
    for role in (Role.SECURITY_OFFICER, Role.DEPARTMENT_LEAD):
        html = client_for(world, role).get(reverse("dashboard")).content.decode()
        card = html.split('data-card="training"')[1].split("</section>")[0]
        assert ("25%" if role == Role.SECURITY_OFFICER else "50%") in card


def test_the_leads_xlsx_holds_only_their_departments(world, assigned):
    response = client_for(world, Role.DEPARTMENT_LEAD).get(reverse("training:report-export"))
    book = load_workbook(io.BytesIO(response.content))
    codes = {row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    numbers = {row[0] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert codes == {"1002"} and numbers == {"100001", "500001"}


def test_the_cards_light_counts_who_is_late_and_leads_to_them(world, assigned):
    officer = client_for(world, Role.SECURITY_OFFICER)
    light = dashboard_light(officer, "training")
    assert (light.status, light.label, light.url) == (
        "red",
        "期限を過ぎた未修了 2件",
        reverse("training:overdue"),
    )
    late = officer.get(light.url).content.decode()
    assert "400001" in late and "500009" in late
    lead = client_for(world, Role.DEPARTMENT_LEAD)  # 総務部: nobody late, one of two not done yet
    light = dashboard_light(lead, "training")
    assert (light.status, light.label, light.url) == (
        "amber",
        "受講期間中: 未修了 1件",
        reverse("training:report"),
    )
    assert lead.get(light.url).status_code == 200


def test_a_lead_reading_someones_result_sees_their_answers_and_a_way_back(world, assigned):
    """It said 「あなたの回答」 to the lead and left them without a link back to the report."""
    attempt = Attempt.objects.get(staff=assigned, passed=True)
    url = reverse("training:attempt-result", args=[attempt.pk])
    lead = client_for(world, Role.DEPARTMENT_LEAD)
    page = lead.get(url).content.decode()
    assert "あなたの回答" not in page and "← 回答" in page
    back = reverse("training:report-department", args=[world.gyokaku.pk])
    assert f'href="{back}" data-action="back"' in page
    assert "500001" in lead.get(back).content.decode()
    own = Client()
    own.force_login(assigned.membership.user)
    assert "← あなたの回答" in own.get(url).content.decode()
