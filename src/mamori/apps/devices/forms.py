"""Devices forms. Choice fields are limited to what the user may pick; the services check again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.forms import ca_certificate_field, kept_secret_field
from mamori.apps.core.labels import with_note
from mamori.apps.core.models import Department
from mamori.apps.disposal.models import Medium

from .models import Device, ImportKind, RenewalPlan
from .selectors import renewable_devices
from .services import DEVICE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DeviceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Device
        fields = DEVICE_FIELDS
        widgets = {"purchase_date": DATE, "lease_end": DATE, "end_of_support": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.select_related("parent").order_by("code")
        self.fields["department"].label_from_instance = lambda d: f"{d.code} {d.full_name}"


class DeviceEditForm(DeviceForm):
    """Editing also links the disposal records of a disposed device's storage media."""

    media = forms.ModelMultipleChoiceField(
        label=_("廃棄した記録媒体（廃棄済みの機器のみ）"),
        queryset=Medium.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        device = self.instance
        self.fields["media"].queryset = Medium.objects.filter(department_id=device.department_id)
        self.fields["media"].label_from_instance = lambda m: with_note(
            m.label, m.get_kind_display(), m.get_state_display()
        )
        self.initial.setdefault("media", list(device.disposal_media.all()))


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("ファイル"),
        help_text=_(
            "機器台帳CSV（GLPI・Snipe-IT の出力も可）、衛生状況CSV、Wazuh API の JSON、osquery の結果ログ"
        ),
    )
    kind = forms.ChoiceField(
        label=_("ファイルの種類"), choices=[("", _("中身から判定する")), *ImportKind.choices], required=False
    )


class RenewalPlanForm(forms.ModelForm):  # type: ignore[type-arg]
    devices = forms.ModelMultipleChoiceField(
        label=_("対象機器（サーバ・ネットワーク機器）"),
        queryset=Device.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )

    class Meta:
        model = RenewalPlan
        fields = ["title", "fiscal_year", "budget_yen", "status", "devices", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["devices"].queryset = renewable_devices()
        self.fields["devices"].label_from_instance = lambda d: with_note(
            f"{d.asset_tag} {d.hostname} {d.get_kind_display()} {d.maker} {d.model_name}",
            f"{_('サポート終了')} {d.end_of_support or '—'}",
        )
        self.fields["fiscal_year"].help_text = _("西暦の年度（例: 2027 = 令和9年度）")
        self.fields["fiscal_year"].min_value = 2000


class WazuhSourceForm(forms.Form):
    """The password field never renders a value; empty keeps the stored one."""

    url = forms.URLField(
        label=_("Wazuh API の URL"),
        max_length=300,
        assume_scheme="https",
        help_text=_("例: https://wazuh.example.lg.jp:55000"),
    )
    username = forms.CharField(label=_("API ユーザー名"), max_length=150)
    password = kept_secret_field(_("パスワード"))
    ca_certificate = ca_certificate_field()
    timeout_seconds = forms.IntegerField(
        label=_("応答待ちの上限（秒）"), min_value=1, max_value=600, initial=30
    )
