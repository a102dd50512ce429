"""Alerts for failed and missed runs: a row shown on the dashboard until acknowledged, and an email.

Recipients are `settings.MAMORI_ALERT_EMAILS`, or else the e-mail addresses of the security officers.
The mail is sent after the transaction commits; a mail server that is down is logged, the alert stays.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record
from mamori.apps.core.messages import message_json
from mamori.apps.core.models import Membership
from mamori.apps.core.permissions import OFFICERS
from mamori.apps.core.redaction import redact_text

from .errors import BackupError
from .models import Alert, ProtectedSystem, Run

logger = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED = _("このアラートは既に確認済みです")


def alert_recipients() -> list[str]:
    configured = list(getattr(settings, "MAMORI_ALERT_EMAILS", []) or [])
    if configured:
        return configured
    emails: set[str] = set()
    for m in Membership.objects.filter(role__in=OFFICERS).select_related("user", "staff"):
        email = m.user.email or (m.staff.email if m.staff else "")
        if email:
            emails.add(email)
    return sorted(emails)


def _send(alert_id: int) -> None:
    alert = Alert.objects.select_related("system", "run").get(pk=alert_id)
    recipients = alert_recipients()
    if not recipients:
        logger.warning("alert %s: no recipients (set MAMORI_ALERT_EMAILS or officers' e-mail)", alert_id)
        return
    subject = f"[mamori] {alert.get_kind_display()}: {alert.system.name}"
    when = timezone.localtime(alert.created_at).strftime("%Y-%m-%d %H:%M")
    body = str(
        _(
            "{system} で{kind}が発生しました（{when}）。\n\n{message}\n\n"
            "mamori のバックアップ画面で内容を確認し、対応後にアラートを確認済みにしてください。\n"
        )
    ).format(system=alert.system.name, kind=alert.get_kind_display(), when=when, message=alert.message)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("alert %s: e-mail not sent: %s", alert_id, exc)
        return
    Alert.objects.filter(pk=alert_id).update(emailed_at=timezone.now())


def alert_raise(
    *,
    system: ProtectedSystem,
    kind: str,
    message: str = "",
    key: str = "",
    params: dict[str, str] | None = None,
    run: Run | None = None,
) -> Alert:
    """Record an alert and mail it. `key` (one of ALERT_MESSAGES) with `params` makes its text
    translatable when shown; a bare `message` is shown as written."""
    message = redact_text(str(message))  # shown, e-mailed and audited: never with a credential
    params = {k: message_json(v) for k, v in (params or {}).items()}  # stored messages stay structured
    alert = Alert(system=system, run=run, kind=kind, message=message, message_key=key, message_params=params)
    if key:
        with translation.override(settings.LANGUAGE_CODE):
            alert.message = alert.text
    with transaction.atomic():
        alert.save()
        audit_record(
            actor="system",
            action="backups.alert.raise",
            obj=alert,
            after={
                "system": system.code,
                "kind": kind,
                "run": run.pk if run else None,
                "message": alert.message,
            },
        )
        transaction.on_commit(lambda: _send(alert.pk))
    return alert


def alert_acknowledge(*, actor: Actor, alert: Alert) -> Alert:
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is not None:
            raise BackupError(ALREADY_ACKNOWLEDGED, code="already_acknowledged")
        user = actor if isinstance(actor, get_user_model()) else None
        alert.acknowledged_by = user
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
        audit_record(actor=actor, action="backups.alert.acknowledge", obj=alert, after={"acknowledged": True})
    return alert
