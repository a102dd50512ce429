"""Repositories whose snapshots expand without end, written by hand (`hostile.TreeWriter`): one
subtree named twice per level (2^31 - 1 folders from 31 trees), and one file whose content names
the same 1 MiB blob 100,000 times (100 GiB from 1 MiB; its size field says 1 MiB). restic 0.14
restores both until the disk is full. Each snapshot is `/data` with `good.txt` beside the bomb.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mamori.vault.backend.local import LocalBackend
from mamori.vault.model import MODE_DIR, Node
from mamori.vault.repository import Repository
from tests.vault.hostile import TreeWriter
from tests.vault.repo_helpers import FAST_KDF, PASSWORD

LEVELS = 30
REPEATS = 100_000
MiB = 1 << 20


@dataclass(frozen=True)
class Expanding:
    path: Path
    folders: str  # /data/d: a subtree named "a" and "b" on each of 30 levels
    bytes: str  # /data/big: one 1 MiB blob 100,000 times (the latest snapshot)


def folder_bomb(w: TreeWriter) -> Node:
    """`d`, whose subtree holds the same subtree twice on each level."""
    tree = w.tree([])
    for _level in range(LEVELS):
        tree = w.tree([Node(name=n, type="dir", mode=MODE_DIR | 0o755, subtree=tree) for n in (b"a", b"b")])
    return Node(name=b"d", type="dir", mode=MODE_DIR | 0o755, subtree=tree)


def byte_bomb(w: TreeWriter) -> Node:
    """`big`: one random 1 MiB blob, named 100,000 times."""
    node = w.file(b"big", os.urandom(MiB))
    assert node.content is not None
    return Node(name=b"big", type="file", mode=0o644, size=MiB, content=node.content * REPEATS)


def build_expanding_repository(path: Path) -> Expanding:
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    folders = w.snapshot([folder_bomb(w)], 1_760_000_000_000_000_000)
    big = w.snapshot([byte_bomb(w)], 1_760_000_001_000_000_000)
    repo.close()
    return Expanding(path, folders, big)
