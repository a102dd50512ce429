"""Benchmark mamori.vault against restic and borg on the same synthetic data sets.

Run by `make bench`. Two data sets: the 512 MiB municipal set (`--set municipal`: first backup,
backup after `make-dataset --mutate`, backup with nothing changed, full restore, check with full
data read) and the small-files set of `bench/smallfiles.py` (`--set small`: first backup,
backup with nothing changed, full restore; `--files N`, `--tiny`); `--scale 10000,100000,1000000`
runs the small set of tiny files at each size and tabulates how each cost grows.
Each step is a separate process measured by `/usr/bin/time -v` (wall clock, user+system CPU of
the process and its children, the largest process's peak RSS) while the process tree's
proportional set size is sampled every 20 ms (worker processes share pages with their parent;
their sum is the memory the step takes); steps
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
import itertools
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import scaleplot

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
TOOLS = ["mamori", "restic", "borg"]
STEPS = ("first backup", "backup after mutate", "no-change backup", "full restore", "check --read-data")
SMALL_STEPS = ("first backup", "no-change backup", "full restore")


@dataclass
class Measure:
    tool: str
    step: str
    round: int
    wall_s: float
    peak_rss_mib: float
    data_mib: float
    repo_mib: float
    cpu_s: float = 0.0
    tree_pss_mib: float = 0.0

    @property
    def throughput(self) -> float:
        return self.data_mib / self.wall_s if self.wall_s else 0.0

    @property
    def memory_mib(self) -> float:
        """The step's peak memory: the sampled sum over its processes, at least its largest one."""
        return max(self.peak_rss_mib, self.tree_pss_mib)


@dataclass
class DataSet:
    """A data set for one round: how to create it, an optional mutation, the steps to run."""

    key: str
    title: str
    steps: tuple[str, ...]
    create: Callable[[Path], None]
    mutate: Callable[[Path], None] | None = None


def municipal_set(size_mb: int) -> DataSet:
    tool = dataset_tool()
    return DataSet(
        key=f"municipal-{size_mb}",
        title=f"{size_mb} MiB municipal data set",
        steps=STEPS,
        create=lambda data: _run([sys.executable, str(tool), str(data), "--size-mb", str(size_mb)]),
        mutate=lambda data: _run([sys.executable, str(tool), str(data), "--mutate"]),
    )


