"""Storage media on their way to destruction, with the chain of custody as a state machine.

registered → in storage → handed over (in a batch, to a contractor) → certified (by a certificate
file whose SHA-256 is kept). Each step is a service call with one audit event; none can be skipped
or repeated (`services.TRANSITIONS`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Classification, Department, NetworkZone


class MediumKind(models.TextChoices):
    OPTICAL = "optical", _("CD/DVD")
    HDD = "hdd", _("HDD")
    SSD = "ssd", _("SSD")
    USB = "usb", _("USBメモリ")
    TAPE = "tape", _("テープ")
    PAPER = "paper", _("紙")
    OTHER = "other", _("その他")


class MediumState(models.TextChoices):
    REGISTERED = "registered", _("登録済み")
    STORED = "stored", _("保管中")
    HANDED_OVER = "handed_over", _("引渡し済み")
    CERTIFIED = "certified", _("証明書受領")


class Method(models.TextChoices):
    """NIST SP 800-88 sanitization categories."""

    CLEAR = "clear", _("消去（Clear）")
    PURGE = "purge", _("除去（Purge）")
    DESTROY = "destroy", _("物理破壊（Destroy）")


class DisposalBatch(models.Model):
    """Media handed to a contractor together: who handed over, who received, when, who witnessed."""

    contractor = models.CharField(_("委託業者"), max_length=100)
    method = models.CharField(_("処理方法"), max_length=10, choices=Method.choices)
    handed_over_at = models.DateTimeField(_("引渡し日時"))
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("引渡し担当者"),
    )
    received_by = models.CharField(_("受領者（業者側）"), max_length=100)
    witness = models.CharField(_("立会人"), max_length=100)
    note = models.CharField(_("備考"), max_length=200, blank=True)

    class Meta:
        ordering = ["-handed_over_at", "-pk"]
        verbose_name = _("廃棄の引渡し")
        verbose_name_plural = _("廃棄の引渡し")

    def __str__(self) -> str:
        return f"#{self.pk} {self.contractor}"


class Certificate(models.Model):
    """The contractor's certificate (PDF or image). The file is named by its SHA-256, never by the
    uploaded name; `sha256` is what a later check compares the stored bytes with."""

    batch = models.ForeignKey(
        DisposalBatch, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("廃棄の引渡し")
    )
    number = models.CharField(_("証明書番号"), max_length=60)
    issued_on = models.DateField(_("発行日"))
    stored_name = models.CharField(_("保存名"), max_length=120, editable=False)
    original_name = models.CharField(_("ファイル名"), max_length=200, editable=False)
    content_type = models.CharField(_("ファイル形式"), max_length=40, editable=False)
    size = models.PositiveIntegerField(_("サイズ（バイト）"), editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("登録者"),
    )
    uploaded_at = models.DateTimeField(_("登録日時"))

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("廃棄証明書")
        verbose_name_plural = _("廃棄証明書")

    def __str__(self) -> str:
        return self.number


class Medium(models.Model):
    """One storage medium (記録媒体) from registration to its destruction certificate."""

    label = models.CharField(_("管理番号"), max_length=40, unique=True)
    kind = models.CharField(_("種類"), max_length=10, choices=MediumKind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="media", verbose_name=_("所属")
    )
    classification = models.CharField(_("情報資産の分類"), max_length=4, choices=Classification.choices)
    network_zone = models.CharField(_("ネットワーク区分"), max_length=20, choices=NetworkZone.choices)
    description = models.CharField(_("内容"), max_length=200, blank=True)
    serial_number = models.CharField(_("製造番号"), max_length=100, blank=True)
    # The device it came out of; a plain label until apps.devices exists to link to.
    source_device = models.CharField(_("取り外した機器"), max_length=100, blank=True)
    state = models.CharField(
        _("状態"), max_length=12, choices=MediumState.choices, default=MediumState.REGISTERED
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("登録者"),
    )
    registered_at = models.DateTimeField(_("登録日時"))
    storage_location = models.CharField(_("保管場所"), max_length=100, blank=True)
    stored_at = models.DateTimeField(_("保管開始"), null=True, blank=True)
    batch = models.ForeignKey(
        DisposalBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="media",
        verbose_name=_("廃棄の引渡し"),
    )
    certificate = models.ForeignKey(
        Certificate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="media",
        verbose_name=_("廃棄証明書"),
    )

    class Meta:
        ordering = ["label"]
        verbose_name = _("記録媒体")
        verbose_name_plural = _("記録媒体")

    def __str__(self) -> str:
        return self.label

    @property
    def requires_destruction(self) -> bool:
        """総務省 guideline: media of the マイナンバー利用事務系 must be physically destroyed."""
        return self.network_zone == NetworkZone.MYNUMBER
