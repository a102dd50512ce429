"""Small builders for repository tests: a cheap scrypt, a fresh repository, and the closing check."""

from __future__ import annotations

from pathlib import Path

from mamori.vault.backend import Backend, FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.checker import CheckResult, check_repository
from mamori.vault.crypto import KDFParams
from mamori.vault.gojson import GoTime
from mamori.vault.model import MODE_DIR, Node, Snapshot, tree_bytes
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository

PASSWORD = "correct horse battery staple"
# Tests only: restic reads any valid N/r/p from the key file, and N=1024 keeps each open fast.
FAST_KDF = KDFParams(n=1024, r=8, p=1)


def new_repository(
    backend: Backend | None = None, *, version: int = 2, pack_size: int = 1 << 20
) -> Repository:
    """A fresh repository with small packs so tests see several of them."""
    return Repository.init(
        backend if backend is not None else MemoryBackend(),
        PASSWORD,
        version=version,
        kdf_params=FAST_KDF,
        pack_size=pack_size,
    )


def init_on_disk(path: object, password: str = PASSWORD) -> None:
    """A repository in a folder, with the cheap scrypt, for CLI tests whose subject is not `init`
    (the CLI's own `init` uses the production cost; each later command then derives in ~3 ms)."""
    Repository.init(LocalBackend(str(path)), password, kdf_params=FAST_KDF).close()


def assert_check_clean(backend: Backend, *, read_data: bool = True) -> CheckResult:
    """Every repository test ends here: reopen from the backend and run a full check."""
    repo = Repository.open(backend, PASSWORD)
    result = check_repository(repo, read_data=read_data)
    assert result.ok, [e.message for e in result.errors]
    return result


def write_snapshot(
    repo: Repository,
    files: dict[str, bytes],
    *,
    time_ns: int = 1_700_000_000_000_000_000,
    offset: int = 0,
    hostname: str = "h",
    paths: tuple[str, ...] = ("/data",),
    tags: tuple[str, ...] = (),
) -> str:
    """A snapshot of one directory `data` holding `files`, written through the repository layer only."""
    nodes = []
    for name, content in files.items():
        blob_ids = [
            repo.save_blob(BlobType.DATA, content[start : start + (1 << 20)])[0]
            for start in range(0, len(content), 1 << 20)
        ]
        nodes.append(Node(name=name.encode(), type="file", mode=0o644, size=len(content), content=blob_ids))
    root_id, _ = repo.save_blob(BlobType.TREE, tree_bytes(nodes))
    top = Node(name=b"data", type="dir", mode=MODE_DIR | 0o755, subtree=root_id)
    top_id, _ = repo.save_blob(BlobType.TREE, tree_bytes([top]))
    repo.flush()
    snap = Snapshot(
        time=GoTime(time_ns, offset), tree=top_id, paths=list(paths), hostname=hostname, tags=list(tags)
    )
    return repo.save_unpacked(FileType.SNAPSHOT, snap.to_json())


def to_s3legacy(root: Path) -> None:
    """Rearrange a local repository the way very old restic laid it out on S3: singular folder
    names and a flat data/ (built by hand: current restic can no longer write this layout)."""
    for new, old in (("keys", "key"), ("snapshots", "snapshot"), ("locks", "lock")):
        (root / new).rename(root / old)
    for pack in list((root / "data").glob("*/*")):
        pack.rename(root / "data" / pack.name)
    for sub in [p for p in (root / "data").iterdir() if p.is_dir()]:
        sub.rmdir()
