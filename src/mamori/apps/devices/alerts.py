"""The end-of-support alert: once a day, one mail listing equipment in use whose support ends within
N months (`MAMORI_DEVICES_EOS_ALERT_MONTHS`, default 12: a budget is requested a year ahead) or has
ended, each device mailed once per end-of-support date (a changed date is alerted again)."""

from __future__ import annotations

import calendar
import logging
import smtplib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.apps.backups.alerts import alert_recipients
from mamori.apps.core.audit import audit_record
from mamori.apps.core.models import AuditEvent

from .models import Device, DeviceStatus

logger = logging.getLogger(__name__)
ACTOR = "worker"
ACTION = "devices.eos_alert.send"
EVERY = timedelta(days=1)


def alert_months() -> int:
    return int(getattr(settings, "MAMORI_DEVICES_EOS_ALERT_MONTHS", 12))


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_devices(today: date) -> list[Device]:
    """In use, support ending by today + N months (or ended), not yet mailed for that date."""
    return list(
        Device.objects.select_related("department__parent")
        .filter(status=DeviceStatus.IN_USE, end_of_support__lte=add_months(today, alert_months()))
        .filter(Q(eos_alerted_for__isnull=True) | ~Q(eos_alerted_for=F("end_of_support")))
        .order_by("end_of_support", "asset_tag")
    )


def eos_mail(devices: list[Device], today: date) -> tuple[str, str]:
    lines = []
    for d in devices:
        assert d.end_of_support is not None
        state = (
            _("終了済み")
            if d.end_of_support < today
            else _("あと{days}日").format(days=(d.end_of_support - today).days)
        )
        lines.append(
            f"- {d.asset_tag} {d.hostname} {d.get_kind_display()} {d.maker} {d.model_name}"
            f"（{d.department.full_name}）{_('サポート終了')} {d.end_of_support:%Y-%m-%d} {state}"
        )
    subject = _("[mamori] サポート終了が近い機器: {n}台").format(n=len(devices))
    body = _(
        "次の機器はサポート終了日が{months}か月以内か、既に過ぎています。更新計画と予算要求を確認してください。"
    ).format(months=alert_months())
    return subject, body + "\n\n" + "\n".join(lines) + "\n"


def eos_alert_send(*, now: datetime) -> int:
    """Mail the due devices and mark them; returns how many were mailed (0: none due or not sent)."""
    today = timezone.localdate(now)
    devices = due_devices(today)
    recipients = alert_recipients()
    if not devices:
        return 0
    if not recipients:
        logger.warning("end-of-support alert: no recipients (set MAMORI_ALERT_EMAILS or officers' e-mail)")
        return 0
    subject, body = eos_mail(devices, today)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (smtplib.SMTPException, OSError) as exc:  # tried again on tomorrow's tick
        logger.warning("end-of-support alert not sent: %s", exc)
        return 0
    with transaction.atomic():
        for d in devices:
            Device.objects.filter(pk=d.pk).update(eos_alerted_for=d.end_of_support)
        audit_record(
            actor=ACTOR,
            action=ACTION,
            object_type="devices.device",
            object_name=subject,
            after={"devices": [d.asset_tag for d in devices], "recipients": recipients},
        )
    return len(devices)


def periodic_tick(now: datetime) -> None:
    """The worker's tick: at most one attempt a day."""
    if AuditEvent.objects.filter(action__in=[ACTION, ACTION + ".try"], occurred_at__gt=now - EVERY).exists():
        return
    if not eos_alert_send(now=now) and due_devices(timezone.localdate(now)):
        with transaction.atomic():  # remember the attempt, so a mail server that is down is not hammered
            audit_record(actor=ACTOR, action=ACTION + ".try", object_type="devices.device")
