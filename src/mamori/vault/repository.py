"""The low-level repository: keys, config, encrypted blobs in packs, index, unpacked files, locks.

`save_blob` is thread-safe and does its heavy work (SHA-256, zstd and AES-CTR release the GIL) in
the calling thread outside any lock; only appending to the open pack is serialised. A full
pack is written by the thread that filled it. Ordering follows restic: packs, then the index
files for them (`flush`), then the snapshot (the caller's `save_unpacked` after `flush`).
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType

from mamori.vault import compression
from mamori.vault.backend import Backend, FileType, Handle
from mamori.vault.config import Config
from mamori.vault.crypto import EXTENSION, KDFParams, Key
from mamori.vault.errors import (
    AuthenticationError,
    BackendNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    InvalidDataError,
    RepositoryExistsError,
    RepositoryNotFoundError,
)
from mamori.vault.heap import release_free_memory
from mamori.vault.ids import find_by_prefix, hash_bytes
from mamori.vault.index import IndexFile, MasterIndex, decode_index, encode_index_parts
from mamori.vault.keys import add_key, open_master_key
from mamori.vault.lock import RepositoryLock, remove_stale_locks
from mamori.vault.pack import BlobType, PackedBlob, PackEntries, PackWriter, SealedRun, read_header

__all__ = ["DEFAULT_PACK_SIZE", "BlobType", "FileType", "Repository"]

# restic 0.14 defaults to 16 MiB packs (--pack-size); the same keeps pack counts comparable.
DEFAULT_PACK_SIZE = 16 * 1024 * 1024
# restic flushes a preliminary index file at 50,000 blobs.
INDEX_MAX_BLOBS = 50_000
# The most an index, snapshot or lock file may decode to: a crafted or damaged file (a "zstd bomb")
# must not exhaust memory. An index entry is some 110 bytes of JSON, so 1 GiB holds ~9 million
# blobs (restic 0.17's `repair index --read-all-packs` wrote one file for a whole repository); a
# snapshot is a few KiB, 64 MiB holds hundreds of thousands of paths; a lock is some 200 bytes.
UNPACKED_LIMITS = {FileType.INDEX: 1 << 30, FileType.SNAPSHOT: 64 << 20, FileType.LOCK: 1 << 20}


_Buffer = bytes | bytearray | memoryview


class Repository:
    """An open repository: use `init` or `open`, then `load_index` before reading or writing blobs."""

    def __init__(
        self, backend: Backend, key: Key, key_id: str, config: Config, *, pack_size: int = DEFAULT_PACK_SIZE
    ) -> None:
        self.backend = backend
        self.key = key
        self.key_id = key_id
        self.config = config
        self.id = config.id
        self.pack_size = pack_size
        self.index = MasterIndex()
        self.index_files: list[str] = []
        self.key_errors: list[tuple[str, str]] = []  # (key id, problem): malformed key files skipped on open
        self._lock = threading.Lock()
        # Open packs by (type, lane): blobs sealed by a backup's worker processes (small files) fill
        # packs of their own (lane 1), so a pack holds either small files or chunks of large ones.
        self._packers = {(t, lane): self._packer(t) for t in BlobType for lane in (0, 1)}
        # Blobs accepted by save_blob but not yet in a written pack (in flight or in an open pack).
        self._pending: dict[BlobType, set[bytes]] = {t: set() for t in BlobType}
        # Packs written but not yet listed in an index file.
        self._unindexed: dict[str, PackEntries] = {}
        self._index_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        backend: Backend,
        password: str,
        *,
        version: int = 2,
        kdf_params: KDFParams | None = None,
        pack_size: int = DEFAULT_PACK_SIZE,
    ) -> Repository:
        """Create a repository: layout, first key file, then `config` (restic's order)."""
        if backend.exists(Handle(FileType.CONFIG)):
            raise RepositoryExistsError(backend.location)
        config = Config.new(version)
        backend.create()
        key = Key.generate()
        key_id = add_key(backend, key, password, kdf_params)
        backend.save(Handle(FileType.CONFIG), key.seal(config.to_json()))
        return cls(backend, key, key_id, config, pack_size=pack_size)

    @classmethod
    def open(cls, backend: Backend, password: str, *, pack_size: int = DEFAULT_PACK_SIZE) -> Repository:
        """Open with a password; `RepositoryNotFoundError` or `WrongPasswordError` when that fails."""
        try:
            sealed = backend.load(Handle(FileType.CONFIG))
        except BackendNotFoundError as exc:
            raise RepositoryNotFoundError(backend.location) from exc
        key, key_id, malformed = open_master_key(backend, password)
        try:
            plain = key.open(sealed)
        except AuthenticationError as exc:
            raise InvalidDataError(
                "the config file fails verification: it is damaged or belongs to another repository",
                path="config",
            ) from exc
        repo = cls(backend, key, key_id, Config.from_json(plain), pack_size=pack_size)
        repo.key_errors = [(e.key_id, str(e)) for e in malformed]
        return repo

    def close(self) -> None:
        """Release the backend; unflushed blobs are lost (call `flush` first)."""
        with self._lock:
            for packer in self._packers.values():
                packer.discard()
        self.backend.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def lock(self, *, exclusive: bool = False, refresh: bool = True) -> RepositoryLock:
        """A context manager that holds (and refreshes) a lock file; raises `RepositoryLockedError`.
        With `refresh=False` the refreshing thread waits for `start_refresh`."""
        return RepositoryLock(self, exclusive=exclusive, location=self.backend.location, refresh=refresh)

    def unlock(self, *, remove_all: bool = False) -> list[str]:
        """Remove stale locks (or all of them); returns the removed lock ids."""
        return remove_stale_locks(self, remove_all=remove_all)

    # -- unpacked files (config, index, snapshots, locks) ----------------------------------------

    def save_unpacked(self, file_type: FileType, data: bytes) -> str:
        """Compress (v2) and encrypt a small file; its id is the SHA-256 of the stored bytes."""
        return self._store_unpacked(file_type, compression.compress_unpacked(data, self.config.version))

    def save_unpacked_parts(self, file_type: FileType, pieces: Iterable[bytes]) -> str:
        """`save_unpacked` of the pieces joined, compressed as they come (a large index file)."""
        return self._store_unpacked(
            file_type, compression.compress_unpacked_parts(pieces, self.config.version)
        )

    def _store_unpacked(self, file_type: FileType, plain: bytes) -> str:
        if file_type in (FileType.CONFIG, FileType.KEY, FileType.PACK):
            raise InvalidArgumentError(f"save_unpacked cannot write {file_type.value} files")
        sealed = self.key.seal(plain)
        file_id = hash_bytes(sealed).hex()
        self.backend.save(Handle(file_type, file_id), sealed)
        return file_id

    def load_unpacked(self, file_type: FileType, file_id: str) -> bytes:
        """Load, check the hash, decrypt and decompress a small file; damage names the file."""
        handle = Handle(file_type, file_id)
        sealed = self.backend.load(handle)
        if file_type is FileType.CONFIG:
            return self.key.open(sealed)
        if hash_bytes(sealed).hex() != file_id:
            hint = "mamori vault rebuild-index" if file_type is FileType.INDEX else "mamori vault check"
            raise InvalidDataError(
                f"{handle} does not match its name (damaged or truncated): run `{hint}`", path=str(handle)
            )
        try:
            plain = self.key.open(sealed)
            limit = UNPACKED_LIMITS.get(file_type, UNPACKED_LIMITS[FileType.SNAPSHOT])
            return compression.decompress_unpacked(plain, self.config.version, limit)
        except IntegrityError as exc:
            hint = "mamori vault rebuild-index" if file_type is FileType.INDEX else "mamori vault check"
            raise InvalidDataError(
                f"{handle} cannot be decoded ({exc}): run `{hint}`", path=str(handle)
            ) from exc

    def list_files(self, file_type: FileType) -> Iterator[str]:
        """Names of every file of a type."""
        for info in self.backend.list(file_type):
            yield info.name

    def remove_file(self, file_type: FileType, file_id: str) -> None:
        """Delete one file (locks, snapshots, index files, packs)."""
        self.backend.remove(Handle(file_type, file_id))

    def find_file_id(self, file_type: FileType, prefix_or_id: str) -> str:
        """The full name of the one file whose name starts with the prefix."""
        return find_by_prefix(prefix_or_id, self.list_files(file_type), file_type=file_type.value)

    # -- index ---------------------------------------------------------------------------------

    def load_index_file(self, index_id: str) -> IndexFile:
        """Decode one index file; garbage or truncation is an `InvalidDataError` naming it."""
        return decode_index(self.load_unpacked(FileType.INDEX, index_id), index_id)

    def load_index(self, *, skip_damaged: bool = False) -> list[tuple[str, str]]:
        """Read every index file into the master index.

        With `skip_damaged` (reads only: restore, ls) a damaged index file is left out and returned
        as (id, problem), so snapshots indexed elsewhere still restore; writers keep the strict load.
        """
        index = MasterIndex()
        names = sorted(self.list_files(FileType.INDEX))
        damaged: list[tuple[str, str]] = []
        for name in names:
            try:
                index.add_file_json(self.load_unpacked(FileType.INDEX, name), name)
            except IntegrityError as exc:
                if not skip_damaged:
                    raise
                damaged.append((name, str(exc)))
        index.compact()
        with self._lock:
            for pack_id, blobs in self._unindexed.items():
                index.add_pack(pack_id, blobs)
            self.index = index
            self.index_files = names
        release_free_memory()  # the index files' decoded JSON: 10 times the columns kept
        return damaged

    def has_blob(self, blob_type: BlobType, blob_id: bytes) -> bool:
        """Whether the blob is stored, or being stored by this process.

        Without the lock: entries are only ever added during a backup, and each read below is atomic,
        so a racing save can only make this miss a blob that `save_blobs` then finds under the lock.
        The backup's walker asks this for every chunk while the save threads hold the lock often.
        """
        return self.index.has(blob_type, blob_id) or blob_id in self._pending[blob_type]

    def lookup_blob(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None:
        """(pack id, position) of an indexed blob."""
        with self._lock:
            return self.index.lookup(blob_type, blob_id)

    # -- blobs ---------------------------------------------------------------------------------

    def seal_blobs(self, items: Sequence[_Buffer]) -> list[tuple[bytearray, int]]:
        """(stored bytes, uncompressed length or 0) for each plaintext: compressed when worth it
        (v2), then encrypted. Pure: a copy calls it on another thread."""
        stored, uncompressed = self._compressed(items)
        return list(zip(self.key.seal_many(stored), uncompressed, strict=True))

    def seal_run(self, ids: list[bytes], items: Sequence[_Buffer]) -> SealedRun:
        """`seal_blobs` of plaintexts whose ids are `ids`, back to back in one buffer. Pure: a
        backup's worker processes call it on their copy."""
        stored, uncompressed = self._compressed(items)
        lengths = [memoryview(data).nbytes + EXTENSION for data in stored]
        return SealedRun(ids, lengths, uncompressed, self.key.seal_joined(stored))

    def _compressed(self, items: Sequence[_Buffer]) -> tuple[list[_Buffer], list[int]]:
        """What to store of each plaintext (its zstd frame when worth it, v2) and its uncompressed
        length (0: stored as is)."""
        if self.config.version < 2:
            return list(items), [0] * len(items)
        packed = compression.compress_many_if_worth_it(items)
        return (
            [data if frame is None else frame for data, frame in zip(items, packed, strict=True)],
            [0 if frame is None else len(data) for data, frame in zip(items, packed, strict=True)],
        )

    def save_blob(
        self, blob_type: BlobType, data: bytes | bytearray | memoryview, blob_id: bytes | None = None
    ) -> tuple[bytes, bool]:
        """Store a blob unless it is known; returns (id, newly stored). Thread-safe.

        A blob another thread is saving right now counts as known (it is saved once).
        """
        if blob_id is None:
            blob_id = hash_bytes(data)
        return blob_id, self.save_blobs([(blob_type, data, blob_id)]) > 0

    def save_blobs(self, items: Sequence[tuple[BlobType, _Buffer, bytes]]) -> int:
        """`save_blob` for a batch of (type, plaintext, id), as the backup's save threads hand them
        over: small blobs are compressed together, and the packers are locked once per batch.
        Returns the bytes newly stored (sealed sizes; 0 when every blob was known already)."""
        with self._lock:
            todo = []
            for blob_type, data, blob_id in items:
                pending = self._pending[blob_type]
                if blob_id not in pending and not self.index.has(blob_type, blob_id):
                    pending.add(blob_id)
                    todo.append((blob_type, data, blob_id))
        try:
            encoded = self.seal_blobs([data for _t, data, _i in todo])
        except BaseException:
            with self._lock:
                for blob_type, _data, blob_id in todo:
                    self._pending[blob_type].discard(blob_id)
            raise
        self._pack(
            [
                (blob_type, blob_id, *sealed)
                for (blob_type, _data, blob_id), sealed in zip(todo, encoded, strict=True)
            ],
            0,
        )
        return sum(len(sealed) for sealed, _length in encoded)

    def save_sealed(
        self, items: Sequence[tuple[BlobType, bytes, bytes | bytearray, int]], *, lane: int = 1
    ) -> tuple[int, int]:
        """Store blobs sealed elsewhere (`seal_blobs` in a backup's worker processes, a copy's
        re-encryption): (type, id, stored bytes, uncompressed length) into the packs of `lane`.
        Known blobs are skipped; returns (blobs, bytes) stored."""
        with self._lock:
            todo = []
            for item in items:
                pending = self._pending[item[0]]
                if item[1] not in pending and not self.index.has(item[0], item[1]):
                    pending.add(item[1])
                    todo.append(item)
        self._pack(todo, lane)
        return len(todo), sum(len(item[2]) for item in todo)

    def save_run(self, blob_type: BlobType, run: SealedRun, *, lane: int = 1) -> tuple[int, int]:
        """`save_sealed` of a run of blobs sealed by a backup's worker process (`seal_run`): into
        the packs with a write per pack, not per blob. Returns (blobs, bytes) stored."""
        ids = run.ids
        with self._lock:
            pending = self._pending[blob_type]
            known = self.index.has_many(blob_type, ids)
            if not any(known) and pending.isdisjoint(ids) and len(set(ids)) == len(ids):
                pending.update(ids)  # the usual case: every blob is new
            else:
                fresh = []
                for blob_id, old in zip(ids, known, strict=True):
                    new = not old and blob_id not in pending
                    if new:
                        pending.add(blob_id)
                    fresh.append(new)
                run = run.keep(fresh)
        if not run.ids:
            return 0, 0
        self._pack_run(blob_type, run, lane)
        return len(run), run.nbytes

    def _pack_run(self, blob_type: BlobType, run: SealedRun, lane: int) -> None:
        """`_pack` of a run: each open pack takes the blobs up to the one that fills it in one piece."""
        ends = list(itertools.accumulate(run.lengths))
        data = memoryview(run.data)
        full: list[PackWriter] = []
        with self._lock:
            start = 0
            while start < len(ends):
                packer = self._packers[blob_type, lane]
                base = ends[start - 1] if start else 0
                # the blob that brings the pack to its size is its last, as `_pack` adds them
                stop = bisect.bisect_left(ends, self.pack_size - packer.size + base, start) + 1
                stop = min(stop, len(ends))
                packer.add_run(
                    run.ids[start:stop],
                    run.lengths[start:stop],
                    run.uncompressed[start:stop],
                    data[base : ends[stop - 1]],
                )
                if packer.size >= self.pack_size:
                    full.append(packer)
                    self._packers[blob_type, lane] = self._packer(blob_type)
                start = stop
        self._write_full(full)

    def _pack(self, items: Sequence[tuple[BlobType, bytes, bytes | bytearray, int]], lane: int) -> None:
        """Append sealed blobs (already in `_pending`) to the open packs; write the packs filled."""
        full: list[PackWriter] = []
        with self._lock:
            for blob_type, blob_id, sealed, uncompressed_length in items:
                packer = self._packers[blob_type, lane]
                packer.add(blob_id, sealed, uncompressed_length)
                if packer.size >= self.pack_size:
                    full.append(packer)
                    self._packers[blob_type, lane] = self._packer(blob_type)
        self._write_full(full)

    def _write_full(self, full: list[PackWriter]) -> None:
        """Write packs filled by `_pack`; after a failure the rest are dropped and can be saved again."""
        for n, packer in enumerate(full):
            try:
                self._write_pack(packer)
            except BaseException:
                with self._lock:  # packs not attempted: their blobs can be saved again, like the failed one's
                    for rest in full[n + 1 :]:
                        rest.discard()
                        self._pending[rest.blob_type].difference_update(rest.entries.id_list())
                raise

    def _packer(self, blob_type: BlobType) -> PackWriter:
        """A new open pack, written to the backend's spool file as blobs are added."""
        return PackWriter(self.key, blob_type, self.backend.spool)

    def _write_pack(self, packer: PackWriter) -> None:
        """Upload a finished pack, then index its blobs (the index file comes at flush)."""
        entries = packer.entries
        try:
            pack_id_bytes, spool = packer.finish()
            try:
                pack_id = pack_id_bytes.hex()
                self.backend.save(Handle(FileType.PACK, pack_id), spool)
            finally:
                spool.close()
        except BaseException:
            packer.discard()
            with self._lock:
                self._pending[entries.blob_type].difference_update(entries.id_list())
            raise
        with self._lock:
            self.index.add_pack(pack_id, entries)
            self._unindexed[pack_id] = entries
            self._pending[entries.blob_type].difference_update(entries.id_list())
            unindexed_blobs = sum(len(e) for e in self._unindexed.values())
        if unindexed_blobs >= INDEX_MAX_BLOBS:
            self._write_index()

    def _write_index(self) -> None:
        """Write one index file for every pack not yet in one."""
        with self._index_lock:
            with self._lock:
                packs = self._unindexed
                self._unindexed = {}
            if not packs:
                return
            try:
                self.backend.sync()  # the packs are durable before an index names them
                index_id = self.save_unpacked_parts(FileType.INDEX, encode_index_parts(packs))
            except BaseException:
                with self._lock:
                    packs.update(self._unindexed)
                    self._unindexed = packs
                raise
            with self._lock:
                self.index_files.append(index_id)

    def flush(self) -> None:
        """Write the open packs and an index file for all new packs. Call after all saves returned."""
        with self._lock:
            packers = [p for p in self._packers.values() if len(p)]
            for key, p in list(self._packers.items()):
                if len(p):
                    self._packers[key] = self._packer(p.blob_type)
        for n, packer in enumerate(packers):
            try:
                self._write_pack(packer)
            except BaseException:
                for rest in packers[n + 1 :]:
                    rest.discard()
                raise
        self._write_index()

    def load_blob(self, blob_type: BlobType, blob_id: bytes) -> bytes:
        """Read, authenticate, decompress and verify a blob; damage raises `IntegrityError` with ids."""
        found = self.lookup_blob(blob_type, blob_id)
        if found is None:
            with self._lock:
                fresh = next(
                    (f for lane in (0, 1) if (f := self._packers[blob_type, lane].find(blob_id)) is not None),
                    None,
                )
            if fresh is not None:  # saved by this process, pack not written yet
                return self.decode_blob("(unwritten pack)", *fresh)
            raise _not_indexed(blob_type, blob_id)
        return self.load_blob_from(*found)

    def locate_blob(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob]:
        """(pack id, position) of a blob that must be indexed; `IntegrityError` when it is not."""
        found = self.lookup_blob(blob_type, blob_id)
        if found is None:
            raise _not_indexed(blob_type, blob_id)
        return found

    def load_blob_from(self, pack_id: str, blob: PackedBlob) -> bytes:
        """Read and verify a blob at a known place (prune reads from packs no longer indexed)."""
        sealed = self.backend.load(Handle(FileType.PACK, pack_id), blob.offset, blob.length)
        return self.decode_blob(pack_id, blob, sealed)

    def decode_blob(self, pack_id: str, blob: PackedBlob, sealed: bytes | bytearray | memoryview) -> bytes:
        """Turn a blob's stored bytes into its verified plaintext."""
        return self.decode_blob_frame(pack_id, blob, sealed)[0]

    def decode_blob_frame(
        self, pack_id: str, blob: PackedBlob, sealed: bytes | bytearray | memoryview
    ) -> tuple[bytes, bytes | None]:
        """`decode_blob`, and the blob's verified zstd frame (None when stored uncompressed), which
        a copy re-encrypts as it is instead of compressing the plaintext again."""
        if len(sealed) != blob.length:
            raise IntegrityError(
                f"{_where(pack_id, blob)} is truncated: run `mamori vault check --read-data`",
                pack_id=pack_id,
                blob_id=blob.id.hex(),
            )
        frame = None
        try:
            plain = self.key.open(sealed)
            if blob.uncompressed_length:
                frame, plain = plain, compression.decompress(plain, blob.uncompressed_length)
        except IntegrityError as exc:
            raise type(exc)(
                f"{_where(pack_id, blob)} is damaged ({exc})", pack_id=pack_id, blob_id=blob.id.hex()
            ) from exc
        if hash_bytes(plain) != blob.id:
            raise InvalidDataError(
                f"{_where(pack_id, blob)} does not match its id: the pack is damaged",
                pack_id=pack_id,
                blob_id=blob.id.hex(),
            )
        return plain, frame

    # -- packs (check, prune, stats) -------------------------------------------------------------

    def list_packs(self) -> dict[str, int]:
        """Every pack file with its size."""
        return {info.name: info.size for info in self.backend.list(FileType.PACK)}

    def read_pack_header(self, pack_id: str, size: int | None = None) -> list[PackedBlob]:
        """A pack's blobs as its own header lists them."""
        return read_header(self.backend, self.key, pack_id, size)

    def load_pack(self, pack_id: str) -> bytes:
        """A whole pack file's bytes."""
        return self.backend.load(Handle(FileType.PACK, pack_id))

    def load_pack_range(self, pack_id: str, offset: int, length: int) -> bytes:
        """`length` bytes of a pack file from `offset` (fewer if the file is shorter)."""
        return self.backend.load(Handle(FileType.PACK, pack_id), offset, length) if length else b""

    @property
    def overhead(self) -> int:
        """Bytes encryption adds to each blob and file."""
        return EXTENSION


def _where(pack_id: str, blob: PackedBlob) -> str:
    # only for messages: a backup decodes the parent's tree of every folder
    return f"{blob.type.value} blob {blob.id.hex()[:8]} in pack {pack_id[:8]}"


def _not_indexed(blob_type: BlobType, blob_id: bytes) -> IntegrityError:
    return IntegrityError(
        f"{blob_type.value} blob {blob_id.hex()[:8]} is not in the index: run `mamori vault check`",
        blob_id=blob_id.hex(),
    )
