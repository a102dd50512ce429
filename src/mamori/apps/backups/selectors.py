"""Reads: systems visible to a user, the status light and 3-2-1-1-0 checklist of each system, histories.

Status light: red when the latest finished run of any job kind failed; amber when nothing failed but
the last successful backup is older than the RPO (or there is none), or the system is not yet protected
as its classification requires (`protection_gaps`, each gap a reason); green otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from mamori.apps.core.permissions import membership_department_ids
from mamori.apps.core.redaction import redact_text

from .checklist import Checklist, checklist_of, protection_gaps
from .models import (
    OK_STATUSES,
    Alert,
    JobKind,
    ProtectedSystem,
    Repository,
    RepositoryRole,
    Run,
    RunStatus,
)

GREEN, AMBER, RED = "green", "amber", "red"


def system_list(*, user: Any = None, include_inactive: bool = False) -> QuerySet[ProtectedSystem]:
    """Active systems (with `include_inactive`, deactivated ones too); department leads see their own
    department's subtree only."""
    qs = ProtectedSystem.objects.select_related("department__parent")
    if not include_inactive:
        qs = qs.filter(active=True)
    if user is not None:
        ids = membership_department_ids(user)
        if ids is not None:
            qs = qs.filter(department_id__in=ids)
    return qs


def system_get(*, user: Any, code: str) -> ProtectedSystem:
    """A system by code, deactivated ones included (their page offers to reactivate or delete)."""
    return get_object_or_404(system_list(user=user, include_inactive=True), code=code)


def inactive_system_list(*, user: Any) -> QuerySet[ProtectedSystem]:
    return system_list(user=user, include_inactive=True).filter(active=False)


def run_get(*, user: Any, pk: int) -> Run:
    return get_object_or_404(
        Run.objects.select_related("system", "repository", "target_repository").filter(
            system__in=system_list(user=user, include_inactive=True)
        ),
        pk=pk,
    )


def run_list(*, system: ProtectedSystem, limit: int = 100) -> list[Run]:
    return list(system.runs.select_related("repository")[:limit])


def alert_list(*, user: Any, open_only: bool = True) -> QuerySet[Alert]:
    qs = Alert.objects.filter(system__in=system_list(user=user)).select_related("system", "run")
    return qs.filter(acknowledged_at__isnull=True) if open_only else qs


def alert_get(*, user: Any, pk: int) -> Alert:
    return get_object_or_404(alert_list(user=user, open_only=False), pk=pk)


FINISHED_REAL = [RunStatus.SUCCEEDED, RunStatus.WARNING, RunStatus.FAILED]
STATUS_KINDS = [k for k in JobKind.values if k != JobKind.RESTORE]  # a person's restore is not protection
RECENT_WINDOW = 300


def _last(system: ProtectedSystem, kind: str, *, ok: bool) -> Run | None:
    qs = system.runs.filter(kind=kind, status__in=OK_STATUSES if ok else FINISHED_REAL)
    return qs.order_by("-finished_at", "-pk").first()


def _latest(system: ProtectedSystem) -> tuple[dict[str, Run | None], dict[str, Run | None]]:
    """The newest successful and the newest finished run of each kind: one query for the recent
    window, a query per kind only for kinds that did not run recently."""
    recent = system.runs.filter(status__in=FINISHED_REAL).order_by("-finished_at", "-pk")[:RECENT_WINDOW]
    last_ok: dict[str, Run | None] = {}
    last_any: dict[str, Run | None] = {}
    for run in recent:
        last_any.setdefault(run.kind, run)
        if run.status in OK_STATUSES:
            last_ok.setdefault(run.kind, run)
    for kind in STATUS_KINDS:
        if kind not in last_any:
            last_any[kind] = _last(system, kind, ok=False)
        if kind not in last_ok:
            last_ok[kind] = _last(system, kind, ok=True) if last_any[kind] is not None else None
    return last_ok, last_any


@dataclass
class SystemStatus:
    system: ProtectedSystem
    light: str
    reason: str
    last_backup: Run | None
    last_copy: Run | None
    last_check: Run | None
    last_drill: Run | None
    rpo_met: bool
    rto_met: bool | None
    checklist: Checklist
    repositories: list[Repository]
    open_alerts: int
    active_run: Run | None
    latest_failures: list[Run] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


def _repos_with_data(
    repos: list[Repository], last_backup: Run | None, last_copy: Run | None
) -> list[Repository]:
    holding = []
    for repo in repos:
        if repo.role == RepositoryRole.PRIMARY and last_backup is not None:
            holding.append(repo)
        elif repo.role == RepositoryRole.OFFSITE and last_copy is not None:
            holding.append(repo)
    return holding


