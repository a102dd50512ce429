"""The worker loop behind `mamori worker` and `mamori run-due`.

Each tick queues due jobs (`schedule_tick`), then drains the django-tasks database queue one task at a
time with django-tasks-db's own worker, so a stop request (SIGTERM / Ctrl-C) is honoured between
tasks and never interrupts a backup halfway. With a non-database task backend (the tests' immediate
backend) the tasks already ran when they were queued, and draining does nothing.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from django.db import close_old_connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker as DbWorker
from django_tasks_db.models import DBTaskResult

from mamori.apps.core.audit import audit_checkpoint_write
from mamori.apps.core.periodic import periodic_run

from .models import Run
from .scheduling import schedule_tick

logger = logging.getLogger(__name__)


class BackupWorker:
    """Scheduler + queue consumer; `clock` and `sleep` are injectable so tests can drive time."""

    def __init__(
        self,
        *,
        interval: float = 30.0,
        clock: Callable[[], datetime] = timezone.now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.running = True
        self.worker_id = f"mamori-{get_random_string(12)}"

    def stop(self, signum: int = 0, frame: FrameType | None = None) -> None:
        if not self.running:
            raise SystemExit(1)  # a second signal: stop now
        logger.warning("stopping after the current job (send the signal again to stop at once)")
        self.running = False

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def drain(self) -> int:
        """Run queued tasks until the queue is empty or a stop was requested; returns how many ran."""
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        if not isinstance(backend, DatabaseBackend):
            return 0
        ran = 0
        while self.running and DBTaskResult.objects.ready().filter(backend_name=backend.alias).exists():
            DbWorker(
                queue_names=["*"],
                interval=0,
                batch=True,
                backend_name=backend.alias,
                startup_delay=False,
                max_tasks=1,
                worker_id=self.worker_id,
                excluded_queue_names=[],
            ).run()
            ran += 1
        return ran

    def run_once(self) -> list[Run]:
        """One tick: queue what is due at `clock()`, run the queue dry, the apps' periodic work, checkpoint."""
        close_old_connections()
        queued = schedule_tick(now=self.clock())
        self.drain()
        periodic_run(now=self.clock())  # the other apps' periodic work (directory audits, reminders)
        audit_checkpoint_write(now=self.clock())
        return [Run.objects.get(pk=r.pk) for r in queued]

    def run_forever(self) -> None:
        """Tick every `interval` seconds; in between, poll the queue each second so that a job an
        officer started from the web page begins at once rather than at the next tick."""
        logger.info("worker %s started (tick every %.0f s)", self.worker_id, self.interval)
        since_tick = self.interval
        while self.running:
            if since_tick >= self.interval:
                self.run_once()
                since_tick = 0.0
            else:
                self.drain()
            self.sleep(1.0)
            since_tick += 1.0
        logger.info("worker %s stopped", self.worker_id)
