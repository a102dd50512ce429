"""The `mamori` command.

`mamori vault ...` runs the backup engine's own CLI (no Django). Every other command is a Django
management command of one of the apps (`mamori run-due` → `run_due`), so each app owns its commands.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

USAGE = """usage: mamori <command> [options]

commands:
  demo                 set up the fictional city みなと台市 and serve it on 127.0.0.1:8000
  serve                serve the web UI
  worker | run-due     run scheduled jobs continuously / once
  vault <command>      the backup engine (restic-compatible): init, backup, snapshots, restore, check, ...
  audit verify         verify the audit log's keyed hash chain and its checkpoints
  self-backup setup|restore  back up mamori's own database and audit checkpoints / restore them
  import staff FILE    import staff from CSV (UTF-8 or CP932)
  import devices FILE  import devices or their hygiene reports (devices-inventory, -hygiene, -wazuh, -osquery)
  remind               mail overdue disposal certificates and report deadlines (daily, from cron)
  sheet | kpi | status the evaluation sheet, KPIs, backup status
  passwords audit | load-corpus FILE   audit the directories / load a Pwned Passwords file
  manage <django command>  any Django management command (migrate, createsuperuser, ...)
"""


# Everything mamori creates (database, WAL, keys, checkpoints, repositories, restores' scratch) is
# private to the service user: files 0600, directories 0700 (docs/security.md).
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    if args[0] == "vault":
        from mamori.vault.cli import main as vault_main

        code = vault_main(args[1:])
        if argv is None:  # the `mamori` process itself, not a caller in Python
            _exit_now(code)
        return code

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.local")
    from django.core.management import execute_from_command_line

    if args[0] == "manage":
        args = args[1:]
    else:
        args[0] = args[0].replace("-", "_")
    try:
        execute_from_command_line(["mamori", *args])
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


def _exit_now(code: int) -> NoReturn:
    """End the process once its output is out, without the interpreter's teardown.

    A `mamori vault` command has closed its repository, joined its threads and reaped its workers
    when it returns; what is left is freeing every object and module one by one, a tenth of a
    no-change backup's time. A failed flush exits 120, as the interpreter's own exit would."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
