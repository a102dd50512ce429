"""Incident reads. Incidents can be sensitive: officers and auditors see all, a department lead the
incidents of their departments, a staff member only the incidents they reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.core.permissions import membership_department_ids, user_role

from .deadlines import Deadline, report_deadlines, reportable_reasons
from .models import Incident, IncidentStatus

SOON = timedelta(days=2)


def incident_list(*, user) -> QuerySet[Incident]:  # type: ignore[no-untyped-def]
    incidents = Incident.objects.select_related("department", "department__parent", "reported_by")
    if user_role(user) == Role.STAFF:
        return incidents.filter(reported_by=user)
    scope = membership_department_ids(user)
    if scope is None:
        return incidents
    return incidents.filter(Q(department_id__in=scope) | Q(reported_by=user))


def incident_get(*, user, pk: int) -> Incident:  # type: ignore[no-untyped-def]
    return get_object_or_404(incident_list(user=user), pk=pk)


def reasons_of(incident: Incident) -> list[str]:
    return reportable_reasons(
        personal_data=incident.personal_data,
        special_care=incident.special_care,
        financial_damage=incident.financial_damage,
        unauthorised_purpose=incident.unauthorised_purpose,
        people=incident.people_affected,
        ordinance_special_care=incident.ordinance_special_care,
    )


@dataclass(frozen=True)
class ReportStatus:
    deadline: Deadline
    filed_at: datetime | None
    now: datetime

    @property
    def met(self) -> bool | None:
        return self.deadline.met_by(self.filed_at)

    @property
    def overdue(self) -> bool:
        return self.filed_at is None and self.now >= self.deadline.due

    @property
    def due_soon(self) -> bool:
        return self.filed_at is None and not self.overdue and self.deadline.due - self.now <= SOON

    @property
    def days_left(self) -> int:
        """Whole days until the deadline's end (0 on its last day); negative once past."""
        return (self.deadline.due - self.now).days


@dataclass(frozen=True)
class IncidentReports:
    reasons: list[str]
    preliminary: ReportStatus
    final: ReportStatus


def incident_reports(incident: Incident, now: datetime | None = None) -> IncidentReports | None:
    """The statutory reports of a reportable incident, with deadlines and how they stand; else None."""
    reasons = reasons_of(incident)
    if not reasons:
        return None
    now = now or timezone.now()
    preliminary, final = report_deadlines(
        incident.learned_at, unauthorised_purpose=incident.unauthorised_purpose
    )
    return IncidentReports(
        reasons,
        ReportStatus(preliminary, incident.preliminary_filed_at, now),
        ReportStatus(final, incident.final_filed_at, now),
    )


def open_deadlines(*, user, now: datetime | None = None) -> list[tuple[Incident, ReportStatus]]:  # type: ignore[no-untyped-def]
    """Unfiled reports of the incidents the user may see, soonest first."""
    now = now or timezone.now()
    rows = []
    candidates = (
        incident_list(user=user)
        .filter(personal_data=True)
        .filter(Q(preliminary_filed_at__isnull=True) | Q(final_filed_at__isnull=True))
    )
    for incident in candidates:
        reports = incident_reports(incident, now)
        if reports is None:
            continue
        for status in (reports.preliminary, reports.final):
            if status.filed_at is None:
                rows.append((incident, status))
                break  # the 確報 matters once the 速報 is in
    return sorted(rows, key=lambda row: row[1].deadline.due)


def open_count(*, user) -> int:  # type: ignore[no-untyped-def]
    return incident_list(user=user).exclude(status=IncidentStatus.CLOSED).count()
