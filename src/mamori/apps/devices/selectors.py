"""Device reads, limited to the user's departments (`membership_department_ids`; None: all)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from mamori.apps.core.kpis import kpi_percent
from mamori.apps.core.models import NetworkZone
from mamori.apps.core.permissions import membership_department_ids

from .hygiene import (
    MERGED_FIELDS,
    HygieneState,
    Thresholds,
    av_current,
    baseline_pass,
    failures,
    patch_current,
)
from .models import (
    RENEWAL_KINDS,
    REPORTING_KINDS,
    Device,
    DeviceChange,
    DeviceImport,
    DeviceStatus,
    RenewalPlan,
    thousand_yen,
)

LIVE_STATUSES = (DeviceStatus.IN_USE,)


def _scoped(queryset: QuerySet[Any], user: Any, path: str = "department_id") -> QuerySet[Any]:
    scope = membership_department_ids(user) if user is not None else None
    return queryset if scope is None else queryset.filter(**{f"{path}__in": scope})


def device_list(
    *, user: Any, kind: str = "", zone: str = "", status: str = "", department: int | None = None, q: str = ""
) -> QuerySet[Device]:
    devices = _scoped(Device.objects.select_related("department__parent", "hygiene"), user)
    if kind:
        devices = devices.filter(kind=kind)
    if zone:
        devices = devices.filter(network_zone=zone)
    if status:
        devices = devices.filter(status=status)
    if department:
        devices = devices.filter(Q(department_id=department) | Q(department__parent_id=department))
    if q:
        devices = devices.filter(
            Q(asset_tag__icontains=q)
            | Q(hostname__icontains=q)
            | Q(serial__icontains=q)
            | Q(model_name__icontains=q)
        )
    return devices


def device_get(*, user: Any, pk: int) -> Device:
    return get_object_or_404(device_list(user=user), pk=pk)


def status_counts(*, user: Any) -> dict[str, int]:
    rows = _scoped(Device.objects.all(), user).order_by().values("status").annotate(n=Count("pk"))
    counts = {s: 0 for s in DeviceStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


# --- hygiene: coverage and the failing list ------------------------------------------------------


@dataclass
class FleetDevice:
    """A device in use that should report, with its current state and the rules it fails."""

    pk: int
    asset_tag: str
    hostname: str
    kind: str
    zone: str
    department_id: int
    department: str
    state: HygieneState
    failed: list[str]
    av_ok: bool
    patch_ok: bool
    baseline_ok: bool | None


@dataclass
class CoverageRow:
    key: str
    label: str
    total: int = 0
    av_ok: int = 0
    patch_ok: int = 0
    baseline_ok: int = 0
    baseline_known: int = 0
    silent: int = 0
    failing: int = 0
    device_ids: list[int] = field(default_factory=list, repr=False)

    def add(self, d: FleetDevice) -> None:
        self.total += 1
        self.av_ok += d.av_ok
        self.patch_ok += d.patch_ok
        self.baseline_known += d.baseline_ok is not None
        self.baseline_ok += bool(d.baseline_ok)
        self.silent += "silent" in d.failed
        self.failing += bool(d.failed)

    @property
    def av_pct(self) -> Decimal | None:
        return percent(self.av_ok, self.total)

    @property
    def patch_pct(self) -> Decimal | None:
        return percent(self.patch_ok, self.total)

    @property
    def baseline_pct(self) -> Decimal | None:
        return percent(self.baseline_ok, self.baseline_known)


def percent(part: int, whole: int) -> Decimal | None:
    return kpi_percent(part, whole)


def fleet(*, user: Any, today: date, thresholds: Thresholds) -> list[FleetDevice]:
    """Every reporting device in use in the user's scope, with its state judged on `today`: one query."""
    rows = (
        _scoped(Device.objects.all(), user)
        .filter(status__in=LIVE_STATUSES, kind__in=REPORTING_KINDS)
        .order_by("asset_tag")
        .values(
            "pk", "asset_tag", "hostname", "kind", "network_zone", "department_id", "department__name",
            "hygiene__last_report_day", *(f"hygiene__{n}" for n in MERGED_FIELDS),
        )
    )  # fmt: skip
    return [_judged(row, today, thresholds) for row in rows]


def _judged(row: dict[str, Any], today: date, thresholds: Thresholds) -> FleetDevice:
    state = HygieneState(
        last_report_day=row["hygiene__last_report_day"],
        **{n: row[f"hygiene__{n}"] for n in MERGED_FIELDS if row[f"hygiene__{n}"] is not None},
    )
    return FleetDevice(
        pk=row["pk"],
        asset_tag=row["asset_tag"],
        hostname=row["hostname"],
        kind=row["kind"],
        zone=row["network_zone"],
        department_id=row["department_id"],
        department=row["department__name"],
        state=state,
        failed=failures(state, today, thresholds),
        av_ok=av_current(state, today, thresholds),
        patch_ok=patch_current(state, today, thresholds),
        baseline_ok=baseline_pass(state, thresholds),
    )


