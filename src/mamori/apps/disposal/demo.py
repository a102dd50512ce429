"""Demo media for みなと台市: one batch certified, one handed over and awaiting its certificate, a
few media registered or in storage. Idempotent and through the services (so the audit log shows it)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from weasyprint import HTML

from mamori.apps.core.models import Classification, Department, NetworkZone, Organisation

from . import services
from .certificates import certificate_check
from .models import Medium, MediumKind, MediumState, Method

# label, kind, department code, classification, zone, description, final state, batch
MEDIA = [
    ("R7-市民-HDD-01", MediumKind.HDD, "3001", Classification.CONFIDENTIAL_3, NetworkZone.MYNUMBER,
     "住民記録端末の内蔵HDD（更新で取り外し）", MediumState.CERTIFIED, 1),
    ("R7-市民-HDD-02", MediumKind.HDD, "3001", Classification.CONFIDENTIAL_3, NetworkZone.MYNUMBER,
     "住民記録端末の内蔵HDD（更新で取り外し）", MediumState.CERTIFIED, 1),
    ("R7-情報-DVD-01", MediumKind.OPTICAL, "1004", Classification.CONFIDENTIAL_2, NetworkZone.LGWAN,
     "バックアップ用DVD-R（保存期間満了）", MediumState.CERTIFIED, 1),
    ("R7-税務-USB-03", MediumKind.USB, "2003", Classification.CONFIDENTIAL_2, NetworkZone.LGWAN,
     "課税資料の受渡し用USBメモリ", MediumState.HANDED_OVER, 2),
    ("R7-情報-SSD-04", MediumKind.SSD, "1004", Classification.CONFIDENTIAL_2, NetworkZone.LGWAN,
     "ファイルサーバ旧SSD", MediumState.HANDED_OVER, 2),
    ("R7-行革-USB-05", MediumKind.USB, "1002", Classification.CONFIDENTIAL_2, NetworkZone.LGWAN,
     "会議資料のUSBメモリ", MediumState.STORED, 0),
    ("R7-行革-CD-06", MediumKind.OPTICAL, "1002", Classification.CONFIDENTIAL_1, NetworkZone.INTERNET,
     "広報用素材CD-R", MediumState.REGISTERED, 0),
]  # fmt: skip

BATCHES = {
    1: {"contractor": "みなと台リサイクルセンター株式会社", "method": Method.DESTROY, "days_ago": 20,
        "received_by": "山口 健", "witness": "情報政策課 中村"},
    2: {"contractor": "湾岸データイレース株式会社", "method": Method.PURGE, "days_ago": 6,
        "received_by": "石川 美咲", "witness": "情報政策課 中村"},
}  # fmt: skip
# Days before the demo's "now" that a batch's media were registered; stored two days later, so
# every step of the chain of custody comes after the one before it (batch 0: not handed over).
REGISTERED_DAYS_AGO = {1: 40, 2: 14, 0: 4}
STORED_AFTER = timedelta(days=2)


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first() or "demo"


def certificate_pdf(number: str, contractor: str, labels: list[str]) -> bytes:
    """A plausible destruction certificate (the demo's stand-in for the contractor's scan)."""
    rows = "".join(f"<li>{label}</li>" for label in labels)
    html = (
        f"<h1>データ消去・破壊証明書</h1><p>証明書番号 {number}</p><p>{contractor}</p>"
        f"<p>下記の記録媒体を物理破壊により処理したことを証明します。</p><ul>{rows}</ul>"
    )
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    lead, officer = _user("lead"), _user("officer")
    departments = {d.code: d for d in Department.objects.filter(organisation=organisation)}
    if not departments:
        return
    now = timezone.now()
    media: dict[int, list[Medium]] = {1: [], 2: []}
    for label, kind, dept, cls, zone, description, target, batch in MEDIA:
        registered_at = now - timedelta(days=REGISTERED_DAYS_AGO[batch])
        medium = Medium.objects.filter(label=label).first() or services.medium_register(
            actor=lead, scope=None, label=label, kind=kind, department=departments[dept],
            classification=cls, network_zone=zone, description=description, registered_at=registered_at,
        )  # fmt: skip
        if target != MediumState.REGISTERED and medium.state == MediumState.REGISTERED:
            medium = services.medium_store(
                actor=lead, scope=None, medium=medium, location="情報政策課 施錠保管庫",
                stored_at=medium.registered_at + STORED_AFTER,
            )  # fmt: skip
        if batch and medium.state == MediumState.STORED:
            media[batch].append(medium)
    for number, spec in BATCHES.items():
        if not media[number]:
            continue
        batch = services.batch_hand_over(
            actor=officer, scope=None, media=media[number], contractor=str(spec["contractor"]),
            method=str(spec["method"]), handed_over_at=now - timedelta(days=int(spec["days_ago"])),
            received_by=str(spec["received_by"]), witness=str(spec["witness"]),
        )  # fmt: skip
        if number == 1:
            cert_number = f"MRC-{timezone.localdate(now):%Y}-0{batch.pk:03d}"
            labels = [m.label for m in media[number]]
            content = certificate_pdf(cert_number, batch.contractor, labels)
            checked = certificate_check(io.BytesIO(content), name=f"{cert_number}.pdf")
            services.certificate_register(
                actor=officer, batch=batch, checked=checked, number=cert_number,
                issued_on=timezone.localdate(now) - timedelta(days=5), media=media[number],
            )  # fmt: skip
    counts = {s.label: Medium.objects.filter(state=s).count() for s in MediumState}
    stdout.write("媒体廃棄: " + "、".join(f"{k} {v}件" for k, v in counts.items()) + "\n")
