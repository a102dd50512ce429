"""Pack files: encrypted blobs back to back, then the encrypted header, then its length (uint32 LE).

A pack being filled is written to a spool file (`mamori.vault.backend.spool`), not kept in memory.

Header entries (restic `internal/repository/pack/pack.go`): ``type(1) || length(4) || id(32)`` for
uncompressed blobs (types 0 data, 1 tree), ``type(1) || length(4) || uncompressed_length(4) || id(32)``
for compressed ones (types 2 data, 3 tree). Offsets are implicit: blobs are contiguous from 0.
"""

from __future__ import annotations

import enum
import itertools
import pickle
import struct
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mamori.vault.backend import Backend, FileType, Handle, Spool
from mamori.vault.crypto import EXTENSION, Key
from mamori.vault.errors import AuthenticationError, BadPackHeaderError
from mamori.vault.ids import find_id

__all__ = [
    "HEADER_LENGTH_SIZE",
    "BlobType",
    "PackEntries",
    "PackWriter",
    "PackedBlob",
    "SealedRun",
    "entry_size",
    "pack_size",
    "parse_header",
    "read_header",
    "read_header_from_bytes",
]

HEADER_LENGTH_SIZE = 4
_PLAIN_ENTRY = 1 + 4 + 32
_COMPRESSED_ENTRY = 1 + 4 + 4 + 32
_MAX_HEADER = 16 * 1024 * 1024 + HEADER_LENGTH_SIZE
# Read this many bytes from the end first: 15 compressed entries fit, as in restic.
_EAGER_TAIL = 15 * _COMPRESSED_ENTRY + EXTENSION + HEADER_LENGTH_SIZE
_U32 = struct.Struct("<I")
_U32x2 = struct.Struct("<II")


class BlobType(enum.StrEnum):
    """What a blob holds; the value is the index JSON spelling."""

    DATA = "data"
    TREE = "tree"


_TYPE_CODE = {BlobType.DATA: 0, BlobType.TREE: 1}


@dataclass(frozen=True, slots=True)
class PackedBlob:
    """Where a blob sits in a pack. `uncompressed_length` is 0 for an uncompressed blob."""

    type: BlobType
    id: bytes
    offset: int
    length: int
    uncompressed_length: int = 0

    @property
    def plaintext_length(self) -> int:
        """Bytes of the blob's plaintext (what the id hashes)."""
        return self.uncompressed_length or self.length - EXTENSION


class PackEntries:
    """The blobs of a pack of one type as columns: ids (32 bytes each, back to back), offsets,
    stored lengths and uncompressed lengths (0: stored as is). A backup of 100,000 small files packs
    and indexes as many blobs, and keeps them until their index file is written: a `PackedBlob`, or
    even a `bytes` id, for each cost more than the packing; iterating yields them for other readers."""

    __slots__ = ("blob_type", "ids", "lengths", "offsets", "uncompressed")

    def __init__(self, blob_type: BlobType) -> None:
        self.blob_type = blob_type
        self.ids = bytearray()
        self.offsets = array("Q")
        self.lengths = array("I")
        self.uncompressed = array("I")

    def __len__(self) -> int:
        return len(self.offsets)

    def __iter__(self) -> Iterator[PackedBlob]:
        blob_type = self.blob_type
        for blob_id, offset, length, uncompressed in zip(
            self.id_list(), self.offsets, self.lengths, self.uncompressed, strict=True
        ):
            yield PackedBlob(blob_type, blob_id, offset, length, uncompressed)

    def id_list(self) -> list[bytes]:
        """The ids, one `bytes` each."""
        ids = self.ids
        return [bytes(ids[k : k + 32]) for k in range(0, len(ids), 32)]

    def index_of(self, blob_id: bytes) -> int | None:
        """The position of `blob_id`, or None."""
        pos = find_id(self.ids, blob_id)
        return None if pos == -1 else pos // 32


class SealedRun:
    """Sealed blobs of one type back to back in one buffer, with their ids, stored lengths and
    uncompressed lengths (0: stored as is): how a backup's worker process hands over a job's new
    files. The buffer goes into a pack with one write (`PackWriter.add_run`); pickled with protocol
    5 and a buffer callback it travels out of band (no copy into the pickle)."""

    __slots__ = ("data", "ids", "lengths", "uncompressed")

    def __init__(
        self,
        ids: list[bytes],
        lengths: list[int],
        uncompressed: list[int],
        data: bytes | bytearray | memoryview,
    ) -> None:
        self.ids = ids
        self.lengths = lengths
        self.uncompressed = uncompressed
        self.data = data

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        """Bytes of sealed data."""
        return memoryview(self.data).nbytes

    def keep(self, flags: Sequence[bool]) -> SealedRun:
        """The run of the blobs whose flag is true (a copy)."""
        view = memoryview(self.data)
        ends = list(itertools.accumulate(self.lengths))
        chosen = [k for k, flag in enumerate(flags) if flag]
        return SealedRun(
            [self.ids[k] for k in chosen],
            [self.lengths[k] for k in chosen],
            [self.uncompressed[k] for k in chosen],
            b"".join([view[ends[k] - self.lengths[k] : ends[k]] for k in chosen]),
        )

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        data = pickle.PickleBuffer(self.data) if protocol >= 5 else self.data
        return (SealedRun, (self.ids, self.lengths, self.uncompressed, data))