def fleet_device(device: Device, *, today: date, thresholds: Thresholds) -> FleetDevice | None:
    """One device judged like the fleet; None for equipment that sends no reports."""
    if not device.reports_hygiene:
        return None
    hygiene = getattr(device, "hygiene", None)  # None: no report yet
    row = {
        "pk": device.pk, "asset_tag": device.asset_tag, "hostname": device.hostname, "kind": device.kind,
        "network_zone": device.network_zone, "department_id": device.department_id,
        "department__name": device.department.name,
        "hygiene__last_report_day": hygiene.last_report_day if hygiene else None,
        **{f"hygiene__{n}": getattr(hygiene, n) if hygiene else None for n in MERGED_FIELDS},
    }  # fmt: skip
    return _judged(row, today, thresholds)


@dataclass(frozen=True)
class Coverage:
    overall: CoverageRow
    zones: list[CoverageRow]
    departments: list[CoverageRow]


def coverage(devices: list[FleetDevice]) -> Coverage:
    overall = CoverageRow("all", "")
    zones = {z.value: CoverageRow(z.value, str(z.label)) for z in NetworkZone}
    departments: dict[int, CoverageRow] = {}
    for d in devices:
        overall.add(d)
        zones[d.zone].add(d)
        departments.setdefault(d.department_id, CoverageRow(str(d.department_id), d.department)).add(d)
    by_dept = sorted(departments.values(), key=lambda r: (r.av_pct or Decimal(0), r.label))
    return Coverage(overall, list(zones.values()), by_dept)


def failing(
    devices: list[FleetDevice], *, rule: str = "", zone: str = "", department: str = ""
) -> list[FleetDevice]:
    found = [d for d in devices if d.failed and (not rule or rule in d.failed)]
    if zone:
        found = [d for d in found if d.zone == zone]
    if department:
        found = [d for d in found if str(d.department_id) == department]
    return found


def rule_counts(devices: list[FleetDevice]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for d in devices:
        for rule in d.failed:
            counts[rule] += 1
    return dict(counts)


# --- end of support and renewal ------------------------------------------------------------------


def past_end_of_support(*, user: Any, today: date) -> QuerySet[Device]:
    """Equipment whose support has ended and which is still in use."""
    return (
        _scoped(Device.objects.select_related("department__parent"), user)
        .filter(status=DeviceStatus.IN_USE, end_of_support__lt=today)
        .prefetch_related("renewal_plans")
        .order_by("end_of_support", "asset_tag")
    )


def support_ending(*, today: date, until: date) -> QuerySet[Device]:
    """Equipment in use whose support ends between today and `until` (for the alert mail)."""
    return (
        Device.objects.select_related("department__parent")
        .filter(status=DeviceStatus.IN_USE, end_of_support__gte=today, end_of_support__lte=until)
        .order_by("end_of_support", "asset_tag")
    )


def renewable_devices() -> QuerySet[Device]:
    return (
        Device.objects.filter(kind__in=RENEWAL_KINDS)
        .exclude(status=DeviceStatus.DISPOSED)
        .order_by("asset_tag")
    )


@dataclass(frozen=True)
class RenewalYear:
    fiscal_year: int
    plans: list[RenewalPlan]
    total_yen: int

    @property
    def total_thousand_yen(self) -> int:
        return thousand_yen(self.total_yen)


def renewal_years() -> list[RenewalYear]:
    plans = RenewalPlan.objects.prefetch_related("devices").order_by("fiscal_year", "title")
    years: dict[int, list[RenewalPlan]] = defaultdict(list)
    for plan in plans:
        years[plan.fiscal_year].append(plan)
    return [RenewalYear(fy, ps, sum(p.budget_yen for p in ps)) for fy, ps in sorted(years.items())]


def renewal_get(*, pk: int) -> RenewalPlan:
    return get_object_or_404(RenewalPlan, pk=pk)


# --- imports -------------------------------------------------------------------------------------


def import_list() -> QuerySet[DeviceImport]:
    return DeviceImport.objects.all()


def import_get(*, pk: int) -> DeviceImport:
    return get_object_or_404(import_list(), pk=pk)


@dataclass(frozen=True)
class ChangeRow:
    label: str
    old: Any  # None: set when the device was registered
    new: Any


def _readable(field: Any, value: Any) -> Any:
    if isinstance(value, list):  # the disposal media's labels
        return "、".join(str(v) for v in value)
    if field is not None and field.choices and value is not None:
        return dict(field.flatchoices).get(value, value)
    return value


def change_rows(change: DeviceChange) -> list[ChangeRow]:
    """A history entry as a person reads it: each field by its label, a choice by its name
    ("network_zone: lgwan" is "ネットワーク区分: LGWAN接続系"); a field no longer in the model by its key."""
    rows = []
    for name, (old, new) in change.changes.items():
        try:
            field = Device._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        label = str(field.verbose_name) if field is not None else name
        rows.append(ChangeRow(label, _readable(field, old), _readable(field, new)))
    return rows
