"""Benchmark mamori.vault against restic and borg on the same synthetic municipal data set.

Run by `make bench`. For each tool, in one run on this machine: first backup, backup after
`make-dataset --mutate`, backup with nothing changed, full restore, check with full data read.
Each step is a separate process measured by `/usr/bin/time -v` (wall clock, peak RSS); steps
are interleaved across tools so that load from other work on the machine hits all three alike.
Everything is repeated `--rounds` times (default 3) with a fresh data set and fresh repositories;
the table shows medians, and each ratio is the median of the rounds' own ratios to restic (paired
within a round, so a machine that drifts between rounds does not bias it). Prints the Markdown
table and writes it to docs/benchmarks.md.

The data-set script comes from MAMORI_BENCH_DATASET_TOOL, else ../shared/bench/make-dataset
relative to the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
TOOLS = ("mamori", "restic", "borg")
STEPS = ("first backup", "backup after mutate", "no-change backup", "full restore", "check --read-data")


@dataclass
class Measure:
    tool: str
    step: str
    round: int
    wall_s: float
    peak_rss_mib: float
    data_mib: float
    repo_mib: float

    @property
    def throughput(self) -> float:
        return self.data_mib / self.wall_s if self.wall_s else 0.0


def dataset_tool() -> Path:
    env = os.environ.get("MAMORI_BENCH_DATASET_TOOL")
    path = Path(env) if env else (ROOT / ".." / "shared" / "bench" / "make-dataset").resolve()
    if not path.exists():
        sys.exit(f"bench: data-set script not found at {path}: set MAMORI_BENCH_DATASET_TOOL")
    return path


def tree_mib(path: Path) -> float:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                total += os.lstat(full).st_size
    return total / 2**20


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """Run under /usr/bin/time -v; returns (wall seconds, peak RSS MiB); exits on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report.name, *cmd],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        text = report.read()
    # restic/mamori exit 3 would mean unreadable files; nothing else but 0 is acceptable here
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if wall is None or rss is None:
        sys.exit(f"bench: cannot parse /usr/bin/time output:\n{text}")
    hours, minutes, seconds = wall.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), int(rss.group(1)) / 1024


class Runner:
    """The commands for one tool, each returning the argv to run."""

    def __init__(self, tool: str, work: Path, data: Path) -> None:
        self.tool = tool
        self.repo = work / f"repo-{tool}"
        self.data = data
        self.work = work
        self.env = {
            **os.environ,
            "RESTIC_PASSWORD": PASSWORD,
            "RESTIC_CACHE_DIR": str(work / "restic-cache"),
            "BORG_PASSPHRASE": PASSWORD,
            "BORG_BASE_DIR": str(work / "borg-base"),
            "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
            "MAMORI_PASSWORD": PASSWORD,
        }
        # mamori runs like an installed program: with its bytecode cached (written by `init`)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.count = 0
        self.mamori = [sys.executable, "-m", "mamori.cli.main", "vault", "-q", "-r", str(self.repo)]

    def init(self) -> None:
        cmd = {
            "mamori": [sys.executable, "-m", "mamori.cli.main", "vault", "-r", str(self.repo), "init"],
            "restic": ["restic", "-r", str(self.repo), "init"],
            "borg": ["borg", "init", "--encryption=repokey", str(self.repo)],
        }[self.tool]
        subprocess.run(cmd, env=self.env, check=True, capture_output=True)

    def backup(self) -> list[str]:
        self.count += 1
        return {
            "mamori": [*self.mamori, "backup", str(self.data)],
            "restic": ["restic", "-q", "-r", str(self.repo), "backup", str(self.data)],
            "borg": [
                "borg",
                "create",
                "--compression",
                "zstd,3",
                f"{self.repo}::run{self.count}",
                str(self.data),
            ],
        }[self.tool]

    def restore(self, target: Path) -> tuple[list[str], Path | None]:
        if self.tool == "borg":
            target.mkdir(parents=True)
            return ["borg", "extract", f"{self.repo}::run{self.count}"], target
        exe = self.mamori if self.tool == "mamori" else ["restic", "-q", "-r", str(self.repo)]
        return [*exe, "restore", "latest", "--target", str(target)], None

    def check(self) -> list[str]:
        return {
            "mamori": [*self.mamori, "check", "--read-data"],
            "restic": ["restic", "-q", "-r", str(self.repo), "check", "--read-data"],
            "borg": ["borg", "check", "--verify-data", str(self.repo)],
        }[self.tool]

    def repo_mib(self) -> float:
        return tree_mib(self.repo)


