"""`mamori status [--json]`: per protected system, the last backup, copy, check and drill, RPO / RTO
and the 3-2-1-1-0 flags; repository URLs without secrets."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mamori.apps.backups.selectors import status_as_dict, status_list


class Command(BaseCommand):
    help = "保護対象システムごとのバックアップ状況を表示します"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        systems = [status_as_dict(st) for st in status_list()]
        if options["json"]:
            self.stdout.write(json.dumps({"systems": systems}, ensure_ascii=False, indent=2))
            return
        for s in systems:
            backup = (s["last_backup"] or {}).get("time") or "-"
            flags = "".join("✓" if v else "✗" for v in s["rule_3_2_1_1_0"].values())
            self.stdout.write(
                f"{s['status']:6} {s['code']:24} backup {backup}  3-2-1-1-0 {flags}  {s['name']}"
            )
