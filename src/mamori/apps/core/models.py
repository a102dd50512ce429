"""Core domain models. Writes go through `services`, reads through `selectors`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    """The city (自治体). One per installation."""

    name = models.CharField(_("団体名"), max_length=100)
    name_en = models.CharField(_("英語名"), max_length=100, blank=True)
    prefecture = models.CharField(_("都道府県"), max_length=10)
    code = models.CharField(_("団体コード"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("団体")
        verbose_name_plural = _("団体")

    def __str__(self) -> str:
        return self.name


class PopulationRecord(models.Model):
    """Residents and households on a reference date, with the source (住民基本台帳 etc.)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="populations", verbose_name=_("団体")
    )
    reference_date = models.DateField(_("基準日"))
    residents = models.PositiveIntegerField(_("人口"))
    households = models.PositiveIntegerField(_("世帯数"))
    source = models.CharField(_("出典"), max_length=200)

    class Meta:
        ordering = ["-reference_date"]
        verbose_name = _("人口の記録")
        verbose_name_plural = _("人口の記録")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference_date"], name="uniq_population_date")
        ]

    def __str__(self) -> str:
        return gettext("%(date)s %(residents)s人 / %(households)s世帯") % {
            "date": self.reference_date,
            "residents": f"{self.residents:,}",
            "households": f"{self.households:,}",
        }


class Department(models.Model):
    """A department or division (部・課); a tree via `parent`."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="departments", verbose_name=_("団体")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上位の所属"),
    )
    code = models.CharField(_("所属コード"), max_length=20, unique=True)
    name = models.CharField(_("所属名"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("所属")
        verbose_name_plural = _("所属")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.parent.name} {self.name}" if self.parent_id else self.name

    def descendant_ids(self) -> set[int]:
        """This department and every department below it."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            ids.update(frontier)
        return ids


class EmploymentCategory(models.TextChoices):
    REGULAR = "regular", _("正職員")
    REEMPLOYED = "reemployed", _("再任用")
    FISCAL_YEAR = "fiscal_year", _("会計年度任用")


class StaffStatus(models.TextChoices):
    ACTIVE = "active", _("在職")
    LEAVE = "leave", _("休職")
    LEFT = "left", _("退職")


class NetworkZone(models.TextChoices):
    """The three network segments of 三層の対策; a medium, system or device belongs to one."""

    MYNUMBER = "mynumber", _("マイナンバー利用事務系")
    LGWAN = "lgwan", _("LGWAN接続系")
    INTERNET = "internet", _("インターネット接続系")


class Classification(models.TextChoices):
    """Information-asset confidentiality classes (機密性) of the city's security policy."""

    CONFIDENTIAL_3 = "c3", _("機密性3")
    CONFIDENTIAL_2 = "c2", _("機密性2")
    CONFIDENTIAL_1 = "c1", _("機密性1")


class Staff(models.Model):
    """An employee (職員)."""

    employee_number = models.CharField(_("職員番号"), max_length=20, unique=True)
    family_name = models.CharField(_("姓"), max_length=50)
    given_name = models.CharField(_("名"), max_length=50)
    family_name_kana = models.CharField(_("姓（かな）"), max_length=50, blank=True)
    given_name_kana = models.CharField(_("名（かな）"), max_length=50, blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="staff", verbose_name=_("所属")
    )
    position = models.CharField(_("職名"), max_length=50, blank=True)
    employment_category = models.CharField(
        _("任用区分"), max_length=20, choices=EmploymentCategory.choices, default=EmploymentCategory.REGULAR
    )
    status = models.CharField(
        _("状態"), max_length=10, choices=StaffStatus.choices, default=StaffStatus.ACTIVE
    )
    joined_on = models.DateField(_("採用日"), null=True, blank=True)
    left_on = models.DateField(_("退職日"), null=True, blank=True)

    class Meta:
        ordering = ["employee_number"]
        verbose_name = _("職員")
        verbose_name_plural = _("職員")

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"


