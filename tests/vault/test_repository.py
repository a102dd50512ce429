"""Repository behaviour on the in-memory backend; every test ends with a full check."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.errors import (
    AmbiguousIdError,
    IntegrityError,
    InvalidDataError,
    NotFoundError,
    PermanentBackendError,
    RepositoryExistsError,
    RepositoryNotFoundError,
    WrongPasswordError,
)
from mamori.vault.ids import hash_bytes
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.faults import FailNthSaveBackend, FlipLastByteBackend, TruncatingBackend
from tests.vault.repo_helpers import PASSWORD, assert_check_clean, new_repository


def test_blobs_round_trip_after_reopen() -> None:
    repo = new_repository()
    blobs = [os.urandom(5000), b"compressible " * 50_000, b"", b'{"nodes":[]}\n']
    ids = [repo.save_blob(BlobType.DATA, b)[0] for b in blobs[:3]]
    tree_id, new = repo.save_blob(BlobType.TREE, blobs[3])
    assert new
    repo.flush()
    reopened = Repository.open(repo.backend, PASSWORD)
    reopened.load_index()
    assert [reopened.load_blob(BlobType.DATA, i) for i in ids] == blobs[:3]
    assert reopened.load_blob(BlobType.TREE, tree_id) == blobs[3]
    assert_check_clean(repo.backend)


def test_compressible_blobs_are_stored_compressed_in_v2_only() -> None:
    for version, compressed in ((2, True), (1, False)):
        repo = new_repository(version=version)
        blob_id, _ = repo.save_blob(BlobType.DATA, b"a" * 100_000)
        repo.flush()
        _pack, where = repo.lookup_blob(BlobType.DATA, blob_id) or pytest.fail("not indexed")
        assert (where.uncompressed_length == 100_000) is compressed
        assert_check_clean(repo.backend)


def test_known_blobs_are_not_saved_twice() -> None:
    repo = new_repository()
    data = os.urandom(1000)
    assert repo.save_blob(BlobType.DATA, data)[1] is True
    assert repo.save_blob(BlobType.DATA, data)[1] is False
    assert repo.has_blob(BlobType.DATA, hash_bytes(data))
    assert not repo.has_blob(BlobType.TREE, hash_bytes(data)), "data and tree blobs are separate"
    repo.flush()
    assert repo.save_blob(BlobType.DATA, data)[1] is False
    assert repo.index.count() == 1
    assert_check_clean(repo.backend)


def test_parallel_savers_store_each_blob_once_and_separate_packs_by_type() -> None:
    repo = new_repository(pack_size=64 * 1024)
    chunks = [os.urandom(20_000) for _ in range(40)]
    work = [(BlobType.DATA, c) for c in chunks] * 3 + [(BlobType.TREE, c[:500]) for c in chunks]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda tc: repo.save_blob(*tc), work))
    assert sum(new for _id, new in results) == 80
    repo.flush()
    packs = repo.index.packs()
    assert len(packs) > 5
    for blobs in packs.values():
        assert len({b.type for b in blobs}) == 1
    assert_check_clean(repo.backend)


def test_a_batch_is_saved_like_single_blobs() -> None:
    """The backup's save threads hand over batches: small blobs are compressed together, known and
    repeated ones are skipped, large and incompressible ones are stored as single saves store them."""
    for version in (2, 1):
        repo = new_repository(version=version, pack_size=200_000)
        known = os.urandom(3000)
        repo.save_blob(BlobType.DATA, known)
        blobs = [
            b"office text " * 4000,  # small, compressible
            os.urandom(40_000),  # small, incompressible
            b"dump row\n" * 60_000,  # large, compressible
            os.urandom(300_000),  # large, incompressible
            known,
        ]
        batch = [(BlobType.DATA, b, hash_bytes(b)) for b in blobs]
        batch += [batch[0], (BlobType.TREE, b'{"nodes":[]}\n', hash_bytes(b'{"nodes":[]}\n'))]
        repo.save_blobs(batch)
        repo.flush()
        assert repo.index.count() == 6  # the known blob and the repeat are not stored again
        for blob_type, data, blob_id in batch:
            assert repo.load_blob(blob_type, blob_id) == data
            _pack, where = repo.lookup_blob(blob_type, blob_id) or pytest.fail("not indexed")
            single = new_repository(version=version)
            single.save_blob(blob_type, data)
            single.flush()
            _p, alone = single.lookup_blob(blob_type, blob_id) or pytest.fail("not indexed")
            assert (where.length, where.uncompressed_length) == (alone.length, alone.uncompressed_length)
        assert_check_clean(repo.backend)


def test_a_run_of_sealed_blobs_is_packed_as_one_by_one_saving_packs_it() -> None:
    """A backup's worker hands over a job's new files as one run: the packs it fills end at the same
    blobs as saving each one would, known and repeated blobs are skipped, all read back."""
    plains = [os.urandom(n) for n in (3000, 9000, 500, 12000, 7000, 4000, 100, 8000, 6000)]
    plains.append(b"office text " * 900)
    ids = [hash_bytes(p) for p in plains]
    by_run, one_by_one = new_repository(pack_size=10_000), new_repository(pack_size=10_000)
    for repo in (by_run, one_by_one):
        repo.save_blob(BlobType.DATA, plains[4])
    run = by_run.seal_run(ids, plains)
    assert by_run.save_run(BlobType.DATA, run) == (9, run.nbytes - run.lengths[4])
    assert by_run.save_run(BlobType.DATA, run) == (0, 0)
    for blob_id, sealed in zip(ids, one_by_one.seal_blobs(plains), strict=True):
        one_by_one.save_sealed([(BlobType.DATA, blob_id, *sealed)])
    layouts = []
    for repo in (by_run, one_by_one):
        repo.flush()
        assert [repo.load_blob(BlobType.DATA, i) for i in ids] == plains
        packs = repo.index.packs().values()
        layouts.append(sorted([(b.offset, b.length, b.id) for b in blobs] for blobs in packs))
        assert_check_clean(repo.backend)
    assert layouts[0] == layouts[1] and len(layouts[0]) == 5


def test_unpacked_files_round_trip_and_are_named_by_their_hash() -> None:
    repo = new_repository()
    file_id = repo.save_unpacked(FileType.SNAPSHOT, b'{"time":"x"}')
    assert hash_bytes(repo.backend.load(Handle(FileType.SNAPSHOT, file_id))).hex() == file_id
    assert repo.load_unpacked(FileType.SNAPSHOT, file_id) == b'{"time":"x"}'
    assert repo.find_file_id(FileType.SNAPSHOT, file_id[:6]) == file_id
    with pytest.raises(NotFoundError):
        repo.find_file_id(FileType.SNAPSHOT, "0000000")
    repo.remove_file(FileType.SNAPSHOT, file_id)
    assert list(repo.list_files(FileType.SNAPSHOT)) == []
    assert_check_clean(repo.backend)


def test_ambiguous_prefix_is_refused() -> None:
    repo = new_repository()
    ids = [repo.save_unpacked(FileType.LOCK, b'{"n":%d}' % i) for i in range(40)]
    prefix = next(a[0] for a in ids if sum(b.startswith(a[0]) for b in ids) > 1)
    with pytest.raises(AmbiguousIdError):
        repo.find_file_id(FileType.LOCK, prefix)
    for i in ids:
        repo.remove_file(FileType.LOCK, i)
    assert_check_clean(repo.backend)


def test_init_refuses_an_existing_repository_and_open_needs_one() -> None:
    repo = new_repository()
    with pytest.raises(RepositoryExistsError):
        Repository.init(repo.backend, PASSWORD)
    with pytest.raises(RepositoryNotFoundError, match="no repository at"):
        Repository.open(MemoryBackend(), PASSWORD)
    assert_check_clean(repo.backend)


def test_wrong_password_is_reported_as_such() -> None:
    repo = new_repository()
    with pytest.raises(WrongPasswordError) as err:
        Repository.open(repo.backend, "not the password")
    assert err.value.exit_code == 12
    assert_check_clean(repo.backend)


def test_garbage_and_truncated_index_files_are_named() -> None:
    repo = new_repository()
    repo.save_blob(BlobType.DATA, b"x" * 100)
    repo.flush()
    (name,) = repo.list_files(FileType.INDEX)
    sealed = repo.backend.load(Handle(FileType.INDEX, name))
    repo.backend.remove(Handle(FileType.INDEX, name))
    repo.backend.save(Handle(FileType.INDEX, name), sealed[:-7])
    with pytest.raises(InvalidDataError, match=f"index/{name}") as err:
        repo.load_index()
    assert err.value.path == f"index/{name}"
    garbage = repo.key.seal(b"\x02not zstd at all")
    gid = hash_bytes(garbage).hex()
    repo.backend.save(Handle(FileType.INDEX, gid), garbage)
    repo.backend.remove(Handle(FileType.INDEX, name))
    with pytest.raises(InvalidDataError, match=gid[:8]):
        repo.load_index()


def test_bit_rot_in_a_pack_names_pack_and_blob() -> None:
    repo = new_repository()
    blob_id, _ = repo.save_blob(BlobType.DATA, os.urandom(3000))
    repo.flush()
    damaged = Repository.open(FlipLastByteBackend(repo.backend), PASSWORD)
    damaged.load_index()
    with pytest.raises(IntegrityError) as err:
        damaged.load_blob(BlobType.DATA, blob_id)
    assert err.value.blob_id == blob_id.hex()
    assert err.value.pack_id == repo.index.pack_ids()[0]
    truncated = Repository.open(TruncatingBackend(repo.backend), PASSWORD)
    truncated.load_index()
    with pytest.raises(IntegrityError, match="truncated"):
        truncated.load_blob(BlobType.DATA, blob_id)
    assert_check_clean(repo.backend)


def test_a_failed_pack_upload_loses_nothing_already_saved_and_can_be_retried() -> None:
    inner = MemoryBackend()
    new_repository(inner)
    backend = FailNthSaveBackend(inner, n=2)
    repo = Repository.open(backend, PASSWORD, pack_size=10_000)
    first = os.urandom(12_000)
    second = os.urandom(12_000)
    repo.save_blob(BlobType.DATA, first)  # pack 1 written (save 1)
    with pytest.raises(PermanentBackendError):
        repo.save_blob(BlobType.DATA, second)  # pack 2 fails (save 2)
    assert not repo.has_blob(BlobType.DATA, hash_bytes(second))
    assert repo.save_blob(BlobType.DATA, second)[1] is True
    repo.flush()
    again = Repository.open(inner, PASSWORD)
    again.load_index()
    assert again.load_blob(BlobType.DATA, hash_bytes(second)) == second
    assert_check_clean(inner)


def test_a_batch_whose_pack_upload_fails_can_be_saved_again() -> None:
    inner = MemoryBackend()
    new_repository(inner)
    repo = Repository.open(FailNthSaveBackend(inner, n=1), PASSWORD, pack_size=10_000)
    blobs = [os.urandom(12_000) for _ in range(3)]  # three full packs from one batch; the first fails
    batch = [(BlobType.DATA, b, hash_bytes(b)) for b in blobs]
    with pytest.raises(PermanentBackendError):
        repo.save_blobs(batch)
    assert not any(repo.has_blob(BlobType.DATA, blob_id) for _t, _d, blob_id in batch)
    repo.save_blobs(batch)
    repo.flush()
    again = Repository.open(inner, PASSWORD)
    again.load_index()
    assert [again.load_blob(BlobType.DATA, blob_id) for _t, _d, blob_id in batch] == blobs
    assert_check_clean(inner)


def test_lock_file_exists_while_held() -> None:
    repo = new_repository()
    with repo.lock():
        assert len(list(repo.list_files(FileType.LOCK))) == 1
    assert list(repo.list_files(FileType.LOCK)) == []
    assert_check_clean(repo.backend)


def test_a_blob_can_be_read_back_before_its_pack_is_written() -> None:
    repo = new_repository()
    blob_id, _ = repo.save_blob(BlobType.TREE, b'{"nodes":[]}\n')
    assert repo.load_blob(BlobType.TREE, blob_id) == b'{"nodes":[]}\n'
    with pytest.raises(IntegrityError, match="not in the index"):
        repo.load_blob(BlobType.DATA, blob_id)
    repo.flush()
    assert_check_clean(repo.backend)
