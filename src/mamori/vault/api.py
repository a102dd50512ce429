"""The engine's public Python API (the contract with `mamori.apps.backups`): typed, no Django.

`open_repository` / `init_repository` return a `Repository` facade whose methods take a lock, load
the index and run the archiver, restorer or checker, returning frozen result dataclasses. Every
failure is a `VaultError` subclass with a one-line message.
"""

from __future__ import annotations

import fnmatch
import getpass
import importlib
import os
import re
import socket
import time as _time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from mamori.vault.archiver import ArchiveOptions, Archiver, ArchiveStats
from mamori.vault.backend import Backend, FileType, Handle
from mamori.vault.backend.local import LocalBackend, OpenPacks
from mamori.vault.backend.location import BackendOptions, open_backend, parse_location
from mamori.vault.backend.wrappers import LoggingBackend, RetryBackend
from mamori.vault.crypto import KDFParams
from mamori.vault.errors import (
    AmbiguousIdError,
    InvalidArgumentError,
    InvalidDataError,
    NotFoundError,
    SnapshotNotFoundError,
    VaultError,
)
from mamori.vault.freespace import KeepFree
from mamori.vault.gojson import GoTime
from mamori.vault.model import (
    Node,
    Snapshot,
    TreeFormatError,
    parse_tree_entries,
    safe_nodes,
    unsafe_name_reason,
)
from mamori.vault.pack import BlobType, PackedBlob
from mamori.vault.repository import Repository as LowRepository
from mamori.vault.restorer import Restorer, RestoreStats

if TYPE_CHECKING:
    from mamori.vault.checker import CheckProblem, CheckResult
    from mamori.vault.copy import CopyResult
    from mamori.vault.forget import ForgetResult, RetentionPolicy
    from mamori.vault.prune import PruneResult
    from mamori.vault.retention import LockStatus, RetentionResult
    from mamori.vault.stats import RepoStats

__all__ = [
    "BackendOptions",
    "BackupProgress",
    "BackupResult",
    "CheckProblem",
    "CheckResult",
    "ContentReader",
    "CopyResult",
    "FileError",
    "ForgetResult",
    "FoundNode",
    "LockStatus",
    "NodeInfo",
    "PruneResult",
    "RepoStats",
    "Repository",
    "RestoreResult",
    "RetentionPolicy",
    "RetentionResult",
    "SnapshotInfo",
    "init_repository",
    "open_repository",
]

# The maintenance operations' modules load on first use (PEP 562, as `mamori.vault` itself does):
# a backup, the command run most, starts without them.
_LATER = {
    "CheckProblem": "mamori.vault.checker",
    "CheckResult": "mamori.vault.checker",
    "CopyResult": "mamori.vault.copy",
    "ForgetResult": "mamori.vault.forget",
    "LockStatus": "mamori.vault.retention",
    "PruneResult": "mamori.vault.prune",
    "RepoStats": "mamori.vault.stats",
    "RetentionPolicy": "mamori.vault.forget",
    "RetentionResult": "mamori.vault.retention",
}


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


@dataclass(frozen=True)
class BackupProgress:
    """Where a running backup is; totals are unknown (the walk is not done ahead)."""

    files_done: int
    bytes_done: int
    files_total: int | None
    bytes_total: int | None
    current: str | None


@dataclass(frozen=True)
class FileError:
    """A file that could not be backed up or restored, and why."""

    path: str
    message: str


@dataclass(frozen=True)
class BackupResult:
    """A finished backup; non-empty `errors` means some files are missing from it (CLI exit 3)."""

    snapshot_id: str
    parent_id: str | None
    files_new: int
    files_changed: int
    files_unmodified: int
    dirs: int
    bytes_processed: int
    bytes_added: int
    blobs_added: int
    errors: list[FileError]
    duration_s: float


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot as listed."""

    id: str
    short_id: str
    time: datetime
    hostname: str
    username: str
    paths: list[str]
    tags: list[str]
    tree: str
    parent: str | None
    original: str | None
    uid: int = 0
    gid: int = 0
    excludes: list[str] = field(default_factory=list)
    time_text: str = ""
    """The time exactly as stored (RFC 3339, nanoseconds, the original UTC offset), as restic prints it."""


@dataclass(frozen=True)
class NodeInfo:
    """One entry of a snapshot's tree, with its absolute path inside the snapshot."""

    path: str
    type: str
    size: int
    mode: int
    mtime: datetime
    content: list[str] | None
    uid: int = 0
    gid: int = 0
    user: str = ""
    group: str = ""
    linktarget: str = ""


