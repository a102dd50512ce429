"""Benchmark: loading a Pwned Passwords file into the on-disk index, and range lookups.

Run: `.venv/bin/python bench/passwords_corpus.py [--hashes 5000000]`. Writes a synthetic file of
random SHA-1 hashes (`HASH:COUNT`, ordered by hash) in a throwaway directory, loads it with
`corpus_load`, then times `corpus_range` for random prefixes in two indexes:
- sparse: the hashes spread over all 16^5 prefixes (as many per prefix as this size gives);
- dense: the same number of hashes packed into few prefixes at the full corpus's density
  (~900 per prefix for ~950 million hashes), so each lookup reads as much as at full size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MAMORI_HOME", tempfile.mkdtemp(prefix="mamori-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.test")

import django

django.setup()

from mamori.apps.passwords.breached import PREFIXES, corpus_range  # noqa: E402
from mamori.apps.passwords.corpus import corpus_load  # noqa: E402

FULL_CORPUS = 950_000_000  # about the size of the current Pwned Passwords SHA-1 download
FULL_DENSITY = FULL_CORPUS // PREFIXES


def write_source(path: Path, count: int, prefixes: list[int] | None) -> None:
    rng = random.Random(1379)
    if prefixes is None:
        values = [rng.getrandbits(160) for _ in range(count)]
    else:
        values = [(rng.choice(prefixes) << 140) | rng.getrandbits(140) for _ in range(count)]
    values.sort()
    with path.open("w") as f:
        for value in values:
            f.write(f"{value:040X}:{rng.randint(1, 1000)}\n")


def lookups(directory: Path, prefixes: list[int], n: int) -> list[float]:
    times = []
    for prefix in random.Random(7).choices(prefixes, k=n):
        started = time.perf_counter()
        corpus_range(f"{prefix:05X}", directory)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=int, default=5_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mamori-pwned-bench-"))
    rows = []
    dense_prefixes = random.Random(3).sample(range(PREFIXES), max(1, args.hashes // FULL_DENSITY))
    for name, prefixes in [("sparse", None), ("dense", dense_prefixes)]:
        source = root / f"{name}.txt"
        write_source(source, args.hashes, prefixes)
        index = root / name
        started, cpu = time.perf_counter(), time.process_time()
        corpus_load(source=source, progress=lambda done, total: None, directory=index)
        load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
        times = lookups(index, prefixes or list(range(PREFIXES)), args.lookups)
        per_prefix = args.hashes / (len(prefixes) if prefixes else PREFIXES)
        size = sum(p.stat().st_size for p in index.iterdir())
        rows.append((name, per_prefix, source.stat().st_size, size, load_s, load_cpu, times))
        source.unlink()
    print(f"{args.hashes:,} hashes; {args.lookups} lookups each")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        "| index | hashes per prefix | input MB | index MB | load s (CPU s) | lookup p50 ms | p99 ms | max ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, per_prefix, src_bytes, size, load_s, load_cpu, times in rows:
        q = statistics.quantiles(times, n=100)
        print(
            f"| {name} | {per_prefix:,.0f} | {src_bytes / 1e6:,.0f} | {size / 1e6:,.0f} | {load_s:,.1f} ({load_cpu:,.1f}) | "
            f"{q[49]:.3f} | {q[98]:.3f} | {max(times):.3f} |"
        )


if __name__ == "__main__":
    main()
