"""Restore a snapshot (or part of it) to a directory: content, metadata, links, fifos, sparse files.

One walk over the snapshot's trees makes the directories and hands the files it meets, a few dozen
at a time, to worker processes (`restorejob`, one per CPU; threads when the backend cannot be
forked): a job creates its files, reads each pack's needed range once, decrypts and verifies every
blob and writes it to each place it belongs, then sets the file's metadata through the same
descriptor. Only the jobs in flight are held in memory, so a restore of a million files takes no
more memory than one of a thousand. A missing or damaged pack fails only the files that need it;
they are removed, listed, and the rest is restored. A directory's own metadata (owner when root,
mode, xattrs, times) is set when the last job with a file in it has come back.

Names from the repository are refused unless they are plain file names (`model.safe_nodes`), and
every file-system step goes through `confined`: nothing is written outside the target or through a
symlink, whatever the repository holds.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mamori.vault.confined import (
    CREATE,
    OPEN_DIR,
    fd_meta,
    inode_of,
    mkdir_at,
    name_meta,
    node_meta,
    open_parent,
    remove_non_dir,
    reopen,
    unlink_if,
)
from mamori.vault.errors import InvalidArgumentError, RestoreStoppedError, VaultError
from mamori.vault.freespace import KeepFree
from mamori.vault.jobs import Jobs, ProcessJobs, ThreadJobs
from mamori.vault.model import Node, TreeFormatError, parse_tree, safe_nodes
from mamori.vault.pack import BlobType
from mamori.vault.pathfilter import PathFilter
from mamori.vault.restorejob import STOPPED, FileJob, GroupJob, RestoreReader, run_job

# A job holds at most this many files, or files with this many blobs between them; a worker has at
# most `_DEPTH` jobs queued. Directories still waiting for their files keep a descriptor open: past
# `_OPEN_DIRS` the walk waits for the jobs in flight.
JOB_FILES = 128
JOB_BLOBS = 512
_DEPTH = 3
_OPEN_DIRS = 256
# With a `KeepFree`, the walk asks the file system again after this many nodes (the jobs ask as
# they write).
_CHECK_NODES = 64


class RestoreRepository(RestoreReader, Protocol):
    """What the restorer needs from a repository."""

    def load_blob(self, blob_type: BlobType, blob_id: bytes) -> bytes: ...


FAILED_KEPT = 100
"""A restore keeps this many (path, reason) of what it could not restore, and counts the rest: a
repository written to harm may hold millions of entries that fail."""


@dataclass
class RestoreStats:
    """What a restore did; `failed` holds (snapshot path, reason) for the first `FAILED_KEPT` files
    not restored, `failed_count` counts them all."""

    files_restored: int = 0
    bytes_restored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    verified: bool = False
    files_skipped: int = 0  # already there and kept (overwrite="never")
    failed_count: int = 0

    def fail(self, snap_path: str, reason: str) -> None:
        self.failed_count += 1
        if len(self.failed) < FAILED_KEPT:
            self.failed.append((snap_path, reason))


class ExactPaths:
    """A selection of snapshot paths taken literally (`[`, `*`, `?` are name characters): each path and
    everything below it; `/` is the whole snapshot. Set lookups, so a drill over every file stays linear."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.selected = {posixpath.normpath("/" + p.lstrip("/")) for p in paths}
        self.everything = "/" in self.selected
        self.ancestors = {posixpath.dirname(a) for p in self.selected for a in _parents(p)}

    def wanted(self, snap_path: str, is_dir: bool) -> tuple[bool, bool]:
        """(restore this node, descend into it)."""
        if self.everything or snap_path in self.selected:
            return True, True
        cut = snap_path.rfind("/")
        while cut > 0:
            if snap_path[:cut] in self.selected:
                return True, True
            cut = snap_path.rfind("/", 0, cut)
        below = is_dir and snap_path in self.ancestors
        return below, below


