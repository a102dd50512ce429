"""mamori backs up itself: its database and the audit checkpoints, like any protected system.

`self_backup_setup` creates the built-in system `mamori` (a source of kind `mamori`, a primary and an
offsite repository, daily schedules). Each backup of it calls the audit checkpoint writer, then stages
`MAMORI_HOME/staging/mamori/self-backup/` with the database (SQLite's online backup API, or `pg_dump`
for PostgreSQL), the checkpoint files and a manifest, and backs that folder up.

`self_restore` is the other half, used by `mamori self-backup restore`: it needs no database, only the
repository URL and the password file (`MAMORI_HOME/self-backup.password`, kept in the sealed envelope).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_checkpoint_write
from mamori.apps.core.messages import Message
from mamori.apps.core.models import Classification, Department
from mamori.apps.core.redaction import redact_text

from . import engine, services
from .errors import BackupError
from .models import JobKind, Medium, ProtectedSystem, RepositoryRole, SourceKind
from .passwords import generate_password

SELF_CODE = "mamori"
MANIFEST = "mamori-self-backup.json"
ENVELOPE_FILE = "self-backup.password"
SCHEDULES = [
    (JobKind.BACKUP, "15 1 * * *"),
    (JobKind.OFFSITE_COPY, "45 1 * * *"),
    (JobKind.CHECK_SUBSET, "30 3 * * 0"),
]
DUMP_FAILED = _("mamori のデータベースをダンプできませんでした: {error}")
NO_MANIFEST = _("スナップショット {snapshot} に mamori 自身のバックアップ（{manifest}）がありません")
DB_EXISTS = _("復元先のデータベース {path} が既にあります。移動または削除してから実行してください")


def password_path() -> Path:
    return Path(settings.MAMORI_HOME) / ENVELOPE_FILE


def _password() -> str:
    """The self-backup repositories' password, kept in a file (mode 600) so a restore needs no database."""
    path = password_path()
    if path.exists():
        return path.read_text(encoding="utf-8").splitlines()[0]
    password = generate_password()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    return password


def self_backup_setup(
    *,
    actor: Actor,
    department: Department,
    primary_url: str,
    offsite_url: str = "",
    now: datetime | None = None,
) -> ProtectedSystem:
    """Create the built-in system for mamori's own data (idempotent: an existing one is returned)."""
    existing = ProtectedSystem.objects.filter(code=SELF_CODE, builtin=True).first()
    if existing is not None:
        return existing
    password = _password()
    system = services.system_create(
        actor=actor,
        code=SELF_CODE,
        name=str(_("mamori（本システムのデータ）")),
        department=department,
        classification=Classification.CONFIDENTIAL_2,
        rpo_hours=24,
        rto_minutes=60,
        description=str(_("mamori のデータベースと監査ログのチェックポイント（組み込み）")),
        builtin=True,
    )
    services.source_create(actor=actor, system=system, kind=SourceKind.MAMORI)
    repos = [(primary_url, RepositoryRole.PRIMARY, Medium.DISK, _("庁内"))]
    if offsite_url:
        repos.append((offsite_url, RepositoryRole.OFFSITE, Medium.NAS, _("遠隔地")))
    for url, role, medium, name in repos:
        services.repository_create(
            actor=actor,
            system=system,
            name=str(name),
            url=url,
            password=password,
            role=role,
            medium=medium,
            initialize=not _exists(url),
        )
    for kind, cron in SCHEDULES:
        if kind != JobKind.OFFSITE_COPY or offsite_url:
            services.schedule_set(actor=actor, system=system, kind=kind, cron=cron, now=now)
    return system


def _exists(url: str) -> bool:
    return os.path.isabs(url) and (Path(url) / "config").exists()


def checkpoint_dir() -> Path:
    return Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR)


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME")}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # the environment, never the command line
    return env


def _pg_args(db: dict[str, Any]) -> list[str]:
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    return args


