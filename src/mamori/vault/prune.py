"""Prune: delete packs no snapshot needs, repack partly used packs, replace the index (restic `prune`).

Crash-safe ordering (design.rst "Read and Write Ordering"): new packs are uploaded first, then the
index files describing every pack that stays, then the old index files are deleted, and only then
the packs that are gone from the index. A crash at any point leaves every needed blob indexed in
an existing pack; leftovers are unreferenced packs or duplicate index entries the next prune
removes. Run it under an exclusive lock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from mamori.vault.backend import FileType, Handle
from mamori.vault.errors import BackendNotFoundError, IntegrityError
from mamori.vault.index import MasterIndex, encode_index
from mamori.vault.model import Snapshot, parse_tree
from mamori.vault.pack import BlobType, PackedBlob
from mamori.vault.repository import INDEX_MAX_BLOBS, Repository

__all__ = ["REPACK_UNUSED_FRACTION", "PruneResult", "prune_repository", "used_blobs"]

# A pack with at least this share of unused bytes is rewritten; below it the waste is kept
# (restic's default --max-unused is 5 % of the whole repository; per pack is simpler to reason about).
REPACK_UNUSED_FRACTION = 0.2


@dataclass(frozen=True)
class PruneResult:
    """What prune changed; `bytes_freed` is the drop in pack storage (estimated by a dry run).

    `locked` counts the packs and index files prune would have deleted that stay under Object
    Lock; `locked_until` is the last of their retain-until dates."""

    packs_removed: int
    packs_rewritten: int
    bytes_freed: int
    blobs_repacked: int = 0
    locked: int = 0
    locked_until: datetime | None = None


def used_blobs(repo: Repository, tree_ids: Iterable[bytes]) -> set[tuple[BlobType, bytes]]:
    """Every tree and data blob reachable from the given root trees (each tree loaded once)."""
    used: set[tuple[BlobType, bytes]] = set()
    stack = list(tree_ids)
    while stack:
        tree_id = stack.pop()
        key = (BlobType.TREE, tree_id)
        if key in used:
            continue
        used.add(key)
        for node in parse_tree(repo.load_blob(BlobType.TREE, tree_id)):
            if node.content:
                used.update((BlobType.DATA, b) for b in node.content)
            if node.subtree is not None:
                stack.append(node.subtree)
    return used


def _snapshot_trees(repo: Repository) -> list[bytes]:
    trees = []
    for snap_id in repo.list_files(FileType.SNAPSHOT):
        trees.append(Snapshot.from_json(repo.load_unpacked(FileType.SNAPSHOT, snap_id)).tree)
    return trees


def prune_repository(
    repo: Repository, *, dry_run: bool = False, progress: Callable[[str], None] | None = None
) -> PruneResult:
    """Remove what no snapshot references; the caller holds an exclusive lock."""
    say = progress or (lambda _msg: None)
    say("loading indexes")
    old_index_files = sorted(repo.list_files(FileType.INDEX))
    packs: dict[str, list[PackedBlob]] = {}
    for name in old_index_files:
        for pack_id, blobs in repo.load_index_file(name).packs.items():
            packs.setdefault(pack_id, blobs)
    index = MasterIndex()
    for pack_id, blobs in packs.items():
        index.add_pack(pack_id, blobs, bulk=True)
    index.compact()
    repo.index = index
    on_disk = repo.list_packs()
    gone = sorted(p for p in packs if p not in on_disk)
    if gone:  # damage, never a leftover: prune deletes packs only after the index files naming them
        raise IntegrityError(
            f"{len(gone)} packs named by the index are missing from the repository "
            f"({', '.join(p[:8] for p in gone[:5])}): prune changed nothing; run `mamori vault check` to see "
            "what is lost, then `mamori vault rebuild-index` and a new backup",
            pack_id=gone[0],
        )

    say("finding used blobs")
    used = used_blobs(repo, _snapshot_trees(repo))
    missing = [b for b in used if not index.has(*b)]
    if missing:
        blob_type, blob_id = missing[0]
        raise IntegrityError(
            f"{len(missing)} used blobs are not in the index (e.g. {blob_type.value} {blob_id.hex()[:8]}): "
            "prune would lose data; run `mamori vault check` first",
            blob_id=blob_id.hex(),
        )

    keep_packs: dict[str, list[PackedBlob]] = {}
    remove_packs: list[str] = []
    repack: dict[str, list[PackedBlob]] = {}
    seen: set[tuple[BlobType, bytes]] = set()
    repack_unused = 0
    for pack_id, blobs in packs.items():
        needed = []
        for b in blobs:
            key = (b.type, b.id)
            if key in used and key not in seen:
                needed.append(b)
                seen.add(key)
        unused_bytes = sum(b.length for b in blobs) - sum(b.length for b in needed)
        if not needed:
            remove_packs.append(pack_id)
        elif unused_bytes and unused_bytes >= REPACK_UNUSED_FRACTION * on_disk[pack_id]:
            repack[pack_id] = needed
            repack_unused += unused_bytes
        else:
            keep_packs[pack_id] = blobs
    unreferenced = [p for p in on_disk if p not in packs]
    locks = _locked(repo, old_index_files, [*remove_packs, *repack, *unreferenced])
    if locks:  # never try to delete a locked object; the packs a locked index names stay too
        protected = set(locks) | {
            p for i in old_index_files if i in locks for p in repo.load_index_file(i).packs
        }
        for pack_id in [p for p in (*remove_packs, *repack) if p in protected]:
            keep_packs[pack_id] = packs[pack_id]
            if pack_id in repack:
                needed_bytes = sum(b.length for b in repack.pop(pack_id))
                repack_unused -= sum(b.length for b in packs[pack_id]) - needed_bytes
        remove_packs = [p for p in remove_packs if p not in protected]
        unreferenced = [p for p in unreferenced if p not in protected]
    # An estimate for dry runs (header bytes aside); a real run reports what the listing shows.
    bytes_freed = sum(on_disk[p] for p in (*remove_packs, *unreferenced)) + repack_unused
    result = PruneResult(
        packs_removed=len(remove_packs) + len(unreferenced) + len(repack),
        packs_rewritten=len(repack),
        bytes_freed=bytes_freed,
        blobs_repacked=sum(len(b) for b in repack.values()),
        locked=len(locks),
        locked_until=max(locks.values()) if locks else None,
    )
    if dry_run:
        return result

    # 1. New packs for the blobs still needed from rewritten packs. The index used for
    #    deduplication must not know them, or save_blob would skip them.
    say(f"repacking {len(repack)} packs")
    staying = MasterIndex()
    for pack_id, blobs in keep_packs.items():
        staying.add_pack(pack_id, blobs, bulk=True)
    staying.compact()
    repo.index = staying
    for pack_id, blobs in repack.items():
        for b in blobs:
            plain = repo.load_blob_from(pack_id, b)
            repo.save_blob(b.type, plain, b.id)
    before = set(repo.index_files)
    repo.flush()  # writes the new packs and an index file for them
    new_index_files = set(repo.index_files) - before

    # 2. Index files for every pack that stays, then the old index files go.
    say("writing the new index")
    items = list(keep_packs.items())
    start = 0
    while start < len(items):
        chunk: dict[str, list[PackedBlob]] = {}
        count = 0
        while start < len(items) and (count == 0 or count + len(items[start][1]) <= INDEX_MAX_BLOBS):
            chunk[items[start][0]] = items[start][1]
            count += len(items[start][1])
            start += 1
        new_index_files.add(repo.save_unpacked(FileType.INDEX, encode_index(chunk)))
    for name in old_index_files:
        if name not in new_index_files and name not in locks:
            _remove(repo, FileType.INDEX, name)

    # 3. Only now the packs nothing points to.
    say("deleting unused packs")
    for pack_id in (*remove_packs, *repack, *unreferenced):
        _remove(repo, FileType.PACK, pack_id)
    repo.load_index()
    return dataclasses.replace(result, bytes_freed=sum(on_disk.values()) - sum(repo.list_packs().values()))


def _locked(repo: Repository, index_files: list[str], pack_ids: list[str]) -> dict[str, datetime]:
    """The given index files and packs that are under Object Lock, with their retain-until dates."""
    if repo.backend.object_lock is None:
        return {}
    handles = [Handle(FileType.INDEX, i) for i in index_files] + [Handle(FileType.PACK, p) for p in pack_ids]
    found = {}
    for handle in handles:
        try:
            until = repo.backend.retention(handle)
        except BackendNotFoundError:
            continue
        if until is not None:
            found[handle.name] = until
    return found


def _remove(repo: Repository, file_type: FileType, name: str) -> None:
    try:
        repo.remove_file(file_type, name)
    except BackendNotFoundError:
        pass
