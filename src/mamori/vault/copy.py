"""Copy snapshots with their blobs to another repository (restic `copy`), re-encrypted for the target.

A snapshot is skipped when the target already holds a copy: a snapshot whose `original` (or own
id) equals the source's original and that looks the same (time, tree, host, paths, tags), as
restic's `similarSnapshots`. Copies record the source id in `original`. Blobs the target lacks
are copied before the snapshot file is written (packs → index → snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mamori.vault.backend import FileType
from mamori.vault.model import Snapshot, parse_tree
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository

__all__ = ["CopyResult", "copy_snapshots"]


@dataclass(frozen=True)
class CopyResult:
    """(source id, new id) per copied snapshot, and how much blob data the target received."""

    copied: list[tuple[str, str]]
    blobs_copied: int
    bytes_copied: int
    skipped: list[str]


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
    for snap_id in wanted:
        snap = src_snaps[snap_id]
        original = snap.original.hex() if snap.original else snap_id
        if any(_similar(dst, snap) for dst in by_original.get(original, [])):
            skipped.append(snap_id)
            continue
        say(f"copying snapshot {snap_id[:8]}")
        stack = [snap.tree]
        while stack:
            tree_id = stack.pop()
            if tree_id in seen_trees:
                continue
            seen_trees.add(tree_id)
            tree = source.load_blob(BlobType.TREE, tree_id)
            for node in parse_tree(tree):
                for blob_id in node.content or ():
                    if not target.has_blob(BlobType.DATA, blob_id):
                        data = source.load_blob(BlobType.DATA, blob_id)
                        target.save_blob(BlobType.DATA, data, blob_id)
                        blobs += 1
                        nbytes += len(data)
                if node.subtree is not None:
                    stack.append(node.subtree)
            # Order inside the batch does not matter: the snapshot is written only after flush.
            if not target.has_blob(BlobType.TREE, tree_id):
                target.save_blob(BlobType.TREE, tree, tree_id)
                blobs += 1
                nbytes += len(tree)
        target.flush()
        snap.original = bytes.fromhex(original)
        new_id = target.save_unpacked(FileType.SNAPSHOT, snap.to_json())
        by_original.setdefault(original, []).append(snap)
        copied.append((snap_id, new_id))
    return CopyResult(copied=copied, blobs_copied=blobs, bytes_copied=nbytes, skipped=skipped)
