"""Every error the engine raises: one root, `VaultError`, with fields instead of strings to parse.

The tree (the CLI maps classes to exit codes through `exit_code`)::

    VaultError                              exit 1
    ├── RepositoryError
    │   ├── RepositoryNotFoundError         exit 10
    │   ├── RepositoryExistsError
    │   ├── WrongPasswordError              exit 12
    │   ├── NoUsableKeyError                every key file is malformed (not a password problem)
    │   ├── LegacyLayoutError               restic's old s3legacy layout (key/, snapshot/)
    │   ├── RepositoryLockedError           exit 11
    │   └── UnsupportedVersionError
    ├── IntegrityError                      (pack_id, blob_id, path)
    │   ├── AuthenticationError             MAC mismatch: tampered or wrong key
    │   ├── InvalidDataError                decodes, but the content is not what it should be
    │   │   └── MalformedKeyFileError       (key_id) a key file that is skipped, never derived from
    │   └── BadPackHeaderError
    ├── BackendError                        (path)
    │   ├── BackendNotFoundError            the object does not exist
    │   ├── ObjectExistsError               save refused: the object is already there
    │   ├── PermanentBackendError           retrying will not help
    │   │   ├── UnsupportedBackendError     a URL scheme this version cannot talk to yet
    │   │   ├── BackendAccessError          exit 13: wrong credentials or host key, no such bucket
    │   │   ├── ObjectLockedError           (retain_until) the object is under S3 Object Lock
    │   │   └── AppendOnlyError             an append-only server refuses to delete
    │   └── TransientBackendError           the retry wrapper retries only these
    ├── NotFoundError                       no repository file matches an id or prefix
    │   └── SnapshotNotFoundError
    ├── AmbiguousIdError                    a prefix matches several files
    ├── RestoreStoppedError                 (target) its file system reached what a restore leaves free
    └── InvalidArgumentError                a caller or user passed a value the engine cannot use

Messages are one line and end with what the user can do next.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AmbiguousIdError",
    "AppendOnlyError",
    "AuthenticationError",
    "BackendAccessError",
    "BackendError",
    "BackendNotFoundError",
    "BadPackHeaderError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidDataError",
    "LegacyLayoutError",
    "MalformedKeyFileError",
    "NoUsableKeyError",
    "NotFoundError",
    "ObjectExistsError",
    "ObjectLockedError",
    "PermanentBackendError",
    "RepositoryError",
    "RepositoryExistsError",
    "RepositoryLockedError",
    "RepositoryNotFoundError",
    "RestoreStoppedError",
    "SnapshotNotFoundError",
    "TransientBackendError",
    "UnsupportedBackendError",
    "UnsupportedVersionError",
    "VaultError",
    "WrongPasswordError",
]


class VaultError(Exception):
    """Root of every engine error; `str()` is a one-line message a user can act on."""

    exit_code: int = 1


class RepositoryError(VaultError):
    """The repository as a whole cannot be used as asked."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class RepositoryNotFoundError(RepositoryError):
    """There is no repository (no `config` file) at the location."""

    exit_code = 10

    def __init__(self, location: str) -> None:
        super().__init__(
            f"no repository at {location}: check the path, or create one with `mamori vault init`",
            location=location,
        )


class RepositoryExistsError(RepositoryError):
    """`init` found a repository (a `config` file) already there."""

    def __init__(self, location: str) -> None:
        super().__init__(
            f"a repository already exists at {location}: open it instead, or choose an empty location",
            location=location,
        )


class WrongPasswordError(RepositoryError):
    """No key file opens with the password."""

    exit_code = 12

    def __init__(self, location: str | None = None, *, skipped: int = 0) -> None:
        where = f" for {location}" if location else ""
        also = f" ({skipped} malformed key files skipped)" if skipped else ""
        super().__init__(
            f"wrong password{where}: no key in the repository matches it{also}; check the password (file)",
            location=location,
        )


class NoUsableKeyError(RepositoryError):
    """Every key file is malformed: no password could open the repository, so none was tried."""

    def __init__(self, location: str, problems: list[str]) -> None:
        super().__init__(
            f"no usable key file in {location}: every key file is malformed ({'; '.join(problems[:3])}); "
            "this is not a wrong password: restore keys/ from a copy of the repository",
            location=location,
        )
        self.problems = problems


class LegacyLayoutError(RepositoryError):
    """The repository uses restic's old `s3legacy` layout (key/, snapshot/, flat data/)."""

    def __init__(self, location: str) -> None:
        super().__init__(
            f"{location} uses restic's old s3legacy layout (key/, snapshot/, flat data/), which mamori "
            "does not support: convert it with restic 0.17 (`restic migrate s3_layout`), then open it again",
            location=location,
        )


