"""The scheduler: turns due schedules into queued runs, and detects runs missed during downtime.

Each schedule keeps `next_due_at`. A tick at `now` takes every schedule due by then; when several
occurrences passed while no worker ran (e.g. two days down), the job runs ONCE for the newest
occurrence and each older occurrence is recorded as a missed run with one alert for the gap.
`now` is a parameter so that tests drive time instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import audit_record
from mamori.apps.core.messages import Message, message_json, server_text

from .alerts import alert_raise
from .cron import cron_next, cron_occurrences
from .jobs import run_request
from .models import AlertKind, Run, RunStatus, Schedule, Trigger

NOT_RUN = _("{when} の予定実行はワーカー停止中のため行われませんでした")


def _late_grace() -> timedelta:
    return timedelta(minutes=getattr(settings, "MAMORI_MISSED_GRACE_MINUTES", 60))


def _fmt(t: datetime) -> str:
    return timezone.localtime(t).strftime("%Y-%m-%d %H:%M")


def schedule_tick(*, now: datetime | None = None) -> list[Run]:
    """Queue every due job once; record missed occurrences. Returns the runs queued."""
    now = now or timezone.now()
    queued: list[Run] = []
    due_ids = list(
        Schedule.objects.filter(enabled=True, next_due_at__lte=now, system__active=True).values_list(
            "pk", flat=True
        )
    )
    for pk in due_ids:
        run = _tick_one(pk, now)
        if run is not None:
            queued.append(run)
    return queued


def _tick_one(pk: int, now: datetime) -> Run | None:
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update(of=("self",)).select_related("system").get(pk=pk)
        if not schedule.enabled or schedule.next_due_at is None or schedule.next_due_at > now:
            return None  # another worker took it
        due = schedule.next_due_at
        occurrences = cron_occurrences(schedule.cron, due, now) or [due]
        latest, missed = occurrences[-1], occurrences[:-1]
        before = {"next_due_at": due}
        schedule.next_due_at = cron_next(schedule.cron, now)
        schedule.save(update_fields=["next_due_at"])
        audit_record(
            actor="system",
            action="backups.schedule.advance",
            obj=schedule,
            before=before,
            after={"next_due_at": schedule.next_due_at, "missed": len(missed)},
        )
        for t in missed:
            Run.objects.create(
                system=schedule.system,
                kind=schedule.kind,
                schedule=schedule,
                trigger=Trigger.SCHEDULE,
                status=RunStatus.MISSED,
                scheduled_for=t,
                finished_at=now,
                error_message=(not_run := message_json(Message(NOT_RUN, when=_fmt(t)))),
                error_text=server_text(not_run),
            )
        late = now - latest
        if missed or late > _late_grace():
            params = {"kind": schedule.kind, "latest": _fmt(latest)}
            if missed:
                params |= {"count": str(len(missed)), "first": _fmt(missed[0]), "last": _fmt(missed[-1])}
            alert_raise(
                system=schedule.system,
                kind=AlertKind.MISSED,
                key="runs_missed" if missed else "run_late",
                params=params,
            )
        pending = Run.objects.filter(
            schedule=schedule, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
        ).exists()
        if pending:
            return None  # the previous occurrence has not run yet: do not pile up duplicates
        return run_request(
            actor="system",
            system=schedule.system,
            kind=schedule.kind,
            trigger=Trigger.SCHEDULE,
            schedule=schedule,
            scheduled_for=latest,
        )
