"""Backup operations: protected systems, their sources and repositories, schedules, runs and alerts.

Writes go through `services` / `jobs`, reads through `selectors`. Repository passwords are stored only
encrypted (`secrets.py`); run records are the evidence behind the backup KPIs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.core.messages import JOINER, message_text
from mamori.apps.core.models import Classification, Department, NetworkZone


class ProtectedSystem(models.Model):
    """A system whose data the city must not lose (保護対象システム)."""

    code = models.SlugField(_("コード"), max_length=40, unique=True)
    name = models.CharField(_("システム名"), max_length=100)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="protected_systems", verbose_name=_("所管課")
    )
    network_zone = models.CharField(_("ネットワーク区分"), max_length=20, choices=NetworkZone.choices)
    classification = models.CharField(
        _("情報資産の分類"),
        max_length=4,
        choices=Classification.choices,
        default=Classification.CONFIDENTIAL_2,
    )
    rpo_hours = models.PositiveIntegerField(_("目標復旧時点 RPO（時間）"), default=24)
    rto_minutes = models.PositiveIntegerField(_("目標復旧時間 RTO（分）"), default=240)
    description = models.TextField(_("説明"), blank=True)
    active = models.BooleanField(_("有効"), default=True)
    builtin = models.BooleanField(_("組み込み（mamori 自身のデータ）"), default=False, editable=False)

    class Meta:
        verbose_name = _("保護対象システム")
        verbose_name_plural = _("保護対象システム")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    PATH = "path", _("フォルダ・ファイル")
    DUMP = "dump", _("ダンプ（サーバ側のプロファイル）")
    SQLITE = "sqlite", _("SQLiteデータベース")
    MAMORI = "mamori", _("mamori 自身のデータ（データベースと監査チェックポイント）")


class Source(models.Model):
    """What to back up: a path (with include / exclude patterns), a dump by a server-side profile
    (`profiles.py`: the web UI never holds a command line), or an SQLite file.

    `legacy_command` keeps a command line entered before profiles existed: never run, never shown;
    such a source waits for an officer to choose a profile (`needs_profile`)."""

    system = models.ForeignKey(
        ProtectedSystem, on_delete=models.CASCADE, related_name="sources", verbose_name=_("保護対象システム")
    )
    kind = models.CharField(_("種類"), max_length=10, choices=SourceKind.choices, default=SourceKind.PATH)
    path = models.CharField(_("パス"), max_length=500, blank=True)
    profile = models.CharField(_("ダンププロファイル"), max_length=40, blank=True)
    parameters = models.JSONField(_("プロファイルのパラメータ"), default=dict, blank=True)
    legacy_command = models.CharField(
        _("旧形式のコマンド（実行しない）"), max_length=500, blank=True, editable=False
    )
    stdin_filename = models.CharField(_("ダンプのファイル名"), max_length=100, blank=True)
    includes = models.TextField(_("含めるパターン（1行に1つ）"), blank=True)
    excludes = models.TextField(_("除外パターン（1行に1つ）"), blank=True)

    class Meta:
        verbose_name = _("バックアップ元")
        verbose_name_plural = _("バックアップ元")
        ordering = ["system", "pk"]

    def __str__(self) -> str:
        if self.kind != SourceKind.DUMP:
            return self.path
        if self.needs_profile:
            return str(_("旧形式のダンプコマンド（実行されません：プロファイルを選んでください）"))
        values = " ".join(f"{k}={v}" for k, v in sorted(self.parameters.items()))
        return f"{self.profile} {values}".strip()

    @property
    def needs_profile(self) -> bool:
        return self.kind == SourceKind.DUMP and not self.profile

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def include_patterns(self) -> list[str]:
        return self._lines(self.includes)

    @property
    def exclude_patterns(self) -> list[str]:
        return self._lines(self.excludes)


class RepositoryRole(models.TextChoices):
    PRIMARY = "primary", _("一次（庁内）")
    OFFSITE = "offsite", _("遠隔地")


class Medium(models.TextChoices):
    DISK = "disk", _("内蔵ディスク")
    NAS = "nas", _("NAS")
    EXTERNAL = "external", _("外部ディスク")
    OBJECT_STORAGE = "object_storage", _("オブジェクトストレージ")
    TAPE = "tape", _("テープ")


class Repository(models.Model):
    """A restic-format repository holding one system's snapshots; the password and the remote secrets
    (`secrets_encrypted`: S3 keys, SSH key, REST password) are kept encrypted.

    `immutable_days` is what the officer asked for; whether the copy *is* immutable is a fact read back
    from the server: the Object Lock mode and the retain-until date of the newest snapshot's objects
    (`lock_*`, with the time they were read)."""

    system = models.ForeignKey(
        ProtectedSystem,
        on_delete=models.CASCADE,
        related_name="repositories",
        verbose_name=_("保護対象システム"),
    )
    name = models.CharField(_("名称"), max_length=100)
    url = models.CharField(_("URL"), max_length=500)
    role = models.CharField(_("役割"), max_length=10, choices=RepositoryRole.choices)
    medium = models.CharField(_("媒体"), max_length=20, choices=Medium.choices, default=Medium.DISK)
    immutable_days = models.PositiveIntegerField(
        _("改ざん防止の保持日数（S3 Object Lock、0は使わない）"), default=0
    )
    password_encrypted = models.TextField(_("パスワード（暗号化済み）"), editable=False)
    secrets_encrypted = models.TextField(
        _("接続の秘密情報（暗号化済み）"), editable=False, blank=True, default=""
    )
    known_hosts = models.TextField(_("SSHホスト鍵（known_hosts の行）"), blank=True, default="")
    lock_mode = models.CharField(
        _("Object Lock のモード"), max_length=12, blank=True, default="", editable=False
    )
    lock_snapshot = models.CharField(
        _("Object Lock を確認したスナップショット"), max_length=64, blank=True, default="", editable=False
    )
    lock_until = models.DateTimeField(_("Object Lock の期限"), null=True, blank=True, editable=False)
    lock_read_at = models.DateTimeField(_("Object Lock の確認日時"), null=True, blank=True, editable=False)
    engine_id = models.CharField(_("リポジトリID"), max_length=64, blank=True)
    locked_by = models.ForeignKey(
        "Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("使用中のジョブ"),
    )
    locked_at = models.DateTimeField(_("使用開始"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("リポジトリ")
        verbose_name_plural = _("リポジトリ")
        ordering = ["system", "role", "pk"]
        constraints = [models.UniqueConstraint(fields=["url"], name="uniq_repository_url")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class RetentionPolicy(models.Model):
    """How many snapshots to keep (restic `forget` policy) for one system."""

    system = models.OneToOneField(
        ProtectedSystem,
        on_delete=models.CASCADE,
        related_name="retention",
        verbose_name=_("保護対象システム"),
    )
    keep_last = models.PositiveIntegerField(_("直近"), default=0)
    keep_daily = models.PositiveIntegerField(_("日次"), default=14)
    keep_weekly = models.PositiveIntegerField(_("週次"), default=8)
    keep_monthly = models.PositiveIntegerField(_("月次"), default=12)
    keep_yearly = models.PositiveIntegerField(_("年次"), default=5)
    prune = models.BooleanField(_("不要データを削除（prune）"), default=True)

    class Meta:
        verbose_name = _("保持ルール")
        verbose_name_plural = _("保持ルール")

    def __str__(self) -> str:
        return str(
            _("直近 {last} / 日次 {daily} / 週次 {weekly} / 月次 {monthly} / 年次 {yearly}").format(
                last=self.keep_last,
                daily=self.keep_daily,
                weekly=self.keep_weekly,
                monthly=self.keep_monthly,
                yearly=self.keep_yearly,
            )
        )


class JobKind(models.TextChoices):
    BACKUP = "backup", pgettext_lazy("job kind", "バックアップ")  # "Backup", not the menu's "Backups"
    OFFSITE_COPY = "offsite_copy", _("遠隔地コピー")
    CHECK_SUBSET = "check_subset", _("整合性検査")
    FORGET_PRUNE = "forget_prune", _("世代整理")
    RESTORE_DRILL = "restore_drill", _("復元訓練")
    RESTORE = "restore", _("復元")
    EXTEND_LOCKS = "extend_locks", _("改ざん防止ロックの延長")


SCHEDULABLE_KINDS = [k for k in JobKind if k != JobKind.RESTORE]


class Schedule(models.Model):
    """A cron expression (in the city's time zone) for one kind of job on one system."""

    system = models.ForeignKey(
        ProtectedSystem,
        on_delete=models.CASCADE,
        related_name="schedules",
        verbose_name=_("保護対象システム"),
    )
    kind = models.CharField(
        _("ジョブ"), max_length=20, choices=[(k.value, k.label) for k in SCHEDULABLE_KINDS]
    )
    cron = models.CharField(_("cron式"), max_length=100)
    enabled = models.BooleanField(_("有効"), default=True)
    check_subset = models.CharField(_("検査するデータの割合"), max_length=10, default="10%", blank=True)
    drill_sample = models.PositiveIntegerField(_("訓練で復元するファイル数（0は全体）"), default=20)
    next_due_at = models.DateTimeField(_("次回予定"), null=True, blank=True)

    class Meta:
        verbose_name = _("スケジュール")
        verbose_name_plural = _("スケジュール")
        ordering = ["system", "kind"]
        constraints = [models.UniqueConstraint(fields=["system", "kind"], name="uniq_schedule_kind")]

    def __str__(self) -> str:
        return f"{self.system} {self.get_kind_display()} ({self.cron})"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("待機中")
    RUNNING = "running", _("実行中")
    SUCCEEDED = "succeeded", _("成功")
    WARNING = "warning", _("一部エラー")
    FAILED = "failed", _("失敗")
    MISSED = "missed", _("未実行")


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.WARNING, RunStatus.FAILED, RunStatus.MISSED)
OK_STATUSES = (RunStatus.SUCCEEDED, RunStatus.WARNING)


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", _("スケジュール")
    MANUAL = "manual", _("手動")


