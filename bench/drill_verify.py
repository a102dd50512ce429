"""Benchmark: the CPU a full restore drill spends on a snapshot of files of several blobs each.

Run: `.venv/bin/python bench/drill_verify.py build DIR [--files 40] [--mib 3]` once (a repository
with restic's default key cost, backed up by the engine from random files), then
`.venv/bin/python bench/drill_verify.py drill DIR` as often as wanted: it runs one full drill of
DIR/repo through the app (test settings, a throwaway SQLite database) and prints the drill's own
CPU seconds (user + system, with the restore's worker processes) and wall seconds. Alternate two
checkouts with PYTHONPATH for a same-run A/B.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

PASSWORD = "bench"


def build(folder: Path, files: int, mib: int) -> None:
    from mamori.vault.api import init_repository

    data = folder / "data"
    data.mkdir(parents=True)
    for i in range(files):
        (data / f"file{i:03}.bin").write_bytes(os.urandom(mib << 20))
    with init_repository(str(folder / "repo"), PASSWORD) as repo:  # restic's scrypt cost
        repo.backup([data])


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def drill(folder: Path) -> None:
    os.environ["MAMORI_HOME"] = tempfile.mkdtemp(prefix="mamori-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from mamori.apps.backups import services
    from mamori.apps.backups.jobs import run_execute, run_request
    from mamori.apps.backups.models import JobKind
    from mamori.apps.core.models import Department, Organisation

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="みなと台市", prefecture="神奈川県")
    department = Department.objects.create(organisation=org, code="1004", name="情報政策課")
    system = services.system_create(actor="bench", code="bench", name="ベンチ", department=department)
    services.repository_create(
        actor="bench", system=system, name="NAS", url=str(folder / "repo"), password=PASSWORD
    )
    run = run_request(
        actor="bench", system=system, kind=JobKind.RESTORE_DRILL, detail={"sample": 0}, enqueue=False
    )
    cpu, wall = _cpu(), time.monotonic()
    run = run_execute(run_id=run.pk)
    cpu, wall = _cpu() - cpu, time.monotonic() - wall
    assert run.passed is True, run.error_text
    print(f"files {run.files_total} bytes {run.bytes_total} cpu_s {cpu:.2f} wall_s {wall:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["build", "drill"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--mib", type=int, default=3)
    args = parser.parse_args()
    if args.step == "build":
        build(args.folder, args.files, args.mib)
    else:
        drill(args.folder)


if __name__ == "__main__":
    main()
