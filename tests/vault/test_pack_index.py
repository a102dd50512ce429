"""Pack and index files round-trip (hypothesis) and match restic's byte layout."""

from __future__ import annotations

import hashlib
import json
import struct
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.crypto import EXTENSION, Key
from mamori.vault.errors import BadPackHeaderError, InvalidDataError
from mamori.vault.ids import hash_bytes
from mamori.vault.index import MasterIndex, decode_index, encode_index
from mamori.vault.pack import (
    BlobType,
    PackedBlob,
    PackEntries,
    PackWriter,
    pack_size,
    read_header,
    read_header_from_bytes,
)

KEY = Key.generate()

blob_specs = st.lists(
    st.tuples(st.sampled_from([0, 1]), st.binary(max_size=300), st.booleans()), min_size=1, max_size=20
)


@settings(max_examples=50, deadline=None)
@given(blob_specs, st.sampled_from(list(BlobType)))
def test_pack_header_round_trips_with_exact_size(
    specs: list[tuple[int, bytes, bool]], blob_type: BlobType
) -> None:
    writer = PackWriter(KEY, blob_type)
    for _kind, data, compressed in specs:
        sealed = KEY.seal(data)
        writer.add(hash_bytes(data), sealed, len(data) + 1 if compressed else 0)
    expected = list(writer.blobs)
    pack_id, parts = writer.finish()
    data = b"".join(parts)
    assert hash_bytes(data) == pack_id
    assert len(data) == pack_size(expected)
    backend = MemoryBackend()
    backend.save(Handle(FileType.PACK, pack_id.hex()), data)
    assert read_header(backend, KEY, pack_id.hex()) == expected
    assert read_header_from_bytes(KEY, bytes(data), pack_id.hex()) == expected


def test_header_entries_are_37_and_41_bytes_with_restic_type_codes() -> None:
    writer = PackWriter(KEY, BlobType.TREE)
    writer.add(b"\x01" * 32, KEY.seal(b"a"), 0)
    writer.add(b"\x02" * 32, KEY.seal(b"b"), 7)
    _pack_id, parts = writer.finish()
    data = b"".join(parts)
    (header_len,) = struct.unpack("<I", data[-4:])
    assert header_len == 37 + 41 + EXTENSION
    header = KEY.open(bytes(data[-4 - header_len : -4]))
    assert header[0] == 1 and header[5:37] == b"\x01" * 32
    assert header[37] == 3 and struct.unpack("<II", header[38:46]) == (1 + EXTENSION, 7)


def test_a_damaged_header_is_a_bad_pack_header() -> None:
    writer = PackWriter(KEY, BlobType.DATA)
    writer.add(b"\x01" * 32, KEY.seal(b"a" * 100), 0)
    pack_id, parts = writer.finish()
    data = b"".join(parts)
    for damage in (lambda d: d[:-5] + bytes([d[-5] ^ 1]) + d[-4:], lambda d: d[:-4] + b"\xff\xff\x00\x00"):
        with pytest.raises(BadPackHeaderError) as err:
            read_header_from_bytes(KEY, damage(bytes(data)), pack_id.hex())
        assert err.value.pack_id == pack_id.hex()


blobs = st.builds(
    PackedBlob,
    st.sampled_from(list(BlobType)),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**32 - 1),
    st.integers(EXTENSION, 2**32 - 1),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text("0123456789abcdef", min_size=64, max_size=64), st.lists(blobs, max_size=5), max_size=5
    )
)
def test_index_json_round_trips_and_master_index_finds_every_blob(packs: dict[str, list[PackedBlob]]) -> None:
    data = encode_index(packs)
    assert data == json.dumps(json.loads(data), separators=(",", ":")).encode(), "compact JSON, as restic's"
    assert decode_index(data, "x").packs == {k: v for k, v in packs.items()}
    master = MasterIndex()
    for pack_id, pack_blobs in packs.items():
        master.add_pack(pack_id, pack_blobs)
    for pack_id, pack_blobs in packs.items():
        for b in pack_blobs:
            found = master.lookup(b.type, b.id)
            assert found is not None
            if found[0] == pack_id:
                assert found[1] == b


def test_index_json_matches_restic_and_tolerates_supersedes() -> None:
    blob = PackedBlob(BlobType.TREE, b"\xaa" * 32, 38, 112, 511)
    doc = json.loads(encode_index({"bb" * 32: [blob]}))
    assert doc == {
        "packs": [
            {
                "id": "bb" * 32,
                "blobs": [
                    {"id": "aa" * 32, "type": "tree", "offset": 38, "length": 112, "uncompressed_length": 511}
                ],
            }
        ]
    }
    doc["supersedes"] = ["cc" * 32]
    assert decode_index(json.dumps(doc).encode(), "x").supersedes == ["cc" * 32]


