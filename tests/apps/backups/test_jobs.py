"""Jobs against real repositories: backups readable by the real restic, failures recorded, alerted by
e-mail through a real SMTP server, shown red, and turned green by the next successful run."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from mamori.apps.backups import jobs, selectors, services
from mamori.apps.backups.jobs import REPOSITORY_BUSY, run_request
from mamori.apps.backups.models import Alert, JobKind, RunStatus
from tests.conftest import require_tool

from .conftest import REPO_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def restic(repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("restic"), "-r", str(repo), "--no-cache", *args],
        capture_output=True,
        text=True,
        env={"RESTIC_PASSWORD": REPO_PASSWORD, "PATH": "/usr/bin:/bin"},
    )


def test_backup_is_recorded_and_readable_by_restic(sut):
    run = sut.run()
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    assert run.files_total == 2 and run.files_new == 2 and run.bytes_total > 0 and run.snapshot_id
    listing = restic(sut.primary, "ls", "--json", run.snapshot_id)
    assert listing.returncode == 0, listing.stderr
    paths = {json.loads(line).get("path") for line in listing.stdout.splitlines()[1:]}
    assert str(sut.data / "共有" / "総務課" / "会議録.txt") in paths
    assert str(sut.data / "一時.tmp") not in paths  # the exclude pattern was applied
    assert selectors.system_status(system=sut.system).last_backup == run


@pytest.mark.parametrize("fault", ["source_missing", "repository_unreachable", "wrong_password"])
def test_failed_job_is_recorded_alerted_by_email_red_then_green(
    sut, users, smtp_sink, settings, tmp_path, fault
):
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    primary = sut.system.repositories.get(role="primary")
    good_url = primary.url
    if fault == "source_missing":
        sut.data.rename(tmp_path / "moved-away")
    elif fault == "repository_unreachable":
        primary.url = str(tmp_path / "no-such-mount" / "repo")
        primary.save()
    else:
        services.repository_set_password(actor="test", repository=primary, password="not the password")

    failed = sut.run()

    assert failed.status == RunStatus.FAILED
    expected = {
        "source_missing": "バックアップ元が見つかりません",
        "repository_unreachable": "リポジトリが見つかりません",
        "wrong_password": "リポジトリのパスワードが違います",
    }[fault]
    assert expected in failed.error_text
    assert "not the password" not in failed.error_text and REPO_PASSWORD not in failed.error_text
    with translation.override("en"):  # the worker wrote it in Japanese; an English reader reads English
        english = {
            "source_missing": "Source not found: ",
            "repository_unreachable": "Repository not found",
            "wrong_password": "Wrong repository password",
        }[fault]
        assert failed.error.startswith(english) and not JAPANESE.search(failed.error)
        assert Alert.objects.get().text.startswith(f"Backup failed: {english}")
    assert failed.error == failed.error_text  # in Japanese, what the mail and the CLI say
    status = selectors.system_status(system=sut.system)
    assert status.light == selectors.RED and status.open_alerts == 1
    assert Alert.objects.get().emailed_at is not None
    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    assert smtp_sink.recipients[0] == ["security@city.example.jp"]
    assert "ファイルサーバ" in mail["Subject"] and expected in mail.get_content()
    assert REPO_PASSWORD not in mail.get_content()

    if fault == "source_missing":
        (tmp_path / "moved-away").rename(sut.data)
    elif fault == "repository_unreachable":
        primary.url = good_url
        primary.save()
    else:
        services.repository_set_password(actor="test", repository=primary, password=REPO_PASSWORD)
    ok = sut.run()
    assert ok.status == RunStatus.SUCCEEDED, ok.error_text
    assert (
        selectors.system_status(system=sut.system).light == selectors.AMBER
    )  # no longer red; not yet protected


def test_officers_get_the_alert_when_no_list_is_configured(sut, users, smtp_sink, settings):
    settings.MAMORI_ALERT_EMAILS = []
    services.repository_set_password(
        actor="test", repository=sut.system.repositories.get(role="primary"), password="wrong"
    )
    sut.run()
    assert smtp_sink.recipients == [["officer@city.example.jp"]]


def test_only_one_job_per_repository_at_a_time(sut, settings):
    settings.MAMORI_LOCK_WAIT_SECONDS = 0
    holder = run_request(actor="test", system=sut.system, kind=JobKind.CHECK_SUBSET, enqueue=False)
    holder.status = RunStatus.RUNNING
    holder.save()
    sut.system.repositories.update(locked_by=holder)
    blocked = sut.run()
    assert blocked.status == RunStatus.FAILED and blocked.error_text == REPOSITORY_BUSY
    with translation.override("en"):
        assert blocked.error == "Could not run: the repository is in use by another job"
    holder.status = RunStatus.SUCCEEDED  # the holder finished: its lock no longer counts
    holder.save()
    assert sut.run().status == RunStatus.SUCCEEDED


def test_restore_drill_restores_verifies_and_measures_against_rto(sut, settings):
    sut.run()
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.SUCCEEDED, drill.error_text
    assert drill.passed is True and drill.rto_met is True
    assert drill.detail["sampled"] == 2 and drill.detail["problems"] == []
    assert 0 < drill.duration_s <= sut.system.rto_minutes * 60
    assert not (settings.MAMORI_HOME / "scratch" / f"drill-{drill.pk}").exists()  # cleaned up


def test_restore_drill_fails_when_the_repository_was_damaged(sut):
    sut.run()
    for pack in (sut.primary / "data").rglob("*"):
        if pack.is_file():
            raw = bytearray(pack.read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            pack.write_bytes(bytes(raw))
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.FAILED and drill.passed is not True
    assert selectors.system_status(system=sut.system).light == selectors.RED


def test_check_subset_reads_both_repositories(sut):
    sut.run()
    check = sut.run(JobKind.CHECK_SUBSET)
    assert check.status == RunStatus.SUCCEEDED, check.error_text
    assert set(check.detail["checked"]) == {"庁内", "遠隔地"}
    assert selectors.system_status(system=sut.system).checklist.check_clean


def test_progress_is_recorded_while_a_backup_runs(sut, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL_S", 0.0)
    (sut.data / "大きなファイル.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    with CaptureQueriesContext(connection) as queries:
        run = sut.run()
    assert run.status == RunStatus.SUCCEEDED and run.progress == {}  # cleared when finished
    assert any("bytes_done" in q["sql"] for q in queries.captured_queries)
