"""`mamori serve [--host 127.0.0.1] [--port 8000]`: migrate, then serve the web UI with Waitress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.server import serve


class Command(BaseCommand):
    help = "Apply migrations and serve the web UI (Waitress + WhiteNoise) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            serve(host=options["host"], port=options["port"], threads=options["threads"], stdout=self.stdout)
        except ApplicationError as exc:
            raise CommandError(str(exc), returncode=1) from exc
