"""The streaming restore (`mamori.vault.restorer` + `restorejob`): files restored in jobs by worker
processes come back exactly as restic restores them; a missing pack fails only its files and their
hard links; a job never writes through a folder swapped for a symlink; workers die with the restore.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mamori.vault import init_repository, open_repository
from mamori.vault.confined import inode_of
from mamori.vault.filework import WorkerCrashedError
from mamori.vault.pack import BlobType
from mamori.vault.restorejob import run_job
from mamori.vault.restorer import JOB_FILES
from tests.vault.restic_oracle import PASSWORD, restic, tree_state
from tests.vault.test_filework import _children, _gone

FOLDERS = 3
PER_FOLDER = JOB_FILES + 40  # every folder spans two jobs, so the jobs go to both workers


def _office(src: Path, seed: int) -> Path:
    """Small files in folders (more than one job each), hard links across folders, xattrs, modes."""
    rng = random.Random(seed)
    for folder in range(FOLDERS):
        here = src / f"課{folder}" / "令和6年度"
        here.mkdir(parents=True)
        for i in range(PER_FOLDER):
            data = rng.randbytes(rng.randint(0, 3000)) if i % 4 else f"文書 {folder} {i}\n".encode() * 40
            path = here / f"文書_{i:03d}.txt"
            path.write_bytes(data)
            os.chmod(path, (0o600, 0o640, 0o644, 0o755)[i % 4])
            os.utime(path, ns=(1_700_000_000_000_000_000 + i, 1_700_000_000_123_456_789 + i * 1000 + folder))
    os.setxattr(src / "課1" / "令和6年度" / "文書_007.txt", "user.kind", "決裁".encode())
    os.link(src / "課0" / "令和6年度" / "文書_005.txt", src / "課2" / "同じ文書.txt")
    (src / "課2" / "大きい.bin").write_bytes(rng.randbytes(3 * 1024 * 1024))
    return src


def _xattrs(root: Path) -> dict[str, bytes]:
    return {
        os.path.relpath(os.path.join(d, n), root): os.getxattr(os.path.join(d, n), "user.kind")
        for d, _dirs, files in os.walk(root)
        for n in files
        if "user.kind" in os.listxattr(os.path.join(d, n))
    }


@pytest.mark.restic
def test_files_restored_by_the_workers_equal_restics_restore(tmp_path: Path) -> None:
    src = _office(tmp_path / "src", 1)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    seen_workers: set[int] = set()
    with open_repository(url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        result = repo.restore(
            snap,
            tmp_path / "mamori",
            verify=True,
            progress=lambda _s: seen_workers.update(_children(os.getpid())),
        )
    assert result.failed == [] and result.verified
    assert result.files_restored == FOLDERS * PER_FOLDER + 2
    assert len(seen_workers) >= 1  # the jobs ran in worker processes
    restic(Path(url), "restore", snap, "--target", str(tmp_path / "restic"))
    mine, theirs = tmp_path / "mamori" / str(src).lstrip("/"), tmp_path / "restic" / str(src).lstrip("/")
    assert tree_state(mine) == tree_state(theirs) == tree_state(src)
    assert _xattrs(mine) == _xattrs(theirs) == {"課1/令和6年度/文書_007.txt": "決裁".encode()}


def test_a_missing_pack_fails_only_its_files_and_their_hard_links(tmp_path: Path) -> None:
    src = _office(tmp_path / "src", 2)
    os.link(src / "課2" / "大きい.bin", src / "課0" / "大きい-link.bin")
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        big = next(n for n in repo.ls(snap) if n.path.endswith("大きい.bin"))
        assert big.content is not None
        found = repo.low.lookup_blob(BlobType.DATA, bytes.fromhex(big.content[0]))
        assert found is not None
        lost = sorted(
            n.path
            for n in repo.ls(snap)
            if any(
                (place := repo.low.lookup_blob(BlobType.DATA, bytes.fromhex(c))) and place[0] == found[0]
                for c in n.content or []
            )
        )
    # hard-linked files travel in the walker's packs, so the links of 文書_005 may share the fate
    assert {f"{src}/課0/大きい-link.bin", f"{src}/課2/大きい.bin"} <= set(lost)
    assert len(lost) < 10
    pack = Path(url) / "data" / found[0][:2] / found[0]
    pack.chmod(0o600)
    pack.unlink()
    with open_repository(url, PASSWORD) as repo:
        result = repo.restore(snap, tmp_path / "out")
    assert sorted(f.path for f in result.failed) == lost
    want = tree_state(src)
    for path in lost:
        del want[os.fsencode(os.path.relpath(path, src))]
    # everything else is there, the folders' times included: set after their failed files went
    assert tree_state(tmp_path / "out" / str(src).lstrip("/")) == want


def test_a_job_never_writes_through_a_folder_swapped_for_a_symlink(tmp_path: Path) -> None:
    target, outside = tmp_path / "target", tmp_path / "outside"
    (target / "folder").mkdir(parents=True)
    (target / "outer" / "inner").mkdir(parents=True)
    (outside / "inner").mkdir(parents=True)
    idents = {}
    for name in ("folder", "outer/inner"):
        fd = os.open(target / name, os.O_RDONLY)
        idents[name] = inode_of(fd)
        os.close(fd)
    # after the restore made them: the folder itself, and a folder above another, become symlinks
    (target / "folder").rename(target / "moved")
    (target / "folder").symlink_to(outside)
    (target / "outer").rename(target / "outer-moved")
    (target / "outer").symlink_to(outside)
    meta = (os.getuid(), os.getgid(), 0o644, [], 0, 0)
    job = [
        (os.fsencode(target / name), idents[name], [(b"planted.txt", [], meta, None)])
        for name in ("folder", "outer/inner")
    ]
    results = run_job(_NoBlobs(), job, is_root=False, verify=False)
    assert results == [("its folder was replaced during the restore, not written", 0)] * 2
    assert sorted(os.listdir(outside)) == ["inner"] and os.listdir(outside / "inner") == []
    assert os.listdir(target / "moved") == os.listdir(target / "outer-moved" / "inner") == []


class _NoBlobs:
    """A repository a job of empty files never asks anything."""

    def lookup_blob(self, blob_type: BlobType, blob_id: bytes) -> None:
        raise AssertionError("no blob was needed")

    def decode_blob(self, *args: object) -> bytes:
        raise AssertionError("no blob was needed")

    def load_pack_range(self, *args: object) -> bytes:
        raise AssertionError("no blob was needed")


def test_a_restore_worker_that_dies_fails_the_restore_in_one_line(tmp_path: Path) -> None:
    src = _office(tmp_path / "src", 3)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()

    def die(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    with open_repository(url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("mamori.vault.restorer.run_job", die)
            with pytest.raises(WorkerCrashedError, match=r"^a restore worker process \(pid \d+\) died$"):
                repo.restore(snap, tmp_path / "out")
        assert repo.restore(snap, tmp_path / "out").failed == []  # again, into the same folder
    assert tree_state(tmp_path / "out" / str(src).lstrip("/")) == tree_state(src)


CHILD = """
import os
import sys
from pathlib import Path
from mamori.vault import open_repository
from mamori.vault import restorer

