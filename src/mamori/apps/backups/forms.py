"""Forms for the officer's configuration pages. The repository password field never renders a value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Classification, Department, NetworkZone

from .cron import CRON, DAILY, MONTHLY, WEEKDAYS, WEEKLY, Plan, cron_from_plan
from .errors import BackupError
from .models import (
    SCHEDULABLE_KINDS,
    Medium,
    RepositoryRole,
    SourceKind,
)
from .profiles import profiles_load, profiles_path


class SystemForm(forms.Form):
    code = forms.SlugField(
        label=_("コード（英数字）"),
        max_length=40,
        error_messages={
            "invalid": _("コードは半角の英数字・ハイフン・アンダースコアで入力してください（例: jumin）")
        },
    )
    name = forms.CharField(label=_("システム名"), max_length=100)
    department = forms.ModelChoiceField(label=_("所管課"), queryset=Department.objects.all())
    network_zone = forms.ChoiceField(label=_("ネットワーク区分"), choices=NetworkZone.choices)
    classification = forms.ChoiceField(label=_("情報資産の分類"), choices=Classification.choices)
    rpo_hours = forms.IntegerField(label=_("目標復旧時点 RPO（時間）"), min_value=1, initial=24)
    rto_minutes = forms.IntegerField(label=_("目標復旧時間 RTO（分）"), min_value=1, initial=240)
    description = forms.CharField(label=_("説明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SourceForm(forms.Form):
    """A path, an SQLite file, or a dump by a server-side profile with its parameters; the profiles and
    their parameter fields (`param_<name>`) come from the administrator's file, never a command line."""

    kind = forms.ChoiceField(
        label=_("種類"), choices=[(k.value, k.label) for k in SourceKind if k != SourceKind.MAMORI]
    )
    path = forms.CharField(label=_("パス（絶対パス）"), max_length=500, required=False)
    profile = forms.ChoiceField(label=_("ダンププロファイル"), required=False, choices=[])
    includes = forms.CharField(
        label=_("含めるパターン（1行に1つ）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    excludes = forms.CharField(
        label=_("除外パターン（1行に1つ）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            available = profiles_load()
            self.profiles_problem = ""
        except BackupError as exc:
            available, self.profiles_problem = {}, exc.message
        self.fields["profile"].choices = [("", "—"), *((p.name, p.label) for p in available.values())]
        if not available:
            self.fields["profile"].help_text = self.profiles_problem or _(
                "管理者がサーバの {path} にプロファイルを用意すると選べます"
            ).format(path=profiles_path())
        self.param_names: list[str] = []
        for p in available.values():
            for param in p.parameters:
                field = f"param_{param.name}"
                if field in self.fields:
                    continue
                self.param_names.append(param.name)
                self.fields[field] = forms.CharField(label=param.label, max_length=200, required=False)
        self.order_fields(["kind", "path", "profile", *(f"param_{n}" for n in self.param_names)])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == SourceKind.DUMP and self.profiles_problem:
            raise forms.ValidationError(self.profiles_problem)
        data["parameters"] = {n: data.pop(f"param_{n}", "") for n in self.param_names}
        return data


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value (an SSH private key is never shown back)."""

    def format_value(self, value: Any) -> None:
        return None


LOCATION_HELP = _(
    "ローカル: /srv/backup/jumin　SFTP: sftp:user@host:/srv/backup/jumin　"
    "S3: s3:https://host:9000/bucket/jumin　REST: rest:https://host:8000/jumin/"
)


SECRET_FIELDS = ("sftp_key", "sftp_key_passphrase", "s3_access_key", "s3_secret_key", "s3_region",
                 "rest_username", "rest_password")  # fmt: skip


class RemoteSettingsForm(forms.Form):
    """The remote settings of a repository. Secrets are never rendered back; on the edit form a blank
    secret keeps the stored one. `clean()` gathers them into `secrets`."""

    keep_hint: Any = ""
    known_hosts = forms.CharField(
        label=_("SFTP: サーバのSSHホスト鍵（known_hosts の行。ssh-keyscan の出力）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sftp_key = forms.CharField(
        label=_("SFTP: 秘密鍵（OpenSSH 形式）"),
        required=False,
        strip=False,
        widget=SecretTextarea(attrs={"rows": 3}),
    )
    sftp_key_passphrase = forms.CharField(
        label=_("SFTP: 秘密鍵のパスフレーズ"), required=False, strip=False, widget=forms.PasswordInput()
    )
    s3_access_key = forms.CharField(
        label=_("S3: アクセスキー"), required=False, widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )
    s3_secret_key = forms.CharField(
        label=_("S3: シークレットキー"), required=False, strip=False, widget=forms.PasswordInput()
    )
    s3_region = forms.CharField(
        label=_("S3: リージョン（空欄なら us-east-1）"), required=False, max_length=40
    )
    rest_username = forms.CharField(label=_("REST: ユーザー名"), required=False, max_length=100)
    rest_password = forms.CharField(
        label=_("REST: パスワード"), required=False, strip=False, widget=forms.PasswordInput()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.keep_hint:
            for name in SECRET_FIELDS:
                self.fields[name].help_text = self.keep_hint

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["secrets"] = {name: data.pop(name, "") for name in SECRET_FIELDS}
        return data


class RepositoryForm(RemoteSettingsForm):
    name = forms.CharField(label=_("名称"), max_length=100)
    url = forms.CharField(label=_("場所（URL）"), max_length=500, help_text=LOCATION_HELP)
    role = forms.ChoiceField(label=_("役割"), choices=RepositoryRole.choices)
    medium = forms.ChoiceField(label=_("媒体"), choices=Medium.choices)
    password = forms.CharField(
        label=_("リポジトリのパスワード"), widget=forms.PasswordInput(render_value=False), strip=False
    )
    initialize = forms.BooleanField(label=_("新しいリポジトリを作成する"), required=False, initial=True)
    immutable_days = forms.IntegerField(
        label=_("改ざん防止の保持日数（s3: の Object Lock。0は使わない）"), min_value=0, initial=0
    )
    lock_mode = forms.ChoiceField(
        label=_("Object Lock のモード"),
        choices=[
            ("COMPLIANCE", _("COMPLIANCE（誰も解除できない）")),
            ("GOVERNANCE", _("GOVERNANCE（特権で解除可）")),
        ],
        initial="COMPLIANCE",
        required=False,
    )
    field_order = ["name", "url", "role", "medium", "password", "initialize", "immutable_days", "lock_mode"]


class RepositoryEditForm(RemoteSettingsForm):
    """A repository's description and remote settings; its URL and password are not edited here."""

    keep_hint = _("空欄なら変更しません（保存済みの値は表示しません）")
    name = forms.CharField(label=_("名称"), max_length=100)
    role = forms.ChoiceField(label=_("役割"), choices=RepositoryRole.choices)
    medium = forms.ChoiceField(label=_("媒体"), choices=Medium.choices)
    immutable_days = forms.IntegerField(
        label=_("改ざん防止の保持日数（s3: の Object Lock。0は使わない）"), min_value=0, initial=0
    )
    field_order = ["name", "role", "medium", "immutable_days"]


class RepositoryPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("新しいパスワード"), widget=forms.PasswordInput(render_value=False), strip=False
    )


class ScheduleForm(forms.Form):
    """「毎日 02:00」「毎週 日曜 04:00」「毎月 1日 10:00」, or a cron expression as the advanced choice."""

    kind = forms.ChoiceField(label=_("ジョブ"), choices=[(k.value, k.label) for k in SCHEDULABLE_KINDS])
    frequency = forms.ChoiceField(
        label=_("頻度"),
        choices=[
            (DAILY, _("毎日")),
            (WEEKLY, _("毎週")),
            (MONTHLY, _("毎月")),
            (CRON, _("cron式（上級者向け）")),
        ],
        initial=DAILY,
        required=False,
    )
    at = forms.TimeField(
        label=_("時刻"), initial="02:00", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    weekday = forms.TypedChoiceField(
        label=_("曜日（毎週）"), choices=WEEKDAYS, coerce=int, initial=0, required=False
    )
    day = forms.IntegerField(
        label=_("日（毎月、1〜28）"), min_value=1, max_value=28, initial=1, required=False
    )
    cron = forms.CharField(label=_("cron式（上級者向け、例: 0 2 * * *）"), max_length=100, required=False)
    enabled = forms.BooleanField(label=_("有効"), required=False, initial=True)
    check_subset = forms.CharField(
        label=_("検査するデータの割合"), max_length=10, initial="10%", required=False
    )
    drill_sample = forms.IntegerField(label=_("訓練で復元するファイル数（0は全体）"), min_value=0, initial=20)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        frequency, at = data.pop("frequency", ""), data.pop("at", None)
        weekday, day = data.pop("weekday", None), data.pop("day", None)
        frequency = frequency or (CRON if data.get("cron", "").strip() else DAILY)
        if frequency == CRON:
            if not data.get("cron", "").strip():
                raise forms.ValidationError(_("cron式を入力してください"))
            data["cron"] = data["cron"].strip()
        elif at is None:
            raise forms.ValidationError(_("時刻を入力してください"))
        else:
            plan = Plan(frequency, at.hour, at.minute, weekday=weekday or 0, day=day or 1)
            data["cron"] = cron_from_plan(plan)
        return data


class RetentionForm(forms.Form):
    keep_last = forms.IntegerField(label=_("直近"), min_value=0, initial=0)
    keep_daily = forms.IntegerField(label=_("日次"), min_value=0, initial=14)
    keep_weekly = forms.IntegerField(label=_("週次"), min_value=0, initial=8)
    keep_monthly = forms.IntegerField(label=_("月次"), min_value=0, initial=12)
    keep_yearly = forms.IntegerField(label=_("年次"), min_value=0, initial=5)
    prune = forms.BooleanField(label=_("不要データを削除（prune）"), required=False, initial=True)
