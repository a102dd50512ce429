"""A backup's per-file work in worker processes: list, stat, compare with the parent, read, hash, seal.

Python holds the GIL for the small steps of each file (a stat, a node, a lookup, a JSON line), so a
backup of many small files kept one core busy however many threads it had. The walker hands each
directory to forked worker processes as a job (`scan_dir`: its path and the parent snapshot's tree
of it, as plaintext JSON, which the worker loads itself from a local repository); a worker lists
it, decodes the parent's tree, backs up its small files
and returns each file's tree-node JSON and the new blobs already compressed and encrypted
(`seal_run` on its copy of the repository, which knows the key and, as of the fork, the index).
A directory without subdirectories, done in one job, comes back as its finished tree (and just its
id when that tree is stored already: an unchanged folder costs the backup process nothing).
Large folders go on in jobs of files (`scan`). The backup process only packs the sealed blobs and
writes packs, index and snapshot, in restic's order, so a worker never writes to the repository
and a killed worker can leave nothing behind. Workers die with the backup process
(PR_SET_PDEATHSIG). Files a worker should not decide alone — larger than one chunk, hard links,
anything that is not a regular file or changed its type — come back as "the walker's" and are
backed up by the walker itself, as before.
"""

from __future__ import annotations

import collections
import ctypes
import fcntl
import gc
import hashlib
import os
import pickle
import select
import signal
import stat
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

from mamori.vault.backend.spool import write_all
from mamori.vault.chunker import MIN_SIZE
from mamori.vault.errors import VaultError
from mamori.vault.fsmeta import dir_node_json, node_from_stat, read_xattrs, small_file_json
from mamori.vault.gojson import GoTime, go_unquote
from mamori.vault.model import tree_bytes_of
from mamori.vault.pack import BlobType, SealedRun

__all__ = [
    "DIR_FILES",
    "JOB_FILES",
    "LARGE_JOB",
    "DirPart",
    "FileWorkers",
    "Named",
    "OldFile",
    "Part",
    "SealingRepository",
    "Todo",
    "WorkerCrashedError",
    "old_entries",
    "open_noatime",
    "scan",
    "scan_dir",
    "scan_subdirs",
]

# A job of files is at most about 128 × 500 bytes (a 255-byte name and the parent's node): a few
# queued for a worker fit its 1 MiB pipe (see `_roomy`).
JOB_FILES = 128
# A directory's job backs up this many of its files; the rest go out again in jobs of JOB_FILES.
DIR_FILES = 1024
# A job's files stop at this many bytes read; the files left are handed back to be sent again.
# 2 MiB: a folder of a few hundred office files (250 of 1-12 KiB are 1.6 MB) is done in one job,
# its tree written by the worker; split in two, its nodes, the files handed back and the tree
# cost the backup process a second round trip (about 7 % of all the CPU on 100,000 such files).
JOB_BYTES = 2 * 1024 * 1024
_O_NOATIME = getattr(os, "O_NOATIME", 0)
# A file the listing called regular is opened before any stat: O_NONBLOCK so that a fifo swapped
# in since then does not block the open (a regular file's reads ignore it), O_NOFOLLOW for a symlink.
_O_LISTED = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_PR_SET_PDEATHSIG = 1
_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1 << 20

OldFile = tuple[str, int, int, str, str, list[str] | None, str | None]
"""The parent snapshot's node of an entry, the fields restic compares: type, size, inode, mtime and
ctime as written, content ids (hex) of a file, subtree id (hex) of a directory."""

Named = tuple[bytes, OldFile | None]
"""A name with the parent's node of it (None: the parent had nothing of that name)."""

Todo = tuple[bytes, OldFile | None, bool]
"""A file for a worker: its name, the parent's node of it and whether the listing said it is a
regular file (d_type; one the parent does not have is then opened without an lstat first)."""

Part = tuple[
    list[tuple[bytes, str]],
    list[Named],
    list[Todo],
    list[tuple[bytes, Exception]],
    list[SealedRun],
    tuple[int, ...],
]
"""A job's result: entries (name, node JSON), entries for the walker, files to send again, errors
(path, exception), sealed data blobs (runs of them), counts (new, changed, unmodified, bytes
processed, directories)."""

# A directory's job also backs up its subdirectories, depth first, until it has met this many
# entries (or sealed JOB_BYTES): a folder of one or two files costs a worker less than the round
# trip through the backup process it took as a job of its own.
DESCEND_ENTRIES = 512

