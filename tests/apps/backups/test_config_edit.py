"""An officer can fix or remove what was configured wrong: edit a source (with a warning for a path
this server cannot see), deactivate, reactivate and delete a system, edit and forget repositories,
delete schedules. Confirm pages say what goes and what stays; every change is audited; mamori never
deletes a repository's data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mamori.apps.backups import selectors, services
from mamori.apps.backups.models import JobKind, ProtectedSystem, Repository, Run, RunStatus, Schedule, Source
from mamori.apps.backups.scheduling import schedule_tick
from mamori.apps.core.models import AuditEvent

from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_mistyped_path_warns_and_a_corrected_one_backs_up(sut, users, client, tmp_path):
    client = as_user(client, users, "officer")
    source = sut.system.sources.get()
    wrong = str(sut.data) + "-typo"
    response = client.post(
        reverse("backups:source-edit", args=["fileserver", source.pk]),
        {"kind": "path", "path": wrong},
        follow=True,
    )
    assert "このサーバから見て存在しません" in response.content.decode()
    assert sut.run().status == RunStatus.FAILED

    response = client.post(
        reverse("backups:source-edit", args=["fileserver", source.pk]),
        {"kind": "path", "path": str(sut.data), "excludes": "*.tmp"},
        follow=True,
    )
    assert "保存しました" in response.content.decode()
    assert sut.run().status == RunStatus.SUCCEEDED
    assert selectors.system_status(system=sut.system).light != selectors.RED
    edits = AuditEvent.objects.filter(action="backups.source.update").order_by("sequence")
    assert [e.after["path"] for e in edits] == [wrong, str(sut.data)]


def test_deleting_a_system_says_what_goes_and_keeps_the_repository_data(sut, users, client):
    sut.run()
    client = as_user(client, users, "officer")
    url = reverse("backups:system-delete", args=["fileserver"])
    page = client.get(url).content.decode()
    assert "実行履歴 1 件が削除され" in page and "mamori が削除することはありません" in page
    assert str(sut.primary) in page and str(sut.offsite) in page

    refused = client.post(url, {"confirm_code": "wrong"})
    assert refused.status_code == 400 and ProtectedSystem.objects.filter(code="fileserver").exists()

    assert client.post(url, {"confirm_code": "fileserver"}).status_code == 302
    assert (
        not ProtectedSystem.objects.exists() and not Run.objects.exists() and not Repository.objects.exists()
    )
    assert (sut.primary / "config").exists() and any((sut.primary / "snapshots").iterdir())
    event = AuditEvent.objects.get(action="backups.system.delete")
    assert event.after["runs_deleted"] == 1 and str(sut.primary) in event.after["repositories_kept_data"]


def test_a_deactivated_system_runs_no_schedule_and_leaves_the_dashboard(sut, users, client):
    services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="* * * * *")
    client = as_user(client, users, "officer")
    client.post(reverse("backups:system-active", args=["fileserver"]), {"active": "0"})
    Schedule.objects.update(next_due_at="2020-01-01T00:00:00Z")
    assert schedule_tick() == [] and not Run.objects.exists()
    assert selectors.status_list() == []
    overview = client.get(reverse("backups:systems")).content.decode()
    assert 'data-inactive-system="fileserver"' in overview
    detail = client.get(reverse("backups:system-detail", args=["fileserver"])).content.decode()
    assert "停止中" in detail and 'data-action="activate"' in detail

    client.post(reverse("backups:system-active", args=["fileserver"]), {"active": "1"})
    assert [s.system.code for s in selectors.status_list()] == ["fileserver"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="backups.system.").values_list("action", flat=True)
    )
    assert actions[-2:] == ["backups.system.deactivate", "backups.system.activate"]


def test_forgetting_a_repository_keeps_its_data_and_the_run_records(sut, users, client):
    sut.run(JobKind.BACKUP)
    sut.run(JobKind.OFFSITE_COPY)
    offsite = sut.system.repositories.get(name="遠隔地")
    client = as_user(client, users, "officer")
    url = reverse("backups:repository-delete", args=["fileserver", offsite.pk])
    assert "mamori が削除することはありません" in client.get(url).content.decode()
    client.post(url)
    assert not Repository.objects.filter(pk=offsite.pk).exists()
    assert (sut.offsite / "config").exists() and any((sut.offsite / "snapshots").iterdir())
    assert Run.objects.filter(kind=JobKind.OFFSITE_COPY, status=RunStatus.SUCCEEDED).count() == 1


def test_editing_a_repository_changes_its_description_not_its_url(sut, users, client):
    repo = sut.system.repositories.get(name="遠隔地")
    response = as_user(client, users, "officer").post(
        reverse("backups:repository-edit", args=["fileserver", repo.pk]),
        {"name": "遠隔地NAS", "role": "offsite", "medium": "nas", "immutable_days": 0, "url": "/elsewhere"},
    )
    assert response.status_code == 302
    repo.refresh_from_db()
    assert (repo.name, repo.medium, repo.url) == ("遠隔地NAS", "nas", str(sut.offsite))


def test_deleting_a_source_and_a_schedule(sut, users, client):
    schedule = services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *")
    source = sut.system.sources.get()
    client = as_user(client, users, "officer")
    client.post(reverse("backups:schedule-delete", args=["fileserver", schedule.pk]))
    client.post(reverse("backups:source-delete", args=["fileserver", source.pk]))
    assert not Schedule.objects.exists() and not Source.objects.exists()
    assert {"backups.schedule.delete", "backups.source.delete"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


@pytest.mark.parametrize("role", ["auditor", "lead", "staff"])
def test_only_officers_edit_or_delete(sut, users, client, role):
    client = as_user(client, users, role)
    response = client.post(
        reverse("backups:system-delete", args=["fileserver"]), {"confirm_code": "fileserver"}
    )
    assert response.status_code in (403, 404) and ProtectedSystem.objects.exists()
