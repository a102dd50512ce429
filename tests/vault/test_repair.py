"""`rebuild-index` recovers from lost or garbage index files using the pack headers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.errors import InvalidDataError
from mamori.vault.ids import hash_bytes
from mamori.vault.pack import BlobType
from mamori.vault.repair import rebuild_index
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, assert_check_clean, new_repository, write_snapshot
from tests.vault.restic_oracle import restic


def test_rebuild_replaces_a_garbage_index_and_everything_loads_again() -> None:
    repo = new_repository(pack_size=10_000)
    files = {f"f{i}": os.urandom(6000) for i in range(5)}
    write_snapshot(repo, files)
    (name,) = repo.list_files(FileType.INDEX)
    repo.backend.remove(Handle(FileType.INDEX, name))
    repo.backend.save(Handle(FileType.INDEX, name), b"garbage")
    with pytest.raises(InvalidDataError, match="rebuild-index"):
        Repository.open(repo.backend, PASSWORD).load_index()
    result = rebuild_index(Repository.open(repo.backend, PASSWORD))
    assert result.packs == len(repo.list_packs()) and result.blobs == 7  # 5 files + 2 trees
    assert result.index_files_removed == 1 and result.unreadable_packs == []
    again = Repository.open(repo.backend, PASSWORD)
    again.load_index()
    for content in files.values():
        assert again.load_blob(BlobType.DATA, hash_bytes(content)) == content
    assert_check_clean(repo.backend)


def test_a_pack_with_a_damaged_header_is_reported_and_kept() -> None:
    repo = new_repository()
    write_snapshot(repo, {"a": os.urandom(3000)})
    pack_id = next(p for p, size in repo.list_packs().items() if size > 3000)
    handle = Handle(FileType.PACK, pack_id)
    data = repo.backend.load(handle)
    repo.backend.remove(handle)
    repo.backend.save(handle, data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    result = rebuild_index(Repository.open(repo.backend, PASSWORD))
    assert result.unreadable_packs == [pack_id]
    assert repo.backend.exists(handle)


@pytest.mark.restic
def test_restic_accepts_an_index_we_rebuilt_for_its_repository(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    write_snapshot(repo, {"a": os.urandom(3000), "b": b"text\n" * 1000})
    for name in list(repo.list_files(FileType.INDEX)):
        repo.remove_file(FileType.INDEX, name)
    rebuild_index(Repository.open(LocalBackend(path), PASSWORD))
    restic(path, "check", "--read-data")
    assert_check_clean(LocalBackend(path))
