"""`mamori remind`: mail the officers (or MAMORI_ALERT_EMAILS) about overdue disposal certificates
and statutory report deadlines within two days or past. Run it once a day from cron."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mamori.apps.backups.alerts import alert_recipients
from mamori.apps.disposal.reminders import overdue_certificate_mail
from mamori.apps.incidents.reminders import deadline_mail


class Command(BaseCommand):
    help = "廃棄証明書の未着と個人情報保護委員会への報告期限をメールで知らせます（1日1回）"

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        mails = [m for m in (overdue_certificate_mail(now), deadline_mail(now)) if m is not None]
        recipients = alert_recipients()
        if mails and not recipients:
            raise CommandError("no recipients: set MAMORI_ALERT_EMAILS or the officers' e-mail addresses")
        for subject, body in mails:
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            except (smtplib.SMTPException, OSError) as exc:
                raise CommandError(
                    f"mail not sent ({exc}); check MAMORI_SMTP_HOST / MAMORI_SMTP_PORT"
                ) from exc
            self.stdout.write(subject)
        if not mails:
            self.stdout.write("nothing to remind")