def system_status(*, system: ProtectedSystem, now: datetime | None = None) -> SystemStatus:
    now = now or timezone.now()
    last, last_any = _latest(system)
    failures = [r for k in STATUS_KINDS if (r := last_any[k]) is not None and r.status == RunStatus.FAILED]
    repos = list(system.repositories.all())
    holding = _repos_with_data(repos, last[JobKind.BACKUP], last[JobKind.OFFSITE_COPY])
    last_check_any = last_any[JobKind.CHECK_SUBSET]
    checklist = checklist_of(repos, holding, last_check_any, now)
    backup = last[JobKind.BACKUP]
    rpo_met = (
        backup is not None
        and backup.finished_at is not None
        and (now - backup.finished_at <= timedelta(hours=system.rpo_hours))
    )
    drill = last_any[JobKind.RESTORE_DRILL]
    gaps = protection_gaps(system, checklist, last[JobKind.CHECK_SUBSET], now)
    if failures:
        light, reason = RED, _("{kind}が失敗しています").format(kind=failures[0].get_kind_display())
    elif not rpo_met:
        light, reason = AMBER, _("RPO内に成功したバックアップがありません")
    elif gaps:
        light, reason = AMBER, pgettext("separator", " ／ ").join(gaps)
    else:
        light, reason = GREEN, _("正常")
    active = system.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()
    return SystemStatus(
        system=system,
        light=light,
        reason=reason,
        last_backup=backup,
        last_copy=last[JobKind.OFFSITE_COPY],
        last_check=last_check_any,
        last_drill=drill,
        rpo_met=rpo_met,
        rto_met=drill.rto_met if drill else None,
        checklist=checklist,
        repositories=repos,
        open_alerts=system.alerts.filter(acknowledged_at__isnull=True).count(),
        active_run=active,
        latest_failures=failures,
        gaps=gaps,
    )


def status_list(*, user: Any = None) -> list[SystemStatus]:
    return [system_status(system=s) for s in system_list(user=user)]


def worst_of(statuses: list[SystemStatus]) -> list[SystemStatus]:
    """The systems at the worst light (red before amber before green): the overall light is theirs."""
    for light in (RED, AMBER, GREEN):
        if at := [st for st in statuses if st.light == light]:
            return at
    return []


@dataclass(frozen=True)
class HistoryPoint:
    """One finished backup for the charts; a failed run's figures are not a backup's (None)."""

    when: datetime
    bytes_total: int | None
    duration_s: float | None
    ok: bool


def backup_history(*, system: ProtectedSystem, limit: int = 60) -> list[HistoryPoint]:
    runs = system.runs.filter(kind=JobKind.BACKUP, finished_at__isnull=False).exclude(status=RunStatus.MISSED)
    points = [
        HistoryPoint(r.finished_at, r.bytes_total, r.duration_s, True)
        if r.status in OK_STATUSES
        else HistoryPoint(r.finished_at, None, None, False)
        for r in runs.order_by("-finished_at")[:limit]
        if r.finished_at is not None
    ]
    return list(reversed(points))


def status_as_dict(st: SystemStatus) -> dict[str, Any]:
    """The JSON shape of `mamori status --json` (no secrets: URLs and names only)."""

    def when(run: Run | None) -> str | None:
        return run.finished_at.isoformat() if run and run.finished_at else None

    drill = st.last_drill
    return {
        "code": st.system.code,
        "name": st.system.name,
        "department": st.system.department.full_name,
        "network_zone": st.system.network_zone,
        "status": st.light,
        "reason": redact_text(str(st.reason)),
        "protection_gaps": [redact_text(g) for g in st.gaps],
        "last_backup": {"time": when(st.last_backup), "snapshot": st.last_backup.snapshot_id}
        if st.last_backup
        else None,
        "last_offsite_copy": {"time": when(st.last_copy), "snapshot": st.last_copy.snapshot_id}
        if st.last_copy
        else None,
        "last_check": {"time": when(st.last_check), "ok": st.last_check.status in OK_STATUSES}
        if st.last_check
        else None,
        "last_drill": {
            "time": when(drill),
            "passed": bool(drill.passed) and drill.status in OK_STATUSES,
            "seconds": drill.duration_s,
        }
        if drill
        else None,
        "rpo_hours": st.system.rpo_hours,
        "rto_minutes": st.system.rto_minutes,
        "rpo_met": st.rpo_met,
        "rto_met": st.rto_met,
        "rule_3_2_1_1_0": st.checklist.flags,
        "rule_3_2_1_1_0_reasons": st.checklist.reasons,
        "open_alerts": st.open_alerts,
        "repositories": [
            {
                "name": r.name,
                "url": redact_text(r.url),
                "role": r.role,
                "medium": r.medium,
                "immutable_days": r.immutable_days,
                "object_lock": {
                    "mode": r.lock_mode or None,
                    "latest_snapshot": r.lock_snapshot or None,
                    "until": r.lock_until.isoformat() if r.lock_until else None,
                    "read_at": r.lock_read_at.isoformat() if r.lock_read_at else None,
                },
            }
            for r in st.repositories
        ],
    }
