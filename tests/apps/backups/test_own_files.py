"""mamori's own files (`own_files`). A web restore never writes into MAMORI_HOME (database, keys,
dump profiles), the Python environment, mamori's code or the service user's ~/.ssh, nor into a
folder holding one of them, nor through a symlink to one — when requested, and again when the
worker runs it: an officer may restore from a repository someone else wrote, and these places would
turn that into running programs as the service user. And no source puts MAMORI_HOME into a snapshot
an officer can browse and download from (the database with every repository password, the key that
decrypts them, the key that signs sessions)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

import mamori
from mamori.apps.backups import engine, services
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.jobs import run_execute, run_request
from mamori.apps.backups.models import JobKind, Run, RunStatus, Source
from mamori.apps.backups.own_files import demo_data_dir, repositories_dir, restore_target_check
from mamori.apps.backups.services import repository_access

from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)
REFUSAL = "には復元できません"


@pytest.fixture
def world(sut):
    sut.run()
    return sut


def _private_excludes() -> str:
    return f"{settings.MAMORI_HOME}\n{settings.MAMORI_AUDIT_CHECKPOINT_DIR}"


def _home_listing() -> set[str]:
    return {str(p) for p in Path(settings.MAMORI_HOME).rglob("*")}


def _protected_targets(tmp_path: Path) -> dict[str, str]:
    home = Path(settings.MAMORI_HOME)
    link = tmp_path / "innocent-looking"
    link.symlink_to(home)
    return {
        "the home": str(home),
        "inside the home": str(home / "repositories"),
        "a folder holding the home": str(home.parent),
        "the root": "/",
        "a symlink to the home": str(link),
        "the Python environment": str(Path(sys.prefix) / "lib"),
        "mamori's code": str(Path(mamori.__file__).parent / "apps"),
        "the service user's ~/.ssh": str(Path.home() / ".ssh"),
    }


def test_a_restore_into_mamoris_own_places_is_refused_in_one_line_and_nothing_is_queued(
    world, users, client, tmp_path
):
    client = as_user(client, users, "officer")
    url = reverse("backups:restore", args=["fileserver", "latest"])
    folder = str(world.data / "共有" / "総務課")
    before, runs = _home_listing(), Run.objects.count()
    for what, target in _protected_targets(tmp_path).items():
        response = client.post(
            url, {"path": folder, "where": "folder", "target": target, "overwrite": "always"}
        )
        page = response.content.decode()
        assert response.status_code == 400, what
        assert REFUSAL in page and "別のフォルダ" in page, what
    assert Run.objects.count() == runs and _home_listing() == before


def test_back_to_where_it_was_is_refused_when_that_is_mamoris_home(world, users, client):
    """A source may be `/` (a whole server, mamori's own data excluded): nothing goes back into the home."""
    services.source_create(
        actor="test", system=world.system, kind="path", path="/", excludes=_private_excludes()
    )
    secret = str(Path(settings.MAMORI_HOME) / "secret_key")
    response = as_user(client, users, "officer").post(
        reverse("backups:restore", args=["fileserver", "latest"]),
        {"path": secret, "where": "original", "overwrite": "always"},
    )
    assert response.status_code == 400 and REFUSAL in response.content.decode()


def test_a_folder_swapped_for_a_symlink_to_the_home_before_the_worker_runs_gets_nothing(world, tmp_path):
    target = tmp_path / "restore-here"
    target.mkdir()
    run = run_request(
        actor="officer",
        system=world.system,
        kind=JobKind.RESTORE,
        detail={
            "snapshot": "latest",
            "path": str(world.data / "共有"),
            "target": str(target),
            "base": str(world.data),
        },
        enqueue=False,
    )
    target.rmdir()
    target.symlink_to(settings.MAMORI_HOME)  # after the request was accepted
    before = _home_listing()
    run = run_execute(run_id=run.pk)
    assert run.status == RunStatus.FAILED and REFUSAL in run.error_text
    assert _home_listing() == before and not (Path(settings.MAMORI_HOME) / "共有").exists()
    os.unlink(target)


def test_the_demos_server_folders_in_the_home_stay_a_place_to_restore_to():
    """`mamori demo` keeps its fictional file server in MAMORI_HOME/demo-data: back to where it was."""
    folder = demo_data_dir() / "fileserver" / "共有"
    assert restore_target_check(str(folder)) == Path(os.path.realpath(folder))
    with pytest.raises(BackupError, match=REFUSAL):
        restore_target_check(str(demo_data_dir().parent / "audit-checkpoints"))


def test_a_source_that_is_in_or_holds_mamoris_home_is_refused_unless_it_excludes_it(world):
    home = Path(settings.MAMORI_HOME)
    system = world.system
    for kind, path in (
        ("path", str(home)),
        ("path", str(home / "audit-checkpoints")),
        ("sqlite", str(home / "mamori.sqlite3")),
        ("path", str(home.parent)),
        ("path", "/"),
    ):
        with pytest.raises(BackupError, match="mamori 自身のデータ") as caught:
            services.source_create(actor="officer", system=system, kind=kind, path=path)
        assert caught.value.code == "private_source"
    whole = services.source_create(
        actor="officer", system=system, kind="path", path="/", excludes=_private_excludes()
    )
    assert whole.path == "/"  # a whole server, mamori's home excluded: fine
    services.source_delete(actor="officer", source=whole)
    demo = services.source_create(actor="officer", system=system, kind="path", path=str(demo_data_dir()))
    assert demo.path == str(demo_data_dir())  # the demo's fictional file server


def test_a_source_saved_before_the_rule_fails_the_backup_and_nothing_of_the_home_is_stored(world):
    """The backup checks again (a source saved earlier, or an include glob reaching into the home)."""
    home = Path(settings.MAMORI_HOME)
    before = len(engine.snapshots(repository_access(world.system.repositories.get(role="primary"))))
    for path, includes in ((str(home), ""), (str(home.parent), home.name)):
        source = Source.objects.create(system=world.system, kind="path", path=path, includes=includes)
        run = world.run()
        assert run.status == RunStatus.FAILED and "mamori 自身のデータ" in run.error_text
        source.delete()
    after = engine.snapshots(repository_access(world.system.repositories.get(role="primary")))
    assert len(after) == before


def test_a_local_repository_in_mamoris_own_places_is_refused_and_nothing_is_written(sut, tmp_path):
    home = Path(settings.MAMORI_HOME)
    link = tmp_path / "innocent-looking"
    link.symlink_to(home)
    refused = {
        "the home": home,
        "inside the home": home / "restic",
        "the audit checkpoints": Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR) / "repo",
        "the repositories folder itself": repositories_dir(),
        "through a symlink to the home": link / "restic",
        "the Python environment": Path(sys.prefix) / "restic",
        "the service user's ~/.ssh": Path.home() / ".ssh" / "restic",
        # holding one: its data/, keys/, locks/ would be written beside them, and a prune deletes there
        "the root": Path("/"),
        "a folder holding the home": home.parent,
        "a folder holding the audit checkpoints": Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR).parent,
        "a folder holding the Python environment": Path(sys.prefix).parent,
        "a folder holding mamori's code": Path(mamori.__file__).parent.parent,
        "through a symlink to the root": tmp_path / "to-the-root",
        "through a symlink to a folder holding the home": tmp_path / "to-above-the-home",
    }
    (tmp_path / "to-the-root").symlink_to("/")
    (tmp_path / "to-above-the-home").symlink_to(home.parent)
    before = _home_listing()
    for case, path in refused.items():
        with pytest.raises(BackupError) as caught:
            services.repository_create(
                actor="test", system=sut.system, name=case, url=str(path), password="pw", initialize=True
            )
        assert caught.value.code == "protected_repository", case
        assert str(caught.value.message).startswith(f"{path} にはリポジトリを置けません"), case
        assert not (path / "config").exists(), case
    assert _home_listing() == before and not (Path(sys.prefix) / "restic").exists()
    mine = repositories_dir() / f"test-{tmp_path.name}"
    try:
        for fine in (mine, tmp_path / "restic"):
            services.repository_create(
                actor="test", system=sut.system, name=str(fine), url=str(fine), password="pw", initialize=True
            )
            assert (fine / "config").is_file()
    finally:
        shutil.rmtree(mine, ignore_errors=True)


def test_a_repository_that_came_to_hold_mamoris_places_is_not_written_but_still_restores(sut, settings):
    sut.run()
    before = {repo: sorted(repo.rglob("*")) for repo in (sut.primary, sut.offsite)}
    for kind, repo in (
        (JobKind.BACKUP, sut.primary),
        (JobKind.FORGET_PRUNE, sut.primary),
        (JobKind.OFFSITE_COPY, sut.offsite),
    ):
        # saved before the rule, or a folder moved since: the audit checkpoints now lie inside it
        settings.MAMORI_AUDIT_CHECKPOINT_DIR = str(repo / "audit-checkpoints")
        run = sut.run(kind)
        assert run.status == RunStatus.FAILED, kind
        assert run.error_text.startswith(f"{repo} にはリポジトリを置けません"), kind
    assert {repo: sorted(repo.rglob("*")) for repo in before} == before  # not even a lock file
    assert sut.run(JobKind.RESTORE_DRILL).status == RunStatus.SUCCEEDED  # its snapshots still restore
