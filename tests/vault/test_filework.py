"""The backup's worker processes (`mamori.vault.filework`): same trees as without them, and `kill -9`
of the backup (its workers die with it) never damages the repository.

Each kill trial changes some of many small files in folders, starts a backup in a child process,
waits until its worker processes exist, kills the backup with SIGKILL at a random moment and then
checks: the workers are gone too, nothing but packs is left below data/, `restic check` and
`mamori vault check` pass, the last complete snapshot restores byte-identical and the next backup
succeeds. Other trials kill one worker (the backup stops in one line) or the backup and its workers
at once. `make stress` runs hundreds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mamori.vault import init_repository, open_repository
from mamori.vault.archiver import ArchiveOptions, Archiver
from mamori.vault.backend import FileType
from mamori.vault.filework import FileWorkers, Part, Todo, WorkerCrashedError, scan
from mamori.vault.fsmeta import dir_node_json, node_from_stat, read_xattrs, small_file_json
from mamori.vault.gojson import GoTime
from mamori.vault.model import Snapshot, parse_tree
from mamori.vault.pack import BlobType, SealedRun
from tests.vault.faults import FlipLastByteBackend
from tests.vault.restic_oracle import PASSWORD, restic, tree_state

CHILD = """
import sys
from pathlib import Path
from mamori.vault import open_repository
with open_repository(sys.argv[1], sys.argv[2]) as repo:
    repo.backup([Path(sys.argv[3])], host="kill-test")
