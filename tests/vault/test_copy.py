"""Copy snapshots between repositories; restic agrees on what is already copied."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.copy import copy_snapshots
from mamori.vault.ids import hash_bytes
from mamori.vault.model import Snapshot
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.conftest import require_tool
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, assert_check_clean, new_repository, write_snapshot
from tests.vault.restic_oracle import restic


def test_copy_moves_snapshots_with_their_blobs_once() -> None:
    source = new_repository()
    target = new_repository()
    files = [{"a": os.urandom(3000), "b": b"text" * 1000}, {"a": os.urandom(3000)}]
    ids = [write_snapshot(source, f, time_ns=(i + 1) * 10**18) for i, f in enumerate(files)]
    result = copy_snapshots(source, target)
    assert [src for src, _new in result.copied] == ids
    assert result.blobs_copied == 3 + 4  # data blobs + two trees per snapshot
    for _src, new in result.copied:
        copy = Snapshot.from_json(target.load_unpacked(FileType.SNAPSHOT, new))
        assert copy.original is not None and copy.original.hex() in ids
    target.load_index()
    assert target.load_blob(BlobType.DATA, hash_bytes(files[0]["a"])) == files[0]["a"]
    assert target.key != source.key, "the target has its own keys; blobs were re-encrypted"

    again = copy_snapshots(source, target)
    assert again.copied == [] and sorted(again.skipped) == sorted(ids)
    third = new_repository()
    chained = copy_snapshots(target, third)
    assert len(chained.copied) == 2
    assert copy_snapshots(source, third).copied == [], "copies of copies are recognised by original"
    assert_check_clean(target.backend)
    assert_check_clean(third.backend)


@pytest.mark.restic
def test_restic_copy_sees_our_copies_as_copies(tmp_path: Path) -> None:
    src_path, dst_path = tmp_path / "src", tmp_path / "dst"
    source = Repository.init(LocalBackend(src_path), PASSWORD, kdf_params=FAST_KDF)
    target = Repository.init(LocalBackend(dst_path), PASSWORD, kdf_params=FAST_KDF)
    write_snapshot(source, {"x": os.urandom(5000)})
    (copied,) = copy_snapshots(source, target).copied
    restic(dst_path, "check", "--read-data")
    env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_FROM_PASSWORD": PASSWORD}
    proc = subprocess.run(
        [require_tool("restic"), "-r", str(dst_path), "--no-cache", "copy", "--from-repo", str(src_path)],
        env=env,
        capture_output=True,
        check=True,
    )
    assert b"skipping source snapshot" in proc.stdout + proc.stderr
    assert list(target.list_files(FileType.SNAPSHOT)) == [copied[1]]
    assert_check_clean(target.backend)
