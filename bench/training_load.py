"""Load run: 1,000 staff sign in, open the e-learning course and submit a quiz attempt, against
PostgreSQL through the real server (`mamori serve`: Waitress, 8 threads).

Run by `make bench` (or `.venv/bin/python bench/training_load.py [--users 1000 --rate 5]`). It starts
a throwaway PostgreSQL cluster (`scripts/postgres.sh`), builds the demo city (1,000 staff) with a
login per person and the demo course assigned to all, starts the server, then lets the staff arrive
at `--rate` per second, each in their own session, doing what their browser does:

    GET /login/ → POST /login/ (Argon2) → GET the dashboard it redirects to → GET /training/ →
    GET the course (resumes) → GET its last page → POST start → GET the quiz → POST the answers →
    GET the result

The arrival rate is an assumption about the city's morning, not a measurement: ARRIVALS below says
what the default stands for. Each person arrives on schedule in their own thread, whether or not the
server has answered the ones before (a client that waits for a free worker would hide the queue).

Every request's latency is recorded; a request is an error unless it answers what a browser expects:
the status (200, or the redirect the flow follows, to the page it should lead to) and the page's
content (the sign-in form, the assigned course in わたしの研修, the course's table of contents, the
questions drawn, the score and the verdict). Prints p50 / p95 / p99 per step and overall, and writes
the table to docs/benchmarks.md (block `training-load`). Target from issue 13: p95 < 300 ms, no errors.

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
DEFAULT_RATE = 5.0
#: what the default rate assumes (printed with the results)
ARRIVALS = (
    "assumed: the whole 1,000-staff office reaches the course within 3⅓ minutes of 8:30, after the officer's "
    "announcement or on the deadline's last day; a real morning spreads a course due in two weeks over days, "
    "so this bounds the worst one"
)
STEPS = (
    "login page",
    "sign in",
    "dashboard",
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

    def see(self, step: str, what: str, found: object) -> None:
        """A page that answered with the right status but not what a browser should see is an error."""
        if not found:
            raise RuntimeError(f"{step}: the page does not show {what}")

    def journey(self, course_id: int, rng: random.Random) -> None:
        course = f"/training/courses/{course_id}/"
        page, _ = self.request("login page", "/login/")
        self.see("login page", "the sign-in form", 'name="password"' in page)
        _, home = self.request("sign in", "/login/", [("csrfmiddlewaretoken", self.csrf()),
                                                      ("username", self.username), ("password", PASSWORD)],
                               expect=302)  # fmt: skip
        self.see("sign in", "a redirect away from the sign-in page", home not in ("", "/login/"))
        page, _ = self.request("dashboard", home)  # where the browser goes next
        self.see("dashboard", "the cards", "data-card=" in page)
        page, _ = self.request("my courses", "/training/")
        self.see("my courses", "the assigned course", f'data-course="{course_id}"' in page)
        page, _ = self.request("course", course)
        toc = re.search(r'class="toc">(.*?)</ol>', page, re.S)
        pages = len(re.findall(r'<a href="\?section=\d+"', toc.group(1))) if toc else 0
        self.see("course", "its table of contents", pages > 0)
        page, _ = self.request("last page", f"{course}?section={pages - 1}")
        self.see("last page", "the last page", f'href="?section={pages - 1}" aria-current="page"' in page)
        _, attempt = self.request("start quiz", f"{course}start/", [("csrfmiddlewaretoken", self.csrf())],
                                  expect=302)  # fmt: skip
        self.see("start quiz", "a redirect to the quiz", re.fullmatch(r"/training/attempts/\d+/", attempt))
        form, _ = self.request("quiz", attempt)
        choices: dict[str, list[str]] = defaultdict(list)
        for name, value in re.findall(r'name="(q\d+)" value="(\d+)"', form):
            choices[name].append(value)
        self.see("quiz", "the drawn questions", bool(choices) and all(len(v) > 1 for v in choices.values()))
        answers = [(name, rng.choice(values)) for name, values in choices.items()]
        _, result = self.request(
            "submit", attempt, [("csrfmiddlewaretoken", self.csrf()), *answers], expect=302
        )
        self.see("submit", "a redirect to the result", result == f"{attempt}result/")
        page, _ = self.request("result", result)
        self.see("result", "the score and the verdict", "data-score=" in page and "data-passed=" in page)


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


def table(
    record: dict[str, list[float]], errors: list[str], users: int, rate: float, wall: float, late: list[float]
) -> str:
    assumption = (
        ARRIVALS if rate == DEFAULT_RATE else f"assumed: all of them within {users / rate / 60:.1f} minutes"
    )
    lines = [
        f"{users:,} staff arriving at {rate:g} per second ({assumption}), "
        f"{wall:.0f} s in all; {sum(len(v) for v in record.values()):,} requests, {len(errors)} errors; "
        f"the client started {sum(1 for t in late if t > 1)} of them more than 1 s late (at most {max(late, default=0):.1f} s).",
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
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help="staff arriving per second (see ARRIVALS)"
    )
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
        late: list[float] = []
        lock = threading.Lock()
        rng = random.Random(13)
        seeds = [rng.random() for _ in names]  # drawn here: the same answers on every run

        def one(index: int, username: str) -> None:
            due = started + index / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            lateness = time.monotonic() - due
            local: dict[str, list[float]] = defaultdict(list)
            failures: list[str] = []
            try:
                Staff(base, username, local, failures).journey(course_id, random.Random(seeds[index]))
            except (RuntimeError, StopIteration) as exc:
                failures.append(f"{username}: {exc}")
            with lock:
                for step, values in local.items():
                    record[step].extend(values)
                errors.extend(failures)
                late.append(lateness)

        print(f"bench: {len(names)} staff arriving at {args.rate:g}/s against {base}", flush=True)
        started = time.monotonic()
        # one thread per person, so each arrives on schedule however slow the answers before it are
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
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
    text = table(record, errors, len(names), args.rate, wall, late)
    print(text)
    if not args.no_write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        head = (f"Run {stamp} on {os.cpu_count()} CPUs against PostgreSQL, `mamori serve` (Waitress, 8 threads) "
                f"and the client on the same machine; {load_note()}.\n\n")  # fmt: skip
        print(f"\nwritten to {write_block('training-load', head + text)}")


if __name__ == "__main__":
    main()
