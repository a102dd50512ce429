"""Devices: the inventory (PCs, servers, network equipment), each device's daily hygiene reports
(antivirus, patches, configuration baseline), the imports that brought them, and renewal plans.

A device's current hygiene (`DeviceHygiene`) is derived from its reports at each import, so the
coverage page reads one row per device instead of every report.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.core.messages import message_text
from mamori.apps.core.models import Department, NetworkZone
from mamori.apps.disposal.models import Medium

from .formats import host_key


class DeviceKind(models.TextChoices):
    PC = "pc", _("PC")
    SERVER = "server", _("サーバ")
    FIREWALL = "firewall", _("ファイアウォール")
    MAIL_GATEWAY = "mail_gateway", _("メールゲートウェイ")
    INTERNET_GATEWAY = "internet_gateway", _("インターネット接続機器")
    SWITCH = "switch", _("スイッチ")
    WIRELESS = "wireless", _("無線LAN機器")
    OTHER = "other", _("その他")


#: kinds that run an agent and send hygiene reports (antivirus, patches, baseline)
REPORTING_KINDS = frozenset({DeviceKind.PC, DeviceKind.SERVER})
#: kinds a renewal plan covers (network equipment and servers)
RENEWAL_KINDS = frozenset(set(DeviceKind) - {DeviceKind.PC})


class DeviceStatus(models.TextChoices):
    IN_USE = "in_use", _("使用中")
    SPARE = "spare", _("予備")
    RETIRED = "retired", _("使用終了")
    DISPOSED = "disposed", _("廃棄済み")


class Device(models.Model):
    """One piece of equipment in the inventory (機器台帳)."""

    asset_tag = models.CharField(_("資産番号"), max_length=40, unique=True)
    hostname = models.CharField(_("ホスト名"), max_length=100, blank=True)
    # The hostname as agents report it (`formats.host_key`: case-folded, no DNS domain); reports
    # without a serial or asset tag are matched to the device by it.
    host_key = models.CharField(_("照合用のホスト名"), max_length=100, blank=True, editable=False)
    kind = models.CharField(_("種別"), max_length=20, choices=DeviceKind.choices)
    maker = models.CharField(_("メーカー"), max_length=100, blank=True)
    model_name = models.CharField(_("型番"), max_length=100, blank=True)
    serial = models.CharField(_("製造番号"), max_length=100, blank=True)
    os_name = models.CharField(_("OS"), max_length=100, blank=True)
    os_version = models.CharField(_("OSバージョン"), max_length=60, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="devices", verbose_name=_("所属")
    )
    location = models.CharField(_("設置場所"), max_length=100, blank=True)
    network_zone = models.CharField(_("ネットワーク区分"), max_length=20, choices=NetworkZone.choices)
    purchase_date = models.DateField(_("購入日"), null=True, blank=True)
    lease_end = models.DateField(_("リース満了日"), null=True, blank=True)
    end_of_support = models.DateField(_("サポート終了日"), null=True, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.IN_USE
    )
    # The link point to disposal: the storage media (disks) that came out of this device.
    disposal_media = models.ManyToManyField(
        Medium, blank=True, related_name="devices", verbose_name=_("廃棄した記録媒体")
    )
    # The end-of-support date the last alert mail was sent for (a changed date is alerted again).
    eos_alerted_for = models.DateField(_("通知済みのサポート終了日"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        ordering = ["asset_tag"]
        verbose_name = _("機器")
        verbose_name_plural = _("機器")
        constraints = [
            models.UniqueConstraint(
                fields=["host_key"], condition=~Q(host_key=""), name="devices_unique_host_key"
            )
        ]
        indexes = [models.Index(fields=["status", "kind"]), models.Index(fields=["end_of_support"])]

    def __str__(self) -> str:
        return f"{self.asset_tag} {self.hostname}".strip()

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.host_key = host_key(self.hostname)
        if kwargs.get("update_fields") is not None and "hostname" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "host_key"}
        super().save(*args, **kwargs)

    @property
    def reports_hygiene(self) -> bool:
        return self.kind in REPORTING_KINDS


class DeviceChange(models.Model):
    """One change of a device's record, field by field (old → new), for its history page."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="changes", verbose_name=_("機器")
    )
    changed_at = models.DateTimeField(_("日時"))
    actor = models.CharField(_("変更者"), max_length=150)
    via = models.CharField(_("経路"), max_length=40)  # "画面" / the import's file name
    # {field: [old, new]}; a creation has old = None
    changes = models.JSONField(_("変更内容"), default=dict)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("機器の変更履歴")
        verbose_name_plural = _("機器の変更履歴")

    def __str__(self) -> str:
        return f"{self.device_id} {self.changed_at:%Y-%m-%d %H:%M}"


