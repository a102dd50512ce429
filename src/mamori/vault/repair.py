"""Rebuild the index from the packs themselves (restic 0.14 `rebuild-index`, later `repair index`).

Every pack's header is read and authenticated; new index files describe every readable pack,
then the old index files are deleted (new before old, so a crash never leaves blobs unindexed).
Packs whose header cannot be read are reported, not deleted: their blobs may still be needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mamori.vault.backend import FileType
from mamori.vault.errors import BackendNotFoundError, IntegrityError
from mamori.vault.index import encode_index
from mamori.vault.pack import PackedBlob
from mamori.vault.repository import INDEX_MAX_BLOBS, Repository

__all__ = ["RebuildResult", "rebuild_index"]


@dataclass(frozen=True)
class RebuildResult:
    """Packs indexed, blobs found, old index files replaced, and packs whose header is damaged."""

    packs: int
    blobs: int
    index_files_removed: int
    unreadable_packs: list[str]


def rebuild_index(repo: Repository, *, progress: Callable[[str], None] | None = None) -> RebuildResult:
    """Replace all index files with ones built from pack headers; the caller holds an exclusive lock."""
    say = progress or (lambda _msg: None)
    old_files = sorted(repo.list_files(FileType.INDEX))
    packs = repo.list_packs()
    found: dict[str, list[PackedBlob]] = {}
    unreadable: list[str] = []
    for n, (pack_id, size) in enumerate(sorted(packs.items()), 1):
        say(f"reading pack headers {n}/{len(packs)}")
        try:
            found[pack_id] = repo.read_pack_header(pack_id, size)
        except (IntegrityError, BackendNotFoundError):
            unreadable.append(pack_id)
    say("writing the new index")
    new_files: set[str] = set()
    chunk: dict[str, list[PackedBlob]] = {}
    count = 0
    for pack_id, blobs in found.items():
        if chunk and count + len(blobs) > INDEX_MAX_BLOBS:
            new_files.add(repo.save_unpacked(FileType.INDEX, encode_index(chunk)))
            chunk, count = {}, 0
        chunk[pack_id] = blobs
        count += len(blobs)
    if chunk:
        new_files.add(repo.save_unpacked(FileType.INDEX, encode_index(chunk)))
    removed = 0
    for name in old_files:
        if name in new_files:
            continue
        try:
            repo.remove_file(FileType.INDEX, name)
            removed += 1
        except BackendNotFoundError:
            continue
    repo.load_index()
    return RebuildResult(
        packs=len(found),
        blobs=sum(len(b) for b in found.values()),
        index_files_removed=removed,
        unreadable_packs=unreadable,
    )