def _parents(path: str) -> list[str]:
    """`/a/b/c` -> [`/a/b/c`, `/a/b`, `/a`]: each path whose dirname is an ancestor of `path`."""
    out = []
    while path not in ("/", ""):
        out.append(path)
        path = posixpath.dirname(path)
    return out


@dataclass(eq=False)
class _Level:
    """A directory of the walk: its remaining nodes, its descriptor (-1 while closed), and what it
    waits for before its metadata is set (files in jobs, hard links, subdirectories)."""

    nodes: Iterator[Node]
    fd: int
    ident: tuple[int, int]
    path: bytes
    snap_path: str
    node: Node | None  # None for the target itself
    parent: _Level | None
    on_the_way: bool = False  # made only to reach what was selected: removed if it stays empty
    pending: int = 0
    walked: bool = False


class _Source:
    """The first of a file's hard links: the one whose content is restored; the others link to it."""

    __slots__ = ("done", "error", "ident", "links", "path")

    def __init__(self, path: bytes, ident: tuple[int, int]) -> None:
        self.path = path
        self.ident = ident
        self.done = False
        self.error = ""
        self.links: list[tuple[_Level, bytes, str]] = []  # made while the source was in a job


_Record = tuple[_Level, str, _Source | None]


class Restorer:
    """Restores one tree into `target`; single use.

    Confinement: every directory is made and opened relative to its parent's descriptor with
    O_NOFOLLOW, every file is created O_CREAT|O_EXCL|O_NOFOLLOW in such a directory (a job proves
    the directory by (device, inode) before it creates anything), and a later write, link or
    metadata change first proves it has the inode made here. Names that are not plain file names are
    refused (`model.safe_nodes`), so nothing is written outside `target` and nothing is written
    through a symlink, whatever the repository holds.

    `processes`: run the jobs in forked worker processes (the repository must be safe to use after
    a fork: a local directory); otherwise in threads of this process. `keep_free`: stop with
    `RestoreStoppedError` before the target's file system has less free than that. `files_only`:
    make folders and files, nothing else (a drill checks files; a device node needs root).
    `tree_errors=False`: entries a tree cannot give (refused names, an unreadable tree) are left
    out without being failures (a drill's listing of the same snapshot has counted them).
    """

    def __init__(
        self,
        repo: RestoreRepository,
        target: str,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        paths: Sequence[str] | None = None,
        overwrite: str = "always",
        workers: int = 0,
        processes: bool = False,
        progress: Callable[[RestoreStats], None] | None = None,
        keep_free: KeepFree | None = None,
        files_only: bool = False,
        tree_errors: bool = True,
    ) -> None:
        if overwrite not in OVERWRITE:
            raise InvalidArgumentError(f"overwrite must be one of {', '.join(OVERWRITE)}, not {overwrite!r}")
        self.overwrite = overwrite
        self.repo = repo
        self.target = os.fsencode(os.path.abspath(target))
        self.include = PathFilter(include)
        self.exclude = PathFilter(exclude)
        self.exact = None if paths is None else ExactPaths(paths)
        self.processes = processes
        cpus = os.cpu_count() or 1
        self.workers = workers or (cpus if processes else max(2, cpus))
        self.progress = progress
        self.keep_free = keep_free
        self.files_only = files_only
        self.tree_errors = tree_errors
        self._nodes = 0  # visited since the file system was last asked
        self.stats = RestoreStats()
        self._is_root = os.geteuid() == 0
        self._root_path = "/"
        self._verify = False
        self._sources: dict[tuple[int, int], _Source] = {}  # (device, inode) of hard-linked files
        self._job: list[GroupJob] = []
        self._records: list[_Record] = []
        self._job_level: _Level | None = None
        self._job_blobs = 0
        self._jobs: Jobs | None = None
        self._dir_fds: set[int] = set()  # every directory descriptor the walk holds open

    # -- walking the snapshot with directory descriptors ------------------------------------

    def _wanted(self, snap_path: str, is_dir: bool) -> tuple[bool, bool]:
        """(restore this node, descend into it)."""
        if self.exact is not None:
            return self.exact.wanted(snap_path, is_dir)
        if self.exclude and self.exclude.matches(snap_path):
            return False, False
        if not self.include:
            return True, True
        if self.include.matches(snap_path):
            return True, True
        below = is_dir and self.include.may_match_below(snap_path)
        return below, below

    def _selected(self, snap_path: str) -> bool:
        """Is the node itself selected (not merely a directory on the way to a selected one)?"""
        if self.exact is not None:
            return self.exact.wanted(snap_path, False)[0]
        return not self.include or self.include.matches(snap_path)

    def _children(self, tree_id: bytes | None, snap_path: str) -> Iterator[Node]:
        """The usable nodes of a tree; refused names and an unreadable tree are failures of `snap_path`."""
        if tree_id is None:
            return iter(())
        try:
            nodes, refused = safe_nodes(parse_tree(self.repo.load_blob(BlobType.TREE, tree_id)))
        except (VaultError, TreeFormatError) as exc:
            if self.tree_errors:
                self.stats.fail(snap_path, f"tree {tree_id.hex()[:8]} cannot be read: {exc}")
            return iter(())
        if self.tree_errors:
            for reason in refused:
                self.stats.fail(snap_path, reason)
        return iter(nodes)

    def _walk(self, tree_id: bytes, root_fd: int) -> None:
        """Depth first over the wanted nodes, holding a descriptor for each directory on the way.

        Iterative (trees may be thousands of levels deep); beyond `_OPEN_LEVELS` the upper levels'
        descriptors are closed (after every job in flight is back, so none waits on them) and
        reopened through ".." of the child, checked by (device, inode).
        """
        root = self._root_path
        stack = [
            _Level(self._children(tree_id, root), root_fd, inode_of(root_fd), self.target, root, None, None)
        ]
        while stack:
            top = stack[-1]
            node = next(top.nodes, None)
            if node is None:
                stack.pop()
                if stack and stack[-1].fd < 0:
                    stack[-1].fd = open_parent(top.fd, stack[-1].ident)
                    self._dir_fds.add(stack[-1].fd)
                top.walked = True
                if top.node is not None and top.pending == 0:
                    self._release(self._close_dir(top))
                continue
            path = top.path + b"/" + node.name
            snap_path = top.snap_path.rstrip("/") + "/" + os.fsdecode(node.name)
            restore, descend = self._wanted(snap_path, node.type == "dir")
            if not restore:
                continue
            self._nodes += 1
            if self._nodes >= _CHECK_NODES:
                self._check_space(root_fd)
            if node.type == "file":
                self._visit_file(top, node, path, snap_path)
            elif node.type != "dir":
                if not self.files_only:
                    self._make_special(top, node, snap_path)
            elif (level := self._enter(top, node, path, snap_path, descend)) is not None:
                stack.append(level)
                if len(self._dir_fds) > _OPEN_DIRS:
                    self._settle()
                if len(stack) > _OPEN_LEVELS:
                    deep = stack[-_OPEN_LEVELS - 1]
                    if deep.node is not None and deep.fd >= 0:
                        self._settle()
                        self._close_fd(deep)

    def _check_space(self, fd: int) -> None:
        self._nodes = 0
        reason = self.keep_free.shortfall(fd) if self.keep_free is not None else None
        if reason:
            self._stop(reason)

    def _stop(self, reason: str) -> None:
        raise RestoreStoppedError(os.fsdecode(self.target), reason, files_restored=self.stats.files_restored)

    def _enter(self, parent: _Level, node: Node, path: bytes, snap_path: str, descend: bool) -> _Level | None:
        try:
            fd, new = mkdir_at(parent.fd, node.name)
        except OSError as exc:
            self.stats.fail(snap_path, exc.strerror or str(exc))
            return None
        self._dir_fds.add(fd)
        nodes = self._children(node.subtree, snap_path) if descend else iter(())
        level = _Level(nodes, fd, inode_of(fd), path, snap_path, node, parent)
        level.on_the_way = new and not self._selected(snap_path)
        parent.pending += 1
        return level

    def _close_fd(self, level: _Level) -> None:
        self._dir_fds.discard(level.fd)
        os.close(level.fd)
        level.fd = -1

    def _close_dir(self, level: _Level) -> _Level:
        """Set a finished directory's metadata (or remove it, if only on the way and empty); its parent."""
        assert level.node is not None and level.parent is not None
        parent = level.parent
        removed = False
        if level.on_the_way and not os.listdir(level.fd):
            try:
                os.rmdir(level.node.name, dir_fd=parent.fd)
                removed = True
            except OSError:
                pass
        if not removed:
            fd_meta(level.fd, level.node, self._is_root)
        self._close_fd(level)
        return parent

    def _release(self, level: _Level) -> None:
        """One thing `level` waited for is done; finish it (and then its parents) when nothing is left."""
        while True:
            level.pending -= 1
            if level.pending or not level.walked or level.node is None:
                return
            level = self._close_dir(level)

    # -- files, links, special files ----------------------------------------------------------

    def _keep_existing(self, dir_fd: int, name: bytes) -> bool:
        """With overwrite="never": True (and counted) when something is already at `name`."""
        if self.overwrite != "never":
            return False
        try:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        self.stats.files_skipped += 1
        return True

    def _visit_file(self, level: _Level, node: Node, path: bytes, snap_path: str) -> None:
        if self._keep_existing(level.fd, node.name):
            return
        ident = None
        source = None
        if node.links > 1:
            key = (node.device_id, node.inode)
            known = self._sources.get(key)
            if known is not None:
                self._link(level, node.name, known, snap_path)
                return
            # made here, so that its other names can link to it before its job is back
            source = self._sources[key] = _Source(path, (0, 0))
            try:
                remove_non_dir(level.fd, node.name)
                fd = os.open(node.name, CREATE, 0o600, dir_fd=level.fd)
                source.ident = ident = inode_of(fd)
                os.close(fd)
            except OSError as exc:
                source.done = True
                source.error = exc.strerror or str(exc)
                self.stats.fail(snap_path, source.error)
                return
        if self._job_level is not level:
            self._job.append((level.path, level.ident, []))
            self._job_level = level
        job: FileJob = (node.name, node.content or [], node_meta(node, self._is_root), ident)
        self._job[-1][2].append(job)
        self._records.append((level, snap_path, source))
        level.pending += 1
        self._job_blobs += len(job[1])
        if len(self._records) >= JOB_FILES or self._job_blobs >= JOB_BLOBS:
            self._submit()

    def _link(self, level: _Level, name: bytes, source: _Source, snap_path: str) -> None:
        if source.error:
            self.stats.fail(snap_path, "the file it is a hard link of was not restored")
            return
        try:
            fd = reopen(source.path, source.ident, os.O_RDONLY)
            try:
                remove_non_dir(level.fd, name)
                # linkat(AT_EMPTY_PATH) needs privileges; /proc/self/fd links the proven inode
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=level.fd, follow_symlinks=True)
            finally:
                os.close(fd)
        except OSError as exc:
            self.stats.fail(snap_path, exc.strerror or str(exc))
            return
        if source.done:
            self.stats.files_restored += 1
        else:
            source.links.append((level, name, snap_path))
            level.pending += 1

    def _source_done(self, source: _Source, error: str) -> None:
        """The job of a hard-linked file is back: its other names count, or go (it was not restored)."""
        source.done = True
        source.error = error
        links, source.links = source.links, []
        for level, name, snap_path in links:
            if error:
                unlink_if(level.fd, name, source.ident)
                self.stats.fail(snap_path, "the file it is a hard link of was not restored")
            else:
                self.stats.files_restored += 1
            self._release(level)

    def _make_special(self, level: _Level, node: Node, snap_path: str) -> None:
        if self._keep_existing(level.fd, node.name):
            return
        refused = _refused_special(node, self._is_root)
        if refused is not None:
            if refused:
                self.stats.fail(snap_path, refused)
            return
        try:
            remove_non_dir(level.fd, node.name)
            if node.type == "symlink":
                os.symlink(node.linktarget, node.name, dir_fd=level.fd)
            elif node.type == "fifo":
                os.mkfifo(node.name, 0o600, dir_fd=level.fd)
            else:
                kind = stat.S_IFBLK if node.type == "dev" else stat.S_IFCHR
                os.mknod(node.name, kind | 0o600, node.device, dir_fd=level.fd)
        except OSError as exc:
            self.stats.fail(snap_path, exc.strerror or str(exc))
            return
        name_meta(level.fd, node, self._is_root)

    # -- jobs -----------------------------------------------------------------------------------

    def _submit(self, last: bool = False) -> None:
        """Hand the files gathered so far to the workers (started with the first job: a restore of
        one small job, a drill of a single file, runs it here without starting any)."""
        if not self._records:
            return
        job, records = self._job, self._records
        self._job, self._records, self._job_level, self._job_blobs = [], [], None, 0
        if self._jobs is None:
            handler = self._handler
            if last:
                self._done(records, handler(job))
                return
            self._jobs = (
                ProcessJobs(handler, self.workers, _DEPTH, role="restore")
                if self.processes
                else ThreadJobs(handler, self.workers, _DEPTH)
            )
        self._jobs.submit(job, lambda results: self._done(records, results))

    def _handler(self, job: list[GroupJob]) -> list[tuple[str, int]]:
        return run_job(self.repo, job, is_root=self._is_root, verify=self._verify, keep_free=self.keep_free)

    def _done(self, records: list[_Record], results: list[tuple[str, int]]) -> None:
        for error, size in results:
            if size == STOPPED:
                self._stop(error)
        for (level, snap_path, source), (error, size) in zip(records, results, strict=True):
            if error:
                self.stats.fail(snap_path, error)
            else:
                self.stats.files_restored += 1
                self.stats.bytes_restored += size
            if source is not None:
                self._source_done(source, error)
            self._release(level)
        if self.progress is not None:
            self.progress(self.stats)

    def _settle(self) -> None:
        """Every file gathered so far restored, and every directory waiting only for them finished."""
        self._submit()
        if self._jobs is not None:
            self._jobs.drain()

    # -- the run --------------------------------------------------------------

    def run(self, tree_id: bytes, verify: bool = False, root_path: str = "/") -> RestoreStats:
        """Restore the tree (the snapshot folder `root_path`) into `target`: its children become the
        target's children, so `/` keeps the snapshot's absolute paths below the target."""
        self._root_path = root_path
        self._verify = verify
        os.makedirs(self.target, exist_ok=True)
        root_fd = os.open(self.target, OPEN_DIR & ~os.O_NOFOLLOW)
        try:
            self._check_space(root_fd)
            self._walk(tree_id, root_fd)
            self._submit(last=True)
            if self._jobs is not None:
                self._jobs.drain()
        finally:
            if self._jobs is not None:
                self._jobs.close()
            for fd in self._dir_fds:
                os.close(fd)
            self._dir_fds.clear()
            os.close(root_fd)
        self.stats.verified = verify
        if self.progress is not None:
            self.progress(self.stats)
        return self.stats


def _refused_special(node: Node, is_root: bool) -> str | None:
    """Why a node that is neither file nor folder is not made ("" for a socket, which nobody can
    restore and restic skips silently too), or None to make it."""
    if node.type == "symlink":
        return "invalid symlink target: it holds a NUL byte" if b"\0" in node.linktarget else None
    if node.type == "fifo":
        return None
    if node.type in ("dev", "chardev"):
        return None if is_root else "a device node can only be made by root: restore as root, or exclude it"
    if node.type == "socket":
        return ""
    return f'file type "{node.type}" cannot be restored'


OVERWRITE = ("always", "never")  # restic's --overwrite choices that mamori offers
_OPEN_LEVELS = 64