class ImportKind(models.TextChoices):
    """The formats of `formats.detect_format`, which tells them apart by content."""

    INVENTORY = "inventory_csv", _("機器台帳（CSV）")
    WAZUH = "wazuh", _("衛生状況（Wazuh API JSON）")
    OSQUERY = "osquery", _("衛生状況（osquery 結果ログ）")
    HYGIENE_CSV = "hygiene_csv", _("衛生状況（CSV）")


class ImportState(models.TextChoices):
    QUEUED = "queued", _("待機中")
    RUNNING = "running", _("実行中")
    SUCCEEDED = "succeeded", _("完了")
    FAILED = "failed", _("失敗（取り込みなし）")


class DeviceImport(models.Model):
    """One uploaded file and what its import did: the evidence behind every report it brought."""

    kind = models.CharField(_("種類"), max_length=20, choices=ImportKind.choices)
    filename = models.CharField(_("ファイル名"), max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField(_("サイズ"))
    # the uploaded file's name under MAMORI_HOME/device-imports (`uploads`); removed once the import has run
    stored_file = models.CharField(_("保存名"), max_length=40, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("依頼者"),
    )
    actor = models.CharField(_("取込者"), max_length=150)
    state = models.CharField(
        _("状態"), max_length=10, choices=ImportState.choices, default=ImportState.QUEUED
    )
    created_at = models.DateTimeField(_("受付日時"))
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    created = models.PositiveIntegerField(_("新規"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("変更なし"), default=0)
    # stored messages (`core.messages`; an import run before them: its text), at most MAX_ERRORS
    errors = models.JSONField(_("エラーの内容"), default=list)
    error_count = models.PositiveIntegerField(_("エラー件数"), default=0)
    # hosts in a hygiene file that are not in the inventory
    unknown_hosts = models.JSONField(_("機器台帳にないホスト"), default=list)
    # what the reader ignored (an unused osquery query, a column), as stored messages too
    notes = models.JSONField(_("取り込まなかった内容"), default=list)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("取込")
        verbose_name_plural = _("取込")

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"

    @property
    def is_finished(self) -> bool:
        return self.state in (ImportState.SUCCEEDED, ImportState.FAILED)

    @property
    def error_texts(self) -> list[str]:
        """The errors in the active language (an import's from before messages were kept, as written)."""
        return [message_text(e) for e in self.errors]

    @property
    def note_texts(self) -> list[str]:
        return [message_text(n) for n in self.notes]


class ReportSource(models.TextChoices):
    WAZUH = "wazuh", "Wazuh"
    OSQUERY = "osquery", "osquery"
    CSV = "csv", "CSV"


class HygieneReport(models.Model):
    """What one source said about one device on one day; a re-import of the same day replaces it."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="reports", verbose_name=_("機器")
    )
    day = models.DateField(_("日付"))
    source = models.CharField(_("取得元"), max_length=10, choices=ReportSource.choices)
    av_product = models.CharField(_("ウイルス対策製品"), max_length=100, blank=True)
    av_engine = models.CharField(_("エンジン"), max_length=60, blank=True)
    signature_date = models.DateField(_("定義ファイル日付"), null=True, blank=True)
    # osquery and Windows tell "up to date or not" without a date
    signatures_current = models.BooleanField(_("定義ファイル最新"), null=True)
    realtime = models.BooleanField(_("リアルタイム保護"), null=True)
    last_patch_date = models.DateField(_("最終パッチ適用日"), null=True, blank=True)
    missing_updates = models.PositiveIntegerField(_("未適用の更新"), null=True, blank=True)
    baseline_pass_pct = models.DecimalField(
        _("構成基準の適合率"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    imported_by = models.ForeignKey(
        DeviceImport, null=True, on_delete=models.SET_NULL, related_name="reports", verbose_name=_("取込")
    )

    class Meta:
        ordering = ["-day", "source"]
        verbose_name = _("衛生状況の報告")
        verbose_name_plural = _("衛生状況の報告")
        constraints = [
            models.UniqueConstraint(fields=["device", "day", "source"], name="devices_one_report_per_day")
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.day} {self.source}"


class DeviceHygiene(models.Model):
    """A device's current hygiene: each figure from its latest report that has it (sources differ:
    osquery tells antivirus and patches, Wazuh the baseline). Rebuilt by every import that touches it."""

    device = models.OneToOneField(
        Device, on_delete=models.CASCADE, primary_key=True, related_name="hygiene", verbose_name=_("機器")
    )
    last_report_day = models.DateField(_("最新の報告日"), null=True)
    av_product = models.CharField(_("ウイルス対策製品"), max_length=100, blank=True)
    signature_date = models.DateField(_("定義ファイル日付"), null=True)
    signatures_current = models.BooleanField(_("定義ファイル最新"), null=True)
    realtime = models.BooleanField(_("リアルタイム保護"), null=True)
    last_patch_date = models.DateField(_("最終パッチ適用日"), null=True)
    missing_updates = models.PositiveIntegerField(_("未適用の更新"), null=True)
    baseline_pass_pct = models.DecimalField(_("構成基準の適合率"), max_digits=4, decimal_places=1, null=True)

    class Meta:
        verbose_name = _("機器の衛生状況")
        verbose_name_plural = _("機器の衛生状況")

    def __str__(self) -> str:
        return f"{self.device_id} {self.last_report_day}"


def thousand_yen(yen: int) -> int:
    """千円, rounded half up as budget documents show it."""
    return int((Decimal(yen) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class RenewalStatus(models.TextChoices):
    PLANNED = "planned", _("計画")
    BUDGETED = "budgeted", _("予算化")
    ORDERED = "ordered", _("発注済み")
    DONE = "done", pgettext_lazy("renewal", "完了")


class RenewalPlan(models.Model):
    """Renewal (更新) of network equipment or servers in a fiscal year, with its budget in yen."""

    title = models.CharField(_("件名"), max_length=200)
    fiscal_year = models.PositiveIntegerField(
        _("実施年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    budget_yen = models.PositiveBigIntegerField(_("予算額（円）"))
    status = models.CharField(
        _("状態"), max_length=10, choices=RenewalStatus.choices, default=RenewalStatus.PLANNED
    )
    devices = models.ManyToManyField(Device, related_name="renewal_plans", verbose_name=_("対象機器"))
    note = models.CharField(_("備考"), max_length=300, blank=True)

    class Meta:
        ordering = ["fiscal_year", "title"]
        verbose_name = _("更新計画")
        verbose_name_plural = _("更新計画")

    def __str__(self) -> str:
        return self.title

    @property
    def budget_thousand_yen(self) -> int:
        return thousand_yen(self.budget_yen)


class WazuhSource(models.Model):
    """The optional Wazuh server API that the worker pulls hygiene from (at most one; none: files only).
    The password is encrypted at rest (core.secretbox) and never shown or audited."""

    url = models.URLField(_("Wazuh API の URL"), max_length=300)
    username = models.CharField(_("API ユーザー名"), max_length=150)
    password_encrypted = models.TextField(_("API パスワード（暗号化済み）"), editable=False)
    ca_certificate = models.TextField(_("CA証明書（PEM、空欄ならOSの信頼済みCA）"), blank=True)
    timeout_seconds = models.PositiveIntegerField(
        _("応答待ちの上限（秒）"), default=30, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("Wazuh API の接続先")
        verbose_name_plural = _("Wazuh API の接続先")

    def __str__(self) -> str:
        return self.url
