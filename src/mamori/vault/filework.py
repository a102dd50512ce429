"""A backup's per-file work in worker processes: stat, compare with the parent, read, hash, seal.

Python holds the GIL for the small steps of each file (a stat, a node, a lookup, a JSON line), so a
backup of many small files kept one core busy however many threads it had. The walker hands each
directory's files to forked worker processes in jobs of a few dozen; a worker returns each file's
tree-node JSON and the new blobs already compressed and encrypted (`seal_blobs` on its copy of the
repository, which knows the key and, as of the fork, the index). The backup process only packs the
sealed blobs and writes packs, index and snapshot, in restic's order, so a worker never writes to
the repository and a killed worker can leave nothing behind. Workers die with the backup process
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
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, Protocol

from mamori.vault.chunker import MIN_SIZE
from mamori.vault.errors import VaultError
from mamori.vault.fsmeta import node_from_stat
from mamori.vault.pack import BlobType

__all__ = ["JOB_FILES", "FileWorkers", "OldFile", "Part", "SealingRepository", "WorkerCrashedError", "scan"]

# A job is at most about 128 × 450 bytes (a 255-byte name and the parent's node): three queued
# for a worker fit its 1 MiB pipe (see `_roomy`).
JOB_FILES = 128
# A job's sealed blobs stop at this size; the files left are handed back to be sent again.
JOB_BYTES = 8 * 1024 * 1024
_O_NOATIME = getattr(os, "O_NOATIME", 0)
_PR_SET_PDEATHSIG = 1
_F_SETPIPE_SZ = 1031

OldFile = tuple[int, int, str, str, list[str] | None]
"""The parent snapshot's node of a file: size, inode, mtime, ctime as written, content ids (hex),
or None for a file of several chunks (the walker compares those)."""

Entry = tuple[bytes, str | None]
"""A file's name and its node JSON; None means the walker backs it up itself."""


Part = tuple[
    list[Entry],
    list[bytes],
    list[tuple[bytes, Exception]],
    list[tuple[bytes, bytearray, int]],
    tuple[int, ...],
]
"""A job's result: entries, names to send again, errors (name, exception), sealed data blobs
(id, stored bytes, uncompressed length), counts (new, changed, unmodified, bytes processed)."""


class SealingRepository(Protocol):
    """What a worker needs from its copy of the repository."""

    def has_blob(self, blob_type: BlobType, blob_id: bytes) -> bool: ...
    def seal_blobs(self, items: Sequence[bytes]) -> list[tuple[bytearray, int]]: ...


class WorkerCrashedError(VaultError):
    """A worker process died or failed unexpectedly (a bug or the system killed it)."""


def scan(repo: SealingRepository, directory: bytes, items: Sequence[tuple[bytes, OldFile | None]]) -> Part:
    """Back up the files `items` of `directory` as far as a worker may (see the module docstring)."""
    entries: list[Entry] = []
    again: list[bytes] = []
    errors: list[tuple[bytes, Exception]] = []
    plain: list[bytes] = []
    ids: list[bytes] = []
    seen: set[bytes] = set()
    new = changed = unmodified = processed = read_bytes = 0
    for name, old in items:
        if read_bytes >= JOB_BYTES:
            again.append(name)
            continue
        path = directory + b"/" + name if directory != b"/" else b"/" + name
        try:
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) or (
                stat.S_ISREG(st.st_mode) and (st.st_nlink > 1 or st.st_size >= MIN_SIZE)
            ):
                entries.append((name, None))
                continue
            node = node_from_stat(name, path, st)
        except OSError as exc:
            errors.append((name, exc))
            continue
        if node.type == "file":
            content = _unchanged(repo, old, node.size, node.inode, node.mtime.format(), node.ctime.format())
            if content is _ASK_WALKER:
                entries.append((name, None))
                continue
            if content is not None:
                node.content = content
                unmodified += 1
                processed += node.size
            else:
                try:
                    data = _read_small(path, node.size)
                except OSError as exc:
                    errors.append((name, exc))
                    continue
                if data is None:  # grew past one chunk since the stat: the walker reads it
                    entries.append((name, None))
                    continue
                node.size = len(data)
                read_bytes += len(data)
                processed += len(data)
                if data:
                    blob_id = hashlib.sha256(data).digest()
                    if blob_id not in seen and not repo.has_blob(BlobType.DATA, blob_id):
                        seen.add(blob_id)
                        plain.append(data)
                        ids.append(blob_id)
                    node.content = [blob_id]
                else:
                    node.content = []
                if old is None:
                    new += 1
                else:
                    changed += 1
        entries.append((name, node.to_json()))
    sealed = repo.seal_blobs(plain) if plain else []
    blobs = [(i, s, n) for i, (s, n) in zip(ids, sealed, strict=True)]
    return entries, again, errors, blobs, (new, changed, unmodified, processed)


