"""Repository statistics (restic `stats --mode raw-data` in spirit): what is stored and what it expands to."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.vault.backend import FileType
from mamori.vault.repository import Repository

__all__ = ["RepoStats", "repository_stats"]


@dataclass(frozen=True)
class RepoStats:
    """Counts and sizes; `total_size` is bytes of pack files, `uncompressed_size` the blobs' plaintext."""

    snapshots: int
    packs: int
    blobs: int
    total_size: int
    uncompressed_size: int

    @property
    def compression_ratio(self) -> float:
        """Plaintext bytes per stored byte (1.0 when nothing is stored)."""
        return self.uncompressed_size / self.total_size if self.total_size else 1.0


def repository_stats(repo: Repository) -> RepoStats:
    """Statistics from the loaded index and the pack listing (call `load_index` first)."""
    packs = repo.list_packs()
    uncompressed = sum(blob.plaintext_length for _pack, blob in repo.index.blobs())
    return RepoStats(
        snapshots=sum(1 for _ in repo.list_files(FileType.SNAPSHOT)),
        packs=len(packs),
        blobs=repo.index.count(),
        total_size=sum(packs.values()),
        uncompressed_size=uncompressed,
    )
