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

from mamori.apps.core.models import Classification
from mamori.apps.core.permissions import membership_department_ids
from mamori.apps.core.redaction import redact_text

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
class Checklist:
    """3-2-1-1-0: copies (production + repositories holding data), media, offsite, immutable, errors."""

    copies: int
    media: int
    offsite: bool
    immutable: bool
    check_clean: bool

    @property
    def flags(self) -> dict[str, bool]:
        return {
            "three_copies": self.copies >= 3,
            "two_media": self.media >= 2,
            "one_offsite": self.offsite,
            "one_immutable": self.immutable,
            "zero_errors": self.check_clean,
        }

    @property
    def complete(self) -> bool:
        return all(self.flags.values())


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


REMOTE_SCHEMES = ("sftp:", "s3:", "rest:")  # another host or service; a bare path or local: is this host
CHECK_MAX_DAYS = {
    Classification.CONFIDENTIAL_3: 7,
    Classification.CONFIDENTIAL_2: 31,
    Classification.CONFIDENTIAL_1: 92,
}
IMMUTABLE_REQUIRED = {Classification.CONFIDENTIAL_3}

LOCAL_NOT_OFFSITE = _(
    "遠隔地リポジトリ「{name}」は同じサーバ上のパスのため遠隔地とみなしません（別のホストかサービス sftp: / s3: / rest: を指定してください）"
)
NO_OFFSITE_REPOSITORY = _("遠隔地リポジトリがありません")
NO_OFFSITE_COPY = _("遠隔地コピーがまだありません（「今すぐ遠隔地コピー」で実行できます）")
TOO_FEW_COPIES = _("コピーが3つありません（本番を含めて {copies} つ）")
ONE_MEDIUM = _("2種類目の媒体（別のホストかサービス）にコピーがありません")
NO_IMMUTABLE = _("{classification}のシステムには改ざん防止（イミュータブル）のコピーが必要です")
NO_CHECK = _("整合性検査がまだありません（「今すぐ検査」で実行できます）")
OLD_CHECK = _("整合性検査が{days}日以上行われていません（{classification}は{days}日ごと）")


def repository_is_remote(repo: Repository) -> bool:
    """Offsite and a second medium count only for another host or service (the design rule)."""
    return repo.url.startswith(REMOTE_SCHEMES)


def protection_gaps(
    system: ProtectedSystem,
    checklist: Checklist,
    repos: list[Repository],
    last_check: Run | None,
    now: datetime,
) -> list[str]:
    """Why a system is not yet protected as its classification requires: the 3-2-1-0 part of the rule
    for every system, an immutable copy for 機密性3, and a clean check within the classification's days."""
    gaps: list[str] = []
    offsite_repos = [r for r in repos if r.role == RepositoryRole.OFFSITE]
    if not checklist.offsite:
        local = [r for r in offsite_repos if not repository_is_remote(r)]
        if not offsite_repos:
            gaps.append(str(NO_OFFSITE_REPOSITORY))
        elif local and len(local) == len(offsite_repos):
            gaps.append(str(LOCAL_NOT_OFFSITE.format(name=local[0].name)))
        else:
            gaps.append(str(NO_OFFSITE_COPY))
    if checklist.copies < 3:
        gaps.append(str(TOO_FEW_COPIES.format(copies=checklist.copies)))
    if checklist.media < 2 and checklist.offsite:  # both copies on one kind of remote medium
        gaps.append(str(ONE_MEDIUM))
    label = system.get_classification_display()
    if system.classification in IMMUTABLE_REQUIRED and not checklist.immutable:
        gaps.append(str(NO_IMMUTABLE.format(classification=label)))
    days = CHECK_MAX_DAYS.get(system.classification)
    if last_check is None or last_check.status not in OK_STATUSES:
        gaps.append(str(NO_CHECK))
    elif days and last_check.finished_at and now - last_check.finished_at > timedelta(days=days):
        gaps.append(str(OLD_CHECK.format(days=days, classification=label)))
    return gaps


def system_status(*, system: ProtectedSystem, now: datetime | None = None) -> SystemStatus:
    now = now or timezone.now()
    last, last_any = _latest(system)
    failures = [r for k in STATUS_KINDS if (r := last_any[k]) is not None and r.status == RunStatus.FAILED]
    repos = list(system.repositories.all())
    holding = _repos_with_data(repos, last[JobKind.BACKUP], last[JobKind.OFFSITE_COPY])
    last_check_any = last_any[JobKind.CHECK_SUBSET]
    checklist = Checklist(
        copies=1 + len(holding),
        # every repository on this host is one medium with the production data's host
        media=len({r.medium if repository_is_remote(r) else "this-host" for r in holding}),
        offsite=any(r.role == RepositoryRole.OFFSITE and repository_is_remote(r) for r in holding),
        immutable=any(r.immutable for r in holding),
        check_clean=last_check_any is not None and last_check_any.status in OK_STATUSES,
    )
    backup = last[JobKind.BACKUP]
    rpo_met = (
        backup is not None
        and backup.finished_at is not None
        and (now - backup.finished_at <= timedelta(hours=system.rpo_hours))
    )
    drill = last_any[JobKind.RESTORE_DRILL]
    gaps = protection_gaps(system, checklist, repos, last[JobKind.CHECK_SUBSET], now)
    if failures:
        light, reason = RED, _("{kind}が失敗しています").format(kind=failures[0].get_kind_display())
    elif not rpo_met:
        light, reason = AMBER, _("RPO内に成功したバックアップがありません")
    elif gaps:
        light, reason = AMBER, " ／ ".join(gaps)
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


@dataclass(frozen=True)
class HistoryPoint:
    when: datetime
    bytes_total: int
    duration_s: float
    ok: bool


def backup_history(*, system: ProtectedSystem, limit: int = 60) -> list[HistoryPoint]:
    runs = system.runs.filter(kind=JobKind.BACKUP, finished_at__isnull=False).exclude(status=RunStatus.MISSED)
    points = [
        HistoryPoint(r.finished_at, r.bytes_total or 0, r.duration_s or 0.0, r.status in OK_STATUSES)
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
        "open_alerts": st.open_alerts,
        "repositories": [
            {
                "name": r.name,
                "url": redact_text(r.url),
                "role": r.role,
                "medium": r.medium,
                "immutable": r.immutable,
            }
            for r in st.repositories
        ],
    }
