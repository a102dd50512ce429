"""Restore a snapshot (or part of it) to a directory: content, metadata, links, fifos, sparse files.

The plan is made first: every file is created at its final size (so all-zero chunks stay holes and
sparse files come back sparse), and the blobs to write are grouped by pack. Worker threads then read
each pack's needed range once, decrypt and verify every blob in it, and `pwrite` it to every place
it belongs. A missing or damaged pack fails only the files that need it; they are listed, the rest
is restored. Metadata (owner when root, mode, xattrs, times) comes last, directories deepest first.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from mamori.vault.errors import VaultError
from mamori.vault.fsmeta import posix_mode
from mamori.vault.model import Node, parse_tree
from mamori.vault.pack import BlobType, PackedBlob
from mamori.vault.pathfilter import PathFilter

_ZERO = bytes(8 * 1024 * 1024)
# Trees are walked recursively: allow thousands of directory levels (as the archiver).
DEEP_RECURSION_LIMIT = 20_000
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
    lengths: list[int] = field(default_factory=list)
    error: str = ""


@dataclass
class RestoreStats:
    """What a restore did; `failed` holds (snapshot path, reason) for files not restored."""

    files_restored: int = 0
    bytes_restored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    verified: bool = False


class Restorer:
    """Restores one tree into `target`; single use."""

    def __init__(
        self,
        repo: RestoreRepository,
        target: str,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        workers: int = 0,
        progress: Callable[[RestoreStats], None] | None = None,
    ) -> None:
        self.repo = repo
        self.target = os.fsencode(os.path.abspath(target))
        self.include = PathFilter(include)
        self.exclude = PathFilter(exclude)
        self.workers = workers or max(2, (os.cpu_count() or 2))
        self.progress = progress
        self.stats = RestoreStats()
        self._files: list[_File] = []
        self._links: list[tuple[bytes, bytes, Node, str]] = []
        self._dirs: list[tuple[bytes, Node]] = []
        self._others: list[tuple[bytes, Node]] = []
        self._seen_inodes: dict[tuple[int, int], _File] = {}
        self._is_root = os.geteuid() == 0
        self._lock = threading.Lock()

    # -- planning -------------------------------------------------------------

    def _wanted(self, snap_path: str, is_dir: bool) -> tuple[bool, bool]:
        """(restore this node, descend into it)."""
        if self.exclude and self.exclude.matches(snap_path):
            return False, False
        if not self.include:
            return True, True
        if self.include.matches(snap_path):
            return True, True
        below = is_dir and self.include.may_match_below(snap_path)
        return below, below

    def _plan(self, tree_id: bytes, path: bytes, snap_path: str) -> None:
        for node in parse_tree(self.repo.load_blob(BlobType.TREE, tree_id)):
            child = os.path.join(path, node.name)
            child_snap = snap_path.rstrip("/") + "/" + os.fsdecode(node.name)
            restore, descend = self._wanted(child_snap, node.type == "dir")
            if not restore:
                continue
            if node.type == "dir":
                os.makedirs(child, exist_ok=True)
                self._dirs.append((child, node))
                if descend and node.subtree is not None:
                    self._plan(node.subtree, child, child_snap)
            elif node.type == "file":
                key = (node.device_id, node.inode)
                if node.links > 1 and key in self._seen_inodes:
                    self._links.append((self._seen_inodes[key].path, child, node, child_snap))
                    continue
                f = _File(child, node, child_snap)
                self._files.append(f)
                if node.links > 1:
                    self._seen_inodes[key] = f
            else:
                self._others.append((child, node))

    def _layout(self) -> dict[str, list[tuple[PackedBlob, list[tuple[_File, int]]]]]:
        """Create every file at its size and group the blobs to write by pack."""
        by_pack: dict[str, dict[bytes, tuple[PackedBlob, list[tuple[_File, int]]]]] = {}
        for f in self._files:
            offset = 0
            for blob_id in f.node.content or []:
                found = self.repo.lookup_blob(BlobType.DATA, blob_id)
                if found is None:
                    f.error = f"data blob {blob_id.hex()[:8]} is not in the index"
                    break
                pack_id, blob = found
                entry = by_pack.setdefault(pack_id, {}).setdefault(blob_id, (blob, []))
                entry[1].append((f, offset))
                f.lengths.append(blob.plaintext_length)
                offset += blob.plaintext_length
            try:
                _unlink_existing(f.path)
                fd = os.open(f.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
                try:
                    os.ftruncate(fd, offset)
                finally:
                    os.close(fd)
            except OSError as exc:
                f.error = exc.strerror or str(exc)
        return {p: sorted(b.values(), key=lambda e: e[0].offset) for p, b in by_pack.items()}

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
                    if not (f.error or zero):
                        self._write(f, offset, plain)
            if self.progress is not None:
                self.progress(self.stats)

    def _write(self, f: _File, offset: int, data: bytes) -> None:
        try:
            fd = os.open(f.path, os.O_WRONLY | os.O_NOFOLLOW)
            try:
                os.pwrite(fd, data, offset)
            finally:
                os.close(fd)
        except OSError as exc:
            f.error = exc.strerror or str(exc)

    # -- metadata -------------------------------------------------------------

    def _meta(self, path: bytes, node: Node) -> None:
        symlink = node.type == "symlink"
        try:
            if self._is_root:
                os.chown(path, node.uid, node.gid, follow_symlinks=False)
            if not symlink:
                os.chmod(path, posix_mode(node))
                for name, value in node.extended_attributes:
                    try:
                        os.setxattr(path, name, value)
                    except OSError:
                        pass
            os.utime(path, ns=(node.atime.ns, node.mtime.ns), follow_symlinks=False)
        except OSError:
            pass

    def _create_other(self, path: bytes, node: Node) -> None:
        try:
            _unlink_existing(path)
            if node.type == "symlink":
                os.symlink(node.linktarget, path)
            elif node.type == "fifo":
                os.mkfifo(path, 0o600)
            elif node.type in ("dev", "chardev") and self._is_root:
                kind = stat.S_IFBLK if node.type == "dev" else stat.S_IFCHR
                os.mknod(path, kind | 0o600, node.device)
            else:
                return
        except OSError as exc:
            self.stats.failed.append((os.fsdecode(path), exc.strerror or str(exc)))
            return
        self._meta(path, node)

    # -- the run --------------------------------------------------------------

    def run(self, tree_id: bytes, verify: bool = False) -> RestoreStats:
        """Restore the tree under `target` (keeping the snapshot's absolute paths below it)."""
        sys.setrecursionlimit(max(sys.getrecursionlimit(), DEEP_RECURSION_LIMIT))
        os.makedirs(self.target, exist_ok=True)
        self._plan(tree_id, self.target, "/")
        packs = self._layout()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="vault-restore") as pool:
            for fut in [pool.submit(self._restore_pack, p, b) for p, b in packs.items()]:
                fut.result()
        for f in self._files:
            if f.error:
                self.stats.failed.append((f.snap_path, f.error))
                try:
                    os.unlink(f.path)
                except OSError:
                    pass
                continue
            self._meta(f.path, f.node)
            self.stats.files_restored += 1
            self.stats.bytes_restored += sum(f.lengths)
        sources = {f.path: f for f in self._files}
        for source, path, _node, snap_path in self._links:
            src = sources.get(source)
            if src is None or src.error:
                self.stats.failed.append((snap_path, "the file it is a hard link of was not restored"))
                continue
            try:
                _unlink_existing(path)
                os.link(source, path)
                self.stats.files_restored += 1
            except OSError as exc:
                self.stats.failed.append((snap_path, exc.strerror or str(exc)))
        for path, node in self._others:
            self._create_other(path, node)
        for path, node in reversed(self._dirs):
            self._meta(path, node)
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
                with open(f.path, "rb", buffering=0) as fh:
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


def _unlink_existing(path: bytes) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