def database_dump(folder: Path, db: dict[str, Any], vendor: str) -> str:
    """Copy the database into `folder`: SQLite's online backup API, or pg_dump (password in the
    environment). Returns the file's name."""
    if vendor == "sqlite":
        dest = folder / "mamori.sqlite3"
        live = sqlite3.connect(f"file:{db['NAME']}?mode=ro", uri=True)
        copy = sqlite3.connect(dest)
        try:
            live.backup(copy)
        finally:
            copy.close()
            live.close()
        return dest.name
    dest = folder / "mamori.sql"
    pg_dump = shutil.which("pg_dump") or "pg_dump"
    argv = [pg_dump, "--no-owner", "--no-privileges", f"--file={dest}", *_pg_args(db)]
    done = subprocess.run(argv, env=_pg_env(db), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BackupError(
            Message(DUMP_FAILED, error=redact_text(done.stderr.strip()[-300:])), code="self_dump"
        )
    return dest.name


def self_backup_stage(staging: Path) -> Path:
    """Write the checkpoint, copy the database and the checkpoints into `staging/self-backup`."""
    audit_checkpoint_write()  # the head outside the database, before the database is copied
    folder = staging / "self-backup"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    database = database_dump(folder, settings.DATABASES["default"], connection.vendor)
    checkpoints = checkpoint_dir()
    if checkpoints.is_dir():
        shutil.copytree(checkpoints, folder / "audit-checkpoints")
    manifest = {
        "format": "mamori-self-backup/1",
        "database": connection.vendor,
        "file": database,
        "audit_checkpoints": "audit-checkpoints" if checkpoints.is_dir() else None,
        "created_at": timezone.now().isoformat(),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder


@dataclass(frozen=True)
class SelfRestore:
    snapshot: str
    database: str
    installed: Path | None
    checkpoints: list[Path]


def _find_manifest(root: Path, snapshot: str) -> Path:
    found = sorted(root.rglob(MANIFEST))
    if not found:
        raise BackupError(Message(NO_MANIFEST, snapshot=snapshot, manifest=MANIFEST), code="no_self_backup")
    return found[0].parent


def self_restore(*, url: str, password: str, snapshot: str = "latest") -> SelfRestore:
    """Restore mamori's own data from a self-backup repository into this MAMORI_HOME.

    SQLite: the database file is installed where the settings expect it (refused if one is there).
    PostgreSQL: the dump is loaded with psql into the configured database, which must be empty.
    Checkpoint files are added to the checkpoint folder; a file already there is kept."""
    access = engine.RepoAccess(url, password)
    home = Path(settings.MAMORI_HOME)
    with tempfile.TemporaryDirectory(prefix="self-restore-", dir=home) as tmp:
        with engine.reader(access) as repo:
            result = repo.restore(snapshot, Path(tmp) / "r", paths=["/"], verify=True)
        if result.failed:
            raise BackupError(" / ".join(result.failed[:5]), code="restore_failed")
        folder = _find_manifest(Path(tmp) / "r", snapshot)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        installed = database_install(
            folder / manifest["file"], settings.DATABASES["default"], manifest["database"]
        )
        restored = _install_checkpoints(folder / "audit-checkpoints")
    return SelfRestore(snapshot, manifest["database"], installed, restored)


def _sqlite_has_tables(path: Path) -> bool:
    """A database with tables is never replaced; an empty file (a command run after the loss) is."""
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return bool(db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return True  # unreadable: let a person move it aside


def database_install(source: Path, db: dict[str, Any], vendor: str) -> Path | None:
    """SQLite: install the file (never over a database with tables); PostgreSQL: load the dump with psql
    into the configured database, which must be empty."""
    if vendor == "sqlite":
        dest = Path(db["NAME"])
        if _sqlite_has_tables(dest):
            raise BackupError(Message(DB_EXISTS, path=dest), code="database_exists")
        for suffix in ("-wal", "-shm"):
            Path(f"{dest}{suffix}").unlink(missing_ok=True)
        tmp = dest.with_name(dest.name + ".restoring")
        shutil.copyfile(source, tmp)
        tmp.chmod(0o600)
        tmp.replace(dest)
        return dest
    psql = shutil.which("psql") or "psql"
    argv = [psql, "-v", "ON_ERROR_STOP=1", "-q", f"--file={source}", *_pg_args(db)]
    done = subprocess.run(argv, env=_pg_env(db), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BackupError(redact_text(done.stderr.strip()[-300:]), code="self_restore_sql")
    return None


def _install_checkpoints(source: Path) -> list[Path]:
    if not source.is_dir():
        return []
    target = checkpoint_dir()
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    installed = []
    for path in sorted(source.iterdir()):
        dest = target / path.name
        if path.is_file() and not dest.exists():
            shutil.copyfile(path, dest)
            dest.chmod(0o600)
            installed.append(dest)
    return installed
