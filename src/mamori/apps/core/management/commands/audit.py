"""`mamori audit verify`: check the audit log's hash chain; exit 1 at the first broken or missing event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.audit import audit_verify


class Command(BaseCommand):
    help = "Audit log tools: `verify` checks the hash chain (exit 1 on the first broken or missing event)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="verify")
        sub.add_parser("verify", help="verify the hash chain of the audit log")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            raise CommandError(result.summary(), returncode=1)
        self.stdout.write(result.summary())