def entry_size(blob: PackedBlob) -> int:
    """Header bytes this blob costs (37 or 41)."""
    return _COMPRESSED_ENTRY if blob.uncompressed_length else _PLAIN_ENTRY


def pack_size(blobs: list[PackedBlob]) -> int:
    """The exact file size of a pack holding `blobs` (restic `pack.Size`, used by check)."""
    return sum(b.length + entry_size(b) for b in blobs) + EXTENSION + HEADER_LENGTH_SIZE


class PackWriter:
    """Writes sealed blobs of one type to a spool file as they come; `finish` appends the header.
    Not thread-safe. The spool (`spool()`, a temporary file by default) is opened at the first blob,
    so an unused writer holds no file."""

    def __init__(self, key: Key, blob_type: BlobType, spool: Callable[[], Spool] = Spool) -> None:
        self._key = key
        self.blob_type = blob_type
        self._new_spool = spool
        self._spool: Spool | None = None
        self._size = 0
        self.entries = PackEntries(blob_type)

    @property
    def size(self) -> int:
        """Bytes of blob data so far (the header comes on top)."""
        return self._size

    @property
    def blobs(self) -> list[PackedBlob]:
        """The blobs added so far."""
        return list(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def add(
        self, blob_id: bytes, sealed: bytes | bytearray | memoryview, uncompressed_length: int = 0
    ) -> None:
        """Append one sealed blob (``IV || CT || MAC``) and remember its header entry."""
        if self._spool is None:
            self._spool = self._new_spool()
        self._spool.write(sealed)
        entries = self.entries
        entries.ids += blob_id
        entries.offsets.append(self._size)
        entries.lengths.append(len(sealed))
        entries.uncompressed.append(uncompressed_length)
        self._size += len(sealed)

    def add_run(
        self,
        ids: Sequence[bytes],
        lengths: Sequence[int],
        uncompressed: Sequence[int],
        sealed: bytes | bytearray | memoryview,
    ) -> None:
        """Append sealed blobs stored back to back in `sealed` (`lengths`: the bytes of each), as
        one write."""
        if self._spool is None:
            self._spool = self._new_spool()
        self._spool.write(sealed)
        entries = self.entries
        offsets = list(itertools.accumulate(lengths, initial=self._size))
        self._size = offsets.pop()
        entries.ids += b"".join(ids)
        entries.offsets.extend(offsets)
        entries.lengths.extend(lengths)
        entries.uncompressed.extend(uncompressed)

    def find(self, blob_id: bytes) -> tuple[PackedBlob, bytes] | None:
        """A blob still in this unfinished pack, with its sealed bytes (readers of fresh blobs)."""
        entries = self.entries
        k = entries.index_of(blob_id)
        if k is None or self._spool is None:
            return None
        blob = PackedBlob(
            self.blob_type, blob_id, entries.offsets[k], entries.lengths[k], entries.uncompressed[k]
        )
        return blob, self._spool.pread(blob.offset, blob.length)

    def _header(self) -> bytes:
        entries = self.entries
        code = _TYPE_CODE[self.blob_type]
        plain, compressed = bytes((code,)), bytes((code + 2,))
        return b"".join(
            [
                compressed + _U32x2.pack(length, uncompressed) + blob_id
                if uncompressed
                else plain + _U32.pack(length) + blob_id
                for blob_id, length, uncompressed in zip(
                    entries.id_list(), entries.lengths, entries.uncompressed, strict=True
                )
            ]
        )

    def finish(self) -> tuple[bytes, Spool]:
        """Seal the header and return (pack id, the pack's file); the id is SHA-256 of the file.
        The caller closes the spool once it is stored."""
        sealed_header = self._key.seal(self._header())
        spool = self._spool if self._spool is not None else self._new_spool()
        self._spool = None
        spool.write(sealed_header)
        spool.write(_U32.pack(len(sealed_header)))
        return spool.digest(), spool

    def discard(self) -> None:
        """Release the spool of a pack that will not be written."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def parse_header(plain: bytes, pack_id: str = "") -> list[PackedBlob]:
    """Decode plaintext header entries into blobs with their offsets."""
    blobs: list[PackedBlob] = []
    pos = 0
    offset = 0
    n = len(plain)
    while pos < n:
        code = plain[pos]
        if code in (0, 1):
            if pos + _PLAIN_ENTRY > n:
                raise BadPackHeaderError("pack header entry is truncated", pack_id=pack_id)
            (length,) = _U32.unpack_from(plain, pos + 1)
            ulen = 0
            blob_id = plain[pos + 5 : pos + _PLAIN_ENTRY]
            pos += _PLAIN_ENTRY
        elif code in (2, 3):
            if pos + _COMPRESSED_ENTRY > n:
                raise BadPackHeaderError("pack header entry is truncated", pack_id=pack_id)
            length, ulen = _U32x2.unpack_from(plain, pos + 1)
            blob_id = plain[pos + 9 : pos + _COMPRESSED_ENTRY]
            pos += _COMPRESSED_ENTRY
        else:
            raise BadPackHeaderError(f"pack header has an unknown blob type {code}", pack_id=pack_id)
        blob_type = BlobType.DATA if code in (0, 2) else BlobType.TREE
        blobs.append(PackedBlob(blob_type, bytes(blob_id), offset, length, ulen))
        offset += length
    return blobs


def read_header(backend: Backend, key: Key, pack_id: str, size: int | None = None) -> list[PackedBlob]:
    """Load, authenticate and parse a pack's header; checks that blobs and header fill the file exactly."""
    handle = Handle(FileType.PACK, pack_id)
    if size is None:
        size = backend.stat(handle)
    if size < _PLAIN_ENTRY + EXTENSION + HEADER_LENGTH_SIZE:
        raise BadPackHeaderError(f"pack {pack_id[:8]} is too small ({size} bytes)", pack_id=pack_id)
    tail_len = min(size, _EAGER_TAIL)
    tail = backend.load(handle, size - tail_len, tail_len)
    if len(tail) != tail_len:
        raise BadPackHeaderError(f"pack {pack_id[:8]} is shorter than its size", pack_id=pack_id)
    (header_len,) = _U32.unpack_from(tail, tail_len - HEADER_LENGTH_SIZE)
    if header_len < EXTENSION or header_len > size - HEADER_LENGTH_SIZE or header_len > _MAX_HEADER:
        raise BadPackHeaderError(
            f"pack {pack_id[:8]} has an invalid header length {header_len}", pack_id=pack_id
        )
    if header_len + HEADER_LENGTH_SIZE <= tail_len:
        sealed = tail[tail_len - HEADER_LENGTH_SIZE - header_len : tail_len - HEADER_LENGTH_SIZE]
    else:
        sealed = backend.load(handle, size - HEADER_LENGTH_SIZE - header_len, header_len)
        if len(sealed) != header_len:
            raise BadPackHeaderError(f"pack {pack_id[:8]} is shorter than its size", pack_id=pack_id)
    return _decode_header(key, sealed, size, header_len, pack_id)


def read_header_from_bytes(key: Key, data: bytes | memoryview, pack_id: str) -> list[PackedBlob]:
    """The same checks as `read_header`, on a pack already loaded whole (check --read-data)."""
    size = len(data)
    if size < _PLAIN_ENTRY + EXTENSION + HEADER_LENGTH_SIZE:
        raise BadPackHeaderError(f"pack {pack_id[:8]} is too small ({size} bytes)", pack_id=pack_id)
    (header_len,) = _U32.unpack_from(data, size - HEADER_LENGTH_SIZE)
    if header_len < EXTENSION or header_len > size - HEADER_LENGTH_SIZE or header_len > _MAX_HEADER:
        raise BadPackHeaderError(
            f"pack {pack_id[:8]} has an invalid header length {header_len}", pack_id=pack_id
        )
    sealed = data[size - HEADER_LENGTH_SIZE - header_len : size - HEADER_LENGTH_SIZE]
    return _decode_header(key, sealed, size, header_len, pack_id)


def _decode_header(
    key: Key, sealed: bytes | memoryview, size: int, header_len: int, pack_id: str
) -> list[PackedBlob]:
    try:
        plain = key.open(sealed)
    except AuthenticationError as exc:
        raise BadPackHeaderError(
            f"pack {pack_id[:8]} header fails verification: the pack is damaged", pack_id=pack_id
        ) from exc
    blobs = parse_header(plain, pack_id)
    data_end = size - HEADER_LENGTH_SIZE - header_len
    used = blobs[-1].offset + blobs[-1].length if blobs else 0
    if used != data_end:
        raise BadPackHeaderError(
            f"pack {pack_id[:8]} header describes {used} bytes of blobs but the pack has {data_end}",
            pack_id=pack_id,
        )
    return blobs
