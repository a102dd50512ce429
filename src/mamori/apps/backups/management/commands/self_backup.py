"""`mamori self-backup setup | restore`: mamori's own data as a built-in protected system.

    mamori self-backup setup --department 1004 --primary /backup/mamori --offsite sftp:nas01:/srv/mamori
    mamori self-backup restore --repo /backup/mamori [--password-file FILE] [--snapshot latest]

`restore` uses no database: it installs the database and the audit checkpoints from the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.selfbackup import password_path, self_backup_setup, self_restore
from mamori.apps.core.models import Department


class Command(BaseCommand):
    help = "mamori 自身のデータ（データベースと監査チェックポイント）のバックアップを設定・復元します"
    requires_system_checks: list[str] = []  # restore runs when the database is gone

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        setup = sub.add_parser("setup", help="create the built-in system 'mamori' with daily schedules")
        setup.add_argument("--department", required=True, help="code of the owning department (e.g. 1004)")
        setup.add_argument("--primary", required=True, help="primary repository URL")
        setup.add_argument("--offsite", default="", help="offsite repository URL (another host or service)")
        restore = sub.add_parser("restore", help="install the database and checkpoints from a self-backup")
        restore.add_argument("--repo", required=True, help="repository URL of the self-backup")
        restore.add_argument("--password-file", help=f"default: {password_path()}")
        restore.add_argument("--snapshot", default="latest")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "setup":
                self._setup(options)
            else:
                self._restore(options)
        except BackupError as exc:
            raise CommandError(exc.message) from exc

    def _setup(self, options: dict[str, Any]) -> None:
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            raise CommandError(f"no department with code {options['department']}")
        system = self_backup_setup(
            actor="cli", department=department, primary_url=options["primary"], offsite_url=options["offsite"]
        )
        self.stdout.write(
            f"self-backup: system '{system.code}' with {system.repositories.count()} repositories; "
            f"password in {password_path()} (keep a copy in the sealed envelope)"
        )

    def _restore(self, options: dict[str, Any]) -> None:
        path = Path(options["password_file"] or password_path())
        try:
            password = path.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise CommandError(f"cannot read the password file {path}") from exc
        done = self_restore(url=options["repo"], password=password, snapshot=options["snapshot"])
        where = done.installed or "the configured PostgreSQL database"
        self.stdout.write(f"restored snapshot {done.snapshot}: {done.database} database into {where}")
        self.stdout.write(
            f"{len(done.checkpoints)} audit checkpoint file(s) added; next: mamori audit verify"
        )
