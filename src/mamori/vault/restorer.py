"""Restore a snapshot (or part of it) to a directory: content, metadata, links, fifos, sparse files.

The plan is made first: every file is created at its final size (so all-zero chunks stay holes and
sparse files come back sparse), and the blobs to write are grouped by pack. Worker threads then read
each pack's needed range once, decrypt and verify every blob in it, and `pwrite` it to every place
it belongs. A missing or damaged pack fails only the files that need it; they are listed, the rest
is restored. Metadata (owner when root, mode, xattrs, times) comes last, directories deepest first.

Names from the repository are refused unless they are plain file names (`model.safe_nodes`), and
every file-system step goes through `confined`: nothing is written outside the target or through a
symlink, whatever the repository holds.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from mamori.vault.confined import (
    CREATE,
    OPEN_DIR,
    TargetChangedError,
    fd_meta,
    inode_of,
    mkdir_at,
    name_meta,
    open_parent,
    remove_non_dir,
    reopen,
    unlink_if,
)
from mamori.vault.errors import InvalidArgumentError, VaultError
from mamori.vault.model import Node, TreeFormatError, parse_tree, safe_nodes
from mamori.vault.pack import BlobType, PackedBlob
from mamori.vault.pathfilter import PathFilter

_ZERO = bytes(8 * 1024 * 1024)
# Read a pack's needed blobs in requests of at most _MAX_READ bytes (bounded memory per worker),
# and start a new request rather than read over a gap larger than _MAX_GAP.
_MAX_GAP = 1024 * 1024
_MAX_READ = 4 * 1024 * 1024


class RestoreRepository(Protocol):
    """What the restorer needs from a repository."""

    def load_blob(self, blob_type: BlobType, blob_id: bytes) -> bytes: ...
    def lookup_blob(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None: ...
    def decode_blob(self, pack_id: str, blob: PackedBlob, sealed: bytes | memoryview) -> bytes: ...
    def load_pack_range(self, pack_id: str, offset: int, length: int) -> bytes: ...


@dataclass
class _File:
    path: bytes
    node: Node
    snap_path: str
    ident: tuple[int, int] = (0, 0)
    lengths: list[int] = field(default_factory=list)
    error: str = ""
    left: int = 0  # writes still to come; the last one also sets the metadata
    finished: bool = False


@dataclass
class RestoreStats:
    """What a restore did; `failed` holds (snapshot path, reason) for files not restored."""

    files_restored: int = 0
    bytes_restored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    verified: bool = False
    files_skipped: int = 0  # already there and kept (overwrite="never")


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


@dataclass
class _Level:
    """One open directory of a tree walk: its remaining nodes and its descriptor (-1 while closed)."""

    nodes: Iterator[Node]
    fd: int
    ident: tuple[int, int]
    path: bytes
    snap_path: str
    node: Node | None  # None for the target itself


class Restorer:
    """Restores one tree into `target`; single use.

    Confinement: every directory is made and opened relative to its parent's descriptor with
    O_NOFOLLOW, every file is created O_CREAT|O_EXCL|O_NOFOLLOW in such a directory, and a later
    write or metadata change first proves it has the inode (device, inode) made here. Names that are
    not plain file names are refused (`model.safe_nodes`), so nothing is written outside `target`
    and nothing is written through a symlink, whatever the repository holds.
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
        progress: Callable[[RestoreStats], None] | None = None,
    ) -> None:
        if overwrite not in OVERWRITE:
            raise InvalidArgumentError(f"overwrite must be one of {', '.join(OVERWRITE)}, not {overwrite!r}")
        self.overwrite = overwrite
        self.repo = repo
        self.target = os.fsencode(os.path.abspath(target))
        self.include = PathFilter(include)
        self.exclude = PathFilter(exclude)
        self.exact = None if paths is None else ExactPaths(paths)
        self.workers = workers or max(2, (os.cpu_count() or 2))
        self.progress = progress
        self.stats = RestoreStats()
        self._files: list[_File] = []
        self._left_lock = threading.Lock()
        self._by_pack: dict[str, dict[bytes, tuple[PackedBlob, list[tuple[_File, int]]]]] = {}
        self._made: dict[bytes, tuple[int, int]] = {}  # path -> (device, inode) of what the plan made
        self._sources: dict[tuple[int, int], _File] = {}
        self._failed: dict[bytes, _File] = {}
        self._planned: set[bytes] = set()  # files of pass 1, hard links included
        self._on_the_way: set[bytes] = set()
        self._is_root = os.geteuid() == 0
        self._root_path = "/"

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

    def _children(self, tree_id: bytes | None, snap_path: str, report: bool) -> Iterator[Node]:
        """The usable nodes of a tree; refused names and an unreadable tree are failures of `snap_path`."""
        if tree_id is None:
            return iter(())
        try:
            nodes, refused = safe_nodes(parse_tree(self.repo.load_blob(BlobType.TREE, tree_id)))
        except (VaultError, TreeFormatError) as exc:
            if report:
                self.stats.failed.append((snap_path, f"tree {tree_id.hex()[:8]} cannot be read: {exc}"))
            return iter(())
        if report:
            self.stats.failed.extend((snap_path, reason) for reason in refused)
        return iter(nodes)

    def _walk(
        self,
        tree_id: bytes,
        root_fd: int,
        *,
        enter: Callable[[_Level, Node, bytes, str], int | None],
        visit: Callable[[_Level, Node, bytes, str], None],
        leave: Callable[[_Level, _Level], None],
        report: bool,
    ) -> None:
        """Depth first over the wanted nodes, holding a descriptor for each directory on the way.

        Iterative (trees may be thousands of levels deep); beyond `_OPEN_LEVELS` the upper levels'
        descriptors are closed and reopened through ".." of the child, checked by (device, inode).
        """
        root = self._root_path
        stack = [
            _Level(self._children(tree_id, root, report), root_fd, inode_of(root_fd), self.target, root, None)
        ]
        while stack:
            top = stack[-1]
            node = next(top.nodes, None)
            if node is None:
                stack.pop()
                if stack and stack[-1].fd < 0:
                    stack[-1].fd = open_parent(top.fd, stack[-1].ident)
                if top.node is not None:
                    leave(top, stack[-1])
                    os.close(top.fd)
                continue
            path = top.path + b"/" + node.name
            snap_path = top.snap_path.rstrip("/") + "/" + os.fsdecode(node.name)
            restore, descend = self._wanted(snap_path, node.type == "dir")
            if not restore:
                continue
            if node.type != "dir":
                visit(top, node, path, snap_path)
                continue
            fd = enter(top, node, path, snap_path)
            if fd is None:
                continue
            nodes = self._children(node.subtree, snap_path, report) if descend else iter(())
            stack.append(_Level(nodes, fd, inode_of(fd), path, snap_path, node))
            if len(stack) > _OPEN_LEVELS:
                deep = stack[-_OPEN_LEVELS - 1]
                if deep.node is not None and deep.fd >= 0:
                    os.close(deep.fd)
                    deep.fd = -1

    # -- pass 1: directories and empty files of the right size --------------------------------

    def _make_dir(self, parent: _Level, node: Node, path: bytes, snap_path: str) -> int | None:
        try:
            fd, new = mkdir_at(parent.fd, node.name)
        except OSError as exc:
            self.stats.failed.append((snap_path, exc.strerror or str(exc)))
            return None
        self._made[path] = inode_of(fd)
        if new and not self._selected(snap_path):
            self._on_the_way.add(path)  # made only to reach what was selected: removed if it stays empty
        return fd

    def _selected(self, snap_path: str) -> bool:
        """Is the node itself selected (not merely a directory on the way to a selected one)?"""
        if self.exact is not None:
            return self.exact.wanted(snap_path, False)[0]
        return not self.include or self.include.matches(snap_path)

    def _leave_dir(self, level: _Level, parent: _Level) -> None:
        assert level.node is not None
        if level.path in self._on_the_way and not os.listdir(level.fd):
            try:
                os.rmdir(level.node.name, dir_fd=parent.fd)
                return
            except OSError:
                pass
        fd_meta(level.fd, level.node, self._is_root)

    def _plan_node(self, parent: _Level, node: Node, path: bytes, snap_path: str) -> None:
        if node.type != "file":
            return  # links, symlinks, fifos and devices come after the content (pass 2)
        if self._keep_existing(parent.fd, node.name):
            return
        key = (node.device_id, node.inode)
        if node.links > 1 and key in self._sources:
            self._planned.add(path)
            return  # a hard link of a file already planned
        f = _File(path, node, snap_path)
        self._files.append(f)
        self._planned.add(path)
        if node.links > 1:
            self._sources[key] = f
        offset = 0
        for blob_id in node.content or []:
            found = self.repo.lookup_blob(BlobType.DATA, blob_id)
            if found is None:
                f.error = f"data blob {blob_id.hex()[:8]} is not in the index"
                break
            pack_id, blob = found
            entry = self._by_pack.setdefault(pack_id, {}).setdefault(blob_id, (blob, []))
            entry[1].append((f, offset))
            f.left += 1
            f.lengths.append(blob.plaintext_length)
            offset += blob.plaintext_length
        try:
            remove_non_dir(parent.fd, node.name)
            fd = os.open(node.name, CREATE, 0o600, dir_fd=parent.fd)
            try:
                os.ftruncate(fd, offset)
                f.ident = inode_of(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            f.error = exc.strerror or str(exc)

    # -- content --------------------------------------------------------------

    def _restore_pack(self, pack_id: str, blobs: list[tuple[PackedBlob, list[tuple[_File, int]]]]) -> None:
        for group in _ranges(blobs):
            start = group[0][0].offset
            end = group[-1][0].offset + group[-1][0].length
            try:
                data = memoryview(self.repo.load_pack_range(pack_id, start, end - start))
            except (VaultError, OSError) as exc:
                _fail(group, f"pack {pack_id[:8]} cannot be read: {exc}")
                continue
            for blob, targets in group:
                try:
                    plain = self.repo.decode_blob(
                        pack_id, blob, data[blob.offset - start : blob.offset - start + blob.length]
                    )
                except (VaultError, OSError) as exc:
                    _fail([(blob, targets)], str(exc))
                    continue
                zero = plain == _ZERO[: len(plain)] if len(plain) <= len(_ZERO) else not any(plain)
                for f, offset in targets:
                    with self._left_lock:
                        f.left -= 1
                        last = f.left == 0
                    if not (f.error or zero):
                        self._write(f, offset, plain, last)
            if self.progress is not None:
                self.progress(self.stats)

    def _write(self, f: _File, offset: int, data: bytes, last: bool) -> None:
        """Write one blob; after the file's last write, its metadata through the same descriptor
        (saves opening each small file twice)."""
        try:
            fd = reopen(f.path, f.ident, os.O_WRONLY)
            try:
                os.pwrite(fd, data, offset)
                if last:
                    fd_meta(fd, f.node, self._is_root)
                    f.finished = True
            finally:
                os.close(fd)
        except OSError as exc:
            f.error = exc.strerror or str(exc)

    # -- pass 2: links, special files, metadata --------------------------------

    def _open_made_dir(self, parent: _Level, node: Node, path: bytes, snap_path: str) -> int | None:
        ident = self._made.get(path)
        if ident is None:
            return None  # pass 1 could not make it (already reported)
        try:
            fd = os.open(node.name, OPEN_DIR, dir_fd=parent.fd)
        except OSError as exc:
            self.stats.failed.append((snap_path, exc.strerror or str(exc)))
            return None
        if inode_of(fd) != ident:
            os.close(fd)
            raise TargetChangedError(f"{os.fsdecode(path)} was replaced during the restore: restore again")
        return fd

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

    def _finish_node(self, parent: _Level, node: Node, path: bytes, snap_path: str) -> None:
        if node.type == "file" and path not in self._planned:
            return  # kept as it was (overwrite="never")
        if node.type == "file":
            key = (node.device_id, node.inode)
            source = self._sources.get(key) if node.links > 1 else None
            if source is not None and source.path != path:
                self._link(parent.fd, node.name, source, snap_path)
            elif (failed := self._failed.get(path)) is not None:
                unlink_if(parent.fd, node.name, failed.ident)
            return
        if self._keep_existing(parent.fd, node.name):
            return
        try:
            remove_non_dir(parent.fd, node.name)
            if node.type == "symlink":
                os.symlink(node.linktarget, node.name, dir_fd=parent.fd)
            elif node.type == "fifo":
                os.mkfifo(node.name, 0o600, dir_fd=parent.fd)
            elif node.type in ("dev", "chardev") and self._is_root:
                kind = stat.S_IFBLK if node.type == "dev" else stat.S_IFCHR
                os.mknod(node.name, kind | 0o600, node.device, dir_fd=parent.fd)
            else:
                return
        except OSError as exc:
            self.stats.failed.append((snap_path, exc.strerror or str(exc)))
            return
        name_meta(parent.fd, node, self._is_root)

    def _link(self, dir_fd: int, name: bytes, source: _File, snap_path: str) -> None:
        if source.error:
            self.stats.failed.append((snap_path, "the file it is a hard link of was not restored"))
            return
        try:
            fd = reopen(source.path, source.ident, os.O_RDONLY)
            try:
                remove_non_dir(dir_fd, name)
                # linkat(AT_EMPTY_PATH) needs privileges; /proc/self/fd links the proven inode
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
            finally:
                os.close(fd)
            self.stats.files_restored += 1
        except OSError as exc:
            self.stats.failed.append((snap_path, exc.strerror or str(exc)))

    def _finish_files(self) -> None:
        """Drop failed files; set the metadata of restored ones (content first, then times)."""
        for f in self._files:
            if not (f.error or f.finished):
                try:
                    fd = reopen(f.path, f.ident, os.O_RDONLY)
                    try:
                        fd_meta(fd, f.node, self._is_root)
                    finally:
                        os.close(fd)
                except OSError as exc:
                    f.error = exc.strerror or str(exc)
            if f.error:
                self.stats.failed.append((f.snap_path, f.error))
                self._failed[f.path] = f  # removed in pass 2, where its directory is open
                continue
            self.stats.files_restored += 1
            self.stats.bytes_restored += sum(f.lengths)

    # -- the run --------------------------------------------------------------

    def run(self, tree_id: bytes, verify: bool = False, root_path: str = "/") -> RestoreStats:
        """Restore the tree (the snapshot folder `root_path`) into `target`: its children become the
        target's children, so `/` keeps the snapshot's absolute paths below the target."""
        self._root_path = root_path
        os.makedirs(self.target, exist_ok=True)
        root_fd = os.open(self.target, OPEN_DIR & ~os.O_NOFOLLOW)
        try:
            self._walk(
                tree_id, root_fd, enter=self._make_dir, visit=self._plan_node, leave=_no_leave, report=True
            )
            packs = {p: sorted(b.values(), key=lambda e: e[0].offset) for p, b in self._by_pack.items()}
            with ThreadPoolExecutor(self.workers, thread_name_prefix="vault-restore") as pool:
                for fut in [pool.submit(self._restore_pack, p, b) for p, b in packs.items()]:
                    fut.result()
            self._finish_files()
            self._walk(
                tree_id,
                root_fd,
                enter=self._open_made_dir,
                visit=self._finish_node,
                leave=self._leave_dir,
                report=False,
            )
        finally:
            os.close(root_fd)
        if verify:
            self._verify()
        if self.progress is not None:
            self.progress(self.stats)
        return self.stats

    def _verify(self) -> None:
        """Re-read every restored file and check each chunk's SHA-256 against its blob id."""
        for f in self._files:
            if f.error:
                continue
            try:
                fd = reopen(f.path, f.ident, os.O_RDONLY)
                with open(fd, "rb", buffering=0) as fh:
                    for blob_id, length in zip(f.node.content or [], f.lengths, strict=True):
                        if hashlib.sha256(fh.read(length)).digest() != blob_id:
                            raise OSError(f"content differs from blob {blob_id.hex()[:8]}")
                    if fh.read(1):
                        raise OSError("file is longer than in the snapshot")
            except OSError as exc:
                self.stats.failed.append((f.snap_path, f"verify: {exc.strerror or exc}"))
        self.stats.verified = True


def _ranges(
    blobs: list[tuple[PackedBlob, list[tuple[_File, int]]]],
) -> list[list[tuple[PackedBlob, list[tuple[_File, int]]]]]:
    """Split a pack's needed blobs (sorted by offset) into read requests without big gaps."""
    groups: list[list[tuple[PackedBlob, list[tuple[_File, int]]]]] = []
    start = end = -1
    for entry in blobs:
        blob = entry[0]
        new_end = blob.offset + blob.length
        if groups and blob.offset - end <= _MAX_GAP and new_end - start <= _MAX_READ:
            groups[-1].append(entry)
        else:
            groups.append([entry])
            start = blob.offset
        end = new_end
    return groups


def _fail(group: list[tuple[PackedBlob, list[tuple[_File, int]]]], reason: str) -> None:
    for _, targets in group:
        for f, _offset in targets:
            f.error = f.error or reason


OVERWRITE = ("always", "never")  # restic's --overwrite choices that mamori offers
_OPEN_LEVELS = 64


def _no_leave(level: _Level, parent: _Level) -> None:
    pass
