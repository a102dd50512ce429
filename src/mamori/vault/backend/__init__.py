"""Storage below a repository: named, write-once files of a few types (restic `internal/backend`).

A backend knows nothing about encryption or formats. Every method states its error semantics:
a missing object is `BackendNotFoundError`, a refused overwrite `ObjectExistsError`, a failure
worth retrying `TransientBackendError`, anything else `PermanentBackendError`.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mamori.vault.errors import BackendNotFoundError

__all__ = ["Backend", "Data", "FileInfo", "FileType", "Handle", "data_parts", "data_size"]


class FileType(enum.StrEnum):
    """The kinds of files in a repository; the value is restic's directory name."""

    PACK = "data"
    KEY = "keys"
    LOCK = "locks"
    SNAPSHOT = "snapshots"
    INDEX = "index"
    CONFIG = "config"


@dataclass(frozen=True, slots=True)
class Handle:
    """One file: its type and name (64 hex chars; empty for the single `config` file)."""

    type: FileType
    name: str = ""

    def __str__(self) -> str:
        if self.type is FileType.CONFIG:
            return "config"
        return f"{self.type.value}/{self.name}"


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A listed file: name and size in bytes."""

    name: str
    size: int


Data = bytes | bytearray | memoryview | list[bytes] | list[bytes | bytearray]
"""What `save` stores: one buffer, or a list of parts stored concatenated (packs are written
from their sealed blobs without first joining them into one more 16 MiB buffer)."""


def data_size(data: Data) -> int:
    """Total bytes of `data`."""
    if isinstance(data, list):
        return sum(len(part) for part in data)
    return len(data)


def data_parts(data: Data) -> Sequence[bytes | bytearray | memoryview]:
    """`data` as a sequence of buffers."""
    if isinstance(data, list):
        return data
    return (data,)


class Backend(abc.ABC):
    """The storage interface every backend (mem, local; later sftp, s3, rest) implements."""

    location: str
    """Where the repository lives, without secrets (for messages)."""

    @abc.abstractmethod
    def create(self) -> None:
        """Prepare an empty repository layout. Idempotent: existing directories are fine."""

    @abc.abstractmethod
    def save(self, handle: Handle, data: Data) -> None:
        """Store `data` (a buffer or a list of parts) atomically: readers see all of it or nothing.

        Files are written once: an existing file raises `ObjectExistsError` and is left unchanged.
        After an error nothing is visible under the name, so the call may simply be repeated.
        """

    @abc.abstractmethod
    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        """Read `length` bytes from `offset` (0 = to the end). Read-only, safe to repeat.

        Returns fewer bytes only when the file ends earlier; callers check sizes.
        A missing file raises `BackendNotFoundError`.
        """

    @abc.abstractmethod
    def stat(self, handle: Handle) -> int:
        """The file's size in bytes; a missing file raises `BackendNotFoundError`."""

    @abc.abstractmethod
    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        """Every complete file of the type (never temporary files); order unspecified."""

    @abc.abstractmethod
    def remove(self, handle: Handle) -> None:
        """Delete one file. A missing file raises `BackendNotFoundError` (callers may ignore it)."""

    @abc.abstractmethod
    def delete(self) -> None:
        """Remove the whole repository with every file. Idempotent."""

    def exists(self, handle: Handle) -> bool:
        """Whether the file exists (via `stat`)."""
        try:
            self.stat(handle)
        except BackendNotFoundError:
            return False
        return True

    def sync(self) -> None:  # noqa: B027 - optional hook, most backends are durable on save
        """Make every completed `save` durable. The repository calls it before writing an index
        file, so a backend may defer flushing pack data until then. Idempotent."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the backend must not be used afterwards."""
