"""No credential carried by a repository URL is shown: not on the system page (officer, lead,
auditor), not in a failed run's error or its alert, not in the audit log, not in `status --json`,
not in the log handlers' output."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

from mamori.apps.backups import services
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.models import Alert, JobKind, Repository, RepositoryRole, RunStatus
from mamori.apps.backups.passwords import encrypt_password
from mamori.apps.core.audit import audit_record, snapshot_of
from mamori.apps.core.models import AuditEvent
from mamori.apps.core.redaction import RedactingFilter

from .conftest import REPO_PASSWORD, SystemUnderTest
from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)

URLS = [
    "rest:https://backup:hunter2@127.0.0.1:1/jumin/",
    "s3:https://AKIAEXAMPLE:hunter2/Secret+Key@127.0.0.1:1/bucket/jumin",
    "sftp:backup:hunter2@127.0.0.1:/srv/restic/jumin",
]


@pytest.fixture
def remote(tmp_path, departments) -> SystemUnderTest:
    data = tmp_path / "data"
    data.mkdir()
    (data / "台帳.csv").write_text("1,住民\n", encoding="utf-8")
    system = services.system_create(
        actor="t", code="jumin", name="住民情報システム", department=departments["shimin"]
    )
    services.source_create(actor="t", system=system, path=str(data))
    for i, url in enumerate(URLS):  # rows from before the form refused credentials in a URL
        role = RepositoryRole.PRIMARY if i == 0 else RepositoryRole.OFFSITE
        repo = Repository.objects.create(
            system=system,
            name=f"remote{i}",
            url=url,
            role=role,
            password_encrypted=encrypt_password(REPO_PASSWORD),
        )
        audit_record(
            actor="t",
            action="backups.repository.create",
            obj=repo,
            after=snapshot_of(repo, services.REPOSITORY_FIELDS),
        )
    return SystemUnderTest(system, data, tmp_path, tmp_path)


def test_a_credential_in_a_new_url_is_refused_or_moved_out_masked(remote):
    """REST's password moves into the encrypted secrets; S3 keys and an SFTP password in a URL are
    refused, and the message does not repeat them."""
    with pytest.raises(BackupError) as s3:
        services.repository_create(actor="t", system=remote.system, name="s3", url=URLS[1], password="p")
    with pytest.raises(BackupError) as sftp:
        services.repository_create(actor="t", system=remote.system, name="sftp", url=URLS[2], password="p")
    assert s3.value.code == sftp.value.code == "location"
    assert "hunter2" not in s3.value.message + sftp.value.message and "\n" not in s3.value.message
    with pytest.raises(BackupError) as rest:  # the password leaves the URL; the server is not there
        services.repository_create(actor="t", system=remote.system, name="rest", url=URLS[0], password="p")
    assert rest.value.code == "backend" and "hunter2" not in rest.value.message


def test_no_page_shows_a_repository_credential(remote, users, client):
    run = remote.run(JobKind.BACKUP)
    assert run.status == RunStatus.FAILED and "hunter2" not in run.error_text
    assert all("hunter2" not in a.message for a in Alert.objects.all())
    pages = {
        "officer": ["backups:systems", ("backups:system-detail", "jumin"), ("backups:run-detail", run.pk), "audit_list"],
        "lead": ["backups:systems", ("backups:system-detail", "jumin"), ("backups:run-detail", run.pk)],
        "auditor": ["backups:systems", ("backups:system-detail", "jumin"), "audit_list"],
    }  # fmt: skip
    for role, names in pages.items():
        client.logout()
        as_user(client, users, role)
        for name in names:
            url = reverse(name) if isinstance(name, str) else reverse(name[0], args=[name[1]])
            response = client.get(url)
            page = response.content.decode()
            assert response.status_code == 200, (role, url)
            assert "hunter2" not in page, (role, url)
    detail = client.get(reverse("backups:system-detail", args=["jumin"])).content.decode()
    assert "rest:https://backup:***@127.0.0.1:1/jumin/" in detail and "sftp:backup:***@127.0.0.1:" in detail


def test_the_audit_log_stores_no_credential(remote):
    events = AuditEvent.objects.filter(action="backups.repository.create")
    assert events.count() == 3
    assert all("hunter2" not in json.dumps(e.after) and "***@127.0.0.1" in e.after["url"] for e in events)


def test_status_json_shows_no_credential(remote, capsys):
    call_command("status", "--json")
    out = capsys.readouterr().out
    urls = [r["url"] for r in json.loads(out)["systems"][0]["repositories"]]
    assert "hunter2" not in out and "rest:https://backup:***@127.0.0.1:1/jumin/" in urls


def test_the_log_handlers_mask_credentials():
    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactingFilter) for f in h.filters)
    ]
    assert handlers, "the console handler of settings.LOGGING carries the redaction filter"
    record = logging.LogRecord("mamori", logging.ERROR, __file__, 1, "open %s failed", (URLS[0],), None)
    assert handlers[0].filter(record) and "hunter2" not in handlers[0].format(record)
