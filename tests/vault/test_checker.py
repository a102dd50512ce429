"""The checker finds each kind of damage and names the pack, the blob and the files using it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamori.vault import checker
from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.checker import check_repository, select_packs
from mamori.vault.errors import InvalidArgumentError
from mamori.vault.ids import hash_bytes
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.faults import FlipLastByteBackend
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, assert_check_clean, new_repository, write_snapshot
from tests.vault.restic_oracle import restic


def _replace(backend: MemoryBackend, handle: Handle, data: bytes) -> None:
    backend.remove(handle)
    backend.save(handle, data)


def _damaged_repo() -> tuple[Repository, MemoryBackend, str, bytes]:
    backend = MemoryBackend()
    repo = new_repository(backend)
    content = os.urandom(3000)
    snap = write_snapshot(repo, {"report.xlsx": content, "other.txt": b"fine\n"})
    return repo, backend, snap, hash_bytes(content)


def test_a_clean_repository_checks_clean_with_counts() -> None:
    repo, backend, _snap, _blob = _damaged_repo()
    result = assert_check_clean(backend)
    assert result.packs_checked == 2  # one data pack, one tree pack
    assert result.blobs_checked == 4
    assert result.bytes_read == sum(repo.list_packs().values())


def test_a_flipped_byte_in_a_blob_names_pack_blob_and_files() -> None:
    repo, backend, snap, blob_id = _damaged_repo()
    pack_id, where = repo.lookup_blob(BlobType.DATA, blob_id) or pytest.fail("not indexed")
    handle = Handle(FileType.PACK, pack_id)
    data = bytearray(backend.load(handle))
    data[where.offset + 20] ^= 0x01
    _replace(backend, handle, bytes(data))

    structural = check_repository(Repository.open(backend, PASSWORD))
    assert structural.ok, "structure alone does not read blob contents"
    result = check_repository(Repository.open(backend, PASSWORD), read_data=True)
    assert not result.ok
    damaged = [e for e in result.errors if e.blob_id == blob_id.hex()]
    assert len(damaged) == 1
    assert damaged[0].pack_id == pack_id
    assert damaged[0].files == [f"{snap[:8]}:/data/report.xlsx"]
    assert any("does not match its id" in e.message for e in result.errors), "the pack hash is checked too"


def test_packs_read_in_pieces_find_damage_in_any_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """check --read-data reads a pack in runs of whole blobs; damage in a middle run, and in the
    header after the last run, is still found and named."""
    monkeypatch.setattr(checker, "_RUN_BYTES", 5000)
    backend = MemoryBackend()
    repo = new_repository(backend)
    files = {f"f{i}.bin": os.urandom(3000) for i in range(6)}
    write_snapshot(repo, files)
    clean = assert_check_clean(backend)
    assert clean.blobs_checked == 8  # six files and two trees
    middle = hash_bytes(files["f3.bin"])
    pack_id, where = repo.lookup_blob(BlobType.DATA, middle) or pytest.fail("not indexed")
    handle = Handle(FileType.PACK, pack_id)
    original = backend.load(handle)
    for position in (where.offset + 100, len(original) - 10):  # a blob in the third run; the header
        damaged = bytearray(original)
        damaged[position] ^= 0x01
        _replace(backend, handle, bytes(damaged))
        result = check_repository(Repository.open(backend, PASSWORD), read_data=True)
        assert not result.ok
        assert any(e.pack_id == pack_id for e in result.errors)
        if position < len(original) - 100:
            assert [e.blob_id for e in result.errors if e.blob_id] == [middle.hex()]
    _replace(backend, handle, original)
    assert_check_clean(backend)


def test_bit_rot_on_every_read_is_found() -> None:
    repo, backend, _snap, _blob = _damaged_repo()
    result = check_repository(Repository.open(FlipLastByteBackend(backend), PASSWORD), read_data=True)
    assert not result.ok
    assert {e.pack_id for e in result.errors} == set(repo.list_packs())


def test_a_missing_pack_is_an_error_and_an_unindexed_pack_a_warning() -> None:
    repo, backend, snap, blob_id = _damaged_repo()
    pack_id, _ = repo.lookup_blob(BlobType.DATA, blob_id) or pytest.fail("not indexed")
    backend.remove(Handle(FileType.PACK, pack_id))
    backend.save(Handle(FileType.PACK, "ab" * 32), b"stray pack bytes" * 10)
    result = check_repository(Repository.open(backend, PASSWORD))
    assert not result.ok
    assert any(e.pack_id == pack_id and "missing" in e.message for e in result.errors)
    lost = [e for e in result.errors if e.blob_id == blob_id.hex()]
    assert lost[0].files == [f"{snap[:8]}:/data/report.xlsx"]
    assert [w.pack_id for w in result.warnings] == ["ab" * 32]


def test_a_pack_of_the_wrong_size_is_reported() -> None:
    repo, backend, _snap, blob_id = _damaged_repo()
    pack_id, _ = repo.lookup_blob(BlobType.DATA, blob_id) or pytest.fail("not indexed")
    handle = Handle(FileType.PACK, pack_id)
    _replace(backend, handle, backend.load(handle) + b"junk")
    result = check_repository(Repository.open(backend, PASSWORD))
    assert any("unexpected file size" in e.message and e.pack_id == pack_id for e in result.errors)


def test_a_garbage_index_file_is_named_and_its_blobs_are_reported_missing() -> None:
    _repo, backend, _snap, _blob = _damaged_repo()
    (name,) = [i.name for i in backend.list(FileType.INDEX)]
    _replace(backend, Handle(FileType.INDEX, name), b"garbage")
    result = check_repository(Repository.open(backend, PASSWORD))
    assert not result.ok
    assert result.errors[0].message.startswith(f"index {name[:8]}")
    assert any("not in the index" in e.message for e in result.errors)
    assert len(result.warnings) == 2, "both packs are now unindexed"


def test_a_damaged_snapshot_file_is_reported() -> None:
    _repo, backend, snap, _blob = _damaged_repo()
    handle = Handle(FileType.SNAPSHOT, snap)
    _replace(backend, handle, backend.load(handle)[:-1])
    result = check_repository(Repository.open(backend, PASSWORD))
    assert [e.message[:17] for e in result.errors] == [f"snapshot {snap[:8]}"]


def test_read_data_subset_selects_restic_buckets_and_percentages() -> None:
    packs = [f"{i:02x}" + "0" * 62 for i in range(256)]
    assert select_packs(packs, "1/4") == [p for p in packs if int(p[:2], 16) % 4 == 0]
    assert (
        sorted(
            select_packs(packs, "1/4")
            + select_packs(packs, "2/4")
            + select_packs(packs, "3/4")
            + select_packs(packs, "4/4")
        )
        == packs
    )
    assert len(select_packs(packs, "10%")) == 26
    for bad in ("0/4", "5/4", "0%", "150%", "half"):
        with pytest.raises(InvalidArgumentError):
            select_packs(packs, bad)


def test_subset_check_reads_only_the_selected_packs() -> None:
    _repo, backend, _snap, _blob = _damaged_repo()
    repo = Repository.open(backend, PASSWORD)
    total = sum(check_repository(repo, read_data_subset=f"{n}/3").packs_checked for n in (1, 2, 3))
    assert total == 2
    assert_check_clean(backend)


@pytest.mark.restic
@pytest.mark.parametrize("processes", [0, 2], ids=["threads", "worker-processes"])
def test_restic_and_our_check_agree_on_a_damaged_pack(tmp_path: Path, processes: int) -> None:
    path = tmp_path / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    content = os.urandom(20_000)
    snap = write_snapshot(repo, {"minutes.docx": content, "ok.txt": b"fine\n" * 100})
    assert restic(path, "check", "--read-data", check=False).returncode == 0
    pack_id, where = repo.lookup_blob(BlobType.DATA, hash_bytes(content)) or pytest.fail("not indexed")
    pack = path / "data" / pack_id[:2] / pack_id
    pack.chmod(0o600)
    data = bytearray(pack.read_bytes())
    data[where.offset + 100] ^= 0x40
    pack.write_bytes(bytes(data))
    proc = restic(path, "check", "--read-data", check=False)
    assert proc.returncode != 0 and pack_id[:8].encode() in proc.stdout + proc.stderr
    result = check_repository(
        Repository.open(LocalBackend(path), PASSWORD), read_data=True, processes=processes
    )
    damaged = [e for e in result.errors if e.blob_id == hash_bytes(content).hex()]
    assert damaged and damaged[0].files == [f"{snap[:8]}:/data/minutes.docx"]
    assert result.packs_checked == 2 and result.bytes_read == sum(repo.list_packs().values())


def test_a_pack_in_two_index_files_is_a_warning_not_an_error() -> None:
    _repo, backend, _snap, _blob = _damaged_repo()
    repo = Repository.open(backend, PASSWORD)
    (name,) = repo.list_files(FileType.INDEX)
    repo.save_unpacked(FileType.INDEX, repo.load_unpacked(FileType.INDEX, name) + b" ")
    result = check_repository(Repository.open(backend, PASSWORD), read_data=True)
    assert result.ok
    assert len(result.warnings) == 2 and "several indexes" in result.warnings[0].message
