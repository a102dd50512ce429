"""mamori.vault: a backup engine that reads and writes restic repositories (format v1/v2).

Framework-free: imports only the standard library and its own libraries (cryptography,
zstandard, pyfastcdc). The platform talks to it through `mamori.apps.backups` only, via the
names exported here (see `mamori.vault.api`).

The names load on first use (PEP 562): importing one engine module (the CLI, `kdf`) must not pull
in the whole engine, so that `mamori vault` can start deriving the key while the rest loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamori.vault.api import (
        BackupProgress,
        BackupResult,
        CheckProblem,
        CheckResult,
        CopyResult,
        FileError,
        ForgetResult,
        NodeInfo,
        PruneResult,
        Repository,
        RepoStats,
        RestoreResult,
        RetentionPolicy,
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
    "CopyResult",
    "FileError",
    "ForgetResult",
    "IntegrityError",
    "InvalidDataError",
    "NodeInfo",
    "PermanentBackendError",
    "PruneResult",
    "RepoStats",
    "Repository",
    "RepositoryExistsError",
    "RepositoryLockedError",
    "RepositoryNotFoundError",
    "RestoreResult",
    "RetentionPolicy",
    "SnapshotInfo",
    "SnapshotNotFoundError",
    "TransientBackendError",
    "UnsupportedVersionError",
    "VaultError",
    "WrongPasswordError",
    "init_repository",
    "open_repository",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'mamori.vault' has no attribute {name!r}")
    value = getattr(importlib.import_module("mamori.vault.errors"), name, None)  # the exceptions
    if value is None:
        value = getattr(importlib.import_module("mamori.vault.api"), name)
    globals()[name] = value
    return value
