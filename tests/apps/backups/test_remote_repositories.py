"""The officer registers local, SFTP, S3 and REST repositories from the page, against real servers
(sshd, SeaweedFS, rclone): secrets are encrypted at rest, never rendered back nor written to the audit
log, a blank secret keeps the stored one; bad input is one line, secrets masked, nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mamori.apps.backups import services
from mamori.apps.backups.models import JobKind, Repository, Schedule
from mamori.apps.core.models import AuditEvent
from tests.remote_servers import REST_PASSWORD, REST_USER, S3_KEY, S3_SECRET

from .conftest import REPO_PASSWORD
from .test_views import as_user

pytestmark = pytest.mark.django_db


def _post(client, code: str, **fields):
    data = {"name": "遠隔地", "role": "offsite", "medium": "object_storage", "immutable_days": 0,
            "password": REPO_PASSWORD, "initialize": "on", **fields}  # fmt: skip
    return client.post(reverse("backups:repository-create", args=[code]), data)


def _s3(**extra: str) -> dict[str, str]:
    return {"s3_access_key": S3_KEY, "s3_secret_key": S3_SECRET, "s3_region": "us-east-1", **extra}


def _form_error(response) -> str:
    assert response.status_code == 200, "the form comes back, nothing saved"
    page = response.content.decode()
    start = page.index('class="error-box"')
    line = page[page.index(">", start) + 1 : page.index("</p>", start)]
    assert "\n" not in line.strip()
    return line


def test_an_immutable_s3_repository_from_the_page_keeps_its_secrets_hidden(sut, users, client, s3_server):
    client = as_user(client, users, "officer")
    url = s3_server.new_url(locked=True)
    response = _post(client, "fileserver", url=url, immutable_days=3, lock_mode="GOVERNANCE", **_s3())
    assert response.status_code == 302, response.content.decode()[:2000]
    repo = Repository.objects.get(url=url)
    assert S3_SECRET not in repo.secrets_encrypted and S3_KEY not in repo.secrets_encrypted
    assert services.repository_access(repo).secrets == _s3()
    assert Schedule.objects.get(system=sut.system, kind=JobKind.EXTEND_LOCKS).enabled, "locks kept extended"

    edit = reverse("backups:repository-edit", args=["fileserver", repo.pk])
    page = client.get(edit).content.decode()
    assert S3_SECRET not in page and S3_KEY not in page and "空欄なら変更しません" in page
    kept = client.post(
        edit, {"name": "S3", "role": "offsite", "medium": "object_storage", "immutable_days": 3}
    )
    assert (
        kept.status_code == 302
        and services.repository_access(Repository.objects.get(pk=repo.pk)).secrets == _s3()
    )

    wrong = client.post(edit, {"name": "S3", "role": "offsite", "medium": "object_storage", "immutable_days": 3,
                               "s3_secret_key": "not-the-secret"})  # fmt: skip
    assert (
        "リポジトリのサーバに拒否されました" in _form_error(wrong)
        and "not-the-secret" not in wrong.content.decode()
    )
    assert services.repository_access(Repository.objects.get(pk=repo.pk)).secrets == _s3(), "nothing saved"
    for event in AuditEvent.objects.all():
        assert S3_SECRET not in str(event.after) + str(event.before) and "not-the-secret" not in str(
            event.after
        )


def test_a_rest_password_in_the_url_is_moved_into_the_encrypted_secrets(sut, users, client, rest_server):
    url = rest_server.new_url()
    response = _post(as_user(client, users, "officer"), "fileserver", url=url, medium="nas")
    assert response.status_code == 302
    repo = Repository.objects.get(system=sut.system, name="遠隔地", medium="nas")
    assert (
        REST_USER not in repo.url and "pass" not in repo.url and repo.url.startswith("rest:http://127.0.0.1:")
    )
    assert services.repository_access(repo).secrets == {
        "rest_username": REST_USER,
        "rest_password": REST_PASSWORD,
    }


def test_an_sftp_repository_with_the_server_host_key(sut, users, client, sftp_server):
    response = _post(
        as_user(client, users, "officer"), "fileserver", url=sftp_server.new_url(), medium="nas",
        known_hosts=sftp_server.known_hosts.read_text(), sftp_key=sftp_server.client_key.read_text(),
    )  # fmt: skip
    assert response.status_code == 302
    repo = Repository.objects.get(system=sut.system, medium="nas")
    assert "PRIVATE KEY" not in repo.secrets_encrypted and "PRIVATE KEY" not in str(
        AuditEvent.objects.last().after
    )


def _bad_inputs(s3_server, sftp_server):
    other_key = (sftp_server.base / "other_ed25519.pub").read_text().split()
    unknown_host = f"[127.0.0.1]:{sftp_server.port} {other_key[0]} {other_key[1]}"
    client_key = sftp_server.client_key.read_text()
    return {
        "malformed": (
            {"url": "s3:http://127.0.0.1:9/Not_A_Bucket/x", **_s3()},
            "場所の書き方が正しくありません",
        ),
        "unknown host key": (
            {"url": sftp_server.new_url(), "known_hosts": unknown_host, "sftp_key": client_key},
            "リポジトリのサーバに拒否されました",
        ),
        "no host key": ({"url": sftp_server.new_url(), "sftp_key": client_key}, "SSHホスト鍵"),
        "wrong credentials": (
            {"url": s3_server.new_url(), **_s3(s3_secret_key="wrong-secret-value")},
            "リポジトリのサーバに拒否されました",
        ),
        "missing bucket": ({"url": f"s3:{s3_server.endpoint}/no-such-bucket/r", **_s3()}, "no-such-bucket"),
        "bucket without Object Lock": (
            {"url": s3_server.new_url(), "immutable_days": 7, **_s3()},
            "Object Lock",
        ),
        "immutable local path": ({"url": "/srv/backup/x", "immutable_days": 7}, "s3: のリポジトリでだけ"),
        "secret for another kind": ({"url": "/srv/backup/x", "s3_secret_key": "x-secret"}, "s3_secret_key"),
    }


@pytest.mark.parametrize(
    "case",
    ["malformed", "unknown host key", "no host key", "wrong credentials", "missing bucket",
     "bucket without Object Lock", "immutable local path", "secret for another kind"],
)  # fmt: skip
def test_bad_input_is_one_line_and_saves_nothing(sut, users, client, s3_server, sftp_server, case):
    fields, expected = _bad_inputs(s3_server, sftp_server)[case]
    before = (Repository.objects.count(), AuditEvent.objects.count())
    response = _post(as_user(client, users, "officer"), "fileserver", **fields)
    line = _form_error(response)
    assert expected in line, line
    assert (
        "wrong-secret-value" not in response.content.decode() and S3_SECRET not in response.content.decode()
    )
    assert (Repository.objects.count(), AuditEvent.objects.count()) == before
