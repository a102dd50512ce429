"""KPI providers for the evaluation sheet: per fiscal year, from the last completed audit run of each
directory in that year (the runs are the evidence).

- passwords.compliance: enabled accounts compliant with their policy ÷ enabled accounts, %
- passwords.stale_accounts: enabled accounts with no sign-in for their policy's stale period, 件
- passwords.leavers_enabled: accounts of staff who have left (退職) still enabled, 件
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, kpi_percent, register_kpi

from .models import AuditRun, Directory, RunStatus


def _bounds(fiscal_year: int) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime(fiscal_year, 4, 1, tzinfo=zone), datetime(fiscal_year + 1, 4, 1, tzinfo=zone)


def year_runs(fiscal_year: int) -> list[AuditRun]:
    """Each directory's last completed run started in the fiscal year."""
    start, end = _bounds(fiscal_year)
    runs = []
    for directory in Directory.objects.all():
        run = (
            directory.runs.filter(status=RunStatus.OK, started_at__gte=start, started_at__lt=end)
            .order_by("-started_at", "-pk")
            .first()
        )
        if run is not None:
            runs.append(run)
    return runs


def _evidence(runs: list[AuditRun]) -> list[Evidence]:
    return [
        Evidence(
            label=f"{r.directory.name} {r.started_at:%Y-%m-%d %H:%M} "
            f"{r.compliant}/{r.enabled} compliant, {r.stale} stale, {r.leavers_enabled} leavers",
            object_type="passwords.auditrun",
            object_id=str(r.pk),
            url=reverse("passwords:run-detail", args=[r.pk]),
        )
        for r in runs
    ]


def kpi_compliance(fiscal_year: int) -> KpiValue:
    runs = year_runs(fiscal_year)
    enabled = sum(r.enabled for r in runs)
    compliant = sum(r.compliant for r in runs)
    return KpiValue(
        value=kpi_percent(compliant, enabled),
        evidence=_evidence(runs),
        detail={"compliant": compliant, "enabled": enabled},
    )


def _total(field: str, fiscal_year: int) -> KpiValue:
    runs = year_runs(fiscal_year)
    if not runs:
        return KpiValue(value=None)
    return KpiValue(value=Decimal(sum(getattr(r, field) for r in runs)), evidence=_evidence(runs))


def kpi_stale_accounts(fiscal_year: int) -> KpiValue:
    return _total("stale", fiscal_year)


def kpi_leavers_enabled(fiscal_year: int) -> KpiValue:
    return _total("leavers_enabled", fiscal_year)


def register() -> None:
    register_kpi(Kpi("passwords.compliance", _("パスワード方針の遵守率"), "%", "up", kpi_compliance))
    register_kpi(Kpi("passwords.stale_accounts", _("未使用アカウント"), "件", "down", kpi_stale_accounts))
    register_kpi(
        Kpi("passwords.leavers_enabled", _("退職者の有効なアカウント"), "件", "down", kpi_leavers_enabled)
    )