@pytest.mark.parametrize("garbage", [b"[]", b"{}", b'{"packs":[{"id":"zz"}]}', b"not json"])
def test_malformed_index_json_names_the_file(garbage: bytes) -> None:
    with pytest.raises(InvalidDataError, match="index file 12345678"):
        decode_index(garbage, "12345678" * 8)


# A small pool with shared two-byte prefixes, so duplicates and crowded buckets are common.
ID_POOL = [bytes([0, 1]) + bytes([i]) * 30 for i in range(4)] + [
    bytes([0, 1, 0]) + bytes([9]) * 29,
    b"\x07" * 32,
]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.sampled_from(list(BlobType)),
            st.sampled_from(ID_POOL),
            st.integers(0, 2**32 - 1),
        ),
        max_size=60,
    ),
    st.integers(0, 60),
)
def test_compact_and_loose_entries_behave_like_a_dict(
    ops: list[tuple[bool, BlobType, bytes, int]], compact_at: int
) -> None:
    master = MasterIndex()
    reference: dict[tuple[BlobType, bytes], tuple[str, int]] = {}
    staged: list[tuple[tuple[BlobType, bytes], tuple[str, int]]] = []
    for step, (bulk, blob_type, blob_id, offset) in enumerate(ops):
        if step == compact_at:
            master.compact()
            for key, value in staged:
                reference.setdefault(key, value)
            staged.clear()
        pack_id = f"{step:064x}"
        master.add_pack(pack_id, [PackedBlob(blob_type, blob_id, offset, 100, 7)], bulk=bulk)
        if bulk:
            staged.append(((blob_type, blob_id), (pack_id, offset)))
        else:
            reference.setdefault((blob_type, blob_id), (pack_id, offset))
    master.compact()
    for key, value in staged:
        reference.setdefault(key, value)
    assert master.count() == len(reference)
    for (blob_type, blob_id), (pack_id, offset) in reference.items():
        found = master.lookup(blob_type, blob_id)
        assert found is not None and found[0] == pack_id and found[1].offset == offset
        assert found[1].length == 100 and found[1].uncompressed_length == 7
    assert sorted((p, b.id) for p, b in master.blobs()) == sorted(
        (p, k[1]) for k, (p, _o) in reference.items()
    )
    assert (
        not master.has(BlobType.DATA, b"\xff" * 31 + b"\xfe")
        or (BlobType.DATA, b"\xff" * 31 + b"\xfe") in reference
    )


def test_a_match_straddling_two_ids_is_not_a_hit() -> None:
    first = b"\x00\x01" + b"\xaa" * 28 + b"\x00\x01"
    second = b"\x00\x01" + bytes(range(30))
    straddle = first[30:] + second[:30]  # same bucket, found by a plain find() across the boundary
    master = MasterIndex()
    master.add_pack(
        "aa" * 32,
        [PackedBlob(BlobType.DATA, first, 0, 40), PackedBlob(BlobType.DATA, second, 40, 40)],
        bulk=True,
    )
    master.compact()
    assert master.has(BlobType.DATA, first) and master.has(BlobType.DATA, second)
    assert not master.has(BlobType.DATA, straddle)


def test_a_match_straddling_two_new_ids_is_not_a_hit() -> None:
    # blobs a backup adds sit in groups by their first 12 bits, back to back like loaded ones
    first = b"\x00\x01" + b"\xaa" * 28 + b"\x00\x02"
    second = b"\x00\x02" + bytes(range(30))
    straddle = first[30:] + second[:30]
    master = MasterIndex()
    master.add_pack(
        "aa" * 32, [PackedBlob(BlobType.DATA, first, 0, 40), PackedBlob(BlobType.DATA, second, 40, 40)]
    )
    assert master.has(BlobType.DATA, first) and master.has(BlobType.DATA, second)
    assert not master.has(BlobType.DATA, straddle)
    assert master.has_many(BlobType.DATA, [straddle, second, first]) == [False, True, True]


def _own_pack(blob_ids: list[bytes]) -> PackEntries:
    entries = PackEntries(BlobType.DATA)
    entries.ids += b"".join(blob_ids)
    entries.offsets.extend(range(0, 100 * len(blob_ids), 100))
    entries.lengths.extend([100] * len(blob_ids))
    entries.uncompressed.extend([0] * len(blob_ids))
    return entries


