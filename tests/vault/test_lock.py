"""Locks as restic: shared locks coexist, exclusive excludes, stale locks are ignored and unlocked."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.errors import RepositoryLockedError
from mamori.vault.lock import list_locks
from mamori.vault.repository import Repository
from mamori.vault.timefmt import format_time, now
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, assert_check_clean, new_repository
from tests.vault.restic_oracle import restic


def _foreign_lock(
    repo: Repository,
    *,
    exclusive: bool,
    age: timedelta = timedelta(0),
    host: str = "other-host",
    pid: int = 4242,
) -> str:
    doc = {
        "time": format_time(now() - age),
        "exclusive": exclusive,
        "hostname": host,
        "username": "taro",
        "pid": pid,
        "uid": 1000,
        "gid": 1000,
    }
    return repo.save_unpacked(FileType.LOCK, json.dumps(doc).encode())


def test_shared_locks_coexist_and_exclusive_conflicts_name_the_holder() -> None:
    repo = new_repository()
    with repo.lock(), repo.lock():
        assert len(list_locks(repo)) == 2
        with pytest.raises(RepositoryLockedError):
            repo.lock(exclusive=True).acquire()
    holder = _foreign_lock(repo, exclusive=True)
    with pytest.raises(RepositoryLockedError) as err:
        repo.lock().acquire()
    assert err.value.exit_code == 11
    assert (err.value.hostname, err.value.username, err.value.pid, err.value.lock_id) == (
        "other-host",
        "taro",
        4242,
        holder,
    )
    assert "taro@other-host pid 4242" in str(err.value)
    assert [lock.id for lock in list_locks(repo)] == [holder], "a refused lock leaves no file behind"
    repo.remove_file(FileType.LOCK, holder)
    assert_check_clean(repo.backend)


def test_stale_locks_are_ignored_and_removed_by_unlock() -> None:
    repo = new_repository()
    old = _foreign_lock(repo, exclusive=True, age=timedelta(minutes=31))
    dead = _foreign_lock(repo, exclusive=True, host=socket.gethostname(), pid=_dead_pid())
    fresh = _foreign_lock(repo, exclusive=False)
    with repo.lock():
        pass
    assert sorted(repo.unlock()) == sorted([old, dead])
    assert [lock.id for lock in list_locks(repo)] == [fresh]
    assert repo.unlock(remove_all=True) == [fresh]
    assert_check_clean(repo.backend)


def test_refresh_replaces_the_lock_file() -> None:
    repo = new_repository()
    with repo.lock(exclusive=True) as lock:
        first = lock.lock_id
        lock.refresh()
        assert lock.lock_id != first
        assert [x.id for x in list_locks(repo)] == [lock.lock_id]
    assert list_locks(repo) == []
    assert_check_clean(repo.backend)


@pytest.mark.restic
def test_restic_respects_our_exclusive_lock_and_we_respect_its_locks(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    with repo.lock(exclusive=True):
        proc = restic(path, "backup", str(tmp_path / "repo" / "config"), check=False)
        assert proc.returncode != 0 and b"locked" in proc.stderr
    _foreign_lock(repo, exclusive=True)  # as restic writes it: restic lists it as a lock
    assert len(restic(path, "list", "locks", "--no-lock").stdout.split()) == 1
    restic(path, "unlock", "--remove-all")
    assert list_locks(repo) == []


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
