"""Password policies per account group, the directories mamori audits, and each audit run's findings.

Writes go through `services`, reads through `selectors`. An audit run keeps its findings, so the KPI
of a fiscal year points at the runs behind it; a failed run is stored too and leaves earlier runs alone.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.messages import message_text
from mamori.apps.core.models import Staff


class PolicyMode(models.TextChoices):
    NIST = "nist", _("NIST SP 800-63B（定期変更なし・漏えい時に変更）")
    ROTATION = "rotation", _("定期変更（N日ごと）")


class PasswordPolicy(models.Model):
    """The rule for one group of accounts, with the clause of the city's own rules it implements.

    An account belongs to the first policy (by `priority`) whose `group_dn` is a suffix of its DN or
    one of its groups (`memberOf`); a policy with an empty `group_dn` covers every other account.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    mode = models.CharField(_("方式"), max_length=10, choices=PolicyMode.choices, default=PolicyMode.NIST)
    max_age_days = models.PositiveIntegerField(_("変更間隔（日）"), null=True, blank=True)
    min_length = models.PositiveIntegerField(_("最小文字数"), default=12)
    blocklist = models.BooleanField(_("漏えい・頻出パスワードを禁止"), default=True)
    stale_days = models.PositiveIntegerField(_("未使用とみなす日数"), default=90)
    group_dn = models.CharField(_("対象グループ（DN）"), max_length=500, blank=True)
    priority = models.PositiveIntegerField(_("優先順位"), default=100)
    clause = models.CharField(_("根拠規程の条項"), max_length=300, blank=True)

    class Meta:
        ordering = ["priority", "pk"]
        verbose_name = _("パスワードポリシー")
        verbose_name_plural = _("パスワードポリシー")

    def __str__(self) -> str:
        return self.name


class DirectoryKind(models.TextChoices):
    OPENLDAP = "openldap", _("OpenLDAP")
    ACTIVE_DIRECTORY = "ad", _("Active Directory")


class Security(models.TextChoices):
    STARTTLS = "starttls", _("StartTLS")
    LDAPS = "ldaps", _("LDAPS")
    PLAIN = "plain", _("暗号化なし（検証用ディレクトリのみ）")


class MatchField(models.TextChoices):
    EMPLOYEE_NUMBER = "employee_number", _("職員番号")
    EMAIL = "email", _("メールアドレス")


class Directory(models.Model):
    """An LDAP / Active Directory server; the bind password is encrypted at rest (core.secretbox)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("種類"), max_length=10, choices=DirectoryKind.choices)
    host = models.CharField(_("ホスト"), max_length=255)
    port = models.PositiveIntegerField(_("ポート"))
    security = models.CharField(_("接続の保護"), max_length=10, choices=Security.choices)
    allow_plain = models.BooleanField(_("暗号化なしの接続を許可（検証用）"), default=False)
    ca_certificate = models.TextField(_("CA証明書（PEM、空欄ならOSの信頼済みCA）"), blank=True)
    bind_dn = models.CharField(_("バインドDN"), max_length=500)
    bind_password_encrypted = models.TextField(_("バインドパスワード（暗号化済み）"), editable=False)
    base_dn = models.CharField(_("検索ベースDN"), max_length=500)
    user_filter = models.CharField(_("アカウントの検索フィルタ"), max_length=500)
    match_attribute = models.CharField(_("職員と照合する属性"), max_length=64, default="employeeNumber")
    match_field = models.CharField(
        _("照合先の職員項目"), max_length=20, choices=MatchField.choices, default=MatchField.EMPLOYEE_NUMBER
    )
    page_size = models.PositiveIntegerField(_("ページサイズ"), default=500)
    audit_every_hours = models.PositiveIntegerField(_("自動監査の間隔（時間、0で停止）"), default=24)
    sign_in = models.BooleanField(_("このディレクトリのアカウントでのサインインを許可"), default=False)
    last_test_ok = models.BooleanField(_("前回の接続テストの成否"), null=True, editable=False)
    last_test_message = models.CharField(
        _("前回の接続テストの結果"), max_length=500, blank=True, editable=False
    )  # in the server's language (audit); `last_test` is read in each reader's language
    last_test_stored = models.JSONField(_("前回の接続テストの結果（翻訳前）"), null=True, editable=False)
    last_tested_at = models.DateTimeField(_("前回の接続テスト日時"), null=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("ディレクトリ")
        verbose_name_plural = _("ディレクトリ")

    def __str__(self) -> str:
        return self.name

    @property
    def last_test(self) -> str:
        """The last connection test's outcome in the active language (as written if stored before)."""
        return (
            message_text(self.last_test_stored)
            if self.last_test_stored is not None
            else self.last_test_message
        )

    @property
    def login_attribute(self) -> str:
        return "sAMAccountName" if self.kind == DirectoryKind.ACTIVE_DIRECTORY else "uid"


