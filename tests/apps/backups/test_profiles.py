"""Dump sources run only what the host administrator's profile file names: the web form chooses a
profile and fills parameters, an attacker's command line or shell metacharacters are refused and
nothing runs; a command line from before profiles is never run nor shown."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from mamori.apps.backups import services
from mamori.apps.backups.browse import snapshot_file_open
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.models import RunStatus, Source, SourceKind
from mamori.apps.core.models import AuditEvent

from .conftest import REPO_PASSWORD, SystemUnderTest
from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)

ECHO_PROFILE = """
[profiles.echo]
label = "テスト用ダンプ"
program = "/bin/echo"
args = ["dump-of", "{database}"]
filename = "{database}.sql"

[profiles.echo.parameters.database]
label = "データベース名"
pattern = "[a-z_][a-z0-9_]{0,62}"
"""


def new_system(tmp_path, departments, code: str = "jumin") -> SystemUnderTest:
    system = services.system_create(actor="t", code=code, name=code, department=departments["joho"])
    repo = tmp_path / f"repo-{code}"
    services.repository_create(
        actor="t", system=system, name="庁内", url=str(repo), password=REPO_PASSWORD, initialize=True
    )
    return SystemUnderTest(system, tmp_path, repo, repo)


def snapshot_text(system, path: str) -> str:
    _node, stream = snapshot_file_open(actor="t", system=system, ref="latest", path=path)
    return b"".join(stream).decode()


def test_officer_chooses_a_profile_and_the_dump_is_backed_up(
    tmp_path, departments, users, client, dump_profiles
):
    dump_profiles(ECHO_PROFILE)
    sut = new_system(tmp_path, departments)
    client = as_user(client, users, "officer")
    form = client.get(reverse("backups:source-create", args=["jumin"])).content.decode()
    assert "テスト用ダンプ" in form and "データベース名" in form and "コマンド" not in form
    response = client.post(
        reverse("backups:source-create", args=["jumin"]),
        {"kind": "dump", "profile": "echo", "param_database": "jumin_db"},
    )
    assert response.status_code == 302
    source = Source.objects.get(system=sut.system)
    assert (source.profile, source.parameters, source.stdin_filename) == (
        "echo",
        {"database": "jumin_db"},
        "jumin_db.sql",
    )
    run = sut.run()
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    assert snapshot_text(sut.system, "/jumin_db.sql") == "dump-of jumin_db\n"


HOSTILE_VALUES = [
    "jumin; sh -c 'touch {marker}'",
    "$(touch {marker})",
    "jumin`touch {marker}`",
    "jumin && touch {marker}",
    "-f{marker}",
    "jumin\ntouch {marker}",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_shell_in_a_parameter_is_refused_and_nothing_runs(
    tmp_path, departments, users, client, dump_profiles, value
):
    dump_profiles(ECHO_PROFILE)
    sut = new_system(tmp_path, departments)
    marker = tmp_path / "pwned"
    response = as_user(client, users, "officer").post(
        reverse("backups:source-create", args=["jumin"]),
        {"kind": "dump", "profile": "echo", "param_database": value.format(marker=marker)},
    )
    assert response.status_code == 200 and "使えない文字" in response.content.decode()
    assert not Source.objects.exists()
    assert not AuditEvent.objects.filter(action="backups.source.create").exists()
    assert sut.run().status == RunStatus.FAILED  # no source: nothing to run
    assert not marker.exists()


def test_a_command_line_posted_to_the_form_is_refused(tmp_path, departments, users, client, dump_profiles):
    dump_profiles(ECHO_PROFILE)
    new_system(tmp_path, departments)
    marker = tmp_path / "pwned"
    response = as_user(client, users, "officer").post(
        reverse("backups:source-create", args=["jumin"]),
        {"kind": "command", "command": f"sh -c 'touch {marker}'", "stdin_filename": "x.sql"},
    )
    assert response.status_code == 200 and not Source.objects.exists() and not marker.exists()


def test_a_profile_not_in_the_file_is_refused(tmp_path, departments, dump_profiles):
    dump_profiles(ECHO_PROFILE)
    sut = new_system(tmp_path, departments)
    with pytest.raises(BackupError, match="設定ファイルにありません"):
        services.source_create(
            actor="t", system=sut.system, kind=SourceKind.DUMP, profile="../../bin/sh", parameters={}
        )


def test_a_leading_dash_is_refused_even_when_the_pattern_allows_it(tmp_path, departments, dump_profiles):
    dump_profiles(ECHO_PROFILE.replace("[a-z_][a-z0-9_]{0,62}", ".+"))
    sut = new_system(tmp_path, departments)
    with pytest.raises(BackupError, match="使えない文字"):
        services.source_create(
            actor="t",
            system=sut.system,
            kind=SourceKind.DUMP,
            profile="echo",
            parameters={"database": "--help"},
        )


@pytest.mark.parametrize(
    "args",
    ['["--password=hunter2", "{database}"]', '["--dbname=postgresql://backup:hunter2@db/{database}"]'],
)
def test_a_profile_with_credentials_in_its_arguments_is_refused(tmp_path, departments, dump_profiles, args):
    dump_profiles(ECHO_PROFILE.replace('["dump-of", "{database}"]', args))
    sut = new_system(tmp_path, departments)
    with pytest.raises(BackupError, match="credentials belong in env"):
        services.source_create(
            actor="t", system=sut.system, kind=SourceKind.DUMP, profile="echo", parameters={"database": "x"}
        )


def test_a_profile_file_others_can_write_is_not_used(tmp_path, departments, dump_profiles):
    dump_profiles(ECHO_PROFILE).chmod(0o664)
    sut = new_system(tmp_path, departments)
    with pytest.raises(BackupError, match="所有者以外も書き込める"):
        services.source_create(
            actor="t", system=sut.system, kind=SourceKind.DUMP, profile="echo", parameters={"database": "x"}
        )


def test_the_dump_sees_the_profile_environment_not_the_workers_secrets(
    tmp_path, departments, dump_profiles, monkeypatch
):
    monkeypatch.setenv("MAMORI_SECRET_KEY", "worker-secret-key")
    monkeypatch.setenv("PGPASSWORD", "passed-on-purpose")
    dump_profiles(
        """
