"""Device writes from the pages: each one transaction, one audit event and, for a device, one history
row naming every changed field (old → new). Imports write through `imports`, with the same history."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, actor_name, audit_record, snapshot_of
from mamori.apps.core.services import validated

from .errors import DeviceError
from .models import RENEWAL_KINDS, Device, DeviceChange, DeviceStatus, RenewalPlan

#: the fields a person edits and an inventory import sets, in the form's order
DEVICE_FIELDS = [
    "asset_tag",
    "hostname",
    "kind",
    "maker",
    "model_name",
    "serial",
    "os_name",
    "os_version",
    "department",
    "location",
    "network_zone",
    "purchase_date",
    "lease_end",
    "end_of_support",
    "status",
]
VIA_PAGE = "画面"

DUPLICATE_TAG = _("資産番号 {tag} は既に登録されています")
DUPLICATE_HOST = _("ホスト名 {host} は既に {tag} で登録されています")
MEDIA_ONLY_DISPOSED = _("記録媒体を結び付けられるのは廃棄済みの機器だけです")
NOT_RENEWABLE = _("更新計画の対象はサーバとネットワーク機器です: {tags}")
NO_DEVICES = _("対象機器を1台以上選んでください")


def shown(value: Any) -> Any:
    """A value as the history shows it: a department by its name, a date as ISO text."""
    if hasattr(value, "full_name"):
        return value.full_name
    return value.isoformat() if isinstance(value, date) else value


def field_value(device: Device, name: str) -> Any:
    if name == "department":
        return shown(device.department) if device.department_id else None
    return shown(getattr(device, name))


def device_diff(device: Device, data: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field `data` would change."""
    diff = {name: [field_value(device, name), shown(new)] for name, new in data.items()}
    return {name: pair for name, pair in diff.items() if pair[0] != pair[1]}


def history_record(*, device: Device, actor: Actor, via: str, changes: dict[str, list[Any]]) -> DeviceChange:
    return DeviceChange(
        device=device, changed_at=timezone.now(), actor=actor_name(actor), via=via[:40], changes=changes
    )


def _check_host(device: Device) -> None:
    key = device.hostname.strip().lower()
    clash = Device.objects.filter(host_key=key).exclude(pk=device.pk).first() if key else None
    if clash is not None:
        raise DeviceError(
            DUPLICATE_HOST.format(host=device.hostname, tag=clash.asset_tag), code="duplicate_host"
        )


def device_create(*, actor: Actor, **data: Any) -> Device:
    device = Device(**data)
    if Device.objects.filter(asset_tag=device.asset_tag).exists():
        raise DeviceError(DUPLICATE_TAG.format(tag=device.asset_tag), code="duplicate_tag")
    _check_host(device)
    validated(device, exclude=["disposal_media"])
    try:
        with transaction.atomic():
            device.save()
            changes = {name: [None, field_value(device, name)] for name in DEVICE_FIELDS}
            history_record(device=device, actor=actor, via=VIA_PAGE, changes=changes).save()
            audit_record(actor=actor, action="devices.device.create", obj=device, after=snapshot_of(device))
    except IntegrityError as exc:  # the same tag or host registered a moment ago by someone else
        raise DeviceError(DUPLICATE_TAG.format(tag=device.asset_tag), code="duplicate_tag") from exc
    return device


def device_update(*, actor: Actor, device: Device, media: list[Any] | None = None, **data: Any) -> Device:
    """Change the given fields; `media` (when given) are the disposal records of a disposed device."""
    changes = device_diff(device, data)
    before = snapshot_of(device)
    for name, value in data.items():
        setattr(device, name, value)
    validated(device)
    _check_host(device)
    if media and device.status != DeviceStatus.DISPOSED:
        raise DeviceError(MEDIA_ONLY_DISPOSED, code="media_only_disposed")
    with transaction.atomic():
        if media is not None:
            old = sorted(m.label for m in device.disposal_media.all())
            new = sorted(m.label for m in media)
            if old != new:
                device.disposal_media.set(media)
                changes["disposal_media"] = [old, new]
        if not changes:
            return device
        device.save()
        history_record(device=device, actor=actor, via=VIA_PAGE, changes=changes).save()
        audit_record(
            actor=actor, action="devices.device.update", obj=device, before=before, after=snapshot_of(device)
        )
    return device


def _check_renewable(devices: list[Device]) -> None:
    if not devices:
        raise DeviceError(NO_DEVICES, code="no_devices")
    wrong = [d.asset_tag for d in devices if d.kind not in RENEWAL_KINDS]
    if wrong:
        raise DeviceError(NOT_RENEWABLE.format(tags="、".join(sorted(wrong))), code="not_renewable")


def renewal_plan_create(*, actor: Actor, devices: list[Device], **data: Any) -> RenewalPlan:
    _check_renewable(devices)
    plan = RenewalPlan(**data)
    validated(plan)
    with transaction.atomic():
        plan.save()
        plan.devices.set(devices)
        audit_record(
            actor=actor,
            action="devices.renewal.create",
            obj=plan,
            after=snapshot_of(plan) | {"devices": sorted(d.asset_tag for d in devices)},
        )
    return plan


def renewal_plan_update(
    *, actor: Actor, plan: RenewalPlan, devices: list[Device], **data: Any
) -> RenewalPlan:
    _check_renewable(devices)
    before = snapshot_of(plan) | {"devices": sorted(plan.devices.values_list("asset_tag", flat=True))}
    for name, value in data.items():
        setattr(plan, name, value)
    validated(plan)
    with transaction.atomic():
        plan.save()
        plan.devices.set(devices)
        audit_record(
            actor=actor,
            action="devices.renewal.update",
            obj=plan,
            before=before,
            after=snapshot_of(plan) | {"devices": sorted(d.asset_tag for d in devices)},
        )
    return plan
