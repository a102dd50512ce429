"""Load run: 1,000 staff sign in, open the e-learning course and submit a quiz attempt, against
PostgreSQL through the real server (`mamori serve`: Waitress, 8 threads).

Run by `make bench` (or `.venv/bin/python bench/training_load.py [--users 1000 --rate 5]`). It starts
a throwaway PostgreSQL cluster (`scripts/postgres.sh`), builds the demo city (1,000 staff) with a
login per person and the demo course assigned to all, starts the server, then lets the staff arrive
at `--rate` per second (the morning rush, compressed), each in their own session:

    GET /login/ → POST /login/ (Argon2) → GET /training/ → GET the course (resumes) →
    GET its last page → POST start → GET the quiz → POST the answers → GET the result

Every request's latency is recorded; a request is an error unless it answers as a browser expects
(200, or the redirect the flow follows). Prints p50 / p95 / p99 per step and overall, and writes the
table to docs/benchmarks.md (block `training-load`). Target from issue 13: p95 < 300 ms, no errors.

Every login shares one Argon2 hash of the same password (computed once, with the server's own
parameters): verifying it costs exactly what a real sign-in costs, and setting up 1,000 logins does
not take 1,000 hashings.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from run import ROOT, load_note, write_block

PASSWORD = "bench staff password 2026"
STEPS = (
    "login page",
    "sign in",
    "my courses",
    "course",
    "last page",
    "start quiz",
    "quiz",
    "submit",
    "result",
)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # each redirect is its own measured request


class Staff:
    """One person's browser: a cookie jar and the measured requests."""

    def __init__(self, base: str, username: str, record: dict[str, list[float]], errors: list[str]) -> None:
        self.base, self.username, self.record, self.errors = base, username, record, errors
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "mamori_csrftoken")

    def request(
        self, step: str, path: str, data: list[tuple[str, str]] | None = None, expect: int = 200
    ) -> tuple[str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            req.add_header("Referer", self.base + path)
        start = time.perf_counter()
        try:
            with self.opener.open(req, timeout=30) as response:
                status, text, location = (
                    response.status,
                    response.read().decode(),
                    response.headers.get("Location", ""),
                )
        except urllib.error.HTTPError as exc:
            status, text, location = (
                exc.code,
                exc.read().decode(errors="replace"),
                exc.headers.get("Location", ""),
            )
        except OSError as exc:
            self.record[step].append(time.perf_counter() - start)
            raise RuntimeError(f"{step}: {exc}") from exc
        self.record[step].append(time.perf_counter() - start)
        if status != expect:
            raise RuntimeError(f"{step} {path}: HTTP {status}, expected {expect}")
        return text, urllib.parse.urlsplit(location).path

    def journey(self, course_id: int, rng: random.Random) -> None:
        self.request("login page", "/login/")
        self.request("sign in", "/login/", [("csrfmiddlewaretoken", self.csrf()), ("username", self.username),
                                            ("password", PASSWORD)], expect=302)  # fmt: skip
        self.request("my courses", "/training/")
        page, _ = self.request("course", f"/training/courses/{course_id}/")
        pages = len(re.findall(r'<a href="\?section=\d+"', page.split('class="toc"')[1].split("</ol>")[0]))
        self.request("last page", f"/training/courses/{course_id}/?section={pages - 1}")
        _, attempt = self.request("start quiz", f"/training/courses/{course_id}/start/",
                                  [("csrfmiddlewaretoken", self.csrf())], expect=302)  # fmt: skip
        form, _ = self.request("quiz", attempt)
        choices: dict[str, list[str]] = defaultdict(list)
        for name, value in re.findall(r'name="(q\d+)" value="(\d+)"', form):
            choices[name].append(value)
        answers = [(name, rng.choice(values)) for name, values in choices.items()]
        _, result = self.request(
            "submit", attempt, [("csrfmiddlewaretoken", self.csrf()), *answers], expect=302
        )
        self.request("result", result)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(users: int) -> None:
    """In a child process with the bench's environment: migrate, build the city, one login per staff
    member, the course assigned to all. Prints the course id, then the usernames."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from mamori.apps.core.demo_city import demo_city_setup
    from mamori.apps.core.models import Membership, Role, Staff
    from mamori.apps.training import assignments, demo
    from mamori.apps.training.models import RuleKind

    call_command("migrate", verbosity=0)
    demo_city_setup()
    encoded = make_password(PASSWORD)
    user_model = get_user_model()
    people = list(Staff.objects.filter(membership__isnull=True, status="active").order_by("employee_number"))
    people = people[:users]
    logins = user_model.objects.bulk_create(
        [user_model(username=f"b{s.employee_number}", password=encoded) for s in people]
    )
    Membership.objects.bulk_create(
        [
            Membership(user=u, role=Role.STAFF, staff=s, department=s.department)
            for u, s in zip(logins, people, strict=True)
        ]
    )
    course, _created = demo.course_ensure()
    due = timezone.localdate() + timedelta(days=14)
    assignments.rule_create(actor="bench", course=course, kind=RuleKind.ALL, due_on=due)
    print(course.pk)
    print("\n".join(u.username for u in logins))


def setup(env: dict[str, str], users: int) -> tuple[int, list[str]]:
    out = subprocess.run([sys.executable, __file__, "--prepare", "--users", str(users)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    return int(out[0]), out[1:]


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("bench: the server exited during start-up")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"bench: the server did not answer at {url}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def table(record: dict[str, list[float]], errors: list[str], users: int, rate: float, wall: float) -> str:
    lines = [
        f"{users:,} staff arriving at {rate:g} per second, {wall:.0f} s in all; "
        f"{sum(len(v) for v in record.values()):,} requests, {len(errors)} errors.",
        "",
        "| step | requests | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    everything = [t for step in STEPS for t in record.get(step, [])]
    for step, values in [*[(s, record.get(s, [])) for s in STEPS], ("all requests", everything)]:
        if values:
            name = f"**{step}**" if step == "all requests" else step
            lines.append(f"| {name} | {len(values):,} | {percentile(values, 50):.0f} | {percentile(values, 95):.0f} | "
                         f"{percentile(values, 99):.0f} | {max(values) * 1000:.0f} |")  # fmt: skip
    if errors:
        lines += ["", "First errors:", *[f"- {e}" for e in errors[:5]]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="staff arriving per second")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.users)
        return
    work = Path(tempfile.mkdtemp(prefix="mamori-bench-training-"))
    work.chmod(0o755)  # the cluster runs as the postgres user when we are root (scripts/postgres.sh)
    pg = work / "pg"
    pg.mkdir()
    database_url = subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start", str(pg)], check=True,
                                  capture_output=True, text=True).stdout.strip()  # fmt: skip
    subprocess.run(
        ["psql", database_url.rsplit("/", 1)[0] + "/postgres", "-qc", "CREATE DATABASE mamori"], check=True
    )
    home = work / "home"
    home.mkdir(mode=0o700)
    env = os.environ | {
        "DATABASE_URL": database_url,
        "MAMORI_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "mamori.config.settings.local",
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    server = None
    try:
        print("bench: setting up the city, a login per staff member and the course on PostgreSQL", flush=True)
        course_id, names = setup(env, args.users)
        port = free_port()
        # the server's log goes to a file: a pipe nobody reads fills after 64 KiB of request lines and then
        # every request blocks on the logging lock (the first runs "timed out at sign-in" for this reason)
        log = (work / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "mamori.cli.main", "serve", "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        log.close()  # the child holds its own copy
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/login/", server)
        record: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        lock = threading.Lock()
        rng = random.Random(13)

        def one(index: int, username: str) -> None:
            time.sleep(max(0.0, started + index / args.rate - time.monotonic()))
            local: dict[str, list[float]] = defaultdict(list)
            failures: list[str] = []
            try:
                Staff(base, username, local, failures).journey(course_id, random.Random(rng.random()))
            except (RuntimeError, StopIteration, IndexError) as exc:
                failures.append(f"{username}: {exc}")
            with lock:
                for step, values in local.items():
                    record[step].extend(values)
                errors.extend(failures)

        print(f"bench: {len(names)} staff arriving at {args.rate:g}/s against {base}", flush=True)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(one, range(len(names)), names))
        wall = time.monotonic() - started
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # Waitress still draining connections
                server.kill()
                server.wait()
        subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "stop", str(pg)], check=False)
        server_log = work / "server.log"
        logged = server_log.read_text(errors="replace") if server_log.exists() else ""
        if "Traceback" in logged:  # the first one in full: it names the server-side cause of the errors
            first = logged[logged.index("Traceback") :].split("\n\n")[0]
            print(
                f"bench: the server logged {logged.count('Traceback')} tracebacks; the first:\n{first[:4000]}"
            )
        shutil.rmtree(work, ignore_errors=True)
    text = table(record, errors, len(names), args.rate, wall)
    print(text)
    if not args.no_write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        head = (f"Run {stamp} on {os.cpu_count()} CPUs against PostgreSQL, `mamori serve` (Waitress, 8 threads) "
                f"and the client on the same machine; {load_note()}.\n\n")  # fmt: skip
        print(f"\nwritten to {write_block('training-load', head + text)}")


if __name__ == "__main__":
    main()