[profiles.env]
program = "/usr/bin/env"
filename = "env.txt"
env = { PGPASSFILE = "/etc/mamori/pgpass" }
pass_env = ["PGPASSWORD"]
"""
    )
    sut = new_system(tmp_path, departments)
    services.source_create(actor="t", system=sut.system, kind=SourceKind.DUMP, profile="env", parameters={})
    assert sut.run().status == RunStatus.SUCCEEDED
    seen = snapshot_text(sut.system, "/env.txt")
    assert "PGPASSFILE=/etc/mamori/pgpass" in seen and "PGPASSWORD=passed-on-purpose" in seen
    assert "MAMORI" not in seen and "worker-secret-key" not in seen


def test_a_legacy_command_source_is_never_run_nor_shown(tmp_path, departments, users, client):
    sut = new_system(tmp_path, departments)
    marker = tmp_path / "pwned"
    data = tmp_path / "data"
    data.mkdir()
    services.source_create(actor="t", system=sut.system, path=str(data))
    legacy = f"sh -c 'touch {marker}; PGPASSWORD=hunter2 pg_dump jumin'"
    Source.objects.create(system=sut.system, kind="command", legacy_command=legacy, stdin_filename="x.sql")
    migration = importlib.import_module("mamori.apps.backups.migrations.0003_dump_profiles")
    migration.command_sources_need_a_profile(django_apps, None)
    assert Source.objects.get(legacy_command=legacy).needs_profile
    run = sut.run()
    assert run.status == RunStatus.FAILED and "旧形式のダンプコマンドは実行しません" in run.error_text
    assert not marker.exists()
    for role in ("officer", "auditor"):
        page = (
            as_user(client, users, role)
            .get(reverse("backups:system-detail", args=["jumin"]))
            .content.decode()
        )
        assert "旧形式のダンプコマンド" in page and "hunter2" not in page and "touch" not in page


def test_the_profiles_file_can_live_outside_mamori_home(tmp_path, departments, monkeypatch, settings):
    """Production keeps it root-owned in /etc/mamori, named by MAMORI_DUMP_PROFILES in the environment."""
    settings.MAMORI_DUMP_PROFILES = None
    etc = tmp_path / "etc-mamori"
    etc.mkdir()
    path = etc / "dump-profiles.toml"
    path.write_text(ECHO_PROFILE, encoding="utf-8")
    path.chmod(0o640)
    monkeypatch.setenv("MAMORI_DUMP_PROFILES", str(path))
    sut = new_system(tmp_path, departments)
    source = services.source_create(
        actor="t", system=sut.system, kind=SourceKind.DUMP, profile="echo", parameters={"database": "jumin"}
    )
    assert source.stdin_filename == "jumin.sql"
