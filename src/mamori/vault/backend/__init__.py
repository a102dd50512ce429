"""Storage below a repository: named, write-once files of a few types (restic `internal/backend`).

A backend knows nothing about encryption or formats. Every method states its error semantics:
a missing object is `BackendNotFoundError`, a refused overwrite `ObjectExistsError`, a failure
worth retrying `TransientBackendError`, anything else `PermanentBackendError`.

Modules: `mem` (the reference), `local`, `sftp`, `s3`, `rest`; `wrappers` (retry, logging) and
`location` (repository URLs → wrapped backends). Every backend passes one conformance suite
(`tests/vault/backend/test_conformance.py`).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from mamori.vault.backend.spool import Spool
from mamori.vault.errors import BackendNotFoundError, UnsupportedBackendError

__all__ = [
    "Backend",
    "Data",
    "FileInfo",
    "FileType",
    "Handle",
    "ObjectLock",
    "Spool",
    "data_parts",
    "data_size",
    "is_object_name",
]

_HEX = frozenset("0123456789abcdef")


def is_object_name(name: str) -> bool:
    """A repository file name: 64 lowercase hex characters. Listings skip anything else (temporary
    uploads, a hostile server's `../config`), so no other name ever reaches a `Handle`."""
    return len(name) == 64 and set(name) <= _HEX


class FileType(enum.StrEnum):
    """The kinds of files in a repository; the value is restic's directory name."""

    PACK = "data"
    KEY = "keys"
    LOCK = "locks"
    SNAPSHOT = "snapshots"
    INDEX = "index"
    CONFIG = "config"
    LEGACY_KEY = "key"
    """restic's old `s3legacy` name for keys/: only listed, to recognise that unsupported layout."""


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


@dataclass(frozen=True, slots=True)
class ObjectLock:
    """The retention every saved object gets (S3 Object Lock): mode and days from the save."""

    mode: str
    """COMPLIANCE (nobody can shorten or delete) or GOVERNANCE (privileged users can)."""
    days: int


Data = bytes | bytearray | memoryview | list[bytes] | list[bytes | bytearray] | Spool
"""What `save` stores: one buffer, a list of parts stored concatenated, or a spooled file (a pack,
written to a file as its blobs arrived instead of being held in memory)."""


def data_size(data: Data) -> int:
    """Total bytes of `data`."""
    if isinstance(data, list):
        return sum(len(part) for part in data)
    return len(data)


def data_parts(data: Data) -> Iterable[bytes | bytearray | memoryview]:
    """`data` as buffers in order (a spool's are read one at a time: iterate once per use)."""
    if isinstance(data, list | Spool):
        return data
    return (data,)


class Backend(abc.ABC):
    """The storage interface every backend (mem, local; later sftp, s3, rest) implements."""

    location: str
    """Where the repository lives, without secrets (for messages)."""

    atomic_create: bool = True
    """`save` refuses an existing name even against a concurrent writer. False where the server
    cannot say (a REST server that overwrites): names are content hashes, so a lost race stores
    the same bytes twice."""

    object_lock: ObjectLock | None = None
    """The retention `save` gives every object except locks; None: objects can be deleted."""

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

    def config_info(self) -> Iterator[FileInfo]:
        """`list(FileType.CONFIG)` for backends that find the config with `stat`."""
        try:
            yield FileInfo("", self.stat(Handle(FileType.CONFIG)))
        except BackendNotFoundError:
            return

    def remove_each(self) -> None:
        """`delete` for backends without a recursive delete: every file, the config last."""
        for file_type in (FileType.PACK, FileType.KEY, FileType.LOCK, FileType.SNAPSHOT, FileType.INDEX):
            for info in list(self.list(file_type)):
                try:
                    self.remove(Handle(file_type, info.name))
                except BackendNotFoundError:
                    continue
        try:
            self.remove(Handle(FileType.CONFIG))
        except BackendNotFoundError:
            pass

    def exists(self, handle: Handle) -> bool:
        """Whether the file exists (via `stat`)."""
        try:
            self.stat(handle)
        except BackendNotFoundError:
            return False
        return True

    def retention(self, handle: Handle) -> datetime | None:
        """Until when the object cannot be deleted (read back from the server); None: not locked."""
        return None

    def extend_retention(self, handle: Handle, until: datetime) -> None:
        """Move the object's retain-until date to `until` (never shortens); only locking backends."""
        raise UnsupportedBackendError(f"{self.location} has no object lock: retention cannot be extended")

    def spool(self) -> Spool:
        """A new file to write a pack into before `save`: in the temporary directory (`save`
        reads it back), or where the backend can store it without a copy (the local backend)."""
        return Spool()

    def sync(self) -> None:  # noqa: B027 - optional hook, most backends are durable on save
        """Make every completed `save` durable. The repository calls it before writing an index
        file, so a backend may defer flushing pack data until then. Idempotent."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the backend must not be used afterwards."""