class RepositoryLockedError(RepositoryError):
    """Another process holds a conflicting lock; fields name the holder."""

    exit_code = 11

    def __init__(
        self,
        *,
        lock_id: str,
        hostname: str,
        username: str,
        pid: int,
        exclusive: bool,
        created: str,
        location: str | None = None,
    ) -> None:
        kind = "an exclusive" if exclusive else "a"
        super().__init__(
            f"repository is locked: {kind} lock {lock_id[:8]} held by {username}@{hostname} pid {pid} "
            f"since {created}; wait for it, or run `mamori vault unlock` if that process is gone",
            location=location,
        )
        self.lock_id = lock_id
        self.hostname = hostname
        self.username = username
        self.pid = pid
        self.exclusive = exclusive
        self.created = created


class UnsupportedVersionError(RepositoryError):
    """The repository format version is not 1 or 2."""

    def __init__(self, version: object, location: str | None = None) -> None:
        super().__init__(
            f"repository format version {version!r} is not supported (only 1 and 2): "
            "use a newer mamori or restic",
            location=location,
        )
        self.version = version


class IntegrityError(VaultError):
    """Stored data is damaged or does not match what the index or header says."""

    def __init__(
        self,
        message: str,
        *,
        pack_id: str | None = None,
        blob_id: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.pack_id = pack_id
        self.blob_id = blob_id
        self.path = path


class AuthenticationError(IntegrityError):
    """A ciphertext's MAC does not verify: the bytes were changed or the key is wrong."""


class InvalidDataError(IntegrityError):
    """A file decrypts but its content is malformed (bad JSON, bad hash, bad compression)."""


class MalformedKeyFileError(InvalidDataError):
    """A key file that cannot be used (bad JSON, unknown KDF, scrypt cost beyond the bounds)."""

    def __init__(self, key_id: str, reason: str) -> None:
        super().__init__(
            f"key file {key_id[:8]} is malformed ({reason}): other key files are tried; remove it with "
            f"`mamori vault key remove {key_id[:8]}`",
            path=f"keys/{key_id}",
        )
        self.key_id = key_id


class BadPackHeaderError(IntegrityError):
    """A pack file's header cannot be read or does not fit the file."""


class BackendError(VaultError):
    """The storage below the repository failed; `path` names the object."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class BackendNotFoundError(BackendError):
    """The object does not exist in the backend."""


class ObjectExistsError(BackendError):
    """`save` refused to overwrite an existing object (objects are written once)."""


class PermanentBackendError(BackendError):
    """A backend failure that retrying will not fix (permissions, full disk, bad request)."""


class UnsupportedBackendError(PermanentBackendError):
    """The repository URL names a backend this version cannot use yet."""


class BackendAccessError(PermanentBackendError):
    """The server refused us: wrong credentials, an unknown or changed host key, a missing bucket."""

    exit_code = 13


class ObjectLockedError(PermanentBackendError):
    """The object is under retention (S3 Object Lock) and cannot be deleted or overwritten yet."""

    def __init__(
        self, message: str, *, path: str | None = None, retain_until: datetime | None = None
    ) -> None:
        super().__init__(message, path=path)
        self.retain_until = retain_until


class AppendOnlyError(PermanentBackendError):
    """An append-only server (REST `--append-only`) refuses to delete or replace an object."""


class TransientBackendError(BackendError):
    """A backend failure that may go away when retried (timeouts, interrupted calls)."""


class NotFoundError(VaultError):
    """No repository file of the given type matches an id or prefix."""

    def __init__(self, message: str, *, file_type: str, ref: str) -> None:
        super().__init__(message)
        self.file_type = file_type
        self.ref = ref


class SnapshotNotFoundError(NotFoundError):
    """No snapshot matches the id, prefix or `latest`."""

    def __init__(self, ref: str) -> None:
        super().__init__(
            f"no snapshot matches {ref!r}: list them with `mamori vault snapshots`",
            file_type="snapshot",
            ref=ref,
        )


class AmbiguousIdError(VaultError):
    """A prefix matches more than one file; the user must type more characters."""

    def __init__(self, *, file_type: str, prefix: str, matches: int) -> None:
        super().__init__(
            f"{file_type} id prefix {prefix!r} matches {matches} files: give more characters of the id"
        )
        self.file_type = file_type
        self.prefix = prefix
        self.matches = matches


class RestoreStoppedError(VaultError):
    """A restore stopped before its target's file system ran out (`freespace.KeepFree`); what it
    restored so far stays where it is."""

    def __init__(self, target: str, reason: str, *, files_restored: int) -> None:
        super().__init__(
            f"restore into {target} stopped after {files_restored:,} files: {reason}: free space there "
            "or restore elsewhere"
        )
        self.target = target
        self.files_restored = files_restored


class InvalidArgumentError(VaultError):
    """A value passed to the engine is malformed (an id, a subset spec, a URL)."""
