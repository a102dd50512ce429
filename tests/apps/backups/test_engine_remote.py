"""The engine adapter with remote repositories: secrets encrypted at rest and never shown, the Object
Lock read back from a real S3 server (SeaweedFS), extend-locks, refusals as one `EngineError`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mamori.apps.backups import engine, passwords
from mamori.apps.backups.engine import RepoAccess
from tests.remote_servers import S3_KEY, S3_SECRET, S3Server, SSHServer

PASSWORD = "remote repository password"


def _secrets(secret: str = S3_SECRET) -> dict[str, str]:
    return {"s3_access_key": S3_KEY, "s3_secret_key": secret, "s3_region": "us-east-1"}


def test_secrets_are_encrypted_at_rest_and_never_in_repr() -> None:
    token = passwords.encrypt_secrets(_secrets())
    assert S3_SECRET not in token and S3_KEY not in token
    assert passwords.decrypt_secrets(token) == _secrets()
    assert passwords.encrypt_secrets({"rest_password": ""}) == "" and passwords.decrypt_secrets("") == {}
    access = RepoAccess("s3:http://h/b", PASSWORD, secrets=_secrets())
    assert S3_SECRET not in repr(access) and PASSWORD not in repr(access)
    with pytest.raises(ValueError, match="unknown repository secrets"):
        RepoAccess("s3:http://h/b", PASSWORD, secrets={"aws_token": "x"}).options()


def test_immutable_repository_facts_are_read_back_and_locks_extended(
    s3_server: S3Server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    start = datetime.now(UTC)
    access = RepoAccess(
        s3_server.new_url(locked=True), PASSWORD, secrets=_secrets(), lock_days=2, lock_mode="GOVERNANCE"
    )
    engine.repository_init(access)
    source = tmp_path / "src"
    source.mkdir()
    (source / "jumin.csv").write_text("氏名,住所\n" * 50, encoding="utf-8")
    snapshot = engine.backup_paths(access, [source]).snapshot_id

    reopened = RepoAccess(access.url, PASSWORD, secrets=_secrets())  # the lock comes from the repository
    facts = engine.lock_facts(reopened)
    assert (facts.mode, facts.days, facts.latest_snapshot) == ("GOVERNANCE", 2, snapshot)
    assert facts.latest_until is not None and facts.latest_until >= start + timedelta(days=2, minutes=-5)

    outcome = engine.extend_locks(reopened, days=4)
    assert outcome.extended == outcome.objects > 0
    later = engine.lock_facts(reopened).latest_until
    assert later is not None and later >= start + timedelta(days=4, minutes=-5)

    plain = RepoAccess(s3_server.new_url(), PASSWORD, secrets=_secrets())
    engine.repository_init(plain)
    engine.backup_paths(plain, [source])
    assert engine.lock_facts(plain).latest_until is None, "no lock read back: not immutable"
    assert S3_SECRET not in caplog.text and PASSWORD not in caplog.text


def test_refusals_are_one_engine_error_without_the_secret(s3_server: S3Server) -> None:
    with pytest.raises(engine.EngineError) as wrong:
        engine.repository_init(RepoAccess(s3_server.new_url(), PASSWORD, secrets=_secrets("wrong-secret")))
    assert wrong.value.code == "backend_access"
    assert "wrong-secret" not in str(wrong.value) and "\n" not in str(wrong.value)
    with pytest.raises(engine.EngineError) as unlocked:
        engine.repository_init(RepoAccess(s3_server.new_url(), PASSWORD, secrets=_secrets(), lock_days=7))
    assert unlocked.value.code == "backend_access" and "Object Lock" in str(unlocked.value)


def test_an_sftp_key_given_as_text_logs_in(sftp_server: SSHServer, tmp_path: Path) -> None:
    key = sftp_server.client_key.read_text()
    secrets = {"sftp_key": key, "sftp_known_hosts": str(sftp_server.known_hosts)}
    access = RepoAccess(sftp_server.new_url(), PASSWORD, secrets=secrets)
    assert len(engine.repository_init(access)) == 64
    assert engine.snapshots(access) == []
    assert "PRIVATE KEY" not in repr(access)
