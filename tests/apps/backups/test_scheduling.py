"""The scheduler and worker: cron in Japan time, due jobs run once, and a two-day outage is caught up
with ONE run plus a record of the missed occurrences (time driven by an injected clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from mamori.apps.backups import services
from mamori.apps.backups.cron import cron_next, cron_occurrences
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.jobs import run_request
from mamori.apps.backups.models import Alert, AlertKind, JobKind, Run, RunStatus, Trigger
from mamori.apps.backups.worker import BackupWorker
from mamori.apps.core.audit_checkpoints import checkpoint_files
from mamori.apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

# 2026-11-10 01:00 JST = 2026-11-09 16:00 UTC
T0 = datetime(2026, 11, 9, 16, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_cron_is_evaluated_in_japan_time():
    assert cron_next("0 2 * * *", T0) == datetime(2026, 11, 9, 17, 0, tzinfo=UTC)  # 02:00 JST
    days = cron_occurrences("0 2 * * *", datetime(2026, 11, 9, 17, 0, tzinfo=UTC), T0 + timedelta(days=3))
    assert len(days) == 3 and days[0] == datetime(2026, 11, 9, 17, 0, tzinfo=UTC)


def test_invalid_cron_is_refused_with_a_clear_message(sut):
    with pytest.raises(BackupError, match="cron式が正しくありません"):
        services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="every day")


def test_worker_runs_a_due_backup_once(sut):
    services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *", now=T0)
    clock = Clock(T0)
    worker = BackupWorker(clock=clock)
    assert worker.run_once() == []  # 01:00: nothing due yet
    clock.now = T0 + timedelta(hours=1, minutes=1)  # 02:01 JST
    runs = worker.run_once()
    assert [(r.kind, r.status, r.trigger) for r in runs] == [
        (JobKind.BACKUP, RunStatus.SUCCEEDED, Trigger.SCHEDULE)
    ]
    assert runs[0].scheduled_for == T0 + timedelta(hours=1)
    clock.now += timedelta(minutes=1)
    assert worker.run_once() == []  # not twice
    assert not Alert.objects.exists()


def test_each_worker_tick_checkpoints_the_audit_chain_head(sut, settings):
    services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *", now=T0)
    worker = BackupWorker(clock=Clock(T0 + timedelta(hours=1, minutes=1)))
    worker.run_once()
    [checkpoint] = checkpoint_files(settings.MAMORI_AUDIT_CHECKPOINT_DIR)
    assert checkpoint.name == "head-2026-11-10.json"  # the day in Japan
    assert json.loads(checkpoint.read_text())["sequence"] == AuditEvent.objects.count()


def test_two_days_down_runs_the_missed_backup_once_and_records_the_gap(sut, smtp_sink, settings):
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *", now=T0)
    clock = Clock(T0 + timedelta(hours=1, minutes=1))  # day 1, 02:01 JST: the regular backup
    worker = BackupWorker(clock=clock)
    assert len(worker.run_once()) == 1

    clock.now += timedelta(days=2, hours=8)  # the worker was stopped; it restarts on day 3 at 10:01 JST
    caught_up = worker.run_once()
    clock.now += timedelta(minutes=1)
    again = worker.run_once()

    assert len(caught_up) == 1 and again == []
    assert caught_up[0].status == RunStatus.SUCCEEDED
    assert caught_up[0].scheduled_for == T0 + timedelta(days=2, hours=1)  # day 3 02:00, the newest occurrence
    backups = Run.objects.filter(kind=JobKind.BACKUP)
    assert backups.filter(status=RunStatus.SUCCEEDED).count() == 2  # the regular one + ONE catch-up
    missed = list(backups.filter(status=RunStatus.MISSED))
    assert [m.scheduled_for for m in missed] == [T0 + timedelta(days=1, hours=1)]  # day 2 02:00
    alert = Alert.objects.get(kind=AlertKind.MISSED)
    assert "1回行われませんでした" in alert.message
    assert len(smtp_sink.messages) == 1 and "未実行" in smtp_sink.messages[0]["Subject"]
    assert AuditEvent.objects.filter(action="backups.schedule.advance").count() == 2
    schedule = sut.system.schedules.get()
    assert schedule.next_due_at == T0 + timedelta(days=3, hours=1)  # day 4 02:00


def test_run_due_command_runs_what_is_due(sut, capsys):
    services.schedule_set(
        actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *", now=T0 - timedelta(days=1)
    )
    call_command("run_due")
    out = capsys.readouterr().out
    assert "fileserver backup: succeeded" in out
    call_command("run_due")
    assert "nothing due" in capsys.readouterr().out


def test_worker_with_the_database_queue(sut, settings):
    """With the real django-tasks database backend the tick queues tasks and the worker drains them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # resets task_backends
    services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *", now=T0)
    worker = BackupWorker(clock=Clock(T0 + timedelta(hours=2)))
    runs = worker.run_once()
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 1


def test_worker_starts_a_job_queued_from_the_web_between_ticks(sut, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    requested = []

    def sleep(seconds: float) -> None:
        if (
            not requested
        ):  # an officer presses 「今すぐバックアップ」 while the worker waits for its next tick
            requested.append(run_request(actor="officer", system=sut.system, kind=JobKind.BACKUP))
        else:
            worker.stop()

    worker = BackupWorker(interval=30, clock=Clock(T0), sleep=sleep)
    worker.run_forever()
    requested[0].refresh_from_db()
    assert requested[0].status == RunStatus.SUCCEEDED
