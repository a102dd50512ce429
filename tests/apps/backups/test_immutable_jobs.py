"""Jobs on an immutable S3 repository (SeaweedFS with Object Lock): forget / prune leave locked
snapshots and say until when; extend-locks moves the retention and reads it back; a failing
extend-locks is a failed run with an alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mamori.apps.backups import services
from mamori.apps.backups.models import Alert, JobKind, Repository, RepositoryRole, RunStatus, Schedule
from mamori.apps.backups.passwords import encrypt_secrets
from mamori.apps.core.messages import message_text
from mamori.apps.core.models import AuditEvent
from tests.remote_servers import S3_KEY, S3_SECRET

from .conftest import REPO_PASSWORD, SystemUnderTest

pytestmark = pytest.mark.django_db(transaction=True)

S3_SECRETS = {"s3_access_key": S3_KEY, "s3_secret_key": S3_SECRET, "s3_region": "us-east-1"}


@pytest.fixture
def locked(sut: SystemUnderTest, s3_server) -> Repository:
    """The system's offsite repository replaced by an immutable S3 one (GOVERNANCE, 2 days)."""
    sut.system.repositories.filter(role=RepositoryRole.OFFSITE).delete()
    return services.repository_create(
        actor="t", system=sut.system, name="S3", url=s3_server.new_url(locked=True), password=REPO_PASSWORD,
        role=RepositoryRole.OFFSITE, initialize=True, immutable_days=2, lock_mode="GOVERNANCE", secrets=S3_SECRETS,
    )  # fmt: skip


def test_forget_keeps_locked_snapshots_and_says_until_when(sut, locked):
    for change in range(2):
        (sut.data / "共有" / "日報.txt").write_text(f"日報 {change}\n", encoding="utf-8")
        assert sut.run(JobKind.BACKUP).status == RunStatus.SUCCEEDED
        assert sut.run(JobKind.OFFSITE_COPY).status == RunStatus.SUCCEEDED
    services.retention_set(actor="t", system=sut.system, keep_last=1, keep_daily=0, keep_weekly=0,
                           keep_monthly=0, keep_yearly=0)  # fmt: skip
    run = sut.run(JobKind.FORGET_PRUNE)
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    assert len(run.detail["removed"]) == 1, "the primary's older snapshot goes"
    (kept_locked,) = run.detail["locked"]
    assert [message_text(note) for note in run.detail["notes"]] == [
        f"「S3」のスナップショット {kept_locked[:8]} は Object Lock のため "
        f"{timezone.localtime(timezone.datetime.fromisoformat(run.detail['locked'][kept_locked])):%Y-%m-%d %H:%M}"
        " まで残ります"
    ]


def test_extend_locks_is_scheduled_moves_the_retention_and_reads_it_back(sut, locked):
    assert Schedule.objects.get(system=sut.system, kind=JobKind.EXTEND_LOCKS).cron == "0 3 * * *"
    sut.run(JobKind.BACKUP)
    sut.run(JobKind.OFFSITE_COPY)
    locked.refresh_from_db()
    first = locked.lock_until
    assert first is not None and first < timezone.now() + timedelta(days=2, minutes=5)
    services.repository_update(actor="t", repository=locked, name="S3", role="offsite", medium="object_storage",
                               immutable_days=5)  # fmt: skip
    run = sut.run(JobKind.EXTEND_LOCKS)
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    locked.refresh_from_db()
    assert locked.lock_until >= timezone.now() + timedelta(
        days=5, minutes=-5
    ) and locked.lock_read_at > first - timedelta(days=2)
    assert run.detail["extended"]["S3"]["extended"] == run.detail["extended"]["S3"]["objects"] > 0
    assert (
        AuditEvent.objects.filter(action="backups.repository.lock_facts", object_id=str(locked.pk)).count()
        == 2
    )


def test_a_failing_extend_locks_is_a_failed_run_with_an_alert(sut, locked):
    sut.run(JobKind.BACKUP)
    wrong = {**S3_SECRETS, "s3_secret_key": "not-the-secret"}
    Repository.objects.filter(pk=locked.pk).update(secrets_encrypted=encrypt_secrets(wrong))
    run = sut.run(JobKind.EXTEND_LOCKS)
    assert run.status == RunStatus.FAILED and "not-the-secret" not in run.error_text
    assert Alert.objects.get(run=run).kind == "failed"
