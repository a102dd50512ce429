"""`mamori import staff FILE`: import staff from CSV (UTF-8 or CP932), all or nothing."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.staff_import import staff_import


class Command(BaseCommand):
    help = "Import data from files. `staff FILE`: staff CSV (UTF-8 with or without BOM, or CP932)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True, metavar="staff")
        staff = sub.add_parser("staff", help="import staff from a CSV file (all or nothing)")
        staff.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=1) from exc
        result = staff_import(actor=f"cli:{getpass.getuser()}", data=data, filename=path.name)
        if not result.ok:
            for line in result.errors:
                self.stderr.write(line)
            if result.errors_not_shown:
                self.stderr.write(f"... and {result.errors_not_shown:,} more")
            raise CommandError(f"{path}: {result.error_count:,} error(s); nothing was imported", returncode=1)
        self.stdout.write(
            f"{path}: {result.rows} rows ({result.encoding}): {result.created} created, "
            f"{result.updated} updated ({result.transferred} transferred), {result.unchanged} unchanged"
        )
