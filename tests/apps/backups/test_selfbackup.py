"""mamori backs up itself: the built-in system's backup holds the database and the audit checkpoints;
after the database is destroyed (or the whole MAMORI_HOME is lost), the documented commands restore
it and `mamori audit verify` passes. Run as a person would: the `mamori` command in its own home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mamori.apps.backups import services
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.models import SourceKind
from mamori.apps.backups.selfbackup import database_dump, database_install

from .test_postgres_dump import psql

pytestmark = pytest.mark.django_db

WORK = """
from mamori.apps.backups.jobs import run_execute, run_request
from mamori.apps.backups.models import ProtectedSystem
from mamori.apps.core.audit import audit_record
from mamori.apps.core.models import AuditEvent
system = ProtectedSystem.objects.get(code="mamori")
audit_record(actor="officer", action="test.evidence", object_type="evidence", object_id="1", after={"n": 1})
for kind in ("backup", "offsite_copy"):
    run = run_execute(run_id=run_request(actor="test", system=system, kind=kind, enqueue=False).pk)
    assert run.status == "succeeded", run.error_text
print(AuditEvent.objects.filter(action="test.evidence").count())
"""
KEYS = ("secret_key", "repository.key", "audit_key", "self-backup.password")  # the sealed envelope


def mamori(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # its own SQLite in its own home
    env.update(MAMORI_HOME=str(home), DJANGO_SETTINGS_MODULE="mamori.config.settings.local")
    done = subprocess.run(
        [sys.executable, "-m", "mamori.cli.main", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert not check or done.returncode == 0, f"mamori {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def set_up_and_back_up(home: Path, repos: Path) -> None:
    mamori(home, "manage", "migrate", "-v0")
    mamori(
        home,
        "manage",
        "shell",
        "-c",
        "from mamori.apps.core.models import Organisation, Department; "
        "o = Organisation.objects.create(name='みなと台市', prefecture='神奈川県'); "
        "Department.objects.create(organisation=o, code='1004', name='情報政策課')",
    )
    out = mamori(
        home, "self-backup", "setup", "--department", "1004", "--primary", str(repos / "primary"),
        "--offsite", str(repos / "offsite"),
    ).stdout  # fmt: skip
    assert "self-backup.password" in out
    assert mamori(home, "manage", "shell", "-c", WORK).stdout.split()[-1] == "1"


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory) -> Path:
    """One installation set up and backed up (primary and offsite) for the module: the slow part."""
    base = tmp_path_factory.mktemp("self-backup")
    set_up_and_back_up(base / "home", base / "repos")
    return base


@pytest.fixture
def installation(backed_up, tmp_path) -> tuple[Path, Path]:
    """This test's own copy of the backed-up home and its repositories (modes kept)."""
    for name in ("home", "repos"):
        shutil.copytree(backed_up / name, tmp_path / name, symlinks=True)
    return tmp_path / "home", tmp_path / "repos"


def evidence_count(home: Path) -> str:
    code = "from mamori.apps.core.models import AuditEvent; print(AuditEvent.objects.filter(action='test.evidence').count())"
    return mamori(home, "manage", "shell", "-c", code, check=False).stdout.split()[-1:]


@pytest.mark.own_database
def test_database_destroyed_then_restored_with_the_documented_command(installation):
    home, repos = installation
    for name in ("mamori.sqlite3", "mamori.sqlite3-wal", "mamori.sqlite3-shm"):
        (home / name).unlink(missing_ok=True)
    assert mamori(home, "audit", "verify", check=False).returncode != 0 or evidence_count(home) != ["1"]

    out = mamori(home, "self-backup", "restore", "--repo", str(repos / "primary")).stdout
    assert "sqlite database into" in out
    assert oct((home / "mamori.sqlite3").stat().st_mode & 0o777) == "0o600"
    assert "OK" in mamori(home, "audit", "verify").stdout
    assert evidence_count(home) == ["1"]
    systems = json.loads(mamori(home, "status", "--json").stdout)["systems"]
    assert [s["code"] for s in systems] == ["mamori"]


@pytest.mark.own_database
def test_whole_home_lost_restored_from_the_offsite_copy_with_the_sealed_envelope(installation, tmp_path):
    (home, repos), envelope = installation, tmp_path / "envelope"
    envelope.mkdir()
    for name in KEYS:
        if (home / name).exists():
            shutil.copy2(home / name, envelope / name)
    shutil.rmtree(home)

    new_home = tmp_path / "new-home"
    new_home.mkdir(mode=0o700)
    for key in envelope.iterdir():
        shutil.copy2(key, new_home / key.name)
    mamori(new_home, "self-backup", "restore", "--repo", str(repos / "offsite"))
    verify = mamori(new_home, "audit", "verify").stdout
    assert "OK" in verify
    assert evidence_count(new_home) == ["1"]


@pytest.mark.own_database
def test_an_existing_database_is_not_overwritten(installation):
    home, repos = installation
    done = mamori(home, "self-backup", "restore", "--repo", str(repos / "primary"), check=False)
    assert done.returncode != 0 and "既にあります" in done.stderr


def test_only_the_builtin_system_backs_up_mamoris_data(departments):
    system = services.system_create(actor="t", code="x", name="x", department=departments["joho"])
    with pytest.raises(BackupError, match="組み込みのシステムだけ"):
        services.source_create(actor="t", system=system, kind=SourceKind.MAMORI)


@pytest.mark.postgres
def test_a_postgresql_database_is_dumped_and_loaded_back(pg_server, tmp_path):
    """The PostgreSQL half on the real server: pg_dump with the password in the environment, psql into
    an empty database, identical rows."""
    pg, name = pg_server, f"mamori_{uuid.uuid4().hex[:8]}"
    restored = f"{name}_restored"
    psql(pg, "postgres", f"CREATE DATABASE {name}")
    psql(pg, "postgres", f"CREATE DATABASE {restored}")
    try:
        psql(pg, name, "CREATE TABLE core_auditevent (sequence int PRIMARY KEY, action text);"
             "INSERT INTO core_auditevent SELECT i, 'backups.run.finish' FROM generate_series(1, 500) i;")  # fmt: skip
        db = {"NAME": name, "HOST": pg.host, "PORT": pg.port, "USER": pg.user, "PASSWORD": pg.password}
        assert database_dump(tmp_path, db, "postgresql") == "mamori.sql"
        assert database_install(tmp_path / "mamori.sql", {**db, "NAME": restored}, "postgresql") is None
        query = "SELECT count(*), max(sequence) FROM core_auditevent"
        assert psql(pg, restored, query) == psql(pg, name, query) == "500|500\n"
    finally:
        psql(pg, "postgres", f"DROP DATABASE IF EXISTS {name}")
        psql(pg, "postgres", f"DROP DATABASE IF EXISTS {restored}")
