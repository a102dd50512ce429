"""Copy snapshots between repositories; restic agrees on what is already copied."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from mamori.vault.backend import Backend, FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.wrappers import WrappingBackend
from mamori.vault.copy import copy_snapshots
from mamori.vault.errors import IntegrityError, InvalidDataError
from mamori.vault.gojson import GoTime
from mamori.vault.ids import hash_bytes
from mamori.vault.model import Node, Snapshot, tree_bytes
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.conftest import require_tool
from tests.vault.faults import FlipLastByteBackend
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


class CountingLoadsBackend(WrappingBackend):
    """Counts the loads of each file (the requests a remote source would answer)."""

    def __init__(self, inner: Backend) -> None:
        super().__init__(inner)
        self.loads: Counter[str] = Counter()

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        self.loads[handle.name] += 1
        return super().load(handle, offset, length)


def _files(n: int) -> dict[str, bytes]:
    """Compressible text files and incompressible ones, each one blob."""
    return {f"f{i}": (f"line {i} " * 900).encode() if i % 2 else os.urandom(7000 + i) for i in range(n)}


def test_copy_reads_each_data_pack_once_and_reencrypts_the_stored_frames() -> None:
    source, target = new_repository(), new_repository()
    files = _files(60)
    write_snapshot(source, files)
    counting = CountingLoadsBackend(source.backend)
    reader = Repository.open(counting, PASSWORD)
    reader.load_index()
    (_copied,) = copy_snapshots(reader, target).copied
    data_packs = {pack for pack, blob in source.index.blobs() if blob.type is BlobType.DATA}
    assert data_packs and all(counting.loads[pack] == 1 for pack in data_packs), (
        "one read per run, not per blob"
    )
    target.load_index()
    for content in files.values():
        blob_id = hash_bytes(content)
        found_src, found_dst = (
            source.lookup_blob(BlobType.DATA, blob_id),
            target.lookup_blob(BlobType.DATA, blob_id),
        )
        assert found_src is not None and found_dst is not None
        (_p, src), (_q, dst) = found_src, found_dst
        assert (dst.length, dst.uncompressed_length) == (src.length, src.uncompressed_length), "same frame"
        assert target.load_blob(BlobType.DATA, blob_id) == content
    assert any(b.uncompressed_length for _p, b in target.index.blobs()), "the text files stay compressed"
    assert_check_clean(target.backend)


@pytest.mark.parametrize(("from_version", "to_version"), [(1, 2), (2, 1)])
def test_copy_between_format_versions_compresses_only_for_version_2(
    from_version: int, to_version: int
) -> None:
    source, target = new_repository(version=from_version), new_repository(version=to_version)
    files = _files(6)
    write_snapshot(source, files)
    copy_snapshots(source, target)
    target.load_index()
    compressed = [b for _p, b in target.index.blobs() if b.type is BlobType.DATA and b.uncompressed_length]
    assert bool(compressed) == (to_version == 2)
    for content in files.values():
        assert target.load_blob(BlobType.DATA, hash_bytes(content)) == content
    assert_check_clean(target.backend)


def test_copy_stops_at_a_damaged_source_pack_and_writes_no_snapshot() -> None:
    source, target = new_repository(), new_repository()
    write_snapshot(source, _files(8))
    damaged = Repository.open(FlipLastByteBackend(source.backend), PASSWORD)
    damaged.load_index()
    with pytest.raises(IntegrityError):
        copy_snapshots(damaged, target)
    assert list(target.list_files(FileType.SNAPSHOT)) == []
    assert_check_clean(target.backend)


def test_copy_refuses_a_source_blob_whose_content_lies_about_its_id() -> None:
    """A repository written by someone else with the key: the blob named for one content holds
    another. Its MAC is valid, so only the hash check stands between it and the offsite copy."""
    source, target = new_repository(), new_repository()
    claimed = b"the resident register as it was" * 100
    blob_id = hash_bytes(claimed)
    source.save_blob(BlobType.DATA, b"something else entirely" * 100, blob_id)
    node = Node(name=b"register", type="file", mode=0o644, size=len(claimed), content=[blob_id])
    tree_id, _ = source.save_blob(BlobType.TREE, tree_bytes([node]))
    source.flush()
    snap = Snapshot(time=GoTime(1_700_000_000_000_000_000, 0), tree=tree_id, paths=["/r"], hostname="h")
    source.save_unpacked(FileType.SNAPSHOT, snap.to_json())
    with pytest.raises(InvalidDataError, match="does not match its id"):
        copy_snapshots(source, target)
    assert list(target.list_files(FileType.SNAPSHOT)) == []
