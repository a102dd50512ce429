"""An upload's import as a background job: the file waits privately under MAMORI_HOME, the worker
runs it, the progress page ends with the counts or the line-numbered errors, and the file is gone.

The attacker's tests: someone else's job is a 404, a hostile file name never becomes a path, a
stored name tampered with in the database reads nothing outside the upload directory, an upload
over the limit leaves nothing behind, a bug ends the import as failed without its traceback.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mamori.apps.core.models import AuditEvent, ProgressJob, ProgressState, Role
from mamori.apps.core.progress import progress_execute
from mamori.apps.devices import imports, tasks, uploads
from mamori.apps.devices.models import Device, DeviceImport, ImportState
from tests.apps.disposal.helpers import signed_in

from .helpers import home_file
from .test_imports import INVENTORY

pytestmark = pytest.mark.django_db


def _upload(client, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("devices:import-create"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "kind": ""},
    )


def _job_of(response) -> ProgressJob:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.content.decode()[:500]
    return ProgressJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_the_officer_uploads_follows_the_progress_page_and_reads_the_counts(world):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    job = _job_of(_upload(officer, "inventory.csv", INVENTORY.encode()))
    record = DeviceImport.objects.get(pk=job.params["import_id"])
    waiting = officer.get(reverse("progress_detail", args=[job.pk])).content.decode()
    assert "待機中" in waiting and "hx-trigger" in waiting and 'http-equiv="refresh"' in waiting
    path = home_file(record)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == INVENTORY.encode()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    progress_execute(job_id=job.pk)  # what `mamori worker` does with the queued task

    done = officer.get(reverse("progress_partial", args=[job.pk])).content.decode()
    assert 'data-state="succeeded"' in done and "hx-trigger" not in done
    assert "3件中 新規 3・更新 0・変更なし 0" in done
    assert reverse("devices:import-detail", args=[record.pk]) in done and "progress_download" not in done
    assert Device.objects.count() == 3 and not path.exists()
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-4:] == [
        "devices.import.submit",
        "core.progress.start",
        "devices.import.apply",
        "core.progress.finish",
    ]


def test_a_file_with_bad_lines_ends_with_its_errors_and_nothing_imported(world):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    bad = INVENTORY.replace("1002,LGWAN接続系", "9999,LGWAN接続系").replace(",インターネット接続系,", ",,")
    job = progress_execute(job_id=_job_of(_upload(officer, "inventory.csv", bad.encode())).pk)
    assert job.state == ProgressState.FAILED
    page = officer.get(reverse("progress_detail", args=[job.pk])).content.decode()
    assert "2件のエラーがあるため、何も取り込んでいません" in page
    assert "<br>4行目: ネットワーク区分がありません" in page and "2行目: 所属「9999」" in page
    assert not Device.objects.exists()
    assert not home_file(DeviceImport.objects.get()).exists()


def test_someone_elses_import_job_is_not_found(world):
    job = _job_of(_upload(signed_in(world, Role.SECURITY_OFFICER), "inventory.csv", INVENTORY.encode()))
    for role in (Role.ADMINISTRATOR, Role.AUDITOR, Role.DEPARTMENT_LEAD, Role.STAFF):
        other = signed_in(world, role)
        for name in ("progress_detail", "progress_partial", "progress_download"):
            assert other.get(reverse(name, args=[job.pk])).status_code == 404, (role, name)
    for role in (Role.DEPARTMENT_LEAD, Role.STAFF, Role.AUDITOR):
        response = _upload(signed_in(world, role), "inventory.csv", INVENTORY.encode())
        assert response.status_code in (403, 404), role
    assert ProgressJob.objects.count() == DeviceImport.objects.count() == 1


def test_a_hostile_file_name_is_only_a_label(world):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    job = _job_of(_upload(officer, "../../mamori.sqlite3", INVENTORY.encode()))
    record = DeviceImport.objects.get(pk=job.params["import_id"])
    assert record.filename == "mamori.sqlite3"  # Django keeps only the base name
    assert home_file(record).parent == Path(settings.MAMORI_HOME) / "device-imports"
    assert uploads.NAME_RE.match(record.stored_file)


def test_a_stored_name_tampered_with_reads_and_removes_nothing_outside(world):
    secret = Path(settings.MAMORI_HOME) / "tamper-target.csv"
    secret.write_text(INVENTORY)
    record = imports.import_submit(actor="officer", filename="inventory.csv", data=INVENTORY.encode())
    home_file(record).unlink()
    DeviceImport.objects.filter(pk=record.pk).update(stored_file="../tamper-target.csv")
    record = imports.import_execute(import_id=record.pk)
    assert record.state == ImportState.FAILED and "見つかりません" in record.error_texts[0]
    assert secret.read_text() == INVENTORY and not Device.objects.exists()


def test_an_upload_over_the_limit_leaves_nothing_behind(world, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_IMPORT_BYTES", 100)
    before = set((Path(settings.MAMORI_HOME) / "device-imports").glob("*"))
    page = _upload(signed_in(world, Role.SECURITY_OFFICER), "inventory.csv", INVENTORY.encode())
    assert page.status_code == 200 and "ファイルが大きすぎます" in page.content.decode()
    with pytest.raises(imports.DeviceError, match="大きすぎます"):  # past the view's check: while copying
        imports.import_submit(actor="officer", filename="inventory.csv", data=INVENTORY.encode())
    assert set((Path(settings.MAMORI_HOME) / "device-imports").glob("*")) == before
    assert not DeviceImport.objects.exists() and not ProgressJob.objects.exists()


def test_a_bug_fails_the_import_and_its_job_without_a_traceback(world, monkeypatch, caplog):
    def broken(data: bytes):  # type: ignore[no-untyped-def]
        raise KeyError("/srv/secret/path")

    monkeypatch.setitem(imports.READERS, "inventory_csv", broken)
    job = tasks.import_queue(
        actor=world.users[Role.SECURITY_OFFICER], filename="inventory.csv", data=INVENTORY.encode()
    )
    job = progress_execute(job_id=job.pk)
    record = DeviceImport.objects.get(pk=job.params["import_id"])
    assert job.state == ProgressState.FAILED and "予期しないエラー" in job.error
    assert record.state == ImportState.FAILED and "予期しないエラー" in record.error_texts[0]
    assert "/srv/secret/path" not in job.error + str(record.errors) and "/srv/secret/path" in caplog.text
    assert not home_file(record).exists()
