"""Hostile repositories, written the way an attacker with storage access would: tree blobs by hand.

Nothing here goes through the archiver (it would never write such trees). Each case is one snapshot
of `/data` holding `good.txt` (which must still restore) and a node that tries to leave the target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.gojson import GoTime
from mamori.vault.model import MODE_DIR, MODE_SYMLINK, Node, Snapshot
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD

GOOD = b"this file is fine\n"
PLANTED = b"planted by whoever wrote the repository\n"


def _raw_tree(nodes: list[Node | str]) -> bytes:
    """A tree blob in the given order, repeats allowed (`tree_bytes` would sort and refuse them);
    a str is a node's JSON written by hand (values no writer would produce)."""
    body = ",".join(n if isinstance(n, str) else n.to_json() for n in nodes)
    return ('{"nodes":[' + body + "]}\n").encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class HostileRepo:
    path: Path
    outside: Path  # the directory the hostile names aim at; must stay empty
    snapshots: dict[str, str]  # case -> snapshot id


class TreeWriter:
    """Writes trees and snapshots by hand into a repository (the key is all an attacker needs)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def tree(self, nodes: list[Node | str]) -> bytes:
        return self.repo.save_blob(BlobType.TREE, _raw_tree(nodes))[0]

    def raw_tree(self, plaintext: bytes) -> bytes:
        """A tree blob of any bytes (malformed JSON included)."""
        return self.repo.save_blob(BlobType.TREE, plaintext)[0]

    def file(self, name: bytes, content: bytes) -> Node:
        blob = self.repo.save_blob(BlobType.DATA, content)[0]
        return Node(name=name, type="file", mode=0o644, size=len(content), content=[blob])

    def dir(self, name: bytes, children: list[Node | str]) -> Node:
        return Node(name=name, type="dir", mode=MODE_DIR | 0o755, subtree=self.tree(children))

    def symlink(self, name: bytes, target: Path) -> Node:
        return Node(name=name, type="symlink", mode=MODE_SYMLINK | 0o777, linktarget=os.fsencode(target))

    def snapshot(self, data_nodes: list[Node | str], time_ns: int) -> str:
        root = self.tree([self.dir(b"data", [self.file(b"good.txt", GOOD), *data_nodes])])
        self.repo.flush()
        snap = Snapshot(time=GoTime(time_ns), tree=root, paths=["/data"], hostname="attacker")
        return self.repo.save_unpacked(FileType.SNAPSHOT, snap.to_json())


# The target sits at <base>/a/b/target: three ".." from /data reach <base>/a.
def target_of(base: Path) -> Path:
    return base / "a" / "b" / "target"


def build_hostile_repository(base: Path) -> HostileRepo:
    """One repository with a snapshot per attack; `outside` is where a successful attack writes."""
    outside = base / "outside"
    outside.mkdir(parents=True)
    path = base / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF, pack_size=1 << 20)
    w = TreeWriter(repo)
    escape = w.file(b"escaped.txt", PLANTED)
    cases = {
        # /data/../../../escaped.txt: up from the target through directories named ".."
        "dotdot": [w.dir(b"..", [w.dir(b"..", [w.dir(b"..", [escape])])])],
        # an absolute name: os.path.join drops everything before it
        "absolute": [w.file(os.fsencode(outside / "escaped.txt"), PLANTED)],
        # a name with slashes, its first component made real
        "slashes": [w.dir(b"a", []), w.file(b"a/../../../../escaped.txt", PLANTED)],
        # the folder itself, an empty name, a NUL (which C calls would take as the end of the name)
        "dot": [w.file(b".", PLANTED)],
        "empty": [w.file(b"", PLANTED)],
        "nul": [w.file(b"escaped.txt\0.txt", PLANTED)],
        # a symlink out of the target, then a name through it
        "symlink-file": [w.symlink(b"lnk", outside), w.file(b"lnk/escaped.txt", PLANTED)],
        # a symlink out of the target, then a file of the same name: written through the link?
        "symlink-then-file": [w.symlink(b"lnk", outside / "escaped.txt"), w.file(b"lnk", PLANTED)],
        # a symlink out of the target, then a directory of the same name holding a file
        "symlink-dir": [w.symlink(b"lnk", outside), w.dir(b"lnk", [escape])],
        # the same, directory first: the symlink must not replace the directory already restored
        "dir-symlink": [w.dir(b"lnk", [escape]), w.symlink(b"lnk", outside)],
    }
    snapshots = {
        case: w.snapshot(nodes, 1_760_000_000_000_000_000 + i * 10**9)
        for i, (case, nodes) in enumerate(cases.items())
    }
    repo.close()
    return HostileRepo(path, outside, snapshots)


def files_outside(base: Path, target: Path) -> list[str]:
    """Every path below `base` that is not the repository or inside `target` (dirs on the way excluded)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        skipped = (base / "repo", base / ".restic-cache", target)
        if any(here == s or s in here.parents for s in skipped):
            dirnames[:] = []
            continue
        for name in filenames + [d for d in dirnames if (here / d).is_symlink()]:
            found.append(str((here / name).relative_to(base)))
    return sorted(found)


def build_many_bad_names(path: Path, count: int) -> str:
    """One snapshot of /data holding `good.txt` and `count` files named `bad/NNNN` (a name with a
    slash, refused by every reader): a repository that fails in as many ways as its writer likes."""
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    planted = w.file(b"x", PLANTED)
    bad = [
        Node(name=b"bad/%04d" % i, type="file", mode=0o644, size=len(PLANTED), content=planted.content)
        for i in range(count)
    ]
    snap = w.snapshot(list(bad), 1_760_000_000_000_000_000)
    repo.close()
    return snap
