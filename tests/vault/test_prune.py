"""Prune frees what no snapshot uses, rewrites partly used packs, and is safe to interrupt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.backend.wrappers import WrappingBackend
from mamori.vault.errors import PermanentBackendError
from mamori.vault.ids import hash_bytes
from mamori.vault.pack import BlobType
from mamori.vault.prune import prune_repository
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import PASSWORD, assert_check_clean, new_repository, write_snapshot
from tests.vault.restic_oracle import restic


class FailNthRemoveBackend(WrappingBackend):
    """The n-th remove fails: a prune interrupted half way through deleting."""

    def __init__(self, inner: MemoryBackend, n: int) -> None:
        super().__init__(inner)
        self.n = n
        self.removes = 0

    def remove(self, handle: Handle) -> None:
        self.removes += 1
        if self.removes == self.n:
            raise PermanentBackendError(f"injected failure removing {handle}")
        super().remove(handle)


def _three_snapshots(
    backend: MemoryBackend | LocalBackend,
) -> tuple[Repository, list[str], list[dict[str, bytes]]]:
    repo = new_repository(backend, pack_size=40_000)
    shared = os.urandom(30_000)
    contents = [
        {"shared": shared, "only0": os.urandom(50_000)},
        {"shared": shared, "only1": os.urandom(50_000), "small1": os.urandom(2_000)},
        {"shared": shared, "only2": os.urandom(10_000)},
    ]
    ids = [write_snapshot(repo, files, time_ns=(1 + i) * 10**18) for i, files in enumerate(contents)]
    return repo, ids, contents


def _read_all(backend: MemoryBackend | LocalBackend | WrappingBackend, files: dict[str, bytes]) -> None:
    repo = Repository.open(backend, PASSWORD)
    repo.load_index()
    for content in files.values():
        assert repo.load_blob(BlobType.DATA, hash_bytes(content)) == content


def test_prune_after_forget_frees_space_and_keeps_the_rest() -> None:
    backend = MemoryBackend()
    repo, ids, contents = _three_snapshots(backend)
    before = sum(repo.list_packs().values())
    repo.remove_file(FileType.SNAPSHOT, ids[0])
    repo.remove_file(FileType.SNAPSHOT, ids[1])
    dry = prune_repository(Repository.open(backend, PASSWORD), dry_run=True)
    assert sum(repo.list_packs().values()) == before
    result = prune_repository(Repository.open(backend, PASSWORD))
    assert (result.packs_removed, result.packs_rewritten) == (dry.packs_removed, dry.packs_rewritten)
    assert abs(result.bytes_freed - dry.bytes_freed) < 1000, "the dry run's estimate is close"
    assert result.packs_rewritten == 1, "shared+only0 pack: only0 is unused"
    assert result.packs_removed == 5, "only1, small1, the rewritten pack and two tree packs"
    assert result.bytes_freed >= 100_000
    assert sum(repo.list_packs().values()) == before - result.bytes_freed
    _read_all(backend, contents[2])
    assert len(list(backend.list(FileType.INDEX))) >= 1
    result = assert_check_clean(backend)
    assert not result.warnings
    again = prune_repository(Repository.open(backend, PASSWORD))
    assert again.packs_removed == 0 and again.bytes_freed == 0


@pytest.mark.parametrize("n", [1, 2, 4])
def test_an_interrupted_prune_loses_nothing(n: int) -> None:
    inner = MemoryBackend()
    repo, ids, contents = _three_snapshots(inner)
    repo.remove_file(FileType.SNAPSHOT, ids[0])
    with pytest.raises(PermanentBackendError):
        prune_repository(Repository.open(FailNthRemoveBackend(inner, n), PASSWORD))
    for i in (1, 2):
        _read_all(inner, contents[i])
    assert_check_clean(inner)
    prune_repository(Repository.open(inner, PASSWORD))
    result = assert_check_clean(inner)
    assert not result.warnings, "the next prune cleans up what the interrupted one left"


@pytest.mark.restic
def test_restic_checks_a_repository_we_pruned(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    restic(path, "init")
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep.bin").write_bytes(os.urandom(600_000))
    (src / "gone.bin").write_bytes(os.urandom(900_000))
    restic(path, "backup", str(src))  # one data pack holds both files
    (src / "gone.bin").unlink()
    restic(path, "backup", str(src))
    restic(path, "forget", "--keep-last", "1")
    result = prune_repository(Repository.open(LocalBackend(path), PASSWORD))
    assert result.packs_rewritten >= 1
    assert result.bytes_freed >= 900_000
    restic(path, "check", "--read-data")
    restic(path, "restore", "latest", "--target", str(tmp_path / "out"))
    assert (tmp_path / "out" / str(src).lstrip("/") / "keep.bin").read_bytes() == (
        src / "keep.bin"
    ).read_bytes()
    assert_check_clean(LocalBackend(path))
