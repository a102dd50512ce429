"""Running jobs: request a run (queued + enqueued as a task), execute it under a repository lock,
record the outcome, and raise an alert when it fails.

Only one job touches a repository at a time: `Repository.locked_by` is taken inside a transaction with
`select_for_update` (SQLite serialises writers anyway); a lock whose run has finished, or that is older
than `MAMORI_LOCK_STALE_HOURS`, is taken over. The engine keeps its own restic lock files as well.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from mamori.apps.core.audit import Actor, actor_name, audit_record
from mamori.apps.core.messages import Message, message_json, server_text
from mamori.apps.core.redaction import redact_value

from . import engine, executors
from .alerts import alert_raise
from .errors import BackupError
from .models import (
    FINISHED_STATUSES,
    AlertKind,
    JobKind,
    ProtectedSystem,
    Repository,
    RepositoryRole,
    Run,
    RunStatus,
    Schedule,
    Trigger,
)

logger = logging.getLogger(__name__)

REPOSITORY_BUSY = _("リポジトリが他のジョブで使用中のため実行できませんでした")
UNEXPECTED = _("予期しないエラー: {error}")
DRILL_FAILED = _("復元訓練で検証エラー: {problems}")
DRILL_FAILED_MORE = _("復元訓練で検証エラーが {count} 件あります。最初の {shown} 件: {problems}")
PROGRESS_INTERVAL_S = 0.5


def run_request(
    *,
    actor: Actor,
    system: ProtectedSystem,
    kind: str,
    trigger: str = Trigger.MANUAL,
    schedule: Schedule | None = None,
    scheduled_for: datetime | None = None,
    repository: Repository | None = None,
    detail: dict[str, Any] | None = None,
    enqueue: bool = True,
) -> Run:
    """Record a queued run and hand it to the task queue once the transaction commits."""
    if kind not in JobKind.values:
        raise BackupError(_("不明なジョブ種別です: {kind}").format(kind=kind), code="unknown_kind")
    with transaction.atomic():
        run = Run.objects.create(
            system=system,
            kind=kind,
            trigger=trigger,
            schedule=schedule,
            scheduled_for=scheduled_for,
            repository=repository,
            requested_by=actor_name(actor),
            detail=detail or {},
        )
        audit_record(
            actor=actor,
            action="backups.run.request",
            obj=run,
            after={"system": system.code, "kind": kind, "trigger": trigger, "scheduled_for": scheduled_for},
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    execute_run.enqueue(run_id=run_id)


@task()
def execute_run(run_id: int) -> str:
    """The queued task (django-tasks): execute one run and return its final status."""
    return str(run_execute(run_id=run_id).status)


def _repositories_for(run: Run) -> list[Repository]:
    repos = list(run.system.repositories.all())
    if run.kind == JobKind.BACKUP:
        repos = [r for r in repos if r.role == RepositoryRole.PRIMARY][:1]
    return sorted(repos, key=lambda r: r.pk)


def _try_lock(run: Run, repos: list[Repository]) -> bool:
    stale_before = timezone.now() - timedelta(hours=getattr(settings, "MAMORI_LOCK_STALE_HOURS", 24))
    with transaction.atomic():
        locked = list(
            Repository.objects.select_for_update().filter(pk__in=[r.pk for r in repos]).order_by("pk")
        )
        for repo in locked:
            holder = repo.locked_by
            if holder is None or holder.pk == run.pk:
                continue
            if holder.status in FINISHED_STATUSES or (repo.locked_at and repo.locked_at < stale_before):
                continue
            return False
        Repository.objects.filter(pk__in=[r.pk for r in locked]).update(
            locked_by=run, locked_at=timezone.now()
        )
    return True


def _unlock(run: Run) -> None:
    Repository.objects.filter(locked_by=run).update(locked_by=None, locked_at=None)


def _acquire(run: Run, repos: list[Repository]) -> bool:
    deadline = time.monotonic() + getattr(settings, "MAMORI_LOCK_WAIT_SECONDS", 600)
    while not _try_lock(run, repos):
        if time.monotonic() >= deadline:
            return False
        time.sleep(2)
    return True


def _progress_writer(run: Run) -> executors.ProgressFn:
    last = [0.0]
    owner = threading.get_ident()

    def write(p: engine.Progress) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL_S or threading.get_ident() != owner:
            return  # throttled; and never from an engine pool thread (it would open its own DB connection)
        last[0] = now
        percent = round(100 * p.bytes_done / p.bytes_total) if p.bytes_total else None
        Run.objects.filter(pk=run.pk).update(
            progress={
                "files_done": p.files_done,
                "bytes_done": p.bytes_done,
                "files_total": p.files_total,
                "bytes_total": p.bytes_total,
                "percent": percent,
                "current": (p.current or "")[-120:],
            }
        )

    return write


def run_execute(*, run_id: int) -> Run:
    """Execute a queued run; every outcome, including an engine error, ends as a finished record."""
    run = Run.objects.select_related("system", "schedule", "repository", "target_repository").get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run  # already executed (a task delivered twice runs once)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    run.refresh_from_db()
    started = time.monotonic()
    outcome: executors.Outcome | None = None
    error: Any = ""
    try:
        if not _acquire(run, _repositories_for(run)):
            raise BackupError(REPOSITORY_BUSY, code="repository_busy")
        outcome = executors.EXECUTORS[run.kind](run, _progress_writer(run))
    except BackupError as exc:
        error = exc.stored
    except Exception as exc:  # an unexpected bug must still end the run as failed and alert
        logger.exception("run %s failed unexpectedly", run.pk)
        error = message_json(Message(UNEXPECTED, error=f"{type(exc).__name__}: {exc}"))
    finally:
        _unlock(run)
    return _finish(run, outcome, error, time.monotonic() - started)


def _finish(run: Run, outcome: executors.Outcome | None, error: Any, seconds: float) -> Run:
    """Record the outcome; `error` is a stored message (`message_json`): the record keeps it to be
    read in each reader's language, and its text in the server's language for mail, logs and audit."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        run.finished_at = timezone.now()
        run.duration_s = round(seconds, 3)
        run.progress = {}
        if outcome is not None:
            run.snapshot_id = outcome.snapshot_id
            run.files_total, run.files_new = outcome.files_total, outcome.files_new
            run.bytes_total, run.bytes_new = outcome.bytes_total, outcome.bytes_new
            run.detail = {**run.detail, **outcome.detail}
            run.passed = outcome.passed
        if run.kind == JobKind.RESTORE_DRILL and outcome is not None:
            run.duration_s = outcome.detail["seconds"]
            # only a full restore shows the RTO; a sample's time is no evidence of it (None, with an estimate)
            within = run.duration_s <= run.system.rto_minutes * 60
            run.rto_met = (bool(outcome.passed) and within) if outcome.detail.get("full") else None
            if not outcome.passed:
                error = message_json(_drill_failed(outcome.detail))
        # an engine or dump message may quote a URL: no credential reaches the record
        if error:
            run.status, run.error_message = RunStatus.FAILED, redact_value(error)
        elif outcome is not None and outcome.warnings:
            run.status, run.error_message = RunStatus.WARNING, message_json(outcome.warnings[:100])
        else:
            run.status = RunStatus.SUCCEEDED
        if run.error_message is not None:
            run.error_text = server_text(run.error_message)
        run.save()
        audit_record(
            actor="system",
            action="backups.run.finish",
            obj=run,
            after={"status": run.status, "snapshot_id": run.snapshot_id, "error": run.error_text[:500]},
        )
        if run.status == RunStatus.FAILED:
            alert_raise(
                system=run.system,
                kind=AlertKind.FAILED,
                run=run,
                key="run_failed",
                params={"kind": run.kind, "error": run.error_message},
            )
    return run


def runs_active(system: ProtectedSystem) -> bool:
    return (
        Run.objects.filter(system=system)
        .filter(Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING))
        .exists()
    )


def _drill_failed(detail: dict[str, Any]) -> Message:
    """A failed drill's one line: its first problems, and how many there are when it names not all."""
    problems, count = detail["problems"], detail["problems_count"]
    shown = executors.SHOWN
    if count > shown:
        return Message(DRILL_FAILED_MORE, count=f"{count:,}", shown=shown, problems=problems[:shown])
    return Message(DRILL_FAILED, problems=problems)
