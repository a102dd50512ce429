"""A restore job: make a batch of files, write their content from the packs, set their metadata.

The restorer walks the snapshot and hands the files it meets, a few dozen at a time, to worker
processes (or threads, for a backend that cannot be forked). A job names each file's directory by
path and (device, inode); the job opens the directory, checks it is the one the restorer made, and
then works relative to that descriptor only: files are created O_EXCL|O_NOFOLLOW (or, when the
restorer made one already for its hard links, reopened and proven by inode), their blobs looked up,
the needed ranges of each pack read once, every blob decrypted and verified and written to each
place it belongs, and the metadata set through the same descriptor. A file whose blob is missing
or damaged is removed again and reported; the others of the job are restored.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Sequence
from typing import Protocol

from mamori.vault.confined import CREATE, Meta, remove_non_dir, reopen, set_meta, unlink_if
from mamori.vault.errors import VaultError
from mamori.vault.freespace import KeepFree
from mamori.vault.pack import BlobType, PackedBlob

__all__ = ["STOPPED", "FileJob", "GroupJob", "Meta", "RestoreReader", "run_job"]

# Read a pack's needed blobs in requests of at most _MAX_READ bytes (bounded memory per worker),
# and start a new request rather than read over a gap larger than _MAX_GAP.
_MAX_GAP = 1024 * 1024
_MAX_READ = 4 * 1024 * 1024
_OPEN_DIR_PATH = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_CREATE_RW = (CREATE & ~os.O_WRONLY) | os.O_RDWR  # read back by --verify
# With a `KeepFree`, the file system is asked again after every _CHECK_BYTES written.
_CHECK_BYTES = 16 * 1024 * 1024
STOPPED = -1
"""The size in a file's result when it was not restored because the file system reached what the
restore leaves free: the restorer stops."""

FileJob = tuple[bytes, list[bytes], Meta, tuple[int, int] | None]
"""name, content blob ids, metadata, (device, inode) if the restorer made the file already."""

GroupJob = tuple[bytes, tuple[int, int], list[FileJob]]
"""A directory's path and (device, inode), and the files to restore in it."""


class RestoreReader(Protocol):
    """What a job needs from the repository: where a blob is, the stored bytes, the plaintext."""

    def lookup_blob(self, blob_type: BlobType, blob_id: bytes) -> tuple[str, PackedBlob] | None: ...
    def decode_blob(self, pack_id: str, blob: PackedBlob, sealed: bytes | memoryview) -> bytes: ...
    def load_pack_range(self, pack_id: str, offset: int, length: int) -> bytes: ...


class _Open:
    """A file of the job while it is written."""

    __slots__ = ("dir_fd", "end", "error", "fd", "meta", "name", "result", "size", "verify")

    def __init__(self, dir_fd: int, name: bytes, meta: Meta, result: int) -> None:
        self.dir_fd = dir_fd
        self.name = name
        self.meta = meta
        self.result = result
        self.fd = -1
        self.size = 0
        self.end = 0  # end of the last byte written
        self.error = ""
        self.verify: list[tuple[bytes, int]] = []


Target = tuple[_Open, int]
Needed = dict[tuple[str, bytes], tuple[PackedBlob, list[Target]]]


class _Space:
    """The job's watch on its file system: once it has less free than `keep_free`, every file of
    the job fails with the reason (and is removed again) and nothing more is written."""

    def __init__(self, keep_free: KeepFree | None, files: list[_Open]) -> None:
        self.keep_free = keep_free
        self.files = files
        self.written = 0
        self.reason = ""

    def check(self, fd: int, written: int = _CHECK_BYTES) -> None:
        if self.keep_free is None or self.reason:
            return
        self.written += written
        if self.written >= _CHECK_BYTES:
            self.written = 0
            reason = self.keep_free.shortfall(fd)
            if reason:
                self.reason = reason
                for f in self.files:
                    f.error = f.error or reason


def run_job(
    repo: RestoreReader,
    groups: Sequence[GroupJob],
    *,
    is_root: bool,
    verify: bool,
    keep_free: KeepFree | None = None,
) -> list[tuple[str, int]]:
    """Restore the files of `groups`; per file, in order: (error or "", bytes restored), the size
    `STOPPED` when the file system reached what `keep_free` leaves free."""
    results: list[tuple[str, int]] = []
    files: list[_Open] = []
    space = _Space(keep_free, files)
    needed: Needed = {}
    dir_fds: list[int] = []
    try:
        for dir_path, dir_ident, file_jobs in groups:
            try:
                dir_fd = _open_dir(dir_path, dir_ident)
            except OSError as exc:
                results.extend((exc.strerror or str(exc), 0) for _ in file_jobs)
                continue
            dir_fds.append(dir_fd)
            space.check(dir_fd)  # before its files take their inodes
            for name, content, meta, ident in file_jobs:
                f = _Open(dir_fd, name, meta, len(results))
                results.append(("", 0))
                files.append(f)
                if space.reason:
                    f.error = space.reason
                else:
                    _plan(repo, f, content, ident, needed, verify)
        for pack_id, blobs in _by_pack(needed).items():
            _write_pack(repo, pack_id, blobs, space)
        for f in files:
            error, size = _finish(f, is_root, verify)
            results[f.result] = (error, STOPPED if space.reason and error == space.reason else size)
    finally:
        for f in files:
            if f.fd >= 0:
                os.close(f.fd)
        for fd in dir_fds:
            os.close(fd)
    return results


