"""Index files (which pack holds which blob) and the in-memory master index built from them.

An index file is restic's JSON ``{"packs":[{"id":..,"blobs":[{"id","type","offset","length",
"uncompressed_length"?}]}]}``; ``supersedes`` is read and ignored (restic dropped it in 0.17).
The master index keeps index files it loads in flat arrays (about 48 bytes per blob, restic's
Go map needs ~60), filled straight from the JSON column by column (`add_file_json`: a backup of
100,000 small files waits for the whole index before it starts), and blobs added during a backup
in flat arrays too (`_Recent`, about 57 bytes per blob): a dict of id → packed int cost ~175, 17 MiB
of a 100,000-file first backup's 105 MiB.
"""

from __future__ import annotations

import collections
import itertools
import json
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.vault.errors import InvalidDataError
from mamori.vault.ids import find_id
from mamori.vault.pack import BlobType, PackedBlob, PackEntries

__all__ = ["IndexFile", "MasterIndex", "decode_index", "encode_index", "encode_index_parts"]

_MASK32 = (1 << 32) - 1


@dataclass(slots=True)
class IndexFile:
    """One decoded index file: packs (hex id → blobs) and the ids it claims to supersede."""

    packs: dict[str, list[PackedBlob]] = field(default_factory=dict)
    supersedes: list[str] = field(default_factory=list)


def encode_index(packs: Mapping[str, Iterable[PackedBlob]]) -> bytes:
    """restic's index JSON for `packs` (no ``supersedes``, as restic >= 0.17)."""
    return b"".join(encode_index_parts(packs))


def encode_index_parts(packs: Mapping[str, Iterable[PackedBlob]]) -> Iterator[bytes]:
    """`encode_index` in pieces, one per pack, so a backup's index file of 50,000 blobs is never
    one 8 MB string (it is compressed as it comes).

    Written directly rather than through `json.dumps` of dicts (a backup's last step, single
    threaded): every value is a hex id, a blob type or an integer, so nothing needs escaping.
    """
    yield b'{"packs":['
    for n, (pack_id, blobs) in enumerate(packs.items()):
        head = f'{"," if n else ""}{{"id":"{pack_id}","blobs":['
        yield (head + _blobs_json(blobs) + "]}").encode()
    yield b"]}"


_BLOB_JSON = '{"id":"%s","type":"%s","offset":%d,"length":%d}'
_COMPRESSED_BLOB_JSON = '{"id":"%s","type":"%s","offset":%d,"length":%d,"uncompressed_length":%d}'


def _blobs_json(blobs: Iterable[PackedBlob]) -> str:
    rows: Iterable[tuple[str, str, int, int, int]]
    if isinstance(blobs, PackEntries):  # a backup's own packs: no PackedBlob made for each blob
        kind = blobs.blob_type.value
        hexed = blobs.ids.hex()
        ids = [hexed[k : k + 64] for k in range(0, len(hexed), 64)]
        rows = zip(ids, itertools.repeat(kind), blobs.offsets, blobs.lengths, blobs.uncompressed)
    else:
        rows = ((b.id.hex(), b.type.value, b.offset, b.length, b.uncompressed_length) for b in blobs)
    return ",".join(
        [
            _COMPRESSED_BLOB_JSON % (i, t, o, n, u) if u else _BLOB_JSON % (i, t, o, n)
            for i, t, o, n, u in rows
        ]
    )


def _columns(blobs: list[Any]) -> tuple[bytes, list[int], list[int]]:
    """The ids (32 bytes each, concatenated), offsets and (length << 32 | uncompressed length) of
    decoded index JSON blob entries of one type; ValueError, KeyError or TypeError if malformed."""
    hex_ids = [b["id"] for b in blobs]
    ids = bytes.fromhex("".join(hex_ids))
    if len(ids) != 32 * len(blobs) or (blobs and set(map(len, hex_ids)) != {64}):
        raise ValueError("a blob id is not 32 bytes of hex")
    offsets = [int(b["offset"]) for b in blobs]
    lengths = [int(b["length"]) for b in blobs]
    uncompressed = [int(b.get("uncompressed_length") or 0) for b in blobs]
    for values in (offsets, lengths, uncompressed):
        if values and not (0 <= min(values) and max(values) <= _MASK32):
            raise ValueError("a blob offset or length is out of range")
    return ids, offsets, [(n << 32) | u for n, u in zip(lengths, uncompressed, strict=True)]


