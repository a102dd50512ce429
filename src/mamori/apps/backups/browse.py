"""Browsing a system's snapshots: list them, list a folder, stream a file (audited), restore a folder.

Reads go to the system's primary repository (the offsite copy holds the same snapshots).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record

from . import engine
from .errors import BackupError
from .executors import primary_of_system
from .jobs import run_request
from .models import JobKind, ProtectedSystem, Run
from .services import repository_access

NOT_A_FILE = _("指定されたパスはファイルではありません: {path}")
NOT_FOUND = _("スナップショット内に見つかりません: {path}")
BAD_TARGET = _("復元先は空のフォルダか、まだ存在しない絶対パスを指定してください: {target}")


def snapshot_list(*, system: ProtectedSystem) -> list[engine.Snapshot]:
    """Newest first."""
    return list(reversed(engine.snapshots(repository_access(primary_of_system(system)))))


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    type: str
    size: int
    mtime: object


def _normal(path: str) -> str:
    return posixpath.normpath("/" + path.strip().lstrip("/"))


def snapshot_children(*, system: ProtectedSystem, ref: str, path: str = "/") -> list[Entry]:
    """The direct children of `path` in a snapshot, folders first; only the trees along `path` are read."""
    nodes = engine.list_dir(repository_access(primary_of_system(system)), ref, _normal(path))
    entries = [Entry(posixpath.basename(n.path), n.path, n.type, n.size, n.mtime) for n in nodes]
    return sorted(entries, key=lambda e: (e.type != "dir", e.name))


def snapshot_file_open(
    *, actor: Actor, system: ProtectedSystem, ref: str, path: str
) -> tuple[engine.Node, Iterator[bytes]]:
    """Find one file in a snapshot and stream it; the download is recorded in the audit log."""
    path = _normal(path)
    access = repository_access(primary_of_system(system))
    parent = posixpath.dirname(path)
    node = next((n for n in engine.list_dir(access, ref, parent) if n.path == path), None)
    if node is None:
        raise BackupError(NOT_FOUND.format(path=path), code="not_found", http_status=404)
    if node.type != "file":
        raise BackupError(NOT_A_FILE.format(path=path), code="not_a_file")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="backups.snapshot.download",
            obj=system,
            after={"snapshot": ref, "path": path, "size": node.size},
        )
    return node, engine.open_file(access, ref, path)


def snapshot_restore(*, actor: Actor, system: ProtectedSystem, ref: str, path: str, target: str) -> Run:
    """Queue a restore of a folder (or file) of a snapshot into an empty or new directory."""
    path = _normal(path)
    target_path = Path(target.strip())
    if not target_path.is_absolute() or (
        target_path.exists() and (not target_path.is_dir() or any(target_path.iterdir()))
    ):
        raise BackupError(BAD_TARGET.format(target=target), code="bad_target")
    snapshot = engine.snapshots(repository_access(primary_of_system(system)))
    match = [s for s in snapshot if ref in (s.id, s.short_id) or (ref == "latest" and s is snapshot[-1])]
    if not match:
        raise BackupError(NOT_FOUND.format(path=ref), code="snapshot_not_found", http_status=404)
    return run_request(
        actor=actor,
        system=system,
        kind=JobKind.RESTORE,
        detail={"snapshot": match[0].id, "path": path, "target": str(target_path)},
    )
