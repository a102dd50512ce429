"""Device KPIs per fiscal year (April–March), judged on the year's last day (today for the current
year) by the same rules as the pages (`hygiene`), with each device's reports as evidence.

The devices counted are those that reported during the year, and in the current year every PC and
server in use as well (one that never reported is not covered). Device status has no history, so
"in service" means in use now.

- devices.av_coverage: antivirus present, real-time on, signatures at most N days old, %
- devices.patch_currency: last patch at most N days old, %
- devices.baseline_pass_rate: of the devices with a baseline assessment, those at or above N %, %
- devices.eol_in_service: equipment in use whose end of support had passed by that day, 件
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, register_kpi
from mamori.apps.core.wareki import fiscal_year_range

from .hygiene import MERGED_FIELDS, HygieneState, Thresholds, av_current, baseline_pass, merge, patch_current
from .models import REPORTING_KINDS, Device, DeviceStatus, HygieneReport
from .selectors import percent

LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class Judged:
    device: Device
    state: HygieneState


def as_of(fiscal_year: int) -> date:
    return min(fiscal_year_range(fiscal_year)[1], timezone.localdate())


def judged_devices(fiscal_year: int) -> tuple[date, list[Judged]]:
    first, _last = fiscal_year_range(fiscal_year)
    day = as_of(fiscal_year)
    if day < first:
        return day, []
    reported = set(
        HygieneReport.objects.filter(day__gte=first, day__lte=day).values_list("device_id", flat=True)
    )
    devices = Device.objects.select_related("department").filter(pk__in=reported)
    if day == timezone.localdate():
        devices = devices | Device.objects.select_related("department").filter(
            status=DeviceStatus.IN_USE, kind__in=REPORTING_KINDS
        )
    by_pk = {d.pk: d for d in devices.distinct()}
    rows = (
        HygieneReport.objects.filter(device_id__in=by_pk, day__lte=day, day__gte=day - LOOKBACK)
        .order_by("device_id", "-day", "source")
        .values("device_id", "day", *MERGED_FIELDS)
    )
    reports: dict[int, list[dict[str, object]]] = {pk: [] for pk in by_pk}
    for row in rows:
        reports[row["device_id"]].append(row)  # type: ignore[index]
    judged = [Judged(by_pk[pk], merge(rs)) for pk, rs in reports.items()]
    return day, sorted(judged, key=lambda j: j.device.asset_tag)


def _evidence(judged: list[Judged], describe: Callable[[HygieneState], str]) -> list[Evidence]:
    return [
        Evidence(
            label=f"{j.device.asset_tag} {j.device.hostname}: {describe(j.state)}",
            object_type="devices.device",
            object_id=str(j.device.pk),
            url=reverse("devices:device-detail", args=[j.device.pk]),
            department_id=j.device.department_id,
        )
        for j in judged
    ]


def _rate(
    fiscal_year: int, judge: Callable[[HygieneState, date, Thresholds], bool | None], describe
) -> KpiValue:  # type: ignore[no-untyped-def]
    day, judged = judged_devices(fiscal_year)
    t = Thresholds.from_settings()
    verdicts = [(j, judge(j.state, day, t)) for j in judged]
    counted = [(j, v) for j, v in verdicts if v is not None]
    good = [j for j, v in counted if v]
    return KpiValue(
        value=percent(len(good), len(counted)),
        evidence=_evidence([j for j, _v in counted], describe),
        detail={"as_of": day.isoformat(), "devices": len(counted), "passing": len(good)},
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def kpi_av_coverage(fiscal_year: int) -> KpiValue:
    return _rate(
        fiscal_year,
        av_current,
        lambda s: f"{s.av_product or '—'} 定義 {_day(s.signature_date)} 最終報告 {_day(s.last_report_day)}",
    )


def kpi_patch_currency(fiscal_year: int) -> KpiValue:
    return _rate(
        fiscal_year,
        patch_current,
        lambda s: (
            f"パッチ {_day(s.last_patch_date)} 未適用 {s.missing_updates if s.missing_updates is not None else '—'}"
        ),
    )


def kpi_baseline_pass_rate(fiscal_year: int) -> KpiValue:
    return _rate(
        fiscal_year,
        lambda s, day, t: baseline_pass(s, t),
        lambda s: f"構成基準 {s.baseline_pass_pct}%",
    )


def kpi_eol_in_service(fiscal_year: int) -> KpiValue:
    day = as_of(fiscal_year)
    if not Device.objects.filter(end_of_support__isnull=False).exists():
        return KpiValue(value=None)
    devices = list(
        Device.objects.filter(status=DeviceStatus.IN_USE, end_of_support__lt=day).order_by(
            "end_of_support", "asset_tag"
        )
    )
    evidence = [
        Evidence(
            label=f"{d.asset_tag} {d.hostname} {d.get_kind_display()} サポート終了 {d.end_of_support}",
            object_type="devices.device",
            object_id=str(d.pk),
            url=reverse("devices:device-detail", args=[d.pk]),
            department_id=d.department_id,
        )
        for d in devices
    ]
    return KpiValue(value=Decimal(len(devices)), evidence=evidence, detail={"as_of": day.isoformat()})


def register() -> None:
    register_kpi(
        Kpi("devices.av_coverage", _("ウイルス対策（定義ファイル最新）の適用率"), "%", "up", kpi_av_coverage)
    )
    register_kpi(Kpi("devices.patch_currency", _("パッチ適用の最新率"), "%", "up", kpi_patch_currency))
    register_kpi(Kpi("devices.baseline_pass_rate", _("構成基準の適合率"), "%", "up", kpi_baseline_pass_rate))
    register_kpi(
        Kpi("devices.eol_in_service", _("サポート終了後も使用中の機器"), "件", "down", kpi_eol_in_service)
    )