class StaffTransfer(models.Model):
    """A personnel transfer (人事異動): from one department to another on a date."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("職員")
    )
    effective_date = models.DateField(_("発令日"))
    from_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", null=True, verbose_name=_("異動前の所属")
    )
    to_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("異動先の所属")
    )
    note = models.CharField(_("備考"), max_length=200, blank=True)

    class Meta:
        ordering = ["-effective_date"]
        verbose_name = _("人事異動")
        verbose_name_plural = _("人事異動")

    def __str__(self) -> str:
        return f"{self.effective_date} {self.staff} → {self.to_department}"


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("システム管理者")
    SECURITY_OFFICER = "security_officer", _("情報セキュリティ担当")
    DEPARTMENT_LEAD = "department_lead", _("所属長")
    STAFF = "staff", _("職員")
    AUDITOR = "auditor", _("監査")


class Membership(models.Model):
    """A login's role and, for department leads, the department it covers (its subtree)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("ログインユーザー"),
    )
    role = models.CharField(_("ロール"), max_length=20, choices=Role.choices, default=Role.STAFF)
    staff = models.OneToOneField(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="membership",
        verbose_name=_("職員"),
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("担当する所属")
    )

    class Meta:
        verbose_name = _("ロール")
        verbose_name_plural = _("ロール")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditEvent(models.Model):
    """One state change: who, what, when, before / after. Append-only and hash-chained.

    `hash` = HMAC-SHA256, under the audit key kept outside the database, of the previous event's
    hash and this event's canonical JSON, so an edited, inserted or deleted row breaks the chain
    (`mamori audit verify`).
    """

    sequence = models.PositiveBigIntegerField(_("連番"), unique=True)
    occurred_at = models.DateTimeField(_("発生日時"))
    actor = models.CharField(_("操作者"), max_length=150)  # username, or "system" / "cli:<user>"
    action = models.CharField(_("操作"), max_length=100)  # e.g. "staff.import", "backup_system.update"
    object_type = models.CharField(_("対象の種類"), max_length=100, blank=True)
    object_id = models.CharField(_("対象のID"), max_length=64, blank=True)
    # The object's display name when the event was written, so the log can name (and be searched by)
    # objects that were renamed or deleted since. A label beside the chained fields, not part of them.
    object_name = models.CharField(_("対象の名称"), max_length=200, blank=True, default="")
    before = models.JSONField(_("変更前"), null=True, blank=True)
    after = models.JSONField(_("変更後"), null=True, blank=True)
    previous_hash = models.CharField(_("直前の記録のハッシュ"), max_length=64)
    hash = models.CharField(_("ハッシュ"), max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("監査ログの記録")
        verbose_name_plural = _("監査ログの記録")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor}"


class AuditChainHead(models.Model):
    """The chain's last sequence and hash, updated in the same transaction as each event.

    Without it, deleting the newest event(s) would leave a shorter chain that still verifies.
    A single row (pk=1); `audit_verify` compares the walked chain's end with it.
    """

    sequence = models.PositiveBigIntegerField(_("連番"), default=0)
    hash = models.CharField(_("ハッシュ"), max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("監査ログの末尾")
        verbose_name_plural = _("監査ログの末尾")

    def __str__(self) -> str:
        return f"audit head #{self.sequence}"


class ProgressState(models.TextChoices):
    QUEUED = "queued", _("待機中")
    RUNNING = "running", _("実行中")
    SUCCEEDED = "succeeded", _("完了")
    FAILED = "failed", _("失敗")


class ProgressJob(models.Model):
    """A long-running piece of background work a person started, with its progress and its result file
    (see `mamori.apps.core.progress`)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("依頼者")
    )
    kind = models.CharField(_("種別"), max_length=50)
    title = models.CharField(_("件名"), max_length=200)
    params = models.JSONField(_("パラメータ"), default=dict, blank=True)
    language = models.CharField(_("言語"), max_length=10, default="ja")
    state = models.CharField(
        _("状態"), max_length=10, choices=ProgressState.choices, default=ProgressState.QUEUED
    )
    done = models.PositiveIntegerField(_("処理済みの件数"), default=0)
    total = models.PositiveIntegerField(_("全体の件数"), default=0)
    message = models.CharField(_("メッセージ"), max_length=300, blank=True)
    error = models.TextField(_("エラー"), blank=True)
    created_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    started_at = models.DateTimeField(_("開始日時"), null=True, blank=True)
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    result_file = models.CharField(
        _("結果ファイル（保存名）"), max_length=100, blank=True
    )  # a name under MAMORI_HOME/progress
    result_name = models.CharField(
        _("結果のファイル名"), max_length=200, blank=True
    )  # the download's file name
    result_type = models.CharField(_("結果の形式"), max_length=100, blank=True)
    result_size = models.PositiveBigIntegerField(_("結果のサイズ（バイト）"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("バックグラウンド処理")
        verbose_name_plural = _("バックグラウンド処理")

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.state in (ProgressState.SUCCEEDED, ProgressState.FAILED)

    @property
    def percent(self) -> int | None:
        return min(100, round(100 * self.done / self.total)) if self.total else None