def _open_dir(path: bytes, ident: tuple[int, int]) -> int:
    """The directory the restorer made at `path`, or fail: the inode proves it whatever the path crossed."""
    try:
        fd = os.open(path, _OPEN_DIR_PATH | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP, errno.ENOENT):  # a symlink or a file there now
            raise _replaced() from exc
        raise
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != ident:
        os.close(fd)
        raise _replaced()
    return fd


def _replaced() -> OSError:
    return OSError(errno.ESTALE, "its folder was replaced during the restore, not written")


def _plan(
    repo: RestoreReader,
    f: _Open,
    content: list[bytes],
    ident: tuple[int, int] | None,
    needed: Needed,
    verify: bool,
) -> None:
    """Open the file and look its blobs up; a failure is recorded on `f` (the file is removed again)."""
    try:
        if ident is None:
            try:
                f.fd = os.open(f.name, _CREATE_RW, 0o600, dir_fd=f.dir_fd)
            except FileExistsError:
                remove_non_dir(f.dir_fd, f.name)
                f.fd = os.open(f.name, _CREATE_RW, 0o600, dir_fd=f.dir_fd)
        else:
            f.fd = reopen(f.name, ident, os.O_RDWR, dir_fd=f.dir_fd)
    except OSError as exc:
        f.error = exc.strerror or str(exc)
        return
    offset = 0
    places: list[tuple[str, PackedBlob, int]] = []
    for blob_id in content:
        found = repo.lookup_blob(BlobType.DATA, blob_id)
        if found is None:
            f.error = f"data blob {blob_id.hex()[:8]} is not in the index"
            return
        places.append((found[0], found[1], offset))
        offset += found[1].plaintext_length
    f.size = offset
    for pack_id, blob, at in places:
        entry = needed.setdefault((pack_id, blob.id), (blob, []))
        entry[1].append((f, at))
    if verify:
        f.verify = [(blob.id, blob.plaintext_length) for _pack, blob, _at in places]


def _by_pack(needed: Needed) -> dict[str, list[tuple[PackedBlob, list[Target]]]]:
    packs: dict[str, list[tuple[PackedBlob, list[Target]]]] = {}
    for (pack_id, _blob_id), entry in needed.items():
        packs.setdefault(pack_id, []).append(entry)
    for entries in packs.values():
        entries.sort(key=lambda e: e[0].offset)
    return packs


def _write_pack(
    repo: RestoreReader, pack_id: str, blobs: list[tuple[PackedBlob, list[Target]]], space: _Space
) -> None:
    for group in _ranges(blobs):
        start = group[0][0].offset
        end = group[-1][0].offset + group[-1][0].length
        try:
            data = memoryview(repo.load_pack_range(pack_id, start, end - start))
        except (VaultError, OSError) as exc:
            _fail(group, f"pack {pack_id[:8]} cannot be read: {exc}")
            continue
        for blob, targets in group:
            if all(f.error for f, _at in targets):
                continue
            try:
                plain = repo.decode_blob(
                    pack_id, blob, data[blob.offset - start : blob.offset - start + blob.length]
                )
            except (VaultError, OSError) as exc:
                _fail([(blob, targets)], str(exc))
                continue
            # all-zero chunks stay holes (the file gets its size at the end): sparse files stay sparse
            if plain and plain[0] == 0 and plain.count(0) == len(plain):
                continue
            for f, at in targets:
                if not f.error:
                    try:
                        os.pwrite(f.fd, plain, at)
                        f.end = max(f.end, at + len(plain))
                    except OSError as exc:
                        f.error = exc.strerror or str(exc)
                    space.check(f.fd, len(plain))


def _ranges(blobs: list[tuple[PackedBlob, list[Target]]]) -> list[list[tuple[PackedBlob, list[Target]]]]:
    """Split a pack's needed blobs (sorted by offset) into read requests without big gaps."""
    groups: list[list[tuple[PackedBlob, list[Target]]]] = []
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


def _fail(group: list[tuple[PackedBlob, list[Target]]], reason: str) -> None:
    for _blob, targets in group:
        for f, _at in targets:
            f.error = f.error or reason


def _finish(f: _Open, is_root: bool, verify: bool) -> tuple[str, int]:
    """Size, verification and metadata of a written file; a failed one is removed again."""
    if not f.error and f.fd >= 0:
        try:
            if f.end != f.size:
                os.ftruncate(f.fd, f.size)
            if verify:
                _verify(f)
            set_meta(f.fd, f.meta, is_root)
        except OSError as exc:
            f.error = exc.strerror or str(exc)
    if not f.error:
        os.close(f.fd)
        f.fd = -1
        return "", f.size
    if f.fd >= 0:
        st = os.fstat(f.fd)
        os.close(f.fd)
        f.fd = -1
        unlink_if(f.dir_fd, f.name, (st.st_dev, st.st_ino))
    return f.error, 0


def _verify(f: _Open) -> None:
    """Read the written file back and check each chunk's SHA-256 against its blob id."""
    at = 0
    for blob_id, length in f.verify:
        if hashlib.sha256(os.pread(f.fd, length, at)).digest() != blob_id:
            raise OSError(f"verify: content differs from blob {blob_id.hex()[:8]}")
        at += length
    if os.pread(f.fd, 1, at):
        raise OSError("verify: file is longer than in the snapshot")
