"""Demo incidents for みなと台市: two closed cases — a misdelivered letter with personal data whose
速報 and 確報 went to the Commission on time, and a malware detection without personal data.
Each dated in the past, its timeline in order (reported, filings, closed when the case was done:
the letter two days after its 確報, the malware three days after it was found). Idempotent (by
title) and through the services."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from mamori.apps.core.models import Department, Organisation

from . import services
from .models import Incident, IncidentKind, Severity

MISDELIVERY = "障害福祉サービス決定通知書の誤送付"
MALWARE = "職員端末でのマルウェア検知"


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first() or "demo"


def _at(day: date, moment: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment))


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    departments = {d.code: d for d in Department.objects.filter(organisation=organisation)}
    if not departments or Incident.objects.filter(title__in=[MISDELIVERY, MALWARE]).exists():
        return
    officer, lead = _user("officer"), _user("lead")
    today = timezone.localdate()
    learned = _at(today - timedelta(days=45), time(10, 30))  # the office's day, whenever the demo runs
    letter = services.incident_report(
        actor=officer, scope=None, title=MISDELIVERY, kind=IncidentKind.MISDELIVERY,
        department=departments["4002"], detected_at=learned - timedelta(hours=3), learned_at=learned,
        reported_at=learned + timedelta(hours=1),
        description="封入誤りにより、別の方の決定通知書（障害支援区分を含む）1通を送付した。受取人から連絡があり回収済み。",
        personal_data=True, people_affected=1, special_care=True,
    )  # fmt: skip
    services.incident_triage(
        actor=officer, incident=letter, severity=Severity.MEDIUM, status="handling",
        root_cause="封入時の二人確認が行われていなかった。",
        measures="封入・封緘時のダブルチェックを手順書に明記し、課内研修を実施。",
    )  # fmt: skip
    services.incident_file_report(
        actor=officer, incident=letter, report="preliminary", filed_at=learned + timedelta(days=2)
    )
    services.incident_entry_add(
        actor=officer, incident=letter, text="本人へ謝罪し、経緯を説明した。", at=learned + timedelta(days=3)
    )
    services.incident_file_report(
        actor=officer, incident=letter, report="final", filed_at=learned + timedelta(days=21)
    )
    services.incident_close(actor=officer, incident=letter, closed_at=learned + timedelta(days=23))

    detected = _at(today - timedelta(days=12), time(9, 40))
    malware = services.incident_report(
        actor=lead, scope=None, title=MALWARE, kind=IncidentKind.MALWARE,
        department=departments["1002"], detected_at=detected, learned_at=detected + timedelta(minutes=20),
        reported_at=detected + timedelta(minutes=30),
        description="ウイルス対策ソフトが添付ファイルのマルウェアを検知・隔離した。個人情報を含む情報の流出は確認されなかった。",
    )  # fmt: skip
    services.incident_triage(
        actor=officer, incident=malware, severity=Severity.LOW, status="handling",
        devices="行政改革課 端末 GK-PC-014", root_cause="取引先を装った標的型メールの添付ファイル。",
        measures="端末を隔離してフルスキャン、全庁に注意喚起を配信。",
    )  # fmt: skip
    services.incident_close(actor=officer, incident=malware, closed_at=detected + timedelta(days=3))
    stdout.write("事故: 完了 2件（誤送付 — 速報・確報とも期限内、マルウェア検知）\n")
