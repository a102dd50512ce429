"""Sources: include patterns choose what is backed up; an SQLite database in use is captured through
the online backup API and no plaintext staging copy is left behind."""

from __future__ import annotations

import sqlite3

import pytest
from django.urls import reverse

from mamori.apps.backups import services
from mamori.apps.backups.browse import snapshot_children, snapshot_file_open
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.executors import staging_dir
from mamori.apps.backups.models import RunStatus, SourceKind
from mamori.apps.core.models import Role

from .conftest import REPO_PASSWORD, SystemUnderTest, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def new_system(tmp_path, departments, code: str) -> SystemUnderTest:
    system = services.system_create(actor="t", code=code, name=code, department=departments["joho"])
    repo = tmp_path / f"repo-{code}"
    services.repository_create(
        actor="t", system=system, name="庁内", url=str(repo), password=REPO_PASSWORD, initialize=True
    )
    return SystemUnderTest(system, tmp_path, repo, repo)


def test_include_patterns_select_the_paths(tmp_path, departments):
    data = tmp_path / "exports"
    (data / "2026").mkdir(parents=True)
    (data / "2026" / "歳出.csv").write_text("a,b\n")
    (data / "2026" / "メモ.txt").write_text("not included")
    sut = new_system(tmp_path, departments, "zaimu")
    services.source_create(actor="t", system=sut.system, path=str(data), includes="**/*.csv")
    run = sut.run()
    assert run.status == RunStatus.SUCCEEDED and run.files_total == 1
    names = [e.name for e in snapshot_children(system=sut.system, ref="latest", path=str(data / "2026"))]
    assert names == ["歳出.csv"]


def test_sqlite_database_in_use_is_backed_up_consistently(tmp_path, departments, settings):
    db = tmp_path / "residents.sqlite3"
    live = sqlite3.connect(db)
    live.execute("CREATE TABLE residents (id INTEGER PRIMARY KEY, name TEXT)")
    live.executemany("INSERT INTO residents VALUES (?, ?)", [(i, f"住民{i}") for i in range(500)])
    live.commit()
    live.execute("INSERT INTO residents VALUES (1000, 'uncommitted')")  # an open write transaction
    sut = new_system(tmp_path, departments, "jumin")
    services.source_create(actor="t", system=sut.system, kind=SourceKind.SQLITE, path=str(db))
    try:
        run = sut.run()
    finally:
        live.rollback()
        live.close()
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    assert not staging_dir(run).exists()
    staged = str(staging_dir(run) / "residents.sqlite3")
    _node, stream = snapshot_file_open(actor="t", system=sut.system, ref="latest", path=staged)
    restored = tmp_path / "restored.sqlite3"
    restored.write_bytes(b"".join(stream))
    rows = sqlite3.connect(restored).execute("SELECT count(*), max(id) FROM residents").fetchone()
    assert rows == (500, 499)


def test_a_snapshot_of_one_database_file_opens_in_its_folder(tmp_path, departments, client):
    db = tmp_path / "residents.sqlite3"
    sqlite3.connect(db).execute("CREATE TABLE residents (id INTEGER PRIMARY KEY)").connection.commit()
    sut = new_system(tmp_path, departments, "jumin")
    services.source_create(actor="t", system=sut.system, kind=SourceKind.SQLITE, path=str(db))
    assert sut.run().status == RunStatus.SUCCEEDED
    client.force_login(make_user("officer", Role.SECURITY_OFFICER))
    response = client.get(
        reverse("backups:browse", args=["jumin", "latest"])
    )  # 「最新のスナップショットを見る」
    assert response.status_code == 200
    assert 'data-entry="residents.sqlite3"' in response.content.decode()


def test_relative_source_path_is_refused(tmp_path, departments):
    sut = new_system(tmp_path, departments, "x")
    with pytest.raises(BackupError, match="絶対パス"):
        services.source_create(actor="t", system=sut.system, path="relative/dir")
