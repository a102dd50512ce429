"""`mamori run-due`: run every job that is due once, then exit (for cron); exit 1 if one failed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mamori.apps.backups.models import RunStatus
from mamori.apps.backups.worker import BackupWorker


class Command(BaseCommand):
    help = "期限の来たジョブを一度だけ実行します（cron 用）"

    def handle(self, *args: Any, **options: Any) -> None:
        runs = BackupWorker().run_once()
        for run in runs:
            line = f"{run.system.code} {run.kind}: {run.status}"
            self.stdout.write(f"{line} {run.error_text}".rstrip())
        if not runs:
            self.stdout.write("nothing due")
        failed = [r for r in runs if r.status == RunStatus.FAILED]
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed")