"""


def _small_files(src: Path, rng: random.Random, trial: int, share: float) -> None:
    for folder in range(6):
        here = src / f"課{folder}" / "令和6年度"
        here.mkdir(parents=True, exist_ok=True)
        for i in range(60):
            if trial < 0 or rng.random() < share:
                data = (
                    rng.randbytes(rng.randint(100, 6000))
                    if i % 5 == 4
                    else f"{trial} 文書 {i} ".encode() * 200
                )
                (here / f"文書_{i:03d}.txt").write_bytes(data)
    (src / "big.bin").write_bytes(rng.randbytes(rng.randint(1, 2) * 1024 * 1024))


def _children(pid: int) -> set[int]:
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(b")", 1)[1].split()[1]) == pid:
                kids.add(int(entry))
    return kids


def _gone(pids: set[int], deadline: float) -> bool:
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
            except OSError:
                continue
            if state != b"Z":
                alive.add(pid)
        if not alive:
            return True
        time.sleep(0.01)
    return False


def _kill(child: subprocess.Popen[bytes], workers: set[int], victim: str, rng: random.Random) -> bool:
    """SIGKILL the backup ("backup"), one of its workers ("worker") or all of them at once ("all");
    whether the backup was cut short (else it had ended before the kill)."""
    if victim == "worker":
        # no worker seen: the backup ended before its workers could be listed — nothing to cut short
        pids = [rng.choice(sorted(workers))] if workers else []
    else:
        pids = [*workers, child.pid] if victim == "all" else [child.pid]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # the backup is over already
            pass
    try:
        _out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError(f"the backup did not stop after its {victim} was killed") from None
    if victim == "worker" and child.returncode != 0:  # the backup stops in one line
        assert b"a backup worker process (pid" in err, err[-2000:]
    return child.returncode != 0


def _no_stray_files(repo: Path) -> None:
    """Nothing but pack files below data/: a pack being filled has no name until it is complete."""
    data = repo / "data"
    stray = [
        str(p.relative_to(repo))
        for p in data.rglob("*")
        if not (p.parent == data and p.is_dir()) and not (p.parent.parent == data and len(p.name) == 64)
    ]
    assert stray == []


def _run_trials(tmp_path: Path, trials: int, seed: int, victims: tuple[str, ...] = ("backup",)) -> int:
    """Kill trials (see the module docstring); returns how many cut a backup short."""
    rng = random.Random(seed)
    src = tmp_path / "src"
    _small_files(src, rng, -1, 1.0)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    subprocess.run([sys.executable, "-c", CHILD, url, PASSWORD, str(src)], check=True)
    with open_repository(url, PASSWORD) as repo:
        last = (repo.find_snapshot("latest").id, tree_state(src))
    window = 0.15  # about as long as a backup's work: the kill lands mid-backup most of the time
    interrupted = 0
    for trial in range(trials):
        _small_files(src, rng, trial, 0.3)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, PASSWORD, str(src)], stderr=subprocess.PIPE
        )
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while not workers and child.poll() is None and time.monotonic() < deadline:
            workers = _children(child.pid)
        time.sleep(rng.uniform(0.0, window))
        interrupted += _kill(child, workers, victims[trial % len(victims)], rng)
        assert _gone(workers, time.monotonic() + 10), f"worker processes {workers} outlived the backup"
        _no_stray_files(Path(url))
        with open_repository(url, PASSWORD) as repo:
            result = repo.check()
            assert result.ok, result.errors
        restic(Path(url), "unlock")
        assert restic(Path(url), "check").returncode == 0
        with open_repository(url, PASSWORD) as repo:
            target = tmp_path / f"restore-{trial}"
            assert repo.restore(last[0], target).failed == []
            assert tree_state(target / str(src).lstrip("/")) == last[1]
            started = time.monotonic()
            last = (repo.backup([src], host="kill-test").snapshot_id, tree_state(src))
            window = 1.5 * (time.monotonic() - started)
    assert b"no errors were found" in restic(Path(url), "check", "--read-data").stdout
    return interrupted


@pytest.mark.restic
def test_kill_9_of_a_backup_with_workers_leaves_a_sound_repository(tmp_path: Path) -> None:
    _run_trials(tmp_path, trials=3, seed=20261204)


@pytest.mark.restic
def test_kill_9_of_the_workers_leaves_a_sound_repository(tmp_path: Path) -> None:
    _run_trials(tmp_path, trials=2, seed=20261205, victims=("worker", "all"))


@pytest.mark.stress
@pytest.mark.restic
def test_kill_9_with_workers_stress(tmp_path: Path) -> None:
    trials = int(os.environ.get("MAMORI_CRASH_TRIALS", "300"))
    interrupted = _run_trials(tmp_path, trials, seed=int(time.time()), victims=("backup", "worker", "all"))
    assert interrupted >= trials // 3, f"only {interrupted} of {trials} kills landed mid-backup"


def _tree_ids(
    url: str, src: Path, processes: int, trees_in_workers: bool = False, descend: int = 512
) -> bytes:
    """The id of `src`'s tree (the trees above it change with anything written in /tmp), backed
    up with the latest snapshot as parent if there is one."""
    with open_repository(url, PASSWORD) as repo:
        repo.low.load_index()
        snaps = repo.snapshots()
        archiver = Archiver(repo.low, processes=processes, trees_in_workers=trees_in_workers, descend=descend)
        opts = ArchiveOptions(paths=[str(src)], hostname="h")
        if snaps:
            opts.parent_id = bytes.fromhex(snaps[-1].id)
            opts.parent = Snapshot.from_json(repo.low.load_unpacked(FileType.SNAPSHOT, snaps[-1].id))
        snap, _ = archiver.run(opts)
        tree = snap.tree
        for name in src.parts[1:]:
            nodes = parse_tree(repo.low.load_blob(BlobType.TREE, tree))
            subtree = next(n.subtree for n in nodes if n.name == name.encode())
            assert subtree is not None
            tree = subtree
        return tree


def test_workers_write_the_same_trees_as_the_walker_alone(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _small_files(src, random.Random(7), -1, 1.0)
    (src / "link").symlink_to("big.bin")
    os.link(src / "big.bin", src / "hard.bin")
    (src / "empty.txt").write_bytes(b"")
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    assert _tree_ids(url, src, 2) == _tree_ids(url, src, 0)


@pytest.mark.parametrize("budget", [1, 5, 61, 512])
def test_jobs_that_descend_into_subfolders_write_the_same_trees(tmp_path: Path, budget: int) -> None:
    # a directory's job backs up its subfolders too while its budget lasts; the folders it stops
    # in (budget spent, a large file or a hard link below) are finished by the walker
    src = tmp_path / "src"
    _small_files(src, random.Random(11), -1, 1.0)
    (src / "課2" / "令和6年度" / "深い" / "もっと深い").mkdir(parents=True)
    (src / "課2" / "令和6年度" / "深い" / "big.bin").write_bytes(random.Random(1).randbytes(600_000))
    os.link(src / "課3" / "令和6年度" / "文書_001.txt", src / "課4" / "hard.txt")
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    walker_alone = _tree_ids(url, src, 0)
    assert _tree_ids(url, src, 2, True, budget) == walker_alone  # a parent: the first
    _small_files(src, random.Random(12), 0, 0.3)  # some files change
    changed = _tree_ids(url, src, 0)
    assert _tree_ids(url, src, 2, True, budget) == changed
    with open_repository(url, PASSWORD) as repo:
        again = repo.backup([src], host="h")
        assert again.files_new == again.files_changed == 0
        assert again.dirs == len(list(os.walk(src))) and again.files_unmodified == 363
        assert repo.check(read_data=True).ok


def test_subfolders_a_spent_budget_left_go_out_in_runs_not_one_job_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a year's folder of forty one-file case folders: the job that lists it spends its budget on
    # the listing; the forty go out again as a few jobs of siblings, each tree as the walker writes it
    src = tmp_path / "src"
    for i in range(40):
        case = src / "令和6年度" / f"案件{i:03}"
        case.mkdir(parents=True)
        (case / "決裁.txt").write_text(f"案件 {i}\n" * (i + 1))
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    jobs: list[str] = []
    submit = FileWorkers.submit

    def counting(self: FileWorkers, job: Any, token: Any, large: bool = False) -> None:
        jobs.append(job[0])
        submit(self, job, token, large)

    walker_alone = _tree_ids(url, src, 0)
    monkeypatch.setattr(FileWorkers, "submit", counting)
    assert _tree_ids(url, src, 2, True, 64) == walker_alone
    assert "subdirs" in jobs and len(jobs) <= 12, jobs  # one job per case folder: 42


def test_a_damaged_parent_tree_only_costs_reading_the_files_again(tmp_path: Path) -> None:
    # the workers read the parent's trees themselves (a local repository): one that fails
    # verification there is no parent for that folder, as in the backup process
    src = tmp_path / "src"
    _small_files(src, random.Random(9), -1, 1.0)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        first = repo.backup([src], host="h")
        repo.low.backend = FlipLastByteBackend(repo.low.backend, FileType.PACK)  # every tree is damaged
        again = repo.backup([src], host="h")
    assert again.parent_id == first.snapshot_id
    assert again.errors == []
    assert again.files_new == first.files_new == 361 and again.files_unmodified == 0
    assert again.bytes_added < 4096  # the same content and trees: only the trees above src differ


def test_a_parent_tree_damaged_on_disk_only_costs_reading_the_files_again(tmp_path: Path) -> None:
    # the workers read the parent's trees from the pack files they keep open, past the backend's
    # wrappers: a flipped byte in the file fails verification there as it does through the backend
    src = tmp_path / "src"
    _small_files(src, random.Random(10), -1, 1.0)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        first = repo.backup([src], host="h")
        repo.low.load_index()
        for pack_id, blob in repo.low.index.blobs():
            if blob.type is BlobType.TREE:
                path = Path(url) / "data" / pack_id[:2] / pack_id
                path.chmod(0o600)
                with open(path, "r+b") as f:  # one byte inside the blob's ciphertext
                    f.seek(blob.offset + 20)
                    byte = f.read(1)
                    f.seek(blob.offset + 20)
                    f.write(bytes([byte[0] ^ 0x01]))
        again = repo.backup([src], host="h")
    assert again.parent_id == first.snapshot_id
    assert again.errors == []
    assert again.files_new == first.files_new == 361 and again.files_unmodified == 0


def test_a_worker_that_dies_fails_the_backup_in_one_line(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _small_files(src, random.Random(8), -1, 1.0)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()

    def die(*job: object) -> object:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    with open_repository(url, PASSWORD) as repo:
        repo.low.load_index()
        archiver = Archiver(repo.low, processes=2)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("mamori.vault.archiver.scan_dir", die)
            with pytest.raises(WorkerCrashedError, match=r"^a backup worker process \(pid \d+\) died$"):
                archiver.run(ArchiveOptions(paths=[str(src)], hostname="h"))
        assert repo.check().ok


@pytest.mark.restic
def test_a_file_holding_a_tree_blobs_bytes_is_still_stored(tmp_path: Path) -> None:
    # the empty directory's tree blob and the file's data blob have the same id, not the same type
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "b.json").write_bytes(b'{"nodes":[]}\n')
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        assert repo.restore(snap, tmp_path / "out").failed == []
    assert (tmp_path / "out" / str(src).lstrip("/") / "b.json").read_bytes() == b'{"nodes":[]}\n'
    assert b"no errors were found" in restic(Path(url), "check", "--read-data").stdout


def test_long_names_in_a_large_folder_do_not_stall_the_workers(tmp_path: Path) -> None:
    # jobs of 128 names of 250 bytes queue up for each worker beside their results
    src = tmp_path / "src"
    src.mkdir()
    for i in range(1500):
        (src / f"{i:05d}{'長' * 81}.txt").write_bytes(b"x" * (i % 97))
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    with open_repository(url, PASSWORD) as repo:
        first = repo.backup([src]).snapshot_id
        again = repo.backup([src])  # with a parent: each job also carries the parent's nodes
        assert again.files_unmodified == 1500
        assert repo.restore(first, tmp_path / "out").failed == []
    assert tree_state(tmp_path / "out" / str(src).lstrip("/")) == tree_state(src)


def test_a_small_files_node_json_is_the_nodes_own(tmp_path: Path) -> None:
    # workers write regular files' nodes without building them: the bytes must stay restic's
    names = [
        b"plain.txt",
        b'a"b\\c\n<&>.txt',
        b"\xff\xfe-not-utf8",
        "文書 ＃1.docx".encode(),
        b"empty",
    ]
    for n, name in enumerate(names):
        path = os.path.join(os.fsencode(tmp_path), name)
        with open(path, "wb") as f:
            f.write(b"x" * (n * 7))
        os.chmod(path, [0o644, 0o4755, 0o2700, 0o1777, 0o000][n])
    os.setxattr(os.path.join(os.fsencode(tmp_path), names[0]), b"user.mamori", b"\x00\x01 value")
    for name in names:
        path = os.path.join(os.fsencode(tmp_path), name)
        st = os.lstat(path)
        node = node_from_stat(name, path, st)
        node.content = [bytes(range(32))] if st.st_size else []
        times = (GoTime.format_local(st.st_mtime_ns), GoTime.format_local(st.st_ctime_ns))
        ours = small_file_json(name, st, times, read_xattrs(path), st.st_size, node.content)
        assert ours == node.to_json()


def test_a_folders_node_json_is_the_nodes_own(tmp_path: Path) -> None:
    # workers write the nodes of the folders they finish without building them: restic's bytes
    names = [b"plain", b'a"b\\c\n<&>', b"\xff\xfe-not-utf8", "課 ＃1".encode()]
    for n, name in enumerate(names):
        path = os.path.join(os.fsencode(tmp_path), name)
        os.mkdir(path)
        os.chmod(path, [0o755, 0o2770, 0o1777, 0o000][n])
    os.setxattr(os.path.join(os.fsencode(tmp_path), names[0]), b"user.mamori", b"\x00\x01 value")
    for name in names:
        path = os.path.join(os.fsencode(tmp_path), name)
        st = os.lstat(path)
        node = node_from_stat(name, path, st)
        node.subtree = bytes(range(32))
        assert dir_node_json(name, path, st, node.subtree) == node.to_json()


_RUN_SIZES = (0, 5, 3 << 20, 70_000)


def test_sealed_runs_come_back_from_a_worker_byte_for_byte() -> None:
    # a job's sealed blobs travel beside the pickle (out of band), more than a pipe holds at once
    def work(job: int) -> tuple[int, list[SealedRun]]:
        rng = random.Random(job)
        runs = []
        for size in _RUN_SIZES[: job % 5]:
            data = rng.randbytes(size)
            runs.append(SealedRun([bytes([job]) * 32], [size], [job], data))
        return job, runs

    workers = FileWorkers(work, 2)
    try:
        for job in range(8):
            while not workers.has_room():
                _check_run(*workers.next_result())
            workers.submit(job, job)
        while workers.busy:
            _check_run(*workers.next_result())
    finally:
        workers.close()


def _check_run(token: int, result: tuple[int, list[SealedRun]]) -> None:
    job, runs = result
    rng = random.Random(job)
    assert job == token and len(runs) == len(_RUN_SIZES[: job % 5])
    for run in runs:
        assert bytes(run.data) == rng.randbytes(run.lengths[0]) and run.uncompressed == [job]


class _Sealer:
    """What a worker needs of a repository: no blob is known, sealing keeps the plaintext."""

    def has_blob(self, blob_type: BlobType, blob_id: bytes) -> bool:
        return False

    def seal_run(self, ids: list[bytes], items: list[bytes]) -> SealedRun:
        return SealedRun(ids, [len(item) for item in items], [0] * len(items), b"".join(items))


def _scan_or_fail(directory: bytes, items: list[Todo]) -> Part:
    """`scan` in a thread: a fifo that blocked its open fails the test instead of hanging it."""
    out: list[Part] = []
    thread = threading.Thread(target=lambda: out.append(scan(_Sealer(), directory, items)), daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        for name, _old, _listed in items:  # a writer lets a blocked open of a fifo return
            try:
                os.close(os.open(os.path.join(directory, name), os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        thread.join(10)
        raise AssertionError("scan blocked opening an entry")
    return out[0]


def test_what_replaced_a_listed_file_is_backed_up_as_what_it_is_now(tmp_path: Path) -> None:
    # a new file the listing called regular is opened before any stat: a fifo swapped in since
    # must not block the open, a symlink not be followed (its target's bytes stay out), a folder
    # goes to the walker and a file removed is reported, as if the listing had seen them
    (tmp_path / "secret").write_bytes(b"not for the backup")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "secret")
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_bytes(b"kept")
    (tmp_path / "empty").write_bytes(b"")
    directory = os.fsencode(tmp_path)
    names = [b"empty", b"fifo", b"folder", b"gone", b"link", b"plain"]
    listed = _scan_or_fail(directory, [(name, None, True) for name in names])
    stat_first = _scan_or_fail(directory, [(name, None, False) for name in names])
    assert listed[:3] == stat_first[:3] and listed[5] == stat_first[5]
    assert [(p, type(e), e.errno) for p, e in listed[3]] == [
        (p, type(e), e.errno)
        for p, e in stat_first[3]  # type: ignore[attr-defined]
    ]
    entries = dict(listed[0])
    for name in (b"fifo", b"link"):
        path = os.path.join(directory, name)
        assert entries[name] == node_from_stat(name, path, os.lstat(path)).to_json()
    assert listed[1] == [(b"folder", None)]
    assert [(p, type(e)) for p, e in listed[3]] == [(os.path.join(directory, b"gone"), FileNotFoundError)]
    assert [bytes(run.data) for run in listed[4]] == [b"kept"]
    assert listed[5][0] == 2  # new files: plain and empty


def test_files_of_a_folder_that_cannot_be_opened_are_reported_one_by_one(tmp_path: Path) -> None:
    directory = os.fsencode(tmp_path / "removed")
    part = _scan_or_fail(directory, [(b"a", None, True), (b"b", None, False)])
    assert [(p, type(e)) for p, e in part[3]] == [
        (directory + b"/a", FileNotFoundError),
        (directory + b"/b", FileNotFoundError),
    ]


def test_workers_fork_while_the_backup_has_no_other_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a thread holding a lock (OpenSSL's, the allocator's) at fork time would leave it held in the child
    src = tmp_path / "src"
    _small_files(src, random.Random(9), -1, 1.0)
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    threads_at_fork: list[list[str]] = []
    real_fork = os.fork

    def fork() -> int:
        threads_at_fork.append([t.name for t in threading.enumerate()])
        return real_fork()

    monkeypatch.setattr("mamori.vault.filework.os.fork", fork)
    before = [t.name for t in threading.enumerate()]  # an earlier test in this process may have left one
    with open_repository(url, PASSWORD) as repo:
        assert repo.backup([src]).files_new == 6 * 60 + 1
    assert len(threads_at_fork) == (os.cpu_count() or 2)
    assert all(names == before for names in threads_at_fork), (before, threads_at_fork)  # none of its own
