"""Training KPIs per fiscal year (April–March in Japan time), each with its evidence.

- training.completion_rate: people and courses with an assignment due that year that were passed ÷
  people and courses asked (`selectors.asked_in_year`, which the dashboard card counts too: a
  person asked twice for one course counts once); the evidence is each pass counted
- training.average_score: the mean score of the quiz attempts submitted that year, 点 (of 100);
  the evidence is the attempts themselves
- training.classroom_attendance: registrations of that year's classroom sessions marked 出席 ÷
  registrations, %
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, kpi_percent, register_kpi
from mamori.apps.core.wareki import fiscal_year_range

from .models import Attempt, Registration
from .selectors import Asked, asked_in_year

ONE_DECIMAL = Decimal("0.1")


def _span(fiscal_year: int) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    first, last = fiscal_year_range(fiscal_year)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def _attempt_evidence(attempt: Attempt) -> Evidence:
    when = timezone.localtime(attempt.submitted_at) if attempt.submitted_at else None
    verdict = _("合格") if attempt.passed else _("不合格")
    return Evidence(
        label=f"{attempt.staff.employee_number} {attempt.course.title} {attempt.score}{_('点')} {verdict} {when:%Y-%m-%d}",
        object_type="training.attempt",
        object_id=str(attempt.pk),
        url=reverse("training:attempt-result", args=[attempt.pk]),
        department_id=attempt.staff.department_id,
    )


def kpi_completion_rate(fiscal_year: int) -> KpiValue:
    asked = asked_in_year(fiscal_year=fiscal_year)
    done = sorted(
        (a for a in asked if a.completion), key=lambda a: (a.completion.completed_at, a.completion.pk)
    )  # type: ignore[union-attr]
    return KpiValue(
        value=kpi_percent(len(done), len(asked)),
        evidence=[_completion_evidence(a) for a in done],
        detail={"asked": len(asked), "completed": len(done)},
    )


def _completion_evidence(asked: Asked) -> Evidence:
    """One person's pass of one course asked of them that year: what the rate counts as done."""
    completion, staff = asked.completion, asked.assignment.staff
    assert completion is not None
    return Evidence(
        label=_("修了 {number} {course}（期限 {due}）{score}点 {day}").format(
            number=staff.employee_number,
            course=asked.assignment.course.title,
            due=asked.due_on.isoformat(),
            score=completion.score,
            day=f"{timezone.localtime(completion.completed_at):%Y-%m-%d}",
        ),
        object_type="training.attempt",
        object_id=str(completion.attempt_id),
        url=reverse("training:attempt-result", args=[completion.attempt_id]),
        department_id=staff.department_id,
    )


def kpi_average_score(fiscal_year: int) -> KpiValue:
    start, end = _span(fiscal_year)
    attempts = list(
        Attempt.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .select_related("staff", "course")
        .order_by("submitted_at", "pk")
    )
    value = None
    if attempts:
        mean = Decimal(sum(a.score or 0 for a in attempts)) / len(attempts)
        value = mean.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return KpiValue(
        value=value,
        evidence=[_attempt_evidence(a) for a in attempts],
        detail={"attempts": len(attempts)},
    )


def kpi_classroom_attendance(fiscal_year: int) -> KpiValue:
    start, end = _span(fiscal_year)
    registrations = Registration.objects.filter(
        session__starts_at__gte=start, session__starts_at__lt=end
    ).select_related("session", "staff")
    attended = [r for r in registrations if r.attended]
    return KpiValue(
        value=kpi_percent(len(attended), len(registrations)),
        evidence=[
            Evidence(
                label=f"{r.session.title} {timezone.localtime(r.session.starts_at):%Y-%m-%d} "
                f"{r.staff.employee_number} {_('出席') if r.attended else _('欠席')}",
                object_type="training.registration",
                object_id=str(r.pk),
                url=reverse("training:session-detail", args=[r.session_id]),
                department_id=r.staff.department_id,
            )
            for r in registrations
        ],
        detail={"registered": len(registrations), "attended": len(attended)},
    )


def register() -> None:
    register_kpi(Kpi("training.completion_rate", _("e-ラーニング修了率"), "%", "up", kpi_completion_rate))
    register_kpi(Kpi("training.average_score", _("e-ラーニング平均点"), "点", "up", kpi_average_score))
    register_kpi(
        Kpi("training.classroom_attendance", _("集合研修の出席率"), "%", "up", kpi_classroom_attendance)
    )
