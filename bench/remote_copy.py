"""Benchmark `mamori vault copy` against `restic copy` to SFTP and to S3 on 127.0.0.1.

Run by `make bench`. The 512 MiB municipal set (../shared/bench/make-dataset, as bench/run.py) is
backed up once by mamori into a local repository; each round then copies that repository into a
fresh repository on an unprivileged sshd (SFTP) and on SeaweedFS `weed mini` (S3) — the servers
the tests use (tests/remote_servers.py), started here on free loopback ports and stopped at the
end. Each copy is one process measured by bench/run.py's `timed` (wall clock, CPU of the process
and its children — restic's ssh included, mamori does SSH in-process —, peak memory); the two
tools alternate within a round, and which one goes first alternates between rounds. The servers'
own CPU is in neither figure. After each copy `restic check --read-data` must pass on its
target (correctness, not timed). Prints the table and writes it to docs/benchmarks.md.

    python bench/remote_copy.py [--size-mb 512] [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from run import (
    PASSWORD,
    ROOT,
    Measure,
    load_note,
    municipal_set,
    save_raw,
    table,
    timed,
    tree_mib,
    versions,
    write_block,
)

sys.path.insert(0, str(ROOT))  # the loopback servers the tests start
from tests.remote_servers import S3Server, SSHServer

TOOLS = ["mamori", "restic"]
STEPS = ("copy to SFTP", "copy to S3")


class Targets:
    """Fresh target repositories on the two servers, and each tool's environment for them."""

    def __init__(self, work: Path, sftp: SSHServer, s3: S3Server) -> None:
        self.sftp, self.s3 = sftp, s3
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env = {
            **base,
            **s3.restic_env(),
            "RESTIC_PASSWORD": PASSWORD,
            "RESTIC_FROM_PASSWORD": PASSWORD,
            "RESTIC_CACHE_DIR": str(work / "restic-cache"),
            "MAMORI_PASSWORD": PASSWORD,
            "MAMORI_FROM_PASSWORD": PASSWORD,
            "MAMORI_SFTP_KEY": str(sftp.client_key),
            "MAMORI_SFTP_KNOWN_HOSTS": str(sftp.known_hosts),
        }

    def fresh(self, tool: str, step: str) -> dict[str, list[str]]:
        """A new empty target initialised by `tool`: its location as each tool's -r arguments."""
        url = self.sftp.new_url() if step == "copy to SFTP" else self.s3.new_url()
        restic = ["-r", url]
        if step == "copy to SFTP":
            restic = ["-r", self.sftp.restic_url(url), *self.sftp.restic_args()]
        target = {"mamori": ["-r", url], "restic": restic}
        subprocess.run(self.argv(tool, target, "init"), env=self.env, check=True, capture_output=True)
        return target

    @staticmethod
    def argv(tool: str, target: dict[str, list[str]], *command: str) -> list[str]:
        if tool == "mamori":
            return [sys.executable, "-m", "mamori.cli.main", "vault", "-q", *target["mamori"], *command]
        return ["restic", "-q", *target["restic"], *command]

    def check(self, target: dict[str, list[str]]) -> None:
        """`restic check --read-data` on a target; exits with restic's output when it is not clean."""
        argv = self.argv("restic", target, "check", "--read-data")
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def run(size_mb: int, rounds: int, keep: bool) -> tuple[list[Measure], float]:
    """Every round: each step for both tools into fresh targets, then `restic check` of each."""
    work = Path(tempfile.mkdtemp(prefix="mamori-bench-copy-"))
    work.chmod(0o755)
    dataset = municipal_set(size_mb)
    print(f"bench: working in {work}; creating the {dataset.title}", flush=True)
    data, source = work / "data", work / "source"
    dataset.create(data)
    servers: list[SSHServer | S3Server] = []
    try:
        (work / "sshd").mkdir()
        servers.append(SSHServer(work / "sshd"))
        servers.append(S3Server(work / "seaweedfs"))
        sftp, s3 = servers[0], servers[1]
        assert isinstance(sftp, SSHServer) and isinstance(s3, S3Server)
        targets = Targets(work, sftp, s3)
        (work / "restic-cache").mkdir()
        mamori = [sys.executable, "-m", "mamori.cli.main", "vault", "-q", "-r", str(source)]
        for argv in ([*mamori, "init"], [*mamori, "backup", str(data)]):
            subprocess.run(argv, env=targets.env, check=True, capture_output=True)
        size = tree_mib(data)
        results: list[Measure] = []
        for round_no in range(1, rounds + 1):
            print(f"bench: round {round_no} of {rounds}", flush=True)
            order = TOOLS if round_no % 2 else TOOLS[::-1]
            for step in STEPS:
                for tool in order:
                    target = targets.fresh(tool, step)
                    argv = targets.argv(tool, target, "copy", "--from-repo", str(source))
                    wall, rss, cpu, pss = timed(argv, targets.env)
                    results.append(Measure(tool, step, round_no, wall, rss, size, 0.0, cpu, pss))
                    print(
                        f"  {step:<13} {tool:<7} {wall:7.2f} s {size / wall:8.1f} MiB/s {cpu:6.2f} CPU s "
                        f"{rss:7.1f} MiB RSS {pss:7.1f} MiB PSS",
                        flush=True,
                    )
                    targets.check(target)
        return results, tree_mib(source)
    finally:
        for server in servers:
            server.stop()
        if not keep:
            shutil.rmtree(work)


def spread(results: list[Measure]) -> str:
    """Each tool's fastest and slowest round per step (the table shows medians)."""
    lines = []
    for step in STEPS:
        walls = {t: [m.wall_s for m in results if m.step == step and m.tool == t] for t in TOOLS}
        lines.append(
            f"{step}: wall time over the rounds, "
            + ", ".join(f"{t} {min(w):.1f}–{max(w):.1f} s" for t, w in walls.items())
            + "."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=512, help="municipal set size")
    parser.add_argument("--rounds", type=int, default=3, help="repeat the copies; the table shows medians")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    started = time.time()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results, source_mib = run(args.size_mb, args.rounds, args.keep)
    for m in results:
        m.repo_mib = source_mib
    text = table(results, STEPS, TOOLS) + "\n" + spread(results)
    print()
    print(text)
    save_raw(f"bench-copy-{args.size_mb}-{int(started)}", results)
    if not args.no_write:
        head = (
            f"Run {stamp} on {os.cpu_count()} CPUs: copy of a local repository holding one backup of the "
            f"{args.size_mb} MiB municipal data set ({source_mib:.1f} MiB stored) to a fresh SFTP and a fresh "
            f"S3 repository on 127.0.0.1, {args.rounds} rounds (medians); {versions()}; {load_note()}.\n\n"
        )
        print(f"\nwritten to {write_block(f'copy-{args.size_mb}', head + text)}")


if __name__ == "__main__":
    main()
