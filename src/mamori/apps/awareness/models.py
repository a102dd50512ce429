"""Awareness campaigns (注意喚起): a message for an audience, delivered by mail and as a banner, and
each recipient's acknowledgement.

A campaign is written as a template (`messages.render`: named placeholders only, never template
code) and resolved to recipients when it is sent: the staff in service at that moment, with the
department they were in, so the rate per department stays what it was even after transfers. The
transfer season's built-in campaign goes to the staff who moved (`Audience.TRANSFERRED`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.core.models import Department, Role, Staff


class CampaignKind(models.TextChoices):
    TRANSFER = "transfer", _("人事異動期")
    YEAR_END = "year_end", _("年末年始")
    AD_HOC = "ad_hoc", _("臨時")


class Audience(models.TextChoices):
    ALL = "all", _("全職員")
    DEPARTMENTS = "departments", _("所属を指定")
    ROLE = "role", _("ロールを指定")
    TRANSFERRED = "transferred", _("異動した職員（発令日が基準日以降）")


class CampaignStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("配信予定")
    SENT = "sent", _("配信済み")


class Campaign(models.Model):
    kind = models.CharField(
        _("種類"), max_length=12, choices=CampaignKind.choices, default=CampaignKind.AD_HOC
    )
    # The built-in seasons: the fiscal year they belong to, one campaign per (kind, season).
    season = models.PositiveIntegerField(_("年度"), null=True, blank=True)
    subject = models.CharField(pgettext_lazy("mail", "件名"), max_length=150)
    body = models.TextField(_("本文"), max_length=5000)
    send_at = models.DateTimeField(_("配信日時"))
    due_on = models.DateField(_("確認の期限"))
    remind_days_before = models.PositiveSmallIntegerField(_("督促（期限の何日前）"), default=2)
    audience = models.CharField(_("対象"), max_length=12, choices=Audience.choices, default=Audience.ALL)
    departments = models.ManyToManyField(
        Department, blank=True, related_name="+", verbose_name=_("対象の所属")
    )
    role = models.CharField(_("対象のロール"), max_length=20, choices=Role.choices, blank=True)
    # The movers' audience: staff with a transfer effective on or after this date (core's rule).
    transferred_since = models.DateField(_("異動の基準日"), null=True, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.SCHEDULED
    )
    sent_at = models.DateTimeField(_("配信した日時"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("督促した日時"), null=True, blank=True)
    created_by = models.CharField(_("作成者"), max_length=150)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        ordering = ["-send_at", "-pk"]
        verbose_name = _("注意喚起")
        verbose_name_plural = _("注意喚起")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "season"],
                condition=models.Q(season__isnull=False),
                name="uniq_awareness_season",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class Recipient(models.Model):
    """One staff member's copy of a campaign: the mail, the reminder and the acknowledgement."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("注意喚起")
    )
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="awareness_recipients", verbose_name=_("職員")
    )
    # the department at the time of sending (the rate per department keeps it after a transfer)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("配信時の所属")
    )
    email = models.EmailField(_("メールアドレス"), blank=True)
    mailed_at = models.DateTimeField(_("メール送信日時"), null=True, blank=True)
    mail_attempts = models.PositiveSmallIntegerField(_("メール送信の試行回数"), default=0)
    reminded_at = models.DateTimeField(_("督促した日時"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("確認した日時"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("確認したログイン"),
    )

    class Meta:
        ordering = ["campaign", "staff__employee_number"]
        verbose_name = _("注意喚起の配信先")
        verbose_name_plural = _("注意喚起の配信先")
        constraints = [models.UniqueConstraint(fields=["campaign", "staff"], name="uniq_awareness_recipient")]
        indexes = [models.Index(fields=["staff", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.staff}"
