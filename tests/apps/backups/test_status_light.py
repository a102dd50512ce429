"""The status light reflects protection, not only the last backup: amber with the reason while the
3-2-1-0 part of the rule (3-2-1-1-0 for 機密性3) or the check the classification requires is missing;
an offsite repository on the same disk is not offsite, and the reason says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mamori.apps.backups import selectors, services
from mamori.apps.backups.models import JobKind, Medium, RepositoryRole, RunStatus
from mamori.apps.core.models import Classification

from .conftest import REPO_PASSWORD, SystemUnderTest

pytestmark = pytest.mark.django_db(transaction=True)


def remote_system(
    tmp_path, departments, rest, *, classification: str = Classification.CONFIDENTIAL_2
) -> SystemUnderTest:
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
    services.repository_create(
        actor="t", system=system, name="データセンター", url=rest.new_url(), password=REPO_PASSWORD,
        role=RepositoryRole.OFFSITE, medium=Medium.NAS, initialize=True,
    )  # fmt: skip
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
