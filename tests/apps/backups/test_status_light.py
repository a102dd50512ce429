"""The status light reflects protection, not only the last backup: amber with the reason while the
3-2-1-0 part of the rule (3-2-1-1-0 for 機密性3) or the check the classification requires is missing;
an offsite repository on the same disk is not offsite, and the reason says so. The flags come from
facts: another host or filesystem, the Object Lock read back from a real S3 server (SeaweedFS)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from mamori.apps.backups import engine, selectors, services
from mamori.apps.backups.models import JobKind, Medium, Repository, RepositoryRole, RunStatus
from mamori.apps.core.models import Classification
from tests.remote_servers import S3_KEY, S3_SECRET

from .conftest import REPO_PASSWORD, SystemUnderTest
from .test_views import as_user

S3_SECRETS = {"s3_access_key": S3_KEY, "s3_secret_key": S3_SECRET, "s3_region": "us-east-1"}

pytestmark = pytest.mark.django_db(transaction=True)


def remote_system(
    tmp_path, departments, rest=None, *, classification: str = Classification.CONFIDENTIAL_2, **offsite
) -> SystemUnderTest:
    """A system with a local primary and an offsite repository on a real server: REST by default,
    or the repository_create arguments given in `offsite`."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "予算書.xlsx").write_bytes(b"PK" + b"x" * 5000)
    system = services.system_create(
        actor="t",
        code="zaimu",
        name="財務会計システム",
        department=departments["joho"],
        classification=classification,
    )
    services.source_create(actor="t", system=system, path=str(data))
    services.repository_create(
        actor="t",
        system=system,
        name="庁内",
        url=str(tmp_path / "primary"),
        password=REPO_PASSWORD,
        initialize=True,
    )
    offsite = offsite or {"name": "データセンター", "url": rest.new_url(), "medium": Medium.NAS}
    services.repository_create(
        actor="t",
        system=system,
        password=REPO_PASSWORD,
        role=RepositoryRole.OFFSITE,
        initialize=True,
        **offsite,
    )
    return SystemUnderTest(system, data, tmp_path / "primary", tmp_path)


def status(sut: SystemUnderTest, **kw):
    return selectors.system_status(system=sut.system, **kw)


def test_a_local_offsite_path_is_not_offsite_and_the_reason_says_so(sut):
    for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
        assert sut.run(kind).status == RunStatus.SUCCEEDED
    st = status(sut)
    assert st.light == selectors.AMBER and not st.checklist.offsite and not st.checklist.flags["two_media"]
    assert "「遠隔地」は同じサーバ上のパスのため遠隔地とみなしません" in st.reason


def test_amber_until_copied_offsite_and_checked_then_green(tmp_path, departments, rest_server):
    sut = remote_system(tmp_path, departments, rest_server)
    assert sut.run(JobKind.BACKUP).status == RunStatus.SUCCEEDED
    st = status(sut)
    assert st.light == selectors.AMBER and st.reason.startswith("遠隔地コピーがまだありません")
    assert sut.run(JobKind.OFFSITE_COPY).status == RunStatus.SUCCEEDED
    st = status(sut)
    assert st.light == selectors.AMBER and st.gaps == [
        "整合性検査がまだありません（「今すぐ検査」で実行できます）"
    ]
    assert sut.run(JobKind.CHECK_SUBSET).status == RunStatus.SUCCEEDED
    st = status(sut)
    assert st.light == selectors.GREEN and st.checklist.offsite and st.checklist.media == 2


def test_an_old_check_turns_it_amber(tmp_path, departments, rest_server):
    sut = remote_system(tmp_path, departments, rest_server)
    for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
        sut.run(kind)
    check = sut.system.runs.get(kind=JobKind.CHECK_SUBSET)
    check.finished_at = timezone.now() - timedelta(days=40)
    check.save()
    assert status(sut).gaps == ["整合性検査が31日以上行われていません（機密性2は31日ごと）"]


