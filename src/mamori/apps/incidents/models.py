"""Security incidents (事故): what happened, whose data, the statutory reports, a timeline.

Deadlines are not stored: `deadlines.report_deadlines` computes them from `learned_at` and the
unauthorised-purpose flag, so a correction of either moves them consistently.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.backups.models import ProtectedSystem
from mamori.apps.core.messages import message_text
from mamori.apps.core.models import Department
from mamori.apps.disposal.models import Medium


class IncidentKind(models.TextChoices):
    LOSS = "loss", _("紛失")
    LEAK = "leak", _("漏えい")
    MALWARE = "malware", _("マルウェア感染")
    UNAUTHORISED_ACCESS = "unauthorised_access", _("不正アクセス")
    MISDELIVERY = "misdelivery", _("誤送付・誤送信")
    OTHER = "other", _("その他")


class Severity(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", _("報告受付")
    HANDLING = "handling", _("対応中")
    CLOSED = "closed", pgettext_lazy("incident", "完了")


class Incident(models.Model):
    title = models.CharField(_("件名"), max_length=120)
    kind = models.CharField(_("種類"), max_length=24, choices=IncidentKind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("所属")
    )
    detected_at = models.DateTimeField(_("発生・発見日時"))
    # The moment the city learned of it: day 1 of the statutory report deadlines.
    learned_at = models.DateTimeField(_("市が把握した日時"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("報告者"),
    )
    reported_at = models.DateTimeField(_("報告日時"))
    description = models.TextField(_("概要"))
    severity = models.CharField(_("重大度"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        _("状態"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED
    )
    personal_data = models.BooleanField(_("個人情報を含む"), default=False)
    people_affected = models.PositiveIntegerField(_("本人の数"), default=0)
    special_care = models.BooleanField(_("要配慮個人情報を含む"), default=False)
    ordinance_special_care = models.BooleanField(_("条例要配慮個人情報を含む"), default=False)
    my_number = models.BooleanField(_("マイナンバー（特定個人情報）を含む"), default=False)
    financial_damage = models.BooleanField(_("財産的被害のおそれ"), default=False)
    unauthorised_purpose = models.BooleanField(_("不正の目的によるおそれ"), default=False)
    systems = models.ManyToManyField(
        ProtectedSystem, blank=True, related_name="incidents", verbose_name=_("関係システム")
    )
    media = models.ManyToManyField(Medium, blank=True, related_name="incidents", verbose_name=_("関係媒体"))
    # Devices: a plain label until apps.devices exists to link to.
    devices = models.CharField(_("関係機器"), max_length=200, blank=True)
    root_cause = models.TextField(_("原因"), blank=True)
    measures = models.TextField(_("再発防止策"), blank=True)
    preliminary_filed_at = models.DateTimeField(_("速報の提出日時"), null=True, blank=True)
    final_filed_at = models.DateTimeField(_("確報の提出日時"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        ordering = ["-learned_at", "-pk"]
        verbose_name = _("事故")
        verbose_name_plural = _("事故")

    def __str__(self) -> str:
        return self.title


class TimelineEntry(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="timeline", verbose_name=_("事故")
    )
    at = models.DateTimeField(_("日時"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("記録者"),
    )
    text = models.TextField(_("内容"), blank=True)  # what a person wrote, as written
    # the program's own entry (受付, 速報/確報, 完了, 再開...) as a stored message (`core.messages`),
    # read in each reader's language; an entry written before this has its text in `text`
    message = models.JSONField(_("内容（翻訳前）"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("経過の記録")
        verbose_name_plural = _("経過の記録")

    def __str__(self) -> str:
        return self.shown[:40]

    @property
    def shown(self) -> str:
        """The entry in the active language: the program's message, or what a person wrote."""
        return message_text(self.message) if self.message is not None else self.text
