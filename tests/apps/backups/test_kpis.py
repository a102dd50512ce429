"""KPI providers per fiscal year (April–March, Japan time), with the run records as evidence."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mamori.apps.backups.models import JobKind, ProtectedSystem, Run, RunStatus, Trigger
from mamori.apps.core.kpis import kpi_get

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def record(system: ProtectedSystem, kind: str, status: str, when: datetime, **extra) -> Run:
    return Run.objects.create(
        system=system,
        kind=kind,
        status=status,
        trigger=Trigger.SCHEDULE,
        scheduled_for=when,
        finished_at=when,
        **extra,
    )


@pytest.fixture
def system(departments):
    return ProtectedSystem.objects.create(
        code="jumin",
        name="住民情報システム",
        department=departments["shimin"],
        network_zone="mynumber",
        rto_minutes=60,
    )


def test_success_rate_counts_missed_runs_and_respects_the_fiscal_year(system):
    record(system, JobKind.BACKUP, RunStatus.SUCCEEDED, datetime(2026, 4, 1, 2, 0, tzinfo=JST))  # FY2026
    record(system, JobKind.BACKUP, RunStatus.WARNING, datetime(2026, 9, 1, 2, 0, tzinfo=JST))
    record(system, JobKind.BACKUP, RunStatus.FAILED, datetime(2027, 3, 31, 2, 0, tzinfo=JST))
    record(system, JobKind.BACKUP, RunStatus.MISSED, datetime(2026, 12, 30, 2, 0, tzinfo=JST))
    record(system, JobKind.BACKUP, RunStatus.SUCCEEDED, datetime(2026, 3, 31, 23, 0, tzinfo=JST))  # FY2025
    value = kpi_get("backups.success_rate").compute(2026)
    assert value.value == Decimal("50.0")
    assert value.detail == {"succeeded": 2, "due": 4, "missed": 1}
    assert len(value.evidence) == 4 and value.evidence[0].url.startswith("/backups/runs/")
    assert kpi_get("backups.success_rate").compute(2024).value is None  # nothing recorded that year


def test_offsite_compliance(system):
    record(system, JobKind.OFFSITE_COPY, RunStatus.SUCCEEDED, datetime(2026, 5, 3, 4, 0, tzinfo=JST))
    record(system, JobKind.OFFSITE_COPY, RunStatus.SUCCEEDED, datetime(2026, 5, 10, 4, 0, tzinfo=JST))
    record(system, JobKind.OFFSITE_COPY, RunStatus.MISSED, datetime(2026, 5, 17, 4, 0, tzinfo=JST))
    assert kpi_get("backups.offsite_compliance").compute(2026).value == Decimal("66.7")


def test_drills_passed_and_rto_attained(system):
    when = datetime(2026, 6, 1, 10, 0, tzinfo=JST)
    full = {"full": True}
    record(
        system,
        JobKind.RESTORE_DRILL,
        RunStatus.SUCCEEDED,
        when,
        passed=True,
        rto_met=True,
        duration_s=30,
        detail=full,
    )
    record(
        system,
        JobKind.RESTORE_DRILL,
        RunStatus.SUCCEEDED,
        when,
        passed=True,
        rto_met=False,
        duration_s=4000,
        detail=full,
    )
    record(system, JobKind.RESTORE_DRILL, RunStatus.FAILED, when, passed=False, rto_met=False, detail=full)
    sample = {"full": False, "sampled": 20, "available": 181, "extrapolated_seconds": 17.1}
    record(
        system, JobKind.RESTORE_DRILL, RunStatus.SUCCEEDED, when, passed=True, duration_s=1.9, detail=sample
    )
    assert kpi_get("backups.drills_passed").compute(2026).value == Decimal(3)
    rto = kpi_get("backups.rto_attained").compute(2026)
    assert rto.value == Decimal("33.3") and rto.detail == {"met": 1, "run": 3, "samples_excluded": 1}
    assert "全体復元" in str(kpi_get("backups.rto_attained").label)


def test_offsite_compliance_counts_a_system_that_needs_a_copy_and_has_none(system, departments):
    """A 機密性2/3 system backed up in the year without any offsite copy is a missed copy, not ignored."""
    record(system, JobKind.OFFSITE_COPY, RunStatus.SUCCEEDED, datetime(2026, 5, 3, 4, 0, tzinfo=JST))
    bare = ProtectedSystem.objects.create(
        code="kaigo",
        name="介護保険システム",
        department=departments["shimin"],
        network_zone="lgwan",
        classification="c3",
    )
    public = ProtectedSystem.objects.create(
        code="web",
        name="公開Web",
        department=departments["shimin"],
        network_zone="internet",
        classification="c1",
    )
    for s in (bare, public):
        record(s, JobKind.BACKUP, RunStatus.SUCCEEDED, datetime(2026, 5, 3, 2, 0, tzinfo=JST))
    value = kpi_get("backups.offsite_compliance").compute(2026)
    assert value.value == Decimal("50.0") and value.detail == {"succeeded": 1, "due": 2, "missed": 1}
    assert value.evidence[0].label == "介護保険システム 遠隔地保管なし（機密性3）"
    assert value.evidence[0].url == "/backups/systems/kaigo/"


def test_evidence_is_in_japan_time_and_names_the_department(system):
    record(system, JobKind.BACKUP, RunStatus.SUCCEEDED, datetime(2026, 12, 4, 17, 25, tzinfo=ZoneInfo("UTC")))
    evidence = kpi_get("backups.success_rate").compute(2026).evidence[0]
    assert evidence.label.endswith("2026-12-05 02:25") and evidence.department_id == system.department_id