class RunStatus(models.TextChoices):
    OK = "ok", _("完了")
    FAILED = "failed", _("失敗")


class AuditRun(models.Model):
    """One audit of a directory: the counts and, for a completed run, one finding per account."""

    directory = models.ForeignKey(
        Directory, on_delete=models.PROTECT, related_name="runs", verbose_name=_("ディレクトリ")
    )
    started_at = models.DateTimeField(_("開始日時"))
    finished_at = models.DateTimeField(_("終了日時"))
    status = models.CharField(_("状態"), max_length=10, choices=RunStatus.choices)
    error = models.CharField(_("エラー"), max_length=500, blank=True)  # the server's language (audit)
    error_message = models.JSONField(_("エラー（翻訳前）"), null=True, blank=True)
    accounts = models.PositiveIntegerField(_("アカウント数"), default=0)
    enabled = models.PositiveIntegerField(_("有効なアカウント数"), default=0)
    compliant = models.PositiveIntegerField(_("準拠しているアカウント数"), default=0)
    overdue = models.PositiveIntegerField(_("変更期限切れの数"), default=0)
    stale = models.PositiveIntegerField(_("長期未使用の数"), default=0)
    leavers_enabled = models.PositiveIntegerField(_("退職者の有効アカウント数"), default=0)
    unmatched = models.PositiveIntegerField(_("職員と照合できない数"), default=0)
    actor = models.CharField(_("実行者"), max_length=150)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("ディレクトリ監査")
        verbose_name_plural = _("ディレクトリ監査")

    def __str__(self) -> str:
        return f"{self.directory} {self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def error_text(self) -> str:
        """The failure in the active language; a run stored before messages were kept, as written."""
        return message_text(self.error_message) if self.error_message is not None else self.error


class Finding(models.Model):
    """One account as the audit saw it, judged under its policy."""

    run = models.ForeignKey(
        AuditRun, on_delete=models.CASCADE, related_name="findings", verbose_name=_("ディレクトリ監査")
    )
    dn = models.CharField(_("DN"), max_length=1000)
    login = models.CharField(_("ログイン名"), max_length=256, blank=True)
    display_name = models.CharField(_("表示名"), max_length=256, blank=True)
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("職員")
    )
    policy = models.ForeignKey(
        PasswordPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("適用ポリシー"),
    )
    policy_name = models.CharField(_("適用ポリシー名"), max_length=100, blank=True)
    password_changed_at = models.DateTimeField(_("パスワード変更日時"), null=True)
    password_age_days = models.IntegerField(_("パスワードの経過日数"), null=True)
    due_on = models.DateField(_("変更期限"), null=True)
    last_logon_at = models.DateTimeField(_("最終ログオン日時"), null=True)
    overdue = models.BooleanField(_("変更期限切れ"), default=False)
    due_soon = models.BooleanField(_("変更期限間近"), default=False)
    must_change = models.BooleanField(_("次回ログオン時に変更が必要"), default=False)
    never_expires = models.BooleanField(_("無期限"), default=False)
    disabled = models.BooleanField(_("無効"), default=False)
    locked = models.BooleanField(_("ロック中"), default=False)
    stale = models.BooleanField(_("長期未使用"), default=False)
    unmatched = models.BooleanField(_("職員と照合できない"), default=False)
    leaver_enabled = models.BooleanField(_("退職者の有効アカウント"), default=False)
    compliant = models.BooleanField(_("準拠"), default=False)
    problems = models.CharField(_("問題"), max_length=1000, blank=True)

    class Meta:
        ordering = ["login", "pk"]
        verbose_name = _("監査結果（アカウント）")
        verbose_name_plural = _("監査結果（アカウント）")

    def __str__(self) -> str:
        return self.login or self.dn
