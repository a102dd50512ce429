"""Index files (which pack holds which blob) and the in-memory master index built from them.

An index file is restic's JSON ``{"packs":[{"id":..,"blobs":[{"id","type","offset","length",
"uncompressed_length"?}]}]}``; ``supersedes`` is read and ignored (restic dropped it in 0.17).
The master index keeps, per blob type, a dict from the 32-byte id to ONE packed int
(pack number, offset, length, uncompressed length): about a third of the memory of tuples.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mamori.vault.errors import InvalidDataError
from mamori.vault.pack import BlobType, PackedBlob

__all__ = ["IndexFile", "MasterIndex", "decode_index", "encode_index"]

_MASK32 = (1 << 32) - 1


@dataclass(slots=True)
class IndexFile:
    """One decoded index file: packs (hex id → blobs) and the ids it claims to supersede."""

    packs: dict[str, list[PackedBlob]] = field(default_factory=dict)
    supersedes: list[str] = field(default_factory=list)


def encode_index(packs: dict[str, list[PackedBlob]]) -> bytes:
    """restic's index JSON for `packs` (no ``supersedes``, as restic >= 0.17)."""
    out = []
    for pack_id, blobs in packs.items():
        entries = []
        for b in blobs:
            entry: dict[str, object] = {
                "id": b.id.hex(),
                "type": b.type.value,
                "offset": b.offset,
                "length": b.length,
            }
            if b.uncompressed_length:
                entry["uncompressed_length"] = b.uncompressed_length
            entries.append(entry)
        out.append({"id": pack_id, "blobs": entries})
    return json.dumps({"packs": out}, separators=(",", ":")).encode()


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
            f"index file {name[:8]} is malformed ({exc}): run `mamori vault check`, then rebuild the index",
            path=f"index/{name}",
        ) from exc
    return result


class MasterIndex:
    """Fast blob lookup over every loaded index; not thread-safe (the repository locks around it)."""

    def __init__(self) -> None:
        self._blobs: dict[BlobType, dict[bytes, int]] = {BlobType.DATA: {}, BlobType.TREE: {}}
        self._pack_ids: list[str] = []
        self._pack_numbers: dict[str, int] = {}

    def add_pack(self, pack_id: str, blobs: Iterable[PackedBlob]) -> None:
        """Record a pack's blobs; a blob already known keeps its first location."""
        number = self._pack_numbers.get(pack_id)
        if number is None:
            number = len(self._pack_ids)
            self._pack_ids.append(pack_id)
            self._pack_numbers[pack_id] = number
        for b in blobs:
            table = self._blobs[b.type]
            if b.id not in table:
                table[b.id] = (number << 96) | (b.offset << 64) | (b.length << 32) | b.uncompressed_length

    def add_file(self, index_file: IndexFile) -> None:
        """Record every pack of a decoded index file."""
        for pack_id, blobs in index_file.packs.items():
            self.add_pack(pack_id, blobs)

    def has(self, blob_type: BlobType, blob_id: bytes) -> bool:
        """Whether the blob is indexed."""
        return blob_id in self._blobs[blob_type]

    def lookup(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None:
        """(pack id, location) of the blob, or None."""
        value = self._blobs[blob_type].get(blob_id)
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
        if blob_type is not None:
            return len(self._blobs[blob_type])
        return sum(len(t) for t in self._blobs.values())

    def pack_ids(self) -> list[str]:
        """Every pack that holds at least one indexed blob (or was added)."""
        return list(self._pack_ids)

    def blobs(self) -> Iterator[tuple[str, PackedBlob]]:
        """Every (pack id, blob) pair (first location of each blob)."""
        for blob_type, table in self._blobs.items():
            for blob_id, value in table.items():
                yield self._pack_ids[value >> 96], self._unpack(blob_type, blob_id, value)

    def packs(self) -> dict[str, list[PackedBlob]]:
        """Pack id → its blobs in offset order (built on demand for check/prune/stats)."""
        result: dict[str, list[PackedBlob]] = {pid: [] for pid in self._pack_ids}
        for pack_id, blob in self.blobs():
            result[pack_id].append(blob)
        for blobs in result.values():
            blobs.sort(key=lambda b: b.offset)
        return result
