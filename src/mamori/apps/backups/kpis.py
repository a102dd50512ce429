"""KPI providers for the evaluation sheet, per fiscal year (April–March, Japan time), with evidence.

- backups.success_rate: successful backup runs ÷ backup runs due (executed or missed), %
- backups.offsite_compliance: successful offsite copies ÷ offsite copies due (executed or missed), %;
  a system backed up in the year whose classification requires an offsite copy but that had no
  offsite copy due counts as one missed copy (a system with no offsite repository is not "100%")
- backups.drills_passed: restore drills that passed, 件
- backups.rto_attained: full-restore drills whose measured time met the system's RTO ÷ full-restore
  drills run, % (sample drills are not evidence of an RTO and are left out, counted in the detail)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, kpi_percent, register_kpi
from mamori.apps.core.models import Classification

from .models import OK_STATUSES, JobKind, ProtectedSystem, Run, RunStatus

EVIDENCE_LIMIT = 200
#: classifications whose systems must keep a copy offsite (the 3-2-1-1-0 rule's "1 offsite")
OFFSITE_REQUIRED = (Classification.CONFIDENTIAL_3, Classification.CONFIDENTIAL_2)


def fiscal_year_bounds(fiscal_year: int) -> tuple[datetime, datetime]:
    """[1 April fiscal_year, 1 April fiscal_year + 1) in the city's time zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime(fiscal_year, 4, 1, tzinfo=zone), datetime(fiscal_year + 1, 4, 1, tzinfo=zone)


def _runs(kind: str, fiscal_year: int) -> QuerySet[Run]:
    start, end = fiscal_year_bounds(fiscal_year)
    in_year = Q(scheduled_for__gte=start, scheduled_for__lt=end) | Q(
        scheduled_for__isnull=True, queued_at__gte=start, queued_at__lt=end
    )
    return (
        Run.objects.filter(kind=kind)
        .filter(in_year)
        .exclude(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .select_related("system")
        .order_by("queued_at", "pk")
    )


def _evidence(runs: list[Run]) -> list[Evidence]:
    return [
        Evidence(
            label=f"{r.system.name} {r.get_kind_display()} {r.get_status_display()} "
            f"{timezone.localtime(r.finished_at or r.scheduled_for or r.queued_at):%Y-%m-%d %H:%M}",
            object_type="backups.run",
            object_id=str(r.pk),
            url=reverse("backups:run-detail", args=[r.pk]),
            department_id=r.system.department_id,
        )
        for r in runs[:EVIDENCE_LIMIT]
    ]


def _rate(kind: str, fiscal_year: int) -> KpiValue:
    runs = list(_runs(kind, fiscal_year))
    ok = [r for r in runs if r.status in OK_STATUSES]
    missed = sum(1 for r in runs if r.status == RunStatus.MISSED)
    return KpiValue(
        value=kpi_percent(len(ok), len(runs)),
        evidence=_evidence(runs),
        detail={"succeeded": len(ok), "due": len(runs), "missed": missed},
    )


def kpi_backup_success_rate(fiscal_year: int) -> KpiValue:
    return _rate(JobKind.BACKUP, fiscal_year)


def kpi_offsite_compliance(fiscal_year: int) -> KpiValue:
    runs = list(_runs(JobKind.OFFSITE_COPY, fiscal_year))
    copied = {r.system_id for r in runs}
    backed_up = _runs(JobKind.BACKUP, fiscal_year).values_list("system_id", flat=True)
    uncovered = list(
        ProtectedSystem.objects.filter(pk__in=backed_up, classification__in=OFFSITE_REQUIRED)
        .exclude(pk__in=copied)
        .order_by("pk")
    )
    ok = [r for r in runs if r.status in OK_STATUSES]
    missed = sum(1 for r in runs if r.status == RunStatus.MISSED) + len(uncovered)
    evidence = [
        Evidence(
            label=_("%(name)s 遠隔地保管なし（%(classification)s）")
            % {"name": s.name, "classification": s.get_classification_display()},
            object_type="backups.protectedsystem",
            object_id=str(s.pk),
            url=reverse("backups:system-detail", args=[s.code]),
            department_id=s.department_id,
        )
        for s in uncovered
    ]
    return KpiValue(
        value=kpi_percent(len(ok), len(runs) + len(uncovered)),
        evidence=(evidence + _evidence(runs))[:EVIDENCE_LIMIT],
        detail={"succeeded": len(ok), "due": len(runs) + len(uncovered), "missed": missed},
    )


def kpi_drills_passed(fiscal_year: int) -> KpiValue:
    runs = [r for r in _runs(JobKind.RESTORE_DRILL, fiscal_year) if r.status != RunStatus.MISSED]
    passed = [r for r in runs if r.passed and r.status in OK_STATUSES]
    if not runs:  # no drill was run or scheduled that year: nothing to report, not "0 passed"
        return KpiValue(value=None, detail={"run": 0})
    return KpiValue(value=Decimal(len(passed)), evidence=_evidence(passed), detail={"run": len(runs)})


def drill_is_full(run: Run) -> bool:
    """A drill that restored every file (older records: sampled == available)."""
    detail = run.detail or {}
    if "full" in detail:
        return bool(detail["full"])
    return detail.get("sampled") is not None and detail.get("sampled") == detail.get("available")


def kpi_rto_attained(fiscal_year: int) -> KpiValue:
    drills = [r for r in _runs(JobKind.RESTORE_DRILL, fiscal_year) if r.status != RunStatus.MISSED]
    runs = [r for r in drills if drill_is_full(r)]
    met = [r for r in runs if r.rto_met]
    return KpiValue(
        value=kpi_percent(len(met), len(runs)),
        evidence=_evidence(runs),
        detail={"met": len(met), "run": len(runs), "samples_excluded": len(drills) - len(runs)},
    )


def register() -> None:
    register_kpi(Kpi("backups.success_rate", _("バックアップ成功率"), "%", "up", kpi_backup_success_rate))
    register_kpi(
        Kpi("backups.offsite_compliance", _("遠隔地保管の実施率"), "%", "up", kpi_offsite_compliance)
    )
    register_kpi(Kpi("backups.drills_passed", _("復元訓練の合格件数"), "件", "up", kpi_drills_passed))
    register_kpi(
        Kpi("backups.rto_attained", _("復元訓練のRTO達成率（全体復元で判定）"), "%", "up", kpi_rto_attained)
    )
