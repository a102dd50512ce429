"""`mamori demo`: set up the fictional city みなと台市 in MAMORI_HOME, print the logins, serve it.

Every installed app may add its own demo data: if `<app>.demo` exists, its
`setup_demo(*, organisation, stdout)` is called (idempotently) after the city is in place, so core
never imports another app. With a `worker` command installed, the worker runs alongside the server.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mamori.apps.core.demo_city import LOGINS, demo_city_setup
from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import Role, Staff
from mamori.apps.core.server import serve


def installed_app_names() -> list[str]:
    return [config.name for config in apps.get_app_configs()]


def app_demo_modules(app_names: list[str]) -> list[ModuleType]:
    """The `<app>.demo` modules of the given apps (core's own city comes first, separately)."""
    return [
        importlib.import_module(f"{name}.demo")
        for name in app_names
        if name != "mamori.apps.core" and importlib.util.find_spec(f"{name}.demo") is not None
    ]


class Command(BaseCommand):
    help = "Create the demo city みなと台市 (idempotent), print URL and logins, and serve it until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="set up and exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        city = demo_city_setup()
        for module in app_demo_modules(installed_app_names()):
            module.setup_demo(organisation=city.organisation, stdout=self.stdout)
        self._print_logins(city.password, options["host"], options["port"], city.password_generated)
        if not options["no_serve"]:
            companions = [["worker"]] if "worker" in get_commands() else []
            try:
                serve(host=options["host"], port=options["port"], stdout=self.stdout, companions=companions)
            except ApplicationError as exc:
                raise CommandError(str(exc), returncode=1) from exc

    def _print_logins(self, password: str, host: str, port: int, generated: bool) -> None:
        staff = Staff.objects.count()
        self.stdout.write(f"\nみなと台市 (Minatodai City, 神奈川県): {staff:,} staff\n")
        # --port 0 lets the system pick the port: the address is only known once the server prints it
        where = f"http://{host}:{port}/" if port else "the address printed after 'serving on'"
        self.stdout.write(f"Open {where} and sign in as:\n")
        for login in LOGINS:
            self.stdout.write(f"  {login.username:<8} {Role(login.role).label}\n")
        source = (
            "generated once, kept in MAMORI_HOME/demo-password" if generated else "from MAMORI_DEMO_PASSWORD"
        )
        self.stdout.write(f"password (all logins): {password}   ({source})\n\n")