def test_confidential_3_needs_an_immutable_copy(tmp_path, departments, rest_server):
    sut = remote_system(tmp_path, departments, rest_server, classification=Classification.CONFIDENTIAL_3)
    for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
        sut.run(kind)
    assert status(sut).gaps == ["機密性3のシステムには改ざん防止（イミュータブル）のコピーが必要です"]


def s3_system(tmp_path, departments, s3, *, immutable_days: int) -> SystemUnderTest:
    return remote_system(
        tmp_path, departments, classification=Classification.CONFIDENTIAL_3, name="S3",
        url=s3.new_url(locked=bool(immutable_days)), medium=Medium.OBJECT_STORAGE,
        immutable_days=immutable_days, lock_mode="GOVERNANCE", secrets=S3_SECRETS,
    )  # fmt: skip


def test_immutable_only_from_the_lock_read_back_then_fully_green(tmp_path, departments, s3_server):
    sut = s3_system(tmp_path, departments, s3_server, immutable_days=2)
    s3 = sut.system.repositories.get(name="S3")
    assert sut.run(JobKind.BACKUP).status == RunStatus.SUCCEEDED
    st = status(sut)
    assert (
        not st.checklist.immutable
        and "「S3」の Object Lock はまだ読み取っていません" in st.checklist.reasons["one_immutable"]
    )
    for kind in (JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
        assert sut.run(kind).status == RunStatus.SUCCEEDED
    s3.refresh_from_db()
    assert s3.lock_mode == "GOVERNANCE" and s3.lock_until > timezone.now() + timedelta(days=1, hours=23)
    assert s3.lock_snapshot == sut.system.runs.get(kind=JobKind.OFFSITE_COPY).snapshot_id
    st = status(sut)
    assert st.light == selectors.GREEN and st.checklist.complete and st.checklist.reasons == {}

    s3.lock_until = timezone.now() - timedelta(minutes=1)  # the facts age: a lock that ran out is no lock
    s3.save()
    st = status(sut)
    assert not st.checklist.immutable and "「S3」のロックは" in st.checklist.reasons["one_immutable"]


def test_a_bucket_without_object_lock_is_not_immutable_whatever_the_label(tmp_path, departments, s3_server):
    sut = s3_system(tmp_path, departments, s3_server, immutable_days=0)
    s3 = sut.system.repositories.get(name="S3")
    Repository.objects.filter(pk=s3.pk).update(immutable_days=30)  # a label written behind the form's back
    for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
        assert sut.run(kind).status == RunStatus.SUCCEEDED
    s3.refresh_from_db()
    st = status(sut)
    assert s3.lock_read_at is not None and s3.lock_until is None
    assert st.checklist.offsite and not st.checklist.immutable
    assert "「S3」の最新スナップショットはロックされていません" in st.checklist.reasons["one_immutable"]


def test_a_local_path_on_another_filesystem_is_a_second_medium_but_not_offsite(sut, users, client):
    shm = Path("/dev/shm")
    assert shm.stat().st_dev != sut.primary.parent.stat().st_dev, "the test needs /dev/shm on its own tmpfs"
    other = Path(tempfile.mkdtemp(dir=shm)) / "offsite"
    try:
        sut.system.repositories.filter(role=RepositoryRole.OFFSITE).update(url=str(other))
        engine.repository_init(
            services.repository_access(sut.system.repositories.get(role=RepositoryRole.OFFSITE))
        )
        for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
            assert sut.run(kind).status == RunStatus.SUCCEEDED
        st = status(sut)
        assert st.checklist.flags["two_media"] and not st.checklist.offsite
        page = as_user(client, users, "officer").get(reverse("backups:system-detail", args=["fileserver"]))
        why = page.content.decode().split('data-why="one_offsite">')[1].split("<")[0]
        assert why.startswith("遠隔地リポジトリ「遠隔地」は同じサーバ上のパスのため遠隔地とみなしません")
        assert 'data-why="two_media"' not in page.content.decode()
    finally:
        shutil.rmtree(other.parent, ignore_errors=True)
