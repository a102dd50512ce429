"""mamori.vault: a backup engine that reads and writes restic repositories (format v1/v2).

Framework-free: imports only the standard library and its own libraries (cryptography,
zstandard, pyfastcdc). The platform talks to it through `mamori.apps.backups` only, via the
names exported here (see `mamori.vault.api`).
"""

from mamori.vault.api import (
    BackupProgress,
    BackupResult,
    CheckProblem,
    CheckResult,
    FileError,
    NodeInfo,
    Repository,
    RestoreResult,
    SnapshotInfo,
    init_repository,
    open_repository,
)
from mamori.vault.errors import (
    BackendError,
    BackendNotFoundError,
    IntegrityError,
    InvalidDataError,
    PermanentBackendError,
    RepositoryExistsError,
    RepositoryLockedError,
    RepositoryNotFoundError,
    SnapshotNotFoundError,
    TransientBackendError,
    UnsupportedVersionError,
    VaultError,
    WrongPasswordError,
)

__all__ = [
    "BackendError",
    "BackendNotFoundError",
    "BackupProgress",
    "BackupResult",
    "CheckProblem",
    "CheckResult",
    "FileError",
    "IntegrityError",
    "InvalidDataError",
    "NodeInfo",
    "PermanentBackendError",
    "Repository",
    "RepositoryExistsError",
    "RepositoryLockedError",
    "RepositoryNotFoundError",
    "RestoreResult",
    "SnapshotInfo",
    "SnapshotNotFoundError",
    "TransientBackendError",
    "UnsupportedVersionError",
    "VaultError",
    "WrongPasswordError",
    "init_repository",
    "open_repository",
]