DirPart = tuple[
    Part,
    list[Named],
    tuple[bytes, bytes | None] | None,
    list[tuple[bytes, OldFile | None, "DirPart"]],
    list[tuple[bytes, bytes]],
]
"""A directory job's result: its files' part (with the nodes of the subdirectories it finished,
their sealed blobs and counts), the subdirectories left to the walker, its tree (id, plaintext or
None when stored already) if the worker could finish it alone, the subdirectories it began but
could not finish (name, parent's node, their own result), and the new trees (id, plaintext) of
the subdirectories it finished, each after the trees it names."""


class SealingRepository(Protocol):
    """What a worker needs from its copy of the repository."""

    def has_blob(self, blob_type: BlobType, blob_id: bytes) -> bool: ...
    def seal_run(self, ids: list[bytes], items: Sequence[bytes]) -> SealedRun: ...


class WorkerCrashedError(VaultError):
    """A worker process died or failed unexpectedly (a bug or the system killed it)."""


def _old_file(node: Any) -> OldFile | None:
    """The fields of a parent's decoded JSON node that a backup compares; None if it is no node."""
    if not isinstance(node, dict):
        return None
    content = node.get("content")
    subtree = node.get("subtree")
    return (
        str(node.get("type")),
        node.get("size", 0),
        node.get("inode", 0),
        node.get("mtime", ""),
        node.get("ctime", ""),
        content if isinstance(content, list) else None,
        subtree if isinstance(subtree, str) else None,
    )


def old_nodes(plain: bytes | None) -> dict[bytes, Any]:
    """The parent's tree plaintext as name → its decoded node (`_old_file` takes the fields a
    backup compares from it); a damaged tree only costs re-reading.

    orjson: a worker decodes the parent's tree of every folder, and `json.loads` with the dict of
    tuples made from it was a tenth of a no-change backup's CPU (4 times the time of orjson's)."""
    if plain is None:
        return {}
    try:
        nodes = orjson.loads(plain).get("nodes") or []
        return {go_unquote(n["name"]): n for n in nodes}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def old_entries(plain: bytes | None) -> dict[bytes, OldFile | None]:
    """The parent's tree plaintext as name → node fields; a damaged tree only costs re-reading."""
    return {name: _old_file(node) for name, node in old_nodes(plain).items()}


def parent_subtree(old: OldFile | None) -> bytes | None:
    """The id of the parent's tree of a directory; None if the parent had no directory there."""
    if old is None or old[0] != "dir" or not old[6]:
        return None
    try:
        return bytes.fromhex(old[6])
    except (TypeError, ValueError):
        return None


class _Job:
    """What every folder of one job shares: the repository, the excludes, the parent's trees, the
    device (`--one-file-system`) and the budget left — entries to meet and bytes to seal."""

    __slots__ = ("entries", "load_tree", "repo", "root_dev", "sealed", "skip")

    def __init__(
        self,
        repo: SealingRepository,
        skip: Callable[[str], bool] | None,
        load_tree: Callable[[bytes | None], bytes | None] | None,
        root_dev: int | None,
        entries: int,
    ) -> None:
        self.repo = repo
        self.skip = skip
        self.load_tree = load_tree
        self.root_dev = root_dev
        self.entries = entries
        self.sealed = JOB_BYTES


class _Found:
    """What a job's folders add up to: nodes, sealed blobs, counts (as in `Part`), the subfolders
    begun and left unfinished, and the new trees of those finished, each after the trees it names."""

    __slots__ = ("blobs", "counts", "entries", "nested", "trees")

    def __init__(
        self, entries: list[tuple[bytes, str]], blobs: list[SealedRun], counts: tuple[int, ...]
    ) -> None:
        self.entries = entries
        self.blobs = blobs
        self.counts = counts
        self.nested: list[tuple[bytes, OldFile | None, DirPart]] = []
        self.trees: list[tuple[bytes, bytes]] = []


def scan_dir(
    repo: SealingRepository,
    skip: Callable[[str], bool] | None,
    directory: bytes,
    snap_path: str,
    old_tree: bytes | None,
    load_tree: Callable[[bytes | None], bytes | None] | None = None,
    root_dev: int | None = None,
    descend: int = DESCEND_ENTRIES,
) -> DirPart:
    """List `directory` and back up its first `DIR_FILES` files (`scan`); `skip(snapshot path)` says
    what the excludes leave out. Its tree comes back finished when nothing in it is left to others.

    With `load_tree` (subtree id → the parent's tree plaintext) the subdirectories are backed up
    in the same job, depth first, until it has met `descend` entries or sealed `JOB_BYTES`; with
    `root_dev` only those on that device (`--one-file-system`: the walker decides the others)."""
    return _scan_dir(_Job(repo, skip, load_tree, root_dev, descend), directory, snap_path, old_tree)


