"""The demo: the real course with its 10-question pool assigned to all staff, a spread of completion
and scores, one classroom session with attendance; run twice, nothing is created twice."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from mamori.apps.core.demo_city import demo_city_setup
from mamori.apps.core.models import Staff, StaffStatus
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.training import demo, kpis
from mamori.apps.training.models import Attempt, ClassroomSession, Course
from mamori.apps.training.selectors import department_rates

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_demo_course_is_assigned_to_everyone_with_a_spread_of_results(db):
    city = demo_city_setup()
    for _ in range(2):
        demo.setup_demo(organisation=city.organisation, stdout=io.StringIO())
    course = Course.objects.get(title="情報セキュリティの基本")
    assert course.questions.count() == 10 and course.versions.count() == 1
    active = Staff.objects.filter(status=StaffStatus.ACTIVE).count()
    assert course.assignments.filter(rule__kind="all").count() == active
    fy = fiscal_year_of(timezone.localdate())
    rate = kpis.kpi_completion_rate(fy).value
    average = kpis.kpi_average_score(fy).value
    assert rate is not None and 40 < rate < 90 and average is not None and 60 < average < 95
    assert Attempt.objects.filter(passed=False).exists()
    staff_login = Staff.objects.get(membership__user__username="staff")
    assert not staff_login.training_attempts.exists()  # left for the person trying the demo
    rates = [r.rate for r in department_rates(user=get_user_model().objects.get(username="officer"))]
    assert max(rates) - min(rates) >= 20  # the chart has something to show
    session = ClassroomSession.objects.get()
    attendance = kpis.kpi_classroom_attendance(fiscal_year_of(timezone.localdate(session.starts_at))).value
    assert attendance is not None and 60 < attendance < 100
