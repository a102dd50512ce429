"""Copy snapshots with their blobs to another repository (restic `copy`), re-encrypted for the target.

A snapshot is skipped when the target already holds a copy: a snapshot whose `original` (or own
id) equals the source's original and that looks the same (time, tree, host, paths, tags), as
restic's `similarSnapshots`. Copies record the source id in `original`. Blobs the target lacks
are copied before the snapshot file is written (packs → index → snapshot).

The data blobs a snapshot needs are read in runs of neighbouring blobs of one source pack (one
request each, not one per blob) by a few save threads, which verify each blob and re-encrypt its
stored zstd frame for the target without compressing again; a full pack is uploaded by the thread
that filled it, so uploads overlap with reading and sealing (restic 0.14 copies blob by blob).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from mamori.vault.backend import FileType
from mamori.vault.model import Snapshot, parse_tree
from mamori.vault.pack import BlobType, PackedBlob
from mamori.vault.repository import Repository
from mamori.vault.savepool import SavePool

__all__ = ["CopyResult", "copy_snapshots"]


@dataclass(frozen=True)
class CopyResult:
    """(source id, new id) per copied snapshot, and how much blob data the target received."""

    copied: list[tuple[str, str]]
    blobs_copied: int
    bytes_copied: int
    skipped: list[str]


# Save threads: one pack uploads while the next is read and sealed. Each upload in flight holds a
# whole pack in memory (restic keeps its packs in temporary files); on the loopback servers of
# bench/remote_copy.py four threads were no faster than two and took 60 MiB more.
WORKERS = 2
# A run is one read of neighbouring blobs: at most RUN_BYTES, skipping gaps up to RUN_GAP bytes
# (1 MiB instead of 4 saved 24 MiB of peak memory at the same speed).
RUN_BYTES = 1024 * 1024
RUN_GAP = 256 * 1024
# Data blobs collected before their runs are handed out (bounds memory on huge snapshots).
DISPATCH_BLOBS = 20_000

_Run = tuple[str, list[PackedBlob]]


def _similar(a: Snapshot, b: Snapshot) -> bool:
    return (
        a.time.ns == b.time.ns
        and a.tree == b.tree
        and a.username == b.username
        and a.hostname == b.hostname
        and sorted(a.paths) == sorted(b.paths)
        and sorted(a.tags) == sorted(b.tags)
    )


def _load_snapshots(repo: Repository) -> dict[str, Snapshot]:
    return {
        snap_id: Snapshot.from_json(repo.load_unpacked(FileType.SNAPSHOT, snap_id))
        for snap_id in repo.list_files(FileType.SNAPSHOT)
    }


def copy_snapshots(
    source: Repository,
    target: Repository,
    *,
    snapshot_ids: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CopyResult:
    """Copy the chosen (default: all) snapshots missing in `target`; both indexes must be loaded."""
    say = progress or (lambda _msg: None)
    src_snaps = _load_snapshots(source)
    if snapshot_ids is not None:
        wanted = [source.find_file_id(FileType.SNAPSHOT, ref) for ref in snapshot_ids]
    else:
        wanted = sorted(src_snaps, key=lambda s: src_snaps[s].time.ns)
    by_original: dict[str, list[Snapshot]] = {}
    for dst_id, dst in _load_snapshots(target).items():
        by_original.setdefault(dst.original.hex() if dst.original else dst_id, []).append(dst)

    copied: list[tuple[str, str]] = []
    skipped: list[str] = []
    blobs = 0
    nbytes = 0
    seen_trees: set[bytes] = set()
    queued: set[bytes] = set()
    reuse_frames = source.config.version >= 2 and target.config.version >= 2
    pool = SavePool(target, WORKERS, WORKERS + 1)
    try:
        for snap_id in wanted:
            snap = src_snaps[snap_id]
            original = snap.original.hex() if snap.original else snap_id
            if any(_similar(dst, snap) for dst in by_original.get(original, [])):
                skipped.append(snap_id)
                continue
            say(f"copying snapshot {snap_id[:8]}")
            added, added_bytes = _queue_blobs(
                source, target, snap.tree, pool, seen_trees, queued, reuse_frames
            )
            blobs += added
            nbytes += added_bytes
            pool.drain()
            target.flush()
            snap.original = bytes.fromhex(original)
            new_id = target.save_unpacked(FileType.SNAPSHOT, snap.to_json())
            by_original.setdefault(original, []).append(snap)
            copied.append((snap_id, new_id))
    finally:
        pool.close()
    return CopyResult(copied=copied, blobs_copied=blobs, bytes_copied=nbytes, skipped=skipped)


def _queue_blobs(
    source: Repository,
    target: Repository,
    root: bytes,
    pool: SavePool,
    seen_trees: set[bytes],
    queued: set[bytes],
    reuse_frames: bool,
) -> tuple[int, int]:
    """Walk a snapshot's trees: save the trees the target lacks, hand the data blobs it lacks to
    the pool in runs. Returns (blobs, plaintext bytes) given to the target."""
    blobs = nbytes = waiting = 0
    todo: dict[str, list[PackedBlob]] = {}
    stack = [root]
    while stack:
        tree_id = stack.pop()
        if tree_id in seen_trees:
            continue
        seen_trees.add(tree_id)
        tree = source.load_blob(BlobType.TREE, tree_id)
        for node in parse_tree(tree):
            for blob_id in node.content or ():
                if blob_id not in queued and not target.has_blob(BlobType.DATA, blob_id):
                    queued.add(blob_id)
                    pack_id, blob = source.locate_blob(BlobType.DATA, blob_id)
                    todo.setdefault(pack_id, []).append(blob)
                    waiting += 1
                    blobs += 1
                    nbytes += blob.plaintext_length
            if node.subtree is not None:
                stack.append(node.subtree)
        # Order does not matter: the snapshot is written only after every save and the flush.
        if not target.has_blob(BlobType.TREE, tree_id):
            target.save_blob(BlobType.TREE, tree, tree_id)
            blobs += 1
            nbytes += len(tree)
        if waiting >= DISPATCH_BLOBS or not stack:
            for run in _runs(todo):
                pool.submit_call(partial(_copy_run, source, target, run, reuse_frames=reuse_frames))
            todo, waiting = {}, 0
    return blobs, nbytes


def _runs(todo: dict[str, list[PackedBlob]]) -> Iterator[_Run]:
    """The blobs of each pack in file order, cut into runs that one read each fetches."""
    for pack_id, blobs in todo.items():
        blobs.sort(key=lambda b: b.offset)
        run: list[PackedBlob] = []
        for blob in blobs:
            if run and (
                blob.offset - (run[-1].offset + run[-1].length) > RUN_GAP
                or blob.offset + blob.length - run[0].offset > RUN_BYTES
            ):
                yield pack_id, run
                run = []
            run.append(blob)
        if run:
            yield pack_id, run


def _copy_run(source: Repository, target: Repository, run: _Run, *, reuse_frames: bool) -> int:
    """Read a run of source blobs in one request, verify each, and store it in the target's packs,
    re-encrypting the stored zstd frame when both repositories compress (else sealing anew)."""
    pack_id, blobs = run
    start = blobs[0].offset
    data = memoryview(source.load_pack_range(pack_id, start, blobs[-1].offset + blobs[-1].length - start))
    kept: list[tuple[bytes, int]] = []  # (what to seal, uncompressed length or 0); plaintexts dropped
    nbytes = 0
    for b in blobs:
        plain, frame = source.decode_blob_frame(
            pack_id, b, data[b.offset - start : b.offset - start + b.length]
        )
        nbytes += len(plain)
        kept.append((plain, 0) if frame is None or not reuse_frames else (frame, len(plain)))
    if reuse_frames:
        sealed = target.key.seal_many([blob for blob, _length in kept])
        encoded = [(blob, length) for blob, (_kept, length) in zip(sealed, kept, strict=True)]
    else:
        encoded = target.seal_blobs([plain for plain, _length in kept])
    target.save_sealed(
        [(BlobType.DATA, b.id, blob, length) for b, (blob, length) in zip(blobs, encoded, strict=True)],
        lane=0,
    )
    return nbytes
