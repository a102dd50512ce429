"""The demo: the real course with its 10-question pool assigned to all staff, a spread of completion
and scores, one classroom session with attendance; run twice, nothing is created twice."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from mamori.apps.core.demo_city import demo_city_setup
from mamori.apps.core.models import Staff, StaffStatus
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.training import demo, kpis
from mamori.apps.training.models import Attempt, ClassroomSession, Completion, Course
from mamori.apps.training.selectors import department_rates

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
JAPAN = ZoneInfo("Asia/Tokyo")


def test_the_demo_course_is_assigned_to_everyone_with_a_spread_of_results(db, clock):
    now = clock(datetime(2026, 11, 16, 10, 0, tzinfo=JAPAN))  # a Monday in the eighth month of FY2026
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

    # Dated as a real year: the course and its rules went out on 1 April; the passes are spread
    # over the office days since, not all at the moment of setup.
    start = datetime(2026, 4, 1, 8, 30, tzinfo=JAPAN)
    assert course.created_at == start and course.versions.get().created_at == start
    assert set(course.assignments.values_list("assigned_at", flat=True)) == {start}
    passes = [timezone.localtime(c.completed_at) for c in Completion.objects.filter(course=course)]
    assert all(start <= at <= now and at.weekday() < 5 and 9 <= at.hour < 20 for at in passes)
    by_month = Counter(at.month for at in passes)
    assert set(by_month) == {4, 5, 6, 7, 8, 9, 10, 11}
    assert max(Counter(at.date() for at in passes).values()) < len(passes) / 20
    for staff_id in set(Attempt.objects.values_list("staff_id", flat=True)):
        tries = list(Attempt.objects.filter(staff_id=staff_id).order_by("pk"))
        assert [a.submitted_at for a in tries] == sorted(a.submitted_at for a in tries)
        assert not any(a.passed for a in tries[:-1])  # they stopped at the pass
    # the classroom session was announced a month ahead; everyone registered before it began
    assert session.created_at == session.starts_at - timedelta(days=30)
    registered = list(session.registrations.values_list("registered_at", flat=True))
    assert registered and all(session.created_at <= at < session.starts_at for at in registered)
