"""`mamori audit verify [--checkpoint FILE ...]`: check the audit log's keyed hash chain and every
checkpoint of its head; exit 1 at the first broken or missing event. An intact chain is checkpointed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.audit import audit_checkpoint_write, audit_verify


class Command(BaseCommand):
    help = "Audit log tools: `verify` checks the hash chain (exit 1 on the first broken or missing event)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="verify")
        verify = sub.add_parser("verify", help="verify the hash chain of the audit log and its checkpoints")
        verify.add_argument(
            "--checkpoint",
            action="append",
            type=Path,
            default=[],
            metavar="FILE",
            help="also check this checkpoint file (e.g. one restored from a backup); repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify(extra_checkpoints=options["checkpoint"])
        if not result.ok:
            raise CommandError(result.summary(), returncode=1)
        audit_checkpoint_write()
        self.stdout.write(result.summary())
