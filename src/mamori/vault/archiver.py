"""The backup pipeline: walk → compare with the parent snapshot → read → chunk → hash → dedupe → save.

The walker lists directories and hands their files, a few dozen at a time, to worker processes
(`filework`): each stats, compares with the parent snapshot, reads, hashes, compresses and seals
the small files and returns their tree nodes as JSON, so per-file Python work runs on every core.
A directory's tree is written when its files' results and its subdirectories' trees have all
arrived (restic's order: a tree after everything it names). Files larger than a chunk, hard links
and anything else the workers hand back are backed up by the walker itself: it reads them with
large sequential reads, cuts them with FastCDC and hashes each chunk (both release the GIL); new
chunks and the trees go to a small thread pool that compresses, encrypts and packs them through
`save_blobs`, small blobs in batches. A bounded number of jobs and batches is in flight, so memory
stays flat for any file size. Packs, then the index (`flush`), then the snapshot are written, so a
crash leaves only unreferenced packs (restic's ordering).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from mamori.vault.backend import FileType
from mamori.vault.chunker import Chunker
from mamori.vault.errors import InvalidArgumentError, VaultError
from mamori.vault.filework import (
    DESCEND_ENTRIES,
    JOB_FILES,
    LARGE_JOB,
    DirPart,
    FileWorkers,
    Named,
    OldFile,
    Part,
    Todo,
    old_entries,
    open_noatime,
    parent_subtree,
    scan,
    scan_dir,
    scan_subdirs,
)
from mamori.vault.fsmeta import node_from_stat
from mamori.vault.gojson import GoTime
from mamori.vault.model import (
    MODE_DIR,
    MODE_PERM,
    MODE_SETGID,
    MODE_SETUID,
    MODE_STICKY,
    Node,
    Snapshot,
    tree_bytes,
    tree_bytes_of,
)
from mamori.vault.pack import BlobType, PackedBlob, SealedRun
from mamori.vault.pathfilter import PathFilter
from mamori.vault.savepool import BATCH_BLOBS, BATCH_BYTES, SavePool

# what an ancestor directory keeps of its own mode: permissions and setuid/setgid/sticky (Go bits)
KEPT_BITS = MODE_PERM | MODE_SETUID | MODE_SETGID | MODE_STICKY

PROGRAM_VERSION = "mamori 0.1.0"
DEEP_RECURSION_LIMIT = 20_000
# The most subdirectories a job's budget left that go out again in one job (`_subdirs_left`).
SUBDIRS_PER_JOB = 32


class BlobRepository(Protocol):
    """What the archiver needs from a repository (narrow, so tests can pass fakes)."""

    def has_blob(self, blob_type: BlobType, blob_id: bytes) -> bool: ...
    def save_blobs(self, items: Sequence[tuple[BlobType, bytes, bytes]]) -> int: ...  # bytes stored
    def seal_run(self, ids: list[bytes], items: Sequence[bytes]) -> SealedRun: ...
    def save_run(self, blob_type: BlobType, run: SealedRun) -> tuple[int, int]: ...
    def load_blob(self, blob_type: BlobType, blob_id: bytes) -> bytes: ...
    def lookup_blob(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None: ...
    def decode_blob(
        self, pack_id: str, blob: PackedBlob, sealed: bytes | bytearray | memoryview
    ) -> bytes: ...
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
ReadPack = Callable[[str, int, int], bytes]
"""(pack id, offset, length) -> the bytes there."""
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
        processes: int | None = None,
        trees_in_workers: bool = False,
        descend: int = DESCEND_ENTRIES,
        read_pack: ReadPack | None = None,
    ) -> None:
        self.repo = repo
        self.on_error = on_error
        self.progress = progress
        self.stats = ArchiveStats()
        self._cdc: Chunker | None = None  # its 9 MiB buffer only when a large file is read
        # one more worker than CPUs: a worker blocked writing (fsync) a full pack leaves the CPUs busy
        self._workers = workers or (os.cpu_count() or 2) + 1
        self._processes = (os.cpu_count() or 2) if processes is None else processes
        self._files: FileWorkers | None = None
        # the worker processes read the parent's trees themselves (their copy of the repository
        # reads a local directory after the fork; a network connection would not survive it)
        self._trees_in_workers = trees_in_workers
        # and read those trees straight from the pack files (`OpenPacks`), not through the backend
        self._read_pack = read_pack
        # and then also back up the subfolders of a folder in its job (see `_descend_budget`)
        self._descend = descend
        # jobs not yet handed to a worker, last in first out (a depth-first walk keeps few folders open)
        # (large: see FileWorkers.has_room; None for a directory whose parent tree this process
        # loads when its turn comes)
        self._outbox: list[tuple[_Dir, tuple[Any, ...], bool | None]] = []
        self._pool: SavePool | None = None
        self._batch: list[tuple[BlobType, bytes, bytes]] = []
        self._batch_bytes = 0
        # blobs queued, by type: a file may hold a tree's bytes
        self._pending: dict[BlobType, set[bytes]] = {t: set() for t in BlobType}
        self._hardlinks: dict[tuple[int, int], tuple[int, int, list[bytes]]] = {}
        self._excludes = PathFilter(())
        self._exclude_patterns: list[str] = []
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
        self._pending[blob_type].add(blob_id)
        self.stats.blobs_added += 1
        self._batch.append((blob_type, data, blob_id))
        self._batch_bytes += len(data)
        if self._batch_bytes >= BATCH_BYTES or len(self._batch) >= BATCH_BLOBS:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batch:
            batch, self._batch, self._batch_bytes = self._batch, [], 0
            self._save_pool().submit(batch)

    def _chunker(self) -> Chunker:
        if self._cdc is None:
            self._cdc = Chunker()
        return self._cdc

    def _save_pool(self) -> SavePool:
        if self._pool is None:
            self._pool = SavePool(self.repo, self._workers, self._workers + 2)
        return self._pool

    def _save_data(self, blob_id: bytes, chunk: memoryview) -> None:
        """Queue a chunk unless it is already stored or queued."""
        if blob_id in self._pending[BlobType.DATA] or self.repo.has_blob(BlobType.DATA, blob_id):
            return
        whole = chunk.obj  # a small file's chunk is a whole bytes object already: no copy
        data = whole if isinstance(whole, bytes) and len(whole) == chunk.nbytes else bytes(chunk)
        self._submit(BlobType.DATA, data, blob_id)

    def _save_tree(self, nodes: list[Node]) -> bytes:
        """Serialise a directory's tree and queue it unless it is already stored; returns its id."""
        data = tree_bytes(nodes)
        blob_id = hashlib.sha256(data).digest()
        if blob_id not in self._pending[BlobType.TREE] and not self.repo.has_blob(BlobType.TREE, blob_id):
            self._submit(BlobType.TREE, data, blob_id)
        return blob_id

    def _save_tree_of(self, entries: list[tuple[bytes, Node | str]]) -> bytes:
        data = tree_bytes_of(entries)
        blob_id = hashlib.sha256(data).digest()
        self._save_tree_bytes(data, blob_id)
        return blob_id

    def _save_tree_bytes(self, data: bytes, blob_id: bytes) -> None:
        if blob_id not in self._pending[BlobType.TREE] and not self.repo.has_blob(BlobType.TREE, blob_id):
            self._submit(BlobType.TREE, data, blob_id)

    def _finish(self) -> None:
        """Wait for the workers, write the last packs and the index, and count what was stored."""
        self._pump()
        self._flush_batch()
        pool = self._save_pool()
        pool.drain()
        self.repo.flush()
        self.stats.blobs_added += sum(blobs for blobs, _size in pool.sealed)
        self.stats.bytes_added = sum(pool.stored) + sum(size for _blobs, size in pool.sealed)

    def close(self) -> None:
        """Stop the worker processes and threads."""
        try:
            if self._files is not None:
                self._files.close()
        finally:
            if self._pool is not None:
                self._pool.close()

    # -- files --------------------------------------------------------------

    def _read_content(self, path: bytes, node: Node) -> list[bytes] | None:
        """Chunk and store a file; None (after reporting) if it cannot be read."""
        try:
            fd = open_noatime(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            return None
        content: list[bytes] = []
        total = 0
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{os.fsdecode(path)} is no longer a regular file")
            for chunk in self._chunker().chunks(_as_binary(_FdReader(fd)), node.size):
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

    def _file_node(self, node: Node, path: bytes, st: os.stat_result, old: OldFile | None) -> Node | None:
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

    def _load_old(self, subtree: bytes | None) -> bytes | None:
        """The parent's tree of a directory, as plaintext JSON (the worker that lists it decodes it).

        Called in the worker itself when `trees_in_workers`: every tree of the parent snapshot is
        in the index the worker was forked with."""
        if subtree is None:
            return None
        try:
            read = self._read_pack
            found = self.repo.lookup_blob(BlobType.TREE, subtree) if read is not None else None
            if read is None or found is None:
                return self.repo.load_blob(BlobType.TREE, subtree)
            pack_id, blob = found
            return self.repo.decode_blob(pack_id, blob, read(pack_id, blob.offset, blob.length))
        except VaultError:
            return None  # a damaged parent tree only costs re-reading the files

    def _walk(
        self, path: bytes, snap_path: str, old_subtree: bytes | None, root_dev: int | None, done: _Done
    ) -> None:
        """Back up a directory: a worker lists it and backs up its files (`scan_dir`), its
        subdirectories are walked in turn; `done(tree id)` is called once everything in it has arrived."""
        here = _Dir(path, snap_path, {}, done, root_dev)
        job = ("dir", path, snap_path, old_subtree, root_dev if self._one_fs else None)
        self._outbox.append((here, job, False if self._trees_in_workers else None))

    def _work(self, job: tuple[Any, ...]) -> Part | DirPart:
        """What a worker does with a job (in the worker process)."""
        if job[0] == "dir":
            skip = self._excludes.matches if self._excludes else None
            _kind, path, snap_path, old, root_dev, descend = job
            if not self._trees_in_workers:
                return scan_dir(self.repo, skip, path, snap_path, old)
            plain = self._load_old(old)
            return scan_dir(self.repo, skip, path, snap_path, plain, self._load_old, root_dev, descend)
        if job[0] == "subdirs":
            skip = self._excludes.matches if self._excludes else None
            _kind, path, snap_path, subdirs, root_dev, descend = job
            return scan_subdirs(self.repo, skip, path, snap_path, subdirs, self._load_old, root_dev, descend)
        return scan(self.repo, *job[1:])

    def _send(self, here: _Dir, items: list[Todo]) -> None:
        """Queue a job of files of `here`; the directory waits for it."""
        for start in range(0, len(items), JOB_FILES):
            here.waiting += 1
            self._outbox.append((here, ("files", here.path, items[start : start + JOB_FILES]), False))

    def _pump(self) -> None:
        """Hand out queued jobs and take in results until nothing is left to do."""
        files = self._files
        if files is None:
            return
        outbox = self._outbox
        while outbox or files.busy:
            while outbox:
                here, job, large = outbox[-1]
                if large is None:  # the parent's tree is loaded on its turn: few are held at once
                    old_tree = self._load_old(job[3])
                    large = old_tree is not None and len(old_tree) > LARGE_JOB
                    job = (*job[:3], old_tree, *job[4:])
                    outbox[-1] = (here, job, large)
                if not files.has_room(large):
                    break
                outbox.pop()
                if job[0] != "files":
                    job = (*job, self._descend_budget())
                files.submit(job, (here, job[0]), large)
            if files.busy:
                self._take(*files.next_result())

    def _take(self, token: tuple[_Dir, str], result: Any) -> None:
        """A worker's result (in its own frame: not held while the next one is awaited)."""
        here, kind = token
        if kind != "files":
            self._dir_received(here, result)
        else:
            self._received(here, result)

    def _descend_budget(self) -> int:
        """How many entries a folder's job may back up below it: the full budget while enough jobs
        wait to keep every worker busy, a small one otherwise (at the start, or when the walk runs
        thin), so the subfolders come back soon to be shared out."""
        if len(self._outbox) >= self._processes:
            return self._descend
        return max(1, self._descend // 16)

    def _dir_received(self, here: _Dir, result: DirPart) -> None:
        """A directory job's result: its subdirectories are walked, its files' part taken in."""
        part, subdirs, tree, nested, trees = result
        for sub_id, sub_data in trees:  # finished subdirectories', each after the trees it names
            self._save_tree_bytes(sub_data, sub_id)
        if tree is not None:
            tree_id, data = tree
            if data is not None:
                self._save_tree_bytes(data, tree_id)
            self._received(here, part, tree_id)
            return
        self._subdirs_left(here, subdirs)
        for name, old, sub in nested:
            self._nested_dir(here, name, old, sub)
        self._received(here, part)

    def _subdirs_left(self, here: _Dir, subdirs: list[Named]) -> None:
        """The subdirectories a job left when its budget ran out: handed out again in runs of
        siblings (`scan_subdirs`), enough runs to keep every worker busy. A folder of fifty
        one-file subfolders cost fifty jobs, and each job's round trip cost more than its folder."""
        if not self._trees_in_workers or len(subdirs) < 2:
            for name, old in subdirs:
                self._walker_entry(here, name, old)
            return
        size = min(SUBDIRS_PER_JOB, -(-len(subdirs) // (2 * max(1, self._processes))))
        for start in range(0, len(subdirs), size):
            here.waiting += 1
            dev = here.root_dev if self._one_fs else None
            job = ("subdirs", here.path, here.snap_path, subdirs[start : start + size], dev)
            self._outbox.append((here, job, False))

    def _nested_dir(self, here: _Dir, name: bytes, old: OldFile | None, result: DirPart) -> None:
        """A subdirectory the worker began and left unfinished: taken on as if its own job came back."""
        path = os.path.join(here.path, name)
        found = self._node_at(name, path)
        if found is None:
            return
        _st, node = found
        if node.type != "dir":  # replaced since the worker listed it
            self._walker_entry(here, name, old)
            return
        self.stats.dirs += 1
        here.entries.append((name, node))
        child = _Dir(path, here.child_snap(name), {}, self._subtree_of(here, node), here.root_dev)
        self._dir_received(child, result)

    def _received(self, here: _Dir, part: Part, tree_id: bytes | None = None) -> None:
        """A job's result: store its sealed blobs, add its nodes, back up what it handed back."""
        entries, walker, again, errors, runs, (new, changed, unmodified, processed, dirs) = part
        if runs:
            queued = self._pending[BlobType.DATA]  # the walker's own chunks: each blob is counted once
            if queued:
                runs = [
                    r if queued.isdisjoint(r.ids) else r.keep([i not in queued for i in r.ids]) for r in runs
                ]
            self._save_pool().submit_runs(runs)
        self.stats.files_new += new
        self.stats.files_changed += changed
        self.stats.files_unmodified += unmodified
        self.stats.bytes_processed += processed
        self.stats.dirs += dirs
        for path, exc in errors:
            self._error(os.fsdecode(path), exc)
        here.entries += entries
        for name, old in walker:
            self._walker_entry(here, name, old)
        if again:
            self._send(here, again)
        self._report(here.path)
        if tree_id is not None:  # the worker wrote the tree: nothing else can be in it
            here.waiting = 0
            here.entries = []
            here.done(tree_id)
            return
        self._release(here)

    def _node_at(self, name: bytes, path: bytes) -> tuple[os.stat_result, Node] | None:
        """lstat and the node for `path`; None (after reporting) if it cannot be read."""
        try:
            st = os.lstat(path)
            return st, node_from_stat(name, path, st)
        except OSError as exc:
            self._error(os.fsdecode(path), exc)
            return None

    def _walker_entry(self, here: _Dir, name: bytes, old: OldFile | None, target: bool = False) -> None:
        """One entry the walker backs up itself: a directory (walked) or what the workers hand back."""
        path = os.path.join(here.path, name)
        found = self._node_at(name, path)
        if found is None:
            return
        st, node = found
        if node.type == "dir":
            self.stats.dirs += 1
            here.entries.append((name, node))
            root_dev = st.st_dev if target else here.root_dev
            if self._one_fs and root_dev is not None and st.st_dev != root_dev:
                node.subtree = self._save_tree([])
                return
            self._walk(
                path, here.child_snap(name), parent_subtree(old), root_dev, self._subtree_of(here, node)
            )
        elif node.type == "file":
            if self._file_node(node, path, st, old) is not None:
                here.entries.append((name, node))
        else:
            here.entries.append((name, node))

    def _subtree_of(self, here: _Dir, node: Node) -> _Done:
        """What a subdirectory's walk calls with its tree id: `here` waits for it until then."""
        here.waiting += 1

        def done(tree_id: bytes) -> None:
            node.subtree = tree_id
            self._release(here)

        return done

    def _release(self, here: _Dir) -> None:
        """One thing a directory waited for has arrived; the last one writes its tree."""
        here.waiting -= 1
        if here.waiting == 0:
            tree_id = self._save_tree_of(here.entries)
            here.entries = []
            here.done(tree_id)

    # -- the snapshot -------------------------------------------------------

    def start(self, excludes: Sequence[str] = ()) -> None:
        """Fork the worker processes, which leave out `excludes` (once): before this process starts
        threads of its own, so no lock a thread holds is copied into them held."""
        if self._files is None:
            self._excludes = PathFilter(excludes)
            self._exclude_patterns = list(excludes)
            self._files = FileWorkers(self._work, self._processes)
        elif list(excludes) != self._exclude_patterns:
            raise InvalidArgumentError("the backup's workers were started with other excludes")

    def run(self, opts: ArchiveOptions) -> tuple[Snapshot, bytes]:
        """Back up `opts.paths`; returns the snapshot written and its id."""
        _allow_deep_trees()
        self._one_fs = opts.one_file_system
        parent_root = opts.parent.tree if opts.parent is not None else None
        try:
            paths = []
            for path in (os.path.abspath(p) for p in opts.paths):
                try:
                    os.lstat(path)
                except OSError as exc:
                    self._error(path, exc)
                    continue
                paths.append(path)
            if not paths:
                raise InvalidArgumentError("none of the paths to back up exists: nothing was saved")
            self.start(opts.excludes)
            root: list[bytes] = []
            self._virtual_tree(_TreeSpec.build(paths), b"/", "/", parent_root, root.append)
            self._finish()
        finally:
            self.close()
        snapshot = Snapshot(
            time=opts.time or GoTime.local(_time.time_ns()),
            tree=root[0],
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

    def _virtual_tree(
        self,
        spec: _TreeSpec,
        path: bytes,
        snap_path: str,
        old_subtree: bytes | None,
        done: _Done,
    ) -> None:
        """Trees for the directories leading to the backed-up paths (restic's pathComponents)."""
        here = _Dir(path, snap_path, old_entries(self._load_old(old_subtree)), done, None)
        for name, child in sorted(spec.children.items()):
            if child.target:
                self._walker_entry(here, name, here.old.get(name), target=True)
                continue
            child_path = os.path.join(path, name)
            found = self._node_at(name, child_path)
            if found is None:
                continue
            node = found[1]
            node.type, node.mode = "dir", MODE_DIR | (node.mode & KEPT_BITS)
            here.entries.append((name, node))
            self._virtual_tree(
                child,
                child_path,
                here.child_snap(name),
                parent_subtree(here.old.get(name)),
                self._subtree_of(here, node),
            )
        self._release(here)

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
            for chunk in self._chunker().chunks(stream):
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


_Done = Callable[[bytes], None]


class _Dir:
    """A directory being backed up: its entries so far and how many results it still waits for
    (jobs, subdirectories, and the walk itself until it has listed everything). `old` is the
    parent's tree only for the directories above the backed-up paths (workers decode the others)."""

    __slots__ = ("done", "entries", "old", "path", "root_dev", "snap_path", "waiting")

    def __init__(
        self, path: bytes, snap_path: str, old: dict[bytes, OldFile | None], done: _Done, root_dev: int | None
    ) -> None:
        self.path = path
        self.snap_path = snap_path
        self.old = old
        self.done = done
        self.root_dev = root_dev
        self.entries: list[tuple[bytes, Node | str]] = []
        self.waiting = 1

    def child_snap(self, name: bytes) -> str:
        return self.snap_path.rstrip("/") + "/" + os.fsdecode(name)


def _unchanged_content(old: OldFile, node: Node) -> list[bytes] | None:
    """The parent's content ids if the file is unchanged (type, size, inode, mtime, ctime), else None.

    Times are compared as restic writes them; a parent written in another time zone only costs a re-read.
    """
    kind, size, inode, mtime, ctime, content, _subtree = old
    if (
        kind != "file"
        or content is None
        or size != node.size
        or inode != node.inode
        or mtime != node.mtime.format()
        or ctime != node.ctime.format()
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
