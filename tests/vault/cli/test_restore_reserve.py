"""`mamori vault restore --keep-free PERCENT` on real small file systems: by default no reserve, as
restic (a nearly full disk still takes a small file); with one, a restore stops in one line before
the target has less free, also for a file that expands without end (`tests/vault/expanding.py`).

The disks are real tmpfs mounts in a private user and mount namespace (`unshare`), as in
`test_full_disk.py`: the kernel itself answers statvfs, and no root rights are needed.
"""

from __future__ import annotations

from pathlib import Path

from tests.tools import run_with_own_mounts
from tests.vault.expanding import build_expanding_repository
from tests.vault.repo_helpers import PASSWORD

SCRIPT = """
set -u
restore() {  # NAME, then the restore's arguments: its stdout, stderr and exit code in $OUT
    name=$1; shift
    "$PY" -m mamori.cli.main vault restore "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    echo $? >"$OUT/$name.rc"
}
mount -t tmpfs -o size=4m tmpfs "$FULL" && mount -t tmpfs -o size=64m tmpfs "$ROOMY" || exit 90
head -c 4000k /dev/zero >"$FULL/filler"  # 3.9 of 4 MiB: less than 5 % free
restore default "$FOLDERS" --include /data/good.txt --target "$FULL/default"
restore reserve "$FOLDERS" --include /data/good.txt --target "$FULL/reserve" --keep-free 5
restore bomb latest --target "$ROOMY/bomb" --keep-free 50
df -k --output=used "$ROOMY" | tail -1 >"$OUT/bomb.used"
ls -A "$FULL/default/data" >"$OUT/default.ls"
ls -A "$FULL/reserve" >"$OUT/reserve.ls" 2>&1
"""


def test_restore_keeps_no_reserve_by_default_and_stops_in_one_line_with_keep_free(tmp_path: Path) -> None:
    repo = build_expanding_repository(tmp_path / "repo")
    full, roomy, out = tmp_path / "full", tmp_path / "roomy", tmp_path / "out"
    for d in (full, roomy, out):
        d.mkdir()
    run_with_own_mounts(
        SCRIPT,
        FULL=str(full),
        ROOMY=str(roomy),
        OUT=str(out),
        FOLDERS=repo.folders,
        MAMORI_REPOSITORY=str(repo.path),
        MAMORI_PASSWORD=PASSWORD,
    )

    def result(name: str) -> tuple[int, str]:
        return int((out / f"{name}.rc").read_text()), (out / f"{name}.err").read_text()

    assert result("default") == (0, "") and (out / "default.ls").read_text() == "good.txt\n"
    code, err = result("reserve")
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith(
        f"mamori vault: restore into {full / 'reserve'} stopped after 0 files: its file system"
    )
    assert err.endswith("a restore leaves free: free space there or restore elsewhere\n"), err
    assert (out / "reserve.ls").read_text() == ""  # nothing restored
    code, err = result("bomb")  # 100 GiB from one 1 MiB blob, into 64 MiB of which 32 stay free
    assert code == 1 and err.count("\n") == 1 and "MiB free, less than the 32.0 MiB" in err, err
    assert int((out / "bomb.used").read_text()) <= 32 * 1024  # what the stopped job wrote is removed again
