"""A real PostgreSQL database, dumped by the real pg_dump of a server-side profile (credentials in a
PGPASSFILE, never on the command line) straight into the engine's stdin backup, restored through the
restore service and loaded into a NEW database: the rows are identical."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from mamori.apps.backups import services
from mamori.apps.backups.browse import snapshot_restore
from mamori.apps.backups.jobs import run_execute, run_request
from mamori.apps.backups.models import JobKind, RunStatus, SourceKind
from tests.conftest import require_tool

from .conftest import REPO_PASSWORD, write_profiles

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def psql(pg, db: str, sql: str) -> str:
    out = subprocess.run(
        [require_tool("psql"), *pg.args(db), "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        capture_output=True,
        text=True,
        env=pg.env(),
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


PG_PROFILE = """
[profiles.postgres]
label = "PostgreSQL（pg_dump）"
program = "{pg_dump}"
args = ["--no-owner", "--no-privileges", "--host={host}", "--port={port}", "--username={user}",
        "--dbname={{database}}"]
filename = "{{database}}.sql"
env = {{ PGPASSFILE = "{passfile}" }}

[profiles.postgres.parameters.database]
label = "データベース名"
pattern = "[a-z_][a-z0-9_]{{0,62}}"
"""


def test_pg_dump_backup_restores_into_a_new_database_with_identical_rows(
    pg_server, tmp_path, departments, settings
):
    pg = pg_server
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{pg.host}:{pg.port}:*:{pg.user}:{pg.password or 'unused'}\n")
    passfile.chmod(0o600)
    settings.MAMORI_DUMP_PROFILES = write_profiles(
        tmp_path / "dump-profiles.toml",
        PG_PROFILE.format(
            pg_dump=require_tool("pg_dump"), host=pg.host, port=pg.port, user=pg.user, passfile=passfile
        ),
    )
    source_db, restored_db = f"jumin_{uuid.uuid4().hex[:8]}", f"restored_{uuid.uuid4().hex[:8]}"
    psql(pg, "postgres", f"CREATE DATABASE {source_db}")
    psql(pg, "postgres", f"CREATE DATABASE {restored_db}")
    try:
        psql(
            pg,
            source_db,
            "CREATE TABLE residents (id int PRIMARY KEY, name text NOT NULL, address text, born date);"
            "INSERT INTO residents SELECT i, '住民' || i, 'みなと台市港町' || (i % 7) || '丁目', "
            "date '1950-01-01' + i FROM generate_series(1, 2000) i;",
        )
        system = services.system_create(
            actor="t", code="jumin", name="住民情報システム", department=departments["shimin"]
        )
        services.source_create(
            actor="t",
            system=system,
            kind=SourceKind.DUMP,
            profile="postgres",
            parameters={"database": source_db},
        )
        services.repository_create(
            actor="t",
            system=system,
            name="庁内",
            url=str(tmp_path / "repo"),
            password=REPO_PASSWORD,
            initialize=True,
        )

        backup = run_execute(
            run_id=run_request(actor="t", system=system, kind=JobKind.BACKUP, enqueue=False).pk
        )
        assert backup.status == RunStatus.SUCCEEDED, backup.error_text
        assert backup.bytes_total > 50_000

        target = tmp_path / "restore"
        restore = snapshot_restore(
            actor="t",
            system=system,
            ref="latest",
            path=f"/{source_db}.sql",
            where="folder",
            target=str(target),
        )
        restore = run_execute(run_id=restore.pk)
        assert restore.status == RunStatus.SUCCEEDED, restore.error_text
        dump = target / f"{source_db}.sql"
        loaded = subprocess.run(
            [require_tool("psql"), *pg.args(restored_db), "-v", "ON_ERROR_STOP=1", "-q", "-f", str(dump)],
            capture_output=True,
            text=True,
            env=pg.env(),
        )
        assert loaded.returncode == 0, loaded.stderr
        query = "SELECT id, name, address, born FROM residents ORDER BY id"
        assert psql(pg, restored_db, query) == psql(pg, source_db, query)
        assert psql(pg, restored_db, "SELECT count(*) FROM residents").strip() == "2000"
    finally:
        psql(pg, "postgres", f"DROP DATABASE IF EXISTS {source_db}")
        psql(pg, "postgres", f"DROP DATABASE IF EXISTS {restored_db}")


def test_a_failing_dump_fails_the_run(tmp_path, departments, settings):
    settings.MAMORI_DUMP_PROFILES = write_profiles(
        tmp_path / "dump-profiles.toml",
        '[profiles.broken]\nprogram = "/bin/sh"\nargs = ["-c", "echo partial; echo boom >&2; exit 3"]\n',
    )
    system = services.system_create(
        actor="t", code="bad", name="壊れたダンプ", department=departments["shimin"]
    )
    services.source_create(
        actor="t",
        system=system,
        kind=SourceKind.DUMP,
        profile="broken",
    )
    services.repository_create(
        actor="t",
        system=system,
        name="庁内",
        url=str(tmp_path / "repo"),
        password=REPO_PASSWORD,
        initialize=True,
    )

    run = run_execute(run_id=run_request(actor="t", system=system, kind=JobKind.BACKUP, enqueue=False).pk)
    assert run.status == RunStatus.FAILED and "終了コード 3" in run.error_text and "boom" in run.error_text
