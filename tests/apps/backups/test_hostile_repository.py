"""A repository written by someone else (the offsite NAS, a shared restic client) cannot make mamori
write outside a restore's target: the web restore and a restore drill, over hand-built hostile trees
(`tests/vault/hostile.py`). The drill goes red and says why (issue 10, item 1)."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from mamori.apps.backups import selectors, services
from mamori.apps.backups.models import JobKind, RunStatus
from tests.vault.hostile import GOOD, build_hostile_repository, files_outside, target_of

from .conftest import REPO_PASSWORD, SystemUnderTest
from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hostile(tmp_path, departments):
    bad = build_hostile_repository(tmp_path / "base")
    system = services.system_create(
        actor="test", code="nas", name="共有NAS", department=departments["joho"], rpo_hours=24, rto_minutes=60
    )
    services.repository_create(
        actor="test", system=system, name="NAS", url=str(bad.path), password=REPO_PASSWORD
    )
    return bad, SystemUnderTest(system, tmp_path, bad.path, bad.path)


@pytest.mark.parametrize("case", ["dotdot", "absolute", "slashes", "symlink-file", "symlink-dir"])
def test_web_restore_stays_in_its_target_and_fails_naming_the_bad_entry(
    hostile, users, client, tmp_path, case
):
    bad, sut = hostile
    base = tmp_path / "base"
    target = target_of(base)
    response = as_user(client, users, "officer").post(
        reverse("backups:restore", args=["nas", bad.snapshots[case]]),
        {"path": "/data", "where": "folder", "target": str(target)},
    )
    assert response.status_code == 302
    run = sut.system.runs.get(kind=JobKind.RESTORE)
    assert run.status == RunStatus.FAILED
    assert "/data: " in run.error_text and "child node name" in run.error_text
    assert files_outside(base, target) == [] and os.listdir(bad.outside) == []
    assert (target / "data" / "good.txt").read_bytes() == GOOD


def test_drill_on_a_hostile_repository_is_red_with_the_reason(hostile, tmp_path):
    bad, sut = hostile
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.FAILED and drill.passed is False
    # the drill takes the latest snapshot of each path set: here the "dir-symlink" case
    assert '/data: repeated child node name "lnk"' in drill.error_text
    assert selectors.system_status(system=sut.system).light == selectors.RED
    assert files_outside(tmp_path / "base", target_of(tmp_path / "base")) == []
    assert os.listdir(bad.outside) == []
