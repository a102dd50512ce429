"""The report-deadline reminder mail: unfiled 速報 / 確報 due within two days or already overdue."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from .models import Incident
from .selectors import ReportStatus, incident_reports


def _pending(now: datetime) -> list[tuple[Incident, ReportStatus]]:
    rows = []
    for incident in Incident.objects.filter(personal_data=True, final_filed_at__isnull=True):
        reports = incident_reports(incident, now)
        if reports is None:
            continue
        status = reports.preliminary if reports.preliminary.filed_at is None else reports.final
        if status.overdue or status.due_soon:
            rows.append((incident, status))
    return sorted(rows, key=lambda row: row[1].deadline.due)


def deadline_mail(now: datetime) -> tuple[str, str] | None:
    """(subject, body) for the reports that need filing now, or None when none does."""
    rows = _pending(now)
    if not rows:
        return None
    names = {"preliminary": _("速報"), "final": _("確報")}
    lines = [
        f"- {incident.title}: {names[status.deadline.kind]} "
        + (
            _("期限 {day}（期限切れ）") if status.overdue else _("期限 {day}（開庁日での提出期限 {file_by}）")
        ).format(day=f"{status.deadline.day:%Y-%m-%d}", file_by=f"{status.deadline.file_by:%Y-%m-%d}")
        for incident, status in rows
    ]
    subject = _("[mamori] 個人情報保護委員会への報告期限: {n}件").format(n=len(rows))
    body = _("次の事故の報告期限が近づいているか、過ぎています。提出したら mamori に記録してください。")
    return subject, body + "\n\n" + "\n".join(lines) + "\n"
