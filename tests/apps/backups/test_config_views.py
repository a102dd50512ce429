"""The officer configures a system through the pages; bad input gets a one-line error and saves
nothing; the repository password is never rendered back nor written to the audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mamori.apps.backups.alerts import alert_raise
from mamori.apps.backups.models import ProtectedSystem, Repository, Schedule
from mamori.apps.core.models import AuditEvent

from .test_views import as_user

pytestmark = pytest.mark.django_db


def test_officer_sets_up_a_system_from_the_pages(users, client, departments, tmp_path):
    client = as_user(client, users, "officer")
    response = client.post(
        reverse("backups:system-create"),
        {
            "code": "bunsho",
            "name": "文書管理システム",
            "department": departments["joho"].pk,
            "network_zone": "lgwan",
            "classification": "c2",
            "rpo_hours": 24,
            "rto_minutes": 480,
        },
    )
    assert response.status_code == 302
    system = ProtectedSystem.objects.get(code="bunsho")
    (tmp_path / "docs").mkdir()
    client.post(
        reverse("backups:source-create", args=["bunsho"]), {"kind": "path", "path": str(tmp_path / "docs")}
    )
    secret = "s3cret-repository-passphrase"
    client.post(
        reverse("backups:repository-create", args=["bunsho"]),
        {"name": "庁内", "url": str(tmp_path / "repo"), "role": "primary", "medium": "disk", "immutable_days": 0,
         "password": secret, "initialize": "on"},
    )  # fmt: skip
    client.post(
        reverse("backups:schedule-set", args=["bunsho"]),
        {"kind": "backup", "cron": "0 2 * * *", "enabled": "on", "check_subset": "10%", "drill_sample": 20},
    )
    assert system.sources.count() == 1 and Schedule.objects.get(system=system).next_due_at is not None
    repo = Repository.objects.get(system=system)
    assert (tmp_path / "repo" / "config").exists()
    page = client.get(reverse("backups:repository-create", args=["bunsho"])).content.decode()
    detail = client.get(reverse("backups:system-detail", args=["bunsho"])).content.decode()
    assert secret not in page and secret not in detail and secret not in repo.password_encrypted
    assert all(secret not in str(e.after) for e in AuditEvent.objects.all())


def test_bad_cron_shows_a_clear_error_and_saves_nothing(sut, users, client):
    response = as_user(client, users, "officer").post(
        reverse("backups:schedule-set", args=["fileserver"]),
        {"kind": "backup", "cron": "every night", "enabled": "on", "check_subset": "10%", "drill_sample": 20},
    )
    assert response.status_code == 200 and "cron式が正しくありません" in response.content.decode()
    assert not Schedule.objects.exists()


def test_duplicate_system_code_is_a_form_error(sut, users, client, departments):
    response = as_user(client, users, "officer").post(
        reverse("backups:system-create"),
        {"code": "fileserver", "name": "x", "department": departments["joho"].pk, "network_zone": "lgwan",
         "classification": "c2", "rpo_hours": 24, "rto_minutes": 60},
    )  # fmt: skip
    assert response.status_code == 200 and "コード" in response.content.decode()
    assert ProtectedSystem.objects.count() == 1


@pytest.mark.parametrize("role,expected", [("auditor", 403), ("lead", 403), ("staff", 403)])
def test_only_officers_configure(sut, users, client, role, expected):
    client = as_user(client, users, role)
    assert client.get(reverse("backups:system-create")).status_code == expected
    assert client.get(reverse("backups:retention-set", args=["fileserver"])).status_code == expected


def test_edit_and_retention_pages_prefill(sut, users, client):
    client = as_user(client, users, "officer")
    assert (
        "ファイルサーバ" in client.get(reverse("backups:system-edit", args=["fileserver"])).content.decode()
    )
    response = client.post(
        reverse("backups:retention-set", args=["fileserver"]),
        {
            "keep_last": 0,
            "keep_daily": 7,
            "keep_weekly": 4,
            "keep_monthly": 6,
            "keep_yearly": 1,
            "prune": "on",
        },
    )
    assert response.status_code == 302
    sut.system.retention.refresh_from_db()
    assert sut.system.retention.keep_daily == 7


def test_small_things_an_officer_reads(sut, users, client, departments):
    client = as_user(client, users, "officer")
    form = {"code": "file server!", "name": "ファイルサーバ", "department": departments["shimin"].pk,
            "network_zone": "lgwan", "classification": "c2", "rpo_hours": 24, "rto_minutes": 60}  # fmt: skip
    page = client.post(reverse("backups:system-create"), form).content.decode()
    assert "半角の英数字" in page and "slug" not in page.lower()
    page = client.post(reverse("backups:system-create"), {**form, "code": "fs2"}).content.decode()
    assert "同じ名前のシステム「ファイルサーバ」が既にあります" in page
    assert ProtectedSystem.objects.count() == 1
    detail = client.get(reverse("backups:system-detail", args=["fileserver"])).content.decode()
    assert "直近 0 / 日次 14 / 週次 8 / 月次 12 / 年次 5" in detail and "daily" not in detail


def test_the_unacknowledged_alerts_badge_links_to_the_alerts(sut, users, client):
    alert_raise(system=sut.system, kind="missed", message="x")
    page = as_user(client, users, "officer").get(reverse("dashboard")).content.decode()
    assert 'href="/backups/#alerts" data-alerts-link' in page
    assert 'id="alerts"' in client.get(reverse("backups:systems")).content.decode()