def _scan_dir(job: _Job, directory: bytes, snap_path: str, old_tree: bytes | None) -> DirPart:
    try:
        with os.scandir(directory) as it:
            listing = [
                (e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False)) for e in it
            ]
        listing.sort()
    except OSError as exc:
        return ([], [], [], [(directory, exc)], [], (0, 0, 0, 0, 0)), [], None, [], []
    old = old_nodes(old_tree)
    prefix = snap_path.rstrip("/") + "/"
    subdirs: list[Named] = []
    files: list[Todo] = []
    for name, is_dir, is_file in listing:
        if job.skip is not None and job.skip(prefix + os.fsdecode(name)):
            continue
        if is_dir:
            subdirs.append((name, _old_file(old.get(name))))
        else:
            files.append((name, _old_file(old.get(name)), is_file))
    mine = files[:DIR_FILES]
    entries, walker, again, errors, blobs, counts = scan(job.repo, directory, mine)
    again += files[DIR_FILES:]
    job.entries -= len(mine) + len(subdirs)
    job.sealed -= sum(run.nbytes for run in blobs)
    found = _Found(entries, blobs, counts)
    subdirs = _descend(job, directory, prefix, subdirs, found)
    tree: tuple[bytes, bytes | None] | None = None
    if not (subdirs or found.nested or walker or again or errors):
        data = tree_bytes_of(entries)
        tree_id = hashlib.sha256(data).digest()
        tree = (tree_id, None if job.repo.has_blob(BlobType.TREE, tree_id) else data)
        entries.clear()
    return (entries, walker, again, errors, blobs, found.counts), subdirs, tree, found.nested, found.trees


def scan_subdirs(
    repo: SealingRepository,
    skip: Callable[[str], bool] | None,
    directory: bytes,
    snap_path: str,
    subdirs: list[Named],
    load_tree: Callable[[bytes | None], bytes | None],
    root_dev: int | None = None,
    descend: int = DESCEND_ENTRIES,
) -> DirPart:
    """Back up `subdirs` of `directory`, which a directory's job left when its budget ran out, as
    `scan_dir` backs up a folder's subdirectories: one job for a run of sibling folders of a few
    files each, not a job (and a round trip through the backup process) for every one of them.
    Their nodes come back as entries; `directory`'s own tree is never finished here."""
    job = _Job(repo, skip, load_tree, root_dev, descend)  # each subfolder counts its own entries
    found = _Found([], [], (0, 0, 0, 0, 0))
    left = _descend(job, directory, snap_path.rstrip("/") + "/", subdirs, found)
    return (found.entries, [], [], [], found.blobs, found.counts), left, None, found.nested, found.trees


def _descend(job: _Job, directory: bytes, prefix: str, subdirs: list[Named], found: _Found) -> list[Named]:
    """Back up `subdirs` depth first while the budget lasts (with `job.load_tree` only; the first is
    always done) into `found`; returns the subdirectories left to the walker."""
    if job.load_tree is None:
        return subdirs
    left: list[Named] = []
    for name, old_node in subdirs:
        if job.entries <= 0 or job.sealed <= 0:
            left.append((name, old_node))
            continue
        path = _join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            left.append((name, old_node))  # the walker reports it
            continue
        if not stat.S_ISDIR(st.st_mode) or (job.root_dev is not None and st.st_dev != job.root_dev):
            left.append((name, old_node))
            continue
        sub = _scan_dir(job, path, prefix + os.fsdecode(name), job.load_tree(parent_subtree(old_node)))
        sub_part, _left, sub_tree, _nested, sub_trees = sub
        if sub_tree is None:  # the walker takes it on from where this job stopped
            found.nested.append((name, old_node, sub))
            continue
        found.trees += sub_trees
        sub_id, sub_data = sub_tree
        if sub_data is not None:
            found.trees.append((sub_id, sub_data))
        found.entries.append((name, dir_node_json(name, path, st, sub_id)))
        found.blobs += sub_part[4]
        new, changed, unmodified, processed, dirs = found.counts
        sub_new, sub_changed, sub_unmodified, sub_processed, sub_dirs = sub_part[5]
        found.counts = (
            new + sub_new,
            changed + sub_changed,
            unmodified + sub_unmodified,
            processed + sub_processed,
            dirs + sub_dirs + 1,
        )
    return left