class Run(models.Model):
    """One execution (or one missed occurrence) of a job: the evidence behind the KPIs."""

    system = models.ForeignKey(
        ProtectedSystem, on_delete=models.CASCADE, related_name="runs", verbose_name=_("保護対象システム")
    )
    kind = models.CharField(_("ジョブ"), max_length=20, choices=JobKind.choices)
    status = models.CharField(_("状態"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(_("契機"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    schedule = models.ForeignKey(
        Schedule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
        verbose_name=_("スケジュール"),
    )
    repository = models.ForeignKey(
        Repository,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
        verbose_name=_("リポジトリ"),
    )
    target_repository = models.ForeignKey(
        Repository,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incoming_runs",
        verbose_name=_("コピー先リポジトリ"),
    )
    requested_by = models.CharField(_("依頼者"), max_length=150, default="system")
    scheduled_for = models.DateTimeField(_("予定時刻"), null=True, blank=True)
    queued_at = models.DateTimeField(_("受付"), auto_now_add=True)
    started_at = models.DateTimeField(_("開始"), null=True, blank=True)
    finished_at = models.DateTimeField(_("終了"), null=True, blank=True)
    snapshot_id = models.CharField(_("スナップショットID"), max_length=64, blank=True)
    files_total = models.PositiveBigIntegerField(_("ファイル数"), null=True, blank=True)
    files_new = models.PositiveBigIntegerField(_("新規・変更ファイル"), null=True, blank=True)
    bytes_new = models.PositiveBigIntegerField(_("追加容量"), null=True, blank=True)
    bytes_total = models.PositiveBigIntegerField(_("対象容量"), null=True, blank=True)
    duration_s = models.FloatField(_("所要時間（秒）"), null=True, blank=True)
    error_text = models.TextField(_("エラー"), blank=True)  # in the server's language: mail, CLI, audit
    # the same as a stored message (`mamori.apps.core.messages`): each reader sees it in their language
    error_message = models.JSONField(_("エラー（翻訳前）"), null=True, blank=True)
    passed = models.BooleanField(_("合格"), null=True, blank=True)
    rto_met = models.BooleanField(_("RTO達成"), null=True, blank=True)
    progress = models.JSONField(_("進捗"), default=dict, blank=True)
    detail = models.JSONField(_("詳細"), default=dict, blank=True)

    class Meta:
        verbose_name = _("実行履歴")
        verbose_name_plural = _("実行履歴")
        ordering = ["-queued_at", "-pk"]
        indexes = [models.Index(fields=["system", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.system} {self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def primary_snapshot_id(self) -> str:
        """The snapshot of the primary repository (the one the snapshot pages read) this run is
        about: an offsite copy records its copy's own id, whose source is the primary's snapshot."""
        if self.kind == JobKind.OFFSITE_COPY:
            copied = (self.detail or {}).get("copied") or []
            return str(copied[-1][0]) if copied else ""
        return self.snapshot_id

    @property
    def error(self) -> str:
        """The error in the active language; a run recorded before messages were stored, as written."""
        return message_text(self.error_message) if self.error_message is not None else self.error_text

    @property
    def when(self):  # type: ignore[no-untyped-def]
        """When it happened; a missed run is shown at the time it should have run."""
        if self.status == RunStatus.MISSED:
            return self.scheduled_for
        return self.finished_at or self.started_at or self.scheduled_for or self.queued_at


class AlertKind(models.TextChoices):
    FAILED = "failed", _("ジョブ失敗")
    MISSED = "missed", _("未実行")


#: Alert texts by key, translated when shown: `Alert.text` renders the key in the reader's language.
#: Parameters are strings written at raise time, except `kind`, a JobKind value translated when shown.
ALERT_MESSAGES = {
    "run_failed": _("{kind}が失敗しました: {error}"),
    "runs_missed": _(
        "{kind}の予定実行が{count}回行われませんでした（{first} 〜 {last}）。{latest} の分を今回1回だけ実行します。"
    ),
    "run_late": _("{kind}（予定 {latest}）をワーカー停止のため遅れて実行します。"),
}


class Alert(models.Model):
    """A failed or missed run that someone must look at; shown until acknowledged.

    `message` is the text in the server's language when raised (the e-mail's, and what an alert
    without a key shows); `message_key` and `message_params` let each reader see it in their language.
    """

    system = models.ForeignKey(
        ProtectedSystem, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("保護対象システム")
    )
    run = models.ForeignKey(
        Run,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        verbose_name=_("実行履歴"),
    )
    kind = models.CharField(_("種別"), max_length=10, choices=AlertKind.choices)
    message = models.TextField(pgettext_lazy("alert", "内容"))
    message_key = models.CharField(_("内容の種類"), max_length=40, blank=True, default="")
    message_params = models.JSONField(_("内容の値"), default=dict, blank=True)
    created_at = models.DateTimeField(_("発生"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("メール送信"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("確認者"),
    )
    acknowledged_at = models.DateTimeField(_("確認日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("アラート")
        verbose_name_plural = _("アラート")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.system}: {self.message[:40]}"

    @property
    def text(self) -> str:
        template = ALERT_MESSAGES.get(self.message_key)
        if template is None:
            return self.message
        params = {k: message_text(v, JOINER) for k, v in self.message_params.items()}
        if params.get("kind") in JobKind.values:
            params["kind"] = JobKind(params["kind"]).label
        try:
            return str(template).format(**params)
        except (KeyError, IndexError, ValueError):  # parameters from an older version of the text
            return self.message
