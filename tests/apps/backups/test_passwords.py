"""Repository passwords are encrypted at rest and never reach the audit log or the logs."""

from __future__ import annotations

import logging

import pytest

from mamori.apps.backups import passwords, services
from mamori.apps.backups.errors import BackupError
from mamori.apps.backups.models import Repository
from mamori.apps.core.models import AuditEvent

from .conftest import REPO_PASSWORD

pytestmark = pytest.mark.django_db


def test_password_is_stored_encrypted_and_round_trips(sut):
    repo = Repository.objects.get(role="primary")
    assert REPO_PASSWORD not in repo.password_encrypted
    assert services.repository_access(repo).password == REPO_PASSWORD
    assert REPO_PASSWORD not in repr(services.repository_access(repo))


def test_password_never_in_audit_log(sut):
    for event in AuditEvent.objects.all():
        assert REPO_PASSWORD not in str(event.after) and REPO_PASSWORD not in str(event.before)
    created = AuditEvent.objects.filter(action="backups.repository.create").first()
    assert created.after["credential_stored"] is True


def test_password_never_in_logs(sut, caplog):
    caplog.set_level(logging.DEBUG)
    sut.run()
    assert REPO_PASSWORD not in caplog.text


def test_another_key_cannot_decrypt(settings, monkeypatch):
    token = passwords.encrypt_password("secret")
    monkeypatch.setenv("MAMORI_REPOSITORY_KEY", "A" * 43 + "=")
    with pytest.raises(BackupError, match="復号できません"):
        passwords.decrypt_password(token)


def test_empty_password_is_refused(sut):
    with pytest.raises(BackupError, match="パスワードを指定"):
        services.repository_create(actor="t", system=sut.system, name="x", url="/tmp/x", password="")
