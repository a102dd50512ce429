"""Building blocks for the devices tests: devices through the service, reports written directly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from mamori.apps.core.models import Department, NetworkZone
from mamori.apps.devices import services
from mamori.apps.devices.imports import hygiene_rebuild
from mamori.apps.devices.models import Device, DeviceImport, DeviceKind, HygieneReport


def device(tag: str, department: Department, *, kind: str = DeviceKind.PC, **extra: Any) -> Device:
    data: dict[str, Any] = {
        "asset_tag": tag,
        "hostname": extra.pop("hostname", f"{tag.lower()}-host"),
        "kind": kind,
        "department": department,
        "network_zone": extra.pop("network_zone", NetworkZone.LGWAN),
    }
    return services.device_create(actor="test", **data | extra)


def report(d: Device, *, days_ago: int = 0, source: str = "csv", **values: Any) -> HygieneReport:
    """A report `days_ago` days back; by default a healthy one (fresh signatures and patches, 95 %)."""
    today = timezone.localdate()
    healthy: dict[str, Any] = {
        "av_product": "Microsoft Defender Antivirus",
        "signature_date": today - timedelta(days=days_ago),
        "realtime": True,
        "last_patch_date": today - timedelta(days=days_ago + 3),
        "missing_updates": 0,
        "baseline_pass_pct": Decimal("95.0"),
    }
    r = HygieneReport.objects.create(
        device=d, day=today - timedelta(days=days_ago), source=source, **healthy | values
    )
    hygiene_rebuild(device_ids=[d.pk])
    return r


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def home_file(record: DeviceImport) -> Path:
    """Where an import's uploaded file waits for the worker."""
    return Path(settings.MAMORI_HOME) / "device-imports" / record.stored_file
