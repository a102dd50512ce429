"""A repository in a local directory, in restic's default layout (`data/XX/<id>`, `keys/`, ...).

Writes are atomic as in restic `internal/backend/local`: a temporary file next to the target,
fsync, link into place (which refuses to overwrite), fsync the directory, and the file is
made read-only (0400) since repository files never change. Pack files are the exception to the
immediate fsync: they are fsynced in `sync()`, which the repository calls before it writes the
index naming them. The kernel writes them back meanwhile, so backups do not wait on the disk
for every pack, and no index ever points at a pack that is not on stable storage.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from mamori.vault.backend import Backend, Data, FileInfo, FileType, Handle, Spool, data_parts, is_object_name
from mamori.vault.errors import (
    BackendError,
    BackendNotFoundError,
    ObjectExistsError,
    PermanentBackendError,
    TransientBackendError,
)

__all__ = ["LocalBackend", "OpenPacks"]

_DIR_MODE = 0o700
_FILE_MODE = 0o400
_TRANSIENT = frozenset({errno.EAGAIN, errno.EINTR, errno.EBUSY, errno.ETIMEDOUT, errno.EIO})
_FADVISE = hasattr(os, "posix_fadvise")


def _convert(exc: OSError, handle: Handle | str) -> BackendError:
    """Map an OS error onto the backend error tree at the boundary."""
    path = str(handle)
    if isinstance(exc, FileNotFoundError | NotADirectoryError):  # a file where a directory should be
        return BackendNotFoundError(f"{path} does not exist", path=path)
    if isinstance(exc, FileExistsError):
        return ObjectExistsError(f"{path} already exists", path=path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return PermanentBackendError(
            f"{path}: {exc.strerror}: the repository's disk is full; what was saved before is intact"
            " (a backup saves its snapshot last): free space, then run it again",
            path=path,
        )
    if exc.errno in _TRANSIENT:
        return TransientBackendError(f"{path}: {exc.strerror} (temporary, retry)", path=path)
    return PermanentBackendError(f"{path}: {exc.strerror or exc}", path=path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


class LocalBackend(Backend):
    """Files under a root directory."""

    def __init__(self, root: str | os.PathLike[str], *, defer_pack_sync: bool = True) -> None:
        self.root = Path(root).absolute()
        self.location = str(self.root)
        self._prefix = self.location.rstrip("/")
        self.defer_pack_sync = defer_pack_sync
        self._unsynced: set[Path] = set()
        self._unsynced_lock = threading.Lock()

    def _dir(self, handle: Handle) -> Path:
        if handle.type is FileType.CONFIG:
            return self.root
        if handle.type is FileType.PACK:
            return self.root / "data" / handle.name[:2]
        return self.root / handle.type.value

    def _path(self, handle: Handle) -> Path:
        return Path(self._file(handle))

    def _file(self, handle: Handle) -> str:
        # a string, not a Path: a backup reads a tree blob per folder, and pathlib's joins cost
        # more than the read
        if handle.type is FileType.CONFIG:
            return self._prefix + "/config"
        if handle.type is FileType.PACK:
            return f"{self._prefix}/data/{handle.name[:2]}/{handle.name}"
        return f"{self._prefix}/{handle.type.value}/{handle.name}"

    def create(self) -> None:
        """Make the directories restic makes, including `data/00` … `data/ff`."""
        try:
            for sub in ("data", "index", "keys", "locks", "snapshots"):
                (self.root / sub).mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            for i in range(256):
                (self.root / "data" / f"{i:02x}").mkdir(mode=_DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise _convert(exc, self.location) from exc

    def spool(self) -> Spool:
        """A pack's file in `data/`, so `save` links it into place instead of copying it."""
        return Spool(self.root / "data", lambda exc: _convert(exc, "data"))

    def save(self, handle: Handle, data: Data) -> None:
        """Temp file, fsync, hard link into place (no overwrite), fsync dir; a spool of ours is
        linked into place as it is."""
        directory = self._dir(handle)
        final = self._path(handle)
        tmp = directory / f"{final.name}-tmp-{os.urandom(8).hex()}"
        deferred = self.defer_pack_sync and handle.type is FileType.PACK
        try:
            directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            if isinstance(data, Spool) and self._link_spool(data, final, directory, deferred):
                return
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                for part in data_parts(data):
                    view = memoryview(part)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                if not deferred:
                    os.fsync(fd)
                elif _FADVISE:
                    # Starts writeback now without waiting for it (Linux), so the fsync in
                    # sync() finds little left to do; the pages are not needed in the cache.
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            os.chmod(tmp, _FILE_MODE)
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                # No hard links here (FAT, some FUSE mounts): check, then rename.
                if final.exists():
                    raise FileExistsError(errno.EEXIST, "exists", str(final)) from exc
                os.rename(tmp, final)
            if deferred:
                with self._unsynced_lock:
                    self._unsynced.add(final)
            else:
                _fsync_dir(directory)
        except OSError as exc:
            raise _convert(exc, handle) from exc
        finally:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # leftover temp files are ignored by list() and removed by prune
                pass

    def _link_spool(self, spool: Spool, final: Path, directory: Path, deferred: bool) -> bool:
        """Store a spool by linking it to `final` (fsynced now or at `sync`); False if it cannot be."""
        if not deferred:
            spool.fsync()
        if not spool.link(final, _FILE_MODE):
            return False
        if deferred:
            spool.advise_writeback()
            with self._unsynced_lock:
                self._unsynced.add(final)
        else:
            _fsync_dir(directory)
        return True

    def sync(self) -> None:
        """fsync the pack files saved since the last sync, then their directories."""
        with self._unsynced_lock:
            pending = self._unsynced
            self._unsynced = set()
        try:
            for path in sorted(pending):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            for directory in sorted({p.parent for p in pending}):
                _fsync_dir(directory)
        except OSError as exc:
            with self._unsynced_lock:
                self._unsynced |= pending
            raise _convert(exc, "sync") from exc

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        """Read a range with pread (the whole file from `offset` when `length` is 0)."""
        try:
            fd = os.open(self._file(handle), os.O_RDONLY | os.O_CLOEXEC)
            try:
                if length <= 0:
                    length = max(0, os.fstat(fd).st_size - offset)
                return self._read(fd, offset, length)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _convert(exc, handle) from exc

    def _read(self, fd: int, offset: int, length: int) -> bytes:
        data = os.pread(fd, length, offset)
        while 0 < len(data) < length:  # short reads: a very large range, or a file growing
            more = os.pread(fd, length - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data

    def stat(self, handle: Handle) -> int:
        """Size from the file system."""
        try:
            return os.stat(self._file(handle)).st_size
        except OSError as exc:
            raise _convert(exc, handle) from exc

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        """Scan the type's directory (all `data/XX` for packs); skips temp files and strangers."""
        if file_type is FileType.CONFIG:
            try:
                yield FileInfo("", (self.root / "config").stat().st_size)
            except FileNotFoundError:
                return
            except OSError as exc:
                raise _convert(exc, "config") from exc
            return
        base = self.root / file_type.value
        dirs = [base]
        if file_type is FileType.PACK:
            try:
                dirs = sorted(p for p in base.iterdir() if p.is_dir())
            except FileNotFoundError:
                return
            except OSError as exc:
                raise _convert(exc, str(base)) from exc
        for directory in dirs:
            try:
                entries = list(os.scandir(directory))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _convert(exc, str(directory)) from exc
            for entry in entries:
                name = entry.name
                if not is_object_name(name):
                    continue
                try:
                    size = entry.stat().st_size
                except FileNotFoundError:
                    continue  # removed meanwhile
                except OSError as exc:
                    raise _convert(exc, entry.path) from exc
                yield FileInfo(name, size)

    def remove(self, handle: Handle) -> None:
        """Unlink (read-only files can be unlinked: the directory is writable)."""
        try:
            self._path(handle).unlink()
        except OSError as exc:
            raise _convert(exc, handle) from exc

    def delete(self) -> None:
        """Remove the repository directory tree."""
        try:
            shutil.rmtree(self.root)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _convert(exc, self.location) from exc


class OpenPacks:
    """Ranged reads of a local repository's pack files that keep the last few files open.

    A backup reads the parent snapshot's tree of every folder, a few hundred bytes each from the
    same few packs, and opening and closing the file cost as much as reading it (pack files never
    change once written). For one thread; a forked worker process gets its own copy.
    """

    def __init__(self, backend: LocalBackend, keep: int = 8) -> None:
        self._backend = backend
        self._keep = keep
        self._open: dict[str, int] = {}  # pack id -> descriptor, least recently used first

    def load(self, pack_id: str, offset: int, length: int) -> bytes:
        """`length` bytes of the pack from `offset` (fewer if the file is shorter)."""
        try:
            fd = self._open.pop(pack_id, None)
            if fd is None:
                fd = os.open(self._backend._file(Handle(FileType.PACK, pack_id)), os.O_RDONLY | os.O_CLOEXEC)
                if len(self._open) >= self._keep:
                    os.close(self._open.pop(next(iter(self._open))))
            self._open[pack_id] = fd
            return self._backend._read(fd, offset, length)
        except OSError as exc:
            raise _convert(exc, Handle(FileType.PACK, pack_id)) from exc

    def close(self) -> None:
        """Close the files kept open."""
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()
