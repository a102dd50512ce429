"""The worker's periodic passwords work: each directory's audit every `audit_every_hours`, and the
reminder mails once a day (both also available as `mamori passwords audit` / `remind` for cron)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mamori.apps.core.models import AuditEvent

from . import services
from .errors import DirectoryError
from .models import Directory

ACTOR = "worker"
logger = logging.getLogger(__name__)
REMIND_EVERY = timedelta(days=1)


def periodic_tick(now: datetime) -> None:
    for directory in Directory.objects.filter(audit_every_hours__gt=0):
        last = directory.runs.order_by("-started_at").first()  # a failed run counts: no retry storm
        if last is None or now - last.started_at >= timedelta(hours=directory.audit_every_hours):
            try:
                services.audit_run(actor=ACTOR, directory=directory, now=now)
            except DirectoryError as exc:  # stored as a failed run with its message; the others still run
                logger.warning("directory audit %s failed: %s", directory.name, exc)
    sent = AuditEvent.objects.filter(action="passwords.reminders.send", occurred_at__gt=now - REMIND_EVERY)
    if Directory.objects.exists() and not sent.exists():
        services.reminders_send(actor=ACTOR)
