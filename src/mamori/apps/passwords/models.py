"""Password policies per account group, the directories mamori audits, and each audit run's findings.

Writes go through `services`, reads through `selectors`. An audit run keeps its findings, so the KPI
of a fiscal year points at the runs behind it; a failed run is stored too and leaves earlier runs alone.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

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
    bind_password_encrypted = models.TextField(editable=False)
    base_dn = models.CharField(_("検索ベースDN"), max_length=500)
    user_filter = models.CharField(_("アカウントの検索フィルタ"), max_length=500)
    match_attribute = models.CharField(_("職員と照合する属性"), max_length=64, default="employeeNumber")
    match_field = models.CharField(
        _("照合先の職員項目"), max_length=20, choices=MatchField.choices, default=MatchField.EMPLOYEE_NUMBER
    )
    page_size = models.PositiveIntegerField(_("ページサイズ"), default=500)
    audit_every_hours = models.PositiveIntegerField(_("自動監査の間隔（時間、0で停止）"), default=24)
    sign_in = models.BooleanField(_("このディレクトリのアカウントでのサインインを許可"), default=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.CharField(max_length=500, blank=True, editable=False)
    last_tested_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def login_attribute(self) -> str:
        return "sAMAccountName" if self.kind == DirectoryKind.ACTIVE_DIRECTORY else "uid"


class RunStatus(models.TextChoices):
    OK = "ok", _("完了")
    FAILED = "failed", _("失敗")


class AuditRun(models.Model):
    """One audit of a directory: the counts and, for a completed run, one finding per account."""

    directory = models.ForeignKey(Directory, on_delete=models.PROTECT, related_name="runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RunStatus.choices)
    error = models.CharField(max_length=500, blank=True)
    accounts = models.PositiveIntegerField(default=0)
    enabled = models.PositiveIntegerField(default=0)
    compliant = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    leavers_enabled = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.directory} {self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


class Finding(models.Model):
    """One account as the audit saw it, judged under its policy."""

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="findings")
    dn = models.CharField(max_length=1000)
    login = models.CharField(max_length=256, blank=True)
    display_name = models.CharField(max_length=256, blank=True)
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    policy = models.ForeignKey(
        PasswordPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy_name = models.CharField(max_length=100, blank=True)
    password_changed_at = models.DateTimeField(null=True)
    password_age_days = models.IntegerField(null=True)
    due_on = models.DateField(null=True)
    last_logon_at = models.DateTimeField(null=True)
    overdue = models.BooleanField(default=False)
    due_soon = models.BooleanField(default=False)
    must_change = models.BooleanField(default=False)
    never_expires = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    stale = models.BooleanField(default=False)
    unmatched = models.BooleanField(default=False)
    leaver_enabled = models.BooleanField(default=False)
    compliant = models.BooleanField(default=False)
    problems = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["login", "pk"]

    def __str__(self) -> str:
        return self.login or self.dn
