"""An in-memory backend for tests and the reference for backend semantics (restic `mem_backend.go`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from mamori.vault.backend import Backend, Data, FileInfo, FileType, Handle
from mamori.vault.errors import BackendNotFoundError, ObjectExistsError

__all__ = ["MemoryBackend"]


class MemoryBackend(Backend):
    """Files in a dict, guarded by a lock so concurrent savers behave like a real store."""

    def __init__(self, location: str = "mem:") -> None:
        self.location = location
        self._files: dict[Handle, bytes] = {}
        self._lock = threading.Lock()

    def create(self) -> None:
        """Nothing to prepare."""

    def save(self, handle: Handle, data: Data) -> None:
        """Store a copy of `data`; an existing name raises `ObjectExistsError`."""
        blob = b"".join(data) if isinstance(data, list) else bytes(data)
        with self._lock:
            if handle in self._files:
                raise ObjectExistsError(f"{handle} already exists", path=str(handle))
            self._files[handle] = blob

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        """Slice of the stored bytes."""
        with self._lock:
            blob = self._files.get(handle)
        if blob is None:
            raise BackendNotFoundError(f"{handle} does not exist", path=str(handle))
        end = offset + length if length > 0 else len(blob)
        return blob[offset:end]

    def stat(self, handle: Handle) -> int:
        """Size of the stored bytes."""
        with self._lock:
            blob = self._files.get(handle)
        if blob is None:
            raise BackendNotFoundError(f"{handle} does not exist", path=str(handle))
        return len(blob)

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        """A snapshot of the names at call time."""
        with self._lock:
            items = [FileInfo(h.name, len(b)) for h, b in self._files.items() if h.type is file_type]
        return iter(items)

    def remove(self, handle: Handle) -> None:
        """Drop one file."""
        with self._lock:
            if self._files.pop(handle, None) is None:
                raise BackendNotFoundError(f"{handle} does not exist", path=str(handle))

    def delete(self) -> None:
        """Drop everything."""
        with self._lock:
            self._files.clear()