@dataclass(frozen=True)
class FoundNode:
    """A `find` hit: the path and the newest snapshot (of those searched) that holds it."""

    snapshot: SnapshotInfo
    node: NodeInfo


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore; `failed` lists what could not be restored (e.g. its pack is missing)."""

    files_restored: int
    bytes_restored: int
    failed: list[FileError]
    verified: bool
    duration_s: float
    files_skipped: int = 0
    """Files already at the target and kept (`overwrite="never"`)."""
    failed_count: int = 0
    """Everything not restored: `failed` names the first `restorer.FAILED_KEPT` (and a damaged index)."""


def init_repository(
    url: str,
    password: str,
    *,
    version: int = 2,
    options: BackendOptions | None = None,
    kdf_params: KDFParams | None = None,
) -> Repository:
    """Create a repository at `url` (a path, sftp:, s3: or rest:; see `mamori.vault.backend.location`).

    `options` carries the remote backend's secrets, and `options.object_lock` makes an S3
    repository immutable. `kdf_params` is the key's scrypt cost (default: restic's)."""
    backend = open_backend(url, options)
    try:
        return Repository(LowRepository.init(backend, password, version=version, kdf_params=kdf_params), url)
    except BaseException:
        backend.close()
        raise


def open_repository(url: str, password: str, *, options: BackendOptions | None = None) -> Repository:
    """Open the repository at `url`; wrong password → `WrongPasswordError`, none → `RepositoryNotFoundError`."""
    backend = open_backend(url, options)
    try:
        return Repository(LowRepository.open(backend, password), url)
    except BaseException:
        backend.close()
        raise


class _PackReader:
    """The low-level repository plus ranged pack reads, as the restorer wants it.

    With `direct` (a local repository) packs are read through a plain `LocalBackend` of their own:
    it holds no lock or connection, so the restore's forked worker processes may read with it.
    """

    def __init__(self, low: LowRepository, direct: LocalBackend | None = None) -> None:
        self.low = low
        self.direct = direct

    def load_blob(self, blob_type: BlobType, blob_id: bytes) -> bytes:
        return self.low.load_blob(blob_type, blob_id)

    def lookup_blob(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None:
        return self.low.lookup_blob(blob_type, blob_id)

    def decode_blob(self, pack_id: str, blob: PackedBlob, sealed: bytes | memoryview) -> bytes:
        return self.low.decode_blob(pack_id, blob, sealed)

    def load_pack_range(self, pack_id: str, offset: int, length: int) -> bytes:
        backend = self.direct or self.low.backend
        return backend.load(Handle(FileType.PACK, pack_id), offset, length)


class ContentReader:
    """Files' content by their blob ids (hex, as `NodeInfo.content` gives them), through the index
    the repository has loaded."""

    def __init__(self, low: LowRepository) -> None:
        self.low = low

    def open(self, content: Sequence[str]) -> Iterator[bytes]:
        """Stream the content, blob by blob (each one authenticated and checked against its id)."""
        for blob_id in content:
            yield self.low.load_blob(BlobType.DATA, bytes.fromhex(blob_id))

    def length(self, content: Sequence[str]) -> int:
        """The bytes `open` yields, from the index (each blob read is checked against its entry's
        length), whatever a node's `size` says: a tree written by someone else may lie. A blob the
        index does not hold is an `IntegrityError` here, before anything is sent."""
        return sum(
            self.low.locate_blob(BlobType.DATA, bytes.fromhex(blob_id))[1].plaintext_length
            for blob_id in content
        )


TREE_ERRORS_KEPT = 100
"""A listing keeps this many entries it left out, with their reasons, and counts the rest: a
repository written to harm may hold millions."""


def _info(snap_id: str, snap: Snapshot) -> SnapshotInfo:
    return SnapshotInfo(
        id=snap_id,
        short_id=snap_id[:8],
        time=snap.time.to_datetime(),
        hostname=snap.hostname,
        username=snap.username,
        paths=list(snap.paths),
        tags=list(snap.tags),
        tree=snap.tree.hex(),
        parent=snap.parent.hex() if snap.parent else None,
        original=snap.original.hex() if snap.original else None,
        uid=snap.uid,
        gid=snap.gid,
        excludes=list(snap.excludes),
        time_text=snap.time.format(),
    )


class Repository:
    """An open repository (facade over the format layer); use as a context manager or `close()`."""

    def __init__(self, low: LowRepository, url: str) -> None:
        self.low = low
        self.id: str = low.id
        self.url = url
        self.snapshot_errors: list[tuple[str, str]] = []
        """(snapshot file id, problem) for snapshot files that `snapshots()` had to skip."""
        self.index_errors: list[tuple[str, str]] = []
        """(index file id, problem) for damaged index files that a read (restore, ls) had to skip."""
        self.tree_errors: list[tuple[str, str]] = []
        """(snapshot path, problem) for the first `TREE_ERRORS_KEPT` tree nodes the last `ls`,
        `list_dir` or `find` left out (names like `..` or `a/b`); `tree_error_count` counts them all."""
        self.tree_error_count = 0
        self.damaged: list[tuple[str, str]] = []
        """(entry path, problem) for the first `TREE_ERRORS_KEPT` entries the last `ls`, `list_dir`
        or `find` read and could not decode (a field no writer produces, e.g. a negative size);
        each is in `tree_errors` too."""

    def close(self) -> None:
        """Release the backend."""
        self.low.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- snapshots ------------------------------------------------------------

    def _load_snapshot(self, snap_id: str) -> Snapshot:
        try:
            return Snapshot.from_json(self.low.load_unpacked(FileType.SNAPSHOT, snap_id))
        except TreeFormatError as exc:
            raise InvalidDataError(
                f"snapshot file {snap_id[:8]} is not a valid snapshot ({exc}): remove it with "
                "`mamori vault forget` or restore another snapshot",
                path=f"snapshots/{snap_id}",
            ) from exc

    def _all_snapshots(self) -> list[tuple[str, Snapshot]]:
        found: list[tuple[str, Snapshot]] = []
        self.snapshot_errors = []
        for snap_id in self.low.list_files(FileType.SNAPSHOT):
            try:
                found.append((snap_id, self._load_snapshot(snap_id)))
            except VaultError as exc:
                self.snapshot_errors.append((snap_id, str(exc)))
        found.sort(key=lambda item: item[1].time.ns)
        return found

    def snapshots(self) -> list[SnapshotInfo]:
        """Every readable snapshot, oldest first; unreadable files are listed in `snapshot_errors`."""
        return [_info(i, s) for i, s in self._all_snapshots()]

    def _find(self, ref: str) -> tuple[str, Snapshot]:
        if ref == "latest":
            snaps = self._all_snapshots()
            if not snaps:
                raise SnapshotNotFoundError(ref)
            return snaps[-1]
        try:
            snap_id = self.low.find_file_id(FileType.SNAPSHOT, ref)
        except AmbiguousIdError:
            raise
        except NotFoundError as exc:
            raise SnapshotNotFoundError(ref) from exc
        return snap_id, self._load_snapshot(snap_id)

    def _latest_of(self, hostname: str, paths: list[str]) -> tuple[str, Snapshot] | None:
        """The newest snapshot of the same host and paths: the default parent, as restic picks it."""
        same = [
            (i, s) for i, s in self._all_snapshots() if s.hostname == hostname and sorted(s.paths) == paths
        ]
        return same[-1] if same else None

    def find_snapshot(self, ref: str) -> SnapshotInfo:
        """A snapshot by full id, unique prefix, or "latest"."""
        return _info(*self._find(ref))

    # -- backup ---------------------------------------------------------------

    def _result(
        self, stats: ArchiveStats, snap_id: bytes, parent: bytes | None, start: float
    ) -> BackupResult:
        return BackupResult(
            snapshot_id=snap_id.hex(),
            parent_id=parent.hex() if parent else None,
            files_new=stats.files_new,
            files_changed=stats.files_changed,
            files_unmodified=stats.files_unmodified,
            dirs=stats.dirs,
            bytes_processed=stats.bytes_processed,
            bytes_added=stats.bytes_added,
            blobs_added=stats.blobs_added,
            errors=[FileError(p, m) for p, m in stats.errors],
            duration_s=_time.monotonic() - start,
        )

    @staticmethod
    def _progress_fn(
        progress: Callable[[BackupProgress], None] | None,
    ) -> Callable[[ArchiveStats, str | None], None] | None:
        if progress is None:
            return None

        def report(stats: ArchiveStats, current: str | None) -> None:
            files = stats.files_new + stats.files_changed + stats.files_unmodified
            progress(BackupProgress(files, stats.bytes_processed, None, None, current))

        return report

    def backup(
        self,
        paths: Sequence[Path],
        *,
        host: str | None = None,
        tags: Sequence[str] = (),
        excludes: Sequence[str] = (),
        one_file_system: bool = False,
        parent: str | None = None,
        time: datetime | None = None,
        progress: Callable[[BackupProgress], None] | None = None,
        on_error: Callable[[Path, Exception], bool] | None = None,
    ) -> BackupResult:
        """Back up `paths`; unchanged files of the parent snapshot are not read again."""
        start = _time.monotonic()
        hostname = host or socket.gethostname()
        abs_paths = sorted(os.path.abspath(p) for p in paths)
        with self.low.lock(refresh=False) as lock:
            self.low.load_index()
            found = self._find(parent) if parent is not None else self._latest_of(hostname, abs_paths)
            parent_id, parent_snap = found if found is not None else ("", None)
            errors_cb = (lambda p, e: on_error(Path(p), e)) if on_error is not None else None
            # the workers read the parent's trees from the pack files themselves (local repositories)
            disk = _local_disk(self.low.backend) if self._forkable() else None
            packs = OpenPacks(disk) if disk is not None else None
            archiver = Archiver(
                self.low,
                on_error=errors_cb,
                progress=self._progress_fn(progress),
                trees_in_workers=self._forkable(),
                read_pack=packs.load if packs is not None else None,
            )
            try:
                try:
                    archiver.start(excludes)  # workers fork before this process has threads of its own
                    lock.start_refresh()
                except BaseException:
                    archiver.close()
                    raise
                _snap, snap_id = archiver.run(
                    ArchiveOptions(
                        paths=abs_paths,
                        hostname=hostname,
                        username=_username(),
                        tags=tags,
                        excludes=excludes,
                        one_file_system=one_file_system,
                        parent=parent_snap,
                        parent_id=bytes.fromhex(parent_id) if parent_snap is not None else None,
                        time=GoTime.from_datetime(time) if time is not None else None,
                    )
                )
            finally:
                if packs is not None:
                    packs.close()
        return self._result(archiver.stats, snap_id, bytes.fromhex(parent_id) if parent_snap else None, start)

    def backup_stream(
        self,
        stream: BinaryIO,
        filename: str,
        *,
        host: str | None = None,
        tags: Sequence[str] = (),
        time: datetime | None = None,
        progress: Callable[[BackupProgress], None] | None = None,
    ) -> BackupResult:
        """Back up a byte stream (e.g. a database dump on stdin) as one file named `filename`."""
        start = _time.monotonic()
        with self.low.lock():
            self.low.load_index()
            archiver = Archiver(self.low, progress=self._progress_fn(progress))
            _snap, snap_id = archiver.run_stream(
                stream,
                filename,
                ArchiveOptions(
                    paths=[],
                    hostname=host or socket.gethostname(),
                    username=_username(),
                    tags=tags,
                    time=GoTime.from_datetime(time) if time is not None else None,
                ),
            )
        return self._result(archiver.stats, snap_id, None, start)

    # -- reading snapshots ----------------------------------------------------

    def _tree(self, tree_id: bytes, where: str) -> list[Node]:
        """The nodes usable as file names; `..`, `a/b` and repeats are left out and noted in
        `tree_errors`, and so are nodes that cannot be decoded, which are also kept in `damaged`."""
        nodes, damaged = parse_tree_entries(self.low.load_blob(BlobType.TREE, tree_id))
        nodes, refused = safe_nodes(nodes)
        for reason in refused:
            self._left_out(where, reason)
        for name, reason in damaged:
            self._left_out(where, reason)
            if unsafe_name_reason(name) is None and len(self.damaged) < TREE_ERRORS_KEPT:
                self.damaged.append((where.rstrip("/") + "/" + os.fsdecode(name), reason))
        return nodes

    def _left_out(self, where: str, reason: str) -> None:
        self.tree_error_count += 1
        if len(self.tree_errors) < TREE_ERRORS_KEPT:
            self.tree_errors.append((where, reason))

    def _start_listing(self) -> None:
        self.tree_errors, self.damaged, self.tree_error_count = [], [], 0

    def _lookup(self, root: bytes, path: str) -> Node | None:
        """The node at `path` inside the tree `root` (None for the root itself)."""
        parts = [os.fsencode(p) for p in path.split("/") if p]
        tree_id: bytes | None = root
        node: Node | None = None
        where = "/"
        for part in parts:
            if tree_id is None:
                raise NotFoundError(f"{path} is not in the snapshot", file_type="path", ref=path)
            match = [n for n in self._tree(tree_id, where) if n.name == part]
            where = where.rstrip("/") + "/" + os.fsdecode(part)
            if not match:
                raise NotFoundError(f"{path} is not in the snapshot", file_type="path", ref=path)
            node = match[0]
            tree_id = node.subtree
        return node

    def ls(self, ref: str, path: str = "/") -> Iterator[NodeInfo]:
        """Everything below `path` in the snapshot, depth first, in tree order (refused names: `tree_errors`)."""
        self._start_listing()
        _snap_id, snap = self._find(ref)
        self.low.load_index()
        node = self._lookup(snap.tree, path)
        base = "/" + "/".join(p for p in path.split("/") if p)
        if node is not None and node.subtree is None:
            yield _node_info(base, node)
            return
        subtree = snap.tree if node is None else node.subtree
        if node is not None:
            yield _node_info(base, node)
        if subtree is not None:
            yield from self._walk(subtree, base)

    def list_dir(self, ref: str, path: str = "/") -> list[NodeInfo]:
        """The direct children of the directory `path`, in tree order: only the trees along the path
        are loaded (a browser shows one folder of a snapshot of any size)."""
        self._start_listing()
        _snap_id, snap = self._find(ref)
        self.low.load_index()
        node = self._lookup(snap.tree, path)
        base = "/" + "/".join(p for p in path.split("/") if p)
        if node is not None and node.type != "dir":
            raise NotFoundError(f"{path} is not a directory in the snapshot", file_type="path", ref=path)
        tree_id = snap.tree if node is None else node.subtree
        if tree_id is None:
            return []
        self.damaged = []  # this folder's own, not those of the folders above it
        return [_node_info(p, n) for p, n in self._children(tree_id, base)]

    def _walk(self, tree_id: bytes, base: str) -> Iterator[NodeInfo]:
        """Depth first in tree order, with an explicit stack (trees may be thousands of levels deep)."""
        stack: list[Iterator[tuple[str, Node]]] = [self._children(tree_id, base)]
        while stack:
            item = next(stack[-1], None)
            if item is None:
                stack.pop()
                continue
            path, node = item
            yield _node_info(path, node)
            if node.subtree is not None:
                stack.append(self._children(node.subtree, path))

    def _children(self, tree_id: bytes, base: str) -> Iterator[tuple[str, Node]]:
        prefix = base.rstrip("/") + "/"
        return ((prefix + os.fsdecode(node.name), node) for node in self._tree(tree_id, base or "/"))

    def find(self, pattern: str, *, since: datetime | None = None) -> list[FoundNode]:
        """Entries whose name matches the glob `pattern` (ignoring case) in the snapshots taken since
        `since`, one per path with the newest snapshot holding it, sorted by path. A folder already
        searched at the same place in a newer snapshot (same tree id) is not read again, so daily
        snapshots of a share cost about one walk plus what changed."""
        self._start_listing()
        self.low.load_index()
        match = re.compile(fnmatch.translate(pattern), re.IGNORECASE | re.DOTALL).match
        found: dict[str, FoundNode] = {}
        walked: set[tuple[bytes, str]] = set()
        for snap_id, snap in reversed(self._all_snapshots()):
            if since is not None and snap.time.to_datetime() < since:
                continue
            info = _info(snap_id, snap)
            stack = [(snap.tree, "/")]
            while stack:
                tree_id, base = stack.pop()
                if (tree_id, base) in walked:
                    continue
                walked.add((tree_id, base))
                try:
                    children = list(self._children(tree_id, base))
                except (VaultError, TreeFormatError) as exc:
                    self._left_out(base, str(exc))
                    continue
                for path, node in children:
                    if path not in found and match(path.rsplit("/", 1)[1]):
                        found[path] = FoundNode(info, _node_info(path, node))
                    if node.subtree is not None:
                        stack.append((node.subtree, path))
        return [found[p] for p in sorted(found)]

    def _file_content(self, ref: str, path: str) -> list[str]:
        """The content (blob ids) of the file at `path`; loads the index."""
        _snap_id, snap = self._find(ref)
        self.low.load_index()
        node = self._lookup(snap.tree, path)
        if node is None or node.type != "file":
            raise NotFoundError(f"{path} is not a file in the snapshot", file_type="path", ref=path)
        return [blob_id.hex() for blob_id in node.content or []]

    def open_file(self, ref: str, path: str) -> Iterator[bytes]:
        """Stream one file's content, blob by blob."""
        yield from ContentReader(self.low).open(self._file_content(ref, path))

    def content_reader(self) -> ContentReader:
        """A reader of files' content by the blob ids a listing gave them (`NodeInfo.content`), the
        index loaded here once: `open_file` finds its snapshot, loads the index and looks the path up
        again for every file, which a drill checking thousands of files pays thousands of times."""
        self.low.load_index()
        return ContentReader(self.low)

    def restore(
        self,
        ref: str,
        target: Path,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        paths: Sequence[str] | None = None,
        base: str = "/",
        overwrite: str = "always",
        verify: bool = False,
        progress: Callable[[RestoreStats], None] | None = None,
        keep_free: KeepFree | None = None,
        files_only: bool = False,
        tree_errors: bool = True,
    ) -> RestoreResult:
        """Restore a snapshot into `target`: all of it, the part the `include`/`exclude` patterns
        select, or exactly `paths` (each with everything below it; `[`, `*`, `?` are plain
        characters there; `/` is everything). The snapshot folder `base` maps to `target` (restic's
        `snapshot:subfolder`): by default the target holds the snapshot's absolute paths.
        `overwrite="never"` keeps what is already there (restic's `--overwrite`). With `keep_free`
        the restore stops (`RestoreStoppedError`) before the target's file system has less free.
        `files_only` makes folders and files only (no links, fifos, devices); `tree_errors=False`
        leaves refused names and unreadable trees out without counting them as failures."""
        start = _time.monotonic()
        with self.low.lock():
            _snap_id, snap = self._find(ref)
            self.index_errors = self.low.load_index(skip_damaged=True)
            if paths is not None and (include or exclude):
                raise InvalidArgumentError("restore takes exact paths or include/exclude patterns, not both")
            direct = LocalBackend(parse_location(self.url)[1]) if self._forkable() else None
            restorer = Restorer(
                _PackReader(self.low, direct),
                str(target),
                include=include,
                exclude=exclude,
                paths=paths,
                overwrite=overwrite,
                processes=direct is not None,
                progress=progress,
                keep_free=keep_free,
                files_only=files_only,
                tree_errors=tree_errors,
            )
            base = "/" + "/".join(p for p in base.split("/") if p)
            node = self._lookup(snap.tree, base)
            if node is not None and (node.type != "dir" or node.subtree is None):
                raise InvalidArgumentError(
                    f"{base} is not a folder of the snapshot: restore its folder instead"
                )
            tree = snap.tree if node is None else node.subtree
            assert tree is not None
            stats = restorer.run(tree, verify=verify, root_path=base)
        failed = [FileError(p, m) for p, m in stats.failed]
        failed_count = stats.failed_count
        if failed and self.index_errors:
            failed_count += 1
            names = ", ".join(f"index/{i}" for i, _ in self.index_errors)
            failed.append(
                FileError(
                    "/",
                    f"the index file {names} is damaged: run `mamori vault rebuild-index` (it reads the packs),"
                    " then restore again",
                )
            )
        return RestoreResult(
            files_restored=stats.files_restored,
            bytes_restored=stats.bytes_restored,
            failed=failed,
            verified=stats.verified,
            duration_s=_time.monotonic() - start,
            files_skipped=stats.files_skipped,
            failed_count=failed_count,
        )

    def _forkable(self) -> bool:
        """Can worker processes read this repository after a fork? A local directory: yes; a
        network backend's connections and threads do not survive a fork."""
        return parse_location(self.url)[0] == "local"

    # -- maintenance (the format layer) --------------------------------------

    def check(self, *, read_data: bool = False, read_data_subset: str | None = None) -> CheckResult:
        """Verify the repository's structure, and with `read_data` every byte of it."""
        from mamori.vault.checker import check_repository

        with self.low.lock():
            self.low.load_index()
            return check_repository(
                self.low,
                read_data=read_data,
                read_data_subset=read_data_subset,
                processes=(os.cpu_count() or 1) if self._forkable() else 0,
            )

    def copy_to(self, dest: Repository, *, snapshot_ids: Sequence[str] | None = None) -> CopyResult:
        """Copy snapshots missing in `dest` (by their original id) with their blobs, re-encrypted."""
        from mamori.vault.copy import copy_snapshots

        with self.low.lock(), dest.low.lock():
            self.low.load_index()
            dest.low.load_index()
            return copy_snapshots(self.low, dest.low, snapshot_ids=snapshot_ids)

    def forget(self, policy: RetentionPolicy, *, prune: bool = False, dry_run: bool = False) -> ForgetResult:
        """Remove snapshots the policy does not keep (per host and paths); optionally prune afterwards."""
        from mamori.vault.forget import forget_snapshots
        from mamori.vault.prune import prune_repository

        with self.low.lock(exclusive=not dry_run):
            result = forget_snapshots(self.low, policy, dry_run=dry_run)
            if prune and not dry_run:
                prune_repository(self.low)
        return result

    def prune(self) -> PruneResult:
        """Delete data no snapshot references and rewrite mostly unused packs."""
        from mamori.vault.prune import prune_repository

        with self.low.lock(exclusive=True):
            return prune_repository(self.low)

    def extend_locks(self, *, days: int | None = None) -> RetentionResult:
        """Keep every object a snapshot needs under Object Lock until now + days (S3 Object Lock only)."""
        from mamori.vault.retention import extend_locks

        with self.low.lock():
            return extend_locks(self.low, days=days)

    def lock_status(self) -> LockStatus:
        """The Object Lock read back from the server: mode, days, until when the newest snapshot is locked."""
        from mamori.vault.retention import lock_status

        return lock_status(self.low)

    def stats(self) -> RepoStats:
        """Snapshot, pack and blob counts with stored and uncompressed sizes."""
        from mamori.vault.stats import repository_stats

        with self.low.lock():
            self.low.load_index()
            return repository_stats(self.low)


def _node_info(path: str, node: Node) -> NodeInfo:
    return NodeInfo(
        path=path,
        type=node.type,
        size=node.size,
        mode=node.mode,
        mtime=node.mtime.to_datetime(),
        content=None if node.content is None else [c.hex() for c in node.content],
        uid=node.uid,
        gid=node.gid,
        user=node.user,
        group=node.group,
        linktarget=os.fsdecode(node.linktarget),
    )


def _local_disk(backend: Backend) -> LocalBackend | None:
    """The local directory under `open_backend`'s logging and retry, which reads may bypass; None
    for any other stack (a remote backend, or a wrapper that injects faults in a test)."""
    while isinstance(backend, RetryBackend | LoggingBackend):
        backend = backend.inner
    return backend if type(backend) is LocalBackend else None


def _username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
