"""A file a pack is written into as its blobs arrive, so a pack being filled costs page cache, not
the backup process's memory (restic spools its packs to temporary files too).

`Backend.save` stores a spool as it is: the local backend links it into place (no copy), the others
read it back in pieces. The file has no name where the system allows (O_TMPFILE), so a killed
backup leaves nothing behind; elsewhere it is a named temporary file removed by `close`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator

from mamori.vault.errors import BackendError, PermanentBackendError

__all__ = ["PIECE", "Spool", "write_all"]

PIECE = 1024 * 1024
"""Bytes per piece when a spool is read back (one upload part, one write)."""
# Appends are gathered up to this many bytes (or buffers) and written with one call: a pack of
# small files has thousands of blobs, and a system call for each cost more than the work.
_GATHER = 256 * 1024
_IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024) if hasattr(os, "sysconf") else 16

_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
# what a file system without unnamed temporary files answers (open(2))
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT})


class Spool:
    """An append-only temporary file in `directory` (default: the system's temporary directory)
    with the SHA-256 of what was appended. Not thread-safe while it is written; once complete,
    reads (`pread`, iterating its content in pieces, `bytes()`) are, and may be repeated (a retried
    upload). Failures of the file system are raised as `convert` makes them (the local backend's
    own errors), by default as a `PermanentBackendError` about the temporary directory."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        convert: Callable[[OSError], BackendError] | None = None,
    ) -> None:
        self.directory = os.fspath(directory) if directory is not None else tempfile.gettempdir()
        self._convert = convert or self._temporary_error
        self.path: str | None = None  # set only for a named temporary file
        self.fd = -1
        try:
            if _O_TMPFILE:
                try:
                    self.fd = os.open(self.directory, _O_TMPFILE | os.O_RDWR, 0o600)
                except OSError as exc:
                    if exc.errno not in _NO_TMPFILE:
                        raise
            if self.fd < 0:
                self.fd, self.path = tempfile.mkstemp(prefix="spool-", suffix="-tmp", dir=self.directory)
        except OSError as exc:
            raise self._convert(exc) from exc
        self.size = 0
        self._digest = hashlib.sha256()
        self._gathered: list[bytes | bytearray | memoryview] = []
        self._gathered_size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append `data` whole (kept by reference until written: the caller does not change it)."""
        self._digest.update(data)
        self._gathered.append(data)
        size = memoryview(data).nbytes
        self._gathered_size += size
        self.size += size
        if self._gathered_size >= _GATHER or len(self._gathered) >= _IOV_MAX:
            self._write_gathered()

    def _temporary_error(self, exc: OSError) -> BackendError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return PermanentBackendError(
                f"{self.directory}: {exc.strerror}: the disk of the temporary directory is full"
                " (packs are written there before they are uploaded): free space or set TMPDIR",
                path=self.directory,
            )
        return PermanentBackendError(f"{self.directory}: {exc.strerror or exc}", path=self.directory)

    def _write_gathered(self) -> None:
        if not self._gathered:
            return
        gathered = self._gathered
        self._gathered = []
        self._gathered_size = 0
        try:
            write_all(self.fd, gathered)
        except OSError as exc:
            raise self._convert(exc) from exc

    def digest(self) -> bytes:
        """SHA-256 of everything appended so far."""
        return self._digest.digest()

    def pread(self, offset: int, length: int) -> bytes:
        """`length` bytes from `offset` (fewer only past the end)."""
        self._write_gathered()
        parts = []
        while length > 0:
            try:
                part = os.pread(self.fd, length, offset)
            except OSError as exc:
                raise self._convert(exc) from exc
            if not part:
                break
            parts.append(part)
            offset += len(part)
            length -= len(part)
        return b"".join(parts)

    def __iter__(self) -> Iterator[bytes]:
        """The content in pieces of `PIECE` bytes, from the start."""
        self._write_gathered()
        for offset in range(0, self.size, PIECE):
            yield self.pread(offset, min(PIECE, self.size - offset))

    def __bytes__(self) -> bytes:
        return self.pread(0, self.size)

    def __len__(self) -> int:
        return self.size

    def link(self, target: str | os.PathLike[str], mode: int) -> bool:
        """Give the file the name `target` (which must not exist) with permissions `mode`; False
        when it cannot be linked there (another file system, no hard links), and nothing changed.
        `FileExistsError` when `target` exists."""
        self._write_gathered()
        os.fchmod(self.fd, mode)
        source = self.path if self.path is not None else f"/proc/self/fd/{self.fd}"
        target = os.fspath(target)
        directory = os.open(os.path.dirname(target) or ".", os.O_RDONLY | os.O_DIRECTORY)
        try:
            # linkat(AT_SYMLINK_FOLLOW) follows the /proc link to the unnamed file (open(2));
            # os.link uses it only when given a directory descriptor
            os.link(source, os.path.basename(target), dst_dir_fd=directory, follow_symlinks=True)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.ENOENT):
                return False
            raise
        finally:
            os.close(directory)
        return True

    def fsync(self) -> None:
        """Make what was appended durable."""
        self._write_gathered()
        try:
            os.fsync(self.fd)
        except OSError as exc:
            raise self._convert(exc) from exc

    def advise_writeback(self) -> None:
        """Start writing the file to disk now without waiting, and let its pages leave the cache."""
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)

    def close(self) -> None:
        """Release the file (an unnamed one is gone; a named one is removed). Idempotent."""
        self._gathered = []
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)
            if self.path is not None:
                try:
                    os.unlink(self.path)
                except OSError:
                    pass

    def __del__(self) -> None:
        self.close()


def write_all(fd: int, parts: list[bytes | bytearray | memoryview]) -> None:
    """Write `parts` in order with as few system calls as the kernel allows (no joining copy)."""
    views = [memoryview(part).cast("B") for part in parts]
    while views:
        written = os.write(fd, views[0]) if len(views) == 1 else os.writev(fd, views[:_IOV_MAX])
        done = 0
        while done < len(views) and written >= views[done].nbytes:
            written -= views[done].nbytes
            done += 1
        del views[:done]
        if views and written:
            views[0] = views[0][written:]