def decode_index(data: bytes, name: str) -> IndexFile:
    """Parse an index file; anything malformed is an `InvalidDataError` naming the file."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise TypeError("top level is not an object (old restic index format?)")
        result = IndexFile(supersedes=[str(s) for s in doc.get("supersedes") or []])
        for pack in doc["packs"] or []:
            pack_id = str(pack["id"])
            bytes.fromhex(pack_id)
            blobs = [
                PackedBlob(
                    BlobType(b["type"]),
                    bytes.fromhex(b["id"]),
                    int(b["offset"]),
                    int(b["length"]),
                    int(b.get("uncompressed_length") or 0),
                )
                for b in pack["blobs"] or []
            ]
            result.packs.setdefault(pack_id, []).extend(blobs)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidDataError(
            f"index file {name[:8]} is malformed ({exc}): run `mamori vault rebuild-index`",
            path=f"index/{name}",
        ) from exc
    return result


class _Table:
    """Bulk-loaded blobs of one type in flat arrays: 32-byte ids grouped by their first two bytes
    (`starts` gives each group's range), values in two parallel 64-bit arrays. About 48 bytes per
    blob, against ~160 for a dict of bytes → int; a lookup is one `bytes.find` in a ~16-entry range."""

    __slots__ = ("hi", "ids", "lo", "starts")

    def __init__(self, ids: bytes, hi: array[int], lo: array[int], starts: array[int]) -> None:
        self.ids = ids
        self.hi = hi
        self.lo = lo
        self.starts = starts

    @classmethod
    def empty(cls) -> _Table:
        return cls(b"", array("Q"), array("Q"), array("I", bytes(4 * (_BUCKETS + 1))))

    def __len__(self) -> int:
        return len(self.hi)

    def get(self, blob_id: bytes | bytearray) -> int | None:
        bucket = (blob_id[0] << 8) | blob_id[1]
        pos = find_id(self.ids, blob_id, self.starts[bucket] * 32, self.starts[bucket + 1] * 32)
        if pos == -1:
            return None
        i = pos // 32
        return (self.hi[i] << 64) | self.lo[i]

    def items(self) -> Iterator[tuple[bytes, int]]:
        ids = self.ids
        for i in range(len(self.hi)):
            yield ids[32 * i : 32 * i + 32], (self.hi[i] << 64) | self.lo[i]

    @classmethod
    def build(cls, ids: bytes | bytearray, hi: array[int], lo: array[int]) -> _Table:
        """Bucket the entries by id prefix, keeping the first of duplicate ids."""
        n = len(hi)
        each = [bytes(ids[i : i + 32]) for i in range(0, 32 * n, 32)]
        if len(set(each)) == n:  # the usual load: no duplicates, so a stable sort by bucket does it
            buckets = [(i[0] << 8) | i[1] for i in each]
            order = sorted(range(n), key=buckets.__getitem__)
            counts = [0] * (_BUCKETS + 1)
            for bucket, many in collections.Counter(buckets).items():
                counts[bucket + 1] = many
            return cls(
                b"".join([each[i] for i in order]),
                array("Q", [hi[i] for i in order]),
                array("Q", [lo[i] for i in order]),
                array("I", itertools.accumulate(counts)),
            )
        return cls._build_dropping_duplicates(ids, hi, lo)

    @classmethod
    def _build_dropping_duplicates(cls, ids: bytes | bytearray, hi: array[int], lo: array[int]) -> _Table:
        n = len(hi)
        counts = array("I", bytes(4 * (_BUCKETS + 1)))
        for i in range(n):
            counts[((ids[32 * i] << 8) | ids[32 * i + 1]) + 1] += 1
        for b in range(_BUCKETS):
            counts[b + 1] += counts[b]
        fill = array("I", counts)
        out_ids = bytearray(32 * n)
        out_hi = array("Q", bytes(8 * n))
        out_lo = array("Q", bytes(8 * n))
        dropped = 0
        for i in range(n):
            blob_id = ids[32 * i : 32 * i + 32]
            bucket = (blob_id[0] << 8) | blob_id[1]
            j = fill[bucket]
            if find_id(out_ids, blob_id, counts[bucket] * 32, j * 32) != -1:
                dropped += 1
                continue
            out_ids[32 * j : 32 * j + 32] = blob_id
            out_hi[j] = hi[i]
            out_lo[j] = lo[i]
            fill[bucket] = j + 1
        if dropped:  # close the gaps duplicates left at the end of their buckets
            return cls._squeeze(out_ids, out_hi, out_lo, counts, fill)
        return cls(bytes(out_ids), out_hi, out_lo, counts)

    @classmethod
    def _squeeze(
        cls, ids: bytearray, hi: array[int], lo: array[int], starts: array[int], fill: array[int]
    ) -> _Table:
        new_ids = bytearray()
        new_hi = array("Q")
        new_lo = array("Q")
        new_starts = array("I", bytes(4 * (_BUCKETS + 1)))
        for b in range(_BUCKETS):
            a, z = starts[b], fill[b]
            new_ids += ids[32 * a : 32 * z]
            new_hi.extend(hi[a:z])
            new_lo.extend(lo[a:z])
            new_starts[b + 1] = len(new_hi)
        return cls(bytes(new_ids), new_hi, new_lo, new_starts)


_BUCKETS = 1 << 16
# `_Recent` groups ids by their first 12 bits: a million new blobs are ~250 ids (8 KB) a group.
_RECENT_SHIFT = 4
_RECENT_BUCKETS = 1 << (16 - _RECENT_SHIFT)


class _Recent:
    """Blobs added one at a time (a backup's own packs) in flat groups: each group's 32-byte ids
    back to back in a bytearray and their two 64-bit values in an array, found with one `find`.
    Adding is cheap and nothing is rebuilt, unlike merging into a `_Table` as the blobs come."""

    __slots__ = ("_ids", "_values")

    def __init__(self) -> None:
        self._ids: list[bytearray | None] = [None] * _RECENT_BUCKETS
        self._values: list[array[int] | None] = [None] * _RECENT_BUCKETS

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids if ids is not None) // 32

    def get(self, blob_id: bytes | bytearray) -> int | None:
        bucket = ((blob_id[0] << 8) | blob_id[1]) >> _RECENT_SHIFT
        ids = self._ids[bucket]
        if ids is None:
            return None
        pos = find_id(ids, blob_id)
        if pos == -1:
            return None
        values = self._values[bucket]
        assert values is not None
        i = pos >> 4  # two values per 32-byte id
        return (values[i] << 64) | values[i + 1]

    def has_many(self, blob_ids: Iterable[bytes]) -> list[bool]:
        groups = self._ids
        found = []
        for blob_id in blob_ids:
            ids = groups[((blob_id[0] << 8) | blob_id[1]) >> _RECENT_SHIFT]
            found.append(ids is not None and find_id(ids, blob_id) != -1)
        return found

    def add(self, blob_id: bytes | bytearray, hi: int, lo: int) -> None:
        """Record a blob unless it is here already (the first location stays)."""
        if self.get(blob_id) is None:
            self.append(blob_id, hi, lo)

    def append(self, blob_id: bytes | bytearray, hi: int, lo: int) -> None:
        """Record a blob known to be new here."""
        bucket = ((blob_id[0] << 8) | blob_id[1]) >> _RECENT_SHIFT
        ids = self._ids[bucket]
        if ids is None:
            self._ids[bucket] = bytearray(blob_id)
            self._values[bucket] = array("Q", (hi, lo))
        else:
            ids += blob_id
            self._values[bucket].extend((hi, lo))  # type: ignore[union-attr]

    def items(self) -> Iterator[tuple[bytes, int]]:
        for ids, values in zip(self._ids, self._values, strict=True):
            if ids is None or values is None:
                continue
            for k in range(0, len(ids), 32):
                i = k >> 4
                yield bytes(ids[k : k + 32]), (values[i] << 64) | values[i + 1]

    def columns(self) -> tuple[bytearray, array[int], array[int]]:
        """(ids, hi, lo) of every blob, for `_Table.build`."""
        ids = bytearray()
        pairs = array("Q")
        for group_ids, values in zip(self._ids, self._values, strict=True):
            if group_ids is not None and values is not None:
                ids += group_ids
                pairs += values
        return ids, pairs[0::2], pairs[1::2]


class MasterIndex:
    """Fast blob lookup over every loaded index; not thread-safe (the repository locks around it).

    Index files loaded in bulk (`add_pack(..., bulk=True)` then `compact()`) live in compact
    arrays; blobs added one pack at a time during a backup live in `_Recent` arrays on top.
    """

    def __init__(self) -> None:
        self._recent: dict[BlobType, _Recent] = {t: _Recent() for t in BlobType}
        self._tables: dict[BlobType, _Table] = {t: _Table.empty() for t in BlobType}
        self._bulk: dict[BlobType, tuple[bytearray, array[int], array[int]]] = {}
        self._pack_ids: list[str] = []
        self._pack_numbers: dict[str, int] = {}

    def _pack_number(self, pack_id: str) -> int:
        number = self._pack_numbers.get(pack_id)
        if number is None:
            number = len(self._pack_ids)
            self._pack_ids.append(pack_id)
            self._pack_numbers[pack_id] = number
        return number

    def add_pack(self, pack_id: str, blobs: Iterable[PackedBlob], *, bulk: bool = False) -> None:
        """Record a pack's blobs; a blob already known keeps its first location.

        With `bulk`, entries are staged for `compact()` (loading index files); until then they
        are not visible to lookups.
        """
        number = self._pack_number(pack_id)
        if isinstance(blobs, PackEntries) and not bulk:
            self._add_entries(number, blobs)
            return
        if bulk:
            for b in blobs:
                staged = self._bulk.get(b.type)
                if staged is None:
                    staged = self._bulk[b.type] = (bytearray(), array("Q"), array("Q"))
                ids, hi, lo = staged
                ids += b.id
                hi.append((number << 32) | b.offset)
                lo.append((b.length << 32) | b.uncompressed_length)
            return
        number <<= 32
        for b in blobs:
            if self._tables[b.type].get(b.id) is None:
                self._recent[b.type].add(b.id, number | b.offset, (b.length << 32) | b.uncompressed_length)

    def _add_entries(self, number: int, entries: PackEntries) -> None:
        """`add_pack` of columns (a pack this process wrote), without a `PackedBlob` per blob."""
        recent = self._recent[entries.blob_type]
        table = self._tables[entries.blob_type]
        bulk = len(table) > 0
        number <<= 32
        # The repository packs a blob only if neither the index nor its queue holds it (under its
        # lock), so the blobs of its own packs are new: appended without a search.
        ids = entries.ids
        append = recent.append
        for k, (offset, length, uncompressed) in enumerate(
            zip(entries.offsets, entries.lengths, entries.uncompressed, strict=True)
        ):
            blob_id = ids[32 * k : 32 * k + 32]
            if not (bulk and table.get(blob_id) is not None):
                append(blob_id, number | offset, (length << 32) | uncompressed)

    def add_file(self, index_file: IndexFile) -> None:
        """Stage every pack of a decoded index file (call `compact()` after the last one)."""
        for pack_id, blobs in index_file.packs.items():
            self.add_pack(pack_id, blobs, bulk=True)

    def add_file_json(self, data: bytes, name: str) -> None:
        """`add_file(decode_index(data, name))` without a `PackedBlob` per blob: loading the index of
        a repository of 100,000 small files took the backup 0.7 CPU-s before it could start. The
        file is staged whole or not at all; malformed is an `InvalidDataError` naming it."""
        staged: list[tuple[str, BlobType | None, bytes, list[int], list[int]]] = []
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict):
                raise TypeError("top level is not an object (old restic index format?)")
            packs: dict[str, list[Any]] = {}  # a pack named twice is one, where it first appears
            for pack in doc["packs"] or []:
                pack_id = str(pack["id"])
                bytes.fromhex(pack_id)
                packs.setdefault(pack_id, []).extend(pack["blobs"] or [])
            for pack_id, blobs in packs.items():
                types = [b["type"] for b in blobs]
                kinds = set(types)
                if not kinds:
                    staged.append((pack_id, None, b"", [], []))  # listed, as `decode_index` lists it
                for type_name in kinds:
                    kind = BlobType(type_name)
                    mine = (
                        blobs
                        if len(kinds) == 1
                        else [b for b, t in zip(blobs, types, strict=True) if t == type_name]
                    )
                    staged.append((pack_id, kind, *_columns(mine)))
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            raise InvalidDataError(
                f"index file {name[:8]} is malformed ({exc}): run `mamori vault rebuild-index`",
                path=f"index/{name}",
            ) from exc
        for pack_id, blob_type, ids, offsets, lengths in staged:
            number = self._pack_number(pack_id) << 32
            if blob_type is None:
                continue
            bulk = self._bulk.get(blob_type)
            if bulk is None:
                bulk = self._bulk[blob_type] = (bytearray(), array("Q"), array("Q"))
            bulk[0].extend(ids)
            bulk[1].extend([number | offset for offset in offsets])
            bulk[2].extend(lengths)

    def compact(self) -> None:
        """Move recent and staged entries into the compact tables (for duplicates the visible entry wins)."""
        for blob_type in BlobType:
            table = self._tables[blob_type]
            staged = self._bulk.pop(blob_type, None)
            recent = self._recent[blob_type]
            if staged is None and not len(recent):
                continue
            if staged is not None and not len(recent) and not len(table):
                self._tables[blob_type] = _Table.build(*staged)  # the usual load: no merge copy
                continue
            # Visible entries first, so compacting never changes what a lookup answers.
            ids, hi, lo = recent.columns()
            ids[:0] = table.ids
            hi[:0] = table.hi
            lo[:0] = table.lo
            if staged is not None:
                ids += staged[0]
                hi.extend(staged[1])
                lo.extend(staged[2])
            self._tables[blob_type] = _Table.build(ids, hi, lo)
            self._recent[blob_type] = _Recent()

    def _get(self, blob_type: BlobType, blob_id: bytes) -> int | None:
        value = self._recent[blob_type].get(blob_id)
        if value is None:
            value = self._tables[blob_type].get(blob_id)
        return value

    def has(self, blob_type: BlobType, blob_id: bytes) -> bool:
        """Whether the blob is indexed (asked for each file a backup's workers read)."""
        if self._recent[blob_type].get(blob_id) is not None:
            return True
        table = self._tables[blob_type]
        return bool(table.ids) and table.get(blob_id) is not None

    def has_many(self, blob_type: BlobType, blob_ids: Iterable[bytes]) -> list[bool]:
        """`has` of each id."""
        recent = self._recent[blob_type]
        table = self._tables[blob_type]
        if not len(table):
            return recent.has_many(blob_ids)
        get = recent.get
        return [get(blob_id) is not None or table.get(blob_id) is not None for blob_id in blob_ids]

    def lookup(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None:
        """(pack id, location) of the blob, or None."""
        value = self._get(blob_type, blob_id)
        if value is None:
            return None
        return self._pack_ids[value >> 96], self._unpack(blob_type, blob_id, value)

    @staticmethod
    def _unpack(blob_type: BlobType, blob_id: bytes, value: int) -> PackedBlob:
        return PackedBlob(
            blob_type,
            blob_id,
            (value >> 64) & _MASK32,
            (value >> 32) & _MASK32,
            value & _MASK32,
        )

    def count(self, blob_type: BlobType | None = None) -> int:
        """Number of distinct blobs (of one type, or all)."""
        types = [blob_type] if blob_type is not None else list(BlobType)
        return sum(len(self._recent[t]) + len(self._tables[t]) for t in types)

    def pack_ids(self) -> list[str]:
        """Every pack that holds at least one indexed blob (or was added)."""
        return list(self._pack_ids)

    def blobs(self) -> Iterator[tuple[str, PackedBlob]]:
        """Every (pack id, blob) pair (first location of each blob)."""
        for blob_type in BlobType:
            for source in (self._tables[blob_type].items(), self._recent[blob_type].items()):
                for blob_id, value in source:
                    yield self._pack_ids[value >> 96], self._unpack(blob_type, blob_id, value)

    def packs(self) -> dict[str, list[PackedBlob]]:
        """Pack id → its blobs in offset order (built on demand for check/prune/stats)."""
        result: dict[str, list[PackedBlob]] = {pid: [] for pid in self._pack_ids}
        for pack_id, blob in self.blobs():
            result[pack_id].append(blob)
        for blobs in result.values():
            blobs.sort(key=lambda b: b.offset)
        return result