_ASK_WALKER: list[bytes] = []


def _unchanged(
    repo: SealingRepository, old: OldFile | None, size: int, inode: int, mtime: str, ctime: str
) -> list[bytes] | None:
    """The parent's content if the file is unchanged (restic's test), `_ASK_WALKER` when only the
    walker has the parent's content list, else None."""
    if old is None or old[0] != size or old[1] != inode or old[2] != mtime or old[3] != ctime:
        return None
    if old[4] is None:
        return _ASK_WALKER
    try:
        content = [bytes.fromhex(c) for c in old[4]]
    except (TypeError, ValueError):
        return None
    return content if all(repo.has_blob(BlobType.DATA, b) for b in content) else None


def _read_small(path: bytes, size: int) -> bytes | None:
    """A file smaller than one chunk, read in one call; None if it has grown to a chunk or more."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | _O_NOATIME)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{os.fsdecode(path)} is no longer a regular file")
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
    finally:
        os.close(fd)


class _Worker:
    __slots__ = ("jobs", "outstanding", "pid", "results")

    def __init__(self, pid: int, jobs: Connection, results: Connection) -> None:
        self.pid = pid
        self.jobs = jobs
        self.results = results
        self.outstanding = 0


Handler = Callable[[Any], Any]


class FileWorkers:
    """`count` forked processes that run `handler(job)`; results come back in submission order.

    With `count` 0 the handler runs in the calling process (no fork). Each worker has at most
    `depth` jobs queued, so the work in flight — and the memory it takes — stays bounded.
    """

    def __init__(self, handler: Handler, count: int, depth: int = 3) -> None:
        self._handler = handler
        self._depth = depth
        self._workers: list[_Worker] = []
        self._queue: collections.deque[tuple[_Worker | None, Any, Callable[[Any], None]]] = (
            collections.deque()
        )
        self._next = 0
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
        if not _roomy(job_w):
            # the backup process must never block sending a job to a worker that is itself blocked
            # sending a result nobody reads yet: with a small pipe, one job at a time per worker
            self._depth = 1
        res_r, res_w = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(job_w)
                os.close(res_r)
                for other in self._workers:
                    other.jobs.close()
                    other.results.close()
                code = _serve(self._handler, parent, Connection(job_r), Connection(res_w))
            finally:
                os._exit(code)
        os.close(job_r)
        os.close(res_w)
        return _Worker(pid, Connection(job_w, readable=False), Connection(res_r, writable=False))

    def submit(self, job: Any, done: Callable[[Any], None]) -> None:
        """Queue a job; `done(result)` is called (in this thread) when its turn comes, maybe during
        a later `submit` or `drain`."""
        if not self._workers:
            done(self._handler(job))
            return
        while True:
            free = [w for w in self._workers if w.outstanding < self._depth]
            if free:
                break
            self._complete_oldest()
        worker = min(free, key=lambda w: w.outstanding)
        worker.jobs.send(job)
        worker.outstanding += 1
        self._queue.append((worker, job, done))

    def _complete_oldest(self) -> None:
        worker, _job, done = self._queue.popleft()
        assert worker is not None
        try:
            status, result = worker.results.recv()
        except (EOFError, OSError) as exc:
            raise WorkerCrashedError(f"a backup worker process (pid {worker.pid}) died") from exc
        worker.outstanding -= 1
        if status != "ok":
            raise WorkerCrashedError(f"a backup worker process failed: {result}")
        done(result)

    def drain(self) -> None:
        """Complete every queued job."""
        while self._queue:
            self._complete_oldest()

    def close(self) -> None:
        """Stop the workers (those still busy are killed) and reap them."""
        for worker in self._workers:
            try:
                if worker.outstanding:
                    os.kill(worker.pid, signal.SIGKILL)
                else:
                    worker.jobs.send(None)
            except (OSError, ValueError):
                pass
            worker.jobs.close()
            worker.results.close()
        for worker in self._workers:
            try:
                os.waitpid(worker.pid, 0)
            except ChildProcessError:
                pass
        self._workers = []
        self._queue.clear()


def _roomy(fd: int) -> bool:
    """Make a pipe hold 1 MiB (jobs queued for a worker fit whole); False if it cannot."""
    try:
        fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)
    except OSError:
        return False
    return True


def _serve(handler: Handler, parent: int, jobs: Connection, results: Connection) -> int:
    """A worker's loop: jobs in, results out, until the backup process closes the pipe or dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the backup process's to handle
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        return 1
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return 0
        if job is None:
            return 0
        try:
            reply: tuple[str, Any] = ("ok", handler(job))
        except Exception as exc:  # a bug: the backup process reports it and stops
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            results.send(reply)
        except (BrokenPipeError, OSError):
            return 1
