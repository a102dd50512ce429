"""`mamori passwords load-corpus FILE` | `audit [--directory NAME]` | `remind`.

load-corpus: load a downloaded Pwned Passwords file (ordered by hash) into MAMORI_HOME/pwned, with
progress; run it again after an interruption to continue. audit: audit every directory (or one), for
cron; a failing directory is reported and the others still run. remind: mail the staff whose change
is due (rotation) or forced, and the officers the list with the leavers' enabled accounts (daily).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.errors import ApplicationError

from ... import selectors, services

ACTOR = "cli"


class Command(BaseCommand):
    help = "パスワード: 漏えいパスワード一覧の読み込み、ディレクトリの監査"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load-corpus", help="load a Pwned Passwords file (SHA1:COUNT, ordered by hash)")
        load.add_argument("file", type=Path)
        audit = sub.add_parser("audit", help="audit the directories now")
        audit.add_argument("--directory", help="only the directory with this name")
        sub.add_parser("remind", help="mail the staff whose password change is due, and the officers")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load-corpus":
            self._load(options["file"])
        elif options["action"] == "remind":
            counts = services.reminders_send(actor=ACTOR)
            self.stdout.write(f"{counts['staff_mails']} staff reminded, {counts['due']} accounts due")
        else:
            self._audit(options.get("directory"))

    def _load(self, path: Path) -> None:
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 1 or done == total:
                last[0] = now
                self.stderr.write(
                    f"\r{100 * done / max(total, 1):5.1f}%  {done:,} / {total:,} bytes", ending=""
                )

        try:
            records = services.corpus_load(actor=ACTOR, source=path, progress=progress)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write("")
        self.stdout.write(f"{records:,} hashes loaded in {time.monotonic() - started:.1f} s")

    def _audit(self, name: str | None) -> None:
        directories = [d for d in selectors.directory_list() if name is None or d.name == name]
        if name and not directories:
            raise CommandError(f"no directory named {name!r}")
        failed = 0
        for directory in directories:
            try:
                run = services.audit_run(actor=ACTOR, directory=directory)
            except ApplicationError as exc:
                failed += 1
                self.stdout.write(f"{directory.name}: FAILED {exc}")
                continue
            self.stdout.write(
                f"{directory.name}: {run.accounts} accounts, {run.compliant}/{run.enabled} compliant, "
                f"{run.overdue} overdue, {run.stale} stale, {run.leavers_enabled} leavers enabled"
            )
        if failed:
            raise CommandError(f"{failed} directory audit(s) failed", returncode=1)