def small_set(files: int, tiny: bool) -> DataSet:
    script = ROOT / "bench" / "smallfiles.py"
    extra = ["--tiny"] if tiny else []
    kind = "tiny files of 16–1,024 bytes" if tiny else "files of 1–12 KiB"
    return DataSet(
        key=f"small-{files}{'-tiny' if tiny else ''}",
        title=f"small-files data set: {files:,} {kind} (bench/smallfiles.py)",
        steps=SMALL_STEPS,
        create=lambda data: _run([sys.executable, str(script), str(data), "--files", str(files), *extra]),
    )


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


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


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree_pss_mib(root: int) -> float:
    """The proportional set size of a process and all its descendants (shared pages split)."""
    kids = _children()
    todo, total = [root], 0
    while todo:
        pid = todo.pop()
        todo += kids.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float, float, float]:
    """Run under /usr/bin/time -v, sampling memory; returns (wall s, peak RSS MiB, CPU s, tree PSS MiB).

    Exits on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", report.name, *cmd],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        pss = 0.0
        while proc.poll() is None:
            pss = max(pss, tree_pss_mib(proc.pid))
            time.sleep(0.02)
        text = report.read()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    # restic/mamori exit 3 would mean unreadable files; nothing else but 0 is acceptable here
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    system = re.search(r"System time \(seconds\): ([\d.]+)", text)
    if wall is None or rss is None or user is None or system is None:
        sys.exit(f"bench: cannot parse /usr/bin/time output:\n{text}")
    hours, minutes, seconds = wall.groups()
    wall_s = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return wall_s, int(rss.group(1)) / 1024, float(user.group(1)) + float(system.group(1)), pss


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


def run(dataset: DataSet, keep: bool, round_no: int = 1) -> list[Measure]:
    """One round: a fresh data set and fresh repositories, every step for every tool."""
    work = Path(tempfile.mkdtemp(prefix="mamori-bench-"))
    data = work / "data"
    print(f"bench: working in {work}; creating the {dataset.title}", flush=True)
    dataset.create(data)
    runners = {t: Runner(t, work, data) for t in TOOLS}
    for r in runners.values():
        r.init()
    results: list[Measure] = []

    # Each round starts with another tool: the first to run a step meets what the previous step left
    # (the inodes it just deleted, which ext4 without a journal skips for a minute or more).
    first = (round_no - 1) % len(TOOLS)
    order = TOOLS[first:] + TOOLS[:first]

    def step(name: str, argv_for: dict[str, tuple[list[str], Path | None]], data_mib: float) -> None:
        for t in order:
            argv, cwd = argv_for[t]
            wall, rss, cpu, pss = timed(argv, runners[t].env, cwd)
            m = Measure(t, name, round_no, wall, rss, data_mib, runners[t].repo_mib(), cpu, pss)
            results.append(m)
            print(
                f"  {name:<22} {t:<7} {wall:7.2f} s {m.throughput:8.1f} MiB/s {cpu:6.2f} CPU s "
                f"{rss:7.1f} MiB RSS {pss:7.1f} MiB PSS",
                flush=True,
            )

    size = tree_mib(data)
    for name in dataset.steps:
        if name == "backup after mutate":
            assert dataset.mutate is not None
            dataset.mutate(data)
            size = tree_mib(data)
        if name in ("first backup", "backup after mutate", "no-change backup"):
            step(name, {t: (r.backup(), None) for t, r in runners.items()}, size)
        elif name == "full restore":
            targets = {t: work / f"restore-{t}" for t in TOOLS}
            step(name, {t: r.restore(targets[t]) for t, r in runners.items()}, size)
            for t, target in targets.items():
                restored = tree_mib(target)
                if abs(restored - size) > 0.01:
                    sys.exit(f"bench: {t} restored {restored:.2f} MiB, expected {size:.2f} MiB")
                shutil.rmtree(target)
        else:
            step(
                name,
                {t: (r.check(), None) for t, r in runners.items()},
                max(r.repo_mib() for r in runners.values()),
            )
    if not keep:
        shutil.rmtree(work)
    return results


def _ratio(ms: list[Measure], base: list[Measure], value: Callable[[Measure], float]) -> float:
    return statistics.median(value(m) / value(b) for m, b in zip(ms, base, strict=True))


def table(results: list[Measure], steps: tuple[str, ...], tools: list[str] = TOOLS) -> str:
    """Medians over the rounds; the ratios are medians of each round's own ratio to restic."""
    rounds = sorted({m.round for m in results})
    by = {(m.tool, m.step, m.round): m for m in results}
    lines = [
        "| step | tool | wall s | MiB/s | CPU s | peak memory MiB | repo MiB | time vs restic "
        "| CPU vs restic | memory vs restic |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step_name in steps:
        for t in tools:
            ms = [by[(t, step_name, r)] for r in rounds]
            base = [by[("restic", step_name, r)] for r in rounds]
            wall = statistics.median(m.wall_s for m in ms)
            data = statistics.median(m.data_mib for m in ms)
            cpu = statistics.median(m.cpu_s for m in ms)
            mem = statistics.median(m.memory_mib for m in ms)
            repo = statistics.median(m.repo_mib for m in ms)
            lines.append(
                f"| {step_name} | {t} | {wall:.2f} | {data / wall:.1f} | {cpu:.2f} | {mem:.1f} | {repo:.1f} "
                f"| {_ratio(ms, base, lambda m: m.wall_s):.2f}× | {_ratio(ms, base, lambda m: m.cpu_s):.2f}× "
                f"| {_ratio(ms, base, lambda m: m.memory_mib):.2f}× |"
            )
    lines.append("")
    for step_name in steps:
        pairs = [(by[("mamori", step_name, r)], by[("restic", step_name, r)]) for r in rounds]
        lines.append(
            f"{step_name}: mamori's time as a multiple of restic's, round by round: "
            + ", ".join(f"{m.wall_s / b.wall_s:.2f}×" for m, b in pairs)
            + "."
        )
    return "\n".join(lines)


def scale_table(results: dict[int, list[Measure]]) -> str:
    """One row per (files, step): each tool's median wall time, CPU and memory, and µs per file."""
    lines = [
        "| files | step | tool | wall s | µs per file | CPU s | peak memory MiB | time vs restic "
        "| memory vs restic |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for files, ms in sorted(results.items()):
        rounds = sorted({m.round for m in ms})
        by = {(m.tool, m.step, m.round): m for m in ms}
        for step_name in SMALL_STEPS:
            for t in TOOLS:
                mine = [by[(t, step_name, r)] for r in rounds]
                base = [by[("restic", step_name, r)] for r in rounds]
                wall = statistics.median(m.wall_s for m in mine)
                lines.append(
                    f"| {files:,} | {step_name} | {t} | {wall:.2f} | {wall / files * 1e6:.1f} "
                    f"| {statistics.median(m.cpu_s for m in mine):.2f} "
                    f"| {statistics.median(m.memory_mib for m in mine):.1f} "
                    f"| {_ratio(mine, base, lambda m: m.wall_s):.2f}× "
                    f"| {_ratio(mine, base, lambda m: m.memory_mib):.2f}× |"
                )
    return "\n".join(lines)


def growth(results: dict[int, list[Measure]]) -> str:
    """How fast each tool's time, CPU time and memory grow between consecutive points: the exponent k
    in cost ∝ files^k (1.00 is linear; above 1 grows faster than linearly). CPU time is shown beside
    wall time because on a shared machine the wall time of a long step also grows with the load."""
    sizes = sorted(results)
    if len(sizes) < 2:
        return ""
    lines = ["| step | tool | " + " | ".join(f"{a:,} → {b:,}" for a, b in itertools.pairwise(sizes)) + " |"]
    lines.append("|---|---|" + "---:|" * (len(sizes) - 1))
    med = {
        (m.tool, m.step, n): (
            statistics.median(x.wall_s for x in ms if (x.tool, x.step) == (m.tool, m.step)),
            statistics.median(x.cpu_s for x in ms if (x.tool, x.step) == (m.tool, m.step)),
            statistics.median(x.memory_mib for x in ms if (x.tool, x.step) == (m.tool, m.step)),
        )
        for n, ms in results.items()
        for m in ms
    }
    for step_name in SMALL_STEPS:
        for t in TOOLS:
            for what, i in (("time", 0), ("CPU", 1), ("memory", 2)):
                cells = [
                    f"{math.log(med[t, step_name, b][i] / med[t, step_name, a][i]) / math.log(b / a):.2f}"
                    for a, b in itertools.pairwise(sizes)
                ]
                lines.append(f"| {step_name} ({what}) | {t} | " + " | ".join(cells) + " |")
    return "Growth exponent k between consecutive points (cost ∝ files^k; 1.00 is linear):\n\n" + "\n".join(
        lines
    )


def versions() -> str:
    def out(cmd: list[str]) -> str:
        try:
            return (
                subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
            )
        except (OSError, subprocess.CalledProcessError):
            return "unavailable"

    return f"{out(['restic', 'version'])}; {out(['borg', '--version'])}; Python {platform.python_version()}"


def load_note() -> str:
    """The machine's load when the run ended (other work shares the cores)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) at the end"


def save_raw(name: str, results: list[Measure]) -> Path:
    """Every measurement of the run as bench/results/NAME.json (not committed)."""
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps([asdict(m) | {"throughput": m.throughput} for m in results], indent=1))
    return path


def write_block(key: str, text: str) -> Path:
    """Replace (or append) the results block `key` of docs/benchmarks.md."""
    doc = ROOT / "docs" / "benchmarks.md"
    old = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    start, end = f"<!-- results:{key} -->", f"<!-- /results:{key} -->"
    block = f"{start}\n{text}\n{end}"
    if start in old and end in old:
        new = old.split(start)[0] + block + old.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(new, encoding="utf-8")
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("municipal", "small"), default="municipal")
    parser.add_argument("--size-mb", type=int, default=512, help="municipal set size")
    parser.add_argument("--files", type=int, default=100_000, help="small set: number of files")
    parser.add_argument("--tiny", action="store_true", help="small set: 16–1,024 bytes per file")
    parser.add_argument("--scale", help="comma-separated file counts: the tiny-files series")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--rounds", type=int, default=3, help="repeat everything; the table shows medians")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--without-borg", action="store_true", help="mamori and restic only (quicker)")
    args = parser.parse_args()
    if args.without_borg:
        TOOLS.remove("borg")
    started = time.time()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if args.scale:
        series: dict[int, list[Measure]] = {}
        for files in (int(n) for n in args.scale.split(",")):
            dataset = small_set(files, tiny=True)
            for round_no in range(1, args.rounds + 1):
                print(f"bench: {files} files, round {round_no} of {args.rounds}", flush=True)
                series.setdefault(files, []).extend(run(dataset, args.keep, round_no))
        key, text = "scale", scale_table(series) + "\n\n" + growth(series)
        rows = [asdict(m) | {"throughput": m.throughput, "files": n} for n, ms in series.items() for m in ms]
        title = "tiny-files series (bench/smallfiles.py --tiny)"
        if not args.no_write:
            picture = ROOT / "docs" / "benchmarks-scale.svg"
            picture.write_text(scaleplot.svg(rows, f"tiny-files scale series, {stamp}"), encoding="utf-8")
            text += f"\n\n![How each cost grows with the number of files]({picture.name})"
    else:
        dataset = municipal_set(args.size_mb) if args.set == "municipal" else small_set(args.files, args.tiny)
        raw = []
        for round_no in range(1, args.rounds + 1):
            print(f"bench: round {round_no} of {args.rounds}", flush=True)
            raw += run(dataset, args.keep, round_no)
        key, text, title = dataset.key, table(raw, dataset.steps), dataset.title
        rows = [asdict(m) | {"throughput": m.throughput} for m in raw]
    print()
    print(text)
    path = save_raw(f"bench-{key}-{int(started)}", [])
    path.write_text(json.dumps(rows, indent=1))  # scale rows carry their file count (bench/scaleplot.py)
    if not args.no_write:
        head = (
            f"Run {stamp} on {os.cpu_count()} CPUs, {title}, {args.rounds} rounds (medians); "
            f"{versions()}; {load_note()}.\n\n"
        )
        print(f"\nwritten to {write_block(key, head + text)}")


if __name__ == "__main__":
    main()
