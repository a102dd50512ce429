"""Benchmark: one folder listing of a 200,000-file snapshot, as the snapshot browser asks for it.

Run: `.venv/bin/python bench/browse_listing.py [--files 200000] [--repeat 3]`. Builds a repository
whose snapshot holds `/srv/share/課NNN/文書NNNNN.txt` (1,000 files per folder, trees written
directly), then times the listing of the root, the share and one folder two ways: the old way
(`ls` walks everything below the folder, then keeps the direct children) and `list_dir` (loads only
the trees along the path). Prints a Markdown table of the median seconds.
"""

from __future__ import annotations

import argparse
import posixpath
import statistics
import tempfile
import time
from pathlib import Path

from mamori.vault.api import open_repository
from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.crypto import KDFParams
from mamori.vault.gojson import GoTime
from mamori.vault.model import MODE_DIR, Node, Snapshot, tree_bytes
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository

PASSWORD = "bench"
PER_FOLDER = 1000


def build(path: Path, files: int) -> str:
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=KDFParams(n=1024))
    blob = repo.save_blob(BlobType.DATA, b"content\n")[0]
    folders = []
    for f in range(files // PER_FOLDER):
        nodes = [
            Node(name=f"文書{i:05d}.txt".encode(), type="file", mode=0o644, size=8, content=[blob])
            for i in range(PER_FOLDER)
        ]
        tree = repo.save_blob(BlobType.TREE, tree_bytes(nodes))[0]
        folders.append(Node(name=f"課{f:03d}".encode(), type="dir", mode=MODE_DIR | 0o755, subtree=tree))
    share = repo.save_blob(BlobType.TREE, tree_bytes(folders))[0]
    srv = repo.save_blob(
        BlobType.TREE, tree_bytes([Node(name=b"share", type="dir", mode=MODE_DIR, subtree=share)])
    )[0]
    root = repo.save_blob(
        BlobType.TREE, tree_bytes([Node(name=b"srv", type="dir", mode=MODE_DIR, subtree=srv)])
    )[0]
    repo.flush()
    snap = Snapshot(time=GoTime(time.time_ns()), tree=root, paths=["/srv/share"], hostname="bench")
    snap_id = repo.save_unpacked(FileType.SNAPSHOT, snap.to_json())
    repo.close()
    return snap_id


def old_children(url: str, ref: str, path: str) -> int:
    """What the browser did before: a recursive `ls` below `path`, filtered to direct children."""
    with open_repository(url, PASSWORD) as repo:
        return sum(1 for n in repo.ls(ref, path) if posixpath.dirname(n.path) == path and n.path != path)


def new_children(url: str, ref: str, path: str) -> int:
    with open_repository(url, PASSWORD) as repo:
        return len(repo.list_dir(ref, path))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        url = str(Path(tmp) / "repo")
        ref = build(Path(url), args.files)
        print(f"{args.files} files in {args.files // PER_FOLDER} folders\n")
        print("| folder listed | entries | recursive ls + filter (s) | list_dir (s) |")
        print("|---|---|---|---|")
        for path in ("/", "/srv/share", "/srv/share/課007"):
            cells = []
            for fn in (old_children, new_children):
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    count = fn(url, ref, path)
                    times.append(time.perf_counter() - start)
                cells.append(statistics.median(times))
            print(f"| `{path}` | {count} | {cells[0]:.2f} | {cells[1]:.3f} |")


if __name__ == "__main__":
    main()
