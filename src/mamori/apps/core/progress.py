"""Long-running work started from a page, run by the worker, shown with a progress bar, ending in a file.

An app registers a kind in its `AppConfig.ready()`:

    progress_kind_register(ProgressKind(key="evaluation.year", label=_("…"), run=year_run,
                                        roles=READERS, readers=READERS))

where `run(job, report)` reads `job.params`, calls `report(done, total, message)` as it goes and
returns a `ProgressResult` (the file's name, bytes and type) or raises `ApplicationError`. A view calls
`progress_start(actor=request.user, kind=..., title=..., params=...)` and redirects to
`reverse("progress_detail", args=[job.pk])`: that page polls a partial every second with htmx and
refreshes itself without JavaScript; when the job is done it links to the download. A job whose
outcome is a change rather than a file (an import) returns `ProgressResult(message=...)`, and its
kind's `detail` names the page that shows the outcome in full.

- The job runs on the django-tasks queue (`mamori worker` drains it), in the language of the page
  that started it. Starting and finishing are audit events (`core.progress.start` / `.finish`).
- The result is a private file under MAMORI_HOME/progress (0600), kept KEEP_DAYS days after the job
  finished, then swept when the next job starts. Only the owner — and the roles the kind names as
  `readers` — may see a job or download its file; anyone else gets 404.
- An `ApplicationError` fails the job with its message; any other exception fails it with a generic
  message (the traceback goes to the log, never to the page).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from .audit import audit_record
from .errors import ApplicationError
from .models import ProgressJob, ProgressState
from .permissions import user_role

logger = logging.getLogger(__name__)

KEEP_DAYS = 7
REPORT_INTERVAL_S = 0.5
UNKNOWN_KIND = _("この種類の処理はありません: {kind}")
NOT_ALLOWED = _("この処理を開始する権限がありません。")
UNEXPECTED = _("予期しないエラーで処理が止まりました。管理者がログを確認できます。")


class Report(Protocol):
    def __call__(self, done: int, total: int, message: str = "") -> None: ...


@dataclass(frozen=True)
class ProgressResult:
    filename: str = ""  # none: the job made no file, only its message
    data: bytes = b""
    content_type: str = ""
    message: str = ""


@dataclass(frozen=True)
class ProgressKind:
    key: str
    label: Any
    run: Callable[[ProgressJob, Report], ProgressResult]
    roles: frozenset[str]  # who may start one
    readers: frozenset[str] = frozenset()  # who may see every job of this kind, besides its owner
    back: Callable[[ProgressJob], str] | None = None  # the page the job's page links back to
    detail: Callable[[ProgressJob], str] | None = None  # the page with the whole outcome, once finished


_kinds: dict[str, ProgressKind] = {}


def progress_kind_register(kind: ProgressKind) -> None:
    _kinds[kind.key] = kind


def progress_kind_find(key: str) -> ProgressKind | None:
    return _kinds.get(key)


def progress_kind(key: str) -> ProgressKind:
    kind = _kinds.get(key)
    if kind is None:
        raise ApplicationError(UNKNOWN_KIND.format(kind=key), code="unknown_kind")
    return kind


def _directory() -> Path:
    path = Path(settings.MAMORI_HOME) / "progress"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def progress_result_path(job: ProgressJob) -> Path | None:
    """The result file on disk, or None when the job has none (yet, or any more)."""
    if not job.result_file:
        return None
    path = _directory() / job.result_file
    return path if path.is_file() else None


def _sweep() -> None:
    """Delete the result files of jobs that finished more than KEEP_DAYS ago."""
    old = ProgressJob.objects.filter(finished_at__lt=timezone.now() - timedelta(days=KEEP_DAYS))
    for job in old.exclude(result_file=""):
        (_directory() / job.result_file).unlink(missing_ok=True)
    old.exclude(result_file="").update(result_file="")


def progress_start(*, actor: Any, kind: str, title: str, params: dict[str, Any] | None = None) -> ProgressJob:
    """Record a queued job for `actor` and hand it to the worker once the transaction commits."""
    spec = progress_kind(kind)
    if user_role(actor) not in spec.roles:
        raise ApplicationError(NOT_ALLOWED, code="forbidden", http_status=403)
    _sweep()
    with transaction.atomic():
        job = ProgressJob.objects.create(
            owner=actor,
            kind=kind,
            title=title[:200],
            params=params or {},
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        audit_record(actor=actor, action="core.progress.start", obj=job, after={"kind": kind, **job.params})
        transaction.on_commit(lambda: progress_run.enqueue(job_id=job.pk))
    return job


@task()
def progress_run(job_id: int) -> str:
    """The queued task (django-tasks): run one job and return its final state."""
    return str(progress_execute(job_id=job_id).state)


def _reporter(job: ProgressJob) -> Report:
    last = [0.0]

    def report(done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if now - last[0] < REPORT_INTERVAL_S and done < total:
            return  # throttled: a page polls once a second
        last[0] = now
        ProgressJob.objects.filter(pk=job.pk).update(done=done, total=total, message=str(message)[:300])

    return report


def _store(job: ProgressJob, result: ProgressResult) -> str:
    name = f"{job.pk}-{secrets.token_hex(8)}"
    fd = os.open(_directory() / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(result.data)
    return name


def progress_execute(*, job_id: int) -> ProgressJob:
    """Run a queued job to its end; every outcome, an error included, ends as a finished record."""
    job = ProgressJob.objects.get(pk=job_id)
    if job.state != ProgressState.QUEUED:
        return job  # a task delivered twice runs once
    ProgressJob.objects.filter(pk=job.pk).update(state=ProgressState.RUNNING, started_at=timezone.now())
    result: ProgressResult | None = None
    stored = error = ""
    try:
        with translation.override(job.language):
            result = progress_kind(job.kind).run(job, _reporter(job))
            stored = _store(job, result) if result.filename else ""
    except ApplicationError as exc:
        error = str(exc.message)
    except Exception:  # a bug must still end the job, and never show its traceback on the page
        logger.exception("progress job %s (%s) failed", job.pk, job.kind)
        error = str(UNEXPECTED)
    with transaction.atomic():
        job = ProgressJob.objects.select_for_update().get(pk=job.pk)
        job.finished_at = timezone.now()
        if result is not None and not error:
            job.state = ProgressState.SUCCEEDED
            job.done = job.total = max(job.total, job.done, 1)
            job.message = result.message[:300]
            job.result_file, job.result_name = stored, result.filename[:200]
            job.result_type, job.result_size = result.content_type, len(result.data)
        else:
            job.state, job.error = ProgressState.FAILED, error
        job.save()
        audit_record(
            actor="system",
            action="core.progress.finish",
            obj=job,
            after={
                "state": job.state,
                "file": job.result_name,
                "size": job.result_size,
                "error": error[:500],
            },
        )
    return job


def progress_job_list(*, user: Any) -> QuerySet[ProgressJob]:
    """The jobs `user` may see: their own, and every job of a kind whose readers include their role."""
    role = user_role(user)
    shared = [key for key, kind in _kinds.items() if role in kind.readers]
    return ProgressJob.objects.filter(Q(owner=user) | Q(kind__in=shared))


def progress_job_get(*, user: Any, pk: int) -> ProgressJob:
    return get_object_or_404(progress_job_list(user=user), pk=pk)