def scan(repo: SealingRepository, directory: bytes, items: Sequence[Todo]) -> Part:
    """Back up the files `items` of `directory` as far as a worker may (see the module docstring).

    Files are reached relative to the open folder (the kernel walks the long path once, not three
    times per file); their xattrs are listed on the open file."""
    entries: list[tuple[bytes, str]] = []
    walker: list[Named] = []
    again: list[Todo] = []
    errors: list[tuple[bytes, Exception]] = []
    plain: list[bytes] = []
    ids: list[bytes] = []
    seen: set[bytes] = set()
    new = changed = unmodified = processed = read_bytes = 0
    try:
        dir_fd: int | None = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        dir_fd = None  # each file then goes by its whole path and reports its own error, as before
    try:
        for todo in items:
            name, old, listed_file = todo
            if read_bytes >= JOB_BYTES:
                again.append(todo)
                continue
            rel = name if dir_fd is not None else _join(directory, name)
            opened = _open_listed(rel, dir_fd) if listed_file and old is None else None
            fd = -1
            try:
                if opened is not None:
                    fd, st = opened
                else:
                    st = os.lstat(rel, dir_fd=dir_fd)
                    if not stat.S_ISREG(st.st_mode):
                        if stat.S_ISDIR(st.st_mode):
                            walker.append((name, old))
                        else:  # a symlink, device, fifo or socket: its node is all there is
                            path = _join(directory, name)
                            entries.append((name, node_from_stat(name, path, st).to_json()))
                        continue
                # nlink 0: unlinked since it was opened, the walker reports it gone
                if st.st_nlink != 1 or st.st_size >= MIN_SIZE:
                    walker.append((name, old))
                    continue
                xattrs = read_xattrs(fd if fd >= 0 else _join(directory, name))
                times = (GoTime.format_local(st.st_mtime_ns), GoTime.format_local(st.st_ctime_ns))
                content = _unchanged(repo, old, st.st_size, st.st_ino, *times)
                if content is _ASK_WALKER:
                    walker.append((name, old))
                    continue
                size = st.st_size
                if content is not None:
                    unmodified += 1
                    processed += size
                else:
                    data = _read_from(fd, size) if fd >= 0 else _read_small(rel, size, dir_fd)
                    if data is None:  # grew past one chunk since the stat: the walker reads it
                        walker.append((name, old))
                        continue
                    size = len(data)
                    read_bytes += size
                    processed += size
                    if data:
                        blob_id = hashlib.sha256(data).digest()
                        if blob_id not in seen and not repo.has_blob(BlobType.DATA, blob_id):
                            seen.add(blob_id)
                            plain.append(data)
                            ids.append(blob_id)
                        content = [blob_id]
                    else:
                        content = []
                    if old is None:
                        new += 1
                    else:
                        changed += 1
            except OSError as exc:
                errors.append((_join(directory, name), exc))
                continue
            finally:
                if fd >= 0:
                    os.close(fd)
            entries.append((name, small_file_json(name, st, times, xattrs, size, content)))
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    blobs = [repo.seal_run(ids, plain)] if plain else []
    return entries, walker, again, errors, blobs, (new, changed, unmodified, processed, 0)


def _join(directory: bytes, name: bytes) -> bytes:
    return directory + b"/" + name if directory != b"/" else b"/" + name


def open_noatime(path: bytes, flags: int, dir_fd: int | None = None) -> int:
    """`os.open` with O_NOATIME (a backup leaves access times alone) where the kernel allows it:
    for the file's owner only — anyone else's file is opened without it."""
    try:
        return os.open(path, flags | _O_NOATIME, dir_fd=dir_fd)
    except PermissionError:
        return os.open(path, flags & ~_O_NOATIME, dir_fd=dir_fd)


