"""`mamori worker`: run the scheduler and the job queue until SIGTERM or Ctrl-C."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mamori.apps.backups.worker import BackupWorker


class Command(BaseCommand):
    help = "スケジュールされたバックアップ・遠隔地コピー・検査・復元訓練を実行し続けます（SIGTERM / Ctrl-C で停止）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between scheduler ticks")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = BackupWorker(interval=options["interval"])
        worker.install_signals()
        self.stdout.write(
            f"mamori worker: tick every {options['interval']:.0f} s; stop with Ctrl-C or SIGTERM"
        )
        worker.run_forever()
