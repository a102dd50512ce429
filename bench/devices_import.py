"""Benchmark: 1,200 devices × 30 days of hygiene reports imported, then the coverage page rendered.

Run by `make bench` (or `.venv/bin/python bench/devices_import.py [--repeat 10]`). Uses a throwaway
MAMORI_HOME with a fresh SQLite database (or DATABASE_URL if set) and the demo's generator: the 33
課 of みなと台市, the demo's inventory and a 30-day spread of reports, written as the files a city
would upload and imported the way an upload is: `tasks.import_queue` (the file stored under
MAMORI_HOME, the import recorded, a progress job queued) and the job run to its end (read, check,
write, rebuild each device's state; the test settings' immediate task backend runs it on commit, as
`mamori worker` would). Targets from issue 15: the import under 10 s, the page under 300 ms. Prints
a Markdown table and writes it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("MAMORI_HOME", tempfile.mkdtemp(prefix="mamori-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from mamori.apps.core.demo_city import DEPARTMENTS  # noqa: E402
from mamori.apps.core.models import Department, Membership, Organisation, ProgressState, Role  # noqa: E402
from mamori.apps.devices import tasks  # noqa: E402
from mamori.apps.devices.demo import SEED, inventory_rows, observations  # noqa: E402
from mamori.apps.devices.demo_files import hygiene_csv, inventory_csv, osquery_lines  # noqa: E402
from mamori.apps.devices.formats.detect import READERS, detect_format  # noqa: E402
from mamori.apps.devices.models import Device, DeviceImport, HygieneReport  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Device hygiene import and coverage page (`bench/devices_import.py`)"
DAYS = 30


def _city() -> None:
    org = Organisation.objects.create(name="みなと台市", prefecture="神奈川県")
    for code, name, sections in DEPARTMENTS:
        parent = Department.objects.create(organisation=org, code=code, name=name)
        for section_code, section_name, _weight in sections:
            Department.objects.create(organisation=org, code=section_code, name=section_name, parent=parent)


def _import(officer: Any, name: str, data: bytes) -> tuple[float, float, float, int, int]:
    """Wall seconds, CPU seconds, CPU seconds in the reader alone, reports written, queries."""
    cpu = time.process_time()
    READERS[detect_format(name, data)](data)
    reader_cpu = time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        job = tasks.import_queue(actor=officer, filename=name, data=data)  # runs on commit
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    job.refresh_from_db()
    record = DeviceImport.objects.get(pk=job.params["import_id"])
    if job.state != ProgressState.SUCCEEDED:
        raise SystemExit(f"{name}: {job.error[:300]}")
    return seconds, cpu, reader_cpu, record.created + record.updated, len(queries.captured_queries)


def _page(client: Client, repeat: int) -> tuple[list[float], list[float], int, int]:
    client.get("/devices/coverage/")  # warm: templates compiled, translations loaded
    times, cpu_times = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get("/devices/coverage/")
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/devices/coverage/")
    assert response.status_code == 200
    return times, cpu_times, len(queries.captured_queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    _city()
    officer = Membership.objects.create(
        user=get_user_model().objects.create_user("bench-officer"),
        role=Role.SECURITY_OFFICER,
    ).user
    rng = random.Random(SEED)
    today = timezone.localdate()
    rows = inventory_rows(rng, today)
    found = observations(rows, today, rng, days=DAYS)
    files = {
        "inventory CSV": ("inventory.csv", inventory_csv(rows)),
        "hygiene CSV, 30 days": ("hygiene.csv", hygiene_csv(found)),
        "osquery log, 30 days (a second source)": ("osquery.log", osquery_lines(found)),
    }
    results = []
    for label, (name, data) in files.items():
        results.append((label, len(data) / 1e6, *_import(officer, name, data)))
    again = _import(officer, "hygiene.csv", files["hygiene CSV, 30 days"][1])
    results.append(("hygiene CSV again (idempotent)", len(files["hygiene CSV, 30 days"][1]) / 1e6, *again))

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(officer)
    times, cpu_times, queries, size = _page(client, args.repeat)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"Measured {stamp} on {platform.machine()} ({os.cpu_count()} CPUs, load average {load:.1f}), "
        f"{connection.vendor}: {Device.objects.count():,} devices, "
        f"{HygieneReport.objects.count():,} reports ({DAYS} days; hygiene CSV and osquery are two sources, "
        "so each device-day has two reports). Each import is what an upload does: the file stored, the "
        "import recorded and queued as a background job, and the job run to its end (read the file, check "
        "every line, write in one transaction, rebuild each device's state).",
        "",
        "The machine is shared: wall time includes waiting for a CPU, so CPU seconds (this process, the "
        "SQLite work included) are the figure to compare with the targets; the reader's share is the "
        "file reader alone (`formats`), measured separately.",
        "",
        "| step | file MB | wall s | CPU s | of which reader CPU s | reports written | queries |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {label} | {mb:.1f} | {s:.2f} | {c:.2f} | {r:.2f} | {n:,} | {q} |"
            for label, mb, s, c, r, n, q in results
        ),
        "",
        f"Coverage page (`/devices/coverage/`, {args.repeat} requests after a warm-up, signed in as the officer): "
        f"median {statistics.median(times):.0f} ms wall ({statistics.median(cpu_times):.0f} ms CPU), "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms, {queries} queries, {size / 1000:.0f} kB of HTML.",
        "Targets (issue 15): import under 10 s, page under 300 ms.",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        text = DOCS.read_text()
        pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
        text = (
            pattern.sub(lambda _m: table.rstrip("\n") + "\n", text)  # a blank line before the next section
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + table
        )
        DOCS.write_text(text)


if __name__ == "__main__":
    main()
