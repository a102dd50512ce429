"""The public API of `mamori.vault` is pinned: apps.backups depends on exactly these names and fields."""

from __future__ import annotations

import dataclasses
import inspect

import mamori.vault
from mamori.vault import api

EXPORTED = {
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
}


def test_exported_names_are_pinned() -> None:
    assert set(mamori.vault.__all__) == EXPORTED
    for name in EXPORTED:
        assert getattr(mamori.vault, name) is not None


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def test_result_fields_match_the_contract() -> None:
    assert _fields(api.BackupProgress) == [
        "files_done",
        "bytes_done",
        "files_total",
        "bytes_total",
        "current",
    ]
    assert _fields(api.BackupResult) == [
        "snapshot_id",
        "parent_id",
        "files_new",
        "files_changed",
        "files_unmodified",
        "dirs",
        "bytes_processed",
        "bytes_added",
        "blobs_added",
        "errors",
        "duration_s",
    ]
    assert _fields(api.FileError) == ["path", "message"]
    assert _fields(api.SnapshotInfo) == [
        "id",
        "short_id",
        "time",
        "hostname",
        "username",
        "paths",
        "tags",
        "tree",
        "parent",
        "original",
        "uid",
        "gid",
        "excludes",
        "time_text",
    ]
    assert _fields(api.NodeInfo) == [
        "path",
        "type",
        "size",
        "mode",
        "mtime",
        "content",
        "uid",
        "gid",
        "user",
        "group",
        "linktarget",
    ]
    assert _fields(api.RestoreResult) == [
        "files_restored",
        "bytes_restored",
        "failed",
        "verified",
        "duration_s",
        "files_skipped",
        "failed_count",
    ]
    assert _fields(api.FoundNode) == ["snapshot", "node"]
    for cls in (api.BackupResult, api.SnapshotInfo, api.RestoreResult, api.FileError):
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_repository_methods_take_keyword_options() -> None:
    sig = inspect.signature(api.Repository.backup)
    assert list(sig.parameters)[:2] == ["self", "paths"]
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY
        for name, p in sig.parameters.items()
        if name not in ("self", "paths")
    )
    for method in ("backup", "backup_stream", "snapshots", "find_snapshot", "ls", "open_file", "restore"):
        assert callable(getattr(api.Repository, method))
    for method in ("check", "copy_to", "forget", "prune", "stats", "close"):
        assert callable(getattr(api.Repository, method))
