"""Browsing a system's snapshots: list them, list a folder, search by name, stream a file (audited),
restore a folder or file to where it was or to a chosen folder.

Reads go to the system's primary repository (the offsite copy holds the same snapshots).
"""

from __future__ import annotations

import glob
import posixpath
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record

from . import engine
from .errors import BackupError
from .executors import primary_of_system
from .jobs import run_request
from .models import JobKind, ProtectedSystem, Run, SourceKind
from .own_files import restore_target_check
from .services import repository_access

NOT_A_FILE = _("指定されたパスはファイルではありません: {path}")
NOT_FOUND = _("スナップショット内に見つかりません: {path}")
DAMAGED = _("この項目はスナップショットの中で壊れているため開けません: {path}: {problem}")
BAD_TARGET = _("復元先にはサーバ上のフォルダを絶対パスで指定してください: {target}")
BAD_WHERE = _("復元先（元の場所か、指定したフォルダか）を選んでください")
BAD_OVERWRITE = _("同じ名前のファイルがあるときの扱いを選んでください: {value}")
NOT_IN_SOURCES = _(
    "元の場所に戻せるのはバックアップ元フォルダの中のファイルやフォルダだけです: {path}。復元先のフォルダを指定してください"
)


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
    openable: bool = True  # False: its path is not UTF-8, so no link can name it
    problem: str = ""  # why an entry that cannot be decoded is shown but cannot be opened


def _shown(text: str) -> str:
    """A name as a page can show it: bytes that are not UTF-8 (a legacy CP932 file name, or one
    written to harm) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _normal(path: str) -> str:
    return posixpath.normpath("/" + path.strip().lstrip("/"))


def snapshot_children(*, system: ProtectedSystem, ref: str, path: str = "/") -> list[Entry]:
    """The direct children of `path` in a snapshot, folders first; only the trees along `path` are read."""
    nodes = engine.list_dir(repository_access(primary_of_system(system)), ref, _normal(path))
    entries = [
        Entry(
            _shown(posixpath.basename(n.path)),
            n.path,
            n.type,
            n.size,
            n.mtime,
            _shown(n.path) == n.path and not n.problem,
            n.problem,
        )
        for n in nodes
    ]
    return sorted(entries, key=lambda e: (e.type != "dir", e.name))


def snapshot_file_open(
    *, actor: Actor, system: ProtectedSystem, ref: str, path: str
) -> tuple[engine.Node, engine.Stream]:
    """Find one file in a snapshot and stream it; the download is recorded in the audit log."""
    path = _normal(path)
    node, stream = engine.file_open(repository_access(primary_of_system(system)), ref, path)
    if node is None:
        raise BackupError(NOT_FOUND.format(path=path), code="not_found", http_status=404)
    if node.problem:
        raise BackupError(DAMAGED.format(path=path, problem=node.problem), code="damaged")
    if node.type != "file":
        raise BackupError(NOT_A_FILE.format(path=path), code="not_a_file")
    try:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="backups.snapshot.download",
                obj=system,
                after={"snapshot": ref, "path": path, "size": node.size},  # its content's length
            )
    except BaseException:
        stream.close()  # and the repository it holds open
        raise
    return node, stream


def snapshot_get(*, system: ProtectedSystem, ref: str) -> engine.Snapshot:
    """One snapshot of the system's primary repository by id, short id or "latest"."""
    snaps = engine.snapshots(repository_access(primary_of_system(system)))
    match = [s for s in snaps if ref in (s.id, s.short_id) or (ref == "latest" and s is snaps[-1])]
    if not match:
        raise BackupError(NOT_FOUND.format(path=ref), code="snapshot_not_found", http_status=404)
    return match[0]


def snapshot_start_path(*, system: ProtectedSystem, snapshot: engine.Snapshot) -> str:
    """Where browsing starts: the backed-up folder (or the folder holding all of them), not the root;
    a snapshot of one file (an SQLite copy, a dump) starts in the folder that holds it."""
    paths = [_normal(p) for p in snapshot.paths]
    start = posixpath.commonpath(paths) if paths else "/"
    if len(paths) == 1 and start != "/":
        parent = posixpath.dirname(start)
        siblings = engine.list_dir(repository_access(primary_of_system(system)), snapshot.id, parent)
        if any(n.path == start and n.type != "dir" for n in siblings):
            return parent
    return start


def snapshot_search(*, system: ProtectedSystem, text: str, days: int) -> list[engine.Found]:
    """Files and folders whose name contains `text` (literally, ignoring case) in the last `days` days."""
    text = text.strip()
    if not text:
        return []
    since = timezone.now() - timedelta(days=days)
    pattern = f"*{glob.escape(text)}*"
    return engine.find(repository_access(primary_of_system(system)), pattern, since=since)


def _source_roots(system: ProtectedSystem) -> list[str]:
    return [_normal(s.path) for s in system.sources.filter(kind=SourceKind.PATH) if s.path]


def snapshot_restore(
    *,
    actor: Actor,
    system: ProtectedSystem,
    ref: str,
    path: str,
    where: str,
    target: str = "",
    overwrite: str = "never",
) -> Run:
    """Queue a restore of a folder or file of a snapshot, to where it was or into a chosen folder.

    The item keeps its name: `<folder>/<name>`. Back to where it was is allowed only inside the
    system's backed-up folders (taken from mamori's configuration, never from the repository).
    `overwrite` says what happens to a file already there: "never" keeps it, "always" replaces it.
    """
    path = _normal(path)
    if overwrite not in ("never", "always"):
        raise BackupError(BAD_OVERWRITE.format(value=overwrite), code="bad_overwrite")
    if where == "original":
        if not any((path + "/").startswith(root.rstrip("/") + "/") for root in _source_roots(system)):
            raise BackupError(NOT_IN_SOURCES.format(path=path), code="not_in_sources")
        folder = posixpath.dirname(path)
    elif where == "folder":
        folder = target.strip()
        if not folder.startswith("/"):
            raise BackupError(BAD_TARGET.format(target=target), code="bad_target")
        folder = posixpath.normpath(folder)
        if Path(folder).exists() and not Path(folder).is_dir():
            raise BackupError(BAD_TARGET.format(target=target), code="bad_target")
    else:
        raise BackupError(BAD_WHERE, code="bad_where")
    restore_target_check(folder)
    snapshot = snapshot_get(system=system, ref=ref)
    base = posixpath.dirname(path) if path != "/" else "/"
    restored_to = folder if path == "/" else posixpath.join(folder, posixpath.basename(path))
    return run_request(
        actor=actor,
        system=system,
        kind=JobKind.RESTORE,
        detail={
            "snapshot": snapshot.id,
            "path": path,
            "target": folder,
            "base": base,
            "overwrite": overwrite,
            "restored_to": restored_to,
        },
    )
