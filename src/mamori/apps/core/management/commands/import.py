"""`mamori import staff FILE [--dry-run] [--accept-warnings]`, and the other apps' files
(`mamori import devices-inventory FILE`, ...; `core.import_commands`): all or nothing.

Exit status: 0 imported; 1 nothing imported (a file that cannot be read, is of no known format or too
large, or has errors — each printed on its own line on stderr, with the count); 2 a usage error.

For staff, every creation and change (old → new) is printed, one line each; `--dry-run` prints them
and writes nothing. A warning (a number that looks stripped of its leading zeros) stops the import
unless `--accept-warnings` is given, so a script never creates duplicate people unnoticed. The other
imports print a progress line while they run (on a terminal) and one summary line.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.import_commands import ImportCommand, import_commands
from mamori.apps.core.staff_import import StaffImportResult, staff_import, staff_import_preview

MAX_ERROR_LINES = 100


def preview_lines(result: StaffImportResult) -> list[str]:
    """`+` a new person, `~` a changed one, with each changed field as `label: old → new`."""
    lines = [f"+ {c.employee_number} {c.name} — {c.department} (line {c.line})" for c in result.creations]
    for change in result.changes:
        fields = [*change.fields, *([change.transfer] if change.transfer else [])]
        diff = "; ".join(f"{f.label}: {f.old or '-'} → {f.new or '-'}" for f in fields)
        lines.append(f"~ {change.employee_number} {change.name} (line {change.line}): {diff}")
    listed = len(result.creations) + len(result.changes)
    if listed < result.created + result.updated:
        lines.append(f"... and {result.created + result.updated - listed:,} more")
    return lines


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


class Command(BaseCommand):
    help = (
        "Import data from files, all or nothing. `staff FILE`: staff CSV (UTF-8 with or without BOM, "
        "or CP932); the other kinds are listed below. Exit status 0 imported, 1 nothing imported, 2 usage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        others = import_commands()
        sub = parser.add_subparsers(
            dest="kind", required=True, metavar="|".join(["staff", *(c.name for c in others)])
        )
        staff = sub.add_parser("staff", help="import staff from a CSV file (all or nothing)")
        staff.add_argument("file", type=Path)
        staff.add_argument(
            "--dry-run",
            action="store_true",
            help="print what the import would create and change; write nothing",
        )
        staff.add_argument(
            "--accept-warnings",
            action="store_true",
            help="import even when a number looks stripped of its leading zeros",
        )
        for command in others:
            sub.add_parser(command.name, help=command.help).add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if options["kind"] != "staff":
            self._other({c.name: c for c in import_commands()}[options["kind"]], path)
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=1) from exc
        result = staff_import_preview(data=data)
        if result.ok and not options["dry_run"] and (options["accept_warnings"] or not result.warnings):
            result = staff_import(
                actor=_actor(), data=data, filename=path.name, expected_digest=result.digest
            )
        if not result.ok:
            for line in result.errors:
                self.stderr.write(line)
            if result.errors_not_shown:
                self.stderr.write(f"... and {result.errors_not_shown:,} more")
            raise CommandError(f"{path}: {result.error_count:,} error(s); nothing was imported", returncode=1)
        for line in preview_lines(result):
            self.stdout.write(line)
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        counts = (
            f"{result.created} created, {result.updated} updated ({result.transferred} transferred), "
            f"{result.unchanged} unchanged"
        )
        if options["dry_run"]:
            self.stdout.write(
                f"{path}: {result.rows} rows ({result.encoding}): would be {counts}; dry run, nothing imported"
            )
        elif result.warnings and not options["accept_warnings"]:
            raise CommandError(
                f"{path}: {len(result.warnings)} warning(s); nothing was imported "
                "(check the numbers; --accept-warnings imports anyway)",
                returncode=1,
            )
        else:
            self.stdout.write(f"{path}: {result.rows} rows ({result.encoding}): {counts}")

    def _other(self, command: ImportCommand, path: Path) -> None:
        """An app's import: a progress line on a terminal, then the summary or every error."""
        tty = self.stderr.isatty()

        def progress_line(done: int, total: int, message: str = "") -> None:
            if tty:
                self.stderr.write(f"\r\033[K{done:,}/{total:,} {message}", ending="")

        if not path.is_file():
            raise CommandError(f"cannot read {path}: not a file", returncode=1)
        try:
            outcome = command.run(path=path, actor=_actor(), report=progress_line)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=1) from exc
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}; nothing was imported", returncode=1) from exc
        finally:
            if tty:
                self.stderr.write("\r\033[K", ending="")
        if not outcome.ok:
            for line in outcome.errors[:MAX_ERROR_LINES]:
                self.stderr.write(line)
            if outcome.error_count > min(len(outcome.errors), MAX_ERROR_LINES):
                self.stderr.write(
                    f"... and {outcome.error_count - len(outcome.errors[:MAX_ERROR_LINES]):,} more"
                )
            raise CommandError(
                f"{path}: {outcome.error_count:,} error(s); nothing was imported", returncode=1
            )
        for note in outcome.notes:
            self.stderr.write(f"note: {note}")
        self.stdout.write(f"{path}: {outcome.summary}")