def run(size_mb: int, keep: bool, round_no: int = 1) -> list[Measure]:
    """One round: a fresh data set and fresh repositories, every step for every tool."""
    tool = dataset_tool()
    work = Path(tempfile.mkdtemp(prefix="mamori-bench-"))
    data = work / "data"
    print(f"bench: working in {work}; creating a {size_mb} MiB data set", flush=True)
    subprocess.run([sys.executable, str(tool), str(data), "--size-mb", str(size_mb)], check=True)
    runners = {t: Runner(t, work, data) for t in TOOLS}
    for r in runners.values():
        r.init()
    results: list[Measure] = []

    def step(name: str, argv_for: dict[str, tuple[list[str], Path | None]], data_mib: float) -> None:
        for t in TOOLS:
            argv, cwd = argv_for[t]
            wall, rss = timed(argv, runners[t].env, cwd)
            m = Measure(t, name, round_no, wall, rss, data_mib, runners[t].repo_mib())
            results.append(m)
            print(f"  {name:<22} {t:<7} {wall:7.2f} s {m.throughput:8.1f} MiB/s {rss:7.1f} MiB", flush=True)

    size = tree_mib(data)
    step(STEPS[0], {t: (r.backup(), None) for t, r in runners.items()}, size)
    subprocess.run([sys.executable, str(tool), str(data), "--mutate"], check=True, capture_output=True)
    size = tree_mib(data)
    step(STEPS[1], {t: (r.backup(), None) for t, r in runners.items()}, size)
    step(STEPS[2], {t: (r.backup(), None) for t, r in runners.items()}, size)
    targets = {t: work / f"restore-{t}" for t in TOOLS}
    step(STEPS[3], {t: r.restore(targets[t]) for t, r in runners.items()}, size)
    for t, target in targets.items():
        restored = tree_mib(target)
        if abs(restored - size) > 0.01:
            sys.exit(f"bench: {t} restored {restored:.2f} MiB, expected {size:.2f} MiB")
        shutil.rmtree(target)
    step(
        STEPS[4],
        {t: (r.check(), None) for t, r in runners.items()},
        max(r.repo_mib() for r in runners.values()),
    )
    if not keep:
        shutil.rmtree(work)
    return results


def table(results: list[Measure]) -> str:
    """Medians over the rounds; the ratios are medians of each round's own ratio to restic."""
    rounds = sorted({m.round for m in results})
    by = {(m.tool, m.step, m.round): m for m in results}
    lines = [
        "| step | tool | wall s | MiB/s | peak RSS MiB | repo MiB | time vs restic | RSS vs restic |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for step_name in STEPS:
        for t in TOOLS:
            ms = [by[(t, step_name, r)] for r in rounds]
            base = [by[("restic", step_name, r)] for r in rounds]
            wall = statistics.median(m.wall_s for m in ms)
            data = statistics.median(m.data_mib for m in ms)
            rss = statistics.median(m.peak_rss_mib for m in ms)
            repo = statistics.median(m.repo_mib for m in ms)
            t_ratio = statistics.median(m.wall_s / b.wall_s for m, b in zip(ms, base, strict=True))
            r_ratio = statistics.median(
                m.peak_rss_mib / b.peak_rss_mib for m, b in zip(ms, base, strict=True)
            )
            lines.append(
                f"| {step_name} | {t} | {wall:.2f} | {data / wall:.1f} | {rss:.1f} | "
                f"{repo:.1f} | {t_ratio:.2f}× | {r_ratio:.2f}× |"
            )
    firsts = [by[("restic", STEPS[0], r)].wall_s / by[("mamori", STEPS[0], r)].wall_s for r in rounds]
    lines.append("")
    lines.append(
        "First backup, mamori's throughput as a multiple of restic's, round by round: "
        + ", ".join(f"{f:.2f}×" for f in firsts)
        + "."
    )
    return "\n".join(lines)


def versions() -> str:
    def out(cmd: list[str]) -> str:
        try:
            return (
                subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
            )
        except (OSError, subprocess.CalledProcessError):
            return "unavailable"

    return f"{out(['restic', 'version'])}; {out(['borg', '--version'])}; Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--rounds", type=int, default=3, help="repeat everything; the table shows medians")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    started = time.time()
    results: list[Measure] = []
    for round_no in range(1, args.rounds + 1):
        print(f"bench: round {round_no} of {args.rounds}", flush=True)
        results += run(args.size_mb, args.keep, round_no)
    text = table(results)
    print()
    print(text)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"bench-{int(started)}.json").write_text(
        json.dumps([asdict(m) | {"throughput": m.throughput} for m in results], indent=1)
    )
    if not args.no_write:
        doc = ROOT / "docs" / "benchmarks.md"
        doc.parent.mkdir(exist_ok=True)
        head = doc.read_text(encoding="utf-8").split("<!-- results -->")[0] if doc.exists() else ""
        doc.write_text(
            (head or "# Benchmarks\n\n")
            + "<!-- results -->\n"
            + f"Run {stamp} on {os.cpu_count()} CPUs, {args.size_mb} MiB data set, {args.rounds} rounds "
            + f"(medians); {versions()}.\n\n"
            + text
            + "\n",
            encoding="utf-8",
        )
        print(f"\nwritten to {doc}")


if __name__ == "__main__":
    main()
