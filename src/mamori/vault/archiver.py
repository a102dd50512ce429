"""The backup pipeline: walk → compare with the parent snapshot → read → chunk → hash → dedupe → save.

One walker thread reads files with large sequential reads, cuts them with FastCDC and hashes each
chunk (both release the GIL), so content ids and tree blobs are known at once and trees are written
bottom-up without waiting. Only new chunks go to a small thread pool that compresses, encrypts and
packs them through `save_blobs`, small blobs in batches (one zstd call and one GIL hand-over per
batch); a bounded number of batches is in flight, so memory stays flat for any file size. Packs,
then the index (`flush`), then the snapshot are written, so a crash leaves only unreferenced packs
(restic's ordering).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import stat
import sys
import threading
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from mamori.vault.backend import FileType
from mamori.vault.chunker import Chunker
from mamori.vault.errors import InvalidArgumentError, VaultError
from mamori.vault.fsmeta import node_from_stat
from mamori.vault.gojson import GoTime, go_unquote
from mamori.vault.model import MODE_DIR, Node, Snapshot, tree_bytes
from mamori.vault.pack import BlobType
from mamori.vault.pathfilter import PathFilter

PROGRAM_VERSION = "mamori 0.1.0"
DEEP_RECURSION_LIMIT = 20_000
_O_NOATIME = getattr(os, "O_NOATIME", 0)


class BlobRepository(Protocol):
    """What the archiver needs from a repository (narrow, so tests can pass fakes)."""

    def has_blob(self, blob_type: BlobType, blob_id: bytes) -> bool: ...
    def save_blobs(self, items: Sequence[tuple[BlobType, bytes, bytes]]) -> int: ...  # bytes stored
    def load_blob(self, blob_type: BlobType, blob_id: bytes) -> bytes: ...
    def flush(self) -> None: ...
    def save_unpacked(self, file_type: FileType, data: bytes) -> str: ...


class BackupAbortedError(VaultError):
    """`on_error` asked to stop; carries the error that caused it (nothing was saved as a snapshot)."""

    def __init__(self, path: str, error: BaseException) -> None:
        super().__init__(f"backup aborted at {path}: {_describe(error)}; no snapshot was saved")
        self.path = path
        self.error = error


@dataclass
class ArchiveOptions:
    """What to back up and how (the API and CLI fill this)."""

    paths: Sequence[str]
    hostname: str
    username: str = ""
    tags: Sequence[str] = ()
    excludes: Sequence[str] = ()
    one_file_system: bool = False
    parent: Snapshot | None = None
    parent_id: bytes | None = None
    time: GoTime | None = None
    workers: int = 0


@dataclass
class ArchiveStats:
    """Counters a backup reports (restic's summary)."""

    files_new: int = 0
    files_changed: int = 0
    files_unmodified: int = 0
    dirs: int = 0
    bytes_processed: int = 0
    blobs_added: int = 0
    bytes_added: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


ProgressFn = Callable[[ArchiveStats, str | None], None]
ErrorFn = Callable[[str, Exception], bool]


class Archiver:
    """Backs up files into a repository; not reusable across backups."""

    def __init__(
        self,
        repo: BlobRepository,
        *,
        on_error: ErrorFn | None = None,
        progress: ProgressFn | None = None,
        workers: int = 0,
    ) -> None:
        self.repo = repo
        self.on_error = on_error
        self.progress = progress
        self.stats = ArchiveStats()
        self._chunker = Chunker()
        # one more worker than CPUs: a worker blocked writing (fsync) a full pack leaves the CPUs busy
        self._workers = workers or (os.cpu_count() or 2) + 1
        self._pool = _SavePool(repo, self._workers, self._workers + 2)
        self._batch: list[tuple[BlobType, bytes, bytes]] = []
        self._batch_bytes = 0
        self._pending: set[bytes] = set()
        self._hardlinks: dict[tuple[int, int], tuple[int, int, list[bytes]]] = {}
        self._excludes = PathFilter(())
        self._root_dev: int | None = None
        self._one_fs = False
        self._last_progress = 0.0

    # -- errors and progress ------------------------------------------------

    def _error(self, path: str, exc: Exception) -> None:
        self.stats.errors.append((path, _describe(exc)))
        if self.on_error is not None and not self.on_error(path, exc):
            raise BackupAbortedError(path, exc) from exc

    def _report(self, current: bytes | str | None, force: bool = False) -> None:
        if self.progress is None:
            return
        now = _time.monotonic()
        if force or now - self._last_progress >= 0.2:
            self._last_progress = now
            self.progress(self.stats, os.fsdecode(current) if isinstance(current, bytes) else current)

    # -- saving blobs -------------------------------------------------------

    def _submit(self, blob_type: BlobType, data: bytes, blob_id: bytes) -> None:
        """Queue a new blob for the workers (compress, encrypt, pack), in batches of small blobs."""
        self._pending.add(blob_id)
        self.stats.blobs_added += 1
        self._batch.append((blob_type, data, blob_id))
        self._batch_bytes += len(data)
        if self._batch_bytes >= _BATCH_BYTES or len(self._batch) >= _BATCH_BLOBS:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batch:
            batch, self._batch, self._batch_bytes = self._batch, [], 0
            self._pool.submit(batch)

    def _save_data(self, blob_id: bytes, chunk: memoryview) -> None:
        """Queue a chunk unless it is already stored or queued."""
        if blob_id in self._pending or self.repo.has_blob(BlobType.DATA, blob_id):
            return
        whole = chunk.obj  # a small file's chunk is a whole bytes object already: no copy
        data = whole if isinstance(whole, bytes) and len(whole) == chunk.nbytes else bytes(chunk)
        self._submit(BlobType.DATA, data, blob_id)

    def _save_tree(self, nodes: list[Node]) -> bytes:
        """Serialise a directory's tree and queue it unless it is already stored; returns its id."""
        data = tree_bytes(nodes)
        blob_id = hashlib.sha256(data).digest()
        if blob_id not in self._pending and not self.repo.has_blob(BlobType.TREE, blob_id):
            self._submit(BlobType.TREE, data, blob_id)
        return blob_id

    def _drain(self) -> None:
        self._flush_batch()
        self._pool.drain()

    def _finish(self) -> None:
        """Wait for the workers, write the last packs and the index, and count what was stored."""
        self._drain()
        self.repo.flush()
        self.stats.bytes_added = sum(self._pool.stored)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.close()

    # -- files --------------------------------------------------------------

    def _read_content(self, path: bytes, node: Node) -> list[bytes] | None:
        """Chunk and store a file; None (after reporting) if it cannot be read."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | _O_NOATIME)
        except PermissionError:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError as exc:
                self._error(os.fsdecode(path), exc)
                return None
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            return None
        content: list[bytes] = []
        total = 0
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{os.fsdecode(path)} is no longer a regular file")
            for chunk in self._chunker.chunks(_as_binary(_FdReader(fd)), node.size):
                blob_id = hashlib.sha256(chunk).digest()
                self._save_data(blob_id, chunk)
                content.append(blob_id)
                total += len(chunk)
                self.stats.bytes_processed += len(chunk)
                self._report(path)  # decoded only when a progress report is due
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            return None
        finally:
            os.close(fd)
        node.size = total
        return content

    def _file_node(self, node: Node, path: bytes, st: os.stat_result, old: _Old | None) -> Node | None:
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in self._hardlinks:
            size, mtime_ns, content = self._hardlinks[key]
            if size == st.st_size and mtime_ns == st.st_mtime_ns:
                node.content = content
                node.size = size
                self.stats.files_unmodified += 1
                return node
        old_content = _unchanged_content(old, node) if old is not None else None
        if old_content is not None and all(self.repo.has_blob(BlobType.DATA, b) for b in old_content):
            node.content = old_content
            self.stats.files_unmodified += 1
            self.stats.bytes_processed += st.st_size
        else:
            read = self._read_content(path, node)
            if read is None:
                return None
            node.content = read
            if old is None:
                self.stats.files_new += 1
            else:
                self.stats.files_changed += 1
        if st.st_nlink > 1 and node.content is not None:
            self._hardlinks[key] = (node.size, st.st_mtime_ns, node.content)
        return node

    # -- directories --------------------------------------------------------

    def _load_old(self, subtree: bytes | None) -> dict[bytes, _Old]:
        """The parent's entries of a directory, as raw JSON objects (only a few fields are compared)."""
        if subtree is None:
            return {}
        try:
            doc = json.loads(self.repo.load_blob(BlobType.TREE, subtree))
            return {go_unquote(n["name"]): n for n in doc.get("nodes") or []}
        except (VaultError, ValueError, KeyError, TypeError, AttributeError):
            return {}  # a damaged parent tree only costs re-reading the files

    def _entry(self, name: bytes, path: bytes, snap_path: str, old: _Old | None) -> Node | None:
        """The node for one directory entry (recursing into directories), None if skipped."""
        try:
            st = os.lstat(path)
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            return None
        try:
            node = node_from_stat(name, path, st)
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            return None
        if node.type == "dir":
            if self._one_fs and st.st_dev != self._root_dev:
                node.subtree = self._save_tree([])
            else:
                node.subtree = self._directory(path, snap_path, _old_subtree(old))
            self.stats.dirs += 1
            return node
        if node.type == "file":
            return self._file_node(node, path, st, old)
        return node

    def _directory(self, path: bytes, snap_path: str, old_subtree: bytes | None) -> bytes:
        """Back up a directory's children and save its tree blob; returns the tree id."""
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            names = []
        old = self._load_old(old_subtree)
        nodes: list[Node] = []
        for name in names:
            child_snap = snap_path.rstrip("/") + "/" + os.fsdecode(name)
            if self._excludes and self._excludes.matches(child_snap):
                continue
            node = self._entry(name, os.path.join(path, name), child_snap, old.get(name))
            if node is not None:
                nodes.append(node)
        return self._save_tree(nodes)

    # -- the snapshot -------------------------------------------------------

    def run(self, opts: ArchiveOptions) -> tuple[Snapshot, bytes]:
        """Back up `opts.paths`; returns the snapshot written and its id."""
        _allow_deep_trees()
        self._excludes = PathFilter(opts.excludes)
        self._one_fs = opts.one_file_system
        paths = []
        for path in (os.path.abspath(p) for p in opts.paths):
            try:
                os.lstat(path)
            except OSError as exc:
                self._error(path, exc)
                continue
            paths.append(path)
        if not paths:
            self.close()
            raise InvalidArgumentError("none of the paths to back up exists: nothing was saved")
        parent_root = opts.parent.tree if opts.parent is not None else None
        try:
            root = self._virtual_tree(_TreeSpec.build(paths), b"/", "/", parent_root)
            self._finish()
        finally:
            self.close()
        snapshot = Snapshot(
            time=opts.time or GoTime.local(_time.time_ns()),
            tree=root,
            paths=paths,
            hostname=opts.hostname,
            username=opts.username,
            uid=os.getuid(),
            gid=os.getgid(),
            parent=opts.parent_id,
            excludes=list(opts.excludes),
            tags=list(opts.tags),
            program_version=PROGRAM_VERSION,
        )
        snap_id = self.repo.save_unpacked(FileType.SNAPSHOT, snapshot.to_json())
        self._report(None, force=True)
        return snapshot, bytes.fromhex(snap_id)

    def _virtual_tree(self, spec: _TreeSpec, path: bytes, snap_path: str, old_subtree: bytes | None) -> bytes:
        """Trees for the directories leading to the backed-up paths (restic's pathComponents)."""
        old = self._load_old(old_subtree)
        nodes: list[Node] = []
        for name, child in sorted(spec.children.items()):
            child_path = os.path.join(path, name)
            child_snap = snap_path.rstrip("/") + "/" + os.fsdecode(name)
            prev = old.get(name)
            if child.target:
                try:
                    self._root_dev = os.lstat(child_path).st_dev
                except OSError as exc:
                    self._error(os.fsdecode(child_path), exc)
                    continue
                node = self._entry(name, child_path, child_snap, prev)
            else:
                try:
                    st = os.lstat(child_path)
                    node = node_from_stat(name, child_path, st)
                except OSError as exc:
                    self._error(os.fsdecode(child_path), exc)
                    continue
                node.type, node.mode = "dir", MODE_DIR | (node.mode & 0o7777)
                node.subtree = self._virtual_tree(child, child_path, child_snap, _old_subtree(prev))
            if node is not None:
                nodes.append(node)
        return self._save_tree(nodes)

    def run_stream(self, stream: BinaryIO, filename: str, opts: ArchiveOptions) -> tuple[Snapshot, bytes]:
        """Back up one stream (stdin) as a file `filename` under the root."""
        now = GoTime.local(_time.time_ns())
        node = Node(
            name=os.fsencode(filename),
            type="file",
            mode=0o644,
            mtime=now,
            atime=now,
            ctime=now,
            uid=os.getuid(),
            gid=os.getgid(),
        )
        try:
            content: list[bytes] = []
            for chunk in self._chunker.chunks(stream):
                blob_id = hashlib.sha256(chunk).digest()
                self._save_data(blob_id, chunk)
                content.append(blob_id)
                node.size += len(chunk)
                self.stats.bytes_processed += len(chunk)
                self._report(filename)
            node.content = content
            self.stats.files_new += 1
            root = self._save_tree([node])
            self._finish()
        finally:
            self.close()
        snapshot = Snapshot(
            time=opts.time or now,
            tree=root,
            paths=["/" + filename.lstrip("/")],
            hostname=opts.hostname,
            username=opts.username,
            uid=os.getuid(),
            gid=os.getgid(),
            parent=opts.parent_id,
            tags=list(opts.tags),
            program_version=PROGRAM_VERSION,
        )
        snap_id = self.repo.save_unpacked(FileType.SNAPSHOT, snapshot.to_json())
        return snapshot, bytes.fromhex(snap_id)


# Small blobs (office files, trees) travel to the workers in batches: one hand-over per batch
# instead of per blob keeps thread switching (futex calls) from costing more than the work.
_BATCH_BYTES = 512 * 1024
_BATCH_BLOBS = 64


class _SavePool:
    """Worker threads that save batches of blobs; at most `slots` batches are queued or in work,
    so memory stays flat. The first failure stops the work and is raised to the walker."""

    def __init__(self, repo: BlobRepository, workers: int, slots: int) -> None:
        self.repo = repo
        self.failure: BaseException | None = None
        self.stored: list[int] = []  # bytes stored per batch (list.append is atomic across threads)
        self._tasks: queue.SimpleQueue[list[tuple[BlobType, bytes, bytes]] | None] = queue.SimpleQueue()
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._slots = slots
        for _ in range(slots):
            self._tokens.put(None)
        self._threads = [
            threading.Thread(target=self._work, name=f"vault-save-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            batch = self._tasks.get()
            if batch is None:
                return
            try:
                if self.failure is None:
                    self.stored.append(self.repo.save_blobs(batch))
            except BaseException as exc:  # handed to the walker thread, which raises it
                self.failure = exc
            finally:
                self._tokens.put(None)

    def submit(self, batch: list[tuple[BlobType, bytes, bytes]]) -> None:
        """Queue a batch; blocks while all slots are taken."""
        if self.failure is not None:
            raise self.failure
        self._tokens.get()
        self._tasks.put(batch)

    def drain(self) -> None:
        """Wait until every queued batch is saved; raise the first failure."""
        for _ in range(self._slots):
            self._tokens.get()
        for _ in range(self._slots):
            self._tokens.put(None)
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        """Let the workers finish what is queued and stop."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()


_Old = dict[str, Any]
"""A parent snapshot's node as decoded JSON."""


def _old_subtree(old: _Old | None) -> bytes | None:
    if old is None or old.get("type") != "dir" or not old.get("subtree"):
        return None
    try:
        return bytes.fromhex(old["subtree"])
    except (TypeError, ValueError):
        return None


def _unchanged_content(old: _Old, node: Node) -> list[bytes] | None:
    """The parent's content ids if the file is unchanged (type, size, inode, mtime, ctime), else None.

    Times are compared as restic writes them; a parent written in another time zone only costs a re-read.
    """
    content = old.get("content")
    if (
        old.get("type") != "file"
        or not isinstance(content, list)
        or old.get("size", 0) != node.size
        or old.get("inode", 0) != node.inode
        or old.get("mtime") != node.mtime.format()
        or old.get("ctime") != node.ctime.format()
    ):
        return None
    try:
        return [bytes.fromhex(c) for c in content]
    except (TypeError, ValueError):
        return None


@dataclass
class _TreeSpec:
    """The directories between `/` and the backed-up paths."""

    target: bool = False
    children: dict[bytes, _TreeSpec] = field(default_factory=dict)

    @classmethod
    def build(cls, paths: Sequence[str]) -> _TreeSpec:
        root = cls()
        for path in paths:
            node = root
            for part in os.fsencode(path).split(b"/"):
                if part:
                    node = node.children.setdefault(part, cls())
            node.target = True
        return root


def _allow_deep_trees() -> None:
    """Directory trees are walked recursively (three frames a level): allow thousands of levels."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), DEEP_RECURSION_LIMIT))


class _FdReader:
    """The two reads the chunker needs, straight on a file descriptor: a file object would cost
    another fstat and its own buffering for every small file."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self, size: int) -> bytes:
        return os.read(self.fd, size)

    def readinto(self, buffer: memoryview) -> int:
        return os.readv(self.fd, (buffer,))


def _as_binary(f: object) -> BinaryIO:
    return f  # type: ignore[return-value]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)