restore_process, run_job = os.getpid(), restorer.run_job

def held(*args, **kwargs):
    if os.getpid() != restore_process:  # a worker, in the middle of its job: say so, then hold
        os.write(1, b"%d\\n" % os.getpid())
        os.read(0, 1)  # stdin: a pipe the test never writes to, held until the restore is killed
    return run_job(*args, **kwargs)

restorer.run_job = held
with open_repository(sys.argv[1], sys.argv[2]) as repo:
    repo.restore("latest", Path(sys.argv[3]))
"""


def test_kill_9_of_a_restore_takes_its_workers_and_a_second_restore_completes(tmp_path: Path) -> None:
    src = _office(tmp_path / "src", 4)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        repo.backup([src])
    target = tmp_path / "out"
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, url, PASSWORD, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        working = child.stdout.readline()  # a worker holds a job: the restore is under way, whatever the load
        workers = _children(child.pid)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert working, "the restore ended without a worker process taking a job"
        assert int(working) in workers
        # stdin still open: a worker that outlived the restore would still be holding its job
        assert _gone(workers, time.monotonic() + 10), f"worker processes {workers} outlived the restore"
    with open_repository(url, PASSWORD) as repo:
        assert repo.restore("latest", target).failed == []
    assert tree_state(target / str(src).lstrip("/")) == tree_state(src)


def test_a_files_only_restore_makes_folders_and_files_and_nothing_else(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "課" / "空").mkdir(parents=True)
    (src / "課" / "文書.txt").write_bytes(b"drill\n")
    (src / "課" / "link").symlink_to("/etc/passwd")
    os.mkfifo(src / "課" / "fifo")
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        result = repo.restore(snap, tmp_path / "out", paths=["/"], verify=True, files_only=True)
    assert result.failed == [] and result.files_restored == 1
    here = tmp_path / "out" / str(src / "課").lstrip("/")
    assert sorted(os.listdir(here)) == ["文書.txt", "空"] and (here / "文書.txt").read_bytes() == b"drill\n"