def test_a_backups_new_blobs_cost_about_what_loaded_ones_do() -> None:
    # a first backup of 100,000 small files adds as many blobs while it runs: they must cost about
    # what the index's 48 bytes a blob cost, not a Python object each (a dict of them took ~175)
    blob_ids = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(100_000)]
    packs = [_own_pack(blob_ids[k : k + 2_000]) for k in range(0, len(blob_ids), 2_000)]
    master = MasterIndex()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, entries in enumerate(packs):
            master.add_pack(f"{n:064x}", entries)
        per_blob = (tracemalloc.get_traced_memory()[0] - before) / len(blob_ids)
    finally:
        tracemalloc.stop()
    assert per_blob < 60, f"{per_blob:.0f} bytes a blob"
    assert master.count() == len(blob_ids)
    found = master.lookup(BlobType.DATA, blob_ids[2_345])
    assert found is not None and found[0] == f"{1:064x}" and found[1].offset == 345 * 100
    master.compact()  # and compacting them keeps every answer
    assert master.has_many(BlobType.DATA, blob_ids[::997]) == [True] * len(blob_ids[::997])
    found = master.lookup(BlobType.DATA, blob_ids[99_999])
    assert found is not None and found[0] == f"{49:064x}" and found[1].offset == 1_999 * 100


def _loaded(files: list[bytes], *, from_json: bool) -> MasterIndex:
    master = MasterIndex()
    for n, data in enumerate(files):
        if from_json:
            master.add_file_json(data, f"{n:064x}")
        else:
            master.add_file(decode_index(data, f"{n:064x}"))
    master.compact()
    return master


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from([f"{p:064x}" for p in range(4)]),
                st.lists(
                    st.tuples(
                        st.sampled_from(list(BlobType)), st.sampled_from(ID_POOL), st.integers(0, 2**32 - 1)
                    ),
                    max_size=6,
                ),
            ),
            max_size=4,
        ),
        max_size=3,
    )
)
def test_loading_index_json_in_bulk_finds_what_decoding_it_finds(
    files: list[list[tuple[str, list[tuple[BlobType, bytes, int]]]]],
) -> None:
    # what a backup loads at its start: the same answers as decoding each file into PackedBlobs,
    # with duplicate ids across packs and files, packs named twice and both blob types mixed
    docs = [
        json.dumps(
            {
                "packs": [
                    {
                        "id": pack_id,
                        "blobs": [
                            {
                                "id": i.hex(),
                                "type": t.value,
                                "offset": o,
                                "length": 7,
                                "uncompressed_length": o % 3,
                            }
                            for t, i, o in blobs
                        ],
                    }
                    for pack_id, blobs in packs
                ]
            }
        ).encode()
        for packs in files
    ]
    bulk, decoded = _loaded(docs, from_json=True), _loaded(docs, from_json=False)
    assert bulk.count() == decoded.count()
    assert bulk.pack_ids() == decoded.pack_ids()
    assert sorted(bulk.blobs(), key=str) == sorted(decoded.blobs(), key=str)
    for blob_type in BlobType:
        for blob_id in ID_POOL:
            assert bulk.lookup(blob_type, blob_id) == decoded.lookup(blob_type, blob_id)


@pytest.mark.parametrize(
    "blob",
    [
        {"id": "aa" * 31, "type": "data", "offset": 0, "length": 1},  # 31 bytes
        {"id": "aa" * 31 + "a a", "type": "data", "offset": 0, "length": 1},  # fromhex skips spaces
        {"id": "aa" * 33, "type": "data", "offset": 0, "length": 1},
        {"id": "zz" * 32, "type": "data", "offset": 0, "length": 1},
        {"id": 12, "type": "data", "offset": 0, "length": 1},
        {"id": "aa" * 32, "type": "blob", "offset": 0, "length": 1},
        {"id": "aa" * 32, "type": "data", "offset": -1, "length": 1},
        {"id": "aa" * 32, "type": "data", "offset": 2**32, "length": 1},
        {"id": "aa" * 32, "type": "data", "offset": 0, "length": 2**64},
        {"id": "aa" * 32, "type": "data", "offset": "x", "length": 1},
        {"id": "aa" * 32, "type": "data", "offset": 0},
        ["aa" * 32, "data", 0, 1],
    ],
)
def test_a_hostile_index_entry_is_refused_whole_and_named(blob: object) -> None:
    good = {"id": "bb" * 32, "type": "tree", "offset": 0, "length": 1}
    data = json.dumps({"packs": [{"id": "cc" * 32, "blobs": [good]}, {"id": "dd" * 32, "blobs": [blob]}]})
    master = MasterIndex()
    with pytest.raises(InvalidDataError, match="index file 12345678 is malformed"):
        master.add_file_json(data.encode(), "12345678" * 8)
    master.compact()
    assert master.count() == 0 and master.pack_ids() == []  # nothing of the file was staged
