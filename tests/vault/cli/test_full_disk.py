"""A backup into a repository whose disk fills up: one clear line, exit 1, earlier snapshots intact.

The disk is a real 2 MiB tmpfs, mounted in a private user and mount namespace (`unshare`), so the
kernel itself answers ENOSPC and no root rights are needed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.tools import require_tool, run_with_own_mounts
from tests.vault.restic_oracle import PASSWORD, restic, tree_state

SCRIPT = """
set -u
mount -t tmpfs -o size=2m tmpfs "$DISK"
"$PY" -m mamori.cli.main vault init >/dev/null || exit 90
"$PY" -m mamori.cli.main vault backup "$SMALL" >/dev/null || exit 91
"$PY" -m mamori.cli.main vault backup "$BIG" >"$OUT/stdout" 2>"$OUT/stderr"
echo $? >"$OUT/rc"
ls "$DISK/repo/snapshots" >"$OUT/snapshots"
cp -a "$DISK/repo" "$OUT/repo"
"""


def test_a_full_disk_is_one_line_and_earlier_snapshots_stay_intact(tmp_path: Path) -> None:
    require_tool("restic")
    small, big, disk, out = tmp_path / "small", tmp_path / "big", tmp_path / "disk", tmp_path / "out"
    for d in (small, big, disk, out):
        d.mkdir()
    (small / "台帳.txt").write_text("令和8年度 住民記録\n", encoding="utf-8")
    (big / "dump.bin").write_bytes(os.urandom(5 * 1024 * 1024))  # incompressible, more than the disk
    run_with_own_mounts(
        SCRIPT,
        DISK=str(disk),
        SMALL=str(small),
        BIG=str(big),
        OUT=str(out),
        MAMORI_REPOSITORY=str(disk / "repo"),
        MAMORI_PASSWORD=PASSWORD,
    )
    err = (out / "stderr").read_text()
    assert (out / "rc").read_text().strip() == "1"
    assert err.count("\n") == 1, err
    assert "no space left" in err.lower() and "disk" in err.lower(), err
    # the snapshot from before is the only one, the repository checks clean and restores it
    repo = out / "repo"
    assert len((out / "snapshots").read_text().split()) == 1
    shutil.rmtree(repo / "locks", ignore_errors=True)  # a copy made while no lock was held: none
    assert b"no errors were found" in restic(repo, "check", "--read-data").stdout
    assert restic(repo, "restore", "latest", "--target", str(tmp_path / "restored")).returncode == 0
    assert tree_state(tmp_path / "restored" / str(small).lstrip("/")) == tree_state(small)
