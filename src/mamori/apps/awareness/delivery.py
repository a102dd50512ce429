"""Delivery by mail, in the worker: one personal mail per recipient, with their acknowledgement link.

A mail the server refuses counts an attempt (the worker tries again on later ticks, up to
MAX_ATTEMPTS); an unreachable server ends the round and the next tick continues. Someone who has
already acknowledged (through the banner, say) gets no mail and no reminder.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from mamori.apps.core.audit import audit_record
from mamori.apps.core.selectors import organisation_get
from mamori.apps.core.wareki import fiscal_year_of

from . import texts
from .models import Campaign, Recipient
from .tokens import ack_link, link_lifetime

logger = logging.getLogger(__name__)
ACTOR = "worker"
MAX_ATTEMPTS = 3


def _values(campaign: Campaign, recipient: Recipient | None, city: str) -> dict[str, str]:
    sent = timezone.localtime(campaign.sent_at or campaign.send_at).date()
    return texts.values_for(
        city=city,
        due_on=campaign.due_on,
        send_on=sent,
        fiscal_year=fiscal_year_of(sent),
        # the officer's preview shows where each person's own name and department go
        name=recipient.staff.full_name if recipient else _("（氏名）"),
        department=recipient.department.full_name if recipient else _("（所属）"),
    )


def city_name() -> str:
    organisation = organisation_get()
    return organisation.name if organisation else ""


def subject_for(campaign: Campaign, city: str) -> str:
    return texts.render(campaign.subject, _values(campaign, None, city))


def body_for(campaign: Campaign, recipient: Recipient | None, city: str) -> str:
    return texts.render(campaign.body, _values(campaign, recipient, city))


def mail_for(campaign: Campaign, recipient: Recipient, city: str, *, reminder: bool) -> tuple[str, str]:
    subject = subject_for(campaign, city)
    if reminder:
        subject = _("【確認のお願い】") + subject
    footer = _(
        "\n確認する（あなた専用のリンクです。{days}日間有効）:\n{link}\n\n"
        "リンクを開くと、mamori にログインしてから確認の画面になります。"
        "mamori の画面上部のお知らせからも確認できます。\n"
    ).format(days=link_lifetime().days, link=ack_link(recipient))
    return subject, body_for(campaign, recipient, city) + footer


def pending_mails(campaign: Campaign, *, reminder: bool) -> QuerySet[Recipient]:
    recipients = campaign.recipients.exclude(email="").filter(acknowledged_at__isnull=True)
    if reminder:
        return recipients.filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=campaign.reminded_at))
    return recipients.filter(mailed_at__isnull=True, mail_attempts__lt=MAX_ATTEMPTS)


@task()
def mails_send(campaign_id: int, reminder: bool) -> dict[str, int]:
    """Mail each pending recipient of a campaign (the first mail, or a reminder); audited as counts."""
    campaign = Campaign.objects.get(pk=campaign_id)
    city = city_name()
    stamp = "reminded_at" if reminder else "mailed_at"
    sent = failed = 0
    with translation.override(settings.LANGUAGE_CODE):
        for recipient in pending_mails(campaign, reminder=reminder).select_related("staff", "department"):
            subject, body = mail_for(campaign, recipient, city, reminder=reminder)
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
            except smtplib.SMTPException as exc:
                logger.warning("awareness mail to %s refused: %s", recipient.email, exc)
                Recipient.objects.filter(pk=recipient.pk).update(mail_attempts=F("mail_attempts") + 1)
                failed += 1
                continue
            except OSError as exc:
                logger.warning("awareness mails not sent, the mail server is unreachable: %s", exc)
                failed += 1
                break
            Recipient.objects.filter(pk=recipient.pk).update(**{stamp: timezone.now()})
            sent += 1
    counts = {"sent": sent, "failed": failed, "reminder": reminder}
    with transaction.atomic():
        audit_record(actor=ACTOR, action="awareness.mails.send", obj=campaign, after=counts)
    return {"sent": sent, "failed": failed}