def _open_listed(rel: bytes, dir_fd: int | None) -> tuple[int, os.stat_result] | None:
    """(descriptor, fstat) of a file the listing called regular, opened without an lstat first;
    None if it cannot be opened or is no regular file now (the caller lstats it and goes on as
    for any other entry: an error is reported, a symlink or fifo swapped in is stored as such)."""
    try:
        fd = open_noatime(rel, _O_LISTED, dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st


_ASK_WALKER: list[bytes] = []


def _unchanged(
    repo: SealingRepository, old: OldFile | None, size: int, inode: int, mtime: str, ctime: str
) -> list[bytes] | None:
    """The parent's content if the file is unchanged (restic's test), `_ASK_WALKER` for a file of
    several chunks (the walker reads those if they changed), else None."""
    if (
        old is None
        or old[0] != "file"
        or old[1] != size
        or old[2] != inode
        or old[3] != mtime
        or old[4] != ctime
    ):
        return None
    if old[5] is None:
        return None
    if len(old[5]) > 1:
        return _ASK_WALKER
    try:
        content = [bytes.fromhex(c) for c in old[5]]
    except (TypeError, ValueError):
        return None
    return content if all(repo.has_blob(BlobType.DATA, b) for b in content) else None


def _read_small(rel: bytes, size: int, dir_fd: int | None) -> bytes | None:
    """A file smaller than one chunk, read in one call; None if it has grown to a chunk or more."""
    fd = open_noatime(rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{os.fsdecode(rel)} is no longer a regular file")
        return _read_from(fd, size)
    finally:
        os.close(fd)


def _read_from(fd: int, size: int) -> bytes | None:
    """`_read_small` of an open regular file of `size` bytes at its last stat."""
    data = os.read(fd, size + 1)
    if len(data) > size:
        data += os.read(fd, MIN_SIZE)
        if len(data) >= MIN_SIZE:
            return None
        while chunk := os.read(fd, MIN_SIZE):
            data += chunk
            if len(data) >= MIN_SIZE:
                return None
    return data


class _Worker:
    __slots__ = ("jobs", "pid", "results", "tokens")

    def __init__(self, pid: int, jobs: int, results: int) -> None:
        self.pid = pid
        self.jobs = jobs  # the write end of its job pipe
        self.results = results  # the read end of its result pipe
        self.tokens: collections.deque[Any] = collections.deque()  # its jobs in work, oldest first


Handler = Callable[[Any], Any]


class FileWorkers:
    """`count` forked processes that run `handler(job)`; results come back as workers finish them.

    With `count` 0 the handler runs in the calling process (no fork). Each worker has at most
    `depth` jobs queued, so the work in flight — and the memory it takes — stays bounded. The
    caller drives the loop: `submit` while `has_room`, then `next_result`.
    """

    def __init__(self, handler: Handler, count: int, depth: int = 2, role: str = "backup") -> None:
        self._handler = handler
        self._role = role  # in messages: "a backup worker process died"
        self._depth = depth
        self._workers: list[_Worker] = []
        self._ready: collections.deque[tuple[Any, Any]] = collections.deque()  # count 0: done inline
        # the result pipes of the workers with jobs in work (one poll object for the whole run:
        # `multiprocessing.connection.wait` built a selector for every result)
        self._poll = select.poll()
        self._busy: dict[int, _Worker] = {}
        if count > 0:
            gc.freeze()  # the children's collections then leave the parent's objects (and pages) alone
            try:
                for _ in range(count):
                    self._workers.append(self._fork())
            except BaseException:
                self.close()
                raise
            finally:
                gc.unfreeze()

    def _fork(self) -> _Worker:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        if not (_roomy(job_w) and _roomy(res_w)):
            # the backup process must never block sending a job to a worker that is itself blocked
            # sending a result nobody reads yet: with a small pipe, jobs only go to idle workers
            self._depth = 1
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(job_w)
                os.close(res_r)
                for other in self._workers:
                    os.close(other.jobs)
                    os.close(other.results)
                code = _serve(self._handler, parent, job_r, res_w)
            finally:
                os._exit(code)
        os.close(job_r)
        os.close(res_w)
        return _Worker(pid, job_w, res_r)

    @property
    def busy(self) -> bool:
        """Whether results are still to come."""
        return bool(self._ready) or any(w.tokens for w in self._workers)

    def has_room(self, large: bool = False) -> bool:
        """Whether `submit` can hand out a job now; a `large` one (more than a quarter of a pipe)
        only goes to an idle worker, which reads it whole before it writes anything."""
        if not self._workers:
            return True
        limit = 1 if large else self._depth
        return any(len(w.tokens) < limit for w in self._workers)

    def submit(self, job: Any, token: Any, large: bool = False) -> None:
        """Hand out a job (only when `has_room(large)`); `next_result` returns `token` with its result."""
        if not self._workers:
            self._ready.append((token, self._handler(job)))
            return
        limit = 1 if large else self._depth
        worker = min((w for w in self._workers if len(w.tokens) < limit), key=lambda w: len(w.tokens))
        try:
            _send(worker.jobs, job)
        except OSError as exc:  # its end of the pipe closed: it died
            raise WorkerCrashedError(f"a {self._role} worker process (pid {worker.pid}) died") from exc
        worker.tokens.append(token)
        if len(worker.tokens) == 1:
            fd = worker.results
            self._busy[fd] = worker
            self._poll.register(fd, select.POLLIN)

    def next_result(self) -> tuple[Any, Any]:
        """(token, result) of a finished job, waiting for the first worker that has one."""
        if self._ready:
            return self._ready.popleft()
        if not self._busy:
            raise RuntimeError("no job is in work")
        fd, _events = self._poll.poll()[0]  # readable, or hung up if the worker died
        worker = self._busy[fd]
        try:
            status, result = _receive(fd)
        except (EOFError, OSError) as exc:
            raise WorkerCrashedError(f"a {self._role} worker process (pid {worker.pid}) died") from exc
        token = worker.tokens.popleft()
        if not worker.tokens:
            fd = worker.results
            del self._busy[fd]
            self._poll.unregister(fd)
        if status != "ok":
            raise WorkerCrashedError(f"a {self._role} worker process failed: {result}")
        return token, result

    def close(self) -> None:
        """Stop the workers (those still busy are killed) and reap them."""
        for worker in self._workers:
            try:
                if worker.tokens:
                    os.kill(worker.pid, signal.SIGKILL)
                else:
                    _send(worker.jobs, None)
            except OSError:
                pass
            os.close(worker.jobs)
            os.close(worker.results)
        for worker in self._workers:
            try:
                os.waitpid(worker.pid, 0)
            except ChildProcessError:
                pass
        self._workers = []
        self._ready.clear()
        self._busy.clear()
        self._poll = select.poll()


def _roomy(fd: int) -> bool:
    """Make a pipe hold 1 MiB (jobs queued for a worker fit whole); False if it cannot."""
    try:
        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:
        return False
    return True


LARGE_JOB = _PIPE_BYTES // 4
"""Jobs above this many bytes go to idle workers only (see `FileWorkers.has_room`)."""


def _serve(handler: Handler, parent: int, jobs: int, results: int) -> int:
    """A worker's loop: jobs in, results out, until the backup process closes the pipe or dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the backup process's to handle
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        return 1
    while True:
        try:
            job = _receive(jobs)
        except (EOFError, OSError):
            return 0
        if job is None:
            return 0
        try:
            reply: tuple[str, Any] = ("ok", handler(job))
        except Exception as exc:  # a bug: the backup process reports it and stops
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            _send(results, reply)
        except (BrokenPipeError, OSError):
            return 1
        del job, reply  # not held through the next job: a sealed run is up to 2 MiB


# A job or a result on its pipe: (pickle bytes, number of out-of-band buffers), each buffer's size,
# the pickle, the buffers. Sealed blobs (`SealedRun`) go out of band: no copy into or out of a
# pickle, and the backup process reads each result with one copy from the pipe into one buffer.
# (`multiprocessing.connection` did the jobs' part: 2 MiB and 7 ms of imports in every backup.)
_FRAME = struct.Struct("<QI")


def _send(fd: int, reply: Any) -> None:
    buffers: list[pickle.PickleBuffer] = []
    meta = pickle.dumps(reply, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    head = _FRAME.pack(len(meta), len(raws)) + struct.pack(f"<{len(raws)}Q", *(r.nbytes for r in raws))
    write_all(fd, [head, meta, *raws])


def _receive(fd: int) -> Any:
    meta_size, count = _FRAME.unpack(_read_exactly(fd, bytearray(_FRAME.size)))
    sizes = struct.unpack(f"<{count}Q", _read_exactly(fd, bytearray(8 * count))) if count else ()
    body = _read_exactly(fd, bytearray(meta_size + sum(sizes)))
    view = memoryview(body)
    buffers = []
    start = meta_size
    for size in sizes:
        buffers.append(view[start : start + size])
        start += size
    return pickle.loads(view[:meta_size], buffers=buffers)  # noqa: S301 (our own forked worker)


def _read_exactly(fd: int, buffer: bytearray) -> bytearray:
    view = memoryview(buffer)
    while view:
        done = os.readv(fd, [view])
        if not done:
            raise EOFError("the worker's pipe closed")
        view = view[done:]
    return buffer
