"""The RTO is judged only by a full restore: a sample drill records its time and an extrapolation
labelled as such, never an RTO tick; 「今すぐ全体復元訓練」 restores everything and judges the RTO."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from mamori.apps.backups import engine
from mamori.apps.backups.jobs import run_execute
from mamori.apps.backups.models import JobKind, Run, RunStatus
from mamori.apps.backups.services import repository_access

from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sample_drill_does_not_judge_the_rto(sut, users, client):
    for i in range(30):
        (sut.data / "共有" / f"資料{i:02}.bin").write_bytes(os.urandom(2000))
    sut.run(JobKind.BACKUP)
    drill = sut.run(JobKind.RESTORE_DRILL)  # the default sample: 20 of 32 files
    assert drill.status == RunStatus.SUCCEEDED and drill.passed is True
    assert drill.detail["full"] is False and drill.detail["sampled"] == 20 and drill.detail["available"] == 32
    assert drill.rto_met is None and drill.detail["extrapolated_seconds"] > 0
    page = (
        as_user(client, users, "auditor").get(reverse("backups:run-detail", args=[drill.pk])).content.decode()
    )
    assert "サンプル訓練のため判定しません" in page and "推定（外挿）" in page


def test_the_full_restore_drill_judges_the_rto(sut, users, client):
    for i in range(30):
        (sut.data / "共有" / f"資料{i:02}.bin").write_bytes(os.urandom(2000))
    sut.run(JobKind.BACKUP)
    response = as_user(client, users, "officer").post(
        reverse("backups:run-now", args=["fileserver"]), {"kind": "restore_drill", "full": "1"}
    )
    assert response.status_code == 302
    drill = Run.objects.get(kind=JobKind.RESTORE_DRILL)
    if drill.status == RunStatus.QUEUED:
        drill = run_execute(run_id=drill.pk)
    assert drill.detail["full"] is True and drill.detail["sampled"] == 32 and drill.rto_met is True
    page = client.get(reverse("backups:run-detail", args=[drill.pk])).content.decode()
    assert "全体復元で判定" in page


def test_a_drill_lists_up_to_the_entries_the_settings_allow(sut, settings):
    sut.run(JobKind.BACKUP)
    access = repository_access(sut.system.repositories.get(role="primary"))
    entries = len(engine.ls(access, engine.snapshots(access)[-1].id))  # files and every folder above them
    settings.MAMORI_DRILL_MAX_ENTRIES = entries
    assert sut.run(JobKind.RESTORE_DRILL).status == RunStatus.SUCCEEDED
    settings.MAMORI_DRILL_MAX_ENTRIES = entries - 1
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.FAILED and f"には {entries - 1:,} 個を超える項目" in drill.error_text
